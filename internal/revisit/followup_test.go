package revisit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/revisit"
	"github.com/kefu-cn/kefu/internal/ticket"
)

func (e *workEnv) view(t *testing.T, c *apptest.Client, id int64) revisit.RecordView {
	t.Helper()
	r := c.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/revisits/%d", id), nil)
	wkStatus(t, r, http.StatusOK)
	var v revisit.RecordView
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *workEnv) resolve(t *testing.T, ticketID int64) {
	t.Helper()
	if _, err := e.srv.App.Ticket.Follow(apptest.SystemCtx(), ticketID, ticket.StatusResolved, "answered"); err != nil {
		t.Fatalf("resolve %d: %v", ticketID, err)
	}
}

// TestFollowupAndNextRound: a new issue becomes a follow-up request for the customer;
// its resolution creates the second visit (phone allowed), whose completion answers the
// issue. A major complaint's next visit is on site again.
func TestFollowupAndNextRound(t *testing.T) {
	e := newWorkEnv(t)
	qs := e.script(t, "complaint_closed")
	appt := e.now().Add(48 * time.Hour).Format(time.RFC3339)
	cases := []struct {
		level      string
		method     string
		nextMethod string
	}{
		{revisit.LevelGeneral, revisit.MethodOnsite, revisit.MethodPhone},
		{revisit.LevelMajor, revisit.MethodOnsite, revisit.MethodOnsite},
	}
	sig := wkDataURL(wkSignaturePNG(t, 120, 60))
	for _, c := range cases {
		t.Run(c.level, func(t *testing.T) {
			tk := e.task(t, "complaint_closed", c.method, c.level)
			body := wkWith(e.reached(c.method, 2, qs...), "signature", sig, "important", true,
				"issues", []map[string]any{{"text": "The lift still stops between floors", "appointment_at": appt}})
			wkStatus(t, e.agent.Do(t, http.MethodPost, wkRecordPath(tk.ID), body), http.StatusOK)
			v := e.view(t, e.agent, tk.ID)
			if len(v.Issues) != 1 || v.Issues[0].TicketID == 0 || v.Issues[0].NextTaskID != 0 || v.Issues[0].AnsweredAt != nil {
				t.Fatalf("issue: %+v", v.Issues)
			}
			tkt, err := e.srv.App.Ticket.Load(apptest.SystemCtx(), v.Issues[0].TicketID)
			if err != nil || tkt.CustomerID != e.cust || tkt.DeptID != e.deptID {
				t.Fatalf("follow-up request %+v %v", tkt, err)
			}
			// Not resolved yet: no second visit.
			if e.view(t, e.agent, tk.ID).Issues[0].NextTaskID != 0 {
				t.Fatal("next visit before the request is resolved")
			}
			e.resolve(t, tkt.ID)
			v = e.view(t, e.agent, tk.ID)
			next := v.Issues[0].NextTaskID
			if next == 0 {
				t.Fatalf("no next visit after the resolution: %+v", v.Issues)
			}
			nv := e.view(t, e.agent, next)
			if nv.Task.Round != 2 || nv.Task.ParentID != tk.ID || nv.Task.Method != c.nextMethod || nv.Task.Status != revisit.StatusOpen {
				t.Fatalf("next visit: %+v", nv.Task)
			}
			if in, _ := e.rv.InDND(apptest.SystemCtx(), e.cust, nv.Task.ScheduledAt); in {
				t.Fatalf("next visit scheduled in the quiet hours: %v", nv.Task.ScheduledAt)
			}
			phone := e.reached(revisit.MethodPhone, 5, qs...)
			if c.level == revisit.LevelMajor {
				r := e.agent.Do(t, http.MethodPost, wkRecordPath(next), phone)
				wkStatus(t, r, http.StatusUnprocessableEntity)
				if f := wkErrFields(t, r); len(f) != 1 || f[0] != "method" {
					t.Fatalf("major by phone: %v", f)
				}
				wkStatus(t, e.agent.Do(t, http.MethodPost, wkRecordPath(next), wkWith(phone, "method", "onsite", "signature", sig)), http.StatusOK)
			} else {
				wkStatus(t, e.agent.Do(t, http.MethodPost, wkRecordPath(next), phone), http.StatusOK)
			}
			if e.view(t, e.agent, tk.ID).Issues[0].AnsweredAt == nil {
				t.Fatal("issue not answered after the second visit")
			}
		})
	}
}

// TestNotices: the result goes to the assignee; a dissatisfied result also to the
// department head and the director; nobody is told about their own record.
func TestNotices(t *testing.T) {
	e := newWorkEnv(t)
	other := e.srv.As(t, "agent@cs2") // not the recorder
	_ = other
	tk := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	wkStatus(t, e.sup.Do(t, http.MethodPost, wkRecordPath(tk.ID), e.reached(revisit.MethodPhone, 1)), http.StatusOK)
	v := e.view(t, e.agent, tk.ID)
	got := map[string]int{}
	for _, n := range v.Notices {
		got[fmt.Sprintf("%d/%s", n.StaffID, n.Reason)]++
	}
	want := []string{fmt.Sprintf("%d/result", e.agent.Staff.ID), fmt.Sprintf("%d/dissatisfied", e.director.Staff.ID)}
	for _, w := range want {
		if got[w] != 1 {
			t.Fatalf("notices %v lack %s", got, w)
		}
	}
	if got[fmt.Sprintf("%d/dissatisfied", e.sup.Staff.ID)] != 0 {
		t.Fatalf("the recorder was told about their own record: %v", got)
	}
	// A satisfied, unimportant result goes to the assignee only.
	tk2 := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	wkStatus(t, e.sup.Do(t, http.MethodPost, wkRecordPath(tk2.ID), e.reached(revisit.MethodPhone, 5)), http.StatusOK)
	if ns := e.view(t, e.agent, tk2.ID).Notices; len(ns) != 1 || ns[0].StaffID != e.agent.Staff.ID || ns[0].Reason != "result" {
		t.Fatalf("notices of a good result: %+v", ns)
	}
}
