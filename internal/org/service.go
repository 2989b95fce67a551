package org

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/auth"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Permissions of the org capability.
const (
	PermStaffRead  = "staff:read"
	PermStaffWrite = "staff:manage"
	PermDeptRead   = "dept:read"
	PermDeptWrite  = "dept:manage"
	PermRoleRead   = "role:read"
	PermRoleWrite  = "role:manage"
)

// Deps are the org service's collaborators.
type Deps struct {
	DB    *db.DB
	Audit *audit.Log
	Clock clock.Clock
	// Keys encrypts staff mobile numbers (a staff member with a mobile cannot be
	// stored without it).
	Keys *secure.Keyring
}

// Service holds the org use cases. It implements auth.PrincipalLoader.
type Service struct {
	db    *db.DB
	store *Store
	audit *audit.Log
	clock clock.Clock
	keys  *secure.Keyring
	auth  *auth.Service
	web   *web.Engine
}

var _ auth.PrincipalLoader = (*Service)(nil)

// New builds the service.
func New(d Deps) *Service {
	c := d.Clock
	if c == nil {
		c = clock.Real{}
	}
	return &Service{db: d.DB, store: NewStore(d.DB), audit: d.Audit, clock: c, keys: d.Keys}
}

// SetAuth gives the service the authentication service (passwords, sessions, lockout);
// the two depend on each other, so it is set after both are built.
func (s *Service) SetAuth(a *auth.Service) { s.auth = a }

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// Atomically runs fn in one transaction (nested calls join it). The demo seed and the
// CLI use it to create several things all or nothing.
func (s *Service) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.WithTx(ctx, fn)
}

func (s *Service) now() time.Time { return time.UnixMilli(clock.Millis(s.clock.Now())) }

func (s *Service) record(ctx context.Context, action, targetType string, id int64, detail any) error {
	if s.audit == nil {
		return nil
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: targetType, TargetID: fmt.Sprint(id), Detail: detail}); err != nil {
		return fmt.Errorf("org: audit %s: %w", action, err)
	}
	return nil
}

// change is one changed field in an audit detail.
type change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

type changes map[string]change

func (c changes) add(field string, from, to any) {
	if !reflect.DeepEqual(from, to) {
		c[field] = change{From: from, To: to}
	}
}

func conflictField(field, key string, kv ...any) error {
	return &apperr.Error{Kind: apperr.Conflict, Msg: i18n.M(key, kv...), Fields: map[string]i18n.Msg{field: i18n.M(key, kv...)}}
}

func notFound(err error, thing string) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf(thing)
	}
	return fmt.Errorf("org: load %s: %w", strings.TrimPrefix(thing, "thing."), err)
}

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return httpx.DefaultLimit
	case n > httpx.MaxLimit:
		return httpx.MaxLimit
	}
	return n
}

// cursor is the keyset position of a list page.
type cursor struct {
	ID int64 `json:"i"`
}

func decodeCursor(s string) (int64, error) {
	var c cursor
	if err := httpx.DecodeCursor(s, &c); err != nil {
		return 0, err
	}
	if c.ID < 0 {
		return 0, apperr.New(apperr.Malformed, "error.malformed.cursor").OnField("cursor")
	}
	return c.ID, nil
}

// cut trims a limit+1 fetch to limit and returns the next cursor.
func cut[T any](items []T, limit int, id func(T) int64) Page[T] {
	if len(items) <= limit {
		return Page[T]{Items: items}
	}
	items = items[:limit]
	return Page[T]{Items: items, NextCursor: httpx.EncodeCursor(cursor{ID: id(items[len(items)-1])})}
}

// ======================= principals =======================

// LoadActor turns a staff id into an actor with roles, permissions and scopes, in one
// indexed query. Unknown staff: NotFound; disabled staff: Forbidden (code
// "account_disabled"), so that their sessions and tokens stop working at once.
func (s *Service) LoadActor(ctx context.Context, staffID int64) (*authz.Actor, error) {
	rows, err := s.store.Principal(ctx, staffID)
	if err != nil {
		return nil, notFound(err, "thing.staff")
	}
	if rows[0].Status != StatusActive {
		return nil, apperr.New(apperr.Forbidden, "org.staff.disabled").WithCode("account_disabled")
	}
	return actorOf(rows), nil
}

// LoadTarget loads staff member id as the target of an action by another staff member
// (whatever their status): their department, team, and every permission their roles
// grant with its scope. Unknown staff: NotFound. The authentication service uses it to
// apply authz.Actor.Covers to password resets, unlocking and tokens.
func (s *Service) LoadTarget(ctx context.Context, staffID int64) (*authz.Actor, error) {
	rows, err := s.store.Principal(ctx, staffID)
	if err != nil {
		return nil, notFound(err, "thing.staff")
	}
	return actorOf(rows), nil
}

// actorOf builds an actor from the rows of Store.Principal.
func actorOf(rows []principalRow) *authz.Actor {
	p := rows[0]
	a := &authz.Actor{ID: p.ID, Kind: authz.KindStaff, Username: p.Username, DisplayName: p.DisplayName,
		DeptID: p.DeptID, TeamID: p.TeamID, Locale: p.Locale, Roles: []string{}, RoleNames: map[string]string{}}
	for _, r := range rows {
		if r.Role == "" {
			continue
		}
		a.Roles = append(a.Roles, r.Role)
		a.RoleNames[r.Role] = r.RoleName
		scope := r.Scope
		if !authz.ValidScope(scope) {
			scope = authz.ScopeOwn
		}
		for _, perm := range r.Permissions {
			a.Grant(perm, scope)
		}
	}
	return a
}

// subjectOf is the actor a staff member would be with roles, for checking that the
// acting staff member covers the result of a change.
func subjectOf(st Staff, roles []Role) *authz.Actor {
	a := &authz.Actor{ID: st.ID, Kind: authz.KindStaff, DeptID: st.DeptID, TeamID: st.TeamID}
	for _, r := range roles {
		scope := r.Scope
		if !authz.ValidScope(scope) {
			scope = authz.ScopeOwn
		}
		for _, p := range r.Permissions {
			a.Grant(p, scope)
		}
	}
	return a
}

// grantCheck names, on field, every permission of perms the actor does not hold at
// scope: nobody hands out more than they hold.
func grantCheck(f apperr.Fields, actor *authz.Actor, field string, perms []string, scope authz.Scope) {
	if p, ok := actor.FirstNotHeld(perms, scope); !ok {
		f.Add(field, "org.invalid.permission_not_held", "perm", p)
	}
}

