package revisit_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// webDesk is a center for the workspace page tests: browser sessions of an agent and a
// supervisor of cs, an agent of another department, a QA reviewer and a director.
type webDesk struct {
	srv                        *apptest.Server
	agent, sup, other, qa, dir *apptest.Client
	agentID, otherID, custID   int64
	csDept, otherDept          int64
}

func newWebDesk(t *testing.T) *webDesk {
	t.Helper()
	return newWebDeskAt(t, time.Time{})
}

// newWebDeskAt is newWebDesk with the clock set to at first (zero: now).
func newWebDeskAt(t *testing.T, at time.Time) *webDesk {
	t.Helper()
	srv := apptest.New(t)
	if !at.IsZero() {
		srv.Clock.Set(at)
	}
	d := &webDesk{srv: srv}
	a := srv.As(t, "agent@cs")
	o := srv.As(t, "agent@other")
	srv.As(t, "supervisor@cs")
	srv.As(t, "qa@cs")
	srv.As(t, "director@hq")
	d.agentID, d.otherID = a.Staff.ID, o.Staff.ID
	d.csDept, d.otherDept = a.Staff.DeptID, o.Staff.DeptID
	d.agent = srv.Browser(t, "agent_cs", apptest.Password)
	d.sup = srv.Browser(t, "supervisor_cs", apptest.Password)
	d.other = srv.Browser(t, "agent_other", apptest.Password)
	d.qa = srv.Browser(t, "qa_cs", apptest.Password)
	d.dir = srv.Browser(t, "director_hq", apptest.Password)
	c, err := srv.App.Customer.CreateCustomer(apptest.SystemCtx(), customer.Input{Kind: "person", Name: "欧阳明远",
		Mobile: "13812345678", Province: "浙江省", City: "杭州市", District: "西湖区", Address: "文三路88号"})
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	d.custID = c.ID
	return d
}

// task inserts an open task of rule code for the customer, assigned to assignee in dept.
func (d *webDesk) task(t *testing.T, rule, method string, dept, assignee int64) revisit.Task {
	t.Helper()
	return d.taskDue(t, rule, method, dept, assignee, 72*time.Hour)
}

// teamTask inserts an open phone task of the team (assignee 0 = not assigned yet).
func (d *webDesk) teamTask(t *testing.T, team, assignee int64) revisit.Task {
	t.Helper()
	now := d.srv.Clock.Now()
	tk := revisit.Task{Rule: "complaint_closed", CustomerID: d.custID, SourceType: revisit.SourceCustomer, SourceID: d.custID,
		Level: revisit.LevelGeneral, DeptID: d.csDept, TeamID: team, AssigneeID: assignee, WindowStart: now.Add(-time.Hour),
		WindowEnd: now.Add(72 * time.Hour), ScheduledAt: now, Method: revisit.MethodPhone, Status: revisit.StatusOpen,
		Round: 1, CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour), Version: 1}
	if err := d.srv.App.DB.WithTx(apptest.SystemCtx(), func(ctx context.Context) error {
		return d.srv.App.Revisit.Store().InsertTask(ctx, &tk)
	}); err != nil {
		t.Fatalf("insert task: %v", err)
	}
	return tk
}

// teamAgent creates an agent of cs in team and signs them in.
func (d *webDesk) teamAgent(t *testing.T, username string, team int64) *apptest.Client {
	t.Helper()
	ctx := apptest.SystemCtx()
	st, err := d.srv.App.Org.CreateStaff(ctx, org.StaffInput{Username: username, DisplayName: "Test " + username,
		DeptID: d.csDept, TeamID: team, Roles: []string{"agent"}})
	if err != nil {
		t.Fatalf("create staff %s: %v", username, err)
	}
	if err := d.srv.App.Auth.SetPassword(ctx, st.ID, apptest.Password); err != nil {
		t.Fatal(err)
	}
	c := d.srv.Browser(t, username, apptest.Password)
	c.Staff = st
	return c
}

