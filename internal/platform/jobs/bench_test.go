package jobs

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

func noop(context.Context, Job) error { return nil }

// BenchmarkEnqueue: one job per transaction, as a business write that enqueues one.
func BenchmarkEnqueue(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	r := New(Options{DB: d, Clock: clock.Real{}, Log: testLog(b)})
	r.Register("noop", noop)
	payload := map[string]any{"ticket_id": 42, "level": "warn"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := r.Enqueue(ctx, "noop", payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkEnqueueParallel: concurrent enqueuers (request handlers).
func BenchmarkEnqueueParallel(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	r := New(Options{DB: d, Clock: clock.Real{}, Log: testLog(b)})
	r.Register("noop", noop)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := r.Enqueue(ctx, "noop", map[string]int{"n": 1}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

// drain runs the runners until handled reaches n and returns the elapsed time.
func drain(b *testing.B, runners []*Runner, handled *atomic.Int64, n int64, produce func()) time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start := time.Now()
	for _, r := range runners {
		wg.Add(1)
		go func() { defer wg.Done(); _ = r.Run(ctx) }()
	}
	if produce != nil {
		produce()
	}
	for handled.Load() < n {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait() // the outcomes are written
	return time.Since(start)
}

// BenchmarkThroughput: a backlog of no-op jobs drained by one or two nodes; reports
// jobs/s processed (claim, run, record done).
func BenchmarkThroughput(b *testing.B) {
	for _, nodes := range []int{1, 2} {
		for _, conc := range []int{4, 16} {
			b.Run(fmt.Sprintf("nodes=%d/conc=%d", nodes, conc), func(b *testing.B) {
				ctx := context.Background()
				d := dbtest.New(b)
				var handled atomic.Int64
				var runners []*Runner
				for i := range nodes {
					h := d
					if i > 0 {
						h = secondHandle(b, d)
					}
					r := New(Options{DB: h, Clock: clock.Real{}, Log: testLog(b), NodeID: fmt.Sprint("bench-", i),
						Concurrency: conc, PollInterval: 50 * time.Millisecond})
					r.Register("noop", func(context.Context, Job) error { handled.Add(1); return nil })
					runners = append(runners, r)
				}
				n := b.N
				enqueueBatch(b, ctx, d, runners[0], n)
				// Steady state: autovacuum has analysed the table (without statistics
				// PostgreSQL sorts the whole backlog on every claim).
				if _, err := d.Exec(ctx, "ANALYZE jobs"); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				el := drain(b, runners, &handled, int64(n), nil)
				b.StopTimer()
				if done := countRows(b, d, "status = 'done'"); done != n {
					b.Fatalf("%d of %d done", done, n)
				}
				b.ReportMetric(float64(n)/el.Seconds(), "jobs/s")
			})
		}
	}
}

// BenchmarkEndToEnd: producers enqueue one job per transaction while one node drains
// them; reports jobs/s from the first enqueue to the last outcome.
func BenchmarkEndToEnd(b *testing.B) {
	d := dbtest.New(b)
	var handled atomic.Int64
	r := New(Options{DB: d, Clock: clock.Real{}, Log: testLog(b), Concurrency: 16, PollInterval: 50 * time.Millisecond})
	r.Register("noop", func(context.Context, Job) error { handled.Add(1); return nil })
	n := b.N
	b.ResetTimer()
	el := drain(b, []*Runner{r}, &handled, int64(n), func() {
		var wg sync.WaitGroup
		const producers = 4
		for p := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := p; i < n; i += producers {
					if _, _, err := r.Enqueue(context.Background(), "noop", map[string]int{"i": i}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
	b.ReportMetric(float64(n)/el.Seconds(), "jobs/s")
}

func enqueueBatch(b *testing.B, ctx context.Context, d *db.DB, r *Runner, n int) {
	b.Helper()
	for done := 0; done < n; {
		batch := min(1000, n-done)
		if err := d.WithTx(ctx, func(ctx context.Context) error {
			for i := range batch {
				if _, _, err := r.Enqueue(ctx, "noop", map[string]int{"i": done + i}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		done += batch
	}
}
