package events

import (
	"context"
	"testing"
)

// BenchmarkPublish measures fan-out to a few subscribers (one never reads: drops).
func BenchmarkPublish(b *testing.B) {
	bus := New(Options{Buffer: 64})
	stuck := bus.Subscribe("ticket.")
	defer stuck.Close()
	for range 3 {
		s := bus.Subscribe("ticket.")
		defer s.Close()
		go func() {
			for range s.C {
			}
		}()
	}
	ctx := context.Background()
	ev := Event{Topic: "ticket.created", ID: 1, Data: []byte(`{"number":"KF20261123-0001"}`)}
	b.ReportAllocs()
	for b.Loop() {
		bus.Publish(ctx, ev)
	}
}
