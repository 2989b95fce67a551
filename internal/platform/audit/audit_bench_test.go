package audit

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// BenchmarkAppend: one Record per transaction from parallel goroutines, on the engine
// KEFU_TEST_DB selects.
//
//	go test -run x -bench Append -benchtime 3s ./internal/platform/audit/
//	KEFU_TEST_DB=postgres go test -run x -bench Append -benchtime 3s ./internal/platform/audit/
func BenchmarkAppend(b *testing.B) {
	f := newFixture(b)
	ctx := authz.WithActor(context.Background(), staff(3, "bench"))
	b.SetParallelism(4) // 4 x GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := f.db.WithTx(ctx, func(ctx context.Context) error {
				return f.log.Record(ctx, Entry{Action: "bench.append", TargetType: "customer", TargetID: "42",
					Detail: map[string]any{"field": "mobile"}})
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	if rep, err := f.log.Verify(context.Background()); err != nil || !rep.OK || rep.Entries != int64(b.N) {
		b.Fatalf("chain after benchmark: %+v %v", rep, err)
	}
}

// BenchmarkUnrelatedWrites measures transactions that do other work (three inserts into
// settings and 1 ms of application time between them, as a service does while it
// validates and indexes) plus, depending on the mode, one audit Record:
//
//	plain     no audit entry
//	audited   Record: the head is locked just before COMMIT (the design)
//	head-first the head row is locked as the transaction's first statement, as a naive
//	          implementation that appends where Record is called would (PostgreSQL only)
//
// at 1 and 8 concurrent workers. On PostgreSQL the audited figure at 8 workers stays near
// the plain one because the head lock covers only the commit tail; head-first collapses
// to the one-worker rate.
//
//	KEFU_TEST_DB=postgres go test -run x -bench UnrelatedWrites -benchtime 2s ./internal/platform/audit/
//
// With commit=async (PostgreSQL only, a measuring device, never how Kefu runs) each
// transaction sets synchronous_commit off, taking the disk flush out of the figure so
// that what remains is the lock itself.
func BenchmarkUnrelatedWrites(b *testing.B) {
	for _, commit := range []string{"sync", "async"} {
		for _, mode := range []string{"plain", "audited", "head-first"} {
			for _, workers := range []int{1, 8} {
				benchUnrelated(b, commit, mode, workers)
			}
		}
	}
}

func benchUnrelated(b *testing.B, commit, mode string, workers int) {
	b.Run(fmt.Sprintf("commit=%s/%s/workers=%d", commit, mode, workers), func(b *testing.B) {
		f := newFixture(b)
		if (mode == "head-first" || commit == "async") && f.db.Dialect != db.Postgres {
			b.Skip("PostgreSQL only")
		}
		ctx := authz.WithActor(context.Background(), staff(3, "bench"))
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						return
					}
					if err := f.db.WithTx(ctx, func(ctx context.Context) error {
						if commit == "async" {
							if _, err := f.db.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
								return err
							}
						}
						return unrelatedWork(ctx, f, mode, i)
					}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
	})
}

func unrelatedWork(ctx context.Context, f *fixture, mode string, i int64) error {
	if mode == "head-first" {
		if _, err := f.db.Exec(ctx, `SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE`); err != nil {
			return err
		}
	}
	for k := 0; k < 3; k++ {
		if _, err := f.db.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`,
			fmt.Sprintf("bench.%d.%d", i, k), "value", i); err != nil {
			return err
		}
		if k == 1 {
			time.Sleep(time.Millisecond)
		}
	}
	if mode == "plain" {
		return nil
	}
	return f.log.Record(ctx, Entry{Action: "settings.update", TargetType: "setting", TargetID: strconv.FormatInt(i, 10)})
}

// BenchmarkVerify verifies a log of KEFU_AUDIT_BENCH_ROWS entries (default 100000) and
// reports entries/s and the peak heap in use while verifying (bounded: rows stream).
//
//	KEFU_AUDIT_BENCH_ROWS=1000000 go test -run x -bench Verify -benchtime 1x -timeout 30m ./internal/platform/audit/
func BenchmarkVerify(b *testing.B) {
	n := 100000
	if s := os.Getenv("KEFU_AUDIT_BENCH_ROWS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	f := newFixture(b)
	ctx := authz.WithActor(context.Background(), staff(3, "bench"))
	const batch = 5000
	for done := 0; done < n; done += batch {
		err := f.db.WithTx(ctx, func(ctx context.Context) error {
			for i := done; i < min(done+batch, n); i++ {
				if err := f.log.Record(ctx, Entry{Action: "customer.read", TargetType: "customer",
					TargetID: strconv.Itoa(i), Detail: map[string]any{"fields": []string{"mobile", "id_number"}}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := f.log.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := f.log.Verify(context.Background())
		if err != nil || !rep.OK || rep.Entries != int64(n) {
			b.Fatalf("verify: %+v %v", rep, err)
		}
	}
	b.StopTimer()
	close(stop)
	<-sampled
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
}
