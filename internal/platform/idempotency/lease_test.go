package idempotency_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/idempotency"
)

func requestHash(method, uri, body string) string {
	h := sha256.Sum256([]byte(method + " " + uri + "\n" + body))
	return hex.EncodeToString(h[:])
}

// A holder that died (its reservation row stays unfinished) blocks its key only until
// its lease passes; then a retry with the same request takes the key over and runs
// once, and every later retry gets that answer.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	s := apptest.New(t)
	admin := s.As(t, "admin")
	body := `{"code":"lease","name":"Leased"}`
	now := clock.Millis(s.Clock.Now())
	if _, err := s.App.DB.Exec(apptest.SystemCtx(), `INSERT INTO idempotency_keys
		(actor_id, idem_key, method, path, request_hash, status, content_type, location, body, created_at, token, lease_until)
		VALUES (?, 'dead-1', 'POST', '/api/v1/departments', ?, 0, '', '', '', ?, 'dead-holder', ?)`,
		admin.Staff.ID, requestHash("POST", "/api/v1/departments", body), now, now+time.Minute.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	do := func(b string) *apptest.Response {
		return admin.DoWithHeaders(t, "POST", "/api/v1/departments", b, map[string]string{"Idempotency-Key": "dead-1"})
	}
	r := do(body)
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "idempotency_in_progress") || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("within the lease: %d %s Retry-After=%q, want 409 idempotency_in_progress, Retry-After 60", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	s.Clock.Advance(61 * time.Second)
	if r := do(`{"code":"other","name":"Other"}`); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("another request never takes a key over: %d %s", r.Status, r.Body)
	}
	first := do(body)
	if first.Status != http.StatusCreated || first.Header.Get(idempotency.ReplayedHeader) != "" {
		t.Fatalf("after the lease: %d %s", first.Status, first.Body)
	}
	again := do(body)
	if again.Status != http.StatusCreated || string(again.Body) != string(first.Body) || again.Header.Get(idempotency.ReplayedHeader) != "true" {
		t.Fatalf("replay after take-over: %d %s", again.Status, again.Body)
	}
	var n int
	if err := s.App.DB.QueryRow(apptest.SystemCtx(), `SELECT COUNT(*) FROM departments WHERE code = 'lease'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("departments: %d (%v), want 1", n, err)
	}
}

// Store-level tests drive the middleware around hand-written handlers.
func newStore(t *testing.T, lease time.Duration) (*db.DB, *clock.Fake, http.Handler, func(http.Handler) http.Handler) {
	t.Helper()
	d := dbtest.New(t)
	fake := clock.NewFake(time.Now())
	st := idempotency.New(idempotency.Options{DB: d, Clock: fake, Lease: lease, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	wrap := func(h http.Handler) http.Handler {
		inner := st.Middleware(h)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner.ServeHTTP(w, r.WithContext(authz.WithActor(r.Context(), &authz.Actor{Kind: authz.KindStaff, ID: 7})))
		})
	}
	return d, fake, nil, wrap
}

func send(t *testing.T, h http.Handler, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/things", strings.NewReader(body))
	req.Header.Set(idempotency.Header, key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func settingCount(t *testing.T, d *db.DB, key string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM settings WHERE key = ?`, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStoreOutcomes(t *testing.T) {
	cases := []struct {
		name string
		// handler writes the setting named by the key, then answers.
		answer func(ctx context.Context, d *db.DB, w http.ResponseWriter) error
		status int
		kept   int  // settings rows after the request
		replay bool // a retry gets the stored answer (else it runs again)
	}{
		{name: "created", status: 201, kept: 1, replay: true,
			answer: func(ctx context.Context, d *db.DB, w http.ResponseWriter) error {
				w.WriteHeader(201)
				return nil
			}},
		{name: "refusal keeps what it committed", status: 404, kept: 1, replay: true,
			answer: func(ctx context.Context, d *db.DB, w http.ResponseWriter) error {
				w.WriteHeader(404)
				return nil
			}},
		{name: "5xx rolls back and releases", status: 500, kept: 0, replay: false,
			answer: func(ctx context.Context, d *db.DB, w http.ResponseWriter) error {
				w.WriteHeader(500)
				return nil
			}},
		{name: "lease taken over before commit", status: 409, kept: 0, replay: false,
			answer: func(ctx context.Context, d *db.DB, w http.ResponseWriter) error {
				// What a new holder's take-over looks like from inside this transaction.
				_, err := d.Exec(ctx, `UPDATE idempotency_keys SET token = 'new-holder'`)
				w.WriteHeader(201)
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, _, _, wrap := newStore(t, time.Minute)
			runs := 0
			h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				runs++
				ctx := r.Context()
				key := r.Header.Get(idempotency.Header)
				if err := d.WithTx(ctx, func(ctx context.Context) error {
					_, err := d.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, 'v', 0)`, key)
					return err
				}); err != nil {
					t.Errorf("insert: %v", err)
				}
				// Reads with ctx see the uncommitted write.
				if n := settingCountCtx(t, ctx, d, key); n != 1 {
					t.Errorf("read inside the envelope: %d rows", n)
				}
				if err := tc.answer(ctx, d, w); err != nil {
					t.Errorf("answer: %v", err)
				}
			}))
			rec := send(t, h, "k-"+strings.ReplaceAll(tc.name, " ", "-"), `{}`)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if n := settingCount(t, d, "k-"+strings.ReplaceAll(tc.name, " ", "-")); n != tc.kept {
				t.Fatalf("rows kept %d, want %d", n, tc.kept)
			}
			if tc.status == 409 {
				return // the new holder owns the key now
			}
			again := send(t, h, "k-"+strings.ReplaceAll(tc.name, " ", "-"), `{}`)
			if tc.replay != (again.Header().Get(idempotency.ReplayedHeader) == "true") || (tc.replay && runs != 1) {
				t.Fatalf("retry: %d replayed=%q runs=%d, want replay=%v", again.Code, again.Header().Get(idempotency.ReplayedHeader), runs, tc.replay)
			}
		})
	}
}

func settingCountCtx(t *testing.T, ctx context.Context, d *db.DB, key string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM settings WHERE key = ?`, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A service that catches the error of one transaction and carries on (here: a unique
// violation, then another write) behaves inside an envelope as it does alone, also on
// PostgreSQL, where an error inside a transaction would otherwise abort all of it.
func TestCaughtErrorInsideEnvelope(t *testing.T) {
	d, _, _, wrap := newStore(t, time.Minute)
	if _, err := d.Exec(context.Background(), `INSERT INTO settings (key, value, updated_at) VALUES ('taken', 'v', 0)`); err != nil {
		t.Fatal(err)
	}
	published := 0
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		err := d.WithTx(ctx, func(ctx context.Context) error {
			d.AfterCommit(ctx, func() { published += 100 }) // dropped with its savepoint
			_, err := d.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('taken', 'v', 0)`)
			return err
		})
		if !db.IsUniqueViolation(err) {
			t.Errorf("first write: %v, want a unique violation", err)
		}
		if err := d.WithTx(ctx, func(ctx context.Context) error {
			d.AfterCommit(ctx, func() { published++ })
			_, err := d.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('fallback', 'v', 0)`)
			return err
		}); err != nil {
			t.Errorf("second write: %v", err)
		}
		w.WriteHeader(201)
	}))
	if rec := send(t, h, "caught", `{}`); rec.Code != 201 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	if settingCount(t, d, "fallback") != 1 || published != 1 {
		t.Fatalf("fallback rows %d, after-commit hooks %d; want 1 and 1", settingCount(t, d, "fallback"), published)
	}
}

// dyingWriter loses the response at the first byte, as a process that dies right after
// the COMMIT would.
type dyingWriter struct{ http.ResponseWriter }

func (d dyingWriter) WriteHeader(int) { panic(http.ErrAbortHandler) }

func (d dyingWriter) Write([]byte) (int, error) { panic(http.ErrAbortHandler) }

// The answer of a request whose effects committed is not lost with the response: the
// retry gets it, and the handler never runs twice.
func TestAnswerCommittedWithEffects(t *testing.T) {
	d, _, _, wrap := newStore(t, time.Minute)
	runs := 0
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		if err := d.WithTx(r.Context(), func(ctx context.Context) error {
			_, err := d.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('answered', 'v', 0)`)
			return err
		}); err != nil {
			t.Errorf("insert: %v", err)
		}
		w.Header().Set("Location", "/api/v1/things/1")
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"id":1}`))
	}))
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Fatalf("recovered %v", p)
			}
		}()
		req := httptest.NewRequest("POST", "/api/v1/things", strings.NewReader(`{}`))
		req.Header.Set(idempotency.Header, "lost-answer")
		h.ServeHTTP(dyingWriter{httptest.NewRecorder()}, req)
	}()
	if settingCount(t, d, "answered") != 1 {
		t.Fatal("the effects did not commit")
	}
	again := send(t, h, "lost-answer", `{}`)
	if again.Code != 201 || again.Body.String() != `{"id":1}` || again.Header().Get("Location") != "/api/v1/things/1" ||
		again.Header().Get(idempotency.ReplayedHeader) != "true" || runs != 1 {
		t.Fatalf("retry: %d %q Location=%q replayed=%q runs=%d", again.Code, again.Body, again.Header().Get("Location"),
			again.Header().Get(idempotency.ReplayedHeader), runs)
	}
}
