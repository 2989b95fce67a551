package fieldvisit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/fieldvisit"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// world is a running app with two salespeople of the field department (A signed in
// with a token, B through the browser form), their supervisor, and a customer of each.
type world struct {
	srv          *apptest.Server
	salesA       *apptest.Client
	salesB       *apptest.Client
	sup          *apptest.Client
	custA, custB int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv := apptest.New(t)
	srv.App.FieldVisit.SetKeys(srv.App.Keys) // until app.go passes Deps.Keys
	w := &world{srv: srv, salesA: srv.As(t, "sales@field"), sup: srv.As(t, "supervisor@field")}
	srv.Staff(t, "sales_b", "sales", "field")
	w.salesB = srv.Browser(t, "sales_b", apptest.Password)
	w.custA = w.customer(t, "Zhang San", "13812345678", w.salesA.Staff.ID, customer.TierVIP)
	b, err := srv.App.Org.StaffByUsername(context.Background(), "sales_b")
	if err != nil {
		t.Fatal(err)
	}
	w.custB = w.customer(t, "Li Si", "13912345678", b.ID, customer.TierRegular)
	return w
}

func (w *world) customer(t *testing.T, name, mobile string, owner int64, tier string) int64 {
	t.Helper()
	c, err := w.srv.App.Customer.CreateCustomer(apptest.SystemCtx(), customer.Input{Kind: customer.KindPerson, Name: name,
		Mobile: mobile, OwnerID: owner, Tier: tier})
	if err != nil {
		t.Fatalf("customer %s: %v", name, err)
	}
	return c.ID
}

