package openapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// revisitWorkHooks creates what the visit-work examples act on (see
// operations_revisit_work.go): a customer, five visit tasks in the agent's department,
// two of them recorded by the agent and one of those flagged false; and, after the
// confirmations, the two proposed sanctions.
func revisitWorkHooks(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte) {
	t.Helper()
	create("/api/v1/customers", `{"kind": "person", "name": "Zhao Min", "mobile": "13912345670"}`, "revisit_work_customer_id")
	cust, err := strconv.ParseInt(f["revisit_work_customer_id"], 10, 64)
	if err != nil {
		t.Fatalf("customer id %q", f["revisit_work_customer_id"])
	}
	agent := s.As(t, "agent")
	now := time.UnixMilli(s.Clock.Now().UnixMilli())
	task := func(name, method string) int64 {
		tk := revisit.Task{Rule: "holiday_care", CustomerID: cust, SourceType: revisit.SourcePlan, SourceID: 0,
			DeptID: agent.Staff.DeptID, AssigneeID: agent.Staff.ID, WindowStart: now, WindowEnd: now.Add(72 * time.Hour),
			ScheduledAt: now, Method: method, Status: revisit.StatusOpen, Round: 1, Version: 1, CreatedAt: now, UpdatedAt: now}
		err := s.App.DB.WithTx(apptest.SystemCtx(), func(ctx context.Context) error { return s.App.Revisit.Store().InsertTask(ctx, &tk) })
		if err != nil {
			t.Fatalf("revisit task: %v", err)
		}
		f[name] = strconv.FormatInt(tk.ID, 10)
		return tk.ID
	}
	task("revisit_visit_id", revisit.MethodPhone)
	task("revisit_signed_visit_id", revisit.MethodOnsite)
	task("revisit_unreached_visit_id", revisit.MethodPhone)
	for _, name := range []string{"revisit_review_visit_id", "revisit_false_visit_id"} {
		id := task(name, revisit.MethodPhone)
		r := agent.Do(t, "POST", fmt.Sprintf("/api/v1/revisits/%d/record", id),
			`{"method": "phone", "reached": true, "satisfaction": 4, "answers": {}}`)
		if r.Status != 200 {
			t.Fatalf("agent's record: %d %s", r.Status, r.Body)
		}
	}
	r := admin.Do(t, "POST", "/api/v1/revisits/"+f["revisit_false_visit_id"]+"/flag-false", `{"reason": "The customer denies the visit"}`)
	if r.Status != 200 {
		t.Fatalf("flag: %d %s", r.Status, r.Body)
	}
	return map[string]func([]byte){
		"POST /api/v1/revisits/{id}/confirm-false": func([]byte) {
			r := admin.Do(t, "GET", "/api/v1/revisit-sanctions?status=proposed&staff_id="+strconv.FormatInt(agent.Staff.ID, 10), nil)
			var p struct {
				Items []struct {
					ID int64 `json:"id"`
				} `json:"items"`
			}
			if r.Status != 200 || json.Unmarshal(r.Body, &p) != nil || len(p.Items) < 2 {
				t.Fatalf("sanctions: %d %s", r.Status, r.Body)
			}
			f["revisit_sanction2_id"] = strconv.FormatInt(p.Items[0].ID, 10)
			f["revisit_sanction_id"] = strconv.FormatInt(p.Items[1].ID, 10)
		},
	}
}
