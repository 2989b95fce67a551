// Package idempotency makes API writes safe to retry: a POST, PATCH, PUT or DELETE sent
// with an Idempotency-Key header runs once per (actor, key); a retry with the same
// request gets the stored response again, a different request under the same key is
// refused, and a retry while the first is still running gets 409 with Retry-After.
//
// # Surviving a crash
//
// A key must never run twice, and the answer of a request that committed must reach
// its retry even when the process dies (kill -9, power loss) at any instant. Two
// records make that hold:
//
//   - The reservation is a lease. Before the handler runs, the key's row is written
//     (and committed) with a random token naming this holder and a lease expiry
//     (config idempotency.lease, default 60 s). A retry finding the row unfinished
//     gets 409 until the lease has passed; then one conditional UPDATE (status still
//     0, lease passed, same request hash) hands the key to the retry with a new token:
//     exactly one taker wins. So a holder that died leaves the key stuck for at most
//     one lease.
//
//   - The response is stored in the same transaction as the writes that produced it.
//     The handler runs inside one write transaction carried in ctx (db.WithEnvelope),
//     its response is buffered, and the response is saved by an UPDATE that only
//     succeeds while this holder's token is still on the row; then everything commits
//     at once and only then is the response sent. A crash before that COMMIT leaves
//     nothing (the retry executes afresh, once its lease is taken over); a crash after
//     it leaves the effects and the answer together (the retry gets the answer). If
//     the lease was taken over meanwhile, the UPDATE matches no row, the holder rolls
//     back and answers 409: the other holder's run is the one that counts.
//
// Why this is correct with the rest of the code base (each point was checked):
//
//   - Services call db.WithTx as if they were alone. Inside an envelope each such call
//     runs in its own SAVEPOINT with its own hooks (db.inSavepoint), so a call that
//     fails rolls back alone and the service carries on as before; on PostgreSQL an
//     error therefore no longer poisons the outer transaction. Hooks of failed calls
//     are dropped; audit entries (BeforeCommit) are appended at the savepoint's
//     release, search writes (Defer) and events (AfterCommit) happen once, at and after
//     the envelope's COMMIT, so nothing is published for work that did not commit.
//   - Reads made with the request's ctx go through the envelope, so a handler that
//     reads back what it just wrote sees it (the read pool would not, before COMMIT).
//     No request path reads a row it just wrote through db.R directly.
//   - 2xx, 3xx and 4xx answers commit with whatever the handler's inner transactions
//     committed (a refusal may deliberately record an audit entry) and are replayed.
//     A 5xx answer, or a handler panic, rolls everything back and releases the key,
//     so that a retry runs afresh; as before, 5xx answers are never replayed.
//   - On SQLite the envelope bypasses group commit and holds the single writer while
//     the handler runs. API write handlers are short (no outside calls: mail and other
//     slow work go through jobs), and nothing in them writes with a context that does
//     not carry the transaction, which would wait for the writer forever. The price is
//     measured by BenchmarkCreateKeyed against BenchmarkCreateUnkeyed.
//   - An envelope holds a connection while the handler may need a second one for a
//     read outside the transaction (the customer territory cache loads that way). On
//     PostgreSQL, where reads and writes share one pool, envelopes are therefore capped
//     at half the pool (db.WithEnvelope); without the cap, as many concurrent keyed
//     requests as connections starved each other until those reads timed out.
//   - The handler runs without the client's cancellation: a client that hangs up does
//     not turn a finished write into a lost answer.
package idempotency

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// ReplayedHeader marks a response that is a stored answer, not a new execution.
const ReplayedHeader = "Idempotent-Replayed"

