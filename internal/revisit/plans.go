package revisit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
)

// Plans create the visits nobody triggers: the monthly visit of cooperating customers
// (coop_monthly: the first three working days of the month on the business calendar)
// and the care visit of key customers before each public holiday (holiday_care: the
// three working days before it). A plan writes one inbox row per customer, keyed by
// rule, period and customer, and runs the engine: the usual decision (100% by default,
// and key customers always), the window of the period, plan_key
// "<rule>|<period>|<customer>" unique. Running a period twice creates nothing new.

// Cooperations finds cooperating customers (internal/customer's cooperation records,
// wired by the app): the customers with an active cooperation on day on (YYYY-MM-DD),
// by id after afterID, at most limit.
type Cooperations interface {
	Cooperating(ctx context.Context, on string, afterID int64, limit int) ([]int64, error)
}

// SetCooperations gives the service the cooperation lookup (nil: no customer cooperates).
func (s *Service) SetCooperations(c Cooperations) { s.coops = c }

// PlanInput runs a plan: the rule and the month (YYYY-MM) of a monthly rule, or the
// first day of the holiday (YYYY-MM-DD) of a holiday rule.
type PlanInput struct {
	Rule    string `json:"rule"`
	Month   string `json:"month"`
	Holiday string `json:"holiday"`
}

