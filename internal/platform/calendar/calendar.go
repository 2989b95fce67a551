// Package calendar does business-time arithmetic for SLA clocks: working hours per
// weekday, public holidays and make-up working days (a Saturday or Sunday on which
// people work in exchange for a longer holiday), in one time zone.
//
// A Calendar is immutable and safe for concurrent use. It precomputes, for every day
// covered by its holiday data, how much working time lies before that day; outside
// that range the weekly pattern repeats and whole weeks are skipped arithmetically.
// So AddBusinessHours and BusinessDuration cost a few hundred nanoseconds whatever
// the duration.
//
// Instants are read in the calendar's location (an input in UTC is converted first)
// and results are returned in it. Supported instants lie in 1900-2099; earlier or
// later ones are clamped to that range.
package calendar

import (
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // Asia/Shanghai must load on machines without a zoneinfo database
)

// DefaultZone is the location of a Config without one.
const DefaultZone = "Asia/Shanghai"

const (
	minYear = 1900
	maxYear = 2100 // exclusive
)

var (
	minDay = daysFromCivil(minYear, time.January, 1)
	maxDay = daysFromCivil(maxYear, time.January, 1)
)

// Interval is a span of working time within a day, as offsets from midnight:
// 0 <= Start < End <= 24h.
type Interval struct {
	Start, End time.Duration
}