const (
	sqlReserve = `INSERT INTO idempotency_keys (actor_id, idem_key, method, path, request_hash, status, content_type, location, body, created_at, token, lease_until)
VALUES (?, ?, ?, ?, ?, 0, '', '', '', ?, ?, ?) ON CONFLICT (actor_id, idem_key) DO NOTHING`
	// sqlTakeOver hands an unfinished key whose lease has passed to a new holder.
	sqlTakeOver = `UPDATE idempotency_keys SET token = ?, lease_until = ?
WHERE actor_id = ? AND idem_key = ? AND status = 0 AND request_hash = ? AND lease_until <= ?`
	sqlGet = `SELECT request_hash, status, content_type, location, body, lease_until FROM idempotency_keys WHERE actor_id = ? AND idem_key = ?`
	// sqlFinish stores the answer, only while this holder still holds the key.
	sqlFinish = `UPDATE idempotency_keys SET status = ?, content_type = ?, location = ?, body = ?, token = '', lease_until = 0
WHERE actor_id = ? AND idem_key = ? AND token = ? AND status = 0`
	sqlRelease = `DELETE FROM idempotency_keys WHERE actor_id = ? AND idem_key = ? AND token = ? AND status = 0`
	sqlPurge   = `DELETE FROM idempotency_keys WHERE created_at < ?`
)

// Options configure a Store.
type Options struct {
	DB    *db.DB
	Clock clock.Clock
	Log   *slog.Logger
	// Lease is how long a running request holds its key (default 60 s).
	Lease time.Duration
	// Retention is how long keys and answers are kept (default 24 h).
	Retention time.Duration
}

// Store keeps keys and responses in the database, so retries reach any node.
type Store struct {
	db        *db.DB
	clock     clock.Clock
	lease     time.Duration
	retention time.Duration
	log       *slog.Logger
}

// New returns a store.
func New(o Options) *Store {
	s := &Store{db: o.DB, clock: o.Clock, lease: o.Lease, retention: o.Retention, log: o.Log}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.lease <= 0 {
		s.lease = time.Minute
	}
	if s.retention <= 0 {
		s.retention = 24 * time.Hour
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

var (
	errLeaseLost     = errors.New("idempotency: lease taken over by another holder")
	errHandlerFailed = errors.New("idempotency: handler answered 5xx")
)

func inProgress() *apperr.Error {
	return apperr.New(apperr.Conflict, "error.idempotency_in_progress").WithCode("idempotency_in_progress")
}

// Middleware applies idempotency to API writes that carry the header.
func (s *Store) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(Header)
		actor := authz.From(r.Context())
		if key == "" || actor == nil || !strings.HasPrefix(r.URL.Path, "/api/") ||
			r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 || strings.ContainsFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			httpx.Error(w, r, apperr.New(apperr.Malformed, "error.malformed.idempotency_key").OnField(Header))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				httpx.Error(w, r, apperr.New(apperr.TooLarge, "error.too_large", "limit", tooBig.Limit))
				return
			}
			httpx.Error(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "body"))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\n"))
		h.Write(body)
		hash := hex.EncodeToString(h.Sum(nil))
		// The outcome is kept even if the client goes away mid-request.
		ctx := context.WithoutCancel(r.Context())
		hold := held{actor: actor.ID, key: key, token: newToken()}
		ok, err := s.acquire(ctx, r, hold, hash)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		if !ok {
			s.replay(w, r, hold, hash)
			return
		}
		s.run(w, r.WithContext(ctx), next, hold)
	})
}

type held struct {
	actor int64
	key   string
	token string
}

