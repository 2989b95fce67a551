package ticket

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// The agent workspace (SPEC §2.2, §3.3): queues, the create form for a phone request,
// the request page with the customer file beside it, canned replies and the category
// tree. Every page works without JavaScript (forms post and redirect); app.js adds
// live updates over /tickets/stream and the canned-reply picker.

// pageRoutes are the workspace pages; routes.go mounts them with the API.
func (s *Service) pageRoutes() []httpx.Route {
	p := workspace{s: s}
	const get, post = "GET", "POST"
	return []httpx.Route{
		{Method: get, Path: "/tickets", Perm: PermRead, Page: true, Handler: p.queue},
		{Method: get, Path: "/tickets/new", Perm: PermWrite, Page: true, Handler: p.newForm},
		{Method: post, Path: "/tickets", Perm: PermWrite, Page: true, Handler: p.create},
		{Method: get, Path: "/tickets/stream", Perm: PermRead, Page: true, Handler: p.stream},
		{Method: get, Path: "/tickets/{id}", Perm: PermRead, Page: true, Handler: p.view},
		{Method: post, Path: "/tickets/{id}/reply", Perm: PermWrite, Page: true, Handler: p.reply},
		{Method: post, Path: "/tickets/{id}/note", Perm: PermWrite, Page: true, Handler: p.note},
		{Method: post, Path: "/tickets/{id}/kb-links", Perm: PermWrite, Page: true, Handler: p.linkArticle},
		{Method: post, Path: "/tickets/presence", Perm: PermWrite, Page: true, Handler: p.presence},
		{Method: post, Path: "/tickets/{id}/transition", Perm: PermWrite, Page: true, Handler: p.transition},
		{Method: post, Path: "/tickets/{id}/take", Perm: PermWrite, Page: true, Handler: p.take},
		{Method: post, Path: "/tickets/{id}/assign", Perm: PermAssign, Page: true, Handler: p.assign},
		{Method: post, Path: "/tickets/{id}/transfer", Perm: PermAssign, Page: true, Handler: p.transfer},
		{Method: post, Path: "/tickets/{id}/attachments", Perm: PermWrite, Page: true, MaxBody: uploadBodyLimit, Handler: p.upload},
		{Method: get, Path: "/tickets/{id}/attachments/{aid}", Perm: PermRead, Page: true, Handler: p.download},

		{Method: get, Path: "/canned-replies", Perm: PermCanned, Page: true, Handler: p.cannedList},
		{Method: post, Path: "/canned-replies", Perm: PermCanned, Page: true, Handler: p.cannedCreate},
		{Method: get, Path: "/canned-replies/{id}/edit", Perm: PermCanned, Page: true, Handler: p.cannedEdit},
		{Method: post, Path: "/canned-replies/{id}", Perm: PermCanned, Page: true, Handler: p.cannedUpdate},
		{Method: post, Path: "/canned-replies/{id}/delete", Perm: PermCanned, Page: true, Handler: p.cannedDelete},

		{Method: get, Path: "/ticket-categories", Perm: PermManage, Page: true, Handler: p.categoryList},
		{Method: post, Path: "/ticket-categories", Perm: PermManage, Page: true, Handler: p.categoryCreate},
		{Method: get, Path: "/ticket-categories/{id}/edit", Perm: PermManage, Page: true, Handler: p.categoryEdit},
		{Method: post, Path: "/ticket-categories/{id}", Perm: PermManage, Page: true, Handler: p.categoryUpdate},
	}
}

// uploadBodyLimit is the largest attachment form the workspace accepts: the service's
// multipart limit (the file limit is checked again on the file itself).
const uploadBodyLimit = MaxUploadBody

// dueWarnWindow marks a due time amber when it is this close (the breaching queue's window).
const dueWarnWindow = BreachWindow

// maxTimeline caps the entries the request page shows.
const maxTimeline = 5000

// workspace holds the page handlers.
type workspace struct{ s *Service }

// choice is one entry of a select.
type choice = web.Choice

func wsT(r *http.Request, key string, kv ...any) string { return web.T(r, key, kv...) }

func wsMsg(r *http.Request, m i18n.Msg) string {
	return httpx.CatalogFrom(r.Context()).Msg(i18n.Lang(r.Context()), m)
}

// wsLabel translates prefix+v, or gives v itself when the catalog has no such key.
func wsLabel(r *http.Request, prefix, v string) string { return web.Label(r, prefix, v) }

func wsChoices[T ~string](r *http.Request, prefix string, values []T, selected, blankKey string) []choice {
	return web.Choices(r, prefix, values, selected, blankKey)
}

func wsItoa(n int64) string { return strconv.FormatInt(n, 10) }

// wsInt parses an optional whole number from a form; a bad one becomes -1 so the
// service refuses it naming the field.
func wsInt(s string) int64 { return web.FormInt(s) }

func (p workspace) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.s.web.PageError(w, r, err)
}

func malformedForm() error { return apperr.New(apperr.Malformed, "error.malformed", "detail", "form") }

// names caches display names of staff, departments and teams for one request.
type names struct {
	p     workspace
	staff map[int64]string
	depts map[int64]string
	teams map[int64]string
}

func (p workspace) names(ctx context.Context) *names {
	n := &names{p: p, staff: map[int64]string{}, depts: map[int64]string{}, teams: map[int64]string{}}
	if p.s.staff != nil {
		if ds, err := p.s.staff.AllDepartments(ctx); err == nil {
			for _, d := range ds {
				n.depts[d.ID] = d.Name
			}
		}
		if ts, err := p.s.staff.AllTeams(ctx); err == nil {
			for _, t := range ts {
				n.teams[t.ID] = t.Name
			}
		}
	}
	return n
}

func (n *names) staffName(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	if v, ok := n.staff[id]; ok {
		return v
	}
	v := "#" + wsItoa(id)
	if n.p.s.staff != nil {
		if a, err := n.p.s.staff.LoadActor(ctx, id); err == nil {
			v = a.DisplayName
		}
	}
	n.staff[id] = v
	return v
}

func (n *names) dept(id int64) string {
	if id == 0 {
		return ""
	}
	if v, ok := n.depts[id]; ok {
		return v
	}
	return "#" + wsItoa(id)
}

func (n *names) team(id int64) string {
	if id == 0 {
		return ""
	}
	if v, ok := n.teams[id]; ok {
		return v
	}
	return "#" + wsItoa(id)
}

