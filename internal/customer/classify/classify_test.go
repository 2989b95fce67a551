package classify

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

var cst = time.FixedZone("CST", 8*3600)

// asOf is the default as-of instant: 2025-06-15 in Asia/Shanghai.
var asOf = time.Date(2025, 6, 15, 9, 30, 0, 0, cst)

// day returns the day n days before as (YYYY-MM-DD).
func daysAgo(as time.Time, n int) string { return as.AddDate(0, 0, -n).Format(time.DateOnly) }

// txs builds transactions n days ago each, of amount fen.
func txs(as time.Time, fen int64, ago ...int) []Transaction {
	out := make([]Transaction, len(ago))
	for i, n := range ago {
		out[i] = Transaction{On: daysAgo(as, n), AmountFen: fen}
	}
	return out
}

// repeat returns n copies of v.
func repeat(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func keys(ms []i18n.Msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Key
	}
	return out
}

func hasKey(ms []i18n.Msg, key string) bool { return slices.Contains(keys(ms), key) }

func TestCreditEachCCondition(t *testing.T) {
	for _, code := range cCodes {
		t.Run(code, func(t *testing.T) {
			cf := CreditFacts{StrongCapital: true, GoodOperations2Y: true, PaymentsOnStandard: true}
			reflect.ValueOf(&cf).Elem().Field(indexOf(cCodes[:], code)).SetBool(true)
			f := Facts{Kind: "org", RelationshipSince: "2015-01-01", Credit: cf}
			r := Classify(DefaultRules(), f, asOf)
			if r.CreditGrade != GradeC {
				t.Fatalf("grade %s, want C; reasons %v", r.CreditGrade, r.CreditReasons)
			}
			var found bool
			for _, m := range r.CreditReasons {
				if m.Key == "classify.credit.c_condition" {
					if cond := m.Args["condition"].(i18n.Msg); cond.Key != "classify.cond."+code {
						t.Errorf("c_condition names %s, want %s", cond.Key, code)
					}
					found = true
				}
			}
			if !found || !hasKey(r.CreditReasons, "classify.credit.c_overrides") {
				t.Errorf("reasons %v: want the C condition and the override note", keys(r.CreditReasons))
			}
			if r.Policy.Key != "classify.policy.C" {
				t.Errorf("policy %s", r.Policy.Key)
			}
		})
	}
}

func TestCreditGrades(t *testing.T) {
	cases := []struct {
		name      string
		since     string
		facts     CreditFacts
		want      string
		wantCount int // A conditions counted in classify.credit.a_conditions (-1: none reported)
	}{
		// No bad debt recorded is evidence only of 2 years of cooperation without one
		// (the seed's "过去2年内与我方合作没有发生不良欠款").
		{"nothing recorded: no evidence at all", "", CreditFacts{}, GradeB, -1},
		{"bad debt alone", "", CreditFacts{BadDebt2Y: true}, GradeC, -1},
		{"cooperation + no bad debt", "2020-01-01", CreditFacts{}, GradeA, 2},
		{"new customer with strong capital only", "", CreditFacts{StrongCapital: true}, GradeB, 1},
		{"strong capital, relationship starts today", "2025-06-15", CreditFacts{StrongCapital: true}, GradeB, 1},
		{"strong capital + a year of cooperation", "2024-06-15", CreditFacts{StrongCapital: true}, GradeA, 2},
		{"two years of clean cooperation", "2023-06-15", CreditFacts{}, GradeA, 2},
		{"clean cooperation a day short of two years, cooperation too short", "2023-06-16", CreditFacts{}, GradeB, 1},
		{"all five A", "2020-01-01", CreditFacts{GoodOperations2Y: true, StrongCapital: true, PaymentsOnStandard: true}, GradeA, 5},
		{"A conditions plus one C", "2020-01-01", CreditFacts{StrongCapital: true, WeakCapital: true}, GradeC, -1},
		{"cooperation too short", "2025-01-01", CreditFacts{}, GradeB, -1},
		{"relationship in the future", "2026-01-01", CreditFacts{}, GradeB, -1},
		{"relationship not a date", "2020-02-30", CreditFacts{}, GradeB, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Classify(DefaultRules(), Facts{RelationshipSince: tc.since, Credit: tc.facts}, asOf)
			if r.CreditGrade != tc.want {
				t.Fatalf("grade %s, want %s: %v", r.CreditGrade, tc.want, r.CreditReasons)
			}
			if r.Policy.Key != "classify.policy."+tc.want {
				t.Errorf("policy %s", r.Policy.Key)
			}
			got := -1
			for _, m := range r.CreditReasons {
				if m.Key == "classify.credit.a_conditions" {
					got = m.Args["count"].(int)
				}
			}
			if got != tc.wantCount {
				t.Errorf("A count reported %d, want %d (%v)", got, tc.wantCount, keys(r.CreditReasons))
			}
		})
	}
}

