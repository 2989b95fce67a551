package revisit

// OWNED BY the report engineer (H4): the routes of the metrics and the summary report,
// its page (printable: what a return-visit center hands its manager each month) and its
// .xlsx workbook.

import (
	"context"
	"fmt"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// reportRoutes lists the report's routes.
func (s *Service) reportRoutes() []httpx.Route {
	a := reportAPI{s: s}
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/reports/revisits", Perm: PermReport, Handler: a.report},
		{Method: "GET", Path: "/api/v1/reports/revisits.xlsx", Perm: PermReport, Handler: a.export},
		{Method: "GET", Path: "/revisits/report", Perm: PermReport, Page: true, Handler: a.page},
	}
}

type reportAPI struct{ s *Service }

// rpTimeParam reads an RFC 3339 time or a China date.
func rpTimeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, rpChina); err == nil {
		return t, nil
	}
	return time.Time{}, apperr.New(apperr.Malformed, "error.malformed.param", "param", name).OnField(name)
}

// ParseReportMonth reads a month "2026-10" as its first instant in China time.
func ParseReportMonth(v string) (time.Time, bool) {
	if len(v) != len("2006-01") {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("2006-01", v, rpChina)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// ReportQueryFrom reads the report's query: month=2026-10, or from and to (RFC 3339
// or China dates; to is exclusive), rule and dept_id.
func ReportQueryFrom(r *http.Request) (ReportQuery, error) {
	var q ReportQuery
	v := r.URL.Query()
	if m := v.Get("month"); m != "" {
		t, ok := ParseReportMonth(m)
		if !ok {
			return q, apperr.New(apperr.Malformed, "error.malformed.param", "param", "month").OnField("month")
		}
		q.From, q.To = t, t.AddDate(0, 1, 0)
	} else {
		var err error
		if q.From, err = rpTimeParam(r, "from"); err != nil {
			return q, err
		}
		if q.To, err = rpTimeParam(r, "to"); err != nil {
			return q, err
		}
	}
	q.Rule = strings.TrimSpace(v.Get("rule"))
	var err error
	q.DeptID, err = httpx.QueryInt64(r, "dept_id")
	return q, err
}

func (a reportAPI) report(w http.ResponseWriter, r *http.Request) {
	q, err := ReportQueryFrom(r)
	if err == nil {
		var rp Report
		if rp, err = a.s.Report(r.Context(), q); err == nil {
			httpx.JSON(w, http.StatusOK, rp)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a reportAPI) export(w http.ResponseWriter, r *http.Request) {
	q, err := ReportQueryFrom(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	body, name, err := a.s.ExportReport(r.Context(), q)
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

// ReportPage is the model of /revisits/report.
type ReportPage struct {
	R Report
	// RuleRows are the rules' figures with their flags.
	RuleRows []ReportRuleRow
	// ProcessingShort: issues were raised and not all answered (the target is 100%).
	ProcessingShort bool
	// MoreUnanswered: more issues wait than the list shows.
	MoreUnanswered bool
	HasReport      bool
	Month          string // the month picked (2026-10) or ""
	FromDate       string // the period as the form shows it (the last day included)
	ToDate         string
	Rules          []ReportChoice
	Depts          []ReportChoice
	ExportURL      string
	PrintedAt      string
	Scope          string // who the figures cover, in words
	Errors         web.FormErrors
	Message        string
}

// ReportRuleRow is a rule's line of the report.
type ReportRuleRow struct {
	ReportFigures
	// BelowTarget: the visit rate achieved is under the rule's rate.
	BelowTarget bool
}

// ReportChoice is an option of a select.
type ReportChoice struct {
	Value    string
	Label    string
	Selected bool
}

func (a reportAPI) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := ReportPage{Month: r.URL.Query().Get("month")}
	q, err := reportPageQuery(r)
	if err == nil {
		pg.R, err = a.s.Report(ctx, q)
	}
	pg.Rules = a.s.rpRuleChoices(ctx, q.Rule)
	pg.Depts = a.s.rpDeptChoices(ctx, q.DeptID)
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
		web.Render(a.s.web, w, r, http.StatusUnprocessableEntity, "revisit/report", "revisit.report.title", pg)
		return
	}
	pg.HasReport = true
	for _, f := range pg.R.Rules {
		pg.RuleRows = append(pg.RuleRows, ReportRuleRow{ReportFigures: f,
			BelowTarget: pg.R.Sampling && f.Decided > 0 && f.VisitRate < float64(f.TargetRate)})
	}
	pg.ProcessingShort = pg.R.Issues.Raised > 0 && pg.R.Issues.Answered < pg.R.Issues.Raised
	pg.MoreUnanswered = pg.R.Issues.Unanswered > int64(len(pg.R.Issues.Open))
	pg.FromDate = pg.R.From.In(rpChina).Format(time.DateOnly)
	pg.ToDate = pg.R.To.Add(-time.Millisecond).In(rpChina).Format(time.DateOnly)
	pg.PrintedAt = a.s.now().In(rpChina).Format("2006-01-02 15:04")
	l := rpLabelsOf(ctx)
	pg.Scope = l.t("revisit.report.scope_all")
	if !pg.R.Sampling {
		pg.Scope = l.t("revisit.report.scope_part")
	}
	v := url.Values{}
	v.Set("from", pg.R.From.Format(time.RFC3339))
	v.Set("to", pg.R.To.Format(time.RFC3339))
	if q.Rule != "" {
		v.Set("rule", q.Rule)
	}
	if q.DeptID != 0 {
		v.Set("dept_id", strconv.FormatInt(q.DeptID, 10))
	}
	pg.ExportURL = "/api/v1/reports/revisits.xlsx?" + v.Encode()
	if a.s.web == nil {
		httpx.JSON(w, http.StatusOK, pg.R)
		return
	}
	web.Render(a.s.web, w, r, http.StatusOK, "revisit/report", "revisit.report.title", pg)
}

// reportPageQuery reads the page's form: a month, or from and to as China dates, both
// included.
func reportPageQuery(r *http.Request) (ReportQuery, error) {
	q, err := ReportQueryFrom(r)
	if err != nil || r.URL.Query().Get("month") != "" {
		return q, err
	}
	if s := r.URL.Query().Get("to"); s != "" {
		if _, perr := time.ParseInLocation(time.DateOnly, s, rpChina); perr == nil {
			q.To = q.To.AddDate(0, 0, 1) // the last day is included
		}
	}
	return q, nil
}

// rpRuleChoices are the rules for the filter.
func (s *Service) rpRuleChoices(ctx context.Context, selected string) []ReportChoice {
	l := rpLabelsOf(ctx)
	out := []ReportChoice{{Value: "", Label: l.t("revisit.report.all_rules"), Selected: selected == ""}}
	rules, err := reportStore{db: s.d.DB}.rules(ctx)
	if err != nil {
		return out
	}
	for _, r := range rules {
		out = append(out, ReportChoice{Value: r.code, Label: r.name, Selected: r.code == selected})
	}
	return out
}

// rpDeptChoices are the departments the actor may report on, for the filter.
func (s *Service) rpDeptChoices(ctx context.Context, selected int64) []ReportChoice {
	l := rpLabelsOf(ctx)
	out := []ReportChoice{{Value: "", Label: l.t("revisit.report.all_depts"), Selected: selected == 0}}
	if s.d.Staff == nil {
		return out
	}
	a, err := authz.RequireStaff(ctx, PermReport)
	if err != nil {
		return out
	}
	ds, err := s.d.Staff.AllDepartments(ctx)
	if err != nil {
		return out
	}
	_, all := rpScope(a, ReportQuery{})
	for _, d := range ds {
		if !all && d.ID != a.DeptID {
			continue
		}
		out = append(out, ReportChoice{Value: strconv.FormatInt(d.ID, 10), Label: d.Name, Selected: d.ID == selected})
	}
	return out
}

// ======================= export =======================

// ExportReport writes the report as an .xlsx workbook (a sheet per table, headed in the
// request's language) and records the export. It returns the file and its name.
func (s *Service) ExportReport(ctx context.Context, q ReportQuery) ([]byte, string, error) {
	rp, err := s.report(ctx, q)
	if err != nil {
		return nil, "", err
	}
	body, err := rpWorkbook(reportSheets(rp, rpLabelsOf(ctx)))
	if err != nil {
		return nil, "", fmt.Errorf("revisit: export report: %w", err)
	}
	if err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		return s.reportAudit(ctx, "revisit.report.export", &rp, map[string]any{"bytes": len(body)})
	}); err != nil {
		return nil, "", err
	}
	name := "revisit-report-" + rp.From.In(rpChina).Format("20060102") + "-" +
		rp.To.Add(-time.Millisecond).In(rpChina).Format("20060102") + ".xlsx"
	return body, name, nil
}

// reportSheet is one table of the workbook.
type reportSheet struct {
	name    string
	header  []string
	rows    [][]any
	percent []int // columns holding percentages
}

// reportSheets lays the report out as tables; the workbook and the tests read them.
func reportSheets(rp Report, l rpLabels) []reportSheet {
	h := func(keys ...string) []string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = l.t("revisit.report.col." + k)
		}
		return out
	}
	t := rp.Totals
	summary := reportSheet{name: l.t("revisit.report.sheet.summary"), header: h("figure", "value")}
	figs := []struct {
		key string
		v   any
	}{
		{"period_from", rp.From.In(rpChina).Format(time.DateOnly)},
		{"period_to", rp.To.Add(-time.Millisecond).In(rpChina).Format(time.DateOnly)},
	}
	if rp.Sampling {
		figs = append(figs, []struct {
			key string
			v   any
		}{{"decided", t.Decided}, {"chosen", t.Chosen}, {"sampled_rate", t.SampledRate}, {"visited", t.Visited},
			{"visit_rate", t.VisitRate}}...)
	}
	figs = append(figs, []struct {
		key string
		v   any
	}{
		{"tasks", t.Tasks}, {"done", t.Done}, {"unreached", t.Unreached}, {"expired", t.Expired}, {"open", t.Open},
		{"cancelled", t.Cancelled}, {"on_time_rate", t.OnTimeRate}, {"reach_rate", t.ReachRate},
		{"rated", t.Rated}, {"satisfaction_avg", t.SatAvg}, {"dissatisfied", t.Low},
		{"issues_raised", rp.Issues.Raised}, {"issues_answered", rp.Issues.Answered},
		{"processing_rate", rp.Issues.ProcessingRate}, {"issues_unanswered", rp.Issues.Unanswered},
		{"false_confirmed", rp.False.Confirmed}, {"false_pending", rp.False.Pending},
	}...)
	for _, kv := range figs {
		summary.rows = append(summary.rows, []any{l.t("revisit.report.fig." + kv.key), kv.v})
	}
	rules := reportSheet{name: l.t("revisit.report.sheet.rules"),
		header: h("rule", "target_rate", "decided", "chosen", "sampled_rate", "visit_rate", "tasks", "done", "unreached",
			"expired", "on_time_rate", "reach_rate", "rated", "satisfaction_avg", "dissatisfied", "issues_raised",
			"processing_rate"),
		percent: []int{4, 5, 10, 11, 16}}
	for _, f := range rp.Rules {
		rules.rows = append(rules.rows, []any{f.Name, f.TargetRate, f.Decided, f.Chosen, f.SampledRate, f.VisitRate, f.Tasks,
			f.Done, f.Unreached, f.Expired, f.OnTimeRate, f.ReachRate, f.Rated, f.SatAvg, f.Low, f.Raised, f.ProcessingRate})
	}
	months := reportSheet{name: l.t("revisit.report.sheet.months"),
		header:  h("month", "tasks", "done", "on_time_rate", "reach_rate", "rated", "satisfaction_avg"),
		percent: []int{3, 4}}
	for _, m := range rp.Months {
		months.rows = append(months.rows, []any{m.Month, m.Tasks, m.Done, m.OnTimeRate, m.ReachRate, m.Rated, m.SatAvg})
	}
	sat := reportSheet{name: l.t("revisit.report.sheet.satisfaction"), header: h("score", "count", "share"), percent: []int{2}}
	for _, d := range rp.Satisfaction.Distribution {
		sat.rows = append(sat.rows, []any{d.Score, d.Count, d.Percent})
	}
	agents := reportSheet{name: l.t("revisit.report.sheet.agents"),
		header: h("staff", "tasks", "done", "unreached", "on_time_rate", "rated", "satisfaction_avg", "dissatisfied",
			"false_confirmed"),
		percent: []int{4}}
	for _, a := range rp.Agents {
		agents.rows = append(agents.rows, []any{a.Name, a.Tasks, a.Done, a.Unreached, a.OnTimeRate, a.Rated, a.SatAvg, a.Low, a.False})
	}
	open := reportSheet{name: l.t("revisit.report.sheet.unanswered"),
		header: h("issue", "task", "customer", "ticket", "body", "assignee", "raised_at", "appointment_at", "age_days")}
	for _, i := range rp.Issues.Open {
		appt := ""
		if i.AppointmentAt != nil {
			appt = i.AppointmentAt.In(rpChina).Format("2006-01-02 15:04")
		}
		ticket := any("")
		if i.TicketID != 0 {
			ticket = i.TicketID
		}
		open.rows = append(open.rows, []any{i.ID, i.TaskID, i.Customer, ticket, i.Body, i.Assignee,
			i.RaisedAt.In(rpChina).Format("2006-01-02 15:04"), appt, i.AgeDays})
	}
	falses := reportSheet{name: l.t("revisit.report.sheet.false"), header: h("staff", "false_confirmed")}
	for _, f := range rp.False.ByStaff {
		falses.rows = append(falses.rows, []any{f.Name, f.Count})
	}
	return []reportSheet{summary, rules, months, sat, agents, open, falses}
}

// rpWorkbook writes sheets as one .xlsx workbook (tabular.Workbook: a bold, frozen
// header row, numbers as numbers, percentages with one decimal, formula-safe text).
func rpWorkbook(sheets []reportSheet) ([]byte, error) {
	out := make([]tabular.Sheet, len(sheets))
	for i, sh := range sheets {
		out[i] = tabular.Sheet{Name: sh.name, Header: sh.header, Rows: sh.rows, Percent: sh.percent}
	}
	return tabular.Workbook(out)
}
