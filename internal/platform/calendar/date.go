package calendar

import (
	"fmt"
	"time"
)

// Date is a civil date without time or zone, usable as a map key. Its text form is
// "YYYY-MM-DD".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date y-m-d, normalized like time.Date (2026-02-30 is 2026-03-02).
func NewDate(y int, m time.Month, d int) Date {
	return dateOfDay(daysFromCivil(y, m, d))
}

// DateOf returns the date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses "YYYY-MM-DD" and refuses dates that do not exist.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return Date{}, fmt.Errorf("calendar: bad date %q (want YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return weekdayOf(d.days()) }

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return dateOfDay(d.days() + int64(n)) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.days() < e.days() }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// valid reports whether d is a real date (not one that NewDate would normalize).
func (d Date) valid() bool { return NewDate(d.Year, d.Month, d.Day) == d }

func (d Date) days() int64 { return daysFromCivil(d.Year, d.Month, d.Day) }

func dateOfDay(n int64) Date {
	y, m, d := civilFromDays(n)
	return Date{y, m, d}
}

// daysFromCivil returns the number of days from 1970-01-01 to y-m-d in the proleptic
// Gregorian calendar (H. Hinnant's algorithm); out-of-range months and days roll over.
func daysFromCivil(y int, m time.Month, d int) int64 {
	yy, mm := int64(y), int64(m)-1
	yy += floorDiv(mm, 12)
	mm = mm - 12*floorDiv(mm, 12) + 1 // 1..12
	if mm <= 2 {
		yy--
	}
	era := floorDiv(yy, 400)
	yoe := yy - era*400
	mp := (mm + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(n int64) (int, time.Month, int) {
	n += 719468
	era := floorDiv(n, 146097)
	doe := n - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), time.Month(m), int(d)
}

// weekdayOf returns the weekday of day number n (day 0, 1970-01-01, was a Thursday).
func weekdayOf(n int64) time.Weekday {
	return time.Weekday((n%7 + 11) % 7)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
