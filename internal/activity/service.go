// Package activity keeps the center's activities with customers (sports and culture events,
// promotions, trainings): their dates, organiser and participant customers. Ending an activity is
// a trigger of the return-visit rules (activity_ended), told to listeners inside the
// ending transaction.
package activity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Deps are the activity service's collaborators.
type Deps struct {
	DB        *db.DB
	Audit     *audit.Log
	Clock     clock.Clock
	Log       *slog.Logger
	Customers *customer.Service
	Staff     *org.Service
}

// Service holds the activity use cases.
type Service struct {
	d     Deps
	store *Store
	web   *web.Engine
	// ended are called in the transaction that ends an activity (OnEnded).
	ended []EndListener
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Customers == nil {
		return nil, errors.New("activity: a database and the customer service are required")
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{d: d, store: NewStore(d.DB)}, nil
}

// Store returns the store (tests, demo data).
func (s *Service) Store() *Store { return s.store }

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// now is the clock's time at millisecond precision (what the database keeps).
func (s *Service) now() time.Time { return time.UnixMilli(clock.Millis(s.d.Clock.Now())) }

// Ended describes an activity that has just ended, to the listeners (return visits).
type Ended struct {
	ActivityID  int64
	Title       string
	Type        string
	OrganiserID int64 // staff id
	DeptID      int64
	EndedAt     time.Time
	CustomerIDs []int64 // the participant customers
}

// EndListener is called inside the transaction that ends an activity. An error rolls
// the ending back, so a listener only records what it must.
type EndListener func(ctx context.Context, e Ended) error

// OnEnded registers fn (call before serving; not safe concurrently with requests).
func (s *Service) OnEnded(fn EndListener) {
	if fn != nil {
		s.ended = append(s.ended, fn)
	}
}

// Limits of free text (characters).
const (
	maxTitle = 200
	maxText  = 5000
)

// record writes an audit entry about activity id in ctx's transaction.
func (s *Service) record(ctx context.Context, action string, id int64, detail any) error {
	if s.d.Audit == nil {
		return nil
	}
	target := ""
	if id != 0 {
		target = strconv.FormatInt(id, 10)
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Action: action, TargetType: "activity", TargetID: target, Detail: detail}); err != nil {
		return fmt.Errorf("activity: audit %s: %w", action, err)
	}
	return nil
}

func notFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.activity")
	}
	return fmt.Errorf("activity: load: %w", err)
}

func sysCtx(ctx context.Context) context.Context {
	return authz.WithActor(ctx, authz.System("activity"))
}

// staffID is the actor's staff id (0 for the system).
func staffID(a *authz.Actor) int64 {
	if a == nil || a.Kind != authz.KindStaff {
		return 0
	}
	return a.ID
}

// textField trims v and checks its length; required adds field.required when empty.
func textField(f apperr.Fields, field, v string, max int, required bool) string {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		f.Add(field, "field.required")
	case utf8.RuneCountInString(v) > max:
		f.Add(field, "field.too_long", "max", max)
	}
	return v
}

// dayField checks a 'YYYY-MM-DD' day.
func dayField(f apperr.Fields, field, v string, required bool) string {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			f.Add(field, "field.required")
		}
		return v
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		f.Add(field, "activity.invalid.day")
	}
	return v
}

// reaches reports whether the actor reaches activity a with perm.
func reaches(actor *authz.Actor, perm string, a *Activity) bool {
	if actor == nil {
		return false
	}
	return actor.Kind == authz.KindSystem || actor.Reaches(perm, a.Record())
}

// lockReached loads activity id for change once the actor reaches it with perm (else
// 404) and, when version is given, it is the current one (409 when stale).
func (s *Service) lockReached(ctx context.Context, actor *authz.Actor, id int64, perm string, version *int64) (Activity, error) {
	a, err := s.store.Lock(ctx, id)
	if err != nil {
		return Activity{}, notFound(err)
	}
	if !reaches(actor, perm, &a) {
		return Activity{}, apperr.NotFoundf("thing.activity")
	}
	if version != nil && *version != a.Version {
		return Activity{}, apperr.StaleVersion(a.Version)
	}
	return a, nil
}

// save writes a, changed in ctx's transaction, as its next version.
func (s *Service) save(ctx context.Context, a *Activity) error {
	prev := a.Version
	a.Version, a.UpdatedAt = a.Version+1, s.now()
	if ok, err := s.store.Update(ctx, a, prev); err != nil {
		return err
	} else if !ok {
		return apperr.StaleVersion(a.Version)
	}
	return nil
}

func closedErr(st Status) error {
	return apperr.New(apperr.Conflict, "activity.error.closed", "status", i18nStatus(st)).WithCode("activity_closed")
}

