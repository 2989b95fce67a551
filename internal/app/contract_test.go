package app_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// patchFixture makes one record that a PATCH route changes: create is the POST that
// makes it (nil for a singleton such as the classification rules), patch a change
// that the route accepts. Placeholders "{name}" in paths and bodies stand for the id
// of an earlier fixture.
type patchFixture struct {
	name   string // placeholder the created record's id fills
	create *fixtureCall
	route  string // the PATCH route pattern
	path   string // its concrete path
	patch  map[string]any
}

type fixtureCall struct {
	path string
	body string
}

// patchFixtures, in dependency order. A PATCH route with no entry here fails
// TestEveryPatchNeedsAFreshVersion, so new routes are covered as they come.
var patchFixtures = []patchFixture{
	{name: "dept", create: &fixtureCall{"/api/v1/departments", `{"code": "aftersales", "name": "After-sales service"}`},
		route: "/api/v1/departments/{id}", path: "/api/v1/departments/{dept}", patch: map[string]any{"name": "After-sales"}},
	{name: "team", create: &fixtureCall{"/api/v1/teams", `{"dept_id": {dept}, "name": "Hotline"}`},
		route: "/api/v1/teams/{id}", path: "/api/v1/teams/{team}", patch: map[string]any{"name": "Hotline A"}},
	{name: "role", create: &fixtureCall{"/api/v1/roles", `{"code": "kb_editor", "name": "KB editor", "description": "Writes FAQ articles", "scope": "all", "permissions": ["kb:read", "kb:write"]}`},
		route: "/api/v1/roles/{id}", path: "/api/v1/roles/{role}", patch: map[string]any{"description": "Writes and publishes FAQ articles"}},
	{name: "staff", create: &fixtureCall{"/api/v1/staff", `{"username": "wang.fang", "display_name": "Wang Fang", "email": "wang.fang@example.com", "dept_id": {dept}, "team_id": {team}, "roles": ["agent"], "password": "Initial-Passw0rd!"}`},
		route: "/api/v1/staff/{id}", path: "/api/v1/staff/{staff}", patch: map[string]any{"display_name": "Wang Fang (field service)"}},
	{name: "customer", create: &fixtureCall{"/api/v1/customers", `{"kind": "org", "name": "Example Trading Co., Ltd.", "mobile": "13800138000", "province": "Guangdong", "city": "Shenzhen"}`},
		route: "/api/v1/customers/{id}", path: "/api/v1/customers/{customer}", patch: map[string]any{"city": "Guangzhou"}},
	{name: "contact", create: &fixtureCall{"/api/v1/customers/{customer}/contacts", `{"name": "Li Lei", "title": "Purchasing manager", "mobile": "13900139000"}`},
		route: "/api/v1/customers/{id}/contacts/{cid}", path: "/api/v1/customers/{customer}/contacts/{contact}", patch: map[string]any{"title": "Head of purchasing"}},
	{name: "rules", route: "/api/v1/customer-rules", path: "/api/v1/customer-rules", patch: map[string]any{}},
	{name: "territory", create: &fixtureCall{"/api/v1/territories", `{"kind": "region", "code": "south", "name": "South China", "province": "Guangdong", "responsible_id": {staff}}`},
		route: "/api/v1/territories/{id}", path: "/api/v1/territories/{territory}", patch: map[string]any{"name": "South China region"}},
	{name: "kb_category", create: &fixtureCall{"/api/v1/kb/categories", `{"name": "Invoices", "sort_order": 10}`},
		route: "/api/v1/kb/categories/{id}", path: "/api/v1/kb/categories/{kb_category}", patch: map[string]any{"name": "Invoices and receipts"}},
	{name: "kb_article", create: &fixtureCall{"/api/v1/kb/articles", `{"title": "How do I get a VAT invoice?", "body": "Send the order number.", "category_id": {kb_category}, "tags": ["invoice"]}`},
		route: "/api/v1/kb/articles/{id}", path: "/api/v1/kb/articles/{kb_article}", patch: map[string]any{"tags": []string{"invoice", "tax"}}},
	{name: "ticket_category", create: &fixtureCall{"/api/v1/ticket-categories", `{"name": "Delivery"}`},
		route: "/api/v1/ticket-categories/{id}", path: "/api/v1/ticket-categories/{ticket_category}", patch: map[string]any{"name": "Delivery and installation"}},
	{name: "ticket", create: &fixtureCall{"/api/v1/tickets", `{"type": "repair", "channel": "phone", "severity": "moderate", "title": "Water heater leaking", "body": "Water drips from the heater.", "customer_id": {customer}, "contact_name": "Li Lei", "fault_level": 1}`},
		route: "/api/v1/tickets/{id}", path: "/api/v1/tickets/{ticket}", patch: map[string]any{"severity": "major"}},
	{name: "canned", create: &fixtureCall{"/api/v1/canned-replies", `{"title": "Visit arranged", "body": "A technician will visit you."}`},
		route: "/api/v1/canned-replies/{id}", path: "/api/v1/canned-replies/{canned}", patch: map[string]any{"title": "Technician visit arranged"}},
	{name: "sla_policy", create: &fixtureCall{"/api/v1/sla-policies", `{"name": "VIP complaints", "type": "complaint", "tier": "vip", "calendar_id": "default", "response_target": "2h", "response_mode": "business_hours", "resolve_target": "1d", "resolve_mode": "working_days", "confirm_target": "24h", "confirm_mode": "calendar", "warn_before": "20%"}`},
		route: "/api/v1/sla-policies/{id}", path: "/api/v1/sla-policies/{sla_policy}", patch: map[string]any{"warn_before": "30m"}},
	{name: "complaint_cause", create: &fixtureCall{"/api/v1/complaint-causes", `{"name": "Parking management", "sort_order": 60}`},
		route: "/api/v1/complaint-causes/{id}", path: "/api/v1/complaint-causes/{complaint_cause}", patch: map[string]any{"name": "Parking and access"}},
	{name: "complaint_letter", create: &fixtureCall{"/api/v1/complaint-letters", `{"title": "About the lift outage", "body": "Dear residents, the lift will be repaired by Friday."}`},
		route: "/api/v1/complaint-letters/{id}", path: "/api/v1/complaint-letters/{complaint_letter}", patch: map[string]any{"title": "About the lift outage in building 3"}},
	{name: "activity", create: &fixtureCall{"/api/v1/activities", `{"title": "Autumn badminton", "type": "sports_culture", "start_on": "2026-10-17"}`},
		route: "/api/v1/activities/{id}", path: "/api/v1/activities/{activity}", patch: map[string]any{"title": "Autumn badminton match"}},
	{name: "cooperation", create: &fixtureCall{"/api/v1/customers/{customer}/cooperations", `{"title": "Service agreement", "number": "HT-2026-0001", "start_on": "2026-01-01"}`},
		route: "/api/v1/customers/{id}/cooperations/{cid}", path: "/api/v1/customers/{customer}/cooperations/{cooperation}", patch: map[string]any{"note": "renewed"}},
	{name: "revisit_sms_template", create: &fixtureCall{"/api/v1/revisit-sms-templates", `{"name": "Open day", "body": "\u5c0a\u656c\u7684\u8d35\u5bbe\uff0c\u672c\u5468\u516d\u6837\u677f\u623f\u5f00\u653e\u3002\u9884\u7ea6\u7535\u8bdd\uff1a400-800-1234 \u7f6e\u4e1a\u987e\u95ee\uff1a{consultant}"}`},
		route: "/api/v1/revisit-sms-templates/{id}", path: "/api/v1/revisit-sms-templates/{revisit_sms_template}", patch: map[string]any{"active": false}},
	{name: "revisit_rule", create: &fixtureCall{"/api/v1/revisit-rules", `{"code": "warranty_done", "name": "Warranty repair done", "triggers": ["ticket.resolved"], "filters": {"types": ["repair"]}, "window": {"start": "0h", "length": "2d", "mode": "working_days"}, "rate_pct": 20, "assignees": {"default": "source_agent"}, "methods": ["phone"], "script": [{"q": "Was the repair done well?"}], "active": true}`},
		route: "/api/v1/revisit-rules/{id}", path: "/api/v1/revisit-rules/{revisit_rule}", patch: map[string]any{"rate_pct": 25}},
	{name: "survey_template", create: &fixtureCall{"/api/v1/survey-templates", `{"name": "After visits", "questions": [{"key": "csat", "kind": "csat", "text": "How satisfied?", "required": true}]}`},
		route: "/api/v1/survey-templates/{id}", path: "/api/v1/survey-templates/{survey_template}", patch: map[string]any{"name": "After return visits"}},
}