// FindLogin returns the id and state of the account named username (as typed).
func (s *Service) FindLogin(ctx context.Context, username string) (int64, bool, error) {
	id, status, err := s.store.Login(ctx, NormalizeUsername(username))
	if err != nil {
		return 0, false, notFound(err, "thing.staff")
	}
	return id, status == StatusActive, nil
}

// ======================= roles =======================

// seededKey is the settings key remembering which permissions a built-in role was
// given by seeding, so that permissions added to the defaults by a later release reach
// existing installations without undoing an administrator's removals.
func seededKey(code string) string { return "org.builtin_perms." + code }

// SeedRoles inserts the built-in roles that do not exist yet and adds permissions that
// are new in the built-in defaults since the last seed. It never removes a permission
// and never touches a role's scope, name or an administrator's removals; running it
// again changes nothing.
func (s *Service) SeedRoles(ctx context.Context) error {
	if authz.From(ctx) == nil {
		ctx = authz.WithActor(ctx, authz.System("seed"))
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		now := clock.Millis(s.now())
		for _, def := range authz.BuiltinRoles {
			id, err := s.store.SeedRole(ctx, def, now)
			if err != nil {
				return err
			}
			if id != 0 {
				perms := slices.Sorted(slices.Values(def.Perms))
				if err := s.record(ctx, "role.create", "role", id, map[string]any{"code": def.Code, "scope": def.Scope,
					"permissions": perms, "builtin": true}); err != nil {
					return err
				}
				if err := s.store.SetSetting(ctx, seededKey(def.Code), toJSON(perms), now); err != nil {
					return err
				}
				continue
			}
			if err := s.seedNewPerms(ctx, def, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("org: seed roles: %w", err)
	}
	return nil
}

func (s *Service) seedNewPerms(ctx context.Context, def authz.RoleDef, now int64) error {
	raw, ok, err := s.store.Setting(ctx, seededKey(def.Code))
	if err != nil {
		return err
	}
	var seeded []string
	if ok {
		if seeded, err = fromJSON(raw); err != nil {
			return err
		}
	}
	var fresh []string
	for _, p := range def.Perms {
		if !slices.Contains(seeded, p) {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	if ok { // a release added defaults since the last seed: grant them
		r, err := s.store.RoleByCode(ctx, def.Code)
		if err != nil {
			return err
		}
		if r.Builtin {
			var added []string
			for _, p := range fresh {
				if !slices.Contains(r.Permissions, p) {
					r.Permissions = append(r.Permissions, p)
					added = append(added, p)
				}
			}
			if len(added) > 0 {
				slices.Sort(r.Permissions)
				r.UpdatedAt = time.UnixMilli(now)
				if ok, err := s.store.UpdateRole(ctx, r); err != nil {
					return err
				} else if !ok {
					return apperr.StaleVersion(0)
				}
				if err := s.record(ctx, "role.update", "role", r.ID, map[string]any{"code": r.Code, "added": added,
					"reason": "builtin_defaults"}); err != nil {
					return err
				}
			}
		}
	}
	all := slices.Sorted(slices.Values(append(seeded, fresh...)))
	return s.store.SetSetting(ctx, seededKey(def.Code), toJSON(all), now)
}

// CreateRole adds a custom role.
func (s *Service) CreateRole(ctx context.Context, in RoleInput) (Role, error) {
	actor, err := authz.Require(ctx, PermRoleWrite)
	if err != nil {
		return Role{}, err
	}
	f := apperr.Fields{}
	r := Role{Code: strings.ToLower(strings.TrimSpace(in.Code)), Name: strings.TrimSpace(in.Name),
		Description: strings.TrimSpace(in.Description), Scope: in.Scope}
	switch {
	case r.Code == "":
		f.Add("code", "field.required")
	case !roleCodeRe.MatchString(r.Code):
		f.Add("code", "org.invalid.role_code")
	}
	checkName(f, "name", r.Name, true)
	checkDescription(f, r.Description)
	if !authz.ValidScope(r.Scope) {
		f.Add("scope", "field.invalid_choice")
	}
	r.Permissions = cleanPermissions(f, in.Permissions)
	if len(f) == 0 {
		grantCheck(f, actor, "permissions", r.Permissions, r.Scope)
	}
	if err := f.Err(); err != nil {
		return Role{}, err
	}
	r.CreatedAt, r.UpdatedAt, r.Version = s.now(), s.now(), 1
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertRole(ctx, &r); err != nil {
			if db.IsUniqueViolation(err) {
				return conflictField("code", "org.role.code_taken", "code", r.Code)
			}
			return fmt.Errorf("org: insert role: %w", err)
		}
		return s.record(ctx, "role.create", "role", r.ID, map[string]any{"code": r.Code, "name": r.Name,
			"scope": r.Scope, "permissions": r.Permissions})
	})
	return r, err
}

func checkDescription(f apperr.Fields, d string) {
	if len([]rune(d)) > maxDescription {
		f.Add("description", "field.too_long", "max", maxDescription)
	} else if strings.ContainsFunc(d, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' }) {
		f.Add("description", "field.invalid")
	}
}

// UpdateRole changes a role. Built-in roles keep their code; the admin role keeps "*"
// and scope "all". Nobody hands out more than they hold: the permissions added, and
// with a widened scope all of them, must be held by the editor at the resulting scope;
// while anyone holds the role, any addition or widening needs the editor to hold the
// whole resulting role at its scope (the holders change with it). Removing is free.
func (s *Service) UpdateRole(ctx context.Context, id int64, p RolePatch) (Role, error) {
	actor, err := authz.Require(ctx, PermRoleWrite)
	if err != nil {
		return Role{}, err
	}
	var out Role
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.Role(ctx, id)
		if err != nil {
			return notFound(err, "thing.role")
		}
		if p.Version != nil && *p.Version != r.Version {
			return apperr.StaleVersion(r.Version)
		}
		old := r
		f := apperr.Fields{}
		if p.Name != nil {
			r.Name = strings.TrimSpace(*p.Name)
			checkName(f, "name", r.Name, !r.Builtin)
		}
		if p.Description != nil {
			r.Description = strings.TrimSpace(*p.Description)
			checkDescription(f, r.Description)
		}
		if p.Scope != nil {
			r.Scope = *p.Scope
			if !authz.ValidScope(r.Scope) {
				f.Add("scope", "field.invalid_choice")
			}
		}
		if p.Permissions != nil {
			r.Permissions = cleanPermissions(f, *p.Permissions)
		}
		if r.Code == AdminRole {
			if !slices.Contains(r.Permissions, authz.All) {
				f.Add("permissions", "org.invalid.admin_all")
			}
			if r.Scope != authz.ScopeAll {
				f.Add("scope", "org.invalid.admin_scope")
			}
		}
		if len(f) == 0 {
			if err := s.checkRoleGrant(ctx, f, actor, old, r); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		ch := changes{}
		ch.add("name", old.Name, r.Name)
		ch.add("description", old.Description, r.Description)
		ch.add("scope", old.Scope, r.Scope)
		ch.add("permissions", old.Permissions, r.Permissions)
		if len(ch) == 0 {
			out = old
			return nil
		}
		r.UpdatedAt = s.now()
		if ok, err := s.store.UpdateRole(ctx, r); err != nil {
			return fmt.Errorf("org: update role: %w", err)
		} else if !ok {
			return apperr.StaleVersion(0)
		}
		r.Version++
		out = r
		return s.record(ctx, "role.update", "role", r.ID, map[string]any{"code": r.Code, "changed": ch})
	})
	return out, err
}

// checkRoleGrant applies UpdateRole's rule to a change from old to r.
func (s *Service) checkRoleGrant(ctx context.Context, f apperr.Fields, actor *authz.Actor, old, r Role) error {
	var added []string
	for _, p := range r.Permissions {
		if !slices.Contains(old.Permissions, p) {
			added = append(added, p)
		}
	}
	widened := !authz.Wider(old.Scope, r.Scope)
	if len(added) == 0 && !widened {
		return nil
	}
	holders, err := s.store.RoleHolders(ctx, r.ID)
	if err != nil {
		return fmt.Errorf("org: role holders: %w", err)
	}
	field := "permissions"
	if len(added) == 0 {
		field = "scope"
	}
	if widened || len(holders) > 0 {
		grantCheck(f, actor, field, r.Permissions, r.Scope)
	} else {
		grantCheck(f, actor, field, added, r.Scope)
	}
	return nil
}

// DeleteRole removes a custom role no one holds.
func (s *Service) DeleteRole(ctx context.Context, id int64) error {
	if _, err := authz.Require(ctx, PermRoleWrite); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.Role(ctx, id)
		if err != nil {
			return notFound(err, "thing.role")
		}
		if r.Builtin {
			return apperr.New(apperr.Conflict, "org.role.builtin")
		}
		n, err := s.store.RoleUsage(ctx, id)
		if err != nil {
			return fmt.Errorf("org: role usage: %w", err)
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "org.role.in_use", "count", n)
		}
		if err := s.store.DeleteRole(ctx, id); err != nil {
			return fmt.Errorf("org: delete role: %w", err)
		}
		return s.record(ctx, "role.delete", "role", id, map[string]any{"code": r.Code, "name": r.Name})
	})
}

