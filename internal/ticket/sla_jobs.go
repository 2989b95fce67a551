package ticket

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
)

// Job kinds of the SLA clocks.
const (
	JobSLAScan  = "ticket.sla_scan" // every minute, once across nodes: finds due warnings and breaches
	JobSLACheck = "ticket.sla"      // one per (request, target, warning|breach, due time)
)

// SLA scan bounds.
const (
	slaScanEvery = time.Minute
	// slaLookback is how far back the scan looks for unrecorded breaches (a request
	// whose breach was missed for longer, with every node down, is not flagged).
	slaLookback = 30 * 24 * time.Hour
	// slaMaxHorizon caps how far ahead the scan looks for warnings.
	slaMaxHorizon = 30 * 24 * time.Hour
	slaScanLimit  = 500
)

// SLA check kinds.
const (
	slaWarn   = "warn"
	slaBreach = "breach"
)

// slaCheck is the payload of a JobSLACheck job.
type slaCheck struct {
	TicketID int64  `json:"ticket_id"`
	Target   string `json:"target"` // response | resolve
	Kind     string `json:"kind"`   // warn | breach
	DueAt    int64  `json:"due_at"` // Unix ms, for the unique key: a moved due time is a new check
}

func (c slaCheck) key() string {
	return fmt.Sprintf("sla:%d:%s:%s:%d", c.TicketID, c.Target, c.Kind, c.DueAt)
}

// registerSLAJobs registers the scan (every minute, exactly once per minute across
// nodes) and the per-request check.
func (s *Service) registerSLAJobs(r *jobs.Runner) {
	r.Register(JobSLAScan, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.ScanSLA(ctx)
		return err
	})
	r.Register(JobSLACheck, func(ctx context.Context, j jobs.Job) error {
		var c slaCheck
		if err := j.Decode(&c); err != nil {
			return jobs.Permanent(err)
		}
		_, err := s.checkSLA(ctx, c)
		return err
	})
	r.Every(JobSLAScan, jobs.Every(slaScanEvery))
}

// warnHorizon is how far ahead of now a due time may lie for its warning to be due:
// the widest warn_before of the policies (a percentage taken of the resolution target
// as a span from now on the default calendar, doubled for safety).
func (s *Service) warnHorizon(ctx context.Context, now time.Time) (time.Duration, error) {
	ps, err := s.slaPolicies(ctx)
	if err != nil {
		return 0, err
	}
	ps = append(ps, DefaultSLAPolicy())
	var h time.Duration
	for i := range ps {
		p := &ps[i]
		if !p.Active {
			continue
		}
		h = max(h, p.warnDur)
		if p.warnPct > 0 {
			cal, err := s.slaCalendar(ctx, p.CalendarID)
			if err != nil {
				return 0, err
			}
			for _, t := range []struct {
				d    time.Duration
				mode calendar.Mode
			}{{p.response, p.ResponseMode}, {p.resolve, p.ResolveMode}} {
				span := cal.Due(now, t.d, t.mode).Sub(now)
				h = max(h, 2*span*time.Duration(p.warnPct)/100)
			}
		}
	}
	return min(h, slaMaxHorizon), nil
}

// ScanSLA enqueues a check for every warning and breach that is due now and not yet
// recorded; it returns how many checks it enqueued (a check already enqueued for the
// same due time is not enqueued again).
func (s *Service) ScanSLA(ctx context.Context) (int, error) {
	if s.jobs == nil {
		return 0, errors.New("ticket: sla scan needs a job runner")
	}
	now := s.now()
	horizon, err := s.warnHorizon(ctx, now)
	if err != nil {
		return 0, err
	}
	var checks []slaCheck
	for _, target := range []string{TargetResponse, TargetResolve} {
		due, err := s.store.slaCandidates(ctx, target, false, now.Add(-slaLookback), now, slaScanLimit)
		if err != nil {
			return 0, fmt.Errorf("ticket: sla scan: %w", err)
		}
		for _, c := range due {
			checks = append(checks, slaCheck{TicketID: c.ID, Target: target, Kind: slaBreach, DueAt: c.DueAt.UnixMilli()})
		}
		if horizon <= 0 {
			continue
		}
		soon, err := s.store.slaCandidates(ctx, target, true, now, now.Add(horizon), slaScanLimit)
		if err != nil {
			return 0, fmt.Errorf("ticket: sla scan: %w", err)
		}
		for _, c := range soon {
			p, err := s.slaPolicyByID(ctx, c.PolicyID)
			if err != nil {
				return 0, err
			}
			if at := p.warnAt(c.CreatedAt, c.DueAt); !at.IsZero() && !at.After(now) {
				checks = append(checks, slaCheck{TicketID: c.ID, Target: target, Kind: slaWarn, DueAt: c.DueAt.UnixMilli()})
			}
		}
	}
	if len(checks) == 0 {
		return 0, nil
	}
	n := 0
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		n = 0
		for _, c := range checks {
			_, created, err := s.jobs.Enqueue(ctx, JobSLACheck, c, jobs.UniqueKey(c.key()))
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
		return 0, fmt.Errorf("ticket: sla scan: %w", err)
	}
	return n, nil
}

