package revisit

// OWNED BY the report engineer (H4): the return-visit metrics and the summary report
// (huifang zongjie baogao, SPEC §2.4 and §2.9, issue item 8).
//
// For a period (from/to, or a month) and per rule: the events decided and chosen
// against the rule's rate; the tasks of the period (their window starts in it) and what
// came of them: the visit rate, the on-time rate, the reach rate, satisfaction and the
// processing rate of the issues customers raised during those visits (every one
// answered, target 100%); every issue still unanswered at the period's end, oldest
// first; and the records confirmed false in the period, per staff member. Tasks of a
// rule no longer in the rule list are left out (rules are switched off, not deleted).

import (
	"cmp"
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// PermReport is the permission of the metrics and the report.
const PermReport = "revisit:report"

// Limits of the report.
const (
	// reportMaxDays is the longest period reported at once.
	reportMaxDays = 3*366 + 1
	// reportListLimit caps the unanswered issues and false records listed.
	reportListLimit = 200
)

// rpChina is the zone of the report's days and months (China keeps no daylight saving).
var rpChina = time.FixedZone("CST", 8*3600)

// ReportQuery selects the report: tasks whose window starts in [From, To), optionally
// of one rule and one department.
type ReportQuery struct {
	From, To time.Time
	Rule     string
	DeptID   int64
}

// Report is the summary report. Rates are percentages rounded to one decimal; an
// average of satisfaction has two decimals.
type Report struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Rule   string    `json:"rule"`
	DeptID int64     `json:"dept_id"`
	// Sampling tells whether the sampling figures (decided, chosen, visit rate) are
	// given: they are center-wide, so only for those who see every department.
	Sampling     bool               `json:"sampling"`
	Totals       ReportFigures      `json:"totals"`
	Rules        []ReportFigures    `json:"rules"`
	Months       []ReportMonth      `json:"months"`
	Agents       []ReportAgent      `json:"agents"`
	Satisfaction ReportSatisfaction `json:"satisfaction"`
	Issues       ReportIssues       `json:"issues"`
	False        ReportFalse        `json:"false_records"`
}

// ReportFigures are the figures of one rule (or of all, in Totals).
type ReportFigures struct {
	Rule       string `json:"rule"`
	Name       string `json:"name"`
	TargetRate int    `json:"target_rate"` // the rule's sampling rate, percent
	// Decided and Chosen are the sampling decisions made in the period.
	Decided     int64   `json:"decided"`
	Chosen      int64   `json:"chosen"`
	SampledRate float64 `json:"sampled_rate"` // chosen / decided
	// Visited are the first visits made for a decision (tasks of the period, done);
	// VisitRate = Visited / Decided: the visit rate achieved against TargetRate.
	Visited   int64   `json:"visited"`
	VisitRate float64 `json:"visit_rate"`
	// The tasks of the period by status.
	Tasks     int64 `json:"tasks"`
	Open      int64 `json:"open"`
	Done      int64 `json:"done"`
	Unreached int64 `json:"unreached"`
	Expired   int64 `json:"expired"`
	Cancelled int64 `json:"cancelled"`
	// Due are the tasks not cancelled that are concluded or past their window; OnTime
	// the ones done within it. OnTimeRate = OnTime / Due.
	Due        int64   `json:"due"`
	OnTime     int64   `json:"on_time"`
	OnTimeRate float64 `json:"on_time_rate"`
	// ReachRate = Done / (Done + Unreached): of the visits concluded, the customer reached.
	ReachRate float64 `json:"reach_rate"`
	// Records made for the tasks; Rated the ones with a satisfaction score.
	Records   int64   `json:"records"`
	Reached   int64   `json:"records_reached"`
	Important int64   `json:"important"`
	Rated     int64   `json:"rated"`
	SatAvg    float64 `json:"satisfaction_avg"`
	Low       int64   `json:"dissatisfied"` // scores 1 and 2
	// Issues raised during the visits of these tasks, answered, and the rate.
	Raised         int64   `json:"issues_raised"`
	Answered       int64   `json:"issues_answered"`
	ProcessingRate float64 `json:"processing_rate"`
}

// ReportMonth is one month of the period (China time).
type ReportMonth struct {
	Month      string  `json:"month"` // 2026-10
	Tasks      int64   `json:"tasks"`
	Done       int64   `json:"done"`
	OnTimeRate float64 `json:"on_time_rate"`
	ReachRate  float64 `json:"reach_rate"`
	Rated      int64   `json:"rated"`
	SatAvg     float64 `json:"satisfaction_avg"`
}