// GetRole returns role id.
func (s *Service) GetRole(ctx context.Context, id int64) (Role, error) {
	if _, err := authz.Require(ctx, PermRoleRead); err != nil {
		return Role{}, err
	}
	r, err := s.store.Role(ctx, id)
	if err != nil {
		return Role{}, notFound(err, "thing.role")
	}
	return r, nil
}

// RoleByCode returns the role with code (no permission check: internal use).
func (s *Service) RoleByCode(ctx context.Context, code string) (Role, error) {
	r, err := s.store.RoleByCode(ctx, code)
	if err != nil {
		return Role{}, notFound(err, "thing.role")
	}
	return r, nil
}

// ListRoles pages through roles by id.
func (s *Service) ListRoles(ctx context.Context, lp ListParams) (Page[Role], error) {
	if _, err := authz.Require(ctx, PermRoleRead); err != nil {
		return Page[Role]{}, err
	}
	after, err := decodeCursor(lp.Cursor)
	if err != nil {
		return Page[Role]{}, err
	}
	limit := pageLimit(lp.Limit)
	items, err := s.store.Roles(ctx, after, limit+1)
	if err != nil {
		return Page[Role]{}, fmt.Errorf("org: list roles: %w", err)
	}
	return cut(items, limit, func(r Role) int64 { return r.ID }), nil
}

// AllRoles lists every role (no permission check: forms offering roles use it).
func (s *Service) AllRoles(ctx context.Context) ([]Role, error) {
	rs, err := s.store.AllRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("org: list roles: %w", err)
	}
	return rs, nil
}

// ======================= departments and teams =======================

// CreateDepartment adds a department.
func (s *Service) CreateDepartment(ctx context.Context, in DepartmentInput) (Department, error) {
	if _, err := authz.Require(ctx, PermDeptWrite); err != nil {
		return Department{}, err
	}
	d := Department{Code: strings.ToLower(strings.TrimSpace(in.Code)), Name: strings.TrimSpace(in.Name), ParentID: in.ParentID}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		f := apperr.Fields{}
		checkDeptCode(f, d.Code)
		checkName(f, "name", d.Name, true)
		if d.ParentID < 0 {
			f.Add("parent_id", "org.invalid.dept_unknown")
		} else if d.ParentID != 0 {
			if _, err := s.store.Department(ctx, d.ParentID); err != nil {
				if !db.IsNoRows(err) {
					return fmt.Errorf("org: load parent: %w", err)
				}
				f.Add("parent_id", "org.invalid.dept_unknown")
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		d.CreatedAt, d.UpdatedAt, d.Version = s.now(), s.now(), 1
		if err := s.store.InsertDepartment(ctx, &d); err != nil {
			if db.IsUniqueViolation(err) {
				return conflictField("code", "org.dept.code_taken", "code", d.Code)
			}
			return fmt.Errorf("org: insert department: %w", err)
		}
		return s.record(ctx, "department.create", "department", d.ID, map[string]any{"code": d.Code, "name": d.Name, "parent_id": d.ParentID})
	})
	if err != nil {
		return Department{}, err
	}
	return d, nil
}

func checkDeptCode(f apperr.Fields, code string) {
	switch {
	case code == "":
		f.Add("code", "field.required")
	case !deptCodeRe.MatchString(code):
		f.Add("code", "org.invalid.dept_code")
	}
}

