package calendar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// DefaultID is the calendar that always exists and that requests fall back to.
const DefaultID = "default"

// Permissions checked by the registry: reading calendars and holiday tables needs the
// request read permission (agents see the promised times), changing them PermManage.
const (
	PermRead   = "ticket:read"
	PermManage = "calendar:manage"
)

// cacheTTL bounds how long a node serves a calendar another node may have changed
// (a change made on this node is seen at once).
const cacheTTL = 30 * time.Second

// Mode is how an SLA target is measured.
type Mode string

// Target modes.
const (
	ModeCalendar      Mode = "calendar"       // elapsed time around the clock
	ModeBusinessHours Mode = "business_hours" // working time only (AddBusinessHours)
	ModeWorkingDays   Mode = "working_days"   // closing time of the n-th working day
)

// Modes lists every mode.
var Modes = []Mode{ModeCalendar, ModeBusinessHours, ModeWorkingDays}

// ValidMode reports whether m is a mode.
func ValidMode(m Mode) bool {
	return m == ModeCalendar || m == ModeBusinessHours || m == ModeWorkingDays
}

// WholeDays returns the number of whole days in d for the working_days mode; ok is
// false when d is not a positive whole number of days.
func WholeDays(d time.Duration) (int, bool) {
	const day = 24 * time.Hour
	if d <= 0 || d%day != 0 {
		return 0, false
	}
	return int(d / day), true
}

// Due returns the instant a target of d measured in mode falls due when the clock
// starts at from. In working_days mode d must be whole days (see WholeDays); other
// values are rounded up to whole days. An unknown mode counts as calendar time.
func (c *Calendar) Due(from time.Time, d time.Duration, mode Mode) time.Time {
	switch mode {
	case ModeBusinessHours:
		return c.AddBusinessHours(from, d)
	case ModeWorkingDays:
		const day = 24 * time.Hour
		if d <= 0 {
			return from.In(c.loc)
		}
		return c.AddWorkingDays(from, int((d+day-1)/day))
	default:
		return c.AddCalendar(from, d)
	}
}

// Remaining returns how much of a target measured in mode is left at instant at when
// it falls due at due: the calendar time, the working time, or (working_days) the
// working days after at's day up to due's day, as a multiple of 24 h. It is negative
// (or zero) when due has passed.
func (c *Calendar) Remaining(at, due time.Time, mode Mode) time.Duration {
	switch mode {
	case ModeBusinessHours:
		return c.BusinessDuration(at, due)
	case ModeWorkingDays:
		return time.Duration(c.WorkingDaysBetween(at, due)) * 24 * time.Hour
	default:
		return due.Sub(at)
	}
}

// WorkingDaysBetween counts the working days after the day of from up to and including
// the day of to (negative when to is earlier). Same-day instants give 0.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) int {
	a, _, _ := c.split(from)
	b, _, _ := c.split(to)
	sign := 1
	if b < a {
		a, b, sign = b, a, -1
	}
	n := 0
	for d := a + 1; d <= b; d++ {
		if c.dayTotal(d) > 0 {
			n++
		}
		if d-a > 366*200 { // the supported range is 200 years
			break
		}
	}
	return sign * n
}

// Weekdays are the keys of a WeekHours object, Monday first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var weekdayIndex = map[string]time.Weekday{"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday}

// WeekHours are the working hours per weekday as text ("09:00-12:00,13:30-18:00"; ""
// closed), keyed mon..sun: the stored and the API form.
type WeekHours map[string]string

// DefaultWeekHours are DefaultHours in text form.
func DefaultWeekHours() WeekHours {
	h := WeekHours{}
	d := DefaultHours()
	for _, k := range Weekdays {
		h[k] = joinIntervals(d[weekdayIndex[k]])
	}
	return h
}

func joinIntervals(ivs []Interval) string {
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		parts[i] = iv.String()
	}
	return strings.Join(parts, ",")
}

