package revisit

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/calendar"
)

// Scheduling: a visit is never scheduled inside a do-not-disturb window (in the
// customer's time zone) and, when the window still allows it, never on a day the
// default business calendar marks as non-working (weekends, official holidays; make-up
// working days count as working).

// calendar returns the default business calendar.
func (s *Service) calendar(ctx context.Context) (*calendar.Calendar, error) {
	if s.d.Calendars == nil {
		return calendar.Default()
	}
	cal, err := s.d.Calendars.Get(ctx, calendar.DefaultID)
	if err != nil {
		return nil, fmt.Errorf("revisit: calendar: %w", err)
	}
	return cal, nil
}

// inDND reports whether t falls in one of c's windows, and when that window ends.
func (c *compiled) inDND(t time.Time) (bool, time.Time) {
	lt := t.In(c.loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, c.loc)
	m := lt.Hour()*60 + lt.Minute()
	at := func(dayOff, min int) time.Time {
		return time.Date(midnight.Year(), midnight.Month(), midnight.Day()+dayOff, min/60, min%60, 0, 0, c.loc)
	}
	for _, w := range c.dnd {
		switch {
		case w.start < w.end && m >= w.start && m < w.end:
			return true, at(0, w.end)
		case w.start > w.end && m >= w.start:
			return true, at(1, w.end)
		case w.start > w.end && m < w.end:
			return true, at(0, w.end)
		}
	}
	return false, time.Time{}
}

// nextSlot is NextSlot with the settings and calendar at hand (the engine calls it per
// task without I/O).
func nextSlot(c *compiled, cal *calendar.Calendar, after, windowEnd time.Time, workingDaysOnly bool) time.Time {
	free := func(t time.Time, working bool) time.Time {
		for i := 0; i < 64; i++ {
			moved := false
			if in, end := c.inDND(t); in {
				t, moved = end, true
			}
			if working && cal != nil && !cal.IsWorkingDay(calendar.DateOf(t.In(c.loc))) {
				lt := t.In(c.loc)
				t, moved = time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, c.loc), true
			}
			if !moved {
				return t
			}
		}
		return t
	}
	t := after
	if workingDaysOnly {
		w := free(t, true)
		if windowEnd.IsZero() || !w.After(windowEnd) {
			return w.UTC()
		}
	}
	return free(t, false).UTC()
}

// NextSlot returns the first instant at or after after that lies outside the
// do-not-disturb windows in the customer's time zone and, when workingDaysOnly and the
// window (ending at windowEnd; zero = open) still allows one, on a working day of the
// default business calendar. It is never inside a do-not-disturb window.
func (s *Service) NextSlot(ctx context.Context, customerID int64, after, windowEnd time.Time, workingDaysOnly bool) (time.Time, error) {
	c, err := s.settings(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var cal *calendar.Calendar
	if workingDaysOnly {
		if cal, err = s.calendar(ctx); err != nil {
			return time.Time{}, err
		}
	}
	return nextSlot(c, cal, time.UnixMilli(after.UnixMilli()), windowEnd, workingDaysOnly), nil
}

// InDND reports whether at falls inside a do-not-disturb window of the customer's time
// zone (the workspace warns before such a call).
func (s *Service) InDND(ctx context.Context, customerID int64, at time.Time) (bool, error) {
	c, err := s.settings(ctx)
	if err != nil {
		return false, err
	}
	in, _ := c.inDND(at)
	return in, nil
}

// monthWorkingDays returns the first n working days of month (YYYY-MM) on cal: the
// window of a monthly plan runs from the start of the first to the end of the last.
func monthWorkingDays(cal *calendar.Calendar, year int, month time.Month, n int) []calendar.Date {
	var out []calendar.Date
	d := calendar.NewDate(year, month, 1)
	for i := 0; i < 62 && len(out) < n; i++ {
		if cal.IsWorkingDay(d) {
			out = append(out, d)
		}
		d = d.AddDays(1)
	}
	return out
}

// dayStart is 00:00 of d in loc.
func dayStart(d calendar.Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}
