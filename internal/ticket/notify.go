package ticket

// Customer notifications (SPEC §2.2, issue 4 item 8).
//
// Inside the transaction that creates a request, notifyOnCreate enqueues a
// "ticket.notify" job (kind "ack"); inside the transaction that resolves one,
// notifyOnStatus enqueues a job of kind "confirm". The job exists only if the change
// commits. The job handler loads the request, looks up the customer's email
// (customer.Ref; no email: nothing to send), renders subject and text from the
// ticket_notify catalog in the customer's language (zh-CN) with times in Asia/Shanghai,
// sends through the mail service, and appends a public "notification" timeline entry
// through systemMutate (audited as the system). Outgoing mail switched off
// (mail.ErrDisabled) completes the job with a log line; other send errors are retried
// by the job runner. A notice already on the timeline is not sent again, so a job that
// runs twice mails once.
//
// Auto-close: the periodic job "ticket.autoclose" (every 10 minutes, exactly once
// across nodes) closes requests resolved longer than the quiet period ago (settings key
// "ticket.autoclose_after", default 72h, 1h to 90d; GET/PUT /api/v1/settings/tickets
// for ticket:manage, audited "ticket.settings.update"), with reason "auto_close",
// audited as the system.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// Notification jobs and settings.
const (
	JobNotify    = "ticket.notify"
	JobAutoClose = "ticket.autoclose"

	NoticeAck     = "ack"     // acknowledgement with the number and the promised time
	NoticeConfirm = "confirm" // resolved: please confirm within 24 h

	// SettingAutoCloseAfter is the quiet period after which a resolved request closes.
	SettingAutoCloseAfter = "ticket.autoclose_after"
	DefaultAutoCloseAfter = 72 * time.Hour
	MinAutoCloseAfter     = time.Hour
	MaxAutoCloseAfter     = 90 * 24 * time.Hour

	// ReasonAutoClose is the transition reason of an automatic close.
	ReasonAutoClose = "auto_close"

	// ConfirmWindow is how long the customer has to confirm a resolution (SPEC: 24 h).
	ConfirmWindow = 24 * time.Hour

	autoCloseEvery = 10 * time.Minute
	autoCloseBatch = 200
)

// notifyJob is the payload of a ticket.notify job.
type notifyJob struct {
	TicketID int64  `json:"ticket_id"`
	Notice   string `json:"notice"`
	Key      string `json:"key"` // unique per notice: "ack", "confirm:<resolved_at ms>"
}

// mailEnabled reports whether the mail service would deliver; a sender that cannot tell
// counts as enabled.
func (s *Service) mailEnabled(ctx context.Context) bool {
	if s.mail == nil {
		return false
	}
	if e, ok := s.mail.(interface{ Enabled(context.Context) bool }); ok {
		return e.Enabled(ctx)
	}
	return true
}

// enqueueNotice adds the job for a notice inside the caller's transaction.
func (s *Service) enqueueNotice(ctx context.Context, t *Ticket, notice, key string) error {
	if s.jobs == nil || t.CustomerID == 0 || !s.mailEnabled(ctx) {
		return nil
	}
	_, _, err := s.jobs.Enqueue(ctx, JobNotify, notifyJob{TicketID: t.ID, Notice: notice, Key: key},
		jobs.UniqueKey(fmt.Sprintf("%s:%d:%s", JobNotify, t.ID, key)), jobs.MaxAttempts(8))
	return err
}

// notifyOnCreate enqueues the acknowledgement to the customer (inside the create tx).
func (s *Service) notifyOnCreate(ctx context.Context, t *Ticket) error {
	return s.enqueueNotice(ctx, t, NoticeAck, NoticeAck)
}

// notifyOnStatus enqueues the confirmation request when a request is resolved.
func (s *Service) notifyOnStatus(ctx context.Context, t *Ticket, from, to Status) error {
	if to != StatusResolved {
		return nil
	}
	resolved := t.ResolvedAt
	if resolved.IsZero() {
		resolved = s.now()
	}
	return s.enqueueNotice(ctx, t, NoticeConfirm, NoticeConfirm+":"+strconv.FormatInt(clock.Millis(resolved), 10))
}

// registerNotifyJobs registers the notification and auto-close jobs.
func (s *Service) registerNotifyJobs(r *jobs.Runner) {
	r.Register(JobNotify, s.runNotify)
	r.Register(JobAutoClose, s.runAutoClose)
	r.Every(JobAutoClose, jobs.Every(autoCloseEvery))
}

// notifyZone is the zone of times in notifications.
var notifyZone = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// catalog returns the catalog to render notices with (the mail service's, else the
// embedded one).
func (s *Service) notifyCatalog() (*i18n.Catalog, error) {
	if c, ok := s.mail.(interface{ Catalog() *i18n.Catalog }); ok && c.Catalog() != nil {
		return c.Catalog(), nil
	}
	return i18n.Load()
}

