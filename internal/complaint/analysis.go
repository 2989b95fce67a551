package complaint

// OWNED BY the analysis engineer: the complaint analysis, exports, the case library.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
	"github.com/kefu-cn/kefu/internal/platform/web"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// The complaint analysis (SPEC §2.3, issue item 10): for the complaints received in a
// period — each complaint issue once, the complaints merged into another counted apart
// as "linked" — counts and trends by period, level, channel, department and cause, the
// Pareto chart of causes, the valid and rejected rates, the time spent in each stage,
// the on-time feedback rates, repeat complainants, satisfaction with results and the
// penalties by department. The same figures are served as JSON, as a page and as an
// .xlsx workbook with a sheet per table.

func (s *Service) analysisRoutes() []httpx.Route {
	a := analysisAPI{s: s}
	const get, post, del = "GET", "POST", "DELETE"
	return []httpx.Route{
		{Method: get, Path: "/api/v1/complaints/analysis", Perm: PermAnalyze, Handler: a.analysis},
		{Method: get, Path: "/api/v1/complaints/analysis.xlsx", Perm: PermAnalyze, Handler: a.export},
		{Method: post, Path: "/api/v1/complaints/{id}/case", Perm: PermAnalyze, Handler: a.markCase},
		{Method: del, Path: "/api/v1/complaints/{id}/case", Perm: PermAnalyze, Handler: a.unmarkCase},
		{Method: get, Path: "/api/v1/complaint-cases", Perm: PermRead, Handler: a.cases},
		{Method: get, Path: "/complaints/analysis", Perm: PermAnalyze, Page: true, Handler: a.page},
		{Method: get, Path: "/complaints/cases", Perm: PermRead, Page: true, Handler: a.casesPage},
		{Method: post, Path: "/complaints/{id}/case", Perm: PermAnalyze, Page: true, Handler: a.markCaseForm},
		{Method: post, Path: "/complaints/{id}/case/delete", Perm: PermAnalyze, Page: true, Handler: a.unmarkCaseForm},
	}
}

// Limits of the analysis.
const (
	// analysisMaxDays is the longest period analysed at once.
	analysisMaxDays = 3*366 + 1
	// analysisDayBuckets: periods up to this many days are trended by day, longer ones by month.
	analysisDayBuckets = 62
	// analysisRepeatLimit caps the repeat complainants listed.
	analysisRepeatLimit = 100
)

// AnalysisQuery selects the complaints analysed: received in [From, To), optionally of
// one department (the request's or the responsible one).
type AnalysisQuery struct {
	From, To time.Time
	DeptID   int64
}

// Analysis holds every figure of the analysis. Rates and shares are percentages rounded
// to one decimal; money is in fen.
type Analysis struct {
	From         time.Time           `json:"from"`
	To           time.Time           `json:"to"`
	DeptID       int64               `json:"dept_id"`
	Bucket       string              `json:"bucket"` // day | month
	Totals       AnalysisTotals      `json:"totals"`
	Trend        []TrendPoint        `json:"trend"`
	ByLevel      []AnalysisShare     `json:"by_level"`
	ByChannel    []AnalysisShare     `json:"by_channel"`
	ByDept       []AnalysisShare     `json:"by_dept"`
	ByCause      []AnalysisShare     `json:"by_cause"`
	Pareto       []ParetoItem        `json:"pareto"`
	Stages       []AnalysisStageTime `json:"stages"`
	Repeat       []RepeatComplainer  `json:"repeat_complainants"`
	Satisfaction SatisfactionStats   `json:"satisfaction"`
	Penalties    []DeptPenalties     `json:"penalties"`
}

// AnalysisTotals are the period's counts and rates.
type AnalysisTotals struct {
	Issues   int64 `json:"issues"`   // complaint issues (each counted once)
	Linked   int64 `json:"linked"`   // complaints merged into another
	Received int64 `json:"received"` // issues + linked
	// Assessed = Valid + Rejected: the issues whose validity was decided.
	Assessed     int64   `json:"assessed"`
	Valid        int64   `json:"valid"`
	Rejected     int64   `json:"rejected"`
	ValidRate    float64 `json:"valid_rate"`
	RejectedRate float64 `json:"rejected_rate"`
	// The first answer promised at intake: given, and given in time.
	FirstDone       int64   `json:"first_answered"`
	FirstOnTime     int64   `json:"first_on_time"`
	FirstOnTimeRate float64 `json:"first_on_time_rate"`
	// The investigation and proposal promised: done, and done in time.
	ResultDone       int64   `json:"result_done"`
	ResultOnTime     int64   `json:"result_on_time"`
	ResultOnTimeRate float64 `json:"result_on_time_rate"`
}

