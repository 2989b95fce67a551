package complaint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/search"
	"github.com/kefu-cn/kefu/internal/platform/web"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Publisher publishes events after the caller's transaction commits (platform/events).
type Publisher interface {
	Publish(ctx context.Context, ev events.Event)
}

// Calendars resolves business calendars by id ("default" always exists).
type Calendars interface {
	Get(ctx context.Context, id string) (*calendar.Calendar, error)
}

// Deps are the complaint service's collaborators.
type Deps struct {
	DB        *db.DB
	Audit     *audit.Log
	Clock     clock.Clock
	Log       *slog.Logger
	Events    Publisher
	Jobs      *jobs.Runner
	Tickets   *ticket.Service
	Staff     *org.Service
	Customers *customer.Service
	Calendars Calendars
}

// Service holds the complaint use cases.
type Service struct {
	db        *db.DB
	store     *Store
	audit     *audit.Log
	clock     clock.Clock
	log       *slog.Logger
	events    Publisher
	jobs      *jobs.Runner
	tickets   *ticket.Service
	staff     *org.Service
	customers *customer.Service
	calendars Calendars
	requests  *search.Index // the request text index (q= on lists)
	cases     *search.Index // the case library's index
	web       *web.Engine
	// closeListeners run in the transaction that closes a complaint (OnClosed).
	closeListeners []CloseListener
}

// CloseListener is called inside the transaction that closes a complaint, after the
// complaint and its request hold their closed state; c is a copy. An error rolls the
// close back, so a listener only records what it must (the return-visit engine keeps
// an inbox row and does its work in its own job).
type CloseListener func(ctx context.Context, c Complaint) error

// OnClosed registers fn (call before serving; not safe concurrently with requests).
func (s *Service) OnClosed(fn CloseListener) {
	if fn != nil {
		s.closeListeners = append(s.closeListeners, fn)
	}
}

// New builds the service, registers itself as the hook of complaint requests (their
// complaint record is created in the request's own transaction) and its jobs.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Tickets == nil {
		return nil, errors.New("complaint: a database and the request service are required")
	}
	s := &Service{db: d.DB, store: NewStore(d.DB), audit: d.Audit, clock: d.Clock, log: d.Log, events: d.Events,
		jobs: d.Jobs, tickets: d.Tickets, staff: d.Staff, customers: d.Customers, calendars: d.Calendars}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	var err error
	if s.requests, err = search.NewIndex(d.DB, search.KindTicket); err != nil {
		return nil, fmt.Errorf("complaint: %w", err)
	}
	if s.cases, err = search.NewIndex(d.DB, search.KindComplaintCase); err != nil {
		return nil, fmt.Errorf("complaint: %w", err)
	}
	d.Tickets.SetTypeHook(ticket.TypeComplaint, hook{s})
	if s.jobs != nil {
		s.registerJobs(s.jobs)
	}
	return s, nil
}

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// Store returns the store (tests, demo data).
func (s *Service) Store() *Store { return s.store }

// now is the clock's time at millisecond precision (what the database keeps).
func (s *Service) now() time.Time { return time.UnixMilli(clock.Millis(s.clock.Now())) }

// calendarFor returns business calendar id ("" = "default").
func (s *Service) calendarFor(ctx context.Context, id string) (*calendar.Calendar, error) {
	if id == "" {
		id = calendar.DefaultID
	}
	if s.calendars == nil {
		return calendar.Default()
	}
	return s.calendars.Get(ctx, id)
}

// Limits of free text (characters).
const (
	maxShort = 200
	maxText  = 5000
)

// record writes an audit entry about complaint id in ctx's transaction.
func (s *Service) record(ctx context.Context, action string, id int64, detail any) error {
	if s.audit == nil {
		return nil
	}
	target := ""
	if id != 0 {
		target = strconv.FormatInt(id, 10)
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: "complaint", TargetID: target, Detail: detail}); err != nil {
		return fmt.Errorf("complaint: audit %s: %w", action, err)
	}
	return nil
}

func notFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.complaint")
	}
	return fmt.Errorf("complaint: load: %w", err)
}

func isCustomer(a *authz.Actor) bool { return a != nil && a.Kind == authz.KindCustomer }

// reaches reports whether the actor reaches complaint c with perm: staff through the
// request's department and team or through the responsible side; a customer only their
// own (named) complaint; the system always.
func reaches(a *authz.Actor, perm string, c *Complaint) bool {
	switch {
	case a == nil || a.Kind == authz.KindSystem:
		return true
	case isCustomer(a):
		return !c.Anonymous && c.CustomerID != 0 && c.CustomerID == a.ID && perm == PermRead
	}
	if !a.Can(perm) {
		return false
	}
	if a.Reaches(perm, c.Record()) {
		return true
	}
	return c.RespDeptID != 0 && a.Reaches(perm, c.RespRecord())
}

