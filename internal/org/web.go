package org

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// pages holds the HTML handlers.
type pages struct{ s *Service }

// option is one choice of a select or a checkbox group.
type option struct {
	Value    string
	Label    string
	Selected bool
}

func tr(r *http.Request, key string, kv ...any) string {
	return httpx.CatalogFrom(r.Context()).Msg(i18n.Lang(r.Context()), i18n.M(key, kv...))
}

func (p pages) fail(w http.ResponseWriter, r *http.Request, err error) { p.s.web.PageError(w, r, err) }

// formErr turns err into form errors, or renders an error page and reports false.
func (p pages) formErr(w http.ResponseWriter, r *http.Request, err error) (web.FormErrors, string, int, bool) {
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return nil, "", 0, false
	}
	return fe, msg, httpx.Status(apperr.KindOf(err)), true
}

// formID reads an optional id field: 0 when empty, -1 when not a positive number (the
// service then names the field).
func formID(r *http.Request, name string) int64 {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// formVersion reads the hidden "version" field of an edit form: nil when absent (the
// service then skips the check), -1 when garbled (refused as stale).
func formVersion(r *http.Request) *int64 {
	v := strings.TrimSpace(r.PostFormValue("version"))
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		n = -1
	}
	return &n
}

func queryID(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ---- shared option lists ----

type orgData struct {
	depts []Department
	teams []Team
	roles []Role
}

func (p pages) load(r *http.Request) (orgData, error) {
	var d orgData
	var err error
	ctx := r.Context()
	if d.depts, err = p.s.AllDepartments(ctx); err != nil {
		return d, err
	}
	if d.teams, err = p.s.AllTeams(ctx); err != nil {
		return d, err
	}
	d.roles, err = p.s.AllRoles(ctx)
	return d, err
}

func (d orgData) deptName(id int64) string {
	for _, x := range d.depts {
		if x.ID == id {
			return x.Name
		}
	}
	return ""
}

func (d orgData) teamName(id int64) string {
	for _, x := range d.teams {
		if x.ID == id {
			return x.Name
		}
	}
	return ""
}

// deptOptions lists departments in tree order, indented by depth, leaving out skip and
// its descendants (a department cannot move under itself).
func (d orgData) deptOptions(selected, skip int64) []option {
	var out []option
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		for _, x := range d.depts {
			if x.ParentID != parent || x.ID == skip {
				continue
			}
			out = append(out, option{Value: itoa(x.ID), Label: strings.Repeat("\u2014 ", depth) + x.Name + " (" + x.Code + ")",
				Selected: x.ID == selected})
			walk(x.ID, depth+1)
		}
	}
	walk(0, 0)
	return out
}

func (d orgData) teamOptions(selected int64) []option {
	out := make([]option, 0, len(d.teams))
	for _, t := range d.teams {
		out = append(out, option{Value: itoa(t.ID), Label: d.deptName(t.DeptID) + " / " + t.Name, Selected: t.ID == selected})
	}
	return out
}

func (d orgData) roleOptions(r *http.Request, checked []string) []option {
	out := make([]option, 0, len(d.roles))
	for _, ro := range d.roles {
		out = append(out, option{Value: ro.Code, Label: roleLabel(r, ro), Selected: slices.Contains(checked, ro.Code)})
	}
	return out
}

func (d orgData) roleLabels(r *http.Request, codes []string) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		label := c
		for _, ro := range d.roles {
			if ro.Code == c {
				label = roleLabel(r, ro)
			}
		}
		out = append(out, label)
	}
	return out
}

func statusOptions(r *http.Request, selected string, withAny bool) []option {
	var out []option
	if withAny {
		out = append(out, option{Value: "", Label: tr(r, "org.filter.any"), Selected: selected == ""})
	}
	for _, s := range []string{StatusActive, StatusDisabled} {
		out = append(out, option{Value: s, Label: tr(r, "org.status."+s), Selected: s == selected})
	}
	return out
}

func localeOptions(r *http.Request, selected string) []option {
	cat := httpx.CatalogFrom(r.Context())
	out := []option{{Value: "", Label: tr(r, "org.locale.auto"), Selected: selected == ""}}
	for _, l := range i18n.Languages {
		out = append(out, option{Value: l, Label: cat.T(l, "lang.self", nil), Selected: l == selected})
	}
	return out
}

