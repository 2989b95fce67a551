package revisit

// Results to the staff concerned (the seed: huifang zhuanyuan ... yu dangri jishi jiang
// xinxi fankui gei xiangguan yewu renyuan; a dissatisfied result or important information
// goes also to their superior and to the general manager). There is no staff inbox in
// the product yet, so each notice is a row of revisit_notices written in the record's
// transaction (the in-app list and the record of what was sent), a "revisit.notice"
// event after commit (the live workspace of the recipient), and, when mail is
// configured and the recipient has an address, an email sent by the "revisit.notice"
// job, stamped mailed_at.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/mail"
)

// Notice job and topic.
const (
	JobNotice      = "revisit.notice"
	TopicNotice    = "revisit.notice"
	noticeActor    = "revisit.notice"
	dissatisfiedAt = 2 // satisfaction at or below this goes up the line
)

// concernedStaff is the staff member whose work the task's visit is about: the request's
// agent, the complaint's responsible person (else its request's agent), what a
// trigger's actor (the salesperson of a field visit) or agent from the engine's inbox
// otherwise, the parent's for a next-round visit.
func (s *Service) concernedStaff(ctx context.Context, t *Task) (int64, error) {
	for depth := 0; depth < 10; depth++ {
		switch t.SourceType {
		case SourceTicket:
			tk, err := s.d.Tickets.Load(ctx, t.SourceID)
			if err != nil {
				return 0, nil
			}
			return tk.AssigneeID, nil
		case SourceComplaint:
			if s.d.Complaints == nil {
				return 0, nil
			}
			c, err := s.d.Complaints.Store().Get(ctx, t.SourceID)
			if err != nil {
				return 0, nil
			}
			if c.RespStaffID != 0 {
				return c.RespStaffID, nil
			}
			if tk, err := s.d.Tickets.Load(ctx, c.TicketID); err == nil {
				return tk.AssigneeID, nil
			}
			return 0, nil
		case SourceTask:
			p, err := s.store.GetTask(ctx, t.SourceID)
			if err != nil {
				return 0, nil
			}
			t = &p
			continue
		}
		return s.work().SourceActor(ctx, t.SourceType, t.SourceID)
	}
	return 0, nil
}

// staffList lists active staff matching f as the system (at most 200).
func (s *Service) staffList(ctx context.Context, f org.StaffFilter) ([]org.Staff, error) {
	if s.d.Staff == nil {
		return nil, nil
	}
	sys := authz.WithActor(ctx, authz.System(noticeActor))
	f.Status, f.Limit = org.StatusActive, 200
	page, err := s.d.Staff.ListStaff(sys, f)
	if err != nil {
		return nil, fmt.Errorf("revisit: staff: %w", err)
	}
	return page.Items, nil
}

// superiors are the department head of staff member id (a supervisor of their
// department outside the teams first; of deptID when id is unknown).
func (s *Service) superiors(ctx context.Context, id, deptID int64) ([]int64, error) {
	if s.d.Staff == nil {
		return nil, nil
	}
	if id != 0 {
		st, err := s.d.Staff.GetStaff(authz.WithActor(ctx, authz.System(noticeActor)), id)
		if err == nil && st.DeptID != 0 {
			deptID = st.DeptID
		}
	}
	if deptID == 0 {
		return nil, nil
	}
	list, err := s.staffList(ctx, org.StaffFilter{DeptID: deptID, Role: "supervisor"})
	if err != nil {
		return nil, err
	}
	var heads, all []int64
	for _, st := range list {
		if st.ID == id {
			continue
		}
		all = append(all, st.ID)
		if st.TeamID == 0 {
			heads = append(heads, st.ID)
		}
	}
	if len(heads) > 0 {
		return heads, nil
	}
	return all, nil
}

// directors are the active staff with the director role.
func (s *Service) directors(ctx context.Context) ([]int64, error) {
	list, err := s.staffList(ctx, org.StaffFilter{Role: "director"})
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(list))
	for _, st := range list {
		out = append(out, st.ID)
	}
	return out, nil
}

// notifyResult writes the notices of a record: the result to the staff concerned (the
// assignee when nobody else is), and a dissatisfied or important one also to their
// superior and the directors. It returns what to do after commit.
func (s *Service) notifyResult(ctx context.Context, t *Task, rec *VisitRecord, now time.Time) ([]func(), error) {
	concerned, err := s.concernedStaff(ctx, t)
	if err != nil {
		return nil, err
	}
	type target struct {
		id     int64
		reason string
	}
	var targets []target
	if concerned != 0 {
		targets = append(targets, target{concerned, NoticeResult})
	}
	if t.AssigneeID != 0 && t.AssigneeID != concerned {
		targets = append(targets, target{t.AssigneeID, NoticeResult})
	}
	up := ""
	switch {
	case rec.Reached && rec.Satisfaction > 0 && rec.Satisfaction <= dissatisfiedAt:
		up = NoticeDissatisfied
	case rec.Important:
		up = NoticeImportant
	}
	if up != "" {
		heads, err := s.superiors(ctx, concerned, t.DeptID)
		if err != nil {
			return nil, err
		}
		dirs, err := s.directors(ctx)
		if err != nil {
			return nil, err
		}
		for _, id := range append(heads, dirs...) {
			targets = append(targets, target{id, up})
		}
	}
	seen := map[int64]bool{rec.AgentID: true} // nobody is told about their own record
	var after []func()
	for _, tg := range targets {
		if tg.id == 0 || seen[tg.id] {
			continue
		}
		seen[tg.id] = true
		fn, err := s.addNotice(ctx, t, rec.ID, tg.id, tg.reason, now)
		if err != nil {
			return nil, err
		}
		after = append(after, fn)
	}
	return after, nil
}

