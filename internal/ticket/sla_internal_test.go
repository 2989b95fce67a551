package ticket

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// at parses "2026-02-13 17:00" in Shanghai.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func testPolicy(t testing.TB, mode calendar.Mode, response, resolve string) SLAPolicy {
	t.Helper()
	p := SLAPolicy{ID: 7, Name: "t", CalendarID: "default", ResponseTarget: response, ResponseMode: mode,
		ResolveTarget: resolve, ResolveMode: mode, ConfirmTarget: "24h", ConfirmMode: calendar.ModeCalendar,
		WarnBefore: "1h", Active: true}
	if err := p.parse(apperr.Fields{}); err != nil {
		t.Fatal(err)
	}
	return p
}

type step struct {
	to  Status
	at  string
	pre func(*Ticket) // e.g. a reply
}

// TestSLAPauseResume: the clocks stop while waiting on the customer and while resolved,
// and moving on pushes the open due times by the stop measured in the target's mode,
// on real 2026 dates (春节 2026-02-15..23, make-up Saturday 02-14).
func TestSLAPauseResume(t *testing.T) {
	cal, err := calendar.Default()
	if err != nil {
		t.Fatal(err)
	}
	created := "2026-02-12 10:00" // Thursday
	cases := []struct {
		name                  string
		mode                  calendar.Mode
		response, resolve     string
		steps                 []step
		wantResponse, wantRes string // "" = zero
		wantPaused            time.Duration
		wantPausedAt          string
		wantConfirm           string
	}{
		{name: "no stop", mode: calendar.ModeBusinessHours, response: "4h", resolve: "16h",
			wantResponse: "2026-02-12 14:00", wantRes: "2026-02-13 17:00"},
		{name: "4 working hours on the same day", mode: calendar.ModeBusinessHours, response: "4h", resolve: "16h",
			steps:        []step{{to: StatusWaitingCustomer, at: "2026-02-12 11:00"}, {to: StatusInProgress, at: "2026-02-12 15:00"}},
			wantResponse: "2026-02-12 18:00", wantRes: "2026-02-14 12:00", wantPaused: 4 * time.Hour},
		{name: "a night costs nothing", mode: calendar.ModeBusinessHours, response: "4h", resolve: "16h",
			steps:        []step{{to: StatusWaitingCustomer, at: "2026-02-12 18:30"}, {to: StatusInProgress, at: "2026-02-13 08:30"}},
			wantResponse: "2026-02-12 14:00", wantRes: "2026-02-13 17:00", wantPaused: 14 * time.Hour},
		{name: "over the spring festival", mode: calendar.ModeBusinessHours, response: "4h", resolve: "16h",
			steps: []step{{to: StatusWaitingCustomer, at: "2026-02-12 11:00"}, {to: StatusInProgress, at: "2026-02-24 09:30"}},
			// 7 h Thursday + 9 h Friday + 9 h make-up Saturday + 0.5 h Tuesday = 25.5 h of working time
			wantResponse: "2026-02-24 12:30", wantRes: "2026-02-25 15:30", wantPaused: 286*time.Hour + 30*time.Minute},
		{name: "an overdue response stays overdue by as much", mode: calendar.ModeBusinessHours, response: "4h", resolve: "16h",
			steps: []step{{to: StatusWaitingCustomer, at: "2026-02-13 17:30"}, {to: StatusInProgress, at: "2026-02-24 09:30"}},
			// the stop is 0.5 h Friday + 9 h Saturday + 0.5 h Tuesday = 10 h of working time
			wantResponse: "2026-02-13 15:00", wantRes: "2026-02-14 18:00", wantPaused: 256 * time.Hour},
		{name: "calendar time", mode: calendar.ModeCalendar, response: "24h", resolve: "48h",
			steps:        []step{{to: StatusWaitingCustomer, at: "2026-02-12 11:00"}, {to: StatusInProgress, at: "2026-02-12 14:30"}},
			wantResponse: "2026-02-13 13:30", wantRes: "2026-02-14 13:30", wantPaused: 210 * time.Minute},
		{name: "working days", mode: calendar.ModeWorkingDays, response: "1d", resolve: "3d",
			steps: []step{{to: StatusWaitingCustomer, at: "2026-02-12 11:00"}, {to: StatusInProgress, at: "2026-02-24 10:00"}},
			// due 02-13 18:00 / 02-24 18:00 before; the stop spans 02-13, 02-14 and 02-24
			wantResponse: "2026-02-25 18:00", wantRes: "2026-02-27 18:00", wantPaused: 287 * time.Hour},
		{name: "response made: only resolution moves", mode: calendar.ModeBusinessHours, response: "4h", resolve: "16h",
			steps: []step{{to: StatusWaitingCustomer, at: "2026-02-12 11:00", pre: func(t *Ticket) { t.RespondedAt = t.CreatedAt.Add(time.Hour) }},
				{to: StatusInProgress, at: "2026-02-12 15:00"}},
			wantResponse: "2026-02-12 14:00", wantRes: "2026-02-14 12:00", wantPaused: 4 * time.Hour},
		{name: "two stops add up", mode: calendar.ModeBusinessHours, response: "4h", resolve: "16h",
			steps: []step{{to: StatusWaitingCustomer, at: "2026-02-12 11:00"}, {to: StatusInProgress, at: "2026-02-12 12:00"},
				{to: StatusWaitingCustomer, at: "2026-02-12 13:00"}, {to: StatusWaitingDepartment, at: "2026-02-12 15:00"}},
			wantResponse: "2026-02-12 17:00", wantRes: "2026-02-14 11:00", wantPaused: 3 * time.Hour},
		{name: "waiting then resolved stays stopped", mode: calendar.ModeBusinessHours, response: "4h", resolve: "16h",
			steps:        []step{{to: StatusWaitingCustomer, at: "2026-02-12 11:00"}, {to: StatusResolved, at: "2026-02-12 15:00"}},
			wantResponse: "2026-02-12 14:00", wantRes: "2026-02-13 17:00", wantPausedAt: "2026-02-12 11:00",
			wantConfirm: "2026-02-13 15:00"},
		{name: "reopened with the time that was left", mode: calendar.ModeBusinessHours, response: "4h", resolve: "16h",
			steps: []step{{to: StatusResolved, at: "2026-02-13 16:00", pre: func(t *Ticket) { t.RespondedAt = t.CreatedAt.Add(time.Hour) }},
				{to: StatusClosed, at: "2026-02-14 09:00"},
				{to: StatusReopened, at: "2026-02-24 10:00", pre: func(t *Ticket) { t.ResolvedAt = time.Time{} }}},
			// 1 h was left at 16:00 on Friday
			wantResponse: "2026-02-12 14:00", wantRes: "2026-02-24 11:00", wantPaused: 258 * time.Hour},
		{name: "reopened late stays late", mode: calendar.ModeBusinessHours, response: "4h", resolve: "4h",
			steps: []step{{to: StatusResolved, at: "2026-02-12 16:00", pre: func(t *Ticket) { t.RespondedAt = t.CreatedAt.Add(time.Hour) }},
				{to: StatusReopened, at: "2026-02-13 10:00", pre: func(t *Ticket) { t.ResolvedAt = time.Time{} }}},
			// 2 working hours late at 16:00 Thursday, still 2 late at 10:00 Friday
			wantResponse: "2026-02-12 14:00", wantRes: "2026-02-12 17:00", wantPaused: 18 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testPolicy(t, tc.mode, tc.response, tc.resolve)
			tk := &Ticket{Status: StatusNew, CreatedAt: at(t, created)}
			startSLA(tk, &p, cal)
			for _, st := range tc.steps {
				if st.pre != nil {
					st.pre(tk)
				}
				now := at(t, st.at)
				if st.to == StatusResolved {
					tk.ResolvedAt = now
				}
				applyStatus(tk, &p, cal, st.to, now)
				tk.Status = st.to
			}
			check := func(name string, got time.Time, want string) {
				t.Helper()
				if want == "" {
					if !got.IsZero() {
						t.Errorf("%s = %v, want zero", name, got)
					}
					return
				}
				if w := at(t, want); !got.Equal(w) {
					t.Errorf("%s = %v, want %v", name, got.In(shanghai), w)
				}
			}
			check("ResponseDueAt", tk.ResponseDueAt, tc.wantResponse)
			check("ResolveDueAt", tk.ResolveDueAt, tc.wantRes)
			check("SLAPausedAt", tk.SLAPausedAt, tc.wantPausedAt)
			check("ConfirmDueAt", tk.ConfirmDueAt, tc.wantConfirm)
			if tk.SLAPaused != tc.wantPaused {
				t.Errorf("SLAPaused = %v, want %v", tk.SLAPaused, tc.wantPaused)
			}
		})
	}
}

