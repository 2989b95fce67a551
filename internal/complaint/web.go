package complaint

// OWNED BY the web engineer: the workspace pages.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// The complaint workspace (issue 8, item 12): the board by stage, the intake form for a
// complaint taken on the phone, and the complaint page laid out like the paper complaint
// record form, with a print stylesheet and forms only for what the viewer's role may do.
// Every page works without JavaScript (forms post and redirect).

// pageRoutes are the workspace pages; routes.go mounts them with the API.
func (s *Service) pageRoutes() []httpx.Route {
	p := desk{s: s}
	const get, post = "GET", "POST"
	return []httpx.Route{
		{Method: get, Path: "/complaints", Perm: PermRead, Page: true, Handler: p.board},
		{Method: get, Path: "/complaints/new", Perm: PermWrite, Page: true, Handler: p.newForm},
		{Method: post, Path: "/complaints", Perm: PermWrite, Page: true, Handler: p.create},
		{Method: post, Path: "/complaints/check", Perm: PermWrite, Page: true, Handler: p.check},
		{Method: get, Path: "/complaints/{id}", Perm: PermRead, Page: true, Handler: p.view},
		{Method: get, Path: "/complaints/by-request/{id}", Perm: PermRead, Page: true, Handler: p.byRequest},
		{Method: post, Path: "/complaints/{id}/transition", Perm: PermWrite, Page: true, Handler: p.transition},
		{Method: post, Path: "/complaints/{id}/level", Perm: PermAssess, Page: true, Handler: p.level},
		{Method: post, Path: "/complaints/{id}/reply-letter", Perm: PermWrite, Page: true, Handler: p.replyLetter},
		// Resolution (resolution.go): proposals, penalties, the superior's approval, tasks.
		{Method: post, Path: "/complaints/{id}/proposals", Perm: PermWrite, Page: true, Handler: p.addProposal},
		{Method: post, Path: "/complaints/{id}/penalties", Perm: PermWrite, Page: true, Handler: p.proposePenalty},
		{Method: post, Path: "/complaints/{id}/approve", Perm: PermApprove, Page: true, Handler: p.approve},
		{Method: post, Path: "/complaints/{id}/penalties/{pid}/decide", Perm: PermApprove, Page: true, Handler: p.decidePenalty},
		// The owner of a task or a superior: the service checks which.
		{Method: post, Path: "/complaints/{id}/tasks/{tid}/done", Perm: PermRead, Page: true, Handler: p.finishTask},
	}
}

// boardStages are the columns of the board, in workflow order; the ended stages show
// as counts with a link to their list.
var (
	boardStages = []Stage{StageReceived, StageAssessing, StageInvestigating, StageProposing, StageExecuting,
		StageFeedback, StageEvaluating}
	endedStages = []Stage{StageClosed, StageRejected}
)

// Page sizes of the workspace.
const (
	boardColumnLimit = 50  // cards per column
	endedCountLimit  = 500 // closed and rejected are counted up to this ("500+")
	pickLimit        = 200 // staff offered in a select
	moneyMax         = 100_000_000_00
	proposalRows     = 2 // proposal rows on the proposing form
	actionRows       = 3 // improvement action rows on the evaluating form
)

// desk holds the page handlers.
type desk struct{ s *Service }

// Choice is one entry of a select.
type Choice = web.Choice

func cwT(r *http.Request, key string, kv ...any) string { return web.T(r, key, kv...) }

// cwLabel translates prefix+v, or gives v itself when the catalog has no such key.
func cwLabel(r *http.Request, prefix, v string) string { return web.Label(r, prefix, v) }

func cwChoices[T ~string](r *http.Request, prefix string, values []T, selected, blankKey string) []Choice {
	return web.Choices(r, prefix, values, selected, blankKey)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// formInt parses an optional whole number from a form; a bad one becomes -1 so that the
// service refuses it naming the field.
func formInt(s string) int64 { return web.FormInt(s) }

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
	f.Add(field, "complaint_web.invalid.datetime")
	return nil
}