// dueState classifies a due time for display: "breached" (red), "warning" (amber) or "".
func dueState(due, breachedAt, warnedAt time.Time, open bool, now time.Time) string {
	switch {
	case !breachedAt.IsZero():
		return "breached"
	case due.IsZero() || !open:
		return ""
	case now.After(due):
		return "breached"
	case !warnedAt.IsZero() || due.Sub(now) <= dueWarnWindow:
		return "warning"
	}
	return ""
}

// ======================= queues =======================

// queueAll is the tab of every request in the actor's scope (Filter.Queue "").
const queueAll = "all"

// Queues offered as tabs, in order.
var queueNames = append(slices.Clone(Queues), queueAll)

// QueueTab is one tab above the queue.
type QueueTab struct {
	Key    string
	Label  string
	Href   string
	Active bool
}

// QueuePage is the model of /tickets.
type QueuePage struct {
	Queue       string
	Tabs        []QueueTab
	Q           string
	Statuses    []choice
	Types       []choice
	Severities  []choice
	Priorities  []choice
	Channels    []choice
	Rows        []QueueRow
	NextURL     string
	CanWrite    bool
	FilterError string
	Live        LiveMessages
	// Presence is the viewer's availability switch (agents who receive work).
	Presence []choice
}

// LiveMessages are the toasts app.js shows for live events (data-msg-* attributes).
type LiveMessages struct {
	Created, Assigned, SLAWarning, SLABreach string
}

// QueueRow is one line of a queue.
type QueueRow struct {
	ID            int64
	Number        string
	Title         string
	Customer      string // masked name
	Status        string
	StatusLabel   string
	Priority      string
	PriorityLabel string
	Assignee      string
	Due           time.Time
	DueState      string // "breached", "warning" or ""
}

func (p workspace) liveMessages(r *http.Request) LiveMessages {
	return LiveMessages{Created: wsT(r, "ticket_web.live.created"), Assigned: wsT(r, "ticket_web.live.assigned"),
		SLAWarning: wsT(r, "ticket_web.live.sla_warning"), SLABreach: wsT(r, "ticket_web.live.sla_breach")}
}

func (p workspace) queue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	queue := q.Get("queue")
	if queue == "" {
		queue = QueueMine
	}
	f := Filter{Queue: queue, Status: Status(q.Get("status")), Type: Type(q.Get("type")),
		Severity: Severity(q.Get("severity")), Priority: Priority(q.Get("priority")), Channel: Channel(q.Get("channel")),
		Q: strings.TrimSpace(q.Get("q"))}
	if queue == queueAll {
		f.Queue = ""
	}
	pg := QueuePage{Queue: queue, Q: f.Q, CanWrite: authz.From(ctx).Can(PermWrite), Live: p.liveMessages(r),
		Statuses:   wsChoices(r, "ticket.status.", Statuses, string(f.Status), "ticket_web.filter.any"),
		Types:      wsChoices(r, "ticket.type.", Types, string(f.Type), "ticket_web.filter.any"),
		Severities: wsChoices(r, "ticket.severity.", Severities, string(f.Severity), "ticket_web.filter.any"),
		Priorities: wsChoices(r, "ticket.priority.", Priorities, string(f.Priority), "ticket_web.filter.any"),
		Channels:   wsChoices(r, "ticket.channel.", Channels, string(f.Channel), "ticket_web.filter.any")}
	if pg.CanWrite {
		cur, err := p.s.MyAvailability(ctx)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		pg.Presence = wsChoices(r, "ticket.assign.availability.", Availabilities, string(cur), "")
	}
	for _, name := range queueNames {
		tq := url.Values{"queue": {name}}
		pg.Tabs = append(pg.Tabs, QueueTab{Key: name, Label: wsT(r, "ticket_web.queue."+name),
			Href: "/tickets?" + tq.Encode(), Active: name == queue})
	}
	list, err := p.s.ListTickets(ctx, f, httpx.DefaultLimit, q.Get("cursor"))
	if err != nil {
		if _, msg, ok := p.s.web.FieldErrors(ctx, err); ok {
			pg.FilterError = msg
			p.renderQueue(w, r, httpx.Status(apperr.KindOf(err)), pg)
			return
		}
		p.fail(w, r, err)
		return
	}
	now := p.s.now()
	nm := p.names(ctx)
	custNames := map[int64]string{}
	for _, t := range list.Items {
		row := QueueRow{ID: t.ID, Number: t.Number, Title: t.Title, Status: string(t.Status),
			StatusLabel: wsLabel(r, "ticket.status.", string(t.Status)), Priority: string(t.Priority),
			PriorityLabel: wsLabel(r, "ticket.priority.", string(t.Priority)),
			Assignee:      nm.staffName(ctx, t.AssigneeID), Due: t.ResolveDueAt,
			DueState: dueState(t.ResolveDueAt, t.ResolveBreachedAt, t.ResolveWarnedAt, t.Status.Open(), now)}
		row.Customer = p.customerName(ctx, custNames, t)
		pg.Rows = append(pg.Rows, row)
	}
	if list.NextCursor != "" {
		nq := url.Values{}
		for k, v := range q {
			if k != "cursor" && k != "fragment" {
				nq[k] = v
			}
		}
		nq.Set("cursor", list.NextCursor)
		pg.NextURL = "/tickets?" + nq.Encode()
	}
	p.renderQueue(w, r, http.StatusOK, pg)
}

// customerName is the masked name shown in a queue: the contact name the request
// recorded, else the customer file's name (summary only, not an audited read).
func (p workspace) customerName(ctx context.Context, cache map[int64]string, t Ticket) string {
	if t.ContactName != "" {
		return secure.MaskName(t.ContactName)
	}
	if t.CustomerID == 0 || p.s.customers == nil {
		return ""
	}
	if v, ok := cache[t.CustomerID]; ok {
		return v
	}
	v := ""
	if ref, err := p.s.customers.Ref(ctx, t.CustomerID); err == nil {
		v = secure.MaskName(ref.Name)
	}
	cache[t.CustomerID] = v
	return v
}

