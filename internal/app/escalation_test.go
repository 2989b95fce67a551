package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// escalationEnv is a server with departments cs and qa, the built-in staff, and custom
// roles that each hold one of the org management permissions.
type escalationEnv struct {
	srv                     *apptest.Server
	admin, director         org.Staff
	agentCS, agentQA, supCS org.Staff
	csTeam                  org.Team
}

func newEscalationEnv(t *testing.T) *escalationEnv {
	t.Helper()
	s := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := s.App.Org
	roles := []org.RoleInput{
		// Staff management at every scope, nothing else: it must not touch anyone holding more.
		{Code: "hr", Name: "HR", Scope: authz.ScopeAll, Permissions: []string{"staff:read", "staff:manage"}},
		// The same within its own department.
		// It holds what an agent holds (the built-in defaults, whatever later capabilities add).
		{Code: "depthr", Name: "Dept HR", Scope: authz.ScopeDept, Permissions: append([]string{"staff:read", "staff:manage"},
			builtinPerms("agent")...)},
		{Code: "tokens", Name: "Token desk", Scope: authz.ScopeAll, Permissions: []string{"token:manage", "staff:read"}},
		{Code: "roles", Name: "Role desk", Scope: authz.ScopeDept, Permissions: []string{"role:read", "role:manage", "dept:read"}},
		{Code: "viewer", Name: "Viewer", Scope: authz.ScopeTeam, Permissions: []string{"staff:read"}},
	}
	for _, in := range roles {
		if _, err := o.CreateRole(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	e := &escalationEnv{srv: s}
	e.admin = s.As(t, "admin").Staff
	e.director = s.As(t, "director").Staff
	e.supCS = s.As(t, "supervisor").Staff
	e.agentCS = s.As(t, "agent").Staff
	e.agentQA = s.As(t, "agent@qa").Staff
	var err error
	if e.csTeam, err = o.CreateTeam(ctx, org.TeamInput{DeptID: e.agentCS.DeptID, Name: "Hotline"}); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"hr", "depthr", "tokens", "roles"} {
		s.As(t, spec)
	}
	return e
}

func (e *escalationEnv) as(t *testing.T, spec string) *apptest.Client { return e.srv.As(t, spec) }

// browser signs the staff member of spec in through the sign-in form.
func (e *escalationEnv) browser(t *testing.T, spec string) *apptest.Client {
	t.Helper()
	return e.srv.Browser(t, e.as(t, spec).Staff.Username, apptest.Password)
}

// canSignIn reports whether username signs in with password through the real form.
func (e *escalationEnv) canSignIn(t *testing.T, username, password string) bool {
	t.Helper()
	return canSignIn(t, e.srv, username, password)
}

// canSignIn reports whether username signs in with password through the real sign-in
// form (a browser of its own, with the form's double-submit cookie).
func canSignIn(t testing.TB, s *apptest.Server, username, password string) bool {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(s.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"username": {username}, "password": {password}, "csrf_token": {apptest.HiddenField(page, "csrf_token")}}
	resp, err = hc.PostForm(s.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusSeeOther
}

func (e *escalationEnv) version(t *testing.T, path string) int64 {
	t.Helper()
	r := e.as(t, "admin").Do(t, "GET", path, nil)
	var v struct {
		Version int64 `json:"version"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil || v.Version == 0 {
		t.Fatalf("version of %s: %d %s", path, r.Status, r.Body)
	}
	return v.Version
}

var requestIDRe = regexp.MustCompile(`"request_id":"[^"]*"`)

// sameAnswer checks that two refusals cannot be told apart (but for their request id).
func sameAnswer(t *testing.T, what string, a, b *apptest.Response) {
	t.Helper()
	if a.Status != b.Status || requestIDRe.ReplaceAllString(string(a.Body), "") != requestIDRe.ReplaceAllString(string(b.Body), "") {
		t.Errorf("%s: answers differ:\n%d %s\n%d %s", what, a.Status, a.Body, b.Status, b.Body)
	}
}

func staffPath(id int64) string { return fmt.Sprintf("/api/v1/staff/%d", id) }

// TestNoPasswordResetOfSomeoneHoldingMore: staff:manage alone no longer resets the
// admin's password (and signs in as admin); a department-scoped one does not reset the
// director's; out of scope reads as missing.
func TestNoPasswordResetOfSomeoneHoldingMore(t *testing.T) {
	e := newEscalationEnv(t)
	const stolen = "Stolen-Passw0rd!"
	hr := e.browser(t, "hr")
	r := hr.PostForm(t, fmt.Sprintf("/staff/%d/password", e.admin.ID), url.Values{"password": {stolen}})
	if r.Status != http.StatusForbidden {
		t.Errorf("hr resets the admin's password: %d", r.Status)
	}
	if e.canSignIn(t, e.admin.Username, stolen) {
		t.Fatal("signed in as admin with a password reset by hr")
	}
	depthr := e.browser(t, "depthr")
	r = depthr.PostForm(t, fmt.Sprintf("/staff/%d/password", e.director.ID), url.Values{"password": {stolen}})
	if r.Status != http.StatusForbidden {
		t.Errorf("dept hr resets the director's password: %d", r.Status)
	}
	if e.canSignIn(t, e.director.Username, stolen) {
		t.Fatal("signed in as director with a password reset by dept hr")
	}
	// Out of its department: the same answer as a staff id that does not exist.
	outside := depthr.PostForm(t, fmt.Sprintf("/staff/%d/password", e.agentQA.ID), url.Values{"password": {stolen}})
	missing := depthr.PostForm(t, "/staff/999999/password", url.Values{"password": {stolen}})
	if outside.Status != http.StatusNotFound || missing.Status != http.StatusNotFound {
		t.Errorf("dept hr resets outside its department: %d, missing: %d", outside.Status, missing.Status)
	}
	// Someone it covers: an agent of its own department.
	r = depthr.PostForm(t, fmt.Sprintf("/staff/%d/password", e.agentCS.ID), url.Values{"password": {stolen}})
	if r.Status != http.StatusSeeOther || !e.canSignIn(t, e.agentCS.Username, stolen) {
		t.Fatalf("dept hr resets an agent of its department: %d", r.Status)
	}
}

// TestNoUnlockOutsideScope: unlocking needs the target in scope and covered.
func TestNoUnlockOutsideScope(t *testing.T) {
	e := newEscalationEnv(t)
	unlock := func(id int64) string { return fmt.Sprintf("/api/v1/staff/%d/unlock", id) }
	depthr := e.as(t, "depthr")
	outside := depthr.Do(t, "POST", unlock(e.agentQA.ID), nil)
	missing := depthr.Do(t, "POST", unlock(999999), nil)
	if outside.Status != http.StatusNotFound {
		t.Errorf("dept hr unlocks outside its department: %d %s", outside.Status, outside.Body)
	}
	sameAnswer(t, "unlock out of scope vs missing", outside, missing)
	if r := depthr.Do(t, "POST", unlock(e.director.ID), nil); r.Status != http.StatusForbidden {
		t.Errorf("dept hr unlocks the director: %d %s", r.Status, r.Body)
	}
	if r := e.as(t, "hr").Do(t, "POST", unlock(e.admin.ID), nil); r.Status != http.StatusForbidden {
		t.Errorf("hr unlocks the admin: %d %s", r.Status, r.Body)
	}
	if r := depthr.Do(t, "POST", unlock(e.agentCS.ID), nil); r.Status != http.StatusOK {
		t.Errorf("dept hr unlocks an agent of its department: %d %s", r.Status, r.Body)
	}
	// The page route too.
	b := e.browser(t, "depthr")
	if r := b.PostForm(t, fmt.Sprintf("/staff/%d/unlock", e.agentQA.ID), url.Values{}); r.Status != http.StatusNotFound {
		t.Errorf("page unlock outside the department: %d", r.Status)
	}
	if r := b.PostForm(t, fmt.Sprintf("/staff/%d/unlock", e.director.ID), url.Values{}); r.Status != http.StatusForbidden {
		t.Errorf("page unlock of the director: %d", r.Status)
	}
}

// TestNoEditOfSomeoneHoldingMore: every PATCH field, disabling and the page form need
// the actor to cover the target before and after.
func TestNoEditOfSomeoneHoldingMore(t *testing.T) {
	e := newEscalationEnv(t)
	hr, depthr := e.as(t, "hr"), e.as(t, "depthr")
	adminV := e.version(t, staffPath(e.admin.ID))
	for _, body := range []map[string]any{
		{"display_name": "Owned"}, {"mobile": "13800001111"}, {"email": "evil@example.com"}, {"status": "disabled"},
		{"roles": []string{"agent"}}, {"dept_id": e.agentQA.DeptID}, {"skills": []string{"x"}}, {"locale": "en"},
	} {
		body["version"] = adminV
		if r := hr.Do(t, "PATCH", staffPath(e.admin.ID), body); r.Status != http.StatusForbidden {
			t.Errorf("hr patches the admin with %v: %d %s", body, r.Status, r.Body)
		}
	}
	// Out of scope reads as missing.
	qaV := e.version(t, staffPath(e.agentQA.ID))
	outside := depthr.Do(t, "PATCH", staffPath(e.agentQA.ID), map[string]any{"display_name": "x", "version": qaV})
	missing := depthr.Do(t, "PATCH", staffPath(999999), map[string]any{"display_name": "x", "version": qaV})
	if outside.Status != http.StatusNotFound {
		t.Errorf("dept hr patches outside its department: %d", outside.Status)
	}
	sameAnswer(t, "patch out of scope vs missing", outside, missing)
	// Moving someone out of one's reach, or giving them a role wider than one's own, is refused.
	agentV := e.version(t, staffPath(e.agentCS.ID))
	if r := depthr.Do(t, "PATCH", staffPath(e.agentCS.ID), map[string]any{"dept_id": e.agentQA.DeptID, "version": agentV}); r.Status != http.StatusForbidden {
		t.Errorf("dept hr moves an agent out of its department: %d %s", r.Status, r.Body)
	}
	if r := depthr.Do(t, "PATCH", staffPath(e.agentCS.ID), map[string]any{"roles": []string{"agent", "supervisor"}, "version": agentV}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("dept hr grants supervisor (permissions it lacks): %d %s", r.Status, r.Body)
	}
	// A new account holding more than the actor, or outside its reach.
	for _, body := range []map[string]any{
		{"username": "mole1", "display_name": "Mole", "roles": []string{"director"}, "dept_id": e.agentCS.DeptID},
		{"username": "mole2", "display_name": "Mole", "roles": []string{"agent"}, "dept_id": e.agentQA.DeptID},
	} {
		if r := depthr.Do(t, "POST", "/api/v1/staff", body); r.Status < 400 {
			t.Errorf("dept hr creates %v: %d %s", body, r.Status, r.Body)
		}
	}
	// Covered: an agent of its own department.
	if r := depthr.Do(t, "PATCH", staffPath(e.agentCS.ID), map[string]any{"team_id": e.csTeam.ID, "version": agentV}); r.Status != http.StatusOK {
		t.Errorf("dept hr moves an agent to a team of its department: %d %s", r.Status, r.Body)
	}
	// The page form as well.
	b := e.browser(t, "hr")
	r := b.PostForm(t, fmt.Sprintf("/staff/%d", e.admin.ID), url.Values{"display_name": {"Owned"}, "roles": {"admin"},
		"status": {"disabled"}})
	if r.Status != http.StatusForbidden {
		t.Errorf("hr disables the admin through the page: %d", r.Status)
	}
	if st, err := e.srv.App.Org.StaffByUsername(apptest.SystemCtx(), e.admin.Username); err != nil || st.Status != org.StatusActive || st.DisplayName == "Owned" {
		t.Fatalf("admin after refused edits: %+v %v", st, err)
	}
}

// TestTokenManageMintsNoTokenForOthers: token:manage lists and revokes others' tokens
// (those it covers) but never creates one for someone else.
func TestTokenManageMintsNoTokenForOthers(t *testing.T) {
	e := newEscalationEnv(t)
	desk := e.as(t, "tokens")
	r := desk.Do(t, "POST", "/api/v1/tokens", map[string]any{"name": "mine now", "staff_id": e.admin.ID})
	if r.Status != http.StatusForbidden || strings.Contains(string(r.Body), "kefu_") {
		t.Fatalf("token desk mints an admin token: %d %s", r.Status, r.Body)
	}
	missing := desk.Do(t, "POST", "/api/v1/tokens", map[string]any{"name": "x", "staff_id": 999999})
	sameAnswer(t, "token for another vs for nobody", r, missing)
	// Not through the admin either, and not on the account page (own tokens only).
	if r := e.as(t, "admin").Do(t, "POST", "/api/v1/tokens", map[string]any{"name": "x", "staff_id": e.agentCS.ID}); r.Status != http.StatusForbidden {
		t.Errorf("admin mints a token for an agent: %d %s", r.Status, r.Body)
	}
	// Lists others' tokens, never their secrets.
	r = desk.Do(t, "GET", fmt.Sprintf("/api/v1/tokens?staff_id=%d", e.admin.ID), nil)
	if r.Status != http.StatusOK || strings.Contains(string(r.Body), `"token"`) {
		t.Errorf("token desk lists the admin's tokens: %d %s", r.Status, r.Body)
	}
	var page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	tokenOf := func(who org.Staff) int64 {
		r := desk.Do(t, "GET", fmt.Sprintf("/api/v1/tokens?staff_id=%d", who.ID), nil)
		if err := json.Unmarshal(r.Body, &page); err != nil || len(page.Items) == 0 {
			t.Fatalf("tokens of %s: %d %s", who.Username, r.Status, r.Body)
		}
		return page.Items[0].ID
	}
	// Revokes those of people it covers, not the admin's.
	if r := desk.Do(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tokenOf(e.admin)), nil); r.Status != http.StatusForbidden {
		t.Errorf("token desk revokes the admin's token: %d %s", r.Status, r.Body)
	}
	if r := e.as(t, "admin").Do(t, "GET", "/api/v1/me", nil); r.Status != http.StatusOK {
		t.Fatalf("admin token after a refused revoke: %d", r.Status)
	}
	if r := desk.Do(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tokenOf(e.agentCS)), nil); r.Status != http.StatusForbidden {
		t.Errorf("token desk revokes an agent's token (the agent holds customer permissions it lacks): %d %s", r.Status, r.Body)
	}
	if r := desk.Do(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tokenOf(e.as(t, "viewer").Staff)), nil); r.Status != http.StatusNoContent {
		t.Errorf("token desk revokes the token of someone it covers: %d %s", r.Status, r.Body)
	}
}