// formMoney parses an amount in yuan ("200", "199.50") into fen.
func formMoney(f apperr.Fields, field, s string) int64 {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
	if s == "" {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || v*100 > moneyMax {
		f.Add(field, "complaint_web.invalid.money")
		return 0
	}
	return int64(math.Round(v * 100))
}

// yuan formats fen as yuan.
func yuan(fen int64) string {
	if fen%100 == 0 {
		return itoa(fen / 100)
	}
	return strconv.FormatFloat(float64(fen)/100, 'f', 2, 64)
}

func (p desk) fail(w http.ResponseWriter, r *http.Request, err error) { p.s.web.PageError(w, r, err) }

func malformedForm() error { return apperr.New(apperr.Malformed, "error.malformed", "detail", "form") }

func sysCtx(ctx context.Context) context.Context {
	return authz.WithActor(ctx, authz.System("complaint"))
}

// names caches display names of staff, departments and teams for one page.
type names struct {
	s     *Service
	staff map[int64]string
	depts []org.Department
	teams []org.Team
}

func (p desk) names(ctx context.Context) *names {
	n := &names{s: p.s, staff: map[int64]string{}}
	if p.s.staff != nil {
		n.depts, _ = p.s.staff.AllDepartments(ctx)
		n.teams, _ = p.s.staff.AllTeams(ctx)
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
	v := "#" + itoa(id)
	if n.s.staff != nil {
		if st, err := n.s.staff.GetStaff(sysCtx(ctx), id); err == nil {
			v = st.DisplayName
		}
	}
	n.staff[id] = v
	return v
}

func (n *names) dept(id int64) string {
	if id == 0 {
		return ""
	}
	for _, d := range n.depts {
		if d.ID == id {
			return d.Name
		}
	}
	return "#" + itoa(id)
}

func (n *names) team(id int64) string {
	if id == 0 {
		return ""
	}
	for _, t := range n.teams {
		if t.ID == id {
			return t.Name
		}
	}
	return "#" + itoa(id)
}

func (n *names) deptChoices(r *http.Request, selected int64, blankKey string) []Choice {
	out := []Choice{{Value: "", Label: cwT(r, blankKey), Selected: selected == 0}}
	for _, d := range n.depts {
		out = append(out, Choice{Value: itoa(d.ID), Label: d.Name, Selected: d.ID == selected})
	}
	return out
}

func (n *names) teamChoices(r *http.Request, dept, selected int64) []Choice {
	out := []Choice{{Value: "", Label: cwT(r, "complaint_web.none"), Selected: selected == 0}}
	for _, t := range n.teams {
		if dept != 0 && t.DeptID != dept {
			continue
		}
		out = append(out, Choice{Value: itoa(t.ID), Label: t.Name, Selected: t.ID == selected})
	}
	return out
}

// staffChoices offers the active staff of dept (0 = every department), by name.
func (p desk) staffChoices(r *http.Request, dept, selected int64) []Choice {
	out := []Choice{{Value: "", Label: cwT(r, "complaint_web.none"), Selected: selected == 0}}
	if p.s.staff == nil {
		return out
	}
	list, err := p.s.staff.ListStaff(sysCtx(r.Context()), org.StaffFilter{DeptID: dept, Status: org.StatusActive, Limit: pickLimit})
	if err != nil {
		return out
	}
	found := false
	for _, st := range list.Items {
		out = append(out, Choice{Value: itoa(st.ID), Label: st.DisplayName, Selected: st.ID == selected})
		found = found || st.ID == selected
	}
	if selected != 0 && !found {
		if st, err := p.s.staff.GetStaff(sysCtx(r.Context()), selected); err == nil {
			out = append(out, Choice{Value: itoa(st.ID), Label: st.DisplayName, Selected: true})
		}
	}
	return out
}

// Due states of a card or a promise: red when past, amber when close.
const (
	dueOverdue = "overdue"
	dueSoon    = "soon"
)

func dueState(due, now time.Time, warn time.Duration) string {
	switch {
	case due.IsZero():
		return ""
	case now.After(due):
		return dueOverdue
	case due.Sub(now) <= warn:
		return dueSoon
	}
	return ""
}

// nextDueOf is the earliest promise or target complaint c still has to meet.
func nextDueOf(c *Complaint) time.Time {
	var due time.Time
	for _, t := range []struct{ due, done time.Time }{{c.FirstDueAt, c.FirstDoneAt}, {c.ResultDueAt, c.ResultDoneAt},
		{c.StageDueAt, time.Time{}}} {
		if t.due.IsZero() || !t.done.IsZero() {
			continue
		}
		if due.IsZero() || t.due.Before(due) {
			due = t.due
		}
	}
	return due
}

func (p desk) warnWindow(ctx context.Context) time.Duration {
	if st, err := p.s.store.loadSettings(ctx); err == nil {
		if d := st.warnBefore(); d > 0 {
			return d
		}
	}
	return 2 * time.Hour
}

// ======================= the board =======================

// BoardPage is the model of /complaints: a column per working stage, or with ?stage=
// the list of one stage (closed and rejected are only counted on the board).
type BoardPage struct {
	Levels      []Choice
	Depts       []Choice
	Level       string
	DeptID      string
	Columns     []BoardColumn
	Ended       []EndedCount
	Stage       string // the stage listed ("" = the board)
	StageLabel  string
	Rows        []BoardCard
	NextURL     string
	CanWrite    bool
	FilterError string
}

// BoardColumn is one stage of the board.
type BoardColumn struct {
	Stage string
	Label string
	Cards []BoardCard
	More  bool   // more than the column shows
	Href  string // the list of the stage
}

// BoardCard is one complaint on the board.
type BoardCard struct {
	ID         int64
	Number     string
	Title      string
	Level      string
	LevelLabel string
	StageLabel string
	Dept       string // the responsible department (the intake one until it is set)
	DeptSet    bool
	Due        time.Time
	DueState   string
	Anonymous  bool
	Merged     bool
}

// EndedCount is the count of an ended stage with a link to its list.
type EndedCount struct {
	Stage string
	Label string
	Count string
	Href  string
}

func (p desk) board(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	f := Filter{Level: Level(q.Get("level")), Masters: true} // a merged complaint is worked through its master
	pg := BoardPage{Level: q.Get("level"), DeptID: q.Get("dept_id"), CanWrite: authz.From(ctx).Can(PermWrite)}
	nm := p.names(ctx)
	if pg.DeptID != "" {
		f.DeptID = formInt(pg.DeptID)
		if f.DeptID <= 0 {
			pg.FilterError = cwT(r, "complaint_web.invalid.filter", "field", cwT(r, "complaint_web.field.dept"))
			f.DeptID = 0
		}
	}
	pg.Levels = cwChoices(r, "complaint.level.", Levels, pg.Level, "complaint_web.filter.any")
	pg.Depts = nm.deptChoices(r, f.DeptID, "complaint_web.filter.any")
	base := url.Values{}
	if pg.Level != "" {
		base.Set("level", pg.Level)
	}
	if f.DeptID != 0 {
		base.Set("dept_id", itoa(f.DeptID))
	}
	stageHref := func(st Stage) string {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		v.Set("stage", string(st))
		return "/complaints?" + v.Encode()
	}
	now, warn := p.s.now(), p.warnWindow(ctx)
	card := func(c *Complaint) BoardCard {
		dept, set := c.RespDeptID, true
		if dept == 0 {
			dept, set = c.DeptID, false
		}
		due := time.Time{}
		if c.Stage.Open() && c.Stage != StageRejected {
			due = nextDueOf(c)
		}
		return BoardCard{ID: c.ID, Number: c.Number, Title: c.Title, Level: string(c.Level),
			LevelLabel: cwLabel(r, "complaint.level.", string(c.Level)), StageLabel: cwLabel(r, "complaint.stage.", string(c.Stage)),
			Dept: nm.dept(dept), DeptSet: set, Due: due, DueState: dueState(due, now, warn), Anonymous: c.Anonymous,
			Merged: c.MasterID != 0}
	}
	filterErr := func(err error) {
		if _, msg, ok := p.s.web.FieldErrors(ctx, err); ok {
			pg.FilterError = msg
			web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "complaint/board", "complaint_web.page.board", pg)
			return
		}
		p.fail(w, r, err)
	}
	if st := Stage(q.Get("stage")); st != "" { // the list of one stage
		f.Stage = st
		pg.Stage, pg.StageLabel = string(st), cwLabel(r, "complaint.stage.", string(st))
		list, err := p.s.List(ctx, f, httpx.DefaultLimit, q.Get("cursor"))
		if err != nil {
			filterErr(err)
			return
		}
		for i := range list.Items {
			pg.Rows = append(pg.Rows, card(&list.Items[i]))
		}
		if list.NextCursor != "" {
			v, _ := url.ParseQuery(strings.TrimPrefix(stageHref(st), "/complaints?"))
			v.Set("cursor", list.NextCursor)
			pg.NextURL = "/complaints?" + v.Encode()
		}
		web.Render(p.s.web, w, r, http.StatusOK, "complaint/board", "complaint_web.page.board", pg)
		return
	}
	for _, st := range boardStages {
		f.Stage = st
		list, err := p.s.List(ctx, f, boardColumnLimit, "")
		if err != nil {
			filterErr(err)
			return
		}
		col := BoardColumn{Stage: string(st), Label: cwLabel(r, "complaint.stage.", string(st)), More: list.NextCursor != "",
			Href: stageHref(st)}
		for i := range list.Items {
			col.Cards = append(col.Cards, card(&list.Items[i]))
		}
		pg.Columns = append(pg.Columns, col)
	}
	for _, st := range endedStages {
		f.Stage = st
		list, err := p.s.List(ctx, f, endedCountLimit, "")
		if err != nil {
			filterErr(err)
			return
		}
		n := strconv.Itoa(len(list.Items))
		if list.NextCursor != "" {
			n += "+"
		}
		pg.Ended = append(pg.Ended, EndedCount{Stage: string(st), Label: cwLabel(r, "complaint.stage.", string(st)), Count: n,
			Href: stageHref(st)})
	}
	web.Render(p.s.web, w, r, http.StatusOK, "complaint/board", "complaint_web.page.board", pg)
}

// ======================= intake =======================

// NewPage is the model of /complaints/new (a complaint taken on the phone).
type NewPage struct {
	ticket.CustomerPicker
	V           map[string]string
	Channels    []Choice
	Severities  []Choice
	Levels      []Choice
	ObjectKinds []Choice
	Depts       []Choice
	Staff       []Choice
	Promises    []PromiseRow
	Checked     bool     // the likely duplicates were looked for (merge.go)
	Duplicates  []DupRow // complaints likely about the same issue, before saving
	Errors      web.FormErrors
	Message     string
}

// PromiseRow is the feedback times each level promises if the complaint is taken now.
type PromiseRow struct {
	Level       string
	Label       string
	FirstAnswer time.Time
	Result      time.Time
}

// newFields are the text fields of the intake form echoed back on an error.
var newFields = []string{"customer_id", "contact_name", "channel", "severity", "level", "level_reason", "title", "body",
	"location", "object_kind", "object_dept_id", "object_staff_id", "object_text", "first_answer_due_at", "result_due_at",
	"anonymous", "reply_only"}

func (p desk) newForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := map[string]string{"channel": string(ticket.ChannelPhone), "severity": string(ticket.SeverityGeneral)}
	for _, k := range newFields {
		if s := q.Get(k); s != "" {
			v[k] = s
		}
	}
	pg := NewPage{CustomerPicker: ticket.CustomerPicker{CQ: strings.TrimSpace(q.Get("cq")), Phone: strings.TrimSpace(q.Get("phone"))}, V: v}
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
		pg.V["customer_id"] = itoa(pg.Customers[0].ID)
	}
	web.Render(p.s.web, w, r, status, "complaint/new", "complaint_web.page.new", pg)
}