// canSee is reaches as an error: anything out of reach reads as not found.
func canSee(a *authz.Actor, perm string, c *Complaint) error {
	if !reaches(a, perm, c) {
		return apperr.NotFoundf("thing.complaint")
	}
	return nil
}

// lockReached loads complaint id for change inside ctx's transaction once the actor
// reaches it with perm (out of reach reads as not found) and, when version is given, it
// is the current one (409 when stale).
func (s *Service) lockReached(ctx context.Context, a *authz.Actor, id int64, perm string, version *int64) (Complaint, error) {
	c, err := s.store.Lock(ctx, id)
	if err != nil {
		return Complaint{}, notFound(err)
	}
	if err := canSee(a, perm, &c); err != nil {
		return Complaint{}, err
	}
	if version != nil && *version != c.Version {
		return Complaint{}, apperr.StaleVersion(c.Version)
	}
	return c, nil
}

// save writes c, changed in ctx's transaction, as its next version.
func (s *Service) save(ctx context.Context, c *Complaint) error {
	prev := c.Version
	c.Version, c.UpdatedAt = c.Version+1, s.now()
	if ok, err := s.store.Update(ctx, c, prev); err != nil {
		return err
	} else if !ok {
		return apperr.StaleVersion(c.Version)
	}
	return nil
}

func actorFields(a *authz.Actor) (authz.Kind, int64, string) {
	if a == nil {
		return authz.KindSystem, 0, "system"
	}
	name := a.DisplayName
	if name == "" {
		name = a.Username
	}
	return a.Kind, a.ID, name
}

// textField trims v and checks its length; required adds field.required when empty.
func textField(f apperr.Fields, field, v string, max int, required bool) string {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		f.Add(field, "field.required")
	case utf8.RuneCountInString(v) > max:
		f.Add(field, "field.too_long", "max", max)
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		f.Add(field, "field.invalid")
	}
	return v
}

func checkChoice[T ~string](f apperr.Fields, field string, v T, allowed []T, required bool) {
	switch {
	case v == "" && required:
		f.Add(field, "field.required")
	case v != "" && !slices.Contains(allowed, v):
		f.Add(field, "field.invalid_choice")
	}
}

// ======================= intake =======================

// Details are the complaint's own intake fields, sent as the "complaint" member of a
// request of type complaint (POST /api/v1/tickets or /api/v1/complaints). Every field is
// optional: a complaint from the portal arrives without them.
type Details struct {
	// Level overrides the level derived from the severity; LevelReason is then required.
	Level       Level  `json:"level"`
	LevelReason string `json:"level_reason" text:"multiline"`
	// Anonymous: no customer file and no contact (the request has neither).
	Anonymous bool `json:"anonymous"`
	// ReplyOnly: a higher authority asked only for a written reply (the seed's shangji bumen zhi yaoqiu fuhan).
	ReplyOnly bool `json:"reply_only"`
	// Location is the address or building the complaint is about (duplicate matching).
	Location      string     `json:"location"`
	ObjectKind    ObjectKind `json:"object_kind"`
	ObjectDeptID  int64      `json:"object_dept_id"`
	ObjectStaffID int64      `json:"object_staff_id"`
	ObjectText    string     `json:"object_text"`
	// FirstAnswerDueAt and ResultDueAt are the feedback times told to the customer;
	// without them the level's targets on the business calendar apply.
	FirstAnswerDueAt *time.Time `json:"first_answer_due_at"`
	ResultDueAt      *time.Time `json:"result_due_at"`
}

// hook creates the complaint record of every complaint request (ticket.TypeHook).
type hook struct{ s *Service }

func (h hook) Created(ctx context.Context, t *ticket.Ticket, ext json.RawMessage) error {
	_, err := h.s.intake(ctx, t, ext)
	return err
}

// DrivesStatus: a complaint request's status follows the complaint's stages only.
func (h hook) DrivesStatus() bool { return true }

func (h hook) Retyped(ctx context.Context, t *ticket.Ticket, from ticket.Type) error {
	if from == ticket.TypeComplaint { // a complaint record never loses its request
		return apperr.New(apperr.Conflict, "complaint.error.retype").OnField("type")
	}
	if _, err := h.s.store.ByTicket(ctx, t.ID); err == nil {
		return nil // retyped back: the record is still there
	} else if !db.IsNoRows(err) {
		return err
	}
	_, err := h.s.intake(ctx, t, nil)
	return err
}