// TrendPoint counts the complaint issues of one day or month.
type TrendPoint struct {
	Key     string `json:"key"` // 2026-01 or 2026-01-31 (China time)
	Count   int64  `json:"count"`
	General int64  `json:"general"`
	Urgent  int64  `json:"urgent"`
	Major   int64  `json:"major"`
}

// AnalysisShare is the count of one value of a dimension and its share of the issues.
type AnalysisShare struct {
	Key   string  `json:"key"`
	ID    int64   `json:"id,omitempty"`
	Label string  `json:"label"`
	Count int64   `json:"count"`
	Share float64 `json:"share"`
}

// ParetoItem is one cause in the Pareto order: its share of the issues with a known
// cause and the cumulative share up to it.
type ParetoItem struct {
	ID         int64   `json:"id"`
	Label      string  `json:"label"`
	Count      int64   `json:"count"`
	Percent    float64 `json:"percent"`
	Cumulative float64 `json:"cumulative"`
}

// AnalysisStageTime is the time complaints spent in a stage before moving on, in hours.
type AnalysisStageTime struct {
	Stage       Stage   `json:"stage"`
	Label       string  `json:"label"`
	Moves       int64   `json:"moves"`
	AvgHours    float64 `json:"avg_hours"`
	MedianHours float64 `json:"median_hours"`
}

// RepeatComplainer is a customer with two or more complaint issues in the period.
type RepeatComplainer struct {
	CustomerID int64  `json:"customer_id"`
	Name       string `json:"name"` // masked
	Count      int64  `json:"count"`
}

// SatisfactionStats is the customers' satisfaction with the results (1-5).
type SatisfactionStats struct {
	Answered     int64        `json:"answered"`
	Average      float64      `json:"average"`
	Distribution []ScoreCount `json:"distribution"`
}

// ScoreCount is how many answered score Score.
type ScoreCount struct {
	Score   int     `json:"score"`
	Count   int64   `json:"count"`
	Percent float64 `json:"percent"`
}

// DeptPenalties are the approved penalties of the staff of one department.
type DeptPenalties struct {
	DeptID int64  `json:"dept_id"`
	Dept   string `json:"dept"`
	Count  int64  `json:"count"`
	Fines  int64  `json:"fines"`
	Amount int64  `json:"fine_amount"` // fen
}

// analysisScope is the actor's reach for the analysis as SQL (a supervisor: their
// department's complaints, by the request's or the responsible department).
func analysisScope(a *authz.Actor) listScope {
	if a == nil || a.Kind == authz.KindSystem {
		return listScope{all: true}
	}
	switch a.ScopeOf(PermAnalyze) {
	case authz.ScopeAll:
		return listScope{all: true}
	case authz.ScopeDept:
		return listScope{dept: max(a.DeptID, -1)}
	case authz.ScopeTeam:
		return listScope{team: max(a.TeamID, -1), self: a.ID}
	}
	return listScope{self: a.ID}
}

// anChina is the zone of the analysis' days and months.
var anChina = time.FixedZone("CST", anChinaOffsetMS/1000)

// normalize fills the default period (this year in China time) and checks it.
func (q *AnalysisQuery) normalize(now time.Time) error {
	switch {
	case q.From.IsZero() && q.To.IsZero():
		y := now.In(anChina).Year()
		q.From = time.Date(y, 1, 1, 0, 0, 0, 0, anChina)
		q.To = q.From.AddDate(1, 0, 0)
	case q.To.IsZero():
		q.To = q.From.AddDate(1, 0, 0)
	case q.From.IsZero():
		q.From = q.To.AddDate(-1, 0, 0)
	}
	f := apperr.Fields{}
	if !q.To.After(q.From) {
		f.Add("to", "complaint.analysis.invalid.period")
	} else if q.To.Sub(q.From) > analysisMaxDays*24*time.Hour {
		f.Add("to", "complaint.analysis.invalid.period_long", "max", analysisMaxDays)
	}
	if q.DeptID < 0 {
		f.Add("dept_id", "field.invalid")
	}
	return f.Err()
}

// anLabels translates catalog keys in the request's language (keys themselves without
// a catalog).
type anLabels struct {
	cat  *i18n.Catalog
	lang string
}

func anLabelsOf(ctx context.Context) anLabels {
	return anLabels{cat: httpx.CatalogFrom(ctx), lang: i18n.Lang(ctx)}
}

func (l anLabels) t(key string, kv ...any) string {
	if l.cat == nil {
		return key
	}
	return l.cat.Msg(l.lang, i18n.M(key, kv...))
}

// or translates key when the catalog has it, else gives fallback.
func (l anLabels) or(key, fallback string) string {
	if l.cat == nil || !l.cat.Has(key) {
		return fallback
	}
	return l.cat.T(l.lang, key, nil)
}

