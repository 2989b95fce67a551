package calendar

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a wall-clock time in Shanghai: at("2026-02-13 17:00").
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func defaultCal(t testing.TB) *Calendar {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEmbeddedTables(t *testing.T) {
	years, err := ChinaYears()
	if err != nil {
		t.Fatal(err)
	}
	if len(years) != 2 || years[0].Year != 2025 || years[1].Year != 2026 {
		t.Fatalf("years = %+v", years)
	}
	count := func(y Year) (days int) {
		for _, h := range y.Holidays {
			days += len(h.Days)
		}
		return days
	}
	// 2025: 1 + 8 + 3 + 5 + 3 + 8 days off; 5 make-up days.
	// 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7 days off; 6 make-up days.
	if got := count(years[0]); got != 28 || len(years[0].Workdays) != 5 {
		t.Errorf("2025: %d holiday days, %d workdays", got, len(years[0].Workdays))
	}
	if got := count(years[1]); got != 33 || len(years[1].Workdays) != 6 {
		t.Errorf("2026: %d holiday days, %d workdays", got, len(years[1].Workdays))
	}
	for _, y := range years {
		if !strings.Contains(y.Source, "国务院办公厅") {
			t.Errorf("%d: source %q does not cite the State Council notice", y.Year, y.Source)
		}
	}
}

func TestWorkingDays2026(t *testing.T) {
	c := defaultCal(t)
	tests := []struct {
		date    string
		working bool
		holiday string
	}{
		{"2026-01-01", false, "元旦"},
		{"2026-01-02", false, "元旦"}, // a Friday off
		{"2026-01-04", true, ""},    // Sunday make-up day
		{"2026-01-05", true, ""},
		{"2026-02-13", true, ""},
		{"2026-02-14", true, ""}, // Saturday make-up day
		{"2026-02-15", false, "春节"},
		{"2026-02-23", false, "春节"}, // the Monday at the end of the festival
		{"2026-02-24", true, ""},
		{"2026-02-28", true, ""}, // Saturday make-up day
		{"2026-03-01", false, ""},
		{"2026-04-06", false, "清明节"},
		{"2026-05-05", false, "劳动节"},
		{"2026-05-09", true, ""},
		{"2026-06-19", false, "端午节"},
		{"2026-09-20", true, ""}, // Sunday make-up day
		{"2026-09-25", false, "中秋节"},
		{"2026-10-01", false, "国庆节"}, // a Thursday off
		{"2026-10-07", false, "国庆节"},
		{"2026-10-08", true, ""},
		{"2026-10-10", true, ""},
		{"2026-10-11", false, ""},
		{"2025-01-26", true, ""},
		{"2025-10-08", false, "国庆节、中秋节"},
		{"2027-01-04", true, ""}, // beyond the tables: the weekly pattern
		{"2027-01-09", false, ""},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.date)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.IsWorkingDay(d); got != tt.working {
			t.Errorf("IsWorkingDay(%s) = %v", tt.date, got)
		}
		name, _ := c.Holiday(d)
		if name != tt.holiday {
			t.Errorf("Holiday(%s) = %q, want %q", tt.date, name, tt.holiday)
		}
	}
}