func TestCreditNoAConditions(t *testing.T) {
	rules := DefaultRules()
	rules.Credit.AConditions = []string{CondStrongCapital, CondGoodOperations2Y}
	r := Classify(rules, Facts{}, asOf)
	if r.CreditGrade != GradeB || !hasKey(r.CreditReasons, "classify.credit.no_a_conditions") {
		t.Fatalf("got %s %v", r.CreditGrade, keys(r.CreditReasons))
	}
}

// TestCooperationBoundary: one year of cooperation is complete on the anniversary; the
// anniversary of 29 February in a common year is 28 February. Only the cooperation and
// strong capital conditions are active, so that the cooperation decides.
func TestCooperationBoundary(t *testing.T) {
	cases := []struct {
		since string
		asOf  string
		years int
		want  string
	}{
		{"2024-06-15", "2025-06-15", 1, GradeA},
		{"2024-06-16", "2025-06-15", 1, GradeB},
		{"2024-02-29", "2025-02-28", 1, GradeA},
		{"2024-02-29", "2025-02-27", 1, GradeB},
		{"2023-03-01", "2024-02-29", 1, GradeB},
		{"2023-03-01", "2024-03-01", 1, GradeA},
		{"2023-02-28", "2024-02-28", 1, GradeA},
		{"2023-02-28", "2024-02-27", 1, GradeB},
		{"2024-02-29", "2028-02-28", 4, GradeB},
		{"2024-02-29", "2028-02-29", 4, GradeA},
		{"2024-02-29", "2026-02-28", 2, GradeA},
		{"2024-12-31", "2025-12-31", 1, GradeA},
		{"2024-12-31", "2025-12-30", 1, GradeB},
	}
	for _, tc := range cases {
		t.Run(tc.since+"_"+tc.asOf, func(t *testing.T) {
			rules := DefaultRules()
			rules.Credit.CooperationYears = tc.years
			rules.Credit.AConditions = []string{CondCooperation, CondStrongCapital}
			// Midnight in Shanghai: still that day; the same instant in UTC is the day before.
			at, err := time.ParseInLocation(time.DateOnly, tc.asOf, cst)
			if err != nil {
				t.Fatal(err)
			}
			r := Classify(rules, Facts{RelationshipSince: tc.since, Credit: CreditFacts{StrongCapital: true}}, at.UTC())
			if r.CreditGrade != tc.want {
				t.Errorf("grade %s, want %s (%v)", r.CreditGrade, tc.want, r.CreditReasons)
			}
		})
	}
}

// TestCleanRecordBoundary: "no bad debt in the past 2 years" holds from the second
// anniversary of the relationship on (29 February: 28 February in a common year), and
// never with a bad debt recorded.
func TestCleanRecordBoundary(t *testing.T) {
	cases := []struct {
		since, asOf string
		bad         bool
		want        string
	}{
		{"2023-06-15", "2025-06-15", false, GradeA},
		{"2023-06-16", "2025-06-15", false, GradeB},
		{"2024-02-29", "2026-02-28", false, GradeA},
		{"2024-02-29", "2026-02-27", false, GradeB},
		{"2020-01-01", "2025-06-15", true, GradeB},
		{"", "2025-06-15", false, GradeB},
	}
	for _, tc := range cases {
		t.Run(tc.since+"_"+tc.asOf, func(t *testing.T) {
			rules := DefaultRules()
			rules.Credit.AConditions = []string{CondNoBadDebt2Y, CondStrongCapital}
			rules.Credit.CConditions = []string{CondWeakCapital} // bad debt must not count as C here
			at, err := time.ParseInLocation(time.DateOnly, tc.asOf, cst)
			if err != nil {
				t.Fatal(err)
			}
			r := Classify(rules, Facts{RelationshipSince: tc.since, Credit: CreditFacts{StrongCapital: true, BadDebt2Y: tc.bad}}, at.UTC())
			if r.CreditGrade != tc.want {
				t.Errorf("grade %s, want %s (%v)", r.CreditGrade, tc.want, r.CreditReasons)
			}
		})
	}
}

