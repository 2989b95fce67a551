// Package classify is the customer classification rules engine (SPEC §2.1): it computes
// a customer's tier, RFM value class and credit grade from facts and from rules that an
// admin edits, and explains every result with translatable reasons. It is pure: no
// database, no HTTP, no clock (the caller passes the as-of date).
//
// Default rules (DefaultRules; every number is editable):
//
// Tier (codes "vip", "regular", "potential"):
//   - VIP if the net amount of the last 12 months reaches the VIP threshold (organisations
//     500,000 yuan = 50,000,000 fen; persons 50,000 yuan = 5,000,000 fen; 0 turns the
//     threshold off), or if the value class is core (vip_if_core);
//   - potential if the customer has no transaction yet (a prospect);
//   - regular otherwise.
//
// Value class (codes "core", "important", "general", "churned"), RFM over the
// transactions dated on or before the as-of date:
//   - no transaction yet: general ("no transactions yet");
//   - churned if the last transaction is more than churn_days (365) days old;
//   - otherwise R, F and M are scored 1..5: R by the days since the last transaction
//     (<= 30: 5, <= 90: 4, <= 180: 3, <= 365: 2, older: 1), F by the number of
//     transactions in the last 12 months (>= 12: 5, >= 8: 4, >= 4: 3, >= 2: 2, else 1),
//     M by their net amount (>= 500,000 yuan: 5, >= 200,000: 4, >= 50,000: 3,
//     >= 10,000: 2, else 1); core if R+F+M >= 12 (which includes "all three >= 4"),
//     important if >= 9, general otherwise.
//
// Refunds (negative amounts) lower M but are not visits: R and F count only transactions
// with an amount >= 0. "The last 12 months" as of D are the days after the same calendar
// day one year before D, up to and including D.
//
// Credit grade (A, B, C), over the facts recorded on the customer:
//   - C if any one active C condition holds (bad debt or serious breach within 2 years,
//     broken promises, debt disputes or asset transfer, weak capital, losses or steep
//     decline, illegal operations, ordered to suspend, accounts at risk of freezing);
//   - A if at least a_min_count (2) active A conditions hold (cooperation of at least
//     cooperation_years (1) year since relationship_since; 2 years of cooperation
//     without bad debt or breach, which needs relationship_since at least 2 years back:
//     the absence of a bad-debt record is no evidence without cooperation over those
//     2 years; 2 years of good operations; strong capital; yearly payments meet the
//     standard) and no C condition. A new customer with strong capital alone is B;
//   - B otherwise.
//
// Each grade carries its policy text (classify.policy.A/B/C). A manual tier, value class
// or credit grade wins over the rules; the reasons then say what the rules would give.
//
// A year of cooperation is complete on the anniversary of relationship_since; the
// anniversary of 29 February in a common year is 28 February (the last day of the month,
// as the Civil Code counts periods in years).
package classify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Tier codes.
const (
	TierVIP       = "vip"
	TierRegular   = "regular"
	TierPotential = "potential"
)

// Value class codes.
const (
	ValueCore      = "core"
	ValueImportant = "important"
	ValueGeneral   = "general"
	ValueChurned   = "churned"
)

// Credit grades.
const (
	GradeA = "A"
	GradeB = "B"
	GradeC = "C"
)

// Kinds of rule sections, as stored in customer_rules.kind.
const (
	SectionTier   = "tier"
	SectionValue  = "value"
	SectionCredit = "credit"
)

// C condition codes (any one gives grade C). Each has the catalog key "classify.cond.<code>".
const (
	CondBadDebt2Y         = "bad_debt_2y"
	CondBrokenPromises    = "broken_promises"
	CondDebtDisputes      = "debt_disputes"
	CondWeakCapital       = "weak_capital"
	CondLossesOrDecline   = "losses_or_decline"
	CondIllegalOperations = "illegal_operations"
	CondOrderedToSuspend  = "ordered_to_suspend"
	CondAccountsAtRisk    = "accounts_at_risk"
)

// A condition codes (at least a_min_count give grade A when no C condition holds).
// Cooperation and no_bad_debt_2y are derived: cooperation from relationship_since;
// no_bad_debt_2y from the bad_debt_2y fact together with relationship_since at least
// cleanRecordYears back. The others are facts recorded on the customer.
const (
	CondCooperation        = "cooperation"
	CondNoBadDebt2Y        = "no_bad_debt_2y"
	CondGoodOperations2Y   = "good_operations_2y"
	CondStrongCapital      = "strong_capital"
	CondPaymentsOnStandard = "payments_on_standard"
)

// The condition codes in display order; the bit of a condition is its index.
var (
	cCodes = [...]string{CondBadDebt2Y, CondBrokenPromises, CondDebtDisputes, CondWeakCapital,
		CondLossesOrDecline, CondIllegalOperations, CondOrderedToSuspend, CondAccountsAtRisk}
	aCodes = [...]string{CondCooperation, CondNoBadDebt2Y, CondGoodOperations2Y, CondStrongCapital,
		CondPaymentsOnStandard}
)