func scopeOptions(r *http.Request, selected authz.Scope) []option {
	var out []option
	for _, s := range []authz.Scope{authz.ScopeAll, authz.ScopeDept, authz.ScopeTeam, authz.ScopeOwn} {
		out = append(out, option{Value: string(s), Label: tr(r, "org.scope."+string(s)), Selected: s == selected})
	}
	return out
}

// ======================= staff pages =======================

// StaffListPage is the model of /staff.
type StaffListPage struct {
	Q         string
	DeptID    int64
	Role      string
	Status    string
	Depts     []option
	Roles     []option
	Statuses  []option
	Rows      []StaffRow
	NextURL   string
	CanManage bool
}

// StaffRow is one line of the staff list.
type StaffRow struct {
	ID          int64
	Username    string
	DisplayName string
	Dept        string
	Team        string
	Roles       []string
	Active      bool
	Status      string
}

func (p pages) staffList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	f := StaffFilter{Q: strings.TrimSpace(q.Get("q")), DeptID: queryID(r, "dept_id"), TeamID: queryID(r, "team_id"),
		Role: q.Get("role"), Status: q.Get("status"), Cursor: q.Get("cursor"), Limit: httpx.DefaultLimit}
	list, err := p.s.ListStaff(ctx, f)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d, err := p.load(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := StaffListPage{Q: f.Q, DeptID: f.DeptID, Role: f.Role, Status: f.Status,
		Depts: d.deptOptions(f.DeptID, 0), Roles: d.roleOptions(r, []string{f.Role}), Statuses: statusOptions(r, f.Status, true),
		CanManage: authz.From(ctx).Can(PermStaffWrite)}
	for _, st := range list.Items {
		pg.Rows = append(pg.Rows, StaffRow{ID: st.ID, Username: st.Username, DisplayName: st.DisplayName,
			Dept: d.deptName(st.DeptID), Team: d.teamName(st.TeamID), Roles: d.roleLabels(r, st.Roles),
			Active: st.Active(), Status: tr(r, "org.status."+st.Status)})
	}
	if list.NextCursor != "" {
		nq := url.Values{}
		for k, v := range q {
			if k != "cursor" {
				nq[k] = v
			}
		}
		nq.Set("cursor", list.NextCursor)
		pg.NextURL = "/staff?" + nq.Encode()
	}
	web.Render(p.s.web, w, r, http.StatusOK, "org/staff_list", "page.staff.title", pg)
}

