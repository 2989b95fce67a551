package survey_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/survey"
)

func holds(role, perm string) bool {
	for _, r := range authz.BuiltinRoles {
		if r.Code == role {
			return slices.Contains(r.Perms, authz.All) || slices.Contains(r.Perms, perm)
		}
	}
	return false
}

func scopeOf(role string) authz.Scope {
	for _, r := range authz.BuiltinRoles {
		if r.Code == role {
			return r.Scope
		}
	}
	return ""
}

// TestRoleTable sends every survey route as every built-in role (and anonymously),
// against an invitation of another department: without the route's permission 403
// (pages too); anonymous 401 on the API; with it never 403, and on the invitation
// itself a department-, team- or own-scoped role gets 404 (out of reach reads as
// missing) while a center-wide role reaches it. The public pages answer everyone.
func TestRoleTable(t *testing.T) {
	e := newEnv(t)
	dept := e.s.Dept(t, "home", "Home")
	c := e.customer(t, "孙丽", "", "")
	tk := e.resolved(t, c.ID, dept.ID, 0)
	inv, err := e.svc.Create(sys(), survey.CreateInput{TicketID: tk.ID, Channel: survey.ChannelPhone})
	if err != nil {
		t.Fatal(err)
	}
	fill := func(p string) string {
		return strings.NewReplacer("{id}", strconv.FormatInt(inv.ID, 10), "{token}", strings.Repeat("A", 43),
			"{file}", "x.css").Replace(p)
	}
	var staffRoutes, publicRoutes []httpx.Route
	for _, rt := range e.svc.Routes() {
		if rt.Access == httpx.Public {
			publicRoutes = append(publicRoutes, rt)
		} else {
			staffRoutes = append(staffRoutes, rt)
		}
	}
	if len(staffRoutes) < 13 || len(publicRoutes) != 3 {
		t.Fatalf("%d staff and %d public routes", len(staffRoutes), len(publicRoutes))
	}
	for _, rt := range staffRoutes {
		if rt.Perm == "" {
			t.Errorf("%s %s has no permission", rt.Method, rt.Path)
		}
	}
	roles := []string{"admin", "director", "supervisor", "agent", "qa", "archivist", "sales"}
	for _, role := range roles {
		cl := e.s.As(t, role+"@other")
		for _, rt := range staffRoutes {
			t.Run(role+" "+rt.Method+" "+rt.Path, func(t *testing.T) {
				var body any
				if rt.Method != http.MethodGet {
					body = map[string]any{}
				}
				r := cl.Do(t, rt.Method, fill(rt.Path), body)
				if !holds(role, rt.Perm) {
					if r.Status != http.StatusForbidden {
						t.Fatalf("%s without %s: %d, want 403\n%s", role, rt.Perm, r.Status, r.Body)
					}
					return
				}
				if r.Status == http.StatusForbidden || r.Status == http.StatusUnauthorized || r.Status >= 500 {
					t.Fatalf("%s with %s: %d\n%s", role, rt.Perm, r.Status, r.Body)
				}
				if strings.HasPrefix(rt.Path, "/api/v1/surveys/{id}") {
					want := http.StatusNotFound
					if scopeOf(role) == authz.ScopeAll {
						want = http.StatusOK
						if rt.Method == http.MethodPost {
							want = http.StatusUnprocessableEntity // an empty answer sheet
						}
					}
					if r.Status != want {
						t.Fatalf("%s %s: %d, want %d\n%s", role, rt.Path, r.Status, want, r.Body)
					}
				}
			})
		}
	}
	anon := e.s.Anonymous()
	for _, rt := range staffRoutes {
		var body any
		if rt.Method != http.MethodGet {
			body = map[string]any{}
		}
		r := anon.Do(t, rt.Method, fill(rt.Path), body)
		want := http.StatusUnauthorized
		if rt.Page {
			want = http.StatusSeeOther // to the sign-in page
		}
		if r.Status != want {
			t.Errorf("anonymous %s %s: %d, want %d", rt.Method, rt.Path, r.Status, want)
		}
	}
	// The public pages: an unknown token is 404 for everyone, signed in or not.
	for _, who := range []string{"", "admin", "agent@other"} {
		if r := e.s.As(t, who).Do(t, "GET", fill("/s/{token}"), nil); r.Status != http.StatusNotFound {
			t.Errorf("%q GET unknown link: %d", who, r.Status)
		}
	}
}