// TestRoleEditGivesNoMoreThanHeld: role:manage cannot add "*" (or anything it lacks)
// to its own role or to a built-in one, nor widen a scope beyond its own; removing is fine.
func TestRoleEditGivesNoMoreThanHeld(t *testing.T) {
	e := newEscalationEnv(t)
	o := e.srv.App.Org
	ctx := apptest.SystemCtx()
	own, err := o.RoleByCode(ctx, "roles")
	if err != nil {
		t.Fatal(err)
	}
	agent, err := o.RoleByCode(ctx, "agent")
	if err != nil {
		t.Fatal(err)
	}
	desk := e.as(t, "roles")
	rolePath := func(id int64) string { return fmt.Sprintf("/api/v1/roles/%d", id) }
	refused := []struct {
		name string
		id   int64
		body map[string]any
	}{
		{"star to its own role", own.ID, map[string]any{"permissions": append(own.Permissions, "*")}},
		{"staff:manage to its own role", own.ID, map[string]any{"permissions": append(own.Permissions, "staff:manage")}},
		{"its own role to scope all", own.ID, map[string]any{"scope": "all"}},
		{"star to the agent role", agent.ID, map[string]any{"permissions": []string{"*"}}},
		{"agent role to scope all", agent.ID, map[string]any{"scope": "all"}},
	}
	for _, c := range refused {
		c.body["version"] = e.version(t, rolePath(c.id))
		if r := desk.Do(t, "PATCH", rolePath(c.id), c.body); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	for _, in := range []map[string]any{
		{"code": "everything", "name": "E", "scope": "own", "permissions": []string{"*"}},
		{"code": "wide", "name": "W", "scope": "all", "permissions": []string{"dept:read"}},
	} {
		if r := desk.Do(t, "POST", "/api/v1/roles", in); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("create %v: %d %s", in, r.Status, r.Body)
		}
	}
	if a, err := o.LoadActor(ctx, e.as(t, "roles").Staff.ID); err != nil || a.Can("staff:manage") || a.ScopeOf("role:manage") != authz.ScopeDept {
		t.Fatalf("role desk after refused edits: %v %v", a.Permissions(), err)
	}
	// Within its own: a new role of what it holds at its scope, and removing permissions.
	if r := desk.Do(t, "POST", "/api/v1/roles", map[string]any{"code": "reader", "name": "R", "scope": "dept",
		"permissions": []string{"dept:read"}}); r.Status != http.StatusCreated {
		t.Errorf("create a role within its own: %d %s", r.Status, r.Body)
	}
	if r := desk.Do(t, "PATCH", rolePath(agent.ID), map[string]any{"permissions": []string{"dept:read"},
		"version": e.version(t, rolePath(agent.ID))}); r.Status != http.StatusOK {
		t.Errorf("removing permissions: %d %s", r.Status, r.Body)
	}
}