// portalLink is the customer's link to the request.
func (s *Service) portalLink(id int64) string {
	base := ""
	if b, ok := s.mail.(interface{ BaseURL() string }); ok {
		base = strings.TrimRight(b.BaseURL(), "/")
	}
	return base + "/portal/tickets/" + strconv.FormatInt(id, 10)
}

// renderedNotice is a rendered customer notification.
type renderedNotice struct {
	Subject string
	Text    string
}

// renderNotice renders notice for t in lang.
func (s *Service) renderNotice(cat *i18n.Catalog, lang, notice string, t *Ticket, name string) renderedNotice {
	if name == "" {
		name = cat.T(lang, "ticket_notify.customer", nil)
	}
	args := map[string]any{"number": t.Number, "title": t.Title, "name": name, "link": s.portalLink(t.ID)}
	switch notice {
	case NoticeConfirm:
		resolved := t.ResolvedAt
		if resolved.IsZero() {
			resolved = s.now()
		}
		by := resolved.Add(ConfirmWindow)
		if !t.ConfirmDueAt.IsZero() { // the SLA's confirmation target, when it set one
			by = t.ConfirmDueAt
		}
		args["confirm_by"] = by.In(notifyZone).Format("2006-01-02 15:04")
		return renderedNotice{Subject: cat.T(lang, "ticket_notify.confirm.subject", args),
			Text: cat.T(lang, "ticket_notify.confirm.body", args)}
	default:
		if t.ResolveDueAt.IsZero() {
			args["due"] = cat.T(lang, "ticket_notify.due_soon", nil)
		} else {
			args["due"] = t.ResolveDueAt.In(notifyZone).Format("2006-01-02 15:04")
		}
		return renderedNotice{Subject: cat.T(lang, "ticket_notify.ack.subject", args),
			Text: cat.T(lang, "ticket_notify.ack.body", args)}
	}
}

// runNotify is the ticket.notify job handler.
func (s *Service) runNotify(ctx context.Context, j jobs.Job) error {
	var p notifyJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	log := s.log.With(slog.String("job", JobNotify), slog.Int64("ticket_id", p.TicketID), slog.String("notice", p.Notice))
	t, err := s.store.GetTicket(ctx, p.TicketID)
	if err != nil {
		if apperr.KindOf(notFound(err)) == apperr.NotFound {
			return nil // deleted meanwhile
		}
		return err
	}
	if p.Notice == NoticeConfirm && t.Status != StatusResolved {
		return nil // reopened or closed before the mail went out
	}
	if t.CustomerID == 0 || s.mail == nil {
		return nil
	}
	if sent, err := s.store.NotificationSent(ctx, t.ID, p.Key); err != nil || sent {
		return err
	}
	ref, err := s.customerRef(ctx, t.CustomerID)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return nil
		}
		return err
	}
	to := strings.TrimSpace(ref.Email)
	if to == "" {
		log.Debug("customer has no email; notice skipped")
		return nil
	}
	cat, err := s.notifyCatalog()
	if err != nil {
		return err
	}
	lang := i18n.ZhCN
	n := s.renderNotice(cat, lang, p.Notice, &t, ref.Name)
	msg := mail.Message{To: []string{to}, Subject: n.Subject, Text: n.Text,
		Headers: map[string]string{"X-Kefu-Ticket": t.Number}}
	if err := s.mail.Send(ctx, msg); err != nil {
		switch {
		case errors.Is(err, mail.ErrDisabled):
			log.Info("outgoing mail disabled; notice not sent")
			return nil
		case errors.Is(err, mail.ErrBadAddress):
			log.Warn("customer email not usable; notice not sent", slog.String("err", err.Error()))
			return nil
		}
		return fmt.Errorf("ticket: send %s notice: %w", p.Notice, err)
	}
	_, err = s.systemMutate(ctx, t.ID, func(ctx context.Context, t *Ticket) ([]Event, error) {
		return []Event{{Kind: EventNotification, Public: true, ActorKind: authz.KindSystem, ActorName: "system",
			Body: n.Subject, Data: map[string]any{"channel": "email", "notice": p.Notice, "key": p.Key,
				"to": secure.MaskEmail(to)}}}, nil
	})
	if err != nil {
		// Sent but not recorded: log, do not retry (that would mail twice).
		log.Error("notice sent but not recorded on the timeline", slog.String("err", err.Error()))
	}
	return nil
}

// ======================= auto-close =======================

// autoCloseAfter reads the quiet period (the default when unset or unreadable).
func (s *Service) autoCloseAfter(ctx context.Context) (time.Duration, error) {
	v, ok, err := s.store.NotifySetting(ctx, SettingAutoCloseAfter)
	if err != nil || !ok {
		return DefaultAutoCloseAfter, err
	}
	d, perr := calendar.ParseDuration(strings.TrimSpace(v))
	if perr != nil || d < MinAutoCloseAfter || d > MaxAutoCloseAfter {
		return DefaultAutoCloseAfter, nil
	}
	return d, nil
}

