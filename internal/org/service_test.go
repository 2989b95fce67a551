package org_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// fieldErr asserts err is a kind error naming field.
func fieldErr(t *testing.T, err error, kind apperr.Kind, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != kind {
		t.Fatalf("err = %v, want kind %d", err, kind)
	}
	if field == "" {
		return
	}
	if _, ok := e.Fields[field]; !ok {
		t.Fatalf("err %v does not name field %q", err, field)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCreateStaffValidation(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	cs := srv.Dept(t, "cs", "Customer service")
	other := srv.Dept(t, "tech", "Tech")
	team, err := o.CreateTeam(ctx, org.TeamInput{DeptID: other.ID, Name: "T1"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Staff(t, "taken", "agent", "cs")
	good := func() org.StaffInput {
		return org.StaffInput{Username: "li.ming", DisplayName: "Li Ming", Mobile: "13812345678", Email: "li@example.com",
			DeptID: cs.ID, Roles: []string{"agent"}, Skills: []string{"billing"}, Locale: "en"}
	}
	cases := []struct {
		name  string
		edit  func(*org.StaffInput)
		kind  apperr.Kind
		field string
	}{
		{"username missing", func(in *org.StaffInput) { in.Username = "" }, apperr.Invalid, "username"},
		{"username too short", func(in *org.StaffInput) { in.Username = "ab" }, apperr.Invalid, "username"},
		{"username bad chars", func(in *org.StaffInput) { in.Username = "li ming!" }, apperr.Invalid, "username"},
		{"username too long", func(in *org.StaffInput) { in.Username = "abcdefghijabcdefghijabcdefghijabc" }, apperr.Invalid, "username"},
		{"display name missing", func(in *org.StaffInput) { in.DisplayName = "  " }, apperr.Invalid, "display_name"},
		{"display name too long", func(in *org.StaffInput) { in.DisplayName = string(make([]byte, 65)) }, apperr.Invalid, "display_name"},
		{"mobile landline", func(in *org.StaffInput) { in.Mobile = "01012345678" }, apperr.Invalid, "mobile"},
		{"mobile short", func(in *org.StaffInput) { in.Mobile = "1381234567" }, apperr.Invalid, "mobile"},
		{"email", func(in *org.StaffInput) { in.Email = "not-an-email" }, apperr.Invalid, "email"},
		{"email display form", func(in *org.StaffInput) { in.Email = "Li <li@example.com>" }, apperr.Invalid, "email"},
		{"unknown dept", func(in *org.StaffInput) { in.DeptID = 99999 }, apperr.Invalid, "dept_id"},
		{"unknown team", func(in *org.StaffInput) { in.TeamID = 99999 }, apperr.Invalid, "team_id"},
		{"team of other dept", func(in *org.StaffInput) { in.TeamID = team.ID }, apperr.Invalid, "team_id"},
		{"no role", func(in *org.StaffInput) { in.Roles = nil }, apperr.Invalid, "roles"},
		{"unknown role", func(in *org.StaffInput) { in.Roles = []string{"agent", "pilot"} }, apperr.Invalid, "roles"},
		{"skill too long", func(in *org.StaffInput) { in.Skills = []string{"abcdefghijabcdefghijabcdefghijabc"} }, apperr.Invalid, "skills"},
		{"skill with comma", func(in *org.StaffInput) { in.Skills = []string{"a,b"} }, apperr.Invalid, "skills"},
		{"locale", func(in *org.StaffInput) { in.Locale = "fr" }, apperr.Invalid, "locale"},
		{"duplicate username", func(in *org.StaffInput) { in.Username = "TAKEN" }, apperr.Conflict, "username"},
	}
	before, _ := o.CountStaff(ctx)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := good()
			c.edit(&in)
			_, err := o.CreateStaff(ctx, in)
			fieldErr(t, err, c.kind, c.field)
		})
	}
	if after, _ := o.CountStaff(ctx); after != before {
		t.Fatalf("refused creations wrote staff: %d -> %d", before, after)
	}

	t.Run("ok normalizes", func(t *testing.T) {
		in := good()
		in.Username, in.Mobile, in.Email = " Li.Ming ", "+86 138-1234-5678", "li@EXAMPLE.com"
		in.Skills = []string{" billing ", "billing", "", "vip"}
		in.TeamID, in.DeptID = team.ID, 0 // the team's department is taken
		st, err := o.CreateStaff(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if st.Username != "li.ming" || st.Mobile != "13812345678" || st.Email != "li@example.com" ||
			st.DeptID != other.ID || !slices.Equal(st.Skills, []string{"billing", "vip"}) || st.Status != org.StatusActive {
			t.Fatalf("created %+v", st)
		}
		got, err := o.StaffByUsername(ctx, "LI.MING")
		if err != nil || !slices.Equal(got.Roles, []string{"agent"}) {
			t.Fatalf("read back %+v, %v", got, err)
		}
	})

	t.Run("agent cannot create", func(t *testing.T) {
		agent, err := o.LoadActor(ctx, srv.Staff(t, "agent1", "agent", "cs").ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.CreateStaff(authz.WithActor(context.Background(), agent), good())
		fieldErr(t, err, apperr.Forbidden, "")
	})
}

func TestUpdateStaff(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	st := srv.Staff(t, "wang", "agent", "cs")
	tech := srv.Dept(t, "tech", "Tech")
	csTeam, err := o.CreateTeam(ctx, org.TeamInput{DeptID: st.DeptID, Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		patch org.StaffPatch
		field string
	}{
		{"display name empty", org.StaffPatch{DisplayName: ptr("")}, "display_name"},
		{"mobile", org.StaffPatch{Mobile: ptr("12345")}, "mobile"},
		{"email", org.StaffPatch{Email: ptr("a@b")}, "email"},
		{"status", org.StaffPatch{Status: ptr("gone")}, "status"},
		{"locale", org.StaffPatch{Locale: ptr("de")}, "locale"},
		{"dept", org.StaffPatch{DeptID: ptr(int64(424242))}, "dept_id"},
		{"team of other dept", org.StaffPatch{DeptID: ptr(tech.ID), TeamID: ptr(csTeam.ID)}, "team_id"},
		{"roles empty", org.StaffPatch{Roles: &[]string{}}, "roles"},
		{"roles unknown", org.StaffPatch{Roles: &[]string{"ghost"}}, "roles"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := o.UpdateStaff(ctx, st.ID, c.patch)
			fieldErr(t, err, apperr.Invalid, c.field)
		})
	}
	if got, _ := o.StaffByUsername(ctx, "wang"); got.UpdatedAt != st.UpdatedAt || got.DisplayName != st.DisplayName {
		t.Fatalf("refused updates changed the record: %+v", got)
	}

	t.Run("moving department drops the old team", func(t *testing.T) {
		if _, err := o.UpdateStaff(ctx, st.ID, org.StaffPatch{TeamID: &csTeam.ID}); err != nil {
			t.Fatal(err)
		}
		got, err := o.UpdateStaff(ctx, st.ID, org.StaffPatch{DeptID: &tech.ID})
		if err != nil || got.DeptID != tech.ID || got.TeamID != 0 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("roles and status", func(t *testing.T) {
		got, err := o.UpdateStaff(ctx, st.ID, org.StaffPatch{Roles: &[]string{"supervisor", "agent"}, Status: ptr(org.StatusDisabled)})
		if err != nil || !slices.Equal(got.Roles, []string{"agent", "supervisor"}) || got.Status != org.StatusDisabled {
			t.Fatalf("got %+v, %v", got, err)
		}
		if _, active, err := o.FindLogin(ctx, "WANG"); err != nil || active {
			t.Fatalf("FindLogin after disable: active=%v err=%v", active, err)
		}
	})
	t.Run("last admin stays", func(t *testing.T) {
		admin := srv.Staff(t, "root", "admin", "")
		_, err := o.UpdateStaff(ctx, admin.ID, org.StaffPatch{Status: ptr(org.StatusDisabled)})
		fieldErr(t, err, apperr.Conflict, "")
		_, err = o.UpdateStaff(ctx, admin.ID, org.StaffPatch{Roles: &[]string{"agent"}})
		fieldErr(t, err, apperr.Conflict, "")
		srv.Staff(t, "root2", "admin", "")
		if _, err := o.UpdateStaff(ctx, admin.ID, org.StaffPatch{Roles: &[]string{"agent"}}); err != nil {
			t.Fatalf("with a second admin: %v", err)
		}
	})
	t.Run("cannot grant more than one holds", func(t *testing.T) {
		// A custom role with staff:manage but not role:manage may not hand out admin. It
		// holds what wang holds (to cover him), and staff:manage.
		sup, agent := roleByCode(t, o, "supervisor"), roleByCode(t, o, "agent")
		perms := append(append([]string{"staff:manage"}, sup.Permissions...), agent.Permissions...)
		if _, err := o.CreateRole(ctx, org.RoleInput{Code: "hr", Name: "HR", Scope: authz.ScopeAll,
			Permissions: perms}); err != nil {
			t.Fatal(err)
		}
		hr := srv.Staff(t, "hr1", "hr", "cs")
		actor, err := o.LoadActor(ctx, hr.ID)
		if err != nil {
			t.Fatal(err)
		}
		hctx := authz.WithActor(context.Background(), actor)
		_, err = o.UpdateStaff(hctx, st.ID, org.StaffPatch{Roles: &[]string{"admin"}})
		fieldErr(t, err, apperr.Invalid, "roles")
		if _, err := o.CreateRole(ctx, org.RoleInput{Code: "reader", Name: "Reader", Scope: authz.ScopeOwn,
			Permissions: []string{"staff:read", "dept:read"}}); err != nil {
			t.Fatal(err)
		}
		cur, err := o.StaffByUsername(ctx, "wang")
		if err != nil {
			t.Fatal(err)
		}
		// Roles already held are kept without a check; only added ones must be grantable.
		if _, err := o.UpdateStaff(hctx, st.ID, org.StaffPatch{Roles: ptr(append(cur.Roles, "reader"))}); err != nil {
			t.Fatalf("grantable role refused: %v", err)
		}
	})
}

func TestDepartments(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	mk := func(code string, parent int64) org.Department {
		d, err := o.CreateDepartment(ctx, org.DepartmentInput{Code: code, Name: "D " + code, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a := mk("a", 0)
	b := mk("b", a.ID)
	c := mk("c", b.ID)
	other := mk("other", 0)

	t.Run("create validation", func(t *testing.T) {
		for _, in := range []struct {
			in    org.DepartmentInput
			kind  apperr.Kind
			field string
		}{
			{org.DepartmentInput{Code: "", Name: "x"}, apperr.Invalid, "code"},
			{org.DepartmentInput{Code: "Bad Code", Name: "x"}, apperr.Invalid, "code"},
			{org.DepartmentInput{Code: "ok", Name: ""}, apperr.Invalid, "name"},
			{org.DepartmentInput{Code: "ok", Name: "x", ParentID: 987654}, apperr.Invalid, "parent_id"},
			{org.DepartmentInput{Code: "A", Name: "dup"}, apperr.Conflict, "code"},
		} {
			_, err := o.CreateDepartment(ctx, in.in)
			fieldErr(t, err, in.kind, in.field)
		}
	})
	t.Run("cycles refused", func(t *testing.T) {
		for _, parent := range []int64{a.ID, b.ID, c.ID} {
			_, err := o.UpdateDepartment(ctx, a.ID, org.DepartmentPatch{ParentID: &parent})
			fieldErr(t, err, apperr.Invalid, "parent_id")
		}
		if _, err := o.UpdateDepartment(ctx, b.ID, org.DepartmentPatch{ParentID: &c.ID}); err == nil {
			t.Fatal("b under its own child c accepted")
		}
		moved, err := o.UpdateDepartment(ctx, c.ID, org.DepartmentPatch{ParentID: &other.ID})
		if err != nil || moved.ParentID != other.ID {
			t.Fatalf("legal move: %+v %v", moved, err)
		}
		root, err := o.UpdateDepartment(ctx, c.ID, org.DepartmentPatch{ParentID: ptr(int64(0))})
		if err != nil || root.ParentID != 0 {
			t.Fatalf("to root: %+v %v", root, err)
		}
	})
	t.Run("duplicate code on update", func(t *testing.T) {
		_, err := o.UpdateDepartment(ctx, b.ID, org.DepartmentPatch{Code: ptr("a")})
		fieldErr(t, err, apperr.Conflict, "code")
	})
	t.Run("delete refuses non-empty", func(t *testing.T) {
		fieldErr(t, o.DeleteDepartment(ctx, a.ID), apperr.Conflict, "") // has child b
		team, err := o.CreateTeam(ctx, org.TeamInput{DeptID: other.ID, Name: "T"})
		if err != nil {
			t.Fatal(err)
		}
		fieldErr(t, o.DeleteDepartment(ctx, other.ID), apperr.Conflict, "") // has a team
		st, err := o.CreateStaff(ctx, org.StaffInput{Username: "member", DisplayName: "M", TeamID: team.ID, Roles: []string{"agent"}})
		if err != nil {
			t.Fatal(err)
		}
		fieldErr(t, o.DeleteTeam(ctx, team.ID), apperr.Conflict, "") // has staff
		if st.DeptID != other.ID {
			t.Fatalf("staff dept %d, want team's %d", st.DeptID, other.ID)
		}
		if _, err := o.UpdateStaff(ctx, st.ID, org.StaffPatch{TeamID: ptr(int64(0)), DeptID: ptr(int64(0))}); err != nil {
			t.Fatal(err)
		}
		if err := o.DeleteTeam(ctx, team.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.DeleteDepartment(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := o.GetDepartment(ctx, other.ID); apperr.KindOf(err) != apperr.NotFound {
			t.Fatalf("after delete: %v", err)
		}
	})
	t.Run("team names unique per department", func(t *testing.T) {
		if _, err := o.CreateTeam(ctx, org.TeamInput{DeptID: a.ID, Name: "Same"}); err != nil {
			t.Fatal(err)
		}
		_, err := o.CreateTeam(ctx, org.TeamInput{DeptID: a.ID, Name: "Same"})
		fieldErr(t, err, apperr.Conflict, "name")
		if _, err := o.CreateTeam(ctx, org.TeamInput{DeptID: b.ID, Name: "Same"}); err != nil {
			t.Fatalf("same name in another department: %v", err)
		}
		_, err = o.CreateTeam(ctx, org.TeamInput{Name: "X"})
		fieldErr(t, err, apperr.Invalid, "dept_id")
	})
}

func roleByCode(t *testing.T, o *org.Service, code string) org.Role {
	t.Helper()
	r, err := o.RoleByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSeedRoles(t *testing.T) {
	srv := apptest.New(t) // app.New seeded once already
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	all, err := o.AllRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(authz.BuiltinRoles) {
		t.Fatalf("%d roles after seeding, want %d", len(all), len(authz.BuiltinRoles))
	}
	for _, def := range authz.BuiltinRoles {
		r := roleByCode(t, o, def.Code)
		if !r.Builtin || r.Scope != def.Scope || !slices.Equal(r.Permissions, slices.Sorted(slices.Values(def.Perms))) {
			t.Errorf("seeded %s = %+v, want %+v", def.Code, r, def)
		}
	}
	// An administrator edits a built-in role; seeding again must not undo it.
	dir := roleByCode(t, o, "director")
	edited, err := o.UpdateRole(ctx, dir.ID, org.RolePatch{Permissions: &[]string{"staff:read"}, Scope: ptr(authz.ScopeDept)})
	if err != nil {
		t.Fatal(err)
	}
	before := srv.AuditSeq(t)
	for range 2 {
		if err := o.SeedRoles(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := roleByCode(t, o, "director"); !slices.Equal(got.Permissions, edited.Permissions) || got.Scope != authz.ScopeDept {
		t.Fatalf("seeding overwrote an edit: %+v", got)
	}
	if srv.AuditSeq(t) != before {
		t.Fatal("idempotent seeding wrote audit entries")
	}
	if all2, _ := o.AllRoles(ctx); len(all2) != len(all) {
		t.Fatalf("seeding again added roles: %d -> %d", len(all), len(all2))
	}

	// A release adds a default permission to a built-in role: simulate an installation
	// seeded before "role:read" was a supervisor default.
	sup := roleByCode(t, o, "supervisor")
	if _, err := o.UpdateRole(ctx, sup.ID, org.RolePatch{Permissions: &[]string{"staff:read", "dept:read"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.DB.Exec(context.Background(), `UPDATE settings SET value = ? WHERE key = ?`,
		`["dept:read","staff:read"]`, "org.builtin_perms.supervisor"); err != nil {
		t.Fatal(err)
	}
	if err := o.SeedRoles(ctx); err != nil {
		t.Fatal(err)
	}
	if got := roleByCode(t, o, "supervisor"); !slices.Contains(got.Permissions, "role:read") {
		t.Fatalf("new default not granted: %v", got.Permissions)
	}
	if got := roleByCode(t, o, "director"); !slices.Equal(got.Permissions, edited.Permissions) {
		t.Fatalf("director edit undone: %v", got.Permissions)
	}
}

func TestRoles(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	admin := roleByCode(t, o, "admin")
	cases := []struct {
		name  string
		in    org.RoleInput
		kind  apperr.Kind
		field string
	}{
		{"bad code", org.RoleInput{Code: "9x", Name: "n", Scope: "all"}, apperr.Invalid, "code"},
		{"no name", org.RoleInput{Code: "ok", Scope: "all"}, apperr.Invalid, "name"},
		{"bad scope", org.RoleInput{Code: "ok", Name: "n", Scope: "world"}, apperr.Invalid, "scope"},
		{"unknown permission", org.RoleInput{Code: "ok", Name: "n", Scope: "all", Permissions: []string{"staff:read", "fly:plane"}}, apperr.Invalid, "permissions"},
		{"duplicate code", org.RoleInput{Code: "agent", Name: "n", Scope: "all"}, apperr.Conflict, "code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := o.CreateRole(ctx, c.in)
			fieldErr(t, err, c.kind, c.field)
		})
	}
	_, err := o.UpdateRole(ctx, admin.ID, org.RolePatch{Permissions: &[]string{"staff:read"}})
	fieldErr(t, err, apperr.Invalid, "permissions")
	_, err = o.UpdateRole(ctx, admin.ID, org.RolePatch{Scope: ptr(authz.ScopeDept)})
	fieldErr(t, err, apperr.Invalid, "scope")
	fieldErr(t, o.DeleteRole(ctx, admin.ID), apperr.Conflict, "")

	r, err := o.CreateRole(ctx, org.RoleInput{Code: "night_shift", Name: "Night", Scope: authz.ScopeTeam,
		Permissions: []string{"staff:read", "dept:read", "staff:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Permissions, []string{"dept:read", "staff:read"}) || r.Builtin {
		t.Fatalf("created %+v", r)
	}
	st := srv.Staff(t, "owl", "night_shift", "cs")
	fieldErr(t, o.DeleteRole(ctx, r.ID), apperr.Conflict, "") // held by owl
	if _, err := o.UpdateStaff(ctx, st.ID, org.StaffPatch{Roles: &[]string{"agent"}}); err != nil {
		t.Fatal(err)
	}
	if err := o.DeleteRole(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
}

func TestLoadActor(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	team, err := o.CreateTeam(ctx, org.TeamInput{DeptID: srv.Dept(t, "cs", "CS").ID, Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := o.CreateStaff(ctx, org.StaffInput{Username: "multi", DisplayName: "Multi", TeamID: team.ID,
		Roles: []string{"agent", "supervisor"}, Locale: "zh-TW"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := o.LoadActor(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != authz.KindStaff || a.Username != "multi" || a.DeptID != team.DeptID || a.TeamID != team.ID ||
		a.Locale != "zh-TW" || !slices.Equal(a.Roles, []string{"agent", "supervisor"}) {
		t.Fatalf("actor %+v", a)
	}
	checks := []struct {
		perm  string
		scope authz.Scope
	}{
		{"dept:read", authz.ScopeDept}, // agent grants it at team, supervisor at dept: widest wins
		{"staff:read", authz.ScopeDept},
		{"role:read", authz.ScopeDept},
		{"staff:manage", ""},
	}
	for _, c := range checks {
		if got := a.ScopeOf(c.perm); got != c.scope {
			t.Errorf("ScopeOf(%s) = %q, want %q", c.perm, got, c.scope)
		}
	}
	if !a.Reaches("staff:read", authz.Record{DeptID: team.DeptID}) || a.Reaches("staff:read", authz.Record{DeptID: team.DeptID + 1}) {
		t.Error("department scope not applied")
	}

	adminSt := srv.Staff(t, "boss", "admin", "")
	ad, err := o.LoadActor(ctx, adminSt.ID)
	if err != nil || !ad.Can("anything:at_all") || ad.ScopeOf("staff:read") != authz.ScopeAll {
		t.Fatalf("admin actor %+v %v", ad, err)
	}

	if _, err := o.LoadActor(ctx, 987654); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("unknown staff: %v", err)
	}
	if _, err := o.UpdateStaff(ctx, st.ID, org.StaffPatch{Status: ptr(org.StatusDisabled)}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.LoadActor(ctx, st.ID); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("disabled staff: %v", err)
	}
	if _, _, err := o.FindLogin(ctx, "nobody"); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("FindLogin unknown: %v", err)
	}
}

func TestListStaffScopeAndPaging(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	for i := range 7 {
		srv.Staff(t, "cs"+string(rune('a'+i))+"x", "agent", "cs")
	}
	srv.Staff(t, "qa_one", "qa", "qa")
	sup := srv.Staff(t, "sup", "supervisor", "cs")
	actor, err := o.LoadActor(ctx, sup.ID)
	if err != nil {
		t.Fatal(err)
	}
	sctx := authz.WithActor(context.Background(), actor)
	var seen []string
	cur := ""
	for pages := 0; ; pages++ {
		p, err := o.ListStaff(sctx, org.StaffFilter{Limit: 3, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range p.Items {
			seen = append(seen, st.Username)
		}
		if p.NextCursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		cur = p.NextCursor
	}
	if len(seen) != 8 || slices.Contains(seen, "qa_one") || seen[0] != "sup" {
		t.Fatalf("supervisor sees %v", seen)
	}
	p, err := o.ListStaff(ctx, org.StaffFilter{Role: "qa"})
	if err != nil || len(p.Items) != 1 || p.Items[0].Username != "qa_one" {
		t.Fatalf("role filter: %+v %v", p, err)
	}
	p, err = o.ListStaff(ctx, org.StaffFilter{Q: "CSB"})
	if err != nil || len(p.Items) != 1 || p.Items[0].Username != "csbx" {
		t.Fatalf("q filter: %+v %v", p, err)
	}
	p, err = o.ListStaff(ctx, org.StaffFilter{Q: "%"})
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("q wildcard not escaped: %+v %v", p, err)
	}
	if _, err := o.ListStaff(ctx, org.StaffFilter{Cursor: "!!"}); apperr.KindOf(err) != apperr.Malformed {
		t.Fatalf("bad cursor: %v", err)
	}
}

// BenchmarkLoadActor measures the principal load every authenticated request runs.
func BenchmarkLoadActor(b *testing.B) {
	srv := apptest.New(b)
	ctx := apptest.SystemCtx()
	st, err := srv.App.Org.CreateStaff(ctx, org.StaffInput{Username: "bench", DisplayName: "Bench",
		DeptID: srv.Dept(b, "cs", "CS").ID, Roles: []string{"agent", "supervisor"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.App.Org.LoadActor(ctx, st.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListStaff measures one page of the staff list over 2,000 staff.
func BenchmarkListStaff(b *testing.B) {
	srv := apptest.New(b)
	ctx := apptest.SystemCtx()
	dept := srv.Dept(b, "cs", "CS").ID
	err := srv.App.Org.Atomically(ctx, func(ctx context.Context) error {
		for i := range 2000 {
			if _, err := srv.App.Org.CreateStaff(ctx, org.StaffInput{Username: "user" + strconv.Itoa(i), DisplayName: "User",
				DeptID: dept, Roles: []string{"agent"}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.App.Org.ListStaff(ctx, org.StaffFilter{Limit: 50, Role: "agent"}); err != nil {
			b.Fatal(err)
		}
	}
}
