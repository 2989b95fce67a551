package revisit

// The task page of the visit workspace and its forms.

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// WorkTaskPage is the model of /revisits/{id}.
type WorkTaskPage struct {
	Task        Task
	RuleLabel   string
	LevelLabel  string
	StatusLabel string
	MethodLabel string
	Assignee    string
	Overdue     bool
	Customer    WorkCustomer
	// The source: a link, what it is, and its history as far as the viewer may see it.
	SourceLabel, SourceHref, SourceRef, SourceTitle, SourceState string
	SourceHidden                                                 bool
	History                                                      []WorkHistoryRow
	// The record form (shown to holders of revisit:write while the task is open).
	CanRecord    bool
	Ended        bool
	Methods      []web.Choice
	Satisfaction []web.Choice
	Questions    []WorkQuestion
	IssueRows    []WorkIssueField
	// The do-not-disturb warning: the server's answer for now, the windows and zone for
	// revisit.js to re-check while the page stays open.
	DND        bool
	DNDShown   bool
	DNDWindows string
	DNDZone    string
	Records    []WorkRecordRow
	Attempts   []WorkAttemptRow
	// Errors of the form that was posted.
	Form    string
	Message string
	Alert   string
	Errors  web.FormErrors
	V       map[string]string
}

// Err is the error message of a record form field.
func (pg WorkTaskPage) Err(field string) string {
	if pg.Form != "record" {
		return ""
	}
	return pg.Errors[field]
}

// Val is the value posted for a record form field (to re-fill the form).
func (pg WorkTaskPage) Val(field string) string { return pg.V[field] }

// WorkCustomer is the customer's file, masked.
type WorkCustomer struct {
	ID                                  int64
	Name, Mobile, Address, Tier, Credit string
	Link, Summary                       bool
}

// WorkHistoryRow is one entry of the source's history.
type WorkHistoryRow struct {
	At    time.Time
	Actor string
	Text  string
}

// WorkQuestion is one question of the script with its answer input.
type WorkQuestion struct {
	N       int
	Key     string
	Text    string
	Value   string
	Err     string
	Choices []web.Choice
}

// WorkIssueField is one new-issue row of the record form.
type WorkIssueField struct {
	I, N                    int
	Body, Appointment       string
	BodyErr, AppointmentErr string
}

// WorkRecordRow is one visit record of the task.
type WorkRecordRow struct {
	ID                    int64
	Round                 int
	Method, MethodLabel   string
	VisitedAt             time.Time
	Reached, Important    bool
	Satisfaction          int
	Agent                 string
	Answers               []WorkAnswerRow
	Note                  string
	Issues                []WorkIssueRow
	SignatureURL          string
	SignedBy, SignoffNote string
	SignedAt              time.Time
	Flagged               bool
	FalseConfirmed        bool
	CanSignoff, CanFlag   bool
}

// WorkAnswerRow is one question and its answer.
type WorkAnswerRow struct{ Question, Answer string }

// WorkIssueRow is a new issue raised in a visit and its follow-up request.
type WorkIssueRow struct {
	Body        string
	Appointment time.Time
	TicketID    int64
	TicketRef   string
	Answered    bool
}

// WorkAttemptRow is one unreached call or visit.
type WorkAttemptRow struct {
	At      time.Time
	Outcome string
	Agent   string
	Note    string
}

func (p workPages) view(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg, err := p.taskPage(r, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "revisit/task", "revisit_web.page.task", pg)
}

// taskPage loads everything the task page shows. The task read is scoped by the engine
// (out of reach is NotFound); the customer file is read through the customer service
// (audited, masked).
func (p workPages) taskPage(r *http.Request, id int64) (WorkTaskPage, error) {
	ctx := r.Context()
	actor := authz.From(ctx)
	t, err := p.webTask(ctx, id)
	if err != nil {
		return WorkTaskPage{}, err
	}
	nm := p.names()
	_, labels := p.ruleLabels(ctx)
	now := p.s.now()
	pg := WorkTaskPage{Task: t, RuleLabel: webLabelOr(labels, t.Rule), LevelLabel: web.Label(r, "revisit_web.level.", t.Level),
		StatusLabel: web.Label(r, "revisit_web.status.", t.Status), MethodLabel: web.Label(r, "revisit_web.method.", t.Method),
		Assignee: nm.name(ctx, t.AssigneeID), Overdue: t.Open() && now.After(t.WindowEnd),
		SourceLabel: web.Label(r, "revisit_web.source.", t.SourceType), SourceHref: wsSourceHref(t.SourceType, t.SourceID),
		V: map[string]string{}}
	if t.SourceID != 0 {
		pg.SourceRef = "#" + wsItoa(t.SourceID)
	}
	pg.Customer = p.customerCard(r, t.CustomerID)
	p.source(r, &pg, t)
	for i, q := range p.webScript(ctx, t.Rule) {
		pg.Questions = append(pg.Questions, WorkQuestion{N: i + 1, Key: strconv.Itoa(i), Text: q})
	}
	pg.CanRecord = t.Open() && actor != nil && actor.Reaches(PermWrite, t.Record())
	pg.Ended = !t.Open()
	if pg.CanRecord {
		pg.Methods = web.Choices(r, "revisit_web.method.", p.methodsFor(t), t.Method, "")
		pg.V["visited_at"] = now.In(webZone).Format("2006-01-02T15:04")
		pg.Satisfaction = p.satisfactionChoices(r, "")
		for i := range webIssueRows {
			pg.IssueRows = append(pg.IssueRows, WorkIssueField{I: i, N: i + 1})
		}
		p.dnd(ctx, &pg, t, now)
	}
	if err := p.records(r, &pg, t, nm); err != nil {
		return WorkTaskPage{}, err
	}
	return pg, nil
}

