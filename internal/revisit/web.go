package revisit

// The visit workspace (/revisits, issue 9 item 4): the task lists (mine, the team's,
// the overdue ones) and the task page with the customer's file, the source and its
// history beside the rule's script and the record form; sign-off and false-record
// flagging for those who may. Every form works without JavaScript (POST-redirect-GET);
// revisit.js adds the signature pad and re-checks the do-not-disturb warning.
// The workPages call the engine's and the visit work's service methods; they decide nothing.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Workspace views (tabs).
const (
	wsViewMine    = ViewMine
	wsViewTeam    = ViewTeam
	wsViewOverdue = ViewOverdue
)

var wsViews = []string{wsViewMine, wsViewTeam, wsViewOverdue}

// Limits of the workspace.
const (
	webIssueRows   = 2    // new-issue rows on the record form
	webHistoryRows = 30   // entries of the source's history shown
	webMaxAnswer   = 2000 // characters of one answer (the service checks again)
)

// Permissions the workPages check for showing forms (the service checks them again).
const (
	webPermSignoff = "revisit:signoff"
	webPermVerify  = "revisit:verify"
)

// webZone is the time zone of dates typed into the forms (China time).
var webZone = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// workPages holds the page handlers.
type workPages struct{ s *Service }

func (p workPages) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.s.web.PageError(w, r, err)
}

func wsItoa(n int64) string { return strconv.FormatInt(n, 10) }

func wsSys(ctx context.Context) context.Context {
	return authz.WithActor(ctx, authz.System("revisit-web"))
}

// webStaffNames caches the display names of staff members for one page.
type webStaffNames struct {
	s     *Service
	names map[int64]string
}

func (p workPages) names() *webStaffNames { return &webStaffNames{s: p.s, names: map[int64]string{}} }

func (n *webStaffNames) name(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	if v, ok := n.names[id]; ok {
		return v
	}
	v := "#" + wsItoa(id)
	if n.s.d.Staff != nil {
		if st, err := n.s.d.Staff.GetStaff(wsSys(ctx), id); err == nil {
			v = st.DisplayName
		}
	}
	n.names[id] = v
	return v
}

// wsSourceHref is the staff page of a task's source ("" when it has none).
func wsSourceHref(sourceType string, id int64) string {
	if id == 0 {
		return ""
	}
	switch sourceType {
	case SourceTicket:
		return "/tickets/" + wsItoa(id)
	case SourceComplaint:
		return "/complaints/" + wsItoa(id)
	case SourceActivity:
		return "/activities/" + wsItoa(id)
	case SourceFieldVisit:
		return "/field-visits/" + wsItoa(id)
	case SourceCustomer:
		return "/customers/" + wsItoa(id)
	case SourceTask:
		return "/revisits/" + wsItoa(id)
	}
	return ""
}

// ruleLabels maps rule codes to their names (the code itself when unknown).
func (p workPages) ruleLabels(ctx context.Context) ([]Rule, map[string]string) {
	rules, _ := p.webRules(ctx)
	out := make(map[string]string, len(rules))
	for _, r := range rules {
		out[r.Code] = r.Name
	}
	return rules, out
}

func webLabelOr(m map[string]string, k string) string {
	if v := m[k]; v != "" {
		return v
	}
	return k
}

// ======================= the task lists =======================

// WorkPage is the model of /revisits.
type WorkPage struct {
	View        string
	Tabs        []WorkTab
	Rules       []web.Choice
	Statuses    []web.Choice
	DueBefore   string
	Rows        []WorkRow
	NextURL     string
	ReloadURL   string
	FilterError string
}

// WorkTab is one tab of the workspace.
type WorkTab struct {
	Key, Label, Href string
	Active           bool
}

// WorkRow is one task of a list.
type WorkRow struct {
	ID                                  int64
	Customer, Mobile                    string // masked
	Rule, RuleLabel                     string
	SourceType, SourceLabel, SourceHref string
	SourceID                            int64
	WindowStart, WindowEnd, ScheduledAt time.Time
	Method, MethodLabel                 string
	Status, StatusLabel                 string
	Assignee                            string
	Round                               int
	Overdue                             bool
}

// wsQuery is the parsed query of /revisits.
type wsQuery struct {
	View, Rule, Status, Due, Cursor string
	DueBefore                       time.Time
}

func wsParseQuery(q url.Values) (wsQuery, apperr.Fields) {
	f := apperr.Fields{}
	wq := wsQuery{View: q.Get("view"), Rule: strings.TrimSpace(q.Get("rule")), Status: q.Get("status"),
		Due: strings.TrimSpace(q.Get("due_before")), Cursor: q.Get("cursor")}
	if wq.View == "" {
		wq.View = wsViewMine
	}
	if !webHas(wsViews, wq.View) {
		f.Add("view", "revisit_web.invalid.filter", "field", "view")
		wq.View = wsViewMine
	}
	if wq.Status != "" && !webHas(Statuses, wq.Status) {
		f.Add("status", "revisit_web.invalid.filter", "field", "status")
		wq.Status = ""
	}
	if len(wq.Rule) > 64 {
		f.Add("rule", "revisit_web.invalid.filter", "field", "rule")
		wq.Rule = ""
	}
	if wq.Due != "" {
		d, err := time.ParseInLocation(time.DateOnly, wq.Due, webZone)
		if err != nil {
			f.Add("due_before", "revisit_web.invalid.filter", "field", "due_before")
			wq.Due = ""
		} else {
			wq.DueBefore = d
		}
	}
	return wq, f
}

