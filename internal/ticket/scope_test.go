package ticket_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
)

// errorOf is the error object of an error response without its request id, for
// comparing two answers.
func errorOf(t testing.TB, r *apptest.Response) string {
	t.Helper()
	var body struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Error == nil {
		t.Fatalf("not an error body: %d %s", r.Status, r.Body)
	}
	delete(body.Error, "request_id")
	b, _ := json.Marshal(body.Error)
	return fmt.Sprintf("%d %s", r.Status, b)
}

// TestCreateForCustomerOutOfScope: a request for a customer outside the creator's
// customer scope gets exactly the answer of a missing customer, writes nothing but an
// audit entry of the refused attempt, and shows nothing of the customer.
func TestCreateForCustomerOutOfScope(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent, other := s.As(t, "agent@cs"), s.As(t, "agent@ops")
	team(t, s, agent, "cs", "Hotline")
	team(t, s, other, "ops", "Field")
	const mob = "13911112222"
	r := other.Do(t, "POST", "/api/v1/customers", map[string]any{"kind": "person", "name": "Far Away Customer", "mobile": mob,
		"tier": "vip", "credit_grade": "a"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create customer: %d %s", r.Status, r.Body)
	}
	theirs := int64(r.JSON(t)["id"].(float64))
	body := func(id int64) map[string]any {
		return map[string]any{"type": "inquiry", "channel": "phone", "severity": "general", "title": "Hello", "customer_id": id}
	}
	for _, lang := range []string{"zh-CN", "en"} {
		a := *agent
		a.Lang = lang
		before := s.AuditSeq(t)
		out := a.Do(t, "POST", "/api/v1/tickets", body(theirs))
		if s := string(out.Body); strings.Contains(s, "Far Away") || strings.Contains(s, "2222") || strings.Contains(s, "vip") {
			t.Fatalf("refusal shows the customer: %s", s)
		}
		if !s.AuditSince(t, before, "ticket.create.refused") {
			t.Fatal("refused creation not audited")
		}
		missing := a.Do(t, "POST", "/api/v1/tickets", body(987654))
		if got, want := errorOf(t, out), errorOf(t, missing); got != want || out.Status != http.StatusUnprocessableEntity {
			t.Fatalf("out of scope answers %s\nmissing answers      %s", got, want)
		}
	}
	var detail string
	if err := s.App.DB.QueryRow(context.Background(), `SELECT detail FROM audit_log WHERE action = 'ticket.create.refused'
		ORDER BY seq LIMIT 1`).Scan(&detail); err != nil || !strings.Contains(detail, "customer_out_of_scope") ||
		!strings.Contains(detail, fmt.Sprint(theirs)) {
		t.Fatalf("refusal audit entry: %v %s", err, detail)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM tickets`); n != 0 {
		t.Fatalf("%d requests stored", n)
	}
	// The workspace form does not show a customer id typed into its URL either.
	br := s.Browser(t, "agent_cs", apptest.Password)
	pageHas(t, br.Do(t, "GET", fmt.Sprintf("/tickets/new?customer_id=%d", theirs), nil), 200, []string{`id="ticket-form"`},
		[]string{"Far Away", fmt.Sprintf(`id="customer-%d"`, theirs)})
	pageHas(t, br.PostForm(t, "/tickets", url.Values{"customer_id": {fmt.Sprint(theirs)}, "type": {"inquiry"}, "channel": {"phone"},
		"severity": {"general"}, "title": {"Hello"}}), http.StatusUnprocessableEntity, []string{`id="err-customer_id"`}, []string{"Far Away"})
}

// TestCallerLookup: the caller lookup finds a customer outside the agent's scope by a
// whole phone number only, masked and audited, rate limited; it lets the agent open a
// request for that customer for a while, and a guessed id still reads as missing.
func TestCallerLookup(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent, other := s.As(t, "agent@cs"), s.As(t, "agent@ops")
	team(t, s, agent, "cs", "Hotline")
	team(t, s, other, "ops", "Field")
	mk := func(name, mob string) int64 {
		r := other.Do(t, "POST", "/api/v1/customers", map[string]any{"kind": "person", "name": name, "mobile": mob})
		if r.Status != http.StatusCreated {
			t.Fatalf("create customer: %d %s", r.Status, r.Body)
		}
		return int64(r.JSON(t)["id"].(float64))
	}
	caller := mk("Zhang Sanfeng", "13955556666")
	guessed := mk("Li Guess", "13977778888")
	lookup := func(q string) *apptest.Response {
		return agent.Do(t, "GET", "/api/v1/customers/lookup?phone="+url.QueryEscape(q), nil)
	}

	// Not a whole number: refused naming the field, nothing found, nothing granted.
	for _, q := range []string{"", "6666", "139555", "1395555666", "139555566667", "Zhang", "13955556666%"} {
		before := s.AuditSeq(t)
		r := lookup(q)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"phone"`) || strings.Contains(string(r.Body), "Zhang") {
			t.Fatalf("lookup %q: %d %s", q, r.Status, r.Body)
		}
		if s.AuditSince(t, before, "customer.lookup") {
			t.Fatalf("refused lookup %q audited as a lookup", q)
		}
	}
	// A miss is audited too.
	before := s.AuditSeq(t)
	if r := lookup("13900000000"); r.Status != 200 || !strings.Contains(string(r.Body), `"items":[]`) {
		t.Fatalf("miss: %d %s", r.Status, r.Body)
	}
	if !s.AuditSince(t, before, "customer.lookup") {
		t.Fatal("miss not audited")
	}
	// Before the lookup the caller's file reads as missing, like a guessed id.
	create := func(id int64) *apptest.Response {
		return agent.Do(t, "POST", "/api/v1/tickets", map[string]any{"type": "inquiry", "channel": "phone",
			"severity": "general", "title": "Call", "customer_id": id})
	}
	if r := create(caller); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("before the lookup: %d %s", r.Status, r.Body)
	}
	// A hit: masked identification only, in any written form of the number.
	before = s.AuditSeq(t)
	r := lookup("+86 139-5555-6666")
	if r.Status != 200 {
		t.Fatalf("hit: %d %s", r.Status, r.Body)
	}
	var res customer.CallerLookup
	if err := json.Unmarshal(r.Body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Items[0].CustomerID != caller || !strings.Contains(res.Items[0].Name, "*") ||
		res.Items[0].MaskedMobile != "139****6666" || res.GrantExpiresAt == nil || res.Phone != "139****6666" {
		t.Fatalf("hit: %s", r.Body)
	}
	for _, leak := range []string{"Sanfeng", "13955556666", "tier", "credit", "address"} {
		if strings.Contains(string(r.Body), leak) {
			t.Fatalf("lookup shows %q: %s", leak, r.Body)
		}
	}
	var detail string
	if err := s.App.DB.QueryRow(context.Background(), `SELECT detail FROM audit_log WHERE action = 'customer.lookup' AND seq > ?`, before).
		Scan(&detail); err != nil || !strings.Contains(detail, fmt.Sprint(caller)) || strings.Contains(detail, "13955556666") {
		t.Fatalf("lookup audit entry: %v %s", err, detail)
	}
	// Now the agent may open a request for the caller; a guessed id still reads as missing.
	if r := create(caller); r.Status != http.StatusCreated {
		t.Fatalf("after the lookup: %d %s", r.Status, r.Body)
	}
	if got, want := errorOf(t, create(guessed)), errorOf(t, create(987654)); got != want {
		t.Fatalf("guessed id answers %s, missing %s", got, want)
	}
	// The grant is the agent's own and short-lived.
	mate := s.As(t, "agent@cs2")
	if r := mate.Do(t, "POST", "/api/v1/tickets", map[string]any{"type": "inquiry", "channel": "phone",
		"severity": "general", "title": "Call", "customer_id": caller}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("someone else used the grant: %d %s", r.Status, r.Body)
	}
	s.Clock.Advance(customer.LookupGrantTTL + time.Minute)
	if r := create(caller); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("after the grant expired: %d %s", r.Status, r.Body)
	}
	// The workspace form looks the caller up the same way and offers the masked match.
	br := s.Browser(t, "agent_cs", apptest.Password)
	page := br.Do(t, "GET", "/tickets/new?phone=13955556666", nil)
	pageHas(t, page, 200, []string{`id="caller-result"`, fmt.Sprintf(`id="customer-%d"`, caller), "139****6666"},
		[]string{"Sanfeng"})
	pageHas(t, br.Do(t, "GET", "/tickets/new?phone=6666", nil), 200, []string{`id="err-phone"`}, []string{"Zhang"})
	if r := br.PostForm(t, "/tickets", url.Values{"customer_id": {fmt.Sprint(caller)}, "type": {"inquiry"}, "channel": {"phone"},
		"severity": {"general"}, "title": {"Call again"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("create from the form after the lookup: %d %s", r.Status, r.Body)
	}
	// Rate limited per staff member.
	limited := false
	for range customer.LookupBurst + 1 {
		r := lookup("13900000001")
		if r.Status == http.StatusTooManyRequests {
			limited = r.Header.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Fatal("lookups not rate limited")
	}
	if r := other.Do(t, "GET", "/api/v1/customers/lookup?phone=13900000001", nil); r.Status != 200 {
		t.Fatalf("another agent is limited too: %d", r.Status)
	}
	if r := s.As(t, "qa").Do(t, "GET", "/api/v1/customers/lookup?phone=13955556666", nil); r.Status != 200 {
		t.Fatalf("qa lookup: %d", r.Status)
	}
	if r := s.Anonymous().Do(t, "GET", "/api/v1/customers/lookup?phone=13955556666", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous lookup: %d", r.Status)
	}
}

// TestCreateInAnotherTeam: creating a request straight into another department or team
// needs ticket:assign and a reason, like a transfer; the reason is on the timeline.
func TestCreateInAnotherTeam(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent, sup := s.As(t, "agent@cs"), s.As(t, "supervisor@cs")
	hot := team(t, s, agent, "cs", "Hotline")
	field := team(t, s, nil, "ops", "Field")
	body := func(kv ...any) map[string]any {
		m := map[string]any{"type": "inquiry", "channel": "phone", "severity": "general", "title": "Placed"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	// The agent's own team: fine without a reason.
	if r := agent.Do(t, "POST", "/api/v1/tickets", body("team_id", hot.ID)); r.Status != http.StatusCreated {
		t.Fatalf("own team: %d %s", r.Status, r.Body)
	}
	// Another department or team without ticket:assign: 403, nothing stored.
	n := count(t, s, `SELECT COUNT(*) FROM tickets`)
	for _, b := range []map[string]any{body("dept_id", field.DeptID, "reason", "x"), body("team_id", field.ID, "reason", "x")} {
		if r := agent.Do(t, "POST", "/api/v1/tickets", b); r.Status != http.StatusForbidden {
			t.Fatalf("agent elsewhere: %d %s", r.Status, r.Body)
		}
	}
	if count(t, s, `SELECT COUNT(*) FROM tickets`) != n {
		t.Fatal("refused request stored")
	}
	// With ticket:assign: a reason is required, then it is on the timeline and audited.
	if r := sup.Do(t, "POST", "/api/v1/tickets", body("team_id", field.ID)); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), `"reason"`) {
		t.Fatalf("no reason: %d %s", r.Status, r.Body)
	}
	before := s.AuditSeq(t)
	v := createAPI(t, sup, body("team_id", field.ID, "reason", "field team handles on-site visits"))
	if int64(v["team_id"].(float64)) != field.ID || int64(v["dept_id"].(float64)) != field.DeptID {
		t.Fatalf("placed in %v/%v", v["dept_id"], v["team_id"])
	}
	if !s.AuditSince(t, before, "ticket.transfer") {
		t.Fatal("transfer at creation not audited")
	}
	ev := s.As(t, "admin").Do(t, "GET", path(idOf(v), "events"), nil)
	if !strings.Contains(string(ev.Body), `"kind":"transfer"`) || !strings.Contains(string(ev.Body), "field team handles on-site visits") {
		t.Fatalf("timeline: %s", ev.Body)
	}
}

// TestAssignOutOfReachReadsAsMissing: assigning, transferring with a team, or
// dispatching to a staff member or team outside the actor's reach answers exactly as a
// missing one.
func TestAssignOutOfReachReadsAsMissing(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sup, far := s.As(t, "supervisor@cs"), s.As(t, "agent@ops")
	team(t, s, s.As(t, "agent@cs"), "cs", "Hotline")
	fieldTeam := team(t, s, far, "ops", "Field")
	v := createAPI(t, sup, map[string]any{"type": "repair", "channel": "phone", "severity": "general", "title": "Leak",
		"fault_level": 1})
	p := path(idOf(v))
	for _, tc := range []struct{ verb, field string }{{"assign", "assignee_id"}, {"dispatch", "technician_id"}} {
		out := sup.Do(t, "POST", p+"/"+tc.verb, map[string]any{tc.field: far.Staff.ID})
		missing := sup.Do(t, "POST", p+"/"+tc.verb, map[string]any{tc.field: 987654})
		if got, want := errorOf(t, out), errorOf(t, missing); got != want || out.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%s out of reach: %s\nmissing: %s", tc.verb, got, want)
		}
	}
	out := sup.Do(t, "POST", p+"/assign", map[string]any{"team_id": fieldTeam.ID})
	missing := sup.Do(t, "POST", p+"/assign", map[string]any{"team_id": 987654})
	if got, want := errorOf(t, out), errorOf(t, missing); got != want {
		t.Fatalf("team out of reach: %s\nmissing: %s", got, want)
	}
}