// Parse validates the week and returns it indexed by time.Weekday; problems are field
// errors named "hours.<day>".
func (w WeekHours) Parse(fe apperr.Fields) [7][]Interval {
	var out [7][]Interval
	for k := range w {
		if _, ok := weekdayIndex[k]; !ok {
			fe.Add("hours."+k, "calendar.invalid.weekday")
		}
	}
	hasHours := false
	for _, k := range Weekdays {
		ivs, err := ParseHours(w[k])
		if err != nil {
			fe.Add("hours."+k, "calendar.invalid.hours")
			continue
		}
		if len(ivs) > 0 {
			hasHours = true
		}
		out[weekdayIndex[k]] = ivs
	}
	if !hasHours && len(fe) == 0 {
		fe.Add("hours", "calendar.invalid.no_hours")
	}
	return out
}

// Def is a stored calendar definition.
type Def struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TimeZone  string    `json:"time_zone"`
	Hours     WeekHours `json:"hours"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DefInput is the body of PUT /api/v1/calendars/{id}.
type DefInput struct {
	Name     string    `json:"name"`
	TimeZone string    `json:"time_zone"`
	Hours    WeekHours `json:"hours"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// ValidID reports whether id may name a calendar (lower-case letters, digits, "_" and
// "-", at most 32 characters).
func ValidID(id string) bool { return idPattern.MatchString(id) }

// validate checks the input and builds the calendar it describes (holidays are added
// by the registry).
func (in *DefInput) validate() (*time.Location, [7][]Interval, error) {
	fe := apperr.Fields{}
	in.Name = strings.TrimSpace(in.Name)
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	switch n := len([]rune(in.Name)); {
	case n == 0:
		fe.Add("name", "field.required")
	case n > 64:
		fe.Add("name", "field.too_long", "max", 64)
	}
	var loc *time.Location
	if in.TimeZone == "" {
		in.TimeZone = DefaultZone
	}
	if l, err := loadZone(in.TimeZone); err != nil {
		fe.Add("time_zone", "calendar.invalid.time_zone")
	} else {
		loc = l
	}
	if in.Hours == nil {
		in.Hours = DefaultWeekHours()
	}
	hours := in.Hours.Parse(fe)
	return loc, hours, fe.Err()
}

// loadZone is time.LoadLocation refusing the names it accepts but that are no IANA
// zones ("", "Local") and anything that looks like a path.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return nil, fmt.Errorf("calendar: bad time zone %q", name)
	}
	return time.LoadLocation(name)
}

// RegistryOptions configure a Registry.
type RegistryOptions struct {
	DB    *db.DB
	Audit *audit.Log
	Clock clock.Clock
	Log   *slog.Logger
}

// Registry keeps the business calendars and holiday years in the database and hands
// out built, cached Calendars.
type Registry struct {
	db    *db.DB
	store *regStore
	audit *audit.Log
	clock clock.Clock
	log   *slog.Logger
	web   *web.Engine

	mu     sync.Mutex
	cache  map[string]cached
	years  []Year // merged holiday tables (stored over embedded)
	yearsT time.Time
	gen    uint64 // bumped by every local change
}

type cached struct {
	cal *Calendar
	at  time.Time
	gen uint64
}

