package activity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kefu-cn/kefu/internal/activity"
	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// newCustomer posts a customer file as c and returns its id.
func newCustomer(t *testing.T, c *apptest.Client, name, mobile string) int64 {
	t.Helper()
	body := map[string]any{"kind": "person", "name": name}
	if mobile != "" {
		body["mobile"] = mobile
	}
	r := c.Do(t, "POST", "/api/v1/customers", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create customer: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON(t)["id"].(float64))
}

// newActivity posts an activity as c and returns its id.
func newActivity(t *testing.T, c *apptest.Client, title string) int64 {
	t.Helper()
	r := c.Do(t, "POST", "/api/v1/activities", map[string]any{"title": title, "type": "sports_culture",
		"start_on": "2026-10-12", "end_on": "2026-10-12"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create activity: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON(t)["id"].(float64))
}

func apath(id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/activities/%d", id)
	for _, s := range rest {
		p += "/" + s
	}
	return p
}

// TestActivityRoles drives every activity API route per role: department scope for
// supervisors, own scope for sales, no write for agents, nothing for qa, and records out
// of reach read as 404.
func TestActivityRoles(t *testing.T) {
	s := apptest.New(t)
	for _, r := range []string{"admin", "director", "supervisor", "supervisor@other", "agent", "sales", "qa"} {
		s.As(t, r)
	}
	sup := s.As(t, "supervisor")
	a := newActivity(t, sup, "Autumn badminton")
	other := newActivity(t, s.As(t, "supervisor@other"), "Other dept training")
	cust := newCustomer(t, sup, "Zhang San", "13811112222")
	foreign := newCustomer(t, s.As(t, "supervisor@other"), "Li Si", "13911113333")
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "supervisor lists own dept", As: "supervisor", Method: "GET", Path: "/api/v1/activities", Status: 200,
			Has: []string{"Autumn badminton"}, Not: []string{"Other dept training"}},
		{Name: "director lists all", As: "director", Method: "GET", Path: "/api/v1/activities?type=sports_culture", Status: 200,
			Has: []string{"Autumn badminton", "Other dept training"}},
		{Name: "bad filter", As: "director", Method: "GET", Path: "/api/v1/activities?status=nope", Status: 422, Has: []string{`"status"`}},
		{Name: "other dept reads as missing", As: "supervisor", Method: "GET", Path: apath(other), Status: 404},
		{Name: "other dept patch reads as missing", As: "supervisor", Method: "PATCH", Path: apath(other),
			Body: map[string]any{"title": "x", "version": 1}, Status: 404},
		{Name: "other dept end reads as missing", As: "supervisor", Method: "POST", Path: apath(other, "end"), Status: 404},
		{Name: "qa has no activities", As: "qa", Method: "GET", Path: "/api/v1/activities", Status: 403},
		{Name: "agent cannot create", As: "agent", Method: "POST", Path: "/api/v1/activities",
			Body: map[string]any{"title": "x", "type": "other", "start_on": "2026-10-01"}, Status: 403},
		{Name: "agent sees no one else's", As: "agent", Method: "GET", Path: apath(a), Status: 404},
		{Name: "sales sees only own", As: "sales", Method: "GET", Path: "/api/v1/activities", Status: 200, Not: []string{"Autumn badminton"}},
		{Name: "create invalid", As: "supervisor", Method: "POST", Path: "/api/v1/activities",
			Body: map[string]any{"title": " ", "type": "party", "start_on": "2026-13-01", "end_on": "2026-01-01"}, Status: 422,
			Has: []string{`"title"`, `"type"`, `"start_on"`}, NoAudit: true},
		{Name: "create end before start", As: "supervisor", Method: "POST", Path: "/api/v1/activities",
			Body: map[string]any{"title": "Late", "type": "training", "start_on": "2026-10-02", "end_on": "2026-10-01"}, Status: 422,
			Has: []string{`"end_on"`}},
		{Name: "create out of own dept", As: "supervisor", Method: "POST", Path: "/api/v1/activities",
			Body:   map[string]any{"title": "Elsewhere", "type": "training", "start_on": "2026-10-02", "organiser_id": s.As(t, "supervisor@other").Staff.ID},
			Status: 422, Has: []string{`"dept_id"`}},
		{Name: "unknown member", As: "supervisor", Method: "POST", Path: "/api/v1/activities",
			Body: map[string]any{"title": "x", "type": "other", "start_on": "2026-10-01", "budget": 3}, Status: 400},
		{Name: "read", As: "supervisor", Method: "GET", Path: apath(a), Status: 200,
			Has: []string{`"status":"planned"`, `"organiser_id":` + fmt.Sprint(sup.Staff.ID), `"participants":0`}},
		{Name: "patch needs version", As: "supervisor", Method: "PATCH", Path: apath(a), Body: map[string]any{"title": "x"}, Status: 428},
		{Name: "patch", As: "supervisor", Method: "PATCH", Path: apath(a), Body: map[string]any{"status": "ongoing", "version": 1},
			Status: 200, Audit: "activity.update", Has: []string{`"status":"ongoing"`, `"version":2`}},
		{Name: "patch stale", As: "supervisor", Method: "PATCH", Path: apath(a), Body: map[string]any{"title": "y", "version": 1},
			Status: 409, Has: []string{`"version_conflict"`}},
		{Name: "patch cannot end", As: "supervisor", Method: "PATCH", Path: apath(a), Body: map[string]any{"status": "ended", "version": 2},
			Status: 422, Has: []string{`"status"`}},
		{Name: "add participant", As: "supervisor", Method: "POST", Path: apath(a, "participants"), Body: map[string]any{"customer_id": cust},
			Status: 201, Audit: "activity.participant.add", Has: []string{`"name":"Zhang San"`, `"mobile":"138****2222"`}, Not: []string{"13811112222"}},
		{Name: "add twice", As: "supervisor", Method: "POST", Path: apath(a, "participants"), Body: map[string]any{"customer_id": cust},
			Status: 409, Has: []string{`"already_participant"`}},
		{Name: "add customer out of reach", As: "supervisor", Method: "POST", Path: apath(a, "participants"), Body: map[string]any{"customer_id": foreign},
			Status: 422, Has: []string{`"customer_id"`}},
		{Name: "add missing customer", As: "supervisor", Method: "POST", Path: apath(a, "participants"), Body: map[string]any{"customer_id": 999999},
			Status: 422},
		{Name: "agent cannot add", As: "agent", Method: "POST", Path: apath(a, "participants"), Body: map[string]any{"customer_id": cust}, Status: 403},
		{Name: "participants", As: "supervisor", Method: "GET", Path: apath(a, "participants"), Status: 200,
			Audit: "activity.participants.read", Has: []string{`"customer_id":` + fmt.Sprint(cust), `"source":"manual"`}},
		{Name: "other dept participants", As: "supervisor@other", Method: "GET", Path: apath(a, "participants"), Status: 404},
		{Name: "count", As: "supervisor", Method: "GET", Path: apath(a), Status: 200, Has: []string{`"participants":1`, `"version":3`}},
		{Name: "remove", As: "supervisor", Method: "DELETE", Path: apath(a, "participants", fmt.Sprint(cust)), Status: 204,
			Audit: "activity.participant.remove"},
		{Name: "remove again", As: "supervisor", Method: "DELETE", Path: apath(a, "participants", fmt.Sprint(cust)), Status: 404},
		{Name: "re-add", As: "supervisor", Method: "POST", Path: apath(a, "participants"), Body: map[string]any{"customer_id": cust}, Status: 201},
		{Name: "cancel other", As: "director", Method: "POST", Path: apath(other, "cancel"), Status: 200, Audit: "activity.cancel",
			Has: []string{`"status":"cancelled"`}},
		{Name: "end cancelled", As: "director", Method: "POST", Path: apath(other, "end"), Status: 409, Has: []string{`"illegal_transition"`}},
		{Name: "customer's activities", As: "supervisor", Method: "GET", Path: fmt.Sprintf("/api/v1/activities?customer_id=%d", cust),
			Status: 200, Has: []string{"Autumn badminton"}},
	})
}

