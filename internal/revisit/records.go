package revisit

// The visit record (POST /api/v1/revisits/{id}/record, {id} = the task): method, time,
// reached or not, satisfaction, the answers to the rule's script, important, the new
// issues raised, and the customer's signature of an on-site visit. A complete record is
// required to close (bixu baozheng huifang xinxi de wanzheng jilu): the missing parts
// are refused together, each named. A reached visit completes the task (the OnDone
// listeners run in the same transaction); an unreached one is an attempt with its retry
// (attempts.go). New issues become follow-up requests (followup.go); the result goes to
// the staff concerned (notify.go).

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Record limits.
const (
	maxAnswers       = 50
	maxIssues        = 10
	futureTolerance  = 5 * time.Minute
	maxVisitAge      = 90 * 24 * time.Hour
	thingVisit       = "thing.revisit_visit"
	thingVisitRecord = "thing.revisit_record"
)

// RecordInput is a visit record as sent.
type RecordInput struct {
	Method       string            `json:"method"`
	VisitedAt    *time.Time        `json:"visited_at"` // default: now
	Reached      *bool             `json:"reached"`
	Satisfaction int               `json:"satisfaction"`
	Answers      map[string]string `json:"answers" text:"multiline"`
	Important    bool              `json:"important"`
	Note         string            `json:"note" text:"multiline"`
	Issues       []IssueInput      `json:"issues"`
	// Signature is the customer's signature of an on-site visit as a PNG data URL
	// ("data:image/png;base64,..."); a multipart request sends it as a file part instead.
	Signature string `json:"signature"`

	// signature is the decoded image (from Signature or the multipart part).
	signature *Signature
}

// IssueInput is a new issue the customer raised.
type IssueInput struct {
	Text string `json:"text" text:"multiline"`
	// AppointmentAt is the time told to the customer for an answer.
	AppointmentAt *time.Time `json:"appointment_at"`
	// Type is the follow-up request's type: inquiry (default), repair, suggestion.
	Type string `json:"type"`
}

// SetSignaturePNG gives the input a signature sent as a file (multipart).
func (in *RecordInput) SetSignaturePNG(raw []byte) error {
	sig, err := DecodeSignaturePNG("signature", raw)
	if err != nil {
		return err
	}
	in.signature = &sig
	return nil
}

// issueTypes are the follow-up request types an issue may take.
var issueTypes = []string{"inquiry", "repair", "suggestion"}

// methodAllowed reports whether method may record task t: the task's own method, an
// on-site visit always, and from the second round on a phone visit except for major
// complaints (di san lei tousu), which are visited on site again.
func methodAllowed(t *Task, method string) bool {
	switch {
	case method == t.Method || method == MethodOnsite:
		return true
	case method == MethodPhone && t.Round >= 2:
		return t.Level != LevelMajor
	}
	return false
}