func fill(s string, ids map[string]string) string {
	for k, v := range ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

func withVersion(patch map[string]any, v any) map[string]any {
	out := map[string]any{"version": v}
	for k, x := range patch {
		out[k] = x
	}
	return out
}

// TestEveryPatchNeedsAFreshVersion walks every PATCH route of the router (one error
// contract, issue 7 item 6): without a version (neither the body's "version" nor
// If-Match) the answer is 428 version_required; with a stale one, in the body or in
// If-Match, 409 version_conflict; nothing is changed by either.
func TestEveryPatchNeedsAFreshVersion(t *testing.T) {
	s := apptest.New(t)
	admin := s.As(t, "admin")
	byRoute := map[string]patchFixture{}
	for _, f := range patchFixtures {
		byRoute[f.route] = f
	}
	var routes []string
	for _, rt := range s.App.Router.Routes() {
		if rt.Method == http.MethodPatch {
			routes = append(routes, rt.Path)
		}
	}
	sort.Strings(routes)
	if len(routes) == 0 {
		t.Fatal("no PATCH route mounted")
	}
	ids := map[string]string{}
	for _, f := range patchFixtures {
		if f.create == nil {
			continue
		}
		r := admin.Do(t, "POST", fill(f.create.path, ids), fill(f.create.body, ids))
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("fixture %s: POST %s: %d %s", f.name, f.create.path, r.Status, r.Body)
		}
		var created struct {
			ID json.Number `json:"id"`
		}
		if err := json.Unmarshal(r.Body, &created); err != nil || created.ID == "" {
			t.Fatalf("fixture %s: no id in %s", f.name, r.Body)
		}
		ids[f.name] = created.ID.String()
	}
	covered := 0
	for _, route := range routes {
		t.Run("PATCH "+route, func(t *testing.T) {
			f, ok := byRoute[route]
			if !ok {
				t.Fatalf("PATCH %s has no fixture in patchFixtures: add one", route)
			}
			path := fill(f.path, ids)
			before := admin.Do(t, "GET", path, nil)
			check := func(what string, r *apptest.Response, status int, code string) {
				t.Helper()
				var e struct {
					Error struct {
						Code    string `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				_ = json.Unmarshal(r.Body, &e)
				if r.Status != status || e.Error.Code != code || e.Error.Message == "" {
					t.Errorf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
				}
			}
			check("no version", admin.Do(t, "PATCH", path, f.patch), http.StatusPreconditionRequired, "version_required")
			check("stale version in the body", admin.Do(t, "PATCH", path, withVersion(f.patch, 987654)),
				http.StatusConflict, "version_conflict")
			check("stale version in If-Match", admin.DoWithHeaders(t, "PATCH", path, f.patch, map[string]string{"If-Match": `"987654"`}),
				http.StatusConflict, "version_conflict")
			if before.Status == http.StatusOK {
				if after := admin.Do(t, "GET", path, nil); string(after.Body) != string(before.Body) {
					t.Errorf("a refused PATCH changed the record:\nbefore %s\nafter  %s", before.Body, after.Body)
				}
			}
			if !t.Failed() {
				covered++
			}
		})
	}
	t.Logf("PATCH operations covered: %d of %d", covered, len(routes))
}

// TestUnknownAddresses: unknown API routes and wrong methods answer with the JSON error
// body, unknown pages with the styled, translated 404 page of their part of the site
// (staff UI or portal) and a way back.
func TestUnknownAddresses(t *testing.T) {
	s := apptest.New(t)
	anon := s.Anonymous()
	admin := s.As(t, "admin")
	en := map[string]string{"Accept-Language": "en"}
	for _, c := range []*apptest.Client{anon, admin} {
		r := c.DoWithHeaders(t, "GET", "/api/v1/no-such-thing", nil, en)
		if r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), `"code":"not_found"`) ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("unknown API route: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
	}
	r := admin.DoWithHeaders(t, "DELETE", "/api/v1/customers", nil, en)
	if r.Status != http.StatusMethodNotAllowed || !strings.Contains(string(r.Body), `"code":"method_not_allowed"`) ||
		!strings.Contains(r.Header.Get("Allow"), "GET") || !strings.Contains(r.Header.Get("Allow"), "POST") {
		t.Errorf("wrong method: %d Allow %q %s", r.Status, r.Header.Get("Allow"), r.Body)
	}
	pages := []struct {
		client *apptest.Client
		path   string
		home   string
	}{
		{anon, "/no-such-page", `href="/"`},
		{admin, "/customers/1/no-such-tab", `href="/"`},
		{anon, "/portal/no-such-page", `href="/portal"`},
		{anon, "/portal/static/no-such-file.css", `href="/portal"`},
		{admin, "/static/no-such-file.css", `href="/"`},
	}
	for _, p := range pages {
		r := p.client.DoWithHeaders(t, "GET", p.path, nil, en)
		body := string(r.Body)
		if r.Status != http.StatusNotFound || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", p.path, r.Status, r.Header.Get("Content-Type"))
			continue
		}
		if !strings.Contains(body, "Page not found") || !strings.Contains(body, p.home) || !strings.Contains(body, "<link rel=\"stylesheet\"") {
			t.Errorf("%s: not the styled, translated 404 page with a way back:\n%s", p.path, body)
		}
	}
	if r := anon.DoWithHeaders(t, "GET", "/portal/no-such-page", nil, en); !strings.Contains(string(r.Body), `class="portal"`) {
		t.Errorf("portal 404 is not in the portal's layout:\n%s", r.Body)
	}
}
