package ticket

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// ======================= pure rules =======================

func cands(spec ...any) []assignCand {
	var out []assignCand
	for i := 0; i+1 < len(spec); i += 2 {
		out = append(out, assignCand{ID: int64(spec[i].(int)), Load: spec[i+1].(int), Availability: AvailOnline})
	}
	return out
}

func TestPickRoundRobin(t *testing.T) {
	cs := cands(3, 0, 5, 0, 9, 0)
	for _, tc := range []struct {
		last int64
		want int64
	}{{0, 3}, {3, 5}, {4, 5}, {5, 9}, {9, 3}, {100, 3}} {
		got, ok := pickRoundRobin(cs, tc.last)
		if !ok || got.ID != tc.want {
			t.Errorf("after %d: got %d, want %d", tc.last, got.ID, tc.want)
		}
	}
	if _, ok := pickRoundRobin(nil, 0); ok {
		t.Error("picked from nobody")
	}
}

func TestPickLeastLoaded(t *testing.T) {
	for _, tc := range []struct {
		name string
		cs   []assignCand
		want int64
	}{
		{"fewest", cands(1, 4, 2, 1, 3, 2), 2},
		{"tie by id", cands(7, 1, 4, 1, 9, 1), 4},
		{"single", cands(5, 10), 5},
	} {
		got, ok := pickLeastLoaded(tc.cs)
		if !ok || got.ID != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got.ID, tc.want)
		}
	}
}

func TestPickBySkill(t *testing.T) {
	cs := cands(1, 0, 2, 5, 3, 3)
	cs[1].Skills = []string{"Billing"}
	cs[2].Skills = []string{"billing", "complaint"}
	for _, tc := range []struct {
		name  string
		skill string
		typ   Type
		want  int64
	}{
		{"category skill, least loaded of the skilled", "billing", TypeInquiry, 3},
		{"type as skill", "", TypeComplaint, 3},
		{"nobody skilled: least loaded of all", "gas", TypeInquiry, 1},
	} {
		got, ok := pickBySkill(cs, tc.skill, tc.typ)
		if !ok || got.ID != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got.ID, tc.want)
		}
	}
}

func TestAssignable(t *testing.T) {
	cs := []assignCand{
		{ID: 1, Availability: AvailOnline, Cap: 2, Load: 2},  // at cap
		{ID: 2, Availability: AvailAway},                     // away
		{ID: 3, Availability: AvailOffline, Cap: 3, Load: 1}, // offline, under cap
		{ID: 4, Availability: AvailOnline, Load: 99},         // no cap
	}
	ids := func(cs []assignCand) (out []int64) {
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	if got := ids(assignable(cs, true)); !slices.Equal(got, []int64{4}) {
		t.Errorf("online only: %v", got)
	}
	if got := ids(assignable(cs, false)); !slices.Equal(got, []int64{2, 3, 4}) {
		t.Errorf("any availability: %v", got)
	}
}

func TestTechFaultLevel(t *testing.T) {
	for _, tc := range []struct {
		skills []string
		want   int
	}{
		{nil, 0},
		{[]string{"technician"}, 0},
		{[]string{"technician", "fault:2"}, 2},
		{[]string{"fault:1", "FAULT:3", "fault:x"}, 3},
		{[]string{"fault:-4", "fault: 2 "}, 2},
	} {
		if got := techFaultLevel(tc.skills); got != tc.want {
			t.Errorf("%v: got %d, want %d", tc.skills, got, tc.want)
		}
	}
}

func FuzzTechFaultLevel(f *testing.F) {
	for _, s := range []string{"fault:1", "fault:99999999999999999999", "fault:", "FAULT:-1", "technician"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := techFaultLevel([]string{s}); n < 0 {
			t.Fatalf("negative level %d for %q", n, s)
		}
	})
}

func TestInList(t *testing.T) {
	for n, want := range map[int]int{1: 4, 4: 4, 5: 8, 17: 32} {
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = int64(i + 1)
		}
		ph, args := inList(ids)
		if len(args) != want || len(ph) != want*3-2 {
			t.Errorf("%d ids: %d args, placeholders %q", n, len(args), ph)
		}
	}
}

// ======================= with a database =======================

type asgEnv struct {
	t   testing.TB
	db  *db.DB
	s   *Service
	org *org.Service
	clk *clock.Fake
	sys context.Context
	n   int
}

