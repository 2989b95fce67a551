// Package org is the organisation capability: the department tree, teams, staff
// accounts, roles as data (permission sets with a data scope) and the principal loader
// the authentication middleware uses to turn a staff id into an authz.Actor.
package org

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Staff statuses.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// AdminRole is the built-in role that must always hold every permission.
const AdminRole = "admin"

// Limits of free-text fields.
const (
	maxName        = 64
	maxDescription = 200
	maxSkill       = 32
	maxSkills      = 20
)

// Department is a node of the department tree. ParentID 0 is a root.
type Department struct {
	ID        int64     `json:"id"`
	ParentID  int64     `json:"parent_id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DepartmentInput creates a department.
type DepartmentInput struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	ParentID int64  `json:"parent_id"`
}

// DepartmentPatch changes a department; nil fields stay as they are. ParentID 0 makes
// the department a root. Version, when set, must be the department's current version
// (the API always sets it: a PATCH without one is refused before the service).
type DepartmentPatch struct {
	Code     *string `json:"code"`
	Name     *string `json:"name"`
	ParentID *int64  `json:"parent_id"`
	Version  *int64  `json:"version"`
}

// Team belongs to one department.
type Team struct {
	ID        int64     `json:"id"`
	DeptID    int64     `json:"dept_id"`
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TeamInput creates a team.
type TeamInput struct {
	DeptID int64  `json:"dept_id"`
	Name   string `json:"name"`
}

// TeamPatch changes a team.
type TeamPatch struct {
	DeptID  *int64  `json:"dept_id"`
	Name    *string `json:"name"`
	Version *int64  `json:"version"`
}

// Staff is a staff account. DeptID and TeamID are 0 when unset. Mobile is stored
// encrypted (secure.Keyring) and shown in clear only to the staff member and to those
// whose staff:manage scope reaches them; others see it masked (138****1234).
type Staff struct {
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Mobile      string    `json:"mobile"`
	Email       string    `json:"email"`
	DeptID      int64     `json:"dept_id"`
	TeamID      int64     `json:"team_id"`
	Roles       []string  `json:"roles"`
	Skills      []string  `json:"skills"`
	Status      string    `json:"status"`
	Locale      string    `json:"locale"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// mobileEnc is the stored (encrypted) mobile; legacyMobile a clear value not yet
	// moved by EncryptStaffMobiles.
	mobileEnc, legacyMobile string
}

// Active reports whether the account may sign in.
func (s Staff) Active() bool { return s.Status == StatusActive }

// record is the scope-check view of a staff member: the member "owns" their own record.
func (s Staff) record() authz.Record {
	return authz.Record{DeptID: s.DeptID, TeamID: s.TeamID, OwnerID: s.ID}
}

// StaffInput creates a staff account. Roles are role codes.
type StaffInput struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Mobile      string   `json:"mobile"`
	Email       string   `json:"email"`
	DeptID      int64    `json:"dept_id"`
	TeamID      int64    `json:"team_id"`
	Roles       []string `json:"roles"`
	Skills      []string `json:"skills"`
	Locale      string   `json:"locale"`
}

// StaffPatch changes a staff account; nil fields stay as they are.
type StaffPatch struct {
	DisplayName *string   `json:"display_name"`
	Mobile      *string   `json:"mobile"`
	Email       *string   `json:"email"`
	DeptID      *int64    `json:"dept_id"`
	TeamID      *int64    `json:"team_id"`
	Roles       *[]string `json:"roles"`
	Skills      *[]string `json:"skills"`
	Status      *string   `json:"status"`
	Locale      *string   `json:"locale"`
	Version     *int64    `json:"version"`
}

// StaffFilter narrows a staff list.
type StaffFilter struct {
	DeptID int64
	TeamID int64
	Role   string
	Status string
	Q      string
	Limit  int
	Cursor string
}

