package customer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
)

func TestPlaceKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"广东省", "广东"},
		{"北京市", "北京"},
		{"朝阳区", "朝阳"},
		{"广西壮族自治区", "广西壮族"},
		{"香港特别行政区", "香港"},
		{"沙市", "沙市"}, // one character would stay: keep the name
		{"  Hubei   Province ", "hubei province"},
		{"", ""},
	} {
		if got := customer.PlaceKey(tc.in); got != tc.want {
			t.Errorf("PlaceKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMatcher(t *testing.T) {
	reg := func(id int64, p, c, d string, rules ...customer.TerritoryPlace) customer.Territory {
		return customer.Territory{ID: id, Kind: customer.TerritoryRegion, Province: p, City: c, District: d, Rules: rules, Active: true}
	}
	route := func(id, parent int64, p, c, d string) customer.Territory {
		t := reg(id, p, c, d)
		t.Kind, t.ParentID = customer.TerritoryRoute, parent
		return t
	}
	inactive := reg(7, "上海", "", "")
	inactive.Active = false
	ts := []customer.Territory{
		reg(6, "北京", "", "朝阳"), // listed before 5: the tie must still go to the lowest id
		reg(1, "广东", "", ""),
		reg(2, "广东", "深圳", ""),
		route(3, 1, "广东", "广州", "天河"),
		route(4, 1, "广东", "广州", ""),
		reg(5, "北京", "", "", customer.TerritoryPlace{Province: "北京", District: "朝阳"}),
		inactive,
		route(8, 9, "浙江", "", ""),
		reg(9, "浙江", "杭州", "西湖"),
		reg(10, "Hubei", "", ""),
	}
	m := customer.NewMatcher(ts)
	for _, tc := range []struct {
		name                     string
		province, city, district string
		want                     int64
	}{
		{"district route, full names", "广东省", "广州市", "天河区", 3},
		{"city route", "广东", "广州", "越秀区", 4},
		{"city region over province region", "广东省", "深圳市", "南山区", 2},
		{"province region", "广东", "佛山", "", 1},
		{"district without city: tie goes to lowest id", "北京市", "", "朝阳区", 5},
		{"city is a wildcard", "北京", "北京市", "朝阳", 5},
		{"province only", "北京", "", "海淀区", 5},
		{"route over a more specific region", "浙江省", "杭州市", "西湖区", 8},
		{"inactive territory matches nothing", "上海市", "", "浦东新区", 0},
		{"case folded", "hubei", "Wuhan", "", 10},
		{"no match", "湖南省", "长沙市", "", 0},
		{"no address", "", "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.Match(tc.province, tc.city, tc.district); got != tc.want {
				t.Errorf("Match(%q, %q, %q) = %d, want %d", tc.province, tc.city, tc.district, got, tc.want)
			}
		})
	}
	var nilMatcher *customer.Matcher
	if nilMatcher.Match("广东", "", "") != 0 {
		t.Error("a nil matcher matched")
	}
}

// terrJSON is the part of a territory response the tests read.
type terrJSON struct {
	ID          int64 `json:"id"`
	Responsible *struct {
		ID          int64  `json:"id"`
		DisplayName string `json:"display_name"`
	} `json:"responsible"`
	Reassign *customer.TerritoryReassign `json:"reassign"`
	Customer *int64                      `json:"customers"`
}

func decodeInto[T any](t testing.TB, r *apptest.Response, want int) T {
	t.Helper()
	var v T
	if r.Status != want {
		t.Fatalf("status %d, want %d\n%s", r.Status, want, r.Body)
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode: %v\n%s", err, r.Body)
	}
	return v
}

func newTerritory(t testing.TB, c *apptest.Client, body map[string]any) terrJSON {
	t.Helper()
	return decodeInto[terrJSON](t, c.Do(t, "POST", "/api/v1/territories", body), 201)
}

// territoryOf reads a customer's territory_id from the database (0 = none).
func territoryOf(t testing.TB, s *apptest.Server, id int64) int64 {
	t.Helper()
	var tid *int64
	if err := s.App.DB.QueryRow(context.Background(), `SELECT territory_id FROM customers WHERE id = ?`, id).Scan(&tid); err != nil {
		t.Fatal(err)
	}
	if tid == nil {
		return 0
	}
	return *tid
}

