package events

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

func recv(t *testing.T, s *Subscription, within time.Duration) (Event, bool) {
	t.Helper()
	select {
	case ev, ok := <-s.C:
		return ev, ok
	case <-time.After(within):
		return Event{}, false
	}
}

func TestPublishAfterCommit(t *testing.T) {
	d := dbtest.New(t)
	b := New(Options{DB: d})
	sub := b.Subscribe("ticket.")
	defer sub.Close()
	ctx := context.Background()

	tests := []struct {
		name     string
		fail     bool
		expected bool
	}{
		{"commit delivers", false, true},
		{"rollback delivers nothing", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := d.WithTx(ctx, func(ctx context.Context) error {
				if _, err := d.Exec(ctx, `UPDATE settings SET value = value WHERE key = ?`, "none"); err != nil {
					return err
				}
				b.Publish(ctx, Event{Topic: "ticket.created", ID: 7})
				if _, ok := recv(t, sub, 20*time.Millisecond); ok {
					t.Error("delivered before commit")
				}
				if tc.fail {
					return errors.New("boom")
				}
				return nil
			})
			if (err != nil) != tc.fail {
				t.Fatalf("tx: %v", err)
			}
			ev, ok := recv(t, sub, 200*time.Millisecond)
			if ok != tc.expected {
				t.Fatalf("delivered = %v, want %v", ok, tc.expected)
			}
			if ok && (ev.ID != 7 || ev.Node != b.NodeID() || ev.At.IsZero()) {
				t.Errorf("event = %+v", ev)
			}
		})
	}
	// Without a transaction: at once.
	b.Publish(ctx, Event{Topic: "ticket.closed", ID: 9})
	if ev, ok := recv(t, sub, 200*time.Millisecond); !ok || ev.ID != 9 {
		t.Fatalf("no immediate delivery: %+v %v", ev, ok)
	}
}

