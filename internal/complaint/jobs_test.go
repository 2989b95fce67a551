package complaint_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
)

// TestDeadlineEscalationByLevel walks a fake clock through the first answer promised to
// a complaint of each level: nothing before the warning window, a warning inside it, the
// escalation once it has passed, each once however often the scan and the checks run,
// to the people of the level (general: the team supervisor; urgent: the department head;
// major: the director), with its audit entry and, for the escalation, one
// complaint.escalated event after commit.
func TestDeadlineEscalationByLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		level complaint.Level
		to    func(e *dlEnv) int64
	}{
		{complaint.LevelGeneral, func(e *dlEnv) int64 { return e.teamSup.ID }},
		{complaint.LevelUrgent, func(e *dlEnv) int64 { return e.head.ID }},
		{complaint.LevelMajor, func(e *dlEnv) int64 { return e.dir.ID }},
	} {
		t.Run(string(tc.level), func(t *testing.T) {
			t.Parallel()
			e := newDLEnv(t, "2026-11-16 07:00", "dl"+string(tc.level)) // a Monday
			sub := e.s.App.Events.Subscribe(complaint.TopicEscalated)
			defer sub.Close()
			c := e.create(t, tc.level)
			due := c.FirstDueAt
			want := tc.to(e)

			e.at(t, due.Add(-2*time.Hour-time.Minute))
			e.want(t, c, complaint.DeadlineFirstAnswer, 0, 0)

			e.at(t, due.Add(-time.Hour))
			e.want(t, c, complaint.DeadlineFirstAnswer, 1, 0)

			e.at(t, due.Add(time.Minute))
			e.at(t, due.Add(2*time.Minute))
			e.want(t, c, complaint.DeadlineFirstAnswer, 1, 1)
			for _, r := range e.records(t, c) {
				if r.Deadline != complaint.DeadlineFirstAnswer {
					continue
				}
				if !dlSameIDs(r.To, want) || r.Level != string(tc.level) || len(r.Names) != 1 {
					t.Errorf("%s to %v %v at level %s, want [%d] at %s", r.Kind, r.To, r.Names, r.Level, want, tc.level)
				}
				if r.DueAt != due.UTC().Format(time.RFC3339) {
					t.Errorf("%s due_at %s, want %s", r.Kind, r.DueAt, due.UTC().Format(time.RFC3339))
				}
			}
			got := e.get(t, c.ID)
			if got.FirstWarnedAt.IsZero() || got.FirstEscalatedAt.IsZero() || got.FirstEscalatedAt.Before(due) {
				t.Errorf("stamps: warned %v, escalated %v (due %v)", got.FirstWarnedAt, got.FirstEscalatedAt, due)
			}
			// Every record is audited once, and every escalation published once.
			if a, n := e.audits(t, "complaint.deadline.warning", c.ID), e.count(t, c, "", "warning"); a != n {
				t.Errorf("%d warning audit entries for %d warnings", a, n)
			}
			if a, n := e.audits(t, "complaint.escalate", c.ID), e.count(t, c, "", "escalation"); a != n {
				t.Errorf("%d escalation audit entries for %d escalations", a, n)
			}
			published := 0
			for more := true; more; {
				select {
				case ev := <-sub.C:
					var d complaint.EscalationData
					if err := json.Unmarshal(ev.Data, &d); err != nil {
						t.Fatal(err)
					}
					if ev.ID == c.ID && d.Deadline == complaint.DeadlineFirstAnswer {
						published++
						if !dlSameIDs(d.To, want) || d.Level != tc.level || ev.Scope.DeptID != e.dept.ID || ev.Scope.CustomerID != 0 {
							t.Errorf("event %+v scope %+v", d, ev.Scope)
						}
					}
				default:
					more = false
				}
			}
			if published != 1 {
				t.Errorf("%d complaint.escalated events for the first answer, want 1", published)
			}
		})
	}
}

