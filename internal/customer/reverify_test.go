package customer_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

type queueJSON struct {
	Items []struct {
		ID    int64     `json:"id"`
		Name  string    `json:"name"`
		DueAt time.Time `json:"due_at"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
	Total      int64  `json:"total"`
	PeriodDays int    `json:"period_days"`
}

func queueIDs(t testing.TB, c *apptest.Client, query string) ([]int64, queueJSON) {
	t.Helper()
	q := decodeInto[queueJSON](t, c.Do(t, "GET", "/api/v1/customers/reverify-queue"+query, nil), 200)
	ids := make([]int64, len(q.Items))
	for i, it := range q.Items {
		ids[i] = it.ID
	}
	return ids, q
}

// TestVerifyRecordsWhoAndWhen: a confirmation stores who and when on the file and in
// customer_verifications, is audited, and shows in the history.
func TestVerifyRecordsWhoAndWhen(t *testing.T) {
	s := apptest.New(t)
	agent := s.As(t, "agent")
	id := create(t, agent, map[string]any{"kind": "person", "name": "Verify Me"})
	s.Clock.Advance(3 * time.Hour)
	now := s.Clock.Now().UTC().Truncate(time.Millisecond)
	before := s.AuditSeq(t)
	v := decodeInto[struct {
		ID         int64 `json:"id"`
		VerifiedBy struct {
			ID          int64  `json:"id"`
			DisplayName string `json:"display_name"`
		} `json:"verified_by"`
		VerifiedAt time.Time `json:"verified_at"`
		Outcome    string    `json:"outcome"`
		Note       string    `json:"note"`
	}](t, agent.Do(t, "POST", path(id, "verify"), map[string]any{"note": "phoned, address unchanged"}), 200)
	if v.VerifiedBy.ID != agent.Staff.ID || v.VerifiedBy.DisplayName != agent.Staff.DisplayName || !v.VerifiedAt.Equal(now) ||
		v.Outcome != "confirmed" || v.Note != "phoned, address unchanged" {
		t.Fatalf("verification: %+v (now %v)", v, now)
	}
	if !s.AuditSince(t, before, "customer.verify") {
		t.Error("not audited")
	}
	var at, by, version int64
	if err := s.App.DB.QueryRow(context.Background(), `SELECT verified_at, verified_by, version FROM customers WHERE id = ?`, id).Scan(&at, &by, &version); err != nil {
		t.Fatal(err)
	}
	if at != now.UnixMilli() || by != agent.Staff.ID || version != 2 {
		t.Fatalf("customer row: verified_at %d by %d version %d", at, by, version)
	}
	var n int
	if err := s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM customer_verifications WHERE customer_id = ? AND verified_by = ? AND verified_at = ?`,
		id, agent.Staff.ID, now.UnixMilli()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("verification rows: %d %v", n, err)
	}
	got := agent.Do(t, "GET", path(id), nil)
	if !strings.Contains(string(got.Body), fmt.Sprintf(`"verified_by":%d`, agent.Staff.ID)) || !strings.Contains(string(got.Body), `"verified_at":"`) {
		t.Errorf("customer view: %s", got.Body)
	}
	// A body-less confirmation works too; the history is newest first.
	s.Clock.Advance(time.Hour)
	if r := agent.Do(t, "POST", path(id, "verify"), nil); r.Status != 200 {
		t.Fatalf("verify without body: %d %s", r.Status, r.Body)
	}
	h := agent.Do(t, "GET", path(id, "verifications"), nil)
	if h.Status != 200 || strings.Count(string(h.Body), `"outcome":"confirmed"`) != 2 || strings.Index(string(h.Body), `"note":""`) > strings.Index(string(h.Body), "phoned") {
		t.Errorf("history: %s", h.Body)
	}
	// The page button.
	br := s.Browser(t, "agent_cs", apptest.Password)
	page := br.Do(t, "GET", fmt.Sprintf("/customers/%d", id), nil)
	if !strings.Contains(string(page.Body), `id="customer-verify"`) {
		t.Fatal("detail page lacks the confirm button")
	}
	if r := br.PostForm(t, fmt.Sprintf("/customers/%d/verify", id), url.Values{}); r.Status != 303 || r.Header.Get("Location") != fmt.Sprintf("/customers/%d", id) {
		t.Fatalf("confirm button: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := agent.Do(t, "POST", path(id, "verify"), map[string]any{"note": strings.Repeat("x", 501)}); r.Status != 422 || !strings.Contains(string(r.Body), `"note"`) {
		t.Errorf("long note: %d %s", r.Status, r.Body)
	}
}

// TestReverifyQueue: overdue boundaries with the fake clock, the period setting, keyset
// pages and the owner's-queue scope.
func TestReverifyQueue(t *testing.T) {
	s := apptest.New(t)
	agent, sup, dir := s.As(t, "agent"), s.As(t, "supervisor"), s.As(t, "director")
	other := s.As(t, "agent@other")
	a1 := create(t, agent, map[string]any{"kind": "person", "name": "Q1"})
	s.Clock.Advance(time.Minute)
	a2 := create(t, agent, map[string]any{"kind": "person", "name": "Q2"})
	o1 := create(t, other, map[string]any{"kind": "person", "name": "O1"})
	s1 := create(t, sup, map[string]any{"kind": "person", "name": "S1"})
	created := s.Clock.Now() // a2, o1 and s1 were created now; a1 a minute before

	if ids, q := queueIDs(t, agent, ""); len(ids) != 0 || q.Total != 0 || q.PeriodDays != 30 {
		t.Fatalf("fresh files are not overdue: %v %+v", ids, q)
	}
	// Exactly one period after creation is not overdue yet; one millisecond more is.
	s.Clock.Set(created.Add(30 * 24 * time.Hour))
	if ids, _ := queueIDs(t, agent, ""); !slices.Equal(ids, []int64{a1}) {
		t.Fatalf("at the boundary: %v, want only the older file %d", ids, a1)
	}
	s.Clock.Advance(time.Millisecond)
	ids, q := queueIDs(t, agent, "")
	if !slices.Equal(ids, []int64{a1, a2}) || q.Total != 2 {
		t.Fatalf("past the boundary: %v %+v", ids, q)
	}
	if want := created.Truncate(time.Millisecond).Add(30 * 24 * time.Hour); !q.Items[1].DueAt.Equal(want) {
		t.Errorf("due_at %v, want %v", q.Items[1].DueAt, want)
	}
	// Scope: own for agents, department for supervisors, all for directors.
	if ids, _ := queueIDs(t, sup, ""); !slices.Equal(ids, []int64{a1, a2, s1}) {
		t.Errorf("supervisor queue: %v", ids)
	}
	if ids, _ := queueIDs(t, other, ""); !slices.Equal(ids, []int64{o1}) {
		t.Errorf("other agent's queue: %v", ids)
	}
	if ids, q := queueIDs(t, dir, ""); len(ids) != 4 || q.Total != 4 {
		t.Errorf("director queue: %v", ids)
	}
	// Keyset pages.
	p1, q1 := queueIDs(t, sup, "?limit=2")
	p2, q2 := queueIDs(t, sup, "?limit=2&cursor="+url.QueryEscape(q1.NextCursor))
	if !slices.Equal(append(p1, p2...), []int64{a1, a2, s1}) || q1.NextCursor == "" || q2.NextCursor != "" || q2.Total != 3 {
		t.Fatalf("pages: %v %v (%q %q)", p1, p2, q1.NextCursor, q2.NextCursor)
	}
	if r := sup.Do(t, "GET", "/api/v1/customers/reverify-queue?cursor=not*a*cursor", nil); r.Status != 400 {
		t.Errorf("bad cursor: %d", r.Status)
	}

	// Confirming removes a file until a period has passed again; confirmed files come
	// after never-confirmed ones.
	if r := agent.Do(t, "POST", path(a1, "verify"), nil); r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	verified := s.Clock.Now()
	if ids, _ := queueIDs(t, agent, ""); !slices.Equal(ids, []int64{a2}) {
		t.Fatalf("after verifying: %v", ids)
	}
	s.Clock.Set(verified.Add(30 * 24 * time.Hour))
	if ids, _ := queueIDs(t, agent, ""); !slices.Equal(ids, []int64{a2}) {
		t.Fatalf("verified exactly one period ago: %v", ids)
	}
	s.Clock.Advance(time.Millisecond)
	if ids, _ := queueIDs(t, agent, ""); !slices.Equal(ids, []int64{a2, a1}) {
		t.Fatalf("verified more than a period ago: %v", ids)
	}

	// A shorter period applies at once.
	s.Clock.Advance(8 * 24 * time.Hour)
	b := create(t, agent, map[string]any{"kind": "person", "name": "Q3"})
	if ids, _ := queueIDs(t, agent, ""); !slices.Equal(ids, []int64{a2, a1}) {
		t.Fatalf("b is within 30 days: %v", ids)
	}
	s.Clock.Advance(7*24*time.Hour + time.Millisecond)
	if r := dir.Do(t, "PUT", "/api/v1/customer-settings", map[string]any{"reverify_days": 7}); r.Status != 200 || !strings.Contains(string(r.Body), `"reverify_days":7`) {
		t.Fatalf("set period: %d %s", r.Status, r.Body)
	}
	if ids, q := queueIDs(t, agent, ""); !slices.Equal(ids, []int64{a2, b, a1}) || q.PeriodDays != 7 {
		t.Fatalf("7-day period (never confirmed first): %v %+v", ids, q)
	}

	// The page: count badge, rows, confirm button back to the queue.
	br := s.Browser(t, "agent_cs", apptest.Password)
	page := br.Do(t, "GET", "/customers/reverify", nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), `id="reverify-count">3<`) || !strings.Contains(string(page.Body), ">Q2<") ||
		strings.Contains(string(page.Body), `id="reverify-settings"`) {
		t.Fatalf("queue page: %d\n%s", page.Status, page.Body)
	}
	form := url.Values{"next": {"reverify"}}
	if r := br.PostForm(t, fmt.Sprintf("/customers/%d/verify", a2), form); r.Status != 303 || r.Header.Get("Location") != "/customers/reverify" {
		t.Fatalf("confirm from queue: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := br.Do(t, "GET", "/customers/reverify", nil); !strings.Contains(string(r.Body), `id="reverify-count">2<`) {
		t.Errorf("count after confirming: %s", r.Body)
	}
	// The settings form for holders of customer:rules, with inline errors.
	dbr := s.Browser(t, "director_cs", apptest.Password)
	if r := dbr.PostForm(t, "/customers/reverify/settings", url.Values{"reverify_days": {"0"}}); r.Status != 422 || !strings.Contains(string(r.Body), `id="err-reverify_days"`) {
		t.Errorf("bad period form: %d", r.Status)
	}
	if r := dbr.PostForm(t, "/customers/reverify/settings", url.Values{"reverify_days": {"31"}}); r.Status != 303 {
		t.Errorf("period form: %d %s", r.Status, r.Body)
	}
	if r := agent.Do(t, "GET", "/api/v1/customer-settings", nil); !strings.Contains(string(r.Body), `"reverify_days":31`) {
		t.Errorf("settings: %s", r.Body)
	}
}

// TestReverifyScenarios: every re-verification route per role.
func TestReverifyScenarios(t *testing.T) {
	s := apptest.New(t)
	for _, r := range []string{"admin", "director", "supervisor", "agent", "qa", "sales", "agent@other", "supervisor@other"} {
		s.As(t, r)
	}
	a := create(t, s.As(t, "agent"), map[string]any{"kind": "person", "name": "Scoped"})
	sl := create(t, s.As(t, "sales"), map[string]any{"kind": "person", "name": "Sales own"})
	merged := create(t, s.As(t, "agent"), map[string]any{"kind": "person", "name": "Merged"})
	if _, err := s.App.DB.Exec(context.Background(), `UPDATE customers SET status = 'merged', merged_into = ? WHERE id = ?`, a, merged); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(31 * 24 * time.Hour)
	queue := "/api/v1/customers/reverify-queue"
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "anon verify", Method: "POST", Path: path(a, "verify"), Status: 401, NoAudit: true},
		{Name: "anon queue", Method: "GET", Path: queue, Status: 401},
		{Name: "anon history", Method: "GET", Path: path(a, "verifications"), Status: 401},
		{Name: "anon settings", Method: "GET", Path: "/api/v1/customer-settings", Status: 401},
		{Name: "anon put settings", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"reverify_days": 5}, Status: 401},

		{Name: "agent queue", As: "agent", Method: "GET", Path: queue, Status: 200, Audit: "customer.list",
			Has: []string{`"Scoped"`, `"total":1`, `"period_days":30`, `"due_at":"`}, Not: []string{"Sales own", "Merged"}},
		{Name: "sales queue", As: "sales", Method: "GET", Path: queue, Status: 200, Has: []string{`"Sales own"`, `"total":1`}},
		{Name: "supervisor queue", As: "supervisor", Method: "GET", Path: queue, Status: 200, Has: []string{`"Scoped"`, `"Sales own"`, `"total":2`}},
		{Name: "other supervisor queue", As: "supervisor@other", Method: "GET", Path: queue, Status: 200, Has: []string{`"total":0`, `"items":[]`}},
		{Name: "director queue", As: "director", Method: "GET", Path: queue, Status: 200, Has: []string{`"total":2`}},
		{Name: "admin queue", As: "admin", Method: "GET", Path: queue, Status: 200, Has: []string{`"total":2`}},
		{Name: "qa queue", As: "qa", Method: "GET", Path: queue, Status: 403},

		{Name: "qa verify", As: "qa", Method: "POST", Path: path(a, "verify"), Status: 403, NoAudit: true},
		{Name: "other dept agent verify", As: "agent@other", Method: "POST", Path: path(a, "verify"), Status: 404, NoAudit: true},
		{Name: "other supervisor verify", As: "supervisor@other", Method: "POST", Path: path(a, "verify"), Status: 404, NoAudit: true},
		{Name: "sales verify other's", As: "sales", Method: "POST", Path: path(a, "verify"), Status: 404, NoAudit: true},
		{Name: "other dept agent history", As: "agent@other", Method: "GET", Path: path(a, "verifications"), Status: 404},
		{Name: "unknown customer", As: "admin", Method: "POST", Path: path(999999, "verify"), Status: 404},
		{Name: "merged customer", As: "admin", Method: "POST", Path: path(merged, "verify"), Status: 409, Has: []string{`"customer_not_active"`}, NoAudit: true},
		{Name: "unknown field", As: "agent", Method: "POST", Path: path(a, "verify"), Body: map[string]any{"notes": "x"}, Status: 400, NoAudit: true},
		{Name: "sales verifies own", As: "sales", Method: "POST", Path: path(sl, "verify"), Status: 200, Audit: "customer.verify"},
		{Name: "agent verifies", As: "agent", Method: "POST", Path: path(a, "verify"), Body: map[string]any{"note": "ok"}, Status: 200, Audit: "customer.verify",
			Has: []string{`"outcome":"confirmed"`, `"note":"ok"`}},
		{Name: "supervisor verifies dept", As: "supervisor", Method: "POST", Path: path(a, "verify"), Status: 200, Audit: "customer.verify"},
		{Name: "director verifies", As: "director", Method: "POST", Path: path(a, "verify"), Status: 200},
		{Name: "admin verifies", As: "admin", Method: "POST", Path: path(a, "verify"), Status: 200},
		{Name: "agent history", As: "agent", Method: "GET", Path: path(a, "verifications"), Status: 200, Audit: "customer.read", Has: []string{`"note":"ok"`}},
		{Name: "qa history", As: "qa", Method: "GET", Path: path(a, "verifications"), Status: 200},
		{Name: "queue emptied", As: "supervisor", Method: "GET", Path: queue, Status: 200, Has: []string{`"total":0`}},

		{Name: "agent reads settings", As: "agent", Method: "GET", Path: "/api/v1/customer-settings", Status: 200, Has: []string{`"reverify_days":30`}},
		{Name: "agent cannot set", As: "agent", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"reverify_days": 5}, Status: 403, NoAudit: true},
		{Name: "supervisor cannot set", As: "supervisor", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"reverify_days": 5}, Status: 403},
		{Name: "qa cannot set", As: "qa", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"reverify_days": 5}, Status: 403},
		{Name: "sales cannot set", As: "sales", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"reverify_days": 5}, Status: 403},
		{Name: "period too short", As: "director", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"reverify_days": 0}, Status: 422,
			Has: []string{`"reverify_days"`}, NoAudit: true},
		{Name: "period too long", As: "admin", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"reverify_days": 366}, Status: 422},
		{Name: "settings unknown field", As: "admin", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"days": 3}, Status: 400},
		{Name: "director sets", As: "director", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"reverify_days": 14}, Status: 200,
			Audit: "customer.settings.update", Has: []string{`"reverify_days":14`}},
		{Name: "same value", As: "admin", Method: "PUT", Path: "/api/v1/customer-settings", Body: map[string]any{"reverify_days": 14}, Status: 200, NoAudit: true},
		{Name: "qa reads settings", As: "qa", Method: "GET", Path: "/api/v1/customer-settings", Status: 200, Has: []string{`"reverify_days":14`}},

		{Name: "qa queue page", As: "qa", Method: "GET", Path: "/customers/reverify", Status: 403},
		{Name: "agent queue page", As: "agent", Method: "GET", Path: "/customers/reverify", Status: 200, Has: []string{`id="reverify-none"`}},
	})
}
