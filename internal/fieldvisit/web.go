package fieldvisit

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// The field-visit pages: the waiqin form sized for a phone (one column, large inputs,
// no JavaScript needed: the form posts and redirects), the list of visits (mine, my
// team's, everything in scope), one visit, and the visit plans with the overdue
// customers.

// pages holds the page handlers.
type pages struct{ s *Service }

// Choice is one entry of a select.
type Choice = web.Choice

// Tab is one of the list's views.
type Tab struct {
	Label  string
	Href   string
	Active bool
}

// Row is one visit in the list.
type Row struct {
	ID        int64
	VisitedAt time.Time
	Customer  string
	Business  string
	Contact   string
	Intent    string
	Deal      bool
	Staff     string
}

// ListPage is the model of /field-visits.
type ListPage struct {
	Tabs      []Tab
	Rows      []Row
	NextHref  string
	CanWrite  bool
	CanManage bool
}

// CustomerChoice is a customer offered on the form (the actor's own, or found).
type CustomerChoice struct {
	ID       int64
	Name     string
	Selected bool
}

// NewPage is the model of /field-visits/new.
type NewPage struct {
	CQ        string
	Customers []CustomerChoice
	More      bool
	Intents   []Choice
	V         map[string]string
	Errors    web.FormErrors
	Message   string
}

// DetailPage is the model of /field-visits/{id}.
type DetailPage struct {
	V View
}

// PlanRow is one editable plan line.
type PlanRow struct {
	Index  int
	Kinds  []Choice
	Value  string
	Months string
	Days   string
}

// PlansPage is the model of /field-visits/plans.
type PlansPage struct {
	Plans     []PlanRow
	Version   int64
	CanManage bool
	Overdue   []Overdue
	Truncated bool
	Errors    web.FormErrors
	Message   string
}

func (p pages) fail(w http.ResponseWriter, r *http.Request, err error) { p.s.web.PageError(w, r, err) }

func malformedForm() error { return apperr.New(apperr.Malformed, "error.malformed", "detail", "form") }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (p pages) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := authz.From(ctx)
	q := r.URL.Query()
	f := Filter{View: q.Get("view")}
	if f.View != ViewMine && f.View != ViewTeam {
		f.View = ""
	}
	page, err := p.s.List(ctx, f, httpx.DefaultLimit, q.Get("cursor"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := ListPage{CanWrite: a.Can(PermWrite), CanManage: a.Can(PermManage)}
	for _, t := range []struct{ view, key string }{{ViewMine, "fieldvisit.list.mine"}, {ViewTeam, "fieldvisit.list.team"},
		{"", "fieldvisit.list.all"}} {
		href := "/field-visits"
		if t.view != "" {
			href += "?view=" + t.view
		}
		pg.Tabs = append(pg.Tabs, Tab{Label: web.T(r, t.key), Href: href, Active: t.view == f.View})
	}
	for _, v := range page.Items {
		pg.Rows = append(pg.Rows, Row{ID: v.ID, VisitedAt: v.VisitedAt, Customer: v.CustomerName, Business: v.BusinessType,
			Contact: v.ContactName, Intent: v.IntentClass, Deal: v.DealClosed, Staff: v.StaffName})
	}
	if page.NextCursor != "" {
		u := url.Values{"cursor": {page.NextCursor}}
		if f.View != "" {
			u.Set("view", f.View)
		}
		pg.NextHref = "/field-visits?" + u.Encode()
	}
	web.Render(p.s.web, w, r, http.StatusOK, "fieldvisit/list", "fieldvisit.page.list", pg)
}

// newFields are the form fields echoed back on an error.
var newFields = []string{"customer_id", "business_type", "contact_name", "contact_title", "phone", "visited_at",
	"purpose", "result", "next_step", "intent_class", "deal_closed", "location"}

// fillNew offers the customers: those found by the search, else the actor's first ones
// (a salesperson's own), plus the one chosen.
func (p pages) fillNew(r *http.Request, pg *NewPage) error {
	ctx := r.Context()
	pg.Intents = web.Choices(r, "fieldvisit.intent.", IntentClasses, pg.V["intent_class"], "fieldvisit.intent.none")
	if !authz.From(ctx).Can(customer.PermRead) {
		return nil
	}
	chosen := web.FormInt(pg.V["customer_id"])
	list, err := p.s.d.Customers.ListCustomers(ctx, customer.Filter{Q: pg.CQ}, 50, "")
	if err != nil {
		return err
	}
	for _, c := range list.Items {
		pg.Customers = append(pg.Customers, CustomerChoice{ID: c.ID, Name: c.Name, Selected: c.ID == chosen})
	}
	pg.More = list.NextCursor != ""
	if chosen > 0 && !hasChoice(pg.Customers, chosen) {
		if ref, err := p.s.d.Customers.Ref(ctx, chosen); err == nil &&
			authz.From(ctx).Reaches(customer.PermRead, authz.Record{DeptID: ref.DeptID, TeamID: ref.TeamID, OwnerID: ref.OwnerID}) {
			pg.Customers = append([]CustomerChoice{{ID: ref.ID, Name: ref.Name, Selected: true}}, pg.Customers...)
		}
	}
	return nil
}

func hasChoice(cs []CustomerChoice, id int64) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

func (p pages) newForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pg := NewPage{CQ: strings.TrimSpace(q.Get("cq")), V: map[string]string{
		"visited_at": p.s.now().In(chinaTime).Format("2006-01-02T15:04")}}
	if id := q.Get("customer_id"); id != "" {
		pg.V["customer_id"] = id
	}
	status := http.StatusOK
	if err := p.fillNew(r, &pg); err != nil {
		if _, msg, ok := p.s.web.FieldErrors(r.Context(), err); ok {
			pg.Message, status = msg, httpx.Status(apperr.KindOf(err))
		} else {
			p.fail(w, r, err)
			return
		}
	}
	web.Render(p.s.web, w, r, status, "fieldvisit/new", "fieldvisit.page.new", pg)
}

