package calendar_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

func dueURL(id, from, duration, mode string) string {
	q := url.Values{}
	if from != "" {
		q.Set("from", from)
	}
	if duration != "" {
		q.Set("duration", duration)
	}
	if mode != "" {
		q.Set("mode", mode)
	}
	return "/api/v1/calendars/" + id + "/due?" + q.Encode()
}

// TestDuePreview2026 walks real 2026 dates of the State Council schedule (春节
// 2026-02-15..23 with make-up Saturday 02-14 and 02-28, 中秋 09-25..27, 国庆 10-01..07
// with make-up Sunday 09-20 and Saturday 10-10) through the preview endpoint of the
// default calendar (Asia/Shanghai, Monday to Friday 09:00-18:00).
func TestDuePreview2026(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	// A calendar in another zone with its own hours (the holiday tables are shared).
	apptest.Run(t, s, []apptest.Scenario{{Name: "create new york", As: "admin", Method: "PUT", Path: "/api/v1/calendars/ny",
		Body: map[string]any{"name": "New York desk", "time_zone": "America/New_York",
			"hours": map[string]string{"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00", "thu": "09:00-17:00", "fri": "09:00-17:00"}},
		Status: http.StatusCreated, Has: []string{`"time_zone":"America/New_York"`}, Audit: "calendar.create"}})

	cases := []struct {
		name, id, from, dur, mode, want string
	}{
		// Friday before 春节: Saturday 02-14 is a make-up working day, then nine days off.
		{"fri before spring festival, 2h", "default", "2026-02-13T17:00:00+08:00", "2h", "business_hours", "2026-02-14T10:00:00+08:00"},
		{"exhausts the make-up saturday", "default", "2026-02-13T17:00:00+08:00", "10h", "business_hours", "2026-02-14T18:00:00+08:00"},
		{"crosses spring festival", "default", "2026-02-13T17:00:00+08:00", "11h", "business_hours", "2026-02-24T10:00:00+08:00"},
		{"from inside the holiday", "default", "2026-02-18T10:00:00+08:00", "1h", "business_hours", "2026-02-24T10:00:00+08:00"},
		{"24h business from friday", "default", "2026-02-13T09:00:00+08:00", "24h", "business_hours", "2026-02-24T15:00:00+08:00"},
		{"make-up saturday 02-28", "default", "2026-02-27T17:00:00+08:00", "2h", "business_hours", "2026-02-28T10:00:00+08:00"},
		{"ordinary saturday 03-07 is off", "default", "2026-03-06T17:00:00+08:00", "2h", "business_hours", "2026-03-09T10:00:00+08:00"},
		{"make-up sunday 01-04", "default", "2026-01-02T10:00:00+08:00", "1h", "business_hours", "2026-01-04T10:00:00+08:00"},
		{"make-up sunday 09-20", "default", "2026-09-18T17:30:00+08:00", "1h", "business_hours", "2026-09-20T09:30:00+08:00"},
		// 国庆
		{"before national day", "default", "2026-09-30T17:00:00+08:00", "2h", "business_hours", "2026-10-08T10:00:00+08:00"},
		{"make-up saturday 10-10", "default", "2026-10-09T17:30:00+08:00", "1h", "business_hours", "2026-10-10T09:30:00+08:00"},
		// Several holidays in one duration: 中秋 then 国庆 (days of 9 h).
		{"mid-autumn, 36h", "default", "2026-09-24T09:00:00+08:00", "36h", "business_hours", "2026-09-30T18:00:00+08:00"},
		{"mid-autumn and national day, 45h", "default", "2026-09-24T09:00:00+08:00", "45h", "business_hours", "2026-10-08T18:00:00+08:00"},
		// Working days: the day of from never counts; make-up days do.
		{"1 working day from friday 02-13", "default", "2026-02-13T10:00:00+08:00", "1d", "working_days", "2026-02-14T18:00:00+08:00"},
		{"2 working days from friday 02-13", "default", "2026-02-13T10:00:00+08:00", "2d", "working_days", "2026-02-24T18:00:00+08:00"},
		{"10 working days across two holidays", "default", "2026-09-24T09:00:00+08:00", "10d", "working_days", "2026-10-15T18:00:00+08:00"},
		{"working days given in hours", "default", "2026-09-30T12:00:00+08:00", "48h", "working_days", "2026-10-09T18:00:00+08:00"},
		// Calendar time ignores holidays; the answer is in the calendar's zone.
		{"calendar 48h", "default", "2026-02-13T17:00:00+08:00", "48h", "calendar", "2026-02-15T17:00:00+08:00"},
		{"calendar from utc", "default", "2026-02-13T09:00:00Z", "2d", "calendar", "2026-02-15T17:00:00+08:00"},
		{"mode defaults to business hours", "default", "2026-02-13T17:00:00+08:00", "2h", "", "2026-02-14T10:00:00+08:00"},
		// Another zone, across the start of daylight saving time (2026-03-08).
		{"new york across dst", "ny", "2026-03-06T16:00:00-05:00", "2h", "business_hours", "2026-03-09T10:00:00-04:00"},
		{"new york from utc", "ny", "2026-03-06T21:00:00Z", "2h", "business_hours", "2026-03-09T10:00:00-04:00"},
		{"new york national day", "ny", "2026-09-30T16:00:00-04:00", "2h", "business_hours", "2026-10-08T10:00:00-04:00"},
	}
	c := s.As(t, "admin")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Do(t, "GET", dueURL(tc.id, tc.from, tc.dur, tc.mode), nil)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if got := r.JSON(t)["due_at"]; got != tc.want {
				t.Errorf("due_at = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestDuePreviewErrors(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	from := "2026-02-13T17:00:00+08:00"
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "anonymous", Method: "GET", Path: dueURL("default", from, "2h", "calendar"), Status: http.StatusUnauthorized},
		{Name: "unknown calendar", As: "admin", Method: "GET", Path: dueURL("nope", from, "2h", "calendar"), Status: http.StatusNotFound},
		{Name: "bad id", As: "admin", Method: "GET", Path: dueURL("NO%20PE", from, "2h", "calendar"), Status: http.StatusNotFound},
		{Name: "bad from", As: "admin", Method: "GET", Path: dueURL("default", "yesterday", "2h", "calendar"), Status: 422,
			Has: []string{`"from"`}, Not: []string{`"duration"`, `"mode"`}},
		{Name: "bad duration", As: "admin", Method: "GET", Path: dueURL("default", from, "2 hours", "calendar"), Status: 422,
			Has: []string{`"duration"`}},
		{Name: "negative duration", As: "admin", Method: "GET", Path: dueURL("default", from, "-2h", "calendar"), Status: 422,
			Has: []string{`"duration"`}},
		{Name: "missing duration", As: "admin", Method: "GET", Path: dueURL("default", from, "", "calendar"), Status: 422,
			Has: []string{`"duration"`}},
		{Name: "bad mode", As: "admin", Method: "GET", Path: dueURL("default", from, "2h", "weekly"), Status: 422,
			Has: []string{`"mode"`}},
		{Name: "partial working days", As: "admin", Method: "GET", Path: dueURL("default", from, "36h", "working_days"), Status: 422,
			Has: []string{`"duration"`}},
		{Name: "all three, in chinese", As: "admin", Lang: "zh-CN", Method: "GET", Path: dueURL("default", "x", "y", "z"), Status: 422,
			Has: []string{`"from"`, `"duration"`, `"mode"`, "必须"}},
		{Name: "in english", As: "admin", Lang: "en", Method: "GET", Path: dueURL("default", "x", "2h", "calendar"), Status: 422,
			Has: []string{"RFC 3339"}},
	})
}

