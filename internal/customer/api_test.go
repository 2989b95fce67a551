package customer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// TestAPIScenarios drives every customer API route through the real router, per role,
// including other departments' agents and ids swapped in the URL.
func TestAPIScenarios(t *testing.T) {
	s := apptest.New(t)
	for _, r := range []string{"admin", "director", "supervisor", "agent", "qa", "archivist", "sales", "agent@other", "supervisor@other"} {
		s.As(t, r)
	}
	g := newIDs(5)
	mobA, idA, mobB, usccB := "13812345678", g.resident(), "13700001111", g.uscc()
	contactMob := "15900002222"
	a := create(t, s.As(t, "agent"), map[string]any{"kind": "person", "name": "Customer A", "mobile": mobA, "id_number": idA,
		"province": "Beijing", "city": "Beijing", "district": "Chaoyang", "address": "Jianguo Road 88, Room 1203",
		"tags": []string{"vip-care"}, "contacts": []map[string]any{{"name": "Li Si", "mobile": contactMob, "is_key_person": true}}})
	b := create(t, s.As(t, "agent@other"), map[string]any{"kind": "org", "name": "Customer B", "mobile": mobB, "credit_code": usccB})
	var contactID int64
	if err := s.App.DB.QueryRow(context.Background(), `SELECT id FROM customer_contacts WHERE customer_id = ?`, a).Scan(&contactID); err != nil {
		t.Fatal(err)
	}
	ct := func(id, cid int64) string { return fmt.Sprintf("/api/v1/customers/%d/contacts/%d", id, cid) }
	reveal := func(fields []string, reason string) map[string]any {
		return map[string]any{"fields": fields, "reason": reason}
	}
	scenarios := []apptest.Scenario{
		// Anonymous.
		{Name: "anon list", Method: "GET", Path: "/api/v1/customers", Status: 401},
		{Name: "anon create", Method: "POST", Path: "/api/v1/customers", Body: map[string]any{"kind": "person"}, Status: 401, NoAudit: true},
		{Name: "anon get", Method: "GET", Path: path(a), Status: 401, NoAudit: true},
		{Name: "anon patch", Method: "PATCH", Path: path(a), Body: map[string]any{}, Status: 401},
		{Name: "anon reveal", Method: "POST", Path: path(a, "reveal"), Body: reveal([]string{"mobile"}, "x"), Status: 401},
		{Name: "anon contacts", Method: "GET", Path: path(a, "contacts"), Status: 401},
		{Name: "anon contact create", Method: "POST", Path: path(a, "contacts"), Body: map[string]any{}, Status: 401},
		{Name: "anon contact patch", Method: "PATCH", Path: ct(a, contactID), Body: map[string]any{}, Status: 401},
		{Name: "anon contact delete", Method: "DELETE", Path: ct(a, contactID), Status: 401},

		// Reads are masked and audited.
		{Name: "agent reads own", As: "agent", Method: "GET", Path: path(a), Status: 200, Audit: "customer.read",
			Has: []string{`"mobile":"138****5678"`, `"id_number":"` + idA[:3] + `***********` + idA[14:] + `"`, `"masked":true`,
				`"address":"****"`, `"contacts":[`, `"mobile":"159****2222"`, `"is_key_person":true`, `"district":"Chaoyang"`},
			Not: []string{mobA, idA, "Jianguo", contactMob}},
		{Name: "agent lists own only", As: "agent", Method: "GET", Path: "/api/v1/customers", Status: 200, Audit: "customer.list",
			Has: []string{`"Customer A"`, `"138****5678"`, `"next_cursor":""`}, Not: []string{`"Customer B"`, mobA}},
		{Name: "agent search last 4", As: "agent", Method: "GET", Path: "/api/v1/customers?q=5678", Status: 200, Audit: "customer.list",
			Has: []string{`"Customer A"`}},
		{Name: "agent search other dept's number", As: "agent", Method: "GET", Path: "/api/v1/customers?q=" + mobB, Status: 200,
			Has: []string{`"items":[]`}},
		{Name: "agent swaps id: get", As: "agent", Method: "GET", Path: path(b), Status: 404, Has: []string{`"not_found"`}, Not: []string{"Customer B"}},
		{Name: "agent swaps id: patch", As: "agent", Method: "PATCH", Path: path(b), Body: map[string]any{"name": "Hijack", "version": 1}, Status: 404, NoAudit: true},
		{Name: "agent swaps id: contacts", As: "agent", Method: "GET", Path: path(b, "contacts"), Status: 404},
		{Name: "agent swaps id: add contact", As: "agent", Method: "POST", Path: path(b, "contacts"), Body: map[string]any{"name": "X"}, Status: 404},
		{Name: "agent swaps contact's customer", As: "agent@other", Method: "DELETE", Path: ct(b, contactID), Status: 404},
		{Name: "other dept agent", As: "agent@other", Method: "GET", Path: path(a), Status: 404, NoAudit: true},
		{Name: "other dept agent patch", As: "agent@other", Method: "PATCH", Path: path(a), Body: map[string]any{"name": "x", "version": 1}, Status: 404},
		{Name: "supervisor reads dept", As: "supervisor", Method: "GET", Path: path(a), Status: 200, Has: []string{`"Customer A"`}},
		{Name: "supervisor lists dept", As: "supervisor", Method: "GET", Path: "/api/v1/customers", Status: 200,
			Has: []string{`"Customer A"`}, Not: []string{`"Customer B"`}},
		{Name: "other supervisor", As: "supervisor@other", Method: "GET", Path: path(a), Status: 404},
		{Name: "qa reads all masked", As: "qa", Method: "GET", Path: "/api/v1/customers?limit=10", Status: 200,
			Has: []string{`"Customer A"`, `"Customer B"`, `"137****1111"`}, Not: []string{mobB, mobA}},
		{Name: "qa cannot patch", As: "qa", Method: "PATCH", Path: path(a), Body: map[string]any{"name": "x"}, Status: 403},
		{Name: "qa cannot create", As: "qa", Method: "POST", Path: "/api/v1/customers", Body: map[string]any{"kind": "person", "name": "x"}, Status: 403},
		{Name: "sales sees only own", As: "sales", Method: "GET", Path: path(a), Status: 404},
		{Name: "archivist reads", As: "archivist", Method: "GET", Path: path(b), Status: 200},

		// Reveal.
		{Name: "qa cannot reveal", As: "qa", Method: "POST", Path: path(a, "reveal"), Body: reveal([]string{"mobile"}, "check"), Status: 403,
			Not: []string{mobA}, NoAudit: true},
		{Name: "agent cannot reveal", As: "agent", Method: "POST", Path: path(a, "reveal"), Body: reveal([]string{"mobile"}, "check"), Status: 403,
			Not: []string{mobA}},
		{Name: "reveal needs a reason", As: "supervisor", Method: "POST", Path: path(a, "reveal"), Body: reveal([]string{"mobile"}, " "), Status: 422,
			Has: []string{`"reason"`}, Not: []string{mobA}, NoAudit: true},
		{Name: "reveal needs fields", As: "supervisor", Method: "POST", Path: path(a, "reveal"), Body: reveal(nil, "why"), Status: 422,
			Has: []string{`"fields"`}},
		{Name: "reveal unknown field", As: "supervisor", Method: "POST", Path: path(a, "reveal"), Body: reveal([]string{"password"}, "why"), Status: 422,
			Has: []string{`"fields"`}},
		{Name: "reveal other dept", As: "supervisor@other", Method: "POST", Path: path(a, "reveal"), Body: reveal([]string{"mobile"}, "why"), Status: 404,
			Not: []string{mobA}, NoAudit: true},
		{Name: "supervisor reveals", As: "supervisor", Method: "POST", Path: path(a, "reveal"),
			Body: reveal([]string{"mobile", "id_number", "address", "contacts"}, "customer asked to confirm"), Status: 200, Audit: "customer.reveal",
			Has: []string{`"mobile":"` + mobA + `"`, `"id_number":"` + idA + `"`, `"address":"Jianguo Road 88, Room 1203"`, `"mobile":"` + contactMob + `"`}},
		{Name: "director reveals anywhere", As: "director", Method: "POST", Path: path(b, "reveal"), Body: reveal([]string{"mobile"}, "audit"), Status: 200,
			Has: []string{mobB}},

		// Create.
		{Name: "unknown field", As: "agent", Method: "POST", Path: "/api/v1/customers", Body: map[string]any{"kind": "person", "name": "x", "is_vip": true},
			Status: 400, Has: []string{`"malformed_request"`, "is_vip"}, NoAudit: true},
		{Name: "wrong type", As: "agent", Method: "POST", Path: "/api/v1/customers", Body: `{"kind":"person","name":"x","size_employees":"many"}`, Status: 400,
			Has: []string{"size_employees"}},
		{Name: "bad mobile", As: "agent", Method: "POST", Path: "/api/v1/customers", Body: map[string]any{"kind": "person", "name": "x", "mobile": "1234"},
			Status: 422, Has: []string{`"validation_failed"`, `"mobile"`}, NoAudit: true},
		{Name: "bad id and credit code", As: "agent", Method: "POST", Path: "/api/v1/customers",
			Body: map[string]any{"kind": "org", "name": "x", "id_number": "110105194912310022", "credit_code": "91350100M000100Y44"}, Status: 422,
			Has: []string{`"id_number"`, `"credit_code"`}, NoAudit: true},
		{Name: "messages follow the language", As: "agent", Lang: "en", Method: "POST", Path: "/api/v1/customers", Body: map[string]any{"kind": "person"},
			Status: 422, Has: []string{`"name":"is required"`}},
		{Name: "duplicate mobile", As: "agent", Method: "POST", Path: "/api/v1/customers", Body: map[string]any{"kind": "person", "name": "Again", "mobile": mobA},
			Status: 409, Has: []string{`"code":"duplicate_customer"`, fmt.Sprintf(`"existing_id":%d`, a)}, Not: []string{mobA}, NoAudit: true},
		{Name: "duplicate credit code across departments", As: "agent", Method: "POST", Path: "/api/v1/customers",
			Body: map[string]any{"kind": "org", "name": "Again", "credit_code": usccB}, Status: 409, Has: []string{fmt.Sprintf(`"existing_id":%d`, b)}},
		{Name: "agent cannot force", As: "agent", Method: "POST", Path: "/api/v1/customers", Body: map[string]any{"kind": "person", "name": "Again", "mobile": mobA, "force": true},
			Status: 403, NoAudit: true},
		{Name: "supervisor forces", As: "supervisor", Method: "POST", Path: "/api/v1/customers", Body: map[string]any{"kind": "person", "name": "Again", "mobile": mobA, "force": true},
			Status: 201, Audit: "customer.force_duplicate", Has: []string{`"138****5678"`}},
		{Name: "create org", As: "agent", Method: "POST", Path: "/api/v1/customers", Body: map[string]any{"kind": "org", "name": "Sunny Property",
			"industry": "property", "size_employees": 120, "annual_sales_fen": 1500000000, "founded_on": "2010-05-01", "tier": "vip",
			"credit_grade": "a", "credit_facts": map[string]any{"strong_capital": true}, "qualifications": []string{"ISO 9001"},
			"cooperation_attitude": "positive", "bank_name": "ICBC", "bank_account": "6222 0212 3456 7890 123"}, Status: 201, Audit: "customer.create",
			Has: []string{`"tier":"vip"`, `"credit_grade":"A"`, `"pinned":["credit_grade","tier"]`, `"bank_account":"**** **** **** 0123"`,
				`"strong_capital":true`, `"owner_id":`}, Not: []string{"6222 0212"}},

		// Update.
		{Name: "patch without version", As: "agent", Method: "PATCH", Path: path(a), Body: map[string]any{"name": "Customer A2"}, Status: 428,
			Has: []string{`"code":"version_required"`}, NoAudit: true},
		{Name: "patch", As: "agent", Method: "PATCH", Path: path(a), Body: map[string]any{"name": "Customer A2", "tags": []string{"x"}, "version": 1}, Status: 200,
			Audit: "customer.update", Has: []string{`"name":"Customer A2"`, `"version":2`, `"138****5678"`}},
		{Name: "patch bad id number", As: "agent", Method: "PATCH", Path: path(a), Body: map[string]any{"id_number": "123", "version": 2}, Status: 422,
			Has: []string{`"id_number"`}, NoAudit: true},
		{Name: "patch stale version", As: "agent", Method: "PATCH", Path: path(a), Body: map[string]any{"name": "x", "version": 1}, Status: 409,
			Has: []string{`"code":"version_conflict"`, `"current_version":2`}, NoAudit: true},
		{Name: "patch unknown field", As: "agent", Method: "PATCH", Path: path(a), Body: map[string]any{"dept_id": 1}, Status: 400},
		{Name: "patch owner out of scope", As: "agent", Method: "PATCH", Path: path(a), Body: map[string]any{"owner_id": s.As(t, "agent@other").Staff.ID, "version": 2},
			Status: 422, Has: []string{`"owner_id"`}},
		{Name: "missing", As: "admin", Method: "GET", Path: path(999999), Status: 404},
		{Name: "bad id", As: "admin", Method: "GET", Path: "/api/v1/customers/abc", Status: 404},

		// Contacts.
		{Name: "contacts list", As: "agent", Method: "GET", Path: path(a, "contacts"), Status: 200, Audit: "customer.read",
			Has: []string{`"Li Si"`, `"159****2222"`}, Not: []string{contactMob}},
		{Name: "contact create bad", As: "agent", Method: "POST", Path: path(a, "contacts"), Body: map[string]any{"name": "", "mobile": "1"}, Status: 422,
			Has: []string{`"name"`, `"mobile"`}},
		{Name: "contact create", As: "agent", Method: "POST", Path: path(a, "contacts"),
			Body: map[string]any{"name": "Wang Wu", "title": "CFO", "phone": "010-87654321-123", "preferences": "tea"}, Status: 201,
			Audit: "customer.contact.create", Has: []string{`"title":"CFO"`, `"phone":"010-****4321-123"`}},
		{Name: "contact patch without version", As: "agent", Method: "PATCH", Path: ct(a, contactID), Body: map[string]any{"title": "CEO"}, Status: 428,
			NoAudit: true},
		{Name: "contact patch", As: "agent", Method: "PATCH", Path: ct(a, contactID), Body: map[string]any{"title": "CEO", "version": 1}, Status: 200,
			Audit: "customer.contact.update", Has: []string{`"title":"CEO"`, `"version":2`}},
		{Name: "contact patch stale", As: "agent", Method: "PATCH", Path: ct(a, contactID), Body: map[string]any{"title": "CTO", "version": 1}, Status: 409,
			Has: []string{`"code":"version_conflict"`}, NoAudit: true},
		{Name: "contact patch missing", As: "agent", Method: "PATCH", Path: ct(a, 999999), Body: map[string]any{"title": "CEO", "version": 1}, Status: 404},
		{Name: "contact delete", As: "agent", Method: "DELETE", Path: ct(a, contactID), Status: 204, Audit: "customer.contact.delete"},

		// Lists.
		{Name: "list filters", As: "admin", Method: "GET", Path: "/api/v1/customers?kind=org&tier=vip", Status: 200,
			Has: []string{`"Sunny Property"`}, Not: []string{`"Customer B"`}},
		{Name: "list tag filter", As: "admin", Method: "GET", Path: "/api/v1/customers?tag=x", Status: 200, Has: []string{`"Customer A2"`}, Not: []string{`"Customer B"`}},
		{Name: "list search chinese-free name", As: "admin", Method: "GET", Path: "/api/v1/customers?q=sunny", Status: 200, Has: []string{`"Sunny Property"`}},
		{Name: "list bad tier", As: "admin", Method: "GET", Path: "/api/v1/customers?tier=gold", Status: 422, Has: []string{`"tier"`}},
		{Name: "list bad limit", As: "admin", Method: "GET", Path: "/api/v1/customers?limit=501", Status: 400},
		{Name: "list bad cursor", As: "admin", Method: "GET", Path: "/api/v1/customers?cursor=***", Status: 400},
		{Name: "list bad owner", As: "admin", Method: "GET", Path: "/api/v1/customers?owner_id=x", Status: 400},
		{Name: "list bad date", As: "admin", Method: "GET", Path: "/api/v1/customers?verified_before=yesterday", Status: 400},
		{Name: "list never verified", As: "admin", Method: "GET", Path: "/api/v1/customers?verified_before=2030-01-01&limit=2", Status: 200,
			Has: []string{`"next_cursor":"e`}},
	}
	apptest.Run(t, s, scenarios)

	// The reveal entry says who, whose, which fields and why; no value in clear.
	var actor, target, detail string
	if err := s.App.DB.QueryRow(context.Background(), `SELECT actor, target_id, detail FROM audit_log WHERE action = 'customer.reveal' ORDER BY seq LIMIT 1`).
		Scan(&actor, &target, &detail); err != nil {
		t.Fatal(err)
	}
	if actor != "supervisor_cs" || target != fmt.Sprint(a) || !strings.Contains(detail, "customer asked to confirm") ||
		!strings.Contains(detail, `"id_number"`) || strings.Contains(detail, mobA) {
		t.Fatalf("reveal audit entry: actor %q target %q detail %s", actor, target, detail)
	}
	if err := s.App.DB.QueryRow(context.Background(), `SELECT detail FROM audit_log WHERE action = 'customer.list' AND detail LIKE ? ORDER BY seq LIMIT 1`,
		"%5678%").Scan(&detail); err != nil || !strings.Contains(detail, fmt.Sprintf(`"ids":[%d]`, a)) {
		t.Fatalf("list audit entry: %v %s", err, detail)
	}
}

