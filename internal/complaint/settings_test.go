package complaint_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
)

// TestSettingsAPI: the settings through the router — who may read and change them,
// the version a change names (0 while the defaults apply; 428 without one, 409 when
// stale), validation naming each field, the audit entry.
func TestSettingsAPI(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	const p = "/api/v1/complaint-settings"
	target := func(span string, mode calendar.Mode) map[string]any {
		return map[string]any{"span": span, "mode": mode}
	}
	level := func(first, result map[string]any) map[string]any {
		return map[string]any{"first_answer": first, "result": result}
	}
	valid := func(version int64, warn string) map[string]any {
		return map[string]any{
			"version": version,
			"levels": map[string]any{
				"general": level(target("24h", calendar.ModeCalendar), target("48h", calendar.ModeCalendar)),
				"urgent":  level(target("3h", calendar.ModeBusinessHours), target("36h", calendar.ModeCalendar)),
				"major":   level(target("1h", calendar.ModeBusinessHours), target("24h", calendar.ModeCalendar)),
			},
			"stages":         map[string]any{"received": target("2h", calendar.ModeBusinessHours), "assessing": target("", "")},
			"warn_before":    warn,
			"fines":          map[string]int64{"A": 10000, "B": 30000, "C": 50000, "D": 100000},
			"duplicate_days": 14, "duplicate_score": 0.6, "reject_template": "经核实，您反映的问题不属于投诉受理范围。",
		}
	}
	bad := map[string]any{
		"version":     0,
		"warn_before": "soon",
		"levels": map[string]any{
			"urgent": level(target("0h", calendar.ModeBusinessHours), target("48h", "weekly")),
			"severe": level(target("1h", calendar.ModeCalendar), target("2h", calendar.ModeCalendar)),
		},
		"stages":         map[string]any{"closed": target("1h", calendar.ModeCalendar), "proposing": target("later", calendar.ModeCalendar)},
		"fines":          map[string]int64{"A": -5, "E": 100},
		"duplicate_days": 0, "duplicate_score": 1.5,
	}
	noVersion := valid(0, "1h")
	delete(noVersion, "version")
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "anonymous", Method: "GET", Path: p, Status: 401},
		{Name: "sales may not read", As: "sales", Method: "GET", Path: p, Status: 403},
		{Name: "agent reads the defaults", As: "agent", Method: "GET", Path: p, Status: 200,
			Has: []string{`"version":0`, `"warn_before":"2h"`, `"urgent":{"first_answer":{"span":"4h","mode":"business_hours"}`}},
		{Name: "agent may not change", As: "agent", Method: "PUT", Path: p, Body: valid(0, "1h"), Status: 403, NoAudit: true},
		{Name: "supervisor may not change", As: "supervisor", Method: "PUT", Path: p, Body: valid(0, "1h"), Status: 403, NoAudit: true},
		{Name: "no version", As: "admin", Method: "PUT", Path: p, Body: noVersion, Status: 428,
			Has: []string{`"code":"version_required"`}, NoAudit: true},
		{Name: "negative version", As: "admin", Method: "PUT", Path: p, Body: valid(-1, "1h"), Status: 422,
			Has: []string{`"version"`}, NoAudit: true},
		{Name: "stale while the defaults apply", As: "admin", Method: "PUT", Path: p, Body: valid(1, "1h"), Status: 409,
			Has: []string{`"code":"version_conflict"`}, NoAudit: true},
		{Name: "every bad field named", As: "admin", Method: "PUT", Path: p, Body: bad, Status: 422, NoAudit: true,
			Has: []string{`"warn_before"`, `"levels.urgent.first_answer.span"`, `"levels.urgent.result.mode"`,
				`"levels.severe"`, `"stages.closed"`, `"stages.proposing.span"`, `"fines.A"`, `"fines.E"`,
				`"duplicate_days"`, `"duplicate_score"`}},
		{Name: "unknown member", As: "admin", Method: "PUT", Path: p, Body: map[string]any{"version": 0, "warn": "1h"},
			Status: 400, NoAudit: true},
		{Name: "admin saves over the defaults", As: "admin", Method: "PUT", Path: p, Body: valid(0, "1h"), Status: 200,
			Audit: "complaint.settings", Has: []string{`"version":1`, `"warn_before":"1h"`, `"span":"3h"`}},
		{Name: "stale after the first save", As: "admin", Method: "PUT", Path: p, Body: valid(0, "30m"), Status: 409,
			Has: []string{`"code":"version_conflict"`, `"current_version":1`}, NoAudit: true},
		{Name: "agent reads the saved settings", As: "agent", Method: "GET", Path: p, Status: 200,
			Has: []string{`"version":1`, `"warn_before":"1h"`, `"duplicate_days":14`}},
		{Name: "director saves", As: "director", Method: "PUT", Path: p, Body: valid(1, "30m"), Status: 200,
			Audit: "complaint.settings", Has: []string{`"version":2`, `"warn_before":"30m"`}},
	})
	// If-Match names the version too; disagreeing with the body is refused.
	c := s.As(t, "admin")
	body := valid(2, "45m")
	delete(body, "version")
	if r := c.DoWithHeaders(t, "PUT", p, body, map[string]string{"If-Match": `"2"`}); r.Status != 200 {
		t.Errorf("If-Match 2: %d %s", r.Status, r.Body)
	}
	if r := c.DoWithHeaders(t, "PUT", p, valid(3, "45m"), map[string]string{"If-Match": `"2"`}); r.Status != 400 {
		t.Errorf("If-Match disagreeing with the body: %d %s", r.Status, r.Body)
	}
}

