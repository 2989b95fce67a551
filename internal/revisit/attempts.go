package revisit

// Unreached visits: each one is an attempt, and the task is retried on an editable
// schedule (default: +2 hours, the next working day, 3 working days later). The retry
// time goes through NextSlot, so it never falls inside the do-not-disturb windows. After
// the last step the task becomes unreached, its attempts kept.
//
// The schedule is GET/PUT /api/v1/revisit-retry-schedule {"steps":["+2h","+1wd","+3wd"]}
// (revisit:manage): "+Nh" hours, "+Nm" minutes, "+Nwd" working days (same time of day
// on the N-th working day after, on the default business calendar).

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

const (
	retrySettingKey = "retry_schedule"
	maxRetrySteps   = 10
)

// DefaultRetrySteps is the retry schedule until an administrator changes it.
var DefaultRetrySteps = []string{"+2h", "+1wd", "+3wd"}

var retryStepRe = regexp.MustCompile(`^\+([1-9][0-9]{0,3})(m|h|wd)$`)

// RetryStep is one step of the retry schedule.
type RetryStep struct {
	N    int
	Unit string // m, h, wd
}

// ParseRetryStep reads "+2h", "+30m" or "+1wd".
func ParseRetryStep(s string) (RetryStep, bool) {
	m := retryStepRe.FindStringSubmatch(s)
	if m == nil {
		return RetryStep{}, false
	}
	n, _ := strconv.Atoi(m[1])
	if m[2] == "wd" && n > 30 || m[2] == "h" && n > 24*30 || m[2] == "m" && n > 60*24 {
		return RetryStep{}, false
	}
	return RetryStep{N: n, Unit: m[2]}, true
}

// RetrySchedule is the JSON form of the schedule.
type RetrySchedule struct {
	Steps []string `json:"steps"`
}

func checkRetrySteps(steps []string) error {
	f := apperr.Fields{}
	if len(steps) > maxRetrySteps {
		f.Add("steps", "revisit.work.invalid.too_many", "max", maxRetrySteps)
	}
	for i, st := range steps {
		if _, ok := ParseRetryStep(st); !ok {
			f.Add("steps["+strconv.Itoa(i)+"]", "revisit.work.invalid.retry_step")
		}
	}
	return f.Err()
}

// retrySteps reads the schedule (the default when unset or unreadable).
func (s *Service) retrySteps(ctx context.Context) []string {
	raw, ok, err := s.work().WorkSetting(ctx, retrySettingKey)
	if err != nil || !ok {
		return DefaultRetrySteps
	}
	var sch RetrySchedule
	if json.Unmarshal([]byte(raw), &sch) != nil || checkRetrySteps(sch.Steps) != nil {
		return DefaultRetrySteps
	}
	return sch.Steps
}

// GetRetrySchedule returns the schedule (revisit:manage).
func (s *Service) GetRetrySchedule(ctx context.Context) (RetrySchedule, error) {
	if _, err := authz.RequireStaff(ctx, workPermManage); err != nil {
		return RetrySchedule{}, err
	}
	return RetrySchedule{Steps: s.retrySteps(ctx)}, nil
}

// PutRetrySchedule replaces the schedule (revisit:manage); an empty list means no retry.
func (s *Service) PutRetrySchedule(ctx context.Context, in RetrySchedule) (RetrySchedule, error) {
	if _, err := authz.RequireStaff(ctx, workPermManage); err != nil {
		return RetrySchedule{}, err
	}
	if in.Steps == nil {
		in.Steps = []string{}
	}
	if err := checkRetrySteps(in.Steps); err != nil {
		return RetrySchedule{}, err
	}
	b, err := json.Marshal(in)
	if err != nil {
		return RetrySchedule{}, fmt.Errorf("revisit: retry schedule: %w", err)
	}
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		if err := s.work().PutWorkSetting(ctx, retrySettingKey, string(b), s.now()); err != nil {
			return err
		}
		return s.record(ctx, "revisit.retry_schedule.update", "revisit_settings", 0, map[string]any{"steps": in.Steps})
	})
	if err != nil {
		return RetrySchedule{}, err
	}
	return in, nil
}

// workCalendar is the default business calendar.
func (s *Service) workCalendar(ctx context.Context) (*calendar.Calendar, error) {
	if s.d.Calendars == nil {
		return calendar.Default()
	}
	return s.d.Calendars.Get(ctx, calendar.DefaultID)
}

// retryAt is when step st after now puts the next attempt, before the quiet hours.
func (s *Service) retryAt(ctx context.Context, t *Task, st RetryStep, now time.Time) (time.Time, error) {
	base, working := now, false
	switch st.Unit {
	case "m":
		base = now.Add(time.Duration(st.N) * time.Minute)
	case "h":
		base = now.Add(time.Duration(st.N) * time.Hour)
	case "wd":
		cal, err := s.workCalendar(ctx)
		if err != nil {
			return time.Time{}, fmt.Errorf("revisit: calendar: %w", err)
		}
		day := cal.AddWorkingDays(now, st.N).In(cal.Location())
		local := now.In(cal.Location())
		base = time.Date(day.Year(), day.Month(), day.Day(), local.Hour(), local.Minute(), 0, 0, cal.Location())
		working = true
	}
	end := t.WindowEnd
	if end.Before(base) {
		end = time.Time{}
	}
	at, err := s.NextSlot(ctx, t.CustomerID, base, end, working)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(at.UnixMilli()), nil
}

// unreached records the attempt of an unreached visit and schedules the retry, or
// closes the task as unreached after the last step. It returns the retry time (zero when
// none).
func (s *Service) unreached(ctx context.Context, t *Task, rec *VisitRecord, now time.Time) (time.Time, error) {
	steps := s.retrySteps(ctx)
	t.Attempts++
	var next time.Time
	if t.Attempts <= len(steps) {
		st, _ := ParseRetryStep(steps[t.Attempts-1])
		at, err := s.retryAt(ctx, t, st, now)
		if err != nil {
			return time.Time{}, err
		}
		next = at
		t.NextAttemptAt, t.ScheduledAt = at, at
	} else {
		t.Status, t.NextAttemptAt = StatusUnreached, time.Time{}
	}
	a := Attempt{TaskID: t.ID, At: rec.VisitedAt, Outcome: OutcomeUnreached, Note: rec.Note, AgentID: rec.AgentID, NextAt: next}
	if err := s.work().InsertAttempt(ctx, &a); err != nil {
		return time.Time{}, err
	}
	if err := s.saveTask(ctx, t); err != nil {
		return time.Time{}, err
	}
	return next, nil
}

// retryRoutes are the schedule routes.
func (s *Service) retryRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: http.MethodGet, Path: "/api/v1/revisit-retry-schedule", Perm: workPermManage, Handler: func(w http.ResponseWriter, r *http.Request) {
			v, err := s.GetRetrySchedule(r.Context())
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			httpx.JSON(w, http.StatusOK, v)
		}},
		{Method: http.MethodPut, Path: "/api/v1/revisit-retry-schedule", Perm: workPermManage, Handler: func(w http.ResponseWriter, r *http.Request) {
			var in RetrySchedule
			if err := httpx.Decode(r, &in); err != nil {
				httpx.Error(w, r, err)
				return
			}
			v, err := s.PutRetrySchedule(r.Context(), in)
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			httpx.JSON(w, http.StatusOK, v)
		}},
	}
}
