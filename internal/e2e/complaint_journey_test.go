package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// TestPhoneComplaintToAnalysis is the complaint journey of issue 8, each person in a
// browser session of their own (isolated contexts of one Chromium): an agent records a
// phone complaint and starts its assessment; the supervisor finds it valid and makes the
// technical department responsible; the responsible person reports the findings with a
// proposal and files the rectification report the personal cause asks for; the
// supervisor proposes a fine; the director approves the proposal and the fine; the
// responsible person carries it out and reports back; the agent records the customer's
// satisfaction with an improvement action and closes it. The analysis page then shows it,
// and its .xlsx export, opened with excelize, holds the same numbers.
func TestPhoneComplaintToAnalysis(t *testing.T) {
	chromiumPath(t)
	cat := i18n.MustLoad()
	zh := func(key string, kv ...any) string { return cat.Msg(i18n.ZhCN, i18n.M(key, kv...)) }
	s := startSite(t)
	sys := authz.WithActor(context.Background(), authz.System("e2e"))

	staffID := func(username string) int64 {
		t.Helper()
		st, err := s.App.Org.StaffByUsername(sys, username)
		if err != nil {
			t.Fatalf("demo staff %s: %v", username, err)
		}
		return st.ID
	}
	agentID, techID := staffID("agent"), staffID("tech")
	techDept, err := s.App.Org.DepartmentByCode(sys, "tech")
	if err != nil {
		t.Fatalf("demo department tech: %v", err)
	}
	cust, err := s.App.Customer.CreateCustomer(sys, customer.Input{Kind: "person", Name: "林晓雯", Mobile: "13912345678",
		Province: "浙江省", City: "杭州市", District: "西湖区", OwnerID: agentID})
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	const (
		title    = "维修师傅多次爽约，热水器至今未修好"
		words    = "上周报修热水器，师傅约了两次都没来，也没人通知我，家里老人一直没有热水洗澡。"
		findings = "维修工单派给孙志强后未按约定时间上门，也未提前通知客户改期。"
		proposal = "当天重新安排上门维修，并减免本次维修费用"
		result   = "已于当天下午修复热水器，减免维修费 200 元，客户确认已恢复正常。"
		reply    = "您好，热水器已修复，维修费用已为您减免，对给您造成的不便深表歉意。"
	)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	bctx, console := browser(t, ctx)
	step := func(bctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: timed out", name)
			}
			t.Fatalf("%s: %v", name, err)
		}
	}
	read := func(bctx context.Context, name string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(bctx, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	// Each person signs in in an isolated browser context (their own cookies).
	signIn := func(username string) context.Context {
		t.Helper()
		uctx, ucancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		t.Cleanup(ucancel)
		if _, err := chromedp.Call(uctx, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "zh-CN,zh;q=0.9"}}); err != nil {
			t.Fatalf("open a browser context for %s: %v", username, err)
		}
		go func() { // what this person's pages write to the console, with the rest
			for m, err := range chromedp.Console(uctx) {
				if err != nil {
					return
				}
				if m.Type == chromedp.ConsoleError || m.IsException() {
					console.add(m.String())
				}
			}
		}()
		password := ""
		for _, l := range s.Logins {
			if l.Username == username {
				password = l.Password
			}
		}
		step(uctx, "sign in as "+username,
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(s.URL+"/login"),
			visibleIn(i18n.ZhCN, `#login`),
			chromedp.SendKeys(chromedp.ID(`username`), username),
			chromedp.SendKeys(chromedp.ID(`password`), password),
			chromedp.Click(chromedp.ID(`login-submit`)),
			visibleIn(i18n.ZhCN, `#me`),
		)
		return uctx
	}
	// A form post reloads the record page: the old page is marked first, so that the
	// wait is for the page that comes back.
	markStale := chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`)
	reloaded := chromedp.WaitVisible(chromedp.CSS(`body:not([data-stale]) #record-form`))
	load := func(c int64) complaint.Complaint {
		t.Helper()
		got, err := s.App.Complaint.Get(sys, c)
		if err != nil {
			t.Fatalf("load complaint %d: %v", c, err)
		}
		return got
	}

	// 1. The agent takes the call: finds the caller's file, records the complaint in the
	// caller's words and starts the assessment.
	agent := signIn("agent")
	step(agent, "open the board and the intake form",
		chromedp.Navigate(s.URL+"/complaints"),
		chromedp.WaitVisible(chromedp.ID(`board`)),
		chromedp.Click(chromedp.ID(`complaint-new`)),
		chromedp.WaitVisible(chromedp.ID(`cq`)),
		chromedp.SendKeys(chromedp.ID(`cq`), "林晓雯"),
		chromedp.Click(chromedp.ID(`customer-search-go`)),
		chromedp.WaitVisible(chromedp.ID(`customer-`+strconv.FormatInt(cust.ID, 10))),
	)
	step(agent, "record the complaint",
		chromedp.Click(chromedp.ID(`customer-`+strconv.FormatInt(cust.ID, 10))),
		chromedp.SetValue(chromedp.ID(`channel`), "phone"),
		chromedp.SetValue(chromedp.ID(`severity`), "moderate"),
		chromedp.SendKeys(chromedp.ID(`title`), title),
		chromedp.SendKeys(chromedp.ID(`body`), words),
		chromedp.SendKeys(chromedp.ID(`location`), "杭州市西湖区文三路88号"),
		chromedp.SetValue(chromedp.ID(`object_kind`), "staff"),
		chromedp.SetValue(chromedp.ID(`object_staff_id`), strconv.FormatInt(techID, 10)),
		chromedp.Click(chromedp.ID(`complaint-create`)),
		chromedp.WaitVisible(chromedp.ID(`record-form`)),
	)
	path := read(agent, "record page address", chromedp.Evaluate[string](`location.pathname`))
	m := regexp.MustCompile(`^/complaints/(\d+)$`).FindStringSubmatch(path)
	if m == nil {
		t.Fatalf("after recording, the browser is at %q, want /complaints/{id}", path)
	}
	cid, _ := strconv.ParseInt(m[1], 10, 64)
	recordURL := s.URL + path
	c := load(cid)
	if c.CustomerID != cust.ID || c.Level != complaint.LevelUrgent || c.Stage != complaint.StageReceived ||
		c.ObjectStaffID != techID || c.FirstDueAt.IsZero() {
		t.Fatalf("recorded complaint %+v: want customer %d, urgent, received, about staff %d, with a promise", c, cust.ID, techID)
	}
	sheet := read(agent, "record form", chromedp.Text(chromedp.ID(`record-form`)))
	for _, want := range []string{c.Number, words, zh("complaint.level.urgent"), zh("ticket.channel.phone")} {
		if !strings.Contains(sheet, want) {
			t.Errorf("the record form lacks %q", want)
		}
	}
	if strings.Contains(sheet, "13912345678") || strings.Contains(sheet, "林晓雯") {
		t.Errorf("the record form shows the complainant unmasked")
	}
	if n := read(agent, "approve form", chromedp.Evaluate[string](`String(document.querySelectorAll("#approve-form").length)`)); n != "0" {
		t.Errorf("the agent sees an approval form")
	}
	screenshot(t, agent, "complaint-recorded.png")
	step(agent, "start the assessment", markStale, chromedp.Click(chromedp.ID(`to-assessing`)), reloaded)

	// 2. The supervisor finds it valid and makes the technical department responsible.
	sup := signIn("supervisor")
	step(sup, "assess: valid, responsible department",
		chromedp.Navigate(recordURL),
		chromedp.WaitVisible(chromedp.ID(`move-investigating`)),
		chromedp.SetValue(chromedp.ID(`investigating-dept`), strconv.FormatInt(techDept.ID, 10)),
		chromedp.SetValue(chromedp.ID(`investigating-staff`), strconv.FormatInt(techID, 10)),
		chromedp.SendKeys(chromedp.ID(`investigating-reply`), "您好，您的投诉已受理，我们将在48小时内给您处理结果。"),
		markStale,
		chromedp.Click(chromedp.ID(`to-investigating`)),
		reloaded,
	)
	if c = load(cid); c.Stage != complaint.StageInvestigating || c.RespDeptID != techDept.ID || c.RespStaffID != techID {
		t.Fatalf("after the assessment the complaint is %s, responsible %d/%d", c.Stage, c.RespDeptID, c.RespStaffID)
	}

	// 3. The responsible person reports the findings with a proposal (personal cause) and
	// files the rectification report; the supervisor proposes a fine.
	tech := signIn("tech")
	step(tech, "findings and proposal",
		chromedp.Navigate(recordURL),
		chromedp.WaitVisible(chromedp.ID(`move-proposing`)),
		chromedp.SendKeys(chromedp.ID(`proposing-findings`), findings),
		chromedp.Evaluate[chromedp.Void](`(function () {
			var s = document.getElementById("proposing-cause");
			s.value = s.options[1].value;
		})()`),
		chromedp.SetValue(chromedp.ID(`proposing-cause-kind`), "personal"),
		chromedp.SendKeys(chromedp.ID(`proposal_0_body`), proposal),
		chromedp.SendKeys(chromedp.ID(`proposal_0_comp_form`), "减免维修费"),
		chromedp.SendKeys(chromedp.ID(`proposal_0_comp_amount`), "200"),
		markStale,
		chromedp.Click(chromedp.ID(`to-proposing`)),
		reloaded,
	)
	step(tech, "rectification report",
		chromedp.WaitVisible(chromedp.CSS(`form[id^="task-"] textarea`)),
		chromedp.SendKeys(chromedp.CSS(`form[id^="task-"] textarea`), "本人未按约上门且未通知客户，今后改约必须提前电话告知客户并在系统登记。"),
		markStale,
		chromedp.Click(chromedp.CSS(`form[id^="task-"] button[type=submit]`)),
		reloaded,
	)
	step(sup, "propose a fine",
		chromedp.Navigate(recordURL),
		chromedp.WaitVisible(chromedp.ID(`penalty-form`)),
		chromedp.SetValue(chromedp.ID(`penalty-staff`), strconv.FormatInt(techID, 10)),
		chromedp.SetValue(chromedp.ID(`penalty-role`), complaint.PenaltyDirect),
		chromedp.SetValue(chromedp.ID(`penalty-kind`), string(complaint.PenaltyFine)),
		chromedp.SetValue(chromedp.ID(`penalty-fine`), "B"),
		chromedp.SendKeys(chromedp.ID(`penalty-note`), "与客户约定的上门时间未履约"),
		markStale,
		chromedp.Click(chromedp.ID(`penalty-propose`)),
		reloaded,
	)
	if n := read(sup, "approve form", chromedp.Evaluate[string](`String(document.querySelectorAll("#approve-form").length)`)); n != "0" {
		t.Errorf("the intake supervisor, no superior of the technical department, sees an approval form")
	}

	// 4. The director approves the proposal with an instruction, and the fine.
	director := signIn("director")
	step(director, "approve with the penalty",
		chromedp.Navigate(recordURL),
		chromedp.WaitVisible(chromedp.ID(`approve-form`)),
		chromedp.SendKeys(chromedp.ID(`approve-instruction`), "同意方案，今天内落实，罚款按B类执行。"),
		markStale,
		chromedp.Click(chromedp.ID(`approve-button`)),
		reloaded,
	)
	props, pens, tasks, err := s.App.Complaint.Resolution(sys, cid)
	if err != nil {
		t.Fatal(err)
	}
	if len(props) != 1 || props[0].Status != complaint.ProposalApproved || props[0].CompAmount != 20000 ||
		len(pens) != 1 || pens[0].Status != complaint.PenaltyApproved || pens[0].Amount != 30000 || pens[0].StaffID != techID {
		t.Fatalf("after the approval: proposals %+v, penalties %+v", props, pens)
	}
	if len(tasks) == 0 {
		t.Errorf("the personal cause opened no rectification task")
	}
	sheet = read(director, "record form", chromedp.Text(chromedp.ID(`record-form`)))
	for _, want := range []string{"同意方案，今天内落实", zh("complaint_web.fine", "category", "B", "amount", "300"),
		zh("complaint_web.penalty_status.approved")} {
		if !strings.Contains(sheet, want) {
			t.Errorf("the record form lacks %q after the approval:\n%s", want, sheet)
		}
	}

	// 5. The responsible person carries it out and reports back; the agent records the
	// customer's satisfaction with an improvement action and closes the complaint.
	step(tech, "carry out the proposal",
		chromedp.Navigate(recordURL),
		chromedp.WaitVisible(chromedp.ID(`move-executing`)),
		markStale, chromedp.Click(chromedp.ID(`to-executing`)), reloaded,
		chromedp.WaitVisible(chromedp.ID(`move-feedback`)),
		chromedp.SendKeys(chromedp.ID(`feedback-result`), result),
		chromedp.SendKeys(chromedp.ID(`feedback-reply`), reply),
		markStale, chromedp.Click(chromedp.ID(`to-feedback`)), reloaded,
	)
	step(agent, "evaluation",
		chromedp.Navigate(recordURL),
		chromedp.WaitVisible(chromedp.ID(`move-evaluating`)),
		chromedp.SetValue(chromedp.ID(`evaluating-satisfaction`), "4"),
		chromedp.SendKeys(chromedp.ID(`action_0_body`), "改约必须提前通知客户，纳入上门服务规范"),
		chromedp.SetValue(chromedp.ID(`action_0_owner_id`), strconv.FormatInt(techID, 10)),
		chromedp.SetValue(chromedp.ID(`action_0_due_on`), time.Now().AddDate(0, 1, 0).Format(time.DateOnly)),
		markStale, chromedp.Click(chromedp.ID(`to-evaluating`)), reloaded,
	)
	step(agent, "close",
		chromedp.WaitVisible(chromedp.ID(`move-closed`)),
		chromedp.SendKeys(chromedp.ID(`closed-summary`), "上门改约流程已完善"),
		markStale, chromedp.Click(chromedp.ID(`to-closed`)), reloaded,
	)
	if c = load(cid); c.Stage != complaint.StageClosed || c.Satisfaction != 4 || c.ClosedAt.IsZero() {
		t.Fatalf("after closing the complaint is %s, satisfaction %d", c.Stage, c.Satisfaction)
	}
	sheet = read(agent, "record form", chromedp.Text(chromedp.ID(`record-form`)))
	for _, want := range []string{findings, proposal, result, reply, zh("complaint_web.satisfaction.4"),
		"改约必须提前通知客户", zh("complaint.stage.closed")} {
		if !strings.Contains(sheet, want) {
			t.Errorf("the closed record form lacks %q", want)
		}
	}
	screenshot(t, agent, "complaint-closed.png")
	// Printed (A4 portrait), the record form stands alone: no navigation, no buttons.
	if _, err := chromedp.Call(agent, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatalf("emulate print: %v", err)
	}
	printed := read(agent, "print media", chromedp.Evaluate[string](`[
		getComputedStyle(document.querySelector(".topbar")).display,
		getComputedStyle(document.getElementById("print-button")).display,
		getComputedStyle(document.querySelector(".toolbar.cw-noprint")).display,
		getComputedStyle(document.getElementById("record-form")).display].join(" ")`))
	if printed != "none none none table" {
		t.Errorf("printed, the navigation, the Print button, the toolbar and the record form display as %q, want none none none table", printed)
	}
	if _, err := chromedp.Call(agent, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatalf("stop emulating print: %v", err)
	}
	pdf, err := chromedp.Call(agent, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: new(true)})
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	if d := os.Getenv("KEFU_E2E_SHOTS"); d != "" {
		if err := os.WriteFile(filepath.Join(d, "complaint-record.pdf"), pdf.Data, 0o644); err != nil {
			t.Errorf("save the PDF: %v", err)
		}
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf.Data, -1))
	t.Logf("the printed record form of the closed complaint takes %d A4 page(s)", pages)
	if pages < 1 || pages > 2 {
		t.Errorf("the printed record form takes %d pages", pages)
	}
	step(agent, "the board counts it closed and lists it there",
		chromedp.Navigate(s.URL+"/complaints"),
		chromedp.WaitVisible(chromedp.ID(`ended-closed`)),
	)
	if closed := read(agent, "closed count", chromedp.Text(chromedp.CSS(`#ended-closed .badge`))); closed == "0" || closed == "" {
		t.Errorf("the board's closed count reads %q", closed)
	}
	screenshot(t, agent, "complaint-board.png")
	step(agent, "the closed list", chromedp.Click(chromedp.ID(`ended-closed`)), chromedp.WaitVisible(chromedp.ID(`stage-list`)))
	if list := read(agent, "closed list", chromedp.Text(chromedp.ID(`stage-list`))); !strings.Contains(list, c.Number) {
		t.Errorf("the list of closed complaints lacks %s", c.Number)
	}

	// 6. The analysis page shows it; its .xlsx export holds the same numbers.
	step(director, "analysis page",
		chromedp.Navigate(s.URL+"/complaints/analysis"),
		chromedp.WaitVisible(chromedp.ID(`analysis-totals`)),
	)
	issues := strings.TrimSpace(read(director, "issues", chromedp.Text(chromedp.ID(`t-issues`))))
	received := strings.TrimSpace(read(director, "received", chromedp.Text(chromedp.ID(`t-received`))))
	if n, err := strconv.Atoi(issues); err != nil || n < 1 {
		t.Fatalf("the analysis page counts %q complaint issues, want at least this one", issues)
	}
	techPenalties := read(director, "penalties of the technical department", chromedp.Evaluate[string](`(function () {
		var rows = document.querySelectorAll("#analysis-penalties tbody tr");
		for (var i = 0; i < rows.length; i++) {
			var c = rows[i].cells;
			if (c.length > 1 && c[0].textContent.trim() === `+strconv.Quote(techDept.Name)+`) { return c[1].textContent.trim(); }
		}
		return "";
	})()`))
	if n, err := strconv.Atoi(techPenalties); err != nil || n < 1 {
		t.Errorf("the analysis page counts %q penalties for %s, want at least the fine", techPenalties, techDept.Name)
	}
	screenshot(t, director, "complaint-analysis.png")
	b64 := read(director, "download the export", chromedp.Evaluate[string](`(function () {
		var a = document.getElementById("analysis-export");
		return fetch(a.href, {credentials: "same-origin"}).then(function (r) {
			if (!r.ok) { throw new Error("export: HTTP " + r.status); }
			return r.arrayBuffer();
		}).then(function (buf) {
			var b = new Uint8Array(buf), s = "";
			for (var i = 0; i < b.length; i++) { s += String.fromCharCode(b[i]); }
			return btoa(s);
		});
	})()`, chromedp.EvalAwaitPromise))
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	book, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the export does not open with excelize: %v", err)
	}
	defer book.Close()
	cell := func(sheetKey, rowKey string) string {
		t.Helper()
		rows, err := book.GetRows(zh(sheetKey))
		if err != nil {
			t.Fatalf("sheet %s: %v (sheets %v)", zh(sheetKey), err, book.GetSheetList())
		}
		for _, r := range rows {
			if len(r) > 1 && r[0] == rowKey {
				return r[1]
			}
		}
		t.Fatalf("sheet %s has no row %q: %v", zh(sheetKey), rowKey, rows)
		return ""
	}
	if got := cell("complaint.analysis.sheet.summary", zh("complaint.analysis.fig.issues")); got != issues {
		t.Errorf("export counts %s issues, the page %s", got, issues)
	}
	if got := cell("complaint.analysis.sheet.summary", zh("complaint.analysis.fig.received")); got != received {
		t.Errorf("export counts %s received, the page %s", got, received)
	}
	if got := cell("complaint.analysis.sheet.penalties", techDept.Name); got != techPenalties {
		t.Errorf("export counts %s penalties for %s, the page %s", got, techDept.Name, techPenalties)
	}

	for _, msg := range console.all() {
		if strings.Contains(msg, "Content Security Policy") || strings.Contains(msg, "exception") {
			t.Errorf("browser console: %s", msg)
		}
	}
}
