package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// revisitSite is the demo site with API clients of its staff and browser helpers for
// the return-visit journeys.
type revisitSite struct {
	*site
	t       *testing.T
	sys     context.Context
	tokens  map[string]string
	console *consoleLog
	bctx    context.Context
}

func newRevisitSite(t *testing.T, ctx context.Context) *revisitSite {
	t.Helper()
	s := startSite(t)
	rs := &revisitSite{site: s, t: t, sys: authz.WithActor(context.Background(), authz.System("e2e")), tokens: map[string]string{}}
	rs.bctx, rs.console = browser(t, ctx)
	return rs
}

func (rs *revisitSite) staff(username string) int64 {
	rs.t.Helper()
	st, err := rs.App.Org.StaffByUsername(rs.sys, username)
	if err != nil {
		rs.t.Fatalf("demo staff %s: %v", username, err)
	}
	return st.ID
}

// api sends a JSON request as the demo user username (a bearer token of their own).
func (rs *revisitSite) api(username, method, path string, body any, want int) map[string]any {
	rs.t.Helper()
	tok := rs.tokens[username]
	if tok == "" {
		plain, _, err := rs.App.Auth.CreateToken(rs.sys, rs.staff(username), "e2e")
		if err != nil {
			rs.t.Fatalf("token for %s: %v", username, err)
		}
		tok, rs.tokens[username] = plain, plain
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, rs.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rs.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		rs.t.Fatalf("%s %s as %s: %d, want %d\n%s", method, path, username, resp.StatusCode, want, b)
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			rs.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return m
}

// closeComplaint records a general complaint of customer cid on the phone (as the
// agent) and moves it through every stage to closed through the complaint API, as
// TestPhoneComplaintToAnalysis does in the browser: the closing is what triggers the
// complaint_closed return visit.
func (rs *revisitSite) closeComplaint(custID int64) int64 {
	rs.t.Helper()
	techDept, err := rs.App.Org.DepartmentByCode(rs.sys, "tech")
	if err != nil {
		rs.t.Fatalf("demo department tech: %v", err)
	}
	c := rs.api("agent", "POST", "/api/v1/complaints", map[string]any{"channel": "phone", "severity": "general",
		"customer_id": custID, "title": "楼道灯坏了一周没人修", "body": "三号楼二单元楼道灯坏了一周，晚上回家很不方便。",
		"complaint": map[string]any{"location": "三号楼二单元", "object_kind": "service"}}, http.StatusCreated)
	id := int64(c["id"].(float64))
	p := func(tail string) string { return fmt.Sprintf("/api/v1/complaints/%d%s", id, tail) }
	rs.api("agent", "POST", p("/transition"), map[string]any{"stage": "assessing"}, 200)
	rs.api("supervisor", "POST", p("/transition"), map[string]any{"stage": "investigating", "resp_dept_id": techDept.ID,
		"resp_staff_id": rs.staff("tech"), "reply": "您好，您的投诉已受理，我们将尽快处理。"}, 200)
	rs.api("tech", "POST", p("/transition"), map[string]any{"stage": "proposing", "cause_id": 2, "cause_kind": "other",
		"findings": "灯具老化损坏", "proposals": []map[string]any{{"body": "当天更换楼道灯"}}}, 200)
	d := rs.api("director", "GET", p(""), nil, 200)
	props, _ := d["proposals"].([]any)
	if len(props) == 0 {
		rs.t.Fatalf("the complaint has no proposal: %v", d)
	}
	first := props[0].(map[string]any)
	pid := first["id"]
	if pid == nil {
		pid = first["ID"]
	}
	rs.api("director", "POST", p("/approve"), map[string]any{"proposal_id": pid, "instruction": "同意"}, 200)
	rs.api("tech", "POST", p("/transition"), map[string]any{"stage": "executing"}, 200)
	rs.api("tech", "POST", p("/transition"), map[string]any{"stage": "feedback", "result": "已更换楼道灯",
		"reply": "您反映的楼道灯问题已处理完毕"}, 200)
	rs.api("agent", "POST", p("/transition"), map[string]any{"stage": "evaluating", "satisfaction": 4}, 200)
	rs.api("supervisor", "POST", p("/transition"), map[string]any{"stage": "closed", "summary": "楼道灯巡检"}, 200)
	return id
}

// signIn opens an isolated browser context signed in as username.
func (rs *revisitSite) signIn(username string) context.Context {
	rs.t.Helper()
	uctx, cancel := chromedp.NewContext(rs.bctx, chromedp.WithNewBrowserContext())
	rs.t.Cleanup(cancel)
	if _, err := chromedp.Call(uctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "zh-CN,zh;q=0.9"}}); err != nil {
		rs.t.Fatalf("open a browser context for %s: %v", username, err)
	}
	go func() {
		for m, err := range chromedp.Console(uctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				rs.console.add(m.String())
			}
		}
	}()
	password := ""
	for _, l := range rs.Logins {
		if l.Username == username {
			password = l.Password
		}
	}
	rs.step(uctx, "sign in as "+username,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(rs.URL+"/login"),
		visibleIn(i18n.ZhCN, `#login`),
		chromedp.SendKeys(chromedp.ID(`username`), username),
		chromedp.SendKeys(chromedp.ID(`password`), password),
		chromedp.Click(chromedp.ID(`login-submit`)),
		visibleIn(i18n.ZhCN, `#me`),
	)
	return uctx
}