// NewRegistry returns a registry over the database.
func NewRegistry(o RegistryOptions) *Registry {
	r := &Registry{db: o.DB, store: &regStore{db: o.DB}, audit: o.Audit, clock: o.Clock, log: o.Log,
		cache: map[string]cached{}}
	if r.clock == nil {
		r.clock = clock.Real{}
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r
}

// SetWeb gives the registry the page engine.
func (r *Registry) SetWeb(e *web.Engine) { r.web = e }

// Templates returns the calendar pages for the web engine ("calendar/<file>").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// invalidate drops every cached calendar (a definition or a holiday year changed).
func (r *Registry) invalidate() {
	r.mu.Lock()
	r.cache = map[string]cached{}
	r.years = nil
	r.gen++
	r.mu.Unlock()
}

// Get returns the built calendar id. The default calendar is created when missing;
// another unknown id is a NotFound error. Calendars are cached (a change on this node
// invalidates at once, on another node within 30 s). Get checks no permission: it
// serves the SLA clocks of every request.
func (r *Registry) Get(ctx context.Context, id string) (*Calendar, error) {
	if id == "" {
		id = DefaultID
	}
	now := time.Now()
	r.mu.Lock()
	c, ok := r.cache[id]
	gen := r.gen
	r.mu.Unlock()
	if ok && c.gen == gen && now.Sub(c.at) < cacheTTL {
		return c.cal, nil
	}
	def, err := r.def(ctx, id)
	if err != nil {
		return nil, err
	}
	years, err := r.holidayYears(ctx, gen)
	if err != nil {
		return nil, err
	}
	cal, err := buildCalendar(def, years)
	if err != nil {
		return nil, fmt.Errorf("calendar: build %q: %w", id, err)
	}
	r.mu.Lock()
	if r.gen == gen {
		r.cache[id] = cached{cal: cal, at: now, gen: gen}
	}
	r.mu.Unlock()
	return cal, nil
}

// def loads a definition, creating the default calendar when missing.
func (r *Registry) def(ctx context.Context, id string) (Def, error) {
	def, err := r.store.get(ctx, id)
	if err == nil {
		return def, nil
	}
	if !db.IsNoRows(err) {
		return Def{}, fmt.Errorf("calendar: load %q: %w", id, err)
	}
	if id != DefaultID {
		return Def{}, apperr.NotFoundf("calendar.thing.calendar")
	}
	def = Def{ID: DefaultID, Name: DefaultID, TimeZone: DefaultZone, Hours: DefaultWeekHours()}
	if err := r.store.insertIfMissing(ctx, def, r.clock.Now()); err != nil {
		return Def{}, fmt.Errorf("calendar: create default: %w", err)
	}
	return r.store.get(ctx, id)
}

// holidayYears returns the merged holiday tables: every stored year, and the embedded
// official years not stored.
func (r *Registry) holidayYears(ctx context.Context, gen uint64) ([]Year, error) {
	r.mu.Lock()
	if r.years != nil && time.Since(r.yearsT) < cacheTTL {
		ys := r.years
		r.mu.Unlock()
		return ys, nil
	}
	r.mu.Unlock()
	stored, err := r.store.years(ctx)
	if err != nil {
		return nil, fmt.Errorf("calendar: load holiday years: %w", err)
	}
	merged, err := mergeYears(stored)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.gen == gen {
		r.years, r.yearsT = merged, time.Now()
	}
	r.mu.Unlock()
	return merged, nil
}

// mergeYears puts stored years over the embedded ones, oldest first.
func mergeYears(stored []StoredYear) ([]Year, error) {
	embedded, err := ChinaYears()
	if err != nil {
		return nil, err
	}
	byYear := map[int]Year{}
	for _, y := range embedded {
		byYear[y.Year] = y
	}
	for _, s := range stored {
		byYear[s.Year.Year] = s.Year
	}
	out := make([]Year, 0, len(byYear))
	for y := minYear; y < maxYear && len(out) < len(byYear); y++ {
		if v, ok := byYear[y]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}

func buildCalendar(def Def, years []Year) (*Calendar, error) {
	loc, err := loadZone(def.TimeZone)
	if err != nil {
		return nil, err
	}
	fe := apperr.Fields{}
	hours := def.Hours.Parse(fe)
	if err := fe.Err(); err != nil {
		return nil, fmt.Errorf("stored hours are invalid: %w", err)
	}
	return New(Config{Location: loc, Hours: hours, Years: years})
}

// HolidayInput is one holiday period as an administrator writes it: a name and either a
// range (start..end, inclusive) or the list of days (the embedded tables' form).
type HolidayInput struct {
	Name  string   `json:"name"`
	Start string   `json:"start,omitempty"`
	End   string   `json:"end,omitempty"`
	Days  []string `json:"days,omitempty"`
}

// YearInput is one year's holiday table as edited or imported: the embedded tables'
// format, where a holiday may also be given as start/end.
type YearInput struct {
	Year     int            `json:"year"`
	Source   string         `json:"source,omitempty"`
	Holidays []HolidayInput `json:"holidays"`
	Workdays []string       `json:"workdays"`
}

// maxHolidayDays bounds one holiday period (the longest official one is 9 days).
const maxHolidayDays = 31

// toYear validates in and converts it; problems are added to fe under prefix (e.g.
// "years[1]."), naming the field ("holidays[2].end") in the user's language.
func (in YearInput) toYear(prefix string, fe apperr.Fields) Year {
	y := Year{Year: in.Year, Source: strings.TrimSpace(in.Source), Holidays: []Holiday{}, Workdays: []Date{}}
	if in.Year < minYear || in.Year >= maxYear {
		fe.Add(prefix+"year", "calendar.invalid.year", "min", minYear, "max", maxYear-1)
		return y
	}
	if len([]rune(y.Source)) > 500 {
		fe.Add(prefix+"source", "field.too_long", "max", 500)
	}
	seen := map[Date]string{}
	date := func(field, s string) (Date, bool) {
		d, err := ParseDate(strings.TrimSpace(s))
		if err != nil {
			fe.Add(field, "calendar.invalid.date")
			return Date{}, false
		}
		if d.Year != in.Year {
			fe.Add(field, "calendar.invalid.not_in_year", "year", in.Year)
			return Date{}, false
		}
		return d, true
	}
	for i, h := range in.Holidays {
		p := fmt.Sprintf("%sholidays[%d].", prefix, i)
		name := strings.TrimSpace(h.Name)
		switch n := len([]rune(name)); {
		case n == 0:
			fe.Add(p+"name", "field.required")
		case n > 64:
			fe.Add(p+"name", "field.too_long", "max", 64)
		}
		var days []Date
		switch {
		case len(h.Days) > 0 && (h.Start != "" || h.End != ""):
			fe.Add(p+"days", "calendar.invalid.days_and_range")
			continue
		case len(h.Days) > 0:
			for j, s := range h.Days {
				if d, ok := date(fmt.Sprintf("%sdays[%d]", p, j), s); ok {
					days = append(days, d)
				}
			}
		default:
			if h.Start == "" {
				fe.Add(p+"start", "field.required")
			}
			if h.End == "" {
				fe.Add(p+"end", "field.required")
			}
			if h.Start == "" || h.End == "" {
				continue
			}
			a, ok1 := date(p+"start", h.Start)
			b, ok2 := date(p+"end", h.End)
			if !ok1 || !ok2 {
				continue
			}
			if b.Before(a) {
				fe.Add(p+"end", "calendar.invalid.end_before_start")
				continue
			}
			if b.days()-a.days() >= maxHolidayDays {
				fe.Add(p+"end", "calendar.invalid.too_many_days", "max", maxHolidayDays)
				continue
			}
			for d := a; !b.Before(d); d = d.AddDays(1) {
				days = append(days, d)
			}
		}
		for _, d := range days {
			if _, dup := seen[d]; dup {
				fe.Add(p+"days", "calendar.invalid.duplicate", "date", d.String())
			}
			seen[d] = name
		}
		if name != "" && len(days) > 0 {
			y.Holidays = append(y.Holidays, Holiday{Name: name, Days: days})
		}
	}
	for j, s := range in.Workdays {
		f := fmt.Sprintf("%sworkdays[%d]", prefix, j)
		d, ok := date(f, s)
		if !ok {
			continue
		}
		if _, dup := seen[d]; dup {
			fe.Add(f, "calendar.invalid.workday_conflict", "date", d.String())
			continue
		}
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			fe.Add(f, "calendar.invalid.workday_weekend", "date", d.String())
			continue
		}
		seen[d] = ""
		y.Workdays = append(y.Workdays, d)
	}
	return y
}

// HolidayRange is a holiday period in the API's form.
type HolidayRange struct {
	Name  string `json:"name"`
	Start Date   `json:"start"`
	End   Date   `json:"end"`
}

// YearView is a holiday year as the API and pages show it.
type YearView struct {
	Year      int            `json:"year"`
	Source    string         `json:"source"`
	Origin    string         `json:"origin"` // "embedded" (the official table shipped) or "stored"
	Holidays  []HolidayRange `json:"holidays"`
	Workdays  []Date         `json:"workdays"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty"`
	UpdatedBy int64          `json:"updated_by,omitempty"`
}

// Origins of a holiday year.
const (
	OriginEmbedded = "embedded"
	OriginStored   = "stored"
)

// viewOf converts a table to ranges of consecutive days.
func viewOf(y Year, origin string) YearView {
	v := YearView{Year: y.Year, Source: y.Source, Origin: origin, Holidays: []HolidayRange{}, Workdays: y.Workdays}
	if v.Workdays == nil {
		v.Workdays = []Date{}
	}
	for _, h := range y.Holidays {
		for i := 0; i < len(h.Days); {
			j := i
			for j+1 < len(h.Days) && h.Days[j+1] == h.Days[j].AddDays(1) {
				j++
			}
			v.Holidays = append(v.Holidays, HolidayRange{Name: h.Name, Start: h.Days[i], End: h.Days[j]})
			i = j + 1
		}
	}
	return v
}

func storedView(s StoredYear) YearView {
	v := viewOf(s.Year, OriginStored)
	t := s.UpdatedAt
	v.UpdatedAt, v.UpdatedBy = &t, s.UpdatedBy
	return v
}

// ListCalendars returns every calendar definition (the default one created if missing).
func (r *Registry) ListCalendars(ctx context.Context) ([]Def, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return nil, err
	}
	if _, err := r.def(ctx, DefaultID); err != nil {
		return nil, err
	}
	defs, err := r.store.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("calendar: list: %w", err)
	}
	return defs, nil
}