// Role is a named permission set with a data scope. Built-in roles (SPEC §1) have an
// empty Name unless an administrator gave them one; their label is "role.<code>".
type Role struct {
	ID          int64       `json:"id"`
	Code        string      `json:"code"`
	Name        string      `json:"name"`
	Description string      `json:"description" text:"multiline"`
	Scope       authz.Scope `json:"scope"`
	Permissions []string    `json:"permissions"`
	Builtin     bool        `json:"builtin"`
	Version     int64       `json:"version"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// RoleInput creates a role.
type RoleInput struct {
	Code        string      `json:"code"`
	Name        string      `json:"name"`
	Description string      `json:"description" text:"multiline"`
	Scope       authz.Scope `json:"scope"`
	Permissions []string    `json:"permissions"`
}

// RolePatch changes a role; nil fields stay as they are.
type RolePatch struct {
	Name        *string      `json:"name"`
	Description *string      `json:"description" text:"multiline"`
	Scope       *authz.Scope `json:"scope"`
	Permissions *[]string    `json:"permissions"`
	Version     *int64       `json:"version"`
}

// ListParams is a keyset page request.
type ListParams struct {
	Limit  int
	Cursor string
}

// Page is one page of a list with the cursor of the next (empty at the end).
type Page[T any] struct {
	Items      []T
	NextCursor string
}

var (
	usernameRe = regexp.MustCompile(`^[a-z0-9._-]{3,32}$`)
	deptCodeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	roleCodeRe = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)
)

// NormalizeUsername lower-cases and trims a username as typed at sign-in.
func NormalizeUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

func checkName(f apperr.Fields, field, v string, required bool) {
	switch {
	case required && v == "":
		f.Add(field, "field.required")
	case utf8.RuneCountInString(v) > maxName:
		f.Add(field, "field.too_long", "max", maxName)
	case hasControl(v):
		f.Add(field, "field.invalid")
	}
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s)
}

func checkUsername(f apperr.Fields, u string) {
	switch {
	case u == "":
		f.Add("username", "field.required")
	case !usernameRe.MatchString(u):
		f.Add("username", "org.invalid.username")
	}
}

// checkMobile validates an optional mainland mobile number and returns its 11-digit form.
func checkMobile(f apperr.Fields, m string) string {
	if m == "" {
		return ""
	}
	n, err := cnid.NormalizeMobile(m)
	if err != nil {
		f.Add("mobile", cnid.KeyOf(err))
		return m
	}
	return n
}

// checkEmail validates an optional e-mail address and returns its normalized form.
func checkEmail(f apperr.Fields, e string) string {
	if e == "" {
		return ""
	}
	n, err := cnid.ValidateEmail(e)
	if err != nil {
		f.Add("email", cnid.KeyOf(err))
		return e
	}
	return n
}

func checkLocale(f apperr.Fields, l string) {
	if l != "" && !slices.Contains(i18n.Languages, l) {
		f.Add("locale", "field.invalid_choice")
	}
}

func checkStatus(f apperr.Fields, s string) {
	if s != StatusActive && s != StatusDisabled {
		f.Add("status", "field.invalid_choice")
	}
}

// cleanSkills trims, de-duplicates and checks a skill list.
func cleanSkills(f apperr.Fields, in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if utf8.RuneCountInString(s) > maxSkill || hasControl(s) || strings.ContainsAny(s, ",;") {
			f.Add("skills", "org.invalid.skill", "max", maxSkill)
			continue
		}
		out = append(out, s)
	}
	if len(out) > maxSkills {
		f.Add("skills", "org.invalid.skills_count", "max", maxSkills)
	}
	return out
}

// cleanRoles trims and de-duplicates role codes, keeping their order.
func cleanRoles(in []string) []string {
	out := make([]string, 0, len(in))
	for _, r := range in {
		r = strings.TrimSpace(r)
		if r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// cleanPermissions checks permission names against the catalog and returns them sorted
// and de-duplicated.
func cleanPermissions(f apperr.Fields, in []string) []string {
	out := make([]string, 0, len(in))
	for _, p := range in {
		p = strings.TrimSpace(p)
		if !authz.Known(p) {
			f.Add("permissions", "org.invalid.permission_unknown", "perm", p)
			continue
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// SplitSkills turns a comma-separated form value into a skill list.
func SplitSkills(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\uff0c' || r == ';' || r == '\n' })
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}
