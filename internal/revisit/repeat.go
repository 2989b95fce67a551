package revisit

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
)

// Repeating rules. A task made by a rule whose Repeat.Kind is set starts a series
// (rule, customer, source). The periodic job revisit.repeat continues every live
// series: when its latest task is finished (done, unreached or expired) and the next
// occurrence is due, it makes the next task, built like the engine's (assignee policy,
// method, schedule outside the quiet hours), with source_type "task", source_id and
// parent_id the previous task and plan_key "series|<first task id>|<n>" (n = 1 for the
// first repeat), so a rerun makes nothing new. Next occurrences, from the previous
// task's window start:
//   - days: + Repeat.Days days (at least 1); weekly: + 7 days;
//   - half_month: + 15 days (a fixed cadence from the series' own start, not the 1st
//     and 16th: a deal closed on the 15th is visited again on the 30th, not the 16th);
//   - holidays: the working days before the next public holiday of the default
//     business calendar (the rule's window length in working days, as holiday plans).
// An occurrence whose window has already ended (the job was down) is skipped, not
// made. A series stops when Count repeats exist, when the next occurrence starts after
// Until, or when a stop condition holds since the series began (its first task was
// made): "visit_recorded", a field visit recorded for the customer; "deal_closed", a
// deal.closed event or a field visit recorded with deal_closed=1; "date", Until. A
// cancelled task ends its series (it is never a candidate); an inactive rule pauses it.

// JobRepeat is the job kind continuing the series.
const JobRepeat = "revisit.repeat"

const (
	repeatBatch = 200
	repeatActor = "job:" + JobRepeat
	stopVisit   = "visit_recorded"
	stopDeal    = "deal_closed"
	stopDate    = "date"
)

// RepeatResult counts what a run did.
type RepeatResult struct {
	Checked int `json:"checked"` // finished tasks looked at
	Created int `json:"created"` // next tasks made
	Stopped int `json:"stopped"` // series found stopped (count, until, condition, cancelled)
	Waiting int `json:"waiting"` // series whose next occurrence is not due yet
}

// SeriesPlanKey is the plan_key of occurrence n of the series starting with task first.
func SeriesPlanKey(first int64, n int) string {
	return "series|" + itoa(first) + "|" + strconv.Itoa(n)
}

// ParseSeriesKey reads a series plan_key; ok false for any other key.
func ParseSeriesKey(key string) (first int64, n int, ok bool) {
	rest, found := strings.CutPrefix(key, "series|")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, "|")
	if !found {
		return 0, 0, false
	}
	f, err1 := strconv.ParseInt(a, 10, 64)
	m, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || f <= 0 || m <= 0 {
		return 0, 0, false
	}
	return f, m, true
}

// nextOccurrence is the window of the occurrence after one starting at prev, and
// whether there is one (a holiday within a year).
func nextOccurrence(rule *Rule, cal *calendar.Calendar, loc *time.Location, prev time.Time) (time.Time, time.Time, bool) {
	rc := *rule
	rc.Window.Start = "0h"
	var next time.Time
	switch rule.Repeat.Kind {
	case RepeatDays:
		n := rule.Repeat.Days
		if n < 1 {
			n = 1
		}
		next = prev.AddDate(0, 0, n)
	case RepeatWeekly:
		next = prev.AddDate(0, 0, 7)
	case RepeatHalfMonth:
		next = prev.AddDate(0, 0, 15)
	case RepeatHolidays:
		d := cal.DateOf(prev)
		for i := 0; i < 30; i++ {
			h, ok := nextHoliday(cal, d, 400)
			if !ok {
				return time.Time{}, time.Time{}, false
			}
			if ws, we := holidayWindow(cal, rule, h); ws.After(prev) {
				return ws, we, true
			}
			d = h
		}
		return time.Time{}, time.Time{}, false
	default:
		return time.Time{}, time.Time{}, false
	}
	ws, we := window(&rc, cal, loc, next)
	return ws, we, true
}

// RunRepeats continues every live series whose next occurrence is due (the periodic
// job; also callable by tests and operators' tooling) and returns the counts.
func (s *Service) RunRepeats(ctx context.Context) (RepeatResult, error) {
	ctx = authz.WithActor(ctx, authz.System(repeatActor))
	var res RepeatResult
	all, err := s.allRules(ctx)
	if err != nil {
		return res, err
	}
	rules := map[string]*Rule{}
	var codes []string
	for i := range all {
		if all[i].Repeat.Kind != RepeatNone {
			rules[all[i].Code] = &all[i]
			codes = append(codes, all[i].Code)
		}
	}
	if len(codes) == 0 {
		return res, nil
	}
	slices.Sort(codes)
	pass := newEnginePass(s)
	var after int64
	for {
		var page []Task
		var created []Task
		err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
			created = nil
			if err := pass.prepare(ctx); err != nil {
				return err
			}
			var err error
			if page, err = s.store.seriesCandidates(ctx, codes, after, repeatBatch); err != nil {
				return err
			}
			for i := range page {
				res.Checked++
				t, state, err := s.continueSeries(ctx, pass, rules[page[i].Rule], &page[i])
				if err != nil {
					return err
				}
				switch state {
				case seriesCreated:
					created = append(created, t)
				case seriesStopped:
					res.Stopped++
				case seriesWaiting:
					res.Waiting++
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Created += len(created)
		s.publishCreated(ctx, created)
		if len(page) < repeatBatch {
			break
		}
		after = page[len(page)-1].ID
	}
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "revisit.repeat.run", "revisit_tasks", 0, map[string]any{"checked": res.Checked,
			"created": res.Created, "stopped": res.Stopped, "waiting": res.Waiting})
	})
	return res, err
}

