package complaint_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

var webNumberRe = regexp.MustCompile(`KF[0-9]{8}-[0-9]{4,}`)

// The intake form: the promised times of every level shown as defaults, refused input
// re-rendered with the field named and the input kept, and a saved complaint opening on
// its record page.
func TestWebIntakeForm(t *testing.T) {
	d := newWebDesk(t)
	webPageHas(t, d.agent.Do(t, "GET", "/complaints/new", nil), 200,
		[]string{`id="complaint-form"`, `id="promise-defaults"`, `data-level="general"`, `data-level="major"`,
			`<option value="phone" selected>`, `name="anonymous"`, `name="reply_only"`, `name="object_kind"`}, nil)

	base := func() url.Values {
		return url.Values{"channel": {"phone"}, "severity": {"general"}, "title": {"物业维修人员态度恶劣"},
			"body": {"维修师傅上门时态度很差，还多收了材料费"}, "location": {"阳光花园3号楼"}, "customer_id": {""}}
	}
	for _, tc := range []struct {
		name  string
		set   map[string]string
		field string // the data-field of the refused input
		id    string // its inline error
	}{
		{"no title", map[string]string{"title": ""}, "title", "err-title"},
		{"bad promised time", map[string]string{"first_answer_due_at": "tomorrow"}, "complaint.first_answer_due_at", "err-first_answer_due_at"},
		{"level without reason", map[string]string{"level": "major"}, "complaint.level_reason", "err-level_reason"},
		{"unknown object kind", map[string]string{"object_kind": "weather"}, "complaint.object_kind", "err-object_kind"},
		{"anonymous with a contact", map[string]string{"anonymous": "1", "contact_name": "王先生"}, "contact_name", "err-contact_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base()
			for k, v := range tc.set {
				f.Set(k, v)
			}
			webPageHas(t, d.agent.PostForm(t, "/complaints", f), http.StatusUnprocessableEntity,
				[]string{`id="form-message"`, `data-field="` + tc.field + `"`, `id="` + tc.id + `"`, "阳光花园3号楼",
					"维修师傅上门时态度很差"}, nil)
		})
	}

	f := base()
	f.Set("anonymous", "1")
	f.Set("object_kind", "staff")
	f.Set("object_text", "上门维修")
	loc := webRedirect(t, d.agent.PostForm(t, "/complaints", f), "/complaints/")
	page := d.agent.Do(t, "GET", loc, nil)
	webPageHas(t, page, 200, []string{`id="record-form"`, "投诉已登记", "匿名", "维修师傅上门时态度很差", "阳光花园3号楼",
		"上门维修", `id="rec-revisit">否`, `data-stage="received"`}, nil)
	first := string(webNumberRe.Find(page.Body))
	if first == "" {
		t.Fatal("the record page shows no request number")
	}
	// An anonymous complaint asks for the written reply, which must name an attachment.
	webPageHas(t, page, 200, []string{`id="letter-form"`, `id="rec-reply-letter"`}, nil)
	webPageHas(t, d.agent.PostForm(t, loc+"/reply-letter", url.Values{"attachment_id": {""}}),
		http.StatusUnprocessableEntity, []string{`id="letter-error"`}, nil)
	webPageHas(t, d.agent.PostForm(t, loc+"/reply-letter", url.Values{"attachment_id": {"999999"}}),
		http.StatusUnprocessableEntity, []string{`id="letter-error"`, `data-field="attachment_id"`}, nil)
	// Before saving, the form looks for likely duplicates and keeps the input unsaved.
	f = base()
	f.Set("title", "楼下维修又来晚了")
	webPageHas(t, d.agent.PostForm(t, "/complaints/check", f), 200,
		[]string{`id="duplicates-check"`, `id="duplicates"`, first, "同一地址", "楼下维修又来晚了"}, nil)
	webPageHas(t, d.agent.PostForm(t, "/complaints/check", url.Values{"channel": {"phone"}}), http.StatusUnprocessableEntity,
		[]string{`data-field="title"`}, []string{`id="duplicates-check"`})
	// A second complaint about the same building offers the first as a likely duplicate.
	again := d.apiCreate(t, "general", "维修人员态度差还乱收费", map[string]any{"location": "阳光花园3号楼"})
	webPageHas(t, d.agent.Do(t, "GET", fmt.Sprintf("/complaints/%d", again), nil), 200,
		[]string{`id="duplicates"`, first, "同一地址"}, nil)
}

