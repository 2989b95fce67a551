package revisit

// The pages' calls into the engine (tasks, rules, do-not-disturb) and the visit work
// (records, sign-off, flags), kept in one place.

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// webTasks lists the tasks of one view of the workspace.
func (p workPages) webTasks(ctx context.Context, wq wsQuery) ([]Task, string, error) {
	return p.s.Tasks(ctx, TaskFilter{View: wq.View, Rule: wq.Rule, Status: wq.Status, DueBefore: wq.DueBefore,
		Cursor: wq.Cursor, Limit: httpx.DefaultLimit})
}

// webRules lists the rules (for labels and the rule filter).
func (p workPages) webRules(ctx context.Context) ([]Rule, error) {
	return p.s.Rules(ctx)
}

// webTask reads one task (scoped: out of reach is NotFound).
func (p workPages) webTask(ctx context.Context, id int64) (Task, error) {
	return p.s.Task(ctx, id)
}

// webInDND reports whether at is inside the customer's do-not-disturb windows.
func (p workPages) webInDND(ctx context.Context, customerID int64, at time.Time) (bool, error) {
	return p.s.InDND(ctx, customerID, at)
}

// webDNDWindows gives the do-not-disturb windows ("12:00-14:00,21:00-09:00") and the
// customer's time zone for revisit.js ("" = no re-check in the browser).
func (p workPages) webDNDWindows(ctx context.Context, customerID int64) (string, string) {
	c, err := p.s.settings(ctx)
	if err != nil || c == nil {
		return "", ""
	}
	return strings.Join(c.DND, ","), c.TimeZone
}

// webScript is the rule's questions, as the visit work reads them (scriptOf).
func (p workPages) webScript(ctx context.Context, code string) []string {
	qs, err := p.s.scriptOf(ctx, code)
	if err != nil {
		return nil
	}
	var out []string
	for _, q := range qs {
		out = append(out, q.Q)
	}
	return out
}

// records fills the task's visit records, their issues and the attempts (Visit: the
// visit work's scoped, audited read).
func (p workPages) records(r *http.Request, pg *WorkTaskPage, t Task, nm *webStaffNames) error {
	ctx := r.Context()
	actor := authz.From(ctx)
	v, err := p.s.Visit(ctx, t.ID)
	if err != nil {
		return err
	}
	issues := map[int64][]WorkIssueRow{}
	for _, is := range v.Issues {
		row := WorkIssueRow{Body: is.Text, TicketID: is.TicketID, Answered: is.AnsweredAt != nil}
		if is.AppointmentAt != nil {
			row.Appointment = *is.AppointmentAt
		}
		if is.TicketID != 0 && p.s.d.Tickets != nil {
			if tk, err := p.s.d.Tickets.Store().GetTicket(ctx, is.TicketID); err == nil {
				row.TicketRef = tk.Number
			}
		}
		issues[is.RecordID] = append(issues[is.RecordID], row)
	}
	canSign := actor != nil && actor.Reaches(webPermSignoff, t.Record())
	canFlag := actor != nil && actor.Reaches(webPermVerify, t.Record())
	script := p.webScript(ctx, t.Rule)
	for i := len(v.Records) - 1; i >= 0; i-- { // newest first
		rec := v.Records[i]
		row := WorkRecordRow{ID: rec.ID, Round: rec.Round, Method: rec.Method, MethodLabel: web.Label(r, "revisit_web.method.", rec.Method),
			VisitedAt: rec.VisitedAt, Reached: rec.Reached, Important: rec.Important, Satisfaction: rec.Satisfaction,
			Agent: nm.name(ctx, rec.AgentID), Note: rec.Note, Issues: issues[rec.ID], SignoffNote: rec.SignoffNote,
			Flagged: rec.FlaggedFalseAt != nil, FalseConfirmed: rec.FalseConfirmedAt != nil}
		row.Answers = webAnswers(script, rec.Answers)
		if rec.Signed {
			row.SignatureURL = "/revisits/" + wsItoa(t.ID) + "/signature"
		}
		if rec.SignoffBy != 0 {
			row.SignedBy = nm.name(ctx, rec.SignoffBy)
			if rec.SignoffAt != nil {
				row.SignedAt = *rec.SignoffAt
			}
		}
		row.CanSignoff = canSign && rec.SignoffBy == 0 && rec.AgentID != actor.ID
		row.CanFlag = canFlag && rec.FlaggedFalseAt == nil
		pg.Records = append(pg.Records, row)
	}
	for _, at := range v.Attempts {
		pg.Attempts = append(pg.Attempts, WorkAttemptRow{At: at.At, Outcome: web.Label(r, "revisit_web.attempt.", at.Outcome),
			Agent: nm.name(ctx, at.AgentID), Note: at.Note})
	}
	return nil
}