func TestCalendarAdmin(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	hours := map[string]string{"mon": "09:00-12:00,13:30-18:00", "tue": "09:00-12:00,13:30-18:00", "wed": "09:00-12:00,13:30-18:00",
		"thu": "09:00-12:00,13:30-18:00", "fri": "09:00-12:00,13:30-18:00", "sat": "", "sun": ""}
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "list has default", As: "admin", Method: "GET", Path: "/api/v1/calendars", Status: 200,
			Has: []string{`"id":"default"`, `"time_zone":"Asia/Shanghai"`}},
		{Name: "get default", As: "admin", Method: "GET", Path: "/api/v1/calendars/default", Status: 200, Has: []string{`"mon":"09:00-18:00"`}},
		{Name: "agent may not edit", As: "agent", Method: "PUT", Path: "/api/v1/calendars/default",
			Body: map[string]any{"name": "x", "time_zone": "Asia/Shanghai", "hours": hours}, Status: 403},
		{Name: "bad zone", As: "admin", Method: "PUT", Path: "/api/v1/calendars/default",
			Body: map[string]any{"name": "x", "time_zone": "Mars/Olympus", "hours": hours}, Status: 422, Has: []string{`"time_zone"`}},
		{Name: "bad hours", As: "admin", Method: "PUT", Path: "/api/v1/calendars/default",
			Body: map[string]any{"name": "x", "hours": map[string]string{"mon": "18:00-09:00"}}, Status: 422, Has: []string{`"hours.mon"`}},
		{Name: "no hours", As: "admin", Method: "PUT", Path: "/api/v1/calendars/default",
			Body: map[string]any{"name": "x", "hours": map[string]string{"mon": ""}}, Status: 422, Has: []string{`"hours"`}},
		{Name: "unknown day", As: "admin", Method: "PUT", Path: "/api/v1/calendars/default",
			Body: map[string]any{"name": "x", "hours": map[string]string{"mon": "09:00-18:00", "funday": "09:00-10:00"}}, Status: 422,
			Has: []string{`"hours.funday"`}},
		{Name: "missing name", As: "admin", Method: "PUT", Path: "/api/v1/calendars/default",
			Body: map[string]any{"hours": hours}, Status: 422, Has: []string{`"name"`}},
		{Name: "unknown member", As: "admin", Method: "PUT", Path: "/api/v1/calendars/default",
			Body: map[string]any{"name": "x", "colour": "red"}, Status: 400},
		{Name: "bad id", As: "admin", Method: "PUT", Path: "/api/v1/calendars/Bad.Id",
			Body: map[string]any{"name": "x", "hours": hours}, Status: 422, Has: []string{`"id"`}},
		{Name: "lunch break", As: "admin", Method: "PUT", Path: "/api/v1/calendars/default",
			Body: map[string]any{"name": "Head office", "time_zone": "Asia/Shanghai", "hours": hours}, Status: 200,
			Has: []string{`"name":"Head office"`}, Audit: "calendar.update"},
		// The cache is invalidated: the lunch break now stops the clock.
		{Name: "due honours the change", As: "admin", Method: "GET", Path: dueURL("default", "2026-02-13T11:00:00+08:00", "2h", "business_hours"),
			Status: 200, Has: []string{`"due_at":"2026-02-13T14:30:00+08:00"`}},
	})
}

