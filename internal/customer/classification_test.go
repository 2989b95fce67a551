package customer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/customer/classify"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

var cst = time.FixedZone("CST", 8*3600)

// daysAgo is the China date n days before the server's clock.
func daysAgo(s *apptest.Server, n int) string {
	return s.Clock.Now().In(cst).AddDate(0, 0, -n).Format("2006-01-02")
}

func fen(v int64) *int64 { return &v }

func msgKeys(ms []i18n.Msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Key
	}
	return out
}

// classOf reads a customer back from the database (through GetCustomer, as the system).
func classOf(t *testing.T, s *apptest.Server, id int64) customer.Customer {
	t.Helper()
	c, err := s.App.Customer.GetCustomer(apptest.SystemCtx(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type classWant struct {
	tier, value, grade     string
	tierR, valueR, creditR []string // reason keys, in order (nil: not checked)
	pinned                 []string
}

func checkClass(t *testing.T, c customer.Customer, w classWant) {
	t.Helper()
	if c.Tier != w.tier || c.ValueClass != w.value || c.CreditGrade != w.grade {
		t.Errorf("class = %s/%s/%s, want %s/%s/%s", c.Tier, c.ValueClass, c.CreditGrade, w.tier, w.value, w.grade)
	}
	for _, r := range []struct {
		name string
		got  []i18n.Msg
		want []string
	}{{"tier", c.TierReasons, w.tierR}, {"value", c.ValueReasons, w.valueR}, {"credit", c.CreditReasons, w.creditR}} {
		if r.want != nil && !slices.Equal(msgKeys(r.got), r.want) {
			t.Errorf("%s reasons = %v, want %v", r.name, msgKeys(r.got), r.want)
		}
	}
	if w.pinned != nil && !slices.Equal(c.Pinned, w.pinned) {
		t.Errorf("pinned = %v, want %v", c.Pinned, w.pinned)
	}
	if c.ClassifiedAt.IsZero() {
		t.Error("classified_at not set")
	}
}

// TestClassificationFollowsFacts records facts and transactions through the service and
// checks the tier, value class and credit grade with their reasons after each step
// (read back from the database, so the stored reasons decode).
func TestClassificationFollowsFacts(t *testing.T) {
	s := apptest.New(t)
	ctx := actorCtx(t, s, s.As(t, "agent"))
	svc := s.App.Customer
	c, err := svc.CreateCustomer(ctx, customer.Input{Kind: "org", Name: "Harbour Trading", RelationshipSince: daysAgo(s, 3*365)})
	if err != nil {
		t.Fatal(err)
	}
	id := c.ID
	var bigTx int64
	const (
		aCond, aRule, bRule, cCond, cRule, cOver = "classify.credit.a_conditions", "classify.credit.a_rule", "classify.credit.b_rule",
			"classify.credit.c_condition", "classify.credit.c_rule", "classify.credit.c_overrides"
		rfm, rfmFacts = "classify.value.rfm", "classify.value.rfm_facts"
	)
	steps := []struct {
		name string
		do   func(t *testing.T)
		want classWant
	}{
		{"created: cooperation and no bad debt give A; no transactions", func(*testing.T) {},
			classWant{tier: "potential", value: "general", grade: "A", tierR: []string{"classify.tier.potential"},
				valueR: []string{"classify.value.no_transactions"}, creditR: []string{aCond, aRule}, pinned: []string{}}},
		{"weak capital recorded: C overrides", func(t *testing.T) {
			cf := customer.CreditFacts{WeakCapital: true}
			if _, err := svc.UpdateCustomer(ctx, id, customer.Patch{Version: ver(t, s, id), CreditFacts: &cf}); err != nil {
				t.Fatal(err)
			}
		}, classWant{tier: "potential", value: "general", grade: "C", creditR: []string{cCond, cRule, cOver}}},
		{"facts cleared, relationship young: B", func(t *testing.T) {
			cf, since := customer.CreditFacts{}, daysAgo(s, 60)
			if _, err := svc.UpdateCustomer(ctx, id, customer.Patch{Version: ver(t, s, id), CreditFacts: &cf, RelationshipSince: &since}); err != nil {
				t.Fatal(err)
			}
		}, classWant{tier: "potential", value: "general", grade: "B", creditR: []string{"classify.credit.no_a_conditions", bRule}}},
		{"strong capital alone on a young relationship: still B (no bad debt is no evidence yet)", func(t *testing.T) {
			cf := customer.CreditFacts{StrongCapital: true}
			if _, err := svc.UpdateCustomer(ctx, id, customer.Patch{Version: ver(t, s, id), CreditFacts: &cf}); err != nil {
				t.Fatal(err)
			}
		}, classWant{grade: "B", tier: "potential", value: "general", creditR: []string{aCond, bRule}}},
		{"three years of cooperation without bad debt: A again", func(t *testing.T) {
			since := daysAgo(s, 3*365)
			if _, err := svc.UpdateCustomer(ctx, id, customer.Patch{Version: ver(t, s, id), RelationshipSince: &since}); err != nil {
				t.Fatal(err)
			}
		}, classWant{grade: "A", tier: "potential", value: "general", creditR: []string{aCond, aRule}}},
		{"a 600,000 yuan order: VIP, important", func(t *testing.T) {
			tx, err := svc.AddTransaction(ctx, id, customer.TransactionInput{Date: daysAgo(s, 10), AmountFen: fen(60_000_000), Note: "annual contract"})
			if err != nil {
				t.Fatal(err)
			}
			bigTx = tx.ID
		}, classWant{tier: "vip", value: "important", grade: "A", tierR: []string{"classify.tier.vip_yearly"},
			valueR: []string{rfm, rfmFacts, "classify.value.important_rule"}}},
		{"three more orders: core", func(t *testing.T) {
			for _, d := range []int{20, 40, 60} {
				if _, err := svc.AddTransaction(ctx, id, customer.TransactionInput{Date: daysAgo(s, d), AmountFen: fen(100_000)}); err != nil {
					t.Fatal(err)
				}
			}
		}, classWant{tier: "vip", value: "core", grade: "A", tierR: []string{"classify.tier.vip_yearly", "classify.tier.vip_core"},
			valueR: []string{rfm, rfmFacts, "classify.value.core_rule"}}},
		{"big order deleted: regular, general", func(t *testing.T) {
			if err := svc.DeleteTransaction(ctx, id, bigTx); err != nil {
				t.Fatal(err)
			}
		}, classWant{tier: "regular", value: "general", grade: "A", tierR: []string{"classify.tier.regular"},
			valueR: []string{rfm, rfmFacts, "classify.value.general_rule"}}},
		{"kind changed to person: person VIP threshold", func(t *testing.T) {
			if _, err := svc.AddTransaction(ctx, id, customer.TransactionInput{Date: daysAgo(s, 3), AmountFen: fen(5_000_000)}); err != nil {
				t.Fatal(err)
			}
			kind := "person"
			if _, err := svc.UpdateCustomer(ctx, id, customer.Patch{Version: ver(t, s, id), Kind: &kind}); err != nil {
				t.Fatal(err)
			}
		}, classWant{tier: "vip", value: "important", grade: "A", tierR: []string{"classify.tier.vip_yearly"}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do(t)
			checkClass(t, classOf(t, s, id), st.want)
		})
	}

	// The stored reasons translate, nested messages included, in the reader's language.
	agent := s.As(t, "agent")
	en := *agent
	en.Lang = "en"
	r := en.Do(t, "GET", path(id), nil)
	for _, want := range []string{`"tier":"vip"`, `"credit_grade":"A"`, `"value_class":"important"`,
		`"credit_policy":"Grade A policy`, `3 A conditions hold: cooperation of at least 1 year(s), 2 years of cooperation without bad debt or breach, strong capital`, `RFM scores: recency R=5`} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("English view lacks %q:\n%s", want, r.Body)
		}
	}
	zh := agent.Do(t, "GET", path(id), nil)
	for _, want := range []string{"满足 3 项 A 类条件", "A 级政策", "RFM 评分"} {
		if !strings.Contains(string(zh.Body), want) {
			t.Errorf("Chinese view lacks %q:\n%s", want, zh.Body)
		}
	}
	// Transactions: validation names the fields; scope and state are enforced.
	for _, tc := range []struct {
		in    customer.TransactionInput
		field string
	}{
		{customer.TransactionInput{AmountFen: fen(1)}, "date"},
		{customer.TransactionInput{Date: "2024-02-30", AmountFen: fen(1)}, "date"},
		{customer.TransactionInput{Date: "2999-01-01", AmountFen: fen(1)}, "date"},
		{customer.TransactionInput{Date: "1899-12-31", AmountFen: fen(1)}, "date"},
		{customer.TransactionInput{Date: daysAgo(s, 1)}, "amount_fen"},
		{customer.TransactionInput{Date: daysAgo(s, 1), AmountFen: fen(1_000_000_000_001)}, "amount_fen"},
		{customer.TransactionInput{Date: daysAgo(s, 1), AmountFen: fen(1), Note: strings.Repeat("x", 501)}, "note"},
		{customer.TransactionInput{Date: daysAgo(s, 1), AmountFen: fen(1), Ref: "a\nb"}, "ref"},
	} {
		_, err := svc.AddTransaction(ctx, id, tc.in)
		if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Invalid || ae.Fields[tc.field].Key == "" {
			t.Errorf("%+v: err = %v, want a field error on %s", tc.in, err, tc.field)
		}
	}
	other := actorCtx(t, s, s.As(t, "agent@other"))
	if _, err := svc.AddTransaction(other, id, customer.TransactionInput{Date: daysAgo(s, 1), AmountFen: fen(1)}); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("out-of-scope add: %v, want not found", err)
	}
	if err := svc.DeleteTransaction(ctx, id, 999999); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("missing transaction: %v, want not found", err)
	}
}

