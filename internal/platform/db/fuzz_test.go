package db_test

import (
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// FuzzParseDSN: ParseDSN never panics; what it accepts is usable (a SQLite file path, or
// a PostgreSQL URL with a host), what it refuses wraps ErrBadDSN and never echoes a
// password.
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{
		"sqlite:./kefu-data/kefu.db", "sqlite:///tmp/x.db", "sqlite:", "sqlite::memory:", "sqlite:?mode=ro",
		"sqlite:a.db?_pragma=busy_timeout(1)", "sqlite://", " sqlite:x ", "postgres://u:secret@localhost:5432/kefu",
		"postgresql://h/db?sslmode=disable", "postgres://", "postgres:///db", "postgres://[::1", "mysql://root:hunter22@h/db",
		"", "   ", "file:x.db", "SQLITE:x.db", "postgres://u:p@%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		d, src, err := db.ParseDSN(dsn)
		if err != nil {
			if !errors.Is(err, db.ErrBadDSN) {
				t.Fatalf("ParseDSN(%q) error %v does not wrap ErrBadDSN", dsn, err)
			}
			if d != 0 || src != "" {
				t.Fatalf("ParseDSN(%q) failed but returned %v %q", dsn, d, src)
			}
			if u, perr := url.Parse(strings.TrimSpace(dsn)); perr == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					raw := strings.TrimSpace(dsn)
					if i, j := strings.Index(raw, "://"), strings.Index(raw, "@"); i >= 0 && j > i+3 {
						userinfo := raw[i+3 : j+1] // "user:password@"
						if strings.Count(raw, userinfo) == 1 && len(userinfo) > 4 && strings.Contains(err.Error(), userinfo) {
							t.Fatalf("ParseDSN error leaks the password: %v", err)
						}
					}
				}
			}
			return
		}
		switch d {
		case db.SQLite:
			if src == "" || src == ":memory:" || strings.Contains(src, "?") {
				t.Fatalf("ParseDSN(%q) accepted SQLite path %q", dsn, src)
			}
		case db.Postgres:
			u, perr := url.Parse(src)
			if perr != nil || u.Host == "" || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				t.Fatalf("ParseDSN(%q) accepted PostgreSQL DSN %q without a host", dsn, src)
			}
		default:
			t.Fatalf("ParseDSN(%q) returned unknown dialect %v", dsn, d)
		}
		// Parsing is stable: the same DSN again gives the same answer.
		d2, src2, err2 := db.ParseDSN(dsn)
		if d2 != d || src2 != src || err2 != nil {
			t.Fatalf("ParseDSN(%q) is not deterministic", dsn)
		}
	})
}

var (
	dollar         = regexp.MustCompile(`\$[0-9]+`)
	digitAfterMark = regexp.MustCompile(`\?[0-9]`)
)

// placeholdersOutsideQuotes counts '?' outside single-quoted literals (a doubled quote
// inside a literal toggles twice, which keeps the count right).
func placeholdersOutsideQuotes(q string) int {
	n, in := 0, false
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '\'':
			in = !in
		case '?':
			if !in {
				n++
			}
		}
	}
	return n
}

// FuzzRebind: PostgreSQL rebinding turns exactly the '?' outside quotes into $1..$n in
// order and changes nothing else; SQLite leaves queries alone.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT '?' , ?", "INSERT INTO t VALUES (?, 'it''s ?', ?)",
		"?", "", "'unterminated ?", "SELECT 1 -- ?", "UPDATE t SET x = ? WHERE y IN (?,?,?)", "$1 ?",
	} {
		f.Add(s)
	}
	pg := &db.DB{Dialect: db.Postgres}
	lite := &db.DB{Dialect: db.SQLite}
	f.Fuzz(func(t *testing.T, q string) {
		if got := lite.Rebind(q); got != q {
			t.Fatalf("SQLite Rebind changed %q to %q", q, got)
		}
		out := pg.Rebind(q)
		want := placeholdersOutsideQuotes(q)
		if left := placeholdersOutsideQuotes(out); left != 0 {
			t.Fatalf("Rebind(%q) = %q leaves %d placeholders", q, out, left)
		}
		if again := pg.Rebind(q); again != out {
			t.Fatalf("Rebind(%q) is not stable: %q then %q", q, out, again)
		}
		if strings.Contains(q, "$") || digitAfterMark.MatchString(q) {
			// The input's own $n, or "?1" (rebound to "$11"), would make the text below
			// ambiguous; neither occurs in real queries.
			return
		}
		marks := dollar.FindAllString(out, -1)
		if len(marks) != want {
			t.Fatalf("Rebind(%q) = %q has %d $n, want %d", q, out, len(marks), want)
		}
		for i, m := range marks {
			if m != "$"+strconv.Itoa(i+1) {
				t.Fatalf("Rebind(%q) = %q: placeholder %d is %s", q, out, i+1, m)
			}
		}
		if back := dollar.ReplaceAllString(out, "?"); back != q {
			t.Fatalf("Rebind(%q) = %q changed more than the placeholders", q, out)
		}
	})
}
