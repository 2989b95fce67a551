package revisit_test

import (
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/revisit"
)

var repCST = time.FixedZone("CST", 8*3600)

// enableRule switches rule code on, with repeat rp when not nil.
func (w *engWorld) enableRule(t testing.TB, code string, rp *revisit.Repeat) {
	t.Helper()
	r, err := w.svc.RuleByCode(w.ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := w.svc.UpdateRule(w.ctx, r.ID, revisit.RulePatch{Active: &on, Repeat: rp, Version: &r.Version}); err != nil {
		t.Fatalf("enable %s: %v", code, err)
	}
}

// finish sets task id's status (as the visit work would).
func (w *engWorld) finish(t testing.TB, id int64, status string) {
	t.Helper()
	tk, err := w.svc.Store().GetTask(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	prev := tk.Version
	tk.Status, tk.Version, tk.DoneAt = status, prev+1, w.srv.Clock.Now()
	if ok, err := w.svc.Store().UpdateTask(w.ctx, &tk, prev); err != nil || !ok {
		t.Fatalf("finish %d: %v %v", id, ok, err)
	}
}

func (w *engWorld) ruleTasks(t testing.TB, rule string, cid int64) []revisit.Task {
	t.Helper()
	ts, _, err := w.svc.Tasks(w.ctx, revisit.TaskFilter{Rule: rule, CustomerID: cid, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func (w *engWorld) repeats(t testing.TB) revisit.RepeatResult {
	t.Helper()
	res, err := w.svc.RunRepeats(w.ctx)
	if err != nil {
		t.Fatalf("repeats: %v", err)
	}
	return res
}

func (w *engWorld) emit(t testing.TB, tr revisit.Trigger) {
	t.Helper()
	if tr.At.IsZero() {
		tr.At = w.srv.Clock.Now()
	}
	if err := w.svc.Emit(w.ctx, tr); err != nil {
		t.Fatal(err)
	}
}

// checkNext verifies a series task: source, parent, plan key, schedule.
func (w *engWorld) checkNext(t testing.TB, got, prev revisit.Task, first int64, n int) {
	t.Helper()
	key := revisit.SeriesPlanKey(first, n)
	if got.SourceType != revisit.SourceTask || got.SourceID != prev.ID || got.ParentID != prev.ID || got.PlanKey != key ||
		got.Rule != prev.Rule || got.CustomerID != prev.CustomerID || got.Status != revisit.StatusOpen || got.AssigneeID == 0 {
		t.Fatalf("next task %+v after %+v (want key %s)", got, prev, key)
	}
	if got.ScheduledAt.Before(got.WindowStart) {
		t.Fatalf("scheduled %s before window %s", got.ScheduledAt, got.WindowStart)
	}
	if in, err := w.svc.InDND(w.ctx, got.CustomerID, got.ScheduledAt); err != nil || in {
		t.Fatalf("scheduled in quiet hours: %s (%v)", got.ScheduledAt.In(repCST), err)
	}
}

// Series continue every N days / weekly until Count, Until or a stop condition, never in
// quiet hours, and a rerun makes nothing new.
func TestRepeatSeries(t *testing.T) {
	cases := []struct {
		name, rule string
		repeat     revisit.Repeat
		tier       string
		trigger    func(w *engWorld, cid int64) revisit.Trigger
		step       time.Duration
		stopAfter  int                                        // repeats made before the series stops
		stopEvent  func(t testing.TB, w *engWorld, cid int64) // fired an hour after the first task is finished
	}{
		{name: "count", rule: "sales_key_visitor", tier: customer.TierVIP,
			repeat:  revisit.Repeat{Kind: revisit.RepeatDays, Days: 3, Count: 2, Stop: []string{"deal_closed"}},
			trigger: fieldVisit("A", "0"), step: 3 * 24 * time.Hour, stopAfter: 2},
		{name: "deal closed", rule: "sales_key_visitor", tier: customer.TierVIP,
			repeat:  revisit.Repeat{Kind: revisit.RepeatDays, Days: 3, Stop: []string{"deal_closed"}},
			trigger: fieldVisit("A", "0"), step: 3 * 24 * time.Hour, stopAfter: 0,
			stopEvent: func(t testing.TB, w *engWorld, cid int64) {
				w.emit(t, revisit.Trigger{Event: revisit.EventDealClosed, SourceType: revisit.SourceCustomer, SourceID: cid,
					CustomerID: cid})
			}},
		{name: "until", rule: "sales_hesitant_weekly", tier: customer.TierRegular,
			repeat:  revisit.Repeat{Kind: revisit.RepeatWeekly, Until: "2026-11-12", Stop: []string{"deal_closed"}},
			trigger: fieldVisit("C", "0"), step: 7 * 24 * time.Hour, stopAfter: 1},
		{name: "half month", rule: "sales_deal_closed", tier: customer.TierRegular,
			repeat: revisit.Repeat{Kind: revisit.RepeatHalfMonth, Count: 1},
			trigger: func(w *engWorld, cid int64) revisit.Trigger {
				return revisit.Trigger{Event: revisit.EventDealClosed, SourceType: revisit.SourceCustomer, SourceID: cid,
					CustomerID: cid}
			}, step: 15 * 24 * time.Hour, stopAfter: 1},
		{name: "visit recorded", rule: "sales_promising_caller", tier: customer.TierRegular,
			repeat: revisit.Repeat{Kind: revisit.RepeatWeekly, Stop: []string{"visit_recorded"}},
			trigger: func(w *engWorld, cid int64) revisit.Trigger {
				return revisit.Trigger{Event: revisit.EventCallInbound, SourceType: revisit.SourceCustomer, SourceID: cid,
					CustomerID: cid, Attrs: map[string]string{"intent_class": "A"}}
			}, step: 7 * 24 * time.Hour, stopAfter: 0,
			stopEvent: func(t testing.TB, w *engWorld, cid int64) { w.emit(t, fieldVisit("B", "0")(w, cid)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newEngWorld(t)
			agent := w.srv.As(t, "agent@cs").Staff
			// 22:30 China time: every cadence lands in the evening quiet hours.
			w.srv.Clock.Set(time.Date(2026, 11, 2, 22, 30, 0, 0, repCST))
			cid := w.customer(t, "系列客户", agent.ID, tc.tier, "", "")
			w.run(t)
			w.enableRule(t, tc.rule, &tc.repeat)
			w.emit(t, tc.trigger(w, cid))
			w.run(t)
			ts := w.ruleTasks(t, tc.rule, cid)
			if len(ts) != 1 {
				t.Fatalf("first tasks %+v", ts)
			}
			first := ts[0]
			if res := w.repeats(t); res.Created != 0 {
				t.Fatalf("open first task continued: %+v", res)
			}
			w.finish(t, first.ID, revisit.StatusDone)
			if res := w.repeats(t); res.Created != 0 || res.Waiting != 1 {
				t.Fatalf("not due yet: %+v", res)
			}
			if tc.stopEvent != nil {
				w.srv.Clock.Advance(time.Hour)
				tc.stopEvent(t, w, cid)
			}
			prev := first
			for n := 1; ; n++ {
				w.srv.Clock.Set(prev.WindowStart.Add(tc.step).Add(time.Hour))
				res := w.repeats(t)
				if n > tc.stopAfter {
					if res.Created != 0 || res.Stopped < 1 {
						t.Fatalf("occurrence %d after the stop: %+v", n, res)
					}
					break
				}
				if res.Created != 1 {
					t.Fatalf("occurrence %d: %+v", n, res)
				}
				if again := w.repeats(t); again.Created != 0 {
					t.Fatalf("rerun created %+v", again)
				}
				var next revisit.Task
				for _, x := range w.ruleTasks(t, tc.rule, cid) {
					if x.ParentID == prev.ID {
						next = x
					}
				}
				w.checkNext(t, next, prev, first.ID, n)
				if next.WindowStart.Sub(prev.WindowStart) != tc.step {
					t.Fatalf("cadence %s", next.WindowStart.Sub(prev.WindowStart))
				}
				w.finish(t, next.ID, revisit.StatusUnreached)
				prev = next
			}
			if got := len(w.ruleTasks(t, tc.rule, cid)); got != tc.stopAfter+1 {
				t.Fatalf("%d tasks, want %d", got, tc.stopAfter+1)
			}
		})
	}
}

func fieldVisit(class, deal string) func(w *engWorld, cid int64) revisit.Trigger {
	return func(w *engWorld, cid int64) revisit.Trigger {
		return revisit.Trigger{Event: revisit.EventFieldVisit, SourceType: revisit.SourceFieldVisit,
			SourceID: w.srv.Clock.Now().UnixMilli(), CustomerID: cid,
			Attrs: map[string]string{"intent_class": class, "deal_closed": deal}}
	}
}

// A holidays series greets again in the working day before the next public holiday.
func TestRepeatHolidays(t *testing.T) {
	w := newEngWorld(t)
	agent := w.srv.As(t, "agent@cs").Staff
	w.srv.Clock.Set(time.Date(2026, 9, 10, 10, 0, 0, 0, repCST))
	cid := w.customer(t, "D类客户", agent.ID, customer.TierRegular, "", "")
	w.run(t)
	w.enableRule(t, "sales_class_d", nil)
	w.emit(t, fieldVisit("D", "0")(w, cid))
	w.run(t)
	ts := w.ruleTasks(t, "sales_class_d", cid)
	if len(ts) != 1 {
		t.Fatalf("first tasks %+v", ts)
	}
	w.finish(t, ts[0].ID, revisit.StatusDone)
	cal, err := calendar.Default()
	if err != nil {
		t.Fatal(err)
	}
	var next []revisit.Task
	for day := 0; day < 60 && len(next) < 2; day++ {
		w.srv.Clock.Advance(24 * time.Hour)
		w.repeats(t)
		next = w.ruleTasks(t, "sales_class_d", cid)
	}
	if len(next) != 2 {
		t.Fatalf("no holiday greeting: %+v", next)
	}
	var got revisit.Task
	for _, x := range next {
		if x.ParentID == ts[0].ID {
			got = x
		}
	}
	w.checkNext(t, got, ts[0], ts[0].ID, 1)
	h := cal.DateOf(got.WindowEnd)
	if _, ok := cal.Holiday(h); !ok {
		t.Fatalf("window ends %s, not on a holiday", h)
	}
	if _, ok := cal.Holiday(h.AddDays(-1)); ok {
		t.Fatalf("window ends inside the holiday %s", h)
	}
	if res := w.repeats(t); res.Created != 0 {
		t.Fatalf("rerun %+v", res)
	}
}

// The series plan key reads back what it wrote and refuses anything else.
func FuzzSeriesKey(f *testing.F) {
	for _, s := range []string{"series|12|3", "series|1|1", "series||", "series|-1|2", "coop_monthly|2026-10|5", "series|9|0|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		first, n, ok := revisit.ParseSeriesKey(key)
		if !ok {
			return
		}
		if first <= 0 || n <= 0 {
			t.Fatalf("%q: %d %d", key, first, n)
		}
		a, b, ok2 := revisit.ParseSeriesKey(revisit.SeriesPlanKey(first, n))
		if !ok2 || a != first || b != n {
			t.Fatalf("%q: round trip %d %d", key, a, b)
		}
	})
}
