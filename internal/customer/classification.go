package customer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kefu-cn/kefu/internal/customer/classify"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Classification (SPEC §2.1): tier, RFM value class and credit grade, computed by the
// rules engine (package classify) from the facts recorded on the customer, its
// transactions and the rules an admin edits, each with its reasons.
//
// When: a customer is classified inside the same transaction as every write that
// changes an input: create (no transactions yet, so pure computation: no query unless
// the cached rules are due for their freshness check), an update of kind,
// relationship_since, credit_facts or a manual tier / value class / credit grade, and
// a transaction added or deleted. ReclassifyAll re-evaluates every active customer
// (nightly at 02:00 China time as the job "customer.reclassify", and after the rules
// change): recency ages by the day even when nothing else happens.
//
// Manual values: a tier, value class or credit grade set by hand is pinned
// (class_pinned) and wins over the rules; its reasons say so and what the rules would
// give.
//
// Reasons are catalog messages (classify.* keys, with nested messages) stored as JSON
// with classify.EncodeMsgs in tier_reasons, value_reasons and credit_reasons, and
// translated into the reader's language when shown (Customer.ViewIn, the pages).
//
// Rules live in customer_rules, one row per section ("tier", "value", "credit"), each a
// JSON config whose version grows with every save. Each node caches the parsed rules:
// a save on this node replaces the cache at once; other nodes compare the sum of the
// versions (one indexed query on a three-row table) at most every rulesTTL, so a rules
// change reaches every node within rulesTTL.

// rulesTTL is how long a node uses its cached rules before it checks the stored version.
const rulesTTL = 10 * time.Second

// reclassifyBatch is how many customers ReclassifyAll handles per transaction.
const reclassifyBatch = 1000

// JobReclassify is the job kind of the nightly (and after-rules-change) re-evaluation.
const JobReclassify = "customer.reclassify"

// Classification dimensions (the values of Customer.Pinned).
const (
	DimTier        = "tier"
	DimValueClass  = "value_class"
	DimCreditGrade = "credit_grade"
)

var ruleSections = []string{classify.SectionTier, classify.SectionValue, classify.SectionCredit}

// classState is the service's classification state: the cached rules and the job
// runner (when wired).
type classState struct {
	mu      sync.Mutex
	loaded  bool
	view    RulesView
	checked time.Time
	jobs    *jobs.Runner
	// cl is the classifier prepared for the rules version clVersion and the China day
	// clDay (per-run work of the engine done once, shared by every write of the day).
	cl        *classify.Classifier
	clVersion int64
	clDay     int
}

// RulesView is the stored rules with their version (the sum of the sections' versions;
// 0 = never saved, the defaults apply).
type RulesView struct {
	classify.Rules
	Version   int64      `json:"version"`
	UpdatedAt *time.Time `json:"updated_at"`
	UpdatedBy int64      `json:"updated_by"`
}

// chinaZone is Asia/Shanghai (UTC+8 without daylight saving since 1991).
func chinaZone() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}

// ======================= rules =======================

// loadRules reads and parses the stored rules (defaults for missing sections).
func (s *Service) loadRules(ctx context.Context) (RulesView, error) {
	rows, err := s.store.Rules(ctx)
	if err != nil {
		return RulesView{}, err
	}
	v := RulesView{Rules: classify.DefaultRules()}
	var at int64
	for _, r := range rows {
		if err := v.Rules.SetSection(r.Kind, []byte(r.Config)); err != nil {
			return RulesView{}, fmt.Errorf("customer: stored rules %q: %w", r.Kind, err)
		}
		v.Version += r.Version
		if r.UpdatedAt > at {
			at, v.UpdatedBy = r.UpdatedAt, r.UpdatedBy
		}
	}
	v.UpdatedAt = timePtr(fromMS(at))
	return v, nil
}