// TestDeadlineWarnNotWhenMet: a target met, or a complaint found not valid, never warns
// nor escalates; a target met after its warning is not escalated.
func TestDeadlineWarnNotWhenMet(t *testing.T) {
	t.Parallel()
	e := newDLEnv(t, "2026-11-16 10:00", "dlmet") // Monday; general: first answer due Tuesday 10:00
	answered := e.create(t, complaint.LevelGeneral)
	late := e.create(t, complaint.LevelGeneral)
	rejected := e.create(t, complaint.LevelGeneral)
	investigate := complaint.MoveInput{Stage: complaint.StageInvestigating, RespDeptID: e.dept.ID, RespTeamID: e.team.ID,
		Reply: "我们已安排调查。"}

	e.s.Clock.Set(dlAt(t, "2026-11-16 11:00"))
	e.move(t, answered.ID, complaint.MoveInput{Stage: complaint.StageAssessing})
	e.move(t, answered.ID, investigate)
	e.move(t, rejected.ID, complaint.MoveInput{Stage: complaint.StageAssessing})
	e.move(t, rejected.ID, complaint.MoveInput{Stage: complaint.StageRejected, Reason: "不属于投诉范围",
		Reply: "经核实，该问题不属于投诉范围。"})
	if got := e.get(t, answered.ID); got.FirstDoneAt.IsZero() {
		t.Fatal("first answer not met by the investigation")
	}

	e.at(t, dlAt(t, "2026-11-17 09:00")) // inside the first answer's warning window
	e.want(t, late, complaint.DeadlineFirstAnswer, 1, 0)
	e.move(t, late.ID, complaint.MoveInput{Stage: complaint.StageAssessing})
	e.move(t, late.ID, investigate)

	for _, at := range []string{"2026-11-17 10:01", "2026-11-18 11:00", "2026-11-20 12:00"} {
		e.at(t, dlAt(t, at))
	}
	e.want(t, answered, complaint.DeadlineFirstAnswer, 0, 0)
	e.want(t, late, complaint.DeadlineFirstAnswer, 1, 0)
	if n := e.count(t, rejected, "", ""); n != 0 {
		t.Errorf("a rejected complaint has %d deadline records: %+v", n, e.records(t, rejected))
	}
	// The open ones still run their other clocks: the result (48 h) has passed.
	e.want(t, answered, complaint.DeadlineResult, 0, 1)
}

// TestDeadlineStageEscalatesPerStage: the current stage's target escalates once; the
// next stage has a target of its own, which may escalate once again.
func TestDeadlineStageEscalatesPerStage(t *testing.T) {
	t.Parallel()
	e := newDLEnv(t, "2026-11-16 10:00", "dlstage") // Monday; received: 4 business hours -> 14:00
	c := e.create(t, complaint.LevelGeneral)
	if want := dlAt(t, "2026-11-16 14:00"); !c.StageDueAt.Equal(want) {
		t.Fatalf("received due %v, want %v", c.StageDueAt.In(dlZone), want)
	}
	e.at(t, dlAt(t, "2026-11-16 12:30"))
	e.at(t, dlAt(t, "2026-11-16 14:01"))
	e.want(t, c, complaint.DeadlineStage, 1, 1)

	e.s.Clock.Set(dlAt(t, "2026-11-16 14:30"))
	moved := e.move(t, c.ID, complaint.MoveInput{Stage: complaint.StageAssessing})
	if want := dlAt(t, "2026-11-17 13:30"); !moved.StageDueAt.Equal(want) { // 8 business hours
		t.Fatalf("assessing due %v, want %v", moved.StageDueAt.In(dlZone), want)
	}
	e.at(t, dlAt(t, "2026-11-16 15:00"))
	e.want(t, c, complaint.DeadlineStage, 1, 1)
	e.at(t, dlAt(t, "2026-11-17 12:00"))
	e.at(t, dlAt(t, "2026-11-17 13:31"))
	e.at(t, dlAt(t, "2026-11-17 16:00"))
	e.want(t, c, complaint.DeadlineStage, 2, 2)
	var stages []string
	for _, r := range e.records(t, c) {
		if r.Deadline == complaint.DeadlineStage && r.Kind == "escalation" {
			stages = append(stages, r.Stage)
			if !dlSameIDs(r.To, e.teamSup.ID) {
				t.Errorf("stage escalation to %v, want the team supervisor %d", r.To, e.teamSup.ID)
			}
		}
	}
	if len(stages) != 2 || stages[0] != string(complaint.StageReceived) || stages[1] != string(complaint.StageAssessing) {
		t.Errorf("stage escalations %v, want received then assessing", stages)
	}
	// The request's timeline tells who was warned and escalated to.
	e.s.Staff(t, "dlstage_admin", "admin", "dlstage")
	b := e.s.Browser(t, "dlstage_admin", apptest.Password)
	b.Lang = "en"
	page := b.Do(t, "GET", fmt.Sprintf("/tickets/%d", c.TicketID), nil)
	for _, want := range []string{"Current stage overdue: escalated to " + e.teamSup.DisplayName,
		"Current stage due soon: reminded " + e.teamSup.DisplayName} {
		if page.Status != 200 || !strings.Contains(string(page.Body), want) {
			t.Errorf("request page (%d) lacks %q", page.Status, want)
		}
	}
}