// CConditionCodes returns the C condition codes in display order.
func CConditionCodes() []string { return append([]string(nil), cCodes[:]...) }

// AConditionCodes returns the A condition codes in display order.
func AConditionCodes() []string { return append([]string(nil), aCodes[:]...) }

// Rules are the admin-editable classification rules, stored as JSON, one section per
// row of customer_rules (see Section and SetSection) or whole (ParseRules).
type Rules struct {
	Tier   TierRules   `json:"tier"`
	Value  ValueRules  `json:"value"`
	Credit CreditRules `json:"credit"`
}

// TierRules decide VIP / regular / potential.
type TierRules struct {
	// VIPYearlyFen: an organisation (or a customer of unknown kind) whose net amount over
	// the last 12 months reaches it is VIP; 0 = no amount makes a VIP.
	VIPYearlyFen int64 `json:"vip_yearly_fen"`
	// PersonVIPYearlyFen is the same threshold for person customers; 0 = off.
	PersonVIPYearlyFen int64 `json:"person_vip_yearly_fen"`
	// VIPIfCore makes every core-value customer VIP.
	VIPIfCore bool `json:"vip_if_core"`
}

// ValueRules decide the RFM value class.
type ValueRules struct {
	// ChurnDays: a customer with transactions, none within this many days, is churned.
	ChurnDays int `json:"churn_days"`
	// RecencyDays are 4 ascending upper bounds of the days since the last transaction
	// for R = 5, 4, 3, 2 (older: 1).
	RecencyDays []int `json:"recency_days"`
	// FrequencyThresholds are 4 ascending minimum counts of transactions in the last
	// 12 months for F = 2, 3, 4, 5 (fewer: 1).
	FrequencyThresholds []int `json:"frequency_thresholds"`
	// MonetaryThresholds are 4 ascending minimum net amounts (fen) in the last 12 months
	// for M = 2, 3, 4, 5 (less: 1).
	MonetaryThresholds []int64 `json:"monetary_thresholds"`
	// CoreMinTotal and ImportantMinTotal are the minimum R+F+M for core and important.
	CoreMinTotal      int `json:"core_min_total"`
	ImportantMinTotal int `json:"important_min_total"`
}

// CreditRules decide the credit grade.
type CreditRules struct {
	// CConditions are the active C condition codes.
	CConditions []string `json:"c_conditions"`
	// AConditions are the active A condition codes.
	AConditions []string `json:"a_conditions"`
	// AMinCount is how many active A conditions give grade A (1..5).
	AMinCount int `json:"a_min_count"`
	// CooperationYears is the length of cooperation that makes the cooperation condition.
	CooperationYears int `json:"cooperation_years"`
}

// DefaultRules returns the default rules (see the package documentation).
func DefaultRules() Rules {
	return Rules{
		Tier: TierRules{VIPYearlyFen: 50_000_000, PersonVIPYearlyFen: 5_000_000, VIPIfCore: true},
		Value: ValueRules{
			ChurnDays:           365,
			RecencyDays:         []int{30, 90, 180, 365},
			FrequencyThresholds: []int{2, 4, 8, 12},
			MonetaryThresholds:  []int64{1_000_000, 5_000_000, 20_000_000, 50_000_000},
			CoreMinTotal:        12,
			ImportantMinTotal:   9,
		},
		Credit: CreditRules{
			CConditions:      CConditionCodes(),
			AConditions:      AConditionCodes(),
			AMinCount:        2,
			CooperationYears: 1,
		},
	}
}

// cleanRecordYears is the period no_bad_debt_2y speaks of; the cooperation must span it.
const cleanRecordYears = 2

// Limits of rule values.
const (
	maxFen        = 1_000_000_000_000_000 // 10^13 yuan
	maxDays       = 36_500
	maxCount      = 1_000_000
	maxCoopYears  = 100
	bucketsNeeded = 4
)

// Validate checks the rules; the error is an *apperr.Error of kind Invalid whose fields
// are named "<section>.<json member>", e.g. "value.monetary_thresholds".
func (r Rules) Validate() error {
	f := apperr.Fields{}
	r.validate(f)
	return f.Err()
}