// formTime parses a datetime-local value (China time); "" is nil.
func formTime(f apperr.Fields, field, s string) *time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, chinaTime); err == nil {
			return &t
		}
	}
	f.Add(field, "fieldvisit.invalid.time")
	return nil
}

func (p pages) create(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	f := r.PostFormValue
	fe := apperr.Fields{}
	in := Input{CustomerID: web.FormInt(f("customer_id")), BusinessType: f("business_type"), ContactName: f("contact_name"),
		ContactTitle: f("contact_title"), Phone: f("phone"), VisitedAt: formTime(fe, "visited_at", f("visited_at")),
		Purpose: f("purpose"), Result: f("result"), NextStep: f("next_step"), IntentClass: f("intent_class"),
		DealClosed: f("deal_closed") != "", Location: f("location")}
	err := fe.Err()
	if err == nil {
		if err = httpx.CheckText(&in); err == nil {
			var v View
			if v, err = p.s.Create(ctx, in); err == nil {
				web.Redirect(w, r, "/field-visits/"+itoa(v.ID), "fieldvisit.flash.created")
				return
			}
		}
	}
	errs, msg, ok := p.s.web.FieldErrors(ctx, err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg := NewPage{CQ: strings.TrimSpace(f("cq")), V: map[string]string{}, Errors: errs, Message: msg}
	for _, k := range newFields {
		pg.V[k] = f(k)
	}
	if ferr := p.fillNew(r, &pg); ferr != nil {
		p.fail(w, r, ferr)
		return
	}
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "fieldvisit/new", "fieldvisit.page.new", pg)
}

func (p pages) detail(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v, err := p.s.Get(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "fieldvisit/detail", "fieldvisit.page.detail", DetailPage{V: v})
}

// blankPlanRows are the empty lines the plans form offers for new plans.
const blankPlanRows = 3

func planRows(r *http.Request, ps []Plan) []PlanRow {
	rows := make([]PlanRow, 0, len(ps)+blankPlanRows)
	num := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	for i, pl := range ps {
		rows = append(rows, PlanRow{Index: i, Kinds: web.Choices(r, "fieldvisit.kind.", ClassKinds, pl.Kind, "fieldvisit.kind.none"),
			Value: pl.Value, Months: num(pl.Months), Days: num(pl.Days)})
	}
	for i := 0; i < blankPlanRows; i++ {
		rows = append(rows, PlanRow{Index: len(ps) + i, Kinds: web.Choices(r, "fieldvisit.kind.", ClassKinds, "", "fieldvisit.kind.none")})
	}
	return rows
}

func (p pages) plansPage(r *http.Request, pg *PlansPage, ps []Plan) error {
	ctx := r.Context()
	pg.CanManage = authz.From(ctx).Can(PermManage)
	pg.Plans = planRows(r, ps)
	od, err := p.s.Overdue(ctx)
	if err != nil {
		return err
	}
	pg.Overdue, pg.Truncated = od.Items, od.Truncated
	return nil
}

func (p pages) plans(w http.ResponseWriter, r *http.Request) {
	cur, err := p.s.GetPlans(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := PlansPage{Version: cur.Version}
	if err := p.plansPage(r, &pg, cur.Plans); err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "fieldvisit/plans", "fieldvisit.page.plans", pg)
}

// formPlans reads the plan lines of the form; a line without a kind is skipped.
func formPlans(r *http.Request) []Plan {
	ps := []Plan{}
	for i := 0; i < maxPlans+blankPlanRows; i++ {
		k := strconv.Itoa(i)
		kind := strings.TrimSpace(r.PostFormValue("kind_" + k))
		if kind == "" {
			continue
		}
		atoi := func(s string) int {
			s = strings.TrimSpace(s)
			if s == "" {
				return 0
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				return -1
			}
			return n
		}
		ps = append(ps, Plan{Kind: kind, Value: strings.TrimSpace(r.PostFormValue("value_" + k)),
			Months: atoi(r.PostFormValue("months_" + k)), Days: atoi(r.PostFormValue("days_" + k))})
	}
	return ps
}

func (p pages) savePlans(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	ver, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || ver < 0 {
		p.fail(w, r, malformedForm())
		return
	}
	ps := formPlans(r)
	_, err = p.s.SavePlans(ctx, PlansInput{Plans: ps, Version: &ver})
	if err == nil {
		web.Redirect(w, r, "/field-visits/plans", "fieldvisit.flash.plans_saved")
		return
	}
	errs, msg, ok := p.s.web.FieldErrors(ctx, err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg := PlansPage{Version: ver, Errors: errs, Message: msg}
	if ferr := p.plansPage(r, &pg, ps); ferr != nil {
		p.fail(w, r, ferr)
		return
	}
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "fieldvisit/plans", "fieldvisit.page.plans", pg)
}