// fillNewForm fills the selects, the promised times of each level and the customer
// choices (as the request form: a search within the actor's scope, a caller lookup by
// the whole number, masked and audited, or the customer already chosen).
func (p desk) fillNewForm(r *http.Request, pg *NewPage) error {
	ctx := r.Context()
	nm := p.names(ctx)
	pg.Channels = cwChoices(r, "ticket.channel.", ticket.Channels, pg.V["channel"], "")
	pg.Severities = cwChoices(r, "ticket.severity.", ticket.Severities, pg.V["severity"], "")
	pg.Levels = cwChoices(r, "complaint.level.", Levels, pg.V["level"], "complaint_web.new.level_derived")
	pg.ObjectKinds = cwChoices(r, "complaint.object.", ObjectKinds, pg.V["object_kind"], "complaint_web.none")
	pg.Depts = nm.deptChoices(r, formInt(pg.V["object_dept_id"]), "complaint_web.none")
	pg.Staff = p.staffChoices(r, 0, formInt(pg.V["object_staff_id"]))
	if st, err := p.s.store.loadSettings(ctx); err == nil {
		if cal, err := p.s.calendarFor(ctx, ""); err == nil {
			now := p.s.now()
			for _, l := range Levels {
				lt := st.Levels[l]
				pg.Promises = append(pg.Promises, PromiseRow{Level: string(l), Label: cwLabel(r, "complaint.level.", string(l)),
					FirstAnswer: lt.FirstAnswer.due(cal, now), Result: lt.Result.due(cal, now)})
			}
		}
	}
	return p.s.tickets.PickCustomers(ctx, &pg.CustomerPicker, formInt(pg.V["customer_id"]), r.Method == http.MethodGet)
}

func (p desk) create(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	f := r.PostFormValue
	fe := apperr.Fields{}
	d := Details{Level: Level(f("level")), LevelReason: f("level_reason"), Anonymous: f("anonymous") != "",
		ReplyOnly: f("reply_only") != "", Location: f("location"), ObjectKind: ObjectKind(f("object_kind")),
		ObjectDeptID: formInt(f("object_dept_id")), ObjectStaffID: formInt(f("object_staff_id")), ObjectText: f("object_text"),
		FirstAnswerDueAt: formTime(fe, "complaint.first_answer_due_at", f("first_answer_due_at")),
		ResultDueAt:      formTime(fe, "complaint.result_due_at", f("result_due_at"))}
	err := fe.Err()
	if err == nil {
		raw, merr := json.Marshal(d)
		if merr != nil {
			p.fail(w, r, fmt.Errorf("complaint: form: %w", merr))
			return
		}
		in := ticket.Input{CustomerID: formInt(f("customer_id")), Channel: ticket.Channel(f("channel")),
			Severity: ticket.Severity(f("severity")), Title: strings.TrimSpace(f("title")), Body: f("body"),
			ContactName: strings.TrimSpace(f("contact_name")), Complaint: raw}
		var c Complaint
		if c, err = p.s.Create(ctx, in); err == nil {
			web.Redirect(w, r, "/complaints/"+itoa(c.ID), "complaint_web.flash.created")
			return
		}
	}
	errs, msg, ok := p.s.web.FieldErrors(ctx, err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg := NewPage{CustomerPicker: ticket.CustomerPicker{CQ: strings.TrimSpace(f("cq")), Phone: strings.TrimSpace(f("phone"))}, V: map[string]string{},
		Errors: errs, Message: msg}
	for _, k := range newFields {
		pg.V[k] = f(k)
	}
	if ferr := p.fillNewForm(r, &pg); ferr != nil {
		p.fail(w, r, ferr)
		return
	}
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "complaint/new", "complaint_web.page.new", pg)
}

