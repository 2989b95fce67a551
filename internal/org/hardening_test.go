package org_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// TestStaffMobileEncrypted: a staff mobile is stored only encrypted, shown masked to
// viewers who may not manage the staff member, and masked in the audit log.
func TestStaffMobileEncrypted(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	const mobile, next = "13912345678", "13787654321"
	admin := srv.As(t, "admin")
	r := admin.Do(t, "POST", "/api/v1/staff", map[string]any{"username": "zhao", "display_name": "Zhao",
		"mobile": mobile, "roles": []string{"agent"}, "dept_id": admin.Staff.DeptID})
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), mobile) {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	st, err := srv.App.Org.StaffByUsername(ctx, "zhao")
	if err != nil || st.Mobile != mobile {
		t.Fatalf("read back: %q %v", st.Mobile, err)
	}
	r = admin.Do(t, "PATCH", fmt.Sprintf("/api/v1/staff/%d", st.ID), map[string]any{"mobile": next, "version": st.Version})
	if r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	var clear, enc string
	if err := srv.App.DB.QueryRow(context.Background(), `SELECT mobile, mobile_enc FROM staff WHERE id = ?`, st.ID).Scan(&clear, &enc); err != nil {
		t.Fatal(err)
	}
	if clear != "" || enc == "" || strings.Contains(enc, next) || strings.Contains(enc, "8765") {
		t.Fatalf("stored: mobile %q, mobile_enc %q", clear, enc)
	}
	// No clear number anywhere in the audit log; the masked one is there.
	var n int
	if err := srv.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE detail LIKE ? OR detail LIKE ?`,
		"%"+mobile+"%", "%"+next+"%").Scan(&n); err != nil || n != 0 {
		t.Fatalf("clear mobile in %d audit entries (%v)", n, err)
	}
	if err := srv.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action IN ('staff.create', 'staff.update') AND detail LIKE ?`,
		"%139****5678%").Scan(&n); err != nil || n == 0 {
		t.Fatalf("masked mobile not in the audit log: %d %v", n, err)
	}
	// Viewers: the manager and the staff member see it; a supervisor (staff:read only) sees it masked.
	path := fmt.Sprintf("/api/v1/staff/%d", st.ID)
	for _, c := range []struct {
		name string
		body string
		want string
	}{
		{"admin", string(admin.Do(t, "GET", path, nil).Body), next},
		{"supervisor", string(srv.As(t, "supervisor").Do(t, "GET", path, nil).Body), "137****4321"},
		{"supervisor list", string(srv.As(t, "supervisor").Do(t, "GET", "/api/v1/staff?q=zhao", nil).Body), "137****4321"},
	} {
		if !strings.Contains(c.body, c.want) || (c.want != next && strings.Contains(c.body, next)) {
			t.Errorf("%s sees: %s", c.name, c.body)
		}
	}
	self, err := srv.App.Org.LoadActor(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	self.Grant(org.PermStaffRead, authz.ScopeOwn)
	if got, err := srv.App.Org.GetStaff(authz.WithActor(context.Background(), self), st.ID); err != nil || got.Mobile != next {
		t.Fatalf("own mobile: %q %v", got.Mobile, err)
	}
}

