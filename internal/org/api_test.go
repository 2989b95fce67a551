package org_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/org"
)

// TestAPIScenarios drives every org API route through the real router, per role.
func TestAPIScenarios(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	cs := srv.Dept(t, "cs", "Customer service")
	qaDept := srv.Dept(t, "qa", "Quality")
	inCS := srv.Staff(t, "in_cs", "agent", "cs")
	inQA := srv.Staff(t, "in_qa", "agent", "qa")
	victim := srv.Staff(t, "victim", "agent", "cs")
	team, err := o.CreateTeam(ctx, org.TeamInput{DeptID: cs.ID, Name: "Team A"})
	if err != nil {
		t.Fatal(err)
	}
	spare, err := o.CreateDepartment(ctx, org.DepartmentInput{Code: "spare", Name: "Spare"})
	if err != nil {
		t.Fatal(err)
	}
	spareTeam, err := o.CreateTeam(ctx, org.TeamInput{DeptID: spare.ID, Name: "Spare team"})
	if err != nil {
		t.Fatal(err)
	}
	custom, err := o.CreateRole(ctx, org.RoleInput{Code: "temp", Name: "Temp", Scope: "own", Permissions: []string{"dept:read"}})
	if err != nil {
		t.Fatal(err)
	}
	agentRole := roleByCode(t, o, "agent")
	adminRole := roleByCode(t, o, "admin")
	// Make the clients exist before the table runs, so that audit checks see only the request.
	for _, r := range []string{"admin", "director", "supervisor", "agent", "qa", "archivist", "sales", "supervisor@qa"} {
		srv.As(t, r)
	}
	doomed := srv.Staff(t, "doomed", "agent", "cs")
	doomedClient := srv.As(t, "agent@doomed") // a second agent, disabled below
	_ = doomed

	staff := func(id int64) string { return fmt.Sprintf("/api/v1/staff/%d", id) }
	dept := func(id int64) string { return fmt.Sprintf("/api/v1/departments/%d", id) }
	teamURL := func(id int64) string { return fmt.Sprintf("/api/v1/teams/%d", id) }
	role := func(id int64) string { return fmt.Sprintf("/api/v1/roles/%d", id) }

	scenarios := []apptest.Scenario{
		// Anonymous: 401 everywhere.
		{Name: "anon me", Method: "GET", Path: "/api/v1/me", Status: 401, Has: []string{`"unauthenticated"`}},
		{Name: "anon staff list", Method: "GET", Path: "/api/v1/staff", Status: 401},
		{Name: "anon staff create", Method: "POST", Path: "/api/v1/staff", Body: map[string]any{"username": "x"}, Status: 401, NoAudit: true},
		{Name: "anon staff get", Method: "GET", Path: staff(inCS.ID), Status: 401},
		{Name: "anon staff patch", Method: "PATCH", Path: staff(inCS.ID), Body: map[string]any{}, Status: 401},
		{Name: "anon departments", Method: "GET", Path: "/api/v1/departments", Status: 401},
		{Name: "anon department create", Method: "POST", Path: "/api/v1/departments", Body: map[string]any{}, Status: 401},
		{Name: "anon department get", Method: "GET", Path: dept(cs.ID), Status: 401},
		{Name: "anon department patch", Method: "PATCH", Path: dept(cs.ID), Body: map[string]any{}, Status: 401},
		{Name: "anon department delete", Method: "DELETE", Path: dept(spare.ID), Status: 401},
		{Name: "anon teams", Method: "GET", Path: "/api/v1/teams", Status: 401},
		{Name: "anon team create", Method: "POST", Path: "/api/v1/teams", Body: map[string]any{}, Status: 401},
		{Name: "anon team get", Method: "GET", Path: teamURL(team.ID), Status: 401},
		{Name: "anon team patch", Method: "PATCH", Path: teamURL(team.ID), Body: map[string]any{}, Status: 401},
		{Name: "anon team delete", Method: "DELETE", Path: teamURL(team.ID), Status: 401},
		{Name: "anon roles", Method: "GET", Path: "/api/v1/roles", Status: 401},
		{Name: "anon role create", Method: "POST", Path: "/api/v1/roles", Body: map[string]any{}, Status: 401},
		{Name: "anon role get", Method: "GET", Path: role(agentRole.ID), Status: 401},
		{Name: "anon role patch", Method: "PATCH", Path: role(agentRole.ID), Body: map[string]any{}, Status: 401},
		{Name: "anon role delete", Method: "DELETE", Path: role(custom.ID), Status: 401},

		// Who am I, per role.
		{Name: "me admin", As: "admin", Method: "GET", Path: "/api/v1/me", Status: 200,
			Has: []string{`"username":"admin_cs"`, `"roles":["admin"]`, `"permissions":["*"]`, fmt.Sprintf(`"department_id":%d`, cs.ID)}},
		{Name: "me director", As: "director", Method: "GET", Path: "/api/v1/me", Status: 200,
			Has: []string{`"roles":["director"]`, `"audit:read"`, `"staff:read":"all"`}, Not: []string{`"staff:manage"`}},
		{Name: "me supervisor", As: "supervisor", Method: "GET", Path: "/api/v1/me", Status: 200,
			Has: []string{`"roles":["supervisor"]`, `"staff:read":"dept"`, `"role:read"`}, Not: []string{`"staff:manage"`}},
		{Name: "me agent", As: "agent", Method: "GET", Path: "/api/v1/me", Status: 200,
			Has: []string{`"roles":["agent"]`, `"dept:read":"team"`}, Not: []string{`"staff:read"`}},
		{Name: "me qa", As: "qa", Method: "GET", Path: "/api/v1/me", Status: 200, Has: []string{`"roles":["qa"]`, `"dept:read"`}},
		{Name: "me archivist", As: "archivist", Method: "GET", Path: "/api/v1/me", Status: 200,
			Has: []string{`"roles":["archivist"]`, `"audit:read"`}},
		{Name: "me sales", As: "sales", Method: "GET", Path: "/api/v1/me", Status: 200,
			Has: []string{`"roles":["sales"]`, `"dept:read":"own"`}},

		// Permissions.
		{Name: "agent cannot create staff", As: "agent", Method: "POST", Path: "/api/v1/staff",
			Body: map[string]any{"username": "sneaky", "display_name": "S", "roles": []string{"admin"}}, Status: 403, Has: []string{`"forbidden"`}, NoAudit: true},
		{Name: "agent cannot list staff", As: "agent", Method: "GET", Path: "/api/v1/staff", Status: 403},
		{Name: "agent cannot patch staff", As: "agent", Method: "PATCH", Path: staff(inCS.ID), Body: map[string]any{"display_name": "x"}, Status: 403},
		{Name: "supervisor cannot patch staff", As: "supervisor", Method: "PATCH", Path: staff(inCS.ID), Body: map[string]any{"display_name": "x"}, Status: 403},
		{Name: "director cannot create department", As: "director", Method: "POST", Path: "/api/v1/departments", Body: map[string]any{"code": "x", "name": "x"}, Status: 403},
		{Name: "agent cannot delete team", As: "agent", Method: "DELETE", Path: teamURL(team.ID), Status: 403},
		{Name: "supervisor cannot create role", As: "supervisor", Method: "POST", Path: "/api/v1/roles", Body: map[string]any{"code": "x"}, Status: 403},
		{Name: "agent cannot read roles", As: "agent", Method: "GET", Path: "/api/v1/roles", Status: 403},
		{Name: "agent reads departments", As: "agent", Method: "GET", Path: "/api/v1/departments", Status: 200, Has: []string{`"code":"cs"`, `"next_cursor":""`}},
		{Name: "agent reads teams", As: "agent", Method: "GET", Path: fmt.Sprintf("/api/v1/teams?dept_id=%d", cs.ID), Status: 200,
			Has: []string{`"Team A"`}, Not: []string{`"Spare team"`}},

		// Department scope: a supervisor sees only their own department.
		{Name: "supervisor reads own dept staff", As: "supervisor", Method: "GET", Path: staff(inCS.ID), Status: 200, Has: []string{`"username":"in_cs"`}},
		{Name: "supervisor reads other dept staff", As: "supervisor", Method: "GET", Path: staff(inQA.ID), Status: 404, Has: []string{`"not_found"`}, Not: []string{"in_qa"}},
		{Name: "supervisor list filtered", As: "supervisor", Method: "GET", Path: "/api/v1/staff?limit=500", Status: 200,
			Has: []string{`"in_cs"`}, Not: []string{`"in_qa"`, `"supervisor_qa"`}},
		{Name: "supervisor asks for other dept", As: "supervisor", Method: "GET", Path: fmt.Sprintf("/api/v1/staff?dept_id=%d", qaDept.ID), Status: 200,
			Has: []string{`"items":[]`}},
		{Name: "qa supervisor sees qa", As: "supervisor@qa", Method: "GET", Path: staff(inQA.ID), Status: 200},
		{Name: "director sees all", As: "director", Method: "GET", Path: "/api/v1/staff?q=in_&limit=10", Status: 200, Has: []string{`"in_cs"`, `"in_qa"`}},
		{Name: "list filters", As: "admin", Method: "GET", Path: fmt.Sprintf("/api/v1/staff?dept_id=%d&role=agent&status=active&q=IN", qaDept.ID), Status: 200,
			Has: []string{`"in_qa"`}, Not: []string{`"in_cs"`}},
		{Name: "list bad status", As: "admin", Method: "GET", Path: "/api/v1/staff?status=gone", Status: 422, Has: []string{`"status"`}},
		{Name: "list bad limit", As: "admin", Method: "GET", Path: "/api/v1/staff?limit=0", Status: 400},
		{Name: "list bad cursor", As: "admin", Method: "GET", Path: "/api/v1/staff?cursor=***", Status: 400},
		{Name: "list bad dept filter", As: "admin", Method: "GET", Path: "/api/v1/staff?dept_id=abc", Status: 400},
		{Name: "staff missing", As: "admin", Method: "GET", Path: staff(999999), Status: 404},
		{Name: "staff bad id", As: "admin", Method: "GET", Path: "/api/v1/staff/abc", Status: 404},

		// Admin staff CRUD.
		{Name: "create staff 422", As: "admin", Method: "POST", Path: "/api/v1/staff",
			Body:   map[string]any{"username": "X", "display_name": "", "mobile": "123", "email": "bad", "roles": []string{"nope"}, "locale": "xx"},
			Status: 422, Has: []string{`"validation_failed"`, `"username"`, `"display_name"`, `"mobile"`, `"email"`, `"roles"`, `"locale"`}, NoAudit: true},
		{Name: "create staff unknown field", As: "admin", Method: "POST", Path: "/api/v1/staff",
			Body: map[string]any{"username": "newbie", "display_name": "N", "roles": []string{"agent"}, "is_root": true}, Status: 400,
			Has: []string{`"malformed_request"`, `is_root`}, NoAudit: true},
		{Name: "create staff wrong type", As: "admin", Method: "POST", Path: "/api/v1/staff", Body: `{"username": 5}`, Status: 400, Has: []string{`username`}},
		{Name: "create staff bad json", As: "admin", Method: "POST", Path: "/api/v1/staff", Body: `{"username":`, Status: 400},
		{Name: "create staff short password", As: "admin", Method: "POST", Path: "/api/v1/staff",
			Body:   map[string]any{"username": "newbie", "display_name": "N", "roles": []string{"agent"}, "password": "short"},
			Status: 422, Has: []string{`"password"`}, Not: []string{"short\""}, NoAudit: true},
		{Name: "create staff", As: "admin", Method: "POST", Path: "/api/v1/staff",
			Body: map[string]any{"username": "newbie", "display_name": "Newbie", "mobile": "13912345678", "email": "n@example.com",
				"dept_id": cs.ID, "team_id": team.ID, "roles": []string{"agent"}, "skills": []string{"billing"}, "password": "Sup3r-secret!"},
			Status: 201, Has: []string{`"username":"newbie"`, `"roles":["agent"]`, `"skills":["billing"]`, `"status":"active"`},
			Not: []string{"Sup3r-secret!", "password"}, Audit: "staff.create"},
		{Name: "create staff duplicate", As: "admin", Method: "POST", Path: "/api/v1/staff",
			Body:   map[string]any{"username": "newbie", "display_name": "Again", "roles": []string{"agent"}},
			Status: 409, Has: []string{`"code":"conflict"`, `"username"`}, NoAudit: true},
		{Name: "patch staff", As: "admin", Method: "PATCH", Path: staff(victim.ID),
			Body: map[string]any{"display_name": "Renamed", "skills": []string{"vip", "english"}, "version": 1}, Status: 200,
			Has: []string{`"display_name":"Renamed"`, `"skills":["vip","english"]`, `"username":"victim"`, `"version":2`}, Audit: "staff.update"},
		{Name: "patch staff without version", As: "admin", Method: "PATCH", Path: staff(victim.ID),
			Body: map[string]any{"display_name": "Lost"}, Status: 428, Has: []string{`"version_required"`}, NoAudit: true},
		{Name: "patch staff stale version", As: "admin", Method: "PATCH", Path: staff(victim.ID),
			Body: map[string]any{"display_name": "Lost", "version": 1}, Status: 409, Has: []string{`"version_conflict"`, `"current_version":2`}, NoAudit: true},
		{Name: "patch staff roles", As: "admin", Method: "PATCH", Path: staff(victim.ID),
			Body: map[string]any{"roles": []string{"agent", "qa"}, "version": 2}, Status: 200, Has: []string{`"roles":["agent","qa"]`}, Audit: "staff.roles"},
		{Name: "patch staff 422", As: "admin", Method: "PATCH", Path: staff(victim.ID),
			Body: map[string]any{"status": "asleep", "email": "x@", "version": 3}, Status: 422, Has: []string{`"status"`, `"email"`}, NoAudit: true},
		{Name: "patch staff unknown field", As: "admin", Method: "PATCH", Path: staff(victim.ID),
			Body: map[string]any{"username": "rename"}, Status: 400, Has: []string{`username`}, NoAudit: true},
		{Name: "patch staff missing", As: "admin", Method: "PATCH", Path: staff(999999), Body: map[string]any{"display_name": "x", "version": 1}, Status: 404},
		{Name: "disable staff", As: "admin", Method: "PATCH", Path: staff(doomedClient.Staff.ID),
			Body: map[string]any{"status": "disabled", "version": 1}, Status: 200, Has: []string{`"status":"disabled"`}, Audit: "staff.disable"},
		{Name: "disabled token stops working", As: "agent@doomed", Method: "GET", Path: "/api/v1/me", Status: 401},
		{Name: "enable staff", As: "admin", Method: "PATCH", Path: staff(doomedClient.Staff.ID),
			Body: map[string]any{"status": "active", "version": 2}, Status: 200, Audit: "staff.enable"},
		{Name: "enabled token works again", As: "agent@doomed", Method: "GET", Path: "/api/v1/me", Status: 200},

		// Departments.
		{Name: "create department", As: "admin", Method: "POST", Path: "/api/v1/departments",
			Body: map[string]any{"code": "vip", "name": "VIP service", "parent_id": cs.ID}, Status: 201,
			Has: []string{`"code":"vip"`, fmt.Sprintf(`"parent_id":%d`, cs.ID)}, Audit: "department.create"},
		{Name: "create department duplicate", As: "admin", Method: "POST", Path: "/api/v1/departments",
			Body: map[string]any{"code": "CS", "name": "Dup"}, Status: 409, Has: []string{`"conflict"`, `"code"`}, NoAudit: true},
		{Name: "create department 422", As: "admin", Method: "POST", Path: "/api/v1/departments",
			Body: map[string]any{"code": "a b", "name": "", "parent_id": 99999}, Status: 422, Has: []string{`"code"`, `"name"`, `"parent_id"`}, NoAudit: true},
		{Name: "create department unknown field", As: "admin", Method: "POST", Path: "/api/v1/departments",
			Body: map[string]any{"code": "x", "name": "x", "manager": 1}, Status: 400, Has: []string{"manager"}},
		{Name: "get department", As: "supervisor", Method: "GET", Path: dept(cs.ID), Status: 200, Has: []string{`"code":"cs"`}},
		{Name: "patch department cycle", As: "admin", Method: "PATCH", Path: dept(cs.ID),
			Body: map[string]any{"parent_id": cs.ID, "version": 1}, Status: 422, Has: []string{`"parent_id"`}, NoAudit: true},
		{Name: "patch department", As: "admin", Method: "PATCH", Path: dept(spare.ID),
			Body: map[string]any{"name": "Spare parts", "version": 1}, Status: 200, Has: []string{`"name":"Spare parts"`, `"version":2`}, Audit: "department.update"},
		{Name: "patch department stale", As: "admin", Method: "PATCH", Path: dept(spare.ID),
			Body: map[string]any{"name": "Spare", "version": 1}, Status: 409, Has: []string{`"version_conflict"`}, NoAudit: true},
		{Name: "patch department without version", As: "admin", Method: "PATCH", Path: dept(spare.ID),
			Body: map[string]any{"name": "Spare"}, Status: 428, NoAudit: true},
		{Name: "delete department with staff", As: "admin", Method: "DELETE", Path: dept(cs.ID), Status: 409, Has: []string{`"conflict"`}, NoAudit: true},
		{Name: "delete department with team", As: "admin", Method: "DELETE", Path: dept(spare.ID), Status: 409, Has: []string{`"teams":1`}},
		{Name: "department missing", As: "admin", Method: "GET", Path: dept(999999), Status: 404},

		// Teams.
		{Name: "create team", As: "admin", Method: "POST", Path: "/api/v1/teams",
			Body: map[string]any{"dept_id": cs.ID, "name": "Team B"}, Status: 201, Has: []string{`"name":"Team B"`}, Audit: "team.create"},
		{Name: "create team duplicate", As: "admin", Method: "POST", Path: "/api/v1/teams",
			Body: map[string]any{"dept_id": cs.ID, "name": "Team B"}, Status: 409, Has: []string{`"name"`}},
		{Name: "create team 422", As: "admin", Method: "POST", Path: "/api/v1/teams",
			Body: map[string]any{"name": ""}, Status: 422, Has: []string{`"dept_id"`, `"name"`}},
		{Name: "get team", As: "agent", Method: "GET", Path: teamURL(team.ID), Status: 200, Has: []string{`"Team A"`}},
		{Name: "patch team without version", As: "admin", Method: "PATCH", Path: teamURL(spareTeam.ID), Body: map[string]any{"name": "Renamed team"},
			Status: 428, NoAudit: true},
		{Name: "patch team", As: "admin", Method: "PATCH", Path: teamURL(spareTeam.ID), Body: map[string]any{"name": "Renamed team", "version": 1},
			Status: 200, Has: []string{`"Renamed team"`, `"version":2`}, Audit: "team.update"},
		{Name: "patch team stale", As: "admin", Method: "PATCH", Path: teamURL(spareTeam.ID), Body: map[string]any{"name": "Again", "version": 1},
			Status: 409, Has: []string{`"version_conflict"`}, NoAudit: true},
		{Name: "delete team", As: "admin", Method: "DELETE", Path: teamURL(spareTeam.ID), Status: 204, Audit: "team.delete"},
		{Name: "delete empty department", As: "admin", Method: "DELETE", Path: dept(spare.ID), Status: 204, Audit: "department.delete"},
		{Name: "team missing", As: "admin", Method: "GET", Path: teamURL(spareTeam.ID), Status: 404},

		// Roles.
		{Name: "list roles", As: "supervisor", Method: "GET", Path: "/api/v1/roles", Status: 200,
			Has: []string{`"code":"admin"`, `"label":"`, `"builtin":true`}},
		{Name: "list roles english", As: "supervisor", Method: "GET", Path: "/api/v1/roles", Lang: "en", Status: 200, Has: []string{`"label":"Administrator"`}},
		{Name: "create role", As: "admin", Method: "POST", Path: "/api/v1/roles",
			Body:   map[string]any{"code": "night", "name": "Night shift", "scope": "team", "permissions": []string{"staff:read", "dept:read"}},
			Status: 201, Has: []string{`"code":"night"`, `"permissions":["dept:read","staff:read"]`, `"builtin":false`}, Audit: "role.create"},
		{Name: "create role unknown permission", As: "admin", Method: "POST", Path: "/api/v1/roles",
			Body:   map[string]any{"code": "bad", "name": "Bad", "scope": "all", "permissions": []string{"launch:rockets"}},
			Status: 422, Has: []string{`"permissions"`, "launch:rockets"}, NoAudit: true},
		{Name: "create role duplicate", As: "admin", Method: "POST", Path: "/api/v1/roles",
			Body: map[string]any{"code": "night", "name": "Again", "scope": "all", "permissions": []string{}}, Status: 409, Has: []string{`"code"`}},
		{Name: "patch builtin role", As: "admin", Method: "PATCH", Path: role(agentRole.ID),
			Body: map[string]any{"permissions": []string{"dept:read", "staff:read"}, "version": 1}, Status: 200, Has: []string{`"staff:read"`, `"version":2`}, Audit: "role.update"},
		{Name: "patch role without version", As: "admin", Method: "PATCH", Path: role(agentRole.ID),
			Body: map[string]any{"name": "x"}, Status: 428, NoAudit: true},
		{Name: "patch role stale", As: "admin", Method: "PATCH", Path: role(agentRole.ID),
			Body: map[string]any{"name": "x", "version": 1}, Status: 409, Has: []string{`"version_conflict"`}, NoAudit: true},
		{Name: "agent gains staff:read", As: "agent", Method: "GET", Path: "/api/v1/me", Status: 200, Has: []string{`"staff:read":"team"`}},
		{Name: "admin keeps star", As: "admin", Method: "PATCH", Path: role(adminRole.ID),
			Body: map[string]any{"permissions": []string{"staff:read"}, "version": 1}, Status: 422, Has: []string{`"permissions"`}, NoAudit: true},
		{Name: "builtin not deletable", As: "admin", Method: "DELETE", Path: role(agentRole.ID), Status: 409, NoAudit: true},
		{Name: "delete custom role", As: "admin", Method: "DELETE", Path: role(custom.ID), Status: 204, Audit: "role.delete"},
		{Name: "role missing", As: "admin", Method: "GET", Path: role(custom.ID), Status: 404},
	}
	apptest.Run(t, srv, scenarios)

	// The password given on creation works, and is never stored in the audit log.
	st, err := o.StaffByUsername(ctx, "newbie")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.App.Auth.VerifyPassword(ctx, st.ID, "Sup3r-secret!"); err != nil {
		t.Fatalf("initial password: %v", err)
	}
	var n int
	if err := srv.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE detail LIKE ?`, "%Sup3r%").Scan(&n); err != nil || n != 0 {
		t.Fatalf("password in audit log: n=%d err=%v", n, err)
	}
	// Each audit entry names what changed.
	var detail string
	if err := srv.App.DB.QueryRow(ctx, `SELECT detail FROM audit_log WHERE action = ? ORDER BY seq DESC LIMIT 1`, "staff.update").Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "status") {
		t.Fatalf("staff.update detail %s", detail)
	}
	r := srv.As(t, "admin").Do(t, "POST", "/api/v1/departments", map[string]any{"code": "loc", "name": "Location"})
	if r.Status != http.StatusCreated || !strings.HasPrefix(r.Header.Get("Location"), "/api/v1/departments/") {
		t.Fatalf("Location header: %d %q", r.Status, r.Header.Get("Location"))
	}
}