// Roles of the tests, independent of the built-in defaults.
const (
	roleAgent  = "t_agent"  // team scope: read, write
	roleSuper  = "t_super"  // department scope: read, write, assign
	roleViewer = "t_viewer" // team scope: read only (not an agent)
)

func newAsgEnv(t testing.TB) *asgEnv {
	t.Helper()
	d := dbtest.New(t)
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	au := audit.New(audit.Options{DB: d, Clock: clk})
	o := org.New(org.Deps{DB: d, Audit: au, Clock: clk})
	s, err := New(Deps{DB: d, Audit: au, Clock: clk, Staff: o})
	if err != nil {
		t.Fatal(err)
	}
	e := &asgEnv{t: t, db: d, s: s, org: o, clk: clk, sys: authz.WithActor(context.Background(), authz.System("test"))}
	for _, r := range []struct {
		code  string
		scope authz.Scope
		perms []string
	}{
		{roleAgent, authz.ScopeTeam, []string{PermRead, PermWrite}},
		{roleSuper, authz.ScopeDept, []string{PermRead, PermWrite, PermAssign}},
		{roleViewer, authz.ScopeTeam, []string{PermRead}},
	} {
		js, _ := json.Marshal(r.perms)
		if _, err := d.Exec(context.Background(), `INSERT INTO roles (code, name, description, scope, permissions, builtin, created_at, updated_at)
			VALUES (?, ?, '', ?, ?, 0, 0, 0)`, r.code, r.code, string(r.scope), string(js)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *asgEnv) dept(code string) int64 {
	e.t.Helper()
	d, err := e.org.CreateDepartment(e.sys, org.DepartmentInput{Code: code, Name: "Dept " + code})
	if err != nil {
		e.t.Fatal(err)
	}
	return d.ID
}

func (e *asgEnv) team(dept int64, name string) int64 {
	e.t.Helper()
	tm, err := e.org.CreateTeam(e.sys, org.TeamInput{DeptID: dept, Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return tm.ID
}

// staff creates a staff member; online puts them online at once.
func (e *asgEnv) staff(name string, dept, team int64, role string, online bool, skills ...string) int64 {
	e.t.Helper()
	st, err := e.org.CreateStaff(e.sys, org.StaffInput{Username: name, DisplayName: "N " + name, DeptID: dept, TeamID: team,
		Roles: []string{role}, Skills: skills})
	if err != nil {
		e.t.Fatalf("staff %s: %v", name, err)
	}
	if online {
		e.presence(st.ID, AvailOnline, -1)
	}
	return st.ID
}

// presence sets availability and (cap >= 0) the cap of staff id.
func (e *asgEnv) presence(id int64, a Availability, cap int) {
	e.t.Helper()
	in := PresenceInput{Availability: &a}
	if cap >= 0 {
		in.Cap = &cap
	}
	if _, err := e.s.SetPresence(e.sys, id, in); err != nil {
		e.t.Fatalf("presence %d: %v", id, err)
	}
}

func (e *asgEnv) rule(team int64, s Strategy, cap int, respect bool) {
	e.t.Helper()
	if _, err := e.s.SetTeamRule(e.sys, team, TeamRuleInput{Strategy: s, DefaultCap: cap, RespectAvailability: &respect}); err != nil {
		e.t.Fatalf("rule: %v", err)
	}
}

// create makes a request (inquiry unless in says otherwise) as the system.
func (e *asgEnv) create(in Input) Ticket {
	e.t.Helper()
	e.n++
	if in.Type == "" {
		in.Type = TypeInquiry
	}
	if in.Type == TypeRepair && in.FaultLevel == 0 {
		in.FaultLevel = 1
	}
	in.Channel, in.Severity, in.Title = ChannelPhone, SeverityGeneral, fmt.Sprintf("request %d", e.n)
	t, err := e.s.CreateTicket(e.sys, in)
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	return t
}

// spread creates n requests in dept/team and counts them per assignee (0 = unassigned).
func (e *asgEnv) spread(n int, in Input) map[int64]int {
	e.t.Helper()
	got := map[int64]int{}
	for range n {
		got[e.create(in).AssigneeID]++
	}
	return got
}

// load gives staff id n open requests outside any team with a rule.
func (e *asgEnv) load(id int64, dept int64, n int) {
	e.t.Helper()
	for range n {
		tk := e.create(Input{DeptID: dept})
		if _, err := e.db.Exec(context.Background(), `UPDATE tickets SET assignee_id = ? WHERE id = ?`, id, tk.ID); err != nil {
			e.t.Fatal(err)
		}
	}
}

// as is a context acting as staff member id with perms at scope.
func (e *asgEnv) as(id int64, scope authz.Scope, perms ...string) context.Context {
	e.t.Helper()
	st, err := e.org.GetStaff(e.sys, id)
	if err != nil {
		e.t.Fatal(err)
	}
	a := &authz.Actor{ID: st.ID, Kind: authz.KindStaff, Username: st.Username, DisplayName: st.DisplayName,
		DeptID: st.DeptID, TeamID: st.TeamID}
	for _, p := range perms {
		a.Grant(p, scope)
	}
	return authz.WithActor(context.Background(), a)
}

func (e *asgEnv) events(id int64, kind EventKind) []Event {
	e.t.Helper()
	evs, err := e.s.Events(e.sys, id, 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return slices.DeleteFunc(evs, func(ev Event) bool { return ev.Kind != kind })
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.Invalid || ae.Fields[field].Key == "" {
		t.Fatalf("want a validation error naming %q, got %v", field, err)
	}
}

func wantKind(t *testing.T, err error, k apperr.Kind) {
	t.Helper()
	if apperr.KindOf(err) != k || err == nil {
		t.Fatalf("want error kind %d, got %v", k, err)
	}
}

func TestRoundRobinIsFair(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d := e.dept("cs")
	tm := e.team(d, "hotline")
	a1 := e.staff("rr_a", d, tm, roleAgent, true)
	a2 := e.staff("rr_b", d, tm, roleAgent, true)
	a3 := e.staff("rr_c", d, tm, roleAgent, true)
	e.staff("rr_viewer", d, tm, roleViewer, true) // not an agent: never assigned
	e.rule(tm, StrategyRoundRobin, 0, true)

	got := e.spread(30, Input{DeptID: d}) // the team is found through the department's rule
	if got[a1] != 10 || got[a2] != 10 || got[a3] != 10 || len(got) != 3 {
		t.Fatalf("30 requests over 3 agents: %v", got)
	}
	more := e.spread(4, Input{DeptID: d, TeamID: tm})
	for id, n := range more {
		got[id] += n
	}
	lo, hi := 1<<30, 0
	for _, id := range []int64{a1, a2, a3} {
		lo, hi = min(lo, got[id]), max(hi, got[id])
	}
	if hi-lo > 1 {
		t.Fatalf("34 requests: counts differ by more than one: %v", got)
	}
	r, err := e.s.TeamRule(e.sys, tm)
	if err != nil || r.LastAssigneeID == 0 {
		t.Fatalf("round-robin pointer not kept: %+v %v", r, err)
	}
}

// TestRoundRobinConcurrent creates requests from many goroutines: the rule row is the
// point of serialisation (locked on PostgreSQL, one writer on SQLite), so the spread
// stays exact.
func TestRoundRobinConcurrent(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d := e.dept("cs")
	tm := e.team(d, "hotline")
	ids := []int64{e.staff("cc_a", d, tm, roleAgent, true), e.staff("cc_b", d, tm, roleAgent, true),
		e.staff("cc_c", d, tm, roleAgent, true)}
	e.rule(tm, StrategyRoundRobin, 0, true)
	const n = 30
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.s.CreateTicket(e.sys, Input{Type: TypeInquiry, Channel: ChannelPhone, Severity: SeverityGeneral,
				Title: fmt.Sprintf("parallel %d", i), TeamID: tm})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	loads, err := e.s.store.openLoads(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if loads[id] != n/3 {
			t.Fatalf("concurrent round robin: %v", loads)
		}
	}
}

func TestCapsAreRespected(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d := e.dept("cs")
	tm := e.team(d, "hotline")
	a1 := e.staff("cap_a", d, tm, roleAgent, true)
	a2 := e.staff("cap_b", d, tm, roleAgent, true)
	a3 := e.staff("cap_c", d, tm, roleAgent, true)
	e.presence(a3, AvailOnline, 1) // personal cap below the team default
	e.rule(tm, StrategyRoundRobin, 2, true)

	got := e.spread(5, Input{TeamID: tm})
	if got[a1] != 2 || got[a2] != 2 || got[a3] != 1 {
		t.Fatalf("caps 2/2/1: %v", got)
	}
	tk := e.create(Input{TeamID: tm}) // everyone at cap
	if tk.AssigneeID != 0 || tk.TeamID != tm {
		t.Fatalf("all at cap: assigned to %d (team %d), want unassigned in team %d", tk.AssigneeID, tk.TeamID, tm)
	}
	if n := len(e.events(tk.ID, EventAssign)); n != 0 {
		t.Fatalf("unassigned request has %d assign events", n)
	}
	// Resolving one of a2's requests frees a slot; the backlog job fills it.
	var a2Ticket int64
	if err := e.db.QueryRow(context.Background(), `SELECT id FROM tickets WHERE assignee_id = ? ORDER BY id LIMIT 1`, a2).Scan(&a2Ticket); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Transition(e.sys, a2Ticket, StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	n, err := e.s.AssignBacklog(e.sys)
	if err != nil || n != 1 {
		t.Fatalf("backlog assigned %d (%v), want 1", n, err)
	}
	after, err := e.s.store.GetTicket(context.Background(), tk.ID)
	if err != nil || after.AssigneeID != a2 {
		t.Fatalf("backlog gave the request to %d (%v), want %d", after.AssigneeID, err, a2)
	}
	// force overrides the cap of an explicit assignment.
	sup := e.staff("cap_sup", d, 0, roleSuper, false)
	ctx := e.as(sup, authz.ScopeDept, PermRead, PermWrite, PermAssign)
	extra := e.create(Input{DeptID: d})
	_, err = e.s.Assign(ctx, extra.ID, AssignInput{AssigneeID: &a1})
	wantField(t, err, "assignee_id")
	if got, err := e.s.Assign(ctx, extra.ID, AssignInput{AssigneeID: &a1, Force: true}); err != nil || got.AssigneeID != a1 {
		t.Fatalf("forced assignment: %v %v", got.AssigneeID, err)
	}
}

func TestAvailabilityIsRespected(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d := e.dept("cs")
	tm := e.team(d, "hotline")
	on := e.staff("av_on", d, tm, roleAgent, true)
	away := e.staff("av_away", d, tm, roleAgent, false)
	off := e.staff("av_off", d, tm, roleAgent, false)
	e.staff("av_none", d, tm, roleAgent, false) // no presence at all: offline
	e.presence(away, AvailAway, -1)
	e.presence(off, AvailOffline, -1)
	e.rule(tm, StrategyLeastLoaded, 0, true)
	if got := e.spread(4, Input{TeamID: tm}); got[on] != 4 {
		t.Fatalf("only the online agent may receive work: %v", got)
	}
	e.presence(on, AvailAway, -1)
	if tk := e.create(Input{TeamID: tm}); tk.AssigneeID != 0 {
		t.Fatalf("nobody online, yet assigned to %d", tk.AssigneeID)
	}
	e.rule(tm, StrategyLeastLoaded, 0, false) // availability ignored
	if tk := e.create(Input{TeamID: tm}); tk.AssigneeID == 0 || tk.AssigneeID == on {
		t.Fatalf("availability ignored: got %d, want one of the idle agents", tk.AssigneeID)
	}
}

func TestLeastLoaded(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d := e.dept("cs")
	other := e.dept("other")
	tm := e.team(d, "hotline")
	a := e.staff("ll_a", d, tm, roleAgent, true)
	b := e.staff("ll_b", d, tm, roleAgent, true)
	c := e.staff("ll_c", d, tm, roleAgent, true)
	e.load(a, other, 3)
	e.load(b, other, 1)
	e.load(c, other, 1)
	e.rule(tm, StrategyLeastLoaded, 0, true)
	var seq []int64
	for range 5 {
		seq = append(seq, e.create(Input{TeamID: tm}).AssigneeID)
	}
	// loads a3 b1 c1 -> b (tie, lower id), c, then b, c (b2 c2 a3 -> b3 c3 a3 -> a)
	if want := []int64{b, c, b, c, a}; !slices.Equal(seq, want) {
		t.Fatalf("least loaded order %v, want %v", seq, want)
	}
	agents, err := e.s.ListAgents(e.sys, AgentFilter{TeamID: tm})
	if err != nil {
		t.Fatal(err)
	}
	loads := map[int64]int{}
	for _, ag := range agents.Items {
		loads[ag.ID] = ag.OpenLoad
	}
	if loads[a] != 4 || loads[b] != 3 || loads[c] != 3 {
		t.Fatalf("agent list loads %v", loads)
	}
}

func TestSkillRouting(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d := e.dept("cs")
	tm := e.team(d, "hotline")
	plain := e.staff("sk_plain", d, tm, roleAgent, true)
	billing := e.staff("sk_billing", d, tm, roleAgent, true, "billing")
	billing2 := e.staff("sk_billing2", d, tm, roleAgent, true, "billing", "complaint")
	e.rule(tm, StrategySkill, 0, true)
	c, err := e.s.CreateCategory(e.sys, CategoryInput{Name: "Billing", Skill: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	cat := c.ID
	got := e.spread(4, Input{TeamID: tm, CategoryID: cat})
	if got[billing] != 2 || got[billing2] != 2 || got[plain] != 0 {
		t.Fatalf("billing requests: %v", got)
	}
	if tk := e.create(Input{TeamID: tm, Type: TypeComplaint}); tk.AssigneeID != billing2 {
		t.Fatalf("complaint went to %d, want the agent with the complaint skill %d", tk.AssigneeID, billing2)
	}
	if tk := e.create(Input{TeamID: tm}); tk.AssigneeID != plain {
		t.Fatalf("a request without a skill goes to the least loaded (%d), got %d", plain, tk.AssigneeID)
	}
}

func TestRepairDispatchByFaultLevel(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d := e.dept("svc")
	desk := e.team(d, "desk")
	field := e.team(d, "field")
	e.staff("rp_desk", d, desk, roleAgent, true)
	t1 := e.staff("rp_t1", d, field, roleAgent, true, SkillTechnician, "fault:1")
	t3 := e.staff("rp_t3", d, field, roleAgent, true, SkillTechnician, "fault:3")
	t3off := e.staff("rp_t3off", d, field, roleAgent, false, SkillTechnician, "fault:3")
	e.rule(desk, StrategyRoundRobin, 0, true)

	tk := e.create(Input{DeptID: d, Type: TypeRepair, FaultLevel: 3})
	if tk.AssigneeID != t3 || tk.TeamID != field {
		t.Fatalf("fault 3 went to %d in team %d, want %d in %d", tk.AssigneeID, tk.TeamID, t3, field)
	}
	if evs := e.s.assignEvents(&tk); len(evs) != 1 || evs[0].Kind != EventDispatch || evs[0].Data["fault_level"] != 3 {
		t.Fatalf("create events %+v, want one dispatch", evs)
	}
	if got := e.create(Input{DeptID: d, Type: TypeRepair, FaultLevel: 1}); got.AssigneeID != t1 {
		t.Fatalf("fault 1 went to %d, want the less loaded %d", got.AssigneeID, t1)
	}
	e.presence(t3, AvailAway, -1)
	if got := e.create(Input{DeptID: d, Type: TypeRepair, FaultLevel: 2}); got.AssigneeID != 0 {
		t.Fatalf("fault 2 with no able technician online went to %d", got.AssigneeID)
	}

	// Without an automatic rule nothing is dispatched by itself.
	d2 := e.dept("svc2")
	e.staff("rp_t2", d2, e.team(d2, "field2"), roleAgent, true, SkillTechnician, "fault:3")
	if got := e.create(Input{DeptID: d2, Type: TypeRepair, FaultLevel: 1}); got.AssigneeID != 0 {
		t.Fatalf("repair in a department without rules went to %d", got.AssigneeID)
	}

	// The dispatch action: picks by itself, refuses other types and weak technicians.
	sup := e.staff("rp_sup", d, 0, roleSuper, false)
	ctx := e.as(sup, authz.ScopeDept, PermRead, PermWrite, PermAssign)
	waiting := e.create(Input{DeptID: d, Type: TypeRepair, FaultLevel: 3})
	_, err := e.s.Dispatch(ctx, waiting.ID, DispatchInput{})
	wantKind(t, err, apperr.Conflict) // nobody online for level 3
	_, err = e.s.Dispatch(ctx, waiting.ID, DispatchInput{TechnicianID: t1})
	wantField(t, err, "technician_id")
	got, err := e.s.Dispatch(ctx, waiting.ID, DispatchInput{TechnicianID: t3off, Reason: "on call"})
	if err != nil || got.AssigneeID != t3off {
		t.Fatalf("explicit dispatch: %d %v", got.AssigneeID, err)
	}
	evs := e.events(waiting.ID, EventDispatch)
	if len(evs) != 1 || evs[0].Body != "on call" || fmt.Sprint(evs[0].Data["technician"]) != fmt.Sprint(t3off) {
		t.Fatalf("dispatch timeline %+v", evs)
	}
	e.presence(t3, AvailOnline, -1)
	again := e.create(Input{DeptID: d, Type: TypeRepair, FaultLevel: 3})
	if _, err := e.s.Assign(ctx, again.ID, AssignInput{AssigneeID: new(int64)}); err != nil { // back to the queue
		t.Fatal(err)
	}
	if got, err := e.s.Dispatch(ctx, again.ID, DispatchInput{}); err != nil || got.AssigneeID != t3 {
		t.Fatalf("automatic dispatch: %d %v", got.AssigneeID, err)
	}
	inq := e.create(Input{DeptID: d})
	_, err = e.s.Dispatch(ctx, inq.ID, DispatchInput{})
	wantKind(t, err, apperr.Conflict)
}

func TestTransfer(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d1 := e.dept("cs")
	d2 := e.dept("billing")
	t2 := e.team(d2, "refunds")
	sup := e.staff("tr_sup", d1, 0, roleSuper, false)
	ag := e.staff("tr_ag", d1, 0, roleAgent, true)
	b1 := e.staff("tr_b1", d2, t2, roleAgent, true)
	e.rule(t2, StrategyRoundRobin, 0, true)
	ctx := e.as(sup, authz.ScopeDept, PermRead, PermWrite, PermAssign)
	tk := e.create(Input{DeptID: d1})
	if _, err := e.s.Assign(ctx, tk.ID, AssignInput{AssigneeID: &ag}); err != nil {
		t.Fatal(err)
	}

	_, err := e.s.Transfer(ctx, tk.ID, TransferInput{DeptID: d2})
	wantField(t, err, "reason")
	_, err = e.s.Transfer(ctx, tk.ID, TransferInput{DeptID: d1, Reason: "x"})
	wantField(t, err, "dept_id")
	_, err = e.s.Transfer(ctx, tk.ID, TransferInput{DeptID: 99999, Reason: "x"})
	wantField(t, err, "dept_id")

	got, err := e.s.Transfer(ctx, tk.ID, TransferInput{DeptID: d2, Reason: "refund question"})
	if err != nil {
		t.Fatal(err)
	}
	if got.DeptID != d2 || got.TeamID != t2 || got.AssigneeID != b1 {
		t.Fatalf("transferred to dept %d team %d agent %d, want %d %d %d", got.DeptID, got.TeamID, got.AssigneeID, d2, t2, b1)
	}
	evs := e.events(tk.ID, EventTransfer)
	if len(evs) != 1 || evs[0].Body != "refund question" || evs[0].Data["reason"] != "refund question" || evs[0].ActorID != sup {
		t.Fatalf("transfer timeline %+v", evs)
	}
	// The supervisor of cs no longer reaches the request.
	_, err = e.s.Transfer(ctx, tk.ID, TransferInput{DeptID: d1, Reason: "back"})
	wantKind(t, err, apperr.NotFound)
}

func TestAssignChecks(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d1 := e.dept("cs")
	d2 := e.dept("ops")
	t1 := e.team(d1, "hotline")
	sup := e.staff("as_sup", d1, 0, roleSuper, false)
	ok1 := e.staff("as_ok", d1, t1, roleAgent, true)
	gone := e.staff("as_gone", d1, t1, roleAgent, true)
	viewer := e.staff("as_view", d1, t1, roleViewer, true)
	outside := e.staff("as_out", d2, 0, roleAgent, true)
	if _, err := e.org.UpdateStaff(e.sys, gone, org.StaffPatch{Status: ptr(org.StatusDisabled)}); err != nil {
		t.Fatal(err)
	}
	ctx := e.as(sup, authz.ScopeDept, PermRead, PermWrite, PermAssign)
	tk := e.create(Input{DeptID: d1})

	for _, tc := range []struct {
		name  string
		in    AssignInput
		field string
	}{
		{"nothing", AssignInput{}, "assignee_id"},
		{"inactive", AssignInput{AssigneeID: &gone}, "assignee_id"},
		{"outside the department", AssignInput{AssigneeID: &outside}, "assignee_id"},
		{"not an agent", AssignInput{AssigneeID: &viewer}, "assignee_id"},
		{"unknown", AssignInput{AssigneeID: ptr(int64(424242))}, "assignee_id"},
		{"unknown team", AssignInput{TeamID: ptr(int64(424242))}, "team_id"},
		{"long reason", AssignInput{AssigneeID: &ok1, Reason: string(make([]rune, maxAssignReason+1))}, "reason"},
	} {
		_, err := e.s.Assign(ctx, tk.ID, tc.in)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		ae, _ := apperr.As(err)
		if ae == nil || ae.Kind != apperr.Invalid || ae.Fields[tc.field].Key == "" {
			t.Errorf("%s: %v, want a validation error naming %s", tc.name, err, tc.field)
		}
	}
	got, err := e.s.Assign(ctx, tk.ID, AssignInput{AssigneeID: &ok1, Reason: "knows the customer"})
	if err != nil || got.AssigneeID != ok1 || got.TeamID != t1 {
		t.Fatalf("assign: %+v %v", got, err)
	}
	evs := e.events(tk.ID, EventAssign)
	if len(evs) != 1 || evs[0].Body != "knows the customer" || evs[0].Data["strategy"] != "manual" {
		t.Fatalf("assign timeline %+v", evs)
	}
	// An agent (team scope, no ticket:assign) cannot assign at all.
	_, err = e.s.Assign(e.as(ok1, authz.ScopeTeam, PermRead, PermWrite), tk.ID, AssignInput{AssigneeID: &ok1})
	wantKind(t, err, apperr.Forbidden)
	// A supervisor of another department does not see the request.
	sup2 := e.staff("as_sup2", d2, 0, roleSuper, false)
	_, err = e.s.Assign(e.as(sup2, authz.ScopeDept, PermRead, PermWrite, PermAssign), tk.ID, AssignInput{AssigneeID: &outside})
	wantKind(t, err, apperr.NotFound)
	// Closed requests are not assigned.
	if _, err := e.s.Transition(e.sys, tk.ID, StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Assign(ctx, tk.ID, AssignInput{AssigneeID: &ok1})
	wantKind(t, err, apperr.Conflict)
}

func TestAssignToTeamUsesItsRule(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d := e.dept("cs")
	t1 := e.team(d, "first")
	t2 := e.team(d, "second")
	a2 := e.staff("tt_a2", d, t2, roleAgent, true)
	e.rule(t2, StrategyLeastLoaded, 0, true)
	tk := e.create(Input{TeamID: t1})
	got, err := e.s.Assign(e.sys, tk.ID, AssignInput{TeamID: &t2})
	if err != nil || got.TeamID != t2 || got.AssigneeID != a2 {
		t.Fatalf("assign to team: %+v %v", got, err)
	}
	other := e.team(e.dept("x"), "other")
	_, err = e.s.Assign(e.sys, tk.ID, AssignInput{TeamID: &other})
	wantField(t, err, "team_id")
}

func TestTake(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d := e.dept("cs")
	tm := e.team(d, "hotline")
	tm2 := e.team(d, "other")
	ag := e.staff("tk_ag", d, tm, roleAgent, true)
	ag2 := e.staff("tk_ag2", d, tm, roleAgent, true)
	stranger := e.staff("tk_str", d, tm2, roleAgent, true)
	tk := e.create(Input{TeamID: tm})
	ctx := e.as(ag, authz.ScopeTeam, PermRead, PermWrite)
	got, err := e.s.Take(ctx, tk.ID)
	if err != nil || got.AssigneeID != ag {
		t.Fatalf("take: %+v %v", got, err)
	}
	_, err = e.s.Take(e.as(ag2, authz.ScopeTeam, PermRead, PermWrite), tk.ID)
	wantKind(t, err, apperr.Conflict)
	other := e.create(Input{TeamID: tm})
	_, err = e.s.Take(e.as(stranger, authz.ScopeTeam, PermRead, PermWrite), other.ID)
	wantKind(t, err, apperr.NotFound)
	if evs := e.events(tk.ID, EventAssign); len(evs) != 1 || evs[0].Data["strategy"] != assignedByTake {
		t.Fatalf("take timeline %+v", evs)
	}
	e.presence(ag2, AvailOnline, 1)
	e.load(ag2, d, 1)
	_, err = e.s.Take(e.as(ag2, authz.ScopeTeam, PermRead, PermWrite), other.ID)
	wantKind(t, err, apperr.Conflict) // at own cap
}

func TestPresenceAndRules(t *testing.T) {
	t.Parallel()
	e := newAsgEnv(t)
	d1 := e.dept("cs")
	d2 := e.dept("ops")
	t1 := e.team(d1, "hotline")
	ag := e.staff("pr_ag", d1, t1, roleAgent, false)
	far := e.staff("pr_far", d2, 0, roleAgent, false)
	sup := e.staff("pr_sup", d1, 0, roleSuper, false)

	me, err := e.s.SetMyPresence(e.as(ag, authz.ScopeTeam, PermRead, PermWrite), AvailOnline)
	if err != nil || me.Availability != AvailOnline || me.ID != ag {
		t.Fatalf("own presence: %+v %v", me, err)
	}
	_, err = e.s.SetMyPresence(e.as(ag, authz.ScopeTeam, PermRead, PermWrite), "busy")
	wantField(t, err, "availability")
	_, err = e.s.SetMyPresence(e.as(ag, authz.ScopeTeam, PermRead), AvailOnline)
	wantKind(t, err, apperr.Forbidden)

	sctx := e.as(sup, authz.ScopeDept, PermRead, PermWrite, PermAssign)
	capped, err := e.s.SetPresence(sctx, ag, PresenceInput{Cap: ptr(3)})
	if err != nil || capped.OwnCap != 3 || capped.Cap != 3 || capped.Availability != AvailOnline {
		t.Fatalf("cap: %+v %v", capped, err)
	}
	_, err = e.s.SetPresence(sctx, ag, PresenceInput{Cap: ptr(-1)})
	wantField(t, err, "cap")
	_, err = e.s.SetPresence(sctx, far, PresenceInput{Availability: ptr(AvailAway)})
	wantKind(t, err, apperr.NotFound) // outside the supervisor's department

	list, err := e.s.ListAgents(sctx, AgentFilter{})
	if err != nil || len(list.Items) != 2 { // ag and the supervisor (who holds ticket:write)
		t.Fatalf("agents in cs: %+v %v", list.Items, err)
	}
	onlyMe, err := e.s.ListAgents(e.as(far, authz.ScopeTeam, PermRead, PermWrite), AgentFilter{})
	if err != nil || len(onlyMe.Items) != 1 || onlyMe.Items[0].ID != far {
		t.Fatalf("agent without a team sees only themselves: %+v %v", onlyMe.Items, err)
	}
	_, err = e.s.ListAgents(sctx, AgentFilter{Availability: "busy"})
	wantField(t, err, "availability")

	r, err := e.s.TeamRule(e.sys, t1)
	if err != nil || r.Strategy != StrategyManual || r.Configured {
		t.Fatalf("default rule %+v %v", r, err)
	}
	_, err = e.s.SetTeamRule(e.sys, t1, TeamRuleInput{Strategy: "random"})
	wantField(t, err, "strategy")
	_, err = e.s.SetTeamRule(e.sys, t1, TeamRuleInput{Strategy: StrategySkill, DefaultCap: -2})
	wantField(t, err, "default_cap")
	_, err = e.s.SetTeamRule(sctx, t1, TeamRuleInput{Strategy: StrategySkill})
	wantKind(t, err, apperr.Forbidden) // ticket:manage needed
	r, err = e.s.SetTeamRule(e.sys, t1, TeamRuleInput{Strategy: StrategySkill, DefaultCap: 5})
	if err != nil || !r.RespectAvailability || r.DefaultCap != 5 || !r.Configured {
		t.Fatalf("rule: %+v %v", r, err)
	}
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action IN ('agent.presence', 'ticket.assignment_rule')`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("audit entries: %d %v", n, err)
	}
}

func ptr[T any](v T) *T { return &v }

// BenchmarkCreateAssigned measures request creation with and without an automatic rule
// (10 agents online in the team, no caps).
func BenchmarkCreateAssigned(b *testing.B) {
	for _, strategy := range []Strategy{"", StrategyRoundRobin, StrategyLeastLoaded} {
		name := string(strategy)
		if name == "" {
			name = "no_rule"
		}
		b.Run(name, func(b *testing.B) {
			e := newAsgEnv(b)
			d := e.dept("cs")
			tm := e.team(d, "hotline")
			for i := range 10 {
				e.staff(fmt.Sprintf("bench_%d", i), d, tm, roleAgent, true)
			}
			if strategy != "" {
				e.rule(tm, strategy, 0, true)
			}
			in := Input{Type: TypeInquiry, Channel: ChannelPhone, Severity: SeverityGeneral, Title: "bench", DeptID: d}
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.s.CreateTicket(e.sys, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
