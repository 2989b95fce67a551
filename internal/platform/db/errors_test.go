package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// realErrors provokes the errors to classify on the engines themselves.
func realErrors(t *testing.T) map[string]error {
	t.Helper()
	ctx := context.Background()
	out := map[string]error{}

	// SQLite: a file that cannot be opened.
	ro, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "missing", "x.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	out["sqlite cannot open"] = ro.PingContext(ctx)
	ro.Close()

	// SQLite: the write lock held by another connection beyond busy_timeout.
	path := filepath.Join(t.TempDir(), "busy.db")
	a, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ca, err := a.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	if _, err := ca.ExecContext(ctx, "CREATE TABLE t (k TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	b, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(50)")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, out["sqlite busy"] = b.ExecContext(ctx, "INSERT INTO t VALUES ('x')")
	_, _ = ca.ExecContext(ctx, "ROLLBACK")

	// PostgreSQL: nobody listens (a connect error; needs no server).
	pg, err := sql.Open("pgx", "postgres://kefu@127.0.0.1:1/kefu?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	out["postgres refused"] = fmt.Errorf("wrapped: %w", pg.PingContext(ctx))
	pg.Close()

	// Errors of the statement itself, on the engine under test.
	d := dbtest.New(t)
	_, out["syntax"] = d.Exec(ctx, "SELEC 1")
	if _, err := d.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('u', 'v', 0)`); err != nil {
		t.Fatal(err)
	}
	_, out["unique"] = d.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('u', 'v', 0)`)
	var s string
	out["no rows"] = d.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'none'`).Scan(&s)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, out["canceled"] = d.Exec(cctx, `UPDATE settings SET value = 'w'`)
	return out
}

func TestIsUnavailable(t *testing.T) {
	errs := realErrors(t)
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"sqlite cannot open", errs["sqlite cannot open"], true},
		{"sqlite busy", errs["sqlite busy"], true},
		{"postgres refused", errs["postgres refused"], true},
		{"postgres shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"postgres connection failure", fmt.Errorf("q: %w", &pgconn.PgError{Code: "08006"}), true},
		{"postgres unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"postgres division by zero", &pgconn.PgError{Code: "22012"}, false},
		{"syntax", errs["syntax"], false},
		{"unique", errs["unique"], false},
		{"no rows", errs["no rows"], false},
		{"canceled", errs["canceled"], false},
		{"deadline passed", context.DeadlineExceeded, false},
		{"plain bug", errors.New("boom"), false},
		{"nil", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil && tc.name != "nil" {
				t.Fatal("the engine gave no error to classify")
			}
			if got := db.IsUnavailable(tc.err); got != tc.want {
				t.Fatalf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
