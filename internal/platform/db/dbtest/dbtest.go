// Package dbtest gives each test a fresh, migrated database: a copy of a migrated SQLite
// template file, or, with KEFU_TEST_DB=postgres, a PostgreSQL database cloned from a
// migrated template (DSN from KEFU_TEST_PG_DSN).
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// DefaultPGDSN is used when KEFU_TEST_PG_DSN is unset.
const DefaultPGDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Engine returns the engine the tests run on: "sqlite" (default) or "postgres".
func Engine() string {
	if strings.EqualFold(os.Getenv("KEFU_TEST_DB"), "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// PGDSN returns the administrative PostgreSQL DSN for tests.
func PGDSN() string {
	if v := os.Getenv("KEFU_TEST_PG_DSN"); v != "" {
		return v
	}
	return DefaultPGDSN
}

var (
	sqliteOnce     sync.Once
	sqliteTemplate string
	sqliteErr      error

	pgOnce     sync.Once
	pgTemplate string
	pgErr      error
)

// New returns a fresh migrated database for t, closed and removed when t ends.
func New(t testing.TB) *db.DB {
	t.Helper()
	if Engine() == "postgres" {
		return newPostgres(t)
	}
	return newSQLite(t)
}

// NewDSN returns the DSN of a fresh migrated database for t, for tests that open it
// themselves (CLI and server tests).
func NewDSN(t testing.TB) string {
	t.Helper()
	d := New(t)
	dsn := d.DSN
	// Leave the database in place; the caller opens it again.
	if err := d.Close(); err != nil {
		t.Fatalf("dbtest: close: %v", err)
	}
	return dsn
}

func migrationsDigest(d db.Dialect) string {
	h := sha256.New()
	fsys := db.MigrationsFS(d)
	names, _ := fs.Glob(fsys, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(fsys, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func newSQLite(t testing.TB) *db.DB {
	t.Helper()
	sqliteOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kefu-dbtest-")
		if err != nil {
			sqliteErr = err
			return
		}
		sqliteTemplate = filepath.Join(dir, "template.db")
		ctx := context.Background()
		d, err := db.Open(ctx, "sqlite:"+sqliteTemplate, db.Options{})
		if err != nil {
			sqliteErr = err
			return
		}
		if _, err := d.Migrate(ctx, nil); err != nil {
			sqliteErr = err
			d.Close()
			return
		}
		// Fold the WAL into the main file so one file copy is the whole database.
		if _, err := d.W.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			sqliteErr = err
		}
		d.Close()
	})
	if sqliteErr != nil {
		t.Fatalf("dbtest: sqlite template: %v", sqliteErr)
	}
	path := filepath.Join(t.TempDir(), "kefu.db")
	if err := copyFile(sqliteTemplate, path); err != nil {
		t.Fatalf("dbtest: copy template: %v", err)
	}
	d, err := db.Open(context.Background(), "sqlite:"+path, db.Options{})
	if err != nil {
		t.Fatalf("dbtest: open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// pgWithDB returns the admin DSN pointed at database name.
func pgWithDB(name string) (string, error) {
	u, err := url.Parse(PGDSN())
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func newPostgres(t testing.TB) *db.DB {
	t.Helper()
	ctx := context.Background()
	admin, err := sql.Open("pgx", PGDSN())
	if err != nil {
		t.Fatalf("dbtest: postgres: %v", err)
	}
	defer admin.Close()
	pgOnce.Do(func() { pgTemplate, pgErr = ensurePGTemplate(ctx, admin) })
	if pgErr != nil {
		t.Fatalf("dbtest: postgres template (is PostgreSQL running at %s?): %v", PGDSN(), pgErr)
	}
	name := "kefu_t_" + randHex(8)
	// CREATE DATABASE ... TEMPLATE fails if another session is connected to the template;
	// the template is only ever connected to while it is built, so retry briefly.
	var cerr error
	for i := 0; i < 50; i++ {
		if _, cerr = admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, pgTemplate)); cerr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cerr != nil {
		t.Fatalf("dbtest: create database: %v", cerr)
	}
	dsn, err := pgWithDB(name)
	if err != nil {
		t.Fatalf("dbtest: dsn: %v", err)
	}
	d, err := db.Open(ctx, dsn, db.Options{MaxReaders: 8})
	if err != nil {
		t.Fatalf("dbtest: open: %v", err)
	}
	t.Cleanup(func() {
		d.Close()
		a, err := sql.Open("pgx", PGDSN())
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	return d
}

// ensurePGTemplate builds (once across all test processes, under an advisory lock) a
// database migrated to the embedded migrations, named after their digest.
func ensurePGTemplate(ctx context.Context, admin *sql.DB) (string, error) {
	name := "kefu_tmpl_" + migrationsDigest(db.Postgres)
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7301)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(7301)`)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	_, _ = conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building))
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", err
	}
	dsn, err := pgWithDB(building)
	if err != nil {
		return "", err
	}
	d, err := db.Open(ctx, dsn, db.Options{MaxReaders: 2})
	if err != nil {
		return "", err
	}
	_, merr := d.Migrate(ctx, nil)
	d.Close()
	if merr != nil {
		return "", merr
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