// TestPinnedValuesStay: a value set by hand survives new facts, transactions and the
// nightly run; its reasons say what the rules would give; unpinning hands it back.
func TestPinnedValuesStay(t *testing.T) {
	s := apptest.New(t)
	ctx := actorCtx(t, s, s.As(t, "supervisor"))
	svc := s.App.Customer
	c, err := svc.CreateCustomer(ctx, customer.Input{Kind: "org", Name: "Pinned Ltd", CreditGrade: "A", ValueClass: "core",
		CreditFacts: &customer.CreditFacts{WeakCapital: true}})
	if err != nil {
		t.Fatal(err)
	}
	// The tier follows the rules, which read the manual value class (core makes VIP).
	checkClass(t, c, classWant{tier: "vip", value: "core", grade: "A", tierR: []string{"classify.tier.vip_core"},
		creditR: []string{"classify.credit.manual", "classify.credit.rule_result", "classify.credit.c_condition", "classify.credit.c_rule"},
		valueR:  []string{"classify.value.manual", "classify.value.rule_result", "classify.value.no_transactions"},
		pinned:  []string{"credit_grade", "value_class"}})
	if _, err := svc.AddTransaction(ctx, c.ID, customer.TransactionInput{Date: daysAgo(s, 400), AmountFen: fen(100)}); err != nil {
		t.Fatal(err)
	}
	cf := customer.CreditFacts{WeakCapital: true, IllegalOperations: true}
	if _, err := svc.UpdateCustomer(ctx, c.ID, customer.Patch{Version: ver(t, s, c.ID), CreditFacts: &cf}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ReclassifyAll(actorCtx(t, s, s.As(t, "director"))); err != nil {
		t.Fatal(err)
	}
	got := classOf(t, s, c.ID)
	checkClass(t, got, classWant{tier: "vip", value: "core", grade: "A", pinned: []string{"credit_grade", "value_class"}})
	if k := msgKeys(got.ValueReasons); len(k) < 3 || k[0] != "classify.value.manual" || k[2] != "classify.value.churned" {
		t.Errorf("value reasons %v: manual first, then what the rules say (churned)", k)
	}
	// Unpinned, the rules decide again.
	none := ""
	if _, err := svc.UpdateCustomer(ctx, c.ID, customer.Patch{Version: ver(t, s, c.ID), CreditGrade: &none, ValueClass: &none}); err != nil {
		t.Fatal(err)
	}
	checkClass(t, classOf(t, s, c.ID), classWant{tier: "regular", value: "churned", grade: "C", pinned: []string{},
		creditR: []string{"classify.credit.c_condition", "classify.credit.c_condition", "classify.credit.c_rule"}})
}

// TestRulesChangeOutcomes: saved rules apply at once to writes on this node, to every
// customer through ReclassifyAll, and to other nodes within the cache TTL.
func TestRulesChangeOutcomes(t *testing.T) {
	s := apptest.New(t)
	ctx := actorCtx(t, s, s.As(t, "agent"))
	admin := actorCtx(t, s, s.As(t, "admin"))
	svc := s.App.Customer
	// A second node over the same database, with its own rules cache.
	node2, err := customer.New(customer.Deps{DB: s.App.DB, Audit: s.App.Audit, Keys: s.App.Keys, Clock: s.Clock, Staff: s.App.Org})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateCustomer(ctx, customer.Input{Kind: "person", Name: "Wang Fang"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddTransaction(ctx, p.ID, customer.TransactionInput{Date: daysAgo(s, 10), AmountFen: fen(6_000_000)}); err != nil {
		t.Fatal(err)
	}
	checkClass(t, classOf(t, s, p.ID), classWant{tier: "vip", value: "important", grade: "B"})
	since := daysAgo(s, 800)
	o1, err := node2.CreateCustomer(ctx, customer.Input{Kind: "org", Name: "Node Two Ltd", RelationshipSince: since})
	if err != nil || o1.CreditGrade != "A" {
		t.Fatalf("node 2 create: %v %q", err, o1.CreditGrade)
	}
	before := s.AuditSeq(t)

	// Agents may read the rules but not change them.
	if _, err := svc.Rules(ctx); err != nil {
		t.Fatal(err)
	}
	rules := classify.DefaultRules()
	rules.Tier.PersonVIPYearlyFen = 10_000_000
	rules.Credit.AMinCount = 3
	if _, err := svc.SaveRules(ctx, rules); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("agent saves rules: %v", err)
	}
	bad := rules
	bad.Value.RecencyDays = []int{30, 20, 180, 365}
	if _, err := svc.SaveRules(admin, bad); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("bad rules: %v", err)
	} else if ae, _ := apperr.As(err); ae.Fields["value.recency_days"].Key != "classify.rules.ascending" {
		t.Fatalf("bad rules fields: %v", ae.Fields)
	}
	v, err := svc.SaveRules(admin, rules)
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != 2 || v.Tier.PersonVIPYearlyFen != 10_000_000 || v.UpdatedAt == nil {
		t.Fatalf("saved rules: %+v", v)
	}
	if !s.AuditSince(t, before, "customer.rules.update") {
		t.Error("no customer.rules.update audit entry")
	}
	// Saving the same rules again changes nothing.
	if v2, err := svc.SaveRules(admin, rules); err != nil || v2.Version != 2 {
		t.Fatalf("idempotent save: %v %d", err, v2.Version)
	}

	// This node: new writes use the new rules at once.
	o2, err := svc.CreateCustomer(ctx, customer.Input{Kind: "org", Name: "Node One Ltd", RelationshipSince: since})
	if err != nil || o2.CreditGrade != "B" {
		t.Fatalf("node 1 create after the change: %v %q", err, o2.CreditGrade)
	}
	// Node 2 keeps its cache until the TTL passes, then sees the new version.
	o3, err := node2.CreateCustomer(ctx, customer.Input{Kind: "org", Name: "Node Two Cached", RelationshipSince: since})
	if err != nil || o3.CreditGrade != "A" {
		t.Fatalf("node 2 within the TTL: %v %q", err, o3.CreditGrade)
	}
	s.Clock.Advance(11 * time.Second)
	o4, err := node2.CreateCustomer(ctx, customer.Input{Kind: "org", Name: "Node Two Fresh", RelationshipSince: since})
	if err != nil || o4.CreditGrade != "B" {
		t.Fatalf("node 2 after the TTL: %v %q", err, o4.CreditGrade)
	}

	// Existing customers change with the re-evaluation; only changed rows are written.
	if _, err := svc.ReclassifyAll(ctx); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("agent runs ReclassifyAll: %v", err)
	}
	before = s.AuditSeq(t)
	n, err := svc.ReclassifyAll(admin)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // the person (no longer VIP), o1 and o3 (A -> B)
		t.Errorf("ReclassifyAll changed %d, want 3", n)
	}
	if !s.AuditSince(t, before, "customer.reclassify") {
		t.Error("no customer.reclassify audit entry")
	}
	checkClass(t, classOf(t, s, p.ID), classWant{tier: "regular", value: "important", grade: "B", tierR: []string{"classify.tier.regular"}})
	checkClass(t, classOf(t, s, o1.ID), classWant{tier: "potential", value: "general", grade: "B",
		creditR: []string{"classify.credit.a_conditions", "classify.credit.b_rule"}})
	if n, err := svc.ReclassifyAll(admin); err != nil || n != 0 {
		t.Errorf("second run: %d %v, want nothing changed", n, err)
	}
	// A day later the recency of the person's transaction moved: its reasons change.
	s.Clock.Advance(24 * time.Hour)
	if n, err := svc.ReclassifyAll(admin); err != nil || n != 1 {
		t.Errorf("next day: %d %v, want 1", n, err)
	}

	// PatchRules changes only the members given.
	v, err = svc.PatchRules(admin, map[string]json.RawMessage{"value": json.RawMessage(`{"churn_days": 400}`)}, v.Version)
	if err != nil || v.Value.ChurnDays != 400 || v.Credit.AMinCount != 3 || v.Tier.PersonVIPYearlyFen != 10_000_000 {
		t.Fatalf("patch: %v %+v", err, v)
	}
}

