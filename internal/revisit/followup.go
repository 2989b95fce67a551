package revisit

// New issues raised in a visit (the seed: an opinion, suggestion or complaint that
// cannot be answered at once gets an appointment time, and a second, third ... visit
// follows). Each issue becomes a follow-up request through the request service, linked
// to the visit by a note on its timeline; when that request is resolved, a next-round
// visit task (round+1, parent_id) is created in the same transaction; from the second
// visit on a phone visit is allowed except for major complaints, visited on site again.
// The issue is answered (answered_at) when the next-round visit is done
// (jianjian you zhuoluo, shishi you huiyin).

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/ticket"
)

const (
	followupActor     = "revisit"
	minNextRoundSpan  = 3 * 24 * time.Hour
	followupTitleRune = 60
)

// registerWork registers the visit work's listeners and jobs; New calls it once.
func (s *Service) registerWork() {
	s.d.Tickets.OnStatus(s.followupResolved)
	if s.d.Jobs != nil {
		s.registerNoticeJobs()
	}
}

// followupTitle is the follow-up request's title: the catalog's prefix and the issue's
// first words.
func (s *Service) followupTitle(text string) string {
	prefix := "revisit"
	if cat, err := i18n.Load(); err == nil {
		prefix = cat.T(i18n.ZhCN, "revisit.work.followup.title", nil)
	}
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) > followupTitleRune {
		text = string([]rune(text)[:followupTitleRune]) + "..."
	}
	return prefix + " " + text
}

// raiseIssues creates the follow-up request of each new issue and its row.
func (s *Service) raiseIssues(ctx context.Context, t *Task, rec *VisitRecord, in []IssueInput, now time.Time) ([]Issue, error) {
	out := make([]Issue, 0, len(in))
	sys := authz.WithActor(ctx, authz.System(followupActor))
	for _, ii := range in {
		typ := ticket.TypeInquiry
		if ii.Type != "" {
			typ = ticket.Type(ii.Type)
		}
		fault := 0
		if typ == ticket.TypeRepair {
			fault = 1
		}
		channel := ticket.ChannelPhone
		if rec.Method == MethodOnsite {
			channel = ticket.ChannelWalkIn
		}
		appt := time.UnixMilli(ii.AppointmentAt.UnixMilli())
		tk, err := s.d.Tickets.CreateTicket(sys, ticket.Input{Type: typ, Channel: channel, Severity: ticket.SeverityGeneral, FaultLevel: fault,
			Title: s.followupTitle(ii.Text), Body: ii.Text, CustomerID: t.CustomerID, DeptID: t.DeptID, TeamID: t.TeamID})
		if err != nil {
			return nil, fmt.Errorf("revisit: follow-up request: %w", err)
		}
		if _, err := s.d.Tickets.AddEvent(sys, tk.ID, ticket.Event{Kind: ticket.EventNote,
			Body: ii.Text, Data: map[string]any{"source": "revisit", "revisit_task_id": t.ID, "revisit_record_id": rec.ID,
				"round": t.Round, "appointment_at": appt.UTC(), "raised_by": rec.AgentID}}); err != nil {
			return nil, err
		}
		is := Issue{RecordID: rec.ID, TaskID: t.ID, Body: ii.Text, TicketID: tk.ID, AppointmentAt: appt, CreatedAt: now}
		if err := s.work().InsertIssue(ctx, &is); err != nil {
			return nil, err
		}
		if err := s.record(ctx, "revisit.issue.raise", "revisit_task", t.ID, map[string]any{"issue_id": is.ID,
			"ticket_id": tk.ID, "number": tk.Number, "appointment_at": appt.UTC()}); err != nil {
			return nil, err
		}
		out = append(out, is)
	}
	return out, nil
}

// followupResolved runs in the transaction of every request status change: a resolved
// follow-up request (or one closed without passing through resolved) gets its
// next-round visit.
func (s *Service) followupResolved(ctx context.Context, tk ticket.Ticket, from, to ticket.Status) error {
	if to != ticket.StatusResolved && !(to == ticket.StatusClosed && from != ticket.StatusResolved) {
		return nil
	}
	issues, err := s.work().OpenIssuesOfTicket(ctx, tk.ID)
	if err != nil || len(issues) == 0 {
		return err
	}
	for _, is := range issues {
		next, err := s.nextRound(ctx, is)
		if err != nil {
			return err
		}
		if err := s.work().SetIssueNext(ctx, is.ID, next); err != nil {
			return err
		}
	}
	return nil
}

// nextRound returns the open next-round task of the issue's task, creating it when
// there is none.
func (s *Service) nextRound(ctx context.Context, is Issue) (int64, error) {
	if id, err := s.work().OpenChildTask(ctx, is.TaskID); err != nil || id != 0 {
		return id, err
	}
	parent, err := s.store.GetTask(ctx, is.TaskID)
	if err != nil {
		return 0, fmt.Errorf("revisit: parent task %d: %w", is.TaskID, err)
	}
	now := s.now()
	span := parent.WindowEnd.Sub(parent.WindowStart)
	if span < minNextRoundSpan {
		span = minNextRoundSpan
	}
	method := MethodPhone
	if parent.Level == LevelMajor {
		method = MethodOnsite
	}
	nt := Task{Rule: parent.Rule, CustomerID: parent.CustomerID, SourceType: SourceTask, SourceID: parent.ID,
		Level: parent.Level, DeptID: parent.DeptID, TeamID: parent.TeamID, AssigneeID: parent.AssigneeID,
		WindowStart: now, WindowEnd: now.Add(span), Method: method, Status: StatusOpen, Round: parent.Round + 1,
		ParentID: parent.ID, Version: 1, CreatedAt: now, UpdatedAt: now}
	at, err := s.NextSlot(ctx, nt.CustomerID, now, nt.WindowEnd, true)
	if err != nil {
		return 0, err
	}
	nt.ScheduledAt = time.UnixMilli(at.UnixMilli())
	if err := s.store.InsertTask(ctx, &nt); err != nil {
		return 0, err
	}
	if err := s.record(ctx, "revisit.task.next_round", "revisit_task", nt.ID, map[string]any{"parent_id": parent.ID,
		"round": nt.Round, "method": nt.Method, "issue_id": is.ID, "ticket_id": is.TicketID,
		"customer_id": nt.CustomerID}); err != nil {
		return 0, err
	}
	return nt.ID, nil
}