// UpdateDepartment changes a department; moving it under itself or one of its
// descendants is refused (field parent_id).
func (s *Service) UpdateDepartment(ctx context.Context, id int64, p DepartmentPatch) (Department, error) {
	if _, err := authz.Require(ctx, PermDeptWrite); err != nil {
		return Department{}, err
	}
	var out Department
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		d, err := s.store.Department(ctx, id)
		if err != nil {
			return notFound(err, "thing.department")
		}
		if p.Version != nil && *p.Version != d.Version {
			return apperr.StaleVersion(d.Version)
		}
		old := d
		f := apperr.Fields{}
		if p.Code != nil {
			d.Code = strings.ToLower(strings.TrimSpace(*p.Code))
			checkDeptCode(f, d.Code)
		}
		if p.Name != nil {
			d.Name = strings.TrimSpace(*p.Name)
			checkName(f, "name", d.Name, true)
		}
		if p.ParentID != nil && *p.ParentID != old.ParentID {
			d.ParentID = *p.ParentID
			if err := s.checkParent(ctx, f, d.ID, d.ParentID); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		ch := changes{}
		ch.add("code", old.Code, d.Code)
		ch.add("name", old.Name, d.Name)
		ch.add("parent_id", old.ParentID, d.ParentID)
		if len(ch) == 0 {
			out = old
			return nil
		}
		d.UpdatedAt = s.now()
		if ok, err := s.store.UpdateDepartment(ctx, d); err != nil {
			if db.IsUniqueViolation(err) {
				return conflictField("code", "org.dept.code_taken", "code", d.Code)
			}
			return fmt.Errorf("org: update department: %w", err)
		} else if !ok {
			return apperr.StaleVersion(0)
		}
		d.Version++
		out = d
		return s.record(ctx, "department.update", "department", d.ID, map[string]any{"changed": ch})
	})
	return out, err
}

// checkParent refuses an unknown parent and any parent that would close a cycle.
func (s *Service) checkParent(ctx context.Context, f apperr.Fields, id, parent int64) error {
	switch {
	case parent == 0:
		return nil
	case parent < 0:
		f.Add("parent_id", "org.invalid.dept_unknown")
		return nil
	case parent == id:
		f.Add("parent_id", "org.invalid.parent_cycle")
		return nil
	}
	chain, err := s.store.Ancestry(ctx, parent)
	if err != nil {
		return fmt.Errorf("org: department ancestry: %w", err)
	}
	switch {
	case len(chain) == 0:
		f.Add("parent_id", "org.invalid.dept_unknown")
	case slices.Contains(chain, id):
		f.Add("parent_id", "org.invalid.parent_cycle")
	}
	return nil
}

// DeleteDepartment removes an empty department (no sub-departments, teams or staff).
func (s *Service) DeleteDepartment(ctx context.Context, id int64) error {
	if _, err := authz.Require(ctx, PermDeptWrite); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		d, err := s.store.Department(ctx, id)
		if err != nil {
			return notFound(err, "thing.department")
		}
		children, teams, staff, err := s.store.DepartmentUsage(ctx, id)
		if err != nil {
			return fmt.Errorf("org: department usage: %w", err)
		}
		if children+teams+staff > 0 {
			return apperr.New(apperr.Conflict, "org.dept.not_empty", "children", children, "teams", teams, "staff", staff).
				With("children", children).With("teams", teams).With("staff", staff)
		}
		if err := s.store.DeleteDepartment(ctx, id); err != nil {
			return fmt.Errorf("org: delete department: %w", err)
		}
		return s.record(ctx, "department.delete", "department", id, map[string]any{"code": d.Code, "name": d.Name})
	})
}

// GetDepartment returns department id.
func (s *Service) GetDepartment(ctx context.Context, id int64) (Department, error) {
	if _, err := authz.Require(ctx, PermDeptRead); err != nil {
		return Department{}, err
	}
	d, err := s.store.Department(ctx, id)
	if err != nil {
		return Department{}, notFound(err, "thing.department")
	}
	return d, nil
}

// DepartmentByCode returns the department with code (no permission check: internal use).
func (s *Service) DepartmentByCode(ctx context.Context, code string) (Department, error) {
	d, err := s.store.DepartmentByCode(ctx, strings.ToLower(strings.TrimSpace(code)))
	if err != nil {
		return Department{}, notFound(err, "thing.department")
	}
	return d, nil
}

// DepartmentName returns the name of department id (no permission check: page chrome).
func (s *Service) DepartmentName(ctx context.Context, id int64) (string, error) {
	d, err := s.store.Department(ctx, id)
	if err != nil {
		return "", notFound(err, "thing.department")
	}
	return d.Name, nil
}

// ListDepartments pages through departments by id.
func (s *Service) ListDepartments(ctx context.Context, lp ListParams) (Page[Department], error) {
	if _, err := authz.Require(ctx, PermDeptRead); err != nil {
		return Page[Department]{}, err
	}
	after, err := decodeCursor(lp.Cursor)
	if err != nil {
		return Page[Department]{}, err
	}
	limit := pageLimit(lp.Limit)
	items, err := s.store.Departments(ctx, after, limit+1)
	if err != nil {
		return Page[Department]{}, fmt.Errorf("org: list departments: %w", err)
	}
	return cut(items, limit, func(d Department) int64 { return d.ID }), nil
}

// AllDepartments lists every department (no permission check: forms and trees).
func (s *Service) AllDepartments(ctx context.Context) ([]Department, error) {
	ds, err := s.store.AllDepartments(ctx)
	if err != nil {
		return nil, fmt.Errorf("org: list departments: %w", err)
	}
	return ds, nil
}

// AllTeams lists every team (no permission check: forms and trees).
func (s *Service) AllTeams(ctx context.Context) ([]Team, error) {
	ts, err := s.store.AllTeams(ctx)
	if err != nil {
		return nil, fmt.Errorf("org: list teams: %w", err)
	}
	return ts, nil
}