// methodsFor are the methods the visit work accepts for t (methodAllowed), the
// task's own first.
func (p workPages) methodsFor(t Task) []string {
	out := []string{t.Method}
	for _, m := range Methods {
		if m != t.Method && methodAllowed(&t, m) {
			out = append(out, m)
		}
	}
	return out
}

func (p workPages) satisfactionChoices(r *http.Request, selected string) []web.Choice {
	out := []web.Choice{{Value: "0", Label: web.T(r, "revisit_web.field.satisfaction_none"), Selected: selected == "" || selected == "0"}}
	for n := 1; n <= 5; n++ {
		v := strconv.Itoa(n)
		out = append(out, web.Choice{Value: v, Label: v, Selected: selected == v})
	}
	return out
}

// customerCard reads the customer file (audited "customer.read", masked); a file
// outside the viewer's customer scope shows its masked summary only.
func (p workPages) customerCard(r *http.Request, id int64) WorkCustomer {
	card := WorkCustomer{ID: id, Name: "#" + wsItoa(id)}
	cs := p.s.d.Customers
	if cs == nil || id == 0 {
		return card
	}
	c, err := cs.GetCustomer(r.Context(), id)
	if err != nil {
		ref, rerr := cs.Ref(r.Context(), id)
		if rerr != nil {
			return card
		}
		return WorkCustomer{ID: id, Summary: true, Name: secure.MaskName(ref.Name), Mobile: ref.MaskedMobile,
			Tier: web.Label(r, "customer.tier.", ref.Tier), Credit: ref.CreditGrade}
	}
	v := c.View(true)
	card = WorkCustomer{ID: c.ID, Link: true, Name: secure.MaskName(c.Name), Mobile: v.Mobile, Address: v.AddressDisplay,
		Tier: web.Label(r, "customer.tier.", c.Tier), Credit: c.CreditGrade}
	if card.Mobile == "" {
		card.Mobile = v.Phone
	}
	return card
}

// source fills the source's summary and history as far as the viewer reaches it (each
// capability checks and audits its own read).
func (p workPages) source(r *http.Request, pg *WorkTaskPage, t Task) {
	ctx := r.Context()
	switch t.SourceType {
	case SourceTicket:
		if p.s.d.Tickets == nil {
			return
		}
		tk, err := p.s.d.Tickets.GetTicket(ctx, t.SourceID)
		if err != nil {
			pg.SourceHidden = true
			return
		}
		pg.SourceRef, pg.SourceTitle = tk.Number, tk.Title
		pg.SourceState = web.Label(r, "ticket.status.", string(tk.Status))
		evs, err := p.s.d.Tickets.Events(ctx, t.SourceID, 0, webHistoryRows)
		if err != nil {
			return
		}
		for _, e := range evs {
			text := web.Label(r, "ticket_web.event.", string(e.Kind))
			if e.Body != "" {
				text += ": " + e.Body
			}
			pg.History = append(pg.History, WorkHistoryRow{At: e.CreatedAt, Actor: e.ActorName, Text: text})
		}
	case SourceComplaint:
		if p.s.d.Complaints == nil {
			return
		}
		c, err := p.s.d.Complaints.Get(ctx, t.SourceID)
		if err != nil {
			pg.SourceHidden = true
			return
		}
		pg.SourceRef, pg.SourceTitle = c.Number, c.Title
		pg.SourceState = web.Label(r, "complaint.stage.", string(c.Stage))
		entries, err := p.s.d.Complaints.History(ctx, t.SourceID)
		if err != nil {
			return
		}
		for _, e := range entries {
			text := web.Label(r, "complaint.stage.", string(e.To))
			if e.Reason != "" {
				text += ": " + e.Reason
			}
			pg.History = append(pg.History, WorkHistoryRow{At: e.At, Actor: e.ActorName, Text: text})
		}
	default:
		pg.SourceHidden = pg.SourceHref == ""
	}
}