// decodeDetails reads the "complaint" member strictly: unknown members and bad text are
// refused with the field named.
func decodeDetails(raw json.RawMessage) (Details, error) {
	var d Details
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return d, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, apperr.InvalidField("complaint", "complaint.invalid.details")
	}
	if err := httpx.CheckText(&d); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			f := apperr.Fields{}
			for k, m := range ae.Fields {
				f[prefixField(k)] = m
			}
			return d, f.Err()
		}
		return d, err
	}
	return d, nil
}

func prefixField(k string) string {
	if strings.HasPrefix(k, "complaint.") {
		return k
	}
	return "complaint." + k
}

// intake creates the complaint record of request t inside its creating transaction:
// the level, the complainant, the object, the feedback times promised on the business
// calendar, the first stage and its timeline entry.
func (s *Service) intake(ctx context.Context, t *ticket.Ticket, raw json.RawMessage) (Complaint, error) {
	d, err := decodeDetails(raw)
	if err != nil {
		return Complaint{}, err
	}
	f := apperr.Fields{}
	derived := LevelFor(t.Severity)
	level := derived
	checkChoice(f, "complaint.level", d.Level, Levels, false)
	d.LevelReason = textField(f, "complaint.level_reason", d.LevelReason, maxText, false)
	if d.Level != "" && d.Level != derived {
		level = d.Level
		if d.LevelReason == "" {
			f.Add("complaint.level_reason", "field.required")
		}
	}
	d.Location = textField(f, "complaint.location", d.Location, maxShort, false)
	d.ObjectText = textField(f, "complaint.object_text", d.ObjectText, maxShort, false)
	checkChoice(f, "complaint.object_kind", d.ObjectKind, ObjectKinds, false)
	if d.Anonymous && t.CustomerID != 0 {
		f.Add("customer_id", "complaint.invalid.anonymous_customer")
	}
	if d.Anonymous && t.ContactName != "" {
		f.Add("contact_name", "complaint.invalid.anonymous_contact")
	}
	if d.ObjectDeptID < 0 || d.ObjectDeptID > 0 && !s.deptExists(ctx, d.ObjectDeptID) {
		f.Add("complaint.object_dept_id", "complaint.invalid.dept_unknown")
	}
	if d.ObjectStaffID < 0 || d.ObjectStaffID > 0 && !s.staffExists(ctx, d.ObjectStaffID) {
		f.Add("complaint.object_staff_id", "complaint.invalid.staff_unknown")
	}
	now := s.now()
	if d.FirstAnswerDueAt != nil && !d.FirstAnswerDueAt.After(now) {
		f.Add("complaint.first_answer_due_at", "complaint.invalid.due_past")
	}
	if d.ResultDueAt != nil && !d.ResultDueAt.After(now) {
		f.Add("complaint.result_due_at", "complaint.invalid.due_past")
	}
	if err := f.Err(); err != nil {
		return Complaint{}, err
	}
	st, err := s.store.loadSettings(ctx)
	if err != nil {
		return Complaint{}, err
	}
	cal, err := s.calendarFor(ctx, t.CalendarID)
	if err != nil {
		return Complaint{}, fmt.Errorf("complaint: calendar: %w", err)
	}
	c := Complaint{TicketID: t.ID, Number: t.Number, Title: t.Title, Channel: t.Channel, Stage: StageReceived,
		Level: level, Anonymous: d.Anonymous, ReplyOnly: d.ReplyOnly, CustomerID: t.CustomerID, Location: d.Location,
		ObjectKind: d.ObjectKind, ObjectDeptID: d.ObjectDeptID, ObjectStaffID: d.ObjectStaffID, ObjectText: d.ObjectText,
		DeptID: t.DeptID, TeamID: t.TeamID, CalendarID: t.CalendarID, CreatedBy: t.CreatedBy, StageAt: now, Version: 1, CreatedAt: now, UpdatedAt: now}
	lt := st.Levels[level]
	c.FirstDueAt, c.ResultDueAt = lt.FirstAnswer.due(cal, now), lt.Result.due(cal, now)
	if d.FirstAnswerDueAt != nil {
		c.FirstDueAt = time.UnixMilli(d.FirstAnswerDueAt.UnixMilli())
	}
	if d.ResultDueAt != nil {
		c.ResultDueAt = time.UnixMilli(d.ResultDueAt.UnixMilli())
	}
	c.StageDueAt = st.Stages[StageReceived].due(cal, now)
	if err := s.store.Insert(ctx, &c); err != nil {
		return Complaint{}, err
	}
	actor := authz.From(ctx)
	kind, aid, aname := actorFields(actor)
	data := map[string]any{"level": level, "first_answer_due_at": c.FirstDueAt, "result_due_at": c.ResultDueAt}
	if level != derived {
		data["level_reason"] = d.LevelReason
		data["derived_level"] = derived
	}
	entry := StageEntry{ComplaintID: c.ID, To: StageReceived, FromSince: now, Reason: d.LevelReason, Data: data,
		ActorKind: kind, ActorID: aid, ActorName: aname, At: now}
	if err := s.store.InsertStage(ctx, &entry); err != nil {
		return Complaint{}, err
	}
	// The promise is on the request's public timeline: the customer sees when to expect an answer.
	if _, err := s.tickets.AddEvent(ctx, t.ID, ticket.Event{Kind: ticket.EventComplaint, Public: true,
		Data: map[string]any{"stage": StageReceived, "level": level, "first_answer_due_at": c.FirstDueAt,
			"result_due_at": c.ResultDueAt}}); err != nil {
		return Complaint{}, err
	}
	if err := s.record(ctx, "complaint.create", c.ID, map[string]any{"ticket_id": t.ID, "number": t.Number,
		"level": level, "anonymous": c.Anonymous, "reply_only": c.ReplyOnly, "customer_id": c.CustomerID,
		"object_kind": c.ObjectKind, "first_answer_due_at": c.FirstDueAt, "result_due_at": c.ResultDueAt}); err != nil {
		return Complaint{}, err
	}
	s.publish(ctx, TopicStageChanged, &c, "")
	return c, nil
}