// Buttons and forms follow the viewer's role: the agent moves the working stages but
// does not assess; the supervisor assesses (valid or not) and changes the level; a bad
// stage form comes back with the field named.
func TestPageRoleButtons(t *testing.T) {
	d := newWebDesk(t)
	cid := d.apiCreate(t, "general", "小区电梯停运无人处理", nil)
	page := fmt.Sprintf("/complaints/%d", cid)

	webPageHas(t, d.agent.Do(t, "GET", page, nil), 200, []string{`id="move-assessing"`, `id="print-button"`},
		[]string{`id="move-investigating"`, `id="move-rejected"`, `id="level-form"`})
	webRedirect(t, d.agent.PostForm(t, page+"/transition", url.Values{"stage": {"assessing"}}), page)

	webPageHas(t, d.agent.Do(t, "GET", page, nil), 200, []string{`data-stage="assessing"`},
		[]string{`id="move-investigating"`, `id="move-rejected"`, `id="level-form"`})
	sup := d.sup.Do(t, "GET", page, nil)
	webPageHas(t, sup, 200, []string{`id="move-investigating"`, `id="move-rejected"`, `id="level-form"`,
		`id="rejected-reply"`, `name="resp_dept_id"`}, nil)

	// A stage form without what the stage needs names the field.
	r := d.sup.PostForm(t, page+"/transition", url.Values{"stage": {"investigating"}})
	webPageHas(t, r, http.StatusUnprocessableEntity, []string{`id="move-error"`, `data-field="resp_dept_id"`,
		`id="err-resp_dept_id"`}, nil)
	r = d.sup.PostForm(t, page+"/transition", url.Values{"stage": {"rejected"}, "reply": {""}})
	webPageHas(t, r, http.StatusUnprocessableEntity, []string{`data-field="reason"`, `id="err-rejected-reason"`}, nil)
	r = d.sup.PostForm(t, page+"/level", url.Values{"level": {"major"}})
	webPageHas(t, r, http.StatusUnprocessableEntity, []string{`id="level-error"`, `id="err-level-reason"`}, nil)
	// An illegal move is refused without a change.
	r = d.sup.PostForm(t, page+"/transition", url.Values{"stage": {"closed"}})
	webPageHas(t, r, http.StatusConflict, []string{`id="page-error"`}, nil)

	webRedirect(t, d.sup.PostForm(t, page+"/level", url.Values{"level": {"urgent"}, "reason": {"涉及老人被困"}}), page)
	webRedirect(t, d.sup.PostForm(t, page+"/transition", url.Values{"stage": {"investigating"},
		"resp_dept_id": {fmt.Sprint(d.engDept)}, "resp_staff_id": {fmt.Sprint(d.engRepAPI.Staff.ID)},
		"reply": {"我们将在48小时内答复您"}}), page)
	webPageHas(t, d.engRep.Do(t, "GET", page, nil), 200, []string{`id="move-proposing"`, `id="proposing-cause"`,
		`name="proposal_0_body"`, `id="rec-level">紧要`, "我们将在48小时内答复您"}, []string{`id="level-form"`})

	// The responsible person proposes (with a compensation in yuan) and a penalty; only a
	// superior of the responsible department sees the approval form.
	webPageHas(t, d.engRep.PostForm(t, page+"/transition", url.Values{"stage": {"proposing"}, "findings": {"配件缺货导致延误"},
		"cause_id": {"2"}, "cause_kind": {"other"}, "proposal_0_body": {"更换主板并减免一个月物业费"},
		"proposal_0_comp_form": {"减免物业费"}, "proposal_0_comp_amount": {"abc"}}), http.StatusUnprocessableEntity,
		[]string{`data-field="proposals.0.comp_amount"`}, nil)
	webRedirect(t, d.engRep.PostForm(t, page+"/transition", url.Values{"stage": {"proposing"}, "findings": {"配件缺货导致延误"},
		"cause_id": {"2"}, "cause_kind": {"other"}, "proposal_0_body": {"更换主板并减免一个月物业费"},
		"proposal_0_comp_form": {"减免物业费"}, "proposal_0_comp_amount": {"120.5"}}), page)
	webPageHas(t, d.engRep.PostForm(t, page+"/penalties", url.Values{"staff_id": {fmt.Sprint(d.engRepAPI.Staff.ID)},
		"role": {"direct"}, "kind": {"fine"}}), http.StatusUnprocessableEntity, []string{`id="err-fine_category"`}, nil)
	webRedirect(t, d.sup.PostForm(t, page+"/penalties", url.Values{"staff_id": {fmt.Sprint(d.engRepAPI.Staff.ID)},
		"role": {"direct"}, "kind": {"fine"}, "fine_category": {"B"}}), page)
	for _, c := range []struct {
		name    string
		browser *apptest.Client
		approve bool
	}{{"agent", d.agent, false}, {"responsible person", d.engRep, false}, {"intake supervisor", d.sup, false},
		{"director", d.director, true}} {
		r := c.browser.Do(t, "GET", page, nil)
		if has := strings.Contains(string(r.Body), `id="approve-form"`); r.Status != 200 || has != c.approve {
			t.Errorf("%s: status %d, approve form %v, want %v", c.name, r.Status, has, c.approve)
		}
	}
	dir := d.director.Do(t, "GET", page, nil)
	webPageHas(t, dir, 200, []string{"补偿：减免物业费 120.50 元", "罚款 B 类 300 元", `name="penalty_`}, nil)
	pid := regexp.MustCompile(`name="proposal_id" value="(\d+)"`).FindSubmatch(dir.Body)
	pen := regexp.MustCompile(`name="(penalty_\d+)"`).FindSubmatch(dir.Body)
	if pid == nil || pen == nil {
		t.Fatalf("no proposal or penalty to decide on the director's page")
	}
	webPageHas(t, d.director.PostForm(t, page+"/approve", url.Values{"proposal_id": {string(pid[1])}}),
		http.StatusUnprocessableEntity, []string{`id="err-instruction"`}, nil)
	webRedirect(t, d.director.PostForm(t, page+"/approve", url.Values{"proposal_id": {string(pid[1])},
		"instruction": {"同意，三日内落实"}, string(pen[1]): {"approve"}}), page)
	webPageHas(t, d.engRep.Do(t, "GET", page, nil), 200, []string{"同意，三日内落实", `data-status="approved"`,
		`id="move-executing"`}, []string{`id="approve-form"`})
}