// TestDeadlineEscalatesAgainAtNewLevel: a complaint raised to major after its stage was
// escalated at general is escalated again, once, to the director.
func TestDeadlineEscalatesAgainAtNewLevel(t *testing.T) {
	t.Parallel()
	e := newDLEnv(t, "2026-11-16 10:00", "dllevel") // Monday; received due 14:00
	c := e.create(t, complaint.LevelGeneral)
	e.at(t, dlAt(t, "2026-11-16 14:01"))
	e.want(t, c, complaint.DeadlineStage, 0, 1)
	e.s.Clock.Set(dlAt(t, "2026-11-16 14:10"))
	if _, err := e.svc.ChangeLevel(apptest.SystemCtx(), c.ID, complaint.LevelInput{Level: complaint.LevelMajor,
		Reason: "媒体已关注"}); err != nil {
		t.Fatal(err)
	}
	e.at(t, dlAt(t, "2026-11-16 14:11"))
	e.at(t, dlAt(t, "2026-11-16 15:00"))
	e.want(t, c, complaint.DeadlineStage, 0, 2)
	e.want(t, c, complaint.DeadlineFirstAnswer, 0, 1) // major: 2 business hours from intake, long past
	var to [][]int64
	for _, r := range e.records(t, c) {
		if r.Kind == "escalation" {
			to = append(to, r.To)
		}
	}
	if len(to) != 3 || !dlSameIDs(to[0], e.teamSup.ID) || !dlSameIDs(to[1], e.dir.ID) || !dlSameIDs(to[2], e.dir.ID) {
		t.Errorf("escalated to %v, want the team supervisor, then the director twice", to)
	}
}

// TestDeadlineBusinessHoursWeekend: targets in business hours are counted on the
// calendar (Monday to Friday 09:00-18:00): a complaint received on Friday at 16:00 is
// due on Monday, warned on Monday morning and escalated after the due time, never over
// the weekend; calendar targets run through it.
func TestDeadlineBusinessHoursWeekend(t *testing.T) {
	t.Parallel()
	e := newDLEnv(t, "2026-11-20 16:00", "dlweek") // a Friday
	for _, tc := range []struct {
		level               complaint.Level
		first, result, stge string
	}{
		{complaint.LevelGeneral, "2026-11-21 16:00", "2026-11-22 16:00", "2026-11-23 11:00"}, // 24 h, 48 h calendar
		{complaint.LevelUrgent, "2026-11-23 11:00", "2026-11-22 16:00", "2026-11-23 11:00"},  // 4 business hours
		{complaint.LevelMajor, "2026-11-20 18:00", "2026-11-22 16:00", "2026-11-23 11:00"},   // 2 business hours: still Friday
	} {
		c := e.create(t, tc.level)
		for _, d := range []struct {
			name      string
			got, want time.Time
		}{{"first answer", c.FirstDueAt, dlAt(t, tc.first)}, {"result", c.ResultDueAt, dlAt(t, tc.result)},
			{"stage", c.StageDueAt, dlAt(t, tc.stge)}} {
			if !d.got.Equal(d.want) {
				t.Errorf("%s: %s due %v, want %v", tc.level, d.name, d.got.In(dlZone), d.want)
			}
		}
	}
	urgent := e.create(t, complaint.LevelUrgent)
	e.at(t, dlAt(t, "2026-11-21 12:00")) // Saturday
	e.at(t, dlAt(t, "2026-11-22 15:00")) // Sunday: the result's warning
	e.at(t, dlAt(t, "2026-11-22 23:00")) // Sunday night
	e.want(t, urgent, complaint.DeadlineFirstAnswer, 0, 0)
	e.want(t, urgent, complaint.DeadlineResult, 1, 1) // 48 h of calendar time
	e.at(t, dlAt(t, "2026-11-23 09:30"))
	e.want(t, urgent, complaint.DeadlineFirstAnswer, 1, 0)
	e.at(t, dlAt(t, "2026-11-23 11:01"))
	e.want(t, urgent, complaint.DeadlineFirstAnswer, 1, 1)
	e.want(t, urgent, complaint.DeadlineStage, 1, 1)
}