func TestAddBusinessHours(t *testing.T) {
	c := defaultCal(t)
	tests := []struct {
		name  string
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"before Spring Festival: onto the make-up Saturday", at("2026-02-13 17:00"), 2 * time.Hour, at("2026-02-14 10:00")},
		{"over the whole festival", at("2026-02-13 17:00"), 11 * time.Hour, at("2026-02-24 10:00")},
		{"48h across Spring Festival", at("2026-02-12 09:00"), 48 * time.Hour, at("2026-02-26 12:00")},
		{"48h across Labour Day and its make-up Saturday", at("2026-04-30 09:00"), 48 * time.Hour, at("2026-05-11 12:00")},
		{"Sunday make-up day counts", at("2026-09-19 12:00"), time.Hour, at("2026-09-20 10:00")},
		{"holiday Thursday does not", at("2026-09-30 17:00"), 2 * time.Hour, at("2026-10-08 10:00")},
		{"24h across National Day", at("2026-09-30 09:00"), 24 * time.Hour, at("2026-10-09 15:00")},
		{"33h across National Day onto the make-up Saturday", at("2026-09-30 09:00"), 33 * time.Hour, at("2026-10-10 15:00")},
		{"across the new year into a make-up Sunday", at("2025-12-31 17:00"), 2 * time.Hour, at("2026-01-04 10:00")},
		{"crossing midnight", at("2026-03-10 17:30"), time.Hour, at("2026-03-11 09:30")},
		{"exactly the rest of the day ends at closing", at("2026-03-06 09:00"), 9 * time.Hour, at("2026-03-06 18:00")},
		{"one nanosecond more is next opening", at("2026-03-06 09:00"), 9*time.Hour + 1, at("2026-03-09 09:00").Add(1)},
		{"start before opening", at("2026-03-10 07:00"), time.Hour, at("2026-03-10 10:00")},
		{"start on Saturday night", at("2026-03-07 20:00"), time.Hour, at("2026-03-09 10:00")},
		{"start on a holiday", at("2026-10-03 11:00"), 30 * time.Minute, at("2026-10-08 09:30")},
		{"start at closing", at("2026-03-10 18:00"), time.Minute, at("2026-03-11 09:01")},
		{"24h default SLA on a plain Monday", at("2026-03-09 10:00"), 24 * time.Hour, at("2026-03-11 16:00")},
		{"beyond the tables: regular weeks", at("2027-03-01 09:00"), 45 * time.Hour * 52, at("2028-02-25 18:00")},
		{"zero is unchanged", at("2026-03-07 20:00"), 0, at("2026-03-07 20:00")},
		{"negative is unchanged", at("2026-03-10 10:00"), -time.Hour, at("2026-03-10 10:00")},
	}
	for _, tt := range tests {
		got := c.AddBusinessHours(tt.start, tt.d)
		if !got.Equal(tt.want) {
			t.Errorf("%s: AddBusinessHours(%s, %s) = %s, want %s", tt.name, tt.start, tt.d, got, tt.want)
		}
		if got.Location().String() != "Asia/Shanghai" {
			t.Errorf("%s: result in %s", tt.name, got.Location())
		}
		if ref := refAdd(c, tt.start, tt.d); !ref.Equal(got) {
			t.Errorf("%s: reference says %s", tt.name, ref)
		}
	}
}

func TestTimeZones(t *testing.T) {
	c := defaultCal(t)
	// 09:00 UTC is 17:00 in Shanghai, on the Friday before Spring Festival.
	start := time.Date(2026, 2, 13, 9, 0, 0, 0, time.UTC)
	got := c.AddBusinessHours(start, 2*time.Hour)
	if !got.Equal(at("2026-02-14 10:00")) || got.Location().String() != "Asia/Shanghai" {
		t.Errorf("UTC input: got %s", got)
	}
	// 2026-03-08 20:00 in New York is Monday 08:00 in Shanghai: one hour before opening.
	ny := mustLoc("America/New_York")
	if got := c.AddBusinessHours(time.Date(2026, 3, 8, 20, 0, 0, 0, ny), time.Hour); !got.Equal(at("2026-03-09 10:00")) {
		t.Errorf("New York input: got %s", got)
	}
	if d := c.DateOf(time.Date(2026, 2, 13, 20, 0, 0, 0, time.UTC)); d.String() != "2026-02-14" {
		t.Errorf("DateOf = %s", d)
	}
	// A calendar in a zone with daylight saving time: Friday 16:00 CET + 2h over the
	// weekend on which Berlin switches to CEST.
	berlin := mustLoc("Europe/Berlin")
	cb, err := New(Config{Location: berlin})
	if err != nil {
		t.Fatal(err)
	}
	fri := time.Date(2026, 3, 27, 16, 0, 0, 0, berlin)
	if got, want := cb.AddBusinessHours(fri, 3*time.Hour), time.Date(2026, 3, 30, 10, 0, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("Berlin over DST: got %s, want %s", got, want)
	}
	if got := cb.BusinessDuration(fri, time.Date(2026, 3, 30, 10, 0, 0, 0, berlin)); got != 3*time.Hour {
		t.Errorf("Berlin BusinessDuration = %s", got)
	}
	// Open every day: hours are wall-clock hours, also on the day the clocks change.
	var daily [7][]Interval
	for wd := range daily {
		daily[wd] = []Interval{{9 * time.Hour, 18 * time.Hour}}
	}
	cd, err := New(Config{Location: berlin, Hours: daily})
	if err != nil {
		t.Fatal(err)
	}
	sat := time.Date(2026, 3, 28, 17, 0, 0, 0, berlin)
	if got, want := cd.AddBusinessHours(sat, 2*time.Hour), time.Date(2026, 3, 29, 10, 0, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("Berlin on the DST day: got %s, want %s", got, want)
	}
	if got := cd.AddWorkingDays(sat, 1); !got.Equal(time.Date(2026, 3, 29, 18, 0, 0, 0, berlin)) {
		t.Errorf("Berlin AddWorkingDays on the DST day: got %s", got)
	}
}