// anPct is n of d as a percentage rounded to one decimal (0 when d is 0).
func anPct(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)*1000/float64(d)) / 10
}

func anRound(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// Analyze computes the analysis the actor may see and records that it was read (it
// names repeat complainants).
func (s *Service) Analyze(ctx context.Context, q AnalysisQuery) (Analysis, error) {
	an, err := s.analyze(ctx, q)
	if err != nil {
		return Analysis{}, err
	}
	if err := s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "complaint.analysis.view", 0, analysisDetail(&an))
	}); err != nil {
		return Analysis{}, err
	}
	return an, nil
}

func analysisDetail(an *Analysis) map[string]any {
	ids := make([]int64, len(an.Repeat))
	for i, r := range an.Repeat {
		ids[i] = r.CustomerID
	}
	return map[string]any{"from": an.From, "to": an.To, "dept_id": an.DeptID, "issues": an.Totals.Issues,
		"customer_ids": ids}
}

// analyze computes the analysis (complaint:analyze, within the actor's scope).
func (s *Service) analyze(ctx context.Context, q AnalysisQuery) (Analysis, error) {
	actor, err := authz.RequireStaff(ctx, PermAnalyze)
	if err != nil {
		return Analysis{}, err
	}
	if err := q.normalize(s.now()); err != nil {
		return Analysis{}, err
	}
	where, args := analysisWhere(q.From, q.To, q.DeptID, analysisScope(actor))
	an := Analysis{From: q.From.UTC(), To: q.To.UTC(), DeptID: q.DeptID, Bucket: "month"}
	if q.To.Sub(q.From) <= analysisDayBuckets*24*time.Hour {
		an.Bucket = "day"
	}
	// The passes are independent reads: run them side by side (the read pools of both
	// engines hold several connections).
	g := newAnAgg()
	var stages []AnalysisStageTime
	var pens []anPenaltyRow
	var repeat [][2]int64
	var causes map[int64]anCauseName
	err = anParallel(
		func() error { return s.store.analysisRows(ctx, where, args, g.add) },
		func() (err error) { stages, err = s.anStages(ctx, q, actor); return err },
		func() (err error) {
			if repeat, err = s.store.analysisRepeat(ctx, where, args, analysisRepeatLimit); err != nil {
				return err
			}
			if pens, err = s.store.analysisPenalties(ctx, where, args); err != nil {
				return err
			}
			causes, err = s.store.causeNames(ctx)
			return err
		},
	)
	if err != nil {
		return Analysis{}, err
	}
	l := anLabelsOf(ctx)
	depts := s.anDeptNames(ctx)
	g.fill(&an, causes, depts, l)
	an.Trend = anTrendPoints(q.From, q.To, an.Bucket, g.days)
	an.Stages = stages
	for i := range an.Stages {
		an.Stages[i].Label = l.t("complaint.stage." + string(an.Stages[i].Stage))
	}
	an.Repeat = make([]RepeatComplainer, 0, len(repeat))
	for _, r := range repeat {
		an.Repeat = append(an.Repeat, RepeatComplainer{CustomerID: r[0], Name: s.anMaskedCustomer(ctx, r[0]), Count: r[1]})
	}
	an.Penalties = make([]DeptPenalties, 0, len(pens))
	for _, p := range pens {
		an.Penalties = append(an.Penalties, DeptPenalties{DeptID: p.dept, Dept: anDeptLabel(depts, p.dept, l),
			Count: p.n, Fines: p.fines, Amount: p.amount})
	}
	sort.Slice(an.Penalties, func(i, j int) bool {
		a, b := an.Penalties[i], an.Penalties[j]
		if a.Amount != b.Amount {
			return a.Amount > b.Amount
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.DeptID < b.DeptID
	})
	return an, nil
}

// anParallel runs fns at once and returns the first error.
func anParallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// anDeptNames maps department ids to names (empty without the organisation service).
func (s *Service) anDeptNames(ctx context.Context) map[int64]string {
	out := map[int64]string{}
	if s.staff == nil {
		return out
	}
	if ds, err := s.staff.AllDepartments(ctx); err == nil {
		for _, d := range ds {
			out[d.ID] = d.Name
		}
	}
	return out
}

func anDeptLabel(names map[int64]string, id int64, l anLabels) string {
	if id == 0 {
		return l.t("complaint.analysis.no_dept")
	}
	if n, ok := names[id]; ok {
		return n
	}
	return "#" + strconv.FormatInt(id, 10)
}

// anCauseLabel names cause id: its own name, else the catalog's name of its code.
func anCauseLabel(causes map[int64]anCauseName, id int64, l anLabels) string {
	if id == 0 {
		return l.t("complaint.analysis.cause_unset")
	}
	c, ok := causes[id]
	switch {
	case !ok:
		return "#" + strconv.FormatInt(id, 10)
	case c.name != "":
		return c.name
	}
	return l.or("complaint.cause."+c.code, c.code)
}

// anMaskedCustomer is the masked name of customer id ("" when unknown).
func (s *Service) anMaskedCustomer(ctx context.Context, id int64) string {
	if s.customers == nil {
		return ""
	}
	r, err := s.customers.Ref(ctx, id)
	if err != nil {
		return ""
	}
	return secure.MaskName(r.Name)
}

// anAgg adds up the complaints of the period as the store streams them.
type anAgg struct {
	t        AnalysisTotals
	levels   [4]int64
	channels [8]int64
	sat      [6]int64
	depts    map[int64]int64
	causes   map[int64]int64
	days     map[int64][4]int64 // China day number -> issues by level
}

func newAnAgg() *anAgg {
	return &anAgg{depts: map[int64]int64{}, causes: map[int64]int64{}, days: map[int64][4]int64{}}
}

func (g *anAgg) add(r anRow) {
	b := r.bits
	if b&anBitLinked != 0 {
		g.t.Linked++
		return
	}
	t := &g.t
	t.Issues++
	flag := func(bit int64) int64 {
		if b&bit != 0 {
			return 1
		}
		return 0
	}
	t.Valid += flag(anBitValid)
	t.Rejected += flag(anBitRejected)
	t.FirstDone += flag(anBitFirstDone)
	t.FirstOnTime += flag(anBitFirstOnTime)
	t.ResultDone += flag(anBitResultDone)
	t.ResultOnTime += flag(anBitResultOnTime)
	lv := (b >> anShiftLevel) & 3
	g.levels[lv]++
	g.channels[(b>>anShiftChannel)&7]++
	g.sat[min((b>>anShiftSat)&7, 5)]++
	g.depts[r.keys>>32]++
	g.causes[r.keys&0xFFFFFFFF]++
	d := g.days[b>>anShiftDay]
	d[lv]++
	g.days[b>>anShiftDay] = d
}

// fill turns the sums into the totals, the dimensions, the Pareto order and the
// satisfaction figures.
func (g *anAgg) fill(an *Analysis, causes map[int64]anCauseName, depts map[int64]string, l anLabels) {
	an.Totals = g.t
	t := &an.Totals
	t.Received = t.Issues + t.Linked
	t.Assessed = t.Valid + t.Rejected
	t.ValidRate, t.RejectedRate = anPct(t.Valid, t.Assessed), anPct(t.Rejected, t.Assessed)
	t.FirstOnTimeRate, t.ResultOnTimeRate = anPct(t.FirstOnTime, t.FirstDone), anPct(t.ResultOnTime, t.ResultDone)

	an.ByLevel = make([]AnalysisShare, 0, len(Levels))
	for i, lv := range Levels {
		n := g.levels[i]
		an.ByLevel = append(an.ByLevel, AnalysisShare{Key: string(lv), Label: l.t("complaint.level." + string(lv)), Count: n,
			Share: anPct(n, t.Issues)})
	}
	an.ByChannel = []AnalysisShare{}
	for i, n := range g.channels {
		if n == 0 {
			continue
		}
		key, label := "other", l.t("complaint.analysis.channel_other")
		if i > 0 && i <= len(ticket.Channels) {
			key = string(ticket.Channels[i-1])
			label = l.or("ticket.channel."+key, key)
		}
		an.ByChannel = append(an.ByChannel, AnalysisShare{Key: key, Label: label, Count: n, Share: anPct(n, t.Issues)})
	}
	an.ByDept = make([]AnalysisShare, 0, len(g.depts))
	for id, n := range g.depts {
		an.ByDept = append(an.ByDept, AnalysisShare{Key: strconv.FormatInt(id, 10), ID: id, Label: anDeptLabel(depts, id, l),
			Count: n, Share: anPct(n, t.Issues)})
	}
	an.ByCause = make([]AnalysisShare, 0, len(g.causes))
	var withCause int64
	for id, n := range g.causes {
		an.ByCause = append(an.ByCause, AnalysisShare{Key: strconv.FormatInt(id, 10), ID: id, Label: anCauseLabel(causes, id, l),
			Count: n, Share: anPct(n, t.Issues)})
		if id != 0 {
			withCause += n
		}
	}
	for _, sh := range [][]AnalysisShare{an.ByChannel, an.ByDept, an.ByCause} {
		anSortShares(sh)
	}
	an.Pareto = []ParetoItem{}
	var cum int64
	for _, sh := range an.ByCause {
		if sh.ID == 0 {
			continue
		}
		cum += sh.Count
		an.Pareto = append(an.Pareto, ParetoItem{ID: sh.ID, Label: sh.Label, Count: sh.Count,
			Percent: anPct(sh.Count, withCause), Cumulative: anPct(cum, withCause)})
	}
	ss := &an.Satisfaction
	var sum int64
	for score := 1; score <= 5; score++ {
		ss.Answered += g.sat[score]
		sum += int64(score) * g.sat[score]
	}
	for score := 1; score <= 5; score++ {
		n := g.sat[score]
		ss.Distribution = append(ss.Distribution, ScoreCount{Score: score, Count: n, Percent: anPct(n, ss.Answered)})
	}
	if ss.Answered > 0 {
		ss.Average = anRound(float64(sum)/float64(ss.Answered), 2)
	}
}

// anSortShares orders by count, highest first, then by key.
func anSortShares(sh []AnalysisShare) {
	sort.Slice(sh, func(i, j int) bool {
		if sh[i].Count != sh[j].Count {
			return sh[i].Count > sh[j].Count
		}
		if sh[i].ID != sh[j].ID {
			return sh[i].ID < sh[j].ID
		}
		return sh[i].Key < sh[j].Key
	})
}

// anTrendPoints lays the per-day counts into every day or month of [from, to), empty
// buckets included.
func anTrendPoints(from, to time.Time, bucket string, days map[int64][4]int64) []TrendPoint {
	key := func(d time.Time) string {
		if bucket == "day" {
			return d.Format(time.DateOnly)
		}
		return d.Format("2006-01")
	}
	out := []TrendPoint{}
	idx := map[string]int{}
	start := from.In(anChina)
	d := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, anChina)
	if bucket != "day" {
		d = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, anChina)
	}
	for d.Before(to) {
		k := key(d)
		idx[k] = len(out)
		out = append(out, TrendPoint{Key: k})
		if bucket == "day" {
			d = d.AddDate(0, 0, 1)
		} else {
			d = d.AddDate(0, 1, 0)
		}
	}
	for day, n := range days {
		u := time.UnixMilli(day * anDayMS).UTC()
		i, ok := idx[key(time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, anChina))]
		if !ok {
			continue
		}
		p := &out[i]
		p.General += n[0]
		p.Urgent += n[1]
		p.Major += n[2]
		p.Count += n[0] + n[1] + n[2] + n[3]
	}
	return out
}

