package revisit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// engTestSecret makes sampling reproducible across runs and engines.
const engTestSecret = "6b6566752d7265766973697421746573742d7365637265742d30303031"

type engWorld struct {
	srv *apptest.Server
	svc *revisit.Service
	ctx context.Context
}

func newEngWorld(t testing.TB) *engWorld {
	t.Helper()
	srv := apptest.New(t)
	w := &engWorld{srv: srv, svc: srv.App.Revisit, ctx: apptest.SystemCtx()}
	if err := w.svc.SetSecret(w.ctx, engTestSecret); err != nil {
		t.Fatal(err)
	}
	return w
}

// customer creates a customer file owned by owner with the given classification.
func (w *engWorld) customer(t testing.TB, name string, owner int64, tier, value, grade string) int64 {
	t.Helper()
	c, err := w.srv.App.Customer.CreateCustomer(w.ctx, customer.Input{Kind: customer.KindPerson, Name: name,
		Tier: tier, ValueClass: value, CreditGrade: grade, OwnerID: owner})
	if err != nil {
		t.Fatalf("customer %s: %v", name, err)
	}
	return c.ID
}

func (w *engWorld) run(t testing.TB) revisit.EngineResult {
	t.Helper()
	res, err := w.svc.RunEngine(w.ctx)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	return res
}

func (w *engWorld) decisions(t testing.TB, rule string) []revisit.Decision {
	t.Helper()
	var out []revisit.Decision
	var after int64
	for {
		ds, err := w.svc.Store().Decisions(w.ctx, rule, time.Unix(0, 0), time.Now().AddDate(10, 0, 0), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ds...)
		if len(ds) < 1000 {
			return out
		}
		after = ds[len(ds)-1].ID
	}
}

// engEventsFor builds n events that trigger rule for customer cid.
func engEventsFor(rule string, n int, cid int64, level string) []revisit.TestEvent {
	evs := make([]revisit.TestEvent, n)
	for i := range evs {
		e := revisit.TestEvent{CustomerID: cid, SourceID: int64(i + 1), At: time.Now(), Level: level}
		switch rule {
		case "complaint_closed":
			e.Event, e.SourceType, e.Subject = revisit.EventComplaintClosed, revisit.SourceComplaint, fmt.Sprintf("complaint:%d:0", i+1)
		case "repair_done":
			e.Event, e.SourceType, e.Subject = revisit.EventTicketResolved, revisit.SourceTicket, fmt.Sprintf("ticket:%d:0", i+1)
			e.Attrs = map[string]string{"type": "repair", "severity": "general"}
		case "activity_ended":
			e.Event, e.SourceType, e.Subject = revisit.EventActivityEnded, revisit.SourceActivity, fmt.Sprintf("activity:%d:%d", i+1, cid)
		case "sales_visit":
			e.Event, e.SourceType, e.Subject = revisit.EventFieldVisit, revisit.SourceFieldVisit, fmt.Sprintf("fieldvisit:%d", i+1)
		}
		evs[i] = e
	}
	return evs
}

// The achieved rate of 1,000 events of each default rule is within 3 points of its
// rate; every decision is stored, chosen or not, with the bucket the keyed hash gives;
// a second pass and the same subjects again create nothing.
func TestSamplingRates(t *testing.T) {
	w := newEngWorld(t)
	agent := w.srv.As(t, "agent@cs").Staff
	cid := w.customer(t, "普通客户", agent.ID, customer.TierRegular, customer.ValueGeneral, customer.GradeB)
	w.run(t) // the file's own move_in visit
	key, _ := engHexKey()
	for _, tc := range []struct {
		rule string
		rate int
	}{{"complaint_closed", 50}, {"repair_done", 30}, {"activity_ended", 10}, {"sales_visit", 100}} {
		t.Run(tc.rule, func(t *testing.T) {
			if err := w.svc.InsertTestEvents(w.ctx, engEventsFor(tc.rule, 1000, cid, "general")); err != nil {
				t.Fatal(err)
			}
			res := w.run(t)
			if res.Events != 1000 || res.Decisions != 1000 {
				t.Fatalf("engine: %+v", res)
			}
			ds := w.decisions(t, tc.rule)
			if len(ds) != 1000 {
				t.Fatalf("%d decisions", len(ds))
			}
			chosen := 0
			for _, d := range ds {
				if d.Bucket != revisit.Bucket(key, tc.rule, d.EventKey) {
					t.Fatalf("decision %+v: bucket differs from the keyed hash", d)
				}
				if d.Chosen != (d.Bucket < tc.rate*100) || d.Chosen != (d.TaskID != 0) {
					t.Fatalf("decision %+v at rate %d", d, tc.rate)
				}
				if d.Chosen {
					chosen++
				}
			}
			if got := chosen / 10; got < tc.rate-3 || got > tc.rate+3 {
				t.Fatalf("achieved %d.%d%%, want %d%% +-3", chosen/10, chosen%10, tc.rate)
			}
			if res.Tasks != chosen {
				t.Fatalf("%d tasks for %d chosen", res.Tasks, chosen)
			}
			// Again: the same subjects (a request resolved, then closed) decide nothing new.
			again := engEventsFor(tc.rule, 1000, cid, "general")
			for i := range again {
				again[i].Event = revisit.EventTicketClosed
				if tc.rule != "repair_done" {
					again[i].Subject += ":again" // other triggers: nothing takes ticket.closed but repair rules
					again[i].Event = revisit.EventTicketClosed
				}
			}
			if err := w.svc.InsertTestEvents(w.ctx, again); err != nil {
				t.Fatal(err)
			}
			if res := w.run(t); res.Tasks != 0 || (tc.rule == "repair_done" && res.Decisions != 0) {
				t.Fatalf("rerun: %+v", res)
			}
			if n := len(w.decisions(t, tc.rule)); n != 1000 {
				t.Fatalf("%d decisions after the rerun", n)
			}
		})
	}
}