// check re-shows the intake form, unsaved, with the complaints likely about the same
// issue (same customer, same address or building, similar text).
func (p desk) check(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	f := r.PostFormValue
	pg := NewPage{CustomerPicker: ticket.CustomerPicker{CQ: strings.TrimSpace(f("cq")), Phone: strings.TrimSpace(f("phone"))}, V: map[string]string{}, Checked: true}
	for _, k := range newFields {
		pg.V[k] = f(k)
	}
	status := http.StatusOK
	ds, err := p.s.CheckDuplicates(ctx, DuplicateQuery{CustomerID: formInt(f("customer_id")), Location: f("location"),
		Title: f("title"), Body: f("body")})
	if err != nil {
		fe, msg, ok := p.s.web.FieldErrors(ctx, err)
		if !ok {
			p.fail(w, r, err)
			return
		}
		pg.Errors, pg.Message, pg.Checked, status = fe, msg, false, httpx.Status(apperr.KindOf(err))
	}
	for _, d := range ds {
		pg.Duplicates = append(pg.Duplicates, dupRow(r, d))
	}
	if ferr := p.fillNewForm(r, &pg); ferr != nil {
		p.fail(w, r, ferr)
		return
	}
	web.Render(p.s.web, w, r, status, "complaint/new", "complaint_web.page.new", pg)
}

// dupRow describes a likely duplicate.
func dupRow(r *http.Request, d Duplicate) DupRow {
	x := &d.Complaint
	dr := DupRow{ID: x.ID, Number: x.Number, Title: x.Title, StageLabel: cwLabel(r, "complaint.stage.", string(x.Stage)),
		Score: strconv.Itoa(int(math.Round(d.Score*100))) + "%"}
	for _, why := range d.Reasons {
		dr.Reasons = append(dr.Reasons, cwLabel(r, "complaint_web.duplicate.", why))
	}
	return dr
}

// ======================= the complaint page =======================

// RecordPage is the model of /complaints/{id}: the complaint record form of the
// seed (the paper record kept per complaint) and the actions the viewer may take.
type RecordPage struct {
	C             Complaint
	Revisit       bool // the complaint gets a return visit when it closes
	NeedsLetter   bool // the written reply must be attached before it closes
	Print         bool
	ChannelLabel  string
	StageLabel    string
	LevelLabel    string
	Complainant   string // masked
	Contact       string // masked
	CustomerLink  bool   // the viewer may open the customer file
	ContactName   string
	Object        string
	Content       string // the customer's words
	TicketStatus  string
	FirstDue      Promise
	ResultDue     Promise
	StageDue      Promise
	Assessment    string
	RespDept      string
	RespTeam      string
	RespStaff     string
	Cause         string
	CauseKind     string
	Findings      string
	Proposals     []ProposalRow
	Penalties     []PenaltyRow
	Tasks         []TaskRow // rectification tasks
	Actions       []TaskRow // improvement actions
	Result        string
	Replies       []ReplyRow
	Satisfaction  string
	Summary       string
	ReplyLetter   string
	Letters       []string
	MasterID      int64
	MasterNumber  string
	Linked        []DupRow // the complaints merged into this one
	Duplicates    []DupRow // likely about the same issue (merge.go)
	Signatures    []SignRow
	Moves         []MoveForm
	CanLevel      bool
	LevelChoices  []Choice
	CanLetter     bool
	Attachments   []Choice
	CanPropose    bool // add proposals and penalties (the proposal stage, the responsible side)
	CanApprove    bool // a superior of the responsible department with a proposal to approve
	ApproveChoice []Choice
	Decidable     []PenaltyRow // penalties the viewer may decide
	PenaltyStaff  []Choice
	PenaltyRoles  []Choice
	PenaltyKinds  []Choice
	FineChoices   []Choice
	Finishable    []TaskRow // tasks the viewer may file as done
	CanCase       bool      // mark the closed complaint as a case, or take it out (cases.go)
	HasActions    bool
	Depts         []Choice
	Teams         []Choice
	Staff         []Choice
	Owners        []Choice
	Causes        []Choice
	CauseKinds    []Choice
	Satisfactions []Choice
	ProposalRows  []FormRow
	ActionRows    []FormRow
	Reject        string // the reply of a complaint found not valid, from the template
	Form          string // the form an error belongs to: a stage, "level" or "letter"
	Alert         string // an error of a form the page does not show (a stale or illegal move)
	Errors        web.FormErrors
	Message       string
	V             map[string]string
}

// FormRow is one of the repeated rows of a form: its index and its number.
type FormRow struct{ I, N int }

// Err is the error of field in form (when that form was the one refused).
func (pg RecordPage) Err(form, field string) string {
	if pg.Form != form {
		return ""
	}
	return pg.Errors[field]
}

// Val is the value field had in form when that form was refused.
func (pg RecordPage) Val(form, field string) string {
	if pg.Form != form {
		return ""
	}
	return pg.V[field]
}

// Promise is a promised or target time with its state.
type Promise struct {
	At    time.Time
	Done  time.Time
	State string
}

// ProposalRow is one proposal with its compensation and the approver's instruction.
type ProposalRow struct {
	ID          int64
	Body        string
	Comp        string
	Status      string
	StatusLabel string
	Proposer    string
	ProposedAt  time.Time
	Decider     string
	DecidedAt   time.Time
	Instruction string
}

// PenaltyRow is one penalty.
type PenaltyRow struct {
	ID          int64
	Decidable   bool // the viewer may approve or refuse it
	Staff       string
	Role        string
	Kind        string
	Amount      string
	Note        string
	Status      string
	StatusLabel string
	Decider     string
	DecidedAt   time.Time
}

// TaskRow is a rectification task or an improvement action.
type TaskRow struct {
	ID     int64
	Open   bool
	Finish bool // the viewer may file it as done
	Kind   string
	Body   string
	Owner  string
	Due    time.Time
	Status string
	Report string
}

// ReplyRow is a text given to the customer at one stage.
type ReplyRow struct {
	Stage string
	Text  string
	At    time.Time
}

// SignRow is one stage of the history: who moved it there and when (the signatures of
// the paper form).
type SignRow struct {
	Stage  string
	Actor  string
	At     time.Time
	Reason string
	Spent  string
}

