package complaint_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// builtinPerms is what each built-in role holds by default.
func builtinPerms(role string) (perms []string, scope authz.Scope) {
	for _, r := range authz.BuiltinRoles {
		if r.Code == role {
			return r.Perms, r.Scope
		}
	}
	return nil, ""
}

func holds(role, perm string) bool {
	perms, _ := builtinPerms(role)
	return slices.Contains(perms, authz.All) || slices.Contains(perms, perm)
}

// fill puts complaint id cid (and 1 for any other id) into a route pattern.
func fill(p string, cid int64) string {
	p = strings.Replace(p, "{id}", fmt.Sprint(cid), 1)
	for {
		i := strings.Index(p, "{")
		if i < 0 {
			return p
		}
		j := strings.Index(p[i:], "}")
		p = p[:i] + "1" + p[i+j+1:]
	}
}

// TestRoleTable sends every complaint route as every built-in role, against a complaint
// of another department: a role without the route's permission gets 403; a role with
// it never does on routes that do not act on a record, and on routes that act on the
// complaint a department- or team-scoped role gets 404 (out of reach reads as missing)
// while a center-wide role reaches it.
func TestRoleTable(t *testing.T) {
	w := newWorld(t)
	cid := id(w.create(t, "general", nil)) // recorded in cs
	roles := []string{"admin", "director", "supervisor", "agent", "qa", "archivist", "sales"}
	var routes []httpx.Route
	for _, rt := range w.srv.App.Complaint.Routes() {
		if strings.HasPrefix(rt.Path, "/api/") && rt.Perm != "" {
			routes = append(routes, rt)
		}
	}
	if len(routes) < 7 {
		t.Fatalf("only %d complaint API routes", len(routes))
	}
	for _, role := range roles {
		c := w.srv.As(t, role+"@other") // another department than the complaint's
		_, scope := builtinPerms(role)
		for _, rt := range routes {
			t.Run(role+" "+rt.Method+" "+rt.Path, func(t *testing.T) {
				var body any
				if rt.Method != http.MethodGet && rt.Method != http.MethodDelete {
					body = map[string]any{}
				}
				r := c.Do(t, rt.Method, fill(rt.Path, cid), body)
				if !holds(role, rt.Perm) {
					if r.Status != http.StatusForbidden {
						t.Fatalf("%s without %s: %d, want 403\n%s", role, rt.Perm, r.Status, r.Body)
					}
					return
				}
				if r.Status == http.StatusForbidden && !strings.Contains(string(r.Body), "self_approval") {
					// A holder may still be refused an action the record's state or a rule
					// forbids, but never by the route's permission.
					if !strings.Contains(rt.Path, "{id}") {
						t.Fatalf("%s holding %s: 403 on %s\n%s", role, rt.Perm, rt.Path, r.Body)
					}
				}
				if strings.HasPrefix(rt.Path, "/api/v1/complaints/{id}") && scope != authz.ScopeAll {
					// Out of reach answers exactly as a complaint that does not exist.
					m := c.Do(t, rt.Method, fill(rt.Path, cid+100000), body)
					if r.Status != m.Status || r.Status < 400 {
						t.Fatalf("%s (%s scope) on another department's complaint: %d, on a missing one %d\n%s",
							role, scope, r.Status, m.Status, r.Body)
					}
				}
			})
		}
	}
}

