package ticket_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// slaEvents counts the SLA timeline events of request id by kind.
func slaEvents(t testing.TB, s *apptest.Server, id int64) map[ticket.EventKind]int {
	t.Helper()
	out := map[ticket.EventKind]int{}
	for _, k := range []ticket.EventKind{ticket.EventSLAWarning, ticket.EventSLABreach, ticket.EventEscalation} {
		out[k] = count(t, s, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ? AND kind = ?`, id, string(k))
	}
	return out
}

func wantEvents(t testing.TB, s *apptest.Server, id int64, warn, breach, esc int) {
	t.Helper()
	got := slaEvents(t, s, id)
	if got[ticket.EventSLAWarning] != warn || got[ticket.EventSLABreach] != breach || got[ticket.EventEscalation] != esc {
		t.Errorf("request %d: events %v, want %d warnings, %d breaches, %d escalations", id, got, warn, breach, esc)
	}
}

func runJobs(t testing.TB, s *apptest.Server) {
	t.Helper()
	for range 3 { // a scan enqueues checks; RunDue runs those too
		if _, err := s.App.Jobs.RunDue(apptest.SystemCtx()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSLAPolicyAPI(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "seeded", As: "admin", Method: "GET", Path: "/api/v1/sla-policies", Status: 200,
			Has: []string{`"response_target":"24h"`, `"resolve_target":"48h"`, `"confirm_target":"24h"`, `"tier":"vip"`, `"severity":"major"`}},
		{Name: "agent may not read", As: "agent", Method: "GET", Path: "/api/v1/sla-policies", Status: 403},
		{Name: "anonymous", Method: "GET", Path: "/api/v1/sla-policies", Status: 401},
		{Name: "create", As: "admin", Method: "POST", Path: "/api/v1/sla-policies", Status: 201,
			Body: map[string]any{"name": "Repairs", "type": "repair", "response_target": "4h", "response_mode": "business_hours",
				"resolve_target": "3d", "resolve_mode": "working_days", "warn_before": "20%"},
			Has: []string{`"type":"repair"`, `"calendar_id":"default"`, `"active":true`}, Audit: "sla_policy.create"},
		{Name: "invalid", As: "admin", Lang: "en", Method: "POST", Path: "/api/v1/sla-policies", Status: 422,
			Body: map[string]any{"name": "", "type": "x", "severity": "y", "tier": "z", "calendar_id": "nope",
				"response_target": "soon", "resolve_target": "36h", "resolve_mode": "working_days", "confirm_mode": "weekly",
				"warn_before": "120%"},
			Has: []string{`"name"`, `"type"`, `"severity"`, `"tier"`, `"calendar_id"`, `"response_target"`, `"resolve_target"`,
				`"confirm_mode"`, `"warn_before"`}},
		{Name: "unknown member", As: "admin", Method: "POST", Path: "/api/v1/sla-policies", Status: 400,
			Body: map[string]any{"name": "x", "colour": "red"}},
		{Name: "not found", As: "admin", Method: "GET", Path: "/api/v1/sla-policies/999", Status: 404},
		{Name: "supervisor may not", As: "supervisor", Method: "POST", Path: "/api/v1/sla-policies", Status: 403,
			Body: map[string]any{"name": "x"}},
	})
	list := decode[struct {
		Items []ticket.SLAPolicy `json:"items"`
	}](t, s.As(t, "admin").Do(t, "GET", "/api/v1/sla-policies", nil).Body)
	var repair int64
	for _, p := range list.Items {
		if p.Name == "Repairs" {
			repair = p.ID
		}
	}
	if repair == 0 {
		t.Fatal("created policy not listed")
	}
	pp := fmt.Sprintf("/api/v1/sla-policies/%d", repair)
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "patch without version", As: "admin", Method: "PATCH", Path: pp, Body: map[string]any{"warn_before": "2h"},
			Status: 428, NoAudit: true},
		{Name: "patch", As: "admin", Method: "PATCH", Path: pp, Body: map[string]any{"warn_before": "2h", "sort_order": 7, "version": 1},
			Status: 200, Has: []string{`"warn_before":"2h"`, `"sort_order":7`, `"name":"Repairs"`, `"version":2`}, Audit: "sla_policy.update"},
		{Name: "patch stale", As: "admin", Method: "PATCH", Path: pp, Body: map[string]any{"warn_before": "3h", "version": 1},
			Status: 409, Has: []string{`"code":"version_conflict"`}, NoAudit: true},
		{Name: "patch invalid", As: "admin", Method: "PATCH", Path: pp, Body: map[string]any{"resolve_target": "1d1h", "version": 2},
			Status: 422, Has: []string{`"resolve_target"`}},
		{Name: "get", As: "admin", Method: "GET", Path: pp, Status: 200, Has: []string{`"warn_before":"2h"`}},
	})
	// A repair request now runs on the new policy (working days for resolution).
	c := s.As(t, "admin")
	cust := newCustomer(t, s, "王芳", "regular", "B")
	in := input(cust.ID)
	in.Type, in.FaultLevel = ticket.TypeRepair, 2
	id := idOf(createAPI(t, c, in))
	tk, err := s.App.Ticket.Store().GetTicket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := s.App.Calendars.Get(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if tk.SLAPolicyID != repair || !tk.ResolveDueAt.Equal(cal.AddWorkingDays(tk.CreatedAt, 3)) ||
		!tk.ResponseDueAt.Equal(cal.AddBusinessHours(tk.CreatedAt, 4*time.Hour)) {
		t.Errorf("repair request: policy %d, response %v, resolve %v", tk.SLAPolicyID, tk.ResponseDueAt, tk.ResolveDueAt)
	}
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "in use", As: "admin", Method: "DELETE", Path: pp, Status: http.StatusConflict},
		{Name: "deactivate", As: "admin", Method: "PATCH", Path: pp, Body: map[string]any{"active": false, "version": 2}, Status: 200},
	})
	if r := c.Do(t, "POST", path(id, "transition"), map[string]any{"status": "cancelled", "reason": "test"}); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "delete", As: "admin", Method: "DELETE", Path: pp, Status: http.StatusNoContent, Audit: "sla_policy.delete"},
		{Name: "gone", As: "admin", Method: "GET", Path: pp, Status: 404},
	})
}

// TestSLAPolicyMatching: the seeded policies (default 24/48 h, major 2/24 h, VIP
// 4/24 h, VIP major 1/12 h, all calendar time) pick by specificity.
func TestSLAPolicyMatching(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	c := s.As(t, "admin")
	for _, tc := range []struct {
		tier              string
		sev               ticket.Severity
		response, resolve time.Duration
	}{
		{"regular", ticket.SeverityGeneral, 24 * time.Hour, 48 * time.Hour},
		{"regular", ticket.SeverityMajor, 2 * time.Hour, 24 * time.Hour},
		{"vip", ticket.SeverityGeneral, 4 * time.Hour, 24 * time.Hour},
		{"vip", ticket.SeverityMajor, time.Hour, 12 * time.Hour},
	} {
		cust := newCustomer(t, s, "客户"+tc.tier, tc.tier, "A")
		in := input(cust.ID)
		in.Severity = tc.sev
		id := idOf(createAPI(t, c, in))
		tk, err := s.App.Ticket.Store().GetTicket(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if r, v := tk.ResponseDueAt.Sub(tk.CreatedAt), tk.ResolveDueAt.Sub(tk.CreatedAt); r != tc.response || v != tc.resolve {
			t.Errorf("%s %s: response %v resolve %v, want %v %v", tc.tier, tc.sev, r, v, tc.response, tc.resolve)
		}
	}
}

// TestSLAWarnBreachOnce walks a fake clock through the default policy (respond in 24 h,
// resolve in 48 h, warn 4 h ahead): each warning, breach and the escalation fires once,
// a paused request never fires, and a resumed one has its due times pushed.
func TestSLAWarnBreachOnce(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sup := s.Staff(t, "sla_sup", "supervisor", "sla")
	c := s.As(t, "admin")
	cust := newCustomer(t, s, "李雷", "regular", "B")
	in := input(cust.ID)
	in.DeptID, in.Reason = sup.DeptID, "SLA test department"
	running := idOf(createAPI(t, c, in))
	paused := idOf(createAPI(t, c, in))
	answered := idOf(createAPI(t, c, in))
	if r := c.Do(t, "POST", path(paused, "transition"), map[string]any{"status": "waiting_customer"}); r.Status != 200 {
		t.Fatalf("pause: %d %s", r.Status, r.Body)
	}
	if r := c.Do(t, "POST", path(answered, "reply"), map[string]any{"body": "我们已收到。"}); r.Status != 200 && r.Status != 201 {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}

	s.Clock.Advance(19 * time.Hour)
	runJobs(t, s)
	wantEvents(t, s, running, 0, 0, 0)

	s.Clock.Advance(90 * time.Minute) // 20.5 h: response warning
	runJobs(t, s)
	runJobs(t, s)
	wantEvents(t, s, running, 1, 0, 0)
	wantEvents(t, s, answered, 0, 0, 0)

	s.Clock.Advance(4 * time.Hour) // 24.5 h: response breach and escalation
	runJobs(t, s)
	wantEvents(t, s, running, 1, 1, 1)
	var to []any
	r := c.Do(t, "GET", path(running, "events"), nil)
	for _, e := range decode[struct {
		Items []map[string]any `json:"items"`
	}](t, r.Body).Items {
		if e["kind"] == string(ticket.EventEscalation) {
			data, _ := e["data"].(map[string]any)
			to, _ = data["to"].([]any)
		}
	}
	if len(to) != 1 || int64(to[0].(float64)) != sup.ID {
		t.Errorf("escalated to %v, want [%d] (the department's supervisor)", to, sup.ID)
	}

	s.Clock.Advance(21 * time.Hour) // 45.5 h: resolution warning
	runJobs(t, s)
	wantEvents(t, s, running, 2, 1, 1)
	wantEvents(t, s, answered, 1, 0, 0)

	s.Clock.Advance(3 * time.Hour) // 48.5 h: resolution breach, no second escalation
	runJobs(t, s)
	runJobs(t, s)
	wantEvents(t, s, running, 2, 2, 1)
	wantEvents(t, s, answered, 1, 1, 1)
	wantEvents(t, s, paused, 0, 0, 0)
	tk, err := s.App.Ticket.Store().GetTicket(context.Background(), running)
	if err != nil {
		t.Fatal(err)
	}
	if tk.ResponseWarnedAt.IsZero() || tk.ResponseBreachedAt.IsZero() || tk.ResolveWarnedAt.IsZero() ||
		tk.ResolveBreachedAt.IsZero() || tk.EscalatedAt.IsZero() {
		t.Errorf("stamps: %+v", tk)
	}

	// The paused request resumes 48.5 h later: its due times move by the stop.
	before, err := s.App.Ticket.Store().GetTicket(context.Background(), paused)
	if err != nil {
		t.Fatal(err)
	}
	if before.SLAPausedAt.IsZero() {
		t.Fatal("waiting request not paused")
	}
	if r := c.Do(t, "POST", path(paused, "transition"), map[string]any{"status": "in_progress"}); r.Status != 200 {
		t.Fatalf("resume: %d %s", r.Status, r.Body)
	}
	after, err := s.App.Ticket.Store().GetTicket(context.Background(), paused)
	if err != nil {
		t.Fatal(err)
	}
	stop := after.UpdatedAt.Sub(before.SLAPausedAt)
	if !after.SLAPausedAt.IsZero() || after.SLAPaused != stop || !after.ResolveDueAt.Equal(before.ResolveDueAt.Add(stop)) ||
		!after.ResponseDueAt.Equal(before.ResponseDueAt.Add(stop)) {
		t.Errorf("resume: paused %v (stop %v), response %v -> %v, resolve %v -> %v", after.SLAPaused, stop,
			before.ResponseDueAt, after.ResponseDueAt, before.ResolveDueAt, after.ResolveDueAt)
	}
	runJobs(t, s)
	wantEvents(t, s, paused, 0, 0, 0)

	// Resolving sets the confirmation due time (24 h).
	if r := c.Do(t, "POST", path(running, "transition"), map[string]any{"status": "resolved"}); r.Status != 200 {
		t.Fatalf("resolve: %d %s", r.Status, r.Body)
	}
	tk, err = s.App.Ticket.Store().GetTicket(context.Background(), running)
	if err != nil {
		t.Fatal(err)
	}
	if !tk.ConfirmDueAt.Equal(tk.ResolvedAt.Add(24 * time.Hour)) {
		t.Errorf("confirm due %v, resolved %v", tk.ConfirmDueAt, tk.ResolvedAt)
	}
}

// TestSLAExactlyOnceTwoRunners: two job runners (two nodes, different NodeIDs) on the
// same database run concurrently while the clock passes every due time; each warning
// and breach is recorded once and each request escalated once. It runs on SQLite and
// on PostgreSQL (KEFU_TEST_DB=postgres).
func TestSLAExactlyOnceTwoRunners(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sup := s.Staff(t, "sla_sup2", "supervisor", "sla2")
	c := s.As(t, "admin")
	cust := newCustomer(t, s, "韩梅梅", "regular", "B")
	in := input(cust.ID)
	in.DeptID, in.Reason = sup.DeptID, "SLA test department"
	const n = 12
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = idOf(createAPI(t, c, in))
	}
	a := s.App
	var runners []*jobs.Runner
	for _, node := range []string{"node-a", "node-b"} {
		r := jobs.New(jobs.Options{DB: a.DB, Clock: s.Clock, NodeID: node, PollInterval: 5 * time.Millisecond,
			Concurrency: 4, Lease: 10 * time.Second})
		if _, err := ticket.New(ticket.Deps{DB: a.DB, Audit: a.Audit, Clock: s.Clock, Events: a.Events, Jobs: r,
			Customers: a.Customer, Staff: a.Org, Calendars: a.Calendars}); err != nil {
			t.Fatal(err)
		}
		runners = append(runners, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	all := func(cond string) bool {
		return count(t, s, `SELECT COUNT(*) FROM tickets WHERE `+cond) == n &&
			count(t, s, `SELECT COUNT(*) FROM jobs WHERE kind = ? AND status IN ('queued', 'running', 'failed')`, ticket.JobSLACheck) == 0
	}
	// Walk the clock into each window (default policy: warn 4 h ahead of 24 h and 48 h)
	// and let both nodes scan, minute after minute, until the window's stamps are set.
	steps := []struct {
		advance time.Duration
		cond    string
	}{
		{20*time.Hour + 30*time.Minute, "response_warned_at > 0"},
		{4 * time.Hour, "response_breached_at > 0 AND escalated_at > 0"},
		{21 * time.Hour, "resolve_warned_at > 0"},
		{3 * time.Hour, "resolve_breached_at > 0"},
	}
	for _, st := range steps {
		s.Clock.Advance(st.advance)
		deadline := time.Now().Add(20 * time.Second)
		for !all(st.cond) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			s.Clock.Advance(time.Minute)
		}
		if !all(st.cond) {
			cancel()
			wg.Wait()
			t.Fatalf("not every request has %s in time", st.cond)
		}
	}
	cancel()
	wg.Wait()
	for _, id := range ids {
		wantEvents(t, s, id, 2, 2, 1)
	}
	// Both nodes took part.
	nodes := count(t, s, `SELECT COUNT(DISTINCT locked_by) FROM jobs WHERE kind IN (?, ?)`, ticket.JobSLACheck, ticket.JobSLAScan)
	if nodes < 1 {
		t.Errorf("jobs ran on %d nodes", nodes)
	}
	t.Logf("SLA jobs ran on %d nodes", nodes)
}