// renderQueue renders the queue page, or with ?fragment=queue only the table rows
// (app.js swaps them in after a live event).
func (p workspace) renderQueue(w http.ResponseWriter, r *http.Request, status int, pg QueuePage) {
	if r.URL.Query().Get("fragment") != "queue" {
		web.Render(p.s.web, w, r, status, "ticket/queue", "ticket_web.page.queue", pg)
		return
	}
	buf := &bufferedResponse{header: http.Header{}}
	web.Render(p.s.web, buf, r, status, "ticket/queue", "ticket_web.page.queue", pg)
	rows, ok := queueRows(buf.body.Bytes())
	if !ok {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(buf.status)
	_, _ = w.Write(rows)
}

const (
	rowsOpen  = `<tbody id="queue-rows">`
	rowsClose = `</tbody>`
)

// queueRows cuts the rows out of a rendered queue page: one template is the single
// source of the row markup for both the page and the fragment.
func queueRows(page []byte) ([]byte, bool) {
	i := bytes.Index(page, []byte(rowsOpen))
	if i < 0 {
		return nil, false
	}
	rest := page[i+len(rowsOpen):]
	j := bytes.Index(rest, []byte(rowsClose))
	if j < 0 {
		return nil, false
	}
	return bytes.TrimSpace(rest[:j]), true
}

// bufferedResponse captures a rendered page.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// ======================= live updates =======================

// stream sends the request events the actor's scope reaches as Server-Sent Events.
func (p workspace) stream(w http.ResponseWriter, r *http.Request) {
	st := p.s.streamer()
	if st == nil {
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	actor := authz.From(r.Context())
	st.ServeSSE(w, r, func(ev events.Event) bool { return eventVisible(actor, ev) }, "ticket.")
}

// eventVisible reports whether a request event may reach actor: the event's scope is
// checked like the request itself (department, team, assignee).
func eventVisible(actor *authz.Actor, ev events.Event) bool {
	return actor.Reaches(PermRead, authz.Record{DeptID: ev.Scope.DeptID, TeamID: ev.Scope.TeamID, OwnerID: ev.Scope.OwnerID})
}

// ======================= create =======================

// NewTicketPage is the model of /tickets/new (a request taken on the phone).
type NewTicketPage struct {
	CustomerPicker
	V           map[string]string
	Types       []choice
	SubKinds    []choice
	Categories  []choice
	Channels    []choice
	Severities  []choice
	FaultLevels []choice
	Errors      web.FormErrors
	Message     string
}

// CustomerPicker is the customer choice of a form taken on the phone (a request, a
// complaint): a search by name or number within the actor's scope, a caller lookup by
// the whole number (masked and audited), and the customer already chosen.
type CustomerPicker struct {
	CQ          string // customer search
	CanSearch   bool   // the actor may read customer files
	Searched    bool
	Phone       string // the caller's number looked up (customer.LookupCaller)
	PhoneLooked bool   // a lookup was made: its matches are the customer choices
	PhoneError  string
	Customers   []CustomerChoice
	MoreMatches bool
}

// CustomerChoice is a customer offered by the search on the create form (masked).
type CustomerChoice struct {
	ID       int64
	Name     string
	Mobile   string
	Place    string
	Selected bool
}

// newTicketFields are the text fields of the create form echoed back on an error.
var newTicketFields = []string{"customer_id", "type", "sub_kind", "category_id", "channel", "severity", "fault_level",
	"title", "body", "contact_name"}

func (p workspace) newForm(w http.ResponseWriter, r *http.Request) {
	v := map[string]string{"channel": string(ChannelPhone), "type": string(TypeInquiry), "severity": string(SeverityGeneral)}
	for _, k := range newTicketFields {
		if s := r.URL.Query().Get(k); s != "" {
			v[k] = s
		}
	}
	pg := NewTicketPage{CustomerPicker: CustomerPicker{CQ: strings.TrimSpace(r.URL.Query().Get("cq")), Phone: strings.TrimSpace(r.URL.Query().Get("phone"))}, V: v}
	status := http.StatusOK
	if err := p.fillNewForm(r, &pg); err != nil {
		if _, msg, ok := p.s.web.FieldErrors(r.Context(), err); ok {
			pg.Message, status = msg, httpx.Status(apperr.KindOf(err))
		} else {
			p.fail(w, r, err)
			return
		}
	}
	if len(pg.Customers) == 1 && v["customer_id"] == "" { // one match: the caller found
		pg.Customers[0].Selected = true
		pg.V["customer_id"] = wsItoa(pg.Customers[0].ID)
	}
	web.Render(p.s.web, w, r, status, "ticket/new", "ticket_web.page.new", pg)
}

// fillNewForm fills the selects and the customer choices (search by name, phone or
// the last four digits within the actor's scope; a caller lookup by the whole number
// across scopes, masked and audited; or the customer already chosen).
func (p workspace) fillNewForm(r *http.Request, pg *NewTicketPage) error {
	ctx := r.Context()
	pg.Types = wsChoices(r, "ticket.type.", Types, pg.V["type"], "")
	pg.SubKinds = wsChoices(r, "ticket.sub_kind.", SubKinds, pg.V["sub_kind"], "ticket_web.filter.none")
	pg.Channels = wsChoices(r, "ticket.channel.", Channels, pg.V["channel"], "")
	pg.Severities = wsChoices(r, "ticket.severity.", Severities, pg.V["severity"], "")
	pg.FaultLevels = []choice{{Value: "", Label: wsT(r, "ticket_web.filter.none"), Selected: pg.V["fault_level"] == ""}}
	for lvl := 1; lvl <= 3; lvl++ {
		s := strconv.Itoa(lvl)
		pg.FaultLevels = append(pg.FaultLevels, choice{Value: s, Label: wsT(r, "ticket_web.fault_level."+s), Selected: pg.V["fault_level"] == s})
	}
	pg.Categories = []choice{{Value: "", Label: wsT(r, "ticket_web.filter.none"), Selected: pg.V["category_id"] == ""}}
	if cats, err := p.s.ListCategories(ctx); err == nil {
		for _, c := range categoryTree(cats) {
			if !c.Active {
				continue
			}
			id := wsItoa(c.ID)
			pg.Categories = append(pg.Categories, choice{Value: id, Label: strings.Repeat("— ", c.Depth) + c.Name, Selected: pg.V["category_id"] == id})
		}
	}
	return p.s.PickCustomers(ctx, &pg.CustomerPicker, wsInt(pg.V["customer_id"]), r.Method == http.MethodGet)
}

// PickCustomers fills pk for the actor in ctx: the matches of pk.CQ, the matches of a
// caller lookup of pk.Phone when lookup is set (a form shown, not one posted back), and
// the chosen customer (masked) when the actor may open a request for it.
func (s *Service) PickCustomers(ctx context.Context, pk *CustomerPicker, chosen int64, lookup bool) error {
	if s.customers == nil {
		return nil
	}
	pk.CanSearch = authz.From(ctx).Can(customer.PermRead)
	if pk.CQ != "" && pk.CanSearch {
		pk.Searched = true
		list, err := s.customers.ListCustomers(ctx, customer.Filter{Q: pk.CQ}, 20, "")
		if err != nil {
			return err
		}
		for _, c := range list.Items {
			cv := c.View(true)
			mobile := cv.Mobile
			if mobile == "" {
				mobile = cv.Phone
			}
			pk.Customers = append(pk.Customers, CustomerChoice{ID: c.ID, Name: c.Name, Mobile: mobile,
				Place: cv.AddressDisplay, Selected: c.ID == chosen})
		}
		pk.MoreMatches = list.NextCursor != ""
	}
	if pk.Phone != "" && pk.CanSearch && lookup {
		res, err := s.customers.LookupCaller(ctx, pk.Phone)
		switch {
		case err == nil:
			pk.PhoneLooked = true
			for _, m := range res.Items {
				pk.Customers = append(pk.Customers, CustomerChoice{ID: m.CustomerID, Name: m.Name, Mobile: m.MaskedMobile,
					Selected: m.CustomerID == chosen})
			}
		case apperr.KindOf(err) == apperr.Invalid || apperr.KindOf(err) == apperr.RateLimited:
			fe, msg, _ := s.web.FieldErrors(ctx, err)
			pk.PhoneError = msg
			if fe["phone"] != "" {
				pk.PhoneError = fe["phone"]
			}
		default:
			return err
		}
	}
	if chosen > 0 && !slices.ContainsFunc(pk.Customers, func(c CustomerChoice) bool { return c.ID == chosen }) {
		// Shown only when the actor may open a request for it (in scope, or found by
		// a caller lookup); masked either way.
		if ref, err := s.customers.RequestRef(ctx, chosen); err == nil {
			pk.Customers = append([]CustomerChoice{{ID: ref.ID, Name: secure.MaskName(ref.Name), Mobile: ref.MaskedMobile, Selected: true}}, pk.Customers...)
		}
	}
	return nil
}

func (p workspace) create(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	f := r.PostFormValue
	in := Input{CustomerID: wsInt(f("customer_id")), Type: Type(f("type")), SubKind: f("sub_kind"),
		CategoryID: wsInt(f("category_id")), Channel: Channel(f("channel")), Severity: Severity(f("severity")),
		FaultLevel: int(wsInt(f("fault_level"))), Title: strings.TrimSpace(f("title")), Body: f("body"),
		ContactName: strings.TrimSpace(f("contact_name"))}
	t, err := p.s.CreateTicket(ctx, in)
	if err == nil {
		web.Redirect(w, r, "/tickets/"+wsItoa(t.ID), "ticket_web.flash.created")
		return
	}
	fe, msg, ok := p.s.web.FieldErrors(ctx, err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg := NewTicketPage{CustomerPicker: CustomerPicker{CQ: strings.TrimSpace(f("cq")), Phone: strings.TrimSpace(f("phone"))}, V: map[string]string{}, Errors: fe, Message: msg}
	for _, k := range newTicketFields {
		pg.V[k] = f(k)
	}
	if ferr := p.fillNewForm(r, &pg); ferr != nil {
		p.fail(w, r, ferr)
		return
	}
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "ticket/new", "ticket_web.page.new", pg)
}

// ======================= the request page =======================

// TicketPage is the model of /tickets/{id}.
type TicketPage struct {
	T               Ticket
	TypeLabel       string
	SubKindLabel    string
	Category        string
	ChannelLabel    string
	SeverityLabel   string
	StatusLabel     string
	PriorityLabel   string
	PriorityReasons []string
	FaultLevel      string
	Assignee        string
	Team            string
	Dept            string
	CreatedBy       string
	ResponseDue     DueFact
	ResolveDue      DueFact
	Customer        *CustomerCard
	Events          []TimelineRow
	Next            []choice
	Canned          []CannedChoice
	ReplyBody       string
	NoteBody        string
	KBQuery         string
	Attachments     []AttachmentRow
	CanWrite        bool
	CanAssign       bool
	IsMine          bool
	Teams           []choice
	Depts           []choice
	Agents          []choice
	Form            string // the form an error belongs to: reply, note, transition, assign, transfer, upload
	Errors          web.FormErrors
	Message         string
	Live            LiveMessages
}

// DueFact is an SLA due time with its state.
type DueFact struct {
	At       time.Time
	Done     time.Time // when it was met (responded / resolved)
	State    string    // "breached", "warning" or ""
	Breached bool
}

// CustomerCard is the customer file beside a request (masked; an audited read).
type CustomerCard struct {
	ID          int64
	Name        string
	Mobile      string
	Phone       string
	Email       string
	Address     string
	Tier        string
	CreditGrade string
	Tags        []string
	Notes       string
	Missing     bool // the customer file is gone
	Summary     bool // outside the viewer's customer scope: the masked summary only
}

// TimelineRow is one entry of the timeline.
type TimelineRow struct {
	ID        int64
	Kind      string
	KindLabel string
	Internal  bool
	Actor     string
	At        time.Time
	Body      string
	Detail    string
}

// CannedChoice is a canned reply with its placeholders filled in for this request.
type CannedChoice struct {
	ID    int64
	Title string
	Body  string
}

// AttachmentRow is an attachment in the list.
type AttachmentRow struct {
	ID          int64
	Filename    string
	Size        string
	ContentType string
	Public      bool
	At          time.Time
}

func (p workspace) view(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg, err := p.ticketPage(r, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if c := wsInt(r.URL.Query().Get("canned")); c > 0 { // the picker without JavaScript
		for _, cr := range pg.Canned {
			if cr.ID == c {
				pg.ReplyBody = cr.Body
			}
		}
	}
	web.Render(p.s.web, w, r, http.StatusOK, "ticket/detail", "ticket_web.page.ticket", pg)
}

// ticketPage loads everything the request page shows.
func (p workspace) ticketPage(r *http.Request, id int64) (TicketPage, error) {
	ctx := r.Context()
	actor := authz.From(ctx)
	t, err := p.s.GetTicket(ctx, id)
	if err != nil {
		return TicketPage{}, err
	}
	now := p.s.now()
	nm := p.names(ctx)
	pg := TicketPage{T: t, TypeLabel: wsLabel(r, "ticket.type.", string(t.Type)),
		SubKindLabel: wsLabel(r, "ticket.sub_kind.", t.SubKind), ChannelLabel: wsLabel(r, "ticket.channel.", string(t.Channel)),
		SeverityLabel: wsLabel(r, "ticket.severity.", string(t.Severity)), StatusLabel: wsLabel(r, "ticket.status.", string(t.Status)),
		PriorityLabel: wsLabel(r, "ticket.priority.", string(t.Priority)), Assignee: nm.staffName(ctx, t.AssigneeID),
		Team: nm.team(t.TeamID), Dept: nm.dept(t.DeptID), CreatedBy: nm.staffName(ctx, t.CreatedBy),
		CanWrite: actor.Reaches(PermWrite, t.Record()), CanAssign: actor.Reaches(PermAssign, t.Record()),
		IsMine: t.AssigneeID == actor.ID, KBQuery: t.Title, Live: p.liveMessages(r)}
	if t.FaultLevel > 0 {
		pg.FaultLevel = wsT(r, "ticket_web.fault_level."+strconv.Itoa(t.FaultLevel))
	}
	for _, m := range t.PriorityReasons {
		pg.PriorityReasons = append(pg.PriorityReasons, wsMsg(r, m))
	}
	open := t.Status.Open()
	pg.ResponseDue = DueFact{At: t.ResponseDueAt, Done: t.RespondedAt, Breached: !t.ResponseBreachedAt.IsZero()}
	if t.RespondedAt.IsZero() {
		pg.ResponseDue.State = dueState(t.ResponseDueAt, t.ResponseBreachedAt, t.ResponseWarnedAt, open, now)
	} else if pg.ResponseDue.Breached {
		pg.ResponseDue.State = "breached"
	}
	pg.ResolveDue = DueFact{At: t.ResolveDueAt, Done: t.ResolvedAt, Breached: !t.ResolveBreachedAt.IsZero(),
		State: dueState(t.ResolveDueAt, t.ResolveBreachedAt, t.ResolveWarnedAt, open, now)}
	pg.ResolveDue.Breached = pg.ResolveDue.State == "breached"
	if t.CategoryID != 0 {
		if cats, err := p.s.ListCategories(ctx); err == nil {
			for _, c := range cats {
				if c.ID == t.CategoryID {
					pg.Category = c.Name
				}
			}
		}
	}
	for _, to := range Next(t.Status) {
		pg.Next = append(pg.Next, choice{Value: string(to), Label: wsT(r, "ticket_web.to."+string(to))})
	}
	if t.CustomerID != 0 && p.s.customers != nil {
		pg.Customer = p.customerCard(r, t.CustomerID)
	}
	for after := int64(0); ; {
		evs, err := p.s.Events(ctx, id, after, httpx.MaxLimit)
		if err != nil {
			return TicketPage{}, err
		}
		for _, e := range evs {
			pg.Events = append(pg.Events, p.timelineRow(r, nm, e))
			after = e.ID
		}
		if len(evs) < httpx.MaxLimit || len(pg.Events) >= maxTimeline {
			break
		}
	}
	if pg.CanWrite {
		canned, err := p.s.ListCanned(ctx)
		if err != nil {
			return TicketPage{}, err
		}
		if len(canned) > 0 {
			vars := p.s.CannedVars(ctx, &t)
			for _, c := range canned {
				pg.Canned = append(pg.Canned, CannedChoice{ID: c.ID, Title: c.Title, Body: RenderCanned(c.Body, vars)})
			}
		}
	}
	atts, err := p.s.ListAttachments(ctx, id)
	if err != nil {
		return TicketPage{}, err
	}
	for _, a := range atts {
		pg.Attachments = append(pg.Attachments, AttachmentRow{ID: a.ID, Filename: a.Filename, Size: humanSize(a.Size),
			ContentType: a.ContentType, Public: a.Public, At: a.CreatedAt})
	}
	if pg.CanAssign {
		p.assignChoices(r, &pg, nm)
	}
	return pg, nil
}

// customerCard reads the customer file (audited "customer.read"). A file outside the
// viewer's customer scope shows its masked summary only (name, mobile, tier, grade).
func (p workspace) customerCard(r *http.Request, id int64) *CustomerCard {
	c, err := p.s.customers.GetCustomer(r.Context(), id)
	if err != nil {
		ref, rerr := p.s.customers.Ref(r.Context(), id)
		if rerr != nil {
			return &CustomerCard{ID: id, Missing: true}
		}
		return &CustomerCard{ID: id, Summary: true, Name: secure.MaskName(ref.Name), Mobile: ref.MaskedMobile,
			Tier: wsLabel(r, "customer.tier.", ref.Tier), CreditGrade: ref.CreditGrade}
	}
	v := c.View(true)
	return &CustomerCard{ID: c.ID, Name: secure.MaskName(c.Name), Mobile: v.Mobile, Phone: v.Phone, Email: v.Email,
		Address: v.AddressDisplay, Tier: wsLabel(r, "customer.tier.", c.Tier), CreditGrade: c.CreditGrade, Tags: v.Tags,
		Notes: v.Notes}
}

// assignChoices fills the assign and transfer selects.
func (p workspace) assignChoices(r *http.Request, pg *TicketPage, nm *names) {
	ctx := r.Context()
	pg.Teams = []choice{{Value: "", Label: wsT(r, "ticket_web.filter.none")}}
	if p.s.staff == nil {
		return
	}
	if ts, err := p.s.staff.AllTeams(ctx); err == nil {
		for _, t := range ts {
			if pg.T.DeptID != 0 && t.DeptID != pg.T.DeptID {
				continue
			}
			pg.Teams = append(pg.Teams, choice{Value: wsItoa(t.ID), Label: t.Name, Selected: t.ID == pg.T.TeamID})
		}
	}
	if ds, err := p.s.staff.AllDepartments(ctx); err == nil {
		for _, d := range ds {
			if d.ID == pg.T.DeptID {
				continue
			}
			pg.Depts = append(pg.Depts, choice{Value: wsItoa(d.ID), Label: d.Name})
		}
	}
	if agents, err := p.s.ListAgents(ctx, AgentFilter{DeptID: pg.T.DeptID, Limit: httpx.MaxLimit}); err == nil {
		for _, a := range agents.Items {
			label := wsT(r, "ticket_web.assign.agent_option", "name", a.Name, "availability",
				wsLabel(r, "ticket.assign.availability.", string(a.Availability)), "load", a.OpenLoad)
			pg.Agents = append(pg.Agents, choice{Value: wsItoa(a.ID), Label: label, Selected: a.ID == pg.T.AssigneeID})
		}
	}
	if pg.T.AssigneeID != 0 && !slices.ContainsFunc(pg.Agents, func(c choice) bool { return c.Selected }) {
		pg.Agents = append(pg.Agents, choice{Value: wsItoa(pg.T.AssigneeID), Label: nm.staffName(ctx, pg.T.AssigneeID), Selected: true})
	}
}

// timelineRow describes one event for the timeline.
func (p workspace) timelineRow(r *http.Request, nm *names, e Event) TimelineRow {
	row := TimelineRow{ID: e.ID, Kind: string(e.Kind), KindLabel: wsLabel(r, "ticket_web.event.", string(e.Kind)),
		Internal: !e.Public && e.Kind == EventNote, Actor: e.ActorName, At: e.CreatedAt, Body: e.Body}
	if row.Actor == "" {
		switch e.ActorKind {
		case authz.KindSystem:
			row.Actor = wsT(r, "ticket_web.actor.system")
		default:
			if e.ActorID != 0 {
				row.Actor = nm.staffName(r.Context(), e.ActorID)
			}
		}
	}
	str := func(k string) string {
		switch v := e.Data[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case int64:
			return wsItoa(v)
		case int:
			return strconv.Itoa(v)
		case nil:
			return ""
		default:
			return fmt.Sprint(v)
		}
	}
	id := func(k string) int64 { return wsInt(str(k)) }
	switch e.Kind {
	case EventStatus:
		row.Detail = wsT(r, "ticket_web.detail.status", "from", wsLabel(r, "ticket.status.", str("from")),
			"to", wsLabel(r, "ticket.status.", str("to"))) // the reason is the body
	case EventAssign:
		to := str("to_name")
		if to == "" {
			to = nm.staffName(r.Context(), id("to"))
		}
		if to == "" {
			to = nm.team(id("team_id"))
		}
		if to == "" {
			to = wsT(r, "ticket_web.unassigned")
		}
		row.Detail = wsT(r, "ticket_web.detail.assign", "to", to)
	case EventTransfer:
		row.Detail = wsT(r, "ticket_web.detail.transfer", "from", nm.dept(id("from_dept")), "to", nm.dept(id("to_dept")))
	case EventDispatch:
		row.Detail = wsT(r, "ticket_web.detail.dispatch", "to", nm.staffName(r.Context(), id("technician")), "level", str("fault_level"))
	case EventSLAWarning, EventSLABreach:
		due := ""
		if ms := id("due_at"); ms > 0 {
			due = time.UnixMilli(ms).In(shanghaiTZ).Format("2006-01-02 15:04")
		} else if s := str("due_at"); s != "" {
			if tm, err := time.Parse(time.RFC3339, s); err == nil {
				due = tm.In(shanghaiTZ).Format("2006-01-02 15:04")
			}
		}
		row.Detail = wsT(r, "ticket_web.detail.sla", "target", wsLabel(r, "ticket_web.target.", str("target")), "due", due)
	case EventEscalation:
		if names, ok := e.Data["names"].([]any); ok {
			var ns []string
			for _, n := range names {
				ns = append(ns, fmt.Sprint(n))
			}
			row.Detail = wsT(r, "ticket_web.detail.escalation", "to", strings.Join(ns, ", "))
		}
	case EventAttachment:
		row.Detail = str("filename")
	case EventKnowledgeLink:
		row.Detail = str("title")
	case EventComplaint: // a stage of the complaint workflow (internal/complaint)
		if dl := str("deadline"); dl != "" { // a deadline warning or escalation (complaint/jobs.go)
			ns := []string{}
			if names, ok := e.Data["names"].([]any); ok {
				for _, n := range names {
					ns = append(ns, fmt.Sprint(n))
				}
			}
			row.Detail = wsT(r, "complaint.deadline."+str("kind"), "target",
				wsLabel(r, "complaint.deadline.target.", dl), "to", strings.Join(ns, ", "))
			break
		}
		switch from, to := str("from"), str("to"); {
		case from != "" && to != "":
			row.Detail = wsT(r, "ticket_web.detail.status", "from", wsLabel(r, "complaint.stage.", from),
				"to", wsLabel(r, "complaint.stage.", to))
		case to != "":
			row.Detail = wsLabel(r, "complaint.stage.", to)
		}
		if row.Body == "" {
			row.Body = str("reason")
		}
	}
	return row
}

var shanghaiTZ = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KB"
	}
	return wsItoa(n) + " B"
}

// formError re-renders the request page with the errors of one form (422, 409, ...);
// any other error becomes the error page.
func (p workspace) formError(w http.ResponseWriter, r *http.Request, id int64, form string, err error, keep func(*TicketPage)) {
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg, lerr := p.ticketPage(r, id)
	if lerr != nil {
		p.fail(w, r, lerr)
		return
	}
	pg.Form, pg.Errors, pg.Message = form, fe, msg
	if keep != nil {
		keep(&pg)
	}
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "ticket/detail", "ticket_web.page.ticket", pg)
}

