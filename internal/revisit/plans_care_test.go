package revisit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
)

// The care plans: on the 16th the half-month plan visits regular customers once for
// the second half of the month, and the birthday plan greets the customers with a
// contact born that day (YYYY-MM-DD or MM-DD) the same day; reruns create nothing new.
func TestCarePlans(t *testing.T) {
	w := newEngWorld(t)
	agent := w.srv.As(t, "agent@cs").Staff
	w.srv.Clock.Set(time.Date(2026, 10, 15, 12, 0, 0, 0, repCST))
	regular := w.customer(t, "普通客户", agent.ID, customer.TierRegular, "", "")
	vip := w.customer(t, "VIP客户", agent.ID, customer.TierVIP, "", "")
	born := map[string]int64{}
	for _, b := range []string{"10-16", "1990-10-16", "10-17"} {
		cid := w.customer(t, "生日客户"+b, agent.ID, customer.TierVIP, "", "")
		if _, err := w.srv.App.Customer.AddContact(w.ctx, cid, customer.ContactInput{Name: "联系人", Birthday: b}); err != nil {
			t.Fatalf("contact %s: %v", b, err)
		}
		born[b] = cid
	}
	w.run(t)
	w.enableRule(t, "care_regular_biweekly", nil)
	w.enableRule(t, "care_birthday", nil)
	day := time.Date(2026, 10, 16, 0, 10, 0, 0, repCST)
	w.srv.Clock.Set(day)
	for run := 0; run < 2; run++ {
		if _, err := w.svc.RunDuePlans(w.ctx); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		half := w.ruleTasks(t, "care_regular_biweekly", 0)
		if len(half) != 1 || half[0].CustomerID != regular ||
			half[0].PlanKey != fmt.Sprintf("care_regular_biweekly|2026-10-h2|%d", regular) ||
			!half[0].WindowStart.Equal(time.Date(2026, 10, 16, 0, 0, 0, 0, repCST)) ||
			!half[0].WindowEnd.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, repCST)) {
			t.Fatalf("run %d: half-month tasks %+v", run, half)
		}
		bd := w.ruleTasks(t, "care_birthday", 0)
		got := map[int64]bool{}
		for _, x := range bd {
			got[x.CustomerID] = true
			if !x.WindowStart.Equal(time.Date(2026, 10, 16, 0, 0, 0, 0, repCST)) ||
				!x.WindowEnd.Equal(time.Date(2026, 10, 17, 0, 0, 0, 0, repCST)) {
				t.Fatalf("birthday window %s..%s", x.WindowStart, x.WindowEnd)
			}
			if in, _ := w.svc.InDND(w.ctx, x.CustomerID, x.ScheduledAt); in {
				t.Fatalf("birthday greeting in quiet hours: %s", x.ScheduledAt.In(repCST))
			}
		}
		if len(bd) != 2 || !got[born["10-16"]] || !got[born["1990-10-16"]] || got[vip] {
			t.Fatalf("run %d: birthday tasks %+v", run, bd)
		}
	}
	// The next day: no half-month run (same half), the 10-17 birthday only.
	w.srv.Clock.Set(day.Add(24 * time.Hour))
	if _, err := w.svc.RunDuePlans(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(w.ruleTasks(t, "care_regular_biweekly", 0)); n != 1 {
		t.Fatalf("half-month ran again: %d", n)
	}
	if bd := w.ruleTasks(t, "care_birthday", born["10-17"]); len(bd) != 1 {
		t.Fatalf("10-17 birthday %+v", bd)
	}
	if n := len(w.ruleTasks(t, "care_birthday", 0)); n != 3 {
		t.Fatalf("birthday tasks %d", n)
	}
}