// noticeEvent is the data of a revisit.notice event.
type noticeEvent struct {
	NoticeID int64  `json:"notice_id"`
	TaskID   int64  `json:"task_id"`
	RecordID int64  `json:"record_id"`
	StaffID  int64  `json:"staff_id"`
	Reason   string `json:"reason"`
}

// addNotice writes one notice and enqueues its mail; the returned func publishes the
// event (call after commit).
func (s *Service) addNotice(ctx context.Context, t *Task, recordID, staffID int64, reason string, now time.Time) (func(), error) {
	n := Notice{TaskID: t.ID, RecordID: recordID, StaffID: staffID, Reason: reason, Channel: "inapp", CreatedAt: now}
	if err := s.work().InsertNotice(ctx, &n); err != nil {
		return nil, err
	}
	if s.d.Jobs != nil && s.mailEnabled(ctx) {
		if _, _, err := s.d.Jobs.Enqueue(ctx, JobNotice, noticeJob{NoticeID: n.ID},
			jobs.UniqueKey(fmt.Sprintf("%s:%d", JobNotice, n.ID)), jobs.MaxAttempts(5)); err != nil {
			return nil, err
		}
	}
	if err := s.record(ctx, "revisit.notice", "revisit_task", t.ID, map[string]any{"notice_id": n.ID,
		"record_id": recordID, "staff_id": staffID, "reason": reason}); err != nil {
		return nil, err
	}
	return func() {
		if s.d.Events == nil {
			return
		}
		b, err := json.Marshal(noticeEvent{NoticeID: n.ID, TaskID: t.ID, RecordID: recordID, StaffID: staffID, Reason: reason})
		if err != nil {
			return
		}
		s.d.Events.Publish(ctx, events.Event{Topic: TopicNotice, ID: t.ID, At: now, Data: b,
			Scope: events.Scope{OwnerID: staffID}})
	}, nil
}

// mailEnabled reports whether the mail service would deliver (a sender that cannot tell
// counts as enabled).
func (s *Service) mailEnabled(ctx context.Context) bool {
	if s.d.Mail == nil {
		return false
	}
	if e, ok := s.d.Mail.(interface{ Enabled(context.Context) bool }); ok {
		return e.Enabled(ctx)
	}
	return true
}

type noticeJob struct {
	NoticeID int64 `json:"notice_id"`
}

// registerNoticeJobs registers the mail job of notices.
func (s *Service) registerNoticeJobs() {
	s.d.Jobs.Register(JobNotice, s.runNotice)
}

// runNotice mails one notice to its recipient (once: mailed_at is stamped).
func (s *Service) runNotice(ctx context.Context, j jobs.Job) error {
	var p noticeJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	if s.d.Mail == nil || s.d.Staff == nil {
		return nil
	}
	n, err := s.work().Notice(ctx, p.NoticeID)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !n.MailedAt.IsZero() {
		return nil
	}
	sys := authz.WithActor(ctx, authz.System(noticeActor))
	st, err := s.d.Staff.GetStaff(sys, n.StaffID)
	if err != nil || strings.TrimSpace(st.Email) == "" {
		return nil
	}
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	lang := st.Locale
	if lang == "" {
		lang = i18n.ZhCN
	}
	args := map[string]any{"task": n.TaskID, "record": n.RecordID}
	msg := mail.Message{To: []string{strings.TrimSpace(st.Email)},
		Subject: cat.T(lang, "revisit.work.notice.subject."+n.Reason, args),
		Text:    cat.T(lang, "revisit.work.notice.text", args),
		Headers: map[string]string{"X-Kefu-Revisit": fmt.Sprint(n.TaskID)}}
	if err := s.d.Mail.Send(ctx, msg); err != nil {
		if errors.Is(err, mail.ErrDisabled) || errors.Is(err, mail.ErrBadAddress) {
			s.d.Log.Info("revisit: notice not mailed", slog.Int64("notice_id", n.ID), slog.String("err", err.Error()))
			return nil
		}
		return fmt.Errorf("revisit: mail notice: %w", err)
	}
	return s.d.DB.WithTx(sys, func(ctx context.Context) error {
		ok, err := s.work().MarkNoticeMailed(ctx, n.ID, s.now())
		if err != nil || !ok {
			return err
		}
		return s.record(ctx, "revisit.notice.mailed", "revisit_task", n.TaskID, map[string]any{"notice_id": n.ID,
			"staff_id": n.StaffID})
	})
}