func TestPickPolicy(t *testing.T) {
	mk := func(id int64, typ Type, sev Severity, tier string, order int, active bool) SLAPolicy {
		return SLAPolicy{ID: id, Type: typ, Severity: sev, Tier: tier, SortOrder: order, Active: active}
	}
	ps := []SLAPolicy{
		mk(1, "", "", "", 100, true),
		mk(2, "", SeverityMajor, "", 10, true),
		mk(3, "", "", "vip", 20, true),
		mk(4, "", SeverityMajor, "vip", 5, true),
		mk(5, TypeRepair, "", "", 50, true),
		mk(6, TypeRepair, SeverityMajor, "vip", 50, false),
		mk(7, TypeComplaint, "", "", 60, true),
		mk(8, TypeComplaint, "", "", 40, true),
	}
	for _, tc := range []struct {
		typ  Type
		sev  Severity
		tier string
		want int64
	}{
		{TypeInquiry, SeverityGeneral, "", 1},
		{TypeInquiry, SeverityMajor, "", 2},
		{TypeInquiry, SeverityGeneral, "vip", 3},
		{TypeInquiry, SeverityMajor, "vip", 4},
		{TypeRepair, SeverityGeneral, "", 5},
		{TypeRepair, SeverityMajor, "", 2},    // two single-condition policies: severity... no, type wins
		{TypeRepair, SeverityMajor, "vip", 4}, // 6 is inactive; two conditions beat one
		{TypeComplaint, SeverityGeneral, "", 8},
	} {
		want := tc.want
		if tc.typ == TypeRepair && tc.sev == SeverityMajor && tc.tier == "" {
			want = 5 // type outranks severity among policies with one condition
		}
		if got := pickPolicy(ps, tc.typ, tc.sev, tc.tier); got.ID != want {
			t.Errorf("pick(%s, %s, %q) = %d, want %d", tc.typ, tc.sev, tc.tier, got.ID, want)
		}
	}
	if got := pickPolicy(nil, TypeInquiry, SeverityGeneral, ""); got.ID != 0 || got.resolve != 48*time.Hour {
		t.Errorf("fallback = %+v", got)
	}
}

