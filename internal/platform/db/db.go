// Package db opens SQLite or PostgreSQL behind database/sql, carries transactions in a
// context, rebinds portable `?` SQL for PostgreSQL and applies the embedded migrations.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the SQL engine.
type Dialect int

// The engines.
const (
	SQLite Dialect = iota + 1
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "unknown"
}

// ErrBadDSN reports a DSN Kefu cannot use.
var ErrBadDSN = errors.New("bad database DSN")

// DB is a database with a write pool and a read pool. On SQLite the write pool has one
// connection and every write transaction starts IMMEDIATE; on PostgreSQL both are one pool.
type DB struct {
	W       *sql.DB
	R       *sql.DB
	Dialect Dialect
	// Path is the SQLite file (empty on PostgreSQL).
	Path string
	// DSN as given (PostgreSQL passwords included; never log it).
	DSN string

	rebinds sync.Map // query -> rebound query, PostgreSQL only

	// Prepared statements per pool, SQLite only (pgx keeps its own per-connection cache):
	// parsing a statement costs more than running most of Kefu's indexed queries.
	wStmts, rStmts stmtCache

	group *group // SQLite group committer; nil on PostgreSQL or when disabled

	// envelopes caps the envelopes open at once (WithEnvelope) on PostgreSQL, where
	// reads and writes share one pool: an envelope holds a connection while its work
	// may need a second one (a read outside the transaction, such as a cache load), so
	// envelopes alone must never be able to hold every connection. nil: no cap (SQLite,
	// whose single writer serializes envelopes and whose reads have their own pool).
	envelopes chan struct{}
}

// Options tune Open.
type Options struct {
	// MaxReaders is the size of the SQLite read pool (default 4) or of the PostgreSQL pool
	// (default 16).
	MaxReaders int
	// NoGroupCommit makes every SQLite write transaction commit on its own.
	NoGroupCommit bool
}

// ParseDSN splits a Kefu DSN into its dialect and the driver's data source.
// Accepted: "sqlite:PATH", "sqlite://PATH", "postgres://..." and "postgresql://...".
func ParseDSN(dsn string) (Dialect, string, error) {
	dsn = strings.TrimSpace(dsn)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil || u.Host == "" {
			return 0, "", fmt.Errorf("%w: PostgreSQL DSN needs a host (postgres://user@host:5432/db)", ErrBadDSN)
		}
		return Postgres, dsn, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if p == "" {
			return 0, "", fmt.Errorf("%w: SQLite DSN needs a file path (sqlite:./kefu-data/kefu.db)", ErrBadDSN)
		}
		if p == ":memory:" {
			return 0, "", fmt.Errorf("%w: in-memory SQLite is not supported; give a file path", ErrBadDSN)
		}
		return SQLite, p, nil
	case dsn == "":
		return 0, "", fmt.Errorf("%w: empty", ErrBadDSN)
	}
	return 0, "", fmt.Errorf("%w: %q must start with sqlite: or postgres://", ErrBadDSN, redact(dsn))
}

// redact removes a password from a DSN for messages, also when the DSN does not parse.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	if i := strings.Index(dsn, "://"); i >= 0 {
		if j := strings.LastIndex(dsn, "@"); j > i {
			dsn = dsn[:i+3] + "***" + dsn[j:]
		}
	}
	if len(dsn) > 60 {
		return dsn[:60] + "..."
	}
	return dsn
}

// Open connects to the database named by dsn and checks that it answers.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	dialect, src, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	d := &DB{Dialect: dialect, DSN: dsn}
	switch dialect {
	case SQLite:
		if err := d.openSQLite(src, opt); err != nil {
			return nil, err
		}
	case Postgres:
		pool, err := sql.Open("pgx", withConnectTimeout(src))
		if err != nil {
			return nil, fmt.Errorf("db: open postgres: %w", err)
		}
		n := opt.MaxReaders
		if n <= 0 {
			n = 16
		}
		pool.SetMaxOpenConns(n)
		pool.SetMaxIdleConns(n)
		d.W, d.R = pool, pool
		d.envelopes = make(chan struct{}, max(1, n/2))
	}
	if err := d.W.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("db: connect to %s: %w", dialect, err)
	}
	if dialect == SQLite && !opt.NoGroupCommit {
		d.group = newGroup(d)
	}
	return d, nil
}

// withConnectTimeout gives a PostgreSQL URL a connect_timeout (5 s) unless it has one:
// while the server is unreachable, requests then fail fast with 503 instead of waiting
// for the operating system's TCP timeout.
func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("connect_timeout") != "" {
		return dsn
	}
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	return u.String()
}

