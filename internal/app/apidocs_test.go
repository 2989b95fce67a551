package app_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// TestAPIDocsPage: the docs page renders the OpenAPI document for any signed-in staff
// member, in each language, with every operation, its permission and its example, and
// without inline scripts; the menu links to it; anonymous visitors go to sign-in.
func TestAPIDocsPage(t *testing.T) {
	s := apptest.New(t)
	cat := i18n.MustLoad()
	spec := s.App.APIDocs.Spec()
	if spec == nil || len(spec.Ops) < 100 {
		t.Fatalf("document not built or too small: %+v", spec)
	}
	agent := s.As(t, "agent")
	for _, lang := range i18n.Languages {
		t.Run(lang, func(t *testing.T) {
			c := *agent
			c.Lang = lang
			r := c.Do(t, "GET", "/api-docs", nil)
			if r.Status != http.StatusOK {
				t.Fatalf("GET /api-docs: %d\n%.500s", r.Status, r.Body)
			}
			page := string(r.Body)
			for _, key := range []string{"page.api_docs.title", "api_docs.permission", "api_docs.example",
				"api_docs.download", "api_docs.tag.service_requests", "api_docs.tag.customers"} {
				if want := cat.T(lang, key, nil); !strings.Contains(page, want) {
					t.Errorf("page lacks %s = %q", key, want)
				}
			}
			for _, o := range spec.Ops {
				if !strings.Contains(page, `id="op-`+o.OperationID+`"`) {
					t.Errorf("page lacks operation %s %s", o.Method, o.Path)
				}
			}
			for _, frag := range []string{"<code>ticket:assign</code>", "<code>customer:read</code>",
				`<pre class="api-example">POST /api/v1/tickets/{ticket_id}/transition`, `href="/api/v1/openapi.json"`} {
				if !strings.Contains(page, frag) {
					t.Errorf("page lacks %q", frag)
				}
			}
			if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]+</script>`).MatchString(page) || strings.Contains(page, " onclick=") {
				t.Error("page has an inline script")
			}
			if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP = %q", csp)
			}
		})
	}
	home := agent.Do(t, "GET", "/", nil)
	if !strings.Contains(string(home.Body), `href="/api-docs"`) {
		t.Error("the menu has no link to /api-docs")
	}
	r := s.Anonymous().Do(t, "GET", "/api-docs", nil)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("anonymous /api-docs: %d to %q, want 303 to /login", r.Status, r.Header.Get("Location"))
	}
}
