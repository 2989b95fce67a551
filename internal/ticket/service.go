package ticket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/kb"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/platform/search"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Publisher publishes events after the caller's transaction commits (platform/events).
type Publisher interface {
	Publish(ctx context.Context, ev events.Event)
}

// Calendars resolves business calendars by id ("default" always exists).
type Calendars interface {
	Get(ctx context.Context, id string) (*calendar.Calendar, error)
}

// Deps are the request service's collaborators.
type Deps struct {
	DB        *db.DB
	Audit     *audit.Log
	Clock     clock.Clock
	Log       *slog.Logger
	Events    Publisher
	Jobs      *jobs.Runner
	Customers *customer.Service
	Staff     *org.Service
	Calendars Calendars
	// Mail sends customer notifications; nil disables them (they are skipped, logged).
	Mail mail.Sender
	// Search is the request full-text index; built from DB when nil.
	Search *search.Index
	// Articles resolves knowledge-base articles linked from requests; nil disables links.
	Articles Articles
}

// Articles resolves a knowledge-base article for a link from a request (internal/kb).
type Articles interface {
	Ref(ctx context.Context, id int64) (kb.Ref, error)
}

// Service holds the service-request use cases.
type Service struct {
	db        *db.DB
	store     *Store
	audit     *audit.Log
	clock     clock.Clock
	log       *slog.Logger
	events    Publisher
	jobs      *jobs.Runner
	customers *customer.Service
	staff     *org.Service
	calendars Calendars
	mail      mail.Sender
	index     *search.Index
	articles  Articles
	web       *web.Engine
	sla       slaCache          // cached SLA policies (sla.go)
	hooks     map[Type]TypeHook // capabilities above keeping a record beside a type (extension.go)
	// statusListeners are called in the transaction of every status change (extension.go).
	statusListeners []StatusListener
}

// New builds the service and registers its background jobs when Jobs is set.
func New(d Deps) (*Service, error) {
	if d.DB == nil {
		return nil, errors.New("ticket: a database is required")
	}
	s := &Service{db: d.DB, store: NewStore(d.DB), audit: d.Audit, clock: d.Clock, log: d.Log, events: d.Events,
		jobs: d.Jobs, customers: d.Customers, staff: d.Staff, calendars: d.Calendars, mail: d.Mail, index: d.Search, articles: d.Articles}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.index == nil {
		ix, err := search.NewIndex(d.DB, search.KindTicket)
		if err != nil {
			return nil, fmt.Errorf("ticket: %w", err)
		}
		s.index = ix
	}
	if s.jobs != nil {
		s.registerSLAJobs(s.jobs)
		s.registerNotifyJobs(s.jobs)
		s.registerAssignJobs(s.jobs)
	}
	return s, nil
}

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// Store returns the store (tests, demo data).
func (s *Service) Store() *Store { return s.store }

// now is the clock's time at millisecond precision (what the database keeps).
func (s *Service) now() time.Time { return time.UnixMilli(clock.Millis(s.clock.Now())) }

// calendarFor returns business calendar id ("" = "default"); without a calendar
// service it is calendar.Default().
func (s *Service) calendarFor(ctx context.Context, id string) (*calendar.Calendar, error) {
	if id == "" {
		id = "default"
	}
	if s.calendars == nil {
		return calendar.Default()
	}
	return s.calendars.Get(ctx, id)
}

// Limits of free text (characters).
const (
	maxTitle   = 200
	maxBody    = 20000
	maxContact = 100
	maxReason  = 2000
	maxQuery   = 100
)

// Queues of the agent workspace (Filter.Queue).
const (
	QueueMine       = "mine"       // open requests assigned to me
	QueueTeam       = "team"       // open requests of my team
	QueueUnassigned = "unassigned" // open requests nobody holds
	QueueBreaching  = "breaching"  // open, resolution due within BreachWindow or overdue
	QueueWaiting    = "waiting"    // waiting on the customer or another department
)

// Queues lists the queues in display order.
var Queues = []string{QueueMine, QueueTeam, QueueUnassigned, QueueBreaching, QueueWaiting}

// BreachWindow is how far ahead the breaching queue looks.
const BreachWindow = 4 * time.Hour

