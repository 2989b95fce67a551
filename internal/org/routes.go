package org

import (
	"embed"
	"io/fs"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the org pages for the web engine ("org/<file>").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is every org route with the permission it needs. Services check the same
// permissions (and record scopes) again.
func (s *Service) Routes() []httpx.Route {
	a, p := api{s: s}, pages{s: s}
	const (
		get, post, patch, del = "GET", "POST", "PATCH", "DELETE"
	)
	return []httpx.Route{
		// JSON API
		{Method: get, Path: "/api/v1/me", Handler: a.me},

		{Method: get, Path: "/api/v1/staff", Perm: PermStaffRead, Handler: a.listStaff},
		{Method: post, Path: "/api/v1/staff", Perm: PermStaffWrite, Handler: a.createStaff},
		{Method: get, Path: "/api/v1/staff/{id}", Perm: PermStaffRead, Handler: a.getStaff},
		{Method: patch, Path: "/api/v1/staff/{id}", Perm: PermStaffWrite, Handler: a.updateStaff},

		{Method: get, Path: "/api/v1/departments", Perm: PermDeptRead, Handler: a.listDepartments},
		{Method: post, Path: "/api/v1/departments", Perm: PermDeptWrite, Handler: a.createDepartment},
		{Method: get, Path: "/api/v1/departments/{id}", Perm: PermDeptRead, Handler: a.getDepartment},
		{Method: patch, Path: "/api/v1/departments/{id}", Perm: PermDeptWrite, Handler: a.updateDepartment},
		{Method: del, Path: "/api/v1/departments/{id}", Perm: PermDeptWrite, Handler: a.deleteDepartment},

		{Method: get, Path: "/api/v1/teams", Perm: PermDeptRead, Handler: a.listTeams},
		{Method: post, Path: "/api/v1/teams", Perm: PermDeptWrite, Handler: a.createTeam},
		{Method: get, Path: "/api/v1/teams/{id}", Perm: PermDeptRead, Handler: a.getTeam},
		{Method: patch, Path: "/api/v1/teams/{id}", Perm: PermDeptWrite, Handler: a.updateTeam},
		{Method: del, Path: "/api/v1/teams/{id}", Perm: PermDeptWrite, Handler: a.deleteTeam},

		{Method: get, Path: "/api/v1/roles", Perm: PermRoleRead, Handler: a.listRoles},
		{Method: post, Path: "/api/v1/roles", Perm: PermRoleWrite, Handler: a.createRole},
		{Method: get, Path: "/api/v1/roles/{id}", Perm: PermRoleRead, Handler: a.getRole},
		{Method: patch, Path: "/api/v1/roles/{id}", Perm: PermRoleWrite, Handler: a.updateRole},
		{Method: del, Path: "/api/v1/roles/{id}", Perm: PermRoleWrite, Handler: a.deleteRole},

		// Pages (forms post back and redirect: POST-redirect-GET)
		{Method: get, Path: "/staff", Perm: PermStaffRead, Page: true, Handler: p.staffList},
		{Method: get, Path: "/staff/new", Perm: PermStaffWrite, Page: true, Handler: p.staffNew},
		{Method: post, Path: "/staff", Perm: PermStaffWrite, Page: true, Handler: p.staffCreate},
		{Method: get, Path: "/staff/{id}", Perm: PermStaffRead, Page: true, Handler: p.staffView},
		{Method: post, Path: "/staff/{id}", Perm: PermStaffWrite, Page: true, Handler: p.staffUpdate},
		{Method: post, Path: "/staff/{id}/password", Perm: PermStaffWrite, Page: true, Handler: p.staffPassword},
		{Method: post, Path: "/staff/{id}/unlock", Perm: PermStaffWrite, Page: true, Handler: p.staffUnlock},

		{Method: get, Path: "/departments", Perm: PermDeptRead, Page: true, Handler: p.deptTree},
		{Method: post, Path: "/departments", Perm: PermDeptWrite, Page: true, Handler: p.deptCreate},
		{Method: get, Path: "/departments/{id}", Perm: PermDeptRead, Page: true, Handler: p.deptView},
		{Method: post, Path: "/departments/{id}", Perm: PermDeptWrite, Page: true, Handler: p.deptUpdate},
		{Method: post, Path: "/departments/{id}/delete", Perm: PermDeptWrite, Page: true, Handler: p.deptDelete},
		{Method: post, Path: "/departments/{id}/teams", Perm: PermDeptWrite, Page: true, Handler: p.teamCreate},
		{Method: post, Path: "/teams/{id}", Perm: PermDeptWrite, Page: true, Handler: p.teamUpdate},
		{Method: post, Path: "/teams/{id}/delete", Perm: PermDeptWrite, Page: true, Handler: p.teamDelete},

		{Method: get, Path: "/roles", Perm: PermRoleRead, Page: true, Handler: p.roleList},
		{Method: get, Path: "/roles/new", Perm: PermRoleWrite, Page: true, Handler: p.roleNew},
		{Method: post, Path: "/roles", Perm: PermRoleWrite, Page: true, Handler: p.roleCreate},
		{Method: get, Path: "/roles/{id}", Perm: PermRoleRead, Page: true, Handler: p.roleView},
		{Method: post, Path: "/roles/{id}", Perm: PermRoleWrite, Page: true, Handler: p.roleUpdate},
		{Method: post, Path: "/roles/{id}/delete", Perm: PermRoleWrite, Page: true, Handler: p.roleDelete},
	}
}