// rulesNow returns the rules in force: the cached ones, checked against the stored
// version at most every rulesTTL.
func (s *Service) rulesNow(ctx context.Context) (RulesView, error) {
	st := &s.cls
	now := s.clock.Now()
	st.mu.Lock()
	if st.loaded {
		if age := now.Sub(st.checked); age >= 0 && age < rulesTTL {
			v := st.view
			st.mu.Unlock()
			return v, nil
		}
	}
	loaded, version := st.loaded, st.view.Version
	st.mu.Unlock()
	if loaded {
		stamp, err := s.store.RulesStamp(ctx)
		if err != nil {
			return RulesView{}, err
		}
		if stamp == version {
			st.mu.Lock()
			st.checked = now
			v := st.view
			st.mu.Unlock()
			return v, nil
		}
	}
	v, err := s.loadRules(ctx)
	if err != nil {
		return RulesView{}, err
	}
	st.mu.Lock()
	st.view, st.loaded, st.checked = v, true, now
	st.mu.Unlock()
	return v, nil
}

// forgetRules drops the cached rules (after a save on this node).
func (s *Service) forgetRules() {
	s.cls.mu.Lock()
	s.cls.loaded, s.cls.cl = false, nil
	s.cls.mu.Unlock()
}

// classifier returns the classifier of the rules in force for today (China time).
func (s *Service) classifier(ctx context.Context) (*classify.Classifier, error) {
	rules, err := s.rulesNow(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	y, m, d := now.In(s.zoneCN).Date()
	day := y*10000 + int(m)*100 + d
	st := &s.cls
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cl == nil || st.clVersion != rules.Version || st.clDay != day {
		st.cl, st.clVersion, st.clDay = classify.NewClassifier(rules.Rules, now), rules.Version, day
	}
	return st.cl, nil
}

// Rules returns the classification rules in force (customer:read: everyone who sees
// results may see how they are made).
func (s *Service) Rules(ctx context.Context) (RulesView, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return RulesView{}, err
	}
	return s.loadRules(ctx)
}

// SaveRules validates and stores new rules (customer:rules), audited as
// "customer.rules.update" with the old and new values of the sections that changed.
// With a job runner wired, the re-evaluation of every customer is queued at once;
// otherwise the new rules apply at each customer's next change and at the nightly run.
func (s *Service) SaveRules(ctx context.Context, next classify.Rules) (RulesView, error) {
	return s.saveRules(ctx, next, nil)
}

// SaveRulesIfVersion is SaveRules against the rules version the editor read (RulesView.
// Version, 0 while the defaults apply): another version is refused with 409.
func (s *Service) SaveRulesIfVersion(ctx context.Context, next classify.Rules, version int64) (RulesView, error) {
	return s.saveRules(ctx, next, &version)
}

func (s *Service) saveRules(ctx context.Context, next classify.Rules, expected *int64) (RulesView, error) {
	actor, err := authz.Require(ctx, PermRules)
	if err != nil {
		return RulesView{}, err
	}
	if err := next.Validate(); err != nil {
		return RulesView{}, err
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.loadRules(ctx)
		if err != nil {
			return err
		}
		if expected != nil && *expected != cur.Version {
			return apperr.StaleVersion(cur.Version)
		}
		var changed []string
		before, after := map[string]json.RawMessage{}, map[string]json.RawMessage{}
		for _, sec := range ruleSections {
			nb, err := next.Section(sec)
			if err != nil {
				return err
			}
			ob, err := cur.Rules.Section(sec)
			if err != nil {
				return err
			}
			if bytes.Equal(nb, ob) {
				continue
			}
			by := int64(0)
			if actor.Kind == authz.KindStaff {
				by = actor.ID
			}
			if err := s.store.SaveRuleSection(ctx, sec, string(nb), by, ms(s.now())); err != nil {
				return err
			}
			changed = append(changed, sec)
			before[sec], after[sec] = ob, nb
		}
		if len(changed) == 0 {
			return nil
		}
		if err := s.recordOther(ctx, "customer.rules.update", "customer_rules",
			map[string]any{"sections": changed, "old": before, "new": after}); err != nil {
			return err
		}
		if r := s.jobRunner(); r != nil {
			stamp, err := s.store.RulesStamp(ctx)
			if err != nil {
				return err
			}
			if _, _, err := r.Enqueue(ctx, JobReclassify, map[string]any{"rules_version": stamp},
				jobs.UniqueKey(JobReclassify+":rules:"+strconv.FormatInt(stamp, 10))); err != nil {
				return fmt.Errorf("customer: queue re-evaluation: %w", err)
			}
		}
		s.db.AfterCommit(ctx, s.forgetRules)
		return nil
	})
	if err != nil {
		return RulesView{}, err
	}
	return s.rulesNow(ctx)
}