// webAnswers lists the answers of a record in the order of the script, then any answer
// to a question the script no longer has (sorted).
func webAnswers(script []string, answers map[string]string) []WorkAnswerRow {
	var out []WorkAnswerRow
	seen := map[string]bool{}
	for _, q := range script {
		if a, ok := answers[q]; ok && !seen[q] {
			out = append(out, WorkAnswerRow{Question: q, Answer: a})
			seen[q] = true
		}
	}
	var rest []string
	for q := range answers {
		if !seen[q] {
			rest = append(rest, q)
		}
	}
	sort.Strings(rest)
	for _, q := range rest {
		out = append(out, WorkAnswerRow{Question: q, Answer: answers[q]})
	}
	return out
}

// wsIssueRows lists the record form's issue rows that were filled, in order (the
// visit work numbers the issues it gets from 0 in that order).
func wsIssueRows(r *http.Request) []int {
	var rows []int
	for i := range webIssueRows {
		pfx := "issue_" + strconv.Itoa(i) + "_"
		if strings.TrimSpace(r.PostFormValue(pfx+"body")) != "" || strings.TrimSpace(r.PostFormValue(pfx+"appointment_at")) != "" {
			rows = append(rows, i)
		}
	}
	return rows
}

// recordInput reads the record form into the visit work's input; what cannot be parsed
// is refused naming its field.
func (p workPages) recordInput(r *http.Request, t Task) (RecordInput, error) {
	f := apperr.Fields{}
	in := RecordInput{Method: strings.TrimSpace(r.PostFormValue("method")), Note: r.PostFormValue("note"),
		Important: r.PostFormValue("important") == "1", Answers: map[string]string{},
		Signature: strings.TrimSpace(r.PostFormValue("signature"))}
	if at := webFormTime(f, "visited_at", r.PostFormValue("visited_at")); !at.IsZero() {
		in.VisitedAt = &at
	}
	switch r.PostFormValue("reached") {
	case "1":
		in.Reached = new(true)
	case "0":
		in.Reached = new(false)
	}
	in.Satisfaction = webFormInt(f, "satisfaction", r.PostFormValue("satisfaction"))
	for i, q := range p.webScript(r.Context(), t.Rule) {
		if v, ok := r.PostForm["answer_"+strconv.Itoa(i)]; ok {
			in.Answers[q] = v[0]
		}
	}
	for _, i := range wsIssueRows(r) {
		pfx := "issue_" + strconv.Itoa(i) + "_"
		is := IssueInput{Text: r.PostFormValue(pfx + "body")}
		if at := webFormTime(f, "issues["+strconv.Itoa(len(in.Issues))+"].appointment_at", r.PostFormValue(pfx+"appointment_at")); !at.IsZero() {
			is.AppointmentAt = &at
		}
		in.Issues = append(in.Issues, is)
	}
	return in, f.Err()
}

// webRecord records a visit from the posted record form.
func (p workPages) webRecord(r *http.Request, taskID int64) error {
	t, err := p.webTask(r.Context(), taskID)
	if err != nil {
		return err
	}
	in, err := p.recordInput(r, t)
	if err != nil {
		return err
	}
	_, err = p.s.Record(r.Context(), taskID, in)
	return err
}

// signature serves the customer's signature of task id (the visit work's scoped,
// audited read) as the PNG it is.
func (p workPages) signature(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	png, err := p.s.Signature(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, _ = w.Write(png)
}

// webSignoff signs record recordID of task taskID off.
func (p workPages) webSignoff(ctx context.Context, taskID, recordID int64, note string) error {
	_, err := p.s.Signoff(ctx, taskID, SignoffInput{RecordID: recordID, Note: note})
	return err
}

// webFlagFalse flags record recordID of task taskID as false.
func (p workPages) webFlagFalse(ctx context.Context, taskID, recordID int64, reason string) error {
	_, err := p.s.FlagFalse(ctx, taskID, FlagFalseInput{RecordID: recordID, Reason: reason})
	return err
}