// CreateTeam adds a team to a department.
func (s *Service) CreateTeam(ctx context.Context, in TeamInput) (Team, error) {
	if _, err := authz.Require(ctx, PermDeptWrite); err != nil {
		return Team{}, err
	}
	t := Team{DeptID: in.DeptID, Name: strings.TrimSpace(in.Name)}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		f := apperr.Fields{}
		checkName(f, "name", t.Name, true)
		if err := s.checkDept(ctx, f, t.DeptID, true); err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		t.CreatedAt, t.UpdatedAt, t.Version = s.now(), s.now(), 1
		if err := s.store.InsertTeam(ctx, &t); err != nil {
			if db.IsUniqueViolation(err) {
				return conflictField("name", "org.team.name_taken", "name", t.Name)
			}
			return fmt.Errorf("org: insert team: %w", err)
		}
		return s.record(ctx, "team.create", "team", t.ID, map[string]any{"dept_id": t.DeptID, "name": t.Name})
	})
	if err != nil {
		return Team{}, err
	}
	return t, nil
}

// checkDept adds a dept_id field error when id names no department.
func (s *Service) checkDept(ctx context.Context, f apperr.Fields, id int64, required bool) error {
	if id == 0 {
		if required {
			f.Add("dept_id", "field.required")
		}
		return nil
	}
	if id < 0 {
		f.Add("dept_id", "org.invalid.dept_unknown")
		return nil
	}
	if _, err := s.store.Department(ctx, id); err != nil {
		if !db.IsNoRows(err) {
			return fmt.Errorf("org: load department: %w", err)
		}
		f.Add("dept_id", "org.invalid.dept_unknown")
	}
	return nil
}

// UpdateTeam renames a team or moves it to another department (only while it has no
// staff, whose department would otherwise disagree with their team's).
func (s *Service) UpdateTeam(ctx context.Context, id int64, p TeamPatch) (Team, error) {
	if _, err := authz.Require(ctx, PermDeptWrite); err != nil {
		return Team{}, err
	}
	var out Team
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.store.Team(ctx, id)
		if err != nil {
			return notFound(err, "thing.team")
		}
		if p.Version != nil && *p.Version != t.Version {
			return apperr.StaleVersion(t.Version)
		}
		old := t
		f := apperr.Fields{}
		if p.Name != nil {
			t.Name = strings.TrimSpace(*p.Name)
			checkName(f, "name", t.Name, true)
		}
		if p.DeptID != nil && *p.DeptID != t.DeptID {
			t.DeptID = *p.DeptID
			if err := s.checkDept(ctx, f, t.DeptID, true); err != nil {
				return err
			}
			if n, err := s.store.TeamUsage(ctx, id); err != nil {
				return fmt.Errorf("org: team usage: %w", err)
			} else if n > 0 && len(f) == 0 {
				return apperr.New(apperr.Conflict, "org.team.move_with_staff", "staff", n)
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		ch := changes{}
		ch.add("name", old.Name, t.Name)
		ch.add("dept_id", old.DeptID, t.DeptID)
		if len(ch) == 0 {
			out = old
			return nil
		}
		t.UpdatedAt = s.now()
		if ok, err := s.store.UpdateTeam(ctx, t); err != nil {
			if db.IsUniqueViolation(err) {
				return conflictField("name", "org.team.name_taken", "name", t.Name)
			}
			return fmt.Errorf("org: update team: %w", err)
		} else if !ok {
			return apperr.StaleVersion(0)
		}
		t.Version++
		out = t
		return s.record(ctx, "team.update", "team", t.ID, map[string]any{"changed": ch})
	})
	return out, err
}

// DeleteTeam removes a team without staff.
func (s *Service) DeleteTeam(ctx context.Context, id int64) error {
	if _, err := authz.Require(ctx, PermDeptWrite); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.store.Team(ctx, id)
		if err != nil {
			return notFound(err, "thing.team")
		}
		n, err := s.store.TeamUsage(ctx, id)
		if err != nil {
			return fmt.Errorf("org: team usage: %w", err)
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "org.team.not_empty", "staff", n).With("staff", n)
		}
		if err := s.store.DeleteTeam(ctx, id); err != nil {
			return fmt.Errorf("org: delete team: %w", err)
		}
		return s.record(ctx, "team.delete", "team", id, map[string]any{"dept_id": t.DeptID, "name": t.Name})
	})
}

// GetTeam returns team id.
func (s *Service) GetTeam(ctx context.Context, id int64) (Team, error) {
	if _, err := authz.Require(ctx, PermDeptRead); err != nil {
		return Team{}, err
	}
	t, err := s.store.Team(ctx, id)
	if err != nil {
		return Team{}, notFound(err, "thing.team")
	}
	return t, nil
}

// ListTeams pages through teams by id, of one department when deptID is set.
func (s *Service) ListTeams(ctx context.Context, deptID int64, lp ListParams) (Page[Team], error) {
	if _, err := authz.Require(ctx, PermDeptRead); err != nil {
		return Page[Team]{}, err
	}
	after, err := decodeCursor(lp.Cursor)
	if err != nil {
		return Page[Team]{}, err
	}
	limit := pageLimit(lp.Limit)
	items, err := s.store.Teams(ctx, deptID, after, limit+1)
	if err != nil {
		return Page[Team]{}, fmt.Errorf("org: list teams: %w", err)
	}
	return cut(items, limit, func(t Team) int64 { return t.ID }), nil
}

// ======================= staff =======================

// CreateStaff adds a staff account (without a password: see CreateStaffWithPassword).
func (s *Service) CreateStaff(ctx context.Context, in StaffInput) (Staff, error) {
	return s.CreateStaffWithPassword(ctx, in, "")
}