// Input creates a request.
type Input struct {
	Type        Type     `json:"type"`
	SubKind     string   `json:"sub_kind"`
	CategoryID  int64    `json:"category_id"`
	Channel     Channel  `json:"channel"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Body        string   `json:"body" text:"multiline"`
	CustomerID  int64    `json:"customer_id"`
	ContactName string   `json:"contact_name"`
	FaultLevel  int      `json:"fault_level"`
	DeptID      int64    `json:"dept_id"`
	TeamID      int64    `json:"team_id"`
	// Reason is required (with ticket:assign) when dept_id or team_id places the
	// request in another department or team than the creator's own, as a transfer
	// needs one; it goes on the timeline.
	Reason string `json:"reason"`
	// Complaint holds the details for the workflow of the request's type, passed untouched
	// to its TypeHook (extension.go), which decodes them; only a hooked type takes them.
	Complaint json.RawMessage `json:"complaint,omitempty"`
}

// Patch changes a request; nil fields stay as they are. Version is required and must be
// the stored version (428 without one, 409 when stale).
type Patch struct {
	Title       *string   `json:"title"`
	Body        *string   `json:"body" text:"multiline"`
	Type        *Type     `json:"type"`
	SubKind     *string   `json:"sub_kind"`
	CategoryID  *int64    `json:"category_id"`
	Severity    *Severity `json:"severity"`
	Channel     *Channel  `json:"channel"`
	ContactName *string   `json:"contact_name"`
	FaultLevel  *int      `json:"fault_level"`
	Version     *int64    `json:"version"`
}

// Filter narrows a request list.
type Filter struct {
	Status     Status
	Type       Type
	Channel    Channel
	Severity   Severity
	Priority   Priority
	DeptID     int64
	TeamID     int64
	AssigneeID int64
	Unassigned bool
	Open       *bool
	CustomerID int64
	Q          string
	Queue      string
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// ======================= helpers =======================

func (s *Service) record(ctx context.Context, action string, id int64, detail any) error {
	if s.audit == nil {
		return nil
	}
	target := ""
	if id != 0 {
		target = strconv.FormatInt(id, 10)
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: "ticket", TargetID: target, Detail: detail}); err != nil {
		return fmt.Errorf("ticket: audit %s: %w", action, err)
	}
	return nil
}

func notFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.ticket")
	}
	return fmt.Errorf("ticket: load: %w", err)
}

func isCustomer(a *authz.Actor) bool { return a != nil && a.Kind == authz.KindCustomer }

// requireActor returns the actor; staff and system need perm (403 otherwise); a portal
// customer passes when customerOK (their records are checked by canSee).
func requireActor(ctx context.Context, perm string, customerOK bool) (*authz.Actor, error) {
	a := authz.From(ctx)
	if a == nil {
		return nil, apperr.Unauth()
	}
	if isCustomer(a) {
		if !customerOK {
			return nil, apperr.ForbiddenErr()
		}
		return a, nil
	}
	return authz.Require(ctx, perm)
}

// canSee checks that the actor reaches t with perm: staff by scope, a customer only
// their own requests. Anything else reads as not found.
func canSee(a *authz.Actor, perm string, t *Ticket) error {
	if a == nil {
		return nil // systemMutate
	}
	if isCustomer(a) {
		if t.CustomerID == 0 || t.CustomerID != a.ID {
			return apperr.NotFoundf("thing.ticket")
		}
		return nil
	}
	if !a.Reaches(perm, t.Record()) {
		return apperr.NotFoundf("thing.ticket")
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

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return httpx.DefaultLimit
	case n > httpx.MaxLimit:
		return httpx.MaxLimit
	}
	return n
}

type cursor struct {
	ID  int64 `json:"i"`
	Due int64 `json:"d,omitempty"`
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if err := httpx.DecodeCursor(s, &c); err != nil {
		return c, err
	}
	if c.ID < 0 || c.Due < 0 {
		return c, apperr.New(apperr.Malformed, "error.malformed.cursor").OnField("cursor")
	}
	return c, nil
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

// checkKind validates type, sub_kind and fault_level together.
func checkKind(f apperr.Fields, typ Type, subKind string, fault int) {
	checkChoice(f, "type", typ, Types, true)
	if typ == TypeAfterSales {
		checkChoice(f, "sub_kind", subKind, SubKinds, true)
	} else if subKind != "" {
		f.Add("sub_kind", "ticket.invalid.sub_kind_after_sales_only")
	}
	if typ == TypeRepair {
		if fault < 1 || fault > 3 {
			f.Add("fault_level", "ticket.invalid.fault_level")
		}
	} else if fault != 0 {
		f.Add("fault_level", "ticket.invalid.fault_level_repair_only")
	}
}

// customerRef loads the customer of a request for validation and priority, as the
// actor in ctx may open a request for it (customer.RequestRef: within the actor's
// customer scope, or found by a caller lookup); anything else is NotFound.
func (s *Service) customerRef(ctx context.Context, id int64) (customer.Ref, error) {
	if s.customers == nil {
		return customer.Ref{ID: id}, nil
	}
	return s.customers.RequestRef(ctx, id)
}

// Reasons of a refused customer_id (audit detail of "ticket.create.refused").
const (
	refusedMissing    = "customer_missing"
	refusedOutOfScope = "customer_out_of_scope"
)

// checkCustomer validates customer_id and returns its tier and grade. A customer the
// actor may not open a request for gets exactly the answer of a missing one; refused
// says which it was (for the audit entry only).
func (s *Service) checkCustomer(ctx context.Context, f apperr.Fields, id int64) (ref customer.Ref, refused string, err error) {
	if id == 0 {
		return customer.Ref{}, "", nil
	}
	if id < 0 {
		f.Add("customer_id", "ticket.invalid.customer_unknown")
		return customer.Ref{}, refusedMissing, nil
	}
	ref, err = s.customerRef(ctx, id)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			f.Add("customer_id", "ticket.invalid.customer_unknown")
			refused = refusedMissing
			if _, rerr := s.customers.Ref(ctx, id); rerr == nil {
				refused = refusedOutOfScope
			}
			return customer.Ref{}, refused, nil
		}
		return customer.Ref{}, "", err
	}
	if ref.Status == customer.StatusMerged {
		f.Add("customer_id", "ticket.invalid.customer_merged", "survivor", ref.MergedInto)
	}
	return ref, "", nil
}

// auditRefusedCreate records a request creation refused because of its customer_id
// ("ticket.create.refused"), in a transaction of its own: the request itself is not
// created. Missing and out-of-scope customers are both recorded, so that the two
// answers cost the same.
func (s *Service) auditRefusedCreate(ctx context.Context, customerID int64, reason string) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "ticket.create.refused", 0, map[string]any{"customer_id": customerID, "reason": reason})
	})
}

// checkCategory validates category_id (0 = none).
func (s *Service) checkCategory(ctx context.Context, f apperr.Fields, id int64) error {
	if id == 0 {
		return nil
	}
	c, err := s.store.Category(ctx, id)
	switch {
	case db.IsNoRows(err):
		f.Add("category_id", "ticket.invalid.category_unknown")
	case err != nil:
		return err
	case !c.Active:
		f.Add("category_id", "ticket.invalid.category_inactive")
	}
	return nil
}

// checkPlacement validates dept_id and team_id (0 = none); a team must belong to the
// department. It returns the department of the team when only the team is given.
func (s *Service) checkPlacement(ctx context.Context, f apperr.Fields, deptID, teamID int64) (int64, error) {
	if s.staff == nil {
		return deptID, nil
	}
	if deptID != 0 {
		if _, err := s.staff.DepartmentName(ctx, deptID); err != nil {
			if apperr.KindOf(err) != apperr.NotFound {
				return deptID, err
			}
			f.Add("dept_id", "ticket.invalid.dept_unknown")
		}
	}
	if teamID != 0 {
		sys := authz.WithActor(ctx, authz.System("ticket"))
		tm, err := s.staff.GetTeam(sys, teamID)
		switch {
		case apperr.KindOf(err) == apperr.NotFound:
			f.Add("team_id", "ticket.invalid.team_unknown")
		case err != nil:
			return deptID, err
		case deptID == 0:
			deptID = tm.DeptID
		case tm.DeptID != deptID:
			f.Add("team_id", "ticket.invalid.team_not_in_dept")
		}
	}
	return deptID, nil
}

// ======================= create =======================

// CreateTicket records a new request: validation naming fields, then one transaction
// (number, priority, SLA targets, automatic assignment, the row, its timeline, audit,
// search index, notifications), then the created (and assigned) events after commit.
// A portal customer (actor kind customer) creates for themselves through the portal
// channel.
func (s *Service) CreateTicket(ctx context.Context, in Input) (Ticket, error) {
	actor, err := requireActor(ctx, PermWrite, true)
	if err != nil {
		return Ticket{}, err
	}
	f := apperr.Fields{}
	if isCustomer(actor) {
		in.Channel, in.CustomerID, in.DeptID, in.TeamID = ChannelPortal, actor.ID, 0, 0
	}
	checkKind(f, in.Type, in.SubKind, in.FaultLevel)
	checkChoice(f, "channel", in.Channel, Channels, true)
	checkChoice(f, "severity", in.Severity, Severities, true)
	in.Title = textField(f, "title", in.Title, maxTitle, true)
	in.Body = textField(f, "body", in.Body, maxBody, false)
	in.ContactName = textField(f, "contact_name", in.ContactName, maxContact, false)
	ext := extDetails(in.Complaint)
	if ext != nil && (in.Type != TypeComplaint || s.hooks[in.Type] == nil) {
		f.Add("complaint", "ticket.invalid.complaint_details")
	}
	if in.CategoryID < 0 {
		f.Add("category_id", "ticket.invalid.category_unknown")
	}
	if in.DeptID < 0 {
		f.Add("dept_id", "ticket.invalid.dept_unknown")
	}
	if in.TeamID < 0 {
		f.Add("team_id", "ticket.invalid.team_unknown")
	}
	// The actor's own department and team need no check. Another one (elsewhere, known
	// once the placement is resolved) is a transfer at creation: staff need ticket:assign
	// and a reason, as Transfer does.
	placementGiven := in.DeptID > 0 || in.TeamID > 0
	var elsewhere bool
	var reason string
	if !isCustomer(actor) && in.DeptID == 0 && in.TeamID == 0 {
		in.DeptID, in.TeamID = actor.DeptID, actor.TeamID
	}
	now := s.now()
	t := Ticket{Type: in.Type, SubKind: in.SubKind, CategoryID: in.CategoryID, Channel: in.Channel, Severity: in.Severity,
		FaultLevel: in.FaultLevel, Status: StatusNew, Title: in.Title, Body: in.Body, CustomerID: in.CustomerID,
		ContactName: in.ContactName, DeptID: in.DeptID, TeamID: in.TeamID, Version: 1, CreatedAt: now, UpdatedAt: now,
		LastActivityAt: now}
	// checks reads the referenced records through the read pool, before the write
	// transaction: on SQLite the single writer is the bottleneck under load, and
	// keeping these reads off it measured 0.33 ms instead of 0.5 ms per creation with
	// 32 concurrent callers (BenchmarkCreateTicketParallel).
	var tier string    // the customer's tier, for the SLA policy choice
	var refused string // why customer_id was refused (audited)
	checks := func(ctx context.Context) error {
		if in.CategoryID > 0 {
			if err := s.checkCategory(ctx, f, in.CategoryID); err != nil {
				return err
			}
		}
		ref, why, err := s.checkCustomer(ctx, f, in.CustomerID)
		if err != nil {
			return err
		}
		refused = why
		if placementGiven {
			if t.DeptID, err = s.checkPlacement(ctx, f, t.DeptID, t.TeamID); err != nil {
				return err
			}
			// Elsewhere: another department, or another team than the actor's own
			// (an actor without a team may place within their own department).
			elsewhere = actor.Kind == authz.KindStaff && len(f) == 0 &&
				(t.DeptID != actor.DeptID || t.TeamID != 0 && actor.TeamID != 0 && t.TeamID != actor.TeamID)
			if elsewhere {
				if !actor.Can(PermAssign) {
					return apperr.ForbiddenErr()
				}
				reason = assignReason(f, in.Reason, true)
			}
		}
		if isCustomer(actor) && ref.ID != 0 {
			t.DeptID, t.TeamID = ref.DeptID, ref.TeamID
		}
		if isCustomer(actor) && t.DeptID == 0 {
			// A customer file without a department (no owner yet): the request goes to
			// the intake department so that it lands in a queue someone works.
			if t.DeptID, err = s.store.IntakeDept(ctx); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		t.Priority, t.PriorityReasons = ComputePriority(in.Severity, ref.Tier, ref.CreditGrade)
		if ref.ID != 0 {
			t.customer = &ref
		}
		if t.ContactName == "" {
			t.ContactName = ref.Name
		}
		tier = ref.Tier
		return nil
	}
	if err := checks(ctx); err != nil {
		if refused != "" {
			if aerr := s.auditRefusedCreate(ctx, in.CustomerID, refused); aerr != nil {
				return Ticket{}, aerr
			}
		}
		return Ticket{}, err
	}
	if actor.Kind == authz.KindStaff {
		t.CreatedBy = actor.ID
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if t.Number, err = s.nextNumber(ctx, now); err != nil {
			return err
		}
		if err := s.slaStart(withCustomerTier(ctx, tier), &t); err != nil {
			return fmt.Errorf("ticket: sla: %w", err)
		}
		if err := s.autoAssign(ctx, &t); err != nil {
			return fmt.Errorf("ticket: assign: %w", err)
		}
		if err := s.store.InsertTicket(ctx, &t); err != nil {
			return err
		}
		kind, aid, aname := actorFields(actor)
		evs := []Event{{TicketID: t.ID, Kind: EventCreated, Public: true, ActorKind: kind, ActorID: aid, ActorName: aname,
			Data: map[string]any{"number": t.Number, "channel": string(t.Channel)}, CreatedAt: now}}
		if aev := s.assignEvents(&t); len(aev) > 0 {
			for _, e := range aev {
				e.TicketID, e.ActorKind, e.ActorName, e.CreatedAt = t.ID, authz.KindSystem, "system", now
				evs = append(evs, e)
			}
		} else if t.AssigneeID != 0 || t.TeamID != 0 && t.TeamID != in.TeamID {
			evs = append(evs, Event{TicketID: t.ID, Kind: EventAssign, ActorKind: authz.KindSystem, ActorName: "system",
				Data: map[string]any{"from": 0, "to": t.AssigneeID, "team_id": t.TeamID, "strategy": "auto"}, CreatedAt: now})
		}
		var transfer *Event // created straight into another department or team
		if elsewhere {
			transfer = &Event{TicketID: t.ID, Kind: EventTransfer, Body: reason, ActorKind: kind, ActorID: aid, ActorName: aname,
				Data: map[string]any{"from_dept": actor.DeptID, "to_dept": t.DeptID, "from_team": actor.TeamID,
					"to_team": in.TeamID, "from_assignee": 0, "reason": reason, "at_create": true}, CreatedAt: now}
		}
		for i := range evs {
			if err := s.store.InsertEvent(ctx, &evs[i]); err != nil {
				return err
			}
			if i == 0 && transfer != nil { // the transfer right after the creation
				if err := s.store.InsertEvent(ctx, transfer); err != nil {
					return err
				}
			}
		}
		if err := s.record(ctx, "ticket.create", t.ID, map[string]any{"number": t.Number, "type": t.Type,
			"channel": t.Channel, "severity": t.Severity, "priority": t.Priority, "customer_id": t.CustomerID,
			"dept_id": t.DeptID, "team_id": t.TeamID, "assignee_id": t.AssigneeID}); err != nil {
			return err
		}
		if transfer != nil {
			if err := s.record(ctx, "ticket.transfer", t.ID, transfer.Data); err != nil {
				return err
			}
		}
		if len(evs) > 1 {
			if err := s.record(ctx, "ticket."+string(evs[1].Kind), t.ID, evs[1].Data); err != nil {
				return err
			}
		}
		if err := s.index.Put(ctx, search.Doc{ID: t.ID, Text: docText(&t, nil)}); err != nil {
			return fmt.Errorf("ticket: index: %w", err)
		}
		if err := s.notifyOnCreate(ctx, &t); err != nil {
			return fmt.Errorf("ticket: notify: %w", err)
		}
		if h := s.hooks[t.Type]; h != nil {
			if err := h.Created(ctx, &t, ext); err != nil {
				return fmt.Errorf("ticket: %s: %w", t.Type, err)
			}
		}
		s.publish(ctx, TopicCreated, &t, map[string]any{"number": t.Number, "priority": t.Priority})
		if len(evs) > 1 {
			s.publish(ctx, TopicAssigned, &t, evs[1].Data)
		}
		return nil
	})
	if err != nil {
		return Ticket{}, err
	}
	return t, nil
}

// ======================= read =======================

// GetTicket returns request id if the actor reaches it (a customer: their own), and
// audits the read ("ticket.read").
func (s *Service) GetTicket(ctx context.Context, id int64) (Ticket, error) {
	actor, err := requireActor(ctx, PermRead, true)
	if err != nil {
		return Ticket{}, err
	}
	t, err := s.store.GetTicket(ctx, id)
	if err != nil {
		return Ticket{}, notFound(err)
	}
	if err := canSee(actor, PermRead, &t); err != nil {
		return Ticket{}, err
	}
	if err := s.record(ctx, "ticket.read", id, map[string]any{"number": t.Number}); err != nil {
		return Ticket{}, err
	}
	return t, nil
}

func checkFilter(f *Filter) error {
	fe := apperr.Fields{}
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > maxQuery {
		fe.Add("q", "field.too_long", "max", maxQuery)
	}
	checkChoice(fe, "status", f.Status, Statuses, false)
	checkChoice(fe, "type", f.Type, Types, false)
	checkChoice(fe, "channel", f.Channel, Channels, false)
	checkChoice(fe, "severity", f.Severity, Severities, false)
	checkChoice(fe, "priority", f.Priority, Priorities, false)
	checkChoice(fe, "queue", f.Queue, Queues, false)
	return fe.Err()
}

// Search walk: the text index returns ids newest first in batches; each batch is
// narrowed by SQL to the actor's scope and the filters.
const (
	searchBatch    = 500
	maxSearchSteps = 20
)

// ListTickets pages through the requests the actor may see, newest first (the
// breaching queue: soonest due first), narrowed by f. A portal customer sees only
// their own requests. Every call is audited ("ticket.list" with the ids returned).
func (s *Service) ListTickets(ctx context.Context, f Filter, limit int, cur string) (Page[Ticket], error) {
	actor, err := requireActor(ctx, PermRead, true)
	if err != nil {
		return Page[Ticket]{}, err
	}
	if err := checkFilter(&f); err != nil {
		return Page[Ticket]{}, err
	}
	c, err := decodeCursor(cur)
	if err != nil {
		return Page[Ticket]{}, err
	}
	limit = pageLimit(limit)
	q := listQuery{f: f, limit: limit + 1}
	if isCustomer(actor) {
		q.sc = listScope{customerID: actor.ID}
		q.f.Q, q.f.Queue = "", ""
	} else {
		q.sc = listScope{scope: actor.ScopeOf(PermRead), deptID: actor.DeptID, teamID: actor.TeamID, selfID: actor.ID}
		if f.Queue == QueueTeam && f.TeamID != 0 {
			q.sc.teamID = f.TeamID
			if q.sc.scope == authz.ScopeTeam && f.TeamID != actor.TeamID {
				return Page[Ticket]{Items: []Ticket{}}, nil
			}
		}
	}
	if q.f.Queue == QueueBreaching {
		q.breaching, q.dueLimit = true, ms(s.now().Add(BreachWindow))
		q.afterDue, q.afterID = c.Due, c.ID
	} else {
		q.before = c.ID
	}
	var items []Ticket
	var next cursor
	if q.f.Q == "" {
		if items, err = s.store.ListTickets(ctx, q); err != nil {
			return Page[Ticket]{}, err
		}
	} else if items, next.ID, err = s.searchTickets(ctx, q, limit); err != nil {
		return Page[Ticket]{}, err
	}
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = cursor{ID: last.ID}
		if q.breaching {
			next.Due = ms(last.ResolveDueAt)
		}
	}
	page := Page[Ticket]{Items: items}
	if next.ID > 0 {
		page.NextCursor = httpx.EncodeCursor(next)
	}
	ids := make([]int64, len(items))
	for i, t := range items {
		ids[i] = t.ID
	}
	detail := map[string]any{"ids": ids, "count": len(ids)}
	if f.Q != "" {
		detail["q"] = auditQuery(f.Q)
	}
	if err := s.record(ctx, "ticket.list", 0, detail); err != nil {
		return Page[Ticket]{}, err
	}
	return page, nil
}

// auditQuery keeps a search query for the audit log without the personal data it may
// hold: digits beyond the last four are masked (a phone number typed in); request
// numbers stay whole.
func auditQuery(q string) string {
	if n, ok := IsNumber(q); ok {
		return n
	}
	rs := []rune(q)
	digits := 0
	for _, r := range rs {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	seen := 0
	for i, r := range rs {
		if r >= '0' && r <= '9' {
			if seen++; seen <= digits-4 {
				rs[i] = '*'
			}
		}
	}
	return string(rs)
}

// searchTickets runs q.f.Q: an exact request number first, then the text index walked
// in batches. It returns up to limit+1 tickets, or fewer with next set to where the
// walk stopped when it ran out of steps.
func (s *Service) searchTickets(ctx context.Context, q listQuery, limit int) ([]Ticket, int64, error) {
	if num, ok := IsNumber(q.f.Q); ok {
		t, err := s.store.TicketByNumber(ctx, num)
		if db.IsNoRows(err) {
			return nil, 0, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("ticket: by number: %w", err)
		}
		if q.before > 0 && t.ID >= q.before {
			return nil, 0, nil
		}
		w := q
		w.ids, w.before, w.breaching = []int64{t.ID}, 0, false
		got, err := s.store.ListTickets(ctx, w)
		return got, 0, err
	}
	pq := search.ParseQuery(q.f.Q)
	if pq.Empty() {
		return nil, 0, nil
	}
	var got []Ticket
	after := q.before
	for step := 0; step < maxSearchSteps; step++ {
		ids, err := s.index.SearchQuery(ctx, pq, searchBatch, after)
		if err != nil {
			return nil, 0, err
		}
		if len(ids) == 0 {
			return got, 0, nil
		}
		w := q
		w.ids, w.before, w.breaching = ids, 0, false
		w.limit = limit + 1 - len(got)
		rows, err := s.store.ListTickets(ctx, w)
		if err != nil {
			return nil, 0, err
		}
		got = append(got, rows...)
		if len(got) > limit || len(ids) < searchBatch {
			return got, 0, nil
		}
		after = ids[len(ids)-1]
	}
	return got, after, nil
}

// Events pages through the timeline of request id, oldest first, after event id after.
// A portal customer sees only the public entries of their own requests. Audited
// ("ticket.timeline").
func (s *Service) Events(ctx context.Context, id, after int64, limit int) ([]Event, error) {
	actor, err := requireActor(ctx, PermRead, true)
	if err != nil {
		return nil, err
	}
	t, err := s.store.GetTicket(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if err := canSee(actor, PermRead, &t); err != nil {
		return nil, err
	}
	if after < 0 {
		after = 0
	}
	evs, err := s.store.Events(ctx, id, after, pageLimit(limit), isCustomer(actor))
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, "ticket.timeline", id, map[string]any{"number": t.Number, "after": after,
		"count": len(evs)}); err != nil {
		return nil, err
	}
	return evs, nil
}

// ======================= change =======================

// mutate is the one way to change a request: one transaction that loads the request
// for update (scope-checked with perm; out of scope reads as 404; staff only: portal
// customers act through Reply, Confirm and Reopen), runs fn (which changes *t and returns the timeline
// events to append), saves t (version+1, updated_at, open flag, last_activity_at),
// inserts the events, audits each as "ticket.<kind>", re-indexes the search document
// and publishes the events' topics after commit. When fn returns no events and leaves
// t unchanged, nothing is written.
func (s *Service) mutate(ctx context.Context, id int64, perm string, fn func(ctx context.Context, t *Ticket) ([]Event, error)) (Ticket, error) {
	actor, err := requireActor(ctx, perm, false)
	if err != nil {
		return Ticket{}, err
	}
	return s.change(ctx, id, actor, perm, fn, nil)
}

// systemMutate is mutate without any permission or scope check (background jobs).
func (s *Service) systemMutate(ctx context.Context, id int64, fn func(ctx context.Context, t *Ticket) ([]Event, error)) (Ticket, error) {
	return s.change(ctx, id, nil, "", fn, nil)
}

// change implements mutate; post, when set, runs in the transaction after the events
// were inserted (their ids set).
func (s *Service) change(ctx context.Context, id int64, actor *authz.Actor, perm string,
	fn func(ctx context.Context, t *Ticket) ([]Event, error), post func(ctx context.Context, t *Ticket, evs []Event) error) (Ticket, error) {
	var out Ticket
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.store.LockTicket(ctx, id)
		if err != nil {
			return notFound(err)
		}
		if err := canSee(actor, perm, &t); err != nil {
			return err
		}
		before := t
		before.PriorityReasons = slices.Clone(t.PriorityReasons)
		evs, err := fn(ctx, &t)
		if err != nil {
			return err
		}
		if len(evs) == 0 && reflect.DeepEqual(before, t) {
			out = t
			return nil
		}
		now := s.now()
		t.ID, t.Version, t.UpdatedAt = before.ID, before.Version+1, now
		if len(evs) > 0 {
			t.LastActivityAt = now
		}
		ok, err := s.store.UpdateTicket(ctx, &t, before.Version)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		texts, err := s.appendEvents(ctx, &t, actor, evs, now)
		if err != nil {
			return err
		}
		reindex := texts || before.Title != t.Title || before.Body != t.Body
		if post != nil {
			if err := post(ctx, &t, evs); err != nil {
				return err
			}
		}
		if reindex {
			if err := s.reindex(ctx, &t); err != nil {
				return err
			}
		}
		for _, tp := range topicsFor(evs) {
			s.publish(ctx, tp.topic, &t, tp.data)
		}
		out = t
		return nil
	})
	if err != nil {
		return Ticket{}, err
	}
	return out, nil
}

// appendEvents inserts evs on t's timeline inside ctx's transaction and audits each as
// "ticket.<kind>": an event without an actor gets actor's (or, when actor is nil, the
// one in ctx, else the system), one without a time gets now. texts reports whether an
// event carries text of the search document (replies, notes).
func (s *Service) appendEvents(ctx context.Context, t *Ticket, actor *authz.Actor, evs []Event, now time.Time) (texts bool, err error) {
	if a := authz.From(ctx); actor == nil && a != nil {
		actor = a
	}
	kind, aid, aname := actorFields(actor)
	for i := range evs {
		e := &evs[i]
		e.TicketID = t.ID
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		if e.ActorKind == "" {
			e.ActorKind, e.ActorID, e.ActorName = kind, aid, aname
		}
		if err := s.store.InsertEvent(ctx, e); err != nil {
			return false, err
		}
		detail := map[string]any{"number": t.Number, "event_id": e.ID}
		for k, v := range e.Data {
			detail[k] = v
		}
		if e.Body != "" {
			detail["chars"] = utf8.RuneCountInString(e.Body)
		}
		if err := s.record(ctx, "ticket."+string(e.Kind), t.ID, detail); err != nil {
			return false, err
		}
		switch e.Kind {
		case EventReply, EventCustomerReply, EventNote:
			texts = true
		}
	}
	return texts, nil
}

type topicData struct {
	topic string
	data  any
}

// topicsFor maps timeline events to the topics to publish (each topic once).
func topicsFor(evs []Event) []topicData {
	var out []topicData
	seen := map[string]bool{}
	add := func(topic string, data any) {
		if !seen[topic] {
			seen[topic] = true
			out = append(out, topicData{topic, data})
		}
	}
	for _, e := range evs {
		data := map[string]any{"kind": string(e.Kind), "event_id": e.ID}
		for k, v := range e.Data {
			data[k] = v
		}
		switch e.Kind {
		case EventStatus, EventConfirm:
			add(TopicStatusChanged, data)
			switch Status(fmt.Sprint(e.Data["to"])) {
			case StatusResolved:
				add(TopicResolved, data)
			case StatusClosed:
				add(TopicClosed, data)
			case StatusReopened:
				add(TopicReopened, data)
			}
		case EventAssign, EventTransfer, EventDispatch:
			add(TopicAssigned, data)
		case EventSLAWarning:
			add(TopicSLAWarning, data)
		case EventSLABreach:
			add(TopicSLABreach, data)
		default:
			add(TopicUpdated, data)
		}
	}
	return out
}

// publish sends topic about t through the event bus (after commit when ctx holds a
// transaction; the bus never fails the caller). Without a bus it does nothing.
func (s *Service) publish(ctx context.Context, topic string, t *Ticket, data any) {
	if s.events == nil {
		return
	}
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			s.log.Warn("ticket: event data", slog.String("topic", topic), slog.String("err", err.Error()))
		} else {
			raw = b
		}
	}
	s.events.Publish(ctx, events.Event{Topic: topic, ID: t.ID, At: s.now(), Data: raw,
		Scope: events.Scope{DeptID: t.DeptID, TeamID: t.TeamID, OwnerID: t.AssigneeID, CustomerID: t.CustomerID}})
}

// PatchTicket changes the fields of a request (a severity change recomputes the
// priority). One "update" event lists the changes.
func (s *Service) PatchTicket(ctx context.Context, id int64, p Patch) (Ticket, error) {
	actor, err := requireActor(ctx, PermWrite, false)
	if err != nil {
		return Ticket{}, err
	}
	if p.Version == nil {
		return Ticket{}, apperr.VersionRequired()
	}
	var retypedFrom Type // the old type when the type changes
	return s.change(ctx, id, actor, PermWrite, func(ctx context.Context, t *Ticket) ([]Event, error) {
		if *p.Version != t.Version {
			return nil, apperr.StaleVersion(t.Version)
		}
		f := apperr.Fields{}
		changes := map[string]any{}
		set := func(field string, old, v any) {
			if !reflect.DeepEqual(old, v) {
				changes[field] = map[string]any{"from": old, "to": v}
			}
		}
		next := *t
		if p.Title != nil {
			next.Title = textField(f, "title", *p.Title, maxTitle, true)
		}
		if p.Body != nil {
			next.Body = textField(f, "body", *p.Body, maxBody, false)
		}
		if p.ContactName != nil {
			next.ContactName = textField(f, "contact_name", *p.ContactName, maxContact, false)
		}
		if p.Type != nil {
			next.Type = *p.Type
			if *p.Type != TypeAfterSales && p.SubKind == nil {
				next.SubKind = ""
			}
			if *p.Type != TypeRepair && p.FaultLevel == nil {
				next.FaultLevel = 0
			}
		}
		if p.SubKind != nil {
			next.SubKind = strings.TrimSpace(*p.SubKind)
		}
		if p.FaultLevel != nil {
			next.FaultLevel = *p.FaultLevel
		}
		checkKind(f, next.Type, next.SubKind, next.FaultLevel)
		if p.Channel != nil {
			next.Channel = *p.Channel
			checkChoice(f, "channel", next.Channel, Channels, true)
		}
		if p.Severity != nil {
			next.Severity = *p.Severity
			checkChoice(f, "severity", next.Severity, Severities, true)
		}
		if p.CategoryID != nil && *p.CategoryID != t.CategoryID {
			next.CategoryID = *p.CategoryID
			if next.CategoryID < 0 {
				f.Add("category_id", "ticket.invalid.category_unknown")
			} else if err := s.checkCategory(ctx, f, next.CategoryID); err != nil {
				return nil, err
			}
		}
		if err := f.Err(); err != nil {
			return nil, err
		}
		if next.Severity != t.Severity {
			ref := customer.Ref{}
			if t.CustomerID != 0 {
				var err error
				if ref, err = s.customerRef(ctx, t.CustomerID); err != nil && apperr.KindOf(err) != apperr.NotFound {
					return nil, err
				}
			}
			next.Priority, next.PriorityReasons = ComputePriority(next.Severity, ref.Tier, ref.CreditGrade)
		}
		set("title", t.Title, next.Title)
		set("body", t.Body, next.Body)
		set("type", string(t.Type), string(next.Type))
		set("sub_kind", t.SubKind, next.SubKind)
		set("category_id", t.CategoryID, next.CategoryID)
		set("severity", string(t.Severity), string(next.Severity))
		set("priority", string(t.Priority), string(next.Priority))
		set("channel", string(t.Channel), string(next.Channel))
		set("contact_name", t.ContactName, next.ContactName)
		set("fault_level", t.FaultLevel, next.FaultLevel)
		if len(changes) == 0 {
			return nil, nil
		}
		if c, ok := changes["body"].(map[string]any); ok { // the audit keeps no free text twice
			changes["body"] = map[string]any{"chars": utf8.RuneCountInString(fmt.Sprint(c["to"]))}
		}
		if next.Type != t.Type {
			retypedFrom = t.Type
		}
		*t = next
		return []Event{{Kind: EventUpdate, Data: map[string]any{"fields": changes}}}, nil
	}, func(ctx context.Context, t *Ticket, _ []Event) error {
		return s.retyped(ctx, t, retypedFrom)
	})
}

// applyTransition moves t to status to (409 illegal_transition when the state machine
// refuses), sets the lifecycle stamps and runs the SLA and notification hooks.
func (s *Service) applyTransition(ctx context.Context, t *Ticket, to Status, reason string, kind EventKind) ([]Event, error) {
	from := t.Status
	if !CanTransition(from, to) {
		return nil, apperr.New(apperr.Conflict, "ticket.error.illegal_transition", "from",
			i18nStatus(from), "to", i18nStatus(to)).WithCode("illegal_transition").
			With("from", string(from)).With("to", string(to))
	}
	now := s.now()
	t.Status = to
	switch to {
	case StatusResolved:
		t.ResolvedAt = now
	case StatusClosed:
		t.ClosedAt = now
		if kind == EventConfirm {
			t.ConfirmedAt = now
		}
	case StatusReopened:
		t.ReopenCount++
		t.ResolvedAt, t.ClosedAt, t.ConfirmedAt = time.Time{}, time.Time{}, time.Time{}
	}
	if err := s.slaOnStatus(ctx, t, from, to, now); err != nil {
		return nil, fmt.Errorf("ticket: sla: %w", err)
	}
	if err := s.notifyOnStatus(ctx, t, from, to); err != nil {
		return nil, fmt.Errorf("ticket: notify: %w", err)
	}
	if err := s.statusChanged(ctx, t, from, to); err != nil {
		return nil, err
	}
	data := map[string]any{"from": string(from), "to": string(to)}
	if reason != "" {
		data["reason"] = reason
	}
	return []Event{{Kind: kind, Public: true, Body: reason, Data: data}}, nil
}

// i18nStatus is the catalog message of a status name.
func i18nStatus(st Status) i18n.Msg { return i18n.M("ticket.status." + string(st)) }

func checkReason(f apperr.Fields, to Status, reason string) string {
	required := to == StatusReopened || to == StatusCancelled
	return textField(f, "reason", reason, maxReason, required)
}

// Transition moves request id to status to (SPEC lifecycle). An illegal move is a 409
// with code illegal_transition and changes nothing. Reopening and cancelling need a
// reason. A portal customer may only confirm a resolved request (-> closed) or reopen
// a resolved or closed one.
func (s *Service) Transition(ctx context.Context, id int64, to Status, reason string) (Ticket, error) {
	actor, err := requireActor(ctx, PermWrite, true)
	if err != nil {
		return Ticket{}, err
	}
	f := apperr.Fields{}
	checkChoice(f, "status", to, Statuses, true)
	reason = checkReason(f, to, reason)
	if err := f.Err(); err != nil {
		return Ticket{}, err
	}
	kind := EventStatus
	if isCustomer(actor) {
		switch to {
		case StatusClosed:
			kind = EventConfirm
		case StatusReopened:
		default:
			return Ticket{}, apperr.ForbiddenErr()
		}
	}
	return s.change(ctx, id, actor, PermWrite, func(ctx context.Context, t *Ticket) ([]Event, error) {
		if s.drivenStatus(t.Type) && kind != EventConfirm {
			return nil, apperr.New(apperr.Conflict, "ticket.error.workflow_owned").WithCode("workflow_owned").OnField("status")
		}
		if isCustomer(actor) && to == StatusClosed && t.Status != StatusResolved {
			return nil, apperr.New(apperr.Conflict, "ticket.error.illegal_transition", "from",
				i18nStatus(t.Status), "to", i18nStatus(to)).WithCode("illegal_transition")
		}
		return s.applyTransition(ctx, t, to, reason, kind)
	}, nil)
}

// Confirm is the customer's confirmation of a resolved request (resolved -> closed).
func (s *Service) Confirm(ctx context.Context, id int64) (Ticket, error) {
	return s.Transition(ctx, id, StatusClosed, "")
}

// Reopen reopens a resolved or closed request with a reason.
func (s *Service) Reopen(ctx context.Context, id int64, reason string) (Ticket, error) {
	return s.Transition(ctx, id, StatusReopened, reason)
}

// ReplyInput is a reply; Status optionally moves the request in the same change (e.g.
// waiting_customer after asking the customer something).
type ReplyInput struct {
	Body   string `json:"body" text:"multiline"`
	Status Status `json:"status"`
}

// Reply adds a public reply. A staff member's first reply is the first response (SLA);
// a portal customer's reply is a customer_reply and brings a request waiting on the
// customer back to in_progress.
func (s *Service) Reply(ctx context.Context, id int64, in ReplyInput) (Ticket, Event, error) {
	actor, err := requireActor(ctx, PermWrite, true)
	if err != nil {
		return Ticket{}, Event{}, err
	}
	f := apperr.Fields{}
	body := textField(f, "body", in.Body, maxBody, true)
	checkChoice(f, "status", in.Status, Statuses, false)
	if isCustomer(actor) && in.Status != "" {
		f.Add("status", "field.invalid_choice")
	}
	if err := f.Err(); err != nil {
		return Ticket{}, Event{}, err
	}
	var ev Event
	t, err := s.change(ctx, id, actor, PermWrite, func(ctx context.Context, t *Ticket) ([]Event, error) {
		now := s.now()
		if isCustomer(actor) {
			evs := []Event{{Kind: EventCustomerReply, Public: true, Body: body}}
			if t.Status == StatusWaitingCustomer {
				more, err := s.applyTransition(ctx, t, StatusInProgress, "", EventStatus)
				if err != nil {
					return nil, err
				}
				evs = append(evs, more...)
			}
			return evs, nil
		}
		evs := []Event{{Kind: EventReply, Public: true, Body: body}}
		if t.RespondedAt.IsZero() {
			if err := s.slaOnResponse(ctx, t, now); err != nil {
				return nil, fmt.Errorf("ticket: sla: %w", err)
			}
			if t.RespondedAt.IsZero() {
				t.RespondedAt = now
			}
		}
		if in.Status != "" && in.Status != t.Status {
			more, err := s.applyTransition(ctx, t, in.Status, "", EventStatus)
			if err != nil {
				return nil, err
			}
			evs = append(evs, more...)
		}
		return evs, nil
	}, func(_ context.Context, _ *Ticket, evs []Event) error {
		ev = evs[0]
		return nil
	})
	return t, ev, err
}

// Note adds an internal note (never shown to the customer).
func (s *Service) Note(ctx context.Context, id int64, body string) (Ticket, Event, error) {
	actor, err := requireActor(ctx, PermWrite, false)
	if err != nil {
		return Ticket{}, Event{}, err
	}
	f := apperr.Fields{}
	body = textField(f, "body", body, maxBody, true)
	if err := f.Err(); err != nil {
		return Ticket{}, Event{}, err
	}
	var ev Event
	t, err := s.change(ctx, id, actor, PermWrite, func(context.Context, *Ticket) ([]Event, error) {
		return []Event{{Kind: EventNote, Body: body}}, nil
	}, func(_ context.Context, _ *Ticket, evs []Event) error {
		ev = evs[0]
		return nil
	})
	return t, ev, err
}

// LinkArticle links published knowledge-base article articleID to request id: the
// timeline records it (agents point colleagues and, through replies, customers to it).
func (s *Service) LinkArticle(ctx context.Context, id, articleID int64) (Ticket, error) {
	if articleID <= 0 {
		return Ticket{}, apperr.InvalidField("article_id", "field.required")
	}
	if s.articles == nil {
		return Ticket{}, apperr.InvalidField("article_id", "ticket.invalid.article")
	}
	ref, err := s.articles.Ref(ctx, articleID)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return Ticket{}, apperr.InvalidField("article_id", "ticket.invalid.article")
		}
		return Ticket{}, fmt.Errorf("ticket: article: %w", err)
	}
	if ref.Status != kb.StatusPublished {
		return Ticket{}, apperr.InvalidField("article_id", "ticket.invalid.article")
	}
	return s.mutate(ctx, id, PermWrite, func(context.Context, *Ticket) ([]Event, error) {
		return []Event{{Kind: EventKnowledgeLink, Data: map[string]any{"article_id": ref.ID, "title": ref.Title}}}, nil
	})
}