func TestValueClass(t *testing.T) {
	const yuan = 100
	cases := []struct {
		name    string
		tx      []Transaction
		class   string
		r, f, m int
		reason  string
	}{
		{"none", nil, ValueGeneral, 0, 0, 0, "classify.value.no_transactions"},
		{"all five", txs(asOf, 50_000_000/12+1, repeat(30, 12)...), ValueCore, 5, 5, 5, "classify.value.core_rule"},
		// total 12 exactly: R5 (<=30) F4 (8 tx) M3 (50,000 yuan)
		{"core at 12", txs(asOf, 50_000*yuan/8, repeat(30, 8)...), ValueCore, 5, 4, 3, "classify.value.core_rule"},
		// total 11: R4 (31 days) F4 M3
		{"important at 11", txs(asOf, 50_000*yuan/8, repeat(31, 8)...), ValueImportant, 4, 4, 3, "classify.value.important_rule"},
		// total 9: R3 (<=180) F3 (4 tx) M3
		{"important at 9", txs(asOf, 50_000*yuan/4, repeat(180, 4)...), ValueImportant, 3, 3, 3, "classify.value.important_rule"},
		// total 8: R3 F3 M2 (just under 50,000 yuan)
		{"general at 8", txs(asOf, 50_000*yuan/4-1, repeat(180, 4)...), ValueGeneral, 3, 3, 2, "classify.value.general_rule"},
		// smallest: one small purchase a year ago minus a day
		{"general minimum", txs(asOf, 100, 364), ValueGeneral, 2, 1, 1, "classify.value.general_rule"},
		{"recency 365 is not churned", txs(asOf, 100, 365), ValueGeneral, 2, 1, 1, "classify.value.general_rule"},
		{"churned at 366", txs(asOf, 100_000_000, 366, 400, 500), ValueChurned, 1, 1, 1, "classify.value.churned"},
		{"monetary 10,000 yuan is M2", txs(asOf, 10_000*yuan, 200), ValueGeneral, 2, 1, 2, "classify.value.general_rule"},
		{"monetary 200,000 yuan is M4", txs(asOf, 200_000*yuan, 200), ValueGeneral, 2, 1, 4, "classify.value.general_rule"},
		{"frequency 2 is F2", txs(asOf, 1, 200, 200), ValueGeneral, 2, 2, 1, "classify.value.general_rule"},
		{"frequency 12 is F5", txs(asOf, 1, repeat(200, 12)...), ValueGeneral, 2, 5, 1, "classify.value.general_rule"},
		{"future transactions ignored", txs(asOf, 100, -1, -30), ValueGeneral, 0, 0, 0, "classify.value.no_transactions"},
		{"bad days ignored", []Transaction{{On: "2025-13-01", AmountFen: 1}, {On: "yesterday", AmountFen: 1}, {On: "", AmountFen: 1}}, ValueGeneral, 0, 0, 0, "classify.value.no_transactions"},
		{"refund only is not a visit", txs(asOf, -500, 10), ValueGeneral, 0, 0, 0, "classify.value.no_transactions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Classify(DefaultRules(), Facts{Transactions: tc.tx}, asOf)
			if r.ValueClass != tc.class || r.R != tc.r || r.F != tc.f || r.M != tc.m {
				t.Fatalf("got %s R%d F%d M%d, want %s R%d F%d M%d (%v)", r.ValueClass, r.R, r.F, r.M, tc.class, tc.r, tc.f, tc.m, r.ValueReasons)
			}
			if !hasKey(r.ValueReasons, tc.reason) {
				t.Errorf("reasons %v lack %s", keys(r.ValueReasons), tc.reason)
			}
			if tc.r > 0 && !hasKey(r.ValueReasons, "classify.value.rfm") {
				t.Errorf("reasons %v lack the RFM scores", keys(r.ValueReasons))
			}
		})
	}
}

func TestChurnedReasonDays(t *testing.T) {
	r := Classify(DefaultRules(), Facts{Transactions: txs(asOf, 100, 400, 366)}, asOf)
	if r.ValueClass != ValueChurned || r.RecencyDays != 366 {
		t.Fatalf("got %s after %d days", r.ValueClass, r.RecencyDays)
	}
	m := r.ValueReasons[0]
	if m.Key != "classify.value.churned" || m.Args["days"] != 366 || m.Args["limit"] != 365 {
		t.Errorf("first reason %+v", m)
	}
	if r.Tier != TierRegular {
		t.Errorf("a churned customer is %s, want regular", r.Tier)
	}
}

// TestYearWindow: the last 12 months as of D start the day after D minus one year.
func TestYearWindow(t *testing.T) {
	cases := []struct {
		as    time.Time
		on    string
		count int
	}{
		{asOf, "2024-06-15", 0},
		{asOf, "2024-06-16", 1},
		{asOf, "2025-06-15", 1},
		{time.Date(2024, 2, 29, 12, 0, 0, 0, cst), "2023-02-28", 0},
		{time.Date(2024, 2, 29, 12, 0, 0, 0, cst), "2023-03-01", 1},
		{time.Date(2025, 2, 28, 12, 0, 0, 0, cst), "2024-02-28", 0},
		{time.Date(2025, 2, 28, 12, 0, 0, 0, cst), "2024-02-29", 1},
	}
	for _, tc := range cases {
		r := Classify(DefaultRules(), Facts{Transactions: []Transaction{{On: tc.on, AmountFen: 700}}}, tc.as)
		if r.YearCount != tc.count || (tc.count == 1) != (r.YearFen == 700) {
			t.Errorf("as of %s, %s: count %d fen %d, want count %d", tc.as.Format(time.DateOnly), tc.on, r.YearCount, r.YearFen, tc.count)
		}
	}
}

func TestRefundsLowerMonetary(t *testing.T) {
	tx := append(txs(asOf, 60_000_000, 100), txs(asOf, -20_000_000, 5)...)
	r := Classify(DefaultRules(), Facts{Transactions: tx}, asOf)
	if r.YearFen != 40_000_000 || r.YearCount != 1 || r.RecencyDays != 100 {
		t.Fatalf("fen %d count %d recency %d", r.YearFen, r.YearCount, r.RecencyDays)
	}
	if r.Tier != TierRegular {
		t.Errorf("tier %s: the refund brings the year below the VIP threshold", r.Tier)
	}
}

