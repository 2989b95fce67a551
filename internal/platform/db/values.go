package db

import (
	"strings"
	"time"
)

// Values in the portable storage style every capability's store shares: times as Unix
// milliseconds with 0 for "never", optional references as NULL, booleans as 0/1.

// SetList turns a column list "a, b" into an UPDATE's "a = ?, b = ?".
func SetList(cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = strings.TrimSpace(c) + " = ?"
	}
	return strings.Join(parts, ", ")
}

// NullID is a reference for a nullable foreign key: NULL for 0.
func NullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Millis is t in Unix milliseconds; the zero time is 0.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Time is a stored Unix millisecond value as a time; 0 is the zero time.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// Bool is b as the 0/1 integer both engines store.
func Bool(b bool) int {
	if b {
		return 1
	}
	return 0
}
