package calendar

import (
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

func mustDefault(t testing.TB) *Calendar {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWorkingDaysBetweenAndRemaining(t *testing.T) {
	c := mustDefault(t)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		from, to string
		days     int
	}{
		{"2026-02-13T10:00:00+08:00", "2026-02-13T17:00:00+08:00", 0},
		{"2026-02-13T10:00:00+08:00", "2026-02-14T10:00:00+08:00", 1},  // make-up Saturday
		{"2026-02-13T10:00:00+08:00", "2026-02-24T10:00:00+08:00", 2},  // across 春节
		{"2026-02-24T10:00:00+08:00", "2026-02-13T10:00:00+08:00", -2}, // backwards
		{"2026-09-30T10:00:00+08:00", "2026-10-12T10:00:00+08:00", 4},  // 10-08, 09, 10 (Sat), 12
	} {
		if got := c.WorkingDaysBetween(at(tc.from), at(tc.to)); got != tc.days {
			t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tc.from, tc.to, got, tc.days)
		}
	}
	from := at("2026-02-13T17:00:00+08:00")
	for _, m := range Modes {
		for _, d := range []time.Duration{24 * time.Hour, 48 * time.Hour, 72 * time.Hour} {
			due := c.Due(from, d, m)
			if got := c.Remaining(from, due, m); got != d {
				t.Errorf("%s: Remaining(from, Due(from, %v)) = %v", m, d, got)
			}
		}
	}
}

func TestParsePreview(t *testing.T) {
	now := time.Date(2026, 2, 13, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from, dur, mode string
		bad             []string
	}{
		{"", "2h", "", nil},
		{"2026-02-13T17:00:00+08:00", "3d", "working_days", nil},
		{"2026-02-13T17:00:00.5+08:00", "1d2h", "calendar", nil},
		{"2026-02-13", "2h", "", []string{"from"}},
		{"0001-01-01T00:00:00Z", "2h", "", []string{"from"}},
		{"", "", "", []string{"duration"}},
		{"", "0s", "", []string{"duration"}},
		{"", "26h", "working_days", []string{"duration"}},
		{"", "2h", "hourly", []string{"mode"}},
		{"x", "y", "z", []string{"from", "duration", "mode"}},
	} {
		_, _, _, err := ParsePreview(tc.from, tc.dur, tc.mode, now)
		e, _ := apperr.As(err)
		if len(tc.bad) == 0 {
			if err != nil {
				t.Errorf("%v: %v", tc, err)
			}
			continue
		}
		if e == nil || e.Kind != apperr.Invalid {
			t.Errorf("%v: err = %v", tc, err)
			continue
		}
		for _, f := range tc.bad {
			if _, ok := e.Fields[f]; !ok {
				t.Errorf("%v: no error on %s (%v)", tc, f, e.Fields)
			}
		}
		if len(e.Fields) != len(tc.bad) {
			t.Errorf("%v: fields %v", tc, e.Fields)
		}
	}
}

