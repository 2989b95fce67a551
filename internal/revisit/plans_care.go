package revisit

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/calendar"
)

// Care plans (the seed's care rules, off by default):
//   - plan.half_month (care_regular_biweekly): customers of the rule's tiers (regular)
//     every half month: the period is the 1st-15th or the 16th-end of the month, the
//     window the whole half (from 00:00 of the 1st or 16th, China time of the business
//     calendar), run on the 1st and the 16th (a node down that day catches up within the
//     half); plan_key "<rule>|YYYY-MM-h1|<customer>" or "...-h2...".
//   - plan.birthday (care_birthday): customers with a contact whose birthday (YYYY-MM-DD
//     or MM-DD, kept in clear on customer_contacts) is today get a greeting the same day
//     (window: today); contacts born on 02-29 are greeted on 02-28 in common years;
//     plan_key "<rule>|birthday:YYYY-MM-DD|<customer>".
// Both go through runPlan like the monthly and holiday plans (inbox row, decision,
// engine task), once per period (revisit_plan_runs) and idempotent by plan_key.

// halfMonth is the half of the month holding today: its period name and window.
func halfMonth(cal *calendar.Calendar, today calendar.Date) (string, time.Time, time.Time) {
	loc := cal.Location()
	y, m := today.Year, today.Month
	if today.Day < 16 {
		return fmt.Sprintf("%04d-%02d-h1", y, int(m)), time.Date(y, m, 1, 0, 0, 0, 0, loc), time.Date(y, m, 16, 0, 0, 0, 0, loc)
	}
	return fmt.Sprintf("%04d-%02d-h2", y, int(m)), time.Date(y, m, 16, 0, 0, 0, 0, loc), time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
}

// birthdayDays are the MM-DD birthdays greeted on today (02-29 also on 02-28 of a
// common year; otherwise the same day twice).
func birthdayDays(today calendar.Date) (string, string) {
	mmdd := fmt.Sprintf("%02d-%02d", int(today.Month), today.Day)
	if today.Month == time.February && today.Day == 28 {
		y := today.Year
		if !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
			return mmdd, "02-29"
		}
	}
	return mmdd, mmdd
}

// careDue says whether rule r is a care plan and, if so, its period due today and the
// plan to run for it.
func (s *Service) careDue(r *Rule, cal *calendar.Calendar, today calendar.Date) (string, func(context.Context) (PlanResult, error), bool) {
	switch {
	case r.Takes(EventPlanHalfMonth):
		period, ws, we := halfMonth(cal, today)
		res := PlanResult{Rule: r.Code, Period: period, WindowStart: ws.UTC(), WindowEnd: we.UTC()}
		tiers := r.Filters.Tiers
		return period, func(ctx context.Context) (PlanResult, error) {
			return s.runPlan(ctx, r, &res, func(ctx context.Context, after int64) ([]int64, error) {
				return s.store.tierCustomers(ctx, tiers, after, planBatch)
			})
		}, true
	case r.Takes(EventPlanBirthday):
		loc := cal.Location()
		period := "birthday:" + today.String()
		ws := dayStart(today, loc)
		res := PlanResult{Rule: r.Code, Period: period, WindowStart: ws.UTC(), WindowEnd: dayStart(today.AddDays(1), loc).UTC()}
		a, b := birthdayDays(today)
		return period, func(ctx context.Context) (PlanResult, error) {
			return s.runPlan(ctx, r, &res, func(ctx context.Context, after int64) ([]int64, error) {
				return s.store.birthdayCustomers(ctx, a, b, after, planBatch)
			})
		}, true
	}
	return "", nil, false
}