func TestCustomHours(t *testing.T) {
	lunch, err := ParseHours("09:00-12:00, 13:30-18:00")
	if err != nil {
		t.Fatal(err)
	}
	var hours [7][]Interval
	for wd := time.Monday; wd <= time.Friday; wd++ {
		hours[wd] = lunch
	}
	hours[time.Saturday], _ = ParseHours("10:00-16:00")
	sat, _ := ParseDate("2026-03-14")
	wdSun, _ := ParseDate("2026-03-15")
	hol, _ := ParseDate("2026-03-12")
	c, err := New(Config{
		Hours:       hours,
		MakeupHours: []Interval{{8 * time.Hour, 12 * time.Hour}},
		Holidays:    map[Date]string{hol: "company day"},
		Workdays:    []Date{wdSun},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{at("2026-03-10 11:30"), time.Hour, at("2026-03-10 14:00")},     // lunch does not count
		{at("2026-03-10 12:30"), time.Hour, at("2026-03-10 14:30")},     // starting at lunch
		{at("2026-03-10 11:00"), time.Hour, at("2026-03-10 12:00")},     // due at the start of lunch
		{at("2026-03-11 17:00"), 2 * time.Hour, at("2026-03-13 10:00")}, // the 12th is a company holiday
		{at("2026-03-13 17:00"), 2 * time.Hour, at("2026-03-14 11:00")}, // Saturday hours
		{at("2026-03-14 15:00"), 2 * time.Hour, at("2026-03-15 09:00")}, // Sunday make-up: 08:00-12:00
		{at("2026-03-15 11:00"), 2 * time.Hour, at("2026-03-16 10:00")},
	}
	for _, tt := range tests {
		if got := c.AddBusinessHours(tt.start, tt.d); !got.Equal(tt.want) {
			t.Errorf("AddBusinessHours(%s, %s) = %s, want %s", tt.start, tt.d, got, tt.want)
		}
		if ref := refAdd(c, tt.start, tt.d); !ref.Equal(tt.want) {
			t.Errorf("reference(%s, %s) = %s", tt.start, tt.d, ref)
		}
	}
	if !c.IsWorkingDay(sat) || c.IsWorkingDay(hol) {
		t.Error("IsWorkingDay wrong for custom days")
	}
	// Around the clock: crossing midnight keeps counting.
	var always [7][]Interval
	for wd := range always {
		always[wd] = []Interval{{0, 24 * time.Hour}}
	}
	c24, err := New(Config{Hours: always})
	if err != nil {
		t.Fatal(err)
	}
	if got := c24.AddBusinessHours(at("2026-03-10 23:30"), time.Hour); !got.Equal(at("2026-03-11 00:30")) {
		t.Errorf("24/7 across midnight: %s", got)
	}
	if got := c24.BusinessDuration(at("2026-01-01 00:00"), at("2027-01-01 00:00")); got != 365*24*time.Hour {
		t.Errorf("24/7 year = %s", got)
	}
}

func TestBusinessDuration(t *testing.T) {
	c := defaultCal(t)
	tests := []struct {
		from, to time.Time
		want     time.Duration
	}{
		{at("2026-02-13 17:00"), at("2026-02-14 10:00"), 2 * time.Hour},
		{at("2026-02-13 17:00"), at("2026-02-24 10:00"), 11 * time.Hour},
		{at("2026-03-07 10:00"), at("2026-03-08 10:00"), 0}, // a weekend
		{at("2026-03-10 10:00"), at("2026-03-10 10:00"), 0},
		{at("2026-03-10 12:00"), at("2026-03-10 10:00"), -2 * time.Hour},
		// 2026: 261 weekdays; 19 of them off (New Year 2, Spring Festival 6, Qingming 1,
		// Labour Day 3, Dragon Boat 1, Mid-Autumn 1, National Day 5); 6 make-up days.
		{at("2026-01-01 00:00"), at("2027-01-01 00:00"), 9 * time.Hour * (261 - 19 + 6)},
		// 2025: 261 weekdays; 18 off (1 + 6 + 1 + 3 + 1 + 6); 5 make-up days.
		{at("2025-01-01 00:00"), at("2026-01-01 00:00"), 9 * time.Hour * (261 - 18 + 5)},
	}
	for _, tt := range tests {
		if got := c.BusinessDuration(tt.from, tt.to); got != tt.want {
			t.Errorf("BusinessDuration(%s, %s) = %s, want %s", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	c := defaultCal(t)
	tests := []struct {
		name  string
		start time.Time
		n     int
		want  time.Time
	}{
		{"plain week", at("2026-03-09 10:00"), 3, at("2026-03-12 18:00")},
		{"the day of t never counts", at("2026-03-09 07:00"), 1, at("2026-03-10 18:00")},
		{"from Friday", at("2026-03-13 17:00"), 1, at("2026-03-16 18:00")},
		{"from Sunday", at("2026-03-15 12:00"), 1, at("2026-03-16 18:00")},
		{"across National Day onto the make-up Saturday", at("2026-09-30 10:00"), 3, at("2026-10-10 18:00")},
		{"from the Sunday make-up day", at("2026-09-18 10:00"), 1, at("2026-09-20 18:00")},
		{"across Spring Festival", at("2026-02-13 10:00"), 2, at("2026-02-24 18:00")},
		{"beyond the tables", at("2027-03-01 10:00"), 5 * 52, at("2028-02-28 18:00")},
		{"zero is unchanged", at("2026-03-09 10:00"), 0, at("2026-03-09 10:00")},
		{"negative is unchanged", at("2026-03-09 10:00"), -2, at("2026-03-09 10:00")},
	}
	for _, tt := range tests {
		if got := c.AddWorkingDays(tt.start, tt.n); !got.Equal(tt.want) {
			t.Errorf("%s: AddWorkingDays(%s, %d) = %s, want %s", tt.name, tt.start, tt.n, got, tt.want)
		}
	}
}

func TestIsWorkingTime(t *testing.T) {
	c := defaultCal(t)
	for s, want := range map[string]bool{
		"2026-03-10 09:00": true, "2026-03-10 17:59": true, "2026-03-10 18:00": false,
		"2026-03-10 08:59": false, "2026-02-14 10:00": true, "2026-02-16 10:00": false,
	} {
		if got := c.IsWorkingTime(at(s)); got != want {
			t.Errorf("IsWorkingTime(%s) = %v", s, got)
		}
	}
}

func TestAddCalendarAndParseDuration(t *testing.T) {
	c := defaultCal(t)
	if got := c.AddCalendar(time.Date(2026, 2, 13, 9, 0, 0, 0, time.UTC), 36*time.Hour); !got.Equal(at("2026-02-15 05:00")) {
		t.Errorf("AddCalendar = %s", got)
	}
	good := map[string]time.Duration{
		"36h": 36 * time.Hour, "3d": 72 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute,
		" 2d ": 48 * time.Hour, "0d": 0, "1h30m": 90 * time.Minute,
	}
	for in, want := range good {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-3d", "3d-1h", "-1h", "1.5d", "3x", "+3d", "3dd", "99999999d", "1d+1h"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %s, want error", in, got)
		}
	}
	for _, in := range []string{"9:00-18:00", "09:00-08:00", "09:00-12:00,11:00-13:00", "25:00-26:00", "09:00", "09:60-10:00", "24:30-24:40"} {
		if _, err := ParseHours(in); err == nil {
			t.Errorf("ParseHours(%q) accepted", in)
		}
	}
	if ivs, err := ParseHours("00:00-24:00"); err != nil || len(ivs) != 1 || ivs[0].String() != "00:00-24:00" {
		t.Errorf("ParseHours full day = %v, %v", ivs, err)
	}
}

func TestLoadYear(t *testing.T) {
	good := `{"year":2027,"source":"test","holidays":[{"name":"A","days":["2027-01-01"]}],"workdays":["2027-01-02"]}`
	y, err := LoadYear([]byte(good))
	if err != nil || y.Year != 2027 || len(y.Holidays) != 1 || y.Workdays[0].String() != "2027-01-02" {
		t.Fatalf("LoadYear = %+v, %v", y, err)
	}
	bad := map[string]string{
		"date outside the year":  `{"year":2027,"holidays":[{"name":"A","days":["2026-12-31"]}],"workdays":[]}`,
		"workday outside":        `{"year":2027,"holidays":[],"workdays":["2028-01-01"]}`,
		"both":                   `{"year":2027,"holidays":[{"name":"A","days":["2027-01-02"]}],"workdays":["2027-01-02"]}`,
		"workday on a weekday":   `{"year":2027,"holidays":[],"workdays":["2027-01-04"]}`,
		"unnamed holiday":        `{"year":2027,"holidays":[{"name":" ","days":["2027-01-01"]}],"workdays":[]}`,
		"holiday without days":   `{"year":2027,"holidays":[{"name":"A","days":[]}],"workdays":[]}`,
		"duplicate day":          `{"year":2027,"holidays":[{"name":"A","days":["2027-01-01"]},{"name":"B","days":["2027-01-01"]}]}`,
		"impossible date":        `{"year":2027,"holidays":[{"name":"A","days":["2027-02-29"]}]}`,
		"bad date format":        `{"year":2027,"holidays":[{"name":"A","days":["2027-1-1"]}]}`,
		"unknown field":          `{"year":2027,"holidays":[],"extra":1}`,
		"trailing data":          `{"year":2027,"holidays":[]} {}`,
		"year out of range":      `{"year":1800,"holidays":[]}`,
		"not json":               `year: 2027`,
		"name too long":          `{"year":2027,"holidays":[{"name":"` + strings.Repeat("x", 65) + `","days":["2027-01-01"]}]}`,
		"wrong type for the day": `{"year":2027,"holidays":[{"name":"A","days":[20270101]}]}`,
	}
	for name, in := range bad {
		if _, err := LoadYear([]byte(in)); !errors.Is(err, ErrInvalidYear) {
			t.Errorf("%s: LoadYear error = %v", name, err)
		}
	}
}

func TestNewRefusesBadConfigs(t *testing.T) {
	d, _ := ParseDate("2026-03-14")
	var noHours [7][]Interval
	noHours[time.Sunday] = []Interval{{10 * time.Hour, 9 * time.Hour}}
	cfgs := map[string]Config{
		"holiday and workday": {Holidays: map[Date]string{d: "x"}, Workdays: []Date{d}},
		"unnamed holiday":     {Holidays: map[Date]string{d: ""}},
		"bad interval":        {Hours: noHours},
		"not a date":          {Workdays: []Date{{2026, 2, 30}}},
		"out of range":        {Workdays: []Date{{2200, 1, 1}}},
		"bad makeup hours":    {MakeupHours: []Interval{{-time.Hour, time.Hour}}},
	}
	for name, cfg := range cfgs {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted", name)
		}
	}
	// Only Saturday has hours, and Monday none: make-up days need explicit hours.
	var satOnly [7][]Interval
	satOnly[time.Saturday] = []Interval{{9 * time.Hour, 12 * time.Hour}}
	if _, err := New(Config{Hours: satOnly}); err == nil {
		t.Error("make-up days without hours accepted")
	}
	if _, err := New(Config{Hours: satOnly, MakeupHours: satOnly[time.Saturday]}); err != nil {
		t.Error(err)
	}
}

func TestDates(t *testing.T) {
	for n := int64(-800000); n < 800000; n += 97 {
		y, m, d := civilFromDays(n)
		if daysFromCivil(y, m, d) != n {
			t.Fatalf("round trip of day %d", n)
		}
		tm := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
		if floorDiv(tm.Unix(), 86400) != n || tm.Weekday() != weekdayOf(n) || tm.Year() != y {
			t.Fatalf("day %d: %s vs %d-%d-%d", n, tm, y, m, d)
		}
	}
	if NewDate(2026, 2, 30).String() != "2026-03-02" || NewDate(2026, 14, 1).String() != "2027-02-01" {
		t.Error("NewDate does not normalize")
	}
	if _, err := ParseDate("2026-02-30"); err == nil {
		t.Error("ParseDate accepted 2026-02-30")
	}
	d, _ := ParseDate("2026-02-14")
	if d.Weekday() != time.Saturday || d.AddDays(1).String() != "2026-02-15" || !d.Before(d.AddDays(1)) {
		t.Error("Date methods")
	}
}

// refAdd is a plain day-by-day implementation of AddBusinessHours built on the public
// Hours method, used as the oracle in table and property tests.
func refAdd(c *Calendar, t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	t = t.In(c.loc)
	date := DateOf(t)
	midnight := time.Date(date.Year, date.Month, date.Day, 0, 0, 0, 0, c.loc)
	sod := t.Sub(midnight)
	for {
		for _, iv := range c.Hours(date) {
			if sod >= iv.End {
				continue
			}
			start := max(sod, iv.Start)
			if avail := iv.End - start; d <= avail {
				return midnight.Add(start + d)
			} else {
				d -= avail
			}
		}
		date = date.AddDays(1)
		midnight = time.Date(date.Year, date.Month, date.Day, 0, 0, 0, 0, c.loc)
		sod = 0
	}
}

// refDuration sums working time day by day (from <= to).
func refDuration(c *Calendar, from, to time.Time) time.Duration {
	var sum time.Duration
	from, to = from.In(c.loc), to.In(c.loc)
	for date := DateOf(from); !DateOf(to).Before(date); date = date.AddDays(1) {
		midnight := time.Date(date.Year, date.Month, date.Day, 0, 0, 0, 0, c.loc)
		for _, iv := range c.Hours(date) {
			a, b := midnight.Add(iv.Start), midnight.Add(iv.End)
			if from.After(a) {
				a = from
			}
			if to.Before(b) {
				b = to
			}
			if b.After(a) {
				sum += b.Sub(a)
			}
		}
	}
	return sum
}

// checkProperties compares with the oracle and checks the inverse property.
func checkProperties(t *testing.T, c *Calendar, start time.Time, d time.Duration, r *rand.Rand) {
	t.Helper()
	got := c.AddBusinessHours(start, d)
	if ref := refAdd(c, start, d); !got.Equal(ref) {
		t.Fatalf("AddBusinessHours(%s, %s) = %s, reference %s", start, d, got, ref)
	}
	if d > 0 {
		if bd := c.BusinessDuration(start, got); bd != d {
			t.Fatalf("BusinessDuration(%s, %s) = %s, want %s", start, got, bd, d)
		}
	}
	// u: an instant strictly inside some working interval after start.
	u := got
	if r != nil {
		u = u.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
	}
	date := c.DateOf(u)
	for len(c.Hours(date)) == 0 {
		date = date.AddDays(1)
	}
	ivs := c.Hours(date)
	iv := ivs[len(ivs)-1]
	midnight := time.Date(date.Year, date.Month, date.Day, 0, 0, 0, 0, c.loc)
	off := iv.End - iv.Start
	if r != nil {
		off = time.Duration(r.Int64N(int64(off))) + 1
	}
	u = midnight.Add(iv.Start + off)
	if !u.After(start) {
		return
	}
	bd := c.BusinessDuration(start, u)
	if ref := refDuration(c, start, u); bd != ref {
		t.Fatalf("BusinessDuration(%s, %s) = %s, reference %s", start, u, bd, ref)
	}
	if back := c.AddBusinessHours(start, bd); !back.Equal(u) {
		t.Fatalf("AddBusinessHours(%s, BusinessDuration(..., %s) = %s) = %s", start, u, bd, back)
	}
}

func TestProperties(t *testing.T) {
	c := defaultCal(t)
	r := rand.New(rand.NewPCG(11, 12))
	base := at("2024-06-01 00:00")
	for range 20000 {
		start := base.Add(time.Duration(r.Int64N(int64(4 * 365 * 24 * time.Hour))))
		if r.IntN(3) == 0 {
			start = start.Truncate(time.Hour) // land on openings and closings often
		}
		d := time.Duration(r.Int64N(int64(200 * time.Hour)))
		if r.IntN(4) == 0 {
			d = d.Truncate(time.Hour)
		}
		checkProperties(t, c, start, d, r)
	}
}

func FuzzBusinessTime(f *testing.F) {
	f.Add(int64(1770973200), int64(7200), uint64(1)) // 2026-02-13 17:00 +08, 2h
	f.Add(int64(1790000000), int64(86400), uint64(2))
	f.Add(int64(0), int64(-5), uint64(3))
	f.Add(int64(-5000000000), int64(1<<62), uint64(4))
	c, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sec, dsec int64, seed uint64) {
		start := time.Unix(sec, 0)
		d := time.Duration(dsec) * time.Second
		if dsec > 1<<40 || dsec < -(1<<40) {
			d = time.Duration(dsec) // any nanosecond value: must not panic
		}
		got := c.AddBusinessHours(start, d)
		_ = c.BusinessDuration(start, got)
		_ = c.AddWorkingDays(start, int(dsec%100000))
		_ = c.IsWorkingTime(start)
		// Properties within the range where the oracle is cheap.
		if sec < 1577836800 || sec > 1893456000 || dsec < 0 || dsec > 3*365*86400 {
			return
		}
		checkProperties(t, c, start, d, rand.New(rand.NewPCG(seed, 1)))
	})
}

func BenchmarkAddBusinessHours(b *testing.B) {
	c := defaultCal(b)
	r := rand.New(rand.NewPCG(1, 1))
	starts := make([]time.Time, 1024)
	for i := range starts {
		starts[i] = at("2025-06-01 00:00").Add(time.Duration(r.Int64N(int64(540 * 24 * time.Hour)))).Truncate(time.Minute)
	}
	targets := []time.Duration{24 * time.Hour, 48 * time.Hour}
	b.ReportAllocs()
	b.ResetTimer()
	var sink time.Time
	for i := 0; b.Loop(); i++ {
		sink = c.AddBusinessHours(starts[i&1023], targets[i&1])
	}
	_ = sink
}

func BenchmarkBusinessDuration(b *testing.B) {
	c := defaultCal(b)
	from, to := at("2026-02-13 17:00"), at("2026-10-10 11:00")
	b.ReportAllocs()
	for b.Loop() {
		_ = c.BusinessDuration(from, to)
	}
}

func BenchmarkAddWorkingDays(b *testing.B) {
	c := defaultCal(b)
	start := at("2026-09-30 10:00")
	b.ReportAllocs()
	for b.Loop() {
		_ = c.AddWorkingDays(start, 3)
	}
}
