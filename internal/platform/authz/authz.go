// Package authz holds the acting principal, permissions named "capability:action", the
// data scope of a role (all, department, team, own) and the check every service runs.
// Roles themselves are data owned by the org capability; this package knows no tables.
package authz

import (
	"context"
	"slices"
	"sort"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Kind of principal.
type Kind string

// Principal kinds.
const (
	KindStaff    Kind = "staff"
	KindSystem   Kind = "system"
	KindCustomer Kind = "customer"
)

// Scope says which records a permission reaches.
type Scope string

// Scopes, widest first.
const (
	ScopeAll  Scope = "all"
	ScopeDept Scope = "dept"
	ScopeTeam Scope = "team"
	ScopeOwn  Scope = "own"
)

// ValidScope reports whether s is a known scope.
func ValidScope(s Scope) bool {
	return s == ScopeAll || s == ScopeDept || s == ScopeTeam || s == ScopeOwn
}

// wider reports whether a reaches at least as far as b.
func wider(a, b Scope) bool { return rank(a) <= rank(b) }

// Wider reports whether scope a reaches at least as far as scope b.
func Wider(a, b Scope) bool { return wider(a, b) }

func rank(s Scope) int {
	switch s {
	case ScopeAll:
		return 0
	case ScopeDept:
		return 1
	case ScopeTeam:
		return 2
	}
	return 3
}

// All is the permission that grants every other (the admin role holds it).
const All = "*"

// Actor is whoever acts: a staff member, a job, the CLI, or a customer in the portal.
type Actor struct {
	ID          int64
	Kind        Kind
	Username    string
	DisplayName string
	DeptID      int64
	TeamID      int64
	Roles       []string
	// RoleNames maps a role code to the name an administrator gave it (custom roles
	// have no catalog label).
	RoleNames map[string]string
	Locale    string
	// perms maps a permission to the widest scope among the roles that grant it.
	perms map[string]Scope
	// SessionID / TokenID tell how the actor authenticated (one of them, or none).
	SessionID string
	TokenID   int64
	IP        string
}

// Grant adds perm with scope to the actor (wider scope wins when granted twice).
func (a *Actor) Grant(perm string, scope Scope) {
	if a.perms == nil {
		a.perms = map[string]Scope{}
	}
	if cur, ok := a.perms[perm]; !ok || wider(scope, cur) {
		a.perms[perm] = scope
	}
}

// Can reports whether the actor holds perm at any scope.
func (a *Actor) Can(perm string) bool {
	if a == nil {
		return false
	}
	if a.Kind == KindSystem {
		return true
	}
	if _, ok := a.perms[All]; ok {
		return true
	}
	_, ok := a.perms[perm]
	return ok
}

// ScopeOf returns the widest scope at which the actor holds perm ("" if not at all).
func (a *Actor) ScopeOf(perm string) Scope {
	if a == nil {
		return ""
	}
	if a.Kind == KindSystem {
		return ScopeAll
	}
	s := a.perms[perm]
	if all, ok := a.perms[All]; ok && (s == "" || wider(all, s)) {
		s = all
	}
	return s
}

// Permissions lists the actor's permissions, sorted.
func (a *Actor) Permissions() []string {
	out := make([]string, 0, len(a.perms))
	for p := range a.perms {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// HasRole reports whether the actor holds role code.
func (a *Actor) HasRole(code string) bool { return a != nil && slices.Contains(a.Roles, code) }

// Record is what a scoped check needs to know about a record.
type Record struct {
	DeptID  int64
	TeamID  int64
	OwnerID int64
}

// Reaches reports whether the actor's scope for perm covers rec.
func (a *Actor) Reaches(perm string, rec Record) bool {
	if !a.Can(perm) {
		return false
	}
	switch a.ScopeOf(perm) {
	case ScopeAll:
		return true
	case ScopeDept:
		return a.DeptID != 0 && rec.DeptID == a.DeptID
	case ScopeTeam:
		return (a.TeamID != 0 && rec.TeamID == a.TeamID) || (rec.OwnerID != 0 && rec.OwnerID == a.ID)
	case ScopeOwn:
		return rec.OwnerID != 0 && rec.OwnerID == a.ID
	}
	return false
}

// HoldsAt reports whether the actor holds perm at scope or wider. For perm "*" only
// holding "*" itself counts; any other permission is also held through "*".
func (a *Actor) HoldsAt(perm string, scope Scope) bool {
	if a == nil {
		return false
	}
	if a.Kind == KindSystem {
		return true
	}
	if perm == All {
		s, ok := a.perms[All]
		return ok && wider(s, scope)
	}
	s := a.ScopeOf(perm)
	return s != "" && wider(s, scope)
}

// Grants lists every permission the actor holds with its widest scope.
func (a *Actor) Grants() map[string]Scope {
	out := make(map[string]Scope, len(a.perms))
	for p, s := range a.perms {
		out[p] = s
	}
	return out
}

// Subject returns the scope-check view of a staff member as a record: they "own"
// themselves.
func (a *Actor) Subject() Record {
	return Record{DeptID: a.DeptID, TeamID: a.TeamID, OwnerID: a.ID}
}

// Covers is the one rule of acting on another staff member (resetting a password,
// unlocking, editing, disabling, handing out a token or roles): the actor's scope for
// perm reaches the target, and the actor holds every permission the target holds at a
// scope at least as wide that reaches the target too (see Outranks). The system actor
// covers everyone; "*" at scope all covers everyone too (through HoldsAt). Reaching and
// covering are separate questions so that callers can answer "out of scope" like "not
// found" and "holds more" with a 403.
func (a *Actor) Covers(perm string, target *Actor) bool {
	if a == nil || target == nil {
		return false
	}
	if a.Kind == KindSystem {
		return true
	}
	return a.Reaches(perm, target.Subject()) && a.Outranks(target)
}

// CheckCovers is Covers as the answer to give: NotFound (naming notFoundKey) when the
// actor's scope for perm does not reach the target, exactly as for someone who does not
// exist, so that ids cannot be probed; Forbidden, telling nothing more, when the target
// is in reach but holds more than the actor.
func (a *Actor) CheckCovers(perm string, target *Actor, notFoundKey string) error {
	if a != nil && a.Kind == KindSystem {
		return nil
	}
	if a == nil || target == nil || !a.Reaches(perm, target.Subject()) {
		return apperr.NotFoundf(notFoundKey)
	}
	if !a.Outranks(target) {
		return apperr.ForbiddenErr()
	}
	return nil
}

// FirstNotHeld returns the first of perms that the actor does not hold at scope or
// wider; ok is false when there is one.
func (a *Actor) FirstNotHeld(perms []string, scope Scope) (perm string, ok bool) {
	for _, p := range perms {
		if !a.HoldsAt(p, scope) {
			return p, false
		}
	}
	return "", true
}

// Outranks reports whether the actor holds every permission of target at a scope at
// least as wide, and one that reaches the target's place: a department-scoped grant
// covers a department- or team-scoped one only in the actor's own department, so that
// signing in as someone elsewhere gains nothing (the permission half of Covers).
func (a *Actor) Outranks(target *Actor) bool {
	if a == nil || target == nil {
		return false
	}
	if a.Kind == KindSystem {
		return true
	}
	for p, s := range target.perms {
		if !a.HoldsAt(p, s) || !a.Reaches(p, target.Subject()) {
			return false
		}
	}
	return true
}

// System returns an actor for the CLI and background jobs: it may do anything and is
// audited under name.
func System(name string) *Actor {
	return &Actor{Kind: KindSystem, Username: name, DisplayName: name}
}

type ctxKey struct{}

// WithActor stores the actor in ctx.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// From returns the actor in ctx, or nil.
func From(ctx context.Context) *Actor {
	a, _ := ctx.Value(ctxKey{}).(*Actor)
	return a
}

// Require returns the actor in ctx if it holds perm; Unauthenticated without an actor,
// Forbidden without the permission.
func Require(ctx context.Context, perm string) (*Actor, error) {
	a := From(ctx)
	if a == nil {
		return nil, apperr.Unauth()
	}
	if perm != "" && !a.Can(perm) {
		return nil, apperr.ForbiddenErr()
	}
	return a, nil
}

// RequireStaff is Require for staff work: a portal customer is Forbidden whatever
// permissions a role would give (the system actor passes).
func RequireStaff(ctx context.Context, perm string) (*Actor, error) {
	if a := From(ctx); a != nil && a.Kind == KindCustomer {
		return nil, apperr.ForbiddenErr()
	}
	return Require(ctx, perm)
}

// RequireRecord is Require plus a scope check against rec. An out-of-scope record
// reads as not found, so that ids cannot be probed.
func RequireRecord(ctx context.Context, perm string, rec Record, notFoundKey string) (*Actor, error) {
	a, err := Require(ctx, perm)
	if err != nil {
		return nil, err
	}
	if !a.Reaches(perm, rec) {
		return nil, apperr.NotFoundf(notFoundKey)
	}
	return a, nil
}
