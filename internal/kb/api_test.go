package kb_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

func createVia(t *testing.T, c *apptest.Client, body map[string]any) int64 {
	t.Helper()
	r := c.Do(t, "POST", "/api/v1/kb/articles", body)
	if r.Status != 201 {
		t.Fatalf("create article: %d %s", r.Status, r.Body)
	}
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("/api/v1/kb/articles/%d", v.ID); r.Header.Get("Location") != want {
		t.Fatalf("Location %q, want %q", r.Header.Get("Location"), want)
	}
	return v.ID
}

func art(id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/kb/articles/%d", id)
	for _, s := range rest {
		p += "/" + s
	}
	return p
}

// TestAPIScenarios drives every KB API route through the real router per role: agents
// and QA read published articles only, supervisors and directors write, everyone
// else is refused.
func TestAPIScenarios(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	for _, r := range []string{"admin", "director", "supervisor", "agent", "qa", "archivist", "sales"} {
		s.As(t, r)
	}
	sup := s.As(t, "supervisor")
	catR := sup.Do(t, "POST", "/api/v1/kb/categories", map[string]any{"name": "售后"})
	if catR.Status != 201 {
		t.Fatalf("category: %d %s", catR.Status, catR.Body)
	}
	cat := int64(catR.JSON(t)["id"].(float64))
	pub := createVia(t, sup, map[string]any{"title": "如何申请退款", "body": "在订单页面申请退款。\n\n七天内处理。",
		"category_id": cat, "tags": []string{"退款"}, "status": "published"})
	draft := createVia(t, sup, map[string]any{"title": "漏水处理（草稿）", "body": "热水器漏水时先关阀门。"})
	other := createVia(t, sup, map[string]any{"title": "Invoice", "body": "Invoices are mailed."})
	catPath := fmt.Sprintf("/api/v1/kb/categories/%d", cat)

	scenarios := []apptest.Scenario{
		// Anonymous: nothing of the staff API.
		{Name: "anon list", Method: "GET", Path: "/api/v1/kb/articles", Status: 401},
		{Name: "anon get", Method: "GET", Path: art(pub), Status: 401},
		{Name: "anon create", Method: "POST", Path: "/api/v1/kb/articles", Body: map[string]any{"title": "x", "body": "y"}, Status: 401, NoAudit: true},
		{Name: "anon suggest", Method: "GET", Path: "/api/v1/kb/suggest?q=%E9%80%80%E6%AC%BE", Status: 401},
		{Name: "anon categories", Method: "GET", Path: "/api/v1/kb/categories", Status: 401},

		// Writers.
		{Name: "validation names fields", As: "supervisor", Method: "POST", Path: "/api/v1/kb/articles",
			Body: map[string]any{"title": "", "body": "", "category_id": 999}, Status: 422, NoAudit: true,
			Has: []string{`"validation_failed"`, `"title":`, `"body":`, `"category_id":`}},
		{Name: "validation in English", As: "supervisor", Method: "POST", Path: "/api/v1/kb/articles", Lang: "en",
			Body: map[string]any{"title": "t", "body": "b", "tags": []string{"a,b"}}, Status: 422, Has: []string{`"tags":"Each tag`}},
		{Name: "unknown JSON field", As: "supervisor", Method: "POST", Path: "/api/v1/kb/articles",
			Body: map[string]any{"title": "t", "body": "b", "bogus": 1}, Status: 400, NoAudit: true},
		{Name: "bad status", As: "supervisor", Method: "POST", Path: "/api/v1/kb/articles",
			Body: map[string]any{"title": "t", "body": "b", "status": "archived"}, Status: 422, Has: []string{`"status":`}},
		{Name: "director creates", As: "director", Method: "POST", Path: "/api/v1/kb/articles",
			Body: map[string]any{"title": "安装预约", "body": "拨打热线预约安装。"}, Status: 201, Audit: "kb.article.create",
			Has: []string{`"status":"draft"`, `"published_at":null`, `"version":1`}},
		{Name: "writer sees draft", As: "supervisor", Method: "GET", Path: art(draft), Status: 200, Has: []string{`"status":"draft"`}},
		{Name: "writer lists drafts", As: "supervisor", Method: "GET", Path: "/api/v1/kb/articles?status=draft", Status: 200,
			Has: []string{`漏水处理`}, Not: []string{`如何申请退款`}},
		{Name: "patch", As: "supervisor", Method: "PATCH", Path: art(other), Body: map[string]any{"body": "Invoices are e-mailed.", "version": 1},
			Status: 200, Audit: "kb.article.update", Has: []string{`"version":2`, `e-mailed`}},
		{Name: "patch stale", As: "supervisor", Method: "PATCH", Path: art(other), Body: map[string]any{"title": "x", "version": 1},
			Status: 409, NoAudit: true, Has: []string{`"code":"version_conflict"`, `"current_version":2`}},
		{Name: "patch without version", As: "supervisor", Method: "PATCH", Path: art(other), Body: map[string]any{"title": "x"},
			Status: 428, NoAudit: true, Has: []string{`"code":"version_required"`}},
		{Name: "patch invalid", As: "supervisor", Method: "PATCH", Path: art(other), Body: map[string]any{"title": " ", "version": 2},
			Status: 422, Has: []string{`"title":`}},
		{Name: "patch unknown", As: "supervisor", Method: "PATCH", Path: art(99999), Body: map[string]any{"title": "x", "version": 1}, Status: 404},
		{Name: "publish", As: "supervisor", Method: "POST", Path: art(other, "publish"), Status: 200, Audit: "kb.article.publish",
			Has: []string{`"status":"published"`}},
		{Name: "publish twice", As: "supervisor", Method: "POST", Path: art(other, "publish"), Status: 409, NoAudit: true},
		{Name: "unpublish", As: "director", Method: "POST", Path: art(other, "unpublish"), Status: 200, Audit: "kb.article.unpublish",
			Has: []string{`"status":"draft"`}},
		{Name: "delete archives", As: "supervisor", Method: "DELETE", Path: art(other), Status: 200, Audit: "kb.article.archive",
			Has: []string{`"status":"archived"`}},
		{Name: "archived hidden from readers", As: "agent", Method: "GET", Path: art(other), Status: 404},
		{Name: "archived kept for writers", As: "supervisor", Method: "GET", Path: art(other), Status: 200, Has: []string{`"status":"archived"`}},
		{Name: "bad limit", As: "supervisor", Method: "GET", Path: "/api/v1/kb/articles?limit=0", Status: 400},
		{Name: "bad category filter", As: "supervisor", Method: "GET", Path: "/api/v1/kb/articles?category_id=x", Status: 400},

		// Readers: agents and QA read published articles, cannot write (403).
		{Name: "agent lists published", As: "agent", Method: "GET", Path: "/api/v1/kb/articles", Status: 200, NoAudit: true,
			Has: []string{`如何申请退款`, `"next_cursor":""`}, Not: []string{`漏水处理`, `安装预约`}},
		{Name: "agent searches two characters", As: "agent", Method: "GET", Path: "/api/v1/kb/articles?q=" + url.QueryEscape("退款"),
			Status: 200, Has: []string{`如何申请退款`}},
		{Name: "agent search misses drafts", As: "agent", Method: "GET", Path: "/api/v1/kb/articles?q=" + url.QueryEscape("漏水"),
			Status: 200, Has: []string{`"items":[]`}},
		{Name: "agent filters by category", As: "agent", Method: "GET", Path: fmt.Sprintf("/api/v1/kb/articles?category_id=%d", cat),
			Status: 200, Has: []string{`如何申请退款`, `"category":"售后"`}},
		{Name: "agent asks for drafts", As: "agent", Method: "GET", Path: "/api/v1/kb/articles?status=draft", Status: 403},
		{Name: "agent reads published", As: "agent", Method: "GET", Path: art(pub), Status: 200, Has: []string{`"tags":["退款"]`}},
		{Name: "agent cannot read draft", As: "agent", Method: "GET", Path: art(draft), Status: 404, Not: []string{`漏水`}},
		{Name: "agent cannot create", As: "agent", Method: "POST", Path: "/api/v1/kb/articles",
			Body: map[string]any{"title": "x", "body": "y"}, Status: 403, NoAudit: true},
		{Name: "agent cannot patch", As: "agent", Method: "PATCH", Path: art(pub), Body: map[string]any{"title": "x"}, Status: 403},
		{Name: "agent cannot publish", As: "agent", Method: "POST", Path: art(draft, "publish"), Status: 403},
		{Name: "agent cannot unpublish", As: "agent", Method: "POST", Path: art(pub, "unpublish"), Status: 403},
		{Name: "agent cannot delete", As: "agent", Method: "DELETE", Path: art(pub), Status: 403},
		{Name: "agent suggest", As: "agent", Method: "GET", Path: "/api/v1/kb/suggest?q=" + url.QueryEscape("退款"), Status: 200,
			Has: []string{fmt.Sprintf(`"id":%d`, pub), `"title":"如何申请退款"`, `"snippet":"`}, Not: []string{`"body"`}},
		{Name: "suggest skips drafts", As: "agent", Method: "GET", Path: "/api/v1/kb/suggest?q=" + url.QueryEscape("漏水"), Status: 200,
			Has: []string{`"items":[]`}},
		{Name: "suggest bad limit", As: "agent", Method: "GET", Path: "/api/v1/kb/suggest?q=a&limit=99", Status: 400},
		{Name: "agent categories", As: "agent", Method: "GET", Path: "/api/v1/kb/categories", Status: 200, Has: []string{`"name":"售后"`}},
		{Name: "agent cannot add category", As: "agent", Method: "POST", Path: "/api/v1/kb/categories", Body: map[string]any{"name": "x"}, Status: 403},
		{Name: "qa reads", As: "qa", Method: "GET", Path: art(pub), Status: 200},
		{Name: "qa cannot write", As: "qa", Method: "PATCH", Path: art(pub), Body: map[string]any{"title": "x"}, Status: 403},
		{Name: "archivist has no kb", As: "archivist", Method: "GET", Path: "/api/v1/kb/articles", Status: 403},
		{Name: "sales has no kb", As: "sales", Method: "GET", Path: art(pub), Status: 403},
		{Name: "admin reads drafts", As: "admin", Method: "GET", Path: art(draft), Status: 200},

		// Categories.
		{Name: "category get", As: "qa", Method: "GET", Path: catPath, Status: 200, Has: []string{`"path":"售后"`}},
		{Name: "category child", As: "supervisor", Method: "POST", Path: "/api/v1/kb/categories",
			Body: map[string]any{"name": "退款", "parent_id": cat}, Status: 201, Audit: "kb.category.create", Has: []string{`"path":"售后 / 退款"`}},
		{Name: "category invalid", As: "supervisor", Method: "POST", Path: "/api/v1/kb/categories",
			Body: map[string]any{"name": "", "parent_id": 12345}, Status: 422, Has: []string{`"name":`, `"parent_id":`}},
		{Name: "category rename without version", As: "director", Method: "PATCH", Path: catPath, Body: map[string]any{"name": "售后服务"},
			Status: 428, NoAudit: true},
		{Name: "category rename", As: "director", Method: "PATCH", Path: catPath, Body: map[string]any{"name": "售后服务", "version": 1},
			Status: 200, Audit: "kb.category.update", Has: []string{`"version":2`}},
		{Name: "category rename stale", As: "director", Method: "PATCH", Path: catPath, Body: map[string]any{"name": "x", "version": 1},
			Status: 409, NoAudit: true, Has: []string{`"code":"version_conflict"`}},
		{Name: "category in use", As: "supervisor", Method: "DELETE", Path: catPath, Status: 409, NoAudit: true},
		{Name: "category unknown", As: "supervisor", Method: "DELETE", Path: "/api/v1/kb/categories/9999", Status: 404},
		{Name: "category delete forbidden", As: "agent", Method: "DELETE", Path: catPath, Status: 403},
	}
	apptest.Run(t, s, scenarios)
}