func TestTier(t *testing.T) {
	cases := []struct {
		name   string
		facts  Facts
		tier   string
		reason string
	}{
		{"prospect", Facts{Kind: "org"}, TierPotential, "classify.tier.potential"},
		{"org at the threshold", Facts{Kind: "org", Transactions: txs(asOf, 50_000_000, 300)}, TierVIP, "classify.tier.vip_yearly"},
		{"org below the threshold", Facts{Kind: "org", Transactions: txs(asOf, 49_999_999, 300)}, TierRegular, "classify.tier.regular"},
		{"person at the person threshold", Facts{Kind: "person", Transactions: txs(asOf, 5_000_000, 300)}, TierVIP, "classify.tier.vip_yearly"},
		{"person below", Facts{Kind: "person", Transactions: txs(asOf, 4_999_999, 300)}, TierRegular, "classify.tier.regular"},
		// R5 F4 M3 = 12: core, so VIP although far below the amount threshold.
		{"core value", Facts{Kind: "org", Transactions: txs(asOf, 50_000*100/8, repeat(10, 8)...)}, TierVIP, "classify.tier.vip_core"},
		{"manual VIP on a prospect", Facts{ManualTier: TierVIP}, TierVIP, "classify.tier.manual"},
		{"manual potential on a VIP", Facts{ManualTier: TierPotential, Transactions: txs(asOf, 90_000_000, 1)}, TierPotential, "classify.tier.rule_result"},
		{"unknown manual ignored", Facts{ManualTier: "gold"}, TierPotential, "classify.tier.potential"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Classify(DefaultRules(), tc.facts, asOf)
			if r.Tier != tc.tier || !hasKey(r.TierReasons, tc.reason) {
				t.Fatalf("got %s %v, want %s with %s", r.Tier, keys(r.TierReasons), tc.tier, tc.reason)
			}
		})
	}
	// The manual reasons say what the rules would give.
	r := Classify(DefaultRules(), Facts{ManualTier: TierVIP}, asOf)
	if r.TierReasons[0].Key != "classify.tier.manual" || r.TierReasons[1].Args["tier"].(i18n.Msg).Key != "classify.tier_name.potential" {
		t.Errorf("manual reasons %+v", r.TierReasons)
	}
}

func TestManualValueAndGrade(t *testing.T) {
	r := Classify(DefaultRules(), Facts{ManualValueClass: ValueCore, ManualCreditGrade: GradeC, RelationshipSince: "2000-01-01"}, asOf)
	if r.ValueClass != ValueCore || r.Tier != TierVIP {
		t.Errorf("manual core: value %s tier %s (VIP follows the effective value class)", r.ValueClass, r.Tier)
	}
	if r.CreditGrade != GradeC || r.Policy.Key != "classify.policy.C" {
		t.Errorf("manual C: %s %s", r.CreditGrade, r.Policy.Key)
	}
	if r.CreditReasons[1].Key != "classify.credit.rule_result" || r.CreditReasons[1].Args["grade"] != GradeA {
		t.Errorf("rule result %+v", r.CreditReasons[1])
	}
	if r.ValueReasons[1].Args["class"].(i18n.Msg).Key != "classify.value_name.general" {
		t.Errorf("value rule result %+v", r.ValueReasons[1])
	}
}