// A complaint outside the viewer's scope reads as not found, and the board does not
// list it.
func TestPageOutOfScope(t *testing.T) {
	d := newWebDesk(t)
	cid := d.apiCreate(t, "general", "收费不透明", nil)
	page := d.agent.Do(t, "GET", fmt.Sprintf("/complaints/%d", cid), nil)
	number := string(webNumberRe.Find(page.Body))
	if number == "" {
		t.Fatalf("no number on the page:\n%s", page.Body)
	}
	webPageHas(t, d.other.Do(t, "GET", fmt.Sprintf("/complaints/%d", cid), nil), http.StatusNotFound, nil, []string{number})
	webPageHas(t, d.other.Do(t, "GET", "/complaints", nil), 200, []string{`id="board"`}, []string{number})
	webPageHas(t, d.other.PostForm(t, fmt.Sprintf("/complaints/%d/transition", cid), url.Values{"stage": {"assessing"}}),
		http.StatusNotFound, nil, nil)
	webPageHas(t, d.other.Do(t, "GET", "/complaints/999999", nil), http.StatusNotFound, nil, nil)
}

// The record page links the stylesheet whose print rules lay it out on A4, has a Print
// button (JavaScript prints, the link opens the print view), and the print view leaves
// the action forms out.
func TestPagePrint(t *testing.T) {
	d := newWebDesk(t)
	cid := d.apiCreate(t, "major", "燃气泄漏报修四小时无人上门", map[string]any{"location": "幸福里2栋"})
	page := d.agent.Do(t, "GET", fmt.Sprintf("/complaints/%d", cid), nil)
	webPageHas(t, page, 200, []string{fmt.Sprintf(`href="/complaints/%d?print=1" id="print-button" data-print`, cid),
		`<script src="/static/complaint.`, `class="cw-form"`, `id="actions"`}, nil)
	m := webCSSLink.FindSubmatch(page.Body)
	if m == nil {
		t.Fatal("the page links no stylesheet")
	}
	css := d.agent.Do(t, "GET", string(m[1]), nil)
	webPageHas(t, css, 200, []string{"@media print", "size: A4 portrait", ".cw-noprint", "table.cw-form"}, nil)
	webPageHas(t, d.agent.Do(t, "GET", fmt.Sprintf("/complaints/%d?print=1", cid), nil), 200,
		[]string{"cw-print-view", `id="record-form"`, "幸福里2栋"}, []string{`id="actions"`, `id="move-assessing"`})
}