// StaffPage is the model of /staff/new and /staff/{id}.
type StaffPage struct {
	New         bool
	ID          int64
	Username    string
	DisplayName string
	Mobile      string
	Email       string
	Skills      string
	Status      string
	Locale      string
	Version     int64
	Active      bool
	DeptName    string
	TeamName    string
	RoleLabels  []string
	SkillList   []string
	Depts       []option
	Teams       []option
	Roles       []option
	Statuses    []option
	Locales     []option
	CanManage   bool
	Lock        LockState
	Errors      web.FormErrors
	Message     string
	PwErrors    web.FormErrors
	PwMessage   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (p pages) staffPage(r *http.Request, st Staff, isNew bool) (StaffPage, error) {
	d, err := p.load(r)
	if err != nil {
		return StaffPage{}, err
	}
	return StaffPage{New: isNew, ID: st.ID, Username: st.Username, DisplayName: st.DisplayName, Mobile: st.Mobile,
		Email: st.Email, Skills: strings.Join(st.Skills, ", "), SkillList: st.Skills, Status: st.Status, Locale: st.Locale,
		Version: st.Version, Active: st.Active(), DeptName: d.deptName(st.DeptID), TeamName: d.teamName(st.TeamID),
		RoleLabels: d.roleLabels(r, st.Roles), Depts: d.deptOptions(st.DeptID, 0), Teams: d.teamOptions(st.TeamID),
		Roles: d.roleOptions(r, st.Roles), Statuses: statusOptions(r, st.Status, false), Locales: localeOptions(r, st.Locale),
		CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt}, nil
}

func (p pages) renderStaff(w http.ResponseWriter, r *http.Request, status int, pg StaffPage) {
	title := "page.staff_view.title"
	if pg.New {
		title = "page.staff_new.title"
	}
	web.Render(p.s.web, w, r, status, "org/staff", title, pg)
}

func (p pages) staffNew(w http.ResponseWriter, r *http.Request) {
	pg, err := p.staffPage(r, Staff{Status: StatusActive, Roles: []string{"agent"}}, true)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg.CanManage = true
	p.renderStaff(w, r, http.StatusOK, pg)
}

func staffForm(r *http.Request) StaffInput {
	return StaffInput{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"),
		Mobile: r.PostFormValue("mobile"), Email: r.PostFormValue("email"), DeptID: formID(r, "dept_id"),
		TeamID: formID(r, "team_id"), Roles: r.PostForm["roles"], Skills: SplitSkills(r.PostFormValue("skills")),
		Locale: r.PostFormValue("locale")}
}

func (p pages) staffCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	in := staffForm(r)
	st, err := p.s.CreateStaffWithPassword(r.Context(), in, r.PostFormValue("password"))
	if err == nil {
		web.Redirect(w, r, "/staff/"+itoa(st.ID), "org.flash.staff_created")
		return
	}
	fe, msg, status, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	pg, lerr := p.staffPage(r, Staff{Username: in.Username, DisplayName: in.DisplayName, Mobile: in.Mobile, Email: in.Email,
		DeptID: in.DeptID, TeamID: in.TeamID, Roles: in.Roles, Skills: in.Skills, Locale: in.Locale, Status: StatusActive}, true)
	if lerr != nil {
		p.fail(w, r, lerr)
		return
	}
	pg.CanManage, pg.Errors, pg.Message = true, fe, msg
	p.renderStaff(w, r, status, pg)
}

// viewStaff renders /staff/{id} with st's stored values, or with the posted ones.
func (p pages) viewStaff(w http.ResponseWriter, r *http.Request, status int, edit func(*StaffPage)) {
	ctx := r.Context()
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	st, err := p.s.GetStaff(ctx, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg, err := p.staffPage(r, st, false)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg.CanManage = p.s.CanManageStaff(ctx, id)
	if pg.CanManage {
		if pg.Lock, err = p.s.StaffLock(ctx, id); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	if edit != nil {
		edit(&pg)
	}
	p.renderStaff(w, r, status, pg)
}

func (p pages) staffView(w http.ResponseWriter, r *http.Request) {
	p.viewStaff(w, r, http.StatusOK, nil)
}

func (p pages) staffUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	in := staffForm(r)
	status := r.PostFormValue("status")
	patch := StaffPatch{DisplayName: &in.DisplayName, Mobile: &in.Mobile, Email: &in.Email, DeptID: &in.DeptID,
		TeamID: &in.TeamID, Roles: &in.Roles, Skills: &in.Skills, Status: &status, Locale: &in.Locale,
		Version: formVersion(r)}
	if _, err = p.s.UpdateStaff(r.Context(), id, patch); err == nil {
		web.Redirect(w, r, "/staff/"+itoa(id), "org.flash.saved")
		return
	}
	fe, msg, code, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	p.viewStaff(w, r, code, func(pg *StaffPage) {
		d, lerr := p.load(r)
		if lerr == nil {
			pg.Depts, pg.Teams, pg.Roles = d.deptOptions(in.DeptID, 0), d.teamOptions(in.TeamID), d.roleOptions(r, in.Roles)
		}
		pg.DisplayName, pg.Mobile, pg.Email, pg.Skills = in.DisplayName, in.Mobile, in.Email, strings.Join(in.Skills, ", ")
		pg.Statuses, pg.Locales = statusOptions(r, status, false), localeOptions(r, in.Locale)
		pg.Errors, pg.Message = fe, msg
	})
}

func (p pages) staffPassword(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err = p.s.SetStaffPassword(r.Context(), id, r.PostFormValue("password")); err == nil {
		web.Redirect(w, r, "/staff/"+itoa(id), "org.flash.password_set")
		return
	}
	fe, msg, code, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	p.viewStaff(w, r, code, func(pg *StaffPage) { pg.PwErrors, pg.PwMessage = fe, msg })
}

func (p pages) staffUnlock(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		if err = p.s.UnlockStaff(r.Context(), id); err == nil {
			web.Redirect(w, r, "/staff/"+itoa(id), "org.flash.unlocked")
			return
		}
	}
	p.fail(w, r, err)
}