// action reads the id and the form, runs fn and redirects back to the request page.
func (p workspace) action(w http.ResponseWriter, r *http.Request, form, anchor, flash string,
	fn func(ctx context.Context, id int64) error, keep func(*TicketPage)) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	if err := fn(r.Context(), id); err != nil {
		p.formError(w, r, id, form, err, keep)
		return
	}
	web.Redirect(w, r, "/tickets/"+wsItoa(id)+anchor, flash)
}

func (p workspace) reply(w http.ResponseWriter, r *http.Request) {
	body := func() string { return r.PostFormValue("body") }
	p.action(w, r, "reply", "#timeline", "ticket_web.flash.replied", func(ctx context.Context, id int64) error {
		_, _, err := p.s.Reply(ctx, id, ReplyInput{Body: body(), Status: Status(r.PostFormValue("status"))})
		return err
	}, func(pg *TicketPage) { pg.ReplyBody = body() })
}

func (p workspace) note(w http.ResponseWriter, r *http.Request) {
	body := func() string { return r.PostFormValue("body") }
	p.action(w, r, "note", "#timeline", "ticket_web.flash.noted", func(ctx context.Context, id int64) error {
		_, _, err := p.s.Note(ctx, id, body())
		return err
	}, func(pg *TicketPage) { pg.NoteBody = body() })
}