func (d *DB) openSQLite(path string, opt Options) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("db: sqlite path: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return fmt.Errorf("db: create directory for %s: %w", path, err)
	}
	d.Path = abs
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-16000)"
	base := "file:" + (&url.URL{Path: abs}).EscapedPath()
	w, err := sql.Open("sqlite", base+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("db: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer creates the file and switches it to WAL before readers open it.
	if _, err := w.Exec("SELECT 1"); err != nil {
		w.Close()
		return fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return fmt.Errorf("db: open sqlite readers: %w", err)
	}
	n := opt.MaxReaders
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d.W, d.R = w, r
	return nil
}

// Close closes both pools.
func (d *DB) Close() error {
	var errs []error
	if d.group != nil {
		d.group.close()
	}
	d.wStmts.close()
	d.rStmts.close()
	if d.W != nil {
		errs = append(errs, d.W.Close())
	}
	if d.R != nil && d.R != d.W {
		errs = append(errs, d.R.Close())
	}
	return errors.Join(errs...)
}

// Rebind turns `?` placeholders into `$1..$n` for PostgreSQL. Question marks inside
// single-quoted literals are left alone. Results are cached per query text.
func (d *DB) Rebind(q string) string {
	if d.Dialect != Postgres {
		return q
	}
	if v, ok := d.rebinds.Load(q); ok {
		return v.(string)
	}
	r := rebind(q)
	d.rebinds.Store(q, r)
	return r
}

func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, inStr := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Exec runs a statement in ctx's transaction, or on the write pool.
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	t := txFrom(ctx, d)
	if st := d.prepared(ctx, &d.wStmts, d.W, q, t); st != nil {
		if t != nil {
			return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		}
		return st.ExecContext(ctx, args...)
	}
	if t != nil {
		return t.tx.ExecContext(ctx, d.Rebind(q), args...)
	}
	return d.W.ExecContext(ctx, d.Rebind(q), args...)
}

// Query runs a query in ctx's transaction, or on the read pool.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if t := txFrom(ctx, d); t != nil {
		if st := d.prepared(ctx, &d.wStmts, d.W, q, t); st != nil {
			return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		}
		return t.tx.QueryContext(ctx, d.Rebind(q), args...)
	}
	if st := d.prepared(ctx, &d.rStmts, d.R, q, nil); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.R.QueryContext(ctx, d.Rebind(q), args...)
}

// QueryRow runs a one-row query in ctx's transaction, or on the read pool.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if t := txFrom(ctx, d); t != nil {
		if st := d.prepared(ctx, &d.wStmts, d.W, q, t); st != nil {
			return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
		}
		return t.tx.QueryRowContext(ctx, d.Rebind(q), args...)
	}
	if st := d.prepared(ctx, &d.rStmts, d.R, q, nil); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.R.QueryRowContext(ctx, d.Rebind(q), args...)
}

// stmtCache holds prepared statements of one pool, bounded so that queries built
// with a varying number of placeholders cannot grow it without limit.
type stmtCache struct {
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	closed bool
}

const maxCachedStmts = 512

// prepared returns a cached prepared statement for q on pool (SQLite only), or nil
// when the statement is not cached (PostgreSQL, cache full, or preparing failed — the
// caller then runs q unprepared and gets the engine's own error). Inside a transaction
// on the single write connection a statement cannot be prepared on the pool (the
// transaction holds its only connection), so it is prepared right after the commit
// and used from the next call on.
func (d *DB) prepared(ctx context.Context, c *stmtCache, pool *sql.DB, q string, t *txState) *sql.Stmt {
	if d.Dialect != SQLite {
		return nil
	}
	c.mu.Lock()
	st, ok := c.m[q]
	full := len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if ok || full {
		return st
	}
	if t != nil {
		t.afterCommit = append(t.afterCommit, func() { c.prepare(pool, q) })
		return nil
	}
	return c.prepare(pool, q)
}

// prepare prepares q on pool and caches it. The lock is not held while preparing: on
// the write pool that waits for the single connection, which a transaction may hold
// while it looks up this cache.
func (c *stmtCache) prepare(pool *sql.DB, q string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.m[q]
	skip := len(c.m) >= maxCachedStmts || c.closed
	c.mu.Unlock()
	if ok || skip {
		return st
	}
	st, err := pool.Prepare(q)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[q]; ok || c.closed {
		st.Close()
		return prev
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
	c.closed = true
}

// Q returns ctx's transaction, else the read pool. Queries through it are not rebound:
// prefer Exec/Query/QueryRow.
func (d *DB) Q(ctx context.Context) Querier {
	if t := txFrom(ctx, d); t != nil {
		return t.tx
	}
	return d.R
}

// InTx reports whether ctx carries a transaction of d.
func (d *DB) InTx(ctx context.Context) bool { return txFrom(ctx, d) != nil }
