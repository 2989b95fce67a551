package idempotency_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// The price of crash-safe keys: a keyed create runs in its own envelope transaction
// (SQLite: outside group commit, holding the writer) after committing its reservation.
//
//	go test -run '^$' -bench 'Create(Keyed|Unkeyed)' -benchtime 2000x ./internal/platform/idempotency/
func BenchmarkCreateUnkeyed(b *testing.B) { benchCreate(b, false) }

func BenchmarkCreateKeyed(b *testing.B) { benchCreate(b, true) }

func benchCreate(b *testing.B, keyed bool) {
	s := apptest.New(b)
	c := s.As(b, "agent")
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			var hdr map[string]string
			if keyed {
				hdr = map[string]string{"Idempotency-Key": fmt.Sprintf("bench-%d", i)}
			}
			r := c.DoWithHeaders(b, "POST", "/api/v1/customers", map[string]any{"kind": "person", "name": fmt.Sprintf("Bench %d", i),
				"mobile": fmt.Sprintf("139%08d", i), "address": "Jianguo Road 1"}, hdr)
			if r.Status != 201 {
				b.Fatalf("%d %s", r.Status, r.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}