// ReportAgent is the work of one assignee on the tasks of the period.
type ReportAgent struct {
	StaffID    int64   `json:"staff_id"`
	Name       string  `json:"name"`
	Tasks      int64   `json:"tasks"`
	Done       int64   `json:"done"`
	Unreached  int64   `json:"unreached"`
	OnTimeRate float64 `json:"on_time_rate"`
	Rated      int64   `json:"rated"`
	SatAvg     float64 `json:"satisfaction_avg"`
	Low        int64   `json:"dissatisfied"`
	False      int64   `json:"false_records"`
}

// ReportSatisfaction is the distribution of the scores given (1-5).
type ReportSatisfaction struct {
	Rated        int64         `json:"rated"`
	Average      float64       `json:"average"`
	Distribution []ReportScore `json:"distribution"`
}

// ReportScore is how many gave score Score.
type ReportScore struct {
	Score   int     `json:"score"`
	Count   int64   `json:"count"`
	Percent float64 `json:"percent"`
}

// ReportIssues is the processing rate (jian jian you zhuo luo, target 100%) and the
// issues still waiting for an answer.
type ReportIssues struct {
	Raised         int64         `json:"raised"`
	Answered       int64         `json:"answered"`
	ProcessingRate float64       `json:"processing_rate"`
	Target         int           `json:"target"`
	Unanswered     int64         `json:"unanswered"` // every one raised before the period's end
	Open           []ReportIssue `json:"open"`       // the oldest of them (at most 200)
}

// ReportIssue is an issue raised during a visit that has no answer yet.
type ReportIssue struct {
	ID            int64      `json:"id"`
	TaskID        int64      `json:"task_id"`
	RecordID      int64      `json:"record_id"`
	TicketID      int64      `json:"ticket_id"`
	Body          string     `json:"body"`
	Rule          string     `json:"rule"`
	CustomerID    int64      `json:"customer_id"`
	Customer      string     `json:"customer"` // masked
	AssigneeID    int64      `json:"assignee_id"`
	Assignee      string     `json:"assignee"`
	AppointmentAt *time.Time `json:"appointment_at"`
	RaisedAt      time.Time  `json:"raised_at"`
	AgeDays       int        `json:"age_days"`
}

// ReportFalse are the records confirmed false in the period (verification failures).
type ReportFalse struct {
	Confirmed int64               `json:"confirmed"`
	Pending   int64               `json:"flagged_pending"` // flagged in the period, not confirmed yet
	ByStaff   []ReportFalseStaff  `json:"by_staff"`
	Records   []ReportFalseRecord `json:"records"`
}

// ReportFalseStaff is the false records of one staff member.
type ReportFalseStaff struct {
	StaffID int64  `json:"staff_id"`
	Name    string `json:"name"`
	Count   int64  `json:"count"`
}

// ReportFalseRecord is one record confirmed false.
type ReportFalseRecord struct {
	RecordID    int64     `json:"record_id"`
	TaskID      int64     `json:"task_id"`
	Rule        string    `json:"rule"`
	CustomerID  int64     `json:"customer_id"`
	Customer    string    `json:"customer"` // masked
	StaffID     int64     `json:"staff_id"`
	Staff       string    `json:"staff"`
	VisitedAt   time.Time `json:"visited_at"`
	ConfirmedAt time.Time `json:"confirmed_at"`
}

// normalize fills the default period (this month in China time) and checks the query.
func (q *ReportQuery) normalize(now time.Time) error {
	switch {
	case q.From.IsZero() && q.To.IsZero():
		n := now.In(rpChina)
		q.From = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, rpChina)
		q.To = q.From.AddDate(0, 1, 0)
	case q.To.IsZero():
		q.To = q.From.AddDate(0, 1, 0)
	case q.From.IsZero():
		q.From = q.To.AddDate(0, -1, 0)
	}
	f := apperr.Fields{}
	if !q.To.After(q.From) {
		f.Add("to", "revisit.report.invalid.period")
	} else if q.To.Sub(q.From) > reportMaxDays*24*time.Hour {
		f.Add("to", "revisit.report.invalid.period_long", "max", reportMaxDays)
	}
	if q.DeptID < 0 {
		f.Add("dept_id", "field.invalid")
	}
	if len(q.Rule) > 64 {
		f.Add("rule", "field.too_long", "max", 64)
	}
	return f.Err()
}