func (s *Service) deptExists(ctx context.Context, id int64) bool {
	if s.staff == nil {
		return true
	}
	_, err := s.staff.DepartmentName(authz.WithActor(ctx, authz.System("complaint")), id)
	return err == nil
}

func (s *Service) staffExists(ctx context.Context, id int64) bool {
	if s.staff == nil {
		return true
	}
	_, err := s.staff.GetStaff(authz.WithActor(ctx, authz.System("complaint")), id)
	return err == nil
}

// Create records a complaint: a request of type complaint with the complaint's details
// (POST /api/v1/complaints), in one transaction.
func (s *Service) Create(ctx context.Context, in ticket.Input) (Complaint, error) {
	in.Type = ticket.TypeComplaint
	if len(in.Complaint) == 0 {
		in.Complaint = json.RawMessage("{}")
	}
	t, err := s.tickets.CreateTicket(ctx, in)
	if err != nil {
		return Complaint{}, err
	}
	c, err := s.store.ByTicket(ctx, t.ID)
	if err != nil {
		return Complaint{}, fmt.Errorf("complaint: after create: %w", err)
	}
	return c, nil
}

// publish sends topic about c after commit. from is the stage it left ("" at intake).
func (s *Service) publish(ctx context.Context, topic string, c *Complaint, from Stage) {
	if s.events == nil {
		return
	}
	dept := c.RespDeptID
	if dept == 0 {
		dept = c.DeptID
	}
	data := EventData{ComplaintID: c.ID, TicketID: c.TicketID, Number: c.Number, From: from, To: c.Stage,
		Level: c.Level, CustomerID: c.CustomerID, DeptID: dept, Revisit: c.Revisit(), Anonymous: c.Anonymous,
		ReplyOnly: c.ReplyOnly, MasterID: c.MasterID}
	b, err := json.Marshal(data)
	if err != nil {
		s.log.Warn("complaint: event data", slog.String("err", err.Error()))
		return
	}
	s.events.Publish(ctx, events.Event{Topic: topic, ID: c.ID, At: s.now(), Data: b,
		Scope: events.Scope{DeptID: c.DeptID, TeamID: c.TeamID, CustomerID: c.CustomerID}})
}

// ======================= read =======================

// Get returns complaint id if the actor reaches it, and audits the read.
func (s *Service) Get(ctx context.Context, id int64) (Complaint, error) {
	a := authz.From(ctx)
	if a == nil {
		return Complaint{}, apperr.Unauth()
	}
	if !isCustomer(a) {
		if _, err := authz.Require(ctx, PermRead); err != nil {
			return Complaint{}, err
		}
	}
	c, err := s.store.Get(ctx, id)
	if err != nil {
		return Complaint{}, notFound(err)
	}
	if err := canSee(a, PermRead, &c); err != nil {
		return Complaint{}, err
	}
	if err := s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "complaint.read", id, map[string]any{"number": c.Number, "customer_id": c.CustomerID})
	}); err != nil {
		return Complaint{}, err
	}
	return c, nil
}