func (p workspace) linkArticle(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, "note", "#timeline", "ticket_web.flash.kb_linked", func(ctx context.Context, id int64) error {
		aid, err := strconv.ParseInt(r.PostFormValue("article_id"), 10, 64)
		if err != nil {
			aid = 0 // LinkArticle names the field
		}
		_, err = p.s.LinkArticle(ctx, id, aid)
		return err
	}, nil)
}

// presence: POST /tickets/presence {availability} — the agent's own availability.
func (p workspace) presence(w http.ResponseWriter, r *http.Request) {
	_, err := p.s.SetMyPresence(r.Context(), Availability(r.PostFormValue("availability")))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/tickets", "ticket_web.flash.presence")
}

func (p workspace) transition(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, "transition", "", "ticket_web.flash.status", func(ctx context.Context, id int64) error {
		_, err := p.s.Transition(ctx, id, Status(r.PostFormValue("to")), strings.TrimSpace(r.PostFormValue("reason")))
		return err
	}, nil)
}

func (p workspace) take(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, "assign", "", "ticket_web.flash.taken", func(ctx context.Context, id int64) error {
		_, err := p.s.Take(ctx, id)
		return err
	}, nil)
}

func (p workspace) assign(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, "assign", "", "ticket_web.flash.assigned", func(ctx context.Context, id int64) error {
		in := AssignInput{Reason: strings.TrimSpace(r.PostFormValue("reason"))}
		if v := r.PostFormValue("assignee_id"); v != "" {
			n := wsInt(v)
			in.AssigneeID = &n
		}
		if v := r.PostFormValue("team_id"); v != "" {
			n := wsInt(v)
			in.TeamID = &n
		}
		_, err := p.s.Assign(ctx, id, in)
		return err
	}, nil)
}