// TestCustomRules: changing a threshold changes the outcome.
func TestCustomRules(t *testing.T) {
	base := Facts{Kind: "org", RelationshipSince: "2024-01-01", Credit: CreditFacts{StrongCapital: true},
		Transactions: txs(asOf, 1_000_000, 40, 200)}
	cases := []struct {
		name   string
		change func(*Rules)
		check  func(Result) string
	}{
		{"baseline", func(*Rules) {}, func(r Result) string {
			return fmt.Sprintf("%s %s %s R%dF%dM%d", r.Tier, r.ValueClass, r.CreditGrade, r.R, r.F, r.M)
		}},
		{"lower VIP threshold", func(r *Rules) { r.Tier.VIPYearlyFen = 2_000_000 }, func(r Result) string { return r.Tier }},
		{"VIP amount off", func(r *Rules) { r.Tier.VIPYearlyFen = 0 }, func(r Result) string { return r.Tier + " " + r.TierReasons[0].Key }},
		{"wider recency", func(r *Rules) { r.Value.RecencyDays = []int{40, 90, 180, 365} }, func(r Result) string { return fmt.Sprint(r.R) }},
		{"lower monetary", func(r *Rules) { r.Value.MonetaryThresholds = []int64{1, 2, 3, 2_000_000} }, func(r Result) string { return fmt.Sprint(r.M, r.ValueClass, r.Tier) }},
		{"shorter churn", func(r *Rules) { r.Value.ChurnDays = 30; r.Value.RecencyDays = []int{5, 10, 20, 30} }, func(r Result) string { return r.ValueClass }},
		{"A needs three", func(r *Rules) { r.Credit.AMinCount = 3 }, func(r Result) string { return r.CreditGrade }},
		{"cooperation two years", func(r *Rules) { r.Credit.CooperationYears = 2; r.Credit.AMinCount = 3 }, func(r Result) string { return r.CreditGrade }},
		{"lower important total", func(r *Rules) { r.Value.ImportantMinTotal = 6 }, func(r Result) string { return r.ValueClass }},
	}
	want := []string{
		"regular general A R4F2M2",
		"vip",
		"regular classify.tier.regular_no_threshold",
		"5",
		"5importantregular", // M 2 -> 5: R4 F2 M5 = 11
		"churned",
		"B", // cooperation + strong capital = 2: 1.5 years of cooperation are no 2-year clean record
		"B", // cooperation no longer counts
		"important",
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules := DefaultRules()
			tc.change(&rules)
			if err := rules.Validate(); err != nil {
				t.Fatalf("rules invalid: %v", err)
			}
			if got := tc.check(Classify(rules, base, asOf)); got != want[i] {
				t.Errorf("got %q, want %q", got, want[i])
			}
		})
	}
	// Deactivating a C condition lets the A conditions count.
	rules := DefaultRules()
	rules.Credit.CConditions = slices.DeleteFunc(rules.Credit.CConditions, func(s string) bool { return s == CondWeakCapital })
	f := base
	f.Credit.WeakCapital = true
	if g := Classify(DefaultRules(), f, asOf).CreditGrade; g != GradeC {
		t.Errorf("default rules: %s", g)
	}
	if g := Classify(rules, f, asOf).CreditGrade; g != GradeA {
		t.Errorf("weak capital inactive: %s, want A", g)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultRules().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	cases := []struct {
		field  string
		key    string
		change func(*Rules)
	}{
		{"tier.vip_yearly_fen", "classify.rules.range", func(r *Rules) { r.Tier.VIPYearlyFen = -1 }},
		{"tier.person_vip_yearly_fen", "classify.rules.range", func(r *Rules) { r.Tier.PersonVIPYearlyFen = -5 }},
		{"value.churn_days", "classify.rules.range", func(r *Rules) { r.Value.ChurnDays = 0 }},
		{"value.churn_days", "classify.rules.churn_before_recency", func(r *Rules) { r.Value.ChurnDays = 300 }},
		{"value.recency_days", "classify.rules.count", func(r *Rules) { r.Value.RecencyDays = []int{30, 90, 180} }},
		{"value.recency_days", "classify.rules.ascending", func(r *Rules) { r.Value.RecencyDays = []int{30, 30, 180, 365} }},
		{"value.recency_days", "classify.rules.range", func(r *Rules) { r.Value.RecencyDays = []int{-1, 30, 180, 365} }},
		{"value.frequency_thresholds", "classify.rules.range", func(r *Rules) { r.Value.FrequencyThresholds = []int{0, 4, 8, 12} }},
		{"value.frequency_thresholds", "classify.rules.count", func(r *Rules) { r.Value.FrequencyThresholds = nil }},
		{"value.monetary_thresholds", "classify.rules.range", func(r *Rules) { r.Value.MonetaryThresholds = []int64{-100, 1, 2, 3} }},
		{"value.monetary_thresholds", "classify.rules.ascending", func(r *Rules) { r.Value.MonetaryThresholds = []int64{5, 4, 3, 2} }},
		{"value.monetary_thresholds", "classify.rules.count", func(r *Rules) { r.Value.MonetaryThresholds = []int64{1, 2, 3, 4, 5} }},
		{"value.core_min_total", "classify.rules.range", func(r *Rules) { r.Value.CoreMinTotal = 16 }},
		{"value.core_min_total", "classify.rules.core_above_important", func(r *Rules) { r.Value.CoreMinTotal = 9 }},
		{"value.important_min_total", "classify.rules.range", func(r *Rules) { r.Value.ImportantMinTotal = 2 }},
		{"credit.c_conditions", "classify.rules.unknown_condition", func(r *Rules) { r.Credit.CConditions = []string{"late"} }},
		{"credit.c_conditions", "classify.rules.unknown_condition", func(r *Rules) { r.Credit.CConditions = []string{CondStrongCapital} }},
		{"credit.a_conditions", "classify.rules.duplicate_condition", func(r *Rules) { r.Credit.AConditions = []string{CondCooperation, CondCooperation} }},
		{"credit.a_min_count", "classify.rules.range", func(r *Rules) { r.Credit.AMinCount = 0 }},
		{"credit.a_min_count", "classify.rules.range", func(r *Rules) { r.Credit.AMinCount = 6 }},
		{"credit.a_min_count", "classify.rules.a_min_exceeds", func(r *Rules) { r.Credit.AConditions = []string{CondStrongCapital} }},
		{"credit.cooperation_years", "classify.rules.range", func(r *Rules) { r.Credit.CooperationYears = 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.field+"/"+tc.key, func(t *testing.T) {
			r := DefaultRules()
			tc.change(&r)
			err := r.Validate()
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid {
				t.Fatalf("err %v, want Invalid", err)
			}
			if len(e.Fields) != 1 || e.Fields[tc.field].Key != tc.key {
				t.Errorf("fields %v, want %s: %s", e.Fields, tc.field, tc.key)
			}
		})
	}
	// No C condition at all is a valid choice.
	r := DefaultRules()
	r.Credit.CConditions = nil
	if err := r.Validate(); err != nil {
		t.Errorf("empty C list: %v", err)
	}
}

func TestParseRules(t *testing.T) {
	def, err := json.Marshal(DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRules(def)
	if err != nil || !reflect.DeepEqual(got, DefaultRules()) {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	cases := []struct {
		name  string
		in    string
		kind  apperr.Kind
		field string
	}{
		{"unknown top member", `{"tiers":{}}`, apperr.Malformed, ""},
		{"unknown nested member", `{"value":{"churn":30}}`, apperr.Malformed, ""},
		{"wrong type", `{"value":{"churn_days":"30"}}`, apperr.Malformed, ""},
		{"fraction", `{"credit":{"a_min_count":1.5}}`, apperr.Malformed, ""},
		{"trailing data", `{} {}`, apperr.Malformed, ""},
		{"trailing brace", `{}}`, apperr.Malformed, ""},
		{"not JSON", `tier=vip`, apperr.Malformed, ""},
		{"empty", ``, apperr.Malformed, ""},
		{"overflow", `{"tier":{"vip_yearly_fen":1e30}}`, apperr.Malformed, ""},
		{"invalid value", `{"value":{"recency_days":[1,2]}}`, apperr.Invalid, "value.recency_days"},
		{"null list", `{"credit":{"a_conditions":null}}`, apperr.Invalid, "credit.a_min_count"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tc.in))
			e, ok := apperr.As(err)
			if !ok || e.Kind != tc.kind {
				t.Fatalf("err %v, want kind %v", err, tc.kind)
			}
			if tc.field != "" {
				if _, ok := e.Fields[tc.field]; !ok {
					t.Errorf("fields %v lack %s", e.Fields, tc.field)
				}
			}
		})
	}
	// Absent members keep their defaults.
	r, err := ParseRules([]byte(`{"credit":{"a_min_count":3}}`))
	if err != nil || r.Credit.AMinCount != 3 || r.Credit.CooperationYears != 1 || r.Value.ChurnDays != 365 {
		t.Errorf("partial: %v %+v", err, r)
	}
}

