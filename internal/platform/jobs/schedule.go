package jobs

import (
	"fmt"
	"time"
)

// Schedule cuts time into periods. A periodic job runs once per period, at its start.
type Schedule interface {
	// Period returns the key of the period that contains t (the same on every node, e.g.
	// "2026-11-23"), the instant it began and the instant the next one begins.
	Period(t time.Time) (key string, start, next time.Time)
}

// Daily returns a schedule with one period per day, starting at hour:minute in loc
// (nil means UTC); the key is the local date of the start, "2006-01-02".
// Daily(2, 0, shanghai) runs nightly at 02:00 China time.
func Daily(hour, minute int, loc *time.Location) Schedule {
	if hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		panic(fmt.Sprintf("jobs: Daily(%d, %d): bad time of day", hour, minute))
	}
	if loc == nil {
		loc = time.UTC
	}
	return daily{hour: hour, minute: minute, loc: loc}
}

type daily struct {
	hour, minute int
	loc          *time.Location
}

func (d daily) at(y int, m time.Month, day int) time.Time {
	return time.Date(y, m, day, d.hour, d.minute, 0, 0, d.loc)
}

func (d daily) Period(t time.Time) (string, time.Time, time.Time) {
	lt := t.In(d.loc)
	start := d.at(lt.Year(), lt.Month(), lt.Day())
	if start.After(t) {
		start = d.at(lt.Year(), lt.Month(), lt.Day()-1)
	}
	next := d.at(start.Year(), start.Month(), start.Day()+1)
	return start.Format("2006-01-02"), start, next
}

func (d daily) String() string {
	return fmt.Sprintf("daily at %02d:%02d %s", d.hour, d.minute, d.loc)
}

// Hourly returns a schedule with one period per hour, starting minute past each UTC
// hour; the key is the UTC start, "2006-01-02T15:04Z".
func Hourly(minute int) Schedule {
	if minute < 0 || minute > 59 {
		panic(fmt.Sprintf("jobs: Hourly(%d): bad minute", minute))
	}
	return interval{d: time.Hour, offset: time.Duration(minute) * time.Minute, layout: "2006-01-02T15:04Z"}
}

// Every returns a schedule with periods of length d aligned to UTC midnight when d
// divides a day (Every(5*time.Minute) starts periods at :00, :05, ...); the key is the
// UTC start, "2006-01-02T15:04:05Z". d must be at least a second.
func Every(d time.Duration) Schedule {
	if d < time.Second {
		panic(fmt.Sprintf("jobs: Every(%s): period shorter than a second", d))
	}
	return interval{d: d, layout: "2006-01-02T15:04:05Z"}
}

type interval struct {
	d, offset time.Duration
	layout    string
}

func (iv interval) Period(t time.Time) (string, time.Time, time.Time) {
	u := t.UTC()
	start := u.Add(-iv.offset).Truncate(iv.d).Add(iv.offset)
	return start.Format(iv.layout), start, start.Add(iv.d)
}

func (iv interval) String() string {
	if iv.offset != 0 {
		return fmt.Sprintf("every %s at +%s", iv.d, iv.offset)
	}
	return "every " + iv.d.String()
}