// TestTerritoryAssignment: customers are assigned by address on create and on address
// change, territories expose name and responsible person on the customer, editing a
// territory re-assigns, and a territory in use cannot be deleted.
func TestTerritoryAssignment(t *testing.T) {
	s := apptest.New(t)
	admin, agent := s.As(t, "admin"), s.As(t, "agent")
	sales := s.As(t, "sales")
	south := newTerritory(t, admin, map[string]any{"kind": "region", "name": "华南片区", "code": "south", "province": "广东",
		"responsible_id": sales.Staff.ID})
	if south.Responsible == nil || south.Responsible.DisplayName != sales.Staff.DisplayName || south.Reassign == nil || !south.Reassign.Done {
		t.Fatalf("created territory: %+v", south)
	}
	gz := newTerritory(t, admin, map[string]any{"kind": "route", "name": "广州线", "parent_id": south.ID, "province": "广东省",
		"city": "广州", "responsible_id": agent.Staff.ID, "match_rules": []map[string]any{{"province": "广东", "city": "佛山"}}})

	// Assignment on create, exposed on the customer.
	r := agent.Do(t, "POST", "/api/v1/customers", map[string]any{"kind": "person", "name": "天河客户", "province": "广东省",
		"city": "广州市", "district": "天河区"})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	want := fmt.Sprintf(`"territory":{"id":%d,"kind":"route","name":"广州线","parent_id":%d,"responsible":{"id":%d,"display_name":%q}}`,
		gz.ID, south.ID, agent.Staff.ID, agent.Staff.DisplayName)
	if !strings.Contains(string(r.Body), want) {
		t.Fatalf("create response lacks %s:\n%s", want, r.Body)
	}
	a := decodeInto[struct{ ID int64 }](t, r, 201).ID
	fs := create(t, agent, map[string]any{"kind": "person", "name": "佛山客户", "province": "广东", "city": "佛山市"})
	sz := create(t, agent, map[string]any{"kind": "person", "name": "深圳客户", "province": "广东", "city": "深圳"})
	none := create(t, agent, map[string]any{"kind": "person", "name": "无地址客户"})
	for id, want := range map[int64]int64{a: gz.ID, fs: gz.ID, sz: south.ID, none: 0} {
		if got := territoryOf(t, s, id); got != want {
			t.Errorf("customer %d: territory %d, want %d", id, got, want)
		}
	}
	if r := agent.Do(t, "GET", path(a), nil); !strings.Contains(string(r.Body), want) {
		t.Errorf("get lacks the territory:\n%s", r.Body)
	}
	if r := agent.Do(t, "GET", path(none), nil); !strings.Contains(string(r.Body), `"territory":null`) {
		t.Errorf("customer without territory:\n%s", r.Body)
	}
	page := s.Browser(t, "agent_cs", apptest.Password).Do(t, "GET", fmt.Sprintf("/customers/%d", a), nil)
	if !strings.Contains(string(page.Body), `id="v-territory">广州线`) || !strings.Contains(string(page.Body), agent.Staff.DisplayName) {
		t.Errorf("detail page lacks the territory")
	}

	// Address change moves the customer; other edits keep it.
	if r := agent.Do(t, "PATCH", path(sz), versioned(t, s, "customers", sz, map[string]any{"city": "广州"})); r.Status != 200 || !strings.Contains(string(r.Body), fmt.Sprintf(`"territory_id":%d`, gz.ID)) {
		t.Fatalf("address change: %d %s", r.Status, r.Body)
	}
	if r := agent.Do(t, "PATCH", path(sz), versioned(t, s, "customers", sz, map[string]any{"notes": "moved"})); r.Status != 200 || territoryOf(t, s, sz) != gz.ID {
		t.Fatalf("notes change: %d %s", r.Status, r.Body)
	}
	if r := agent.Do(t, "PATCH", path(sz), versioned(t, s, "customers", sz, map[string]any{"province": "湖南", "city": "长沙"})); r.Status != 200 || territoryOf(t, s, sz) != 0 {
		t.Fatalf("unmatched address: %d %s", r.Status, r.Body)
	}

	// A more specific territory re-assigns in the territory's transaction.
	th := newTerritory(t, admin, map[string]any{"kind": "route", "name": "天河线", "parent_id": south.ID, "province": "广东",
		"city": "广州", "district": "天河", "responsible_id": agent.Staff.ID})
	if th.Reassign == nil || !th.Reassign.Done || th.Reassign.Changed != 1 || th.Reassign.Scanned != 4 {
		t.Fatalf("inline reassign: %+v", th.Reassign)
	}
	if got := territoryOf(t, s, a); got != th.ID {
		t.Fatalf("after the new route: territory %d, want %d", got, th.ID)
	}
	// Editing the route's places moves its customers back.
	ed := decodeInto[terrJSON](t, admin.Do(t, "PATCH", fmt.Sprintf("/api/v1/territories/%d", th.ID), versioned(t, s, "territories", th.ID, map[string]any{"district": "越秀"})), 200)
	if ed.Reassign == nil || ed.Reassign.Changed != 1 || territoryOf(t, s, a) != gz.ID {
		t.Fatalf("after editing the route: %+v, customer in %d", ed.Reassign, territoryOf(t, s, a))
	}

	// Deleting: refused with customers or routes (409), allowed once empty.
	tpath := func(id int64, rest ...string) string {
		return fmt.Sprintf("/api/v1/territories/%d", id) + strings.Join(append([]string{""}, rest...), "/")
	}
	if r := admin.Do(t, "DELETE", tpath(gz.ID), nil); r.Status != 409 || !strings.Contains(string(r.Body), `"territory_in_use"`) {
		t.Fatalf("delete in use: %d %s", r.Status, r.Body)
	}
	if r := admin.Do(t, "DELETE", tpath(south.ID), nil); r.Status != 409 || !strings.Contains(string(r.Body), `"territory_has_routes"`) {
		t.Fatalf("delete region with routes: %d %s", r.Status, r.Body)
	}
	got := decodeInto[terrJSON](t, admin.Do(t, "GET", tpath(gz.ID), nil), 200)
	if got.Customer == nil || *got.Customer != 2 {
		t.Fatalf("customers of the route: %+v", got.Customer)
	}
	// Deactivating moves its customers to the region; then it can go.
	if r := admin.Do(t, "PATCH", tpath(gz.ID), versioned(t, s, "territories", gz.ID, map[string]any{"active": false})); r.Status != 200 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	if territoryOf(t, s, a) != south.ID || territoryOf(t, s, fs) != south.ID {
		t.Fatal("deactivated route kept its customers")
	}
	if r := admin.Do(t, "DELETE", tpath(gz.ID), nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if !s.AuditSince(t, 0, "territory.delete") || !s.AuditSince(t, 0, "territory.update") || !s.AuditSince(t, 0, "territory.create") {
		t.Error("territory changes not audited")
	}

	// Validation.
	bad := admin.Do(t, "POST", "/api/v1/territories", map[string]any{"kind": "route", "name": "", "province": "",
		"responsible_id": 999999, "code": "no spaces", "match_rules": []map[string]any{{"city": "x"}}})
	for _, f := range []string{`"name"`, `"province"`, `"parent_id"`, `"responsible_id"`, `"code"`, `"match_rules[0].province"`} {
		if bad.Status != 422 || !strings.Contains(string(bad.Body), f) {
			t.Errorf("invalid territory: %d, want 422 naming %s\n%s", bad.Status, f, bad.Body)
		}
	}
	if r := admin.Do(t, "POST", "/api/v1/territories", map[string]any{"kind": "route", "name": "x", "province": "广东",
		"parent_id": th.ID, "responsible_id": agent.Staff.ID}); r.Status != 422 || !strings.Contains(string(r.Body), `"parent_id"`) {
		t.Errorf("route under a route: %d %s", r.Status, r.Body)
	}
	if r := admin.Do(t, "POST", "/api/v1/territories", map[string]any{"kind": "region", "name": "dup", "province": "广东",
		"code": "south", "responsible_id": agent.Staff.ID}); r.Status != 422 || !strings.Contains(string(r.Body), `"code"`) {
		t.Errorf("duplicate code: %d %s", r.Status, r.Body)
	}
	if r := admin.Do(t, "PATCH", tpath(south.ID), versioned(t, s, "territories", south.ID, map[string]any{"kind": "route", "parent_id": south.ID})); r.Status != 422 {
		t.Errorf("region with routes became a route: %d %s", r.Status, r.Body)
	}
}

// cloneCustomers copies customer src n times straight in the database (fast fixtures).
func cloneCustomers(t testing.TB, s *apptest.Server, src int64, n int) {
	t.Helper()
	ctx := context.Background()
	rows, err := s.App.DB.Query(ctx, `SELECT * FROM customers WHERE id = ?`, src)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := rows.Columns()
	rows.Close()
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, c := range cols {
		if c != "id" {
			keep = append(keep, c)
		}
	}
	list := strings.Join(keep, ", ")
	err = s.App.DB.WithTx(ctx, func(ctx context.Context) error {
		for range n {
			if _, err := s.App.DB.Exec(ctx, `INSERT INTO customers (`+list+`) SELECT `+list+` FROM customers WHERE id = ?`, src); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTerritoryReassignBatches: with more customers than the inline limit, an edit
// reports reassign.done=false and the reassign action finishes in keyset batches.
func TestTerritoryReassignBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 2,100 customers")
	}
	s := apptest.New(t)
	admin, agent := s.As(t, "admin"), s.As(t, "agent")
	src := create(t, agent, map[string]any{"kind": "person", "name": "批量客户", "province": "四川", "city": "成都"})
	cloneCustomers(t, s, src, 2100)
	tr := newTerritory(t, admin, map[string]any{"kind": "region", "name": "西南", "province": "四川省", "responsible_id": agent.Staff.ID})
	if tr.Reassign == nil || tr.Reassign.Done {
		t.Fatalf("reassign with 2,101 customers should be left to the action: %+v", tr.Reassign)
	}
	// A customer written meanwhile is assigned by the cache at once.
	if got := territoryOf(t, s, create(t, agent, map[string]any{"kind": "person", "name": "新客户", "province": "四川", "city": "绵阳"})); got != tr.ID {
		t.Fatalf("new customer: territory %d, want %d", got, tr.ID)
	}
	p := fmt.Sprintf("/api/v1/territories/%d/reassign", tr.ID)
	if r := agent.Do(t, "POST", p, nil); r.Status != 403 {
		t.Fatalf("agent reassign: %d", r.Status)
	}
	before := s.AuditSeq(t)
	rep := decodeInto[customer.TerritoryReassign](t, admin.Do(t, "POST", p, nil), 200)
	if !rep.Done || rep.Scanned != 2102 || rep.Changed != 2101 {
		t.Fatalf("reassign: %+v", rep)
	}
	if !s.AuditSince(t, before, "territory.reassign") {
		t.Error("reassign not audited")
	}
	var n int
	if err := s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM customers WHERE territory_id = ?`, tr.ID).Scan(&n); err != nil || n != 2102 {
		t.Fatalf("assigned %d, %v", n, err)
	}
	if r := admin.Do(t, "POST", "/api/v1/territories/999999/reassign", nil); r.Status != 404 {
		t.Fatalf("reassign unknown: %d", r.Status)
	}
}

// TestTerritoryScenarios: every territory route per role.
func TestTerritoryScenarios(t *testing.T) {
	s := apptest.New(t)
	for _, r := range []string{"admin", "director", "supervisor", "agent", "qa", "sales", "agent@other"} {
		s.As(t, r)
	}
	resp := s.As(t, "supervisor").Staff.ID
	reg := newTerritory(t, s.As(t, "admin"), map[string]any{"kind": "region", "name": "Region A", "province": "Jiangsu", "responsible_id": resp})
	tp := func(rest ...string) string {
		return fmt.Sprintf("/api/v1/territories/%d", reg.ID) + strings.Join(append([]string{""}, rest...), "/")
	}
	body := func(name string) map[string]any {
		return map[string]any{"kind": "region", "name": name, "province": "Anhui", "responsible_id": resp}
	}
	var sc []apptest.Scenario
	for _, role := range []string{"", "supervisor", "agent", "qa", "sales", "agent@other"} {
		readStatus, writeStatus := 200, 403
		if role == "" {
			readStatus, writeStatus = 401, 401
		}
		sc = append(sc,
			apptest.Scenario{Name: role + " list", As: role, Method: "GET", Path: "/api/v1/territories", Status: readStatus},
			apptest.Scenario{Name: role + " get", As: role, Method: "GET", Path: tp(), Status: readStatus},
			apptest.Scenario{Name: role + " create", As: role, Method: "POST", Path: "/api/v1/territories", Body: body("x"), Status: writeStatus, NoAudit: true},
			apptest.Scenario{Name: role + " patch", As: role, Method: "PATCH", Path: tp(), Body: map[string]any{"name": "y"}, Status: writeStatus, NoAudit: true},
			apptest.Scenario{Name: role + " delete", As: role, Method: "DELETE", Path: tp(), Status: writeStatus, NoAudit: true},
			apptest.Scenario{Name: role + " reassign", As: role, Method: "POST", Path: tp("reassign"), Status: writeStatus, NoAudit: true},
		)
	}
	sc = append(sc,
		apptest.Scenario{Name: "agent reads", As: "agent", Method: "GET", Path: tp(), Has: []string{`"name":"Region A"`, `"customers":0`}, Status: 200},
		apptest.Scenario{Name: "list", As: "qa", Method: "GET", Path: "/api/v1/territories?limit=1", Has: []string{`"Region A"`, `"next_cursor":""`}, Status: 200},
		apptest.Scenario{Name: "unknown field", As: "admin", Method: "POST", Path: "/api/v1/territories", Body: map[string]any{"kind": "region", "colour": "red"}, Status: 400, NoAudit: true},
		apptest.Scenario{Name: "admin creates", As: "admin", Method: "POST", Path: "/api/v1/territories", Body: body("B"), Status: 201, Audit: "territory.create"},
		apptest.Scenario{Name: "director creates", As: "director", Method: "POST", Path: "/api/v1/territories", Body: body("C"), Status: 201, Audit: "territory.create",
			Has: []string{`"dept_id":`, `"reassign":{"done":true`}},
		apptest.Scenario{Name: "director patches", As: "director", Method: "PATCH", Path: tp(), Body: map[string]any{"name": "Region A2", "version": 1}, Status: 200, Audit: "territory.update",
			Has: []string{`"Region A2"`, `"version":2`}},
		apptest.Scenario{Name: "director patches stale", As: "director", Method: "PATCH", Path: tp(), Body: map[string]any{"name": "Region A3", "version": 1},
			Status: 409, Has: []string{`"code":"version_conflict"`}, NoAudit: true},
		apptest.Scenario{Name: "director patches without version", As: "director", Method: "PATCH", Path: tp(), Body: map[string]any{"name": "Region A3"},
			Status: 428, NoAudit: true},
		apptest.Scenario{Name: "admin reassigns", As: "admin", Method: "POST", Path: tp("reassign"), Status: 200, Audit: "territory.reassign", Has: []string{`"done":true`}},
		apptest.Scenario{Name: "unknown id", As: "admin", Method: "GET", Path: "/api/v1/territories/987654", Status: 404},
		apptest.Scenario{Name: "admin deletes", As: "director", Method: "DELETE", Path: tp(), Status: 204, Audit: "territory.delete"},
		apptest.Scenario{Name: "gone", As: "admin", Method: "DELETE", Path: tp(), Status: 404},
	)
	apptest.Run(t, s, sc)
}

// TestTerritoryPages: the tree, the forms with inline errors, delete refused in use.
func TestTerritoryPages(t *testing.T) {
	s := apptest.New(t)
	s.As(t, "admin")
	agent := s.As(t, "agent")
	adm := s.Browser(t, "admin_cs", apptest.Password)
	ag := s.Browser(t, "agent_cs", apptest.Password)

	if r := adm.Do(t, "GET", "/", nil); !strings.Contains(string(r.Body), `href="/territories"`) {
		t.Error("no navigation entry for territories")
	}
	if r := ag.Do(t, "GET", "/", nil); strings.Contains(string(r.Body), `href="/territories"`) {
		t.Error("agents see the territories entry")
	}
	if r := ag.Do(t, "GET", "/territories/new", nil); r.Status != 403 {
		t.Errorf("agent form: %d", r.Status)
	}
	if r := adm.Do(t, "GET", "/territories/new", nil); r.Status != 200 || !strings.Contains(string(r.Body), `id="territory-form"`) {
		t.Fatalf("form: %d", r.Status)
	}
	form := url.Values{"kind": {"region"}, "name": {""}, "province": {"浙江"}, "responsible_id": {"abc"}, "match_rules": {"a/b/c/d"}}
	r := adm.PostForm(t, "/territories", form)
	for _, id := range []string{`id="err-name"`, `id="err-responsible_id"`, `id="err-match_rules"`, `value="浙江"`} {
		if r.Status != 422 || !strings.Contains(string(r.Body), id) {
			t.Errorf("invalid form: %d lacks %s", r.Status, id)
		}
	}
	form.Set("name", "华东")
	form.Set("responsible_id", fmt.Sprint(agent.Staff.ID))
	form.Set("match_rules", "上海\n江苏 / 南京")
	form.Set("active", "1")
	if r := adm.PostForm(t, "/territories", form); r.Status != 303 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var id int64
	if err := s.App.DB.QueryRow(context.Background(), `SELECT id FROM territories WHERE name = ?`, "华东").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if r := adm.PostForm(t, "/territories", url.Values{"kind": {"route"}, "parent_id": {fmt.Sprint(id)}, "name": {"宁波线"},
		"province": {"浙江"}, "city": {"宁波"}, "responsible_id": {fmt.Sprint(agent.Staff.ID)}, "active": {"1"}}); r.Status != 303 {
		t.Fatalf("create route: %d %s", r.Status, r.Body)
	}
	c := create(t, agent, map[string]any{"kind": "person", "name": "南京客户", "province": "江苏省", "city": "南京市"})
	if territoryOf(t, s, c) != id {
		t.Fatal("customer not assigned by a match rule")
	}
	list := adm.Do(t, "GET", "/territories", nil)
	body := string(list.Body)
	if i, j := strings.Index(body, "华东"), strings.Index(body, "宁波线"); list.Status != 200 || i < 0 || j < i || !strings.Contains(body, "江苏 / 南京") {
		t.Fatalf("tree: %d\n%s", list.Status, body)
	}
	if r := ag.Do(t, "GET", "/territories", nil); r.Status != 200 || strings.Contains(string(r.Body), "/delete") {
		t.Errorf("agent tree: %d", r.Status)
	}
	edit := adm.Do(t, "GET", fmt.Sprintf("/territories/%d/edit", id), nil)
	if edit.Status != 200 || !strings.Contains(string(edit.Body), "江苏 / 南京") || !strings.Contains(string(edit.Body), `name="version" value="1"`) {
		t.Fatalf("edit form: %d", edit.Status)
	}
	if r := adm.PostForm(t, fmt.Sprintf("/territories/%d/delete", id), url.Values{}); r.Status != 409 || !strings.Contains(string(r.Body), `id="territory-error"`) {
		t.Errorf("delete in use: %d", r.Status)
	}
	if r := adm.PostForm(t, fmt.Sprintf("/territories/%d/reassign", id), url.Values{}); r.Status != 303 {
		t.Errorf("reassign: %d", r.Status)
	}
	upd := url.Values{"kind": {"region"}, "name": {"华东片区"}, "province": {"浙江"}, "match_rules": {""},
		"responsible_id": {fmt.Sprint(agent.Staff.ID)}, "active": {"1"}, "version": {"1"}}
	if r := adm.PostForm(t, fmt.Sprintf("/territories/%d", id), upd); r.Status != 303 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if territoryOf(t, s, c) != 0 {
		t.Error("customer kept a territory that no longer matches")
	}
	// The form posted again with the version it was read at: someone else's change
	// came first, so it is refused (409), not silently overwritten.
	if r := adm.PostForm(t, fmt.Sprintf("/territories/%d", id), upd); r.Status != 409 {
		t.Fatalf("stale form: %d", r.Status)
	}
}

// TestTerritoryCacheAcrossNodes: a second service over the same database (another node)
// notices a territory change through the version check within about a second.
func TestTerritoryCacheAcrossNodes(t *testing.T) {
	s := apptest.New(t)
	admin, agent := s.As(t, "admin"), s.As(t, "agent")
	nodeB, err := customer.New(customer.Deps{DB: s.App.DB, Audit: s.App.Audit, Keys: s.App.Keys, Clock: s.Clock, Staff: s.App.Org})
	if err != nil {
		t.Fatal(err)
	}
	ctx := actorCtx(t, s, agent)
	in := func(name string) customer.Input {
		return customer.Input{Kind: "person", Name: name, Province: "云南省", City: "昆明市"}
	}
	c1, err := nodeB.CreateCustomer(ctx, in("before"))
	if err != nil || c1.TerritoryID != 0 {
		t.Fatalf("before: %v %+v", err, c1.Territory)
	}
	tr := newTerritory(t, admin, map[string]any{"kind": "region", "name": "西南", "province": "云南", "responsible_id": agent.Staff.ID})
	if got := territoryOf(t, s, c1.ID); got != tr.ID {
		t.Fatalf("inline reassign on node A: %d", got)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := nodeB.CreateCustomer(ctx, in("after"))
		if err != nil {
			t.Fatal(err)
		}
		if c.TerritoryID == tr.ID {
			if c.Territory == nil || c.Territory.Name != "西南" || c.Territory.Responsible == nil || c.Territory.Responsible.ID != agent.Staff.ID {
				t.Fatalf("territory on node B: %+v", c.Territory)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node B never saw the new territory")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