// GetDef returns calendar id's definition.
func (r *Registry) GetDef(ctx context.Context, id string) (Def, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return Def{}, err
	}
	if !ValidID(id) {
		return Def{}, apperr.NotFoundf("calendar.thing.calendar")
	}
	return r.def(ctx, id)
}

// PutCalendar creates or replaces calendar id; created reports a new calendar.
func (r *Registry) PutCalendar(ctx context.Context, id string, in DefInput) (def Def, created bool, err error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return Def{}, false, err
	}
	if !ValidID(id) {
		return Def{}, false, apperr.InvalidField("id", "calendar.invalid.id")
	}
	loc, hours, err := in.validate()
	if err != nil {
		return Def{}, false, err
	}
	if _, err := New(Config{Location: loc, Hours: hours}); err != nil {
		return Def{}, false, apperr.InvalidField("hours", "calendar.invalid.hours").WithCause(err)
	}
	now := r.clock.Now()
	err = r.db.WithTx(ctx, func(ctx context.Context) error {
		old, gerr := r.store.get(ctx, id)
		switch {
		case db.IsNoRows(gerr):
			created = true
		case gerr != nil:
			return gerr
		}
		def = Def{ID: id, Name: in.Name, TimeZone: in.TimeZone, Hours: in.Hours, CreatedAt: old.CreatedAt, UpdatedAt: now}
		if created {
			def.CreatedAt = now
		}
		if err := r.store.upsert(ctx, def); err != nil {
			return err
		}
		action := "calendar.update"
		if created {
			action = "calendar.create"
		}
		if err := r.record(ctx, audit.Entry{Action: action, TargetType: "calendar", TargetID: id,
			Detail: map[string]any{"name": def.Name, "time_zone": def.TimeZone, "hours": def.Hours}}); err != nil {
			return err
		}
		r.db.AfterCommit(ctx, r.invalidate)
		return nil
	})
	if err != nil {
		return Def{}, false, fmt.Errorf("calendar: put %q: %w", id, err)
	}
	def.CreatedAt, def.UpdatedAt = time.UnixMilli(clock.Millis(def.CreatedAt)), time.UnixMilli(clock.Millis(now))
	return def, created, nil
}