// Reading a complaint by changing the id in the URL: out of reach reads as missing, the
// same answer as an id that does not exist.
func TestOutOfReachReadsAsMissing(t *testing.T) {
	w := newWorld(t)
	cid := id(w.create(t, "general", nil))
	other := w.srv.As(t, "supervisor@other")
	a := other.Do(t, "GET", path(cid, ""), nil)
	b := other.Do(t, "GET", path(cid+1000, ""), nil)
	if a.Status != http.StatusNotFound || b.Status != http.StatusNotFound || a.JSON(t)["error"].(map[string]any)["message"] !=
		b.JSON(t)["error"].(map[string]any)["message"] {
		t.Fatalf("out of reach %d %s, missing %d %s", a.Status, a.Body, b.Status, b.Body)
	}
	// The list leaves it out; the responsible department reaches it once it is set.
	l := w.do(t, w.engSup, "GET", "/api/v1/complaints", nil, 200)
	if n := len(l["items"].([]any)); n != 0 {
		t.Fatalf("eng supervisor lists %d complaints before being responsible", n)
	}
	w.do(t, w.agent, "POST", path(cid, "/transition"), map[string]any{"stage": "assessing"}, 200)
	w.do(t, w.sup, "POST", path(cid, "/transition"), map[string]any{"stage": "investigating", "resp_dept_id": w.engDept}, 200)
	w.do(t, w.engSup, "GET", path(cid, ""), nil, 200)
	l = w.do(t, w.engSup, "GET", "/api/v1/complaints?stage=investigating", nil, 200)
	if n := len(l["items"].([]any)); n != 1 {
		t.Fatalf("eng supervisor lists %d complaints, want 1", n)
	}
	// An agent may record and move work, not assess.
	cid2 := id(w.create(t, "general", nil))
	w.do(t, w.agent, "POST", path(cid2, "/transition"), map[string]any{"stage": "assessing"}, 200)
	w.do(t, w.agent, "POST", path(cid2, "/transition"), map[string]any{"stage": "investigating", "resp_dept_id": w.engDept}, 403)
	apptest.Run(t, w.srv, []apptest.Scenario{
		{Name: "agent cannot change the level", As: "agent@cs", Method: "POST", Path: path(cid2, "/level"),
			Body: map[string]any{"level": "major", "reason": "x"}, Status: 403},
		{Name: "supervisor changes the level with a reason", As: "supervisor@cs", Method: "POST", Path: path(cid2, "/level"),
			Body: map[string]any{"level": "major", "reason": "媒体关注"}, Status: 200, Has: []string{`"level":"major"`},
			Audit: "complaint.level"},
		{Name: "level without a reason names the field", As: "supervisor@cs", Method: "POST", Path: path(cid2, "/level"),
			Body: map[string]any{"level": "urgent"}, Status: 422, Has: []string{`"reason"`}},
		{Name: "read is audited", As: "supervisor@cs", Method: "GET", Path: path(cid2, ""), Status: 200,
			Audit: "complaint.read"},
		{Name: "list filters by level", As: "supervisor@cs", Method: "GET", Path: "/api/v1/complaints?level=major",
			Status: 200, Has: []string{fmt.Sprintf(`"id":%d`, cid2)}, Audit: "complaint.list"},
		{Name: "bad filter names the field", As: "supervisor@cs", Method: "GET", Path: "/api/v1/complaints?stage=nope",
			Status: 422, Has: []string{`"stage"`}},
		{Name: "chinese q finds it", As: "supervisor@cs", Method: "GET", Path: "/api/v1/complaints?q=%E7%94%B5%E6%A2%AF",
			Status: 200, Has: []string{fmt.Sprintf(`"id":%d`, cid2)}},
	})
}

// The request page links to its complaint; the link answers only to those who reach it.
func TestRequestPageLinksToComplaint(t *testing.T) {
	w := newWorld(t)
	c := w.create(t, "general", nil)
	tid := int64(c["ticket_id"].(float64))
	sup := w.srv.Browser(t, w.sup.Staff.Username, apptest.Password)
	page := sup.Do(t, "GET", fmt.Sprintf("/tickets/%d", tid), nil)
	link := fmt.Sprintf("/complaints/by-request/%d", tid)
	if page.Status != 200 || !strings.Contains(string(page.Body), link) {
		t.Fatalf("request page %d lacks %s", page.Status, link)
	}
	if r := sup.Do(t, "GET", link, nil); r.Status != http.StatusSeeOther ||
		r.Header.Get("Location") != fmt.Sprintf("/complaints/%d", id(c)) {
		t.Fatalf("link: %d %q", r.Status, r.Header.Get("Location"))
	}
	other := w.srv.Browser(t, w.srv.As(t, "supervisor@other").Staff.Username, apptest.Password)
	if r := other.Do(t, "GET", link, nil); r.Status != http.StatusNotFound {
		t.Fatalf("out of reach: %d", r.Status)
	}
}

// The board shows each issue once: a complaint merged into another is worked through its
// master and leaves the board.
func TestBoardShowsMastersOnly(t *testing.T) {
	w := newWorld(t)
	master, dup := w.create(t, "general", nil), w.create(t, "general", nil)
	w.do(t, w.sup, "POST", path(id(dup), "/merge"), map[string]any{"into": id(master), "reason": "同一电梯故障"}, 200)
	page := w.srv.Browser(t, w.sup.Staff.Username, apptest.Password).Do(t, "GET", "/complaints", nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), master["number"].(string)) ||
		strings.Contains(string(page.Body), dup["number"].(string)) {
		t.Fatalf("board %d: master %s shown, merged %s hidden?", page.Status, master["number"], dup["number"])
	}
}