func TestParseHolidayLines(t *testing.T) {
	in := ParseHolidayLines(2026, "s", "春节 2026-02-15 2026-02-23\n\n Dragon Boat Festival 2026-06-19 2026-06-21\nOne day 2026-05-01\n", "2026-02-14, 2026-02-28\n2026-05-09")
	if len(in.Holidays) != 3 || in.Holidays[1].Name != "Dragon Boat Festival" || in.Holidays[2].End != "2026-05-01" {
		t.Fatalf("holidays = %+v", in.Holidays)
	}
	if len(in.Workdays) != 3 {
		t.Fatalf("workdays = %v", in.Workdays)
	}
	fe := apperr.Fields{}
	y := in.toYear("", fe)
	if len(fe) != 0 {
		t.Fatalf("errors %v", fe)
	}
	if err := y.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestViewOfRoundTrip(t *testing.T) {
	years, err := ChinaYears()
	if err != nil {
		t.Fatal(err)
	}
	for _, y := range years {
		v := viewOf(y, OriginEmbedded)
		in := YearInput{Year: v.Year, Source: v.Source}
		for _, h := range v.Holidays {
			in.Holidays = append(in.Holidays, HolidayInput{Name: h.Name, Start: h.Start.String(), End: h.End.String()})
		}
		for _, d := range v.Workdays {
			in.Workdays = append(in.Workdays, d.String())
		}
		fe := apperr.Fields{}
		back := in.toYear("", fe)
		if len(fe) != 0 {
			t.Fatalf("%d: %v", y.Year, fe)
		}
		a, b := New(Config{Years: []Year{y}})
		c, d := New(Config{Years: []Year{back}})
		if b != nil || d != nil {
			t.Fatal(b, d)
		}
		for day := NewDate(y.Year, 1, 1); day.Year == y.Year; day = day.AddDays(1) {
			if a.IsWorkingDay(day) != c.IsWorkingDay(day) {
				t.Errorf("%s differs after the round trip", day)
			}
		}
	}
}

// FuzzPreviewQuery: the preview's query parsing never panics, and what it accepts
// computes a due time no earlier than the start.
func FuzzPreviewQuery(f *testing.F) {
	for _, s := range [][3]string{{"2026-02-13T17:00:00+08:00", "2h", "business_hours"}, {"", "3d", "working_days"},
		{"2026-10-01T00:00:00Z", "1d12h", "calendar"}, {"x", "-1h", "?"}, {"2099-12-31T23:59:59Z", "36500d", "business_hours"},
		{"1900-01-01T00:00:00+14:00", "999999h", "working_days"}} {
		f.Add(s[0], s[1], s[2])
	}
	c := mustDefault(f)
	now := time.Date(2026, 2, 13, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, from, dur, mode string) {
		start, d, m, err := ParsePreview(from, dur, mode, now)
		if err != nil {
			if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || len(e.Fields) == 0 {
				t.Fatalf("error is not a field error: %v", err)
			}
			return
		}
		due := c.Due(start, d, m)
		if due.Before(start) && start.Year() < 2099 {
			t.Fatalf("Due(%v, %v, %s) = %v is before the start", start, d, m, due)
		}
	})
}

// FuzzImport: any uploaded file is either refused with field errors or yields valid
// years.
func FuzzImport(f *testing.F) {
	for _, s := range []string{`{"year":2027,"holidays":[{"name":"a","start":"2027-01-01","end":"2027-01-02"}],"workdays":["2027-01-09"]}`,
		`[{"year":2027,"holidays":[],"workdays":[]}]`, `{"years":[{"year":2028}]}`, `{"year":"x"}`, "[1,", "", "\ufeff{}",
		`{"year":2027,"holidays":[{"name":"a","days":["2027-02-30"]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ins, multi, err := decodeImport(data)
		if err != nil {
			if e, ok := apperr.As(err); !ok || len(e.Fields) == 0 {
				t.Fatalf("decode error is not a field error: %v", err)
			}
			return
		}
		for i, in := range ins {
			fe := apperr.Fields{}
			prefix := ""
			if multi {
				prefix = "years[" + string(rune('0'+i%10)) + "]."
			}
			y := in.toYear(prefix, fe)
			if len(fe) == 0 {
				if err := y.Validate(); err != nil {
					t.Fatalf("accepted an invalid year: %v", err)
				}
				if _, err := New(Config{Years: []Year{y}}); err != nil {
					t.Fatalf("accepted a year New refuses: %v", err)
				}
			}
		}
	})
}

// FuzzHolidayLines: the year form's text never panics the parser.
func FuzzHolidayLines(f *testing.F) {
	f.Add("春节 2026-02-15 2026-02-23\nx 2026-01-01", "2026-02-14, 2026-02-28")
	f.Add("2026-01-01", "")
	f.Fuzz(func(t *testing.T, holidays, workdays string) {
		in := ParseHolidayLines(2026, "", holidays, workdays)
		fe := apperr.Fields{}
		y := in.toYear("", fe)
		if len(fe) == 0 {
			if err := y.Validate(); err != nil {
				t.Fatalf("accepted an invalid year: %v", err)
			}
		}
	})
}

func BenchmarkDue(b *testing.B) {
	c := mustDefault(b)
	from := time.Date(2026, 2, 13, 17, 0, 0, 0, c.Location())
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = c.Due(from.Add(time.Duration(i%1000)*time.Minute), 48*time.Hour, ModeBusinessHours)
	}
}