// DupRow is a complaint linked to this one, or likely about the same issue.
type DupRow struct {
	ID         int64
	Number     string
	Title      string
	StageLabel string
	Reasons    []string
	Score      string
}

// MoveForm is a stage the viewer may move the complaint to.
type MoveForm struct {
	Stage string
	Label string
}

func (p desk) view(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg, err := p.recordPage(r, id, r.URL.Query().Get("print") != "")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "complaint/record", "complaint_web.page.record", pg)
}

// byRequest sends the request page's "complaint" link to the complaint of request id
// (not found when the viewer does not reach the complaint).
func (p desk) byRequest(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var c Complaint
		if c, err = p.s.ByTicket(r.Context(), id); err == nil {
			http.Redirect(w, r, "/complaints/"+itoa(c.ID), http.StatusSeeOther)
			return
		}
	}
	p.fail(w, r, err)
}

// strData reads a stage log value as text.
func strData(d map[string]any, k string) string {
	switch v := d[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// recordPage loads everything the complaint page shows (the read is audited by Get).
func (p desk) recordPage(r *http.Request, id int64, printView bool) (RecordPage, error) {
	ctx := r.Context()
	actor := authz.From(ctx)
	c, err := p.s.Get(ctx, id)
	if err != nil {
		return RecordPage{}, err
	}
	d, err := p.s.Detail(ctx, &c)
	if err != nil {
		return RecordPage{}, err
	}
	nm := p.names(ctx)
	now, warn := p.s.now(), p.warnWindow(ctx)
	pg := RecordPage{C: c, ChannelLabel: cwLabel(r, "ticket.channel.", string(c.Channel)),
		StageLabel: cwLabel(r, "complaint.stage.", string(c.Stage)), LevelLabel: cwLabel(r, "complaint.level.", string(c.Level)),
		RespDept: nm.dept(c.RespDeptID), RespTeam: nm.team(c.RespTeamID), RespStaff: nm.staffName(ctx, c.RespStaffID),
		CauseKind: cwLabel(r, "complaint.cause_kind.", string(c.CauseKind)), MasterID: c.MasterID, V: map[string]string{},
		Print: printView, Revisit: c.Revisit(), NeedsLetter: c.NeedsReplyLetter()}
	open := c.Stage.Open() && c.Stage != StageRejected
	promise := func(due, done time.Time) Promise {
		pr := Promise{At: due, Done: done}
		if done.IsZero() && open {
			pr.State = dueState(due, now, warn)
		} else if !done.IsZero() && !due.IsZero() && done.After(due) {
			pr.State = dueOverdue
		}
		return pr
	}
	pg.FirstDue, pg.ResultDue = promise(c.FirstDueAt, c.FirstDoneAt), promise(c.ResultDueAt, c.ResultDoneAt)
	if open {
		pg.StageDue = promise(c.StageDueAt, time.Time{})
	}
	// The request: the customer's words and the contact (masked).
	if t, err := p.s.tickets.Store().GetTicket(ctx, c.TicketID); err == nil {
		pg.Content, pg.TicketStatus = t.Body, cwLabel(r, "ticket.status.", string(t.Status))
		if t.ContactName != "" {
			pg.ContactName = secure.MaskName(t.ContactName)
		}
	}
	switch {
	case c.Anonymous:
		pg.Complainant = cwT(r, "complaint_web.anonymous")
	case c.CustomerID != 0 && p.s.customers != nil:
		if cu, err := p.s.customers.GetCustomer(ctx, c.CustomerID); err == nil { // an audited read, as on the request page
			v := cu.View(true)
			pg.Complainant, pg.Contact, pg.CustomerLink = secure.MaskName(cu.Name), v.Mobile, true
			if pg.Contact == "" {
				pg.Contact = v.Phone
			}
		} else if ref, err := p.s.customers.Ref(ctx, c.CustomerID); err == nil {
			pg.Complainant, pg.Contact = secure.MaskName(ref.Name), ref.MaskedMobile
		}
	}
	if pg.Complainant == "" {
		pg.Complainant = pg.ContactName
	}
	if pg.ContactName != "" && pg.ContactName != pg.Complainant {
		pg.Contact = strings.TrimPrefix(pg.Contact+" · "+pg.ContactName, " · ")
	}
	// The object complained about.
	var obj []string
	if c.ObjectKind != "" {
		obj = append(obj, cwLabel(r, "complaint.object.", string(c.ObjectKind)))
	}
	if c.ObjectDeptID != 0 {
		obj = append(obj, nm.dept(c.ObjectDeptID))
	}
	if c.ObjectStaffID != 0 {
		obj = append(obj, nm.staffName(ctx, c.ObjectStaffID))
	}
	if c.ObjectText != "" {
		obj = append(obj, c.ObjectText)
	}
	pg.Object = strings.Join(obj, " · ")
	if c.CauseID != 0 {
		if cause, err := p.s.store.Cause(ctx, c.CauseID); err == nil {
			pg.Cause = CauseLabel(ctx, cause)
		}
	}
	// The stage history: signatures, findings, result, replies.
	for _, e := range d.Stages {
		sr := SignRow{Stage: cwLabel(r, "complaint.stage.", string(e.To)), Actor: e.ActorName, At: e.At, Reason: e.Reason}
		if e.Seconds > 0 {
			sr.Spent = (time.Duration(e.Seconds) * time.Second).Round(time.Minute).String()
		}
		if sr.Actor == "" && e.ActorKind == authz.KindSystem {
			sr.Actor = cwT(r, "complaint_web.system")
		}
		pg.Signatures = append(pg.Signatures, sr)
		switch e.To {
		case StageRejected:
			pg.Assessment = cwT(r, "complaint_web.assessment.rejected", "reason", e.Reason)
		case StageInvestigating:
			pg.Assessment = cwT(r, "complaint_web.assessment.valid")
			if e.Reason != "" {
				pg.Assessment += " · " + e.Reason
			}
		case StageProposing:
			pg.Findings = strData(e.Data, "findings")
		case StageFeedback:
			pg.Result = strData(e.Data, "result")
		case StageClosed:
			if s := strData(e.Data, "summary"); s != "" {
				pg.Summary = s
			}
		}
		if reply := strData(e.Data, "reply"); reply != "" {
			pg.Replies = append(pg.Replies, ReplyRow{Stage: sr.Stage, Text: reply, At: e.At})
		}
	}
	if c.Satisfaction > 0 {
		pg.Satisfaction = cwT(r, "complaint_web.satisfaction."+strconv.Itoa(c.Satisfaction))
	}
	superior := actor.Kind == authz.KindStaff && resIsSuperior(actor, &c) && reaches(actor, PermRead, &c)
	proposing := c.Stage == StageProposing
	approved := slices.ContainsFunc(d.Proposals, func(pr Proposal) bool {
		return pr.Status == ProposalApproved && !pr.ProposedAt.Before(c.StageAt)
	})
	for _, pr := range d.Proposals {
		if superior && proposing && !approved && pr.Status == ProposalProposed && !pr.ProposedAt.Before(c.StageAt) &&
			!resIsSelf(actor, pr.ProposedBy) {
			pg.ApproveChoice = append(pg.ApproveChoice, Choice{Value: itoa(pr.ID),
				Label: cwT(r, "complaint_web.approve.option", "n", len(pg.ApproveChoice)+1, "body", shorten(pr.Body, 40))})
		}
		row := ProposalRow{ID: pr.ID, Body: pr.Body, Status: pr.Status, StatusLabel: cwLabel(r, "complaint_web.proposal.", pr.Status),
			Proposer: pr.ProposerName, ProposedAt: pr.ProposedAt, Decider: pr.DeciderName, DecidedAt: pr.DecidedAt,
			Instruction: pr.Instruction}
		if row.Proposer == "" {
			row.Proposer = nm.staffName(ctx, pr.ProposedBy)
		}
		if row.Decider == "" {
			row.Decider = nm.staffName(ctx, pr.DecidedBy)
		}
		if pr.CompForm != "" || pr.CompAmount != 0 {
			row.Comp = cwT(r, "complaint_web.compensation", "form", pr.CompForm, "amount", yuan(pr.CompAmount))
		}
		pg.Proposals = append(pg.Proposals, row)
	}
	for _, pe := range d.Penalties {
		row := PenaltyRow{ID: pe.ID, Staff: pe.StaffName, Role: cwLabel(r, "complaint_web.penalty_role.", pe.Role),
			Kind: cwLabel(r, "complaint_web.penalty.", string(pe.Kind)), Note: pe.Note, Status: pe.Status,
			StatusLabel: cwLabel(r, "complaint_web.penalty_status.", pe.Status), Decider: nm.staffName(ctx, pe.DecidedBy),
			DecidedAt: pe.DecidedAt}
		if row.Staff == "" {
			row.Staff = nm.staffName(ctx, pe.StaffID)
		}
		if pe.Amount != 0 || pe.FineCategory != "" {
			row.Amount = cwT(r, "complaint_web.fine", "category", pe.FineCategory, "amount", yuan(pe.Amount))
		}
		row.Decidable = superior && pe.Status == PenaltyProposed && !resIsSelf(actor, pe.ProposedBy) &&
			!resIsSelf(actor, pe.StaffID)
		if row.Decidable {
			pg.Decidable = append(pg.Decidable, row)
		}
		pg.Penalties = append(pg.Penalties, row)
	}
	for _, tk := range d.Tasks {
		row := TaskRow{ID: tk.ID, Open: tk.Status == TaskOpen, Kind: cwLabel(r, "complaint_web.task.", tk.Kind), Body: tk.Body,
			Owner: tk.OwnerName, Due: tk.DueAt, Status: cwLabel(r, "complaint_web.task_status.", tk.Status), Report: tk.Report}
		row.Finish = row.Open && (resIsSelf(actor, tk.OwnerID) || superior)
		if row.Finish {
			pg.Finishable = append(pg.Finishable, row)
		}
		if row.Owner == "" {
			row.Owner = nm.staffName(ctx, tk.OwnerID)
		}
		if row.Owner == "" && tk.TeamID != 0 {
			row.Owner = nm.team(tk.TeamID)
		}
		if tk.Kind == TaskImprovement {
			pg.Actions = append(pg.Actions, row)
		} else {
			pg.Tasks = append(pg.Tasks, row)
		}
	}
	for _, l := range d.Letters {
		pg.Letters = append(pg.Letters, l.Title)
	}
	p.related(r, &pg)
	var atts []ticket.Attachment
	if c.ReplyLetterID != 0 || c.NeedsReplyLetter() {
		atts, _ = p.s.tickets.Store().Attachments(ctx, c.TicketID, false)
	}
	for _, a := range atts {
		if a.ID == c.ReplyLetterID {
			pg.ReplyLetter = a.Filename
		}
	}
	if c.ReplyLetterID != 0 && pg.ReplyLetter == "" {
		pg.ReplyLetter = "#" + itoa(c.ReplyLetterID)
	}
	// What the viewer may do.
	canWrite := reaches(actor, PermWrite, &c)
	canAssess := actor.Can(PermAssess) && reaches(actor, PermAssess, &c)
	for _, to := range NextStages(c.Stage) {
		need := canWrite
		if to == StageRejected || to == StageInvestigating || (c.Stage == StageClosed && to == StageAssessing) {
			need = canAssess
		}
		if need {
			key := "complaint_web.move." + string(to)
			if c.Stage == StageClosed {
				key = "complaint_web.move.reopen"
			}
			pg.Moves = append(pg.Moves, MoveForm{Stage: string(to), Label: cwT(r, key)})
		}
	}
	pg.CanLevel = canAssess && c.Stage.Open()
	if pg.CanLevel {
		pg.LevelChoices = cwChoices(r, "complaint.level.", Levels, string(c.Level), "")
	}
	pg.CanLetter = canWrite && c.NeedsReplyLetter() && c.Stage.Open()
	pg.CanApprove = len(pg.ApproveChoice) > 0
	pg.CanPropose = canWrite && proposing
	if pg.CanPropose {
		pg.PenaltyStaff = p.staffChoices(r, c.RespDeptID, 0)
		pg.PenaltyRoles = cwChoices(r, "complaint_web.penalty_role.", []string{PenaltyDirect, PenaltyHead}, PenaltyDirect, "")
		pg.PenaltyKinds = cwChoices(r, "complaint_web.penalty.", PenaltyKinds, "", "complaint_web.pick")
		pg.FineChoices = []Choice{{Value: "", Label: cwT(r, "complaint_web.none")}}
		fines := DefaultSettings().Fines
		if st, err := p.s.store.loadSettings(ctx); err == nil {
			fines = st.Fines
		}
		for _, fc := range FineCategories {
			pg.FineChoices = append(pg.FineChoices, Choice{Value: fc,
				Label: cwT(r, "complaint_web.fine_category", "category", fc, "amount", yuan(fines[fc]))})
		}
	}
	for _, a := range atts {
		pg.Attachments = append(pg.Attachments, Choice{Value: itoa(a.ID), Label: a.Filename, Selected: a.ID == c.ReplyLetterID})
	}
	if len(pg.Moves) > 0 {
		p.moveChoices(r, &pg, nm)
	}
	pg.CanCase = c.Stage == StageClosed && actor.Can(PermAnalyze) && reaches(actor, PermRead, &c)
	pg.HasActions = len(pg.Moves) > 0 || pg.CanLevel || pg.CanLetter || pg.CanPropose || pg.CanApprove ||
		len(pg.Decidable) > 0 || len(pg.Finishable) > 0 || pg.CanCase
	return pg, nil
}

// related fills the master, the linked complaints and the likely duplicates (each list
// is the actor's reach; a list that fails is left out).
func (p desk) related(r *http.Request, pg *RecordPage) {
	ctx := r.Context()
	c := &pg.C
	row := func(x *Complaint) DupRow {
		return DupRow{ID: x.ID, Number: x.Number, Title: x.Title, StageLabel: cwLabel(r, "complaint.stage.", string(x.Stage))}
	}
	if c.MasterID != 0 {
		if m, err := p.s.store.Get(ctx, c.MasterID); err == nil && reaches(authz.From(ctx), PermRead, &m) {
			pg.MasterNumber = m.Number
		}
		return
	}
	if linked, err := p.s.Linked(ctx, c.ID); err == nil {
		for i := range linked {
			pg.Linked = append(pg.Linked, row(&linked[i]))
		}
	}
	if pg.Print || !c.Stage.Open() {
		return
	}
	ds, err := p.s.Duplicates(ctx, c.ID)
	if err != nil {
		return
	}
	for _, d := range ds {
		pg.Duplicates = append(pg.Duplicates, dupRow(r, d))
	}
}

// moveChoices fills the selects of the stage forms the viewer may submit.
func (p desk) moveChoices(r *http.Request, pg *RecordPage, nm *names) {
	ctx := r.Context()
	c := &pg.C
	dept := c.RespDeptID
	has := func(st Stage) bool {
		return slices.ContainsFunc(pg.Moves, func(m MoveForm) bool { return m.Stage == string(st) })
	}
	if has(StageInvestigating) {
		pg.Depts = nm.deptChoices(r, formInt(pg.V["resp_dept_id"]), "complaint_web.pick")
		pg.Teams = nm.teamChoices(r, 0, formInt(pg.V["resp_team_id"]))
		pg.Staff = p.staffChoices(r, 0, formInt(pg.V["resp_staff_id"]))
	}
	if has(StageRejected) {
		pg.Reject = pg.V["reply"]
		if pg.Reject == "" {
			if st, err := p.s.store.loadSettings(ctx); err == nil && st.RejectTemplate != "" {
				pg.Reject = st.RejectTemplate
			} else {
				pg.Reject = cwT(r, "complaint_web.reject.template", "number", c.Number)
			}
		}
	}
	if has(StageProposing) {
		if pg.Teams == nil {
			pg.Teams = nm.teamChoices(r, dept, formInt(pg.V["resp_team_id"]))
			pg.Staff = p.staffChoices(r, dept, formInt(pg.V["resp_staff_id"]))
		}
		pg.CauseKinds = cwChoices(r, "complaint.cause_kind.", CauseKinds, pg.V["cause_kind"], "complaint_web.pick")
		pg.Causes = p.causeChoices(r, formInt(pg.V["cause_id"]))
		for i := range proposalRows {
			pg.ProposalRows = append(pg.ProposalRows, FormRow{I: i, N: i + 1})
		}
	}
	if has(StageEvaluating) {
		pg.Owners = p.staffChoices(r, dept, 0)
		pg.Satisfactions = []Choice{{Value: "", Label: cwT(r, "complaint_web.pick")}}
		for i := 5; i >= 1; i-- {
			v := strconv.Itoa(i)
			pg.Satisfactions = append(pg.Satisfactions, Choice{Value: v, Label: cwT(r, "complaint_web.satisfaction."+v),
				Selected: pg.V["satisfaction"] == v})
		}
		for i := range actionRows {
			pg.ActionRows = append(pg.ActionRows, FormRow{I: i, N: i + 1})
		}
	}
}

// shorten cuts s to n characters.
func shorten(s string, n int) string {
	rs := []rune(strings.TrimSpace(s))
	if len(rs) <= n {
		return string(rs)
	}
	return string(rs[:n]) + "…"
}

// causeChoices offers the active causes of the tree, children indented under parents.
func (p desk) causeChoices(r *http.Request, selected int64) []Choice {
	out := []Choice{{Value: "", Label: cwT(r, "complaint_web.pick"), Selected: selected == 0}}
	causes, err := p.s.ListCauses(r.Context())
	if err != nil {
		return out
	}
	depth := map[int64]int{}
	for _, c := range causes {
		if c.ParentID != 0 {
			depth[c.ID] = depth[c.ParentID] + 1
		}
		if !c.Active && c.ID != selected {
			continue
		}
		out = append(out, Choice{Value: itoa(c.ID), Label: strings.Repeat("— ", depth[c.ID]) + CauseLabel(r.Context(), c),
			Selected: c.ID == selected})
	}
	return out
}

// formError re-renders the complaint page with the errors of one form; any other error
// becomes the error page.
func (p desk) formError(w http.ResponseWriter, r *http.Request, id int64, form string, err error) {
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg, lerr := p.recordPage(r, id, false)
	if lerr != nil {
		p.fail(w, r, lerr)
		return
	}
	pg.Form, pg.Errors, pg.Message = form, fe, msg
	shown := slices.ContainsFunc(pg.Moves, func(m MoveForm) bool { return m.Stage == form }) ||
		form == "level" && pg.CanLevel || form == "letter" && pg.CanLetter ||
		(form == "proposal" || form == "penalty") && pg.CanPropose || form == "approve" && pg.CanApprove ||
		form == "decide" && len(pg.Decidable) > 0 || form == "task" && len(pg.Finishable) > 0
	if !shown {
		pg.Alert = msg
	}
	for k := range r.PostForm {
		if k != "csrf_token" {
			pg.V[k] = r.PostFormValue(k)
		}
	}
	if form == string(StageRejected) {
		pg.Reject = pg.V["reply"]
	}
	if len(pg.Moves) > 0 {
		p.moveChoices(r, &pg, p.names(r.Context()))
	}
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "complaint/record", "complaint_web.page.record", pg)
}

// action reads the id and the form, runs fn and goes back to the complaint page.
func (p desk) action(w http.ResponseWriter, r *http.Request, form func(*http.Request) string, flash string,
	fn func(ctx context.Context, id int64) error) {
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
		p.formError(w, r, id, form(r), err)
		return
	}
	web.Redirect(w, r, "/complaints/"+itoa(id), flash)
}