// ---------------------------------------------------------------------------
// Property: no sequence of API calls lets an actor end up able to do more.

// propertyScenarios is how many random scenarios TestNoEscalationProperty runs
// (KEFU_ESCALATION_SCENARIOS overrides; KEFU_ESCALATION_SEED replays one seed).
const propertyScenarios = 50

// identity is an account the actor controls: it signed in as it.
type identity struct {
	id int64
	c  *apptest.Client
}

type propertyRun struct {
	t        *testing.T
	srv      *apptest.Server
	rng      *rand.Rand
	n        int // scenario number, for unique names
	depts    []org.Department
	teams    []org.Team
	roles    []string // every role code an action may name
	staff    []int64  // every staff id an action may target
	known    map[int64]string
	controls []identity
	log      []string
	stats    map[string]int // "action status" -> count, over all scenarios
}

const propertyPassword = "Pr0perty-Passw0rd!"

// TestNoEscalationProperty: random custom roles (random permission subsets of
// authz.Catalog, random scopes, departments and teams), a random actor, and random
// sequences of API calls (create/patch role, create/patch staff including roles,
// department and status, reset password, unlock, create/revoke token, sign in with a
// password it set). Afterwards every account the actor can sign in as - itself included
// - holds nothing the actor did not hold at the start, at a scope that reached as far.
func TestNoEscalationProperty(t *testing.T) {
	seed := time.Now().UnixNano()
	if v := os.Getenv("KEFU_ESCALATION_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("KEFU_ESCALATION_SEED: %v", err)
		}
	}
	n := propertyScenarios
	if raceBuild || testing.Short() {
		n /= 3
	}
	if v := os.Getenv("KEFU_ESCALATION_SCENARIOS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay with KEFU_ESCALATION_SEED=%d", seed)
		}
	})
	// Many sign-ins from one address: lift the per-address throttle.
	srv := apptest.New(t, func(c *config.Config) { c.Login.PerIPPerMinute = 1 << 20 })
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	start := time.Now()
	stats := map[string]int{}
	for i := 0; i < n && !t.Failed(); i++ {
		p := &propertyRun{t: t, srv: srv, rng: rng, n: i, known: map[int64]string{}, stats: stats}
		p.run()
	}
	t.Logf("%d scenarios in %s (seed %d); calls by outcome: %v", n, time.Since(start).Round(time.Millisecond), seed, stats)
}