func (r *Registry) record(ctx context.Context, e audit.Entry) error {
	if r.audit == nil {
		return nil
	}
	return r.audit.Record(ctx, e)
}

// ListYears returns every holiday year: stored ones and the embedded official ones not
// replaced, oldest first.
func (r *Registry) ListYears(ctx context.Context) ([]YearView, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return nil, err
	}
	stored, err := r.store.years(ctx)
	if err != nil {
		return nil, fmt.Errorf("calendar: list years: %w", err)
	}
	embedded, err := ChinaYears()
	if err != nil {
		return nil, err
	}
	byYear := map[int]YearView{}
	for _, y := range embedded {
		byYear[y.Year] = viewOf(y, OriginEmbedded)
	}
	for _, s := range stored {
		byYear[s.Year.Year] = storedView(s)
	}
	out := make([]YearView, 0, len(byYear))
	for y := minYear; y < maxYear && len(out) < len(byYear); y++ {
		if v, ok := byYear[y]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// GetYear returns one holiday year (stored, else embedded).
func (r *Registry) GetYear(ctx context.Context, year int) (YearView, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return YearView{}, err
	}
	s, err := r.store.year(ctx, year)
	switch {
	case err == nil:
		return storedView(s), nil
	case !db.IsNoRows(err):
		return YearView{}, fmt.Errorf("calendar: year %d: %w", year, err)
	}
	embedded, err := ChinaYears()
	if err != nil {
		return YearView{}, err
	}
	for _, y := range embedded {
		if y.Year == year {
			return viewOf(y, OriginEmbedded), nil
		}
	}
	return YearView{}, apperr.NotFoundf("calendar.thing.year")
}

