package calendar

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// SQL of the registry.
const (
	sqlCalendarGet    = `SELECT id, name, time_zone, hours, created_at, updated_at FROM calendars WHERE id = ?`
	sqlCalendarList   = `SELECT id, name, time_zone, hours, created_at, updated_at FROM calendars ORDER BY id`
	sqlCalendarInsert = `INSERT INTO calendars (id, name, time_zone, hours, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	sqlCalendarUpsert = `INSERT INTO calendars (id, name, time_zone, hours, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, hours = excluded.hours,
	updated_at = excluded.updated_at`
	sqlYearsList = `SELECT year, data, source, updated_at, updated_by FROM holiday_years ORDER BY year`
	sqlYearGet   = `SELECT year, data, source, updated_at, updated_by FROM holiday_years WHERE year = ?`
	sqlYearPut   = `INSERT INTO holiday_years (year, data, source, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (year) DO UPDATE SET data = excluded.data, source = excluded.source, updated_at = excluded.updated_at,
	updated_by = excluded.updated_by`
)

// StoredYear is a holiday year kept in the database.
type StoredYear struct {
	Year      Year
	UpdatedAt time.Time
	UpdatedBy int64
}

type regStore struct{ db *db.DB }

type scanner interface{ Scan(...any) error }

func scanDef(sc scanner) (Def, error) {
	var d Def
	var hours string
	var created, updated int64
	if err := sc.Scan(&d.ID, &d.Name, &d.TimeZone, &hours, &created, &updated); err != nil {
		return Def{}, err
	}
	if err := json.Unmarshal([]byte(hours), &d.Hours); err != nil {
		return Def{}, fmt.Errorf("calendar %q: hours: %w", d.ID, err)
	}
	d.CreatedAt, d.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return d, nil
}

func (s *regStore) get(ctx context.Context, id string) (Def, error) {
	return scanDef(s.db.QueryRow(ctx, sqlCalendarGet, id))
}

func (s *regStore) list(ctx context.Context) ([]Def, error) {
	rows, err := s.db.Query(ctx, sqlCalendarList)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Def{}
	for rows.Next() {
		d, err := scanDef(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func hoursJSON(h WeekHours) (string, error) {
	b, err := json.Marshal(h)
	return string(b), err
}

func (s *regStore) insertIfMissing(ctx context.Context, d Def, now time.Time) error {
	h, err := hoursJSON(d.Hours)
	if err != nil {
		return err
	}
	ms := clock.Millis(now)
	_, err = s.db.Exec(ctx, sqlCalendarInsert, d.ID, d.Name, d.TimeZone, h, ms, ms)
	return err
}

func (s *regStore) upsert(ctx context.Context, d Def) error {
	h, err := hoursJSON(d.Hours)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, sqlCalendarUpsert, d.ID, d.Name, d.TimeZone, h, clock.Millis(d.CreatedAt), clock.Millis(d.UpdatedAt))
	return err
}

func scanYear(sc scanner) (StoredYear, error) {
	var y StoredYear
	var year int
	var data, source string
	var updated int64
	if err := sc.Scan(&year, &data, &source, &updated, &y.UpdatedBy); err != nil {
		return StoredYear{}, err
	}
	v, err := LoadYear([]byte(data))
	if err != nil {
		return StoredYear{}, fmt.Errorf("holiday year %d: %w", year, err)
	}
	v.Source = source
	y.Year, y.UpdatedAt = v, time.UnixMilli(updated)
	return y, nil
}

func (s *regStore) years(ctx context.Context) ([]StoredYear, error) {
	rows, err := s.db.Query(ctx, sqlYearsList)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StoredYear
	for rows.Next() {
		y, err := scanYear(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, y)
	}
	return out, rows.Err()
}

func (s *regStore) year(ctx context.Context, year int) (StoredYear, error) {
	return scanYear(s.db.QueryRow(ctx, sqlYearGet, year))
}

func (s *regStore) putYear(ctx context.Context, y StoredYear) error {
	data, err := json.Marshal(y.Year)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, sqlYearPut, y.Year.Year, string(data), y.Year.Source, clock.Millis(y.UpdatedAt), y.UpdatedBy)
	return err
}
