package survey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/mail"
)

// Sending. An invitation is recorded as pending inside the transaction of its event
// with a "survey.send" job due at its send time; the job (and the periodic
// "survey.sweep", which also expires links whose time ran out) makes the link's token,
// sends it by email or SMS (or opens it on the portal) and only then stores the
// token's digest with the state "sent". A send that fails is retried by the job runner
// with a new token; a channel without an address or a provider marks the invitation
// unsendable, with the reason.

// Job kinds.
const (
	JobSend  = "survey.send"
	JobSweep = "survey.sweep"
)

// Reasons an invitation could not be sent (fail_reason).
const (
	failNoEmail     = "no_email"
	failNoMobile    = "no_mobile"
	failNoSMS       = "sms_unavailable"
	failMailOff     = "mail_disabled"
	failBadAddress  = "bad_address"
	failWindow      = "window_passed"
	failNoCustomer  = "customer_missing"
	sweepBatch      = 200
	sweepEveryMins  = 5
	sendMaxAttempts = 8
)

type sendJob struct {
	InviteID int64 `json:"invite_id"`
}

func (s *Service) registerJobs(r *jobs.Runner) {
	r.Register(JobSend, s.runSend)
	r.Register(JobSweep, s.runSweep)
	r.Every(JobSweep, jobs.Every(sweepEveryMins*time.Minute))
}

// schedule adds the send job of a pending invitation in ctx's transaction.
func (s *Service) schedule(ctx context.Context, inv *Invite) error {
	if s.d.Jobs == nil {
		return nil
	}
	_, _, err := s.d.Jobs.Enqueue(ctx, JobSend, sendJob{InviteID: inv.ID}, jobs.RunAt(inv.DueAt),
		jobs.UniqueKey(JobSend+":"+strconv.FormatInt(inv.ID, 10)), jobs.MaxAttempts(sendMaxAttempts))
	return err
}

func (s *Service) runSend(ctx context.Context, j jobs.Job) error {
	var p sendJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	return s.Send(ctx, p.InviteID)
}

func (s *Service) runSweep(ctx context.Context, _ jobs.Job) error {
	n, err := s.SendDue(ctx)
	if n > 0 {
		s.d.Log.Info("survey invitations sent", slog.Int("count", n))
	}
	return err
}

// SendDue sends every pending invitation due now and expires the links whose time ran
// out; it returns how many invitations it handled. The sweep job calls it; tests too.
func (s *Service) SendDue(ctx context.Context) (int, error) {
	ctx = systemCtx(ctx, "job:"+JobSweep)
	now := s.now()
	if _, err := s.store.ExpireInvites(ctx, now); err != nil {
		return 0, err
	}
	ids, err := s.store.DueInvites(ctx, now, sweepBatch)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, id := range ids {
		if err := s.Send(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return len(ids), errors.Join(errs...)
}

// Send sends invitation id if it is pending and due.
func (s *Service) Send(ctx context.Context, id int64) error {
	ctx = systemCtx(ctx, "job:"+JobSend)
	inv, err := s.store.Invite(ctx, id)
	if err != nil {
		if db.IsNoRows(err) {
			return nil
		}
		return err
	}
	now := s.now()
	if inv.Status != StatusPending || inv.DueAt.After(now) {
		return nil
	}
	if !inv.SendBy.IsZero() && now.After(inv.SendBy) {
		return s.finish(ctx, id, StatusExpired, "", failWindow, 0)
	}
	st, err := s.loadSettings(ctx)
	if err != nil {
		return err
	}
	ttl := st.durations().ttl
	if inv.Channel == ChannelPortal {
		return s.finish(ctx, id, StatusSent, "", "", ttl)
	}
	ref, err := s.d.Customers.Ref(ctx, inv.CustomerID)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return s.finish(ctx, id, StatusUnsendable, "", failNoCustomer, 0)
		}
		return err
	}
	raw, hash := newToken()
	cat := s.d.Catalog
	lang := i18n.ZhCN
	name := ref.Name
	if name == "" {
		name = cat.T(lang, "survey.mail.customer", nil)
	}
	args := map[string]any{"name": name, "link": s.link(raw), "days": int(ttl.Hours() / 24)}
	switch inv.Channel {
	case ChannelEmail:
		if ref.Email == "" {
			return s.finish(ctx, id, StatusUnsendable, "", failNoEmail, 0)
		}
		if s.d.Mail == nil {
			return s.finish(ctx, id, StatusUnsendable, "", failMailOff, 0)
		}
		msg := mail.Message{To: []string{ref.Email}, Subject: cat.T(lang, "survey.mail.subject", args),
			Text: cat.T(lang, "survey.mail.body", args), Headers: map[string]string{"X-Kefu-Survey": strconv.FormatInt(id, 10)}}
		if err := s.d.Mail.Send(ctx, msg); err != nil {
			switch {
			case errors.Is(err, mail.ErrDisabled):
				return s.finish(ctx, id, StatusUnsendable, "", failMailOff, 0)
			case errors.Is(err, mail.ErrBadAddress):
				return s.finish(ctx, id, StatusUnsendable, "", failBadAddress, 0)
			}
			return fmt.Errorf("survey: send invitation %d: %w", id, err)
		}
	case ChannelSMS:
		if s.d.SMS == nil {
			return s.finish(ctx, id, StatusUnsendable, "", failNoSMS, 0)
		}
		mobile, err := s.mobileOf(ctx, ref)
		if err != nil {
			return err
		}
		if mobile == "" {
			return s.finish(ctx, id, StatusUnsendable, "", failNoMobile, 0)
		}
		if err := s.d.SMS.Send(ctx, mobile, cat.T(lang, "survey.sms.body", args)); err != nil {
			return fmt.Errorf("survey: send invitation %d by SMS: %w", id, err)
		}
	default: // phone invitations are never pending
		return nil
	}
	return s.finish(ctx, id, StatusSent, hash, "", ttl)
}

// mobileOf reveals the customer's mobile number to the sending job (audited by the
// customer service as customer.reveal).
func (s *Service) mobileOf(ctx context.Context, ref customer.Ref) (string, error) {
	if ref.MaskedMobile == "" {
		return "", nil
	}
	rv, err := s.d.Customers.Reveal(ctx, ref.ID, []string{customer.FieldMobile}, "survey invitation")
	if err != nil {
		return "", err
	}
	return rv.Fields[customer.FieldMobile], nil
}

// finish records the outcome of sending invitation id: its new state, the token digest
// of a sent link (with its expiry after ttl) or the reason it was not sent.
func (s *Service) finish(ctx context.Context, id int64, to Status, hash, reason string, ttl time.Duration) error {
	return s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		inv, err := s.store.LockInvite(ctx, id)
		if err != nil {
			return err
		}
		if inv.Status != StatusPending {
			return nil // handled meanwhile
		}
		now := s.now()
		prev := inv.Version
		inv.Status, inv.FailReason, inv.Version, inv.UpdatedAt = to, reason, inv.Version+1, now
		if to == StatusSent {
			inv.SentAt, inv.TokenHash = now, hash
			inv.ExpiresAt = now.Add(ttl)
		}
		if ok, err := s.store.UpdateInvite(ctx, &inv, prev); err != nil || !ok {
			return err
		}
		return s.record(ctx, "survey.send", "survey", id, map[string]any{"status": to, "channel": inv.Channel,
			"reason": reason})
	})
}
