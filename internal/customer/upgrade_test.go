package customer_test

import (
	"context"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// TestUpgradeQueuesReclassify: an install that holds customers classified under the
// old reading of "no bad debt in 2 years" (migration 00012 on an existing database)
// gets one re-evaluation of every customer queued at once, not at the nightly run; an
// empty database gets none.
func TestUpgradeQueuesReclassify(t *testing.T) {
	s := apptest.New(t)
	ctx := context.Background()
	const key = "customer.reclassify:migration-00012"
	queued := func() int {
		var n int
		if err := s.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE unique_key = ? AND kind = ?`, key, customer.JobReclassify).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := queued(); n != 0 {
		t.Fatalf("fresh database: %d re-evaluations queued", n)
	}
	if _, err := s.App.Customer.CreateCustomer(apptest.SystemCtx(), customer.Input{Kind: customer.KindPerson, Name: "Old Customer"}); err != nil {
		t.Fatal(err)
	}
	dialect := goose.DialectSQLite3
	if s.App.DB.Dialect == db.Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, s.App.DB.W, db.MigrationsFS(s.App.DB.Dialect), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 11); err != nil {
		t.Fatalf("down to 11: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	if n := queued(); n != 1 {
		t.Fatalf("upgraded install with customers: %d re-evaluations queued, want 1", n)
	}
}