// TestEndTellsListenersOnce: ending calls every listener once, in the ending
// transaction, with the distinct participants; a second end is 409 and calls nobody; a
// failing listener rolls the end back.
func TestEndTellsListenersOnce(t *testing.T) {
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	var mu sync.Mutex
	var got []activity.Ended
	var fail atomic.Bool
	s.App.Activity.OnEnded(func(ctx context.Context, e activity.Ended) error {
		mu.Lock()
		defer mu.Unlock()
		if fail.Load() {
			return fmt.Errorf("listener refuses")
		}
		got = append(got, e)
		return nil
	})
	a := newActivity(t, sup, "Product training")
	c1 := newCustomer(t, sup, "Wang Wu", "13711114444")
	c2 := newCustomer(t, sup, "Zhao Liu", "13611115555")
	for _, c := range []int64{c2, c1} {
		if r := sup.Do(t, "POST", apath(a, "participants"), map[string]any{"customer_id": c}); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Body)
		}
	}
	fail.Store(true)
	if r := sup.Do(t, "POST", apath(a, "end"), nil); r.Status != http.StatusInternalServerError {
		t.Fatalf("end with a failing listener: %d %s", r.Status, r.Body)
	}
	if r := sup.Do(t, "GET", apath(a), nil); !strings.Contains(string(r.Body), `"status":"planned"`) {
		t.Fatalf("a failed end must roll back: %s", r.Body)
	}
	fail.Store(false)
	r := sup.Do(t, "POST", apath(a, "end"), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"ended"`) {
		t.Fatalf("end: %d %s", r.Status, r.Body)
	}
	if r := sup.Do(t, "POST", apath(a, "end"), nil); r.Status != http.StatusConflict {
		t.Fatalf("second end: %d %s", r.Status, r.Body)
	}
	for _, req := range []struct{ method, path string }{{"PATCH", apath(a)}, {"POST", apath(a, "participants")}, {"POST", apath(a, "cancel")}} {
		var body any = map[string]any{"title": "x", "version": 3}
		if strings.HasSuffix(req.path, "participants") {
			body = map[string]any{"customer_id": c1}
		} else if strings.HasSuffix(req.path, "cancel") {
			body = nil
		}
		if r := sup.Do(t, req.method, req.path, body); r.Status != http.StatusConflict {
			t.Errorf("%s %s after the end: %d %s", req.method, req.path, r.Status, r.Body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("listener called %d times, want 1", len(got))
	}
	e := got[0]
	if e.ActivityID != a || e.Title != "Product training" || e.Type != "sports_culture" || e.OrganiserID != sup.Staff.ID ||
		e.DeptID != sup.Staff.DeptID || e.EndedAt.IsZero() {
		t.Errorf("ended = %+v", e)
	}
	if want := []int64{min(c1, c2), max(c1, c2)}; !slices.Equal(e.CustomerIDs, want) {
		t.Errorf("customer ids = %v, want %v", e.CustomerIDs, want)
	}
}

// upload posts a participant file (multipart) and returns the answer.
func upload(t *testing.T, c *apptest.Client, id int64, name, content, query string) *apptest.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	return c.DoWithHeaders(t, "POST", apath(id, "participants", "import")+query, buf.Bytes(),
		map[string]string{"Content-Type": mw.FormDataContentType()})
}

// TestImportParticipants: a file with bad rows adds nobody and names each bad row; a dry
// run adds nobody; a good file adds each customer once, found by number or mobile.
func TestImportParticipants(t *testing.T) {
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	a := newActivity(t, sup, "Spring promotion")
	c1 := newCustomer(t, sup, "Sun Qi", "13511116666")
	c2 := newCustomer(t, sup, "Zhou Ba", "13411117777")
	c3 := newCustomer(t, sup, "Wu Jiu", "")
	foreign := newCustomer(t, s.As(t, "supervisor@other"), "Zheng Shi", "13311118888")
	if r := sup.Do(t, "POST", apath(a, "participants"), map[string]any{"customer_id": c3}); r.Status != 201 {
		t.Fatalf("add: %d %s", r.Status, r.Body)
	}
	bad := fmt.Sprintf("客户编号,手机\n%d,\n,13411117777\nabc,\n,12345\n%d,\n\n999999,\n%d,13511116666\n", c1, foreign, c2)
	r := upload(t, sup, a, "people.csv", bad, "")
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad file: %d %s", r.Status, r.Body)
	}
	var res struct {
		Rows, Added, Failed int
		Errors              []struct {
			Row    int    `json:"row"`
			Column string `json:"column"`
		} `json:"errors"`
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &res); err != nil {
		t.Fatal(err)
	}
	var rows []int
	for _, e := range res.Errors {
		rows = append(rows, e.Row)
	}
	// Row 4 "abc", 5 bad mobile, 6 out of reach, 8 unknown, 9 mismatch (row 7 is blank
	// and skipped).
	if res.Rows != 7 || res.Added != 0 || res.Failed != 5 || res.Error.Code != "import_rows_invalid" ||
		!slices.Equal(rows, []int{4, 5, 6, 8, 9}) {
		t.Fatalf("bad file result = %+v\n%s", res, r.Body)
	}
	if r := sup.Do(t, "GET", apath(a), nil); !strings.Contains(string(r.Body), `"participants":1`) {
		t.Fatalf("a failed import must add nobody: %s", r.Body)
	}
	good := fmt.Sprintf("Customer number,Mobile\n%d,\n,13411117777\n%d,13511116666\n%d,\n", c1, c1, c3)
	r = upload(t, sup, a, "people.csv", good, "?dry_run=true")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"added":0`) || !strings.Contains(string(r.Body), `"dry_run":true`) {
		t.Fatalf("dry run: %d %s", r.Status, r.Body)
	}
	before := s.AuditSeq(t)
	r = upload(t, sup, a, "people.csv", good, "")
	if r.Status != 200 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	for _, want := range []string{`"rows":4`, `"added":2`, `"already":1`, `"duplicates":1`, `"failed":0`} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("import answer lacks %s: %s", want, r.Body)
		}
	}
	if !s.AuditSince(t, before, "activity.participants.import") {
		t.Error("import not audited")
	}
	if r := sup.Do(t, "GET", apath(a), nil); !strings.Contains(string(r.Body), `"participants":3`) {
		t.Fatalf("after import: %s", r.Body)
	}
	// The file itself: no key column, no file, an old .xls.
	if r := upload(t, sup, a, "people.csv", "Name\nx\n", ""); r.Status != 422 || !strings.Contains(string(r.Body), "missing_columns") {
		t.Errorf("no key column: %d %s", r.Status, r.Body)
	}
	if r := sup.Do(t, "POST", apath(a, "participants", "import"), nil); r.Status != 400 {
		t.Errorf("no file: %d %s", r.Status, r.Body)
	}
	if r := upload(t, sup, a, "people.xls", "x", ""); r.Status != 400 {
		t.Errorf(".xls: %d %s", r.Status, r.Body)
	}
	if r := upload(t, s.As(t, "supervisor@other"), a, "people.csv", good, ""); r.Status != 404 {
		t.Errorf("other dept import: %d %s", r.Status, r.Body)
	}
}

