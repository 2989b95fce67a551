package customer_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// TestClassificationAPIScenarios drives the transaction and rules routes per role:
// admin, director, supervisor, agent, qa, sales and anonymous, with ids swapped in the
// URL, validation, and the classification shown in the customer's responses.
func TestClassificationAPIScenarios(t *testing.T) {
	s := apptest.New(t)
	for _, r := range []string{"admin", "director", "supervisor", "agent", "qa", "sales", "agent@other"} {
		s.As(t, r)
	}
	a := create(t, s.As(t, "agent"), map[string]any{"kind": "org", "name": "Scenario Org", "relationship_since": daysAgo(s, 900)})
	b := create(t, s.As(t, "agent@other"), map[string]any{"kind": "person", "name": "Other Person"})
	var txB int64
	{
		r := s.As(t, "agent@other").Do(t, "POST", path(b, "transactions"), map[string]any{"date": daysAgo(s, 3), "amount_fen": 1000})
		if r.Status != 201 {
			t.Fatalf("seed transaction: %d %s", r.Status, r.Body)
		}
		txB = int64(r.JSON(t)["id"].(float64))
	}
	tx := func(body map[string]any) map[string]any { return body }
	day := daysAgo(s, 5)
	var ruleBody = `{"tier":{"vip_yearly_fen":40000000,"person_vip_yearly_fen":5000000,"vip_if_core":true},` +
		`"credit":{"c_conditions":["bad_debt_2y","weak_capital"],"a_conditions":["cooperation","no_bad_debt_2y","strong_capital"],"a_min_count":2,"cooperation_years":2},"version":0}`
	scenarios := []apptest.Scenario{
		// Anonymous.
		{Name: "anon list transactions", Method: "GET", Path: path(a, "transactions"), Status: 401},
		{Name: "anon add transaction", Method: "POST", Path: path(a, "transactions"), Body: tx(map[string]any{"date": day, "amount_fen": 1}), Status: 401, NoAudit: true},
		{Name: "anon delete transaction", Method: "DELETE", Path: path(b, "transactions", fmt.Sprint(txB)), Status: 401},
		{Name: "anon rules", Method: "GET", Path: "/api/v1/customer-rules", Status: 401},
		{Name: "anon put rules", Method: "PUT", Path: "/api/v1/customer-rules", Body: ruleBody, Status: 401},

		// The classification is in every response, translated.
		{Name: "created classified", As: "agent", Method: "GET", Path: path(a), Lang: "en", Status: 200,
			Has: []string{`"tier":"potential"`, `"value_class":"general"`, `"credit_grade":"A"`, `"credit_policy":"Grade A policy`,
				`"tier_reasons":["No transaction yet: a potential customer"]`, `2 years of cooperation without bad debt or breach`}},

		// Transactions per role.
		{Name: "agent adds", As: "agent", Method: "POST", Path: path(a, "transactions"),
			Body: tx(map[string]any{"date": day, "amount_fen": 60_000_000, "note": "framework contract", "ref": "SO-2024-001"}), Status: 201,
			Audit: "customer.transaction.create", Has: []string{`"amount_fen":60000000`, `"kind":"order"`, `"date":"` + day + `"`}},
		{Name: "agent's customer is now VIP", As: "agent", Method: "GET", Path: path(a), Status: 200,
			Has: []string{`"tier":"vip"`, `"value_class":"important"`, "VIP 标准"}},
		{Name: "agent lists", As: "agent", Method: "GET", Path: path(a, "transactions"), Status: 200, Audit: "customer.read",
			Has: []string{`"framework contract"`, `"next_cursor":""`}},
		{Name: "supervisor adds a refund", As: "supervisor", Method: "POST", Path: path(a, "transactions"),
			Body: tx(map[string]any{"date": day, "amount_fen": -500}), Status: 201, Has: []string{`"kind":"refund"`}},
		{Name: "director lists", As: "director", Method: "GET", Path: path(a, "transactions"), Status: 200, Has: []string{`"refund"`}},
		{Name: "admin adds", As: "admin", Method: "POST", Path: path(a, "transactions"), Body: tx(map[string]any{"date": day, "amount_fen": 0}), Status: 201},
		{Name: "qa lists", As: "qa", Method: "GET", Path: path(a, "transactions"), Status: 200},
		{Name: "qa cannot add", As: "qa", Method: "POST", Path: path(a, "transactions"), Body: tx(map[string]any{"date": day, "amount_fen": 1}), Status: 403, NoAudit: true},
		{Name: "qa cannot delete", As: "qa", Method: "DELETE", Path: path(b, "transactions", fmt.Sprint(txB)), Status: 403},
		{Name: "sales sees only own", As: "sales", Method: "GET", Path: path(a, "transactions"), Status: 404},
		{Name: "sales cannot add to others'", As: "sales", Method: "POST", Path: path(a, "transactions"), Body: tx(map[string]any{"date": day, "amount_fen": 1}), Status: 404, NoAudit: true},
		{Name: "agent swaps id: list", As: "agent", Method: "GET", Path: path(b, "transactions"), Status: 404, NoAudit: true},
		{Name: "agent swaps id: add", As: "agent", Method: "POST", Path: path(b, "transactions"), Body: tx(map[string]any{"date": day, "amount_fen": 1}), Status: 404, NoAudit: true},
		{Name: "agent swaps id: delete", As: "agent", Method: "DELETE", Path: path(b, "transactions", fmt.Sprint(txB)), Status: 404, NoAudit: true},
		{Name: "transaction of another customer", As: "admin", Method: "DELETE", Path: path(a, "transactions", fmt.Sprint(txB)), Status: 404},
		{Name: "missing customer", As: "admin", Method: "GET", Path: path(999999, "transactions"), Status: 404},
		{Name: "validation names fields", As: "agent", Method: "POST", Path: path(a, "transactions"), Lang: "en",
			Body: tx(map[string]any{"date": "2024-13-01", "note": strings.Repeat("x", 501)}), Status: 422,
			Has: []string{`"validation_failed"`, `"date"`, `"amount_fen":"is required"`, `"note"`}, NoAudit: true},
		{Name: "future date", As: "agent", Method: "POST", Path: path(a, "transactions"), Body: tx(map[string]any{"date": "2999-01-01", "amount_fen": 1}),
			Status: 422, Has: []string{`"date"`}},
		{Name: "unknown member", As: "agent", Method: "POST", Path: path(a, "transactions"), Body: tx(map[string]any{"date": day, "amount_fen": 1, "amount": 1}),
			Status: 400, Has: []string{"amount"}},
		{Name: "amount not a number", As: "agent", Method: "POST", Path: path(a, "transactions"), Body: `{"date":"` + day + `","amount_fen":"12.5"}`,
			Status: 400, Has: []string{"amount_fen"}},
		{Name: "bad cursor", As: "agent", Method: "GET", Path: path(a, "transactions") + "?cursor=***", Status: 400},
		{Name: "other agent deletes own", As: "agent@other", Method: "DELETE", Path: path(b, "transactions", fmt.Sprint(txB)), Status: 204,
			Audit: "customer.transaction.delete"},
		{Name: "deleted is gone", As: "agent@other", Method: "DELETE", Path: path(b, "transactions", fmt.Sprint(txB)), Status: 404},

		// Rules: everyone who reads customers may read them; customer:rules changes them.
		{Name: "agent reads rules", As: "agent", Method: "GET", Path: "/api/v1/customer-rules", Status: 200,
			Has: []string{`"vip_yearly_fen":50000000`, `"churn_days":365`, `"a_min_count":2`, `"version":0`}},
		{Name: "qa reads rules", As: "qa", Method: "GET", Path: "/api/v1/customer-rules", Status: 200},
		{Name: "sales reads rules", As: "sales", Method: "GET", Path: "/api/v1/customer-rules", Status: 200},
		{Name: "agent cannot put", As: "agent", Method: "PUT", Path: "/api/v1/customer-rules", Body: ruleBody, Status: 403, NoAudit: true},
		{Name: "supervisor cannot put", As: "supervisor", Method: "PUT", Path: "/api/v1/customer-rules", Body: ruleBody, Status: 403, NoAudit: true},
		{Name: "qa cannot patch", As: "qa", Method: "PATCH", Path: "/api/v1/customer-rules", Body: `{"value":{"churn_days":400}}`, Status: 403},
		{Name: "sales cannot patch", As: "sales", Method: "PATCH", Path: "/api/v1/customer-rules", Body: `{"value":{"churn_days":400}}`, Status: 403},
		{Name: "put invalid names the field", As: "admin", Method: "PUT", Path: "/api/v1/customer-rules", Lang: "en",
			Body: `{"value":{"recency_days":[30,20,180,365],"core_min_total":5,"important_min_total":9},"version":0}`, Status: 422,
			Has: []string{`"validation_failed"`, `"value.recency_days"`, `"value.core_min_total"`}, NoAudit: true},
		{Name: "put unknown condition", As: "director", Method: "PUT", Path: "/api/v1/customer-rules",
			Body: `{"credit":{"c_conditions":["late_lunch"]},"version":0}`, Status: 422, Has: []string{`"credit.c_conditions"`, "late_lunch"}},
		{Name: "put unknown member", As: "admin", Method: "PUT", Path: "/api/v1/customer-rules", Body: `{"tier":{"gold":1},"version":0}`, Status: 400, NoAudit: true},
		{Name: "put without version", As: "admin", Method: "PUT", Path: "/api/v1/customer-rules", Body: `{"value":{"churn_days":400}}`,
			Status: 428, Has: []string{`"code":"version_required"`}, NoAudit: true},
		{Name: "patch unknown section", As: "admin", Method: "PATCH", Path: "/api/v1/customer-rules", Body: `{"loyalty":{},"version":0}`, Status: 400},
		{Name: "patch wrong type", As: "admin", Method: "PATCH", Path: "/api/v1/customer-rules", Body: `{"value":{"churn_days":"long"},"version":0}`, Status: 400},
		{Name: "patch invalid", As: "admin", Method: "PATCH", Path: "/api/v1/customer-rules", Body: `{"credit":{"a_min_count":9},"version":0}`, Status: 422,
			Has: []string{`"credit.a_min_count"`}},
		{Name: "director puts", As: "director", Method: "PUT", Path: "/api/v1/customer-rules", Body: ruleBody, Status: 200,
			Audit: "customer.rules.update", Has: []string{`"vip_yearly_fen":40000000`, `"cooperation_years":2`, `"churn_days":365`, `"version":2`}},
		{Name: "patch without version", As: "admin", Method: "PATCH", Path: "/api/v1/customer-rules", Body: `{"value":{"churn_days":400}}`,
			Status: 428, Has: []string{`"code":"version_required"`}, NoAudit: true},
		{Name: "patch stale version", As: "admin", Method: "PATCH", Path: "/api/v1/customer-rules", Body: `{"value":{"churn_days":400},"version":0}`,
			Status: 409, Has: []string{`"code":"version_conflict"`, `"current_version":2`}, NoAudit: true},
		{Name: "put stale version", As: "admin", Method: "PUT", Path: "/api/v1/customer-rules", Body: ruleBody,
			Status: 409, Has: []string{`"code":"version_conflict"`, `"current_version":2`}, NoAudit: true},
		{Name: "admin patches", As: "admin", Method: "PATCH", Path: "/api/v1/customer-rules", Body: `{"value":{"churn_days":400},"version":2}`, Status: 200,
			Audit: "customer.rules.update", Has: []string{`"churn_days":400`, `"vip_yearly_fen":40000000`, `"version":3`}},
		{Name: "rules apply to the next change", As: "agent", Method: "POST", Path: path(a, "transactions"),
			Body: tx(map[string]any{"date": day, "amount_fen": 1}), Status: 201},
		{Name: "customer re-evaluated under the new rules", As: "agent", Method: "GET", Path: path(a), Lang: "en", Status: 200,
			Has: []string{`reaches the VIP threshold of 400,000.00 yuan`, `cooperation of at least 2 year(s)`}},
	}
	apptest.Run(t, s, scenarios)

	// Paging: newest first, with a cursor.
	c := s.As(t, "agent")
	for i := 1; i <= 3; i++ {
		if r := c.Do(t, "POST", path(a, "transactions"), map[string]any{"date": daysAgo(s, 100+i), "amount_fen": i}); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Body)
		}
	}
	seen := map[string]bool{}
	next, pages := "", 0
	for {
		u := path(a, "transactions") + "?limit=2"
		if next != "" {
			u += "&cursor=" + url.QueryEscape(next)
		}
		r := c.Do(t, "GET", u, nil)
		if r.Status != 200 {
			t.Fatalf("page: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		for _, it := range m["items"].([]any) {
			id := fmt.Sprint(it.(map[string]any)["id"])
			if seen[id] {
				t.Fatalf("transaction %s on two pages", id)
			}
			seen[id] = true
		}
		pages++
		if next = m["next_cursor"].(string); next == "" {
			break
		}
	}
	var total int
	if err := s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM customer_transactions WHERE customer_id = ?`, a).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if len(seen) != total || pages < 3 {
		t.Fatalf("paged %d of %d transactions in %d pages", len(seen), total, pages)
	}
}

// TestClassificationPages: the customer page shows the classification with its reasons
// and policy and a transactions section with an add form (inline errors, POST-redirect-
// GET); the edit form does not pin computed values; the rules page edits the rules.
func TestClassificationPages(t *testing.T) {
	s := apptest.New(t)
	s.As(t, "supervisor")
	s.As(t, "qa")
	s.As(t, "director")
	sup := s.Browser(t, "supervisor_cs", apptest.Password)
	qa := s.Browser(t, "qa_cs", apptest.Password)
	dir := s.Browser(t, "director_cs", apptest.Password)
	has := func(t *testing.T, r *apptest.Response, status int, want []string, not []string) {
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
	r := sup.PostForm(t, "/customers", url.Values{"kind": {"org"}, "name": {"Page Org"}, "relationship_since": {daysAgo(s, 800)},
		"cf_weak_capital": {"1"}, "facts_present": {"1"}})
	if r.Status != 303 {
		t.Fatalf("create: %d\n%s", r.Status, r.Body)
	}
	detail := r.Header.Get("Location")
	has(t, sup.Do(t, "GET", detail, nil), 200, []string{`id="classification"`, `id="credit-reasons"`, "存在 C 类情形：资金实力弱",
		"C 级政策", `id="tx-form"`, "暂无交易记录"}, nil)

	// Add a transaction: inline errors, then success.
	has(t, sup.PostForm(t, detail+"/transactions", url.Values{"date": {"2024-02-30"}, "amount": {"12.345"}}), 422,
		[]string{`id="err-tx-date"`, `id="err-tx-amount"`, `value="2024-02-30"`}, nil)
	has(t, sup.PostForm(t, detail+"/transactions", url.Values{"date": {"2999-01-01"}, "amount": {"100"}}), 422,
		[]string{`id="err-tx-date"`}, []string{`id="err-tx-amount"`})
	r = sup.PostForm(t, detail+"/transactions", url.Values{"date": {daysAgo(s, 7)}, "amount": {"650,000.50"}, "note": {"first order"}})
	if r.Status != 303 || !strings.HasSuffix(r.Header.Get("Location"), "#transactions") {
		t.Fatalf("add transaction: %d %s\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	page := sup.Do(t, "GET", detail, nil)
	has(t, page, 200, []string{"650000.50", "first order", "达到 VIP 标准", `<span class="badge">VIP</span>`}, []string{"暂无交易记录"})
	// Delete it again.
	m := bytes.Index(page.Body, []byte(`/transactions/`))
	if m < 0 {
		t.Fatal("no delete form on the page")
	}
	rest := page.Body[m+len("/transactions/"):]
	txID := string(rest[:bytes.IndexByte(rest, '/')])
	if r := sup.PostForm(t, detail+"/transactions/"+txID+"/delete", url.Values{}); r.Status != 303 {
		t.Fatalf("delete transaction: %d\n%s", r.Status, r.Body)
	}
	has(t, sup.Do(t, "GET", detail, nil), 200, []string{"暂无交易记录", "尚无交易，为潜在客户"}, nil)

	// qa sees the classification but no forms.
	has(t, qa.Do(t, "GET", detail, nil), 200, []string{`id="classification"`, "C 级政策"}, []string{`id="tx-form"`, `id="rules-link"`})
	has(t, qa.PostForm(t, detail+"/transactions", url.Values{"date": {daysAgo(s, 1)}, "amount": {"1"}}), 403, nil, nil)

	// The edit form leaves computed values to the rules (blank select), so saving it
	// pins nothing; a pinned value shows as selected.
	edit := sup.Do(t, "GET", detail+"/edit", nil)
	has(t, edit, 200, []string{`<option value="" selected>（按规则计算）</option>`}, []string{`<option value="C" selected>`})
	form := url.Values{"kind": {"org"}, "name": {"Page Org"}, "tier": {""}, "value_class": {""}, "credit_grade": {"A"},
		"cf_weak_capital": {"1"}, "facts_present": {"1"}, "relationship_since": {daysAgo(s, 800)},
		"version": {apptest.HiddenField(edit.Body, "version")}}
	if r := sup.PostForm(t, detail, form); r.Status != 303 {
		t.Fatalf("edit: %d\n%s", r.Status, r.Body)
	}
	has(t, sup.Do(t, "GET", detail, nil), 200, []string{"信用等级由人工设定为 A 级", "按规则应为 C 级", "人工设定"}, nil)
	has(t, sup.Do(t, "GET", detail+"/edit", nil), 200, []string{`<option value="A" selected>`}, nil)

	// The list shows the grade with its policy.
	has(t, sup.Do(t, "GET", "/customers", nil), 200, []string{`title="A 级政策`}, nil)

	// Rules page: customer:rules only; inline errors; POST-redirect-GET.
	has(t, sup.Do(t, "GET", "/customers/rules", nil), 403, nil, nil)
	has(t, s.Anonymous().Do(t, "GET", "/customers/rules", nil), 303, nil, nil)
	rp := dir.Do(t, "GET", "/customers/rules", nil)
	has(t, rp, 200, []string{`id="rules-form"`, `name="vip_yuan" value="500000.00"`, `name="recency_0" value="30"`,
		`value="weak_capital" checked`, "合作满 1 年"}, nil)
	good := url.Values{"vip_yuan": {"400000"}, "person_vip_yuan": {"50000"}, "vip_if_core": {"1"}, "churn_days": {"365"},
		"recency_0": {"30"}, "recency_1": {"90"}, "recency_2": {"180"}, "recency_3": {"365"},
		"frequency_0": {"2"}, "frequency_1": {"4"}, "frequency_2": {"8"}, "frequency_3": {"12"},
		"monetary_0": {"10000"}, "monetary_1": {"50000"}, "monetary_2": {"200000"}, "monetary_3": {"500000"},
		"core_min_total": {"12"}, "important_min_total": {"9"}, "a_min_count": {"2"}, "cooperation_years": {"1"},
		"c_conditions": {"bad_debt_2y", "illegal_operations"}, "a_conditions": {"cooperation", "no_bad_debt_2y", "strong_capital"}}
	bad := url.Values{}
	for k, v := range good {
		bad[k] = v
	}
	bad.Set("recency_1", "20")
	bad.Set("vip_yuan", "lots")
	bad.Set("a_min_count", "x")
	has(t, dir.PostForm(t, "/customers/rules", bad), 422, []string{`id="err-vip_yuan"`, `id="err-a_min_count"`, `value="lots"`}, nil)
	bad.Set("vip_yuan", "1")
	bad.Set("a_min_count", "2")
	has(t, dir.PostForm(t, "/customers/rules", bad), 422, []string{`id="err-recency"`, "各值必须从小到大严格递增"}, []string{`id="err-vip_yuan"`})
	before := s.AuditSeq(t)
	if r := dir.PostForm(t, "/customers/rules", good); r.Status != 303 || r.Header.Get("Location") != "/customers/rules" {
		t.Fatalf("save rules: %d %s\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	if !s.AuditSince(t, before, "customer.rules.update") {
		t.Error("rules page wrote no customer.rules.update entry")
	}
	// The page's form carries the version it showed; a form read before that save is
	// refused instead of overwriting it.
	if !strings.Contains(string(rp.Body), `name="version" value="0"`) {
		t.Error("rules form carries no version")
	}
	stale := url.Values{}
	for k, v := range good {
		stale[k] = v
	}
	stale.Set("version", "0")
	stale.Set("churn_days", "400")
	has(t, dir.PostForm(t, "/customers/rules", stale), 409, []string{`id="form-message"`}, nil)
	has(t, dir.Do(t, "GET", "/customers/rules", nil), 200, []string{`name="vip_yuan" value="400000.00"`, `value="illegal_operations" checked`,
		"Test director_cs"}, []string{`value="weak_capital" checked`})
	// Weak capital is no longer a C condition: unpinned, the org is graded by the new rules.
	form.Set("credit_grade", "")
	form.Set("version", apptest.HiddenField(sup.Do(t, "GET", detail+"/edit", nil).Body, "version"))
	if r := sup.PostForm(t, detail, form); r.Status != 303 {
		t.Fatalf("edit: %d\n%s", r.Status, r.Body)
	}
	// (cooperation, and more than 2 years of it without bad debt: grade A under the new
	// rules).
	has(t, sup.Do(t, "GET", detail, nil), 200, []string{"A 级政策"}, []string{"存在 C 类情形", "人工设定"})
}
