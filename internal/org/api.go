package org

import (
	"context"
	"net/http"
	"strconv"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// api holds the JSON handlers.
type api struct{ s *Service }

func listParams(r *http.Request) (ListParams, error) {
	limit, cur, err := httpx.ListParams(r)
	return ListParams{Limit: limit, Cursor: cur}, err
}

func page[T any](p Page[T]) httpx.Page[T] {
	return httpx.Page[T]{Items: p.Items, NextCursor: p.NextCursor}
}

func loc(collection string, id int64) string {
	return "/api/v1/" + collection + "/" + strconv.FormatInt(id, 10)
}

// meResponse is GET /api/v1/me.
type meResponse struct {
	ID           int64                  `json:"id"`
	Username     string                 `json:"username"`
	DisplayName  string                 `json:"display_name"`
	Roles        []string               `json:"roles"`
	Permissions  []string               `json:"permissions"`
	Scopes       map[string]authz.Scope `json:"scopes"`
	DepartmentID int64                  `json:"department_id"`
	TeamID       int64                  `json:"team_id"`
	Locale       string                 `json:"locale"`
}

func (a api) me(w http.ResponseWriter, r *http.Request) {
	actor := authz.From(r.Context())
	perms := actor.Permissions()
	scopes := make(map[string]authz.Scope, len(perms))
	for _, p := range perms {
		scopes[p] = actor.ScopeOf(p)
	}
	roles := actor.Roles
	if roles == nil {
		roles = []string{}
	}
	httpx.JSON(w, http.StatusOK, meResponse{ID: actor.ID, Username: actor.Username, DisplayName: actor.DisplayName,
		Roles: roles, Permissions: perms, Scopes: scopes, DepartmentID: actor.DeptID, TeamID: actor.TeamID,
		Locale: actor.Locale})
}

// ---- staff ----

// createStaffRequest is POST /api/v1/staff: the staff fields plus an optional initial
// password (never echoed).
type createStaffRequest struct {
	StaffInput
	Password string `json:"password"`
}

func (a api) listStaff(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f := StaffFilter{Limit: lp.Limit, Cursor: lp.Cursor, Role: r.URL.Query().Get("role"),
		Status: r.URL.Query().Get("status"), Q: r.URL.Query().Get("q")}
	if f.DeptID, err = httpx.QueryInt64(r, "dept_id"); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if f.TeamID, err = httpx.QueryInt64(r, "team_id"); err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListStaff(r.Context(), f)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, page(p))
}

func (a api) createStaff(w http.ResponseWriter, r *http.Request) {
	var req createStaffRequest
	if err := httpx.Decode(r, &req); err != nil {
		httpx.Error(w, r, err)
		return
	}
	st, err := a.s.CreateStaffWithPassword(r.Context(), req.StaffInput, req.Password)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, loc("staff", st.ID), st)
}

func (a api) getStaff(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var st Staff
		if st, err = a.s.GetStaff(r.Context(), id); err == nil {
			httpx.SetETag(w, st.Version)
			httpx.JSON(w, http.StatusOK, st)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) updateStaff(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *StaffPatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p StaffPatch) (any, int64, error) {
			st, err := a.s.UpdateStaff(ctx, id, p)
			return st, st.Version, err
		})(w, r)
}

// ---- departments ----

func (a api) listDepartments(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r)
	if err == nil {
		var p Page[Department]
		if p, err = a.s.ListDepartments(r.Context(), lp); err == nil {
			httpx.JSON(w, http.StatusOK, page(p))
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) createDepartment(w http.ResponseWriter, r *http.Request) {
	var in DepartmentInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	d, err := a.s.CreateDepartment(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, loc("departments", d.ID), d)
}

func (a api) getDepartment(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var d Department
		if d, err = a.s.GetDepartment(r.Context(), id); err == nil {
			httpx.SetETag(w, d.Version)
			httpx.JSON(w, http.StatusOK, d)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) updateDepartment(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *DepartmentPatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p DepartmentPatch) (any, int64, error) {
			d, err := a.s.UpdateDepartment(ctx, id, p)
			return d, d.Version, err
		})(w, r)
}

func (a api) deleteDepartment(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		if err = a.s.DeleteDepartment(r.Context(), id); err == nil {
			httpx.NoContent(w)
			return
		}
	}
	httpx.Error(w, r, err)
}

// ---- teams ----

func (a api) listTeams(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	dept, err := httpx.QueryInt64(r, "dept_id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListTeams(r.Context(), dept, lp)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, page(p))
}

func (a api) createTeam(w http.ResponseWriter, r *http.Request) {
	var in TeamInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, err := a.s.CreateTeam(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, loc("teams", t.ID), t)
}

func (a api) getTeam(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var t Team
		if t, err = a.s.GetTeam(r.Context(), id); err == nil {
			httpx.SetETag(w, t.Version)
			httpx.JSON(w, http.StatusOK, t)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) updateTeam(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *TeamPatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p TeamPatch) (any, int64, error) {
			t, err := a.s.UpdateTeam(ctx, id, p)
			return t, t.Version, err
		})(w, r)
}

func (a api) deleteTeam(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		if err = a.s.DeleteTeam(r.Context(), id); err == nil {
			httpx.NoContent(w)
			return
		}
	}
	httpx.Error(w, r, err)
}

// ---- roles ----

// roleView is a role with its display label (the catalog name of a built-in role whose
// name an administrator has not set).
type roleView struct {
	Role
	Label string `json:"label"`
}

func viewRole(r *http.Request, ro Role) roleView {
	return roleView{Role: ro, Label: roleLabel(r, ro)}
}

func roleLabel(r *http.Request, ro Role) string {
	if ro.Name != "" {
		return ro.Name
	}
	return httpx.CatalogFrom(r.Context()).T(i18n.Lang(r.Context()), "role."+ro.Code, nil)
}

func (a api) listRoles(w http.ResponseWriter, r *http.Request) {
	lp, err := listParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListRoles(r.Context(), lp)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[roleView]{Items: make([]roleView, len(p.Items)), NextCursor: p.NextCursor}
	for i, ro := range p.Items {
		out.Items[i] = viewRole(r, ro)
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) createRole(w http.ResponseWriter, r *http.Request) {
	var in RoleInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	ro, err := a.s.CreateRole(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, loc("roles", ro.ID), viewRole(r, ro))
}

func (a api) getRole(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var ro Role
		if ro, err = a.s.GetRole(r.Context(), id); err == nil {
			httpx.SetETag(w, ro.Version)
			httpx.JSON(w, http.StatusOK, viewRole(r, ro))
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) updateRole(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *RolePatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p RolePatch) (any, int64, error) {
			ro, err := a.s.UpdateRole(ctx, id, p)
			return viewRole(r, ro), ro.Version, err
		})(w, r)
}

func (a api) deleteRole(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		if err = a.s.DeleteRole(r.Context(), id); err == nil {
			httpx.NoContent(w)
			return
		}
	}
	httpx.Error(w, r, err)
}
