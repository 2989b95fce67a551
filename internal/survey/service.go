// Package survey is the satisfaction capability (SPEC §2.5): CSAT, NPS and CES survey
// templates, invitations sent after a request is resolved and after a return visit
// (email, SMS, the portal, or asked on the phone and keyed in), public single-use
// survey pages at /s/{token}, and the results per agent, team, type, channel and period.
package survey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
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
	d     Deps
	store *Store
	web   *web.Engine
	// limiter throttles public answers per client address.
	limiter *httpx.Limiter
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
	if d.Catalog == nil {
		cat, err := i18n.Load()
		if err != nil {
			return nil, fmt.Errorf("survey: catalog: %w", err)
		}
		d.Catalog = cat
	}
	s := &Service{d: d, store: NewStore(d.DB), limiter: httpx.NewLimiter(6*time.Second, 20)}
	d.Tickets.OnStatus(s.onTicketStatus)
	if d.Revisits != nil {
		d.Revisits.OnDone(s.HandleVisitDone)
	}
	if d.Jobs != nil {
		s.registerJobs(d.Jobs)
	}
	return s, nil
}

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// SetSenders replaces the mail sender and the SMS provider (wiring and tests); nil
// leaves that channel unable to send.
func (s *Service) SetSenders(m mail.Sender, sms SMS) {
	s.d.Mail, s.d.SMS = m, sms
}

// Store returns the store (tests, demo data).
func (s *Service) Store() *Store { return s.store }

// now is the clock's time at millisecond precision (what the database keeps).
func (s *Service) now() time.Time { return time.UnixMilli(clock.Millis(s.d.Clock.Now())) }

// record writes an audit entry about target (type kind) in ctx's transaction.
func (s *Service) record(ctx context.Context, action, kind string, id int64, detail any) error {
	if s.d.Audit == nil {
		return nil
	}
	target := ""
	if id != 0 {
		target = strconv.FormatInt(id, 10)
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Action: action, TargetType: kind, TargetID: target, Detail: detail}); err != nil {
		return fmt.Errorf("survey: audit %s: %w", action, err)
	}
	return nil
}

// scopeSQL is the condition on survey_invites (alias i) that keeps rows within the
// actor's reach for perm ("" = everything).
func scopeSQL(a *authz.Actor, perm string) (string, []any) {
	if a == nil || a.Kind == authz.KindSystem {
		return "", nil
	}
	switch a.ScopeOf(perm) {
	case authz.ScopeAll:
		return "", nil
	case authz.ScopeDept:
		if a.DeptID == 0 {
			return "1 = 0", nil
		}
		return "i.dept_id = ?", []any{a.DeptID}
	case authz.ScopeTeam:
		if a.TeamID == 0 {
			return "i.agent_id = ?", []any{a.ID}
		}
		return "(i.team_id = ? OR i.agent_id = ?)", []any{a.TeamID, a.ID}
	case authz.ScopeOwn:
		return "i.agent_id = ?", []any{a.ID}
	}
	return "1 = 0", nil
}

func notFound(err error, thing string) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf(thing)
	}
	return fmt.Errorf("survey: load: %w", err)
}

// systemCtx is ctx acting as the system named name unless it already has an actor.
func systemCtx(ctx context.Context, name string) context.Context {
	if authz.From(ctx) != nil {
		return ctx
	}
	return authz.WithActor(ctx, authz.System(name))
}

func isNoRows(err error) bool { return db.IsNoRows(err) }
