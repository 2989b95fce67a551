package openapi_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// revisitHooks put in place what the engine's examples act on (see
// operations_revisit.go): an open task assigned to the administrator, the assignee of
// the reassignment, and the settings' version read before the PUT.
func revisitHooks(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte) {
	t.Helper()
	create("/api/v1/customers", `{"kind": "person", "name": "Qian Hui", "mobile": "13912345681"}`, "revisit_customer_id")
	cust, err := strconv.ParseInt(f["revisit_customer_id"], 10, 64)
	if err != nil {
		t.Fatalf("customer id %q", f["revisit_customer_id"])
	}
	now := time.UnixMilli(s.Clock.Now().UnixMilli())
	tk := revisit.Task{Rule: "move_in", CustomerID: cust, SourceType: revisit.SourceCustomer, SourceID: cust,
		DeptID: admin.Staff.DeptID, AssigneeID: admin.Staff.ID, WindowStart: now, WindowEnd: now.Add(7 * 24 * time.Hour),
		ScheduledAt: now, Method: revisit.MethodPhone, Status: revisit.StatusOpen, Round: 1, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.App.DB.WithTx(apptest.SystemCtx(), func(ctx context.Context) error { return s.App.Revisit.Store().InsertTask(ctx, &tk) }); err != nil {
		t.Fatalf("revisit task: %v", err)
	}
	f["revisit_task_id"] = strconv.FormatInt(tk.ID, 10)
	f["revisit_assignee_id"] = strconv.FormatInt(admin.Staff.ID, 10)
	return map[string]func([]byte){
		"GET /api/v1/revisit-settings": func(body []byte) {
			var m struct {
				Version int64 `json:"version"`
			}
			if json.Unmarshal(body, &m) == nil {
				f["revisit_settings_version"] = strconv.FormatInt(m.Version, 10)
			}
		},
	}
}