// errSLANothing aborts a check's transaction when there is nothing to record.
var errSLANothing = errors.New("ticket: sla: nothing to record")

// checkSLA records a due warning or breach of one request (and, on the first breach,
// the escalation) and reports whether it recorded anything. Each stamp is set only
// while still zero, in the request's transaction: two runners checking the same
// request record it once.
func (s *Service) checkSLA(ctx context.Context, c slaCheck) (bool, error) {
	if c.Target != TargetResponse && c.Target != TargetResolve || c.Kind != slaWarn && c.Kind != slaBreach {
		return false, jobs.Permanent(fmt.Errorf("ticket: bad sla check %+v", c))
	}
	if authz.From(ctx) == nil {
		ctx = authz.WithActor(ctx, authz.System("job:"+JobSLACheck))
	}
	_, err := s.systemMutate(ctx, c.TicketID, func(ctx context.Context, t *Ticket) ([]Event, error) {
		evs, err := s.slaEvents(ctx, t, c)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return nil, errSLANothing
		}
		return evs, nil
	})
	switch {
	case errors.Is(err, errSLANothing), apperr.KindOf(err) == apperr.NotFound: // nothing to do, or the request is gone
		return false, nil
	case err != nil:
		return false, fmt.Errorf("ticket: sla check %s: %w", c.key(), err)
	}
	return true, nil
}

// slaEvents runs inside the request's transaction: it decides from the fresh row
// whether the check still applies, sets the stamps and returns the timeline events.
func (s *Service) slaEvents(ctx context.Context, t *Ticket, c slaCheck) ([]Event, error) {
	now := s.now()
	if !t.Status.Open() || !t.SLAPausedAt.IsZero() {
		return nil, nil // stopped clocks never warn or breach
	}
	due, warned, breached := t.ResolveDueAt, &t.ResolveWarnedAt, &t.ResolveBreachedAt
	warnStamp, breachStamp := stampResolveWarned, stampResolveBreached
	if c.Target == TargetResponse {
		if !t.RespondedAt.IsZero() {
			return nil, nil
		}
		due, warned, breached = t.ResponseDueAt, &t.ResponseWarnedAt, &t.ResponseBreachedAt
		warnStamp, breachStamp = stampResponseWarned, stampResponseBreached
	}
	if due.IsZero() {
		return nil, nil
	}
	data := map[string]any{"target": c.Target, "due_at": due.UTC().Format(time.RFC3339)}
	if c.Kind == slaWarn {
		p, err := s.slaPolicyByID(ctx, t.SLAPolicyID)
		if err != nil {
			return nil, err
		}
		at := p.warnAt(t.CreatedAt, due)
		if !warned.IsZero() || at.IsZero() || now.Before(at) || !now.Before(due) {
			return nil, nil
		}
		ok, err := s.store.slaStamp(ctx, t.ID, warnStamp, now)
		if err != nil || !ok {
			return nil, err
		}
		*warned = now
		return []Event{{Kind: EventSLAWarning, Data: data}}, nil
	}
	if !breached.IsZero() || now.Before(due) {
		return nil, nil
	}
	ok, err := s.store.slaStamp(ctx, t.ID, breachStamp, now)
	if err != nil || !ok {
		return nil, err
	}
	*breached = now
	evs := []Event{{Kind: EventSLABreach, Data: data}}
	if t.EscalatedAt.IsZero() {
		ok, err := s.store.slaStamp(ctx, t.ID, stampEscalated, now)
		if err != nil {
			return nil, err
		}
		if ok {
			t.EscalatedAt = now
			ids, names, err := s.supervisorsOf(ctx, t.DeptID)
			if err != nil {
				return nil, err
			}
			evs = append(evs, Event{Kind: EventEscalation, Data: map[string]any{"to": ids, "names": names,
				"target": c.Target, "dept_id": t.DeptID}})
		}
	}
	return evs, nil
}

// supervisorsOf lists the active supervisors of department dept (as the system).
func (s *Service) supervisorsOf(ctx context.Context, dept int64) ([]int64, []string, error) {
	ids, names := []int64{}, []string{}
	if s.staff == nil || dept == 0 {
		return ids, names, nil
	}
	sys := authz.WithActor(ctx, authz.System("job:"+JobSLACheck))
	f := org.StaffFilter{DeptID: dept, Role: "supervisor", Status: org.StatusActive, Limit: 100}
	for {
		page, err := s.staff.ListStaff(sys, f)
		if err != nil {
			return nil, nil, fmt.Errorf("ticket: supervisors of %d: %w", dept, err)
		}
		for _, st := range page.Items {
			ids, names = append(ids, st.ID), append(names, st.DisplayName)
		}
		if page.NextCursor == "" || len(ids) >= 1000 {
			return ids, names, nil
		}
		f.Cursor = page.NextCursor
	}
}
