package ticket_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// pageHas checks a page's status and the fragments it must and must not contain.
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

// redirected checks a POST-redirect-GET answer and returns where it leads.
func redirected(t *testing.T, r *apptest.Response, prefix string) string {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("status %d to %q, want 303 to %s\n%s", r.Status, loc, prefix, r.Body)
	}
	return loc
}

var numberRe = regexp.MustCompile(`KF[0-9]{8}-[0-9]{4,}`)

// TestWorkspace drives the agent workspace with a real browser session: the create
// form for a phone request (inline errors in Chinese), the queues and their live
// fragment, the request page with the masked customer file, replies, internal notes,
// status buttons, canned replies, attachments, take and transfer, and the admin pages.
func TestWorkspace(t *testing.T) {
	s := apptest.New(t)
	supAPI := s.As(t, "supervisor")
	s.As(t, "director")
	s.As(t, "agent@other")
	sup := s.Browser(t, "supervisor_cs", apptest.Password)
	dir := s.Browser(t, "director_cs", apptest.Password)
	other := s.Browser(t, "agent_other", apptest.Password)

	// A customer of the supervisor's department, created through the API.
	const mobile = "13912348765"
	cr := supAPI.Do(t, "POST", "/api/v1/customers", map[string]any{"kind": "person", "name": "张伟明", "mobile": mobile})
	if cr.Status != http.StatusCreated {
		t.Fatalf("create customer: %d %s", cr.Status, cr.Body)
	}
	custID := fmt.Sprint(int64(cr.JSON(t)["id"].(float64)))

	// The create form finds the customer by the last four digits (masked).
	pageHas(t, sup.Do(t, "GET", "/tickets/new?cq=8765", nil), 200,
		[]string{`id="ticket-form"`, `id="customer-` + custID + `"`, "139****8765", `<option value="phone" selected>`},
		[]string{mobile})

	// A refused form re-renders with the field error inline, in Chinese, and keeps input.
	form := url.Values{"customer_id": {custID}, "type": {"repair"}, "channel": {"phone"}, "severity": {"moderate"},
		"fault_level": {"2"}, "title": {""}, "body": {"洗衣机漏水，楼下邻居投诉"}, "cq": {"8765"}}
	pageHas(t, sup.PostForm(t, "/tickets", form), http.StatusUnprocessableEntity,
		[]string{`id="err-title"`, "必填", "洗衣机漏水，楼下邻居投诉", `id="customer-` + custID + `" checked`}, nil)

	form.Set("title", "洗衣机漏水")
	loc := redirected(t, sup.PostForm(t, "/tickets", form), "/tickets/")
	id := strings.TrimPrefix(loc, "/tickets/")

	// The request page: number, status buttons, masked customer file (an audited read).
	before := s.AuditSeq(t)
	page := sup.Do(t, "GET", loc, nil)
	pageHas(t, page, 200, []string{`id="ticket-number"`, "洗衣机漏水", `id="customer-card"`, "张**", "139****8765",
		`button type="submit" name="to" value="in_progress"`, `action="/tickets/` + id + `/reply" id="reply"`,
		`textarea id="reply-body" name="body"`, `id="kb-suggestions"`},
		[]string{mobile, "张伟明"})
	if !s.AuditSince(t, before, "customer.read") {
		t.Error("the request page wrote no customer.read entry")
	}
	number := numberRe.FindString(string(page.Body))
	if number == "" {
		t.Fatalf("no request number on the page")
	}

	// Queues: every tab renders; the new request is unassigned and in "all", not "mine".
	for _, q := range []string{"mine", "team", "unassigned", "breaching", "waiting", "all"} {
		t.Run("queue "+q, func(t *testing.T) {
			r := sup.Do(t, "GET", "/tickets?queue="+q, nil)
			pageHas(t, r, 200, []string{`id="queue-rows"`, `id="queue-` + q + `" data-queue="` + q + `" class="active"`,
				`data-live="tickets"`}, nil)
			in := bytes.Contains(r.Body, []byte(number))
			if want := q == "all" || q == "unassigned"; in != want {
				t.Errorf("queue %s lists %s: %v, want %v", q, number, in, want)
			}
		})
	}
	pageHas(t, sup.Do(t, "GET", "/tickets?queue=all&type=repair&severity=moderate&channel=phone", nil), 200,
		[]string{number, "张**"}, []string{"张伟明"})
	pageHas(t, sup.Do(t, "GET", "/tickets?queue=all&type=inquiry", nil), 200, []string{`class="empty"`}, []string{number})
	frag := sup.Do(t, "GET", "/tickets?queue=all&fragment=queue", nil)
	pageHas(t, frag, 200, []string{number, `<tr id="row-` + id + `"`}, []string{"<html", "<tbody"})
	if !bytes.HasPrefix(frag.Body, []byte("<tr")) {
		t.Errorf("fragment does not start with a row: %.80s", frag.Body)
	}
	// Out of scope: another department's agent neither lists nor opens it.
	pageHas(t, other.Do(t, "GET", "/tickets?queue=all", nil), 200, nil, []string{number})
	pageHas(t, other.Do(t, "GET", loc, nil), 404, nil, []string{"洗衣机漏水"})

	// Reply, internal note and a refused empty reply.
	redirected(t, sup.PostForm(t, loc+"/reply", url.Values{"body": {"您好，师傅明天上午上门"}}), loc)
	redirected(t, sup.PostForm(t, loc+"/note", url.Values{"body": {"客户情绪激动，注意措辞"}}), loc)
	pageHas(t, sup.PostForm(t, loc+"/reply", url.Values{"body": {"  "}}), http.StatusUnprocessableEntity,
		[]string{`id="err-reply-body"`, "必填"}, nil)
	page = sup.Do(t, "GET", loc, nil)
	pageHas(t, page, 200, []string{"您好，师傅明天上午上门", "客户情绪激动，注意措辞", "仅内部可见"}, nil)
	if !regexp.MustCompile(`(?s)<li class="ev ev-note ev-internal"[^>]*data-internal="true">.{0,600}客户情绪激动`).Match(page.Body) {
		t.Error("the internal note is not marked internal on the timeline")
	}
	if regexp.MustCompile(`(?s)<li class="ev ev-reply ev-internal"`).Match(page.Body) {
		t.Error("a public reply is marked internal")
	}
	if !regexp.MustCompile(`(?s)<li class="ev ev-reply"[^>]*>.{0,600}师傅明天上午上门`).Match(page.Body) {
		t.Error("the reply is not a public timeline entry")
	}

	// Status buttons: a legal change, then an illegal one refused with 409 on the page.
	redirected(t, sup.PostForm(t, loc+"/transition", url.Values{"to": {"in_progress"}}), loc)
	pageHas(t, sup.Do(t, "GET", loc, nil), 200, []string{`data-status="in_progress"`, `value="resolved"`}, []string{`value="in_progress" id="to-in_progress"`})
	pageHas(t, sup.PostForm(t, loc+"/transition", url.Values{"to": {"closed"}}), http.StatusConflict,
		[]string{`id="transition-error"`}, nil)

	// Canned replies: manage, then pick one on the request page (placeholders filled).
	pageHas(t, sup.PostForm(t, "/canned-replies", url.Values{"title": {""}, "body": {"x"}}), http.StatusUnprocessableEntity,
		[]string{`id="err-title"`, "必填"}, nil)
	redirected(t, sup.PostForm(t, "/canned-replies", url.Values{"title": {"上门确认"},
		"body": {"{customer_name}您好，您的工单 {number} 已安排上门。"}}), "/canned-replies")
	list := sup.Do(t, "GET", "/canned-replies", nil)
	pageHas(t, list, 200, []string{"上门确认", "{customer_name}您好"}, nil)
	cid := regexp.MustCompile(`id="canned-(\d+)"`).FindSubmatch(list.Body)
	if cid == nil {
		t.Fatal("no canned reply row")
	}
	filled := "张伟明您好，您的工单 " + number + " 已安排上门。"
	pageHas(t, sup.Do(t, "GET", loc, nil), 200, []string{`id="canned-select"`, `data-body="` + filled + `"`}, nil)
	pageHas(t, sup.Do(t, "GET", loc+"?canned="+string(cid[1]), nil), 200, []string{">" + filled + "</textarea>"}, nil)
	pageHas(t, sup.Do(t, "GET", "/canned-replies/"+string(cid[1])+"/edit", nil), 200, []string{`value="上门确认"`, `name="version" value="1"`}, nil)
	redirected(t, sup.PostForm(t, "/canned-replies/"+string(cid[1]), url.Values{"title": {"上门确认（改）"}, "body": {"好的"}, "version": {"1"}}), "/canned-replies")
	// The same form again, read at version 1: refused, the page says why.
	pageHas(t, sup.PostForm(t, "/canned-replies/"+string(cid[1]), url.Values{"title": {"上门确认"}, "body": {"好的"}, "version": {"1"}}),
		http.StatusConflict, []string{`name="version" value="1"`}, nil)
	pageHas(t, sup.Do(t, "GET", "/canned-replies", nil), 200, []string{"上门确认（改）"}, nil)
	redirected(t, sup.PostForm(t, "/canned-replies/"+string(cid[1])+"/delete", url.Values{}), "/canned-replies")
	pageHas(t, sup.Do(t, "GET", "/canned-replies", nil), 200, nil, []string{"上门确认"})

	// Attachments: upload through the multipart form, list, download as a file.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("csrf_token", sup.CSRF())
	fw, _ := mw.CreateFormFile("file", "故障说明.txt")
	_, _ = fw.Write([]byte("滚筒不转，显示 E21\n"))
	_ = mw.Close()
	up := sup.DoWithHeaders(t, "POST", loc+"/attachments", mp.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()})
	redirected(t, up, loc)
	page = sup.Do(t, "GET", loc, nil)
	pageHas(t, page, 200, []string{"故障说明.txt"}, nil)
	href := regexp.MustCompile(`href="(/tickets/\d+/attachments/\d+)"`).FindSubmatch(page.Body)
	if href == nil {
		t.Fatal("no attachment link")
	}
	dl := sup.Do(t, "GET", string(href[1]), nil)
	if dl.Status != 200 || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") ||
		dl.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(string(dl.Body), "E21") {
		t.Errorf("download: %d %v %q", dl.Status, dl.Header, dl.Body)
	}

	// Take, then transfer to another department (which leaves the supervisor's scope).
	redirected(t, sup.PostForm(t, loc+"/take", url.Values{}), loc)
	pageHas(t, sup.Do(t, "GET", "/tickets?queue=mine", nil), 200, []string{number}, nil)
	pageHas(t, sup.Do(t, "GET", loc, nil), 200, []string{"Test supervisor_cs"}, []string{`id="take"`})
	pageHas(t, sup.PostForm(t, loc+"/take", url.Values{}), http.StatusConflict, []string{`id="assign-error"`}, nil)
	// Reassign to an agent of the department through the assign form.
	agent := s.As(t, "agent")
	agentPage := s.Browser(t, "agent_cs", apptest.Password)
	pageHas(t, sup.Do(t, "GET", loc, nil), 200, []string{`<option value="` + fmt.Sprint(agent.Staff.ID) + `"`}, nil)
	redirected(t, sup.PostForm(t, loc+"/assign", url.Values{"assignee_id": {fmt.Sprint(agent.Staff.ID)}}), loc)
	pageHas(t, agentPage.Do(t, "GET", "/tickets", nil), 200, []string{number}, nil)
	pageHas(t, agentPage.Do(t, "GET", loc, nil), 200, []string{`id="reply"`, "Test agent_cs", `id="customer-summary"`,
		"张**", "139****8765"}, []string{`id="assign"`, mobile, "张伟明"})
	// Read-only staff see the request without the forms.
	s.As(t, "qa")
	qa := s.Browser(t, "qa_cs", apptest.Password)
	pageHas(t, qa.Do(t, "GET", loc, nil), 200, []string{"洗衣机漏水", `id="timeline"`},
		[]string{`id="reply"`, `id="note"`, `id="transition"`, `id="upload"`})
	pageHas(t, qa.PostForm(t, loc+"/note", url.Values{"body": {"x"}}), http.StatusForbidden, nil, nil)
	// Search within the queue.
	pageHas(t, sup.Do(t, "GET", "/tickets?queue=all&q="+url.QueryEscape("漏水"), nil), 200, []string{number}, nil)
	pageHas(t, sup.Do(t, "GET", "/tickets?queue=all&q="+url.QueryEscape(number), nil), 200, []string{number}, nil)
	pageHas(t, sup.Do(t, "GET", "/tickets?queue=all&status=bogus", nil), http.StatusUnprocessableEntity, []string{`id="filter-error"`}, nil)
	pageHas(t, sup.PostForm(t, loc+"/transfer", url.Values{"dept_id": {fmt.Sprint(s.Dept(t, "other", "").ID)}}),
		http.StatusUnprocessableEntity, []string{`id="err-transfer-reason"`}, nil)
	redirected(t, sup.PostForm(t, loc+"/transfer", url.Values{"dept_id": {fmt.Sprint(s.Dept(t, "other", "").ID)},
		"reason": {"属于售后部门"}}), "/tickets")
	pageHas(t, dir.Do(t, "GET", loc, nil), 200, []string{"属于售后部门"}, nil)

	// Categories (ticket:manage): the director adds a tree; the supervisor may not.
	pageHas(t, dir.PostForm(t, "/ticket-categories", url.Values{"name": {""}, "active": {"1"}}), http.StatusUnprocessableEntity,
		[]string{`id="err-name"`}, nil)
	redirected(t, dir.PostForm(t, "/ticket-categories", url.Values{"name": {"家电"}, "active": {"1"}}), "/ticket-categories")
	cats := dir.Do(t, "GET", "/ticket-categories", nil)
	parent := regexp.MustCompile(`id="category-(\d+)"`).FindSubmatch(cats.Body)
	if parent == nil {
		t.Fatal("no category row")
	}
	redirected(t, dir.PostForm(t, "/ticket-categories", url.Values{"name": {"洗衣机"}, "parent_id": {string(parent[1])},
		"active": {"1"}, "skill": {"washer"}}), "/ticket-categories")
	pageHas(t, dir.Do(t, "GET", "/ticket-categories", nil), 200, []string{"家电", "— 洗衣机", "washer"}, nil)
	pageHas(t, dir.Do(t, "GET", "/ticket-categories/"+string(parent[1])+"/edit", nil), 200, []string{`value="家电"`, `name="version" value="1"`}, nil)
	edit := url.Values{"name": {"家用电器"}, "active": {"1"}, "version": {"1"}}
	redirected(t, dir.PostForm(t, "/ticket-categories/"+string(parent[1]), edit), "/ticket-categories")
	pageHas(t, dir.PostForm(t, "/ticket-categories/"+string(parent[1]), edit), http.StatusConflict, []string{`name="version" value="1"`}, nil)
	delete(edit, "version")
	pageHas(t, dir.PostForm(t, "/ticket-categories/"+string(parent[1]), edit), http.StatusPreconditionRequired, nil, nil)
	pageHas(t, dir.Do(t, "GET", "/tickets/new", nil), 200, []string{"— 洗衣机"}, nil)
	if r := sup.Do(t, "GET", "/ticket-categories", nil); r.Status != http.StatusForbidden {
		t.Errorf("supervisor on categories: %d", r.Status)
	}
}

