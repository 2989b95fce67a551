package complaint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Deadlines (issue item 9): every complaint has up to three targets on the business
// calendar — the first answer promised at intake, the investigation and proposal
// (result), and the current stage. A minute's scan, run once across nodes, enqueues one
// check per (complaint, target, warning|escalation, due time); the check records the
// warning before the due time and the escalation once it has passed, each once: the
// stamp is set in the complaint's transaction only while still zero. Both go by level:
// general to the team supervisor, urgent to the department head, major to the director.

// Job kinds of the deadlines.
const (
	JobDeadlineScan  = "complaint.deadline_scan" // every minute, once across nodes
	JobDeadlineCheck = "complaint.deadline"      // one per (complaint, target, kind, due time)
)

// TopicEscalated is published after the commit of an escalation (the live workspace).
const TopicEscalated = "complaint.escalated"

// Deadline targets.
const (
	DeadlineFirstAnswer = "first_answer"
	DeadlineResult      = "result"
	DeadlineStage       = "stage"
)

// deadlineTargets lists every target in the order the scan visits them.
var deadlineTargets = []string{DeadlineFirstAnswer, DeadlineResult, DeadlineStage}

// Deadline check kinds.
const (
	deadlineWarn     = "warn"
	deadlineEscalate = "escalate"
)

// Deadline scan bounds.
const (
	deadlineScanEvery = time.Minute
	// deadlineLookback is how far back the scan looks for unrecorded breaches.
	deadlineLookback  = 30 * 24 * time.Hour
	deadlineScanLimit = 500
)

// deadlineActor is the actor of every deadline record (timeline, audit).
const deadlineActor = "job:" + JobDeadlineCheck

// deadlineCheck is the payload of a JobDeadlineCheck job.
type deadlineCheck struct {
	ComplaintID int64  `json:"complaint_id"`
	Target      string `json:"target"`          // first_answer | result | stage
	Stage       Stage  `json:"stage,omitempty"` // the stage a stage target belongs to
	Kind        string `json:"kind"`            // warn | escalate
	DueAt       int64  `json:"due_at"`          // Unix ms: a moved due time is a new check
	// Level is the level the check was scanned at: a complaint whose level changed may
	// be warned and escalated again at its new level (ChangeLevel resets the stamps).
	Level Level `json:"level,omitempty"`
}

func (c deadlineCheck) key() string {
	return fmt.Sprintf("complaint-deadline:%d:%s:%s:%s:%s:%d", c.ComplaintID, c.Target, c.Stage, c.Level, c.Kind, c.DueAt)
}

// EscalationData is the payload of TopicEscalated.
type EscalationData struct {
	ComplaintID int64    `json:"complaint_id"`
	TicketID    int64    `json:"ticket_id"`
	Number      string   `json:"number"`
	Deadline    string   `json:"deadline"` // first_answer | result | stage
	Stage       Stage    `json:"stage"`
	Level       Level    `json:"level"`
	DueAt       string   `json:"due_at"` // RFC 3339, UTC
	To          []int64  `json:"to"`
	Names       []string `json:"names"`
	DeptID      int64    `json:"dept_id"` // the responsible department (the intake one before it is set)
}

// registerJobs registers the scan (every minute, exactly once per minute across nodes)
// and the per-complaint check.
func (s *Service) registerJobs(r *jobs.Runner) {
	r.Register(JobDeadlineScan, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.ScanDeadlines(ctx)
		return err
	})
	r.Register(JobDeadlineCheck, func(ctx context.Context, j jobs.Job) error {
		var c deadlineCheck
		if err := j.Decode(&c); err != nil {
			return jobs.Permanent(err)
		}
		_, err := s.checkDeadline(ctx, c)
		return err
	})
	r.Every(JobDeadlineScan, jobs.Every(deadlineScanEvery))
}

