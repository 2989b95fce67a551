package authz

// Permission describes one permission for the role editor; its label is the i18n key
// "perm.<name>".
type Permission struct {
	Name       string
	Capability string
}

// Catalog is every permission Kefu checks. Capabilities append theirs here so the role
// editor can offer them; a test checks each has a label in every language.
var Catalog = []Permission{
	{"staff:read", "org"},
	{"staff:manage", "org"},
	{"dept:read", "org"},
	{"dept:manage", "org"},
	{"role:read", "org"},
	{"role:manage", "org"},
	{"token:manage", "org"},
	{"settings:manage", "org"},
	{"audit:read", "audit"},
	{"customer:read", "customer"},
	{"customer:write", "customer"},
	{"customer:reveal", "customer"},
	{"customer:force_duplicate", "customer"},
	{"customer:export", "customer"},
	{"customer:export_clear", "customer"},
	{"customer:import", "customer"},
	{"customer:merge", "customer"},
	{"customer:rules", "customer"},
	{"territory:manage", "customer"},
	{"calendar:manage", "calendar"},
	{"ticket:read", "ticket"},
	{"ticket:write", "ticket"},
	{"ticket:assign", "ticket"},
	{"ticket:manage", "ticket"},
	{"ticket:canned", "ticket"},
	{"kb:read", "kb"},
	{"kb:write", "kb"},
	{"complaint:read", "complaint"},
	{"complaint:write", "complaint"},
	{"complaint:assess", "complaint"},
	{"complaint:approve", "complaint"},
	{"complaint:merge", "complaint"},
	{"complaint:letter", "complaint"},
	{"complaint:analyze", "complaint"},
	{"complaint:manage", "complaint"},
	{"activity:read", "activity"},
	{"activity:write", "activity"},
	{"cooperation:read", "customer"},
	{"cooperation:write", "customer"},
	{"cooperation:reveal", "customer"},
	{"revisit:read", "revisit"},
	{"revisit:write", "revisit"},
	{"revisit:signoff", "revisit"},
	{"revisit:verify", "revisit"},
	{"revisit:approve", "revisit"},
	{"revisit:report", "revisit"},
	{"revisit:manage", "revisit"},
	{"fieldvisit:read", "fieldvisit"},
	{"fieldvisit:write", "fieldvisit"},
	{"fieldvisit:manage", "fieldvisit"},
	{"survey:read", "survey"},
	{"survey:write", "survey"},
	{"survey:report", "survey"},
	{"survey:manage", "survey"},
}

// Known reports whether name is a permission in the catalog (or "*").
func Known(name string) bool {
	if name == All {
		return true
	}
	for _, p := range Catalog {
		if p.Name == name {
			return true
		}
	}
	return false
}

// RoleDef is a built-in role seeded into the roles table (SPEC §1).
type RoleDef struct {
	Code  string
	Scope Scope
	Perms []string
}

// BuiltinRoles are the SPEC §1 defaults. Admins can edit them afterwards; seeding only
// inserts roles that do not exist yet. Later capabilities add their permissions here.
var BuiltinRoles = []RoleDef{
	{Code: "admin", Scope: ScopeAll, Perms: []string{All}},
	{Code: "director", Scope: ScopeAll, Perms: []string{"staff:read", "dept:read", "role:read", "audit:read",
		"customer:read", "customer:write", "customer:reveal", "customer:export", "customer:force_duplicate",
		"customer:merge", "customer:rules", "territory:manage", "customer:import", "kb:read", "kb:write",
		"ticket:read", "ticket:write", "ticket:assign", "ticket:canned", "ticket:manage", "calendar:manage",
		"complaint:read", "complaint:write", "complaint:assess", "complaint:approve", "complaint:merge",
		"complaint:letter", "complaint:analyze", "complaint:manage",
		"activity:read", "activity:write", "cooperation:read", "cooperation:write", "cooperation:reveal",
		"revisit:read", "revisit:write", "revisit:signoff", "revisit:verify", "revisit:approve", "revisit:report",
		"revisit:manage", "fieldvisit:read", "fieldvisit:write", "fieldvisit:manage",
		"survey:read", "survey:write", "survey:report", "survey:manage"}},
	{Code: "supervisor", Scope: ScopeDept, Perms: []string{"staff:read", "dept:read", "role:read",
		"customer:read", "customer:write", "customer:reveal", "customer:force_duplicate", "customer:export",
		"customer:import", "kb:read", "kb:write", "ticket:read", "ticket:write", "ticket:assign", "ticket:canned",
		"complaint:read", "complaint:write", "complaint:assess", "complaint:approve", "complaint:merge",
		"complaint:letter", "complaint:analyze",
		"activity:read", "activity:write", "cooperation:read", "cooperation:write",
		"revisit:read", "revisit:write", "revisit:signoff", "revisit:verify", "revisit:report",
		"fieldvisit:read", "fieldvisit:manage", "survey:read", "survey:write", "survey:report"}},
	{Code: "agent", Scope: ScopeTeam, Perms: []string{"dept:read", "customer:read", "customer:write", "kb:read",
		"ticket:read", "ticket:write", "complaint:read", "complaint:write",
		"activity:read", "cooperation:read", "revisit:read", "revisit:write", "fieldvisit:read",
		"survey:read", "survey:write"}},
	{Code: "qa", Scope: ScopeAll, Perms: []string{"dept:read", "customer:read", "kb:read", "ticket:read",
		"complaint:read", "complaint:analyze", "revisit:read", "revisit:report", "survey:read", "survey:report"}},
	{Code: "archivist", Scope: ScopeAll, Perms: []string{"dept:read", "audit:read", "customer:read", "customer:export",
		"customer:merge"}},
	{Code: "sales", Scope: ScopeOwn, Perms: []string{"dept:read", "customer:read", "customer:write",
		"activity:read", "cooperation:read", "fieldvisit:read", "fieldvisit:write", "revisit:read"}},
}