// The board: a column per working stage with the complaints in scope, filters by level
// and department, ended stages counted with a link to their list.
func TestBoard(t *testing.T) {
	d := newWebDesk(t)
	general := d.apiCreate(t, "general", "客服电话长时间无人接听", nil)
	major := d.apiCreate(t, "major", "维修后再次漏水淹了楼下", nil)
	apiMove(t, d.agentAPI, major, map[string]any{"stage": "assessing"})
	num := func(id int64) string {
		r := d.sup.Do(t, "GET", fmt.Sprintf("/complaints/%d", id), nil)
		return string(webNumberRe.Find(r.Body))
	}
	ng, nm := num(general), num(major)

	b := d.sup.Do(t, "GET", "/complaints", nil)
	webPageHas(t, b, 200, []string{`id="col-received"`, `id="col-evaluating"`, fmt.Sprintf(`id="card-%d"`, general),
		fmt.Sprintf(`id="card-%d"`, major), `id="ended-closed"`, `id="ended-rejected"`, `id="complaint-new"`, ng, nm}, nil)
	body := string(b.Body)
	received := body[strings.Index(body, `id="col-received"`):strings.Index(body, `id="col-assessing"`)]
	if !strings.Contains(received, ng) || strings.Contains(received, nm) {
		t.Errorf("the received column does not hold exactly the general complaint")
	}
	webPageHas(t, d.sup.Do(t, "GET", "/complaints?level=major", nil), 200, []string{nm}, []string{ng})
	webPageHas(t, d.sup.Do(t, "GET", fmt.Sprintf("/complaints?dept_id=%d", d.engDept), nil), 200, nil, []string{ng, nm})
	webPageHas(t, d.sup.Do(t, "GET", "/complaints?level=bogus", nil), http.StatusUnprocessableEntity,
		[]string{`id="filter-error"`}, nil)
	webPageHas(t, d.sup.Do(t, "GET", "/complaints?stage=closed", nil), 200, []string{`id="stage-list"`, `class="empty"`}, nil)
	webPageHas(t, d.sup.Do(t, "GET", "/complaints?stage=assessing", nil), 200, []string{`id="stage-list"`, nm}, []string{ng})
}

// The customer page lists the customer's complaints with their stage; the portal request
// page learns the stage of the customer's own (named) complaint, never an anonymous one.
func TestWebHistoryAndPortalStage(t *testing.T) {
	d := newWebDesk(t)
	cr := d.supAPI.Do(t, "POST", "/api/v1/customers", map[string]any{"kind": "person", "name": "赵丽华", "mobile": "13811112222"})
	if cr.Status != http.StatusCreated {
		t.Fatalf("create customer: %d %s", cr.Status, cr.Body)
	}
	custID := int64(cr.JSON(t)["id"].(float64))
	r := d.supAPI.Do(t, "POST", "/api/v1/complaints", map[string]any{"channel": "phone", "severity": "general",
		"title": "热水器安装后漏水", "body": "安装第二天就漏水", "customer_id": custID})
	if r.Status != http.StatusCreated {
		t.Fatalf("create complaint: %d %s", r.Status, r.Body)
	}
	c := r.JSON(t)
	cid, tid := int64(c["id"].(float64)), int64(c["ticket_id"].(float64))
	anon := d.apiCreate(t, "general", "匿名反映收费问题", map[string]any{"anonymous": true})

	svc := d.srv.App.Complaint
	ctx := context.Background()
	sup, err := d.srv.App.Org.LoadActor(apptest.SystemCtx(), d.supAPI.Staff.ID)
	if err != nil {
		t.Fatal(err)
	}
	items, err := svc.CustomerHistory(authz.WithActor(ctx, sup), custID, 10)
	if err != nil || len(items) != 1 || items[0].URL != fmt.Sprintf("/complaints/%d", cid) ||
		items[0].State.Key != "complaint.stage.received" {
		t.Fatalf("history: %+v, %v", items, err)
	}
	other, err := d.srv.App.Org.LoadActor(apptest.SystemCtx(), d.srv.As(t, "agent@other").Staff.ID)
	if err == nil {
		if items, err := svc.CustomerHistory(authz.WithActor(ctx, other), custID, 10); err != nil || len(items) != 0 {
			t.Errorf("another department's agent sees %+v, %v", items, err)
		}
	}
	webPageHas(t, d.sup.Do(t, "GET", fmt.Sprintf("/customers/%d", custID), nil), 200,
		[]string{fmt.Sprintf(`href="/complaints/%d"`, cid), "受理"}, nil)
	cust := authz.WithActor(ctx, &authz.Actor{Kind: authz.KindCustomer, ID: custID, DisplayName: "赵丽华"})
	st, ok, err := svc.PortalStage(cust, tid)
	if err != nil || !ok || st.Key != "complaint.stage.received" {
		t.Fatalf("portal stage: %v %v %v", st, ok, err)
	}
	ac, err := svc.Get(apptest.SystemCtx(), anon)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := svc.PortalStage(cust, ac.TicketID); ok || err != nil {
		t.Errorf("an anonymous complaint's stage reaches a customer: %v %v", ok, err)
	}
}