// ScanDeadlines enqueues a check for every warning and escalation that is due now and
// not yet recorded; it returns how many checks it enqueued (a check already enqueued
// for the same due time is not enqueued again).
func (s *Service) ScanDeadlines(ctx context.Context) (int, error) {
	if s.jobs == nil {
		return 0, errors.New("complaint: deadline scan needs a job runner")
	}
	now := s.now()
	st, err := s.store.loadSettings(ctx)
	if err != nil {
		return 0, err
	}
	warnBefore := st.warnBefore()
	var checks []deadlineCheck
	for _, target := range deadlineTargets {
		due, err := s.store.deadlineCandidates(ctx, target, false, now.Add(-deadlineLookback), now, deadlineScanLimit)
		if err != nil {
			return 0, fmt.Errorf("complaint: deadline scan: %w", err)
		}
		for _, c := range due {
			checks = append(checks, newDeadlineCheck(c, target, deadlineEscalate))
		}
		if warnBefore <= 0 {
			continue
		}
		soon, err := s.store.deadlineCandidates(ctx, target, true, now, now.Add(warnBefore), deadlineScanLimit)
		if err != nil {
			return 0, fmt.Errorf("complaint: deadline scan: %w", err)
		}
		for _, c := range soon {
			checks = append(checks, newDeadlineCheck(c, target, deadlineWarn))
		}
	}
	if len(checks) == 0 {
		return 0, nil
	}
	n := 0
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		n = 0
		for _, c := range checks {
			_, created, err := s.jobs.Enqueue(ctx, JobDeadlineCheck, c, jobs.UniqueKey(c.key()))
			if err != nil {
				return err
			}
			if created {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("complaint: deadline scan: %w", err)
	}
	return n, nil
}

func newDeadlineCheck(c deadlineCandidate, target, kind string) deadlineCheck {
	chk := deadlineCheck{ComplaintID: c.ID, Target: target, Kind: kind, DueAt: c.DueAt.UnixMilli(), Level: c.Level}
	if target == DeadlineStage {
		chk.Stage = c.Stage
	}
	return chk
}

// errDeadlineNothing aborts a check's transaction when there is nothing to record.
var errDeadlineNothing = errors.New("complaint: deadline: nothing to record")

// checkDeadline records a due warning or escalation of one complaint target and reports
// whether it recorded anything. The stamp is set only while still zero, in the
// complaint's transaction with the row locked: two runners checking the same target
// record it once, and a check whose target was met, moved or closed meanwhile records
// nothing.
func (s *Service) checkDeadline(ctx context.Context, chk deadlineCheck) (bool, error) {
	if _, ok := deadlineTargetColumns[chk.Target]; !ok || chk.Kind != deadlineWarn && chk.Kind != deadlineEscalate {
		return false, jobs.Permanent(fmt.Errorf("complaint: bad deadline check %+v", chk))
	}
	ctx = authz.WithActor(ctx, authz.System(deadlineActor))
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.store.Lock(ctx, chk.ComplaintID)
		if db.IsNoRows(err) {
			return errDeadlineNothing // the complaint is gone
		}
		if err != nil {
			return fmt.Errorf("complaint: load: %w", err)
		}
		return s.recordDeadline(ctx, &c, chk)
	})
	switch {
	case errors.Is(err, errDeadlineNothing):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("complaint: deadline check %s: %w", chk.key(), err)
	}
	return true, nil
}

// deadlineState is one target of a loaded complaint.
type deadlineState struct {
	due, done, warned, escalated time.Time
	cols                         deadlineColumns
}

func (c *Complaint) deadline(target string) deadlineState {
	st := deadlineState{cols: deadlineTargetColumns[target]}
	switch target {
	case DeadlineFirstAnswer:
		st.due, st.done, st.warned, st.escalated = c.FirstDueAt, c.FirstDoneAt, c.FirstWarnedAt, c.FirstEscalatedAt
	case DeadlineResult:
		st.due, st.done, st.warned, st.escalated = c.ResultDueAt, c.ResultDoneAt, c.ResultWarnedAt, c.ResultEscalatedAt
	case DeadlineStage:
		st.due, st.warned, st.escalated = c.StageDueAt, c.StageWarnedAt, c.StageEscalatedAt
	}
	return st
}

// recordDeadline runs inside the complaint's transaction: it decides from the fresh row
// whether the check still applies, sets the stamp and records the warning or the
// escalation (the request's timeline, the audit log, the event after commit).
func (s *Service) recordDeadline(ctx context.Context, c *Complaint, chk deadlineCheck) error {
	now := s.now()
	if c.Stage == StageClosed || c.Stage == StageRejected || c.MasterID != 0 {
		return errDeadlineNothing
	}
	if chk.Target == DeadlineStage && c.Stage != chk.Stage {
		return errDeadlineNothing // the stage moved on: its target was met
	}
	d := c.deadline(chk.Target)
	if d.due.IsZero() || !d.done.IsZero() || d.due.UnixMilli() != chk.DueAt {
		return errDeadlineNothing // met, or the due time moved (a new check follows)
	}
	column, kind, action := d.cols.escalated, "escalation", "complaint.escalate"
	if chk.Kind == deadlineWarn {
		st, err := s.store.loadSettings(ctx)
		if err != nil {
			return err
		}
		wb := st.warnBefore()
		if wb <= 0 || !d.warned.IsZero() || now.Before(d.due.Add(-wb)) || !now.Before(d.due) {
			return errDeadlineNothing
		}
		column, kind, action = d.cols.warned, "warning", "complaint.deadline.warning"
	} else if !d.escalated.IsZero() || now.Before(d.due) {
		return errDeadlineNothing
	}
	ok, err := s.store.Stamp(ctx, c.ID, column, now)
	if err != nil {
		return err
	}
	if !ok {
		return errDeadlineNothing // another runner recorded it
	}
	ids, names, err := s.escalationTargets(ctx, c)
	if err != nil {
		return err
	}
	dueAt := d.due.UTC().Format(time.RFC3339)
	data := map[string]any{"deadline": chk.Target, "kind": kind, "level": c.Level, "to": ids, "names": names,
		"due_at": dueAt}
	if chk.Target == DeadlineStage {
		data["stage"] = c.Stage
	}
	if _, err := s.tickets.AddEvent(ctx, c.TicketID, ticket.Event{Kind: ticket.EventComplaint, Data: data}); err != nil {
		return err
	}
	audited := map[string]any{"number": c.Number}
	for k, v := range data {
		audited[k] = v
	}
	if err := s.record(ctx, action, c.ID, audited); err != nil {
		return err
	}
	if chk.Kind == deadlineEscalate {
		s.publishEscalation(ctx, c, chk.Target, dueAt, ids, names, now)
	}
	return nil
}

