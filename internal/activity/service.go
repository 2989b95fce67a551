// Package activity keeps the center's activities with customers (sports and culture events,
// promotions, trainings): their dates, organiser and participant customers. Ending an activity is
// a trigger of the return-visit rules (activity_ended), told to listeners inside the
// ending transaction.
package activity

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
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
	d   Deps
	web *web.Engine
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
	return &Service{d: d}, nil
}

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