// ======================= department pages =======================

// DeptNode is a department in the tree with its teams and sub-departments.
type DeptNode struct {
	Department
	Teams    []Team
	Children []*DeptNode
}

// DeptTreePage is the model of /departments.
type DeptTreePage struct {
	Roots     []*DeptNode
	Parents   []option
	Code      string
	Name      string
	CanManage bool
	Errors    web.FormErrors
	Message   string
}

func (d orgData) tree() []*DeptNode {
	nodes := make(map[int64]*DeptNode, len(d.depts))
	for _, x := range d.depts {
		nodes[x.ID] = &DeptNode{Department: x}
	}
	for _, t := range d.teams {
		if n := nodes[t.DeptID]; n != nil {
			n.Teams = append(n.Teams, t)
		}
	}
	var roots []*DeptNode
	for _, x := range d.depts {
		n := nodes[x.ID]
		if parent := nodes[x.ParentID]; x.ParentID != 0 && parent != nil {
			parent.Children = append(parent.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	return roots
}

func (p pages) renderTree(w http.ResponseWriter, r *http.Request, status int, edit func(*DeptTreePage)) {
	d, err := p.load(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := DeptTreePage{Roots: d.tree(), Parents: d.deptOptions(0, 0), CanManage: authz.From(r.Context()).Can(PermDeptWrite)}
	if edit != nil {
		edit(&pg)
		pg.Parents = d.deptOptions(formID(r, "parent_id"), 0)
	}
	web.Render(p.s.web, w, r, status, "org/departments", "page.departments.title", pg)
}

func (p pages) deptTree(w http.ResponseWriter, r *http.Request) {
	p.renderTree(w, r, http.StatusOK, nil)
}

func (p pages) deptCreate(w http.ResponseWriter, r *http.Request) {
	in := DepartmentInput{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), ParentID: formID(r, "parent_id")}
	d, err := p.s.CreateDepartment(r.Context(), in)
	if err == nil {
		web.Redirect(w, r, "/departments/"+itoa(d.ID), "org.flash.department_created")
		return
	}
	fe, msg, code, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	p.renderTree(w, r, code, func(pg *DeptTreePage) { pg.Code, pg.Name, pg.Errors, pg.Message = in.Code, in.Name, fe, msg })
}

// DeptPage is the model of /departments/{id}.
type DeptPage struct {
	Dept        Department
	Code        string
	Name        string
	ParentName  string
	Parents     []option
	Teams       []Team
	Children    []Department
	TeamName    string
	CanManage   bool
	Errors      web.FormErrors
	Message     string
	TeamErrors  web.FormErrors
	TeamMessage string
}

func (p pages) renderDept(w http.ResponseWriter, r *http.Request, id int64, status int, edit func(*DeptPage)) {
	ctx := r.Context()
	dept, err := p.s.GetDepartment(ctx, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d, err := p.load(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := DeptPage{Dept: dept, Code: dept.Code, Name: dept.Name, ParentName: d.deptName(dept.ParentID),
		Parents: d.deptOptions(dept.ParentID, dept.ID), CanManage: authz.From(ctx).Can(PermDeptWrite)}
	for _, t := range d.teams {
		if t.DeptID == id {
			pg.Teams = append(pg.Teams, t)
		}
	}
	for _, x := range d.depts {
		if x.ParentID == id {
			pg.Children = append(pg.Children, x)
		}
	}
	if edit != nil {
		edit(&pg)
	}
	web.Render(p.s.web, w, r, status, "org/department", "page.department.title", pg)
}

func (p pages) deptView(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.renderDept(w, r, id, http.StatusOK, nil)
}

func (p pages) deptUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	code, name, parent := r.PostFormValue("code"), r.PostFormValue("name"), formID(r, "parent_id")
	_, err = p.s.UpdateDepartment(r.Context(), id, DepartmentPatch{Code: &code, Name: &name, ParentID: &parent,
		Version: formVersion(r)})
	if err == nil {
		web.Redirect(w, r, "/departments/"+itoa(id), "org.flash.saved")
		return
	}
	fe, msg, status, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	p.renderDept(w, r, id, status, func(pg *DeptPage) {
		pg.Code, pg.Name, pg.Errors, pg.Message = code, name, fe, msg
	})
}

func (p pages) deptDelete(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err = p.s.DeleteDepartment(r.Context(), id); err == nil {
		web.Redirect(w, r, "/departments", "org.flash.department_deleted")
		return
	}
	fe, msg, status, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	p.renderDept(w, r, id, status, func(pg *DeptPage) { pg.Errors, pg.Message = fe, msg })
}

func (p pages) teamCreate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	name := r.PostFormValue("name")
	if _, err = p.s.CreateTeam(r.Context(), TeamInput{DeptID: id, Name: name}); err == nil {
		web.Redirect(w, r, "/departments/"+itoa(id), "org.flash.team_created")
		return
	}
	fe, msg, status, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	p.renderDept(w, r, id, status, func(pg *DeptPage) { pg.TeamName, pg.TeamErrors, pg.TeamMessage = name, fe, msg })
}

// teamAction runs a change on team {id} and goes back to its department's page.
func (p pages) teamAction(w http.ResponseWriter, r *http.Request, flash string, do func(id int64) error) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	t, err := p.s.GetTeam(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err = do(id); err == nil {
		web.Redirect(w, r, "/departments/"+itoa(t.DeptID), flash)
		return
	}
	fe, msg, status, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	p.renderDept(w, r, t.DeptID, status, func(pg *DeptPage) { pg.TeamErrors, pg.TeamMessage = fe, msg })
}

func (p pages) teamUpdate(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	p.teamAction(w, r, "org.flash.saved", func(id int64) error {
		_, err := p.s.UpdateTeam(r.Context(), id, TeamPatch{Name: &name, Version: formVersion(r)})
		return err
	})
}

func (p pages) teamDelete(w http.ResponseWriter, r *http.Request) {
	p.teamAction(w, r, "org.flash.team_deleted", func(id int64) error { return p.s.DeleteTeam(r.Context(), id) })
}

// ======================= role pages =======================

// RoleListPage is the model of /roles.
type RoleListPage struct {
	Rows      []RoleRow
	CanManage bool
}

// RoleRow is one line of the role list.
type RoleRow struct {
	ID        int64
	Code      string
	Label     string
	Scope     string
	Builtin   bool
	All       bool
	PermCount int
}

func (p pages) roleList(w http.ResponseWriter, r *http.Request) {
	roles, err := p.s.AllRoles(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := RoleListPage{CanManage: authz.From(r.Context()).Can(PermRoleWrite)}
	for _, ro := range roles {
		pg.Rows = append(pg.Rows, RoleRow{ID: ro.ID, Code: ro.Code, Label: roleLabel(r, ro), Scope: tr(r, "org.scope."+string(ro.Scope)),
			Builtin: ro.Builtin, All: slices.Contains(ro.Permissions, authz.All), PermCount: len(ro.Permissions)})
	}
	web.Render(p.s.web, w, r, http.StatusOK, "org/roles", "page.roles.title", pg)
}

// PermGroup is the permissions of one capability in the role editor.
type PermGroup struct {
	Label string
	Perms []option
}

// RolePage is the model of /roles/new and /roles/{id}.
type RolePage struct {
	New         bool
	ID          int64
	Code        string
	Label       string
	Name        string
	Description string
	Version     int64
	Builtin     bool
	IsAdmin     bool
	AllPerm     bool
	Scopes      []option
	Groups      []PermGroup
	CanManage   bool
	Errors      web.FormErrors
	Message     string
}

func permGroups(r *http.Request, checked []string) []PermGroup {
	cat := httpx.CatalogFrom(r.Context())
	var out []PermGroup
	for _, p := range authz.Catalog {
		if len(out) == 0 || out[len(out)-1].Label != p.Capability {
			out = append(out, PermGroup{Label: p.Capability})
		}
		g := &out[len(out)-1]
		g.Perms = append(g.Perms, option{Value: p.Name, Label: tr(r, "perm."+p.Name), Selected: slices.Contains(checked, p.Name)})
	}
	for i := range out {
		if key := "perm.group." + out[i].Label; cat.Has(key) {
			out[i].Label = tr(r, key)
		}
	}
	return out
}

func rolePage(r *http.Request, ro Role, isNew bool) RolePage {
	label := ro.Code
	if !isNew {
		label = roleLabel(r, ro)
	}
	return RolePage{New: isNew, ID: ro.ID, Code: ro.Code, Label: label, Name: ro.Name, Description: ro.Description, Version: ro.Version,
		Builtin: ro.Builtin, IsAdmin: ro.Code == AdminRole, AllPerm: slices.Contains(ro.Permissions, authz.All),
		Scopes: scopeOptions(r, ro.Scope), Groups: permGroups(r, ro.Permissions),
		CanManage: authz.From(r.Context()).Can(PermRoleWrite)}
}

func (p pages) renderRole(w http.ResponseWriter, r *http.Request, status int, pg RolePage) {
	title := "page.role.title"
	if pg.New {
		title = "page.role_new.title"
	}
	web.Render(p.s.web, w, r, status, "org/role", title, pg)
}

func (p pages) roleNew(w http.ResponseWriter, r *http.Request) {
	p.renderRole(w, r, http.StatusOK, rolePage(r, Role{Scope: authz.ScopeOwn}, true))
}

func roleForm(r *http.Request) RoleInput {
	perms := r.PostForm["permissions"]
	if perms == nil {
		perms = []string{}
	}
	return RoleInput{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		Scope: authz.Scope(r.PostFormValue("scope")), Permissions: perms}
}

func (p pages) roleCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	in := roleForm(r)
	ro, err := p.s.CreateRole(r.Context(), in)
	if err == nil {
		web.Redirect(w, r, "/roles/"+itoa(ro.ID), "org.flash.role_created")
		return
	}
	fe, msg, status, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	pg := rolePage(r, Role{Code: in.Code, Name: in.Name, Description: in.Description, Scope: in.Scope, Permissions: in.Permissions}, true)
	pg.Errors, pg.Message = fe, msg
	p.renderRole(w, r, status, pg)
}

func (p pages) roleView(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var ro Role
		if ro, err = p.s.GetRole(r.Context(), id); err == nil {
			p.renderRole(w, r, http.StatusOK, rolePage(r, ro, false))
			return
		}
	}
	p.fail(w, r, err)
}

func (p pages) roleUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	in := roleForm(r)
	if _, err = p.s.UpdateRole(r.Context(), id, RolePatch{Name: &in.Name, Description: &in.Description, Scope: &in.Scope,
		Permissions: &in.Permissions, Version: formVersion(r)}); err == nil {
		web.Redirect(w, r, "/roles/"+itoa(id), "org.flash.saved")
		return
	}
	fe, msg, status, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	ro, gerr := p.s.GetRole(r.Context(), id)
	if gerr != nil {
		p.fail(w, r, gerr)
		return
	}
	ro.Name, ro.Description, ro.Scope, ro.Permissions = in.Name, in.Description, in.Scope, in.Permissions
	pg := rolePage(r, ro, false)
	pg.Errors, pg.Message = fe, msg
	p.renderRole(w, r, status, pg)
}

func (p pages) roleDelete(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err = p.s.DeleteRole(r.Context(), id); err == nil {
		web.Redirect(w, r, "/roles", "org.flash.role_deleted")
		return
	}
	fe, msg, status, ok := p.formErr(w, r, err)
	if !ok {
		return
	}
	ro, gerr := p.s.GetRole(r.Context(), id)
	if gerr != nil {
		p.fail(w, r, gerr)
		return
	}
	pg := rolePage(r, ro, false)
	pg.Errors, pg.Message = fe, msg
	p.renderRole(w, r, status, pg)
}