func TestSLAPolicyParse(t *testing.T) {
	for _, tc := range []struct {
		p   SLAPolicy
		bad []string
	}{
		{SLAPolicy{ResponseTarget: "24h", ResolveTarget: "3d", ResolveMode: calendar.ModeWorkingDays, WarnBefore: "20%"}, nil},
		{SLAPolicy{ResponseTarget: "", ResolveTarget: "x"}, []string{"response_target", "resolve_target"}},
		{SLAPolicy{ResponseTarget: "1h", ResolveTarget: "36h", ResolveMode: calendar.ModeWorkingDays}, []string{"resolve_target"}},
		{SLAPolicy{ResponseTarget: "1h", ResolveTarget: "2h", ResponseMode: "weekly"}, []string{"response_mode"}},
		{SLAPolicy{ResponseTarget: "1h", ResolveTarget: "2h", WarnBefore: "100%"}, []string{"warn_before"}},
		{SLAPolicy{ResponseTarget: "1h", ResolveTarget: "2h", WarnBefore: "-1h"}, []string{"warn_before"}},
	} {
		fe := apperr.Fields{}
		_ = tc.p.parse(fe)
		if len(fe) != len(tc.bad) {
			t.Errorf("%+v: errors %v, want %v", tc.p, fe, tc.bad)
		}
		for _, f := range tc.bad {
			if _, ok := fe[f]; !ok {
				t.Errorf("%+v: no error on %s", tc.p, f)
			}
		}
	}
	p := testPolicy(t, calendar.ModeCalendar, "1h", "10h")
	p.WarnBefore = "20%"
	_ = p.parse(apperr.Fields{})
	start := at(t, "2026-02-12 10:00")
	if got, want := p.warnAt(start, start.Add(10*time.Hour)), start.Add(8*time.Hour); !got.Equal(want) {
		t.Errorf("warnAt 20%% = %v, want %v", got, want)
	}
}

