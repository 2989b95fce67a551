package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// TestConcurrentMigrationPostgres starts several "nodes" against one empty PostgreSQL
// database at once: every migration must be applied exactly once and all must succeed.
func TestConcurrentMigrationPostgres(t *testing.T) {
	ctx := context.Background()
	admin, err := sql.Open("pgx", dbtest.PGDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("kefu_t_migrate_%d", os.Getpid())
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Fatalf("PostgreSQL must be reachable at %s: %v", dbtest.PGDSN(), err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, _ := url.Parse(dbtest.PGDSN())
	u.Path = "/" + name
	const nodes = 4
	var wg sync.WaitGroup
	applied := make([]int, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := db.Open(ctx, u.String(), db.Options{MaxReaders: 2})
			if err != nil {
				errs[i] = err
				return
			}
			defer d.Close()
			applied[i], errs[i] = d.Migrate(ctx, nil)
		}()
	}
	wg.Wait()
	total := 0
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	d, err := db.Open(ctx, u.String(), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var versions, distinct int
	if err := d.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	if versions != distinct || total != distinct {
		t.Fatalf("migrations applied %d times in total, %d version rows, %d distinct: want each exactly once", total, versions, distinct)
	}
	if ok, err := d.SchemaCurrent(ctx); err != nil || !ok {
		t.Fatalf("schema not current after concurrent start: %v %v", ok, err)
	}
}