// anStages is the time spent in each stage by the moves made in the period. Over every
// department: counts and sums grouped along the stage index, and the median move(s) of
// each stage read at the middle of that index's order of time spent. Within a scope or
// a department (far fewer moves): the moves themselves, added up here.
func (s *Service) anStages(ctx context.Context, q AnalysisQuery, actor *authz.Actor) ([]AnalysisStageTime, error) {
	scoped, where, args := s.store.anStageWhere(q.From, q.To, q.DeptID, analysisScope(actor))
	out := []AnalysisStageTime{}
	if scoped {
		spent := make([][]int64, len(Stages))
		if err := s.store.analysisStageMoves(ctx, where, args, func(st int, ms int64) {
			if st >= 0 && st < len(spent) {
				spent[st] = append(spent[st], ms)
			}
		}); err != nil {
			return nil, err
		}
		for i, st := range Stages {
			xs := spent[i]
			if len(xs) == 0 {
				continue
			}
			slices.Sort(xs)
			var total int64
			for _, x := range xs {
				total += x
			}
			n := len(xs)
			median := float64(xs[(n-1)/2]+xs[n/2]) / 2
			out = append(out, AnalysisStageTime{Stage: st, Moves: int64(n),
				AvgHours: anRound(float64(total)/float64(n)/anHourMS, 1), MedianHours: anRound(median/anHourMS, 1)})
		}
		return out, nil
	}
	sums, err := s.store.analysisStageSums(ctx, where, args)
	if err != nil {
		return nil, err
	}
	by := map[string]anStageSum{}
	for _, r := range sums {
		by[r.stage] = r
	}
	for _, st := range Stages {
		r, ok := by[string(st)]
		if !ok || r.n == 0 {
			continue
		}
		mid, err := s.store.analysisStageMedian(ctx, where, args, string(st), (r.n-1)/2)
		if err != nil {
			return nil, err
		}
		var median float64
		switch {
		case len(mid) == 0:
		case r.n%2 == 1 || len(mid) == 1:
			median = float64(mid[0])
		default:
			median = float64(mid[0]+mid[1]) / 2
		}
		out = append(out, AnalysisStageTime{Stage: st, Moves: r.n,
			AvgHours: anRound(float64(r.totalMS)/float64(r.n)/anHourMS, 1), MedianHours: anRound(median/anHourMS, 1)})
	}
	return out, nil
}

