package demo_test

import (
	"context"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/demo"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

func TestSeed(t *testing.T) {
	srv := apptest.New(t)
	o, a := srv.App.Org, srv.App.Auth
	// Seed is called with a plain context, as `kefu serve --demo` does.
	logins, err := demo.Seed(context.Background(), demo.Deps{Org: o, Auth: a})
	if err != nil {
		t.Fatal(err)
	}
	ctx := apptest.SystemCtx()
	roles := map[string]bool{}
	for _, l := range logins {
		if l.Username == "" || l.Name == "" || len(l.Password) < 8 {
			t.Errorf("login %+v", l)
		}
		st, err := o.StaffByUsername(ctx, l.Username)
		if err != nil {
			t.Fatalf("%s: %v", l.Username, err)
		}
		if len(st.Roles) != 1 || st.Roles[0] != l.Role || st.DisplayName != l.Name || st.DeptID == 0 {
			t.Errorf("%s stored as %+v", l.Username, st)
		}
		if err := a.VerifyPassword(ctx, st.ID, l.Password); err != nil {
			t.Errorf("%s cannot authenticate: %v", l.Username, err)
		}
		roles[l.Role] = true
	}
	for _, def := range authz.BuiltinRoles {
		if !roles[def.Code] {
			t.Errorf("no demo login with role %s", def.Code)
		}
	}
	for _, code := range []string{"cs", "revisit", "tech", "qa", "admin"} {
		if _, err := o.DepartmentByCode(ctx, code); err != nil {
			t.Errorf("department %s: %v", code, err)
		}
	}
	teams, err := o.AllTeams(ctx)
	if err != nil || len(teams) < 2 {
		t.Fatalf("teams %v %v", teams, err)
	}
	n, _ := o.CountStaff(ctx)
	again, err := demo.Seed(context.Background(), demo.Deps{Org: o, Auth: a})
	if err != nil || again != nil {
		t.Fatalf("second seed: %v, %v", again, err)
	}
	if m, _ := o.CountStaff(ctx); m != n {
		t.Fatalf("second seed changed staff count %d -> %d", n, m)
	}
	// A demo login signs in through the real form.
	srv.Browser(t, logins[0].Username, logins[0].Password)
}

func TestSeedSkipsNonEmptyDatabase(t *testing.T) {
	srv := apptest.New(t)
	srv.Staff(t, "first", "admin", "")
	logins, err := demo.Seed(context.Background(), demo.Deps{Org: srv.App.Org, Auth: srv.App.Auth, Customer: srv.App.Customer})
	if err != nil || logins != nil {
		t.Fatalf("seed over existing staff: %v, %v", logins, err)
	}
	if _, err := srv.App.Org.DepartmentByCode(apptest.SystemCtx(), "revisit"); err == nil {
		t.Fatal("demo departments added to a database with staff")
	}
}
