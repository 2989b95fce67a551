package calendar

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrInvalidYear classifies every problem LoadYear and Year.Validate find.
var ErrInvalidYear = errors.New("calendar: invalid holiday table")

// Year is one year's public holiday table, in the format of the embedded official
// tables (data/cn-YYYY.json) and of the files administrators import:
//
//	{"year": 2026, "source": "...",
//	 "holidays": [{"name": "...", "days": ["2026-02-15", ...]}],
//	 "workdays": ["2026-02-14", ...]}
//
// Holidays are days off, whatever their weekday; workdays are make-up working days, a
// Saturday or Sunday on which people work.
type Year struct {
	Year     int       `json:"year"`
	Source   string    `json:"source,omitempty"`
	Holidays []Holiday `json:"holidays"`
	Workdays []Date    `json:"workdays"`
}

// Holiday is one named holiday period.
type Holiday struct {
	Name string `json:"name"`
	Days []Date `json:"days"`
}

// LoadYear parses and validates one year's table (see Year.Validate). Unknown fields
// and trailing data are refused.
func LoadYear(data []byte) (Year, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var y Year
	if err := dec.Decode(&y); err != nil {
		return Year{}, fmt.Errorf("%w: %w", ErrInvalidYear, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Year{}, fmt.Errorf("%w: trailing data after the table", ErrInvalidYear)
	}
	if err := y.Validate(); err != nil {
		return Year{}, err
	}
	return y, nil
}

// Validate checks that the year is 1900-2099, every holiday has a name (at most 64
// characters) and at least one day, every date lies in the year and appears once,
// no date is both a holiday and a workday, and every workday is a Saturday or Sunday.
func (y Year) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %d: %s", ErrInvalidYear, y.Year, fmt.Sprintf(format, a...))
	}
	if y.Year < minYear || y.Year >= maxYear {
		return fmt.Errorf("%w: year %d is outside %d-%d", ErrInvalidYear, y.Year, minYear, maxYear-1)
	}
	seen := map[Date]string{}
	for i, h := range y.Holidays {
		name := strings.TrimSpace(h.Name)
		if name == "" {
			return bad("holiday %d has no name", i+1)
		}
		if utf8.RuneCountInString(name) > 64 {
			return bad("holiday name %q is too long", name)
		}
		if len(h.Days) == 0 {
			return bad("holiday %q has no days", name)
		}
		for _, d := range h.Days {
			if !d.valid() || d.Year != y.Year {
				return bad("holiday %q: %s is not in %d", name, d, y.Year)
			}
			if prev, dup := seen[d]; dup {
				return bad("%s is listed twice (%s and %s)", d, prev, name)
			}
			seen[d] = name
		}
	}
	for _, d := range y.Workdays {
		if !d.valid() || d.Year != y.Year {
			return bad("workday %s is not in %d", d, y.Year)
		}
		if prev, dup := seen[d]; dup {
			return bad("workday %s is also listed as %s", d, prev)
		}
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return bad("workday %s is a %s, not a Saturday or Sunday", d, wd)
		}
		seen[d] = "workday"
	}
	return nil
}

//go:embed data/*.json
var dataFS embed.FS

// ChinaYears returns the embedded official holiday tables of the State Council
// (currently 2025 and 2026), oldest first.
func ChinaYears() ([]Year, error) {
	files, err := fs.Glob(dataFS, "data/cn-*.json")
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	sort.Strings(files)
	years := make([]Year, 0, len(files))
	for _, f := range files {
		b, err := dataFS.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		y, err := LoadYear(b)
		if err != nil {
			return nil, fmt.Errorf("calendar: %s: %w", f, err)
		}
		years = append(years, y)
	}
	return years, nil
}
