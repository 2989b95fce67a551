package classify

import (
	"math/bits"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// KindPerson is the customer kind that uses the person VIP threshold; every other kind
// uses the organisation threshold.
const KindPerson = "person"

// Facts are what the engine reads about one customer.
type Facts struct {
	Kind string // "person" or "org"
	// RelationshipSince is the day the relationship began ('YYYY-MM-DD'; "" = unknown).
	RelationshipSince string
	// ManualTier, ManualValueClass and ManualCreditGrade pin a dimension by hand (a valid
	// code) or leave it to the rules (""; an unknown code is ignored).
	ManualTier        string
	ManualValueClass  string
	ManualCreditGrade string
	Credit            CreditFacts
	// Transactions (orders, payments; refunds have negative amounts) in any order.
	Transactions []Transaction
}

// Transaction is one dated amount. Days that are not valid 'YYYY-MM-DD' and days after the
// as-of date are ignored.
type Transaction struct {
	On        string // 'YYYY-MM-DD'
	AmountFen int64
}

// CreditFacts are the credit facts recorded on a customer. Its fields match
// customer.CreditFacts one for one, so either converts to the other.
type CreditFacts struct {
	// C conditions.
	BadDebt2Y         bool `json:"bad_debt_2y"`
	BrokenPromises    bool `json:"broken_promises"`
	DebtDisputes      bool `json:"debt_disputes"`
	WeakCapital       bool `json:"weak_capital"`
	LossesOrDecline   bool `json:"losses_or_decline"`
	IllegalOperations bool `json:"illegal_operations"`
	OrderedToSuspend  bool `json:"ordered_to_suspend"`
	AccountsAtRisk    bool `json:"accounts_at_risk"`
	// A conditions recorded as facts (cooperation and 2 years of cooperation without bad
	// debt are derived from RelationshipSince and BadDebt2Y).
	GoodOperations2Y   bool `json:"good_operations_2y"`
	StrongCapital      bool `json:"strong_capital"`
	PaymentsOnStandard bool `json:"payments_on_standard"`
}

// cMask returns the C conditions that hold, one bit per index in cCodes.
func (c CreditFacts) cMask() uint32 {
	var m uint32
	for i, b := range [...]bool{c.BadDebt2Y, c.BrokenPromises, c.DebtDisputes, c.WeakCapital,
		c.LossesOrDecline, c.IllegalOperations, c.OrderedToSuspend, c.AccountsAtRisk} {
		if b {
			m |= 1 << i
		}
	}
	return m
}

// Result is the classification of one customer with its reasons (catalog messages).
type Result struct {
	Tier         string     `json:"tier"`
	TierReasons  []i18n.Msg `json:"tier_reasons"`
	ValueClass   string     `json:"value_class"`
	ValueReasons []i18n.Msg `json:"value_reasons"`
	// R, F, M are the RFM scores 1..5 (0 when the customer has no transaction).
	R int `json:"r"`
	F int `json:"f"`
	M int `json:"m"`
	// RecencyDays is the age in days of the last transaction (-1: none); YearCount and
	// YearFen are the count and net amount of the last 12 months.
	RecencyDays   int        `json:"recency_days"`
	YearCount     int        `json:"year_count"`
	YearFen       int64      `json:"year_fen"`
	CreditGrade   string     `json:"credit_grade"`
	CreditReasons []i18n.Msg `json:"credit_reasons"`
	// Policy is the credit policy of the grade (classify.policy.A/B/C).
	Policy i18n.Msg `json:"policy"`
}

// Classifier classifies many customers under the same rules and as-of date; the
// per-run work (as-of day, 12-month window, condition masks, the messages that depend on
// the rules only) is done once. It is read-only after NewClassifier and safe for
// concurrent use. Results of one Classifier share those messages: treat the Args of a
// reason as read-only.
type Classifier struct {
	rules     Rules
	asOf      int // ordinal of the as-of day
	yearStart int // ordinal of the same day a year earlier: the window is (yearStart, asOf]
	cActive   uint32
	aActive   uint32

	// Messages that depend only on the rules, built once and shared by every result.
	orgVIPYuan    string
	personVIPYuan string
	cReasons      [len(cCodes)]i18n.Msg      // classify.credit.c_condition per C condition
	aReasons      [1 << len(aCodes)]i18n.Msg // classify.credit.a_conditions per set of A conditions
	aRule, bRule  i18n.Msg
}

// china is Asia/Shanghai: UTC+8 without daylight saving since 1991, fixed so that the
// engine needs no time zone database.
var china = time.FixedZone("CST", 8*3600)

// NewClassifier prepares rules (which should have passed Validate) for the calendar day
// of asOf in Asia/Shanghai.
func NewClassifier(rules Rules, asOf time.Time) *Classifier {
	c := newClassifier(rules, asOf)
	for mask := range c.aReasons {
		if mask != 0 && uint32(mask)&^c.aActive == 0 {
			c.aReasons[mask] = c.aConditions(uint32(mask))
		}
	}
	return c
}

// newClassifier is NewClassifier without the A condition lists, which aReason then
// builds per call: cheaper for one customer.
func newClassifier(rules Rules, asOf time.Time) *Classifier {
	y, mo, d := asOf.In(china).Date()
	c := &Classifier{rules: rules}
	c.asOf = ordinal(y, int(mo), d)
	c.yearStart = addYears(y, int(mo), d, -1)
	for _, code := range rules.Credit.CConditions {
		if i := indexOf(cCodes[:], code); i >= 0 {
			c.cActive |= 1 << i
		}
	}
	for _, code := range rules.Credit.AConditions {
		if i := indexOf(aCodes[:], code); i >= 0 {
			c.aActive |= 1 << i
		}
	}
	c.orgVIPYuan = yuan(rules.Tier.VIPYearlyFen)
	c.personVIPYuan = yuan(rules.Tier.PersonVIPYearlyFen)
	for i, code := range cCodes {
		c.cReasons[i] = i18n.Msg{Key: "classify.credit.c_condition", Args: map[string]any{"condition": c.condMsg(code)}}
	}
	c.aRule = i18n.Msg{Key: "classify.credit.a_rule", Args: map[string]any{"min": rules.Credit.AMinCount}}
	c.bRule = i18n.Msg{Key: "classify.credit.b_rule", Args: map[string]any{"min": rules.Credit.AMinCount}}
	return c
}

// Classify classifies one customer as of asOf (see NewClassifier).
func Classify(rules Rules, f Facts, asOf time.Time) Result {
	return newClassifier(rules, asOf).Classify(f)
}

// Classify classifies one customer.
func (c *Classifier) Classify(f Facts) Result {
	var res Result
	// One backing array for the three reason lists (full slice expressions keep them
	// apart: a list that outgrows its part moves to its own array).
	back := make([]i18n.Msg, 15)
	amount := c.value(f, &res, back[0:0:3])
	c.tier(f, &res, back[3:3:5], amount)
	c.credit(f, &res, back[5:5:15])
	return res
}

// value computes RFM and the value class into res, appending its reasons to reasons; it
// returns the yearly amount in yuan ("" when there is no transaction).
func (c *Classifier) value(f Facts, res *Result, reasons []i18n.Msg) (amount string) {
	last, hasTx := 0, false
	for _, t := range f.Transactions {
		o := dayOrdinal(t.On)
		if o == 0 || o > c.asOf {
			continue
		}
		inYear := o > c.yearStart
		if inYear {
			res.YearFen += t.AmountFen
		}
		if t.AmountFen < 0 {
			continue // a refund lowers M but is not a visit
		}
		hasTx = true
		if o > last {
			last = o
		}
		if inYear {
			res.YearCount++
		}
	}
	res.RecencyDays = -1
	v := c.rules.Value
	var computed string
	if !hasTx {
		computed = ValueGeneral
		reasons = append(reasons, i18n.Msg{Key: "classify.value.no_transactions"})
	} else {
		days := c.asOf - last
		res.RecencyDays = days
		res.R = len(v.RecencyDays) + 1
		for _, t := range v.RecencyDays {
			if days <= t {
				break
			}
			res.R--
		}
		res.F = 1
		for _, t := range v.FrequencyThresholds {
			if res.YearCount >= t {
				res.F++
			}
		}
		res.M = 1
		for _, t := range v.MonetaryThresholds {
			if res.YearFen >= t {
				res.M++
			}
		}
		total := res.R + res.F + res.M
		amount = yuan(res.YearFen)
		if days > v.ChurnDays {
			computed = ValueChurned
			reasons = append(reasons, i18n.Msg{Key: "classify.value.churned", Args: map[string]any{"days": days, "limit": v.ChurnDays}})
		}
		reasons = append(reasons,
			i18n.Msg{Key: "classify.value.rfm", Args: map[string]any{"r": res.R, "f": res.F, "m": res.M, "total": total}},
			i18n.Msg{Key: "classify.value.rfm_facts", Args: map[string]any{"days": days, "count": res.YearCount, "amount": amount}})
		if computed == "" {
			switch {
			case total >= v.CoreMinTotal:
				computed = ValueCore
				reasons = append(reasons, i18n.Msg{Key: "classify.value.core_rule", Args: map[string]any{"total": total, "min": v.CoreMinTotal}})
			case total >= v.ImportantMinTotal:
				computed = ValueImportant
				reasons = append(reasons, i18n.Msg{Key: "classify.value.important_rule", Args: map[string]any{"total": total, "min": v.ImportantMinTotal}})
			default:
				computed = ValueGeneral
				reasons = append(reasons, i18n.Msg{Key: "classify.value.general_rule", Args: map[string]any{"total": total, "min": v.ImportantMinTotal}})
			}
		}
	}
	res.ValueClass = computed
	if isValue(f.ManualValueClass) {
		res.ValueClass = f.ManualValueClass
		reasons = append([]i18n.Msg{
			i18n.M("classify.value.manual", "class", valueName(f.ManualValueClass)),
			i18n.M("classify.value.rule_result", "class", valueName(computed)),
		}, reasons...)
	}
	res.ValueReasons = reasons
	return amount
}

// tier computes the tier; it reads the value class and the yearly amount from res.
func (c *Classifier) tier(f Facts, res *Result, reasons []i18n.Msg, amount string) {
	t := c.rules.Tier
	threshold, thresholdYuan := t.VIPYearlyFen, c.orgVIPYuan
	if f.Kind == KindPerson {
		threshold, thresholdYuan = t.PersonVIPYearlyFen, c.personVIPYuan
	}
	var computed string
	if amount == "" {
		amount = yuan(res.YearFen)
	}
	if threshold > 0 && res.YearFen >= threshold {
		computed = TierVIP
		reasons = append(reasons, i18n.Msg{Key: "classify.tier.vip_yearly", Args: map[string]any{"amount": amount, "threshold": thresholdYuan}})
	}
	if t.VIPIfCore && res.ValueClass == ValueCore {
		computed = TierVIP
		reasons = append(reasons, i18n.Msg{Key: "classify.tier.vip_core"})
	}
	switch {
	case computed != "":
	case res.RecencyDays < 0:
		computed = TierPotential
		reasons = append(reasons, i18n.Msg{Key: "classify.tier.potential"})
	case threshold > 0:
		computed = TierRegular
		reasons = append(reasons, i18n.Msg{Key: "classify.tier.regular", Args: map[string]any{"amount": amount, "threshold": thresholdYuan}})
	default:
		computed = TierRegular
		reasons = append(reasons, i18n.Msg{Key: "classify.tier.regular_no_threshold", Args: map[string]any{"amount": amount}})
	}
	res.Tier = computed
	if isTier(f.ManualTier) {
		res.Tier = f.ManualTier
		reasons = append([]i18n.Msg{
			i18n.M("classify.tier.manual", "tier", tierName(f.ManualTier)),
			i18n.M("classify.tier.rule_result", "tier", tierName(computed)),
		}, reasons...)
	}
	res.TierReasons = reasons
}

// credit computes the credit grade and its policy.
func (c *Classifier) credit(f Facts, res *Result, reasons []i18n.Msg) {
	cr := c.rules.Credit
	cHold := f.Credit.cMask() & c.cActive
	var aHold uint32
	y, m, d, known := parseDay(f.RelationshipSince)
	if known && addYears(y, m, d, cr.CooperationYears) <= c.asOf {
		aHold |= 1 << 0
	}
	// "No bad debt with us in the past 2 years" is evidence only of a cooperation that
	// spans those 2 years: no record of bad debt from a new or unknown relationship
	// proves nothing.
	if !f.Credit.BadDebt2Y && known && addYears(y, m, d, cleanRecordYears) <= c.asOf {
		aHold |= 1 << 1
	}
	if f.Credit.GoodOperations2Y {
		aHold |= 1 << 2
	}
	if f.Credit.StrongCapital {
		aHold |= 1 << 3
	}
	if f.Credit.PaymentsOnStandard {
		aHold |= 1 << 4
	}
	aHold &= c.aActive
	aCount := bits.OnesCount32(aHold)

	var computed string
	switch {
	case cHold != 0:
		computed = GradeC
		for i := range cCodes {
			if cHold&(1<<i) != 0 {
				reasons = append(reasons, c.cReasons[i])
			}
		}
		reasons = append(reasons, i18n.Msg{Key: "classify.credit.c_rule"})
		if aCount >= cr.AMinCount {
			reasons = append(reasons, i18n.Msg{Key: "classify.credit.c_overrides", Args: map[string]any{"count": aCount}})
		}
	case aCount >= cr.AMinCount:
		computed = GradeA
		reasons = append(reasons, c.aReason(aHold), c.aRule)
	default:
		computed = GradeB
		if aCount > 0 {
			reasons = append(reasons, c.aReason(aHold))
		} else {
			reasons = append(reasons, i18n.Msg{Key: "classify.credit.no_a_conditions"})
		}
		reasons = append(reasons, c.bRule)
	}
	res.CreditGrade = computed
	if isGrade(f.ManualCreditGrade) {
		res.CreditGrade = f.ManualCreditGrade
		reasons = append([]i18n.Msg{
			i18n.M("classify.credit.manual", "grade", f.ManualCreditGrade),
			i18n.M("classify.credit.rule_result", "grade", computed),
		}, reasons...)
	}
	res.CreditReasons = reasons
	res.Policy = Policy(res.CreditGrade)
}

// aReason is the classify.credit.a_conditions reason for the set of A conditions mask.
func (c *Classifier) aReason(mask uint32) i18n.Msg {
	if m := c.aReasons[mask]; m.Key != "" {
		return m
	}
	return c.aConditions(mask)
}

func (c *Classifier) aConditions(mask uint32) i18n.Msg {
	return i18n.Msg{Key: "classify.credit.a_conditions",
		Args: map[string]any{"count": bits.OnesCount32(mask), "list": c.aList(mask)}}
}

// condMsg names a condition; the cooperation condition carries its number of years.
func (c *Classifier) condMsg(code string) i18n.Msg {
	if code == CondCooperation {
		return i18n.M("classify.cond.cooperation", "years", c.rules.Credit.CooperationYears)
	}
	return i18n.Msg{Key: "classify.cond." + code}
}

// aList is the list of the A conditions in mask, as nested "classify.list" messages.
func (c *Classifier) aList(mask uint32) i18n.Msg {
	var list i18n.Msg
	for i := len(aCodes) - 1; i >= 0; i-- {
		if mask&(1<<i) == 0 {
			continue
		}
		if list.Key == "" {
			list = c.condMsg(aCodes[i])
		} else {
			list = i18n.M("classify.list", "a", c.condMsg(aCodes[i]), "b", list)
		}
	}
	return list
}

// Policy returns the credit policy message of a grade ("" for an unknown grade).
func Policy(grade string) i18n.Msg {
	switch grade {
	case GradeA:
		return i18n.Msg{Key: "classify.policy.A"}
	case GradeB:
		return i18n.Msg{Key: "classify.policy.B"}
	case GradeC:
		return i18n.Msg{Key: "classify.policy.C"}
	}
	return i18n.Msg{}
}

func isTier(s string) bool  { return s == TierVIP || s == TierRegular || s == TierPotential }
func isGrade(s string) bool { return s == GradeA || s == GradeB || s == GradeC }
func isValue(s string) bool {
	return s == ValueCore || s == ValueImportant || s == ValueGeneral || s == ValueChurned
}

func tierName(code string) i18n.Msg  { return i18n.Msg{Key: "classify.tier_name." + code} }
func valueName(code string) i18n.Msg { return i18n.Msg{Key: "classify.value_name." + code} }

// yuan formats fen as yuan with thousands separators and two decimals: "1,234,567.89".
func yuan(fen int64) string {
	var buf [32]byte
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = uint64(-fen)
	}
	i := len(buf)
	cents := u % 100
	u /= 100
	buf[i-1] = byte('0' + cents%10)
	buf[i-2] = byte('0' + cents/10)
	buf[i-3] = '.'
	i -= 3
	for n := 0; ; n++ {
		if n > 0 && n%3 == 0 {
			i--
			buf[i] = ','
		}
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// Explain translates a result into lines: the tier reasons, the value reasons, the
// credit reasons and the credit policy, in that order.
func Explain(r Result, cat *i18n.Catalog, lang string) []string {
	out := make([]string, 0, len(r.TierReasons)+len(r.ValueReasons)+len(r.CreditReasons)+1)
	for _, group := range [...][]i18n.Msg{r.TierReasons, r.ValueReasons, r.CreditReasons} {
		for _, m := range group {
			out = append(out, cat.Msg(lang, m))
		}
	}
	if r.Policy.Key != "" {
		out = append(out, cat.Msg(lang, r.Policy))
	}
	return out
}
