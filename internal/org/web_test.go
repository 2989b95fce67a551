package org_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/clock"
)

func TestPages(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	admin := srv.Staff(t, "boss", "admin", "cs")
	agent := srv.Staff(t, "worker", "agent", "cs")
	srv.Staff(t, "watcher", "supervisor", "cs")
	cs := srv.Dept(t, "cs", "")
	team, err := o.CreateTeam(ctx, org.TeamInput{DeptID: cs.ID, Name: "Alpha"})
	if err != nil {
		t.Fatal(err)
	}
	agentRole := roleByCode(t, o, "agent")
	b := srv.Browser(t, "boss", apptest.Password)
	_ = admin

	has := func(t *testing.T, r *apptest.Response, status int, frags ...string) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
		}
		for _, f := range frags {
			if !bytes.Contains(r.Body, []byte(f)) {
				t.Fatalf("page lacks %q:\n%s", f, r.Body)
			}
		}
	}

	t.Run("every page renders for the admin", func(t *testing.T) {
		for _, p := range []struct {
			path  string
			frags []string
		}{
			{"/staff", []string{`id="staff-table"`, `href="/staff/new"`, "worker"}},
			{"/staff?role=agent&q=WOR", []string{"worker"}},
			{"/staff/new", []string{`id="staff-form"`, `name="csrf_token"`, `name="roles"`, `name="password"`}},
			{fmt.Sprintf("/staff/%d", agent.ID), []string{`id="staff-facts"`, `action="/staff/` + fmt.Sprint(agent.ID) + `"`, `value="agent" checked`}},
			{"/departments", []string{`id="dept-tree"`, "Alpha", `id="dept-form"`}},
			{fmt.Sprintf("/departments/%d", cs.ID), []string{`id="team-form"`, "Alpha", fmt.Sprintf(`action="/teams/%d/delete"`, team.ID)}},
			{"/roles", []string{`id="role-table"`, "/roles/new"}},
			{"/roles/new", []string{`id="role-form"`, `value="staff:read"`}},
			{fmt.Sprintf("/roles/%d", agentRole.ID), []string{`value="dept:read" checked`, `name="scope"`}},
		} {
			has(t, b.Do(t, "GET", p.path, nil), 200, p.frags...)
		}
	})
	t.Run("english", func(t *testing.T) {
		bb := *b
		bb.Lang = "en"
		has(t, bb.Do(t, "GET", "/roles", nil), 200, "Administrator")
	})
	t.Run("anonymous is sent to sign in", func(t *testing.T) {
		r := srv.Anonymous().Do(t, "GET", "/staff", nil)
		if r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("anonymous /staff: %d %s", r.Status, r.Header.Get("Location"))
		}
	})
	t.Run("agent is refused", func(t *testing.T) {
		ab := srv.Browser(t, "worker", apptest.Password)
		for _, p := range []string{"/staff", "/staff/new", "/roles"} {
			if r := ab.Do(t, "GET", p, nil); r.Status != 403 {
				t.Errorf("agent GET %s: %d", p, r.Status)
			}
		}
		if r := ab.PostForm(t, "/staff", url.Values{"username": {"evil"}}); r.Status != 403 {
			t.Errorf("agent POST /staff: %d", r.Status)
		}
		has(t, ab.Do(t, "GET", "/departments", nil), 200)
	})
	t.Run("supervisor reads without edit forms", func(t *testing.T) {
		sb := srv.Browser(t, "watcher", apptest.Password)
		r := sb.Do(t, "GET", fmt.Sprintf("/staff/%d", agent.ID), nil)
		has(t, r, 200, `id="staff-facts"`)
		if bytes.Contains(r.Body, []byte(`id="staff-form"`)) {
			t.Fatal("supervisor sees the edit form")
		}
		other := srv.Staff(t, "elsewhere", "agent", "tech")
		if r := sb.Do(t, "GET", fmt.Sprintf("/staff/%d", other.ID), nil); r.Status != 404 {
			t.Fatalf("other department's staff page: %d", r.Status)
		}
	})
	t.Run("form without CSRF token is refused", func(t *testing.T) {
		r := b.PostForm(t, "/staff", url.Values{"csrf_token": {"forged"}, "username": {"csrfless"}, "display_name": {"X"}, "roles": {"agent"}})
		if r.Status != 403 {
			t.Fatalf("forged CSRF: %d", r.Status)
		}
		if _, err := o.StaffByUsername(ctx, "csrfless"); err == nil {
			t.Fatal("forged form created staff")
		}
	})
	t.Run("create staff with inline errors then success", func(t *testing.T) {
		r := b.PostForm(t, "/staff", url.Values{"username": {"A B"}, "display_name": {""}, "mobile": {"999"}, "roles": {"agent"}})
		has(t, r, 422, `id="err-username"`, `id="err-display_name"`, `id="err-mobile"`, `value="A B"`)
		before := srv.AuditSeq(t)
		r = b.PostForm(t, "/staff", url.Values{"username": {"fresh"}, "display_name": {"Fresh"}, "mobile": {"13900001111"},
			"dept_id": {fmt.Sprint(cs.ID)}, "team_id": {fmt.Sprint(team.ID)}, "roles": {"agent", "qa"}, "skills": {"billing, vip"},
			"password": {"Blue-Sky-2026"}})
		if r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/staff/") {
			t.Fatalf("create: %d %s\n%s", r.Status, r.Header.Get("Location"), r.Body)
		}
		if !srv.AuditSince(t, before, "staff.create") {
			t.Fatal("no staff.create audit entry")
		}
		st, err := o.StaffByUsername(ctx, "fresh")
		if err != nil || len(st.Roles) != 2 || len(st.Skills) != 2 || st.TeamID != team.ID {
			t.Fatalf("created %+v %v", st, err)
		}
		srv.Browser(t, "fresh", "Blue-Sky-2026") // the password set in the form signs in
		page := b.Do(t, "GET", r.Header.Get("Location"), nil)
		has(t, page, 200, "Fresh")
	})
	t.Run("edit, disable and password", func(t *testing.T) {
		path := fmt.Sprintf("/staff/%d", agent.ID)
		r := b.PostForm(t, path, url.Values{"display_name": {"Worker Bee"}, "email": {"nope"}, "roles": {"agent"}, "status": {"active"}})
		has(t, r, 422, `id="err-email"`, `value="Worker Bee"`)
		before := srv.AuditSeq(t)
		r = b.PostForm(t, path, url.Values{"display_name": {"Worker Bee"}, "roles": {"agent"}, "status": {"disabled"},
			"dept_id": {fmt.Sprint(cs.ID)}, "locale": {"en"}})
		if r.Status != 303 {
			t.Fatalf("update: %d\n%s", r.Status, r.Body)
		}
		if !srv.AuditSince(t, before, "staff.update") || !srv.AuditSince(t, before, "staff.disable") {
			t.Fatal("missing audit entries for update/disable")
		}
		has(t, b.Do(t, "GET", path, nil), 200, "Worker Bee", `<option value="disabled" selected>`)
		r = b.PostForm(t, path+"/password", url.Values{"password": {"short"}})
		has(t, r, 422, `id="err-new-password"`)
		r = b.PostForm(t, path+"/password", url.Values{"password": {"Another-Passw0rd"}})
		if r.Status != 303 {
			t.Fatalf("set password: %d\n%s", r.Status, r.Body)
		}
	})
	t.Run("unlock", func(t *testing.T) {
		victim := srv.Staff(t, "locked_out", "agent", "cs")
		until := clock.Millis(srv.Clock.Now().Add(10 * time.Minute))
		if _, err := srv.App.DB.Exec(context.Background(), `UPDATE credentials SET locked_until = ?, failed_count = 5, first_failed_at = ? WHERE staff_id = ?`,
			until, clock.Millis(srv.Clock.Now()), victim.ID); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/staff/%d", victim.ID)
		has(t, b.Do(t, "GET", path, nil), 200, `id="unlock"`, `id="locked-badge"`)
		before := srv.AuditSeq(t)
		if r := b.PostForm(t, path+"/unlock", url.Values{}); r.Status != 303 {
			t.Fatalf("unlock: %d\n%s", r.Status, r.Body)
		}
		if !srv.AuditSince(t, before, "auth.unlock") {
			t.Fatal("no auth.unlock entry")
		}
		if r := b.Do(t, "GET", path, nil); bytes.Contains(r.Body, []byte(`id="unlock"`)) {
			t.Fatal("still shown as locked")
		}
	})
	t.Run("departments and teams", func(t *testing.T) {
		r := b.PostForm(t, "/departments", url.Values{"code": {"cs"}, "name": {"Dup"}})
		has(t, r, 409, `id="err-code"`)
		r = b.PostForm(t, "/departments", url.Values{"code": {"north"}, "name": {"North"}, "parent_id": {fmt.Sprint(cs.ID)}})
		if r.Status != 303 {
			t.Fatalf("create dept: %d\n%s", r.Status, r.Body)
		}
		north, err := o.DepartmentByCode(ctx, "north")
		if err != nil || north.ParentID != cs.ID {
			t.Fatalf("north %+v %v", north, err)
		}
		dp := fmt.Sprintf("/departments/%d", north.ID)
		r = b.PostForm(t, fmt.Sprintf("/departments/%d", cs.ID), url.Values{"code": {"cs"}, "name": {"CS"}, "parent_id": {fmt.Sprint(north.ID)}})
		has(t, r, 422, `id="err-parent_id"`)
		if r := b.PostForm(t, dp+"/teams", url.Values{"name": {"N1"}}); r.Status != 303 {
			t.Fatalf("create team: %d\n%s", r.Status, r.Body)
		}
		has(t, b.PostForm(t, dp+"/teams", url.Values{"name": {"N1"}}), 409, `id="err-team-name"`)
		r = b.PostForm(t, dp+"/delete", url.Values{})
		has(t, r, 409, "form-error")
		teams, _ := o.ListTeams(ctx, north.ID, org.ListParams{})
		if len(teams.Items) != 1 {
			t.Fatalf("teams of north: %+v", teams)
		}
		tp := fmt.Sprintf("/teams/%d", teams.Items[0].ID)
		if r := b.PostForm(t, tp, url.Values{"name": {"N2"}}); r.Status != 303 {
			t.Fatalf("rename team: %d", r.Status)
		}
		if r := b.PostForm(t, tp+"/delete", url.Values{}); r.Status != 303 {
			t.Fatalf("delete team: %d", r.Status)
		}
		if r := b.PostForm(t, dp+"/delete", url.Values{}); r.Status != 303 || r.Header.Get("Location") != "/departments" {
			t.Fatalf("delete dept: %d %s", r.Status, r.Header.Get("Location"))
		}
	})
	t.Run("roles", func(t *testing.T) {
		r := b.PostForm(t, "/roles", url.Values{"code": {"Bad Code"}, "name": {""}, "scope": {"all"}, "permissions": {"staff:read", "x:y"}})
		has(t, r, 422, `id="err-code"`, `id="err-name"`, `id="err-permissions"`)
		r = b.PostForm(t, "/roles", url.Values{"code": {"auditor"}, "name": {"Auditor"}, "scope": {"all"}, "permissions": {"audit:read", "staff:read"}})
		if r.Status != 303 {
			t.Fatalf("create role: %d\n%s", r.Status, r.Body)
		}
		ro := roleByCode(t, o, "auditor")
		rp := fmt.Sprintf("/roles/%d", ro.ID)
		if r := b.PostForm(t, rp, url.Values{"name": {"Auditor"}, "scope": {"dept"}, "permissions": {"audit:read"}}); r.Status != 303 {
			t.Fatalf("update role: %d\n%s", r.Status, r.Body)
		}
		if got := roleByCode(t, o, "auditor"); got.Scope != "dept" || len(got.Permissions) != 1 {
			t.Fatalf("updated role %+v", got)
		}
		adminRole := roleByCode(t, o, "admin")
		has(t, b.PostForm(t, fmt.Sprintf("/roles/%d", adminRole.ID), url.Values{"scope": {"all"}, "permissions": {"staff:read"}}),
			422, `id="err-permissions"`)
		has(t, b.PostForm(t, fmt.Sprintf("/roles/%d/delete", agentRole.ID), url.Values{}), 409, "form-error")
		if r := b.PostForm(t, rp+"/delete", url.Values{}); r.Status != 303 {
			t.Fatalf("delete role: %d", r.Status)
		}
	})
}
