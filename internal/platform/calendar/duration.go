package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses an SLA target: a Go duration ("36h", "90m", "1h30m") optionally
// preceded by a whole number of days ("3d", "1d12h"), where a day is 24 hours. Negative
// and empty values are refused. Note that "3d" given to AddBusinessHours means 72
// hours of working time; "within 3 working days" is AddWorkingDays(t, 3).
func ParseDuration(s string) (time.Duration, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("calendar: empty duration")
	}
	var total time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 36500 || s[0] == '+' || s[0] == '-' {
			return 0, fmt.Errorf("calendar: bad duration %q", in)
		}
		total = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return total, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || s[0] == '-' || s[0] == '+' {
		return 0, fmt.Errorf("calendar: bad duration %q", in)
	}
	if d > 36500*24*time.Hour {
		return 0, fmt.Errorf("calendar: duration %q too long", in)
	}
	return total + d, nil
}

// ParseHours parses working intervals written "09:00-12:00,13:30-18:00" ("24:00" may
// end a day; an empty string means no hours).
func ParseHours(s string) ([]Interval, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var ivs []Interval
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, fmt.Errorf("calendar: bad hours %q (want HH:MM-HH:MM)", part)
		}
		start, err1 := parseClock(a)
		end, err2 := parseClock(b)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("calendar: bad hours %q (want HH:MM-HH:MM)", part)
		}
		ivs = append(ivs, Interval{start, end})
	}
	if err := checkIntervals(ivs); err != nil {
		return nil, fmt.Errorf("calendar: hours %q: %w", s, err)
	}
	return ivs, nil
}

func parseClock(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}