// PutYear replaces the holiday table of year (in.Year must be 0 or year).
func (r *Registry) PutYear(ctx context.Context, year int, in YearInput) (YearView, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return YearView{}, err
	}
	if in.Year == 0 {
		in.Year = year
	}
	if in.Year != year {
		return YearView{}, apperr.InvalidField("year", "calendar.invalid.year_mismatch", "year", year)
	}
	fe := apperr.Fields{}
	y := in.toYear("", fe)
	if err := fe.Err(); err != nil {
		return YearView{}, err
	}
	views, err := r.saveYears(ctx, []Year{y}, "calendar.year.update")
	if err != nil {
		return YearView{}, err
	}
	return views[0], nil
}

// ImportYears stores one or more holiday years from an uploaded file: a JSON object in
// the embedded tables' format (holidays with "days" or with "start"/"end"), an array of
// them, or {"years": [...]}. Every year is checked first; any problem (named by field,
// or by line for a malformed file) stores nothing.
func (r *Registry) ImportYears(ctx context.Context, data []byte) ([]YearView, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return nil, err
	}
	ins, multi, err := decodeImport(data)
	if err != nil {
		return nil, err
	}
	fe := apperr.Fields{}
	years := make([]Year, 0, len(ins))
	seen := map[int]bool{}
	for i, in := range ins {
		prefix := ""
		if multi {
			prefix = fmt.Sprintf("years[%d].", i)
		}
		y := in.toYear(prefix, fe)
		if seen[in.Year] {
			fe.Add(prefix+"year", "calendar.invalid.year_twice", "year", in.Year)
		}
		seen[in.Year] = true
		years = append(years, y)
	}
	if len(ins) == 0 {
		fe.Add("file", "calendar.import.empty")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return r.saveYears(ctx, years, "calendar.year.import")
}

