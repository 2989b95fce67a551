package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// TestConcurrentTransactionsKeepTheirOwnOutcome runs many concurrent write
// transactions, some failing in their function, some in a before-commit hook, some
// panicking. With SQLite's group commit they share COMMITs; each must still keep its
// own outcome: exactly the successful ones are stored, their after-commit hooks run,
// the failed ones leave nothing.
func TestConcurrentTransactionsKeepTheirOwnOutcome(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	const n = 300
	insert := `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`
	var after atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, n)
	panics := make([]any, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			errs[i] = d.WithTx(ctx, func(ctx context.Context) error {
				if _, err := d.Exec(ctx, insert, fmt.Sprintf("k%d", i), "v", i); err != nil {
					return err
				}
				if _, err := d.Exec(ctx, insert, fmt.Sprintf("k%d-b", i), "v", i); err != nil {
					return err
				}
				d.AfterCommit(ctx, func() { after.Add(1) })
				switch i % 5 {
				case 1:
					return errors.New("fn failed")
				case 2:
					return d.BeforeCommit(ctx, func(context.Context) error { return errors.New("hook failed") })
				case 3:
					panic("boom")
				case 4:
					// a unique violation inside the transaction, handled as an error
					_, err := d.Exec(ctx, insert, fmt.Sprintf("k%d", i), "dup", i)
					return err
				}
				return nil
			})
		}()
	}
	wg.Wait()
	want := 0
	for i := range n {
		switch i % 5 {
		case 0:
			want++
			if errs[i] != nil || panics[i] != nil {
				t.Fatalf("tx %d: err %v panic %v", i, errs[i], panics[i])
			}
		case 3:
			if panics[i] != "boom" {
				t.Fatalf("tx %d: panic %v, want boom re-raised in the caller", i, panics[i])
			}
		default:
			if errs[i] == nil {
				t.Fatalf("tx %d: want an error", i)
			}
		}
	}
	var rows int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM settings`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2*want {
		t.Fatalf("%d rows stored, want %d (two per successful transaction)", rows, 2*want)
	}
	for i := 0; i < n; i += 5 {
		var c int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM settings WHERE key IN (?, ?)`, fmt.Sprintf("k%d", i), fmt.Sprintf("k%d-b", i)).Scan(&c); err != nil || c != 2 {
			t.Fatalf("tx %d: %d rows (%v), want both", i, c, err)
		}
	}
	if got := after.Load(); got != int64(want) {
		t.Fatalf("after-commit hooks ran %d times, want %d", got, want)
	}
}

// TestCancelledCallerDoesNotRun: a caller whose context is already cancelled gets the
// context error and its function does not run.
func TestCancelledCallerDoesNotRun(t *testing.T) {
	d := dbtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := d.WithTx(ctx, func(context.Context) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("err %v ran %v", err, ran)
	}
}

func BenchmarkWithTxParallel(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	var seq atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			if err := d.WithTx(ctx, func(ctx context.Context) error {
				_, err := d.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, fmt.Sprint(i), "v", i)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
