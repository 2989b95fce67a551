package db_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// Envelopes hold a connection while their work may read outside them (a cache load
// with its own context). As many envelopes as the pool has connections must not starve
// those reads: on PostgreSQL envelopes are capped at half the pool.
func TestEnvelopesLeaveConnectionsForReads(t *testing.T) {
	src := dbtest.New(t)
	d, err := db.Open(context.Background(), src.DSN, db.Options{MaxReaders: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const n = 4
	var entered atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- d.WithEnvelope(context.Background(), func(ctx context.Context) error {
				entered.Add(1)
				for deadline := time.Now().Add(300 * time.Millisecond); entered.Load() < n && time.Now().Before(deadline); {
					time.Sleep(5 * time.Millisecond)
				}
				rctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				var one int
				return d.QueryRow(rctx, `SELECT 1`).Scan(&one) // outside the envelope
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a read outside an envelope starved: %v", err)
		}
	}
}
