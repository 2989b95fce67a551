package revisit_test

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/kefu-cn/kefu/internal/revisit"
)

// FuzzReportQuery: the report's query string never panics the parser; a month that
// parses is the first instant of that month in China time and prints back the same; a
// query that parses has to after from when both come from a month.
func FuzzReportQuery(f *testing.F) {
	for _, s := range []string{"month=2026-10", "from=2026-01-01&to=2027-01-01&rule=repair_done&dept_id=3",
		"from=2026-10-01T00:00:00%2B08:00", "month=2026-13", "month=0000-01", "dept_id=x", "from=yesterday", "month=%00",
		"month=2026-1", "rule=" + url.QueryEscape("\u56de\u8bbf")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/api/v1/reports/revisits", nil)
		r.URL.RawQuery = raw
		q, err := revisit.ReportQueryFrom(r)
		m := r.URL.Query().Get("month")
		if err == nil && m != "" && !q.To.After(q.From) {
			t.Errorf("month %q gave %v - %v", m, q.From, q.To)
		}
		if at, ok := revisit.ParseReportMonth(m); ok {
			if got := at.Format("2006-01"); got != m {
				t.Errorf("month %q prints back as %q", m, got)
			}
			if at.Day() != 1 || at.Hour() != 0 || at.Minute() != 0 {
				t.Errorf("month %q starts at %v", m, at)
			}
		}
	})
}