// publishEscalation sends TopicEscalated after commit, scoped to the responsible side
// (the intake department and team before one is set).
func (s *Service) publishEscalation(ctx context.Context, c *Complaint, target, dueAt string, ids []int64, names []string, now time.Time) {
	if s.events == nil {
		return
	}
	dept, team := c.RespDeptID, c.RespTeamID
	if dept == 0 {
		dept, team = c.DeptID, c.TeamID
	}
	b, err := json.Marshal(EscalationData{ComplaintID: c.ID, TicketID: c.TicketID, Number: c.Number, Deadline: target,
		Stage: c.Stage, Level: c.Level, DueAt: dueAt, To: ids, Names: names, DeptID: dept})
	if err != nil {
		s.log.Warn("complaint: escalation event data", slog.String("err", err.Error()))
		return
	}
	s.events.Publish(ctx, events.Event{Topic: TopicEscalated, ID: c.ID, At: now, Data: b,
		Scope: events.Scope{DeptID: dept, TeamID: team, OwnerID: c.RespStaffID}})
}

// escalationTargets are the people a complaint's warnings and escalations go to, by
// level: general -> the supervisors of its team (the responsible team, or the intake
// team before a responsible department is set), else of its department; urgent -> the
// department head (the department's supervisors outside any team, else all of them);
// major -> the directors, else the department head.
func (s *Service) escalationTargets(ctx context.Context, c *Complaint) ([]int64, []string, error) {
	dept, team := c.RespDeptID, c.RespTeamID
	if dept == 0 {
		dept, team = c.DeptID, c.TeamID
	}
	var list []org.Staff
	var err error
	if c.Level == LevelMajor {
		if list, err = s.escalationStaff(ctx, org.StaffFilter{Role: "director"}); err != nil || len(list) > 0 {
			return escalationRefs(list, err)
		}
	}
	if c.Level == LevelGeneral && team != 0 {
		if list, err = s.escalationStaff(ctx, org.StaffFilter{TeamID: team, Role: "supervisor"}); err != nil || len(list) > 0 {
			return escalationRefs(list, err)
		}
	}
	if dept == 0 {
		return escalationRefs(nil, nil)
	}
	if list, err = s.escalationStaff(ctx, org.StaffFilter{DeptID: dept, Role: "supervisor"}); err != nil {
		return nil, nil, err
	}
	if c.Level != LevelGeneral { // the department head: a supervisor outside the teams, when there is one
		var heads []org.Staff
		for _, st := range list {
			if st.TeamID == 0 {
				heads = append(heads, st)
			}
		}
		if len(heads) > 0 {
			list = heads
		}
	}
	return escalationRefs(list, nil)
}

func escalationRefs(list []org.Staff, err error) ([]int64, []string, error) {
	if err != nil {
		return nil, nil, err
	}
	ids, names := make([]int64, 0, len(list)), make([]string, 0, len(list))
	for _, st := range list {
		name := st.DisplayName
		if name == "" {
			name = st.Username
		}
		ids, names = append(ids, st.ID), append(names, name)
	}
	return ids, names, nil
}

// escalationStaff lists the active staff matching f (as the system; at most 1,000).
func (s *Service) escalationStaff(ctx context.Context, f org.StaffFilter) ([]org.Staff, error) {
	if s.staff == nil {
		return nil, nil
	}
	sys := authz.WithActor(ctx, authz.System(deadlineActor))
	f.Status, f.Limit = org.StatusActive, 100
	var out []org.Staff
	for {
		page, err := s.staff.ListStaff(sys, f)
		if err != nil {
			return nil, fmt.Errorf("complaint: escalation staff: %w", err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" || len(out) >= 1000 {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}