// dnd asks the engine whether now is inside the customer's do-not-disturb windows.
func (p workPages) dnd(ctx context.Context, pg *WorkTaskPage, t Task, now time.Time) {
	in, err := p.webInDND(ctx, t.CustomerID, now)
	if err != nil {
		return
	}
	pg.DND = in
	pg.DNDShown = in && t.Method == MethodPhone
	pg.DNDWindows, pg.DNDZone = p.webDNDWindows(ctx, t.CustomerID)
}

// ======================= forms =======================

func webMalformed() error { return apperr.New(apperr.Malformed, "error.malformed", "detail", "form") }

// formError re-renders the task page with the errors of one form; any other error
// becomes the error page.
func (p workPages) formError(w http.ResponseWriter, r *http.Request, id int64, form string, err error) {
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg, lerr := p.taskPage(r, id)
	if lerr != nil {
		p.fail(w, r, lerr)
		return
	}
	pg.Form, pg.Errors, pg.Message = form, fe, msg
	if form == "record" && !pg.CanRecord {
		pg.Alert = msg
	}
	if form == "record" && pg.CanRecord {
		for k := range r.PostForm {
			if k != "csrf_token" {
				pg.V[k] = r.PostFormValue(k)
			}
		}
		pg.Methods = web.Choices(r, "revisit_web.method.", webChoiceValues(pg.Methods), pg.V["method"], "")
		pg.Satisfaction = p.satisfactionChoices(r, pg.V["satisfaction"])
		for i := range pg.Questions {
			q := &pg.Questions[i]
			q.Value = pg.V["answer_"+q.Key]
			q.Err = fe["answers["+q.Key+"]"]
		}
		rows := wsIssueRows(r)
		for i := range pg.IssueRows {
			ir := &pg.IssueRows[i]
			pfx := "issue_" + strconv.Itoa(ir.I) + "_"
			ir.Body, ir.Appointment = pg.V[pfx+"body"], pg.V[pfx+"appointment_at"]
			for j, row := range rows {
				if row == ir.I {
					at := "issues[" + strconv.Itoa(j) + "]."
					ir.BodyErr, ir.AppointmentErr = fe[at+"text"], fe[at+"appointment_at"]
				}
			}
		}
	}
	if strings.HasPrefix(form, "signoff-") || strings.HasPrefix(form, "flag-") {
		shown := false
		for _, rec := range pg.Records {
			shown = shown || form == "signoff-"+wsItoa(rec.ID) && rec.CanSignoff || form == "flag-"+wsItoa(rec.ID) && rec.CanFlag
		}
		if !shown {
			pg.Alert = msg
		}
	}
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "revisit/task", "revisit_web.page.task", pg)
}

func webChoiceValues(cs []web.Choice) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Value)
	}
	return out
}

// webFormTime parses a datetime-local value (China time); "" is the zero time.
func webFormTime(f apperr.Fields, field, s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, webZone); err == nil {
			return t
		}
	}
	f.Add(field, "revisit_web.invalid.datetime")
	return time.Time{}
}

// webFormInt parses an optional whole number; a bad one adds a field error.
func webFormInt(f apperr.Fields, field, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		f.Add(field, "revisit_web.invalid.number")
		return 0
	}
	return n
}

// recordPost records a visit from the record form.
func (p workPages) recordPost(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, webMalformed())
		return
	}
	if err := p.webRecord(r, id); err != nil {
		p.formError(w, r, id, "record", err)
		return
	}
	web.Redirect(w, r, "/revisits/"+wsItoa(id), "revisit_web.flash.recorded")
}

// recordAction runs fn on record rid of task id from a small form.
func (p workPages) recordAction(w http.ResponseWriter, r *http.Request, form, flash string,
	fn func(ctx context.Context, taskID, recordID int64) error) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	rid, err := httpx.PathID(r, "rid")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, webMalformed())
		return
	}
	if err := fn(r.Context(), id, rid); err != nil {
		p.formError(w, r, id, form+"-"+wsItoa(rid), err)
		return
	}
	web.Redirect(w, r, "/revisits/"+wsItoa(id), flash)
}

func (p workPages) signoff(w http.ResponseWriter, r *http.Request) {
	p.recordAction(w, r, "signoff", "revisit_web.flash.signed_off", func(ctx context.Context, taskID, recordID int64) error {
		return p.webSignoff(ctx, taskID, recordID, r.PostFormValue("note"))
	})
}

func (p workPages) flagFalse(w http.ResponseWriter, r *http.Request) {
	p.recordAction(w, r, "flag", "revisit_web.flash.flagged", func(ctx context.Context, taskID, recordID int64) error {
		return p.webFlagFalse(ctx, taskID, recordID, r.PostFormValue("reason"))
	})
}