// rpPct is n of d as a percentage rounded to one decimal (0 when d is 0).
func rpPct(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)*1000/float64(d)) / 10
}

// rpAvg is sum / n rounded to two decimals (0 when n is 0).
func rpAvg(sum, n int64) float64 {
	if n == 0 {
		return 0
	}
	return math.Round(float64(sum)*100/float64(n)) / 100
}

// rpScope is the condition limiting the tasks t to the actor's reach for the report,
// the department and the rule asked for. all tells whether the actor sees every task.
func rpScope(a *authz.Actor, q ReportQuery) (cond rpCond, all bool) {
	var conds []string
	var args []any
	all = true
	if a != nil && a.Kind != authz.KindSystem {
		switch a.ScopeOf(PermReport) {
		case authz.ScopeAll:
		case authz.ScopeDept:
			all = false
			conds = append(conds, "t.dept_id = ?")
			args = append(args, max(a.DeptID, -1))
		case authz.ScopeTeam:
			all = false
			conds = append(conds, "(t.team_id = ? OR t.assignee_id = ?)")
			args = append(args, max(a.TeamID, -1), a.ID)
		default:
			all = false
			conds = append(conds, "t.assignee_id = ?")
			args = append(args, a.ID)
		}
	}
	if q.DeptID != 0 {
		conds = append(conds, "t.dept_id = ?")
		args = append(args, q.DeptID)
	}
	if q.Rule != "" {
		conds = append(conds, "t.rule_code = ?")
		args = append(args, q.Rule)
	}
	for _, c := range conds {
		cond.sql += " AND " + c
	}
	cond.args = args
	return cond, all
}

// Report computes the summary report the actor may see and records that it was read
// (it names customers and staff).
func (s *Service) Report(ctx context.Context, q ReportQuery) (Report, error) {
	rp, err := s.report(ctx, q)
	if err != nil {
		return Report{}, err
	}
	if err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		return s.reportAudit(ctx, "revisit.report.view", &rp, nil)
	}); err != nil {
		return Report{}, err
	}
	return rp, nil
}

func (s *Service) reportAudit(ctx context.Context, action string, rp *Report, extra map[string]any) error {
	if s.d.Audit == nil {
		return nil
	}
	var custs []int64
	for _, i := range rp.Issues.Open {
		custs = append(custs, i.CustomerID)
	}
	for _, r := range rp.False.Records {
		custs = append(custs, r.CustomerID)
	}
	slices.Sort(custs)
	custs = slices.Compact(custs)
	d := map[string]any{"from": rp.From, "to": rp.To, "rule": rp.Rule, "dept_id": rp.DeptID, "tasks": rp.Totals.Tasks,
		"customer_ids": custs}
	for k, v := range extra {
		d[k] = v
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Action: action, TargetType: "revisit_report", Detail: d}); err != nil {
		return errors.Join(errors.New("revisit: audit "+action), err)
	}
	return nil
}

// rpAgg adds up the tasks, records and issues of a part of the period.
type rpAgg struct {
	rules  []rpFig // by index in the rule list
	agents map[int64]*rpFig
}

// rpFig are the counters of a rule, an agent or a month.
type rpFig struct {
	tasks, due, onTime, visited int64
	status                      [6]int64
	records, reached, important int64
	rated, satSum, low          int64
	sat                         [6]int64
	raised, answered            int64
}

func (f *rpFig) add(o *rpFig) {
	f.tasks += o.tasks
	f.due += o.due
	f.onTime += o.onTime
	f.visited += o.visited
	for i := range f.status {
		f.status[i] += o.status[i]
		f.sat[i] += o.sat[i]
	}
	f.records += o.records
	f.reached += o.reached
	f.important += o.important
	f.rated += o.rated
	f.satSum += o.satSum
	f.low += o.low
	f.raised += o.raised
	f.answered += o.answered
}

func (f *rpFig) task(bits int64) {
	f.tasks++
	st := min(bits&rpStatusMask, rpStatusOther)
	f.status[st]++
	// Due: not cancelled, and concluded or past its window.
	if st != 4 && (st != 0 || bits&rpBitEnded != 0) {
		f.due++
	}
	if bits&rpBitOnTime != 0 {
		f.onTime++
	}
	if bits&rpBitSampled != 0 && bits&rpStatusMask == 1 {
		f.visited++
	}
}

