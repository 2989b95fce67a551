package revisit_test

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// BenchmarkEngine1M turns 1,000,000 inbox events (complaints closed, repairs resolved,
// activity participants: 40/40/20) of 500 customers into decisions and tasks; only the
// engine's pass is timed. Target (SPEC numbers): under 10 s on SQLite.
//
//	go test ./internal/revisit/ -run '^$' -bench BenchmarkEngine1M -benchtime 1x
//
// KEFU_BENCH_EVENTS changes the number of events.
func BenchmarkEngine1M(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("KEFU_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	w := newEngWorld(b)
	agents := []int64{w.srv.As(b, "agent@cs").Staff.ID, w.srv.As(b, "agent@eng").Staff.ID}
	var custs []int64
	for i := 0; i < 500; i++ {
		tier := customer.TierRegular
		if i%50 == 0 {
			tier = customer.TierVIP
		}
		custs = append(custs, w.customer(b, fmt.Sprintf("客户%03d", i), agents[i%2], tier, customer.ValueGeneral, customer.GradeB))
	}
	w.run(b) // their move_in visits
	round := 0
	var allChosen int64 // the engine's chosen count over the rounds (move_in aside)
	for b.Loop() {
		b.StopTimer()
		round++
		const chunk = 100_000
		for start := 0; start < n; start += chunk {
			evs := make([]revisit.TestEvent, 0, chunk)
			for i := start; i < min(start+chunk, n); i++ {
				cid := custs[i%len(custs)]
				e := revisit.TestEvent{CustomerID: cid, SourceID: int64(i + 1), At: time.Now(), DeptID: 0}
				switch i % 5 {
				case 0, 1:
					e.Event, e.SourceType, e.Level = revisit.EventComplaintClosed, revisit.SourceComplaint, "general"
					e.Subject = fmt.Sprintf("complaint:%d:%d", i+1, round)
					e.AgentID = agents[i%2]
				case 2, 3:
					e.Event, e.SourceType = revisit.EventTicketResolved, revisit.SourceTicket
					e.Subject = fmt.Sprintf("ticket:%d:%d", i+1, round)
					e.Attrs = map[string]string{"type": "repair", "severity": "general"}
				default:
					e.Event, e.SourceType = revisit.EventActivityEnded, revisit.SourceActivity
					e.Subject = fmt.Sprintf("activity:%d:%d:%d", i+1, round, cid)
					e.AgentID = agents[0]
				}
				evs = append(evs, e)
			}
			if err := w.svc.InsertTestEvents(w.ctx, evs); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0, c0 := time.Now(), cpuTime()
		res, err := w.svc.RunEngine(w.ctx)
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(t0)
		if res.Events != n || res.Decisions != n {
			b.Fatalf("engine: %+v", res)
		}
		b.StopTimer()
		var decided, chosen int64
		if err := w.srv.App.DB.QueryRow(w.ctx, `SELECT COALESCE(SUM(decided), 0), COALESCE(SUM(chosen), 0)
			FROM revisit_decision_stats WHERE rule_code <> 'move_in'`).Scan(&decided, &chosen); err != nil {
			b.Fatal(err)
		}
		allChosen += int64(res.Chosen)
		if decided != int64(n)*int64(round) || chosen != allChosen {
			b.Fatalf("decision stats %d/%d, engine %+v", decided, chosen, res)
		}
		b.StartTimer()
		b.ReportMetric(float64(n)/el.Seconds(), "events/s")
		b.ReportMetric(float64(res.Tasks), "tasks")
		b.ReportMetric((cpuTime() - c0).Seconds(), "cpu-s") // the process's CPU time: shared machines steal wall time
	}
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