// PatchRules changes the sections present in patch ({"value": {"churn_days": 400}}):
// the members given replace the current ones, the others stay. version is the rules
// version the change was made against (RulesView.Version; 0 while the defaults apply);
// another one is refused with 409.
func (s *Service) PatchRules(ctx context.Context, patch map[string]json.RawMessage, version int64) (RulesView, error) {
	if _, err := authz.Require(ctx, PermRules); err != nil {
		return RulesView{}, err
	}
	cur, err := s.loadRules(ctx)
	if err != nil {
		return RulesView{}, err
	}
	next := cur.Rules // freshly loaded: decoding into its lists touches no cached value
	for k, raw := range patch {
		var into any
		switch k {
		case classify.SectionTier:
			into = &next.Tier
		case classify.SectionValue:
			into = &next.Value
		case classify.SectionCredit:
			into = &next.Credit
		default:
			return RulesView{}, apperr.New(apperr.Malformed, "classify.rules.unknown_section", "section", k).OnField(k)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(into); err != nil {
			return RulesView{}, apperr.New(apperr.Malformed, "classify.rules.malformed").OnField(k).
				WithCause(fmt.Errorf("customer: rules patch %s: %w", k, err))
		}
	}
	return s.saveRules(ctx, next, &version)
}

// ======================= classifying one customer =======================

// pinnedValue is the manual value of a dimension ("" when the rules decide it).
func (c Customer) pinnedValue(dim string) string {
	if !slices.Contains(c.Pinned, dim) {
		return ""
	}
	switch dim {
	case DimTier:
		return c.Tier
	case DimValueClass:
		return c.ValueClass
	case DimCreditGrade:
		return c.CreditGrade
	}
	return ""
}

func factsOf(c *Customer, txs []classify.Transaction) classify.Facts {
	return classify.Facts{Kind: c.Kind, RelationshipSince: c.RelationshipSince,
		ManualTier: c.pinnedValue(DimTier), ManualValueClass: c.pinnedValue(DimValueClass),
		ManualCreditGrade: c.pinnedValue(DimCreditGrade), Credit: classify.CreditFacts(c.CreditFacts),
		Transactions: txs}
}

func encodeReasons(ms []i18n.Msg) string {
	b, err := classify.EncodeMsgs(ms)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// decodeReasons reads stored reasons; anything unreadable (a file written before the
// reasons were catalog messages) reads as no reasons until the next re-evaluation.
func decodeReasons(s string) []i18n.Msg {
	ms, err := classify.DecodeMsgs([]byte(s))
	if err != nil {
		return nil
	}
	return ms
}

// setResult stores res on c; it reports whether anything (a result or a reason)
// changed, and then stamps ClassifiedAt.
func (s *Service) setResult(c *Customer, res classify.Result) bool {
	if c.Tier == res.Tier && c.ValueClass == res.ValueClass && c.CreditGrade == res.CreditGrade &&
		encodeReasons(c.TierReasons) == encodeReasons(res.TierReasons) &&
		encodeReasons(c.ValueReasons) == encodeReasons(res.ValueReasons) &&
		encodeReasons(c.CreditReasons) == encodeReasons(res.CreditReasons) {
		return false
	}
	c.Tier, c.TierReasons = res.Tier, res.TierReasons
	c.ValueClass, c.ValueReasons = res.ValueClass, res.ValueReasons
	c.CreditGrade, c.CreditReasons = res.CreditGrade, res.CreditReasons
	c.ClassifiedAt = s.now()
	return true
}

// classifyNew classifies a customer being created: it has no transactions yet, so this
// is pure computation over the cached rules.
func (s *Service) classifyNew(ctx context.Context, c *Customer) error {
	cl, err := s.classifier(ctx)
	if err != nil {
		return err
	}
	res := cl.Classify(factsOf(c, nil))
	c.Tier, c.TierReasons = res.Tier, res.TierReasons
	c.ValueClass, c.ValueReasons = res.ValueClass, res.ValueReasons
	c.CreditGrade, c.CreditReasons = res.CreditGrade, res.CreditReasons
	c.ClassifiedAt = s.now()
	return nil
}

// reclassify re-evaluates a stored customer (inside the caller's transaction, with its
// transactions); it reports whether the results changed (they are then set on c).
func (s *Service) reclassify(ctx context.Context, c *Customer) (bool, error) {
	cl, err := s.classifier(ctx)
	if err != nil {
		return false, err
	}
	var txs []classify.Transaction
	if c.ID != 0 {
		if txs, err = s.store.TransactionFacts(ctx, c.ID); err != nil {
			return false, err
		}
	}
	return s.setResult(c, cl.Classify(factsOf(c, txs))), nil
}

// classInputs reports whether a patch touches an input of the classification.
func (p Patch) classInputs() bool {
	return p.Kind != nil || p.RelationshipSince != nil || p.CreditFacts != nil || p.Tier != nil ||
		p.ValueClass != nil || p.CreditGrade != nil
}

func classResultOf(c *Customer) classResult {
	return classResult{Tier: c.Tier, TierReasons: encodeReasons(c.TierReasons), ValueClass: c.ValueClass,
		ValueReasons: encodeReasons(c.ValueReasons), CreditGrade: c.CreditGrade,
		CreditReasons: encodeReasons(c.CreditReasons), At: ms(c.ClassifiedAt)}
}

// ======================= re-evaluating everyone =======================

// ReclassifyAll re-evaluates every active customer under the rules in force, in keyset
// batches of reclassifyBatch customers per transaction (their transactions loaded with
// one query per batch), and writes only the rows whose results or reasons changed. It
// returns how many customers changed. A customer written meanwhile by someone else is
// left to that write (which classified it). Requires customer:rules (the nightly job
// runs as the system).
func (s *Service) ReclassifyAll(ctx context.Context) (n int, err error) {
	if _, err := authz.Require(ctx, PermRules); err != nil {
		return 0, err
	}
	started := time.Now()
	rules, err := s.rulesNow(ctx)
	if err != nil {
		return 0, err
	}
	cl := classify.NewClassifier(rules.Rules, s.now())
	var after int64
	checked := 0
	for {
		var batchN, batchActive, batchChanged int
		var last int64
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			batchChanged = 0
			rows, read, lastRead, err := s.store.ClassBatch(ctx, after, reclassifyBatch)
			if err != nil {
				return err
			}
			batchN, batchActive, last = read, len(rows), lastRead
			at := ms(s.now())
			for i := range rows {
				r := &rows[i]
				res, err := classifyRow(cl, r)
				if err != nil {
					s.log.Warn("customer: reclassify: skipped", slog.Int64("customer", r.ID), slog.String("err", err.Error()))
					continue
				}
				res.At = at
				if res.Tier == r.Tier && res.ValueClass == r.ValueClass && res.CreditGrade == r.CreditGrade &&
					res.TierReasons == r.TierReasons && res.ValueReasons == r.ValueReasons && res.CreditReasons == r.CreditReasons {
					continue
				}
				ok, err := s.store.UpdateClass(ctx, r.ID, r.Version, res)
				if err != nil {
					return err
				}
				if ok {
					batchChanged++
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += batchChanged
		checked += batchActive
		if batchN < reclassifyBatch {
			break
		}
		after = last
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
	s.log.Info("customers re-evaluated", slog.Int("checked", checked), slog.Int("changed", n),
		slog.Int64("rules_version", rules.Version), slog.Duration("took", time.Since(started)))
	if err := s.recordOther(ctx, "customer.reclassify", "customer",
		map[string]any{"checked": checked, "changed": n, "rules_version": rules.Version}); err != nil {
		return n, err
	}
	return n, nil
}

// recordOther writes an audit entry whose target is not one customer.
func (s *Service) recordOther(ctx context.Context, action, targetType string, detail any) error {
	if s.audit == nil {
		return nil
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: targetType, Detail: detail}); err != nil {
		return fmt.Errorf("customer: audit %s: %w", action, err)
	}
	return nil
}

// classifyRow classifies one batch row into its stored form.
func classifyRow(cl *classify.Classifier, r *classRow) (classResult, error) {
	var pinned []string
	var cf CreditFacts
	if err := errors.Join(fromJSON(r.Pinned, &pinned), fromJSON(r.Facts, &cf)); err != nil {
		return classResult{}, err
	}
	c := Customer{Kind: r.Kind, RelationshipSince: r.RelationshipSince, Pinned: pinned, CreditFacts: cf,
		Tier: r.Tier, ValueClass: r.ValueClass, CreditGrade: r.CreditGrade}
	res := cl.Classify(factsOf(&c, r.Transactions))
	return classResult{Tier: res.Tier, TierReasons: encodeReasons(res.TierReasons), ValueClass: res.ValueClass,
		ValueReasons: encodeReasons(res.ValueReasons), CreditGrade: res.CreditGrade,
		CreditReasons: encodeReasons(res.CreditReasons)}, nil
}

// ======================= jobs =======================

func (s *Service) jobRunner() *jobs.Runner {
	s.cls.mu.Lock()
	defer s.cls.mu.Unlock()
	return s.cls.jobs
}

// RegisterClassifyJobs registers the classification job with the runner: "customer.reclassify"
// (ReclassifyAll), run daily at 02:00 China time and queued whenever the rules change.
// Call it at wiring time, before the runner's Run.
func (s *Service) RegisterClassifyJobs(r *jobs.Runner) {
	s.cls.mu.Lock()
	s.cls.jobs = r
	s.cls.mu.Unlock()
	r.Register(JobReclassify, s.reclassifyJob)
	r.Every(JobReclassify, jobs.Daily(2, 0, chinaZone()))
}

func (s *Service) reclassifyJob(ctx context.Context, _ jobs.Job) error {
	_, err := s.ReclassifyAll(ctx)
	return err
}

// ======================= showing results =======================

// ViewIn is View with the classification reasons and the credit policy translated into
// the language of ctx (the request's). Every response showing a customer uses it.
func (c Customer) ViewIn(ctx context.Context, masked bool) View {
	v := c.View(masked)
	cat, lang := httpx.CatalogFrom(ctx), i18n.Lang(ctx)
	v.TierReasons = translateAll(cat, lang, c.TierReasons)
	v.ValueReasons = translateAll(cat, lang, c.ValueReasons)
	v.CreditReasons = translateAll(cat, lang, c.CreditReasons)
	if p := classify.Policy(c.CreditGrade); p.Key != "" {
		v.CreditPolicy = cat.Msg(lang, p)
	}
	return v
}

func translateAll(cat *i18n.Catalog, lang string, ms []i18n.Msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = cat.Msg(lang, m)
	}
	return out
}

// ClassPanel is the classification section of the customer page.
type ClassPanel struct {
	Tier, Value, Grade                       string
	TierPinned, ValuePinned, GradePinned     bool
	TierReasons, ValueReasons, CreditReasons []string
	Policy                                   string
	ClassifiedAt                             time.Time
	Transactions                             []TxLine
	MoreTransactions                         bool
	CanWrite                                 bool
	CanRules                                 bool
	TxErrors                                 web.FormErrors
	TxMessage                                string
	TxForm                                   TxForm
}

// TxLine is one transaction on the customer page.
type TxLine struct {
	ID     int64
	Date   string
	Amount string // yuan
	Refund bool
	Ref    string
	Note   string
}

// TxForm is the add-transaction form's values (re-shown after an error).
type TxForm struct {
	Date, Amount, Ref, Note string
}

// panelTransactions is how many transactions the customer page lists.
const panelTransactions = 20

func policyText(r *http.Request, grade string) string {
	if p := classify.Policy(grade); p.Key != "" {
		return tr(r, p.Key)
	}
	return ""
}

// classPanel builds the classification section (the reasons in the reader's language
// and the newest transactions).
func (p pages) classPanel(r *http.Request, c Customer) ClassPanel {
	ctx := r.Context()
	cat, lang := httpx.CatalogFrom(ctx), i18n.Lang(ctx)
	actor := authz.From(ctx)
	cp := ClassPanel{Tier: label(r, "customer.tier.", c.Tier), Value: label(r, "customer.value.", c.ValueClass),
		Grade: c.CreditGrade, TierPinned: slices.Contains(c.Pinned, DimTier),
		ValuePinned: slices.Contains(c.Pinned, DimValueClass), GradePinned: slices.Contains(c.Pinned, DimCreditGrade),
		TierReasons: translateAll(cat, lang, c.TierReasons), ValueReasons: translateAll(cat, lang, c.ValueReasons),
		CreditReasons: translateAll(cat, lang, c.CreditReasons), Policy: policyText(r, c.CreditGrade),
		ClassifiedAt: c.ClassifiedAt, CanWrite: actor.Reaches(PermWrite, c.Record()) && c.Status == StatusActive,
		CanRules: actor.Can(PermRules)}
	rows, err := p.s.store.Transactions(ctx, c.ID, "", 0, panelTransactions+1)
	if err != nil {
		p.s.log.Warn("customer: page transactions", slog.Int64("customer", c.ID), slog.String("err", err.Error()))
		return cp
	}
	if len(rows) > panelTransactions {
		rows, cp.MoreTransactions = rows[:panelTransactions], true
	}
	for _, t := range rows {
		cp.Transactions = append(cp.Transactions, TxLine{ID: t.ID, Date: t.On, Amount: fenAsYuan(t.AmountFen),
			Refund: t.AmountFen < 0, Ref: t.Ref, Note: t.Note})
	}
	return cp
}

// fenAsYuan formats fen as yuan with two decimals ("-1234.50").
func fenAsYuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-fen)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// parseFormYuan reads an amount in yuan with at most two decimals ("1234", "-12.5",
// "1,234.50") as fen.
func parseFormYuan(s string) (int64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	s = strings.ReplaceAll(s, "\uff0c", "")
	if s == "" {
		return 0, false
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") || len(frac) > 2 || len(whole) > 15 {
		return 0, false
	}
	digits := func(d string) bool {
		for i := 0; i < len(d); i++ {
			if d[i] < '0' || d[i] > '9' {
				return false
			}
		}
		return true
	}
	if !digits(whole) || !digits(frac) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(whole); i++ {
		n = n*10 + int64(whole[i]-'0')
	}
	frac += strings.Repeat("0", 2-len(frac))
	n = n*100 + int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	if neg {
		n = -n
	}
	return n, true
}

// ======================= rules API =======================

func (a api) getRules(w http.ResponseWriter, r *http.Request) {
	v, err := a.s.Rules(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

// putRules replaces the rules: {"tier":{...},"value":{...},"credit":{...},"version":N};
// members left out take their default values. Like a PATCH it names the rules version
// it replaces (the body's "version" or If-Match; 428 without, 409 when stale), so that
// two editors cannot silently overwrite each other.
func (a api) putRules(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if err := httpx.Decode(r, &body); err != nil {
		httpx.Error(w, r, err)
		return
	}
	version, err := rulesPatchVersion(r, body)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	raw, err := json.Marshal(body)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	next, err := classify.ParseRules(raw)
	if err == nil {
		var v RulesView
		if v, err = a.s.SaveRulesIfVersion(r.Context(), next, version); err == nil {
			httpx.SetETag(w, v.Version)
			httpx.JSON(w, http.StatusOK, v)
			return
		}
	}
	httpx.Error(w, r, err)
}

// patchRules changes the members given, section by section.
func (a api) patchRules(w http.ResponseWriter, r *http.Request) {
	var patch map[string]json.RawMessage
	if err := httpx.Decode(r, &patch); err != nil {
		httpx.Error(w, r, err)
		return
	}
	version, err := rulesPatchVersion(r, patch)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	v, err := a.s.PatchRules(r.Context(), patch, version)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, v.Version)
	httpx.JSON(w, http.StatusOK, v)
}

// rulesPatchVersion takes the "version" member out of a rules patch (the rules version
// the change was made against; 0 while the defaults apply) or reads If-Match; neither
// is 428.
func rulesPatchVersion(r *http.Request, patch map[string]json.RawMessage) (int64, error) {
	raw, ok := patch["version"]
	if !ok {
		return httpx.Version(r, nil)
	}
	delete(patch, "version")
	var v int64
	if err := json.Unmarshal(raw, &v); err != nil || v < 0 {
		return 0, apperr.InvalidField("version", "field.invalid")
	}
	if r.Header.Get("If-Match") != "" {
		h, err := httpx.Version(r, nil)
		if err != nil {
			return 0, err
		}
		if h != v {
			return 0, apperr.New(apperr.Malformed, "error.malformed.version_mismatch").WithCode("malformed_request").
				WithField("version", "error.malformed.version_mismatch")
		}
	}
	return v, nil
}

// ======================= rules page =======================

// RulesPage is the model of /customers/rules.
type RulesPage struct {
	Version       int64
	UpdatedAt     time.Time
	UpdatedBy     string
	VIPYuan       string
	PersonVIPYuan string
	VIPIfCore     bool
	ChurnDays     string
	Recency       []string
	Frequency     []string
	Monetary      []string
	CoreMin       string
	ImportantMin  string
	CConditions   []option
	AConditions   []option
	AMinCount     string
	CoopYears     string
	Errors        web.FormErrors
	Message       string
	JobsWired     bool
}

func itoaInt(n int) string { return strconv.Itoa(n) }

func (p pages) rulesModel(r *http.Request, v RulesView) RulesPage {
	ru := v.Rules
	pg := RulesPage{Version: v.Version, VIPYuan: fenAsYuan(ru.Tier.VIPYearlyFen),
		PersonVIPYuan: fenAsYuan(ru.Tier.PersonVIPYearlyFen), VIPIfCore: ru.Tier.VIPIfCore,
		ChurnDays: itoaInt(ru.Value.ChurnDays), CoreMin: itoaInt(ru.Value.CoreMinTotal),
		ImportantMin: itoaInt(ru.Value.ImportantMinTotal), AMinCount: itoaInt(ru.Credit.AMinCount),
		CoopYears: itoaInt(ru.Credit.CooperationYears), JobsWired: p.s.jobRunner() != nil}
	if v.UpdatedAt != nil {
		pg.UpdatedAt = *v.UpdatedAt
		pg.UpdatedBy = p.ownerName(r.Context(), map[int64]string{}, v.UpdatedBy)
	}
	for _, d := range ru.Value.RecencyDays {
		pg.Recency = append(pg.Recency, itoaInt(d))
	}
	for _, d := range ru.Value.FrequencyThresholds {
		pg.Frequency = append(pg.Frequency, itoaInt(d))
	}
	for _, f := range ru.Value.MonetaryThresholds {
		pg.Monetary = append(pg.Monetary, fenAsYuan(f))
	}
	pg.CConditions, pg.AConditions = p.condOptions(r, ru.Credit)
	return pg
}

func (p pages) condOptions(r *http.Request, cr classify.CreditRules) (cs, as []option) {
	for _, code := range classify.CConditionCodes() {
		cs = append(cs, option{Value: code, Label: tr(r, "classify.cond."+code), Selected: slices.Contains(cr.CConditions, code)})
	}
	for _, code := range classify.AConditionCodes() {
		l := tr(r, "classify.cond."+code)
		if code == classify.CondCooperation {
			l = tr(r, "classify.cond.cooperation", "years", cr.CooperationYears)
		}
		as = append(as, option{Value: code, Label: l, Selected: slices.Contains(cr.AConditions, code)})
	}
	return cs, as
}

func (p pages) rulesPage(w http.ResponseWriter, r *http.Request) {
	v, err := p.s.loadRulesFor(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "customer/rules", "page.customer_rules.title", p.rulesModel(r, v))
}

// loadRulesFor reads the rules for the editing page (customer:rules).
func (s *Service) loadRulesFor(ctx context.Context) (RulesView, error) {
	if _, err := authz.Require(ctx, PermRules); err != nil {
		return RulesView{}, err
	}
	return s.loadRules(ctx)
}

// yuanFields are the rule members entered in yuan on the page (stored in fen).
var yuanFields = []string{"tier.vip_yearly_fen", "tier.person_vip_yearly_fen", "value.monetary_thresholds"}

// rulesFromForm reads the posted rules; unreadable numbers become field errors.
func rulesFromForm(r *http.Request, f apperr.Fields) classify.Rules {
	ru := classify.DefaultRules()
	num := func(field, name string) int {
		s := strings.TrimSpace(r.PostFormValue(name))
		n, err := strconv.Atoi(s)
		if err != nil {
			f.Add(field, "customer.rules.invalid.number")
			return 0
		}
		return n
	}
	fen := func(field, name string) int64 {
		n, ok := parseFormYuan(r.PostFormValue(name))
		if !ok {
			f.Add(field, "customer.rules.invalid.amount")
		}
		return n
	}
	ru.Tier.VIPYearlyFen = fen("tier.vip_yearly_fen", "vip_yuan")
	ru.Tier.PersonVIPYearlyFen = fen("tier.person_vip_yearly_fen", "person_vip_yuan")
	ru.Tier.VIPIfCore = r.PostFormValue("vip_if_core") != ""
	ru.Value.ChurnDays = num("value.churn_days", "churn_days")
	ru.Value.RecencyDays, ru.Value.FrequencyThresholds, ru.Value.MonetaryThresholds = nil, nil, nil
	for i := range 4 {
		k := strconv.Itoa(i)
		ru.Value.RecencyDays = append(ru.Value.RecencyDays, num("value.recency_days", "recency_"+k))
		ru.Value.FrequencyThresholds = append(ru.Value.FrequencyThresholds, num("value.frequency_thresholds", "frequency_"+k))
		ru.Value.MonetaryThresholds = append(ru.Value.MonetaryThresholds, fen("value.monetary_thresholds", "monetary_"+k))
	}
	ru.Value.CoreMinTotal = num("value.core_min_total", "core_min_total")
	ru.Value.ImportantMinTotal = num("value.important_min_total", "important_min_total")
	ru.Credit.CConditions = keepKnown(r.PostForm["c_conditions"], classify.CConditionCodes())
	ru.Credit.AConditions = keepKnown(r.PostForm["a_conditions"], classify.AConditionCodes())
	ru.Credit.AMinCount = num("credit.a_min_count", "a_min_count")
	ru.Credit.CooperationYears = num("credit.cooperation_years", "cooperation_years")
	return ru
}

// keepKnown returns the codes of known that were posted, in known's order (an unknown
// posted value is ignored: checkboxes only post known ones).
func keepKnown(posted, known []string) []string {
	out := []string{}
	for _, k := range known {
		if slices.Contains(posted, k) {
			out = append(out, k)
		}
	}
	return out
}

func (p pages) saveRules(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	f := apperr.Fields{}
	next := rulesFromForm(r, f)
	err := f.Err()
	if err == nil {
		if ver := formVersion(r); ver != nil {
			_, err = p.s.SaveRulesIfVersion(ctx, next, *ver)
		} else {
			_, err = p.s.SaveRules(ctx, next)
		}
		if err == nil {
			web.Redirect(w, r, "/customers/rules", "customer.rules.flash.saved")
			return
		}
	}
	if ae, ok := apperr.As(err); ok {
		for _, field := range yuanFields {
			if m, ok := ae.Fields[field]; ok && m.Key == "classify.rules.range" {
				ae.Fields[field] = i18n.M("customer.rules.invalid.yuan_range", "max", fenAsYuan(1_000_000_000_000_000))
			}
		}
	}
	fe, msg, ok := p.s.web.FieldErrors(ctx, err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	cur, lerr := p.s.loadRulesFor(ctx)
	if lerr != nil {
		p.fail(w, r, lerr)
		return
	}
	pg := p.rulesModel(r, cur)
	// Show what was posted, not what is stored.
	pg.VIPYuan, pg.PersonVIPYuan = r.PostFormValue("vip_yuan"), r.PostFormValue("person_vip_yuan")
	pg.VIPIfCore = next.Tier.VIPIfCore
	pg.ChurnDays = r.PostFormValue("churn_days")
	pg.CoreMin, pg.ImportantMin = r.PostFormValue("core_min_total"), r.PostFormValue("important_min_total")
	pg.AMinCount, pg.CoopYears = r.PostFormValue("a_min_count"), r.PostFormValue("cooperation_years")
	pg.Recency, pg.Frequency, pg.Monetary = make([]string, 4), make([]string, 4), make([]string, 4)
	for i := range 4 {
		k := strconv.Itoa(i)
		pg.Recency[i] = r.PostFormValue("recency_" + k)
		pg.Frequency[i] = r.PostFormValue("frequency_" + k)
		pg.Monetary[i] = r.PostFormValue("monetary_" + k)
	}
	posted := next.Credit
	if y, err := strconv.Atoi(pg.CoopYears); err == nil {
		posted.CooperationYears = y
	} else {
		posted.CooperationYears = cur.Credit.CooperationYears
	}
	pg.CConditions, pg.AConditions = p.condOptions(r, posted)
	pg.Errors, pg.Message = fe, msg
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "customer/rules", "page.customer_rules.title", pg)
}