func TestHolidayYears(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	y2027 := map[string]any{"year": 2027, "source": "test notice",
		"holidays": []map[string]any{{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
			{"name": "春节", "start": "2027-02-06", "end": "2027-02-14"}},
		"workdays": []string{"2027-01-30", "2027-02-20"}}
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "list embedded", As: "admin", Method: "GET", Path: "/api/v1/holiday-years", Status: 200,
			Has: []string{`"year":2025`, `"year":2026`, `"origin":"embedded"`}},
		{Name: "2026 as ranges", As: "admin", Method: "GET", Path: "/api/v1/holiday-years/2026", Status: 200,
			Has: []string{`{"name":"春节","start":"2026-02-15","end":"2026-02-23"}`, `"2026-02-14"`, `"2026-10-10"`}},
		{Name: "unknown year", As: "admin", Method: "GET", Path: "/api/v1/holiday-years/2031", Status: 404},
		{Name: "not a year", As: "admin", Method: "GET", Path: "/api/v1/holiday-years/abc", Status: 404},
		{Name: "agent may not edit", As: "agent", Method: "PUT", Path: "/api/v1/holiday-years/2027", Body: y2027, Status: 403},
		{Name: "before 2027 is stored", As: "admin", Method: "GET", Path: dueURL("default", "2027-02-05T17:00:00+08:00", "2h", "business_hours"),
			Status: 200, Has: []string{`"due_at":"2027-02-08T10:00:00+08:00"`}},
		{Name: "put 2027", As: "admin", Method: "PUT", Path: "/api/v1/holiday-years/2027", Body: y2027, Status: 200,
			Has: []string{`"origin":"stored"`, `"end":"2027-02-14"`}, Audit: "calendar.year.update"},
		{Name: "2027 is used", As: "admin", Method: "GET", Path: dueURL("default", "2027-02-05T17:00:00+08:00", "2h", "business_hours"),
			Status: 200, Has: []string{`"due_at":"2027-02-15T10:00:00+08:00"`}},
		{Name: "year mismatch", As: "admin", Method: "PUT", Path: "/api/v1/holiday-years/2028", Body: y2027, Status: 422, Has: []string{`"year"`}},
		{Name: "bad edit names the field", As: "admin", Lang: "en", Method: "PUT", Path: "/api/v1/holiday-years/2027",
			Body: map[string]any{"holidays": []map[string]any{{"name": "A", "start": "2027-05-01", "end": "2027-04-30"},
				{"name": "", "start": "2027-06-01", "end": "2027-06-01"}, {"name": "C", "start": "2026-06-01", "end": "2027-06-01"}},
				"workdays": []string{"2027-05-03", "2027-13-01", "2027-01-01"}},
			Status: 422, Has: []string{`"holidays[0].end":"must not be before the start"`, `"holidays[1].name"`,
				`"holidays[2].start":"must lie in 2027"`, `"workdays[0]":"2027-05-03 is not a Saturday or Sunday"`,
				`"workdays[1]"`}},
		{Name: "workday that is a holiday", As: "admin", Method: "PUT", Path: "/api/v1/holiday-years/2027",
			Body:   map[string]any{"holidays": []map[string]any{{"name": "A", "days": []string{"2027-05-01"}}}, "workdays": []string{"2027-05-01"}},
			Status: 422, Has: []string{`"workdays[0]"`}},
		{Name: "2027 unchanged", As: "admin", Method: "GET", Path: "/api/v1/holiday-years/2027", Status: 200, Has: []string{`"name":"春节"`}},
	})
}