// saveYears stores the tables in one transaction, each audited.
func (r *Registry) saveYears(ctx context.Context, years []Year, action string) ([]YearView, error) {
	for _, y := range years {
		if err := y.Validate(); err != nil { // toYear checked the same; a last guard
			return nil, apperr.InvalidField("holidays", "calendar.invalid.table").WithCause(err)
		}
	}
	now := r.clock.Now()
	var by int64
	if a := authz.From(ctx); a != nil {
		by = a.ID
	}
	views := make([]YearView, 0, len(years))
	err := r.db.WithTx(ctx, func(ctx context.Context) error {
		for _, y := range years {
			s := StoredYear{Year: y, UpdatedAt: time.UnixMilli(clock.Millis(now)), UpdatedBy: by}
			if err := r.store.putYear(ctx, s); err != nil {
				return err
			}
			days := 0
			for _, h := range y.Holidays {
				days += len(h.Days)
			}
			if err := r.record(ctx, audit.Entry{Action: action, TargetType: "holiday_year", TargetID: strconv.Itoa(y.Year),
				Detail: map[string]any{"holidays": len(y.Holidays), "holiday_days": days, "workdays": len(y.Workdays),
					"source": y.Source}}); err != nil {
				return err
			}
			views = append(views, storedView(s))
		}
		r.db.AfterCommit(ctx, r.invalidate)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("calendar: save years: %w", err)
	}
	return views, nil
}

// decodeImport reads an import file. Syntax errors name the line and column, unknown
// members and wrong types the field.
func decodeImport(data []byte) (ins []YearInput, multi bool, err error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return nil, false, apperr.InvalidField("file", "calendar.import.empty")
	}
	var wrapper struct {
		Years []YearInput `json:"years"`
	}
	switch trimmed[0] {
	case '[':
		err = strictDecode(trimmed, &ins)
		multi = true
	case '{':
		var probe map[string]json.RawMessage
		if json.Unmarshal(trimmed, &probe) == nil {
			if _, ok := probe["years"]; ok && len(probe) == 1 {
				err = strictDecode(trimmed, &wrapper)
				return wrapper.Years, true, err
			}
		}
		var one YearInput
		err = strictDecode(trimmed, &one)
		ins = []YearInput{one}
	default:
		return nil, false, apperr.InvalidField("file", "calendar.import.syntax", "line", 1, "column", 1)
	}
	return ins, multi, err
}

var unknownField = regexp.MustCompile(`json: unknown field "([^"]*)"`)

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			line, col := lineCol(data, int(dec.InputOffset()))
			return apperr.InvalidField("file", "calendar.import.trailing", "line", line, "column", col)
		}
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(data, int(se.Offset))
		return apperr.InvalidField("file", "calendar.import.syntax", "line", line, "column", col)
	case errors.As(err, &te):
		line, col := lineCol(data, int(te.Offset))
		field := te.Field
		if field == "" {
			field = "file"
		}
		return apperr.InvalidField(field, "calendar.import.type", "line", line, "column", col)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		line, col := lineCol(data, len(data))
		return apperr.InvalidField("file", "calendar.import.syntax", "line", line, "column", col)
	}
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		line, col := lineCol(data, int(dec.InputOffset()))
		return apperr.InvalidField(m[1], "calendar.import.unknown_field", "line", line, "column", col)
	}
	return apperr.InvalidField("file", "calendar.import.invalid")
}

// lineCol converts a byte offset to a 1-based line and column (in characters).
func lineCol(data []byte, off int) (int, int) {
	off = max(0, min(off, len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}

// Preview answers GET /api/v1/calendars/{id}/due: the due time of a target of duration
// (a Go duration or "Nd") in mode starting at from (RFC 3339; default now).
func (r *Registry) Preview(ctx context.Context, id, from, duration, mode string) (time.Time, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return time.Time{}, err
	}
	start, d, m, err := ParsePreview(from, duration, mode, r.clock.Now())
	if err != nil {
		return time.Time{}, err
	}
	if !ValidID(id) {
		return time.Time{}, apperr.NotFoundf("calendar.thing.calendar")
	}
	cal, err := r.Get(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	return cal.Due(start, d, m), nil
}

// ParsePreview validates the preview query; problems name "from", "duration", "mode".
func ParsePreview(from, duration, mode string, now time.Time) (time.Time, time.Duration, Mode, error) {
	fe := apperr.Fields{}
	start := now
	if from != "" {
		t, err := time.Parse(time.RFC3339Nano, from)
		if err != nil || t.Year() < minYear || t.Year() >= maxYear {
			fe.Add("from", "calendar.invalid.from")
		} else {
			start = t
		}
	}
	m := Mode(mode)
	if mode == "" {
		m = ModeBusinessHours
	}
	if !ValidMode(m) {
		fe.Add("mode", "calendar.invalid.mode")
	}
	var d time.Duration
	if duration == "" {
		fe.Add("duration", "field.required")
	} else if v, err := ParseDuration(duration); err != nil || v == 0 {
		fe.Add("duration", "calendar.invalid.duration")
	} else {
		d = v
		if m == ModeWorkingDays {
			if _, ok := WholeDays(v); !ok {
				fe.Add("duration", "calendar.invalid.whole_days")
			}
		}
	}
	return start, d, m, fe.Err()
}