// placement resolves the organiser's department and team and checks the fields naming
// staff and departments; it fills a.DeptID from the organiser when none was given.
func (s *Service) placement(ctx context.Context, a *Activity, deptGiven bool, f apperr.Fields) {
	var orgDept int64
	if a.OrganiserID < 0 {
		f.Add("organiser_id", "activity.invalid.organiser")
		return
	}
	if a.OrganiserID > 0 && s.d.Staff != nil {
		st, err := s.d.Staff.LoadActor(sysCtx(ctx), a.OrganiserID)
		if err != nil {
			f.Add("organiser_id", "activity.invalid.organiser")
			return
		}
		orgDept, a.TeamID = st.DeptID, st.TeamID
	}
	if !deptGiven {
		a.DeptID = orgDept
	}
	if a.DeptID < 0 {
		f.Add("dept_id", "activity.invalid.dept")
	} else if a.DeptID > 0 && s.d.Staff != nil {
		if _, err := s.d.Staff.DepartmentName(sysCtx(ctx), a.DeptID); err != nil {
			f.Add("dept_id", "activity.invalid.dept")
		}
	}
}

func checkDates(f apperr.Fields, a *Activity) {
	a.StartOn = dayField(f, "start_on", a.StartOn, true)
	if strings.TrimSpace(a.EndOn) == "" {
		a.EndOn = a.StartOn
	}
	a.EndOn = dayField(f, "end_on", a.EndOn, true)
	if _, bad := f["start_on"]; !bad && a.EndOn < a.StartOn {
		f.Add("end_on", "activity.invalid.end_before_start")
	}
}

// Create records a planned activity. The organiser defaults to the actor, the
// department to the organiser's; the actor's activity:write scope must reach it.
func (s *Service) Create(ctx context.Context, in Input) (Activity, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Activity{}, err
	}
	f := apperr.Fields{}
	now := s.now()
	a := Activity{Title: textField(f, "title", in.Title, maxTitle, true), Type: in.Type, StartOn: in.StartOn,
		EndOn: in.EndOn, OrganiserID: in.OrganiserID, DeptID: in.DeptID,
		Description: textField(f, "description", in.Description, maxText, false), Status: StatusPlanned,
		CreatedBy: staffID(actor), Version: 1, CreatedAt: now, UpdatedAt: now}
	switch {
	case a.Type == "":
		f.Add("type", "field.required")
	case !validType(a.Type):
		f.Add("type", "field.invalid_choice")
	}
	checkDates(f, &a)
	if a.OrganiserID == 0 {
		a.OrganiserID = staffID(actor)
	}
	s.placement(ctx, &a, in.DeptID != 0, f)
	if err := f.Err(); err != nil {
		return Activity{}, err
	}
	if !reaches(actor, PermWrite, &a) {
		return Activity{}, apperr.InvalidField("dept_id", "activity.invalid.out_of_scope")
	}
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.Insert(ctx, &a); err != nil {
			return err
		}
		return s.record(ctx, "activity.create", a.ID, map[string]any{"title": a.Title, "type": a.Type,
			"start_on": a.StartOn, "end_on": a.EndOn, "organiser_id": a.OrganiserID, "dept_id": a.DeptID})
	})
	if err != nil {
		return Activity{}, err
	}
	return a, nil
}

// Get returns activity id if the actor reaches it.
func (s *Service) Get(ctx context.Context, id int64) (Activity, error) {
	actor, err := authz.Require(ctx, PermRead)
	if err != nil {
		return Activity{}, err
	}
	a, err := s.store.Get(ctx, id)
	if err != nil {
		return Activity{}, notFound(err)
	}
	if !reaches(actor, PermRead, &a) {
		return Activity{}, apperr.NotFoundf("thing.activity")
	}
	return a, nil
}