// ByTicket returns the complaint of request ticketID when the actor reaches it (no audit:
// the request page that asks has audited its own read).
func (s *Service) ByTicket(ctx context.Context, ticketID int64) (Complaint, error) {
	c, err := s.store.ByTicket(ctx, ticketID)
	if err != nil {
		return Complaint{}, notFound(err)
	}
	if err := canSee(authz.From(ctx), PermRead, &c); err != nil {
		return Complaint{}, err
	}
	return c, nil
}

// History is the stage history of complaint id (the caller has read the complaint).
func (s *Service) History(ctx context.Context, id int64) ([]StageEntry, error) {
	return s.store.Stages(ctx, id)
}

// ======================= stage moves =======================

// MoveInput moves a complaint to another stage, with the fields that stage needs.
type MoveInput struct {
	Stage  Stage  `json:"stage"`
	Reason string `json:"reason" text:"multiline"`
	// Reply is the text for the customer: the reasoned reply (rejected), the notice of when
	// to expect a result (investigating), the reply with the result (feedback).
	Reply string `json:"reply" text:"multiline"`
	// investigating: the responsible department (required), team and person.
	RespDeptID  int64      `json:"resp_dept_id"`
	RespTeamID  int64      `json:"resp_team_id"`
	RespStaffID int64      `json:"resp_staff_id"`
	ResultDueAt *time.Time `json:"result_due_at"`
	// proposing: the root cause and the findings of the investigation, and proposals.
	CauseID   int64           `json:"cause_id"`
	CauseKind CauseKind       `json:"cause_kind"`
	Findings  string          `json:"findings" text:"multiline"`
	Proposals []ProposalInput `json:"proposals"`
	// feedback: the result of carrying out the approved proposal (chuli jieguo jilu).
	Result string `json:"result" text:"multiline"`
	// evaluating: the customer's satisfaction with the result and improvement actions.
	Satisfaction int           `json:"satisfaction"`
	Actions      []ActionInput `json:"actions"`
	// closed: a summary.
	Summary string `json:"summary" text:"multiline"`
	// Version, when given, must be the complaint's current version (409 when stale).
	Version *int64 `json:"version"`
}

// Move is one stage move being applied (see moveChecks).
type move struct {
	c      *Complaint
	from   Stage
	in     *MoveInput
	actor  *authz.Actor
	now    time.Time
	data   map[string]any // stage log and timeline data
	public string         // text for the customer on the request's timeline ("" = none)
	fields apperr.Fields
}

// Transition moves complaint id to in.Stage. An illegal move is 409 illegal_transition
// and changes nothing; a move without what its stage needs is 422 naming the field.
func (s *Service) Transition(ctx context.Context, id int64, in MoveInput) (Complaint, error) {
	actor, err := authz.RequireStaff(ctx, PermWrite)
	if err != nil {
		return Complaint{}, err
	}
	var out Complaint
	var from Stage
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.lockReached(ctx, actor, id, PermWrite, in.Version)
		if err != nil {
			return err
		}
		if !ValidStage(in.Stage) {
			return apperr.InvalidField("stage", "field.invalid_choice")
		}
		if !CanMove(c.Stage, in.Stage) {
			return apperr.New(apperr.Conflict, "complaint.error.illegal_transition", "from",
				i18nStage(c.Stage), "to", i18nStage(in.Stage)).WithCode("illegal_transition")
		}
		from = c.Stage
		m := &move{c: &c, from: from, in: &in, actor: actor, now: s.now(), data: map[string]any{}, fields: apperr.Fields{}}
		if err := s.applyMove(ctx, m); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return Complaint{}, err
	}
	return out, nil
}

