// Package fieldvisit keeps the salespeople's customer visits (kehu baifang, the
// waiqin form; SPEC §2.7): the visit record from a phone-sized page, visit plans per customer class with
// the overdue ones, and visit reports. Each recorded visit is a trigger of the
// return-visit rules (sales_visit: a verification call within 24 h), emitted to the
// return-visit engine inside the recording transaction.
package fieldvisit

import (
	"errors"
	"log/slog"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/web"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// Deps are the field-visit service's collaborators.
type Deps struct {
	DB        *db.DB
	Audit     *audit.Log
	Clock     clock.Clock
	Log       *slog.Logger
	Customers *customer.Service
	Staff     *org.Service
	Revisits  *revisit.Service
}

// Service holds the field-visit use cases.
type Service struct {
	d   Deps
	web *web.Engine
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Customers == nil || d.Revisits == nil {
		return nil, errors.New("fieldvisit: a database, the customer and the return-visit services are required")
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
