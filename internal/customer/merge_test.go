package customer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// dump returns the rows of a query as maps (column -> value printed), for comparing
// whole rows before and after.
func dump(t testing.TB, s *apptest.Server, q string, args ...any) []map[string]string {
	t.Helper()
	rows, err := s.App.DB.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			m[c] = fmt.Sprint(vals[i])
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func exec(t testing.TB, s *apptest.Server, q string, args ...any) {
	t.Helper()
	if _, err := s.App.DB.Exec(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

func mustCreate(t testing.TB, ctx context.Context, s *apptest.Server, in customer.Input) int64 {
	t.Helper()
	in.Force = true
	c, err := s.App.Customer.CreateCustomer(ctx, in)
	if err != nil {
		t.Fatalf("create %s: %v", in.Name, err)
	}
	return c.ID
}

type pairOut struct {
	ID      int64         `json:"id"`
	Reasons []string      `json:"reasons"`
	Score   int           `json:"score"`
	Left    customer.View `json:"left"`
	Right   customer.View `json:"right"`
}

func listPairs(t testing.TB, c *apptest.Client, query string) ([]pairOut, string) {
	t.Helper()
	r := c.Do(t, "GET", "/api/v1/customers/duplicates"+query, nil)
	if r.Status != 200 {
		t.Fatalf("list duplicates: %d %s", r.Status, r.Body)
	}
	var p struct {
		Items      []pairOut `json:"items"`
		NextCursor string    `json:"next_cursor"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	return p.Items, p.NextCursor
}

// TestDuplicateScan: pairs on each identifier and on similar organisation names (not
// across districts, persons only with the same address), dismiss is remembered,
// masked listing with keyset pages.
func TestDuplicateScan(t *testing.T) {
	s := apptest.New(t)
	admin := s.As(t, "admin")
	ctx := actorCtx(t, s, admin)
	g := newIDs(11)
	mob, id, uscc := g.mobile(), g.resident(), g.uscc()
	zj := func(in customer.Input, district string) customer.Input {
		in.Province, in.City, in.District = "浙江省", "杭州市", district
		return in
	}
	ids := map[string]int64{}
	for _, c := range []struct {
		key string
		in  customer.Input
	}{
		{"mob1", customer.Input{Kind: "person", Name: "赵一", Mobile: mob}},
		{"mob2", customer.Input{Kind: "person", Name: "钱二", Mobile: mob}},
		{"tel1", customer.Input{Kind: "person", Name: "孙三", Phone: "010-62345678"}},
		{"tel2", customer.Input{Kind: "person", Name: "李四", Phone: "010-62345678-801"}},
		{"id1", customer.Input{Kind: "person", Name: "周五", IDNumber: id}},
		{"id2", customer.Input{Kind: "person", Name: "吴六", IDNumber: id}},
		{"cc1", customer.Input{Kind: "org", Name: "甲乙贸易有限公司", CreditCode: uscc}},
		{"cc2", customer.Input{Kind: "org", Name: "丙丁物流有限公司", CreditCode: uscc}},
		{"org1", zj(customer.Input{Kind: "org", Name: "杭州云栖科技有限公司"}, "西湖区")},
		{"org2", zj(customer.Input{Kind: "org", Name: "云栖科技股份有限公司"}, "西湖区")},
		{"org3", zj(customer.Input{Kind: "org", Name: "云栖科技有限公司"}, "滨江区")},
		{"sim1", zj(customer.Input{Kind: "org", Name: "云栖智能数据科技研究院"}, "西湖区")},
		{"sim2", zj(customer.Input{Kind: "org", Name: "云栖智能数据科技研究所"}, "西湖区")},
		{"other", zj(customer.Input{Kind: "org", Name: "钱塘江贸易有限公司"}, "西湖区")},
		{"zw1", zj(customer.Input{Kind: "person", Name: "张伟"}, "西湖区")},
		{"zw2", zj(customer.Input{Kind: "person", Name: "张伟"}, "西湖区")},
		{"wf1", zj(customer.Input{Kind: "person", Name: "王芳", Address: "文三路 100 号"}, "西湖区")},
		{"wf2", zj(customer.Input{Kind: "person", Name: "王 芳", Address: "文三路100号"}, "西湖区")},
	} {
		ids[c.key] = mustCreate(t, ctx, s, c.in)
	}
	// Forced creates recorded their pairs already; the scan must find them by itself.
	var forced int
	if err := s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM customer_dup_pairs`).Scan(&forced); err != nil || forced != 4 {
		t.Fatalf("forced pairs = %d (%v), want 4", forced, err)
	}
	exec(t, s, `DELETE FROM customer_dup_pairs`)

	res, err := s.App.Customer.ScanDuplicates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]string][]string{
		{"mob1", "mob2"}: {"mobile"},
		{"tel1", "tel2"}: {"phone"},
		{"id1", "id2"}:   {"id_number"},
		{"cc1", "cc2"}:   {"credit_code"},
		{"org1", "org2"}: {"name", "district"},
		{"sim1", "sim2"}: {"name_similar", "district"},
		{"wf1", "wf2"}:   {"name", "address"},
	}
	if res.Pairs != len(want) || res.New != len(want) || res.Customers != len(ids) {
		t.Fatalf("scan = %+v, want %d pairs among %d customers", res, len(want), len(ids))
	}
	got := map[[2]int64][]string{}
	for _, r := range dump(t, s, `SELECT a_id, b_id, reasons, score, status FROM customer_dup_pairs`) {
		var a, b int64
		fmt.Sscan(r["a_id"], &a)
		fmt.Sscan(r["b_id"], &b)
		var rs []string
		if err := json.Unmarshal([]byte(r["reasons"]), &rs); err != nil {
			t.Fatal(err)
		}
		got[[2]int64{a, b}] = rs
		if r["status"] != "open" {
			t.Errorf("status %s", r["status"])
		}
	}
	for k, reasons := range want {
		if g := got[[2]int64{ids[k[0]], ids[k[1]]}]; !slices.Equal(g, reasons) {
			t.Errorf("pair %v: reasons %v, want %v", k, g, reasons)
		}
	}

	// A second scan finds the same pairs and records nothing new.
	if res, err = s.App.Customer.ScanDuplicates(ctx); err != nil || res.New != 0 || res.Pairs != len(want) {
		t.Fatalf("rescan = %+v, %v", res, err)
	}

	// The API lists them masked, newest first, in keyset pages.
	arch := s.As(t, "archivist")
	page1, next := listPairs(t, arch, "?limit=4")
	page2, next2 := listPairs(t, arch, "?limit=4&cursor="+url.QueryEscape(next))
	if len(page1) != 4 || next == "" || len(page2) != 3 || next2 != "" || page2[0].ID >= page1[3].ID {
		t.Fatalf("pages: %d %q %d %q", len(page1), next, len(page2), next2)
	}
	var mobPair pairOut
	for _, p := range append(page1, page2...) {
		if p.Left.ID == ids["mob1"] && p.Right.ID == ids["mob2"] {
			mobPair = p
		}
	}
	if mobPair.ID == 0 || mobPair.Score != 100 || !mobPair.Left.Masked || !strings.Contains(mobPair.Left.Mobile, "****") {
		t.Fatalf("mobile pair: %+v", mobPair)
	}
	r := arch.Do(t, "GET", "/api/v1/customers/duplicates?limit=100", nil)
	if strings.Contains(string(r.Body), mob) || strings.Contains(string(r.Body), id) {
		t.Fatal("clear personal data in the duplicate list")
	}

	// Dismiss: gone from the list, remembered by later scans, a second dismiss is 409.
	before := s.AuditSeq(t)
	if r := arch.Do(t, "POST", fmt.Sprintf("/api/v1/customers/duplicates/%d/dismiss", mobPair.ID), nil); r.Status != 204 {
		t.Fatalf("dismiss: %d %s", r.Status, r.Body)
	}
	if !s.AuditSince(t, before, "customer.duplicate.dismiss") {
		t.Error("dismiss not audited")
	}
	if r := arch.Do(t, "POST", fmt.Sprintf("/api/v1/customers/duplicates/%d/dismiss", mobPair.ID), nil); r.Status != 409 {
		t.Fatalf("second dismiss: %d", r.Status)
	}
	if res, err = s.App.Customer.ScanDuplicates(ctx); err != nil || res.New != 0 {
		t.Fatalf("scan after dismiss = %+v, %v", res, err)
	}
	all, _ := listPairs(t, arch, "?limit=100")
	if len(all) != len(want)-1 || slices.ContainsFunc(all, func(p pairOut) bool { return p.ID == mobPair.ID }) {
		t.Fatalf("dismissed pair listed again: %d pairs", len(all))
	}
	var status string
	if err := s.App.DB.QueryRow(context.Background(), `SELECT status FROM customer_dup_pairs WHERE id = ?`, mobPair.ID).Scan(&status); err != nil || status != "dismissed" {
		t.Fatalf("status %q %v", status, err)
	}

	// The scan through the API answers with counts.
	if r := s.As(t, "director").Do(t, "POST", "/api/v1/customers/duplicates/scan", nil); r.Status != 200 ||
		!strings.Contains(string(r.Body), `"pairs":7`) {
		t.Fatalf("scan API: %d %s", r.Status, r.Body)
	}
}

// mergeFixture creates a survivor and a file to merge into it, with linked rows.
type mergeFixture struct {
	S, M       int64
	mergedMob  string
	mergedID   string
	survivorMb string
}

func newMergeFixture(t *testing.T, s *apptest.Server, ctx context.Context, seed uint64) mergeFixture {
	t.Helper()
	g := newIDs(seed)
	f := mergeFixture{survivorMb: g.mobile(), mergedID: g.resident(), mergedMob: g.mobile()}
	f.S = mustCreate(t, ctx, s, customer.Input{Kind: "person", Name: "韩梅梅", Mobile: f.survivorMb, Tags: []string{"old"},
		Contacts: []customer.ContactInput{{Name: "Contact S"}}})
	f.M = mustCreate(t, ctx, s, customer.Input{Kind: "person", Name: "李蕾蕾", Mobile: f.survivorMb, Phone: f.mergedMob,
		Email: "lilei@example.com", IDNumber: f.mergedID, Province: "北京市", City: "北京市", District: "海淀区",
		Address: "中关村大街 1 号", Tags: []string{"vip-care", "old"}, Notes: "moved from branch",
		Contacts: []customer.ContactInput{{Name: "Contact M1"}, {Name: "Contact M2", Mobile: g.mobile()}}})
	now := s.Clock.Now().UnixMilli()
	for i := range 2 {
		exec(t, s, `INSERT INTO customer_transactions (customer_id, occurred_on, kind, amount_fen, ref, note, created_by, created_at)
			VALUES (?, ?, 'order', ?, '', '', NULL, ?)`, f.M, fmt.Sprintf("2026-0%d-01", i+1), 1000*(i+1), now)
	}
	exec(t, s, `INSERT INTO customer_transactions (customer_id, occurred_on, kind, amount_fen, ref, note, created_by, created_at)
		VALUES (?, '2026-03-01', 'order', 500, '', '', NULL, ?)`, f.S, now)
	exec(t, s, `INSERT INTO customer_verifications (customer_id, verified_by, verified_at, outcome, changes, note)
		VALUES (?, NULL, ?, 'confirmed', '[]', '')`, f.M, now)
	return f
}

// state captures every row a merge touches.
func state(t testing.TB, s *apptest.Server, f mergeFixture) map[string][]map[string]string {
	t.Helper()
	out := map[string][]map[string]string{}
	for _, tbl := range []string{"customer_contacts", "customer_transactions", "customer_verifications"} {
		out[tbl] = dump(t, s, `SELECT * FROM `+tbl+` WHERE customer_id IN (?, ?) ORDER BY id`, f.S, f.M)
	}
	out["customers"] = dump(t, s, `SELECT * FROM customers WHERE id IN (?, ?) ORDER BY id`, f.S, f.M)
	out["pairs"] = dump(t, s, `SELECT * FROM customer_dup_pairs ORDER BY id`)
	return out
}

func count(t testing.TB, s *apptest.Server, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.App.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type mergeOut struct {
	Merge struct {
		ID       int64          `json:"id"`
		Filled   []string       `json:"filled"`
		Moved    map[string]int `json:"moved"`
		Undoable bool           `json:"undoable"`
	} `json:"merge"`
	Survivor customer.View `json:"survivor"`
}

func doMerge(t testing.TB, c *apptest.Client, into, from int64, reason string) mergeOut {
	t.Helper()
	r := c.Do(t, "POST", path(into, "merge"), map[string]any{"from": from, "reason": reason})
	if r.Status != 200 {
		t.Fatalf("merge: %d %s", r.Status, r.Body)
	}
	var out mergeOut
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func searchIDs(t testing.TB, c *apptest.Client, q string) []int64 {
	t.Helper()
	r := c.Do(t, "GET", "/api/v1/customers?status=all&q="+url.QueryEscape(q), nil)
	if r.Status != 200 {
		t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	var p struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, it := range p.Items {
		ids = append(ids, it.ID)
	}
	return ids
}

// TestMergeAndUndo: a merge keeps every linked record, fills the survivor's empty
// fields, leaves a tombstone that old links still reach, leaves the search index; the
// undo restores every row exactly, once, within 30 days.
func TestMergeAndUndo(t *testing.T) {
	s := apptest.New(t)
	dir := s.As(t, "director")
	ctx := actorCtx(t, s, dir)
	f := newMergeFixture(t, s, ctx, 21)
	before := state(t, s, f)
	if len(before["pairs"]) != 1 || !slices.Equal(searchIDs(t, dir, "李蕾"), []int64{f.M}) {
		t.Fatalf("fixture: pairs %v", before["pairs"])
	}

	seq := s.AuditSeq(t)
	out := doMerge(t, dir, f.S, f.M, "same person, two files")
	if !s.AuditSince(t, seq, "customer.merge") {
		t.Error("merge not audited")
	}
	wantFilled := []string{"phone", "email", "id_number", "address", "notes", "tags"}
	if !slices.Equal(out.Merge.Filled, wantFilled) || out.Merge.Moved["customer_contacts.customer_id"] != 2 ||
		out.Merge.Moved["customer_transactions.customer_id"] != 2 || out.Merge.Moved["customer_verifications.customer_id"] != 1 ||
		!out.Merge.Undoable {
		t.Fatalf("merge = %+v", out.Merge)
	}
	sv := out.Survivor
	if sv.Email != "lilei@example.com" || sv.IDNumber == "" || !strings.Contains(sv.IDNumber, "*") || sv.District != "海淀区" ||
		!slices.Equal(sv.Tags, []string{"old", "vip-care"}) || sv.Name != "韩梅梅" || sv.Notes != "moved from branch" {
		t.Fatalf("survivor = %+v", sv)
	}
	for tbl, n := range map[string]int{"customer_contacts": 3, "customer_transactions": 3, "customer_verifications": 1} {
		if got := count(t, s, `SELECT COUNT(*) FROM `+tbl+` WHERE customer_id = ?`, f.S); got != n {
			t.Errorf("%s of survivor = %d, want %d", tbl, got, n)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM `+tbl+` WHERE customer_id = ?`, f.M); got != 0 {
			t.Errorf("%s left on merged = %d", tbl, got)
		}
	}
	// The survivor's clear values are the merged file's, decrypted under their own context.
	rev := dir.Do(t, "POST", path(f.S, "reveal"), map[string]any{"fields": []string{"id_number", "phone", "address"}, "reason": "check merge"})
	if rev.Status != 200 || !strings.Contains(string(rev.Body), f.mergedID) || !strings.Contains(string(rev.Body), "中关村大街 1 号") {
		t.Fatalf("reveal survivor: %d %s", rev.Status, rev.Body)
	}
	// The tombstone answers with its survivor; the page redirects there.
	r := dir.Do(t, "GET", path(f.M), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"merged"`) ||
		!strings.Contains(string(r.Body), fmt.Sprintf(`"merged_into":%d`, f.S)) {
		t.Fatalf("GET merged: %d %s", r.Status, r.Body)
	}
	br := s.Browser(t, dir.Staff.Username, apptest.Password)
	if r := br.Do(t, "GET", fmt.Sprintf("/customers/%d", f.M), nil); r.Status != 303 || r.Header.Get("Location") != fmt.Sprintf("/customers/%d", f.S) {
		t.Fatalf("page of merged: %d %q", r.Status, r.Header.Get("Location"))
	}
	// Search no longer finds the merged file; the pair is closed; a merged file cannot
	// be merged again.
	if ids := searchIDs(t, dir, "李蕾"); len(ids) != 0 {
		t.Fatalf("search finds %v after merge", ids)
	}
	if st := dump(t, s, `SELECT status FROM customer_dup_pairs`); st[0]["status"] != "merged" {
		t.Fatalf("pair %v", st)
	}
	if r := dir.Do(t, "POST", path(f.S, "merge"), map[string]any{"from": f.M, "reason": "again"}); r.Status != 409 {
		t.Fatalf("merge a tombstone: %d", r.Status)
	}
	// The merges list shows it with an undo.
	if r := dir.Do(t, "GET", "/api/v1/customers/merges", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"undoable":true`) {
		t.Fatalf("merges list: %d %s", r.Status, r.Body)
	}

	// Undo restores every row exactly.
	seq = s.AuditSeq(t)
	undo := fmt.Sprintf("/api/v1/customers/merges/%d/undo", out.Merge.ID)
	if r := dir.Do(t, "POST", undo, nil); r.Status != 200 {
		t.Fatalf("undo: %d %s", r.Status, r.Body)
	}
	if !s.AuditSince(t, seq, "customer.merge.undo") {
		t.Error("undo not audited")
	}
	if after := state(t, s, f); !reflect.DeepEqual(before, after) {
		for k := range before {
			if !reflect.DeepEqual(before[k], after[k]) {
				t.Errorf("%s differs after undo:\nbefore %v\nafter  %v", k, before[k], after[k])
			}
		}
	}
	if !slices.Equal(searchIDs(t, dir, "李蕾"), []int64{f.M}) {
		t.Error("search does not find the restored file")
	}
	if r := dir.Do(t, "POST", undo, nil); r.Status != 409 || !strings.Contains(string(r.Body), "merge_undone") {
		t.Fatalf("double undo: %d %s", r.Status, r.Body)
	}

	// Records created on the survivor after the merge stay with it; a change of an
	// unrelated field does not block the undo; a change of a filled one does.
	out = doMerge(t, dir, f.S, f.M, "second try")
	if r := dir.Do(t, "POST", path(f.S, "contacts"), map[string]any{"name": "New after merge"}); r.Status != 201 {
		t.Fatalf("add contact: %d %s", r.Status, r.Body)
	}
	if r := dir.Do(t, "PATCH", path(f.S), versioned(t, s, "customers", f.S, map[string]any{"industry": "retail"})); r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	if r := dir.Do(t, "POST", fmt.Sprintf("/api/v1/customers/merges/%d/undo", out.Merge.ID), nil); r.Status != 200 {
		t.Fatalf("undo after edits: %d %s", r.Status, r.Body)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM customer_contacts WHERE customer_id = ?`, f.S); n != 2 {
		t.Fatalf("survivor contacts after undo = %d, want 2 (own + new)", n)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM customer_contacts WHERE customer_id = ?`, f.M); n != 2 {
		t.Fatalf("merged contacts after undo = %d", n)
	}
	got := dump(t, s, `SELECT industry, email, id_number_enc FROM customers WHERE id = ?`, f.S)[0]
	if got["industry"] != "retail" || got["email"] != "" || got["id_number_enc"] != "" {
		t.Fatalf("survivor after undo: %v", got)
	}
	out = doMerge(t, dir, f.S, f.M, "third try")
	if r := dir.Do(t, "PATCH", path(f.S), versioned(t, s, "customers", f.S, map[string]any{"email": "changed@example.com"})); r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	if r := dir.Do(t, "POST", fmt.Sprintf("/api/v1/customers/merges/%d/undo", out.Merge.ID), nil); r.Status != 409 ||
		!strings.Contains(string(r.Body), "merge_conflict") || !strings.Contains(string(r.Body), "email") {
		t.Fatalf("conflicting undo: %d %s", r.Status, r.Body)
	}
}

// TestMergeUndoWindow: after 30 days the undo is refused and the purge empties the
// snapshot; the tombstone stays.
func TestMergeUndoWindow(t *testing.T) {
	s := apptest.New(t)
	dir := s.As(t, "director")
	ctx := actorCtx(t, s, dir)
	f := newMergeFixture(t, s, ctx, 31)
	out := doMerge(t, dir, f.S, f.M, "duplicate")
	if n, err := s.App.Customer.PurgeMerges(apptest.SystemCtx()); err != nil || n != 0 {
		t.Fatalf("early purge = %d, %v", n, err)
	}
	s.Clock.Advance(30*24*time.Hour + time.Second)
	undo := fmt.Sprintf("/api/v1/customers/merges/%d/undo", out.Merge.ID)
	if r := dir.Do(t, "POST", undo, nil); r.Status != 409 || !strings.Contains(string(r.Body), "merge_expired") {
		t.Fatalf("undo after 30 days: %d %s", r.Status, r.Body)
	}
	seq := s.AuditSeq(t)
	if n, err := s.App.Customer.PurgeMerges(apptest.SystemCtx()); err != nil || n != 1 {
		t.Fatalf("purge = %d, %v", n, err)
	}
	if !s.AuditSince(t, seq, "customer.merge.purge") {
		t.Error("purge not audited")
	}
	m := dump(t, s, `SELECT snapshot, purged_at FROM customer_merges WHERE id = ?`, out.Merge.ID)[0]
	if m["snapshot"] != "{}" || m["purged_at"] == "0" {
		t.Fatalf("after purge: %v", m)
	}
	if c := dump(t, s, `SELECT status, merged_into FROM customers WHERE id = ?`, f.M)[0]; c["status"] != "merged" || c["merged_into"] != fmt.Sprint(f.S) {
		t.Fatalf("tombstone: %v", c)
	}
	if r := dir.Do(t, "POST", undo, nil); r.Status != 409 {
		t.Fatalf("undo after purge: %d", r.Status)
	}
}

// TestMergeScope: a merge and an undo reach only files within the actor's
// customer:merge scope (out of scope reads as not found); validation errors.
func TestMergeScope(t *testing.T) {
	s := apptest.New(t)
	dir := s.As(t, "director")
	ctx := actorCtx(t, s, dir)
	f := newMergeFixture(t, s, ctx, 41)
	other := s.Dept(t, "other", "Other")
	limited := &authz.Actor{ID: dir.Staff.ID, Kind: authz.KindStaff, DeptID: other.ID}
	limited.Grant(customer.PermMerge, authz.ScopeDept)
	lctx := authz.WithActor(context.Background(), limited)
	if _, err := s.App.Customer.Merge(lctx, f.S, f.M, "x"); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("out-of-scope merge: %v", err)
	}
	if _, err := s.App.Customer.ListDuplicates(lctx, 10, ""); err != nil {
		t.Fatal(err)
	} else if p, _ := s.App.Customer.ListDuplicates(lctx, 10, ""); len(p.Items) != 0 {
		t.Fatalf("out-of-scope pairs listed: %d", len(p.Items))
	}
	mi, err := s.App.Customer.Merge(ctx, f.S, f.M, "in scope")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Customer.UndoMerge(lctx, mi.ID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("out-of-scope undo: %v", err)
	}
	if p, err := s.App.Customer.ListMerges(lctx, 10, ""); err != nil || len(p.Items) != 0 {
		t.Fatalf("out-of-scope merges listed: %v %v", p.Items, err)
	}
	for _, tc := range []struct {
		name     string
		into     int64
		body     any
		status   int
		fragment string
	}{
		{"no reason", f.S, map[string]any{"from": f.M}, 422, `"reason"`},
		{"no from", f.S, map[string]any{"reason": "x"}, 422, `"from"`},
		{"itself", f.S, map[string]any{"from": f.S, "reason": "x"}, 422, `"from"`},
		{"unknown field", f.S, map[string]any{"from": f.M, "reason": "x", "keep": "left"}, 400, "keep"},
		{"unknown survivor", 99999999, map[string]any{"from": f.M, "reason": "x"}, 404, "not_found"},
		{"unknown from", f.S, map[string]any{"from": 99999999, "reason": "x"}, 404, "not_found"},
	} {
		r := dir.Do(t, "POST", path(tc.into, "merge"), tc.body)
		if r.Status != tc.status || !strings.Contains(string(r.Body), tc.fragment) {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
}

// TestMergePermissions: every duplicate and merge route per role.
func TestMergePermissions(t *testing.T) {
	s := apptest.New(t)
	adm := s.As(t, "admin")
	ctx := actorCtx(t, s, adm)
	f1 := newMergeFixture(t, s, ctx, 51)
	f2 := newMergeFixture(t, s, ctx, 52)
	pairID := int64(count(t, s, `SELECT MIN(id) FROM customer_dup_pairs`))
	mi, err := s.App.Customer.Merge(ctx, f2.S, f2.M, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	undo := fmt.Sprintf("/api/v1/customers/merges/%d/undo", mi.ID)
	dismiss := fmt.Sprintf("/api/v1/customers/duplicates/%d/dismiss", pairID)
	merge := map[string]any{"from": f1.M, "reason": "duplicate"}
	var sc []apptest.Scenario
	for _, role := range []string{"", "supervisor", "agent"} {
		st := 403
		if role == "" {
			st = 401
		}
		sc = append(sc,
			apptest.Scenario{Name: role + " list", As: role, Method: "GET", Path: "/api/v1/customers/duplicates", Status: st, NoAudit: true},
			apptest.Scenario{Name: role + " scan", As: role, Method: "POST", Path: "/api/v1/customers/duplicates/scan", Status: st, NoAudit: true},
			apptest.Scenario{Name: role + " dismiss", As: role, Method: "POST", Path: dismiss, Status: st, NoAudit: true},
			apptest.Scenario{Name: role + " merge", As: role, Method: "POST", Path: path(f1.S, "merge"), Body: merge, Status: st, NoAudit: true},
			apptest.Scenario{Name: role + " merges", As: role, Method: "GET", Path: "/api/v1/customers/merges", Status: st, NoAudit: true},
			apptest.Scenario{Name: role + " undo", As: role, Method: "POST", Path: undo, Status: st, NoAudit: true},
		)
	}
	for _, role := range []string{"admin", "director", "archivist"} {
		sc = append(sc,
			apptest.Scenario{Name: role + " list", As: role, Method: "GET", Path: "/api/v1/customers/duplicates", Status: 200,
				Audit: "customer.duplicate.list", Has: []string{`"items":[`}},
			apptest.Scenario{Name: role + " scan", As: role, Method: "POST", Path: "/api/v1/customers/duplicates/scan", Status: 200,
				Audit: "customer.duplicate.scan", Has: []string{`"pairs":`}},
			apptest.Scenario{Name: role + " merges", As: role, Method: "GET", Path: "/api/v1/customers/merges", Status: 200,
				Has: []string{fmt.Sprintf(`"id":%d`, mi.ID)}},
			apptest.Scenario{Name: role + " unknown pair", As: role, Method: "POST", Path: "/api/v1/customers/duplicates/99999999/dismiss", Status: 404},
			apptest.Scenario{Name: role + " unknown merge", As: role, Method: "POST", Path: "/api/v1/customers/merges/99999999/undo", Status: 404},
		)
	}
	sc = append(sc,
		apptest.Scenario{Name: "archivist dismisses", As: "archivist", Method: "POST", Path: dismiss, Status: 204, Audit: "customer.duplicate.dismiss"},
		apptest.Scenario{Name: "archivist merges", As: "archivist", Method: "POST", Path: path(f1.S, "merge"), Body: merge, Status: 200,
			Audit: "customer.merge", Has: []string{`"status":"active"`}, Not: []string{f1.mergedID, f1.mergedMob}},
		apptest.Scenario{Name: "director undoes", As: "director", Method: "POST", Path: undo, Status: 200, Audit: "customer.merge.undo"},
		apptest.Scenario{Name: "admin undo again", As: "admin", Method: "POST", Path: undo, Status: 409, NoAudit: true},
	)
	apptest.Run(t, s, sc)
}

// TestDuplicatePages: the review page lists pairs side by side (masked), dismisses and
// merges; the merges page undoes.
func TestDuplicatePages(t *testing.T) {
	s := apptest.New(t)
	dir := s.As(t, "director")
	ctx := actorCtx(t, s, dir)
	f1 := newMergeFixture(t, s, ctx, 61)
	f2 := newMergeFixture(t, s, ctx, 62)
	var p1, p2 int64
	if err := s.App.DB.QueryRow(context.Background(), `SELECT id FROM customer_dup_pairs WHERE b_id = ?`, f1.M).Scan(&p1); err != nil {
		t.Fatal(err)
	}
	if err := s.App.DB.QueryRow(context.Background(), `SELECT id FROM customer_dup_pairs WHERE b_id = ?`, f2.M).Scan(&p2); err != nil {
		t.Fatal(err)
	}
	br := s.Browser(t, dir.Staff.Username, apptest.Password)
	page := br.Do(t, "GET", "/customers/duplicates", nil)
	body := string(page.Body)
	if page.Status != 200 || !strings.Contains(body, fmt.Sprintf(`id="pair-%d"`, p1)) || !strings.Contains(body, "李蕾蕾") ||
		strings.Contains(body, f1.survivorMb) || !strings.Contains(body, f1.survivorMb[:3]+"****") {
		t.Fatalf("duplicates page: %d\n%s", page.Status, body)
	}
	if r := br.PostForm(t, fmt.Sprintf("/customers/duplicates/%d/dismiss", p2), url.Values{}); r.Status != 303 {
		t.Fatalf("dismiss form: %d %s", r.Status, r.Body)
	}
	if r := br.PostForm(t, fmt.Sprintf("/customers/duplicates/%d/merge", p1), url.Values{"into": {"right"}}); r.Status != 422 {
		t.Fatalf("merge without reason: %d", r.Status)
	}
	if r := br.PostForm(t, fmt.Sprintf("/customers/duplicates/%d/merge", p1), url.Values{"into": {"right"}, "reason": {"same"}}); r.Status != 303 ||
		r.Header.Get("Location") != "/customers/merges" {
		t.Fatalf("merge form: %d %s", r.Status, r.Body)
	}
	// into=right keeps the newer file.
	if c := dump(t, s, `SELECT status, merged_into FROM customers WHERE id = ?`, f1.S)[0]; c["status"] != "merged" || c["merged_into"] != fmt.Sprint(f1.M) {
		t.Fatalf("left file after merge into right: %v", c)
	}
	page = br.Do(t, "GET", "/customers/merges", nil)
	var mergeID int64
	if err := s.App.DB.QueryRow(context.Background(), `SELECT id FROM customer_merges`).Scan(&mergeID); err != nil {
		t.Fatal(err)
	}
	action := fmt.Sprintf(`action="/customers/merges/%d/undo"`, mergeID)
	if page.Status != 200 || !strings.Contains(string(page.Body), action) {
		t.Fatalf("merges page: %d\n%s", page.Status, page.Body)
	}
	if r := br.PostForm(t, fmt.Sprintf("/customers/merges/%d/undo", mergeID), url.Values{}); r.Status != 303 {
		t.Fatalf("undo form: %d %s", r.Status, r.Body)
	}
	if r := br.PostForm(t, fmt.Sprintf("/customers/merges/%d/undo", mergeID), url.Values{}); r.Status != 409 {
		t.Fatalf("second undo form: %d", r.Status)
	}
	page = br.Do(t, "GET", "/customers/merges", nil)
	if strings.Contains(string(page.Body), action) {
		t.Fatal("undone merge still offers undo")
	}
}

// TestScanScale measures ScanDuplicates over KEFU_SCAN_N synthetic customers (skipped
// unless set): e.g. KEFU_SCAN_N=100000 go test -run TestScanScale -v ./internal/customer/
func TestScanScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("KEFU_SCAN_N"))
	if n == 0 {
		t.Skip("set KEFU_SCAN_N to run")
	}
	s := apptest.New(t)
	ctx := actorCtx(t, s, s.As(t, "admin"))
	tmpl := mustCreate(t, ctx, s, customer.Input{Kind: "org", Name: "模板"})
	rnd := rand.New(rand.NewPCG(1, 2))
	syll := []rune("云栖智能数据科技贸易物流钱塘江南华东信息网络电子商务咨询服务建设工程医药食品")
	cols := `kind, status, name, name_key, mobile_enc, mobile_bidx, mobile_l4, phone_enc, phone_bidx, phone_l4,
	email, id_number_enc, id_number_bidx, credit_code, province, city, district, address_enc, address_bidx,
	region, industry, source, tier, tier_reasons, value_class, value_reasons, credit_grade, credit_reasons,
	class_pinned, classified_at, credit_facts, size_employees, annual_sales_fen, founded_on, relationship_since,
	qualifications, service_region, credit_status, trading_terms, cooperation_attitude, bank_name, bank_account_enc,
	tags, notes, owner_id, dept_id, team_id, territory_id, verified_at, verified_by, merged_into, merged_at,
	anonymized_at, created_by, created_at, updated_at, version`
	var sel []string
	for _, c := range strings.Split(cols, ",") {
		c = strings.TrimSpace(c)
		if slices.Contains([]string{"kind", "name", "name_key", "mobile_bidx", "id_number_bidx", "district"}, c) {
			c = "?"
		}
		sel = append(sel, c)
	}
	q := `INSERT INTO customers (` + cols + `) SELECT ` + strings.Join(sel, ", ") + ` FROM customers WHERE id = ?`
	start := time.Now()
	err := s.App.DB.WithTx(context.Background(), func(c context.Context) error {
		for i := range n {
			kind := "person"
			name := string([]rune{syll[rnd.IntN(len(syll))], syll[rnd.IntN(len(syll))]})
			if i%5 < 2 {
				kind = "org"
				l := 4 + rnd.IntN(6)
				rs := make([]rune, l)
				for j := range rs {
					rs[j] = syll[rnd.IntN(len(syll))]
				}
				name = string(rs) + "有限公司"
			}
			mob := fmt.Sprintf("m%d", i)
			if i%100 == 0 && i > 0 {
				mob = fmt.Sprintf("m%d", i-1)
			}
			idn := ""
			if kind == "person" && i%3 == 0 {
				idn = fmt.Sprintf("i%d", rnd.IntN(n*10))
			}
			if _, err := s.App.DB.Exec(c, q, kind, name, name, mob, idn, fmt.Sprintf("D%d", rnd.IntN(300)), tmpl); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inserted %d in %v", n, time.Since(start))
	start = time.Now()
	res, err := s.App.Customer.ScanDuplicates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scan of %d customers: %+v in %v", n, res, time.Since(start))
	start = time.Now()
	if res, err = s.App.Customer.ScanDuplicates(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("rescan: %+v in %v", res, time.Since(start))
}