// CreateStaffWithPassword adds a staff account and, when password is not empty, sets its
// initial password in the same transaction (a refused password creates nothing).
func (s *Service) CreateStaffWithPassword(ctx context.Context, in StaffInput, password string) (Staff, error) {
	actor, err := authz.Require(ctx, PermStaffWrite)
	if err != nil {
		return Staff{}, err
	}
	st := Staff{Username: NormalizeUsername(in.Username), DisplayName: strings.TrimSpace(in.DisplayName),
		Mobile: strings.TrimSpace(in.Mobile), Email: strings.TrimSpace(in.Email), DeptID: in.DeptID, TeamID: in.TeamID,
		Status: StatusActive, Locale: strings.TrimSpace(in.Locale)}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		f := apperr.Fields{}
		checkUsername(f, st.Username)
		checkName(f, "display_name", st.DisplayName, true)
		st.Mobile = checkMobile(f, st.Mobile)
		st.Email = checkEmail(f, st.Email)
		checkLocale(f, st.Locale)
		st.Skills = cleanSkills(f, in.Skills)
		if err := s.checkPlacement(ctx, f, &st.DeptID, &st.TeamID); err != nil {
			return err
		}
		roles, err := s.checkRoles(ctx, f, actor, in.Roles, nil)
		if err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		// The new account is reached by the actor's scope and holds no more than the actor.
		if !actor.Covers(PermStaffWrite, subjectOf(st, roles)) {
			return apperr.ForbiddenErr()
		}
		if st.mobileEnc, err = s.sealMobile(st.Mobile); err != nil {
			return err
		}
		st.CreatedAt, st.UpdatedAt, st.Version = s.now(), s.now(), 1
		if err := s.store.InsertStaff(ctx, &st); err != nil {
			if db.IsUniqueViolation(err) {
				return conflictField("username", "org.staff.username_taken", "username", st.Username)
			}
			return fmt.Errorf("org: insert staff: %w", err)
		}
		if err := s.store.SetStaffRoles(ctx, st.ID, roleIDs(roles)); err != nil {
			return fmt.Errorf("org: staff roles: %w", err)
		}
		st.Roles = roleCodes(roles)
		if err := s.record(ctx, "staff.create", "staff", st.ID, map[string]any{"username": st.Username,
			"display_name": st.DisplayName, "dept_id": st.DeptID, "team_id": st.TeamID, "roles": st.Roles,
			"skills": st.Skills, "mobile": secure.MaskMobile(st.Mobile), "email": st.Email, "password_set": password != ""}); err != nil {
			return err
		}
		if password != "" {
			if s.auth == nil {
				return errors.New("org: no auth service to set the password")
			}
			if err := s.auth.SetPassword(ctx, st.ID, password); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Staff{}, err
	}
	return st, nil
}

func roleIDs(rs []Role) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func roleCodes(rs []Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Code
	}
	slices.Sort(out)
	return out
}

// checkPlacement checks the department and team; a team without a department puts the
// staff member in the team's department.
func (s *Service) checkPlacement(ctx context.Context, f apperr.Fields, deptID, teamID *int64) error {
	if err := s.checkDept(ctx, f, *deptID, false); err != nil {
		return err
	}
	if *teamID == 0 {
		return nil
	}
	if *teamID < 0 {
		f.Add("team_id", "org.invalid.team_unknown")
		return nil
	}
	t, err := s.store.Team(ctx, *teamID)
	switch {
	case db.IsNoRows(err):
		f.Add("team_id", "org.invalid.team_unknown")
	case err != nil:
		return fmt.Errorf("org: load team: %w", err)
	case *deptID == 0:
		*deptID = t.DeptID
	case t.DeptID != *deptID:
		f.Add("team_id", "org.invalid.team_dept")
	}
	return nil
}

