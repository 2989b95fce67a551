package complaint

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
)

// Target is a span on the business calendar: a duration ("24h", "4h", "30m") counted in
// one calendar mode.
type Target struct {
	Span string        `json:"span"`
	Mode calendar.Mode `json:"mode"`
}

// LevelTargets are the promises made at intake for one level.
type LevelTargets struct {
	FirstAnswer Target `json:"first_answer"` // the first answer to the customer
	Result      Target `json:"result"`       // the investigation and the proposal done
}

// Settings are the complaint settings an administrator edits (complaint:manage).
type Settings struct {
	Levels map[Level]LevelTargets `json:"levels"`
	// Stages are the target of each working stage from the moment it begins.
	Stages map[Stage]Target `json:"stages"`
	// WarnBefore is how long before a target its warning goes out.
	WarnBefore string `json:"warn_before"`
	// Fines are the default amount (fen) of each fine category.
	Fines map[string]int64 `json:"fines"`
	// DuplicateDays is how far back intake looks for likely duplicates.
	DuplicateDays int `json:"duplicate_days"`
	// DuplicateScore is the least text similarity (0-1, bigram Dice) of a likely duplicate
	// that shares neither customer nor location.
	DuplicateScore float64 `json:"duplicate_score"`
	// RejectTemplate is the editable reply of a complaint found not valid ("" = the
	// catalog's text in the customer's language).
	RejectTemplate string `json:"reject_template"`
	Version        int64  `json:"version"`
}

// DefaultSettings are the seed rules: a first answer within 24 h and the analysis and
// proposal within 48 h (the seed's 24 h first feedback, 48 h analysis and solution); urgent
// complaints get their first answer within 4 business hours, major ones within 2; fines
// A 100, B 300, C 500, D 1,000 yuan.
func DefaultSettings() Settings {
	return Settings{
		Levels: map[Level]LevelTargets{
			LevelGeneral: {FirstAnswer: Target{"24h", calendar.ModeCalendar}, Result: Target{"48h", calendar.ModeCalendar}},
			LevelUrgent:  {FirstAnswer: Target{"4h", calendar.ModeBusinessHours}, Result: Target{"48h", calendar.ModeCalendar}},
			LevelMajor:   {FirstAnswer: Target{"2h", calendar.ModeBusinessHours}, Result: Target{"48h", calendar.ModeCalendar}},
		},
		Stages: map[Stage]Target{
			StageReceived:      {"4h", calendar.ModeBusinessHours},
			StageAssessing:     {"8h", calendar.ModeBusinessHours},
			StageInvestigating: {"24h", calendar.ModeCalendar},
			StageProposing:     {"24h", calendar.ModeCalendar},
			StageExecuting:     {"72h", calendar.ModeCalendar},
			StageFeedback:      {"24h", calendar.ModeCalendar},
			StageEvaluating:    {"72h", calendar.ModeCalendar},
		},
		WarnBefore:     "2h",
		Fines:          map[string]int64{"A": 10000, "B": 30000, "C": 50000, "D": 100000},
		DuplicateDays:  30,
		DuplicateScore: 0.5,
		Version:        0,
	}
}

// span parses a target's duration.
func (t Target) span() time.Duration {
	d, err := calendar.ParseDuration(t.Span)
	if err != nil {
		return 0
	}
	return d
}

// due is the moment the target falls due counted from start on cal (zero: no target).
func (t Target) due(cal *calendar.Calendar, start time.Time) time.Time {
	d := t.span()
	if d <= 0 {
		return time.Time{}
	}
	return cal.Due(start, d, t.Mode)
}

func (st Settings) warnBefore() time.Duration {
	d, err := calendar.ParseDuration(st.WarnBefore)
	if err != nil {
		return 0
	}
	return d
}