// transfer hands the request to another department; when that takes it out of the
// actor's scope, the browser goes back to the queue instead of a page it cannot see.
func (p workspace) transfer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	t, err := p.s.Transfer(r.Context(), id, TransferInput{DeptID: wsInt(r.PostFormValue("dept_id")),
		TeamID: wsInt(r.PostFormValue("team_id")), Reason: strings.TrimSpace(r.PostFormValue("reason"))})
	if err != nil {
		p.formError(w, r, id, "transfer", err, nil)
		return
	}
	to := "/tickets/" + wsItoa(id)
	if !authz.From(r.Context()).Reaches(PermRead, t.Record()) {
		to = "/tickets"
	}
	web.Redirect(w, r, to, "ticket_web.flash.transferred")
}

// upload attaches one file from a multipart form.
func (p workspace) upload(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		p.formError(w, r, id, "upload", apperr.InvalidField("file", "ticket_web.invalid.file"), nil)
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, MaxAttachmentSize+1))
	if err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	if len(data) > MaxAttachmentSize {
		p.fail(w, r, apperr.New(apperr.TooLarge, "error.too_large", "limit", MaxAttachmentSize).OnField("file"))
		return
	}
	_, err = p.s.AddAttachment(r.Context(), id, AttachmentInput{Filename: hdr.Filename,
		ContentType: hdr.Header.Get("Content-Type"), Data: data, Public: r.PostFormValue("public") != ""})
	if err != nil {
		p.formError(w, r, id, "upload", err, nil)
		return
	}
	web.Redirect(w, r, "/tickets/"+wsItoa(id)+"#attachments", "ticket_web.flash.attached")
}