func TestSections(t *testing.T) {
	rules := DefaultRules()
	rules.Value.ChurnDays = 400
	rules.Credit.AMinCount = 3
	into := DefaultRules()
	for _, kind := range []string{SectionTier, SectionValue, SectionCredit} {
		b, err := rules.Section(kind)
		if err != nil {
			t.Fatal(err)
		}
		if err := into.SetSection(kind, b); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	if !reflect.DeepEqual(into, rules) {
		t.Errorf("sections round trip: %+v", into)
	}
	before := into
	if err := into.SetSection(SectionValue, []byte(`{"churn_days":10}`)); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("churn below recency accepted: %v", err)
	}
	if err := into.SetSection(SectionCredit, []byte(`{"x":1}`)); apperr.KindOf(err) != apperr.Malformed {
		t.Errorf("unknown member: %v", err)
	}
	if err := into.SetSection("discount", []byte(`{}`)); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("unknown section: %v", err)
	}
	if _, err := into.Section("discount"); err == nil {
		t.Error("unknown section read")
	}
	if !reflect.DeepEqual(into, before) {
		t.Error("a failed SetSection changed the rules")
	}
}

func TestDates(t *testing.T) {
	epoch := ordinal(1970, 1, 1)
	for d := time.Date(1599, 12, 25, 0, 0, 0, 0, time.UTC); d.Year() < 2401; d = d.AddDate(0, 0, 3) {
		want := epoch + int(d.Unix()/86400)
		if got := dayOrdinal(d.Format(time.DateOnly)); got != want {
			t.Fatalf("%s: ordinal %d, want %d", d.Format(time.DateOnly), got, want)
		}
	}
	for _, bad := range []string{"2023-02-29", "2024-02-30", "2024-04-31", "0000-01-01", "2024-1-01", "2024/01/01", "２０２４-01-01", "2024-00-10", "2024-01-00", "+024-01-01"} {
		if dayOrdinal(bad) != 0 {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 100: "1.00", 123456: "1,234.56",
		50_000_000: "500,000.00", -123456789: "-1,234,567.89", 99_999_999: "999,999.99"} {
		if got := yuan(fen); got != want {
			t.Errorf("yuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

// sampleResults classifies a spread of customers that reaches every reason.
func sampleResults() []Result {
	rules := DefaultRules()
	noVIP := DefaultRules()
	noVIP.Tier.VIPYearlyFen = 0
	facts := []Facts{
		{},
		{Kind: "org", RelationshipSince: "2020-01-01", Credit: CreditFacts{StrongCapital: true, GoodOperations2Y: true, PaymentsOnStandard: true}, Transactions: txs(asOf, 5_000_000, repeat(3, 12)...)},
		{Kind: "person", Transactions: txs(asOf, 100, 400), Credit: CreditFacts{BadDebt2Y: true, BrokenPromises: true, DebtDisputes: true, WeakCapital: true, LossesOrDecline: true, IllegalOperations: true, OrderedToSuspend: true, AccountsAtRisk: true, StrongCapital: true}},
		{Kind: "org", Transactions: txs(asOf, 1_000_000, 100, 120, 140, 160)},
		{Kind: "org", Transactions: txs(asOf, 100, 200), ManualTier: TierVIP, ManualValueClass: ValueChurned, ManualCreditGrade: GradeB},
		{Kind: "org", Transactions: txs(asOf, 60_000_000, 10), RelationshipSince: "2019-05-05"},
		{Kind: "org", Transactions: txs(asOf, 2_000_000, 10, 20, 30, 40, 50, 60, 70, 80), Credit: CreditFacts{}},
	}
	rulesOneA := DefaultRules()
	rulesOneA.Credit.AConditions = []string{CondStrongCapital}
	rulesOneA.Credit.AMinCount = 1
	var out []Result
	for _, f := range facts {
		out = append(out, Classify(rules, f, asOf), Classify(noVIP, f, asOf), Classify(rulesOneA, f, asOf))
	}
	return out
}

// walkMsgs calls fn for m and every message nested in its arguments.
func walkMsgs(m i18n.Msg, fn func(i18n.Msg)) {
	fn(m)
	for _, v := range m.Args {
		if inner, ok := v.(i18n.Msg); ok {
			walkMsgs(inner, fn)
		}
	}
}

// TestReasonsTranslate: every key the engine emits exists in every language, its
// arguments are exactly the catalog's placeholders, and the translation is complete.
func TestReasonsTranslate(t *testing.T) {
	cat := i18n.MustLoad()
	seen := map[string]bool{}
	for _, r := range sampleResults() {
		all := append(append(append([]i18n.Msg{}, r.TierReasons...), r.ValueReasons...), r.CreditReasons...)
		all = append(all, r.Policy)
		for _, top := range all {
			walkMsgs(top, func(m i18n.Msg) {
				seen[m.Key] = true
				var args []string
				for k := range m.Args {
					args = append(args, k)
				}
				slices.Sort(args)
				for _, lang := range i18n.Languages {
					if !slices.Contains(cat.Keys(lang), m.Key) {
						t.Errorf("%s: key %s missing", lang, m.Key)
					}
					if ph := cat.Placeholders(lang, m.Key); !slices.Equal(slices.Compact(ph), args) {
						t.Errorf("%s: %s has placeholders %v, the engine passes %v", lang, m.Key, ph, args)
					}
				}
			})
		}
		for _, lang := range i18n.Languages {
			for _, line := range Explain(r, cat, lang) {
				if strings.ContainsAny(line, "{}") || strings.Contains(line, "classify.") {
					t.Errorf("%s: untranslated %q", lang, line)
				}
			}
		}
	}
	for _, code := range append(CConditionCodes(), AConditionCodes()...) {
		if !cat.Has("classify.cond." + code) {
			t.Errorf("condition %s has no name", code)
		}
	}
	for _, k := range []string{"classify.value.churned", "classify.value.rfm", "classify.credit.c_condition",
		"classify.credit.a_conditions", "classify.list", "classify.tier.manual", "classify.credit.c_overrides",
		"classify.credit.no_a_conditions", "classify.tier.regular_no_threshold", "classify.value.manual"} {
		if !seen[k] {
			t.Errorf("the samples never produce %s", k)
		}
	}
	// Every rules field that Validate can name has a label.
	f := apperr.Fields{}
	Rules{}.validate(f)
	for field := range f {
		if !cat.Has("classify.field." + field) {
			t.Errorf("field %s has no label", field)
		}
	}
}

func TestExplain(t *testing.T) {
	cat := i18n.MustLoad()
	f := Facts{Kind: "org", RelationshipSince: "2020-01-01", Credit: CreditFacts{StrongCapital: true, GoodOperations2Y: true}}
	r := Classify(DefaultRules(), f, asOf)
	zh := strings.Join(Explain(r, cat, i18n.ZhCN), "\n")
	for _, want := range []string{"尚无交易，为潜在客户", "满足 4 项 A 类条件：合作满 1 年、合作满两年且期间无坏账、无违约、两年经营状况良好、资金实力强", "A 级政策"} {
		if !strings.Contains(zh, want) {
			t.Errorf("zh-CN explanation lacks %q:\n%s", want, zh)
		}
	}
	en := strings.Join(Explain(r, cat, i18n.En), "\n")
	if !strings.Contains(en, "4 A conditions hold: cooperation of at least 1 year(s), 2 years of cooperation without bad debt or breach, 2 years of good operations, strong capital") {
		t.Errorf("en explanation:\n%s", en)
	}
	c := Classify(DefaultRules(), Facts{Credit: CreditFacts{WeakCapital: true}}, asOf)
	if tw := strings.Join(Explain(c, cat, i18n.ZhTW), "\n"); !strings.Contains(tw, "存在 C 類情形：資金實力弱") || !strings.Contains(tw, "C 級政策") {
		t.Errorf("zh-TW explanation:\n%s", tw)
	}
}

func TestMsgsCodec(t *testing.T) {
	cat := i18n.MustLoad()
	for _, r := range sampleResults() {
		for _, group := range [][]i18n.Msg{r.TierReasons, r.ValueReasons, r.CreditReasons, {r.Policy}} {
			b, err := EncodeMsgs(group)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeMsgs(b)
			if err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			for _, lang := range i18n.Languages {
				for i := range group {
					if a, z := cat.Msg(lang, group[i]), cat.Msg(lang, back[i]); a != z {
						t.Errorf("%s: stored reason translates to %q, fresh to %q", lang, z, a)
					}
				}
			}
		}
	}
	if b, _ := EncodeMsgs(nil); string(b) != "[]" {
		t.Errorf("nil encodes as %s", b)
	}
	if ms, err := DecodeMsgs(nil); err != nil || ms != nil {
		t.Errorf("empty: %v %v", ms, err)
	}
	for _, bad := range []string{`{`, `[{"args":{}}]`, `[{"key":"a.b","extra":1}]`, `[1]`} {
		if _, err := DecodeMsgs([]byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

func TestCreditFactsJSON(t *testing.T) {
	// The JSON members are the condition codes, as stored in customers.credit_facts.
	var all CreditFacts
	v := reflect.ValueOf(&all).Elem()
	for i := range v.NumField() {
		v.Field(i).SetBool(true)
	}
	b, _ := json.Marshal(all)
	var m map[string]bool
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, code := range CConditionCodes() {
		if !m[code] {
			t.Errorf("C condition %s is not a credit_facts member", code)
		}
	}
	for _, code := range []string{CondGoodOperations2Y, CondStrongCapital, CondPaymentsOnStandard} {
		if !m[code] {
			t.Errorf("A condition %s is not a credit_facts member", code)
		}
	}
	if len(m) != 11 {
		t.Errorf("%d members", len(m))
	}
}

func TestClassifierConcurrent(t *testing.T) {
	c := NewClassifier(DefaultRules(), asOf)
	f := Facts{Kind: "org", Transactions: txs(asOf, 1_000_000, 1, 2, 3)}
	want := c.Classify(f)
	done := make(chan error)
	for range 8 {
		go func() {
			for range 200 {
				if got := c.Classify(f); !reflect.DeepEqual(got, want) {
					done <- errors.New("different result")
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzParseRules(f *testing.F) {
	def, _ := json.Marshal(DefaultRules())
	f.Add(def)
	f.Add([]byte(`{"credit":{"a_min_count":3,"a_conditions":["cooperation","strong_capital","no_bad_debt_2y"]}}`))
	f.Add([]byte(`{"value":{"recency_days":[1,2,3,4],"churn_days":4}}`))
	f.Add([]byte(`{"tier":{"vip_yearly_fen":-1}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"value":{"monetary_thresholds":[0,1,2,9223372036854775807]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRules(data)
		if err != nil {
			if k := apperr.KindOf(err); k != apperr.Malformed && k != apperr.Invalid {
				t.Fatalf("error kind %v: %v", k, err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted rules do not validate: %v", err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseRules(b)
		if err != nil || !reflect.DeepEqual(normalize(again), normalize(r)) {
			t.Fatalf("round trip: %v", err)
		}
		// Accepted rules classify without panicking.
		Classify(r, Facts{Kind: "person", RelationshipSince: "2020-02-29", Credit: CreditFacts{StrongCapital: true},
			Transactions: txs(asOf, 1000, 1, 40, 400)}, asOf)
	})
}

// normalize makes empty and nil lists equal for comparison.
func normalize(r Rules) Rules {
	if len(r.Credit.CConditions) == 0 {
		r.Credit.CConditions = nil
	}
	return r
}

func BenchmarkClassify(b *testing.B) {
	c := NewClassifier(DefaultRules(), asOf)
	f := Facts{Kind: "org", RelationshipSince: "2021-03-04", Credit: CreditFacts{StrongCapital: true},
		Transactions: txs(asOf, 1_234_567, 3, 20, 45, 60, 90, 120, 150, 200, 300, 420)}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Classify(f)
	}
}

// BenchmarkClassifyRun includes building the classifier (the one-call form).
func BenchmarkClassifyRun(b *testing.B) {
	rules := DefaultRules()
	f := Facts{Kind: "org", RelationshipSince: "2021-03-04", Credit: CreditFacts{StrongCapital: true},
		Transactions: txs(asOf, 1_234_567, 3, 20, 45, 60, 90, 120, 150, 200, 300, 420)}
	b.ReportAllocs()
	for b.Loop() {
		_ = Classify(rules, f, asOf)
	}
}