// TestReclassifyJob: the app's job runner knows the kind, and a rules change queues the
// re-evaluation of every customer.
func TestReclassifyJob(t *testing.T) {
	s := apptest.New(t)
	r, svc := s.App.Jobs, s.App.Customer // wired by internal/app
	admin := actorCtx(t, s, s.As(t, "admin"))
	c, err := svc.CreateCustomer(admin, customer.Input{Kind: "person", Name: "Job Person"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddTransaction(admin, c.ID, customer.TransactionInput{Date: daysAgo(s, 5), AmountFen: fen(6_000_000)}); err != nil {
		t.Fatal(err)
	}
	rules := classify.DefaultRules()
	rules.Tier.PersonVIPYearlyFen = 0
	if _, err := svc.SaveRules(admin, rules); err != nil {
		t.Fatal(err)
	}
	var queued int
	if err := s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM jobs WHERE kind = ?`, customer.JobReclassify).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Fatalf("%d reclassify jobs queued after a rules change, want 1", queued)
	}
	if _, err := r.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := classOf(t, s, c.ID); got.Tier != "regular" {
		t.Fatalf("after the job: tier %q, want regular", got.Tier)
	}
	// The nightly period (02:00 China time) was scheduled and ran as well.
	now := s.Clock.Now().In(cst)
	period := now.Format("2006-01-02")
	if now.Hour() < 2 {
		period = now.AddDate(0, 0, -1).Format("2006-01-02")
	}
	var status string
	if err := s.App.DB.QueryRow(context.Background(), `SELECT status FROM jobs WHERE unique_key = ?`,
		customer.JobReclassify+":"+period).Scan(&status); err != nil || status != "done" {
		t.Fatalf("nightly job of %s: %v %q", period, err, status)
	}
}

// BenchmarkCreateClassified is BenchmarkCreateService with credit facts and a
// relationship date (the classification inputs) on every customer.
func BenchmarkCreateClassified(b *testing.B) {
	s := apptest.New(b)
	ctx := actorCtx(b, s, s.As(b, "agent"))
	since := daysAgo(s, 800)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			in := customer.Input{Kind: "org", Name: fmt.Sprintf("Org %d", i), Mobile: fmt.Sprintf("139%08d", i),
				RelationshipSince: since, CreditFacts: &customer.CreditFacts{StrongCapital: i%2 == 0}}
			if _, err := s.App.Customer.CreateCustomer(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

// TestReclassifyAllScale measures ReclassifyAll over 100,000 customers with about five
// transactions each (KEFU_BENCH_RECLASSIFY=1; rows are inserted with plain SQL).
func TestReclassifyAllScale(t *testing.T) {
	if os.Getenv("KEFU_BENCH_RECLASSIFY") != "1" {
		t.Skip("set KEFU_BENCH_RECLASSIFY=1")
	}
	const customers = 100_000
	s := apptest.New(t)
	ctx := context.Background()
	d := s.App.DB
	start := time.Now()
	err := d.WithTx(ctx, func(ctx context.Context) error {
		_, err := d.Exec(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO customers (kind, status, name, name_key, mobile_enc, mobile_bidx, mobile_l4, phone_enc, phone_bidx,
			phone_l4, email, id_number_enc, id_number_bidx, credit_code, province, city, district, address_enc, address_bidx,
			region, industry, source, tier, tier_reasons, value_class, value_reasons, credit_grade, credit_reasons,
			class_pinned, classified_at, credit_facts, size_employees, annual_sales_fen, founded_on, relationship_since,
			qualifications, service_region, credit_status, trading_terms, cooperation_attitude, bank_name, bank_account_enc,
			tags, notes, verified_at, merged_at, anonymized_at, created_at, updated_at, version)
			SELECT CASE WHEN i % 3 = 0 THEN 'person' ELSE 'org' END, 'active', 'Customer ' || i, 'customer' || i,
			'', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '[]', '', '[]', '', '[]',
			'[]', 0,
			CASE i % 5 WHEN 0 THEN '{"weak_capital":true}' WHEN 1 THEN '{"strong_capital":true}'
				WHEN 2 THEN '{"good_operations_2y":true,"payments_on_standard":true}' ELSE '{}' END,
			0, 0, '', CASE WHEN i % 2 = 0 THEN '2020-03-01' ELSE '' END,
			'[]', '', '', '', '', '', '', '[]', '', 0, 0, 0, 1, 1, 1 FROM n`, customers)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var first int64
	if err := d.QueryRow(ctx, `SELECT MIN(id) FROM customers`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	// About five transactions each: 3 to 7, spread over the last two years.
	const per = 500
	for lo := 0; lo < customers; lo += per {
		err := d.WithTx(ctx, func(ctx context.Context) error {
			var q strings.Builder
			var args []any
			q.WriteString(`INSERT INTO customer_transactions (customer_id, occurred_on, kind, amount_fen, ref, note, created_at) VALUES `)
			for i := lo; i < lo+per && i < customers; i++ {
				for k := 0; k < 3+i%5; k++ {
					if len(args) > 0 {
						q.WriteString(", ")
					}
					q.WriteString(`(?, ?, 'order', ?, '', '', 0)`)
					args = append(args, first+int64(i), daysAgo(s, (i*7+k*53)%730), int64((i%97+1)*(k+1))*150_000)
				}
			}
			_, err := d.Exec(ctx, q.String(), args...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var txs int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM customer_transactions`).Scan(&txs); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d customers, %d transactions inserted in %v", dbtest.Engine(), customers, txs, time.Since(start))

	admin := authz.WithActor(httpx.WithCatalog(ctx, s.App.Catalog), authz.System("bench"))
	for _, run := range strings.Split(runsOrDefault(), ";") {
		if strings.HasPrefix(run, "next day") {
			s.Clock.Advance(24 * time.Hour)
		}
		start := time.Now()
		n, err := s.App.Customer.ReclassifyAll(admin)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("%s: ReclassifyAll %s: %d changed in %v (%.0f customers/s)", dbtest.Engine(), run, n, took,
			float64(customers)/took.Seconds())
	}
}

// BenchmarkClassifyOnCreate is the work classification adds to a create: the rules
// engine over the facts (no transactions) and the encoding of the three reason lists.
func BenchmarkClassifyOnCreate(b *testing.B) {
	rules := classify.DefaultRules()
	now := time.Now()
	f := classify.Facts{Kind: "org", RelationshipSince: "2020-01-01", Credit: classify.CreditFacts{StrongCapital: true}}
	b.ReportAllocs()
	for b.Loop() {
		res := classify.Classify(rules, f, now)
		for _, ms := range [][]i18n.Msg{res.TierReasons, res.ValueReasons, res.CreditReasons} {
			if _, err := classify.EncodeMsgs(ms); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func runsOrDefault() string {
	if r := os.Getenv("KEFU_BENCH_RECLASSIFY_RUNS"); r != "" {
		return r
	}
	return "first run (every row changes);same day (nothing changes);next day (recency moves)"
}
