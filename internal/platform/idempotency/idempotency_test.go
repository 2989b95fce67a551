package idempotency_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

func TestIdempotencyKey(t *testing.T) {
	s := apptest.New(t)
	admin := s.As(t, "admin")
	do := func(key string, body any) *apptest.Response {
		t.Helper()
		return admin.DoWithHeaders(t, "POST", "/api/v1/departments", body, map[string]string{"Idempotency-Key": key})
	}
	first := do("k-1", map[string]any{"code": "idem", "name": "Idempotent"})
	if first.Status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	again := do("k-1", map[string]any{"code": "idem", "name": "Idempotent"})
	if again.Status != http.StatusCreated || string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %q replayed=%q", again.Status, again.Body, again.Header.Get("Idempotent-Replayed"))
	}
	if again.Header.Get("Location") != first.Header.Get("Location") || first.Header.Get("Location") == "" {
		t.Fatalf("replay Location %q, first %q", again.Header.Get("Location"), first.Header.Get("Location"))
	}
	var n int
	if err := s.App.DB.QueryRow(apptest.SystemCtx(), `SELECT COUNT(*) FROM departments WHERE code = 'idem'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("departments with code idem: %d (%v), want exactly 1", n, err)
	}
	other := do("k-1", map[string]any{"code": "idem2", "name": "Other"})
	if other.Status != http.StatusUnprocessableEntity || !bytes.Contains(other.Body, []byte("idempotency_conflict")) {
		t.Fatalf("same key, other body: %d %s", other.Status, other.Body)
	}
	// A validation failure is an answer too; keys are per actor, so another actor's
	// identical key is judged afresh.
	bad := do("k-2", map[string]any{"code": "", "name": ""})
	if bad.Status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid body: %d %s", bad.Status, bad.Body)
	}
	sup := s.As(t, "supervisor")
	r := sup.DoWithHeaders(t, "POST", "/api/v1/departments", map[string]any{"code": "idem", "name": "x"}, map[string]string{"Idempotency-Key": "k-1"})
	if r.Status != http.StatusForbidden {
		t.Fatalf("other actor with same key should be judged afresh (403 for supervisor): %d %s", r.Status, r.Body)
	}
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	if r := do(string(long), map[string]any{"code": "x1", "name": "y"}); r.Status != http.StatusBadRequest {
		t.Fatalf("over-long key: %d %s", r.Status, r.Body)
	}
}