// body is a valid visit on customer id (with the fields of extra replacing its own).
func body(id int64, extra map[string]any) map[string]any {
	b := map[string]any{"customer_id": id, "business_type": "property services", "contact_name": "Wang Wu",
		"contact_title": "manager", "phone": "13700001111", "purpose": "renewal talk", "result": "positive",
		"next_step": "send the offer", "intent_class": "B", "location": "Building 3"}
	for k, v := range extra {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func (w *world) create(t *testing.T, c *apptest.Client, b map[string]any) int64 {
	t.Helper()
	r := c.Do(t, "POST", "/api/v1/field-visits", b)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var v fieldvisit.View
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func fields(t *testing.T, r *apptest.Response) map[string]any {
	t.Helper()
	m := r.JSON(t)
	e, _ := m["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

// TestCreateValidates: a good waiqin form is stored and answered with the phone masked;
// each bad one is a 422 naming exactly the fields at fault, and nothing is stored.
func TestCreateValidates(t *testing.T) {
	w := newWorld(t)
	now := w.srv.Clock.Now()
	cases := []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"no customer", map[string]any{"customer_id": nil}, []string{"customer_id"}},
		{"unknown customer", map[string]any{"customer_id": 999999}, []string{"customer_id"}},
		{"negative customer", map[string]any{"customer_id": -3}, []string{"customer_id"}},
		{"blank texts", map[string]any{"business_type": " ", "contact_name": "", "purpose": ""},
			[]string{"business_type", "contact_name", "purpose"}},
		{"no phone", map[string]any{"phone": nil}, []string{"phone"}},
		{"bad phone", map[string]any{"phone": "12345"}, []string{"phone"}},
		{"bad intent", map[string]any{"intent_class": "E"}, []string{"intent_class"}},
		{"far future", map[string]any{"visited_at": now.Add(72 * time.Hour).Format(time.RFC3339)}, []string{"visited_at"}},
		{"too old", map[string]any{"visited_at": now.Add(-200 * 24 * time.Hour).Format(time.RFC3339)}, []string{"visited_at"}},
		{"long title", map[string]any{"contact_title": strings.Repeat("x", 65)}, []string{"contact_title"}},
		{"someone else's visit", map[string]any{"staff_id": w.salesA.Staff.ID + 1000}, []string{"staff_id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := w.salesA.Do(t, "POST", "/api/v1/field-visits", body(w.custA, c.extra))
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", r.Status, r.Body)
			}
			got := fields(t, r)
			var names []string
			for k := range got {
				names = append(names, k)
			}
			slices.Sort(names)
			if !slices.Equal(names, c.want) {
				t.Fatalf("fields %v, want %v (%s)", names, c.want, r.Body)
			}
		})
	}
	var n int
	if err := w.srv.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM field_visits`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d visits stored after refusals (%v)", n, err)
	}
	r := w.salesA.Do(t, "POST", "/api/v1/field-visits", body(w.custA, map[string]any{"intent_class": "a", "deal_closed": true}))
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var v fieldvisit.View
	_ = json.Unmarshal(r.Body, &v)
	if v.Phone != "137****1111" || !v.PhoneMasked || v.IntentClass != "A" || !v.DealClosed || v.StaffID != w.salesA.Staff.ID ||
		v.CustomerName != "Zhang San" {
		t.Fatalf("answer %+v", v)
	}
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/field-visits/%d", v.ID) {
		t.Fatalf("Location %q", loc)
	}
}

// TestScope: a salesperson records visits only on customers they reach (another's
// customer is refused exactly like a missing one), sees only their own visits (another's
// reads as 404), and the supervisor of the department sees them all with the phone in
// clear (customer:reveal), an audited read.
func TestScope(t *testing.T) {
	w := newWorld(t)
	idA := w.create(t, w.salesA, body(w.custA, nil))
	idB := w.create(t, w.salesB, body(w.custB, map[string]any{"phone": "010-87654321"}))

	other := w.salesA.Do(t, "POST", "/api/v1/field-visits", body(w.custB, nil))
	missing := w.salesA.Do(t, "POST", "/api/v1/field-visits", body(999999, nil))
	if other.Status != 422 || missing.Status != 422 || fmt.Sprint(fields(t, other)) != fmt.Sprint(fields(t, missing)) {
		t.Fatalf("another's customer: %d %s; a missing one: %d %s", other.Status, other.Body, missing.Status, missing.Body)
	}
	if r := w.salesB.Do(t, "GET", fmt.Sprintf("/api/v1/field-visits/%d", idA), nil); r.Status != 404 {
		t.Fatalf("B reads A's visit: %d", r.Status)
	}
	if r := w.salesA.Do(t, "GET", fmt.Sprintf("/api/v1/field-visits/%d", idB), nil); r.Status != 404 {
		t.Fatalf("A reads B's visit: %d", r.Status)
	}
	list := func(c *apptest.Client, q string) []int64 {
		r := c.Do(t, "GET", "/api/v1/field-visits"+q, nil)
		if r.Status != 200 {
			t.Fatalf("list %s: %d %s", q, r.Status, r.Body)
		}
		var p httpx.Page[fieldvisit.View]
		_ = json.Unmarshal(r.Body, &p)
		var ids []int64
		for _, v := range p.Items {
			ids = append(ids, v.ID)
			if !strings.Contains(v.Phone, "*") {
				t.Errorf("list shows a phone in clear: %q", v.Phone)
			}
		}
		return ids
	}
	if got := list(w.salesA, ""); !slices.Equal(got, []int64{idA}) {
		t.Fatalf("A's list %v", got)
	}
	if got := list(w.salesB, "?view=mine"); !slices.Equal(got, []int64{idB}) {
		t.Fatalf("B's list %v", got)
	}
	if got := list(w.sup, ""); !slices.Equal(got, []int64{idB, idA}) {
		t.Fatalf("supervisor's list %v", got)
	}
	if got := list(w.sup, fmt.Sprintf("?customer_id=%d", w.custA)); !slices.Equal(got, []int64{idA}) {
		t.Fatalf("supervisor's list of customer A %v", got)
	}
	if got := list(w.srv.As(t, "supervisor@elsewhere"), ""); len(got) != 0 {
		t.Fatalf("another department's supervisor sees %v", got)
	}
	seq := w.srv.AuditSeq(t)
	r := w.sup.Do(t, "GET", fmt.Sprintf("/api/v1/field-visits/%d", idB), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"phone":"010-87654321"`) {
		t.Fatalf("supervisor reads B's visit: %d %s", r.Status, r.Body)
	}
	if !w.srv.AuditSince(t, seq, "fieldvisit.read") {
		t.Fatal("the clear read was not audited")
	}
	r = w.salesA.Do(t, "GET", fmt.Sprintf("/api/v1/field-visits/%d", idA), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"phone":"137****1111"`) {
		t.Fatalf("sales reads their visit: %d %s", r.Status, r.Body)
	}
	if r := w.srv.As(t, "supervisor@elsewhere").Do(t, "GET", fmt.Sprintf("/api/v1/field-visits/%d", idA), nil); r.Status != 404 {
		t.Fatalf("another department's supervisor reads it: %d", r.Status)
	}
}

// TestPhoneEncryptedAtRest: the stored row holds neither the number nor its digits in
// clear, and two visits with the same number share the blind index.
func TestPhoneEncryptedAtRest(t *testing.T) {
	w := newWorld(t)
	id1 := w.create(t, w.salesA, body(w.custA, nil))
	id2 := w.create(t, w.salesA, body(w.custA, map[string]any{"phone": "137 0000 1111"}))
	rows, err := w.srv.App.DB.Query(context.Background(), `SELECT id, phone_enc, phone_blind FROM field_visits ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var blinds []string
	var ids []int64
	for rows.Next() {
		var id int64
		var enc, blind string
		if err := rows.Scan(&id, &enc, &blind); err != nil {
			t.Fatal(err)
		}
		if enc == "" || strings.Contains(enc, "13700001111") || strings.Contains(enc, "1111") || blind == "" ||
			strings.Contains(blind, "1111") {
			t.Fatalf("visit %d stored phone_enc %q phone_blind %q", id, enc, blind)
		}
		ids, blinds = append(ids, id), append(blinds, blind)
	}
	if !slices.Equal(ids, []int64{id1, id2}) || blinds[0] != blinds[1] {
		t.Fatalf("ids %v blinds %v", ids, blinds)
	}
	r := w.srv.As(t, "director").Do(t, "GET", fmt.Sprintf("/api/v1/field-visits/%d", id2), nil)
	if !strings.Contains(string(r.Body), `"phone":"13700001111"`) {
		t.Fatalf("director's clear read: %s", r.Body)
	}
}

// TestEmitsVerification: recording a visit writes the sales_visit trigger into the
// return-visit inbox in the same transaction, with the salesperson as its actor.
func TestEmitsVerification(t *testing.T) {
	w := newWorld(t)
	id := w.create(t, w.salesA, body(w.custA, map[string]any{"deal_closed": true}))
	var n int
	var event, attrs string
	var actor int64
	err := w.srv.App.DB.QueryRow(context.Background(),
		`SELECT COUNT(*), MIN(event), MIN(actor_id), MIN(attrs) FROM revisit_events WHERE source_type = 'fieldvisit' AND source_id = ? AND customer_id = ?`,
		id, w.custA).Scan(&n, &event, &actor, &attrs)
	if err != nil {
		t.Fatal(err)
	}
	var a map[string]string
	_ = json.Unmarshal([]byte(attrs), &a)
	if n != 1 || event != "fieldvisit.recorded" || actor != w.salesA.Staff.ID || a["deal_closed"] != "1" || a["intent_class"] != "B" {
		t.Fatalf("%d inbox rows for visit %d (event %q, actor %d, attrs %s), want 1 by %d", n, id, event, actor, attrs, w.salesA.Staff.ID)
	}
}

// TestOverdue: a VIP customer (monthly plan) never visited is overdue; once visited it
// is not, until a month passes; a customer whose latest visit rated intent B is due
// every 3 months. The plans are edited with a version (supervisor: fieldvisit:manage).
func TestOverdue(t *testing.T) {
	w := newWorld(t)
	overdue := func(c *apptest.Client) map[int64]fieldvisit.Overdue {
		t.Helper()
		r := c.Do(t, "GET", "/api/v1/field-visits/overdue", nil)
		if r.Status != 200 {
			t.Fatalf("overdue: %d %s", r.Status, r.Body)
		}
		var l fieldvisit.OverdueList
		_ = json.Unmarshal(r.Body, &l)
		out := map[int64]fieldvisit.Overdue{}
		for _, o := range l.Items {
			out[o.CustomerID] = o
		}
		return out
	}
	// Known plans (the defaults also plan by value class, which the classifier sets).
	if r := w.sup.Do(t, "PUT", "/api/v1/field-visit-plans", `{"plans":[{"kind":"tier","value":"vip","months":1},{"kind":"intent_class","value":"B","months":3}],"version":0}`); r.Status != 200 {
		t.Fatalf("set plans: %d %s", r.Status, r.Body)
	}
	if o, ok := overdue(w.salesA)[w.custA]; !ok || !o.Never || o.Plan.Kind != "tier" {
		t.Fatalf("never-visited VIP: %+v %v", o, ok)
	}
	if _, ok := overdue(w.salesA)[w.custB]; ok {
		t.Fatal("A sees B's customer")
	}
	w.create(t, w.salesA, body(w.custA, map[string]any{"intent_class": ""}))
	w.create(t, w.salesB, body(w.custB, map[string]any{"intent_class": "B"}))
	if got := overdue(w.sup); len(got) != 0 {
		t.Fatalf("overdue right after the visits: %+v", got)
	}
	w.srv.Clock.Advance(40 * 24 * time.Hour)
	got := overdue(w.sup)
	if o, ok := got[w.custA]; !ok || o.Never || o.LastVisitAt == nil || o.DaysOverdue < 8 || o.DaysOverdue > 10 {
		t.Fatalf("VIP after 40 days: %+v %v", o, ok)
	}
	if _, ok := got[w.custB]; ok {
		t.Fatal("intent B overdue after 40 days")
	}
	w.srv.Clock.Advance(60 * 24 * time.Hour)
	if o, ok := overdue(w.sup)[w.custB]; !ok || o.Plan.Kind != "intent_class" || o.Plan.Value != "B" || o.DaysOverdue < 7 {
		t.Fatalf("intent B after 100 days: %+v %v", o, ok)
	}

	plans := `{"plans":[{"kind":"tier","value":"regular","days":7}],"version":1}`
	if r := w.salesA.Do(t, "PUT", "/api/v1/field-visit-plans", plans); r.Status != 403 {
		t.Fatalf("sales edits plans: %d", r.Status)
	}
	r := w.sup.Do(t, "PUT", "/api/v1/field-visit-plans", `{"plans":[{"kind":"tier","value":"gold","months":1},{"kind":"intent_class","value":"A","months":1,"days":3}],"version":1}`)
	if f := fields(t, r); r.Status != 422 || f["plans.0.value"] == nil || f["plans.1.days"] == nil {
		t.Fatalf("bad plans: %d %s", r.Status, r.Body)
	}
	if r := w.sup.Do(t, "PUT", "/api/v1/field-visit-plans", `{"plans":[]}`); r.Status != http.StatusPreconditionRequired {
		t.Fatalf("no version: %d", r.Status)
	}
	if r := w.sup.Do(t, "PUT", "/api/v1/field-visit-plans", plans); r.Status != 200 || !strings.Contains(string(r.Body), `"version":2`) {
		t.Fatalf("save plans: %d %s", r.Status, r.Body)
	}
	if r := w.sup.Do(t, "PUT", "/api/v1/field-visit-plans", plans); r.Status != 409 {
		t.Fatalf("stale save: %d", r.Status)
	}
	got = overdue(w.sup)
	if o, ok := got[w.custB]; !ok || o.Plan.Value != "regular" || o.DaysOverdue < 90 {
		t.Fatalf("regular weekly: %+v %v", o, ok)
	}
	if _, ok := got[w.custA]; ok {
		t.Fatal("VIP still planned after the plans changed")
	}
}

// TestReport counts visits, customers, deals and intent classes per salesperson, in the
// reader's scope.
func TestReport(t *testing.T) {
	w := newWorld(t)
	w.create(t, w.salesA, body(w.custA, map[string]any{"intent_class": "A", "deal_closed": true}))
	w.create(t, w.salesA, body(w.custA, map[string]any{"intent_class": "B"}))
	w.create(t, w.salesB, body(w.custB, nil))
	report := func(c *apptest.Client, q string) fieldvisit.Report {
		r := c.Do(t, "GET", "/api/v1/field-visits/report"+q, nil)
		if r.Status != 200 {
			t.Fatalf("report %s: %d %s", q, r.Status, r.Body)
		}
		var rep fieldvisit.Report
		_ = json.Unmarshal(r.Body, &rep)
		return rep
	}
	rep := report(w.sup, "")
	if len(rep.Rows) != 2 || rep.Total.Visits != 3 || rep.Total.Customers != 2 || rep.Total.Deals != 1 {
		t.Fatalf("supervisor's report %+v", rep)
	}
	a := rep.Rows[0]
	if a.StaffID != w.salesA.Staff.ID || a.Visits != 2 || a.Customers != 1 || a.Deals != 1 || a.IntentA != 1 || a.IntentB != 1 {
		t.Fatalf("A's row %+v", a)
	}
	if rep := report(w.salesB, ""); len(rep.Rows) != 1 || rep.Rows[0].Visits != 1 {
		t.Fatalf("B's own report %+v", rep)
	}
	from, to := w.srv.Clock.Now().Add(48*time.Hour).Format("2006-01-02"), w.srv.Clock.Now().Add(96*time.Hour).Format("2006-01-02")
	if rep := report(w.sup, "?from="+from+"&to="+to); rep.Total.Visits != 0 || len(rep.Rows) != 0 {
		t.Fatalf("report from %s: %+v", from, rep)
	}
	if r := w.sup.Do(t, "GET", "/api/v1/field-visits/report?from=yesterday", nil); r.Status != 422 || fields(t, r)["from"] == nil {
		t.Fatalf("bad from: %d %s", r.Status, r.Body)
	}
}

// TestRoleTable sends every field-visit API route as every built-in role: a role without
// the route's permission gets 403, one with it never does, and the visit of a
// salesperson of another department reads as 404 to department- and own-scoped roles.
func TestRoleTable(t *testing.T) {
	w := newWorld(t)
	id := w.create(t, w.salesA, body(w.custA, nil))
	roles := []string{"admin", "director", "supervisor", "agent", "qa", "archivist", "sales"}
	for _, rt := range w.srv.App.FieldVisit.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/") {
			continue
		}
		for _, role := range roles {
			t.Run(rt.Method+" "+rt.Path+" as "+role, func(t *testing.T) {
				c := w.srv.As(t, role+"@elsewhere")
				path := strings.Replace(rt.Path, "{id}", fmt.Sprint(id), 1)
				var b any
				switch rt.Method {
				case "POST":
					b = body(w.custA, nil)
				case "PUT":
					b = `{"plans":[],"version":0}`
				}
				r := c.Do(t, rt.Method, path, b)
				held := holds(role, rt.Perm)
				switch {
				case !held && r.Status != 403:
					t.Fatalf("without %s: %d, want 403", rt.Perm, r.Status)
				case held && r.Status == 403:
					t.Fatalf("with %s: 403 %s", rt.Perm, r.Body)
				case held && strings.Contains(rt.Path, "{id}") && r.Status != 404 && !wide(role):
					t.Fatalf("another department's visit: %d, want 404", r.Status)
				case held && strings.Contains(rt.Path, "{id}") && r.Status != 200 && wide(role):
					t.Fatalf("center-wide role: %d %s", r.Status, r.Body)
				case held && rt.Method == "POST" && r.Status != 422 && !wide(role):
					t.Fatalf("another department's customer: %d %s", r.Status, r.Body)
				}
			})
		}
	}
}

