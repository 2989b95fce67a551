package revisit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// TestDecisionStatsMatchDecisions: the per-day counters the engine keeps equal a count
// over revisit_decisions after a run, after a rerun of the same events (which adds
// nothing), after new events and after an engine pass with nothing to do; the cursor
// leaves nothing pending and a row written already processed is passed over.
func TestDecisionStatsMatchDecisions(t *testing.T) {
	w := newEngWorld(t)
	agent := w.srv.As(t, "agent@cs").Staff.ID
	var custs []int64
	for i := 0; i < 7; i++ {
		tier := customer.TierRegular
		if i == 0 {
			tier = customer.TierVIP
		}
		custs = append(custs, w.customer(t, fmt.Sprintf("客户%d", i), agent, tier, customer.ValueGeneral, customer.GradeB))
	}
	events := func(from, to int) []revisit.TestEvent {
		var evs []revisit.TestEvent
		for i := from; i < to; i++ {
			e := revisit.TestEvent{CustomerID: custs[i%len(custs)], SourceID: int64(i + 1), At: w.srv.Clock.Now(), AgentID: agent}
			switch i % 3 {
			case 0:
				e.Event, e.SourceType, e.Level = revisit.EventComplaintClosed, revisit.SourceComplaint, "general"
				e.Subject = fmt.Sprintf("complaint:%d:0", i+1)
			case 1:
				e.Event, e.SourceType = revisit.EventTicketResolved, revisit.SourceTicket
				e.Subject = fmt.Sprintf("ticket:%d:0", i+1)
				e.Attrs = map[string]string{"type": "repair", "severity": "general"}
			default:
				e.Event, e.SourceType = revisit.EventActivityEnded, revisit.SourceActivity
				e.Subject = fmt.Sprintf("activity:%d:%d", i+1, e.CustomerID)
			}
			evs = append(evs, e)
		}
		return evs
	}
	check := func(step string, wantPending int64) {
		t.Helper()
		type row struct {
			rule, day       string
			decided, chosen int64
		}
		read := func(q string) map[string]row {
			rows, err := w.srv.App.DB.Query(w.ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			defer rows.Close()
			out := map[string]row{}
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.rule, &r.day, &r.decided, &r.chosen); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				out[r.rule+"|"+r.day] = r
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			return out
		}
		stats := read(`SELECT rule_code, day, decided, chosen FROM revisit_decision_stats`)
		// The China day computed in Go from each decision's time, counted row by row.
		want := map[string]row{}
		rows, err := w.srv.App.DB.Query(w.ctx, `SELECT rule_code, decided_at, chosen FROM revisit_decisions`)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for rows.Next() {
			var rule string
			var at, chosen int64
			if err := rows.Scan(&rule, &at, &chosen); err != nil {
				t.Fatal(err)
			}
			day := time.UnixMilli(at).In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
			r := want[rule+"|"+day]
			r.rule, r.day = rule, day
			r.decided++
			r.chosen += chosen
			want[rule+"|"+day] = r
			total++
		}
		rows.Close()
		if total == 0 {
			t.Fatalf("%s: no decisions", step)
		}
		if len(stats) != len(want) {
			t.Fatalf("%s: stats %v, decisions %v", step, stats, want)
		}
		for k, r := range want {
			if stats[k] != r {
				t.Errorf("%s: %s: stats %+v, decisions %+v", step, k, stats[k], r)
			}
		}
		n, err := w.svc.PendingEvents(w.ctx)
		if err != nil || n != wantPending {
			t.Errorf("%s: pending %d (%v), want %d", step, n, err, wantPending)
		}
	}

	w.run(t) // the customers' move-in visits
	if err := w.svc.InsertTestEvents(w.ctx, events(0, 300)); err != nil {
		t.Fatal(err)
	}
	if n, _ := w.svc.PendingEvents(w.ctx); n != 300 {
		t.Fatalf("pending %d, want 300", n)
	}
	res := w.run(t)
	if res.Events != 300 || res.Decisions != 300 {
		t.Fatalf("first run %+v", res)
	}
	check("run", 0)
	// A rerun over the whole inbox (the cursor put back): nothing is decided twice.
	if _, err := w.srv.App.DB.Exec(w.ctx, `UPDATE revisit_engine_cursor SET last_event_id = 0`); err != nil {
		t.Fatal(err)
	}
	if res := w.run(t); res.Events < 300 || res.Decisions != 0 || res.Tasks != 0 {
		t.Fatalf("rerun %+v", res)
	}
	check("rerun", 0)
	// The same subjects under another event key (a request resolved, then closed): a
	// new inbox row, no new decision.
	var again []revisit.TestEvent
	for _, e := range events(0, 300) {
		if e.Event == revisit.EventTicketResolved {
			e.Event = revisit.EventTicketClosed
			again = append(again, e)
		}
	}
	if err := w.svc.InsertTestEvents(w.ctx, again); err != nil {
		t.Fatal(err)
	}
	if res := w.run(t); res.Events != 100 || res.Decisions != 0 {
		t.Fatalf("closed after resolved %+v", res)
	}
	check("closed after resolved", 0)
	// A day later, new events: counted on their own day.
	w.srv.Clock.Advance(24 * time.Hour)
	if err := w.svc.InsertTestEvents(w.ctx, events(300, 450)); err != nil {
		t.Fatal(err)
	}
	if res := w.run(t); res.Events != 150 || res.Decisions != 150 {
		t.Fatalf("next day %+v", res)
	}
	check("next day", 0)
	// A row written as already processed is never taken.
	_, err := w.srv.App.DB.Exec(w.ctx, `INSERT INTO revisit_events (event_key, event, subject_key, source_type,
		source_id, customer_id, dept_id, team_id, actor_id, agent_id, level, attrs, occurred_at, processed_at, created_at)
		VALUES ('complaint.closed|complaint:9999:0', 'complaint.closed', 'complaint:9999:0', 'complaint', 9999, ?, 0, 0, 0, 0,
		'general', '{}', 1, 1, 1)`, custs[0])
	if err != nil {
		t.Fatal(err)
	}
	if res := w.run(t); res.Events != 0 {
		t.Fatalf("processed row taken: %+v", res)
	}
	check("pre-processed row", 0)
}