// applyMove runs inside the transaction: the stage's checks and effects, the row, the
// stage log, the request's timeline and status, the audit entry and the events.
func (s *Service) applyMove(ctx context.Context, m *move) error {
	c, in := m.c, m.in
	in.Reason = textField(m.fields, "reason", in.Reason, maxText, false)
	if err := s.moveChecks(ctx, m); err != nil {
		return err
	}
	if err := m.fields.Err(); err != nil {
		return err
	}
	st, err := s.store.loadSettings(ctx)
	if err != nil {
		return err
	}
	cal, err := s.calendarFor(ctx, c.CalendarID)
	if err != nil {
		return fmt.Errorf("complaint: calendar: %w", err)
	}
	since := c.StageAt
	c.Stage, c.StageAt = in.Stage, m.now
	c.StageDueAt = st.Stages[in.Stage].due(cal, m.now)
	c.StageWarnedAt, c.StageEscalatedAt = time.Time{}, time.Time{}
	moveFields(m)
	if err := s.save(ctx, c); err != nil {
		return err
	}
	if err := s.moveTables(ctx, m); err != nil {
		return err
	}
	kind, aid, aname := actorFields(m.actor)
	entry := StageEntry{ComplaintID: c.ID, From: m.from, To: in.Stage, FromSince: since, Reason: in.Reason,
		Data: m.data, ActorKind: kind, ActorID: aid, ActorName: aname, At: m.now}
	if err := s.store.InsertStage(ctx, &entry); err != nil {
		return err
	}
	evData := map[string]any{"from": m.from, "to": in.Stage, "reason": in.Reason}
	for k, v := range m.data {
		evData[k] = v
	}
	if _, err := s.tickets.AddEvent(ctx, c.TicketID, ticket.Event{Kind: ticket.EventComplaint, Body: m.public,
		Public: m.public != "", Data: evData}); err != nil {
		return err
	}
	if to := ticketStatus[in.Stage]; to != "" {
		// No reason on the request's status entries: the customer sees those, and a move's
		// reason is internal (what the customer is told goes in the move's reply).
		if _, err := s.tickets.Follow(ctx, c.TicketID, to, ""); err != nil {
			return fmt.Errorf("complaint: request status: %w", err)
		}
	}
	audited := map[string]any{"number": c.Number, "from": m.from, "to": in.Stage, "reason": in.Reason}
	for k, v := range m.data {
		audited[k] = v
	}
	if err := s.record(ctx, "complaint.transition", c.ID, audited); err != nil {
		return err
	}
	if in.Stage == StageClosed {
		for _, fn := range s.closeListeners {
			if err := fn(ctx, *c); err != nil {
				return fmt.Errorf("complaint: close listener: %w", err)
			}
		}
	}
	s.publish(ctx, TopicStageChanged, c, m.from)
	if in.Stage == StageClosed {
		s.publish(ctx, TopicClosed, c, m.from)
	}
	return nil
}

// moveChecks validates the fields of the target stage (into m.fields) and the rules that
// guard it (permissions, what must exist first).
func (s *Service) moveChecks(ctx context.Context, m *move) error {
	c, in, f := m.c, m.in, m.fields
	switch in.Stage {
	case StageRejected, StageInvestigating:
		if !m.actor.Can(PermAssess) || !reaches(m.actor, PermAssess, c) {
			return apperr.ForbiddenErr()
		}
	}
	switch in.Stage {
	case StageRejected:
		if in.Reason == "" {
			f.Add("reason", "field.required")
		}
		in.Reply = textField(f, "reply", in.Reply, maxText, true)
		m.public = in.Reply
	case StageInvestigating:
		if in.RespDeptID <= 0 {
			f.Add("resp_dept_id", "field.required")
		} else if !s.deptExists(ctx, in.RespDeptID) {
			f.Add("resp_dept_id", "complaint.invalid.dept_unknown")
		}
		if err := s.checkResponsible(ctx, f, in.RespDeptID, in.RespTeamID, in.RespStaffID); err != nil {
			return err
		}
		if in.ResultDueAt != nil && !in.ResultDueAt.After(m.now) {
			f.Add("result_due_at", "complaint.invalid.due_past")
		}
		in.Reply = textField(f, "reply", in.Reply, maxText, false)
		m.public = in.Reply
	case StageProposing:
		in.Findings = textField(f, "findings", in.Findings, maxText, true)
		checkChoice(f, "cause_kind", in.CauseKind, CauseKinds, true)
		if in.CauseID <= 0 {
			f.Add("cause_id", "field.required")
		} else if cause, err := s.store.Cause(ctx, in.CauseID); err != nil || !cause.Active {
			f.Add("cause_id", "complaint.invalid.cause_unknown")
		}
		if in.CauseKind == CausePersonal && in.RespStaffID == 0 && c.RespStaffID == 0 {
			f.Add("resp_staff_id", "complaint.invalid.personal_needs_staff")
		}
		if in.CauseKind == CauseTeam && in.RespTeamID == 0 && c.RespTeamID == 0 {
			f.Add("resp_team_id", "complaint.invalid.team_needs_team")
		}
		if in.RespStaffID != 0 || in.RespTeamID != 0 {
			if err := s.checkResponsible(ctx, f, c.RespDeptID, in.RespTeamID, in.RespStaffID); err != nil {
				return err
			}
		}
		if err := s.checkProposals(f, in.Proposals); err != nil {
			return err
		}
	case StageExecuting:
		if err := s.readyToExecute(ctx, c); err != nil {
			return err
		}
	case StageFeedback:
		in.Result = textField(f, "result", in.Result, maxText, true)
		in.Reply = textField(f, "reply", in.Reply, maxText, true)
		m.public = in.Reply
	case StageEvaluating:
		if in.Satisfaction < 1 || in.Satisfaction > 5 {
			f.Add("satisfaction", "complaint.invalid.satisfaction")
		}
		if err := s.checkActions(ctx, f, in.Actions); err != nil {
			return err
		}
	case StageClosed:
		in.Summary = textField(f, "summary", in.Summary, maxText, false)
		if c.NeedsReplyLetter() && c.ReplyLetterID == 0 {
			return apperr.New(apperr.Conflict, "complaint.error.reply_letter_required").
				WithCode("reply_letter_required").OnField("reply_letter_id")
		}
	case StageAssessing:
		if m.from == StageClosed {
			if !m.actor.Can(PermAssess) || !reaches(m.actor, PermAssess, c) {
				return apperr.ForbiddenErr()
			}
			if in.Reason == "" {
				f.Add("reason", "field.required")
			}
		}
	}
	return nil
}