// TestWorkspaceEnglish renders the queue and the create form in English.
func TestWorkspaceEnglish(t *testing.T) {
	s := apptest.New(t)
	s.As(t, "agent")
	c := s.Browser(t, "agent_cs", apptest.Password)
	c.Lang = "en"
	pageHas(t, c.Do(t, "GET", "/tickets", nil), 200, []string{"Workspace", "Unassigned", "Breaching soon"}, []string{"工作台"})
	pageHas(t, c.PostForm(t, "/tickets", url.Values{"type": {"inquiry"}, "channel": {"phone"}, "severity": {"general"}}),
		http.StatusUnprocessableEntity, []string{`id="err-title"`}, nil)
}

// TestWorkspaceNextPage pages through a queue by key with the "next page" link.
func TestWorkspaceNextPage(t *testing.T) {
	s := apptest.New(t)
	api := s.As(t, "supervisor")
	sup := s.Browser(t, "supervisor_cs", apptest.Password)
	const n = 53
	for i := range n {
		r := api.Do(t, "POST", "/api/v1/tickets", map[string]any{"type": "inquiry", "channel": "phone", "severity": "general",
			"title": fmt.Sprintf("第%02d号咨询", i)})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
	}
	seen := map[string]bool{}
	next := "/tickets?queue=unassigned&type=inquiry"
	pages := 0
	for next != "" {
		r := sup.Do(t, "GET", strings.ReplaceAll(next, "&amp;", "&"), nil)
		pageHas(t, r, 200, nil, nil)
		for _, m := range regexp.MustCompile(`第(\d\d)号咨询`).FindAllSubmatch(r.Body, -1) {
			if seen[string(m[1])] {
				t.Fatalf("request %s listed twice", m[1])
			}
			seen[string(m[1])] = true
		}
		next = ""
		if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindSubmatch(r.Body); m != nil {
			next = string(m[1])
			if !strings.Contains(next, "queue=unassigned") || !strings.Contains(next, "type=inquiry") {
				t.Fatalf("next link %q loses the filters", next)
			}
		}
		pages++
	}
	if len(seen) != n || pages != 2 {
		t.Errorf("saw %d requests on %d pages, want %d on 2", len(seen), pages, n)
	}
}