func engHexKey() ([]byte, error) {
	b := make([]byte, len(engTestSecret)/2)
	for i := range b {
		var v byte
		if _, err := fmt.Sscanf(engTestSecret[2*i:2*i+2], "%02x", &v); err != nil {
			return nil, err
		}
		b[i] = v
	}
	return b, nil
}

// The buckets are the same on every engine and every run: fixed values for the test
// secret (both engines' runs of this test check the same numbers).
func TestBucketsAreFixed(t *testing.T) {
	key, err := engHexKey()
	if err != nil {
		t.Fatal(err)
	}
	got := []int{revisit.Bucket(key, "complaint_closed", "complaint:1:0"), revisit.Bucket(key, "repair_done", "ticket:7:0"),
		revisit.Bucket(key, "activity_ended", "activity:3:9")}
	again := []int{revisit.Bucket(key, "complaint_closed", "complaint:1:0"), revisit.Bucket(key, "repair_done", "ticket:7:0"),
		revisit.Bucket(key, "activity_ended", "activity:3:9")}
	for i := range got {
		if got[i] != again[i] || got[i] < 0 || got[i] >= revisit.Buckets {
			t.Fatalf("bucket %d: %d then %d", i, got[i], again[i])
		}
	}
	if engFixedBuckets != [3]int{got[0], got[1], got[2]} {
		t.Fatalf("buckets %v, want %v", got, engFixedBuckets)
	}
}

// Key customers (tier VIP, value class core, credit grade A) are always chosen, at
// any rate, with the reason key_customer.
func TestKeyCustomersAlwaysChosen(t *testing.T) {
	w := newEngWorld(t)
	agent := w.srv.As(t, "agent@cs").Staff
	keys := []int64{
		w.customer(t, "VIP", agent.ID, customer.TierVIP, customer.ValueGeneral, customer.GradeB),
		w.customer(t, "核心", agent.ID, customer.TierRegular, customer.ValueCore, customer.GradeB),
		w.customer(t, "信用A", agent.ID, customer.TierRegular, customer.ValueGeneral, customer.GradeA),
	}
	w.run(t) // their move_in visits
	for _, cid := range keys {
		evs := engEventsFor("activity_ended", 100, cid, "")
		if err := w.svc.InsertTestEvents(w.ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	res := w.run(t)
	if res.Decisions != 300 || res.Chosen != 300 || res.Tasks != 300 {
		t.Fatalf("engine: %+v", res)
	}
	for _, d := range w.decisions(t, "activity_ended") {
		if !d.Chosen || d.Reason != "key_customer" || d.TaskID == 0 {
			t.Fatalf("decision %+v", d)
		}
	}
}

// scheduled_at never falls inside a do-not-disturb window, over random instants and
// windows, and is on a working day whenever the window holds one.
func TestScheduleNeverInDND(t *testing.T) {
	cal, err := calendar.Default()
	if err != nil {
		t.Fatal(err)
	}
	st := revisit.DefaultSettings()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	r := rand.New(rand.NewPCG(7, 9))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	for i := 0; i < 20000; i++ {
		after := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
		end := after.Add(time.Duration(r.Int64N(int64(10*24*time.Hour))) + time.Hour)
		working := r.IntN(2) == 0
		at, err := revisit.NextSlotWith(st, cal, after, end, working)
		if err != nil {
			t.Fatal(err)
		}
		if in, _ := revisit.InDNDWith(st, at); in {
			t.Fatalf("after %s: scheduled %s inside quiet hours", after, at.In(loc))
		}
		if at.Before(after) {
			t.Fatalf("after %s: scheduled earlier, %s", after, at)
		}
		if working && !cal.IsWorkingDay(cal.DateOf(at)) {
			// Only a window without a whole working day inside may fall on another day.
			for d := cal.DateOf(after).AddDays(1); d.Before(cal.DateOf(end)); d = d.AddDays(1) {
				if cal.IsWorkingDay(d) {
					t.Fatalf("after %s (window to %s): %s not on the working day %s", after, end, at.In(loc), d)
				}
			}
		}
	}
	// The edges: 12:00 moves to 14:00, 21:00 and 08:59 to 09:00, 13:59 to 14:00.
	for _, tc := range []struct{ at, want string }{{"2026-03-02 12:00", "2026-03-02 14:00"},
		{"2026-03-02 21:00", "2026-03-03 09:00"}, {"2026-03-03 08:59", "2026-03-03 09:00"},
		{"2026-03-02 13:59", "2026-03-02 14:00"}, {"2026-03-02 11:59", "2026-03-02 11:59"},
		{"2026-03-06 21:30", "2026-03-09 09:00"}, {"2026-09-30 20:00", "2026-09-30 20:00"},
		{"2026-09-30 21:00", "2026-10-08 09:00"}} {
		at, _ := time.ParseInLocation("2006-01-02 15:04", tc.at, loc)
		want, _ := time.ParseInLocation("2006-01-02 15:04", tc.want, loc)
		got, err := revisit.NextSlotWith(st, cal, at, at.AddDate(0, 0, 20), true)
		if err != nil || !got.Equal(want) {
			t.Errorf("NextSlot(%s) = %s, want %s (%v)", tc.at, got.In(loc), tc.want, err)
		}
	}
}

var engFixedBuckets = [3]int{2195, 5944, 9550}