// download serves an attachment as a download: never rendered inline, never sniffed.
func (p workspace) download(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	aid, err := httpx.PathID(r, "aid")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	a, data, err := p.s.GetAttachment(r.Context(), id, aid)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	ServeAttachment(w, a, data)
}

// ======================= canned replies =======================

// CannedPage is the model of /canned-replies (and of its edit form).
type CannedPage struct {
	Items   []CannedRow
	Form    CannedForm
	Depts   []choice
	Errors  web.FormErrors
	Message string
}

// CannedRow is a canned reply in the list.
type CannedRow struct {
	ID       int64
	Title    string
	Body     string
	Dept     string
	Editable bool // within the actor's ticket:canned scope
}

// CannedForm is the create or edit form.
type CannedForm struct {
	ID      int64
	Title   string
	Body    string
	DeptID  int64
	Version int64 // the version being edited (hidden field)
}

func (p workspace) cannedPage(r *http.Request, form CannedForm) (CannedPage, error) {
	ctx := r.Context()
	items, err := p.s.ListCanned(ctx)
	if err != nil {
		return CannedPage{}, err
	}
	nm := p.names(ctx)
	actor := authz.From(ctx)
	all := actor.ScopeOf(PermCanned) == authz.ScopeAll
	pg := CannedPage{Form: form}
	for _, c := range items {
		d := nm.dept(c.DeptID)
		if d == "" {
			d = wsT(r, "ticket_web.canned.every_dept")
		}
		pg.Items = append(pg.Items, CannedRow{ID: c.ID, Title: c.Title, Body: c.Body, Dept: d,
			Editable: all || c.DeptID == actor.DeptID})
	}
	if !all { // a department's own replies only
		pg.Depts = []choice{{Value: wsItoa(actor.DeptID), Label: nm.dept(actor.DeptID), Selected: true}}
		return pg, nil
	}
	pg.Depts = []choice{{Value: "", Label: wsT(r, "ticket_web.canned.every_dept"), Selected: form.DeptID == 0}}
	for id, name := range nm.depts {
		pg.Depts = append(pg.Depts, choice{Value: wsItoa(id), Label: name, Selected: id == form.DeptID})
	}
	slices.SortFunc(pg.Depts[1:], func(a, b choice) int { return strings.Compare(a.Label, b.Label) })
	return pg, nil
}

func (p workspace) cannedList(w http.ResponseWriter, r *http.Request) {
	pg, err := p.cannedPage(r, CannedForm{})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "ticket/canned", "ticket_web.page.canned", pg)
}

func (p workspace) cannedEdit(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	items, err := p.s.ListCanned(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(items, func(c CannedReply) bool { return c.ID == id })
	if i < 0 {
		p.fail(w, r, apperr.NotFoundf("thing.canned_reply"))
		return
	}
	c := items[i]
	pg, err := p.cannedPage(r, CannedForm{ID: c.ID, Title: c.Title, Body: c.Body, DeptID: c.DeptID, Version: c.Version})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "ticket/canned", "ticket_web.page.canned", pg)
}

func cannedFormFrom(r *http.Request) CannedForm {
	return CannedForm{Title: strings.TrimSpace(r.PostFormValue("title")), Body: r.PostFormValue("body"),
		DeptID: wsInt(r.PostFormValue("dept_id")), Version: wsInt(r.PostFormValue("version"))}
}

// formVersion is the hidden version field of an edit form (nil when absent or empty:
// the service then answers 428; a malformed one reads as -1, which is stale).
func formVersion(r *http.Request) *int64 {
	if strings.TrimSpace(r.PostFormValue("version")) == "" {
		return nil
	}
	v := wsInt(r.PostFormValue("version"))
	return &v
}