// TestDeadlineEscalationOnceTwoRunners: two nodes (two services on two runners over one
// database) scan at the same time, and every check is queued twice (a job run again
// after a lost lease); both runners work concurrently, and each target of each
// complaint is still escalated exactly once.
func TestDeadlineEscalationOnceTwoRunners(t *testing.T) {
	t.Parallel()
	e := newDLEnv(t, "2026-11-16 10:00", "dltwo")
	r2, svc2 := dlService(t, e.s, "deadlines-b")
	levels := []complaint.Level{complaint.LevelGeneral, complaint.LevelUrgent, complaint.LevelMajor}
	var cs []complaint.Complaint
	for i := range 9 {
		cs = append(cs, e.create(t, levels[i%3]))
	}
	e.s.Clock.Set(dlAt(t, "2026-11-18 12:00")) // every first answer, result and received stage has passed
	ctx := context.Background()
	for _, c := range cs {
		for _, r := range []struct {
			target string
			due    time.Time
		}{{complaint.DeadlineFirstAnswer, c.FirstDueAt}, {complaint.DeadlineResult, c.ResultDueAt}} {
			payload := map[string]any{"complaint_id": c.ID, "target": r.target, "kind": "escalate", "due_at": r.due.UnixMilli()}
			if _, _, err := e.runner.Enqueue(ctx, complaint.JobDeadlineCheck, payload); err != nil {
				t.Fatal(err)
			}
			if _, _, err := r2.Enqueue(ctx, complaint.JobDeadlineCheck, payload); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range 2 {
		var wg sync.WaitGroup
		for _, n := range []struct {
			svc interface {
				ScanDeadlines(context.Context) (int, error)
			}
			run interface {
				RunDue(context.Context) (int, error)
			}
		}{{e.svc, e.runner}, {svc2, r2}, {e.svc, r2}, {svc2, e.runner}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := n.svc.ScanDeadlines(ctx); err != nil {
					t.Error(err)
				}
				if _, err := n.run.RunDue(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	for _, c := range cs {
		for _, target := range []string{complaint.DeadlineFirstAnswer, complaint.DeadlineResult, complaint.DeadlineStage} {
			if n := e.count(t, c, target, "escalation"); n != 1 {
				t.Errorf("complaint %d (%s): %d %s escalations, want 1", c.ID, c.Level, n, target)
			}
		}
		if a := e.audits(t, "complaint.escalate", c.ID); a != 3 {
			t.Errorf("complaint %d: %d escalation audit entries, want 3", c.ID, a)
		}
	}
	var bad int
	if err := e.s.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE kind IN (?, ?) AND status <> ?`,
		complaint.JobDeadlineCheck, complaint.JobDeadlineScan, "done").Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d deadline jobs not done", bad)
	}
	// The duplicated checks did run (and recorded nothing more).
	var ran int
	if err := e.s.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = ? AND status = ?`,
		complaint.JobDeadlineCheck, "done").Scan(&ran); err != nil {
		t.Fatal(err)
	}
	if want := len(cs) * 2 * 2; ran < want {
		t.Errorf("%d deadline checks ran, want at least the %d queued twice", ran, want)
	}
}
