package ticket

// SLA (SPEC §2.2): policies per type / severity / customer tier give each request a
// first-response target, a resolution target and a confirmation target (after
// resolving), each measured in calendar time, business hours or working days on a
// business calendar (platform/calendar).
//
// Clocks:
//   - slaStart (create): the most specific active policy wins; ResponseDueAt and
//     ResolveDueAt are computed from CreatedAt on the policy's calendar.
//   - The clocks stand still while the request waits on the customer, and while it is
//     resolved, closed or cancelled (SLAPausedAt is the start of the stop; SLAPaused
//     sums the stops). Leaving a stop pushes every open due time forward by the stopped
//     time measured in the target's own mode: the calendar time of the stop, its working
//     time (business_hours: a stop over a night or a holiday costs nothing), or the
//     working days it spanned (working_days). So a reopened request resolves within the
//     resolution time that was left when it was resolved (negative if it was already
//     late: a request resolved late stays late when reopened).
//   - Resolving sets ConfirmDueAt from the confirmation target; reopening clears it.
//   - The first public staff reply sets RespondedAt (slaOnResponse).
//
// Warnings come warn_before ahead of a due time: a duration ("4h", calendar time) or a
// share of the target's span from creation ("20%"). Warnings, breaches and the
// escalation to the department's supervisors are fired by jobs (sla_jobs.go), each
// exactly once.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
)