// acquire reserves the key for hold, or takes it over when an earlier holder's lease
// has passed. false: someone else holds or finished the key.
func (s *Store) acquire(ctx context.Context, r *http.Request, hold held, hash string) (bool, error) {
	now := s.clock.Now()
	until := clock.Millis(now.Add(s.lease))
	res, err := s.db.Exec(ctx, sqlReserve, hold.actor, hold.key, r.Method, r.URL.Path, hash, clock.Millis(now), hold.token, until)
	if err != nil {
		return false, fmt.Errorf("idempotency: reserve: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	res, err = s.db.Exec(ctx, sqlTakeOver, hold.token, until, hold.actor, hold.key, hash, clock.Millis(now))
	if err != nil {
		return false, fmt.Errorf("idempotency: take over: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		httpx.Logger(ctx).Info("idempotency: took over an expired lease", slog.String("key", hold.key))
		return true, nil
	}
	return false, nil
}

// run executes the handler in an envelope and answers (see the package comment).
func (s *Store) run(w http.ResponseWriter, r *http.Request, next http.Handler, hold held) {
	ctx := r.Context()
	buf := newBuffer(w.Header())
	defer func() {
		if p := recover(); p != nil {
			s.release(ctx, hold)
			panic(p)
		}
	}()
	err := s.db.WithEnvelope(ctx, func(ctx context.Context) error {
		next.ServeHTTP(buf, r.WithContext(ctx))
		if buf.status >= 500 {
			return errHandlerFailed
		}
		return s.finish(ctx, hold, buf)
	})
	switch {
	case err == nil:
		buf.flushTo(w)
	case errors.Is(err, errHandlerFailed):
		s.release(ctx, hold)
		buf.flushTo(w)
	case errors.Is(err, errLeaseLost):
		s.log.Warn("idempotency: lease lost before commit; the new holder's run counts", slog.String("key", hold.key))
		httpx.Error(w, r, inProgress())
	case buf.status >= 400 && buf.status < 500:
		// The envelope could not commit (PostgreSQL refuses to go on after an error a
		// handler caught outside its own WithTx): a refusal has no effects to keep, so
		// store it on its own.
		if ferr := s.finish(ctx, hold, buf); ferr != nil {
			if !errors.Is(ferr, errLeaseLost) {
				s.release(ctx, hold)
			}
			httpx.Error(w, r, ferr)
			return
		}
		buf.flushTo(w)
	default:
		s.release(ctx, hold)
		httpx.Error(w, r, err)
	}
}

// finish stores the buffered answer under hold's token.
func (s *Store) finish(ctx context.Context, hold held, buf *buffer) error {
	status := buf.status
	if status == 0 {
		status = http.StatusOK
	}
	res, err := s.db.Exec(ctx, sqlFinish, status, buf.header.Get("Content-Type"), buf.header.Get("Location"),
		buf.body.String(), hold.actor, hold.key, hold.token)
	if err != nil {
		return fmt.Errorf("idempotency: save response: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errLeaseLost
	}
	return nil
}

// release gives up hold's reservation so that a retry runs afresh.
func (s *Store) release(ctx context.Context, hold held) {
	if _, err := s.db.Exec(context.WithoutCancel(ctx), sqlRelease, hold.actor, hold.key, hold.token); err != nil {
		s.log.Warn("idempotency: release key (it frees itself when its lease passes)", slog.String("err", err.Error()))
	}
}

func (s *Store) replay(w http.ResponseWriter, r *http.Request, hold held, hash string) {
	var storedHash, ct, loc, body string
	var status int
	var until int64
	if err := s.db.QueryRow(r.Context(), sqlGet, hold.actor, hold.key).Scan(&storedHash, &status, &ct, &loc, &body, &until); err != nil {
		if db.IsNoRows(err) { // released or purged between the two statements: retry soon
			w.Header().Set("Retry-After", "1")
			httpx.Error(w, r, inProgress())
			return
		}
		httpx.Error(w, r, fmt.Errorf("idempotency: read key: %w", err))
		return
	}
	switch {
	case storedHash != hash:
		httpx.Error(w, r, apperr.New(apperr.Invalid, "error.idempotency_conflict").WithCode("idempotency_conflict").OnField(Header))
	case status == 0:
		wait := time.Duration(until-clock.Millis(s.clock.Now())) * time.Millisecond
		secs := int64((wait + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		httpx.Error(w, r, inProgress())
	default:
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if loc != "" {
			w.Header().Set("Location", loc)
		}
		w.Header().Set(ReplayedHeader, "true")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// Purge deletes keys older than the retention period.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	res, err := s.db.Exec(ctx, sqlPurge, clock.Millis(s.clock.Now().Add(-s.retention)))
	if err != nil {
		return 0, fmt.Errorf("idempotency: purge: %w", err)
	}
	return res.RowsAffected()
}

// Run purges old keys every interval until ctx ends.
func (s *Store) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("idempotency: purge", slog.String("err", err.Error()))
			}
		}
	}
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// buffer holds a handler's whole response until it is known to be committed.
type buffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// newBuffer starts with a copy of the headers already set (request id, security).
func newBuffer(h http.Header) *buffer { return &buffer{header: h.Clone()} }

func (b *buffer) Header() http.Header { return b.header }

func (b *buffer) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *buffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *buffer) flushTo(w http.ResponseWriter) {
	dst := w.Header()
	for k, v := range b.header {
		dst[k] = v
	}
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.body.Bytes())
}
