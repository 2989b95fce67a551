package complaint_test

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// webDesk is a center for the page tests: browser sessions (and API clients of the same
// people) of an agent and a supervisor of cs, a director, an agent of another
// department, and the responsible department eng with its agent.
type webDesk struct {
	srv                         *apptest.Server
	agentAPI, supAPI, engRepAPI *apptest.Client
	agent, sup, director, other *apptest.Client
	engRep                      *apptest.Client
	engDept                     int64
}

func newWebDesk(t *testing.T) *webDesk {
	t.Helper()
	srv := apptest.New(t)
	d := &webDesk{srv: srv, agentAPI: srv.As(t, "agent@cs"), supAPI: srv.As(t, "supervisor@cs"),
		engRepAPI: srv.As(t, "agent@eng")}
	srv.As(t, "director@hq")
	srv.As(t, "agent@other")
	d.engDept = d.engRepAPI.Staff.DeptID
	d.agent = srv.Browser(t, "agent_cs", apptest.Password)
	d.sup = srv.Browser(t, "supervisor_cs", apptest.Password)
	d.director = srv.Browser(t, "director_hq", apptest.Password)
	d.other = srv.Browser(t, "agent_other", apptest.Password)
	d.engRep = srv.Browser(t, "agent_eng", apptest.Password)
	return d
}

// apiCreate records a complaint through the API as the cs agent and returns its id.
func (d *webDesk) apiCreate(t *testing.T, severity, title string, details map[string]any) int64 {
	t.Helper()
	body := map[string]any{"channel": "phone", "severity": severity, "title": title,
		"body": "客户来电反映：" + title + "，希望尽快处理"}
	if details != nil {
		body["complaint"] = details
	}
	r := d.agentAPI.Do(t, "POST", "/api/v1/complaints", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create complaint: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON(t)["id"].(float64))
}

// apiMove moves a complaint through the API.
func apiMove(t *testing.T, c *apptest.Client, cid int64, body map[string]any) {
	t.Helper()
	r := c.Do(t, "POST", fmt.Sprintf("/api/v1/complaints/%d/transition", cid), body)
	if r.Status != http.StatusOK {
		t.Fatalf("move %v: %d %s", body["stage"], r.Status, r.Body)
	}
}

// webPageHas checks a page's status and the fragments it must and must not contain.
func webPageHas(t *testing.T, r *apptest.Response, status int, want, not []string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
	}
	for _, w := range want {
		if !bytes.Contains(r.Body, []byte(w)) {
			t.Errorf("page lacks %q", w)
		}
	}
	for _, n := range not {
		if bytes.Contains(r.Body, []byte(n)) {
			t.Errorf("page has %q", n)
		}
	}
}

// webRedirect checks a POST-redirect-GET answer and returns where it leads.
func webRedirect(t *testing.T, r *apptest.Response, prefix string) string {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("status %d to %q, want 303 to %s\n%s", r.Status, loc, prefix, r.Body)
	}
	return loc
}

var webCSSLink = regexp.MustCompile(`<link rel="stylesheet" href="(/static/app\.[0-9a-f]+\.css)">`)