func (p *propertyRun) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	p.log = append(p.log, line)
	if m := outcomeRe.FindStringSubmatch(line); m != nil {
		p.stats[m[1]+" "+m[2]]++
	}
}

// outcomeRe reads "<who> <verb> ...: <status>" log lines for the summary.
var outcomeRe = regexp.MustCompile(`^\d+ (\w+(?: [a-z]+)?) .*: (\d+)`)

func (p *propertyRun) fail(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("scenario %d: %s\nactions:\n  %s", p.n, fmt.Sprintf(format, args...), strings.Join(p.log, "\n  "))
}

func (p *propertyRun) pick(n int) int { return p.rng.IntN(n) }

func (p *propertyRun) chance(f float64) bool { return p.rng.Float64() < f }

var propertyScopes = []authz.Scope{authz.ScopeAll, authz.ScopeDept, authz.ScopeTeam, authz.ScopeOwn}

// randomPerms draws a permission subset; the org management permissions come up often
// so that actors have something to try.
func (p *propertyRun) randomPerms(star bool) []string {
	var out []string
	for _, perm := range authz.Catalog {
		f := 0.25
		switch perm.Name {
		case "staff:manage", "staff:read", "role:manage", "role:read", "token:manage":
			f = 0.55
		}
		if p.chance(f) {
			out = append(out, perm.Name)
		}
	}
	if star && p.chance(0.05) {
		out = append(out, authz.All)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func (p *propertyRun) scope() authz.Scope { return propertyScopes[p.pick(len(propertyScopes))] }

// placement draws a department and (maybe) one of its teams.
func (p *propertyRun) placement() (int64, int64) {
	d := p.depts[p.pick(len(p.depts))]
	var teams []org.Team
	for _, t := range p.teams {
		if t.DeptID == d.ID {
			teams = append(teams, t)
		}
	}
	if len(teams) > 0 && p.chance(0.6) {
		return d.ID, teams[p.pick(len(teams))].ID
	}
	return d.ID, 0
}

func (p *propertyRun) setup() (actor org.Staff) {
	t, ctx, o := p.t, apptest.SystemCtx(), p.srv.App.Org
	for j := 0; j < 2; j++ {
		d, err := o.CreateDepartment(ctx, org.DepartmentInput{Code: fmt.Sprintf("p%dd%d", p.n, j), Name: fmt.Sprintf("P%d D%d", p.n, j)})
		if err != nil {
			t.Fatal(err)
		}
		p.depts = append(p.depts, d)
		for k := 0; k < 2-j; k++ {
			tm, err := o.CreateTeam(ctx, org.TeamInput{DeptID: d.ID, Name: fmt.Sprintf("T%d", k)})
			if err != nil {
				t.Fatal(err)
			}
			p.teams = append(p.teams, tm)
		}
	}
	var custom []string
	for j := 0; j < 3+p.pick(3); j++ {
		code := fmt.Sprintf("p%dr%d", p.n, j)
		if _, err := o.CreateRole(ctx, org.RoleInput{Code: code, Name: code, Scope: p.scope(), Permissions: p.randomPerms(false)}); err != nil {
			t.Fatal(err)
		}
		custom = append(custom, code)
	}
	p.roles = append(append([]string{}, custom...), "admin", "director", "supervisor", "agent", "qa", "archivist", "sales")
	mk := func(name string, roles []string) org.Staff {
		dept, team := p.placement()
		st, err := o.CreateStaff(ctx, org.StaffInput{Username: fmt.Sprintf("p%d%s", p.n, name), DisplayName: name,
			DeptID: dept, TeamID: team, Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		p.staff = append(p.staff, st.ID)
		return st
	}
	roles := []string{custom[p.pick(len(custom))]}
	if p.chance(0.4) {
		roles = append(roles, custom[p.pick(len(custom))])
	}
	if p.chance(0.15) {
		roles = append(roles, p.roles[len(custom)+1+p.pick(len(p.roles)-len(custom)-1)]) // a built-in role but admin
	}
	actor = mk("actor", roles)
	for j := 0; j < 4; j++ {
		mk(fmt.Sprintf("v%d", j), []string{p.roles[p.pick(len(p.roles))]})
	}
	if err := p.srv.App.Auth.SetPassword(ctx, actor.ID, propertyPassword); err != nil {
		t.Fatal(err)
	}
	p.known[actor.ID] = propertyPassword
	return actor
}

func (p *propertyRun) grants(id int64) *authz.Actor {
	a, err := p.srv.App.Org.LoadTarget(apptest.SystemCtx(), id)
	if err != nil {
		p.t.Fatal(err)
	}
	return a
}

func (p *propertyRun) run() {
	actor := p.setup()
	start := p.grants(actor.ID)
	p.controls = []identity{{id: actor.ID, c: p.srv.Browser(p.t, actor.Username, propertyPassword)}}
	p.logf("actor %d roles %v dept %d team %d grants %v", actor.ID, actor.Roles, actor.DeptID, actor.TeamID, start.Grants())
	steps := 8 + p.pick(8)
	for i := 0; i < steps; i++ {
		p.step()
	}
	// Every account the actor can sign in as holds no more than the actor did.
	for id := range p.known {
		now := p.grants(id)
		if !start.Outranks(now) {
			p.fail("the actor can sign in as staff %d holding %v (dept %d team %d); it held %v (dept %d team %d)",
				id, now.Grants(), now.DeptID, now.TeamID, start.Grants(), start.DeptID, start.TeamID)
		}
	}
}

func (p *propertyRun) target() int64 {
	if p.chance(0.1) {
		return p.controls[0].id
	}
	return p.staff[p.pick(len(p.staff))]
}

// step performs one random API call as one of the identities the actor controls.
func (p *propertyRun) step() {
	t, ctx, o := p.t, apptest.SystemCtx(), p.srv.App.Org
	me := p.controls[p.pick(len(p.controls))]
	switch p.pick(9) {
	case 0: // create a role: random, or mostly what the identity holds
		code := fmt.Sprintf("p%dn%d", p.n, len(p.roles))
		perms, scope := p.randomPerms(true), p.scope()
		if p.chance(0.5) {
			perms, scope = nil, authz.ScopeOwn
			for perm := range p.grants(me.id).Grants() {
				if p.chance(0.6) {
					perms = append(perms, perm)
				}
			}
			if p.chance(0.2) {
				perms = append(perms, p.randomPerms(true)...)
			}
			if p.chance(0.3) {
				scope = p.scope()
			}
		}
		r := me.c.Do(t, "POST", "/api/v1/roles", map[string]any{"code": code, "name": code, "scope": scope,
			"permissions": perms})
		p.logf("%d creates role %s: %d", me.id, code, r.Status)
		if r.Status == http.StatusCreated {
			p.roles = append(p.roles, code)
		}
	case 1: // edit a role
		code := p.roles[p.pick(len(p.roles))]
		ro, err := o.RoleByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"version": ro.Version}
		if p.chance(0.7) {
			perms := slices.Clone(ro.Permissions)
			if p.chance(0.3) && len(perms) > 0 {
				perms = perms[:p.pick(len(perms))]
			}
			for _, x := range p.randomPerms(true) {
				if p.chance(0.3) && !slices.Contains(perms, x) {
					perms = append(perms, x)
				}
			}
			body["permissions"] = perms
		}
		if p.chance(0.4) {
			body["scope"] = p.scope()
		}
		r := me.c.Do(t, "PATCH", fmt.Sprintf("/api/v1/roles/%d", ro.ID), body)
		p.logf("%d patches role %s with %v: %d", me.id, code, body, r.Status)
	case 2: // create a staff member with a password
		dept, team := p.placement()
		name := fmt.Sprintf("p%dc%d", p.n, len(p.staff))
		roles := []string{p.roles[p.pick(len(p.roles))]}
		r := me.c.Do(t, "POST", "/api/v1/staff", map[string]any{"username": name, "display_name": name, "dept_id": dept,
			"team_id": team, "roles": roles, "password": propertyPassword})
		p.logf("%d creates staff %s %v in %d/%d: %d", me.id, name, roles, dept, team, r.Status)
		if r.Status == http.StatusCreated {
			var st org.Staff
			if err := json.Unmarshal(r.Body, &st); err != nil {
				t.Fatal(err)
			}
			p.staff = append(p.staff, st.ID)
			p.known[st.ID] = propertyPassword
		}
	case 3: // edit a staff member
		id := p.target()
		st, err := o.GetStaff(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"version": st.Version}
		if p.chance(0.6) {
			roles := []string{p.roles[p.pick(len(p.roles))]}
			if p.chance(0.3) {
				roles = append(roles, st.Roles...)
			}
			body["roles"] = roles
		}
		if p.chance(0.4) {
			body["dept_id"], body["team_id"] = p.placement()
		}
		if p.chance(0.2) {
			body["status"] = []string{org.StatusActive, org.StatusDisabled}[p.pick(2)]
		}
		r := me.c.Do(t, "PATCH", staffPath(id), body)
		p.logf("%d patches staff %d with %v: %d", me.id, id, body, r.Status)
	case 4: // reset a password through the staff page
		id := p.target()
		pw := fmt.Sprintf("Reset-%d-Passw0rd!", p.pick(1000))
		r := me.c.PostForm(t, fmt.Sprintf("/staff/%d/password", id), url.Values{"password": {pw}})
		ok := r.Status == http.StatusSeeOther && r.Header.Get("Location") == fmt.Sprintf("/staff/%d", id)
		p.logf("%d resets password of %d: %d (done: %v)", me.id, id, r.Status, ok)
		if ok {
			p.known[id] = pw
			for i, c := range p.controls { // a reset signs the account out everywhere
				if c.id == id {
					st, err := o.GetStaff(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					p.controls[i].c = p.srv.Browser(t, st.Username, pw)
				}
			}
		}
	case 5: // unlock
		id := p.target()
		r := me.c.Do(t, "POST", fmt.Sprintf("/api/v1/staff/%d/unlock", id), nil)
		p.logf("%d unlocks %d: %d", me.id, id, r.Status)
	case 6: // a token for someone
		id := p.target()
		r := me.c.Do(t, "POST", "/api/v1/tokens", map[string]any{"name": "p", "staff_id": id})
		p.logf("%d creates token for %d: %d", me.id, id, r.Status)
		if r.Status == http.StatusCreated && id != me.id {
			p.fail("staff %d obtained a token for staff %d: %s", me.id, id, r.Body)
		}
	case 7: // revoke someone's token
		id := p.target()
		r := me.c.Do(t, "GET", fmt.Sprintf("/api/v1/tokens?staff_id=%d", id), nil)
		var page struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		if r.Status == http.StatusOK && json.Unmarshal(r.Body, &page) == nil && len(page.Items) > 0 {
			r = me.c.Do(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", page.Items[0].ID), nil)
		}
		p.logf("%d revokes token of %d: %d", me.id, id, r.Status)
	case 8: // sign in with a password the actor set
		for id, pw := range p.known {
			if slices.ContainsFunc(p.controls, func(c identity) bool { return c.id == id }) {
				continue
			}
			st, err := o.GetStaff(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			ok := canSignIn(t, p.srv, st.Username, pw)
			p.logf("signs in as %d: %v", id, ok)
			if ok {
				p.controls = append(p.controls, identity{id: id, c: p.srv.Browser(t, st.Username, pw)})
			}
			break
		}
	}
}

// builtinPerms lists the default permissions of built-in role code.
func builtinPerms(code string) []string {
	for _, r := range authz.BuiltinRoles {
		if r.Code == code {
			return r.Perms
		}
	}
	return nil
}