func (p workspace) cannedSave(w http.ResponseWriter, r *http.Request, id int64) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	form := cannedFormFrom(r)
	form.ID = id
	var err error
	if id == 0 {
		_, err = p.s.CreateCanned(r.Context(), CannedInput{Title: form.Title, Body: form.Body, DeptID: form.DeptID})
	} else {
		_, err = p.s.UpdateCanned(r.Context(), id, CannedPatch{Title: &form.Title, Body: &form.Body, DeptID: &form.DeptID,
			Version: formVersion(r)})
	}
	if !p.saved(w, r, err, "/canned-replies", "ticket_web.flash.canned_saved") {
		return
	}
	pg, lerr := p.cannedPage(r, form)
	if lerr != nil {
		p.fail(w, r, lerr)
		return
	}
	pg.Errors, pg.Message, _ = p.s.web.FieldErrors(r.Context(), err)
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "ticket/canned", "ticket_web.page.canned", pg)
}

func (p workspace) cannedCreate(w http.ResponseWriter, r *http.Request) { p.cannedSave(w, r, 0) }

func (p workspace) cannedUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.cannedSave(w, r, id)
}

func (p workspace) cannedDelete(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := p.s.DeleteCanned(r.Context(), id); err != nil {
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/canned-replies", "ticket_web.flash.canned_deleted")
}

// ======================= categories =======================

// CategoryPage is the model of /ticket-categories (and of its edit form).
type CategoryPage struct {
	Items   []CategoryRow
	Form    CategoryForm
	Parents []choice
	Errors  web.FormErrors
	Message string
}

// CategoryRow is a node of the tree, in display order with its depth.
type CategoryRow struct {
	Category
	Depth  int
	Indent string
}

// CategoryForm is the create or edit form.
type CategoryForm struct {
	ID        int64
	ParentID  int64
	Name      string
	Skill     string
	SortOrder string
	Active    bool
	Version   int64 // the version being edited (hidden field)
}

// categoryTree orders categories parent first, children after, by sort order then name.
func categoryTree(cats []Category) []CategoryRow {
	children := map[int64][]Category{}
	known := map[int64]bool{}
	for _, c := range cats {
		known[c.ID] = true
	}
	for _, c := range cats {
		parent := c.ParentID
		if !known[parent] {
			parent = 0
		}
		children[parent] = append(children[parent], c)
	}
	for k := range children {
		slices.SortStableFunc(children[k], func(a, b Category) int {
			if a.SortOrder != b.SortOrder {
				return a.SortOrder - b.SortOrder
			}
			return strings.Compare(a.Name, b.Name)
		})
	}
	var out []CategoryRow
	seen := map[int64]bool{}
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		for _, c := range children[parent] {
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			out = append(out, CategoryRow{Category: c, Depth: depth, Indent: strings.Repeat("— ", depth)})
			walk(c.ID, depth+1)
		}
	}
	walk(0, 0)
	return out
}

func (p workspace) categoryPage(r *http.Request, form CategoryForm) (CategoryPage, error) {
	cats, err := p.s.ListCategories(r.Context())
	if err != nil {
		return CategoryPage{}, err
	}
	pg := CategoryPage{Items: categoryTree(cats), Form: form}
	pg.Parents = []choice{{Value: "", Label: wsT(r, "ticket_web.category.root"), Selected: form.ParentID == 0}}
	for _, c := range pg.Items {
		if c.ID == form.ID {
			continue
		}
		pg.Parents = append(pg.Parents, choice{Value: wsItoa(c.ID), Label: c.Indent + c.Name, Selected: c.ID == form.ParentID})
	}
	return pg, nil
}

func (p workspace) categoryList(w http.ResponseWriter, r *http.Request) {
	pg, err := p.categoryPage(r, CategoryForm{Active: true})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "ticket/categories", "ticket_web.page.categories", pg)
}

func (p workspace) categoryEdit(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cats, err := p.s.ListCategories(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(cats, func(c Category) bool { return c.ID == id })
	if i < 0 {
		p.fail(w, r, apperr.NotFoundf("thing.ticket_category"))
		return
	}
	c := cats[i]
	pg, err := p.categoryPage(r, CategoryForm{ID: c.ID, ParentID: c.ParentID, Name: c.Name, Skill: c.Skill,
		SortOrder: strconv.Itoa(c.SortOrder), Active: c.Active, Version: c.Version})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "ticket/categories", "ticket_web.page.categories", pg)
}

func (p workspace) categorySave(w http.ResponseWriter, r *http.Request, id int64) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	form := CategoryForm{ID: id, ParentID: wsInt(r.PostFormValue("parent_id")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Skill: strings.TrimSpace(r.PostFormValue("skill")), SortOrder: strings.TrimSpace(r.PostFormValue("sort_order")),
		Active: r.PostFormValue("active") != "", Version: wsInt(r.PostFormValue("version"))}
	sort, active := int(wsInt(form.SortOrder)), form.Active
	var err error
	if id == 0 {
		_, err = p.s.CreateCategory(r.Context(), CategoryInput{ParentID: form.ParentID, Name: form.Name, Skill: form.Skill,
			SortOrder: sort, Active: &active})
	} else {
		_, err = p.s.UpdateCategory(r.Context(), id, CategoryPatch{ParentID: &form.ParentID, Name: &form.Name,
			Skill: &form.Skill, SortOrder: &sort, Active: &active, Version: formVersion(r)})
	}
	if !p.saved(w, r, err, "/ticket-categories", "ticket_web.flash.category_saved") {
		return
	}
	pg, lerr := p.categoryPage(r, form)
	if lerr != nil {
		p.fail(w, r, lerr)
		return
	}
	pg.Errors, pg.Message, _ = p.s.web.FieldErrors(r.Context(), err)
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "ticket/categories", "ticket_web.page.categories", pg)
}

func (p workspace) categoryCreate(w http.ResponseWriter, r *http.Request) { p.categorySave(w, r, 0) }

func (p workspace) categoryUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.categorySave(w, r, id)
}

// saved finishes a form post whose outcome is err: on success it redirects to `to` with
// the flash; on an error that is not about the form's fields it renders the error page.
// It reports whether the caller should re-render the form with the field errors.
func (p workspace) saved(w http.ResponseWriter, r *http.Request, err error, to, flash string) bool {
	if err == nil {
		web.Redirect(w, r, to, flash)
		return false
	}
	if _, _, ok := p.s.web.FieldErrors(r.Context(), err); !ok {
		p.fail(w, r, err)
		return false
	}
	return true
}
