package jobs

import (
	"testing"
	"time"
)

func TestSchedules(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		s           Schedule
		at          time.Time
		key         string
		start, next time.Time
	}{
		{"daily before 02:00 belongs to yesterday", Daily(2, 0, sh), time.Date(2026, 11, 23, 1, 59, 59, 0, sh),
			"2026-11-22", time.Date(2026, 11, 22, 2, 0, 0, 0, sh), time.Date(2026, 11, 23, 2, 0, 0, 0, sh)},
		{"daily at 02:00 sharp", Daily(2, 0, sh), time.Date(2026, 11, 23, 2, 0, 0, 0, sh),
			"2026-11-23", time.Date(2026, 11, 23, 2, 0, 0, 0, sh), time.Date(2026, 11, 24, 2, 0, 0, 0, sh)},
		{"daily: instant given in UTC", Daily(2, 0, sh), time.Date(2026, 11, 22, 18, 30, 0, 0, time.UTC),
			"2026-11-23", time.Date(2026, 11, 23, 2, 0, 0, 0, sh), time.Date(2026, 11, 24, 2, 0, 0, 0, sh)},
		{"daily across a month end", Daily(23, 30, sh), time.Date(2026, 12, 1, 0, 10, 0, 0, sh),
			"2026-11-30", time.Date(2026, 11, 30, 23, 30, 0, 0, sh), time.Date(2026, 12, 1, 23, 30, 0, 0, sh)},
		{"daily on a DST change day", Daily(2, 30, ny), time.Date(2026, 11, 1, 12, 0, 0, 0, ny),
			"2026-11-01", time.Date(2026, 11, 1, 2, 30, 0, 0, ny), time.Date(2026, 11, 2, 2, 30, 0, 0, ny)},
		{"daily nil location is UTC", Daily(0, 0, nil), time.Date(2026, 11, 23, 23, 59, 0, 0, time.UTC),
			"2026-11-23", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		{"hourly at :15, before", Hourly(15), time.Date(2026, 11, 23, 10, 14, 0, 0, time.UTC),
			"2026-11-23T09:15Z", time.Date(2026, 11, 23, 9, 15, 0, 0, time.UTC), time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)},
		{"hourly at :15, after", Hourly(15), time.Date(2026, 11, 23, 10, 15, 0, 1, sh),
			"2026-11-23T02:15Z", time.Date(2026, 11, 23, 2, 15, 0, 0, time.UTC), time.Date(2026, 11, 23, 3, 15, 0, 0, time.UTC)},
		{"every 5 minutes", Every(5 * time.Minute), time.Date(2026, 11, 23, 10, 14, 59, 0, time.UTC),
			"2026-11-23T10:10:00Z", time.Date(2026, 11, 23, 10, 10, 0, 0, time.UTC), time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)},
		{"every 6 hours aligned to UTC midnight", Every(6 * time.Hour), time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC),
			"2026-11-23T00:00:00Z", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, start, next := c.s.Period(c.at)
			if key != c.key || !start.Equal(c.start) || !next.Equal(c.next) {
				t.Fatalf("Period(%s) = %q %s %s, want %q %s %s", c.at, key, start, next, c.key, c.start, c.next)
			}
			// Every instant of the period has the same key; the next period another one.
			for _, at := range []time.Time{start, next.Add(-time.Nanosecond)} {
				if k, _, _ := c.s.Period(at); k != key {
					t.Fatalf("Period(%s) key %q, want %q", at, k, key)
				}
			}
			if k, s, _ := c.s.Period(next); k == key || !s.Equal(next) {
				t.Fatalf("next period: %q from %s", k, s)
			}
		})
	}
}