func (f *rpFig) record(bits int64) {
	f.records++
	if bits&rpBitReached != 0 {
		f.reached++
	}
	if bits&rpBitImportant != 0 {
		f.important++
	}
	if sc := (bits >> rpShiftSat) & 15; sc >= 1 && sc <= 5 {
		f.rated++
		f.satSum += sc
		f.sat[sc]++
		if sc <= 2 {
			f.low++
		}
	}
}

func (f *rpFig) issue(answered int64) {
	f.raised++
	f.answered += answered
}

// rpTask is a task of a chunk, sorted by id to match its records and issues.
type rpTask struct {
	id, bits int64
	rule     int
}

// rpChunk computes one month (or part of one) of the period for the rules.
func (s *Service) rpChunk(ctx context.Context, st reportStore, rules []string, now, from, to time.Time, cond rpCond,
	one bool) (*rpAgg, error) {
	g := &rpAgg{rules: make([]rpFig, len(rules)), agents: map[int64]*rpFig{}}
	// Each rule's tasks come in window order, mostly id order too: sorted apart (a check
	// when they are already) and merged.
	byRule := make([][]rpTask, len(rules))
	n := 0
	for i, code := range rules {
		var ts []rpTask
		if err := st.tasks(ctx, code, now, from, to, cond, one, func(r rpTaskRow) {
			ts = append(ts, rpTask{id: r.id, bits: r.bits, rule: i})
		}); err != nil {
			return nil, err
		}
		if !slices.IsSortedFunc(ts, rpByID) {
			slices.SortFunc(ts, rpByID)
		}
		byRule[i] = ts
		n += len(ts)
	}
	tasks := rpMerge(byRule, n)
	var agent *rpFig
	var agentID int64
	agentOf := func(id int64) *rpFig {
		if id == agentID && agent != nil {
			return agent
		}
		f := g.agents[id]
		if f == nil {
			f = &rpFig{}
			g.agents[id] = f
		}
		agent, agentID = f, id
		return f
	}
	for _, t := range tasks {
		g.rules[t.rule].task(t.bits)
		if a := t.bits >> rpShiftAgent; a != 0 {
			agentOf(a).task(t.bits)
		}
	}
	// The records and the issues, run by run of close ids: a range each, or the ids
	// themselves for the lone ones.
	match := func(what rpStream, lo int) func(taskID, bits int64) {
		p := lo
		return func(taskID, bits int64) {
			for p < len(tasks) && tasks[p].id < taskID {
				p++
			}
			if p == len(tasks) || tasks[p].id != taskID {
				return
			}
			t := tasks[p]
			if what == rpIssues {
				g.rules[t.rule].issue(bits)
				return
			}
			g.rules[t.rule].record(bits)
			if a := t.bits >> rpShiftAgent; a != 0 {
				agentOf(a).record(bits)
			}
		}
	}
	for _, what := range []rpStream{rpRecords, rpIssues} {
		if err := rpRuns(tasks, reportGap, func(lo, hi int) error {
			return st.streamRange(ctx, what, tasks[lo].id, tasks[hi].id, match(what, lo))
		}, func(at int, ids []int64) error {
			return st.streamOf(ctx, what, ids, match(what, at))
		}); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// reportGap is the largest step between the ids of two tasks read with one range of
// records or issues. A range returns every row in it, a lone id costs a lookup (on
// PostgreSQL a list of ids is much dearer than a range): measured with one department
// of ten, whose tasks come in short runs, reading the whole range was as fast on SQLite
// and twice as fast on PostgreSQL as looking the ids up.
const reportGap = 256

// rpRuns cuts tasks (sorted by id) into runs of ids at most gap apart: a run of at least
// eight tasks goes to span (first and last index), the others to lone in batches of at
// most 400 ids (with the index of the first).
func rpRuns(tasks []rpTask, gap int64, span func(lo, hi int) error, lone func(at int, ids []int64) error) error {
	var ids []int64
	at := -1
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		err := lone(at, ids)
		ids, at = ids[:0], -1
		return err
	}
	for i := 0; i < len(tasks); {
		j := i + 1
		for j < len(tasks) && tasks[j].id-tasks[j-1].id <= gap {
			j++
		}
		if j-i >= 8 {
			if err := span(i, j-1); err != nil {
				return err
			}
		} else {
			for k := i; k < j; k++ {
				if at < 0 {
					at = k
				}
				ids = append(ids, tasks[k].id)
			}
			if len(ids) >= 400 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		i = j
	}
	return flush()
}

func rpByID(a, b rpTask) int { return cmp.Compare(a.id, b.id) }

// rpMerge merges the sorted lists into one of n tasks, sorted by id.
func rpMerge(lists [][]rpTask, n int) []rpTask {
	lists = slices.DeleteFunc(lists, func(l []rpTask) bool { return len(l) == 0 })
	if len(lists) == 1 {
		return lists[0]
	}
	out := make([]rpTask, 0, n)
	for len(lists) > 0 {
		m := 0
		for k := 1; k < len(lists); k++ {
			if lists[k][0].id < lists[m][0].id {
				m = k
			}
		}
		// Take the whole stretch of list m below the next smallest head.
		next := int64(math.MaxInt64)
		for k := range lists {
			if k != m && lists[k][0].id < next {
				next = lists[k][0].id
			}
		}
		l := lists[m]
		j := 1
		for j < len(l) && l[j].id <= next {
			j++
		}
		out = append(out, l[:j]...)
		if j == len(l) {
			lists = slices.Delete(lists, m, m+1)
		} else {
			lists[m] = l[j:]
		}
	}
	return out
}

// rpMonths cuts [from, to) at the first of each month (China time).
func rpMonths(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	for a := from; a.Before(to); {
		l := a.In(rpChina)
		b := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, rpChina).AddDate(0, 1, 0)
		if b.After(to) {
			b = to
		}
		out = append(out, [2]time.Time{a, b})
		a = b
	}
	return out
}

// rpLabels translates catalog keys in the request's language.
type rpLabels struct {
	cat  *i18n.Catalog
	lang string
}

func rpLabelsOf(ctx context.Context) rpLabels {
	return rpLabels{cat: httpx.CatalogFrom(ctx), lang: i18n.Lang(ctx)}
}

func (l rpLabels) t(key string, kv ...any) string {
	if l.cat == nil {
		return key
	}
	return l.cat.Msg(l.lang, i18n.M(key, kv...))
}

// report computes the report (revisit:report, within the actor's scope).
func (s *Service) report(ctx context.Context, q ReportQuery) (Report, error) {
	actor, err := authz.RequireStaff(ctx, PermReport)
	if err != nil {
		return Report{}, err
	}
	now := s.now()
	if err := q.normalize(now); err != nil {
		return Report{}, err
	}
	st := reportStore{db: s.d.DB}
	rules, err := st.rules(ctx)
	if err != nil {
		return Report{}, err
	}
	var codes []string // the rules reported
	var reported []rpRule
	for _, r := range rules {
		if q.Rule == "" || r.code == q.Rule {
			codes = append(codes, r.code)
			reported = append(reported, r)
		}
	}
	if len(codes) == 0 && q.Rule != "" {
		f := apperr.Fields{}
		f.Add("rule", "field.invalid_choice")
		return Report{}, f.Err()
	}
	cond, all := rpScope(actor, q)
	rp := Report{From: q.From.UTC(), To: q.To.UTC(), Rule: q.Rule, DeptID: q.DeptID, Sampling: all && q.DeptID == 0}

	months := rpMonths(q.From, q.To)
	aggs := make([]*rpAgg, len(months))
	one, err := st.oneColumn(ctx)
	if err != nil {
		return Report{}, err
	}
	var decided map[string]rpDecided
	var open []rpOpenIssue
	var falseBy map[int64]int64
	var falseRecs []rpFalseRecord
	jobs := make([]func() error, 0, len(months)+2)
	for i, m := range months {
		jobs = append(jobs, func() (err error) {
			aggs[i], err = s.rpChunk(ctx, st, codes, now, m[0], m[1], cond, one)
			return err
		})
	}
	if rp.Sampling {
		jobs = append(jobs, func() (err error) {
			decided, err = st.decisions(ctx, codes, q.From, q.To)
			return err
		})
	}
	jobs = append(jobs, func() (err error) {
		if open, rp.Issues.Unanswered, err = st.unanswered(ctx, q.To, cond, reportListLimit); err != nil {
			return err
		}
		if falseBy, err = st.falseByStaff(ctx, q.From, q.To, cond); err != nil {
			return err
		}
		if falseRecs, err = st.falseRecords(ctx, q.From, q.To, cond, reportListLimit); err != nil {
			return err
		}
		rp.False.Pending, err = st.flaggedPending(ctx, q.From, q.To, cond)
		return err
	})
	if err := rpParallel(max(2, runtime.GOMAXPROCS(0)), jobs); err != nil {
		return Report{}, err
	}

	// Sum the months up.
	total := &rpAgg{rules: make([]rpFig, len(codes)), agents: map[int64]*rpFig{}}
	l := rpLabelsOf(ctx)
	for i, g := range aggs {
		var mf rpFig
		for r := range g.rules {
			total.rules[r].add(&g.rules[r])
			mf.add(&g.rules[r])
		}
		for id, f := range g.agents {
			if total.agents[id] == nil {
				total.agents[id] = &rpFig{}
			}
			total.agents[id].add(f)
		}
		rp.Months = append(rp.Months, ReportMonth{Month: months[i][0].In(rpChina).Format("2006-01"), Tasks: mf.tasks,
			Done: mf.status[1], OnTimeRate: rpPct(mf.onTime, mf.due), ReachRate: rpPct(mf.status[1], mf.status[1]+mf.status[2]),
			Rated: mf.rated, SatAvg: rpAvg(mf.satSum, mf.rated)})
	}
	var sum rpFig
	for i, r := range reported {
		f := &total.rules[i]
		fig := rpFigures(f)
		fig.Rule, fig.Name, fig.TargetRate = r.code, r.name, r.rate
		if rp.Sampling {
			fig.Decided, fig.Chosen = decided[r.code][0], decided[r.code][1]
			fig.SampledRate = rpPct(fig.Chosen, fig.Decided)
			fig.VisitRate = rpPct(fig.Visited, fig.Decided)
		}
		sum.add(f)
		if fig.Tasks == 0 && fig.Decided == 0 && q.Rule == "" {
			continue // a rule with nothing in the period stays off the table
		}
		rp.Rules = append(rp.Rules, fig)
	}
	rp.Totals = rpFigures(&sum)
	rp.Totals.Name = l.t("revisit.report.all_rules")
	if rp.Sampling {
		for _, c := range codes {
			rp.Totals.Decided += decided[c][0]
			rp.Totals.Chosen += decided[c][1]
		}
		rp.Totals.SampledRate = rpPct(rp.Totals.Chosen, rp.Totals.Decided)
		rp.Totals.VisitRate = rpPct(rp.Totals.Visited, rp.Totals.Decided)
	}
	rp.Satisfaction = ReportSatisfaction{Rated: sum.rated, Average: rpAvg(sum.satSum, sum.rated)}
	for sc := 1; sc <= 5; sc++ {
		rp.Satisfaction.Distribution = append(rp.Satisfaction.Distribution,
			ReportScore{Score: sc, Count: sum.sat[sc], Percent: rpPct(sum.sat[sc], sum.rated)})
	}
	rp.Issues.Raised, rp.Issues.Answered = sum.raised, sum.answered
	rp.Issues.ProcessingRate = rpPct(sum.answered, sum.raised)
	rp.Issues.Target = 100

	// Names: staff (display names) and customers (masked).
	names := s.rpStaffNames(ctx, total.agents, falseBy, open, falseRecs)
	custs := s.rpCustomerNames(ctx, open, falseRecs)
	for id, f := range total.agents {
		rp.Agents = append(rp.Agents, ReportAgent{StaffID: id, Name: names[id], Tasks: f.tasks, Done: f.status[1],
			Unreached: f.status[2], OnTimeRate: rpPct(f.onTime, f.due), Rated: f.rated, SatAvg: rpAvg(f.satSum, f.rated),
			Low: f.low, False: falseBy[id]})
	}
	sort.Slice(rp.Agents, func(i, j int) bool {
		if rp.Agents[i].Tasks != rp.Agents[j].Tasks {
			return rp.Agents[i].Tasks > rp.Agents[j].Tasks
		}
		return rp.Agents[i].StaffID < rp.Agents[j].StaffID
	})
	for _, o := range open {
		is := ReportIssue{ID: o.id, TaskID: o.taskID, RecordID: o.recordID, TicketID: o.ticketID, Body: o.body, Rule: o.rule,
			CustomerID: o.customerID, Customer: custs[o.customerID], AssigneeID: o.assigneeID, Assignee: names[o.assigneeID],
			RaisedAt: time.UnixMilli(o.createdAt).UTC(), AgeDays: int(now.Sub(time.UnixMilli(o.createdAt)) / (24 * time.Hour))}
		if o.appointmentAt > 0 {
			t := time.UnixMilli(o.appointmentAt).UTC()
			is.AppointmentAt = &t
		}
		rp.Issues.Open = append(rp.Issues.Open, is)
	}
	if rp.Issues.Open == nil {
		rp.Issues.Open = []ReportIssue{}
	}
	for id, n := range falseBy {
		rp.False.Confirmed += n
		rp.False.ByStaff = append(rp.False.ByStaff, ReportFalseStaff{StaffID: id, Name: names[id], Count: n})
	}
	sort.Slice(rp.False.ByStaff, func(i, j int) bool {
		a, b := rp.False.ByStaff[i], rp.False.ByStaff[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.StaffID < b.StaffID
	})
	rp.False.Records = []ReportFalseRecord{}
	for _, r := range falseRecs {
		rp.False.Records = append(rp.False.Records, ReportFalseRecord{RecordID: r.id, TaskID: r.taskID, Rule: r.rule,
			CustomerID: r.customerID, Customer: custs[r.customerID], StaffID: r.staffID, Staff: names[r.staffID],
			VisitedAt: time.UnixMilli(r.visitedAt).UTC(), ConfirmedAt: time.UnixMilli(r.confirmedAt).UTC()})
	}
	if rp.Rules == nil {
		rp.Rules = []ReportFigures{}
	}
	if rp.Agents == nil {
		rp.Agents = []ReportAgent{}
	}
	if rp.False.ByStaff == nil {
		rp.False.ByStaff = []ReportFalseStaff{}
	}
	return rp, nil
}

// rpFigures turns counters into figures.
func rpFigures(f *rpFig) ReportFigures {
	done, unreached := f.status[1], f.status[2]
	return ReportFigures{Visited: f.visited, Tasks: f.tasks, Open: f.status[0], Done: done, Unreached: unreached,
		Expired: f.status[3], Cancelled: f.status[4], Due: f.due, OnTime: f.onTime, OnTimeRate: rpPct(f.onTime, f.due),
		ReachRate: rpPct(done, done+unreached), Records: f.records, Reached: f.reached, Important: f.important,
		Rated: f.rated, SatAvg: rpAvg(f.satSum, f.rated), Low: f.low, Raised: f.raised, Answered: f.answered,
		ProcessingRate: rpPct(f.answered, f.raised)}
}

// rpParallel runs fns, at most n at once, and returns their errors joined.
func rpParallel(n int, fns []func() error) error {
	errs := make([]error, len(fns))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// rpStaffNames names the staff the report mentions (display names are shown to any
// reader of the report; "#id" when unknown).
func (s *Service) rpStaffNames(ctx context.Context, agents map[int64]*rpFig, falseBy map[int64]int64,
	open []rpOpenIssue, recs []rpFalseRecord) map[int64]string {
	ids := map[int64]bool{}
	for id := range agents {
		ids[id] = true
	}
	for id := range falseBy {
		ids[id] = true
	}
	for _, o := range open {
		ids[o.assigneeID] = true
	}
	for _, r := range recs {
		ids[r.staffID] = true
	}
	out := map[int64]string{}
	sys := authz.WithActor(ctx, authz.System("revisit-report"))
	for id := range ids {
		if id == 0 {
			continue
		}
		out[id] = "#" + strconv.FormatInt(id, 10)
		if s.d.Staff == nil {
			continue
		}
		if st, err := s.d.Staff.GetStaff(sys, id); err == nil && st.DisplayName != "" {
			out[id] = st.DisplayName
		}
	}
	return out
}

// rpCustomerNames are the masked names of the customers the report lists.
func (s *Service) rpCustomerNames(ctx context.Context, open []rpOpenIssue, recs []rpFalseRecord) map[int64]string {
	var ids []int64
	for _, o := range open {
		ids = append(ids, o.customerID)
	}
	for _, r := range recs {
		ids = append(ids, r.customerID)
	}
	out := map[int64]string{}
	if len(ids) == 0 || s.d.Customers == nil {
		return out
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	refs, err := s.d.Customers.Refs(ctx, ids)
	if err != nil {
		return out
	}
	for id, r := range refs {
		out[id] = secure.MaskName(r.Name)
	}
	return out
}
