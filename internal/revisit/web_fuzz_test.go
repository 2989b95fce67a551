package revisit

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// FuzzWorkQuery: any query of /revisits parses into a valid view, status and date (or
// names the bad filter), never panics.
func FuzzWorkQuery(f *testing.F) {
	for _, s := range []string{"", "view=team", "view=overdue&status=open&rule=complaint_closed&due_before=2026-10-08",
		"view=x&status=y&due_before=tomorrow", "due_before=2026-02-30", "rule=" + string(make([]byte, 100)), "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		wq, fe := wsParseQuery(q)
		if !slices.Contains(wsViews, wq.View) {
			t.Fatalf("view %q", wq.View)
		}
		if wq.Status != "" && !slices.Contains(Statuses, wq.Status) {
			t.Fatalf("status %q", wq.Status)
		}
		if wq.Due != "" {
			if _, err := time.Parse(time.DateOnly, wq.Due); err != nil || wq.DueBefore.IsZero() {
				t.Fatalf("due %q kept unparsed", wq.Due)
			}
		}
		if len(wq.Rule) > 64 {
			t.Fatalf("rule of %d bytes kept", len(wq.Rule))
		}
		if q.Get("status") != "" && wq.Status == "" && len(fe) == 0 {
			t.Fatalf("status %q dropped without a message", q.Get("status"))
		}
		// The list links built from it parse back to the same filters.
		back, _ := wsParseQuery(wq.values(wq.View))
		if back.View != wq.View || back.Status != wq.Status || back.Rule != wq.Rule || back.Due != wq.Due {
			t.Fatalf("round trip %+v -> %+v", wq, back)
		}
	})
}

// FuzzFormTime: a datetime-local value is a time or a named field error, never both.
func FuzzFormTime(f *testing.F) {
	for _, s := range []string{"", "2026-10-08T09:30", "2026-10-08 09:30", "2026-10-08T09:30:15", "tomorrow", "2026-13-01T00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fe := apperr.Fields{}
		got := webFormTime(fe, "visited_at", s)
		if !got.IsZero() && len(fe) != 0 {
			t.Fatalf("%q: both a time and an error", s)
		}
		if got.IsZero() && len(fe) == 0 && strings.TrimSpace(s) != "" {
			t.Fatalf("%q: neither a time nor an error", s)
		}
	})
}