func formName(name string) func(*http.Request) string {
	return func(*http.Request) string { return name }
}

func (p desk) transition(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, func(r *http.Request) string { return r.PostFormValue("stage") }, "complaint_web.flash.moved",
		func(ctx context.Context, id int64) error {
			in, err := moveFromForm(r)
			if err != nil {
				return err
			}
			_, err = p.s.Transition(ctx, id, in)
			return err
		})
}

// moveFromForm reads a stage form into a MoveInput; what cannot be parsed is refused
// naming its field.
func moveFromForm(r *http.Request) (MoveInput, error) {
	f := r.PostFormValue
	fe := apperr.Fields{}
	in := MoveInput{Stage: Stage(f("stage")), Reason: f("reason"), Reply: f("reply"),
		RespDeptID: formInt(f("resp_dept_id")), RespTeamID: formInt(f("resp_team_id")), RespStaffID: formInt(f("resp_staff_id")),
		ResultDueAt: formTime(fe, "result_due_at", f("result_due_at")), CauseID: formInt(f("cause_id")),
		CauseKind: CauseKind(f("cause_kind")), Findings: f("findings"), Result: f("result"), Summary: f("summary")}
	if v := strings.TrimSpace(f("version")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.Version = &n
		}
	}
	if s := strings.TrimSpace(f("satisfaction")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fe.Add("satisfaction", "complaint.invalid.satisfaction")
		}
		in.Satisfaction = n
	}
	for i := range proposalRows {
		k := "proposal_" + strconv.Itoa(i) + "_"
		body, form, amount := strings.TrimSpace(f(k+"body")), strings.TrimSpace(f(k+"comp_form")), f(k+"comp_amount")
		if body == "" && form == "" && strings.TrimSpace(amount) == "" {
			continue
		}
		in.Proposals = append(in.Proposals, ProposalInput{Body: body, CompForm: form,
			CompAmount: formMoney(fe, "proposals."+strconv.Itoa(len(in.Proposals))+".comp_amount", amount)})
	}
	for i := range actionRows {
		k := "action_" + strconv.Itoa(i) + "_"
		body, owner, due := strings.TrimSpace(f(k+"body")), f(k+"owner_id"), strings.TrimSpace(f(k+"due_on"))
		if body == "" && strings.TrimSpace(owner) == "" && due == "" {
			continue
		}
		in.Actions = append(in.Actions, ActionInput{Body: body, OwnerID: formInt(owner), DueOn: due})
	}
	return in, fe.Err()
}