// taskDue is task with its window ending due from now (negative: already past).
func (d *webDesk) taskDue(t *testing.T, rule, method string, dept, assignee int64, due time.Duration) revisit.Task {
	t.Helper()
	now := d.srv.Clock.Now()
	tk := revisit.Task{Rule: rule, CustomerID: d.custID, SourceType: revisit.SourceCustomer, SourceID: d.custID,
		Level: revisit.LevelGeneral, DeptID: dept, AssigneeID: assignee, WindowStart: now.Add(min(due, 0) - time.Hour),
		WindowEnd: now.Add(due), ScheduledAt: now.Add(-30 * time.Minute), Method: method,
		Status: revisit.StatusOpen, Round: 1, CreatedAt: now.Add(-2 * time.Hour), UpdatedAt: now.Add(-2 * time.Hour), Version: 1}
	if err := d.srv.App.DB.WithTx(apptest.SystemCtx(), func(ctx context.Context) error {
		return d.srv.App.Revisit.Store().InsertTask(ctx, &tk)
	}); err != nil {
		t.Fatalf("insert task: %v", err)
	}
	return tk
}

func pageHas(t *testing.T, r *apptest.Response, status int, want, not []string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
	}
	for _, w := range want {
		if !bytes.Contains(r.Body, []byte(w)) {
			t.Errorf("page lacks %q", w)
		}
	}
	for _, n := range not {
		if bytes.Contains(r.Body, []byte(n)) {
			t.Errorf("page has %q", n)
		}
	}
}

func taskPath(id int64, tail string) string { return fmt.Sprintf("/revisits/%d%s", id, tail) }

