// Package idempotency makes API writes safe to retry: a POST, PATCH, PUT or DELETE sent
// with an Idempotency-Key header runs once per (actor, key); a retry with the same
// request gets the stored response again, a different request under the same key is
// refused, and a retry while the first is still running gets 409.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
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

// maxStored is the largest response body kept for replay.
const maxStored = 1 << 20

const (
	sqlReserve = `INSERT INTO idempotency_keys (actor_id, idem_key, method, path, request_hash, status, content_type, location, body, created_at)
VALUES (?, ?, ?, ?, ?, 0, '', '', '', ?) ON CONFLICT (actor_id, idem_key) DO NOTHING`
	sqlGet   = `SELECT request_hash, status, content_type, location, body FROM idempotency_keys WHERE actor_id = ? AND idem_key = ?`
	sqlSave  = `UPDATE idempotency_keys SET status = ?, content_type = ?, location = ?, body = ? WHERE actor_id = ? AND idem_key = ?`
	sqlDrop  = `DELETE FROM idempotency_keys WHERE actor_id = ? AND idem_key = ?`
	sqlPurge = `DELETE FROM idempotency_keys WHERE created_at < ?`
)

// Store keeps keys and responses in the database, so retries reach any node.
type Store struct {
	db    *db.DB
	clock clock.Clock
	ttl   time.Duration
	log   *slog.Logger
}

// New returns a store keeping keys for ttl.
func New(d *db.DB, c clock.Clock, ttl time.Duration, log *slog.Logger) *Store {
	return &Store{db: d, clock: c, ttl: ttl, log: log}
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
			httpx.Error(w, r, apperr.New(apperr.Malformed, "error.malformed.idempotency_key").With("field", Header))
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
		ctx := r.Context()
		actorID := actor.ID
		res, err := s.db.Exec(ctx, sqlReserve, actorID, key, r.Method, r.URL.Path, hash, clock.Millis(s.clock.Now()))
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		if n, _ := res.RowsAffected(); n == 0 {
			s.replay(w, r, actorID, key, hash)
			return
		}
		rec := &recorder{ResponseWriter: w}
		defer func() {
			// Keep the outcome even if the client went away.
			bg := context.WithoutCancel(ctx)
			if rec.status == 0 || rec.status >= 500 || rec.overflow {
				if _, err := s.db.Exec(bg, sqlDrop, actorID, key); err != nil {
					s.log.Warn("idempotency: drop key", slog.String("err", err.Error()))
				}
				return
			}
			if _, err := s.db.Exec(bg, sqlSave, rec.status, rec.Header().Get("Content-Type"), rec.Header().Get("Location"),
				rec.buf.String(), actorID, key); err != nil {
				s.log.Warn("idempotency: save response", slog.String("err", err.Error()))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

func (s *Store) replay(w http.ResponseWriter, r *http.Request, actorID int64, key, hash string) {
	var storedHash, ct, loc, body string
	var status int
	if err := s.db.QueryRow(r.Context(), sqlGet, actorID, key).Scan(&storedHash, &status, &ct, &loc, &body); err != nil {
		if db.IsNoRows(err) { // purged between the two statements: treat as in progress
			httpx.Error(w, r, apperr.New(apperr.Conflict, "error.idempotency_in_progress").WithCode("idempotency_in_progress"))
			return
		}
		httpx.Error(w, r, err)
		return
	}
	switch {
	case storedHash != hash:
		httpx.Error(w, r, apperr.New(apperr.Invalid, "error.idempotency_conflict").WithCode("idempotency_conflict").With("field", Header))
	case status == 0:
		httpx.Error(w, r, apperr.New(apperr.Conflict, "error.idempotency_in_progress").WithCode("idempotency_in_progress"))
	default:
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if loc != "" {
			w.Header().Set("Location", loc)
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// Purge deletes keys older than the retention period.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	res, err := s.db.Exec(ctx, sqlPurge, clock.Millis(s.clock.Now().Add(-s.ttl)))
	if err != nil {
		return 0, err
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

type recorder struct {
	http.ResponseWriter
	status   int
	buf      bytes.Buffer
	overflow bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.buf.Len()+len(b) > maxStored {
		r.overflow = true
	} else {
		r.buf.Write(b)
	}
	return r.ResponseWriter.Write(b)
}