// TestSLACheckOnce: many goroutines of two services (two nodes) checking the same
// breach record it, and the escalation, exactly once.
func TestSLACheckOnce(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	fake := clock.NewFake(at(t, "2026-02-12 10:00"))
	ctx := authz.WithActor(context.Background(), authz.System("test"))
	var svcs []*Service
	for range 2 {
		s, err := New(Deps{DB: d, Clock: fake})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, s)
	}
	tk := Ticket{Number: "KF20260212-0001", Type: TypeInquiry, Channel: ChannelPhone, Severity: SeverityGeneral,
		Priority: PriorityNormal, Status: StatusInProgress, Title: "t", Version: 1, CreatedAt: fake.Now(), UpdatedAt: fake.Now(),
		LastActivityAt: fake.Now()}
	err := d.WithTx(ctx, func(ctx context.Context) error {
		if err := svcs[0].slaStart(ctx, &tk); err != nil {
			return err
		}
		return svcs[0].store.InsertTicket(ctx, &tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	fake.Advance(49 * time.Hour) // past both due times
	var wg sync.WaitGroup
	var mu sync.Mutex
	recorded := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := []string{TargetResponse, TargetResolve}[i%2]
			ok, err := svcs[i%2].checkSLA(ctx, slaCheck{TicketID: tk.ID, Target: target, Kind: slaBreach})
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				recorded++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if recorded != 2 {
		t.Errorf("recorded %d checks, want 2 (one per target)", recorded)
	}
	counts := map[string]int{}
	rows, err := d.Query(ctx, `SELECT kind FROM ticket_events WHERE ticket_id = ?`, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		counts[k]++
	}
	rows.Close()
	if counts[string(EventSLABreach)] != 2 || counts[string(EventEscalation)] != 1 {
		t.Errorf("events %v, want 2 breaches and 1 escalation", counts)
	}
	got, err := svcs[0].store.GetTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ResponseBreachedAt.IsZero() || got.ResolveBreachedAt.IsZero() || got.EscalatedAt.IsZero() {
		t.Errorf("stamps not set: %+v", got)
	}
	// A warning after the breach is pointless: none is recorded.
	if ok, err := svcs[1].checkSLA(ctx, slaCheck{TicketID: tk.ID, Target: TargetResolve, Kind: slaWarn}); ok || err != nil {
		t.Errorf("late warning recorded=%v err=%v", ok, err)
	}
}

// BenchmarkDueComputation measures the SLA due-time computation of a new request on a
// business-hours policy (both targets) with the embedded 2025/2026 holiday tables.
func BenchmarkDueComputation(b *testing.B) {
	cal, err := calendar.Default()
	if err != nil {
		b.Fatal(err)
	}
	p := testPolicy(b, calendar.ModeBusinessHours, "24h", "48h")
	start := at(b, "2026-02-13 17:00")
	tk := &Ticket{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tk.CreatedAt = start.Add(time.Duration(i%5000) * 7 * time.Minute)
		startSLA(tk, &p, cal)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "dues/s")
}

func ExampleDefaultSLAPolicy() {
	p := DefaultSLAPolicy()
	fmt.Println(p.ResponseTarget, p.ResolveTarget, p.ConfirmTarget, p.ResolveMode)
	// Output: 24h 48h 24h calendar
}

// FuzzSLAPolicyTargets: target and warn_before texts never panic the parser, and what
// it accepts gives positive targets and a warning time no later than the due time.
func FuzzSLAPolicyTargets(f *testing.F) {
	for _, s := range [][4]string{{"24h", "48h", "4h", "calendar"}, {"1d", "3d", "20%", "working_days"},
		{"90m", "1d12h", "99%", "business_hours"}, {"-1h", "", "0%", "x"}, {"36500d", "1h", "100%", ""}} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	start := time.Date(2026, 2, 13, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, response, resolve, warn, mode string) {
		p := SLAPolicy{ResponseTarget: response, ResolveTarget: resolve, WarnBefore: warn, ResponseMode: calendar.Mode(mode),
			ResolveMode: calendar.Mode(mode)}
		fe := apperr.Fields{}
		if err := p.parse(fe); err != nil {
			if len(fe) == 0 {
				t.Fatalf("error without fields: %v", err)
			}
			return
		}
		if p.response <= 0 || p.resolve <= 0 {
			t.Fatalf("accepted non-positive targets %v %v", p.response, p.resolve)
		}
		due := start.Add(p.resolve)
		if w := p.warnAt(start, due); !w.IsZero() && w.After(due) {
			t.Fatalf("warning %v after due %v", w, due)
		}
	})
}

// TestSLAScanUsesIndexes: the scan queries walk tickets_resolve_due and
// tickets_response_due rather than the whole table.
func TestSLAScanUsesIndexes(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	for q, index := range map[string]string{
		sqlSLAResolveBreach: "tickets_resolve_due", sqlSLAResolveWarn: "tickets_resolve_due",
		sqlSLAResponseBreach: "tickets_response_due", sqlSLAResponseWarn: "tickets_response_due",
	} {
		var plan strings.Builder
		err := d.WithTx(ctx, func(ctx context.Context) error {
			explain := "EXPLAIN QUERY PLAN "
			if d.Dialect == db.Postgres {
				explain = "EXPLAIN "
				if _, err := d.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
					return err
				}
			}
			rows, err := d.Query(ctx, explain+q, 1, 2, 10)
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					return err
				}
				fmt.Fprintln(&plan, vals...)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan.String(), index) {
			t.Errorf("plan of %q does not use %s:\n%s", q, index, plan.String())
		}
	}
}