type seriesState int

const (
	seriesContinued seriesState = iota // the next task exists already
	seriesCreated
	seriesStopped
	seriesWaiting
	seriesPaused
)

// continueSeries makes the task after prev when it is due.
func (s *Service) continueSeries(ctx context.Context, p *enginePass, rule *Rule, prev *Task) (Task, seriesState, error) {
	if rule == nil || !rule.Active {
		return Task{}, seriesPaused, nil
	}
	first, n := prev.ID, 0
	if f, m, ok := ParseSeriesKey(prev.PlanKey); ok {
		first, n = f, m
	} else if prev.SourceType == SourceTask || prev.ParentID != 0 {
		return Task{}, seriesPaused, nil
	}
	key := SeriesPlanKey(first, n+1)
	if exists, err := s.store.planKeyExists(ctx, key); err != nil || exists {
		return Task{}, seriesContinued, err
	}
	rp := rule.Repeat
	if rp.Count > 0 && n >= rp.Count {
		return Task{}, seriesStopped, nil
	}
	now := p.now
	ws, we, ok := nextOccurrence(rule, p.cal, p.set.loc, prev.WindowStart)
	for i := 0; ok && !we.After(now) && i < 1000; i++ { // skip what was missed
		ws, we, ok = nextOccurrence(rule, p.cal, p.set.loc, ws)
	}
	if !ok {
		return Task{}, seriesStopped, nil
	}
	if rp.Until != "" {
		if until, err := calendar.ParseDate(rp.Until); err == nil && until.Before(p.cal.DateOf(ws)) {
			return Task{}, seriesStopped, nil
		}
	}
	start := prev.CreatedAt
	if first != prev.ID {
		ft, err := s.store.GetTask(ctx, first)
		if err != nil {
			return Task{}, 0, fmt.Errorf("revisit: series %d: %w", first, err)
		}
		start = ft.CreatedAt
	}
	for _, c := range rp.Stop {
		var hit bool
		var err error
		switch c {
		case stopDeal:
			hit, err = s.store.dealClosedSince(ctx, prev.CustomerID, start)
		case stopVisit:
			hit, err = s.store.visitedSince(ctx, prev.CustomerID, start)
		}
		if err != nil {
			return Task{}, 0, err
		}
		if hit {
			return Task{}, seriesStopped, nil
		}
	}
	if ws.After(now) {
		return Task{}, seriesWaiting, nil
	}
	profs, err := s.store.profiles(ctx, []int64{prev.CustomerID})
	if err != nil {
		return Task{}, 0, err
	}
	pr := profs[prev.CustomerID]
	if pr.ID == 0 || (pr.Status != "" && pr.Status != customer.StatusActive && pr.MergedInto == 0) {
		return Task{}, seriesStopped, nil
	}
	t, err := p.seriesTask(ctx, rule, prev, &pr, ws, we, key)
	if err != nil {
		return Task{}, 0, err
	}
	if err := s.store.InsertTask(ctx, &t); err != nil {
		return Task{}, 0, err
	}
	return t, seriesCreated, nil
}

// seriesTask builds the next task of a series through the engine's task building
// (a thin wrapper: the previous task stands in for the inbox row).
func (p *enginePass) seriesTask(ctx context.Context, rule *Rule, prev *Task, pr *profile, ws, we time.Time, key string) (Task, error) {
	subject := "task:" + itoa(prev.ID)
	r := inboxRow{Event: "series", SubjectKey: subject, SourceType: SourceTask, SourceID: prev.ID,
		CustomerID: prev.CustomerID, DeptID: prev.DeptID, TeamID: prev.TeamID, AgentID: prev.AssigneeID, Level: prev.Level,
		OccurredAt: ws, Attrs: map[string]string{"plan_key": key, "window_start": itoa(ws.UnixMilli()),
			"window_end": itoa(we.UnixMilli())}}
	t, err := p.task(ctx, rule, &r, pr)
	if err != nil {
		return Task{}, err
	}
	t.ParentID = prev.ID
	return t, nil
}