// TestOwnerOutOfReachReadsAsMissing: giving a customer file to a staff member outside
// the actor's reach answers exactly as giving it to a staff id that does not exist.
func TestOwnerOutOfReachReadsAsMissing(t *testing.T) {
	s := apptest.New(t)
	agent, far := s.As(t, "agent"), s.As(t, "agent@other")
	id := create(t, agent, map[string]any{"kind": "person", "name": "Owned Here"})
	answer := func(r *apptest.Response) string {
		var b struct {
			Error map[string]any `json:"error"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil || b.Error == nil {
			t.Fatalf("not an error: %d %s", r.Status, r.Body)
		}
		delete(b.Error, "request_id")
		out, _ := json.Marshal(b.Error)
		return fmt.Sprint(r.Status, string(out))
	}
	for _, lang := range []string{"zh-CN", "en"} {
		c := *agent
		c.Lang = lang
		out := c.Do(t, "PATCH", path(id), map[string]any{"owner_id": far.Staff.ID, "version": 1})
		missing := c.Do(t, "PATCH", path(id), map[string]any{"owner_id": 987654, "version": 1})
		if got, want := answer(out), answer(missing); got != want || out.Status != 422 {
			t.Fatalf("owner out of reach: %s\nmissing owner: %s", got, want)
		}
		out = c.Do(t, "POST", "/api/v1/customers", map[string]any{"kind": "person", "name": "New", "owner_id": far.Staff.ID})
		missing = c.Do(t, "POST", "/api/v1/customers", map[string]any{"kind": "person", "name": "New", "owner_id": 987654})
		if got, want := answer(out), answer(missing); got != want {
			t.Fatalf("create, owner out of reach: %s\nmissing owner: %s", got, want)
		}
	}
}