func holds(role, perm string) bool {
	for _, r := range authz.BuiltinRoles {
		if r.Code == role {
			return slices.Contains(r.Perms, authz.All) || slices.Contains(r.Perms, perm)
		}
	}
	return false
}

func wide(role string) bool {
	for _, r := range authz.BuiltinRoles {
		if r.Code == role {
			return r.Scope == authz.ScopeAll
		}
	}
	return false
}

// TestPages: the phone-sized form posts without JavaScript and redirects to the new
// visit; a refused form comes back with the fields at fault; the list and plans pages
// render.
func TestPages(t *testing.T) {
	w := newWorld(t)
	b := w.salesB
	page := b.Do(t, "GET", "/field-visits/new", nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), `id="visit-form"`) ||
		!strings.Contains(string(page.Body), fmt.Sprintf(`<option value="%d">`, w.custB)) ||
		strings.Contains(string(page.Body), fmt.Sprintf(`<option value="%d">`, w.custA)) {
		t.Fatalf("form: %d\n%s", page.Status, page.Body)
	}
	form := url.Values{"customer_id": {fmt.Sprint(w.custB)}, "business_type": {"cleaning"}, "contact_name": {"Zhao"},
		"phone": {"139-0000-2222"}, "purpose": {"first visit"}, "intent_class": {"C"}, "deal_closed": {"1"},
		"visited_at": {w.srv.Clock.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04")}}
	r := b.PostForm(t, "/field-visits", form)
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/field-visits/") {
		t.Fatalf("post: %d %s %s", r.Status, loc, r.Body)
	}
	detail := b.Do(t, "GET", loc, nil)
	if detail.Status != 200 || !strings.Contains(string(detail.Body), "139****2222") {
		t.Fatalf("detail: %d %s", detail.Status, detail.Body)
	}
	form.Set("phone", "12")
	form.Set("purpose", "")
	r = b.PostForm(t, "/field-visits", form)
	if r.Status != 422 || !strings.Contains(string(r.Body), `id="err-phone"`) || !strings.Contains(string(r.Body), `id="err-purpose"`) {
		t.Fatalf("refused form: %d %s", r.Status, r.Body)
	}
	if l := b.Do(t, "GET", "/field-visits?view=mine", nil); l.Status != 200 || !strings.Contains(string(l.Body), `id="visit-list"`) {
		t.Fatalf("list: %d %s", l.Status, l.Body)
	}
	if p := b.Do(t, "GET", "/field-visits/plans", nil); p.Status != 200 || !strings.Contains(string(p.Body), `id="plans-table"`) {
		t.Fatalf("plans page: %d %s", p.Status, p.Body)
	}
	sup := w.srv.Browser(t, "supervisor_field", apptest.Password)
	p := sup.Do(t, "GET", "/field-visits/plans", nil)
	if p.Status != 200 || !strings.Contains(string(p.Body), `id="plans-form"`) {
		t.Fatalf("supervisor's plans page: %d %s", p.Status, p.Body)
	}
	save := url.Values{"version": {"0"}, "kind_0": {"intent_class"}, "value_0": {"c"}, "days_0": {"14"}}
	if r := sup.PostForm(t, "/field-visits/plans", save); r.Status != http.StatusSeeOther {
		t.Fatalf("save plans: %d %s", r.Status, r.Body)
	}
	got, err := w.srv.App.FieldVisit.GetPlans(authz.WithActor(context.Background(), authz.System("test")))
	if err != nil || got.Version != 1 || len(got.Plans) != 1 || got.Plans[0].Value != "C" || got.Plans[0].Days != 14 {
		t.Fatalf("plans after the form: %+v %v", got, err)
	}
}