// Filter narrows the activity list.
type Filter struct {
	Status      Status
	Type        Type
	DeptID      int64
	OrganiserID int64
	CustomerID  int64 // activities this customer takes part in
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

type listCursor struct {
	ID int64 `json:"i"`
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

// List pages through the activities the actor reaches, newest first.
func (s *Service) List(ctx context.Context, f Filter, limit int, cur string) (Page[Activity], error) {
	actor, err := authz.Require(ctx, PermRead)
	if err != nil {
		return Page[Activity]{}, err
	}
	fe := apperr.Fields{}
	if f.Status != "" && !validStatus(f.Status) {
		fe.Add("status", "field.invalid_choice")
	}
	if f.Type != "" && !validType(f.Type) {
		fe.Add("type", "field.invalid_choice")
	}
	if err := fe.Err(); err != nil {
		return Page[Activity]{}, err
	}
	var c listCursor
	if err := httpx.DecodeCursor(cur, &c); err != nil {
		return Page[Activity]{}, err
	}
	limit = pageLimit(limit)
	q := listQuery{status: f.Status, typ: f.Type, deptID: f.DeptID, organiserID: f.OrganiserID, custID: f.CustomerID,
		before: c.ID, limit: limit + 1}
	switch actor.ScopeOf(PermRead) {
	case authz.ScopeAll:
		q.all = true
	case authz.ScopeDept:
		q.dept = max(actor.DeptID, -1)
	case authz.ScopeTeam:
		q.team, q.self = max(actor.TeamID, -1), actor.ID
	default:
		q.self = actor.ID
	}
	items, err := s.store.List(ctx, q)
	if err != nil {
		return Page[Activity]{}, err
	}
	p := Page[Activity]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = httpx.EncodeCursor(listCursor{ID: p.Items[limit-1].ID})
	}
	return p, nil
}

// Update changes an open activity's fields (and moves it between planned and ongoing).
func (s *Service) Update(ctx context.Context, id int64, p Patch) (Activity, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Activity{}, err
	}
	var out Activity
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.lockReached(ctx, actor, id, PermWrite, p.Version)
		if err != nil {
			return err
		}
		if !a.Status.Open() {
			return closedErr(a.Status)
		}
		before := a
		f := apperr.Fields{}
		if p.Title != nil {
			a.Title = textField(f, "title", *p.Title, maxTitle, true)
		}
		if p.Type != nil {
			if a.Type = *p.Type; !validType(a.Type) {
				f.Add("type", "field.invalid_choice")
			}
		}
		if p.StartOn != nil {
			a.StartOn = *p.StartOn
		}
		if p.EndOn != nil {
			a.EndOn = *p.EndOn
		}
		checkDates(f, &a)
		if p.Description != nil {
			a.Description = textField(f, "description", *p.Description, maxText, false)
		}
		if p.Status != nil {
			switch *p.Status {
			case StatusPlanned, StatusOngoing:
				a.Status = *p.Status
			case StatusEnded, StatusCancelled:
				f.Add("status", "activity.invalid.status_action")
			default:
				f.Add("status", "field.invalid_choice")
			}
		}
		if p.OrganiserID != nil || p.DeptID != nil {
			if p.OrganiserID != nil {
				a.OrganiserID = *p.OrganiserID
			}
			if p.DeptID != nil {
				a.DeptID = *p.DeptID
			}
			s.placement(ctx, &a, true, f) // the department stays unless given
		}
		if err := f.Err(); err != nil {
			return err
		}
		if !reaches(actor, PermWrite, &a) {
			return apperr.InvalidField("dept_id", "activity.invalid.out_of_scope")
		}
		if err := s.save(ctx, &a); err != nil {
			return err
		}
		out = a
		return s.record(ctx, "activity.update", a.ID, map[string]any{"changed": changed(before, a)})
	})
	return out, err
}

func changed(a, b Activity) []string {
	var out []string
	add := func(name string, diff bool) {
		if diff {
			out = append(out, name)
		}
	}
	add("title", a.Title != b.Title)
	add("type", a.Type != b.Type)
	add("start_on", a.StartOn != b.StartOn)
	add("end_on", a.EndOn != b.EndOn)
	add("organiser_id", a.OrganiserID != b.OrganiserID)
	add("dept_id", a.DeptID != b.DeptID)
	add("description", a.Description != b.Description)
	add("status", a.Status != b.Status)
	return out
}

// End ends an open activity and tells the listeners (the return-visit rule
// activity_ended) inside the same transaction, with its distinct participant
// customers. An activity already ended or cancelled is 409.
func (s *Service) End(ctx context.Context, id int64) (Activity, error) {
	return s.finish(ctx, id, StatusEnded)
}

// Cancel cancels an open activity (no listener is told).
func (s *Service) Cancel(ctx context.Context, id int64) (Activity, error) {
	return s.finish(ctx, id, StatusCancelled)
}

func (s *Service) finish(ctx context.Context, id int64, to Status) (Activity, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Activity{}, err
	}
	var out Activity
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.lockReached(ctx, actor, id, PermWrite, nil)
		if err != nil {
			return err
		}
		if !a.Status.Open() {
			return apperr.New(apperr.Conflict, "activity.error.not_open", "status", i18nStatus(a.Status)).
				WithCode("illegal_transition")
		}
		from, now := a.Status, s.now()
		a.Status = to
		if to == StatusEnded {
			a.EndedAt = now
		} else {
			a.CancelledAt = now
		}
		ids, err := s.store.ParticipantIDs(ctx, a.ID)
		if err != nil {
			return err
		}
		a.Participants = len(ids) // distinct: a customer merge may have left two rows of one customer
		if err := s.save(ctx, &a); err != nil {
			return err
		}
		action := "activity.end"
		if to == StatusCancelled {
			action = "activity.cancel"
		}
		if err := s.record(ctx, action, a.ID, map[string]any{"from": from, "participants": len(ids)}); err != nil {
			return err
		}
		if to == StatusEnded {
			e := Ended{ActivityID: a.ID, Title: a.Title, Type: string(a.Type), OrganiserID: a.OrganiserID,
				DeptID: a.DeptID, EndedAt: now, CustomerIDs: ids}
			for _, fn := range s.ended {
				if err := fn(ctx, e); err != nil {
					return fmt.Errorf("activity: end listener: %w", err)
				}
			}
		}
		out = a
		return nil
	})
	return out, err
}
