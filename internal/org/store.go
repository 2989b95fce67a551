package org

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Store holds the SQL of the org capability. Inserts use RETURNING and must run inside a
// transaction (db.WithTx): outside one, QueryRow goes to the read-only pool.
type Store struct {
	db *db.DB
}

// NewStore returns a store over d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func toJSON(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func fromJSON(s string) ([]string, error) {
	var v []string
	if s == "" {
		return []string{}, nil
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("org: stored list %q: %w", s, err)
	}
	if v == nil {
		v = []string{}
	}
	return v, nil
}

// placeholders returns "?,?,?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ---- departments ----

const (
	sqlDeptCols   = `id, parent_id, code, name, version, created_at, updated_at`
	sqlDeptInsert = `INSERT INTO departments (parent_id, code, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`
	sqlDeptByID   = `SELECT ` + sqlDeptCols + ` FROM departments WHERE id = ?`
	sqlDeptByCode = `SELECT ` + sqlDeptCols + ` FROM departments WHERE code = ?`
	sqlDeptList   = `SELECT ` + sqlDeptCols + ` FROM departments WHERE id > ? ORDER BY id LIMIT ?`
	sqlDeptAll    = `SELECT ` + sqlDeptCols + ` FROM departments ORDER BY id`
	sqlDeptUpdate = `UPDATE departments SET parent_id = ?, code = ?, name = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`
	sqlDeptDelete = `DELETE FROM departments WHERE id = ?`
	// sqlDeptAncestry lists a department and all its ancestors.
	sqlDeptAncestry = `WITH RECURSIVE up(id, parent_id) AS (
		SELECT id, parent_id FROM departments WHERE id = ?
		UNION
		SELECT d.id, d.parent_id FROM departments d JOIN up ON d.id = up.parent_id
	) SELECT id FROM up`
	sqlDeptUsage = `SELECT
		(SELECT COUNT(*) FROM departments WHERE parent_id = ?),
		(SELECT COUNT(*) FROM teams WHERE dept_id = ?),
		(SELECT COUNT(*) FROM staff WHERE dept_id = ?)`
)

type scanner interface{ Scan(dest ...any) error }

func scanDept(r scanner) (Department, error) {
	var d Department
	var parent sql.NullInt64
	var created, updated int64
	if err := r.Scan(&d.ID, &parent, &d.Code, &d.Name, &d.Version, &created, &updated); err != nil {
		return d, err
	}
	d.ParentID = parent.Int64
	d.CreatedAt, d.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	return d, nil
}

// InsertDepartment adds d and sets its id.
func (s *Store) InsertDepartment(ctx context.Context, d *Department) error {
	return s.db.QueryRow(ctx, sqlDeptInsert, nullID(d.ParentID), d.Code, d.Name,
		clock.Millis(d.CreatedAt), clock.Millis(d.UpdatedAt)).Scan(&d.ID)
}

// Department returns the department id (sql.ErrNoRows if none).
func (s *Store) Department(ctx context.Context, id int64) (Department, error) {
	return scanDept(s.db.QueryRow(ctx, sqlDeptByID, id))
}

// DepartmentByCode returns the department with code.
func (s *Store) DepartmentByCode(ctx context.Context, code string) (Department, error) {
	return scanDept(s.db.QueryRow(ctx, sqlDeptByCode, code))
}

// Departments lists departments by id after afterID.
func (s *Store) Departments(ctx context.Context, afterID int64, limit int) ([]Department, error) {
	return s.depts(ctx, sqlDeptList, afterID, limit)
}

// AllDepartments lists every department by id.
func (s *Store) AllDepartments(ctx context.Context) ([]Department, error) {
	return s.depts(ctx, sqlDeptAll)
}