// checkResponsible validates the responsible team and person against the department.
func (s *Service) checkResponsible(ctx context.Context, f apperr.Fields, dept, team, staff int64) error {
	if s.staff == nil {
		return nil
	}
	sys := authz.WithActor(ctx, authz.System("complaint"))
	if team != 0 {
		t, err := s.staff.GetTeam(sys, team)
		if err != nil || team < 0 || dept != 0 && t.DeptID != dept {
			f.Add("resp_team_id", "complaint.invalid.team_unknown")
		}
	}
	if staff != 0 {
		st, err := s.staff.GetStaff(sys, staff)
		if err != nil || staff < 0 || !st.Active() || dept != 0 && st.DeptID != dept {
			f.Add("resp_staff_id", "complaint.invalid.staff_unknown")
		}
	}
	return nil
}

// moveFields records on the complaint (and in m.data) what the new stage brings; the
// caller writes the row once.
func moveFields(m *move) {
	c, in := m.c, m.in
	switch in.Stage {
	case StageRejected:
		c.RejectedAt, c.FirstDoneAt = m.now, firstNonZero(c.FirstDoneAt, m.now)
		m.data["reply"] = in.Reply
	case StageInvestigating:
		c.RespDeptID, c.RespTeamID, c.RespStaffID = in.RespDeptID, in.RespTeamID, in.RespStaffID
		c.FirstDoneAt = firstNonZero(c.FirstDoneAt, m.now)
		if in.ResultDueAt != nil {
			c.ResultDueAt = time.UnixMilli(in.ResultDueAt.UnixMilli())
			c.ResultWarnedAt, c.ResultEscalatedAt = time.Time{}, time.Time{}
		}
		m.data["resp_dept_id"], m.data["resp_team_id"], m.data["resp_staff_id"] = c.RespDeptID, c.RespTeamID, c.RespStaffID
		m.data["result_due_at"] = c.ResultDueAt
		if in.Reply != "" {
			m.data["reply"] = in.Reply
		}
	case StageProposing:
		c.CauseID, c.CauseKind = in.CauseID, in.CauseKind
		if in.RespStaffID != 0 {
			c.RespStaffID = in.RespStaffID
		}
		if in.RespTeamID != 0 {
			c.RespTeamID = in.RespTeamID
		}
		m.data["cause_id"], m.data["cause_kind"], m.data["findings"] = c.CauseID, c.CauseKind, in.Findings
	case StageExecuting:
		c.ResultDoneAt = firstNonZero(c.ResultDoneAt, m.now)
	case StageFeedback:
		m.data["result"], m.data["reply"] = in.Result, in.Reply
	case StageEvaluating:
		c.Satisfaction = in.Satisfaction
		m.data["satisfaction"] = in.Satisfaction
	case StageClosed:
		c.ClosedAt = m.now
		if in.Summary != "" {
			m.data["summary"] = in.Summary
		}
		m.data["revisit"] = c.Revisit()
	case StageAssessing:
		if m.from == StageClosed {
			c.ReopenCount++
			c.ClosedAt, c.RejectedAt, c.Satisfaction = time.Time{}, time.Time{}, 0
			m.data["reopened"] = true
		}
	}
}