func webHas(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (wq wsQuery) values(view string) url.Values {
	v := url.Values{}
	v.Set("view", view)
	if wq.Rule != "" {
		v.Set("rule", wq.Rule)
	}
	if wq.Status != "" {
		v.Set("status", wq.Status)
	}
	if wq.Due != "" {
		v.Set("due_before", wq.Due)
	}
	return v
}

func (p workPages) work(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	wq, fe := wsParseQuery(r.URL.Query())
	pg := WorkPage{View: wq.View, DueBefore: wq.Due}
	if len(fe) > 0 {
		pg.FilterError = web.T(r, "revisit_web.invalid.filter", "field", strings.Join(webFieldNames(fe), ", "))
	}
	for _, v := range wsViews {
		pg.Tabs = append(pg.Tabs, WorkTab{Key: v, Label: web.T(r, "revisit_web.tab."+v),
			Href: "/revisits?" + wq.values(v).Encode(), Active: v == wq.View})
	}
	pg.ReloadURL = "/revisits?" + wq.values(wq.View).Encode()
	rules, labels := p.ruleLabels(ctx)
	pg.Rules = []web.Choice{{Value: "", Label: web.T(r, "revisit_web.filter.any"), Selected: wq.Rule == ""}}
	for _, ru := range rules {
		pg.Rules = append(pg.Rules, web.Choice{Value: ru.Code, Label: ru.Name, Selected: ru.Code == wq.Rule})
	}
	pg.Statuses = web.Choices(r, "revisit_web.status.", Statuses, wq.Status, "revisit_web.filter.any")
	tasks, next, err := p.webTasks(ctx, wq)
	if err != nil {
		if _, msg, ok := p.s.web.FieldErrors(ctx, err); ok {
			pg.FilterError = msg
			web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "revisit/work", "revisit_web.page.work", pg)
			return
		}
		p.fail(w, r, err)
		return
	}
	ids := make([]int64, 0, len(tasks))
	for _, t := range tasks {
		ids = append(ids, t.CustomerID)
	}
	refs := map[int64]webCustomerRef{}
	if len(ids) > 0 {
		if refs, err = p.webCustomerRefs(ctx, ids); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	nm := p.names()
	now := p.s.now()
	for _, t := range tasks {
		pg.Rows = append(pg.Rows, p.taskRow(r, t, refs[t.CustomerID], labels, nm, now))
	}
	if next != "" {
		v := wq.values(wq.View)
		v.Set("cursor", next)
		pg.NextURL = "/revisits?" + v.Encode()
	}
	web.Render(p.s.web, w, r, http.StatusOK, "revisit/work", "revisit_web.page.work", pg)
}

func webFieldNames(f apperr.Fields) []string {
	var out []string
	for k := range f {
		out = append(out, k)
	}
	return out
}

func (p workPages) taskRow(r *http.Request, t Task, ref webCustomerRef, labels map[string]string, nm *webStaffNames, now time.Time) WorkRow {
	row := WorkRow{ID: t.ID, Customer: ref.Name, Mobile: ref.Mobile, Rule: t.Rule, RuleLabel: webLabelOr(labels, t.Rule),
		SourceType: t.SourceType, SourceLabel: web.Label(r, "revisit_web.source.", t.SourceType), SourceID: t.SourceID,
		SourceHref: wsSourceHref(t.SourceType, t.SourceID), WindowStart: t.WindowStart, WindowEnd: t.WindowEnd,
		ScheduledAt: t.ScheduledAt, Method: t.Method, MethodLabel: web.Label(r, "revisit_web.method.", t.Method),
		Status: t.Status, StatusLabel: web.Label(r, "revisit_web.status.", t.Status),
		Assignee: nm.name(r.Context(), t.AssigneeID), Round: t.Round, Overdue: t.Open() && now.After(t.WindowEnd)}
	if row.Customer == "" {
		row.Customer = "#" + wsItoa(t.CustomerID)
	}
	return row
}

// webCustomerRef is the masked name and mobile of a customer for a list row.
type webCustomerRef struct{ Name, Mobile string }

// webCustomerRefs reads the masked summaries of customers ids and records the read
// ("revisit.list" with the customer ids shown), as the customer service's own list does.
func (p workPages) webCustomerRefs(ctx context.Context, ids []int64) (map[int64]webCustomerRef, error) {
	out := map[int64]webCustomerRef{}
	if p.s.d.Customers == nil {
		return out, nil
	}
	refs, err := p.s.d.Customers.Refs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("revisit: customers: %w", err)
	}
	for id, ref := range refs {
		out[id] = webCustomerRef{Name: secure.MaskName(ref.Name), Mobile: ref.MaskedMobile}
	}
	err = p.s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		return p.s.record(ctx, "revisit.list", "customer", 0, map[string]any{"customer_ids": ids, "masked": true})
	})
	return out, err
}