// sseReader reads Server-Sent Events from /tickets/stream with a bearer token.
type sseReader struct {
	events chan string
	cancel context.CancelFunc
}

func openStream(t *testing.T, s *apptest.Server, username string) *sseReader {
	t.Helper()
	st, err := s.App.Org.StaffByUsername(apptest.SystemCtx(), username)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := s.App.Auth.CreateToken(apptest.SystemCtx(), st.ID, "sse")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/tickets/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := &sseReader{events: make(chan string, 16), cancel: cancel}
	connected := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		topic := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == ": connected":
				close(connected)
			case strings.HasPrefix(line, "event: "):
				topic = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				rd.events <- topic + " " + strings.TrimPrefix(line, "data: ")
			}
		}
		close(rd.events)
	}()
	select {
	case <-connected:
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("stream: not connected")
	}
	t.Cleanup(cancel)
	return rd
}

// next waits for an event whose line contains want.
func (rd *sseReader) next(want string, timeout time.Duration) (string, bool) {
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-rd.events:
			if !ok {
				return "", false
			}
			if strings.Contains(ev, want) {
				return ev, true
			}
		case <-deadline:
			return "", false
		}
	}
}

// TestWorkspaceStream: a request created through the form reaches the live stream of
// staff whose scope covers it, and not that of another department.
func TestWorkspaceStream(t *testing.T) {
	s := apptest.New(t)
	s.As(t, "supervisor")
	s.As(t, "agent@other")
	sup := s.Browser(t, "supervisor_cs", apptest.Password)
	mine := openStream(t, s, "supervisor_cs")
	theirs := openStream(t, s, "agent_other")
	if r := s.Anonymous().Do(t, "GET", "/tickets/stream", nil); r.Status != http.StatusSeeOther {
		t.Errorf("anonymous stream: %d", r.Status)
	}

	loc := redirected(t, sup.PostForm(t, "/tickets", url.Values{"type": {"inquiry"}, "channel": {"phone"},
		"severity": {"general"}, "title": {"发票怎么开"}}), "/tickets/")
	id := strings.TrimPrefix(loc, "/tickets/")
	ev, ok := mine.next("ticket.created", 5*time.Second)
	if !ok {
		t.Fatal("no ticket.created on the stream")
	}
	if !strings.Contains(ev, `"id":`+id) || !numberRe.MatchString(ev) {
		t.Errorf("event %s is not about request %s", ev, id)
	}
	if ev, ok := theirs.next("ticket.", 300*time.Millisecond); ok {
		t.Errorf("another department's agent received %s", ev)
	}

	// Due times: plain, then amber within the warning window, then red once overdue.
	// (a bearer client: the fake clock jumps past the browser session's idle expiry)
	supAPI := s.As(t, "supervisor")
	row := regexp.MustCompile(`(?s)<tr id="row-` + id + `".*?</tr>`)
	dueOf := func() string {
		t.Helper()
		r := supAPI.Do(t, "GET", "/tickets?queue=all&fragment=queue", nil)
		m := row.Find(r.Body)
		if m == nil {
			t.Fatalf("no row for %s in\n%s", id, r.Body)
		}
		if d := regexp.MustCompile(`data-due="(\w+)"`).FindSubmatch(m); d != nil {
			return string(d[1])
		}
		return ""
	}
	tk, err := s.App.Ticket.Store().GetTicket(context.Background(), mustID(t, id))
	if err != nil || tk.ResolveDueAt.IsZero() {
		t.Fatalf("resolve due: %v %v", tk.ResolveDueAt, err)
	}
	if got := dueOf(); got != "" {
		t.Errorf("fresh request due state %q", got)
	}
	s.Clock.Advance(tk.ResolveDueAt.Sub(s.Clock.Now()) - time.Hour)
	if got := dueOf(); got != "warning" {
		t.Errorf("an hour before the due time: %q, want warning", got)
	}
	pageHas(t, supAPI.Do(t, "GET", "/tickets?queue=breaching", nil), 200, []string{`id="row-` + id + `"`}, nil)
	s.Clock.Advance(2 * time.Hour)
	if got := dueOf(); got != "breached" {
		t.Errorf("an hour after the due time: %q, want breached", got)
	}
	pageHas(t, supAPI.Do(t, "GET", loc, nil), 200, []string{`id="resolve-due" class="due-breached"`, `id="resolve-breached"`}, nil)
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWorkspacePresence: an agent switches their own availability on the queue page,
// and the agents list (what auto-assignment reads) shows it.
func TestWorkspacePresence(t *testing.T) {
	s := apptest.New(t)
	api := s.As(t, "agent")
	c := s.Browser(t, "agent_cs", apptest.Password)
	pageHas(t, c.Do(t, "GET", "/tickets", nil), 200,
		[]string{`id="presence"`, `<option value="offline" selected>`}, nil)
	redirected(t, c.PostForm(t, "/tickets/presence", url.Values{"availability": {"online"}}), "/tickets")
	pageHas(t, c.Do(t, "GET", "/tickets", nil), 200, []string{`<option value="online" selected>`}, nil)
	r := api.Do(t, "GET", "/api/v1/agents", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"availability":"online"`) {
		t.Fatalf("agents list after going online: %d %s", r.Status, r.Body)
	}
	pageHas(t, c.PostForm(t, "/tickets/presence", url.Values{"availability": {"asleep"}}), http.StatusUnprocessableEntity, nil, nil)
	if !s.AuditSince(t, 0, "agent.presence") {
		t.Error("no agent.presence audit entry")
	}
}
