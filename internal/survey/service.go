// Package survey is the satisfaction capability (SPEC §2.5): CSAT, NPS and CES survey
// templates, invitations sent after a request is resolved and after a return visit
// (email, SMS, the portal, or asked on the phone and keyed in), public single-use
// survey pages at /s/{token}, and the results per agent, team, type, channel and period.
package survey

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
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/platform/web"
	"github.com/kefu-cn/kefu/internal/revisit"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// SMS sends a text message to a mainland mobile number (a provider's gateway).
type SMS interface {
	Send(ctx context.Context, mobile, text string) error
}

// Deps are the survey service's collaborators.
type Deps struct {
	DB        *db.DB
	Audit     *audit.Log
	Clock     clock.Clock
	Log       *slog.Logger
	Jobs      *jobs.Runner
	Catalog   *i18n.Catalog
	Tickets   *ticket.Service
	Revisits  *revisit.Service
	Customers *customer.Service
	Staff     *org.Service
	Mail      mail.Sender // nil: email invitations cannot be sent
	SMS       SMS         // nil: SMS invitations cannot be sent
	BaseURL   string      // the public address the survey links start with
}

// Service holds the survey use cases.
type Service struct {
	d   Deps
	web *web.Engine
}

// New builds the service and registers its listeners (a request resolved, a return
// visit done) and its jobs.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Tickets == nil || d.Customers == nil {
		return nil, errors.New("survey: a database, the request and the customer services are required")
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
