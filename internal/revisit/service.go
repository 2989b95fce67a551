// Package revisit is the return-visit (huifang) capability (SPEC §2.4): rules that turn
// events into sampled, scheduled visit tasks, the visit work itself (records, retries,
// follow-ups, sign-off, false-record checks) and the summary report (huifang zongjie baogao).
//
// Producers below revisit (requests, complaints, activities, new customer files) are
// listened to inside their own transactions; producers above it (field visits) call
// Emit. Either way the trigger is one row of the inbox (revisit_events) written in the
// producer's transaction, and the engine's job turns inbox rows into decisions and tasks.
package revisit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kefu-cn/kefu/internal/activity"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/mail"
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

// SMS sends a text message to a mainland mobile number (a provider's gateway).
type SMS interface {
	Send(ctx context.Context, mobile, text string) error
}

// Deps are the return-visit service's collaborators.
type Deps struct {
	DB         *db.DB
	Audit      *audit.Log
	Clock      clock.Clock
	Log        *slog.Logger
	Events     Publisher
	Jobs       *jobs.Runner
	Tickets    *ticket.Service
	Complaints *complaint.Service
	Customers  *customer.Service
	Activities *activity.Service
	Staff      *org.Service
	Calendars  Calendars
	Mail       mail.Sender // nil: no email notifications
	SMS        SMS         // nil: SMS visits are recorded but not sent
}

// Service holds the return-visit use cases.
type Service struct {
	d     Deps
	web   *web.Engine
	store *Store
	// cache holds the settings and the sampling secret (settings.go); rules the active
	// rules (rules.go); coops the cooperation lookup of monthly plans (plans.go).
	cache settingsCache
	rules rulesCache
	coops Cooperations
	// engineMu keeps one engine pass at a time on this node (engine.go).
	engineMu sync.Mutex
	// done are called in the transaction that completes a visit task (OnDone).
	done []DoneListener
}

// New builds the service and registers its listeners with the producers below it and
// its jobs with the runner.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Tickets == nil || d.Customers == nil {
		return nil, errors.New("revisit: a database, the request and the customer services are required")
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Service{d: d, store: NewStore(d.DB)}
	s.listen()
	s.registerWork() // follow-up requests resolved -> next-round visits; result notices
	if d.Jobs != nil {
		s.registerJobs(d.Jobs)
	}
	return s, nil
}

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// now is the clock's time at millisecond precision (what the database keeps).
func (s *Service) now() time.Time { return time.UnixMilli(clock.Millis(s.d.Clock.Now())) }

// VisitDone describes a completed visit task to the capabilities above (surveys).
type VisitDone struct {
	TaskID       int64
	RecordID     int64
	Rule         string
	CustomerID   int64
	AssigneeID   int64
	DeptID       int64
	Method       string
	Reached      bool
	Satisfaction int // 1..5; 0 = not given
	SourceType   string
	SourceID     int64
	At           time.Time
}

// DoneListener is called inside the transaction that records a visit task as done.
// An error rolls the record back, so a listener only records what it must.
type DoneListener func(ctx context.Context, v VisitDone) error

// OnDone registers fn (call before serving; not safe concurrently with requests).
func (s *Service) OnDone(fn DoneListener) {
	if fn != nil {
		s.done = append(s.done, fn)
	}
}
