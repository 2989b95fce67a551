package revisit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/revisit"
)

var rpCST = time.FixedZone("CST", 8*3600)

// rpAt is a time of 2026 in China.
func rpAt(month, day, hour int) time.Time {
	return time.Date(2026, time.Month(month), day, hour, 0, 0, 0, rpCST)
}

const rpOct = "/api/v1/reports/revisits?month=2026-10"

// rpEnv is the hand-built set of TestReport*.
type rpEnv struct {
	s              *apptest.Server
	deptA, deptB   int64
	visA, visB     int64
	custX, custY   int64
	t2Record, t6ID int64
}

// rpDataset stores, for October 2026 (the clock reads 2026-10-25 12:00 China time):
//
//	complaint_closed, department A, 10 decisions (5 chosen):
//	  t1 done in its window (5 points, issue i1 answered), t2 done late (2 points,
//	  important, issue i2 open, the record later confirmed false), t3 unreached,
//	  t4 open past its window, t5 and four more cancelled (no decision);
//	repair_done, department B, 10 decisions (3 chosen):
//	  t6 done in time (4 points, issue i3 open, flagged false, not confirmed; stored with
//	  a far id so that its records are read apart), t7 expired, t8 open within its window;
//	and in September t9 (A, done, 1 point) with issue i0 still open.
func rpDataset(t *testing.T) *rpEnv {
	t.Helper()
	s := apptest.New(t)
	s.Clock.Set(rpAt(10, 25, 12))
	e := &rpEnv{s: s}
	e.deptA = s.Dept(t, "ra", "Dept A").ID
	e.deptB = s.Dept(t, "rb", "Dept B").ID
	e.visA = s.Staff(t, "visitor_a", "agent", "ra").ID
	e.visB = s.Staff(t, "visitor_b", "agent", "rb").ID
	sys := apptest.SystemCtx()
	for i, dst := range []*int64{&e.custX, &e.custY} {
		c, err := s.App.Customer.CreateCustomer(sys, customer.Input{Kind: customer.KindPerson,
			Name: []string{"Xavier Xu", "Yvonne Yang"}[i], Mobile: "1380013800" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		*dst = c.ID
	}
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.App.DB.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	insertID := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := s.App.DB.WithTx(ctx, func(ctx context.Context) error {
			return s.App.DB.QueryRow(ctx, q, args...).Scan(&id)
		}); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		return id
	}
	// Decisions: 10 per rule in October (and one in September, not counted).
	for i := range 10 {
		for _, r := range []struct {
			code   string
			chosen int
		}{{"complaint_closed", 5}, {"repair_done", 3}} {
			ch := 0
			if i < r.chosen {
				ch = 1
			}
			exec(`INSERT INTO revisit_decisions (rule_code, event_key, customer_id, bucket, rate_pct, chosen, reason, task_id,
				decided_at) VALUES (?, ?, ?, ?, ?, ?, '', NULL, ?)`, r.code, "ev"+strconv.Itoa(i), e.custX, i*1000, 50, ch,
				ms(rpAt(10, 1+i, 9)))
		}
	}
	exec(`INSERT INTO revisit_decisions (rule_code, event_key, customer_id, bucket, rate_pct, chosen, reason, task_id,
		decided_at) VALUES ('complaint_closed', 'sep', ?, 1, 50, 1, '', NULL, ?)`, e.custX, ms(rpAt(9, 20, 9)))

	task := func(id int64, rule string, dept, vis int64, start, end time.Time, status string, doneAt time.Time,
		decision bool) int64 {
		t.Helper()
		done := int64(0)
		if !doneAt.IsZero() {
			done = ms(doneAt)
		}
		var dec any
		if decision {
			dec = int64(1)
		}
		cols := `rule_code, customer_id, source_type, source_id, level, dept_id, team_id, assignee_id, window_start,
			window_end, scheduled_at, method, status, round, parent_id, attempts, next_attempt_at, done_at, decision_id,
			plan_key, version, created_at, updated_at`
		vals := `?, ?, 'ticket', 1, 'general', ?, NULL, ?, ?, ?, ?, 'phone', ?, 1, NULL, 0, 0, ?, ?, '', 1, ?, ?`
		args := []any{rule, e.custX, dept, vis, ms(start), ms(end), ms(start), status, done, dec, ms(start), ms(start)}
		if id != 0 {
			exec(`INSERT INTO revisit_tasks (id, `+cols+`) VALUES (?, `+vals+`)`, append([]any{id}, args...)...)
			return id
		}
		return insertID(`INSERT INTO revisit_tasks (`+cols+`) VALUES (`+vals+`) RETURNING id`, args...)
	}
	record := func(taskID, agent int64, at time.Time, reached, sat, important int) int64 {
		t.Helper()
		return insertID(`INSERT INTO revisit_records (task_id, round, method, visited_at, reached,
			satisfaction, answers, important, note, agent_id, signature_id, signoff_by, signoff_at, signoff_note,
			flagged_false_at, flagged_by, false_reason, false_confirmed_at, false_confirmed_by, false_staff_id, created_at,
			version) VALUES (?, 1, 'phone', ?, ?, ?, '{}', ?, '', ?, NULL, NULL, 0, '', 0, NULL, '', 0, NULL, NULL, ?, 1)
			RETURNING id`, taskID, ms(at), reached, sat, important, agent, ms(at))
	}
	issue := func(recordID, taskID int64, body string, raised, answered time.Time) {
		t.Helper()
		ans := int64(0)
		if !answered.IsZero() {
			ans = ms(answered)
		}
		exec(`INSERT INTO revisit_issues (record_id, task_id, body, ticket_id, appointment_at, next_task_id, answered_at,
			created_at) VALUES (?, ?, ?, NULL, ?, NULL, ?, ?)`, recordID, taskID, body, ms(raised.Add(48*time.Hour)), ans, ms(raised))
	}
	var none time.Time
	A, B := e.deptA, e.deptB
	t1 := task(0, "complaint_closed", A, e.visA, rpAt(10, 2, 10), rpAt(10, 5, 10), "done", rpAt(10, 3, 10), true)
	t2 := task(0, "complaint_closed", A, e.visA, rpAt(10, 6, 10), rpAt(10, 9, 10), "done", rpAt(10, 11, 10), true)
	t3 := task(0, "complaint_closed", A, e.visA, rpAt(10, 7, 10), rpAt(10, 10, 10), "unreached", none, true)
	task(0, "complaint_closed", A, e.visA, rpAt(10, 8, 10), rpAt(10, 11, 10), "open", none, true)
	task(0, "complaint_closed", A, e.visA, rpAt(10, 9, 10), rpAt(10, 12, 10), "cancelled", none, true)
	for d := range 4 {
		task(0, "complaint_closed", A, e.visA, rpAt(10, 10+d, 10), rpAt(10, 13+d, 10), "cancelled", none, false)
	}
	t7 := task(0, "repair_done", B, e.visB, rpAt(10, 1, 10), rpAt(10, 20, 10), "expired", none, true)
	task(0, "repair_done", B, e.visB, rpAt(10, 15, 10), rpAt(10, 30, 10), "open", none, true)
	t9 := task(0, "complaint_closed", A, e.visA, rpAt(9, 20, 10), rpAt(9, 23, 10), "done", rpAt(9, 21, 10), true)
	e.t6ID = task(50000, "repair_done", B, e.visB, rpAt(10, 3, 10), rpAt(11, 3, 10), "done", rpAt(10, 4, 10), true)
	_ = t7

	r1 := record(t1, e.visA, rpAt(10, 3, 10), 1, 5, 0)
	e.t2Record = record(t2, e.visA, rpAt(10, 11, 10), 1, 2, 1)
	record(t3, e.visA, rpAt(10, 9, 10), 0, 0, 0)
	r6 := record(e.t6ID, e.visB, rpAt(10, 4, 10), 1, 4, 0)
	r9 := record(t9, e.visA, rpAt(9, 21, 10), 1, 1, 0)
	issue(r1, t1, "Lift still noisy", rpAt(10, 3, 10), rpAt(10, 4, 10))
	issue(e.t2Record, t2, "Wants the fee refunded", rpAt(10, 11, 10), none)
	issue(r6, e.t6ID, "Tap drips again", rpAt(10, 4, 10), none)
	issue(r9, t9, "Parking light broken", rpAt(9, 21, 10), none)
	exec(`UPDATE revisit_records SET flagged_false_at = ?, false_confirmed_at = ?, false_staff_id = ? WHERE id = ?`,
		ms(rpAt(10, 12, 9)), ms(rpAt(10, 13, 9)), e.visA, e.t2Record)
	exec(`UPDATE revisit_records SET flagged_false_at = ? WHERE id = ?`, ms(rpAt(10, 12, 9)), r6)
	if err := rpFillDecisionStats(ctx, s.App.DB); err != nil {
		t.Fatal(err)
	}
	return e
}

// rpFillDecisionStats rebuilds revisit_decision_stats (the counts per rule and China
// day the engine keeps beside its decisions) from the decisions stored by hand.
func rpFillDecisionStats(ctx context.Context, d *db.DB) error {
	day := `strftime('%Y-%m-%d', (decided_at + 28800000) / 1000, 'unixepoch')`
	if d.Dialect == db.Postgres {
		day = `to_char(to_timestamp((decided_at + 28800000) / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	return d.WithTx(ctx, func(ctx context.Context) error {
		if _, err := d.Exec(ctx, `DELETE FROM revisit_decision_stats`); err != nil {
			return err
		}
		_, err := d.Exec(ctx, `INSERT INTO revisit_decision_stats (rule_code, day, decided, chosen)
			SELECT rule_code, `+day+`, COUNT(*), SUM(chosen) FROM revisit_decisions GROUP BY rule_code, `+day)
		return err
	})
}

// rpGet fetches the report at path as c and decodes it.
func rpGet(t *testing.T, c *apptest.Client, path string) revisit.Report {
	t.Helper()
	r := c.Do(t, "GET", path, nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	var rp revisit.Report
	if err := json.Unmarshal(r.Body, &rp); err != nil {
		t.Fatalf("decode: %v\n%s", err, r.Body)
	}
	return rp
}

// rpFigs is the part of ReportFigures the tests compare.
type rpFigs struct {
	Decided, Chosen, Visited                  int64
	VisitRate                                 float64
	Tasks, Done, Unreached, Open, Exp, Cancel int64
	Due, OnTime                               int64
	OnTimeRate, ReachRate                     float64
	Rated, Low                                int64
	SatAvg                                    float64
	Raised, Answered                          int64
	ProcessingRate                            float64
}

func rpFigsOf(f revisit.ReportFigures) rpFigs {
	return rpFigs{f.Decided, f.Chosen, f.Visited, f.VisitRate, f.Tasks, f.Done, f.Unreached, f.Open, f.Expired,
		f.Cancelled, f.Due, f.OnTime, f.OnTimeRate, f.ReachRate, f.Rated, f.Low, f.SatAvg, f.Raised, f.Answered,
		f.ProcessingRate}
}

// TestReportNumbers checks every figure of the hand-built October for the director.
func TestReportNumbers(t *testing.T) {
	e := rpDataset(t)
	rp := rpGet(t, e.s.As(t, "director@ra"), rpOct)
	if !rp.From.Equal(rpAt(10, 1, 0)) || !rp.To.Equal(rpAt(11, 1, 0)) || !rp.Sampling {
		t.Errorf("period %v - %v, sampling %v", rp.From, rp.To, rp.Sampling)
	}
	complaint := rpFigs{Decided: 10, Chosen: 5, Visited: 2, VisitRate: 20, Tasks: 9, Done: 2, Unreached: 1, Open: 1,
		Cancel: 5, Due: 4, OnTime: 1, OnTimeRate: 25, ReachRate: 66.7, Rated: 2, Low: 1, SatAvg: 3.5, Raised: 2,
		Answered: 1, ProcessingRate: 50}
	repair := rpFigs{Decided: 10, Chosen: 3, Visited: 1, VisitRate: 10, Tasks: 3, Done: 1, Open: 1, Exp: 1, Due: 2,
		OnTime: 1, OnTimeRate: 50, ReachRate: 100, Rated: 1, SatAvg: 4, Raised: 1}
	total := rpFigs{Decided: 20, Chosen: 8, Visited: 3, VisitRate: 15, Tasks: 12, Done: 3, Unreached: 1, Open: 2, Exp: 1,
		Cancel: 5, Due: 6, OnTime: 2, OnTimeRate: 33.3, ReachRate: 75, Rated: 3, Low: 1, SatAvg: 3.67, Raised: 3,
		Answered: 1, ProcessingRate: 33.3}
	if len(rp.Rules) != 2 || rp.Rules[0].Rule != "complaint_closed" || rp.Rules[1].Rule != "repair_done" {
		t.Fatalf("rules: %+v", rp.Rules)
	}
	if rp.Rules[0].TargetRate != 50 || rp.Rules[1].TargetRate != 30 || rp.Rules[0].Name == "" {
		t.Errorf("rule rates %d %d, name %q", rp.Rules[0].TargetRate, rp.Rules[1].TargetRate, rp.Rules[0].Name)
	}
	for _, tc := range []struct {
		name string
		got  revisit.ReportFigures
		want rpFigs
	}{{"complaint_closed", rp.Rules[0], complaint}, {"repair_done", rp.Rules[1], repair}, {"totals", rp.Totals, total}} {
		if got := rpFigsOf(tc.got); got != tc.want {
			t.Errorf("%s\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	var dist []int64
	for _, d := range rp.Satisfaction.Distribution {
		dist = append(dist, d.Count)
	}
	if rp.Satisfaction.Rated != 3 || rp.Satisfaction.Average != 3.67 || !slices.Equal(dist, []int64{0, 1, 0, 1, 1}) {
		t.Errorf("satisfaction %+v", rp.Satisfaction)
	}
	if len(rp.Months) != 1 || rp.Months[0].Month != "2026-10" || rp.Months[0].Tasks != 12 {
		t.Errorf("months %+v", rp.Months)
	}
	// Unanswered: i0 (September, still open), i3 and i2, oldest first; names masked.
	is := rp.Issues
	if is.Raised != 3 || is.Answered != 1 || is.ProcessingRate != 33.3 || is.Target != 100 || is.Unanswered != 3 ||
		len(is.Open) != 3 {
		t.Fatalf("issues %+v", is)
	}
	var bodies []string
	for _, i := range is.Open {
		bodies = append(bodies, i.Body)
		if i.CustomerID != e.custX || i.Customer == "" || strings.Contains(i.Customer, "Xavier") {
			t.Errorf("issue %d customer %d %q (want masked)", i.ID, i.CustomerID, i.Customer)
		}
	}
	if want := []string{"Parking light broken", "Tap drips again", "Wants the fee refunded"}; !slices.Equal(bodies, want) {
		t.Errorf("unanswered %v, want %v", bodies, want)
	}
	if is.Open[0].AgeDays != 34 || is.Open[2].Assignee != "Test visitor_a" || is.Open[1].TaskID != e.t6ID ||
		is.Open[0].AppointmentAt == nil {
		t.Errorf("unanswered details %+v", is.Open)
	}
	f := rp.False
	if f.Confirmed != 1 || f.Pending != 1 || len(f.ByStaff) != 1 || f.ByStaff[0].StaffID != e.visA ||
		f.ByStaff[0].Name != "Test visitor_a" || len(f.Records) != 1 || f.Records[0].RecordID != e.t2Record {
		t.Errorf("false records %+v", f)
	}
	agents := map[int64]revisit.ReportAgent{}
	for _, a := range rp.Agents {
		agents[a.StaffID] = a
	}
	if a := agents[e.visA]; a.Tasks != 9 || a.Done != 2 || a.Unreached != 1 || a.SatAvg != 3.5 || a.Low != 1 || a.False != 1 ||
		a.OnTimeRate != 25 {
		t.Errorf("visitor A %+v", a)
	}
	if a := agents[e.visB]; a.Tasks != 3 || a.Done != 1 || a.SatAvg != 4 || a.False != 0 || len(rp.Agents) != 2 {
		t.Errorf("visitor B %+v (%d agents)", a, len(rp.Agents))
	}
}

// TestReportScope: a supervisor sees their department's tasks only (and no center-wide
// sampling figures), QA sees all, a department or rule filter narrows, an agent may not
// read the report at all.
func TestReportScope(t *testing.T) {
	e := rpDataset(t)
	B := strconv.FormatInt(e.deptB, 10)
	for _, tc := range []struct {
		as, query                     string
		sampling                      bool
		tasks, unanswered, fals, pend int64
		rules                         int
	}{
		{"director@ra", "", true, 12, 3, 1, 1, 2},
		{"qa@ra", "", true, 12, 3, 1, 1, 2},
		{"supervisor@ra", "", false, 9, 2, 1, 0, 1},
		{"supervisor@rb", "", false, 3, 1, 0, 1, 1},
		{"director@ra", "&dept_id=" + B, false, 3, 1, 0, 1, 1},
		{"supervisor@ra", "&dept_id=" + B, false, 0, 0, 0, 0, 0}, // another department reads as nothing
		{"director@ra", "&rule=repair_done", true, 3, 1, 0, 1, 1},
	} {
		t.Run(tc.as+tc.query, func(t *testing.T) {
			rp := rpGet(t, e.s.As(t, tc.as), rpOct+tc.query)
			if rp.Sampling != tc.sampling || rp.Totals.Tasks != tc.tasks || rp.Issues.Unanswered != tc.unanswered ||
				rp.False.Confirmed != tc.fals || rp.False.Pending != tc.pend || len(rp.Rules) != tc.rules {
				t.Errorf("sampling %v tasks %d unanswered %d false %d pending %d rules %d, want %v %d %d %d %d %d",
					rp.Sampling, rp.Totals.Tasks, rp.Issues.Unanswered, rp.False.Confirmed, rp.False.Pending, len(rp.Rules),
					tc.sampling, tc.tasks, tc.unanswered, tc.fals, tc.pend, tc.rules)
			}
			if !rp.Sampling && (rp.Totals.Decided != 0 || rp.Totals.VisitRate != 0) {
				t.Errorf("sampling figures shown out of scope: %+v", rp.Totals)
			}
		})
	}
	apptest.Run(t, e.s, []apptest.Scenario{
		{Name: "agent", As: "agent@ra", Method: "GET", Path: rpOct, Status: 403},
		{Name: "agent xlsx", As: "agent@ra", Method: "GET", Path: strings.Replace(rpOct, "revisits", "revisits.xlsx", 1), Status: 403},
		{Name: "sales", As: "sales@ra", Method: "GET", Path: rpOct, Status: 403},
		{Name: "anonymous", Method: "GET", Path: rpOct, Status: 401},
		{Name: "bad period", As: "director@ra", Method: "GET", Path: "/api/v1/reports/revisits?from=2026-05-01&to=2026-04-01",
			Status: 422, Has: []string{`"to"`}},
		{Name: "too long", As: "director@ra", Method: "GET", Path: "/api/v1/reports/revisits?from=2020-01-01&to=2026-01-01",
			Status: 422, Has: []string{`"to"`}},
		{Name: "bad month", As: "director@ra", Method: "GET", Path: "/api/v1/reports/revisits?month=2026-13", Status: 400},
		{Name: "bad date", As: "director@ra", Method: "GET", Path: "/api/v1/reports/revisits?from=yesterday", Status: 400},
		{Name: "unknown rule", As: "director@ra", Method: "GET", Path: rpOct + "&rule=nope", Status: 422, Has: []string{`"rule"`}},
		{Name: "viewed", As: "director@ra", Method: "GET", Path: rpOct, Status: 200, Audit: "revisit.report.view"},
	})
}

// TestReportPeriods: the default period is this month; a period of two months has a
// line per month; September alone holds t9.
func TestReportPeriods(t *testing.T) {
	e := rpDataset(t)
	c := e.s.As(t, "director@ra")
	rp := rpGet(t, c, "/api/v1/reports/revisits")
	if !rp.From.Equal(rpAt(10, 1, 0)) || rp.Totals.Tasks != 12 {
		t.Errorf("default period from %v: %d tasks", rp.From, rp.Totals.Tasks)
	}
	rp = rpGet(t, c, "/api/v1/reports/revisits?from=2026-09-01&to=2026-11-01")
	if len(rp.Months) != 2 || rp.Months[0].Month != "2026-09" || rp.Months[0].Tasks != 1 || rp.Months[0].SatAvg != 1 ||
		rp.Totals.Tasks != 13 || rp.Totals.Decided != 21 || rp.Issues.Raised != 4 {
		t.Errorf("two months: %+v totals %+v issues %+v", rp.Months, rp.Totals, rp.Issues)
	}
	// Periods cut inside days: the decisions of whole days come from the daily counts,
	// the hours around them are counted one by one (decisions at 09:00 on October 1-10;
	// complaint_closed chose the first five, repair_done the first three).
	for _, tc := range []struct {
		query           string
		decided, chosen int64
	}{
		{"from=2026-10-03T12:00:00%2B08:00&to=2026-10-05T12:00:00%2B08:00", 4, 2}, // Oct 4 (a whole day), Oct 5 09:00
		{"from=2026-10-04T08:00:00%2B08:00&to=2026-10-04T10:00:00%2B08:00", 2, 1}, // within one day
		{"from=2026-10-04T09:00:00%2B08:00&to=2026-10-06T09:00:00%2B08:00", 4, 2}, // from inclusive, to exclusive
		{"from=2026-10-02T00:00:00%2B08:00&to=2026-10-04T00:00:00%2B08:00", 4, 4}, // whole days only
		{"from=2026-10-01T01:00:00Z&to=2026-10-03T01:00:00Z", 4, 4},               // 09:00 China time sits on the cuts
	} {
		rp := rpGet(t, c, "/api/v1/reports/revisits?"+tc.query)
		if rp.Totals.Decided != tc.decided || rp.Totals.Chosen != tc.chosen {
			t.Errorf("%s: decided %d chosen %d, want %d %d", tc.query, rp.Totals.Decided, rp.Totals.Chosen, tc.decided, tc.chosen)
		}
	}
	rp = rpGet(t, c, "/api/v1/reports/revisits?month=2026-09")
	if rp.Totals.Tasks != 1 || rp.Totals.Done != 1 || rp.Satisfaction.Rated != 1 || rp.Issues.Unanswered != 1 ||
		rp.False.Confirmed != 0 {
		t.Errorf("september: %+v %+v", rp.Totals, rp.Issues)
	}
}

// TestReportXLSX: the workbook has a sheet per table with the JSON's numbers, headed in
// the request's language, and the export is audited.
func TestReportXLSX(t *testing.T) {
	e := rpDataset(t)
	c := e.s.As(t, "director@ra")
	rp := rpGet(t, c, rpOct)
	before := e.s.AuditSeq(t)
	r := c.Do(t, "GET", "/api/v1/reports/revisits.xlsx?month=2026-10", nil)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Disposition"), "revisit-report-20261001-20261031.xlsx") {
		t.Fatalf("export: %d %v", r.Status, r.Header)
	}
	if !e.s.AuditSince(t, before, "revisit.report.export") {
		t.Error("export not audited")
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	cat := i18n.MustLoad()
	zh := func(key string) string { return cat.T(i18n.ZhCN, key, nil) }
	if len(sheets) != 7 || sheets[0] != zh("revisit.report.sheet.summary") {
		t.Fatalf("sheets %v", sheets)
	}
	rows := func(i int) [][]string {
		rs, err := f.GetRows(sheets[i], excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return rs[1:]
	}
	summary := map[string]string{}
	for _, row := range rows(0) {
		summary[row[0]] = row[1]
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for key, want := range map[string]string{"tasks": "12", "decided": "20", "visit_rate": num(rp.Totals.VisitRate),
		"on_time_rate": num(rp.Totals.OnTimeRate), "processing_rate": "33.3", "satisfaction_avg": "3.67",
		"false_confirmed": "1", "issues_unanswered": "3"} {
		if got := summary[zh("revisit.report.fig."+key)]; got != want {
			t.Errorf("summary %s = %q, want %q", key, got, want)
		}
	}
	rules := rows(1)
	if len(rules) != 2 || rules[0][0] != rp.Rules[0].Name || rules[0][6] != "9" || rules[1][5] != "10" {
		t.Errorf("rules sheet %v", rules)
	}
	if open := rows(5); len(open) != 3 || open[0][4] != "Parking light broken" || strings.Contains(open[0][2], "Xavier") {
		t.Errorf("unanswered sheet %v", open)
	}
}

// TestReportPage: the printable page shows the figures and the lists; an invalid
// period is shown on the form.
func TestReportPage(t *testing.T) {
	e := rpDataset(t)
	e.s.Staff(t, "director_page", "director", "ra")
	b := e.s.Browser(t, "director_page", apptest.Password)
	r := b.Do(t, "GET", "/revisits/report?month=2026-10", nil)
	if r.Status != 200 {
		t.Fatalf("page: %d %s", r.Status, r.Body)
	}
	for _, want := range []string{`id="report-sheet"`, `id="s-tasks">12<`, `33.3% (1/3)`, "Tap drips again",
		`href="/api/v1/reports/revisits.xlsx?`, `data-rule="complaint_closed"`, "revisit-report.", `id="rr-false-records"`} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(string(r.Body), "Xavier") {
		t.Error("page shows a customer's name in clear")
	}
	r = b.Do(t, "GET", "/revisits/report?from=2026-10-31&to=2026-10-01", nil)
	if r.Status != 422 || !strings.Contains(string(r.Body), `id="err-to"`) {
		t.Errorf("bad period: %d", r.Status)
	}
	r = e.s.As(t, "agent@ra").Do(t, "GET", "/revisits/report", nil)
	if r.Status != 403 {
		t.Errorf("agent page: %d", r.Status)
	}
}

// TestReportLargeIDs: a task id past 2^31 makes the report read a task as two numbers
// (id and figures) instead of one; the figures stay the same.
func TestReportLargeIDs(t *testing.T) {
	e := rpDataset(t)
	ctx := context.Background()
	c := e.s.As(t, "director@ra")
	before := rpGet(t, c, rpOct)
	const big = int64(3_000_000_000)
	start, end, done := rpAt(10, 20, 10).UnixMilli(), rpAt(10, 23, 10).UnixMilli(), rpAt(10, 21, 10).UnixMilli()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO revisit_tasks (id, rule_code, customer_id, source_type, source_id, level, dept_id, team_id, assignee_id,
			window_start, window_end, scheduled_at, method, status, round, parent_id, attempts, next_attempt_at, done_at,
			decision_id, plan_key, version, created_at, updated_at) VALUES (?, 'complaint_closed', ?, 'ticket', 1, 'general', ?,
			NULL, ?, ?, ?, ?, 'phone', 'done', 1, NULL, 0, 0, ?, 1, '', 1, ?, ?)`,
			[]any{big, e.custX, e.deptA, e.visA, start, end, start, done, start, start}},
		{`INSERT INTO revisit_records (task_id, round, method, visited_at, reached, satisfaction, answers, important, note,
			agent_id, signature_id, signoff_by, signoff_at, signoff_note, flagged_false_at, flagged_by, false_reason,
			false_confirmed_at, false_confirmed_by, false_staff_id, created_at, version) VALUES (?, 1, 'phone', ?, 1, 3, '{}', 0,
			'', ?, NULL, NULL, 0, '', 0, NULL, '', 0, NULL, NULL, ?, 1)`, []any{big, done, e.visA, done}},
	} {
		if _, err := e.s.App.DB.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%v\n%s", err, q.sql)
		}
	}
	rp := rpGet(t, c, rpOct)
	got := rpFigsOf(rp.Totals)
	want := rpFigsOf(before.Totals)
	want.Tasks, want.Done, want.Visited, want.Due, want.OnTime, want.Rated = want.Tasks+1, want.Done+1, want.Visited+1,
		want.Due+1, want.OnTime+1, want.Rated+1
	want.VisitRate, want.OnTimeRate, want.ReachRate, want.SatAvg = 20, 42.9, 80, 3.5
	if got != want {
		t.Errorf("totals\n got %+v\nwant %+v", got, want)
	}
	if d := rp.Satisfaction.Distribution; len(d) != 5 || d[2].Count != before.Satisfaction.Distribution[2].Count+1 {
		t.Errorf("distribution %+v", d)
	}
}