func (p desk) level(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, formName("level"), "complaint_web.flash.level", func(ctx context.Context, id int64) error {
		_, err := p.s.ChangeLevel(ctx, id, LevelInput{Level: Level(r.PostFormValue("level")), Reason: r.PostFormValue("reason")})
		return err
	})
}

func (p desk) replyLetter(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, formName("letter"), "complaint_web.flash.letter", func(ctx context.Context, id int64) error {
		att := formInt(r.PostFormValue("attachment_id"))
		if att == 0 {
			return apperr.InvalidField("attachment_id", "field.required")
		}
		_, err := p.s.AttachReplyLetter(ctx, id, att)
		return err
	})
}

// ======================= resolution forms =======================

func (p desk) addProposal(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, formName("proposal"), "complaint_web.flash.proposal", func(ctx context.Context, id int64) error {
		fe := apperr.Fields{}
		in := ProposalInput{Body: r.PostFormValue("body"), CompForm: strings.TrimSpace(r.PostFormValue("comp_form")),
			CompAmount: formMoney(fe, "comp_amount", r.PostFormValue("comp_amount"))}
		if err := fe.Err(); err != nil {
			return err
		}
		_, err := p.s.AddProposal(ctx, id, in)
		return err
	})
}

func (p desk) proposePenalty(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, formName("penalty"), "complaint_web.flash.penalty", func(ctx context.Context, id int64) error {
		f := r.PostFormValue
		fe := apperr.Fields{}
		in := PenaltyInput{StaffID: formInt(f("staff_id")), Role: f("role"), Kind: PenaltyKind(f("kind")),
			FineCategory: f("fine_category"), Note: f("note")}
		if strings.TrimSpace(f("amount")) != "" {
			amount := formMoney(fe, "amount", f("amount"))
			in.Amount = &amount
		}
		if err := fe.Err(); err != nil {
			return err
		}
		_, err := p.s.ProposePenalty(ctx, id, in)
		return err
	})
}