func (s *Store) depts(ctx context.Context, q string, args ...any) ([]Department, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Department{}
	for rows.Next() {
		d, err := scanDept(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UpdateDepartment writes d's fields if its stored version is still d.Version (and
// then bumps it); ok is false when the version moved on meanwhile.
func (s *Store) UpdateDepartment(ctx context.Context, d Department) (ok bool, err error) {
	return affected(s.db.Exec(ctx, sqlDeptUpdate, nullID(d.ParentID), d.Code, d.Name, clock.Millis(d.UpdatedAt), d.ID, d.Version))
}

// affected reports whether an UPDATE changed a row.
func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteDepartment removes department id.
func (s *Store) DeleteDepartment(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, sqlDeptDelete, id)
	return err
}

// Ancestry returns id and the ids of all its ancestors.
func (s *Store) Ancestry(ctx context.Context, id int64) ([]int64, error) {
	return s.ids(ctx, sqlDeptAncestry, id)
}

// DepartmentUsage counts the children, teams and staff of department id.
func (s *Store) DepartmentUsage(ctx context.Context, id int64) (children, teams, staff int, err error) {
	err = s.db.QueryRow(ctx, sqlDeptUsage, id, id, id).Scan(&children, &teams, &staff)
	return
}

// ---- teams ----

const (
	sqlTeamCols     = `id, dept_id, name, version, created_at, updated_at`
	sqlTeamInsert   = `INSERT INTO teams (dept_id, name, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`
	sqlTeamByID     = `SELECT ` + sqlTeamCols + ` FROM teams WHERE id = ?`
	sqlTeamList     = `SELECT ` + sqlTeamCols + ` FROM teams WHERE id > ? ORDER BY id LIMIT ?`
	sqlTeamListDept = `SELECT ` + sqlTeamCols + ` FROM teams WHERE dept_id = ? AND id > ? ORDER BY id LIMIT ?`
	sqlTeamAll      = `SELECT ` + sqlTeamCols + ` FROM teams ORDER BY dept_id, name, id`
	sqlTeamUpdate   = `UPDATE teams SET dept_id = ?, name = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`
	sqlTeamDelete   = `DELETE FROM teams WHERE id = ?`
	sqlTeamUsage    = `SELECT COUNT(*) FROM staff WHERE team_id = ?`
)

func scanTeam(r scanner) (Team, error) {
	var t Team
	var created, updated int64
	if err := r.Scan(&t.ID, &t.DeptID, &t.Name, &t.Version, &created, &updated); err != nil {
		return t, err
	}
	t.CreatedAt, t.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	return t, nil
}

// InsertTeam adds t and sets its id.
func (s *Store) InsertTeam(ctx context.Context, t *Team) error {
	return s.db.QueryRow(ctx, sqlTeamInsert, t.DeptID, t.Name, clock.Millis(t.CreatedAt), clock.Millis(t.UpdatedAt)).Scan(&t.ID)
}

// Team returns team id.
func (s *Store) Team(ctx context.Context, id int64) (Team, error) {
	return scanTeam(s.db.QueryRow(ctx, sqlTeamByID, id))
}

// Teams lists teams by id after afterID, of one department when deptID is set.
func (s *Store) Teams(ctx context.Context, deptID, afterID int64, limit int) ([]Team, error) {
	if deptID != 0 {
		return s.teams(ctx, sqlTeamListDept, deptID, afterID, limit)
	}
	return s.teams(ctx, sqlTeamList, afterID, limit)
}

// AllTeams lists every team by department and name.
func (s *Store) AllTeams(ctx context.Context) ([]Team, error) { return s.teams(ctx, sqlTeamAll) }

func (s *Store) teams(ctx context.Context, q string, args ...any) ([]Team, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Team{}
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UpdateTeam writes t's fields if its stored version is still t.Version (and bumps it).
func (s *Store) UpdateTeam(ctx context.Context, t Team) (bool, error) {
	return affected(s.db.Exec(ctx, sqlTeamUpdate, t.DeptID, t.Name, clock.Millis(t.UpdatedAt), t.ID, t.Version))
}

// DeleteTeam removes team id.
func (s *Store) DeleteTeam(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, sqlTeamDelete, id)
	return err
}

// TeamUsage counts the staff of team id.
func (s *Store) TeamUsage(ctx context.Context, id int64) (n int, err error) {
	err = s.db.QueryRow(ctx, sqlTeamUsage, id).Scan(&n)
	return
}

// ---- roles ----

const (
	sqlRoleCols   = `id, code, name, description, scope, permissions, builtin, version, created_at, updated_at`
	sqlRoleInsert = `INSERT INTO roles (code, name, description, scope, permissions, builtin, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	// sqlRoleSeed inserts a built-in role unless its code exists (several nodes may seed at once).
	sqlRoleSeed = `INSERT INTO roles (code, name, description, scope, permissions, builtin, created_at, updated_at)
		VALUES (?, '', '', ?, ?, 1, ?, ?) ON CONFLICT (code) DO NOTHING RETURNING id`
	sqlRoleByID   = `SELECT ` + sqlRoleCols + ` FROM roles WHERE id = ?`
	sqlRoleByCode = `SELECT ` + sqlRoleCols + ` FROM roles WHERE code = ?`
	sqlRoleList   = `SELECT ` + sqlRoleCols + ` FROM roles WHERE id > ? ORDER BY id LIMIT ?`
	sqlRoleAll    = `SELECT ` + sqlRoleCols + ` FROM roles ORDER BY id`
	sqlRoleUpdate = `UPDATE roles SET name = ?, description = ?, scope = ?, permissions = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`
	sqlRoleDelete  = `DELETE FROM roles WHERE id = ?`
	sqlRoleUsage   = `SELECT COUNT(*) FROM staff_roles WHERE role_id = ?`
	sqlRoleHolders = `SELECT staff_id FROM staff_roles WHERE role_id = ? ORDER BY staff_id`

	sqlSettingGet    = `SELECT value FROM settings WHERE key = ?`
	sqlSettingUpsert = `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
)

func scanRole(r scanner) (Role, error) {
	var ro Role
	var perms string
	var builtin int
	var created, updated int64
	if err := r.Scan(&ro.ID, &ro.Code, &ro.Name, &ro.Description, &ro.Scope, &perms, &builtin, &ro.Version, &created, &updated); err != nil {
		return ro, err
	}
	p, err := fromJSON(perms)
	if err != nil {
		return ro, err
	}
	ro.Permissions, ro.Builtin = p, builtin != 0
	ro.CreatedAt, ro.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	return ro, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// InsertRole adds r and sets its id.
func (s *Store) InsertRole(ctx context.Context, r *Role) error {
	return s.db.QueryRow(ctx, sqlRoleInsert, r.Code, r.Name, r.Description, string(r.Scope), toJSON(r.Permissions),
		boolInt(r.Builtin), clock.Millis(r.CreatedAt), clock.Millis(r.UpdatedAt)).Scan(&r.ID)
}

// SeedRole inserts a built-in role unless one with its code exists; it returns the new
// role's id, or 0 when the role existed.
func (s *Store) SeedRole(ctx context.Context, def authz.RoleDef, now int64) (int64, error) {
	perms := slices.Sorted(slices.Values(def.Perms))
	var id int64
	err := s.db.QueryRow(ctx, sqlRoleSeed, def.Code, string(def.Scope), toJSON(perms), now, now).Scan(&id)
	if db.IsNoRows(err) {
		return 0, nil
	}
	return id, err
}

// Role returns role id.
func (s *Store) Role(ctx context.Context, id int64) (Role, error) {
	return scanRole(s.db.QueryRow(ctx, sqlRoleByID, id))
}

// RoleByCode returns the role with code.
func (s *Store) RoleByCode(ctx context.Context, code string) (Role, error) {
	return scanRole(s.db.QueryRow(ctx, sqlRoleByCode, code))
}

// Roles lists roles by id after afterID.
func (s *Store) Roles(ctx context.Context, afterID int64, limit int) ([]Role, error) {
	return s.roles(ctx, sqlRoleList, afterID, limit)
}

// AllRoles lists every role by id.
func (s *Store) AllRoles(ctx context.Context) ([]Role, error) { return s.roles(ctx, sqlRoleAll) }

func (s *Store) roles(ctx context.Context, q string, args ...any) ([]Role, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Role{}
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UpdateRole writes r's editable fields if its stored version is still r.Version (and
// bumps it).
func (s *Store) UpdateRole(ctx context.Context, r Role) (bool, error) {
	return affected(s.db.Exec(ctx, sqlRoleUpdate, r.Name, r.Description, string(r.Scope), toJSON(r.Permissions),
		clock.Millis(r.UpdatedAt), r.ID, r.Version))
}

// RoleHolders lists the staff holding role id.
func (s *Store) RoleHolders(ctx context.Context, id int64) ([]int64, error) {
	return s.ids(ctx, sqlRoleHolders, id)
}

// DeleteRole removes role id.
func (s *Store) DeleteRole(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, sqlRoleDelete, id)
	return err
}

// RoleUsage counts the staff holding role id.
func (s *Store) RoleUsage(ctx context.Context, id int64) (n int, err error) {
	err = s.db.QueryRow(ctx, sqlRoleUsage, id).Scan(&n)
	return
}

// Setting reads a settings value ("" and ok=false when absent).
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.db.QueryRow(ctx, sqlSettingGet, key).Scan(&v)
	if db.IsNoRows(err) {
		return "", false, nil
	}
	return v, err == nil, err
}

// SetSetting writes a settings value.
func (s *Store) SetSetting(ctx context.Context, key, value string, now int64) error {
	_, err := s.db.Exec(ctx, sqlSettingUpsert, key, value, now)
	return err
}

// ---- staff ----

const (
	sqlStaffCols = `s.id, s.username, s.display_name, s.mobile, s.mobile_enc, s.email, s.dept_id, s.team_id, s.skills, s.status, s.locale,
		s.version, s.created_at, s.updated_at`
	sqlStaffInsert = `INSERT INTO staff (username, display_name, mobile, mobile_enc, email, dept_id, team_id, skills, status, locale,
		created_at, updated_at) VALUES (?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlStaffByID       = `SELECT ` + sqlStaffCols + ` FROM staff s WHERE s.id = ?`
	sqlStaffByUsername = `SELECT ` + sqlStaffCols + ` FROM staff s WHERE s.username = ?`
	sqlStaffUpdate     = `UPDATE staff SET display_name = ?, mobile = '', mobile_enc = ?, email = ?, dept_id = ?, team_id = ?, skills = ?,
		status = ?, locale = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`
	sqlStaffSetLocale = `UPDATE staff SET locale = ?, updated_at = ?, version = version + 1 WHERE id = ?`
	// sqlStaffClearMobiles finds mobiles stored in clear before 00011.
	sqlStaffClearMobiles = `SELECT id, mobile FROM staff WHERE mobile <> '' ORDER BY id LIMIT ?`
	sqlStaffSealMobile   = `UPDATE staff SET mobile_enc = ?, mobile = '' WHERE id = ? AND mobile = ?`
	sqlStaffCount        = `SELECT COUNT(*) FROM staff`
	sqlStaffLogin        = `SELECT id, status FROM staff WHERE username = ?`
	sqlStaffRolesOf      = `SELECT sr.staff_id, r.code FROM staff_roles sr JOIN roles r ON r.id = sr.role_id WHERE sr.staff_id IN (%s) ORDER BY r.code`
	sqlStaffRoleClear    = `DELETE FROM staff_roles WHERE staff_id = ?`
	sqlStaffRoleAdd      = `INSERT INTO staff_roles (staff_id, role_id) VALUES (?, ?)`
	// sqlPrincipal loads a staff member with every role's scope and permissions in one
	// indexed query (the authentication middleware runs it on every request).
	sqlPrincipal = `SELECT s.id, s.username, s.display_name, s.dept_id, s.team_id, s.status, s.locale,
		r.code, r.name, r.scope, r.permissions
		FROM staff s
		LEFT JOIN staff_roles sr ON sr.staff_id = s.id
		LEFT JOIN roles r ON r.id = sr.role_id
		WHERE s.id = ?`
)

func scanStaff(r scanner) (Staff, error) {
	var st Staff
	var dept, team sql.NullInt64
	var skills string
	var created, updated int64
	if err := r.Scan(&st.ID, &st.Username, &st.DisplayName, &st.legacyMobile, &st.mobileEnc, &st.Email, &dept, &team, &skills,
		&st.Status, &st.Locale, &st.Version, &created, &updated); err != nil {
		return st, err
	}
	sk, err := fromJSON(skills)
	if err != nil {
		return st, err
	}
	st.Skills, st.DeptID, st.TeamID = sk, dept.Int64, team.Int64
	st.CreatedAt, st.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	st.Roles = []string{}
	return st, nil
}

// InsertStaff adds st (without roles) and sets its id.
func (s *Store) InsertStaff(ctx context.Context, st *Staff) error {
	return s.db.QueryRow(ctx, sqlStaffInsert, st.Username, st.DisplayName, st.mobileEnc, st.Email, nullID(st.DeptID),
		nullID(st.TeamID), toJSON(st.Skills), st.Status, st.Locale, clock.Millis(st.CreatedAt), clock.Millis(st.UpdatedAt)).Scan(&st.ID)
}

// Staff returns staff member id with roles.
func (s *Store) Staff(ctx context.Context, id int64) (Staff, error) {
	st, err := scanStaff(s.db.QueryRow(ctx, sqlStaffByID, id))
	if err != nil {
		return st, err
	}
	return st, s.fillRoles(ctx, []*Staff{&st})
}

// StaffByUsername returns the staff member with username, with roles.
func (s *Store) StaffByUsername(ctx context.Context, username string) (Staff, error) {
	st, err := scanStaff(s.db.QueryRow(ctx, sqlStaffByUsername, username))
	if err != nil {
		return st, err
	}
	return st, s.fillRoles(ctx, []*Staff{&st})
}

// scopeClause restricts a staff query to what the actor's scope reaches.
type scopeClause struct {
	Scope  authz.Scope
	DeptID int64
	TeamID int64
	SelfID int64
}

// ListStaff lists staff newest first (id descending) before beforeID (0 = from the top),
// holding role roleID when it is not 0 (f.Role is resolved by the caller).
func (s *Store) ListStaff(ctx context.Context, f StaffFilter, roleID int64, sc scopeClause, beforeID int64, limit int) ([]Staff, error) {
	var where []string
	var args []any
	if beforeID > 0 {
		where, args = append(where, "s.id < ?"), append(args, beforeID)
	}
	switch sc.Scope {
	case authz.ScopeAll:
	case authz.ScopeDept:
		where, args = append(where, "s.dept_id = ?"), append(args, sc.DeptID)
	case authz.ScopeTeam:
		where, args = append(where, "(s.team_id = ? OR s.id = ?)"), append(args, sc.TeamID, sc.SelfID)
	default:
		where, args = append(where, "s.id = ?"), append(args, sc.SelfID)
	}
	if f.DeptID != 0 {
		where, args = append(where, "s.dept_id = ?"), append(args, f.DeptID)
	}
	if f.TeamID != 0 {
		where, args = append(where, "s.team_id = ?"), append(args, f.TeamID)
	}
	if f.Status != "" {
		where, args = append(where, "s.status = ?"), append(args, f.Status)
	}
	if roleID != 0 {
		where = append(where, "EXISTS (SELECT 1 FROM staff_roles sr WHERE sr.staff_id = s.id AND sr.role_id = ?)")
		args = append(args, roleID)
	}
	if q := strings.ToLower(strings.TrimSpace(f.Q)); q != "" {
		esc := likeEscape(q)
		where = append(where, `(s.username LIKE ? ESCAPE '\' OR LOWER(s.display_name) LIKE ? ESCAPE '\')`)
		args = append(args, esc+"%", "%"+esc+"%")
	}
	q := `SELECT ` + sqlStaffCols + ` FROM staff s`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY s.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := []Staff{}
	for rows.Next() {
		st, err := scanStaff(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()
	ptrs := make([]*Staff, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, s.fillRoles(ctx, ptrs)
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// fillRoles loads the role codes of the given staff members in one query.
func (s *Store) fillRoles(ctx context.Context, list []*Staff) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[int64]*Staff, len(list))
	args := make([]any, 0, len(list))
	for _, st := range list {
		byID[st.ID] = st
		args = append(args, st.ID)
	}
	rows, err := s.db.Query(ctx, fmt.Sprintf(sqlStaffRolesOf, placeholders(len(args))), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return err
		}
		if st := byID[id]; st != nil {
			st.Roles = append(st.Roles, code)
		}
	}
	return rows.Err()
}

// UpdateStaff writes st's editable fields (not username, not roles; the mobile as
// st.mobileEnc) if its stored version is still st.Version, and bumps the version.
func (s *Store) UpdateStaff(ctx context.Context, st Staff) (bool, error) {
	return affected(s.db.Exec(ctx, sqlStaffUpdate, st.DisplayName, st.mobileEnc, st.Email, nullID(st.DeptID), nullID(st.TeamID),
		toJSON(st.Skills), st.Status, st.Locale, clock.Millis(st.UpdatedAt), st.ID, st.Version))
}

// clearMobile is a staff mobile still stored in clear.
type clearMobile struct {
	ID     int64
	Mobile string
}

// ClearMobiles lists up to limit staff mobiles stored in clear.
func (s *Store) ClearMobiles(ctx context.Context, limit int) ([]clearMobile, error) {
	rows, err := s.db.Query(ctx, sqlStaffClearMobiles, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []clearMobile
	for rows.Next() {
		var c clearMobile
		if err := rows.Scan(&c.ID, &c.Mobile); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SealMobile replaces the clear mobile of staff member id (still equal to clear) by
// its encrypted form.
func (s *Store) SealMobile(ctx context.Context, id int64, clear, enc string) (bool, error) {
	return affected(s.db.Exec(ctx, sqlStaffSealMobile, enc, id, clear))
}

// SetStaffRoles replaces the roles of staff member id.
func (s *Store) SetStaffRoles(ctx context.Context, id int64, roleIDs []int64) error {
	if _, err := s.db.Exec(ctx, sqlStaffRoleClear, id); err != nil {
		return err
	}
	for _, rid := range roleIDs {
		if _, err := s.db.Exec(ctx, sqlStaffRoleAdd, id, rid); err != nil {
			return err
		}
	}
	return nil
}

// SetLocale stores a staff member's language preference.
func (s *Store) SetLocale(ctx context.Context, id int64, lang string, now int64) (bool, error) {
	res, err := s.db.Exec(ctx, sqlStaffSetLocale, lang, now, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CountStaff counts every staff account.
func (s *Store) CountStaff(ctx context.Context) (n int, err error) {
	err = s.db.QueryRow(ctx, sqlStaffCount).Scan(&n)
	return
}

// Login returns the id and status of username.
func (s *Store) Login(ctx context.Context, username string) (id int64, status string, err error) {
	err = s.db.QueryRow(ctx, sqlStaffLogin, username).Scan(&id, &status)
	return
}

// principalRow is one row of sqlPrincipal.
type principalRow struct {
	ID          int64
	Username    string
	DisplayName string
	DeptID      int64
	TeamID      int64
	Status      string
	Locale      string
	Role        string // "" when the staff member holds no role
	RoleName    string
	Scope       authz.Scope
	Permissions []string
}

// Principal loads a staff member and their roles' grants (sql.ErrNoRows if none).
func (s *Store) Principal(ctx context.Context, id int64) ([]principalRow, error) {
	rows, err := s.db.Query(ctx, sqlPrincipal, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []principalRow
	for rows.Next() {
		var p principalRow
		var dept, team sql.NullInt64
		var code, name, scope, perms sql.NullString
		if err := rows.Scan(&p.ID, &p.Username, &p.DisplayName, &dept, &team, &p.Status, &p.Locale, &code, &name, &scope, &perms); err != nil {
			return nil, err
		}
		p.DeptID, p.TeamID, p.Role, p.RoleName, p.Scope = dept.Int64, team.Int64, code.String, name.String, authz.Scope(scope.String)
		if perms.Valid {
			if p.Permissions, err = fromJSON(perms.String); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, sql.ErrNoRows
	}
	slices.SortFunc(out, func(a, b principalRow) int { return strings.Compare(a.Role, b.Role) })
	return out, nil
}

const sqlOtherActiveAdmins = `SELECT COUNT(*) FROM staff s
	JOIN staff_roles sr ON sr.staff_id = s.id
	JOIN roles r ON r.id = sr.role_id
	WHERE r.code = ? AND s.status = ? AND s.id <> ?`

// OtherActiveAdmins counts active holders of the admin role other than staff member id.
func (s *Store) OtherActiveAdmins(ctx context.Context, id int64) (n int, err error) {
	err = s.db.QueryRow(ctx, sqlOtherActiveAdmins, AdminRole, StatusActive, id).Scan(&n)
	return
}

// ids runs a query of one int64 column and collects it.
func (s *Store) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