// String formats the interval as "09:00-18:00".
func (iv Interval) String() string {
	f := func(d time.Duration) string {
		return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return f(iv.Start) + "-" + f(iv.End)
}

// DefaultHours are Monday to Friday 09:00-18:00 as one interval, closed at weekends.
// The lunch break is counted as working time: a service center keeps answering
// through it, and customers are promised hours that include it. A calendar that should
// stop the clock at lunch lists two intervals, e.g. 09:00-12:00 and 13:30-18:00.
func DefaultHours() [7][]Interval {
	var h [7][]Interval
	for wd := time.Monday; wd <= time.Friday; wd++ {
		h[wd] = []Interval{{9 * time.Hour, 18 * time.Hour}}
	}
	return h
}

// Config describes a calendar. The zero Config is Asia/Shanghai, DefaultHours, no
// holidays.
type Config struct {
	// Location of the working hours; nil means Asia/Shanghai.
	Location *time.Location
	// Hours lists the working intervals of each weekday (indexed by time.Weekday),
	// sorted and not overlapping. If every weekday is empty, DefaultHours apply.
	Hours [7][]Interval
	// MakeupHours are the hours of a make-up working day; empty means Monday's hours.
	MakeupHours []Interval
	// Holidays maps days off to the holiday's name.
	Holidays map[Date]string
	// Workdays are make-up working days.
	Workdays []Date
	// Years adds holiday tables (e.g. ChinaYears or tables imported by an admin).
	Years []Year
}

// day kinds inside the precomputed range
const (
	kindRegular uint8 = iota
	kindHoliday
	kindWorkday
)

// Calendar answers business-time questions. Build one with New.
type Calendar struct {
	loc      *time.Location
	week     [7][]Interval
	weekTot  [7]int64 // working nanoseconds of a regular weekday
	weekSum  int64
	weekDays int64 // regular working days per week
	makeup   []Interval
	makeTot  int64
	holidays map[Date]string

	// Precomputed range of days [lo, hi): the kind of each day and, in cum[i], the
	// working time from the start of day lo to the start of day lo+i.
	lo, hi int64
	kind   []uint8
	cum    []int64
}

// Default returns the calendar most Chinese service centers start from: Asia/Shanghai,
// DefaultHours and the embedded official holiday tables.
func Default() (*Calendar, error) {
	years, err := ChinaYears()
	if err != nil {
		return nil, err
	}
	return New(Config{Years: years})
}

// New validates cfg and builds the calendar.
func New(cfg Config) (*Calendar, error) {
	c := &Calendar{loc: cfg.Location, holidays: map[Date]string{}}
	if c.loc == nil {
		loc, err := time.LoadLocation(DefaultZone)
		if err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		c.loc = loc
	}
	c.week = cfg.Hours
	empty := true
	for _, ivs := range c.week {
		if len(ivs) > 0 {
			empty = false
		}
	}
	if empty {
		c.week = DefaultHours()
	}
	for wd, ivs := range c.week {
		if err := checkIntervals(ivs); err != nil {
			return nil, fmt.Errorf("calendar: hours of %s: %w", time.Weekday(wd), err)
		}
		c.week[wd] = append([]Interval(nil), ivs...)
		c.weekTot[wd] = total(ivs)
		c.weekSum += c.weekTot[wd]
		if c.weekTot[wd] > 0 {
			c.weekDays++
		}
	}
	c.makeup = cfg.MakeupHours
	if len(c.makeup) == 0 {
		c.makeup = c.week[time.Monday]
	}
	if err := checkIntervals(c.makeup); err != nil {
		return nil, fmt.Errorf("calendar: make-up day hours: %w", err)
	}
	if total(c.makeup) == 0 {
		return nil, errors.New("calendar: make-up days have no working hours (Monday has none and MakeupHours is empty)")
	}
	c.makeup = append([]Interval(nil), c.makeup...)
	c.makeTot = total(c.makeup)

	workdays := map[Date]bool{}
	addHoliday := func(d Date, name string) error {
		if !d.valid() {
			return fmt.Errorf("calendar: holiday %s is not a date", d)
		}
		if name == "" {
			return fmt.Errorf("calendar: holiday %s has no name", d)
		}
		c.holidays[d] = name
		return nil
	}
	for d, name := range cfg.Holidays {
		if err := addHoliday(d, name); err != nil {
			return nil, err
		}
	}
	for _, d := range cfg.Workdays {
		if !d.valid() {
			return nil, fmt.Errorf("calendar: workday %s is not a date", d)
		}
		workdays[d] = true
	}
	for _, y := range cfg.Years {
		if err := y.Validate(); err != nil {
			return nil, err
		}
		for _, h := range y.Holidays {
			for _, d := range h.Days {
				if err := addHoliday(d, h.Name); err != nil {
					return nil, err
				}
			}
		}
		for _, d := range y.Workdays {
			workdays[d] = true
		}
	}
	if c.weekSum == 0 {
		return nil, errors.New("calendar: no weekday has working hours")
	}

	// The precomputed range: whole years around every listed date.
	c.lo, c.hi = daysFromCivil(2000, time.January, 1), daysFromCivil(2000, time.January, 1)
	first := true
	extend := func(d Date) error {
		if d.Year < minYear || d.Year >= maxYear {
			return fmt.Errorf("calendar: date %s is outside %d-%d", d, minYear, maxYear-1)
		}
		lo, hi := daysFromCivil(d.Year, time.January, 1), daysFromCivil(d.Year+1, time.January, 1)
		if first || lo < c.lo {
			c.lo = lo
		}
		if first || hi > c.hi {
			c.hi = hi
		}
		first = false
		return nil
	}
	for d := range c.holidays {
		if workdays[d] {
			return nil, fmt.Errorf("calendar: %s is both a holiday and a make-up working day", d)
		}
		if err := extend(d); err != nil {
			return nil, err
		}
	}
	for d := range workdays {
		if err := extend(d); err != nil {
			return nil, err
		}
	}
	n := c.hi - c.lo
	c.kind = make([]uint8, n)
	for d := range c.holidays {
		c.kind[d.days()-c.lo] = kindHoliday
	}
	for d := range workdays {
		c.kind[d.days()-c.lo] = kindWorkday
	}
	c.cum = make([]int64, n+1)
	for i := int64(0); i < n; i++ {
		c.cum[i+1] = c.cum[i] + c.dayTotal(c.lo+i)
	}
	return c, nil
}

func checkIntervals(ivs []Interval) error {
	var prev time.Duration
	for i, iv := range ivs {
		if iv.Start < 0 || iv.End > 24*time.Hour || iv.Start >= iv.End {
			return fmt.Errorf("bad interval %s", iv)
		}
		if i > 0 && iv.Start < prev {
			return fmt.Errorf("interval %s overlaps or precedes the one before", iv)
		}
		prev = iv.End
	}
	return nil
}

func total(ivs []Interval) int64 {
	var t int64
	for _, iv := range ivs {
		t += int64(iv.End - iv.Start)
	}
	return t
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Hours returns the working intervals of date d: none on a holiday, the make-up hours
// on a make-up working day, else the hours of its weekday. The slice must not be
// modified.
func (c *Calendar) Hours(d Date) []Interval { return c.intervals(d.days()) }

// IsWorkingDay reports whether date d has working hours.
func (c *Calendar) IsWorkingDay(d Date) bool { return c.dayTotal(d.days()) > 0 }

// IsWorkingTime reports whether t falls inside working hours (start inclusive, end
// exclusive).
func (c *Calendar) IsWorkingTime(t time.Time) bool {
	dn, sod, _ := c.split(t)
	for _, iv := range c.intervals(dn) {
		if sod >= int64(iv.Start) && sod < int64(iv.End) {
			return true
		}
	}
	return false
}

// Holiday returns the name of the holiday on date d.
func (c *Calendar) Holiday(d Date) (name string, ok bool) {
	name, ok = c.holidays[d]
	return name, ok
}

// DateOf returns the date of t in the calendar's location.
func (c *Calendar) DateOf(t time.Time) Date { return DateOf(t.In(c.loc)) }

// AddCalendar adds d of plain elapsed time, for targets measured in calendar time
// (e.g. "36h" around the clock). The result is in the calendar's location.
func (c *Calendar) AddCalendar(t time.Time, d time.Duration) time.Time {
	return t.Add(d).In(c.loc)
}

// AddBusinessHours returns the earliest instant at which d of working time has passed
// since t. Time only runs inside working hours: nights, weekends and holidays are
// skipped and make-up working days count. Starting outside working hours, the clock
// starts at the next opening. A due time that exhausts a day's working time is that
// day's closing time (Friday 18:00), not the next opening. d <= 0 returns t unchanged.
func (c *Calendar) AddBusinessHours(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	dn, sod, off := c.split(t)
	p := c.pos(dn, sod)
	limit := c.w(maxDay)
	target := limit
	if int64(d) < limit-p {
		target = p + int64(d)
	}
	if target <= p {
		return c.join(maxDay, 0, off)
	}
	k, s := c.locate(target)
	return c.join(k, s, off)
}

// BusinessDuration returns the working time between from and to: positive when to is
// later, negative when it is earlier. It is the inverse of AddBusinessHours:
// AddBusinessHours(t, BusinessDuration(t, u)) == u for any u after t that lies inside
// working hours: strictly after an opening time and no later than the following
// closing time (at an opening time the earliest instant with the same working time is
// the previous closing time).
func (c *Calendar) BusinessDuration(from, to time.Time) time.Duration {
	d1, s1, _ := c.split(from)
	d2, s2, _ := c.split(to)
	return time.Duration(c.pos(d2, s2) - c.pos(d1, s1))
}

// AddWorkingDays returns the closing time of the n-th working day after the day of t:
// "within 3 working days" of a request made on Monday is due on Thursday at closing
// time. The day of t never counts, whatever the hour, so a request made on a Friday,
// Saturday or Sunday with n = 1 is due on Monday (or the next working day) at closing.
// n <= 0 returns t unchanged.
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	if n <= 0 {
		return t
	}
	dn, _, off := c.split(t)
	left := int64(n)
	for left > 0 {
		if dn >= c.hi && left > c.weekDays {
			weeks := (left - 1) / c.weekDays // the days after dn are regular
			dn += 7 * weeks
			left -= weeks * c.weekDays
		}
		if dn >= maxDay-1 {
			return c.join(maxDay, 0, off)
		}
		dn++
		if c.dayTotal(dn) > 0 {
			left--
		}
	}
	ivs := c.intervals(dn)
	return c.join(dn, int64(ivs[len(ivs)-1].End), off)
}

// intervals returns the working hours of day number n.
func (c *Calendar) intervals(n int64) []Interval {
	if n >= c.lo && n < c.hi {
		switch c.kind[n-c.lo] {
		case kindHoliday:
			return nil
		case kindWorkday:
			return c.makeup
		}
	}
	return c.week[weekdayOf(n)]
}

func (c *Calendar) dayTotal(n int64) int64 {
	if n >= c.lo && n < c.hi {
		switch c.kind[n-c.lo] {
		case kindHoliday:
			return 0
		case kindWorkday:
			return c.makeTot
		}
	}
	return c.weekTot[weekdayOf(n)]
}

// split converts t to its day number and offset from local midnight (ns) in the
// calendar's location, clamped to the supported range, and the zone offset (s).
func (c *Calendar) split(t time.Time) (dn, sod int64, off int) {
	_, off = t.In(c.loc).Zone()
	sec := t.Unix() + int64(off)
	dn = floorDiv(sec, 86400)
	sod = (sec-dn*86400)*int64(time.Second) + int64(t.Nanosecond())
	if dn < minDay {
		return minDay, 0, off
	}
	if dn >= maxDay {
		return maxDay, 0, off
	}
	return dn, sod, off
}

// join converts a day number and offset from local midnight back to an instant, using
// off, the zone offset of the input, when it still applies.
func (c *Calendar) join(dn, sod int64, off int) time.Time {
	sec := dn*86400 + sod/int64(time.Second) - int64(off)
	u := time.Unix(sec, sod%int64(time.Second)).In(c.loc)
	if _, o := u.Zone(); o == off {
		return u
	}
	// The zone offset changed in between (daylight saving time): sod is wall-clock time.
	y, m, d := civilFromDays(dn)
	sec = sod / int64(time.Second)
	return time.Date(y, m, d, int(sec/3600), int(sec/60%60), int(sec%60), int(sod%int64(time.Second)), c.loc)
}

// w returns the working time from the start of day lo to the start of day n (negative
// for days before lo).
func (c *Calendar) w(n int64) int64 {
	switch {
	case n < c.lo:
		return -c.regular(n, c.lo)
	case n > c.hi:
		return c.cum[len(c.cum)-1] + c.regular(c.hi, n)
	default:
		return c.cum[n-c.lo]
	}
}

// regular returns the working time of the regular days in [a, b).
func (c *Calendar) regular(a, b int64) int64 {
	weeks := (b - a) / 7
	s := weeks * c.weekSum
	for n := a + weeks*7; n < b; n++ {
		s += c.weekTot[weekdayOf(n)]
	}
	return s
}

// pos is the working time from the start of day lo to the instant (day n, sod).
func (c *Calendar) pos(n, sod int64) int64 {
	p := c.w(n)
	for _, iv := range c.intervals(n) {
		if sod <= int64(iv.Start) {
			break
		}
		p += min(sod, int64(iv.End)) - int64(iv.Start)
	}
	return p
}

// locate returns the earliest instant (day, sod) whose pos is target.
func (c *Calendar) locate(target int64) (int64, int64) {
	last := c.cum[len(c.cum)-1]
	switch {
	case target > 0 && target <= last:
		// smallest i with cum[i+1] >= target
		i, j := 0, len(c.cum)-1
		for i < j {
			h := int(uint(i+j) >> 1)
			if c.cum[h+1] < target {
				i = h + 1
			} else {
				j = h
			}
		}
		n := c.lo + int64(i)
		return n, offsetIn(c.intervals(n), target-c.cum[i])
	case target > last:
		return c.forward(c.hi, target-last)
	default:
		deficit := -target
		weeks := deficit/c.weekSum + 1
		return c.forward(c.lo-7*weeks, weeks*c.weekSum-deficit)
	}
}

// forward walks regular days from day n until rem (> 0) of working time has passed.
func (c *Calendar) forward(n, rem int64) (int64, int64) {
	weeks := (rem - 1) / c.weekSum
	n += 7 * weeks
	rem -= weeks * c.weekSum
	for {
		wd := weekdayOf(n)
		if rem <= c.weekTot[wd] {
			return n, offsetIn(c.week[wd], rem)
		}
		rem -= c.weekTot[wd]
		n++
	}
}

// offsetIn returns the offset from midnight at which rem (0 < rem <= total) of the
// day's working time has passed.
func offsetIn(ivs []Interval, rem int64) int64 {
	for _, iv := range ivs {
		l := int64(iv.End - iv.Start)
		if rem <= l {
			return int64(iv.Start) + rem
		}
		rem -= l
	}
	if len(ivs) == 0 {
		return 0
	}
	return int64(ivs[len(ivs)-1].End)
}