// SLAPolicy is one row of sla_policies. Empty Type, Severity or Tier match any value.
type SLAPolicy struct {
	ID             int64         `json:"id"`
	Name           string        `json:"name"`
	Type           Type          `json:"type"`
	Severity       Severity      `json:"severity"`
	Tier           string        `json:"tier"`
	CalendarID     string        `json:"calendar_id"`
	ResponseTarget string        `json:"response_target"`
	ResponseMode   calendar.Mode `json:"response_mode"`
	ResolveTarget  string        `json:"resolve_target"`
	ResolveMode    calendar.Mode `json:"resolve_mode"`
	ConfirmTarget  string        `json:"confirm_target"`
	ConfirmMode    calendar.Mode `json:"confirm_mode"`
	WarnBefore     string        `json:"warn_before"`
	Active         bool          `json:"active"`
	SortOrder      int           `json:"sort_order"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
	Version        int64         `json:"version"`

	// parsed targets (0 = none)
	response, resolve, confirm time.Duration
	warnDur                    time.Duration
	warnPct                    int // 1..99 when WarnBefore is a percentage
}

// DefaultSLAPolicy is the policy of a request no stored policy matches (SPEC seeds:
// respond within 24 h, resolve within 48 h, confirm within 24 h of resolving).
func DefaultSLAPolicy() SLAPolicy {
	p := SLAPolicy{Name: "default", CalendarID: calendar.DefaultID, ResponseTarget: "24h", ResponseMode: calendar.ModeCalendar,
		ResolveTarget: "48h", ResolveMode: calendar.ModeCalendar, ConfirmTarget: "24h", ConfirmMode: calendar.ModeCalendar,
		WarnBefore: "4h", Active: true, SortOrder: 1 << 20}
	_ = p.parse(apperr.Fields{})
	return p
}

// Targets of a request.
const (
	TargetResponse = "response"
	TargetResolve  = "resolve"
	TargetConfirm  = "confirm"
)

// parse validates the text fields and fills the parsed targets; problems go to fe.
func (p *SLAPolicy) parse(fe apperr.Fields) error {
	target := func(field, v string, mode calendar.Mode, required bool) time.Duration {
		v = strings.TrimSpace(v)
		if v == "" {
			if required {
				fe.Add(field, "field.required")
			}
			return 0
		}
		d, err := calendar.ParseDuration(v)
		if err != nil || d <= 0 {
			fe.Add(field, "ticket_sla.invalid.target")
			return 0
		}
		if mode == calendar.ModeWorkingDays {
			if _, ok := calendar.WholeDays(d); !ok {
				fe.Add(field, "ticket_sla.invalid.whole_days")
				return 0
			}
		}
		return d
	}
	for _, m := range []struct {
		field string
		mode  *calendar.Mode
	}{{"response_mode", &p.ResponseMode}, {"resolve_mode", &p.ResolveMode}, {"confirm_mode", &p.ConfirmMode}} {
		if *m.mode == "" {
			*m.mode = calendar.ModeCalendar
		}
		if !calendar.ValidMode(*m.mode) {
			fe.Add(m.field, "ticket_sla.invalid.mode")
		}
	}
	p.response = target("response_target", p.ResponseTarget, p.ResponseMode, true)
	p.resolve = target("resolve_target", p.ResolveTarget, p.ResolveMode, true)
	p.confirm = target("confirm_target", p.ConfirmTarget, p.ConfirmMode, false)
	p.warnDur, p.warnPct = 0, 0
	if w := strings.TrimSpace(p.WarnBefore); w != "" {
		if pct, ok := strings.CutSuffix(w, "%"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(pct))
			if err != nil || n < 1 || n > 99 {
				fe.Add("warn_before", "ticket_sla.invalid.warn_before")
			} else {
				p.warnPct = n
			}
		} else if d, err := calendar.ParseDuration(w); err != nil || d <= 0 {
			fe.Add("warn_before", "ticket_sla.invalid.warn_before")
		} else {
			p.warnDur = d
		}
	}
	return fe.Err()
}

// matches reports whether p applies to a request of typ and sev for a customer of tier.
func (p *SLAPolicy) matches(typ Type, sev Severity, tier string) bool {
	return p.Active && (p.Type == "" || p.Type == typ) && (p.Severity == "" || p.Severity == sev) &&
		(p.Tier == "" || p.Tier == tier)
}

// specificity ranks matching policies: more conditions first; among as many, type
// before severity before tier.
func (p *SLAPolicy) specificity() int {
	n, w := 0, 0
	if p.Type != "" {
		n, w = n+1, w+4
	}
	if p.Severity != "" {
		n, w = n+1, w+2
	}
	if p.Tier != "" {
		n, w = n+1, w+1
	}
	return n*8 + w
}

// pickPolicy returns the most specific matching policy (then lowest sort order, then
// lowest id), or DefaultSLAPolicy.
func pickPolicy(ps []SLAPolicy, typ Type, sev Severity, tier string) SLAPolicy {
	best := -1
	for i := range ps {
		p := &ps[i]
		if !p.matches(typ, sev, tier) {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := &ps[best]
		switch sp, sb := p.specificity(), b.specificity(); {
		case sp > sb, sp == sb && p.SortOrder < b.SortOrder, sp == sb && p.SortOrder == b.SortOrder && p.ID < b.ID:
			best = i
		}
	}
	if best < 0 {
		return DefaultSLAPolicy()
	}
	return ps[best]
}

// warnAt is when a warning for a target due at due, whose clock started at start, is
// fired (zero without warnings).
func (p *SLAPolicy) warnAt(start, due time.Time) time.Time {
	switch {
	case due.IsZero():
		return time.Time{}
	case p.warnDur > 0:
		return due.Add(-p.warnDur)
	case p.warnPct > 0:
		span := due.Sub(start)
		if span <= 0 {
			return time.Time{}
		}
		return due.Add(-span * time.Duration(p.warnPct) / 100)
	}
	return time.Time{}
}

// modeOf returns the mode of target.
func (p *SLAPolicy) modeOf(target string) calendar.Mode {
	switch target {
	case TargetResponse:
		return p.ResponseMode
	case TargetResolve:
		return p.ResolveMode
	}
	return p.ConfirmMode
}

// slaCache keeps the policies in memory: every request creation reads them. A change
// on this node invalidates at once, on another node within slaCacheTTL.
type slaCache struct {
	mu     sync.Mutex
	list   []SLAPolicy
	loaded time.Time
	gen    uint64
}

const slaCacheTTL = 30 * time.Second

func (s *Service) slaCache() *slaCache { return &s.sla }

// invalidateSLA drops the cached policies.
func (s *Service) invalidateSLA() {
	c := s.slaCache()
	c.mu.Lock()
	c.list, c.gen = nil, c.gen+1
	c.mu.Unlock()
}

// slaPolicies returns every stored policy (active or not), cached.
func (s *Service) slaPolicies(ctx context.Context) ([]SLAPolicy, error) {
	c := s.slaCache()
	c.mu.Lock()
	if c.list != nil && time.Since(c.loaded) < slaCacheTTL {
		l := c.list
		c.mu.Unlock()
		return l, nil
	}
	gen := c.gen
	c.mu.Unlock()
	ps, err := s.store.slaPolicies(ctx)
	if err != nil {
		return nil, fmt.Errorf("ticket: load sla policies: %w", err)
	}
	for i := range ps {
		if err := ps[i].parse(apperr.Fields{}); err != nil {
			s.log.Warn("ticket: invalid stored sla policy ignored", "id", ps[i].ID, "err", err)
			ps[i].Active = false
		}
	}
	c.mu.Lock()
	if c.gen == gen {
		c.list, c.loaded = ps, time.Now()
	}
	c.mu.Unlock()
	return ps, nil
}

// slaPolicyByID returns policy id (DefaultSLAPolicy when 0 or gone).
func (s *Service) slaPolicyByID(ctx context.Context, id int64) (SLAPolicy, error) {
	if id == 0 {
		return DefaultSLAPolicy(), nil
	}
	ps, err := s.slaPolicies(ctx)
	if err != nil {
		return SLAPolicy{}, err
	}
	for _, p := range ps {
		if p.ID == id {
			return p, nil
		}
	}
	return DefaultSLAPolicy(), nil
}

type tierKey struct{}

// withCustomerTier lets the creator of a request pass the customer's tier it already
// loaded, sparing slaStart a lookup.
func withCustomerTier(ctx context.Context, tier string) context.Context {
	return context.WithValue(ctx, tierKey{}, tier)
}

// policyFor picks the policy of t.
func (s *Service) policyFor(ctx context.Context, t *Ticket) (SLAPolicy, error) {
	ps, err := s.slaPolicies(ctx)
	if err != nil {
		return SLAPolicy{}, err
	}
	tier, known := ctx.Value(tierKey{}).(string)
	if !known && t.CustomerID != 0 && slices.ContainsFunc(ps, func(p SLAPolicy) bool {
		return p.Tier != "" && p.matches(t.Type, t.Severity, p.Tier)
	}) {
		ref, err := s.customerRef(ctx, t.CustomerID)
		if err != nil && apperr.KindOf(err) != apperr.NotFound {
			return SLAPolicy{}, err
		}
		tier = ref.Tier
	}
	return pickPolicy(ps, t.Type, t.Severity, tier), nil
}

// slaCalendar returns the policy's calendar, falling back to the default calendar when
// it no longer exists.
func (s *Service) slaCalendar(ctx context.Context, id string) (*calendar.Calendar, error) {
	cal, err := s.calendarFor(ctx, id)
	if apperr.KindOf(err) == apperr.NotFound && id != calendar.DefaultID {
		return s.calendarFor(ctx, calendar.DefaultID)
	}
	return cal, err
}

// slaStart picks the policy of a new request and sets its due times.
func (s *Service) slaStart(ctx context.Context, t *Ticket) error {
	p, err := s.policyFor(ctx, t)
	if err != nil {
		return err
	}
	cal, err := s.slaCalendar(ctx, p.CalendarID)
	if err != nil {
		return err
	}
	startSLA(t, &p, cal)
	return nil
}

// startSLA sets the policy, calendar and due times of t from its CreatedAt.
func startSLA(t *Ticket, p *SLAPolicy, cal *calendar.Calendar) {
	t.SLAPolicyID, t.CalendarID = p.ID, p.CalendarID
	if t.CalendarID == "" {
		t.CalendarID = calendar.DefaultID
	}
	t.ResponseDueAt, t.ResolveDueAt = time.Time{}, time.Time{}
	if p.response > 0 {
		t.ResponseDueAt = msTime(cal.Due(t.CreatedAt, p.response, p.ResponseMode))
	}
	if p.resolve > 0 {
		t.ResolveDueAt = msTime(cal.Due(t.CreatedAt, p.resolve, p.ResolveMode))
	}
}

// msTime truncates to the millisecond the database keeps.
func msTime(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()) }

// slaStopped reports whether the clocks stand still in state st.
func slaStopped(st Status) bool { return st.SLAPaused() || !st.Open() }

// slaOnStatus runs inside every status change, before the request is saved.
func (s *Service) slaOnStatus(ctx context.Context, t *Ticket, from, to Status, now time.Time) error {
	if from == to {
		return nil
	}
	stopped, stop := !t.SLAPausedAt.IsZero(), slaStopped(to)
	needPolicy := (stopped && !stop) || to == StatusResolved || to == StatusReopened
	if !needPolicy {
		if !stopped && stop {
			t.SLAPausedAt = now
		}
		return nil
	}
	p, err := s.slaPolicyByID(ctx, t.SLAPolicyID)
	if err != nil {
		return err
	}
	cal, err := s.slaCalendar(ctx, t.CalendarID)
	if err != nil {
		return err
	}
	applyStatus(t, &p, cal, to, now)
	return nil
}

// applyStatus is slaOnStatus on a loaded policy and calendar.
func applyStatus(t *Ticket, p *SLAPolicy, cal *calendar.Calendar, to Status, now time.Time) {
	stopped, stop := !t.SLAPausedAt.IsZero(), slaStopped(to)
	switch {
	case stopped && !stop:
		resumeSLA(t, p, cal, now)
	case !stopped && stop:
		t.SLAPausedAt = now
	}
	switch to {
	case StatusResolved:
		t.ConfirmDueAt = time.Time{}
		if p.confirm > 0 {
			t.ConfirmDueAt = msTime(cal.Due(now, p.confirm, p.ConfirmMode))
		}
	case StatusReopened:
		t.ConfirmDueAt = time.Time{}
	}
}

// resumeSLA ends a stop at now: the stopped time is added to SLAPaused and every open
// due time moves forward by the stop, measured in its target's mode.
func resumeSLA(t *Ticket, p *SLAPolicy, cal *calendar.Calendar, now time.Time) {
	start := t.SLAPausedAt
	t.SLAPausedAt = time.Time{}
	if !now.After(start) {
		return
	}
	t.SLAPaused += now.Sub(start)
	if t.RespondedAt.IsZero() && !t.ResponseDueAt.IsZero() {
		t.ResponseDueAt = msTime(shiftDue(cal, t.ResponseDueAt, start, now, p.ResponseMode))
	}
	if t.ResolvedAt.IsZero() && !t.ResolveDueAt.IsZero() {
		t.ResolveDueAt = msTime(shiftDue(cal, t.ResolveDueAt, start, now, p.ResolveMode))
	}
}

// shiftDue moves due forward by the stop [from, to) measured in mode.
func shiftDue(cal *calendar.Calendar, due, from, to time.Time, mode calendar.Mode) time.Time {
	switch mode {
	case calendar.ModeBusinessHours:
		return cal.AddBusinessHours(due, cal.BusinessDuration(from, to))
	case calendar.ModeWorkingDays:
		return cal.AddWorkingDays(due, cal.WorkingDaysBetween(from, to))
	default:
		return due.Add(to.Sub(from))
	}
}

// slaOnResponse records the first public staff reply.
func (s *Service) slaOnResponse(ctx context.Context, t *Ticket, now time.Time) error {
	if t.RespondedAt.IsZero() {
		t.RespondedAt = now
	}
	return nil
}