// moveTables applies what the new stage records in its own tables (resolution.go).
func (s *Service) moveTables(ctx context.Context, m *move) error {
	c, in := m.c, m.in
	switch in.Stage {
	case StageProposing:
		if err := s.openCauseTasks(ctx, c, m.actor); err != nil {
			return err
		}
		if len(in.Proposals) > 0 {
			if _, err := s.insertProposals(ctx, c, in.Proposals, m.actor); err != nil {
				return err
			}
		}
	case StageEvaluating:
		if err := s.insertActions(ctx, c, in.Actions, m.actor); err != nil {
			return err
		}
	}
	return nil
}

func firstNonZero(a, b time.Time) time.Time {
	if !a.IsZero() {
		return a
	}
	return b
}

// ChangeLevel changes a complaint's level with a reason (complaint:assess). The promised
// times not yet met are counted again from intake on the new level's targets, and their
// warnings and escalations may happen again at the new level.
func (s *Service) ChangeLevel(ctx context.Context, id int64, in LevelInput) (Complaint, error) {
	actor, err := authz.RequireStaff(ctx, PermAssess)
	if err != nil {
		return Complaint{}, err
	}
	f := apperr.Fields{}
	checkChoice(f, "level", in.Level, Levels, true)
	in.Reason = textField(f, "reason", in.Reason, maxText, true)
	if err := f.Err(); err != nil {
		return Complaint{}, err
	}
	var out Complaint
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.lockReached(ctx, actor, id, PermAssess, in.Version)
		if err != nil {
			return err
		}
		if c.Level == in.Level {
			out = c
			return nil
		}
		if !c.Stage.Open() {
			return apperr.New(apperr.Conflict, "complaint.error.closed").WithCode("complaint_closed")
		}
		st, err := s.store.loadSettings(ctx)
		if err != nil {
			return err
		}
		cal, err := s.calendarFor(ctx, c.CalendarID)
		if err != nil {
			return fmt.Errorf("complaint: calendar: %w", err)
		}
		from := c.Level
		lt := st.Levels[in.Level]
		if c.FirstDoneAt.IsZero() {
			c.FirstDueAt, c.FirstWarnedAt, c.FirstEscalatedAt = lt.FirstAnswer.due(cal, c.CreatedAt), time.Time{}, time.Time{}
		}
		if c.ResultDoneAt.IsZero() {
			c.ResultDueAt, c.ResultWarnedAt, c.ResultEscalatedAt = lt.Result.due(cal, c.CreatedAt), time.Time{}, time.Time{}
		}
		c.StageWarnedAt, c.StageEscalatedAt = time.Time{}, time.Time{}
		c.Level = in.Level
		if err := s.save(ctx, &c); err != nil {
			return err
		}
		data := map[string]any{"from_level": from, "to_level": in.Level, "reason": in.Reason,
			"first_answer_due_at": c.FirstDueAt, "result_due_at": c.ResultDueAt}
		if _, err := s.tickets.AddEvent(ctx, c.TicketID, ticket.Event{Kind: ticket.EventComplaint, Body: in.Reason,
			Data: data}); err != nil {
			return err
		}
		data["number"] = c.Number
		if err := s.record(ctx, "complaint.level", c.ID, data); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// AttachReplyLetter records attachment attID of the complaint's request as its written
// reply (fuhan), required before an anonymous or reply-only complaint closes.
func (s *Service) AttachReplyLetter(ctx context.Context, id, attID int64) (Complaint, error) {
	actor, err := authz.RequireStaff(ctx, PermWrite)
	if err != nil {
		return Complaint{}, err
	}
	var out Complaint
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.lockReached(ctx, actor, id, PermWrite, nil)
		if err != nil {
			return err
		}
		att, err := s.tickets.Store().Attachment(ctx, attID)
		if err != nil || att.TicketID != c.TicketID {
			return apperr.InvalidField("attachment_id", "complaint.invalid.attachment_unknown")
		}
		c.ReplyLetterID = attID
		if err := s.save(ctx, &c); err != nil {
			return err
		}
		if _, err := s.tickets.AddEvent(ctx, c.TicketID, ticket.Event{Kind: ticket.EventComplaint,
			Data: map[string]any{"reply_letter_id": attID, "filename": att.Filename}}); err != nil {
			return err
		}
		if err := s.record(ctx, "complaint.reply_letter", c.ID, map[string]any{"number": c.Number,
			"attachment_id": attID}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}