func TestHolidayImport(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	c := s.As(t, "admin")
	c.Lang = "en"
	post := func(body string) *apptest.Response {
		return c.DoWithHeaders(t, "POST", "/api/v1/holiday-years/import", []byte(body), map[string]string{"Content-Type": "application/json"})
	}
	// All or nothing: the second year is wrong, the first is not stored either.
	bad := `[{"year": 2028, "holidays": [{"name": "New Year", "days": ["2028-01-01"]}], "workdays": []},
 {"year": 2029, "holidays": [{"name": "Spring", "start": "2029-02-12", "end": "2029-02-10"}], "workdays": []}]`
	r := post(bad)
	if r.Status != 422 || !bytes.Contains(r.Body, []byte(`"years[1].holidays[0].end"`)) {
		t.Fatalf("bad import: %d %s", r.Status, r.Body)
	}
	if r := c.Do(t, "GET", "/api/v1/holiday-years/2028", nil); r.Status != 404 {
		t.Fatalf("2028 stored by a failed import: %d %s", r.Status, r.Body)
	}
	// Syntax errors name the line.
	r = post("{\"year\": 2028,\n \"holidays\": [\n  {\"name\": \"x\" \"days\": []}]}")
	if r.Status != 422 || !bytes.Contains(r.Body, []byte("Line 3")) {
		t.Fatalf("syntax: %d %s", r.Status, r.Body)
	}
	r = post("{\"year\": 2028,\n \"holidayz\": []}")
	if r.Status != 422 || !bytes.Contains(r.Body, []byte(`"holidayz"`)) || !bytes.Contains(r.Body, []byte("Line 2")) {
		t.Fatalf("unknown field: %d %s", r.Status, r.Body)
	}
	r = post(`{"year": "2028"}`)
	if r.Status != 422 || !bytes.Contains(r.Body, []byte(`"year"`)) {
		t.Fatalf("type: %d %s", r.Status, r.Body)
	}
	c.Lang = "zh-CN"
	r = post("[1,")
	if r.Status != 422 || !bytes.Contains(r.Body, []byte("第 1 行")) {
		t.Fatalf("chinese syntax error: %d %s", r.Status, r.Body)
	}
	c.Lang = "en"
	// The embedded file format, as a multipart upload.
	good := `{"year": 2028, "source": "notice", "holidays": [{"name": "元旦", "days": ["2028-01-01", "2028-01-02", "2028-01-03"]}],
 "workdays": ["2028-01-08"]}`
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "cn-2028.json")
	_, _ = fw.Write([]byte(good))
	_ = mw.Close()
	before := s.AuditSeq(t)
	r = c.DoWithHeaders(t, "POST", "/api/v1/holiday-years/import", buf.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()})
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"year":2028`)) {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	if !s.AuditSince(t, before, "calendar.year.import") {
		t.Error("import not audited")
	}
	// Two years in the wrapper form, replacing 2026 too.
	r = post(`{"years": [{"year": 2029, "holidays": [], "workdays": []}, {"year": 2026, "holidays": [{"name": "X", "start": "2026-03-02", "end": "2026-03-02"}], "workdays": []}]}`)
	if r.Status != 200 {
		t.Fatalf("wrapper import: %d %s", r.Status, r.Body)
	}
	// 2026 now has only 03-02 off: 02-16 is a working Monday, 03-02 is not.
	r = c.Do(t, "GET", dueURL("default", "2026-02-13T17:00:00+08:00", "2h", "business_hours"), nil)
	if got := r.JSON(t)["due_at"]; got != "2026-02-16T10:00:00+08:00" {
		t.Errorf("after import due_at = %v", got)
	}
	r = c.Do(t, "GET", dueURL("default", "2026-02-27T17:00:00+08:00", "2h", "business_hours"), nil)
	if got := r.JSON(t)["due_at"]; got != "2026-03-03T10:00:00+08:00" {
		t.Errorf("after import due_at = %v", got)
	}
	if r := post(""); r.Status != 422 {
		t.Errorf("empty: %d", r.Status)
	}
	if r := post(`{"year": 2030, "holidays": [], "workdays": []}` + strings.Repeat(" ", 10) + `{}`); r.Status != 422 {
		t.Errorf("trailing: %d %s", r.Status, r.Body)
	}
}