func (p desk) approve(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, formName("approve"), "complaint_web.flash.approved", func(ctx context.Context, id int64) error {
		in := ApproveInput{ProposalID: formInt(r.PostFormValue("proposal_id")), Instruction: r.PostFormValue("instruction")}
		for k := range r.PostForm {
			pid, ok := strings.CutPrefix(k, "penalty_")
			if !ok {
				continue
			}
			n := formInt(pid)
			var yes bool
			switch r.PostFormValue(k) {
			case "approve":
				yes = true
			case "refuse":
			default:
				continue
			}
			in.Penalties = append(in.Penalties, PenaltyDecision{ID: n, Approve: &yes, Note: r.PostFormValue("note_" + pid)})
		}
		slices.SortFunc(in.Penalties, func(a, b PenaltyDecision) int { return int(a.ID - b.ID) })
		_, err := p.s.Approve(ctx, id, in)
		return err
	})
}

func (p desk) decidePenalty(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, formName("decide"), "complaint_web.flash.decided", func(ctx context.Context, id int64) error {
		pid, err := httpx.PathID(r, "pid")
		if err != nil {
			return err
		}
		in := DecideInput{Note: r.PostFormValue("note")}
		switch r.PostFormValue("decision") {
		case "approve":
			in.Approve = new(true)
		case "refuse":
			in.Approve = new(false)
		}
		_, err = p.s.DecidePenalty(ctx, id, pid, in)
		return err
	})
}

func (p desk) finishTask(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, formName("task"), "complaint_web.flash.task", func(ctx context.Context, id int64) error {
		tid, err := httpx.PathID(r, "tid")
		if err != nil {
			return err
		}
		_, err = p.s.FinishTask(ctx, id, tid, TaskDoneInput{Report: r.PostFormValue("report")})
		return err
	})
}