// runAutoClose is the periodic auto-close job.
func (s *Service) runAutoClose(ctx context.Context, _ jobs.Job) error {
	n, err := s.AutoClose(ctx)
	if n > 0 {
		s.log.Info("resolved requests closed automatically", slog.Int("closed", n))
	}
	return err
}

// AutoClose closes every request resolved longer than the quiet period ago (as the
// system, reason auto_close) and returns how many it closed. Jobs call it; tests too.
func (s *Service) AutoClose(ctx context.Context) (int, error) {
	after, err := s.autoCloseAfter(ctx)
	if err != nil {
		return 0, err
	}
	if authz.From(ctx) == nil {
		ctx = authz.WithActor(ctx, authz.System("job:"+JobAutoClose))
	}
	closed := 0
	var lastErr error
	for {
		cutoff := s.now().Add(-after)
		ids, err := s.store.AutoCloseDue(ctx, clock.Millis(cutoff), autoCloseBatch)
		if err != nil {
			return closed, err
		}
		progress := 0
		for _, id := range ids {
			did := false
			_, err := s.systemMutate(ctx, id, func(ctx context.Context, t *Ticket) ([]Event, error) {
				if t.Status != StatusResolved || t.ResolvedAt.IsZero() || t.ResolvedAt.After(cutoff) {
					return nil, nil // changed meanwhile
				}
				did = true
				return s.applyTransition(ctx, t, StatusClosed, ReasonAutoClose, EventStatus)
			})
			if err != nil {
				lastErr = err
				s.log.Warn("auto-close", slog.Int64("ticket_id", id), slog.String("err", err.Error()))
				continue
			}
			if did {
				closed++
				progress++
			}
		}
		if len(ids) < autoCloseBatch || progress == 0 || ctx.Err() != nil {
			return closed, lastErr
		}
	}
}

// ======================= settings =======================

// TicketSettings are the run-time settings of requests.
type TicketSettings struct {
	AutoCloseAfter string `json:"autoclose_after"` // e.g. "72h", "3d"
	AutoCloseHours int64  `json:"autoclose_after_hours"`
}

// TicketSettingsPatch changes the settings; nil fields stay.
type TicketSettingsPatch struct {
	AutoCloseAfter *string `json:"autoclose_after"`
}

func formatQuiet(d time.Duration) TicketSettings {
	s := d.String()
	if d%(24*time.Hour) == 0 {
		s = strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	} else if d%time.Hour == 0 {
		s = strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	return TicketSettings{AutoCloseAfter: s, AutoCloseHours: int64(d / time.Hour)}
}

// GetTicketSettings returns the settings (ticket:manage).
func (s *Service) GetTicketSettings(ctx context.Context) (TicketSettings, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return TicketSettings{}, err
	}
	d, err := s.autoCloseAfter(ctx)
	if err != nil {
		return TicketSettings{}, err
	}
	return formatQuiet(d), nil
}

// UpdateTicketSettings changes the settings (ticket:manage; audited
// "ticket.settings.update").
func (s *Service) UpdateTicketSettings(ctx context.Context, p TicketSettingsPatch) (TicketSettings, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return TicketSettings{}, err
	}
	var next time.Duration
	if p.AutoCloseAfter != nil {
		d, err := calendar.ParseDuration(strings.TrimSpace(*p.AutoCloseAfter))
		if err != nil || d < MinAutoCloseAfter || d > MaxAutoCloseAfter {
			return TicketSettings{}, apperr.InvalidField("autoclose_after", "ticket_notify.invalid.autoclose_after",
				"min", "1h", "max", "90d")
		}
		next = d
	}
	var out TicketSettings
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.autoCloseAfter(ctx)
		if err != nil {
			return err
		}
		out = formatQuiet(old)
		if p.AutoCloseAfter == nil || next == old {
			return nil
		}
		out = formatQuiet(next)
		if err := s.store.PutNotifySetting(ctx, SettingAutoCloseAfter, out.AutoCloseAfter, clock.Millis(s.now())); err != nil {
			return err
		}
		if s.audit == nil {
			return nil
		}
		return s.audit.Record(ctx, audit.Entry{Action: "ticket.settings.update", TargetType: "setting",
			TargetID: SettingAutoCloseAfter, Detail: map[string]any{"from": formatQuiet(old).AutoCloseAfter, "to": out.AutoCloseAfter}})
	})
	return out, err
}

// notifyRoutes are the request settings routes.
func (s *Service) notifyRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: http.MethodGet, Path: "/api/v1/settings/tickets", Perm: PermManage, Handler: s.apiGetTicketSettings},
		{Method: http.MethodPut, Path: "/api/v1/settings/tickets", Perm: PermManage, Handler: s.apiPutTicketSettings},
	}
}

func (s *Service) apiGetTicketSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.GetTicketSettings(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, st)
}

func (s *Service) apiPutTicketSettings(w http.ResponseWriter, r *http.Request) {
	var p TicketSettingsPatch
	if err := httpx.Decode(r, &p); err != nil {
		httpx.Error(w, r, err)
		return
	}
	st, err := s.UpdateTicketSettings(r.Context(), p)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, st)
}
