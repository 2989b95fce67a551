package revisit_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/revisit"
)

func wkBuiltin(role string) ([]string, authz.Scope) {
	for _, r := range authz.BuiltinRoles {
		if r.Code == role {
			return r.Perms, r.Scope
		}
	}
	return nil, ""
}

func wkHolds(role, perm string) bool {
	perms, _ := wkBuiltin(role)
	return slices.Contains(perms, authz.All) || slices.Contains(perms, perm)
}

// wkWorkRoute reports whether rt is a visit-work route (record_routes.go).
func wkWorkRoute(rt httpx.Route) bool {
	for _, p := range []string{"/api/v1/revisits/{id}", "/api/v1/revisit-sanctions", "/api/v1/revisit-sms-templates",
		"/api/v1/revisit-retry-schedule"} {
		if strings.HasPrefix(rt.Path, p) {
			return true
		}
	}
	return false
}

// TestWorkRoleTable sends every visit-work route as every built-in role of another
// department: without the route's permission 403; with it, a task of another
// department reads exactly as a missing one for department- and team-scoped roles,
// and a center-wide role is never refused by the permission.
func TestWorkRoleTable(t *testing.T) {
	e := newWorkEnv(t)
	tk := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	wkStatus(t, e.agent.Do(t, http.MethodPost, wkRecordPath(tk.ID), e.reached(revisit.MethodPhone, 3)), http.StatusOK)
	var routes []httpx.Route
	for _, rt := range e.rv.Routes() {
		if wkWorkRoute(rt) {
			routes = append(routes, rt)
		}
	}
	if len(routes) != 14 {
		t.Fatalf("%d visit-work routes, want 14", len(routes))
	}
	fill := func(p string, id int64) string { return strings.Replace(p, "{id}", fmt.Sprint(id), 1) }
	for _, role := range []string{"admin", "director", "supervisor", "agent", "qa", "archivist", "sales"} {
		c := e.srv.As(t, role+"@other")
		_, scope := wkBuiltin(role)
		for _, rt := range routes {
			t.Run(role+" "+rt.Method+" "+rt.Path, func(t *testing.T) {
				var body any
				if rt.Method != http.MethodGet {
					body = map[string]any{}
				}
				r := c.Do(t, rt.Method, fill(rt.Path, tk.ID), body)
				if !wkHolds(role, rt.Perm) {
					if r.Status != http.StatusForbidden {
						t.Fatalf("%s without %s: %d\n%s", role, rt.Perm, r.Status, r.Body)
					}
					return
				}
				if r.Status >= 500 {
					t.Fatalf("%s: %d\n%s", role, r.Status, r.Body)
				}
				if strings.HasPrefix(rt.Path, "/api/v1/revisits/{id}") && scope != authz.ScopeAll {
					m := c.Do(t, rt.Method, fill(rt.Path, tk.ID+100000), body)
					if r.Status != http.StatusNotFound || m.Status != http.StatusNotFound {
						t.Fatalf("%s (%s) on another department's task: %d, on a missing one %d\n%s", role, scope, r.Status, m.Status, r.Body)
					}
					return
				}
				if r.Status == http.StatusForbidden && !strings.Contains(string(r.Body), "self_") {
					t.Fatalf("%s holding %s: 403\n%s", role, rt.Perm, r.Body)
				}
			})
		}
	}
}