// TestActivityPages: the list, the form and the activity page render for a browser, and
// the forms create, add, end.
func TestActivityPages(t *testing.T) {
	s := apptest.New(t)
	st := s.Staff(t, "pages_sup", "supervisor", "cs")
	b := s.Browser(t, st.Username, apptest.Password)
	cust := newCustomer(t, s.As(t, "supervisor"), "Qian Yi", "13211119999")
	if r := b.Do(t, "GET", "/activities/new", nil); r.Status != 200 || !strings.Contains(string(r.Body), `id="activity-form"`) {
		t.Fatalf("new form: %d", r.Status)
	}
	r := b.PostForm(t, "/activities", url.Values{"title": {""}, "type": {"training"}, "start_on": {"2026-11-01"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-title"`) {
		t.Fatalf("invalid form: %d %s", r.Status, r.Body)
	}
	r = b.PostForm(t, "/activities", url.Values{"title": {"Winter training"}, "type": {"training"}, "start_on": {"2026-11-01"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	loc := r.Header.Get("Location")
	if r := b.PostForm(t, loc+"/participants", url.Values{"customer_id": {fmt.Sprint(cust)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.Status, r.Body)
	}
	// The import form: a multipart upload with the "check only" box shows the result.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("dry_run", "1")
	fw, _ := mw.CreateFormFile("file", "people.csv")
	_, _ = fw.Write([]byte("手机\n13211119999\n12345\n"))
	_ = mw.Close()
	r = b.DoWithHeaders(t, "POST", loc+"/participants/import", buf.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="import-errors"`) {
		t.Fatalf("import form: %d %s", r.Status, r.Body)
	}
	page := b.Do(t, "GET", loc, nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), "Qian Yi") || !strings.Contains(string(page.Body), `id="activity-end"`) {
		t.Fatalf("activity page: %d %s", page.Status, page.Body)
	}
	if r := b.PostForm(t, loc+"/end", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("end: %d %s", r.Status, r.Body)
	}
	if r := b.PostForm(t, loc+"/end", url.Values{}); r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusConflict {
		t.Fatalf("end twice: %d", r.Status)
	}
	list := b.Do(t, "GET", "/activities?status=ended", nil)
	if list.Status != 200 || !strings.Contains(string(list.Body), "Winter training") {
		t.Fatalf("list: %d", list.Status)
	}
	if r := b.Do(t, "GET", "/activities/999999", nil); r.Status != 404 {
		t.Fatalf("missing: %d", r.Status)
	}
}

// TestMergeKeepsParticipantsOnce: a customer merge re-points participant rows (the
// table is registered with the merge); a survivor that took part twice is listed,
// counted and told to the listeners once.
func TestMergeKeepsParticipantsOnce(t *testing.T) {
	s := apptest.New(t)
	if err := s.App.Customer.LinkTable("activity_participants", "customer_id"); err != nil {
		t.Fatal(err)
	}
	sup := s.As(t, "supervisor")
	a := newActivity(t, sup, "Merged guests")
	keep := newCustomer(t, sup, "Feng Yi", "13111110001")
	dup := newCustomer(t, sup, "Feng Yi (again)", "13111110002")
	for _, c := range []int64{keep, dup} {
		if r := sup.Do(t, "POST", apath(a, "participants"), map[string]any{"customer_id": c}); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Body)
		}
	}
	if _, err := s.App.Customer.Merge(apptest.SystemCtx(), keep, dup, "same person"); err != nil {
		t.Fatal(err)
	}
	var got []activity.Ended
	s.App.Activity.OnEnded(func(_ context.Context, e activity.Ended) error { got = append(got, e); return nil })
	r := sup.Do(t, "GET", apath(a, "participants"), nil)
	if n := strings.Count(string(r.Body), `"customer_id":`); n != 1 {
		t.Fatalf("participants after the merge: %d rows\n%s", n, r.Body)
	}
	r = sup.Do(t, "POST", apath(a, "end"), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"participants":1`) {
		t.Fatalf("end: %d %s", r.Status, r.Body)
	}
	if len(got) != 1 || !slices.Equal(got[0].CustomerIDs, []int64{keep}) {
		t.Fatalf("ended = %+v", got)
	}
}

// TestCustomerHistory: the activities a customer took part in, as the customer page
// lists them, within the reader's scope.
func TestCustomerHistory(t *testing.T) {
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	a := newActivity(t, sup, "History walk")
	c := newCustomer(t, sup, "Chu Er", "13111110003")
	if r := sup.Do(t, "POST", apath(a, "participants"), map[string]any{"customer_id": c}); r.Status != 201 {
		t.Fatalf("add: %d %s", r.Status, r.Body)
	}
	ctxOf := func(cl *apptest.Client) context.Context {
		act, err := s.App.Org.LoadActor(apptest.SystemCtx(), cl.Staff.ID)
		if err != nil {
			t.Fatal(err)
		}
		return authz.WithActor(context.Background(), act)
	}
	items, err := s.App.Activity.CustomerHistory(ctxOf(sup), c, 10)
	if err != nil || len(items) != 1 || items[0].Title != "History walk" || items[0].URL != fmt.Sprintf("/activities/%d", a) {
		t.Fatalf("history = %+v, %v", items, err)
	}
	if items, err := s.App.Activity.CustomerHistory(ctxOf(s.As(t, "supervisor@other")), c, 10); err != nil || len(items) != 0 {
		t.Fatalf("other department history = %+v, %v", items, err)
	}
	if items, err := s.App.Activity.CustomerHistory(ctxOf(s.As(t, "qa")), c, 10); err != nil || items != nil {
		t.Fatalf("qa history = %+v, %v", items, err)
	}
}