// PlanResult says what a plan run did.
type PlanResult struct {
	Rule        string    `json:"rule"`
	Period      string    `json:"period"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Customers   int       `json:"customers"`
	Recorded    int       `json:"recorded"` // inbox rows new to this run
	Tasks       int       `json:"tasks"`    // tasks the engine created in this run
}

const planBatch = 500

// RunPlan runs plan in (revisit:manage).
func (s *Service) RunPlan(ctx context.Context, in PlanInput) (PlanResult, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return PlanResult{}, err
	}
	rule, err := s.store.ruleByCode(ctx, in.Rule)
	if err != nil {
		if apperr.KindOf(ruleNotFound(err)) == apperr.NotFound {
			return PlanResult{}, apperr.InvalidField("rule", "revisit.invalid.plan_rule")
		}
		return PlanResult{}, err
	}
	cal, err := s.calendar(ctx)
	if err != nil {
		return PlanResult{}, err
	}
	switch {
	case rule.Takes(EventPlanMonthly):
		t, err := time.Parse("2006-01", in.Month)
		if err != nil || in.Holiday != "" {
			return PlanResult{}, apperr.InvalidField("month", "revisit.invalid.month")
		}
		return s.runMonthly(ctx, &rule, cal, t.Year(), t.Month())
	case rule.Takes(EventPlanHoliday):
		d, err := calendar.ParseDate(in.Holiday)
		if err != nil || in.Month != "" {
			return PlanResult{}, apperr.InvalidField("holiday", "revisit.invalid.holiday")
		}
		if _, ok := cal.Holiday(d); !ok {
			return PlanResult{}, apperr.InvalidField("holiday", "revisit.invalid.holiday")
		}
		return s.runHoliday(ctx, &rule, cal, d)
	}
	return PlanResult{}, apperr.InvalidField("rule", "revisit.invalid.plan_rule")
}

// MonthWindow is the window of a monthly plan of rule for year-month: from the start of
// its first working day to the end of its n-th, n being the window's length in days.
func MonthWindow(cal *calendar.Calendar, rule *Rule, year int, month time.Month) (time.Time, time.Time) {
	length, _ := calendar.ParseDuration(rule.Window.Length)
	n, ok := calendar.WholeDays(length)
	if !ok {
		n = 3
	}
	loc := cal.Location()
	days := monthWorkingDays(cal, year, month, n)
	if len(days) == 0 {
		start := time.Date(year, month, 1, 0, 0, 0, 0, loc)
		return start, start.AddDate(0, 1, 0)
	}
	return dayStart(days[0], loc), dayStart(days[len(days)-1].AddDays(1), loc)
}

func (s *Service) runMonthly(ctx context.Context, rule *Rule, cal *calendar.Calendar, year int, month time.Month) (PlanResult, error) {
	period := fmt.Sprintf("%04d-%02d", year, int(month))
	ws, we := MonthWindow(cal, rule, year, month)
	res := PlanResult{Rule: rule.Code, Period: period, WindowStart: ws.UTC(), WindowEnd: we.UTC()}
	next := s.coopSource(period + "-01")
	if !rule.Filters.Cooperating {
		next = s.keySource()
	}
	return s.runPlan(ctx, rule, &res, next)
}

func (s *Service) coopSource(on string) func(ctx context.Context, after int64) ([]int64, error) {
	return func(ctx context.Context, after int64) ([]int64, error) {
		if s.coops == nil {
			return nil, nil
		}
		return s.coops.Cooperating(ctx, on, after, planBatch)
	}
}

func (s *Service) keySource() func(ctx context.Context, after int64) ([]int64, error) {
	return func(ctx context.Context, after int64) ([]int64, error) {
		return s.store.keyCustomers(ctx, after, planBatch)
	}
}

// holidayWindow is the window of a holiday plan: the n working days before day.
func holidayWindow(cal *calendar.Calendar, rule *Rule, day calendar.Date) (time.Time, time.Time) {
	length, _ := calendar.ParseDuration(rule.Window.Length)
	n, ok := calendar.WholeDays(length)
	if !ok {
		n = 3
	}
	d, found := day, 0
	first := day
	for i := 0; i < 60 && found < n; i++ {
		d = d.AddDays(-1)
		if cal.IsWorkingDay(d) {
			first, found = d, found+1
		}
	}
	loc := cal.Location()
	return dayStart(first, loc), dayStart(day, loc)
}

func (s *Service) runHoliday(ctx context.Context, rule *Rule, cal *calendar.Calendar, day calendar.Date) (PlanResult, error) {
	ws, we := holidayWindow(cal, rule, day)
	res := PlanResult{Rule: rule.Code, Period: "holiday:" + day.String(), WindowStart: ws.UTC(), WindowEnd: we.UTC()}
	return s.runPlan(ctx, rule, &res, s.keySource())
}

// runPlan writes the inbox rows of every customer next yields, then runs the engine.
func (s *Service) runPlan(ctx context.Context, rule *Rule, res *PlanResult, next func(context.Context, int64) ([]int64, error)) (PlanResult, error) {
	var after int64
	wsMS, weMS := strconv.FormatInt(res.WindowStart.UnixMilli(), 10), strconv.FormatInt(res.WindowEnd.UnixMilli(), 10)
	for {
		ids, err := next(ctx, after)
		if err != nil {
			return *res, fmt.Errorf("revisit: plan %s: %w", rule.Code, err)
		}
		if len(ids) == 0 {
			break
		}
		err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
			now := s.now()
			for _, cid := range ids {
				planKey := rule.Code + "|" + res.Period + "|" + itoa(cid)
				subject := "plan:" + planKey
				ev := rule.Triggers[0]
				r := inboxRow{EventKey: ev + "|" + subject, Event: ev, SubjectKey: subject, SourceType: SourcePlan,
					SourceID: rule.ID, CustomerID: cid, OccurredAt: res.WindowStart,
					Attrs: map[string]string{"rule": rule.Code, "plan_key": planKey, "cooperating": "1",
						"window_start": wsMS, "window_end": weMS}}
				if !rule.Filters.Cooperating {
					delete(r.Attrs, "cooperating")
				}
				n, err := s.store.insertEventCount(ctx, &r, now)
				if err != nil {
					return err
				}
				res.Recorded += n
			}
			return nil
		})
		if err != nil {
			return *res, err
		}
		res.Customers += len(ids)
		after = ids[len(ids)-1]
		if len(ids) < planBatch {
			break
		}
	}
	er, err := s.RunEngine(ctx)
	if err != nil {
		return *res, err
	}
	res.Tasks = er.Tasks
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.recordPlanRun(ctx, rule.Code, res.Period, res.Tasks, s.now()); err != nil {
			return err
		}
		return s.record(ctx, "revisit.plan.run", "revisit_rule", rule.ID, map[string]any{"rule": rule.Code,
			"period": res.Period, "customers": res.Customers, "recorded": res.Recorded, "tasks": res.Tasks})
	})
	return *res, err
}

// RunDuePlans runs, as the system, the plans of active rules that are due today (China
// time) and have not run for their period: the month's monthly plans, and the holiday
// plans whose window (the working days before the next holiday) has begun, and the
// care plans of plans_care.go (half month, birthdays).
func (s *Service) RunDuePlans(ctx context.Context) (int, error) {
	ctx = authz.WithActor(ctx, authz.System("job:"+JobPlans))
	all, err := s.allRules(ctx)
	if err != nil {
		return 0, err
	}
	cal, err := s.calendar(ctx)
	if err != nil {
		return 0, err
	}
	today := cal.DateOf(s.now())
	ran := 0
	for i := range all {
		r := &all[i]
		if !r.Active {
			continue
		}
		var in PlanInput
		var period string
		switch {
		case r.Takes(EventPlanMonthly):
			// Only while the month's window is still open: a node started late in the
			// month does not make visits that are already overdue.
			if _, we := MonthWindow(cal, r, today.Year, today.Month); !s.now().Before(we) {
				continue
			}
			in = PlanInput{Rule: r.Code, Month: fmt.Sprintf("%04d-%02d", today.Year, int(today.Month))}
			period = in.Month
		case r.Takes(EventPlanHoliday):
			h, ok := nextHoliday(cal, today, 31)
			if !ok {
				continue
			}
			if ws, _ := holidayWindow(cal, r, h); cal.DateOf(ws).Before(today.AddDays(1)) {
				in, period = PlanInput{Rule: r.Code, Holiday: h.String()}, "holiday:"+h.String()
			} else {
				continue
			}
		default:
			// The care plans (plans_care.go) run themselves, without RunPlan's input.
			cp, run, ok := s.careDue(r, cal, today)
			if !ok {
				continue
			}
			done, err := s.store.planRun(ctx, r.Code, cp)
			if err != nil {
				return ran, err
			}
			if done {
				continue
			}
			if _, err := run(ctx); err != nil {
				return ran, err
			}
			ran++
			continue
		}
		done, err := s.store.planRun(ctx, r.Code, period)
		if err != nil {
			return ran, err
		}
		if done {
			continue
		}
		if _, err := s.RunPlan(ctx, in); err != nil {
			return ran, err
		}
		ran++
	}
	return ran, nil
}

// nextHoliday is the first day of the next holiday starting after today, within days.
func nextHoliday(cal *calendar.Calendar, today calendar.Date, days int) (calendar.Date, bool) {
	d := today
	for i := 0; i < days; i++ {
		d = d.AddDays(1)
		if _, ok := cal.Holiday(d); ok {
			if _, prev := cal.Holiday(d.AddDays(-1)); !prev {
				return d, true
			}
		}
	}
	return calendar.Date{}, false
}
