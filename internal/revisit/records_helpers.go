package revisit

// Small helpers of the visit work, named apart from the engine's (work*/w*).

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Limits of free text in the visit work (characters).
const (
	workMaxShort = 200
	workMaxText  = 2000
)

// workActorID is the staff id of the actor (0 for the system).
func workActorID(a *authz.Actor) int64 {
	if a == nil || a.Kind != authz.KindStaff {
		return 0
	}
	return a.ID
}

// wText trims v and checks its length; required adds field.required when empty.
func wText(f apperr.Fields, field, v string, max int, required bool) string {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		f.Add(field, "field.required")
	case utf8.RuneCountInString(v) > max:
		f.Add(field, "field.too_long", "max", max)
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		f.Add(field, "field.invalid")
	}
	return v
}

// wNotFound maps a missing row to the not-found error of thing.
func wNotFound(err error, thing string) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf(thing)
	}
	return err
}

// wOptTime is t in UTC, nil when zero (JSON).
func wOptTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