func (rs *revisitSite) step(bctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	rs.t.Helper()
	if err := chromedp.Do(bctx, actions...); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			rs.t.Fatalf("%s: timed out", name)
		}
		rs.t.Fatalf("%s: %v", name, err)
	}
}

func (rs *revisitSite) read(bctx context.Context, name string, a chromedp.Action[string]) string {
	rs.t.Helper()
	v, err := chromedp.Run(bctx, a)
	if err != nil {
		rs.t.Fatalf("%s: %v", name, err)
	}
	return v
}

func (rs *revisitSite) checkConsole() {
	rs.t.Helper()
	for _, msg := range rs.console.all() {
		if strings.Contains(msg, "Content Security Policy") || strings.Contains(msg, "exception") {
			rs.t.Errorf("browser console: %s", msg)
		}
	}
}

// vipCustomer creates a key customer (always visited, whatever the rule's rate) whose
// account agent is the demo agent.
func (rs *revisitSite) vipCustomer(name, mobile string) customer.Customer {
	rs.t.Helper()
	c, err := rs.App.Customer.CreateCustomer(rs.sys, customer.Input{Kind: "person", Name: name, Mobile: mobile,
		Province: "浙江省", City: "杭州市", District: "西湖区", Address: "文三路100号", Tier: "vip", CreditGrade: "A",
		OwnerID: rs.staff("agent")})
	if err != nil {
		rs.t.Fatalf("create customer: %v", err)
	}
	return c
}

// tasksOf lists the return-visit tasks of a source (as the system).
func (rs *revisitSite) tasksOf(sourceType string, sourceID int64) []revisit.Task {
	rs.t.Helper()
	tasks, _, err := rs.App.Revisit.Tasks(rs.sys, revisit.TaskFilter{SourceType: sourceType, SourceID: sourceID, Limit: 50})
	if err != nil {
		rs.t.Fatalf("tasks of %s %d: %v", sourceType, sourceID, err)
	}
	return tasks
}

// datetimeLocal is t as a datetime-local input value in China time.
func datetimeLocal(t time.Time) string {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return t.In(loc).Format("2006-01-02T15:04")
}

