package db_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn     string
		dialect db.Dialect
		src     string
		bad     bool
	}{
		{dsn: "sqlite:./kefu-data/kefu.db", dialect: db.SQLite, src: "./kefu-data/kefu.db"},
		{dsn: "sqlite:///tmp/x.db", dialect: db.SQLite, src: "/tmp/x.db"},
		{dsn: "postgres://u@localhost:5432/kefu", dialect: db.Postgres, src: "postgres://u@localhost:5432/kefu"},
		{dsn: "postgresql://u@h/kefu?sslmode=disable", dialect: db.Postgres, src: "postgresql://u@h/kefu?sslmode=disable"},
		{dsn: "", bad: true},
		{dsn: "sqlite:", bad: true},
		{dsn: "sqlite::memory:", bad: true},
		{dsn: "mysql://root@localhost/kefu", bad: true},
		{dsn: "postgres://", bad: true},
		{dsn: "kefu.db", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			d, src, err := db.ParseDSN(tt.dsn)
			if tt.bad {
				if !errors.Is(err, db.ErrBadDSN) {
					t.Fatalf("ParseDSN(%q) err = %v, want ErrBadDSN", tt.dsn, err)
				}
				return
			}
			if err != nil || d != tt.dialect || src != tt.src {
				t.Fatalf("ParseDSN(%q) = %v, %q, %v", tt.dsn, d, src, err)
			}
		})
	}
}

func TestBadDSNNeverShowsPassword(t *testing.T) {
	for _, dsn := range []string{"mysql://root:hunter22@h/kefu", "mysql://root:hunter22@h/%zz", "redis://:hunter22@localhost:6379/0"} {
		_, _, err := db.ParseDSN(dsn)
		if err == nil || strings.Contains(err.Error(), "hunter22") {
			t.Errorf("ParseDSN(%q) error %v leaks the password", dsn, err)
		}
	}
}

func TestRebind(t *testing.T) {
	d := &db.DB{Dialect: db.Postgres}
	got := d.Rebind(`SELECT a FROM t WHERE b = ? AND c = '?' AND d IN (?, ?)`)
	want := `SELECT a FROM t WHERE b = $1 AND c = '?' AND d IN ($2, $3)`
	if got != want {
		t.Fatalf("Rebind = %q, want %q", got, want)
	}
	s := &db.DB{Dialect: db.SQLite}
	if q := `SELECT ?`; s.Rebind(q) != q {
		t.Fatalf("sqlite Rebind changed the query")
	}
}

func TestWithTxCommitRollbackAndHooks(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	insert := `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`
	var order []string
	err := d.WithTx(ctx, func(ctx context.Context) error {
		if _, err := d.Exec(ctx, insert, "a", "1", 1); err != nil {
			return err
		}
		if err := d.BeforeCommit(ctx, func(ctx context.Context) error {
			order = append(order, "before")
			_, err := d.Exec(ctx, insert, "b", "2", 1)
			return err
		}); err != nil {
			return err
		}
		d.AfterCommit(ctx, func() { order = append(order, "after") })
		// nested WithTx joins the outer transaction
		return d.WithTx(ctx, func(ctx context.Context) error {
			_, err := d.Exec(ctx, insert, "c", "3", 1)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "before,after" {
		t.Fatalf("hook order = %v", order)
	}
	boom := errors.New("boom")
	err = d.WithTx(ctx, func(ctx context.Context) error {
		if _, err := d.Exec(ctx, insert, "d", "4", 1); err != nil {
			return err
		}
		d.AfterCommit(ctx, func() { t.Error("after-commit hook ran on rollback") })
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	var n int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM settings`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("rows = %d, want 3 (a, b, c)", n)
	}
	_, err = d.Exec(ctx, insert, "a", "dup", 1)
	if !db.IsUniqueViolation(err) {
		t.Fatalf("duplicate insert err = %v, want unique violation", err)
	}
	ok, err := d.SchemaCurrent(ctx)
	if err != nil || !ok {
		t.Fatalf("SchemaCurrent = %v, %v", ok, err)
	}
}

// TestMigrationVersionParity: both engines have the same migration versions.
func TestMigrationVersionParity(t *testing.T) {
	names := func(d db.Dialect) []string {
		m, err := fs.Glob(db.MigrationsFS(d), "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(m)
		return m
	}
	s, p := names(db.SQLite), names(db.Postgres)
	if strings.Join(s, " ") != strings.Join(p, " ") {
		t.Fatalf("migration files differ:\nsqlite:   %v\npostgres: %v", s, p)
	}
	if len(s) == 0 {
		t.Fatal("no migrations")
	}
}

// TestSchemaParity migrates both engines and compares tables, columns and nullability.
// PostgreSQL must be reachable: a missing PostgreSQL is a failure, not a skip.
func TestSchemaParity(t *testing.T) {
	ctx := context.Background()
	sq, err := db.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "p.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	if _, err := sq.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEFU_TEST_DB", "postgres")
	pg := dbtest.New(t)

	sqCols := map[string]string{}
	rows, err := sq.Query(ctx, `SELECT m.name, p.name, p."notnull", p.pk FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'goose_%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tbl, col string
		var notnull, pk int
		if err := rows.Scan(&tbl, &col, &notnull, &pk); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(tbl, "search_") {
			continue // FTS5 virtual and shadow tables vs tsvector tables: checked by platform/search
		}
		null := "null"
		if notnull == 1 || pk > 0 {
			null = "not null"
		}
		sqCols[tbl+"."+col] = null
	}
	rows.Close()
	pgCols := map[string]string{}
	rows, err = pg.Query(ctx, `SELECT table_name, column_name, is_nullable FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name NOT LIKE 'goose_%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tbl, col, nullable string
		if err := rows.Scan(&tbl, &col, &nullable); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(tbl, "search_") {
			continue
		}
		null := "null"
		if nullable == "NO" {
			null = "not null"
		}
		pgCols[tbl+"."+col] = null
	}
	rows.Close()
	for k, v := range sqCols {
		if pv, ok := pgCols[k]; !ok {
			t.Errorf("column %s exists on SQLite only", k)
		} else if pv != v {
			t.Errorf("column %s: SQLite %s, PostgreSQL %s", k, v, pv)
		}
	}
	for k := range pgCols {
		if _, ok := sqCols[k]; !ok {
			t.Errorf("column %s exists on PostgreSQL only", k)
		}
	}
	if len(sqCols) < 10 {
		t.Fatalf("only %d columns found", len(sqCols))
	}
}