// ======================= HTTP =======================

type analysisAPI struct{ s *Service }

// analysisQueryFrom reads from, to (RFC 3339 or a China date; to is exclusive) and dept_id.
func analysisQueryFrom(r *http.Request) (AnalysisQuery, error) {
	var q AnalysisQuery
	var err error
	if q.From, err = timeParam(r, "from"); err != nil {
		return q, err
	}
	if q.To, err = timeParam(r, "to"); err != nil {
		return q, err
	}
	if q.DeptID, err = httpx.QueryInt64(r, "dept_id"); err != nil {
		return q, err
	}
	return q, nil
}

func (a analysisAPI) analysis(w http.ResponseWriter, r *http.Request) {
	q, err := analysisQueryFrom(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	an, err := a.s.Analyze(r.Context(), q)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, an)
}

func (a analysisAPI) export(w http.ResponseWriter, r *http.Request) {
	q, err := analysisQueryFrom(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	body, name, err := a.s.ExportAnalysis(r.Context(), q)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// ======================= page =======================

// AnalysisPage is the model of /complaints/analysis.
type AnalysisPage struct {
	A         Analysis
	Chart     ParetoChart
	Trend     TrendChart
	FromDate  string // the period as the form shows it (the last day included)
	ToDate    string
	Depts     []AnalysisChoice
	ExportURL string
	// ShareTables are the level, channel, department and cause tables.
	ShareTables []AnalysisShareTable
	Penalties   []AnalysisPenaltyRow
	Errors      web.FormErrors
	Message     string
}

// AnalysisShareTable is one dimension's table on the page.
type AnalysisShareTable struct {
	Key, Title, Column string
	Rows               []AnalysisShare
}

// AnalysisPenaltyRow is a department's penalties on the page (fines in yuan).
type AnalysisPenaltyRow struct {
	Dept         string
	Count, Fines int64
	Yuan         string
}

// AnalysisChoice is an option of a select.
type AnalysisChoice struct {
	Value    string
	Label    string
	Selected bool
}

func (a analysisAPI) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := AnalysisPage{}
	q, err := analysisPageQuery(r)
	if err == nil {
		pg.A, err = a.s.Analyze(ctx, q)
	}
	if err != nil {
		if a.s.web == nil {
			httpx.Error(w, r, err)
			return
		}
		fe, msg, ok := a.s.web.FieldErrors(ctx, err)
		if !ok {
			a.s.web.PageError(w, r, err)
			return
		}
		pg.Errors, pg.Message = fe, msg
		pg.FromDate, pg.ToDate = r.URL.Query().Get("from"), r.URL.Query().Get("to")
		pg.Depts = a.s.anDeptChoices(ctx, q.DeptID)
		web.Render(a.s.web, w, r, http.StatusUnprocessableEntity, "complaint/analysis", "complaint.analysis.title", pg)
		return
	}
	l := anLabelsOf(ctx)
	pg.Chart = buildPareto(pg.A.Pareto, func(it ParetoItem) string {
		return l.t("complaint.analysis.pareto_tip", "cause", it.Label, "count", it.Count, "percent", it.Percent,
			"cumulative", it.Cumulative)
	})
	pg.Trend = anBuildTrend(pg.A.Trend)
	for _, st := range []struct {
		key  string
		rows []AnalysisShare
	}{{"level", pg.A.ByLevel}, {"channel", pg.A.ByChannel}, {"dept", pg.A.ByDept}, {"cause", pg.A.ByCause}} {
		pg.ShareTables = append(pg.ShareTables, AnalysisShareTable{Key: st.key, Title: l.t("complaint.analysis.sheet." + st.key),
			Column: l.t("complaint.analysis.col." + st.key), Rows: st.rows})
	}
	for _, p := range pg.A.Penalties {
		pg.Penalties = append(pg.Penalties, AnalysisPenaltyRow{Dept: p.Dept, Count: p.Count, Fines: p.Fines,
			Yuan: strconv.FormatFloat(float64(p.Amount)/100, 'f', 2, 64)})
	}
	pg.FromDate = pg.A.From.In(anChina).Format(time.DateOnly)
	pg.ToDate = pg.A.To.Add(-time.Millisecond).In(anChina).Format(time.DateOnly)
	pg.Depts = a.s.anDeptChoices(ctx, q.DeptID)
	v := url.Values{}
	v.Set("from", pg.A.From.Format(time.RFC3339))
	v.Set("to", pg.A.To.Format(time.RFC3339))
	if q.DeptID != 0 {
		v.Set("dept_id", strconv.FormatInt(q.DeptID, 10))
	}
	pg.ExportURL = "/api/v1/complaints/analysis.xlsx?" + v.Encode()
	if a.s.web == nil {
		httpx.JSON(w, http.StatusOK, pg.A)
		return
	}
	web.Render(a.s.web, w, r, http.StatusOK, "complaint/analysis", "complaint.analysis.title", pg)
}

// analysisPageQuery reads the page's form: from and to are China dates, both included.
func analysisPageQuery(r *http.Request) (AnalysisQuery, error) {
	q, err := analysisQueryFrom(r)
	if err != nil {
		return q, err
	}
	if s := r.URL.Query().Get("to"); s != "" {
		if _, perr := time.ParseInLocation(time.DateOnly, s, anChina); perr == nil {
			q.To = q.To.AddDate(0, 0, 1) // the last day is included
		}
	}
	return q, nil
}

// anDeptChoices are the departments the actor may analyse, for the filter.
func (s *Service) anDeptChoices(ctx context.Context, selected int64) []AnalysisChoice {
	l := anLabelsOf(ctx)
	out := []AnalysisChoice{{Value: "", Label: l.t("complaint.analysis.all_depts"), Selected: selected == 0}}
	if s.staff == nil {
		return out
	}
	a := authz.From(ctx)
	ds, err := s.staff.AllDepartments(ctx)
	if err != nil {
		return out
	}
	for _, d := range ds {
		if a != nil && a.ScopeOf(PermAnalyze) != authz.ScopeAll && d.ID != a.DeptID {
			continue
		}
		out = append(out, AnalysisChoice{Value: strconv.FormatInt(d.ID, 10), Label: d.Name, Selected: d.ID == selected})
	}
	return out
}

// TrendChart is the SVG geometry of the trend: a bar per day or month.
type TrendChart struct {
	Width, Height int
	Empty         bool
	Left, Right   string
	Top, Bottom   string
	Bars          []TrendBar
	Ticks         []ChartTick
}

// TrendBar is one bucket's bar.
type TrendBar struct {
	X, Y, W, H string
	CX, LabelY string
	Label      string // shown under every few bars
	Title      string
	Count      int64
}

func anBuildTrend(points []TrendPoint) TrendChart {
	ch := TrendChart{Width: paretoWidth, Height: 240}
	left, right := float64(paretoLeft), float64(paretoWidth-16)
	top, bottom := float64(paretoTop), float64(ch.Height-40)
	ch.Left, ch.Right, ch.Top, ch.Bottom = paretoNum(left), paretoNum(right), paretoNum(top), paretoNum(bottom)
	var most int64
	for _, p := range points {
		most = max(most, p.Count)
	}
	ch.Empty = most == 0
	scale := paretoCeil(most, paretoTicks)
	height := bottom - top
	for i := 0; i <= paretoTicks; i++ {
		ch.Ticks = append(ch.Ticks, ChartTick{Y: paretoNum(bottom - height*float64(i)/paretoTicks),
			Text: strconv.FormatInt(scale*int64(i)/paretoTicks, 10)})
	}
	if len(points) == 0 {
		return ch
	}
	slot := (right - left) / float64(len(points))
	every := max(1, (len(points)+11)/12) // about twelve labels at most
	for i, p := range points {
		h := height * float64(p.Count) / float64(scale)
		b := TrendBar{X: paretoNum(left + slot*float64(i) + slot*0.1), Y: paretoNum(bottom - h), W: paretoNum(slot * 0.8),
			H: paretoNum(h), CX: paretoNum(left + slot*float64(i) + slot/2), LabelY: paretoNum(bottom + 16),
			Title: p.Key + ": " + strconv.FormatInt(p.Count, 10), Count: p.Count}
		if i%every == 0 {
			b.Label = p.Key
			if len(p.Key) == len("2006-01-02") {
				b.Label = p.Key[5:]
			}
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

// ======================= export =======================

// ExportAnalysis writes the analysis as an .xlsx workbook, a sheet per table with
// headers in the request's language, and records the export. It returns the file and
// its name.
func (s *Service) ExportAnalysis(ctx context.Context, q AnalysisQuery) ([]byte, string, error) {
	an, err := s.analyze(ctx, q)
	if err != nil {
		return nil, "", err
	}
	body, err := writeAnalysisXLSX(an, anLabelsOf(ctx))
	if err != nil {
		return nil, "", fmt.Errorf("complaint: export analysis: %w", err)
	}
	if err := s.db.WithTx(ctx, func(ctx context.Context) error {
		d := analysisDetail(&an)
		d["bytes"] = len(body)
		return s.record(ctx, "complaint.analysis.export", 0, d)
	}); err != nil {
		return nil, "", err
	}
	name := "complaint-analysis-" + an.From.In(anChina).Format("20060102") + "-" +
		an.To.Add(-time.Millisecond).In(anChina).Format("20060102") + ".xlsx"
	return body, name, nil
}

// analysisSheet is one table of the workbook.
type analysisSheet struct {
	name    string
	header  []string
	rows    [][]any
	percent []int // columns holding percentages
}

// analysisSheets lays the analysis out as tables; the workbook and the tests read them.
func analysisSheets(an Analysis, l anLabels) []analysisSheet {
	h := func(keys ...string) []string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = l.t("complaint.analysis.col." + k)
		}
		return out
	}
	t := an.Totals
	summary := analysisSheet{name: l.t("complaint.analysis.sheet.summary"), header: h("figure", "value")}
	for _, kv := range []struct {
		key string
		v   any
	}{
		{"period_from", an.From.In(anChina).Format(time.DateOnly)},
		{"period_to", an.To.Add(-time.Millisecond).In(anChina).Format(time.DateOnly)},
		{"issues", t.Issues}, {"linked", t.Linked}, {"received", t.Received},
		{"assessed", t.Assessed}, {"valid", t.Valid}, {"rejected", t.Rejected},
		{"valid_rate", t.ValidRate}, {"rejected_rate", t.RejectedRate},
		{"first_answered", t.FirstDone}, {"first_on_time", t.FirstOnTime}, {"first_on_time_rate", t.FirstOnTimeRate},
		{"result_done", t.ResultDone}, {"result_on_time", t.ResultOnTime}, {"result_on_time_rate", t.ResultOnTimeRate},
		{"satisfaction_answered", an.Satisfaction.Answered}, {"satisfaction_average", an.Satisfaction.Average},
	} {
		summary.rows = append(summary.rows, []any{l.t("complaint.analysis.fig." + kv.key), kv.v})
	}
	trend := analysisSheet{name: l.t("complaint.analysis.sheet.trend"), header: append(h("period", "count"),
		l.t("complaint.level.general"), l.t("complaint.level.urgent"), l.t("complaint.level.major"))}
	for _, p := range an.Trend {
		trend.rows = append(trend.rows, []any{p.Key, p.Count, p.General, p.Urgent, p.Major})
	}
	shares := func(key string, sh []AnalysisShare) analysisSheet {
		out := analysisSheet{name: l.t("complaint.analysis.sheet." + key), header: h(key, "count", "share"), percent: []int{2}}
		for _, x := range sh {
			out.rows = append(out.rows, []any{x.Label, x.Count, x.Share})
		}
		return out
	}
	pareto := analysisSheet{name: l.t("complaint.analysis.sheet.pareto"), header: h("cause", "count", "percent", "cumulative"),
		percent: []int{2, 3}}
	for _, p := range an.Pareto {
		pareto.rows = append(pareto.rows, []any{p.Label, p.Count, p.Percent, p.Cumulative})
	}
	stages := analysisSheet{name: l.t("complaint.analysis.sheet.stages"), header: h("stage", "moves", "avg_hours", "median_hours")}
	for _, st := range an.Stages {
		stages.rows = append(stages.rows, []any{st.Label, st.Moves, st.AvgHours, st.MedianHours})
	}
	repeat := analysisSheet{name: l.t("complaint.analysis.sheet.repeat"), header: h("customer_id", "customer", "count")}
	for _, r := range an.Repeat {
		repeat.rows = append(repeat.rows, []any{r.CustomerID, r.Name, r.Count})
	}
	sat := analysisSheet{name: l.t("complaint.analysis.sheet.satisfaction"), header: h("score", "count", "share"),
		percent: []int{2}}
	for _, d := range an.Satisfaction.Distribution {
		sat.rows = append(sat.rows, []any{d.Score, d.Count, d.Percent})
	}
	pens := analysisSheet{name: l.t("complaint.analysis.sheet.penalties"), header: h("dept", "penalties", "fines", "fine_yuan")}
	for _, p := range an.Penalties {
		pens.rows = append(pens.rows, []any{p.Dept, p.Count, p.Fines, float64(p.Amount) / 100})
	}
	return []analysisSheet{summary, trend, shares("level", an.ByLevel), shares("channel", an.ByChannel),
		shares("dept", an.ByDept), shares("cause", an.ByCause), pareto, stages, repeat, sat, pens}
}

// writeAnalysisXLSX writes the sheets into one workbook.
func writeAnalysisXLSX(an Analysis, l anLabels) ([]byte, error) {
	return writeWorkbook(analysisSheets(an, l))
}

// writeWorkbook writes sheets as one .xlsx workbook (tabular.Workbook: a bold, frozen
// header row, numbers as numbers, percentages with one decimal, formula-safe text).
func writeWorkbook(sheets []analysisSheet) ([]byte, error) {
	out := make([]tabular.Sheet, len(sheets))
	for i, sh := range sheets {
		out[i] = tabular.Sheet{Name: sh.name, Header: sh.header, Rows: sh.rows, Percent: sh.percent}
	}
	return tabular.Workbook(out)
}
