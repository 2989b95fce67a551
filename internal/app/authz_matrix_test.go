package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// concretePath fills a route pattern's wildcards with a plausible id.
func concretePath(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	for {
		i := strings.Index(p, "{")
		if i < 0 {
			break
		}
		j := strings.Index(p[i:], "}")
		p = p[:i] + "1" + p[i+j+1:]
	}
	return p
}

// TestEveryRouteIsGuarded walks every mounted route: anonymous callers get 401 (API) or
// a redirect to sign-in (pages) on every non-public route, and a staff member whose
// role holds no permission gets 403 on every route that names a permission; portal
// routes (Access Customer) treat every staff member as anonymous. New routes are
// covered automatically.
func TestEveryRouteIsGuarded(t *testing.T) {
	s := apptest.New(t)
	if _, err := s.App.Org.CreateRole(apptest.SystemCtx(), org.RoleInput{Code: "nobody", Name: "Nobody",
		Description: "holds no permission", Scope: authz.ScopeOwn, Permissions: []string{}}); err != nil {
		t.Fatal(err)
	}
	anon := s.Anonymous()
	nobody := s.As(t, "nobody")
	routes := s.App.Router.Routes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes mounted", len(routes))
	}
	for _, rt := range routes {
		if rt.Access == httpx.Public {
			continue
		}
		path := concretePath(rt.Path)
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			var body any
			if rt.Method != http.MethodGet && rt.Method != http.MethodDelete {
				body = map[string]any{}
			}
			signIn := "/login"
			if rt.Access == httpx.Customer {
				signIn = "/portal/login"
			}
			r := anon.Do(t, rt.Method, path, body)
			switch {
			case rt.Page && r.Status != http.StatusSeeOther:
				t.Errorf("anonymous page: status %d, want 303 to sign-in", r.Status)
			case rt.Page && !strings.HasPrefix(r.Header.Get("Location"), signIn):
				t.Errorf("anonymous page redirects to %q, want %s", r.Header.Get("Location"), signIn)
			case !rt.Page && r.Status != http.StatusUnauthorized:
				t.Errorf("anonymous API: status %d, want 401", r.Status)
			}
			if rt.Access == httpx.Customer {
				// Portal routes: a staff member, whatever their role, is no customer.
				r = nobody.Do(t, rt.Method, path, body)
				switch {
				case rt.Page && (r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), signIn)):
					t.Errorf("staff on a portal page: status %d to %q, want 303 to %s", r.Status, r.Header.Get("Location"), signIn)
				case !rt.Page && r.Status != http.StatusUnauthorized:
					t.Errorf("staff on a portal API: status %d, want 401", r.Status)
				}
				return
			}
			if rt.Perm == "" {
				return
			}
			r = nobody.Do(t, rt.Method, path, body)
			if r.Status != http.StatusForbidden {
				t.Errorf("role without %s: status %d, want 403\n%s", rt.Perm, r.Status, r.Body)
			}
		})
	}
}