// TestPages drives the KB pages with browser sessions: a supervisor writes, publishes
// and edits; an agent reads and searches but gets no write controls; the body is
// escaped.
func TestPages(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.As(t, "supervisor")
	s.As(t, "agent")
	sup := s.Browser(t, "supervisor_cs", apptest.Password)
	agent := s.Browser(t, "agent_cs", apptest.Password)

	check := func(t *testing.T, r *apptest.Response, status int, has []string, not []string) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
		}
		for _, h := range has {
			if !strings.Contains(string(r.Body), h) {
				t.Errorf("page lacks %q", h)
			}
		}
		for _, n := range not {
			if strings.Contains(string(r.Body), n) {
				t.Errorf("page has %q", n)
			}
		}
	}
	if r := s.Anonymous().Do(t, "GET", "/kb", nil); r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous /kb: %d %s", r.Status, r.Header.Get("Location"))
	}
	check(t, sup.Do(t, "GET", "/", nil), 200, []string{`href="/kb"`}, nil)
	check(t, sup.Do(t, "GET", "/kb/new", nil), 200, []string{`id="kb-form"`, `name="title"`, `name="body"`}, nil)

	// A category through the page.
	r := sup.PostForm(t, "/kb/categories", url.Values{"name": {"维修"}, "sort_order": {"1"}})
	if r.Status != 303 {
		t.Fatalf("category form: %d %s", r.Status, r.Body)
	}
	check(t, sup.PostForm(t, "/kb/categories", url.Values{"name": {"维修"}}), 422, []string{`id="err-name"`}, nil)
	cats := sup.Do(t, "GET", "/api/v1/kb/categories", nil).JSON(t)["items"].([]any)
	catID := int64(cats[0].(map[string]any)["id"].(float64))

	// Inline errors, nothing stored.
	check(t, sup.PostForm(t, "/kb", url.Values{"title": {""}, "body": {"正文"}}), 422,
		[]string{`id="err-title"`, `>正文</textarea>`}, nil)

	body := "热水器漏水时：\n1. 关闭进水阀门\n2. 拨打维修热线\n\n<script>alert(1)</script>"
	r = sup.PostForm(t, "/kb", url.Values{"title": {"热水器漏水怎么办"}, "body": {body}, "tags": {"漏水，维修"},
		"category_id": {fmt.Sprint(catID)}})
	if r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/kb/") {
		t.Fatalf("create form: %d %s", r.Status, r.Body)
	}
	loc := r.Header.Get("Location")
	check(t, sup.Do(t, "GET", loc, nil), 200, []string{`热水器漏水怎么办`, `1. 关闭进水阀门<br>2. 拨打维修热线`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`, `id="kb-publish"`, `id="kb-edit"`, `>漏水</span>`, `>维修</span>`}, []string{`<script>alert(1)`})

	// Drafts are invisible to agents.
	check(t, agent.Do(t, "GET", loc, nil), 404, nil, []string{`热水器漏水怎么办`})
	check(t, agent.Do(t, "GET", "/kb?q="+url.QueryEscape("漏水"), nil), 200, []string{`id="kb-none"`}, []string{`热水器漏水怎么办`})

	// Publish through the button; the agent then finds it by a two-character query.
	if r := sup.PostForm(t, loc+"/publish", url.Values{}); r.Status != 303 {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	check(t, sup.Do(t, "GET", loc, nil), 200, []string{`id="kb-unpublish"`}, []string{`id="kb-publish"`})
	check(t, agent.Do(t, "GET", "/kb?q="+url.QueryEscape("漏水"), nil), 200, []string{`热水器漏水怎么办`}, []string{`id="kb-new"`, `name="status"`})
	check(t, agent.Do(t, "GET", loc, nil), 200, []string{`热水器漏水怎么办`}, []string{`id="kb-edit"`, `id="kb-publish"`, `id="kb-unpublish"`})
	check(t, agent.Do(t, "GET", loc+"/edit", nil), 403, nil, nil)
	check(t, agent.Do(t, "GET", "/kb/new", nil), 403, nil, nil)
	check(t, agent.PostForm(t, loc+"/unpublish", url.Values{}), 403, nil, nil)
	check(t, agent.Do(t, "GET", fmt.Sprintf("/kb?category_id=%d", catID), nil), 200, []string{`热水器漏水怎么办`}, nil)

	// Edit with the version; a stale version is refused with the form kept.
	check(t, sup.Do(t, "GET", loc+"/edit", nil), 200, []string{`name="version" value="2"`, `value="漏水, 维修"`}, nil)
	form := url.Values{"title": {"热水器漏水处理"}, "body": {"关闭阀门。"}, "tags": {"漏水"}, "version": {"2"}, "category_id": {""}}
	if r := sup.PostForm(t, loc, form); r.Status != 303 {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}
	check(t, sup.PostForm(t, loc, form), 409, []string{`id="form-message"`, `value="热水器漏水处理"`}, nil)
	check(t, sup.Do(t, "GET", loc, nil), 200, []string{`热水器漏水处理`, `关闭阀门。`}, []string{`拨打维修热线`})

	// Categories page: writers only; archive from the article page.
	check(t, sup.Do(t, "GET", "/kb/categories", nil), 200, []string{`id="kb-category-table"`, `维修`, `name="version" value="1"`}, nil)
	check(t, agent.Do(t, "GET", "/kb/categories", nil), 403, nil, nil)
	if r := sup.PostForm(t, loc+"/archive", url.Values{}); r.Status != 303 {
		t.Fatalf("archive: %d %s", r.Status, r.Body)
	}
	if r := sup.PostForm(t, fmt.Sprintf("/kb/categories/%d/update", catID), url.Values{"name": {"维修服务"}, "parent_id": {""}, "sort_order": {"2"}, "version": {"1"}}); r.Status != 303 {
		t.Fatalf("category update: %d %s", r.Status, r.Body)
	}
	// The same form again: it was read at version 1, the category is at 2 now.
	check(t, sup.PostForm(t, fmt.Sprintf("/kb/categories/%d/update", catID), url.Values{"name": {"维修"}, "parent_id": {""},
		"sort_order": {"2"}, "version": {"1"}}), 409, nil, nil)
	if r := sup.PostForm(t, fmt.Sprintf("/kb/categories/%d/delete", catID), url.Values{}); r.Status != 303 {
		t.Fatalf("category delete: %d %s", r.Status, r.Body)
	}
	check(t, agent.Do(t, "GET", loc, nil), 404, nil, nil)
}