// TestEncryptStaffMobiles: numbers stored in clear before migration 00011 move to the
// encrypted column at start-up, and read back the same.
func TestEncryptStaffMobiles(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	st := srv.Staff(t, "legacy", "agent", "cs")
	other := srv.Staff(t, "nomobile", "agent", "cs")
	if _, err := srv.App.DB.Exec(context.Background(), `UPDATE staff SET mobile = ?, mobile_enc = '' WHERE id = ?`, "13600001111", st.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := srv.App.Org.StaffByUsername(ctx, "legacy"); err != nil || got.Mobile != "13600001111" {
		t.Fatalf("legacy value before the move: %q %v", got.Mobile, err)
	}
	n, err := srv.App.Org.EncryptStaffMobiles(ctx)
	if err != nil || n != 1 {
		t.Fatalf("moved %d, %v", n, err)
	}
	if n, err := srv.App.Org.EncryptStaffMobiles(ctx); err != nil || n != 0 {
		t.Fatalf("second run moved %d, %v", n, err)
	}
	var clear, enc string
	if err := srv.App.DB.QueryRow(context.Background(), `SELECT mobile, mobile_enc FROM staff WHERE id = ?`, st.ID).Scan(&clear, &enc); err != nil {
		t.Fatal(err)
	}
	if clear != "" || enc == "" {
		t.Fatalf("after the move: %q %q", clear, enc)
	}
	if got, err := srv.App.Org.StaffByUsername(ctx, "legacy"); err != nil || got.Mobile != "13600001111" {
		t.Fatalf("after the move: %q %v", got.Mobile, err)
	}
	if got, err := srv.App.Org.StaffByUsername(ctx, other.Username); err != nil || got.Mobile != "" {
		t.Fatalf("no mobile: %q %v", got.Mobile, err)
	}
}

// TestOrgVersions: every org PATCH carries a version (body or If-Match), a stale one is
// 409, the answer carries the new version as ETag, and non-PATCH changes bump it too.
func TestOrgVersions(t *testing.T) {
	srv := apptest.New(t)
	ctx := apptest.SystemCtx()
	o := srv.App.Org
	admin := srv.As(t, "admin")
	st := srv.Staff(t, "lisi", "agent", "cs")
	dept := srv.Dept(t, "cs", "")
	team, err := o.CreateTeam(ctx, org.TeamInput{DeptID: dept.ID, Name: "Night"})
	if err != nil {
		t.Fatal(err)
	}
	role, err := o.CreateRole(ctx, org.RoleInput{Code: "temp", Name: "Temp", Scope: authz.ScopeOwn, Permissions: []string{"kb:read"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{fmt.Sprintf("/api/v1/staff/%d", st.ID), map[string]any{"display_name": "Li Si"}},
		{fmt.Sprintf("/api/v1/departments/%d", dept.ID), map[string]any{"name": "Service"}},
		{fmt.Sprintf("/api/v1/teams/%d", team.ID), map[string]any{"name": "Late"}},
		{fmt.Sprintf("/api/v1/roles/%d", role.ID), map[string]any{"name": "Temporary"}},
	} {
		t.Run(c.path, func(t *testing.T) {
			g := admin.Do(t, "GET", c.path, nil)
			if g.Status != http.StatusOK || g.Header.Get("ETag") != `"1"` || !strings.Contains(string(g.Body), `"version":1`) {
				t.Fatalf("GET: %d %q %s", g.Status, g.Header.Get("ETag"), g.Body)
			}
			if r := admin.Do(t, "PATCH", c.path, c.body); r.Status != http.StatusPreconditionRequired || !strings.Contains(string(r.Body), `"version_required"`) {
				t.Fatalf("no version: %d %s", r.Status, r.Body)
			}
			r := admin.DoWithHeaders(t, "PATCH", c.path, c.body, map[string]string{"If-Match": `"1"`})
			if r.Status != http.StatusOK || r.Header.Get("ETag") != `"2"` || !strings.Contains(string(r.Body), `"version":2`) {
				t.Fatalf("If-Match: %d %q %s", r.Status, r.Header.Get("ETag"), r.Body)
			}
			c.body["version"] = 1
			if r := admin.Do(t, "PATCH", c.path, c.body); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), `"version_conflict"`) {
				t.Fatalf("stale: %d %s", r.Status, r.Body)
			}
			if r := admin.DoWithHeaders(t, "PATCH", c.path, c.body, map[string]string{"If-Match": `"2"`}); r.Status != http.StatusBadRequest {
				t.Fatalf("body and If-Match disagree: %d %s", r.Status, r.Body)
			}
		})
	}
	// A change outside PATCH (the language switcher) bumps the staff version too.
	before, _ := o.GetStaff(ctx, st.ID)
	if err := o.SetLocale(ctx, st.ID, "en"); err != nil {
		t.Fatal(err)
	}
	if after, _ := o.GetStaff(ctx, st.ID); after.Version != before.Version+1 {
		t.Fatalf("version after SetLocale: %d, before %d", after.Version, before.Version)
	}
	// The service refuses a stale version inside its transaction.
	_, err = o.UpdateTeam(ctx, team.ID, org.TeamPatch{Name: ptr("Again"), Version: ptr(int64(1))})
	if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeStaleVersion {
		t.Fatalf("stale UpdateTeam: %v", err)
	}
	// The edit forms carry the version; a stale form is refused.
	b := srv.Browser(t, srv.As(t, "admin").Staff.Username, apptest.Password)
	page := b.Do(t, "GET", fmt.Sprintf("/staff/%d", st.ID), nil)
	v := apptest.HiddenField(page.Body, "version")
	if v == "" {
		t.Fatalf("staff form without a version field")
	}
	form := url.Values{"display_name": {"Li"}, "roles": {"agent"}, "status": {"active"}, "version": {"1"}, "dept_id": {fmt.Sprint(dept.ID)}}
	if r := b.PostForm(t, fmt.Sprintf("/staff/%d", st.ID), form); r.Status != http.StatusConflict {
		t.Fatalf("stale staff form: %d", r.Status)
	}
	form.Set("version", v)
	if r := b.PostForm(t, fmt.Sprintf("/staff/%d", st.ID), form); r.Status != http.StatusSeeOther {
		t.Fatalf("current staff form: %d %s", r.Status, r.Body)
	}
	for _, p := range []string{fmt.Sprintf("/roles/%d", role.ID), fmt.Sprintf("/departments/%d", dept.ID)} {
		if apptest.HiddenField(b.Do(t, "GET", p, nil).Body, "version") == "" {
			t.Errorf("%s: form without a version field", p)
		}
	}
}
