package calendar_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

func TestCalendarPages(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Staff(t, "caladmin", "admin", "cs")
	b := s.Browser(t, "caladmin", apptest.Password)
	b.Lang = "en"
	has := func(r *apptest.Response, status int, frags ...string) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
		}
		for _, f := range frags {
			if !bytes.Contains(r.Body, []byte(f)) {
				t.Errorf("page lacks %q", f)
			}
		}
	}
	has(b.Do(t, "GET", "/calendars", nil), 200, `href="/calendars/default"`, `Asia/Shanghai`)
	has(b.Do(t, "GET", "/calendars/default", nil), 200, `name="hours_mon" value="09:00-18:00"`)
	has(b.Do(t, "GET", "/calendars/default?from=2026-02-13T17%3A00%3A00%2B08%3A00&duration=11h&mode=business_hours", nil), 200,
		`2026-02-24T10:00:00`)
	has(b.Do(t, "GET", "/calendars/default?from=x&duration=11h&mode=business_hours", nil), 200, `id="preview-error"`)

	form := url.Values{"name": {"HQ"}, "time_zone": {"Mars/Base"}, "hours_mon": {"25:00-26:00"}}
	has(b.PostForm(t, "/calendars/default", form), http.StatusUnprocessableEntity, `id="err-time_zone"`, `id="err-hours_mon"`)
	form = url.Values{"name": {"HQ"}, "time_zone": {"Asia/Shanghai"}, "hours_mon": {"09:00-18:00"}, "hours_tue": {"09:00-18:00"}}
	r := b.PostForm(t, "/calendars/default", form)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/calendars/default" {
		t.Fatalf("save: %d %s", r.Status, r.Header.Get("Location"))
	}
	has(b.Do(t, "GET", "/calendars/default", nil), 200, `value="HQ"`, `Calendar saved`)

	// A new calendar through the list's form.
	r = b.Do(t, "GET", "/calendars?create=branch", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create redirect: %d", r.Status)
	}
	has(b.Do(t, "GET", "/calendars/branch", nil), 200, `Create`)
	has(b.Do(t, "GET", "/calendars?create=Bad!", nil), http.StatusUnprocessableEntity, `id="calendar-error"`)

	// Holiday years.
	has(b.Do(t, "GET", "/holiday-years", nil), 200, `href="/holiday-years/2026"`, `id="import-form"`)
	has(b.Do(t, "GET", "/holiday-years/2026", nil), 200, `2026-02-15 2026-02-23`, `2026-02-14`)
	form = url.Values{"source": {"edited"}, "holidays": {"New Year 2027-01-01 2027-01-03\nBroken 2027-02-10 2027-02-01"}, "workdays": {"2027-01-09, 2027-01-05"}}
	has(b.PostForm(t, "/holiday-years/2027", form), http.StatusUnprocessableEntity, `id="err-holidays"`, `Line 2:`, `id="err-workdays"`)
	form = url.Values{"source": {"edited"}, "holidays": {"New Year 2027-01-01 2027-01-03\nSpring Festival 2027-02-06 2027-02-14"}, "workdays": {"2027-01-09"}}
	r = b.PostForm(t, "/holiday-years/2027", form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("save year: %d %s", r.Status, r.Body)
	}
	has(b.Do(t, "GET", "/holiday-years/2027", nil), 200, `Spring Festival 2027-02-06 2027-02-14`)
	form = url.Values{"data": {`{"year": 2030, "holidays": [{"name": "X", "start": "2030-01-02", "end": "2030-01-01"}], "workdays": []}`}}
	has(b.PostForm(t, "/holiday-years/import", form), http.StatusUnprocessableEntity, `holidays[0].end`)
	form = url.Values{"data": {`{"year": 2030, "holidays": [{"name": "X", "start": "2030-01-01", "end": "2030-01-01"}], "workdays": []}`}}
	if r := b.PostForm(t, "/holiday-years/import", form); r.Status != http.StatusSeeOther {
		t.Fatalf("import page: %d %s", r.Status, r.Body)
	}
	has(b.Do(t, "GET", "/holiday-years", nil), 200, `href="/holiday-years/2030"`)

	// Agents see neither the navigation entry nor the edit forms.
	s.Staff(t, "calagent", "agent", "cs")
	a := s.Browser(t, "calagent", apptest.Password)
	if r := a.PostForm(t, "/calendars/default", url.Values{"name": {"x"}}); r.Status != http.StatusForbidden {
		t.Errorf("agent save: %d", r.Status)
	}
}