// Who sees which task page, and which forms: the assignee records; an agent of another
// department gets 404 (as for a task that does not exist); QA reads without a record
// form; the supervisor of the department reads with the record form.
func TestWebTaskPageRoles(t *testing.T) {
	d := newWebDesk(t)
	mine := d.task(t, "complaint_closed", revisit.MethodPhone, d.csDept, d.agentID)
	theirs := d.task(t, "complaint_closed", revisit.MethodPhone, d.otherDept, d.otherID)
	masked := secure.MaskName("欧阳明远")
	for _, tc := range []struct {
		name   string
		c      *apptest.Client
		id     int64
		status int
		want   []string
		not    []string
	}{
		{"assignee", d.agent, mine.ID, 200, []string{`id="record-form"`, `id="task-customer"`, masked, "138****5678",
			`name="method"`, `name="satisfaction"`, `id="signature-canvas"`, "电话回访"}, []string{"欧阳明远", "13812345678"}},
		{"another department's agent", d.other, mine.ID, 404, nil, []string{masked}},
		{"agent opens another's task", d.agent, theirs.ID, 404, nil, nil},
		{"missing task", d.agent, theirs.ID + 1000, 404, nil, nil},
		{"qa reads without a form", d.qa, mine.ID, 200, []string{`id="task-facts"`, `id="task-records"`}, []string{`id="record-form"`}},
		{"supervisor of the department", d.sup, mine.ID, 200, []string{`id="record-form"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pageHas(t, tc.c.Do(t, "GET", taskPath(tc.id, ""), nil), tc.status, tc.want, tc.not)
		})
	}
	// A record posted by someone out of reach is not found either, and changes nothing.
	r := d.other.PostForm(t, taskPath(mine.ID, "/record"), url.Values{"method": {"phone"}, "reached": {"0"}})
	if r.Status != http.StatusNotFound {
		t.Errorf("record by another department's agent: %d, want 404", r.Status)
	}
	// QA holds no revisit:write: the route refuses the post.
	if r := d.qa.PostForm(t, taskPath(mine.ID, "/record"), url.Values{"method": {"phone"}, "reached": {"0"}}); r.Status != http.StatusForbidden {
		t.Errorf("record by QA: %d, want 403", r.Status)
	}
}

// The lists: my tasks, the team's and the overdue ones; customers masked as in the
// customer list; filters refused with a message, not an error page.
func TestWebWorkList(t *testing.T) {
	d := newWebDesk(t)
	mine := d.task(t, "complaint_closed", revisit.MethodPhone, d.csDept, d.agentID)
	theirs := d.task(t, "complaint_closed", revisit.MethodOnsite, d.otherDept, d.otherID)
	masked := secure.MaskName("欧阳明远")
	row := func(id int64) string { return fmt.Sprintf(`id="task-%d"`, id) }
	seq := d.srv.AuditSeq(t)
	pageHas(t, d.agent.Do(t, "GET", "/revisits", nil), 200,
		[]string{`id="work-tabs"`, `id="tab-mine"`, row(mine.ID), masked, "138****5678", "电话回访"},
		[]string{row(theirs.ID), "欧阳明远", "13812345678"})
	if !d.srv.AuditSince(t, seq, "revisit.list") {
		t.Error("the work list showed customers without a revisit.list audit entry")
	}
	pageHas(t, d.other.Do(t, "GET", "/revisits", nil), 200, []string{row(theirs.ID), "上门回访"}, []string{row(mine.ID)})
	pageHas(t, d.dir.Do(t, "GET", "/revisits?view=team", nil), 200, nil, nil)
	pageHas(t, d.agent.Do(t, "GET", "/revisits?view=mine&status=done", nil), 200, []string{`id="task-list"`}, []string{row(mine.ID)})
	pageHas(t, d.agent.Do(t, "GET", "/revisits?view=mine&status=open&rule=complaint_closed", nil), 200, []string{row(mine.ID)}, nil)
	pageHas(t, d.agent.Do(t, "GET", "/revisits?due_before=tomorrow", nil), 200, []string{`id="filter-error"`}, nil)
	// Overdue: only the open tasks whose window has ended.
	late := d.taskDue(t, "complaint_closed", revisit.MethodPhone, d.csDept, d.agentID, -time.Hour)
	pageHas(t, d.agent.Do(t, "GET", "/revisits?view=overdue", nil), 200, []string{row(late.ID), "rv-overdue"}, []string{row(mine.ID)})
	pageHas(t, d.agent.Do(t, "GET", "/revisits?due_before="+d.srv.Clock.Now().Add(48*time.Hour).Format(time.DateOnly), nil), 200,
		[]string{row(late.ID)}, []string{row(mine.ID)})
	if r := d.srv.Anonymous().Do(t, "GET", "/revisits", nil); r.Status != http.StatusSeeOther ||
		!strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("anonymous /revisits: %d %s, want a redirect to sign in", r.Status, r.Header.Get("Location"))
	}
}

// The record form without JavaScript: a refused record comes back with each field
// named and the input kept; a complete one redirects to the task page, which then shows
// it; the supervisor signs it off and flags it false from the forms under it.
func TestWebRecordForms(t *testing.T) {
	d := newWebDesk(t)
	tk := d.task(t, "complaint_closed", revisit.MethodPhone, d.csDept, d.agentID)
	rule, err := d.srv.App.Revisit.RuleByCode(apptest.SystemCtx(), tk.Rule)
	if err != nil {
		t.Fatal(err)
	}
	now := d.srv.Clock.Now().In(time.FixedZone("CST", 8*3600))
	form := func(set map[string]string) url.Values {
		f := url.Values{"method": {"phone"}, "visited_at": {now.Add(-10 * time.Minute).Format("2006-01-02T15:04")},
			"reached": {"1"}, "satisfaction": {"2"}, "note": {"客户对维修结果基本认可"}}
		for i := range rule.Script {
			f.Set(fmt.Sprintf("answer_%d", i), "已解决")
		}
		for k, v := range set {
			if v == "" {
				f.Del(k)
			} else {
				f.Set(k, v)
			}
		}
		return f
	}
	path := taskPath(tk.ID, "/record")
	for _, tc := range []struct {
		name  string
		set   map[string]string
		field string
	}{
		{"no satisfaction", map[string]string{"satisfaction": "0"}, "satisfaction"},
		{"visited in the future", map[string]string{"visited_at": now.Add(48 * time.Hour).Format("2006-01-02T15:04")}, "visited_at"},
		{"bad time", map[string]string{"visited_at": "昨天下午"}, "visited_at"},
		{"on site without a signature", map[string]string{"method": "onsite"}, "signature"},
		{"issue without an appointment", map[string]string{"issue_1_body": "门禁坏了"}, "issues[0].appointment_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pageHas(t, d.agent.PostForm(t, path, form(tc.set)), http.StatusUnprocessableEntity,
				[]string{`id="record-error"`, `data-field="` + tc.field + `"`, "客户对维修结果基本认可"}, nil)
		})
	}
	if len(rule.Script) > 0 {
		pageHas(t, d.agent.PostForm(t, path, form(map[string]string{"answer_0": ""})), http.StatusUnprocessableEntity,
			[]string{`data-field="answers[0]"`, `id="err-answer-0"`}, nil)
	}
	// A complete record with a new issue: saved, shown, with its follow-up request.
	r := d.agent.PostForm(t, path, form(map[string]string{"issue_0_body": "楼道门禁经常失灵",
		"issue_0_appointment_at": now.Add(48 * time.Hour).Format("2006-01-02T15:04"), "important": "1"}))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != taskPath(tk.ID, "") {
		t.Fatalf("record: %d %s\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	v, err := d.srv.App.Revisit.Visit(apptest.SystemCtx(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Records) != 1 || v.Task.Status != revisit.StatusDone || len(v.Issues) != 1 || v.Issues[0].TicketID == 0 {
		t.Fatalf("after the record: %+v", v)
	}
	rid := v.Records[0].ID
	signoff, flag := fmt.Sprintf(`id="signoff-%d"`, rid), fmt.Sprintf(`id="flag-%d"`, rid)
	pageHas(t, d.agent.Do(t, "GET", taskPath(tk.ID, ""), nil), 200,
		[]string{"回访记录已保存", fmt.Sprintf(`id="record-%d"`, rid), "楼道门禁经常失灵", "rv-followup", "电话回访", `id="record-closed"`},
		[]string{`id="record-form"`, signoff, flag})
	pageHas(t, d.qa.Do(t, "GET", taskPath(tk.ID, ""), nil), 200, []string{fmt.Sprintf(`id="record-%d"`, rid)},
		[]string{signoff, flag, `id="record-form"`})
	pageHas(t, d.sup.Do(t, "GET", taskPath(tk.ID, ""), nil), 200, []string{signoff, flag}, nil)
	// Sign-off: the note is required; then it shows and the form is gone.
	so := taskPath(tk.ID, fmt.Sprintf("/records/%d/signoff", rid))
	pageHas(t, d.sup.PostForm(t, so, url.Values{"note": {""}}), http.StatusUnprocessableEntity,
		[]string{fmt.Sprintf(`id="signoff-%d-error"`, rid)}, nil)
	if r := d.agent.PostForm(t, so, url.Values{"note": {"自己签"}}); r.Status != http.StatusForbidden {
		t.Errorf("an agent signing off: %d, want 403", r.Status)
	}
	if r := d.sup.PostForm(t, so, url.Values{"note": {"回访记录完整，同意"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-off: %d\n%s", r.Status, r.Body)
	}
	pageHas(t, d.sup.Do(t, "GET", taskPath(tk.ID, ""), nil), 200,
		[]string{"已签署意见", "回访记录完整，同意", fmt.Sprintf(`id="record-%d-signoff"`, rid), flag}, []string{signoff})
	// Flag false: a reason is required; then the record reads as flagged.
	ff := taskPath(tk.ID, fmt.Sprintf("/records/%d/flag-false", rid))
	pageHas(t, d.sup.PostForm(t, ff, url.Values{"reason": {""}}), http.StatusUnprocessableEntity,
		[]string{fmt.Sprintf(`id="flag-%d-error"`, rid)}, nil)
	if r := d.sup.PostForm(t, ff, url.Values{"reason": {"客户否认接到过回访电话"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("flag false: %d\n%s", r.Status, r.Body)
	}
	pageHas(t, d.sup.Do(t, "GET", taskPath(tk.ID, ""), nil), 200,
		[]string{fmt.Sprintf(`id="record-%d-flagged"`, rid)}, []string{flag})
	// Not reached: an attempt with its retry, the task still open.
	other := d.task(t, "complaint_closed", revisit.MethodPhone, d.csDept, d.agentID)
	if r := d.agent.PostForm(t, taskPath(other.ID, "/record"), url.Values{"method": {"phone"}, "reached": {"0"},
		"satisfaction": {"0"}, "visited_at": {now.Add(-5 * time.Minute).Format("2006-01-02T15:04")}, "note": {"无人接听"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("unreached: %d\n%s", r.Status, r.Body)
	}
	pageHas(t, d.agent.Do(t, "GET", taskPath(other.ID, ""), nil), 200, []string{`id="task-attempts"`, "未联系上", "无人接听"}, nil)
	// Out of reach reads as not found for the record forms too.
	if r := d.other.PostForm(t, so, url.Values{"note": {"x"}}); r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
		t.Errorf("sign-off by another department's agent: %d", r.Status)
	}
}

// The do-not-disturb warning: rendered by the server before a phone call in the
// customer's quiet hours (12:00-14:00 and 21:00-09:00 China time by default), with the
// windows for revisit.js to re-check; hidden outside them and for an on-site visit.
func TestWebDNDWarning(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	d := newWebDeskAt(t, time.Date(2026, 12, 8, 13, 45, 0, 0, cst))
	phone := d.task(t, "complaint_closed", revisit.MethodPhone, d.csDept, d.agentID)
	onsite := d.task(t, "complaint_closed", revisit.MethodOnsite, d.csDept, d.agentID)
	shown := `id="dnd-warning" role="alert" data-dnd="1" data-dnd-windows="12:00-14:00,21:00-09:00" data-dnd-tz="Asia/Shanghai">`
	pageHas(t, d.agent.Do(t, "GET", taskPath(phone.ID, ""), nil), 200, []string{shown, "免打扰"}, nil)
	pageHas(t, d.agent.Do(t, "GET", taskPath(onsite.ID, ""), nil), 200, []string{`data-dnd="1"`, `data-dnd-tz="Asia/Shanghai" hidden>`}, []string{shown})
	d.srv.Clock.Set(time.Date(2026, 12, 8, 14, 5, 0, 0, cst)) // the session is still fresh
	pageHas(t, d.agent.Do(t, "GET", taskPath(phone.ID, ""), nil), 200, []string{`data-dnd="0"`, `hidden>`}, []string{shown})
}

// Team scope: an agent sees their team's tasks (the team tab, and a team task not yet
// assigned opens with the record form); another team's task reads as not found.
func TestWebTeams(t *testing.T) {
	d := newWebDesk(t)
	ctx := apptest.SystemCtx()
	one, err := d.srv.App.Org.CreateTeam(ctx, org.TeamInput{DeptID: d.csDept, Name: "回访一组"})
	if err != nil {
		t.Fatal(err)
	}
	two, err := d.srv.App.Org.CreateTeam(ctx, org.TeamInput{DeptID: d.csDept, Name: "回访二组"})
	if err != nil {
		t.Fatal(err)
	}
	a1 := d.teamAgent(t, "agent_one", one.ID)
	a2 := d.teamAgent(t, "agent_two", two.ID)
	open1 := d.teamTask(t, one.ID, 0)
	theirs := d.teamTask(t, two.ID, a2.Staff.ID)
	row := func(id int64) string { return fmt.Sprintf(`id="task-%d"`, id) }
	pageHas(t, a1.Do(t, "GET", "/revisits?view=team", nil), 200, []string{row(open1.ID)}, []string{row(theirs.ID)})
	pageHas(t, a1.Do(t, "GET", "/revisits", nil), 200, nil, []string{row(open1.ID), row(theirs.ID)})
	pageHas(t, a2.Do(t, "GET", "/revisits", nil), 200, []string{row(theirs.ID)}, nil)
	pageHas(t, a2.Do(t, "GET", "/revisits?view=team", nil), 200, []string{row(theirs.ID)}, []string{row(open1.ID)})
	pageHas(t, a1.Do(t, "GET", taskPath(open1.ID, ""), nil), 200, []string{`id="record-form"`}, nil)
	pageHas(t, a1.Do(t, "GET", taskPath(theirs.ID, ""), nil), 404, nil, []string{`id="task-facts"`})
	pageHas(t, a1.Do(t, "GET", taskPath(theirs.ID, "/signature"), nil), 404, nil, nil)
}
