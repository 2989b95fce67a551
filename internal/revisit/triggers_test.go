package revisit_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/revisit"
	"github.com/kefu-cn/kefu/internal/ticket"
)

func engDo(t *testing.T, c *apptest.Client, method, path string, body any, want int) map[string]any {
	t.Helper()
	r := c.Do(t, method, path, body)
	if r.Status != want {
		t.Fatalf("%s %s: %d, want %d\n%s", method, path, r.Status, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.JSON(t)
}

func engID(m map[string]any) int64 { return int64(m["id"].(float64)) }

func (w *engWorld) decisionFor(t *testing.T, rule, key string) (revisit.Decision, bool) {
	t.Helper()
	for _, d := range w.decisions(t, rule) {
		if d.EventKey == key {
			return d, true
		}
	}
	return revisit.Decision{}, false
}

// A repair request resolved, then closed: one inbox row each, one decision for
// repair_done (the request is the subject), whatever the order of passes.
func TestRequestResolvedThenClosed(t *testing.T) {
	w := newEngWorld(t)
	agent := w.srv.As(t, "agent@cs").Staff
	cid := w.customer(t, "报修客户", agent.ID, customer.TierVIP, "", "")
	tk, err := w.srv.App.Ticket.CreateTicket(w.ctx, ticket.Input{Type: ticket.TypeRepair, Channel: "phone",
		Severity: ticket.SeverityGeneral, Title: "厨房水管漏水", Body: "厨房水管漏水，请尽快上门", CustomerID: cid, FaultLevel: 1,
		DeptID: agent.DeptID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.App.Ticket.Transition(w.ctx, tk.ID, ticket.StatusResolved, "已更换水管"); err != nil {
		t.Fatal(err)
	}
	w.run(t)
	key := fmt.Sprintf("ticket:%d:0", tk.ID)
	d, ok := w.decisionFor(t, "repair_done", key)
	if !ok || !d.Chosen || d.Reason != "key_customer" || d.TaskID == 0 {
		t.Fatalf("repair_done decision %+v (%v)", d, ok)
	}
	if _, err := w.srv.App.Ticket.Transition(w.ctx, tk.ID, ticket.StatusClosed, ""); err != nil {
		t.Fatal(err)
	}
	if res := w.run(t); res.Events != 1 || res.Decisions != 0 || res.Tasks != 0 {
		t.Fatalf("closed after resolved: %+v", res)
	}
	task, err := w.svc.Task(w.ctx, d.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	if task.Rule != "repair_done" || task.SourceType != "ticket" || task.SourceID != tk.ID || task.CustomerID != cid ||
		task.AssigneeID != agent.ID || task.Status != revisit.StatusOpen || task.DecisionID != d.ID ||
		task.WindowEnd.Sub(task.WindowStart) != 30*24*time.Hour {
		t.Fatalf("task %+v", task)
	}
	if in, _ := w.svc.InDND(w.ctx, cid, task.ScheduledAt); in {
		t.Fatalf("scheduled in quiet hours: %s", task.ScheduledAt)
	}
}

// A complaint closed with a customer gets its decision (a key customer: chosen, visited
// by the responsible agent at level general); an anonymous one makes no inbox row, no
// decision and no task.
func TestComplaintClosedAndAnonymous(t *testing.T) {
	w := newEngWorld(t)
	agent, sup := w.srv.As(t, "agent@cs"), w.srv.As(t, "supervisor@cs")
	engSup, engRep, director := w.srv.As(t, "supervisor@eng"), w.srv.As(t, "agent@eng"), w.srv.As(t, "director@hq")
	cid := w.customer(t, "投诉客户", agent.Staff.ID, customer.TierVIP, "", "")
	w.run(t)
	path := func(id int64, tail string) string { return fmt.Sprintf("/api/v1/complaints/%d%s", id, tail) }
	closeOne := func(details map[string]any, customerID int64) map[string]any {
		body := map[string]any{"channel": "phone", "severity": "general", "title": "电梯故障多次报修无人处理",
			"body": "三号楼电梯停运两天，物业没有回复", "complaint": details}
		if customerID != 0 {
			body["customer_id"] = customerID
		}
		c := engDo(t, agent, "POST", "/api/v1/complaints", body, 201)
		id := engID(c)
		engDo(t, agent, "POST", path(id, "/transition"), map[string]any{"stage": "assessing"}, 200)
		engDo(t, sup, "POST", path(id, "/transition"), map[string]any{"stage": "investigating",
			"resp_dept_id": engSup.Staff.DeptID, "resp_staff_id": engRep.Staff.ID, "reply": "我们将在48小时内给您答复"}, 200)
		engDo(t, engRep, "POST", path(id, "/transition"), map[string]any{"stage": "proposing", "cause_id": 2,
			"cause_kind": "other", "findings": "维修配件缺货", "proposals": []map[string]any{{"body": "更换配件"}}}, 200)
		d := engDo(t, director, "GET", path(id, ""), nil, 200)
		pid := d["proposals"].([]any)[0].(map[string]any)["id"]
		engDo(t, director, "POST", path(id, "/approve"), map[string]any{"proposal_id": pid, "instruction": "同意"}, 200)
		engDo(t, engRep, "POST", path(id, "/transition"), map[string]any{"stage": "executing"}, 200)
		engDo(t, engRep, "POST", path(id, "/transition"), map[string]any{"stage": "feedback", "result": "已处理", "reply": "已处理"}, 200)
		engDo(t, agent, "POST", path(id, "/transition"), map[string]any{"stage": "evaluating", "satisfaction": 4}, 200)
		if details["anonymous"] == true {
			att, err := w.srv.App.Ticket.AddAttachment(apptest.SystemCtx(), int64(c["ticket_id"].(float64)),
				ticket.AttachmentInput{Filename: "reply.txt", ContentType: "text/plain", Data: []byte("written reply\n")})
			if err != nil {
				t.Fatal(err)
			}
			engDo(t, agent, "POST", path(id, "/reply-letter"), map[string]any{"attachment_id": att.ID}, 200)
		}
		return engDo(t, sup, "POST", path(id, "/transition"), map[string]any{"stage": "closed", "summary": "改进"}, 200)
	}
	named := closeOne(map[string]any{"location": "三号楼"}, cid)
	anon := closeOne(map[string]any{"anonymous": true}, 0)
	w.run(t)
	d, ok := w.decisionFor(t, "complaint_closed", fmt.Sprintf("complaint:%d:0", engID(named)))
	if !ok || !d.Chosen || d.TaskID == 0 {
		t.Fatalf("named complaint: %+v %v", d, ok)
	}
	if _, ok := w.decisionFor(t, "complaint_closed", fmt.Sprintf("complaint:%d:0", engID(anon))); ok {
		t.Fatal("an anonymous complaint was decided on")
	}
	tasks, _, err := w.svc.Tasks(w.ctx, revisit.TaskFilter{SourceType: "complaint", SourceID: engID(anon)})
	if err != nil || len(tasks) != 0 {
		t.Fatalf("anonymous complaint tasks: %v %v", tasks, err)
	}
	task, err := w.svc.Task(w.ctx, d.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	if task.Level != "general" || task.AssigneeID != engRep.Staff.ID || task.WindowEnd.Sub(task.WindowStart) != 72*time.Hour {
		t.Fatalf("task %+v", task)
	}
	// The agent who visits sees the task; an agent of another team does not (404).
	engDo(t, engRep, "GET", fmt.Sprintf("/api/v1/revisit-tasks/%d", task.ID), nil, 200)
	engDo(t, w.srv.As(t, "agent@other"), "GET", fmt.Sprintf("/api/v1/revisit-tasks/%d", task.ID), nil, 404)
}

// The coop_monthly window is the first three working days of each month of 2026 on the
// official calendar: January starts on the make-up Sunday, May and October after the
// holidays, October ends on the make-up Saturday.
func TestCoopMonthlyWindows2026(t *testing.T) {
	w := newEngWorld(t)
	rule, err := w.svc.RuleByCode(w.ctx, "coop_monthly")
	if err != nil {
		t.Fatal(err)
	}
	if rule.RatePct != 100 || rule.Policy("") != revisit.AssignAccountAgent || !rule.Active {
		t.Fatalf("coop_monthly %+v", rule)
	}
	cal, err := calendar.Default()
	if err != nil {
		t.Fatal(err)
	}
	want := map[time.Month][2]string{
		1: {"01-04", "01-07"}, 2: {"02-02", "02-05"}, 3: {"03-02", "03-05"}, 4: {"04-01", "04-04"},
		5: {"05-06", "05-09"}, 6: {"06-01", "06-04"}, 7: {"07-01", "07-04"}, 8: {"08-03", "08-06"},
		9: {"09-01", "09-04"}, 10: {"10-08", "10-11"}, 11: {"11-02", "11-05"}, 12: {"12-01", "12-04"},
	}
	loc := cal.Location()
	for m := time.January; m <= time.December; m++ {
		ws, we := revisit.MonthWindow(cal, &rule, 2026, m)
		got := [2]string{ws.In(loc).Format("01-02"), we.In(loc).Format("01-02")}
		if got != want[m] || ws.In(loc).Hour() != 0 || we.In(loc).Hour() != 0 {
			t.Errorf("2026-%02d: window %v (%s..%s), want %v", int(m), got, ws.In(loc), we.In(loc), want[m])
		}
	}
}

type coopStub struct{ ids []int64 }

func (c coopStub) Cooperating(_ context.Context, on string, after int64, limit int) ([]int64, error) {
	if on != "2026-10-01" {
		return nil, nil
	}
	var out []int64
	for _, id := range c.ids {
		if id > after && len(out) < limit {
			out = append(out, id)
		}
	}
	return out, nil
}

// POST /api/v1/revisit-plans/run for coop_monthly 2026-10 makes one task per
// cooperating customer in 10-08..10-10 for the account agent; running it again makes
// nothing.
func TestCoopMonthlyPlanRun(t *testing.T) {
	w := newEngWorld(t)
	agent := w.srv.As(t, "agent@cs").Staff
	a := w.customer(t, "合作客户甲", agent.ID, customer.TierRegular, "", "")
	b := w.customer(t, "合作客户乙", agent.ID, customer.TierRegular, "", "")
	w.run(t)
	w.svc.SetCooperations(coopStub{ids: []int64{a, b}})
	director := w.srv.As(t, "director@hq")
	res := engDo(t, director, "POST", "/api/v1/revisit-plans/run", map[string]any{"rule": "coop_monthly", "month": "2026-10"}, 200)
	if res["tasks"].(float64) != 2 || res["customers"].(float64) != 2 || res["window_start"] != "2026-10-07T16:00:00Z" ||
		res["window_end"] != "2026-10-10T16:00:00Z" {
		t.Fatalf("plan run: %v", res)
	}
	again := engDo(t, director, "POST", "/api/v1/revisit-plans/run", map[string]any{"rule": "coop_monthly", "month": "2026-10"}, 200)
	if again["tasks"].(float64) != 0 || again["recorded"].(float64) != 0 {
		t.Fatalf("second run: %v", again)
	}
	list := engDo(t, director, "GET", "/api/v1/revisit-tasks?rule=coop_monthly", nil, 200)
	items := list["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("tasks: %v", list)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	for _, it := range items {
		m := it.(map[string]any)
		sched, _ := time.Parse(time.RFC3339, m["scheduled_at"].(string))
		if m["assignee_id"].(float64) != float64(agent.ID) || m["source_type"] != "plan" ||
			!strings.HasPrefix(m["plan_key"].(string), "coop_monthly|2026-10|") || sched.In(loc).Day() < 8 ||
			sched.In(loc).Day() > 10 {
			t.Fatalf("task %v", m)
		}
	}
	engDo(t, director, "POST", "/api/v1/revisit-plans/run", map[string]any{"rule": "coop_monthly", "month": "2026/10"}, 422)
	engDo(t, director, "POST", "/api/v1/revisit-plans/run", map[string]any{"rule": "repair_done", "month": "2026-10"}, 422)
	engDo(t, w.srv.As(t, "supervisor@cs"), "POST", "/api/v1/revisit-plans/run", map[string]any{"rule": "coop_monthly", "month": "2026-10"}, 403)
}

// The rules API: the seeded codes, a new rule, a versioned change (a stale version is
// refused), switching off and on; the settings with their quiet hours.
func TestRulesAndSettingsAPI(t *testing.T) {
	w := newEngWorld(t)
	director := w.srv.As(t, "director@hq")
	list := engDo(t, director, "GET", "/api/v1/revisit-rules", nil, 200)
	var codes []string
	for _, it := range list["items"].([]any) {
		codes = append(codes, it.(map[string]any)["code"].(string))
	}
	for _, c := range []string{"complaint_closed", "repair_done", "activity_ended", "sales_visit", "coop_monthly",
		"move_in", "incident_closed", "holiday_care", "sales_deal_closed", "care_vip_monthly", "care_birthday"} {
		if !slices.Contains(codes, c) {
			t.Fatalf("seeded rule %s missing from %v", c, codes)
		}
	}
	created := engDo(t, director, "POST", "/api/v1/revisit-rules", map[string]any{"code": "after_sales_done",
		"name": "售后完成回访", "triggers": []string{"ticket.resolved"}, "filters": map[string]any{"types": []string{"after_sales"}},
		"window": map[string]any{"start": "0h", "length": "2d", "mode": "working_days"}, "rate_pct": 20,
		"assignees": map[string]string{"default": "source_agent"}, "methods": []string{"phone"},
		"script": []map[string]string{{"q": "售后处理是否满意？"}}}, 201)
	id := engID(created)
	engDo(t, director, "POST", "/api/v1/revisit-rules", map[string]any{"code": "after_sales_done", "name": "x",
		"triggers": []string{"ticket.resolved"}, "assignees": map[string]string{"default": "source_agent"},
		"methods": []string{"phone"}}, 409)
	bad := director.Do(t, "POST", "/api/v1/revisit-rules", map[string]any{"code": "X", "name": "", "triggers": []string{"nope"},
		"rate_pct": 120, "assignees": map[string]string{"vip": "boss"}, "methods": []string{"fax"}})
	if bad.Status != 422 || !strings.Contains(string(bad.Body), "rate_pct") || !strings.Contains(string(bad.Body), "triggers.0") {
		t.Fatalf("invalid rule: %d %s", bad.Status, bad.Body)
	}
	p := fmt.Sprintf("/api/v1/revisit-rules/%d", id)
	up := engDo(t, director, "PATCH", p, map[string]any{"rate_pct": 25, "version": 1}, 200)
	if up["rate_pct"].(float64) != 25 || up["version"].(float64) != 2 {
		t.Fatalf("patch: %v", up)
	}
	engDo(t, director, "PATCH", p, map[string]any{"rate_pct": 30, "version": 1}, 409)
	if off := engDo(t, director, "POST", p+"/disable", nil, 200); off["active"] != false {
		t.Fatalf("disable: %v", off)
	}
	if on := engDo(t, director, "POST", p+"/enable", nil, 200); on["active"] != true {
		t.Fatalf("enable: %v", on)
	}
	engDo(t, w.srv.As(t, "supervisor@cs"), "PATCH", p, map[string]any{"rate_pct": 30, "version": 4}, 403)
	engDo(t, director, "GET", "/api/v1/revisit-rules/999999", nil, 404)

	st := engDo(t, director, "GET", "/api/v1/revisit-settings", nil, 200)
	if fmt.Sprint(st["dnd"]) != "[12:00-14:00 21:00-09:00]" || st["time_zone"] != "Asia/Shanghai" {
		t.Fatalf("settings %v", st)
	}
	engDo(t, director, "PUT", "/api/v1/revisit-settings", map[string]any{"dnd": []string{"25:00-01:00"}, "time_zone": "Asia/Shanghai", "version": 0}, 422)
	put := engDo(t, director, "PUT", "/api/v1/revisit-settings", map[string]any{"dnd": []string{"12:30-13:30", "20:00-08:30"},
		"time_zone": "Asia/Urumqi", "version": 0}, 200)
	if put["version"].(float64) != 1 {
		t.Fatalf("put: %v", put)
	}
	engDo(t, director, "PUT", "/api/v1/revisit-settings", map[string]any{"dnd": []string{}, "time_zone": "Asia/Shanghai", "version": 0}, 409)
	in, err := w.svc.InDND(w.ctx, 0, time.Date(2026, 3, 2, 20, 30, 0, 0, time.FixedZone("XJT", 6*3600)))
	if err != nil || !in {
		t.Fatalf("20:30 in Urumqi is in the new quiet hours: %v %v", in, err)
	}
}

// TestRoleTable sends every engine route as every built-in role: without the route's
// permission 403; with it, never 403 on the reads, and a task of another department
// reads as 404 to department- and team-scoped roles.
func TestEngineRoleTable(t *testing.T) {
	w := newEngWorld(t)
	agent := w.srv.As(t, "agent@cs").Staff
	cid := w.customer(t, "角色客户", agent.ID, customer.TierVIP, "", "")
	w.run(t) // the VIP's move_in visit: a task of department cs
	tasks, _, err := w.svc.Tasks(w.ctx, revisit.TaskFilter{CustomerID: cid})
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks %v %v", tasks, err)
	}
	tid := tasks[0].ID
	var routes []httpx.Route
	for _, rt := range w.svc.Routes() {
		if strings.HasPrefix(rt.Path, "/api/v1/revisit-rules") || strings.HasPrefix(rt.Path, "/api/v1/revisit-tasks") ||
			strings.HasPrefix(rt.Path, "/api/v1/revisit-plans") || strings.HasPrefix(rt.Path, "/api/v1/revisit-settings") {
			routes = append(routes, rt)
		}
	}
	if len(routes) != 12 {
		t.Fatalf("%d engine routes", len(routes))
	}
	holds := func(role, perm string) (bool, authz.Scope) {
		for _, r := range authz.BuiltinRoles {
			if r.Code == role {
				return slices.Contains(r.Perms, authz.All) || slices.Contains(r.Perms, perm), r.Scope
			}
		}
		return false, ""
	}
	for _, role := range []string{"admin", "director", "supervisor", "agent", "qa", "archivist", "sales"} {
		c := w.srv.As(t, role+"@other")
		for _, rt := range routes {
			t.Run(role+" "+rt.Method+" "+rt.Path, func(t *testing.T) {
				var body any
				if rt.Method != http.MethodGet {
					body = map[string]any{}
				}
				path := strings.Replace(rt.Path, "{id}", fmt.Sprint(tid), 1)
				if strings.HasPrefix(rt.Path, "/api/v1/revisit-rules/") {
					path = strings.Replace(rt.Path, "{id}", "1", 1)
				}
				r := c.Do(t, rt.Method, path, body)
				ok, scope := holds(role, rt.Perm)
				switch {
				case !ok:
					if r.Status != http.StatusForbidden {
						t.Fatalf("%s without %s: %d\n%s", role, rt.Perm, r.Status, r.Body)
					}
				case rt.Method == http.MethodGet && strings.Contains(rt.Path, "revisit-tasks/{id}") && scope != authz.ScopeAll:
					if r.Status != http.StatusNotFound {
						t.Fatalf("%s (%s) reads another department's task: %d", role, scope, r.Status)
					}
				case rt.Method == http.MethodGet:
					if r.Status != http.StatusOK {
						t.Fatalf("%s GET %s: %d\n%s", role, path, r.Status, r.Body)
					}
				case r.Status == http.StatusForbidden && !strings.HasSuffix(rt.Path, "/assign"):
					t.Fatalf("%s holds %s but got 403 on %s", role, rt.Perm, path)
				}
			})
		}
	}
}

// The scheduler's daily plan run: on 2026-10-01 it runs coop_monthly for October once
// (a second run the same day does nothing); in the middle of the month, after the
// window, it makes no overdue visits.
func TestDuePlansRunOnce(t *testing.T) {
	w := newEngWorld(t)
	agent := w.srv.As(t, "agent@cs").Staff
	a := w.customer(t, "合作客户丙", agent.ID, customer.TierRegular, "", "")
	w.run(t)
	w.svc.SetCooperations(coopStub{ids: []int64{a}})
	loc, _ := time.LoadLocation("Asia/Shanghai")
	w.srv.Clock.Set(time.Date(2026, 10, 1, 0, 10, 0, 0, loc))
	n, err := w.svc.RunDuePlans(w.ctx)
	if err != nil || n != 1 {
		t.Fatalf("first run: %d %v", n, err)
	}
	if n, err := w.svc.RunDuePlans(w.ctx); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
	tasks, _, err := w.svc.Tasks(w.ctx, revisit.TaskFilter{Rule: "coop_monthly"})
	if err != nil || len(tasks) != 1 || tasks[0].CustomerID != a {
		t.Fatalf("tasks %v %v", tasks, err)
	}
	// Past the window the open task expires.
	w.srv.Clock.Set(time.Date(2026, 10, 12, 0, 0, 0, 0, loc))
	if n, err := w.svc.ExpireTasks(w.ctx); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if tk, _ := w.svc.Task(w.ctx, tasks[0].ID); tk.Status != revisit.StatusExpired {
		t.Fatalf("task %+v", tk)
	}
	w.srv.Clock.Set(time.Date(2026, 11, 20, 9, 0, 0, 0, loc))
	if n, err := w.svc.RunDuePlans(w.ctx); err != nil || n != 0 {
		t.Fatalf("mid-November: %d %v", n, err)
	}
}
