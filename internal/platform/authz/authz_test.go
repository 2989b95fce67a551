package authz

import (
	"context"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// actor builds a staff actor in dept/team holding perms at scope.
func actor(id, dept, team int64, scope Scope, perms ...string) *Actor {
	a := &Actor{ID: id, Kind: KindStaff, DeptID: dept, TeamID: team}
	for _, p := range perms {
		a.Grant(p, scope)
	}
	return a
}

func TestScopeOfWidestOfStarAndOwn(t *testing.T) {
	a := actor(1, 1, 0, ScopeDept, All)
	a.Grant("staff:manage", ScopeAll)
	if got := a.ScopeOf("staff:manage"); got != ScopeAll {
		t.Fatalf("ScopeOf = %q, want all (a direct grant wider than *)", got)
	}
	if got := a.ScopeOf("ticket:read"); got != ScopeDept {
		t.Fatalf("ScopeOf through * = %q, want dept", got)
	}
}

func TestCovers(t *testing.T) {
	admin := actor(1, 0, 0, ScopeAll, All)
	director := actor(2, 0, 0, ScopeAll, "staff:read", "customer:read", "ticket:read")
	supervisor := actor(3, 10, 0, ScopeDept, "staff:read", "customer:read")
	agentSameDept := actor(4, 10, 100, ScopeTeam, "customer:read")
	agentOtherDept := actor(5, 20, 200, ScopeTeam, "customer:read")
	hr := actor(6, 10, 0, ScopeDept, "staff:manage", "staff:read", "customer:read")
	hrAll := actor(7, 0, 0, ScopeAll, "staff:manage", "staff:read", "customer:read")
	starDept := actor(8, 10, 0, ScopeDept, All)
	ownOnly := actor(9, 10, 100, ScopeOwn, "staff:manage", "customer:read")
	noRoles := actor(10, 10, 0, ScopeOwn)
	tests := []struct {
		name   string
		a, tgt *Actor
		want   bool
	}{
		{"system covers the admin", System("cli"), admin, true},
		{"admin covers the director", admin, director, true},
		{"admin covers another admin", admin, actor(11, 0, 0, ScopeAll, All), true},
		{"staff:manage does not cover the admin", hrAll, admin, false},
		{"staff:manage does not cover the director (ticket:read)", hrAll, director, false},
		{"dept staff:manage covers an agent of the department", hr, agentSameDept, true},
		{"dept staff:manage does not reach another department", hr, agentOtherDept, false},
		{"dept staff:manage covers a dept supervisor holding no more", hr, supervisor, true},
		{"dept scope does not cover an all-scope holder of the same permission", hr, actor(12, 10, 0, ScopeAll, "customer:read"), false},
		{"* at dept scope does not cover the admin", starDept, admin, false},
		{"* at dept scope covers the dept supervisor", starDept, supervisor, true},
		{"own scope reaches nobody else", ownOnly, noRoles, false},
		{"own scope reaches oneself", ownOnly, ownOnly, true},
		{"a staff member without roles is covered by anyone reaching them", hr, noRoles, true},
		{"nil target", hr, nil, false},
		{"a dept grant does not cover the same grant in another department", func() *Actor {
			a := actor(13, 10, 0, ScopeAll, "staff:manage")
			a.Grant("customer:read", ScopeDept)
			return a
		}(), actor(14, 20, 0, ScopeDept, "customer:read"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Covers("staff:manage", tt.tgt); got != tt.want {
				t.Fatalf("Covers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHoldsAt(t *testing.T) {
	star := actor(1, 1, 0, ScopeDept, All)
	tests := []struct {
		name  string
		a     *Actor
		perm  string
		scope Scope
		want  bool
	}{
		{"* grants a permission at its scope", star, "ticket:read", ScopeDept, true},
		{"* at dept does not reach all", star, "ticket:read", ScopeAll, false},
		{"* itself needs *", actor(1, 0, 0, ScopeAll, "ticket:read"), All, ScopeOwn, false},
		{"wider scope holds a narrower one", actor(1, 0, 0, ScopeAll, "kb:read"), "kb:read", ScopeOwn, true},
		{"not held", actor(1, 0, 0, ScopeAll, "kb:read"), "kb:write", ScopeOwn, false},
		{"system holds everything", System("x"), All, ScopeAll, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.HoldsAt(tt.perm, tt.scope); got != tt.want {
				t.Fatalf("HoldsAt(%q, %q) = %v, want %v", tt.perm, tt.scope, got, tt.want)
			}
		})
	}
}

func TestCheckCoversAnswers(t *testing.T) {
	hr := actor(6, 10, 0, ScopeDept, "staff:manage", "staff:read", "customer:read")
	agentSameDept := actor(4, 10, 100, ScopeTeam, "customer:read")
	agentOtherDept := actor(5, 20, 200, ScopeTeam, "customer:read")
	director := actor(2, 10, 0, ScopeAll, "staff:read", "customer:read", "ticket:read")
	tests := []struct {
		name   string
		a, tgt *Actor
		want   string // "" = allowed, else the error code
	}{
		{"in reach, holds less", hr, agentSameDept, ""},
		{"out of reach reads as missing", hr, agentOtherDept, "not_found"},
		{"in reach, holds more", hr, director, "forbidden"},
		{"system covers everyone", System("cli"), director, ""},
	}
	for _, tt := range tests {
		err := tt.a.CheckCovers("staff:manage", tt.tgt, "thing.staff")
		got := ""
		if err != nil {
			got = codeOf(err)
		}
		if got != tt.want {
			t.Errorf("%s: got %q (%v), want %q", tt.name, got, err, tt.want)
		}
		if (tt.want == "") != tt.a.Covers("staff:manage", tt.tgt) {
			t.Errorf("%s: CheckCovers and Covers disagree", tt.name)
		}
	}
	if p, ok := hr.FirstNotHeld([]string{"staff:read", "ticket:read"}, ScopeDept); ok || p != "ticket:read" {
		t.Errorf("FirstNotHeld = %q, %v; want ticket:read, false", p, ok)
	}
	if _, ok := hr.FirstNotHeld([]string{"staff:read"}, ScopeAll); ok {
		t.Errorf("FirstNotHeld: dept scope counted as all")
	}
}

func codeOf(err error) string {
	if e, ok := apperr.As(err); ok {
		return apperr.CodeOf(e)
	}
	return err.Error()
}

func TestRequireStaff(t *testing.T) {
	staff := actor(1, 1, 1, ScopeTeam, "revisit:read")
	cust := &Actor{ID: 7, Kind: KindCustomer}
	cust.Grant("revisit:read", ScopeAll) // a grant never lets a customer into staff work
	cases := []struct {
		name string
		a    *Actor
		want apperr.Kind // Internal (0) = allowed
	}{
		{"staff holding it", staff, apperr.Internal},
		{"system", System("job"), apperr.Internal},
		{"staff without it", actor(2, 1, 1, ScopeTeam, "ticket:read"), apperr.Forbidden},
		{"customer", cust, apperr.Forbidden},
		{"nobody", nil, apperr.Unauthenticated},
	}
	for _, c := range cases {
		ctx := context.Background()
		if c.a != nil {
			ctx = WithActor(ctx, c.a)
		}
		_, err := RequireStaff(ctx, "revisit:read")
		if got := apperr.KindOf(err); (err == nil) != (c.want == apperr.Internal) || (err != nil && got != c.want) {
			t.Errorf("%s: %v, want kind %d", c.name, err, c.want)
		}
	}
}