// checkRecord validates in against task t and the rule's script; every missing or bad
// part is named.
func (s *Service) checkRecord(t *Task, script []Question, in *RecordInput, now time.Time) error {
	f := apperr.Fields{}
	switch {
	case in.Method == "":
		f.Add("method", "field.required")
	case !slices.Contains(Methods, in.Method):
		f.Add("method", "field.invalid_choice")
	case !methodAllowed(t, in.Method):
		if t.Level == LevelMajor && in.Method == MethodPhone && t.Round >= 2 {
			f.Add("method", "revisit.work.invalid.major_onsite")
		} else {
			f.Add("method", "revisit.work.invalid.method", "method", t.Method)
		}
	}
	if in.VisitedAt == nil || in.VisitedAt.IsZero() {
		at := now
		in.VisitedAt = &at // recorded right after the call: the time defaults to now
	}
	switch {
	case in.VisitedAt.After(now.Add(futureTolerance)):
		f.Add("visited_at", "revisit.work.invalid.visited_future")
	case in.VisitedAt.Before(now.Add(-maxVisitAge)) || in.VisitedAt.Before(t.CreatedAt.Add(-time.Minute)):
		f.Add("visited_at", "revisit.work.invalid.visited_before_task")
	}
	in.Note = wText(f, "note", in.Note, workMaxText, false)
	if in.Reached == nil {
		f.Add("reached", "field.required")
	}
	reached := in.Reached != nil && *in.Reached
	if len(in.Answers) > maxAnswers {
		f.Add("answers", "revisit.work.invalid.too_many", "max", maxAnswers)
	}
	for k, v := range in.Answers {
		if len([]rune(k)) > workMaxShort || len([]rune(v)) > workMaxText {
			f.Add("answers", "field.too_long", "max", workMaxText)
			break
		}
	}
	if reached {
		if in.Satisfaction < 1 || in.Satisfaction > 5 {
			if in.Satisfaction == 0 {
				f.Add("satisfaction", "field.required")
			} else {
				f.Add("satisfaction", "revisit.work.invalid.satisfaction")
			}
		}
		for i, q := range script {
			if a, ok := in.Answers[q.Q]; !ok || trimSpace(a) == "" {
				f.Add("answers["+strconv.Itoa(i)+"]", "revisit.work.invalid.answer_missing", "question", q.Q)
			}
		}
		if in.Method == MethodOnsite && in.signature == nil && in.Signature == "" {
			f.Add("signature", "revisit.work.invalid.signature_required")
		}
	} else {
		if in.Satisfaction != 0 {
			f.Add("satisfaction", "revisit.work.invalid.satisfaction_unreached")
		}
		if len(in.Issues) > 0 {
			f.Add("issues", "revisit.work.invalid.issues_unreached")
		}
	}
	if in.signature == nil && in.Signature != "" {
		if in.Method != MethodOnsite {
			f.Add("signature", "revisit.work.invalid.signature_phone")
		} else if sig, err := DecodeSignatureURL("signature", in.Signature); err != nil {
			if ae, ok := apperr.As(err); ok {
				for k, m := range ae.Fields {
					f[k] = m
				}
			}
		} else {
			in.signature = &sig
		}
	}
	if len(in.Issues) > maxIssues {
		f.Add("issues", "revisit.work.invalid.too_many", "max", maxIssues)
	}
	for i := range in.Issues {
		is := &in.Issues[i]
		p := "issues[" + strconv.Itoa(i) + "]."
		is.Text = wText(f, p+"text", is.Text, workMaxText, true)
		switch {
		case is.AppointmentAt == nil || is.AppointmentAt.IsZero():
			f.Add(p+"appointment_at", "field.required")
		case !is.AppointmentAt.After(now):
			f.Add(p+"appointment_at", "revisit.work.invalid.appointment_past")
		}
		if is.Type != "" && !slices.Contains(issueTypes, is.Type) {
			f.Add(p+"type", "field.invalid_choice")
		}
	}
	return f.Err()
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// lockTaskFor loads task id for change in ctx's transaction once the actor reaches it
// with perm (out of reach reads as not found).
func (s *Service) lockTaskFor(ctx context.Context, a *authz.Actor, id int64, perm string) (Task, error) {
	t, err := s.store.LockTask(ctx, id)
	if err != nil {
		return Task{}, wNotFound(err, thingVisit)
	}
	if !a.Reaches(perm, t.Record()) {
		return Task{}, apperr.NotFoundf(thingVisit)
	}
	return t, nil
}

// saveTask writes t, changed in ctx's transaction, as its next version.
func (s *Service) saveTask(ctx context.Context, t *Task) error {
	prev := t.Version
	t.Version, t.UpdatedAt = t.Version+1, s.now()
	ok, err := s.store.UpdateTask(ctx, t, prev)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.StaleVersion(t.Version)
	}
	return nil
}

