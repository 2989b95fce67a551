package fieldvisit

import (
	"context"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// maxReportSpan is the longest period one report covers.
const maxReportSpan = 366 * 24 * time.Hour

// ParseTime reads a filter bound: RFC 3339, or YYYY-MM-DD meaning the start of that day
// in China time ("" = zero). A bad value is a 422 naming field.
func ParseTime(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, chinaTime); err == nil {
		return t, nil
	}
	return time.Time{}, apperr.InvalidField(field, "fieldvisit.invalid.time")
}

// monthStart is the first instant of t's month in China time.
func monthStart(t time.Time) time.Time {
	t = t.In(chinaTime)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, chinaTime)
}

// VisitReport counts the visits in the actor's scope in [from, to) per salesperson:
// visits, distinct customers, deals closed and visits per intent class
// (fieldvisit:read). Zero bounds default to the current month so far.
func (s *Service) VisitReport(ctx context.Context, from, to time.Time) (Report, error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return Report{}, err
	}
	now := s.now()
	if from.IsZero() {
		from = monthStart(now)
	}
	if to.IsZero() {
		to = now.Add(time.Millisecond)
	}
	if !to.After(from) {
		return Report{}, apperr.InvalidField("to", "fieldvisit.invalid.period")
	}
	if to.Sub(from) > maxReportSpan {
		return Report{}, apperr.InvalidField("to", "fieldvisit.invalid.period_long", "days", int(maxReportSpan/(24*time.Hour)))
	}
	rows, customers, err := s.store.Report(ctx, a, db.Millis(from), db.Millis(to))
	if err != nil {
		return Report{}, err
	}
	out := Report{From: from.UTC(), To: to.UTC(), Rows: []ReportRow{}}
	for _, r := range rows {
		r.StaffName = s.staffName(ctx, r.StaffID)
		out.Total.Visits += r.Visits
		out.Total.Deals += r.Deals
		out.Total.IntentA += r.IntentA
		out.Total.IntentB += r.IntentB
		out.Total.IntentC += r.IntentC
		out.Total.IntentD += r.IntentD
		out.Rows = append(out.Rows, r)
	}
	out.Total.Customers = customers
	return out, nil
}