// checkRoles resolves role codes. The actor may grant only roles whose permissions it
// holds itself at the role's scope or wider (the system actor and holders of "*" at
// scope all may grant any); roles the staff member already has (held) are not
// re-checked here (the caller checks that the actor covers the result).
func (s *Service) checkRoles(ctx context.Context, f apperr.Fields, actor *authz.Actor, codes []string, held []string) ([]Role, error) {
	codes = cleanRoles(codes)
	if len(codes) == 0 {
		f.Add("roles", "field.required")
		return nil, nil
	}
	var out []Role
	for _, code := range codes {
		r, err := s.store.RoleByCode(ctx, code)
		if db.IsNoRows(err) {
			f.Add("roles", "org.invalid.role_unknown", "role", code)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("org: load role: %w", err)
		}
		if !slices.Contains(held, code) && !grantable(actor, r) {
			f.Add("roles", "org.invalid.role_not_grantable", "role", code)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func grantable(a *authz.Actor, r Role) bool {
	scope := r.Scope
	if !authz.ValidScope(scope) {
		scope = authz.ScopeOwn
	}
	_, ok := a.FirstNotHeld(r.Permissions, scope)
	return ok
}

// UpdateStaff changes a staff account. The actor must cover the staff member before
// the change (out of scope reads as not found; holding more is a 403) and after it.
// Disabling it also ends its sessions; role and status changes get their own audit
// entries besides "staff.update".
func (s *Service) UpdateStaff(ctx context.Context, id int64, p StaffPatch) (Staff, error) {
	actor, err := authz.Require(ctx, PermStaffWrite)
	if err != nil {
		return Staff{}, err
	}
	var out Staff
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		st, target, err := s.coveredStaff(ctx, actor, id)
		if err != nil {
			return err
		}
		if p.Version != nil && *p.Version != st.Version {
			return apperr.StaleVersion(st.Version)
		}
		if st.Mobile, err = s.openMobile(st); err != nil {
			return err
		}
		old := st
		old.Roles = slices.Clone(st.Roles)
		f := apperr.Fields{}
		if p.DisplayName != nil {
			st.DisplayName = strings.TrimSpace(*p.DisplayName)
			checkName(f, "display_name", st.DisplayName, true)
		}
		if p.Mobile != nil {
			st.Mobile = checkMobile(f, strings.TrimSpace(*p.Mobile))
		}
		if p.Email != nil {
			st.Email = checkEmail(f, strings.TrimSpace(*p.Email))
		}
		if p.Locale != nil {
			st.Locale = strings.TrimSpace(*p.Locale)
			checkLocale(f, st.Locale)
		}
		if p.Status != nil {
			st.Status = *p.Status
			checkStatus(f, st.Status)
		}
		if p.Skills != nil {
			st.Skills = cleanSkills(f, *p.Skills)
		}
		if p.DeptID != nil {
			st.DeptID = *p.DeptID
			if p.TeamID == nil && st.TeamID != 0 && st.DeptID != old.DeptID {
				st.TeamID = 0 // the old team belongs to the old department
			}
		}
		if p.TeamID != nil {
			st.TeamID = *p.TeamID
		}
		if err := s.checkPlacement(ctx, f, &st.DeptID, &st.TeamID); err != nil {
			return err
		}
		var roles []Role
		if p.Roles != nil {
			if roles, err = s.checkRoles(ctx, f, actor, *p.Roles, old.Roles); err != nil {
				return err
			}
			st.Roles = roleCodes(roles)
		}
		if err := f.Err(); err != nil {
			return err
		}
		// The result, too, must be someone the actor covers.
		result := &authz.Actor{ID: st.ID, Kind: authz.KindStaff, DeptID: st.DeptID, TeamID: st.TeamID}
		if p.Roles != nil {
			result = subjectOf(st, roles)
		} else {
			for perm, scope := range target.Grants() {
				result.Grant(perm, scope)
			}
		}
		if !actor.Covers(PermStaffWrite, result) {
			return apperr.ForbiddenErr()
		}
		losesAdmin := slices.Contains(old.Roles, AdminRole) && old.Status == StatusActive &&
			(!slices.Contains(st.Roles, AdminRole) || st.Status != StatusActive)
		if losesAdmin {
			n, err := s.store.OtherActiveAdmins(ctx, id)
			if err != nil {
				return fmt.Errorf("org: count admins: %w", err)
			}
			if n == 0 {
				return apperr.New(apperr.Conflict, "org.staff.last_admin")
			}
		}
		ch := changes{}
		ch.add("display_name", old.DisplayName, st.DisplayName)
		if old.Mobile != st.Mobile { // masked in the audit log, like customers' numbers
			ch["mobile"] = change{From: secure.MaskMobile(old.Mobile), To: secure.MaskMobile(st.Mobile)}
		}
		ch.add("email", old.Email, st.Email)
		ch.add("dept_id", old.DeptID, st.DeptID)
		ch.add("team_id", old.TeamID, st.TeamID)
		ch.add("skills", old.Skills, st.Skills)
		ch.add("status", old.Status, st.Status)
		ch.add("locale", old.Locale, st.Locale)
		ch.add("roles", old.Roles, st.Roles)
		out = st
		if len(ch) == 0 {
			return nil
		}
		st.UpdatedAt = s.now()
		out.UpdatedAt = st.UpdatedAt
		if st.mobileEnc, err = s.sealMobile(st.Mobile); err != nil {
			return err
		}
		if ok, err := s.store.UpdateStaff(ctx, st); err != nil {
			return fmt.Errorf("org: update staff: %w", err)
		} else if !ok {
			return apperr.StaleVersion(0)
		}
		out.Version = st.Version + 1
		if err := s.record(ctx, "staff.update", "staff", id, map[string]any{"username": st.Username, "changed": ch}); err != nil {
			return err
		}
		if c, ok := ch["roles"]; ok {
			if err := s.store.SetStaffRoles(ctx, id, roleIDs(roles)); err != nil {
				return fmt.Errorf("org: staff roles: %w", err)
			}
			if err := s.record(ctx, "staff.roles", "staff", id, map[string]any{"username": st.Username, "from": c.From, "to": c.To}); err != nil {
				return err
			}
		}
		if _, ok := ch["status"]; ok {
			action := "staff.enable"
			if st.Status == StatusDisabled {
				action = "staff.disable"
				if s.auth != nil {
					if err := s.auth.RevokeSessions(ctx, id); err != nil {
						return fmt.Errorf("org: revoke sessions: %w", err)
					}
				}
			}
			if err := s.record(ctx, action, "staff", id, map[string]any{"username": st.Username}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Staff{}, err
	}
	return out, nil
}

// GetStaff returns staff member id if the actor's staff:read scope reaches them
// (otherwise NotFound, so ids cannot be probed).
func (s *Service) GetStaff(ctx context.Context, id int64) (Staff, error) {
	if _, err := authz.Require(ctx, PermStaffRead); err != nil {
		return Staff{}, err
	}
	st, err := s.store.Staff(ctx, id)
	if err != nil {
		return Staff{}, notFound(err, "thing.staff")
	}
	actor, err := authz.RequireRecord(ctx, PermStaffRead, st.record(), "thing.staff")
	if err != nil {
		return Staff{}, err
	}
	return st, s.present(actor, &st)
}

// StaffByUsername returns the staff member with username (no permission check: internal use).
func (s *Service) StaffByUsername(ctx context.Context, username string) (Staff, error) {
	st, err := s.store.StaffByUsername(ctx, NormalizeUsername(username))
	if err != nil {
		return Staff{}, notFound(err, "thing.staff")
	}
	st.Mobile, err = s.openMobile(st)
	return st, err
}

// CountStaff counts every staff account.
func (s *Service) CountStaff(ctx context.Context) (int, error) {
	n, err := s.store.CountStaff(ctx)
	if err != nil {
		return 0, fmt.Errorf("org: count staff: %w", err)
	}
	return n, nil
}

// ListStaff pages through the staff the actor's staff:read scope reaches, newest first.
func (s *Service) ListStaff(ctx context.Context, f StaffFilter) (Page[Staff], error) {
	actor, err := authz.Require(ctx, PermStaffRead)
	if err != nil {
		return Page[Staff]{}, err
	}
	if f.Status != "" && f.Status != StatusActive && f.Status != StatusDisabled {
		return Page[Staff]{}, apperr.InvalidField("status", "field.invalid_choice")
	}
	if len([]rune(f.Q)) > maxName {
		return Page[Staff]{}, apperr.InvalidField("q", "field.too_long", "max", maxName)
	}
	before, err := decodeCursor(f.Cursor)
	if err != nil {
		return Page[Staff]{}, err
	}
	var roleID int64
	if f.Role != "" {
		r, err := s.store.RoleByCode(ctx, f.Role)
		switch {
		case db.IsNoRows(err):
			return Page[Staff]{Items: []Staff{}}, nil // nobody holds a role that does not exist
		case err != nil:
			return Page[Staff]{}, fmt.Errorf("org: load role: %w", err)
		}
		roleID = r.ID
	}
	sc := scopeClause{Scope: actor.ScopeOf(PermStaffRead), DeptID: actor.DeptID, TeamID: actor.TeamID, SelfID: actor.ID}
	limit := pageLimit(f.Limit)
	items, err := s.store.ListStaff(ctx, f, roleID, sc, before, limit+1)
	if err != nil {
		return Page[Staff]{}, fmt.Errorf("org: list staff: %w", err)
	}
	for i := range items {
		if err := s.present(actor, &items[i]); err != nil {
			return Page[Staff]{}, err
		}
	}
	return cut(items, limit, func(st Staff) int64 { return st.ID }), nil
}

// SetLocale stores a staff member's language preference (their own choice in the
// language switcher; not audited).
func (s *Service) SetLocale(ctx context.Context, staffID int64, lang string) error {
	if lang != "" && !slices.Contains(i18n.Languages, lang) {
		return apperr.InvalidField("locale", "field.invalid_choice")
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		ok, err := s.store.SetLocale(ctx, staffID, lang, clock.Millis(s.now()))
		if err != nil {
			return fmt.Errorf("org: set locale: %w", err)
		}
		if !ok {
			return apperr.NotFoundf("thing.staff")
		}
		return nil
	})
}

// manageable loads staff member id for a staff:manage action: the actor must cover them.
func (s *Service) manageable(ctx context.Context, id int64) (Staff, error) {
	actor, err := authz.Require(ctx, PermStaffWrite)
	if err != nil {
		return Staff{}, err
	}
	st, _, err := s.coveredStaff(ctx, actor, id)
	return st, err
}

// coveredStaff loads staff member id and their grants for an action of actor's with
// staff:manage. Unknown and out of scope read alike (NotFound); a staff member in scope
// who holds more than the actor is a plain 403 that tells nothing more.
func (s *Service) coveredStaff(ctx context.Context, actor *authz.Actor, id int64) (Staff, *authz.Actor, error) {
	st, err := s.store.Staff(ctx, id)
	if err != nil {
		return Staff{}, nil, notFound(err, "thing.staff")
	}
	if !actor.Reaches(PermStaffWrite, st.record()) {
		return Staff{}, nil, apperr.NotFoundf("thing.staff") // before loading the grants
	}
	target, err := s.LoadTarget(ctx, id)
	if err != nil {
		return Staff{}, nil, err
	}
	if err := actor.CheckCovers(PermStaffWrite, target, "thing.staff"); err != nil {
		return Staff{}, nil, err
	}
	return st, target, nil
}

// aadStaffMobile is the encryption context (AES-GCM additional data) of staff.mobile_enc;
// internal/cli/keys.go re-encrypts the column on key rotation with the same.
const aadStaffMobile = "staff.mobile"

// sealMobile encrypts a staff mobile for storage ("" stays "").
func (s *Service) sealMobile(m string) (string, error) {
	if m == "" {
		return "", nil
	}
	if s.keys == nil {
		return "", errors.New("org: no key ring to encrypt the mobile number")
	}
	v, err := s.keys.Encrypt(m, aadStaffMobile)
	if err != nil {
		return "", fmt.Errorf("org: encrypt mobile: %w", err)
	}
	return v, nil
}

// openMobile returns a stored staff mobile in clear.
func (s *Service) openMobile(st Staff) (string, error) {
	if st.mobileEnc == "" {
		return st.legacyMobile, nil
	}
	if s.keys == nil {
		return "", errors.New("org: no key ring to decrypt the mobile number")
	}
	v, err := s.keys.Decrypt(st.mobileEnc, aadStaffMobile)
	if err != nil {
		return "", fmt.Errorf("org: decrypt mobile of staff %d: %w", st.ID, err)
	}
	return v, nil
}

// present fills st.Mobile for viewer: in clear for the staff member and for those whose
// staff:manage scope reaches them, masked for everyone else.
func (s *Service) present(viewer *authz.Actor, st *Staff) error {
	m, err := s.openMobile(*st)
	if err != nil {
		return err
	}
	if viewer.Kind != authz.KindSystem && !(viewer.Kind == authz.KindStaff && viewer.ID == st.ID) &&
		!viewer.Reaches(PermStaffWrite, st.record()) {
		m = secure.MaskMobile(m)
	}
	st.Mobile = m
	return nil
}

// EncryptStaffMobiles moves staff mobiles stored in clear (before migration 00011) into
// the encrypted column, in batches, and returns how many it moved. The key ring is not
// available to SQL migrations, so start-up runs this after migrating; with nothing
// left in clear it costs one indexed-free but empty query.
func (s *Service) EncryptStaffMobiles(ctx context.Context) (int, error) {
	const batch = 500
	moved := 0
	for {
		list, err := s.store.ClearMobiles(ctx, batch)
		if err != nil {
			return moved, fmt.Errorf("org: clear mobiles: %w", err)
		}
		if len(list) == 0 {
			return moved, nil
		}
		err = s.db.WithTx(ctx, func(ctx context.Context) error {
			for _, c := range list {
				enc, err := s.sealMobile(c.Mobile)
				if err != nil {
					return err
				}
				ok, err := s.store.SealMobile(ctx, c.ID, c.Mobile, enc)
				if err != nil {
					return fmt.Errorf("org: seal mobile: %w", err)
				}
				if ok {
					moved++
				}
			}
			return nil
		})
		if err != nil {
			return moved, err
		}
	}
}

// SetStaffPassword sets a staff member's password on behalf of an administrator.
func (s *Service) SetStaffPassword(ctx context.Context, id int64, password string) error {
	if _, err := s.manageable(ctx, id); err != nil {
		return err
	}
	if s.auth == nil {
		return errors.New("org: no auth service")
	}
	if password == "" {
		return apperr.InvalidField("password", "field.required")
	}
	return s.auth.SetPassword(ctx, id, password)
}

// UnlockStaff lifts a sign-in lockout.
func (s *Service) UnlockStaff(ctx context.Context, id int64) error {
	if _, err := s.manageable(ctx, id); err != nil {
		return err
	}
	if s.auth == nil {
		return errors.New("org: no auth service")
	}
	return s.auth.Unlock(ctx, id)
}

// LockState says whether a staff member's sign-in is locked.
type LockState struct {
	Locked      bool
	LockedUntil time.Time
	Failures    int
}

// StaffLock reports the sign-in lockout of staff member id.
func (s *Service) StaffLock(ctx context.Context, id int64) (LockState, error) {
	if s.auth == nil {
		return LockState{}, nil
	}
	until, failures, err := s.auth.LockStatus(ctx, id)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return LockState{}, nil
		}
		return LockState{}, err
	}
	return LockState{Locked: until.After(s.clock.Now()), LockedUntil: until, Failures: failures}, nil
}

// CanManageStaff reports whether the actor in ctx may act on staff member id with
// staff:manage (edit, reset the password, unlock): pages show those forms only then.
func (s *Service) CanManageStaff(ctx context.Context, id int64) bool {
	actor := authz.From(ctx)
	if !actor.Can(PermStaffWrite) {
		return false
	}
	_, _, err := s.coveredStaff(ctx, actor, id)
	return err == nil
}