// Record writes a visit record of task taskID (revisit:write; the assignee or anyone
// whose scope reaches the task). See the file comment.
func (s *Service) Record(ctx context.Context, taskID int64, in RecordInput) (RecordView, error) {
	a, err := authz.RequireStaff(ctx, workPermWrite)
	if err != nil {
		return RecordView{}, err
	}
	var view RecordView
	var after []func()
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockTaskFor(ctx, a, taskID, workPermWrite)
		if err != nil {
			return err
		}
		if t.Status != StatusOpen {
			return apperr.New(apperr.Conflict, "revisit.work.error.not_open", "status", t.Status)
		}
		now := s.now()
		script, err := s.scriptOf(ctx, t.Rule)
		if err != nil {
			return err
		}
		if err := s.checkRecord(&t, script, &in, now); err != nil {
			return err
		}
		reached := *in.Reached
		rec := VisitRecord{TaskID: t.ID, Round: t.Round, Method: in.Method, VisitedAt: time.UnixMilli(in.VisitedAt.UnixMilli()),
			Reached: reached, Satisfaction: in.Satisfaction, Answers: in.Answers, Important: in.Important, Note: in.Note,
			AgentID: workActorID(a), CreatedAt: now, Version: 1}
		if rec.Answers == nil {
			rec.Answers = map[string]string{}
		}
		if in.signature != nil && in.Method == MethodOnsite {
			if rec.SignatureID, err = s.work().InsertSignature(ctx, t.ID, *in.signature, workActorID(a), now); err != nil {
				return err
			}
		}
		if err := s.work().InsertRecord(ctx, &rec); err != nil {
			return err
		}
		detail := map[string]any{"record_id": rec.ID, "round": rec.Round, "method": rec.Method, "reached": reached,
			"satisfaction": rec.Satisfaction, "important": rec.Important, "visited_at": rec.VisitedAt.UTC(),
			"signature_id": rec.SignatureID, "customer_id": t.CustomerID}
		if !reached {
			at, err := s.unreached(ctx, &t, &rec, now)
			if err != nil {
				return err
			}
			detail["next_attempt_at"] = wOptTime(at)
			detail["status"] = t.Status
			if err := s.record(ctx, "revisit.record.unreached", "revisit_task", t.ID, detail); err != nil {
				return err
			}
		} else {
			issues, err := s.raiseIssues(ctx, &t, &rec, in.Issues, now)
			if err != nil {
				return err
			}
			t.Status, t.DoneAt, t.NextAttemptAt = StatusDone, now, time.Time{}
			if err := s.saveTask(ctx, &t); err != nil {
				return err
			}
			if err := s.work().AnswerIssues(ctx, t.ID, now); err != nil {
				return err
			}
			detail["issues"] = len(issues)
			if err := s.record(ctx, "revisit.record", "revisit_task", t.ID, detail); err != nil {
				return err
			}
			v := VisitDone{TaskID: t.ID, RecordID: rec.ID, Rule: t.Rule, CustomerID: t.CustomerID, AssigneeID: t.AssigneeID,
				DeptID: t.DeptID, Method: rec.Method, Reached: true, Satisfaction: rec.Satisfaction, SourceType: t.SourceType,
				SourceID: t.SourceID, At: rec.VisitedAt}
			for _, fn := range s.done {
				if err := fn(ctx, v); err != nil {
					return fmt.Errorf("revisit: done listener: %w", err)
				}
			}
		}
		fns, err := s.notifyResult(ctx, &t, &rec, now)
		if err != nil {
			return err
		}
		after = fns
		view, err = s.visitView(ctx, &t)
		if err != nil {
			return err
		}
		view.RecordID = rec.ID
		return nil
	})
	if err != nil {
		return RecordView{}, err
	}
	for _, fn := range after {
		fn()
	}
	return view, nil
}

// scriptOf is the question set of rule code (none when the rule is unknown).
func (s *Service) scriptOf(ctx context.Context, code string) ([]Question, error) {
	r, err := s.store.ruleByCode(ctx, code)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.Script, nil
}

// ======================= views =======================

// RecordJSON is the JSON form of a visit record.
type RecordJSON struct {
	ID               int64             `json:"id"`
	Round            int               `json:"round"`
	Method           string            `json:"method"`
	Phone            bool              `json:"phone_visit"`
	VisitedAt        time.Time         `json:"visited_at"`
	Reached          bool              `json:"reached"`
	Satisfaction     int               `json:"satisfaction"`
	Answers          map[string]string `json:"answers"`
	Important        bool              `json:"important"`
	Note             string            `json:"note"`
	AgentID          int64             `json:"agent_id"`
	Signed           bool              `json:"signed"`
	SignoffBy        int64             `json:"signoff_by"`
	SignoffAt        *time.Time        `json:"signoff_at"`
	SignoffNote      string            `json:"signoff_note"`
	FlaggedFalseAt   *time.Time        `json:"flagged_false_at"`
	FalseReason      string            `json:"false_reason"`
	FalseConfirmedAt *time.Time        `json:"false_confirmed_at"`
	FalseStaffID     int64             `json:"false_staff_id"`
	CreatedAt        time.Time         `json:"created_at"`
	Version          int64             `json:"version"`
}