// setValue sets an input's value from JavaScript (date pickers take no keystrokes).
func setValue(id, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.getElementById(` + strconv.Quote(id) + `).value = ` + strconv.Quote(v))
}

// Journey 1 of issue 9: a complaint closes with a return visit due; the engine makes
// the task for the agent (general level); the agent finds it under "my tasks", sees the
// phone-call warning when it is the customer's quiet time, visits by phone, records a
// new issue with the appointment told to the customer, and the issue becomes a
// follow-up request linked to the visit.
func TestRevisitPhoneVisitWithNewIssue(t *testing.T) {
	chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	rs := newRevisitSite(t, ctx)
	cat := i18n.MustLoad()
	zh := func(key string, kv ...any) string { return cat.Msg(i18n.ZhCN, i18n.M(key, kv...)) }
	cust := rs.vipCustomer("林晓雯", "13912345678")
	cid := rs.closeComplaint(cust.ID)
	if _, err := rs.App.Revisit.RunEngine(rs.sys); err != nil {
		t.Fatalf("run the revisit engine: %v", err)
	}
	tasks := rs.tasksOf(revisit.SourceComplaint, cid)
	if len(tasks) != 1 {
		t.Fatalf("the closed complaint of a key customer made %d tasks, want 1", len(tasks))
	}
	task := tasks[0]
	if task.Rule != "complaint_closed" || task.Level != revisit.LevelGeneral || task.Status != revisit.StatusOpen {
		t.Fatalf("task %+v: want an open complaint_closed task of level general", task)
	}
	assignee, err := rs.App.Org.GetStaff(rs.sys, task.AssigneeID)
	if err != nil {
		t.Fatalf("the task's assignee %d: %v", task.AssigneeID, err)
	}
	t.Logf("the complaint_closed task %d (level %s) went to %s (%s)", task.ID, task.Level, assignee.Username, assignee.DisplayName)
	if !strings.Contains(strings.Join(assignee.Roles, ","), "agent") {
		t.Fatalf("a general complaint's visit goes to %s (roles %v), want an agent", assignee.Username, assignee.Roles)
	}
	agent := rs.signIn(assignee.Username)
	row := fmt.Sprintf(`task-%d`, task.ID)
	rs.step(agent, "my tasks",
		chromedp.Navigate(rs.URL+"/revisits"),
		chromedp.WaitVisible(chromedp.ID(`task-list`)),
		chromedp.WaitVisible(chromedp.ID(row)),
	)
	line := rs.read(agent, "the task's row", chromedp.Text(chromedp.ID(row)))
	for _, want := range []string{zh("revisit_web.method.phone"), zh("revisit_web.status.open")} {
		if !strings.Contains(line, want) {
			t.Errorf("the task row %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "林晓雯") || strings.Contains(line, "13912345678") {
		t.Errorf("the task row shows the customer unmasked: %q", line)
	}
	screenshot(t, agent, "revisit-my-tasks.png")
	rs.step(agent, "open the task",
		chromedp.Click(chromedp.CSS(`#`+row+` a.rv-open`)),
		chromedp.WaitVisible(chromedp.ID(`record-form`)),
	)
	// The do-not-disturb warning shows exactly when the engine says it is quiet time now.
	inDND, err := rs.App.Revisit.InDND(rs.sys, cust.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	shown := rs.read(agent, "the DND warning", chromedp.Evaluate[string](`String(!document.getElementById("dnd-warning").hidden)`))
	if shown != strconv.FormatBool(inDND) {
		t.Errorf("the do-not-disturb warning shown=%s, the engine says in DND=%v", shown, inDND)
	}
	source := rs.read(agent, "the source", chromedp.Text(chromedp.ID(`task-source`)))
	if !strings.Contains(source, zh("revisit_web.source.complaint")) {
		t.Errorf("the task page's source %q does not name the complaint", source)
	}
	// Answer every question of the script, satisfied (4), and one new issue.
	const issue = "客户反映单元门禁经常失灵，希望尽快检修"
	appointment := time.Now().Add(48 * time.Hour)
	rs.step(agent, "record the phone visit",
		chromedp.Click(chromedp.ID(`reached-yes`)),
		chromedp.Click(chromedp.ID(`satisfaction-4`)),
		chromedp.Evaluate[chromedp.Void](`(function () {
			var qs = document.querySelectorAll("#record-script textarea, #record-script select");
			for (var i = 0; i < qs.length; i++) {
				if (qs[i].tagName === "SELECT") { qs[i].selectedIndex = qs[i].options.length - 1; }
				else { qs[i].value = "满意，问题已经解决"; }
			}
		})()`),
		chromedp.SendKeys(chromedp.ID(`issue-0-body`), issue),
		setValue("issue-0-appointment", datetimeLocal(appointment)),
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`),
		chromedp.Click(chromedp.ID(`record-save`)),
		chromedp.WaitVisible(chromedp.CSS(`body:not([data-stale]) #task-records`)),
	)
	if e := rs.read(agent, "form errors", chromedp.Evaluate[string](`(function () {
		var e = document.getElementById("record-error"); return e ? e.textContent + " " + (document.getElementById("record-errors") || {}).textContent : "";
	})()`)); e != "" {
		t.Fatalf("the record was refused: %s", e)
	}
	records := rs.read(agent, "records", chromedp.Text(chromedp.ID(`task-records`)))
	for _, want := range []string{zh("revisit_web.method.phone"), issue, zh("revisit_web.record.followup")} {
		if !strings.Contains(records, want) {
			t.Errorf("the records %q lack %q", records, want)
		}
	}
	screenshot(t, agent, "revisit-recorded.png")
	v, err := rs.App.Revisit.Visit(rs.sys, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Task.Status != revisit.StatusDone || len(v.Records) != 1 || !v.Records[0].Phone || v.Records[0].Satisfaction != 4 {
		t.Fatalf("after the visit: task %s, records %+v", v.Task.Status, v.Records)
	}
	if len(v.Issues) != 1 || v.Issues[0].TicketID == 0 || v.Issues[0].Text != issue {
		t.Fatalf("the new issue made no follow-up request: %+v", v.Issues)
	}
	follow, err := rs.App.Ticket.GetTicket(rs.sys, v.Issues[0].TicketID)
	if err != nil {
		t.Fatalf("the follow-up request %d: %v", v.Issues[0].TicketID, err)
	}
	if follow.CustomerID != cust.ID || !strings.Contains(follow.Body+follow.Title, issue) {
		t.Errorf("the follow-up request %+v is not the customer's issue", follow)
	}
	rs.step(agent, "open the follow-up request",
		chromedp.Click(chromedp.CSS(`#task-records a.rv-followup`)),
		chromedp.WaitVisible(chromedp.CSS(`main h1`)),
	)
	if path := rs.read(agent, "location", chromedp.Evaluate[string](`location.pathname`)); path != fmt.Sprintf("/tickets/%d", follow.ID) {
		t.Errorf("the follow-up link leads to %s", path)
	}
	rs.checkConsole()
}

// Journey 2 of issue 9: an on-site visit, the customer signing on the canvas with the
// mouse and a finger; the record keeps the signature as a PNG, shown on the task page.
func TestRevisitOnsiteVisitWithSignature(t *testing.T) {
	chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	rs := newRevisitSite(t, ctx)
	cust := rs.vipCustomer("周海燕", "13987654321")
	cid := rs.closeComplaint(cust.ID)
	if _, err := rs.App.Revisit.RunEngine(rs.sys); err != nil {
		t.Fatalf("run the revisit engine: %v", err)
	}
	tasks := rs.tasksOf(revisit.SourceComplaint, cid)
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(tasks))
	}
	task := tasks[0]
	assignee, err := rs.App.Org.GetStaff(rs.sys, task.AssigneeID)
	if err != nil {
		t.Fatal(err)
	}
	agent := rs.signIn(assignee.Username)
	rs.step(agent, "open the task, choose an on-site visit",
		chromedp.Navigate(fmt.Sprintf("%s/revisits/%d", rs.URL, task.ID)),
		chromedp.WaitVisible(chromedp.ID(`record-form`)),
		chromedp.SetValue(chromedp.ID(`record-method`), revisit.MethodOnsite),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("record-method").dispatchEvent(new Event("change", {bubbles: true}))`),
		chromedp.WaitVisible(chromedp.ID(`signature-canvas`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("signature-canvas").scrollIntoView({block: "center"})`),
	)
	if hidden := rs.read(agent, "DND warning", chromedp.Evaluate[string](`String(document.getElementById("dnd-warning").hidden)`)); hidden != "true" {
		t.Errorf("the phone-call warning shows for an on-site visit")
	}
	var box []float64
	box, err = chromedp.Run(agent, chromedp.Evaluate[[]float64](`(function () {
		var r = document.getElementById("signature-canvas").getBoundingClientRect();
		return [r.left, r.top, r.width, r.height];
	})()`))
	if err != nil || len(box) != 4 || box[2] < 100 {
		t.Fatalf("the signature canvas: %v %v", box, err)
	}
	x0, y0, w, h := box[0], box[1], box[2], box[3]
	// A stroke with the mouse: press, move across, release (the browser makes pointer events).
	stroke := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(chromedp.MousePressed, x0+w*0.1, y0+h*0.6, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	}
	for i := 1; i <= 20; i++ {
		f := float64(i) / 20
		stroke = append(stroke, chromedp.MouseEvent(chromedp.MouseMoved, x0+w*(0.1+0.5*f), y0+h*(0.6-0.3*f*(1-f)*4),
			chromedp.ButtonLeft))
	}
	stroke = append(stroke, chromedp.MouseEvent(chromedp.MouseReleased, x0+w*0.6, y0+h*0.6, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	rs.step(agent, "sign with the mouse", stroke...)
	// A second stroke with a finger (touch events, as on a tablet).
	touch := func(typ input.DispatchTouchEventType, x, y float64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			p := input.DispatchTouchEventParams{Type: typ, TouchPoints: []*input.TouchPoint{}}
			if typ != input.DispatchTouchEventTypeTouchEnd {
				p.TouchPoints = []*input.TouchPoint{{X: x, Y: y}}
			}
			_, err := cdp.Call(ctx, tg, input.DispatchTouchEvent, p)
			return err
		})
	}
	finger := []chromedp.Action[chromedp.Void]{touch(input.DispatchTouchEventTypeTouchStart, x0+w*0.65, y0+h*0.3)}
	for i := 1; i <= 10; i++ {
		finger = append(finger, touch(input.DispatchTouchEventTypeTouchMove, x0+w*(0.65+0.025*float64(i)), y0+h*(0.3+0.04*float64(i))))
	}
	finger = append(finger, touch(input.DispatchTouchEventTypeTouchEnd, 0, 0))
	rs.step(agent, "sign with a finger", finger...)
	drawn := rs.read(agent, "the canvas", chromedp.Evaluate[string](`(function () {
		var c = document.getElementById("signature-canvas"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data, n = 0;
		for (var i = 0; i < d.length; i += 4) { if (d[i] < 128) { n++; } }
		return String(n);
	})()`))
	if n, _ := strconv.Atoi(drawn); n < 100 {
		t.Fatalf("the signature canvas has %s dark pixels after signing", drawn)
	}
	screenshot(t, agent, "revisit-signature.png")
	rs.step(agent, "record the on-site visit",
		chromedp.Click(chromedp.ID(`reached-yes`)),
		chromedp.Click(chromedp.ID(`satisfaction-5`)),
		chromedp.Evaluate[chromedp.Void](`(function () {
			var qs = document.querySelectorAll("#record-script textarea, #record-script select");
			for (var i = 0; i < qs.length; i++) {
				if (qs[i].tagName === "SELECT") { qs[i].selectedIndex = qs[i].options.length - 1; }
				else { qs[i].value = "非常满意"; }
			}
		})()`),
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`),
		chromedp.Click(chromedp.ID(`record-save`)),
		chromedp.WaitVisible(chromedp.CSS(`body:not([data-stale]) #task-records`)),
	)
	if e := rs.read(agent, "form errors", chromedp.Evaluate[string](`(function () {
		var e = document.getElementById("record-error"); return e ? e.textContent + " " + (document.getElementById("record-errors") || {}).textContent : "";
	})()`)); e != "" {
		t.Fatalf("the record was refused: %s", e)
	}
	png, err := rs.App.Revisit.Signature(rs.sys, task.ID)
	if err != nil {
		t.Fatalf("the stored signature: %v", err)
	}
	if len(png) < 100 || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("the stored signature is not a PNG (%d bytes)", len(png))
	}
	rs.step(agent, "the signature shows on the page",
		chromedp.WaitVisible(chromedp.CSS(`#task-records img[id$="-signature"]`)),
	)
	loaded := rs.read(agent, "signature image", chromedp.Evaluate[string](`(function () {
		var img = document.querySelector('#task-records img[id$="-signature"]');
		return img.decode().then(function () { return String(img.naturalWidth); });
	})()`, chromedp.EvalAwaitPromise))
	if n, _ := strconv.Atoi(loaded); n < 100 {
		t.Errorf("the signature image on the page is %s px wide", loaded)
	}
	v, err := rs.App.Revisit.Visit(rs.sys, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Task.Status != revisit.StatusDone || len(v.Records) != 1 || v.Records[0].Method != revisit.MethodOnsite || !v.Records[0].Signed {
		t.Fatalf("after the on-site visit: task %s, records %+v", v.Task.Status, v.Records)
	}
	screenshot(t, agent, "revisit-onsite-recorded.png")
	rs.checkConsole()
}