func (r Rules) validate(f apperr.Fields) {
	fen := func(field string, v int64) {
		if v < 0 || v > maxFen {
			f.Add(field, "classify.rules.range", "min", 0, "max", int64(maxFen))
		}
	}
	fen("tier.vip_yearly_fen", r.Tier.VIPYearlyFen)
	fen("tier.person_vip_yearly_fen", r.Tier.PersonVIPYearlyFen)

	v := r.Value
	if v.ChurnDays < 1 || v.ChurnDays > maxDays {
		f.Add("value.churn_days", "classify.rules.range", "min", 1, "max", maxDays)
	}
	ascending("value.recency_days", v.RecencyDays, 0, maxDays, f)
	ascending("value.frequency_thresholds", v.FrequencyThresholds, 1, maxCount, f)
	ascending("value.monetary_thresholds", v.MonetaryThresholds, 0, maxFen, f)
	if len(v.RecencyDays) == bucketsNeeded && v.ChurnDays < v.RecencyDays[bucketsNeeded-1] {
		f.Add("value.churn_days", "classify.rules.churn_before_recency", "days", v.RecencyDays[bucketsNeeded-1])
	}
	if v.ImportantMinTotal < 3 || v.ImportantMinTotal > 15 {
		f.Add("value.important_min_total", "classify.rules.range", "min", 3, "max", 15)
	}
	if v.CoreMinTotal < 3 || v.CoreMinTotal > 15 {
		f.Add("value.core_min_total", "classify.rules.range", "min", 3, "max", 15)
	} else if v.CoreMinTotal <= v.ImportantMinTotal {
		f.Add("value.core_min_total", "classify.rules.core_above_important", "min", v.ImportantMinTotal)
	}

	c := r.Credit
	conditions("credit.c_conditions", c.CConditions, cCodes[:], f)
	conditions("credit.a_conditions", c.AConditions, aCodes[:], f)
	if c.AMinCount < 1 || c.AMinCount > len(aCodes) {
		f.Add("credit.a_min_count", "classify.rules.range", "min", 1, "max", len(aCodes))
	} else if c.AMinCount > len(c.AConditions) {
		f.Add("credit.a_min_count", "classify.rules.a_min_exceeds", "count", len(c.AConditions))
	}
	if c.CooperationYears < 1 || c.CooperationYears > maxCoopYears {
		f.Add("credit.cooperation_years", "classify.rules.range", "min", 1, "max", maxCoopYears)
	}
}

// ascending checks a list of exactly 4 strictly ascending values within [lo, hi].
func ascending[T int | int64](field string, vs []T, lo, hi T, f apperr.Fields) {
	if len(vs) != bucketsNeeded {
		f.Add(field, "classify.rules.count", "count", bucketsNeeded)
		return
	}
	for i, x := range vs {
		if x < lo || x > hi {
			f.Add(field, "classify.rules.range", "min", lo, "max", hi)
			return
		}
		if i > 0 && x <= vs[i-1] {
			f.Add(field, "classify.rules.ascending")
			return
		}
	}
}

// conditions checks a list of condition codes: known, each at most once.
func conditions(field string, got, known []string, f apperr.Fields) {
	var seen uint32
	for _, code := range got {
		i := indexOf(known, code)
		if i < 0 {
			f.Add(field, "classify.rules.unknown_condition", "condition", code)
			return
		}
		if seen&(1<<i) != 0 {
			f.Add(field, "classify.rules.duplicate_condition", "condition", code)
			return
		}
		seen |= 1 << i
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// ParseRules decodes rules stored as JSON ({"tier":{...},"value":{...},"credit":{...}}).
// Unknown members, wrong types and trailing data are refused (kind Malformed); absent
// members keep their defaults; the result is validated (kind Invalid).
func ParseRules(data []byte) (Rules, error) {
	r := DefaultRules()
	if err := strictDecode(data, &r); err != nil {
		return Rules{}, err
	}
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	return r, nil
}

// Section returns one section of the rules as JSON, as stored in customer_rules.config.
func (r Rules) Section(kind string) ([]byte, error) {
	switch kind {
	case SectionTier:
		return json.Marshal(r.Tier)
	case SectionValue:
		return json.Marshal(r.Value)
	case SectionCredit:
		return json.Marshal(r.Credit)
	}
	return nil, apperr.New(apperr.Invalid, "classify.rules.unknown_section", "section", kind)
}

// SetSection replaces one section of r by the strictly decoded JSON config (absent
// members keep the value they have in DefaultRules) and validates the whole; on error r
// is unchanged.
func (r *Rules) SetSection(kind string, config []byte) error {
	next := *r
	d := DefaultRules()
	var err error
	switch kind {
	case SectionTier:
		err = strictDecode(config, &d.Tier)
		next.Tier = d.Tier
	case SectionValue:
		err = strictDecode(config, &d.Value)
		next.Value = d.Value
	case SectionCredit:
		err = strictDecode(config, &d.Credit)
		next.Credit = d.Credit
	default:
		return apperr.New(apperr.Invalid, "classify.rules.unknown_section", "section", kind)
	}
	if err != nil {
		return err
	}
	if err := next.Validate(); err != nil {
		return err
	}
	*r = next
	return nil
}

func strictDecode(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return apperr.New(apperr.Malformed, "classify.rules.malformed").WithCause(fmt.Errorf("classify: rules: %w", err))
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return apperr.New(apperr.Malformed, "classify.rules.malformed").WithCause(errors.New("classify: rules: trailing data"))
	}
	return nil
}