// AttemptJSON is the JSON form of an attempt.
type AttemptJSON struct {
	ID      int64      `json:"id"`
	At      time.Time  `json:"at"`
	Outcome string     `json:"outcome"`
	Note    string     `json:"note"`
	AgentID int64      `json:"agent_id"`
	NextAt  *time.Time `json:"next_at"`
}

// IssueJSON is the JSON form of an issue.
type IssueJSON struct {
	ID            int64      `json:"id"`
	RecordID      int64      `json:"record_id"`
	Text          string     `json:"text"`
	TicketID      int64      `json:"ticket_id"`
	AppointmentAt *time.Time `json:"appointment_at"`
	NextTaskID    int64      `json:"next_task_id"`
	AnsweredAt    *time.Time `json:"answered_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

// NoticeJSON is the JSON form of a notice sent about the task.
type NoticeJSON struct {
	StaffID   int64      `json:"staff_id"`
	Reason    string     `json:"reason"`
	Channel   string     `json:"channel"`
	MailedAt  *time.Time `json:"mailed_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// VisitTaskJSON is the task part of a visit view.
type VisitTaskJSON struct {
	ID            int64      `json:"id"`
	Rule          string     `json:"rule"`
	CustomerID    int64      `json:"customer_id"`
	SourceType    string     `json:"source_type"`
	SourceID      int64      `json:"source_id"`
	Level         string     `json:"level"`
	DeptID        int64      `json:"dept_id"`
	TeamID        int64      `json:"team_id"`
	AssigneeID    int64      `json:"assignee_id"`
	Method        string     `json:"method"`
	Status        string     `json:"status"`
	Round         int        `json:"round"`
	ParentID      int64      `json:"parent_id"`
	Attempts      int        `json:"attempts"`
	WindowStart   time.Time  `json:"window_start"`
	WindowEnd     time.Time  `json:"window_end"`
	ScheduledAt   time.Time  `json:"scheduled_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	DoneAt        *time.Time `json:"done_at"`
	Version       int64      `json:"version"`
}

// RecordView is a task with its records, attempts, issues and notices
// (GET /api/v1/revisits/{id}, and the answer of every visit-work action).
type RecordView struct {
	Task     VisitTaskJSON `json:"task"`
	RecordID int64         `json:"record_id,omitempty"` // the record the action wrote or acted on
	Records  []RecordJSON  `json:"records"`
	Attempts []AttemptJSON `json:"attempts"`
	Issues   []IssueJSON   `json:"issues"`
	Notices  []NoticeJSON  `json:"notices"`
}

func recordJSON(r *VisitRecord) RecordJSON {
	answers := r.Answers
	if answers == nil {
		answers = map[string]string{}
	}
	return RecordJSON{ID: r.ID, Round: r.Round, Method: r.Method, Phone: r.Method == MethodPhone, VisitedAt: r.VisitedAt.UTC(),
		Reached: r.Reached, Satisfaction: r.Satisfaction, Answers: answers, Important: r.Important, Note: r.Note,
		AgentID: r.AgentID, Signed: r.SignatureID != 0, SignoffBy: r.SignoffBy, SignoffAt: wOptTime(r.SignoffAt),
		SignoffNote: r.SignoffNote, FlaggedFalseAt: wOptTime(r.FlaggedFalseAt), FalseReason: r.FalseReason,
		FalseConfirmedAt: wOptTime(r.FalseConfirmedAt), FalseStaffID: r.FalseStaffID, CreatedAt: r.CreatedAt.UTC(),
		Version: r.Version}
}

func visitTaskJSON(t *Task) VisitTaskJSON {
	return VisitTaskJSON{ID: t.ID, Rule: t.Rule, CustomerID: t.CustomerID, SourceType: t.SourceType, SourceID: t.SourceID,
		Level: t.Level, DeptID: t.DeptID, TeamID: t.TeamID, AssigneeID: t.AssigneeID, Method: t.Method, Status: t.Status,
		Round: t.Round, ParentID: t.ParentID, Attempts: t.Attempts, WindowStart: t.WindowStart.UTC(),
		WindowEnd: t.WindowEnd.UTC(), ScheduledAt: t.ScheduledAt.UTC(), NextAttemptAt: wOptTime(t.NextAttemptAt),
		DoneAt: wOptTime(t.DoneAt), Version: t.Version}
}

// visitView reads the records, attempts, issues and notices of t.
func (s *Service) visitView(ctx context.Context, t *Task) (RecordView, error) {
	v := RecordView{Task: visitTaskJSON(t), Records: []RecordJSON{}, Attempts: []AttemptJSON{}, Issues: []IssueJSON{},
		Notices: []NoticeJSON{}}
	recs, err := s.work().RecordsOfTask(ctx, t.ID)
	if err != nil {
		return v, err
	}
	for i := range recs {
		v.Records = append(v.Records, recordJSON(&recs[i]))
	}
	atts, err := s.work().AttemptsOfTask(ctx, t.ID)
	if err != nil {
		return v, err
	}
	for _, at := range atts {
		v.Attempts = append(v.Attempts, AttemptJSON{ID: at.ID, At: at.At.UTC(), Outcome: at.Outcome, Note: at.Note,
			AgentID: at.AgentID, NextAt: wOptTime(at.NextAt)})
	}
	iss, err := s.work().IssuesOfTask(ctx, t.ID)
	if err != nil {
		return v, err
	}
	for _, is := range iss {
		v.Issues = append(v.Issues, IssueJSON{ID: is.ID, RecordID: is.RecordID, Text: is.Body, TicketID: is.TicketID,
			AppointmentAt: wOptTime(is.AppointmentAt), NextTaskID: is.NextTaskID, AnsweredAt: wOptTime(is.AnsweredAt),
			CreatedAt: is.CreatedAt.UTC()})
	}
	ns, err := s.work().NoticesOfTask(ctx, t.ID)
	if err != nil {
		return v, err
	}
	for _, n := range ns {
		v.Notices = append(v.Notices, NoticeJSON{StaffID: n.StaffID, Reason: n.Reason, Channel: n.Channel,
			MailedAt: wOptTime(n.MailedAt), CreatedAt: n.CreatedAt.UTC()})
	}
	return v, nil
}

// Visit returns task id with its records, attempts, issues and notices (revisit:read
// and the task in scope; out of reach reads as not found). The read is audited.
func (s *Service) Visit(ctx context.Context, id int64) (RecordView, error) {
	a, err := authz.RequireStaff(ctx, workPermRead)
	if err != nil {
		return RecordView{}, err
	}
	var v RecordView
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.store.GetTask(ctx, id)
		if err != nil {
			return wNotFound(err, thingVisit)
		}
		if !a.Reaches(workPermRead, t.Record()) {
			return apperr.NotFoundf(thingVisit)
		}
		if v, err = s.visitView(ctx, &t); err != nil {
			return err
		}
		return s.record(ctx, "revisit.visit.read", "revisit_task", t.ID, map[string]any{"customer_id": t.CustomerID})
	})
	return v, err
}

// Signature returns the PNG of the customer's signature of task id (the latest signed
// record), to those who reach the task. The read is audited.
func (s *Service) Signature(ctx context.Context, id int64) ([]byte, error) {
	a, err := authz.RequireStaff(ctx, workPermRead)
	if err != nil {
		return nil, err
	}
	var png []byte
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.store.GetTask(ctx, id)
		if err != nil {
			return wNotFound(err, thingVisit)
		}
		if !a.Reaches(workPermRead, t.Record()) {
			return apperr.NotFoundf(thingVisit)
		}
		if png, err = s.work().SignatureOfTask(ctx, t.ID); err != nil {
			return wNotFound(err, "thing.revisit_signature")
		}
		return s.record(ctx, "revisit.signature.read", "revisit_task", t.ID, map[string]any{"customer_id": t.CustomerID})
	})
	return png, err
}