func TestFanOutAndPrefixes(t *testing.T) {
	b := New(Options{})
	all, tickets, kb := b.Subscribe(), b.Subscribe("ticket."), b.Subscribe("kb.", "portal.")
	defer all.Close()
	defer tickets.Close()
	defer kb.Close()
	ctx := context.Background()
	b.Publish(ctx, Event{Topic: "ticket.created", ID: 1})
	b.Publish(ctx, Event{Topic: "kb.published", ID: 2})
	tests := []struct {
		name string
		sub  *Subscription
		ids  []int64
	}{
		{"all", all, []int64{1, 2}},
		{"tickets", tickets, []int64{1}},
		{"kb", kb, []int64{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, want := range tc.ids {
				ev, ok := recv(t, tc.sub, time.Second)
				if !ok || ev.ID != want {
					t.Fatalf("got %+v %v, want id %d", ev, ok, want)
				}
			}
			if ev, ok := recv(t, tc.sub, 10*time.Millisecond); ok {
				t.Fatalf("unexpected %+v", ev)
			}
		})
	}
	all.Close()
	all.Close() // idempotent
	if _, ok := <-all.C; ok {
		t.Fatal("channel open after Close")
	}
	b.Publish(ctx, Event{Topic: "ticket.updated"}) // no panic on a closed subscriber
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	b := New(Options{Buffer: 4})
	slow := b.Subscribe()
	defer slow.Close()
	fast := b.Subscribe()
	defer fast.Close()
	got := make(chan int, 1)
	go func() {
		n := 0
		for range fast.C {
			n++
			if n == 100 {
				got <- n
			}
		}
	}()
	done := make(chan struct{})
	go func() {
		for i := range 100 {
			b.Publish(context.Background(), Event{Topic: "x", ID: int64(i)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("publisher blocked by a slow subscriber")
	}
	if slow.Dropped() != 96 || b.Dropped() < 96 {
		t.Errorf("dropped: sub %d bus %d", slow.Dropped(), b.Dropped())
	}
	if len(slow.C) != 4 {
		t.Errorf("slow buffer holds %d", len(slow.C))
	}
	_ = got
}

func TestMatch(t *testing.T) {
	tests := []struct {
		topic    string
		prefixes []string
		want     bool
	}{
		{"ticket.created", nil, true},
		{"ticket.created", []string{"ticket."}, true},
		{"ticket.created", []string{"kb.", "ticket.created"}, true},
		{"kb.x", []string{"ticket."}, false},
	}
	for _, tc := range tests {
		if got := Match(tc.topic, tc.prefixes); got != tc.want {
			t.Errorf("Match(%q, %q) = %v", tc.topic, tc.prefixes, got)
		}
	}
}

func TestServeSSE(t *testing.T) {
	b := New(Options{Heartbeat: 50 * time.Millisecond})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.ServeSSE(w, r, func(ev Event) bool { return ev.Scope.DeptID != 99 }, "ticket.")
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	req.Header.Set("Last-Event-ID", "12")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	rd := bufio.NewReader(resp.Body)
	// Wait for the opening comment: the subscription exists then.
	readUntil(t, rd, ": connected")
	b.Publish(ctx, Event{Topic: "ticket.created", ID: 1, Scope: Scope{DeptID: 99}}) // filtered out
	b.Publish(ctx, Event{Topic: "kb.published", ID: 2})                             // other prefix
	b.Publish(ctx, Event{Topic: "ticket.assigned", ID: 3, Data: json.RawMessage(`{"to":5}`)})
	readUntil(t, rd, "event: ticket.assigned")
	line := readUntil(t, rd, "data: ")
	var ev Event
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev); err != nil || ev.ID != 3 || string(ev.Data) != `{"to":5}` {
		t.Fatalf("data %q: %v", line, err)
	}
	readUntil(t, rd, ": ping")
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for {
		b.mu.RLock()
		n := len(b.subs)
		b.mu.RUnlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscription not closed after the request ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readUntil(t *testing.T, rd *bufio.Reader, prefix string) string {
	t.Helper()
	for range 50 {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read (waiting for %q): %v", prefix, err)
		}
		line = strings.TrimRight(line, "\n")
		if strings.Contains(line, "ticket.created") || strings.Contains(line, "kb.published") {
			t.Fatalf("filtered event streamed: %q", line)
		}
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	t.Fatalf("no line %q", prefix)
	return ""
}

func TestNotifyPayload(t *testing.T) {
	small := Event{Topic: "ticket.created", ID: 1, Data: json.RawMessage(`{"a":1}`)}
	if body, ok := notifyPayload(small); !ok || !strings.Contains(string(body), `"a":1`) {
		t.Fatalf("small: %s %v", body, ok)
	}
	big := Event{Topic: "ticket.created", ID: 1, Data: json.RawMessage(`"` + strings.Repeat("x", 9000) + `"`)}
	body, ok := notifyPayload(big)
	if !ok || len(body) >= maxNotify || strings.Contains(string(body), "xxx") {
		t.Fatalf("big: %d %v", len(body), ok)
	}
}

func TestBridge(t *testing.T) {
	d := dbtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if d.Dialect != db.Postgres {
		b := New(Options{DB: d})
		if err := b.Run(ctx); err != nil {
			t.Fatal(err)
		}
		<-b.Ready()
		t.Skip("the bridge needs PostgreSQL (KEFU_TEST_DB=postgres)")
	}
	a, b := New(Options{DB: d, NodeID: "a"}), New(Options{DB: d, NodeID: "b"})
	done := make(chan struct{}, 2)
	for _, bus := range []*Bus{a, b} {
		go func() { _ = bus.Run(ctx); done <- struct{}{} }()
	}
	for _, bus := range []*Bus{a, b} {
		select {
		case <-bus.Ready():
		case <-time.After(5 * time.Second):
			t.Fatal("bridge not listening")
		}
	}
	subA, subB := a.Subscribe("ticket."), b.Subscribe("ticket.")
	defer subA.Close()
	defer subB.Close()

	err := d.WithTx(ctx, func(ctx context.Context) error {
		a.Publish(ctx, Event{Topic: "ticket.created", ID: 42, Scope: Scope{DeptID: 3}, Data: json.RawMessage(`{"n":"KF1"}`)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := recv(t, subB, 5*time.Second)
	if !ok || ev.ID != 42 || ev.Node != "a" || ev.Scope.DeptID != 3 || string(ev.Data) != `{"n":"KF1"}` {
		t.Fatalf("across: %+v %v", ev, ok)
	}
	if ev, ok := recv(t, subA, time.Second); !ok || ev.ID != 42 {
		t.Fatalf("local: %+v %v", ev, ok)
	}
	// Not delivered twice on the publishing node.
	if ev, ok := recv(t, subA, 300*time.Millisecond); ok {
		t.Fatalf("delivered twice: %+v", ev)
	}
	// A rolled-back publication goes nowhere.
	_ = d.WithTx(ctx, func(ctx context.Context) error {
		b.Publish(ctx, Event{Topic: "ticket.closed", ID: 43})
		return errors.New("rollback")
	})
	if ev, ok := recv(t, subA, 300*time.Millisecond); ok {
		t.Fatalf("rolled back event delivered: %+v", ev)
	}
	cancel()
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not stop")
		}
	}
}