// validate checks every field; problems go to f with their field names.
func (st *Settings) validate(f apperr.Fields) {
	checkTarget := func(field string, t Target, required bool) {
		if t.Span == "" && !required {
			return
		}
		if d, err := calendar.ParseDuration(t.Span); err != nil || d <= 0 {
			f.Add(field+".span", "complaint.invalid.span")
		}
		if t.Mode != calendar.ModeCalendar && t.Mode != calendar.ModeBusinessHours && t.Mode != calendar.ModeWorkingDays {
			f.Add(field+".mode", "complaint.invalid.mode")
		}
	}
	for _, l := range Levels {
		lt, ok := st.Levels[l]
		if !ok {
			f.Add("levels."+string(l), "complaint.invalid.required")
			continue
		}
		checkTarget("levels."+string(l)+".first_answer", lt.FirstAnswer, true)
		checkTarget("levels."+string(l)+".result", lt.Result, true)
	}
	for k := range st.Levels {
		if !validLevel(k) {
			f.Add("levels."+string(k), "complaint.invalid.level")
		}
	}
	for k, t := range st.Stages {
		if !ValidStage(k) || k == StageClosed || k == StageRejected {
			f.Add("stages."+string(k), "complaint.invalid.stage")
			continue
		}
		checkTarget("stages."+string(k), t, false)
	}
	if d, err := calendar.ParseDuration(st.WarnBefore); st.WarnBefore != "" && (err != nil || d < 0) {
		f.Add("warn_before", "complaint.invalid.span")
	}
	for _, c := range FineCategories {
		if v, ok := st.Fines[c]; !ok || v < 0 || v > 100_000_000 {
			f.Add("fines."+c, "complaint.invalid.amount")
		}
	}
	for k := range st.Fines {
		if !validFineCategory(k) {
			f.Add("fines."+k, "complaint.invalid.fine_category")
		}
	}
	if st.DuplicateDays < 1 || st.DuplicateDays > 3650 {
		f.Add("duplicate_days", "complaint.invalid.duplicate_days")
	}
	if st.DuplicateScore <= 0 || st.DuplicateScore > 1 {
		f.Add("duplicate_score", "complaint.invalid.duplicate_score")
	}
	if len([]rune(st.RejectTemplate)) > maxText {
		f.Add("reject_template", "complaint.invalid.too_long", "max", maxText)
	}
}

func validLevel(l Level) bool {
	for _, x := range Levels {
		if x == l {
			return true
		}
	}
	return false
}

func validFineCategory(c string) bool {
	for _, x := range FineCategories {
		if x == c {
			return true
		}
	}
	return false
}

const settingsName = "settings"

const (
	sqlSettingsGet    = `SELECT value, version FROM complaint_settings WHERE name = ?`
	sqlSettingsInsert = `INSERT INTO complaint_settings (name, value, version, updated_at) VALUES (?, ?, 1, ?) ON CONFLICT (name) DO NOTHING`
	sqlSettingsUpdate = `UPDATE complaint_settings SET value = ?, version = version + 1, updated_at = ? WHERE name = ? AND version = ?`
)

// loadSettings returns the stored settings, or the defaults (version 0) when none are stored.
func (s *Store) loadSettings(ctx context.Context) (Settings, error) {
	var raw string
	var v int64
	err := s.db.QueryRow(ctx, sqlSettingsGet, settingsName).Scan(&raw, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("complaint: settings: %w", err)
	}
	st := DefaultSettings()
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return Settings{}, fmt.Errorf("complaint: settings: %w", err)
	}
	st.Version = v
	return st, nil
}

// saveSettings stores st if the stored version is prev (0: none stored yet); false when stale.
func (s *Store) saveSettings(ctx context.Context, st Settings, prev int64, now time.Time) (bool, error) {
	st.Version = 0
	b, err := json.Marshal(st)
	if err != nil {
		return false, fmt.Errorf("complaint: settings: %w", err)
	}
	q, args := sqlSettingsUpdate, []any{string(b), ms(now), settingsName, prev}
	if prev == 0 {
		q, args = sqlSettingsInsert, []any{settingsName, string(b), ms(now)}
	}
	res, err := s.db.Exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("complaint: settings: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