// TestSettingsApplyToDeadlines: saved targets and warning lead time decide a new
// complaint's due times and when its warning goes out.
func TestSettingsApplyToDeadlines(t *testing.T) {
	t.Parallel()
	e := newDLEnv(t, "2026-11-16 10:00", "dlset") // Monday
	manage := dlActor(e.dir.ID, complaint.PermRead, complaint.PermManage)
	st, err := e.svc.Settings(manage)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != 0 {
		t.Fatalf("version %d while the defaults apply", st.Version)
	}
	// Reading needs complaint:read, changing complaint:manage.
	if _, err := e.svc.Settings(dlActor(e.head.ID)); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("read without complaint:read: %v", err)
	}
	if _, err := e.svc.SaveSettings(dlActor(e.head.ID, complaint.PermRead), st, 0); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("save without complaint:manage: %v", err)
	}
	st.WarnBefore = "30m"
	lt := st.Levels[complaint.LevelUrgent]
	lt.FirstAnswer = complaint.Target{Span: "6h", Mode: calendar.ModeBusinessHours}
	st.Levels[complaint.LevelUrgent] = lt
	if st, err = e.svc.SaveSettings(manage, st, 0); err != nil {
		t.Fatal(err)
	}
	if st.Version != 1 {
		t.Errorf("version %d after the first save", st.Version)
	}
	if _, err := e.svc.SaveSettings(manage, st, 0); apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("stale save: %v", err)
	}
	st.DuplicateDays = -1
	var ae *apperr.Error
	if _, err := e.svc.SaveSettings(manage, st, 1); !errors.As(err, &ae) || !dlHasField(ae, "duplicate_days") {
		t.Errorf("bad duplicate_days: %v", err)
	}

	c := e.create(t, complaint.LevelUrgent)
	if want := dlAt(t, "2026-11-16 16:00"); !c.FirstDueAt.Equal(want) {
		t.Fatalf("urgent first answer due %v, want %v (6 business hours)", c.FirstDueAt.In(dlZone), want)
	}
	e.at(t, c.FirstDueAt.Add(-time.Hour)) // outside a 30 minutes' warning
	e.want(t, c, complaint.DeadlineFirstAnswer, 0, 0)
	e.at(t, c.FirstDueAt.Add(-20*time.Minute))
	e.want(t, c, complaint.DeadlineFirstAnswer, 1, 0)
}

func dlHasField(e *apperr.Error, field string) bool { _, ok := e.Fields[field]; return ok }