// TestSystemRecordsHistory: the system (demo data, imports) records a visit in a
// salesperson's name, with their department, at any past time; without a salesperson
// it is refused naming staff_id.
func TestSystemRecordsHistory(t *testing.T) {
	w := newWorld(t)
	ctx := apptest.SystemCtx()
	at := w.srv.Clock.Now().Add(-200 * 24 * time.Hour)
	in := fieldvisit.Input{CustomerID: w.custA, BusinessType: "cleaning", ContactName: "Wang", Phone: "13700001111",
		Purpose: "first visit", VisitedAt: &at}
	if _, err := w.srv.App.FieldVisit.Create(ctx, in); apperrFields(err)["staff_id"] == nil {
		t.Fatalf("without a salesperson: %v", err)
	}
	in.StaffID = w.salesA.Staff.ID
	v, err := w.srv.App.FieldVisit.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if v.StaffID != w.salesA.Staff.ID || v.DeptID != w.salesA.Staff.DeptID || !v.VisitedAt.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("recorded %+v", v)
	}
	if r := w.salesA.Do(t, "GET", fmt.Sprintf("/api/v1/field-visits/%d", v.ID), nil); r.Status != 200 {
		t.Fatalf("the salesperson reads it: %d", r.Status)
	}
}

func apperrFields(err error) map[string]any {
	out := map[string]any{}
	if ae, ok := apperr.As(err); ok {
		for k, m := range ae.Fields {
			out[k] = m
		}
	}
	return out
}
