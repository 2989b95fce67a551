package kb_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/kb"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

type env struct {
	db  *db.DB
	s   *kb.Service
	clk *clock.Fake
}

func newEnv(t *testing.T) *env { return newEnvB(t) }

func newEnvB(t testing.TB) *env {
	t.Helper()
	d := dbtest.New(t)
	clk := clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	s, err := kb.New(kb.Deps{DB: d, Audit: audit.New(audit.Options{DB: d, Clock: clk}), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: d, s: s, clk: clk}
}

// staff returns a context acting as a staff member holding perms.
func staff(id int64, perms ...string) context.Context {
	a := &authz.Actor{ID: id, Kind: authz.KindStaff, Username: fmt.Sprint("staff", id)}
	for _, p := range perms {
		a.Grant(p, authz.ScopeTeam)
	}
	return authz.WithActor(context.Background(), a)
}

var (
	writer   = staff(1, kb.PermRead, kb.PermWrite)
	reader   = staff(2, kb.PermRead)
	customer = authz.WithActor(context.Background(), &authz.Actor{ID: 77, Kind: authz.KindCustomer})
	anon     = context.Background()
)

func (e *env) article(t *testing.T, in kb.Input) kb.Article {
	t.Helper()
	a, err := e.s.CreateArticle(writer, in)
	if err != nil {
		t.Fatalf("create %q: %v", in.Title, err)
	}
	return a
}

func (e *env) auditCount(t *testing.T, action string) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ids(as []kb.Article) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.Invalid {
		t.Fatalf("want a validation error, got %v", err)
	}
	var out []string
	for f := range ae.Fields {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cat, err := e.s.CreateCategory(writer, kb.CategoryInput{Name: "After-sales"})
	if err != nil {
		t.Fatal(err)
	}
	tooLong := ""
	for range kb.MaxTitle + 1 {
		tooLong += "x"
	}
	manyTags := make([]string, kb.MaxTags+1)
	for i := range manyTags {
		manyTags[i] = fmt.Sprint("t", i)
	}
	cases := []struct {
		name   string
		in     kb.Input
		fields []string
	}{
		{"empty", kb.Input{}, []string{"body", "title"}},
		{"blank", kb.Input{Title: "  ", Body: "\n\n"}, []string{"body", "title"}},
		{"long title", kb.Input{Title: tooLong, Body: "b"}, []string{"title"}},
		{"control char", kb.Input{Title: "a\x00b", Body: "b"}, []string{"title"}},
		{"newline in title", kb.Input{Title: "a\nb", Body: "b"}, []string{"title"}},
		{"unknown category", kb.Input{Title: "t", Body: "b", CategoryID: cat.ID + 100}, []string{"category_id"}},
		{"negative category", kb.Input{Title: "t", Body: "b", CategoryID: -1}, []string{"category_id"}},
		{"too many tags", kb.Input{Title: "t", Body: "b", Tags: manyTags}, []string{"tags"}},
		{"comma tag", kb.Input{Title: "t", Body: "b", Tags: []string{"a,b"}}, []string{"tags"}},
		{"bad status", kb.Input{Title: "t", Body: "b", Status: "archived"}, []string{"status"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.CreateArticle(writer, c.in)
			if got := fieldsOf(t, err); !slices.Equal(got, c.fields) {
				t.Fatalf("fields %v, want %v", got, c.fields)
			}
		})
	}
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM kb_articles`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d articles stored after refused input (%v)", n, err)
	}
	a := e.article(t, kb.Input{Title: "  How to ask for a refund ", Body: "Line one\r\n\r\nLine two", CategoryID: cat.ID,
		Tags: []string{" refund ", "Refund", "", "after sales"}})
	if a.Title != "How to ask for a refund" || a.Body != "Line one\n\nLine two" || a.Status != kb.StatusDraft ||
		!slices.Equal(a.Tags, []string{"refund", "after sales"}) || a.CategoryName != "After-sales" || a.Version != 1 ||
		a.AuthorID != 1 || !a.PublishedAt.IsZero() {
		t.Fatalf("stored %+v", a)
	}
	if e.auditCount(t, "kb.article.create") != 1 {
		t.Fatal("create not audited")
	}
	if _, err := e.s.CreateArticle(reader, kb.Input{Title: "t", Body: "b"}); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("reader created an article: %v", err)
	}
	if _, err := e.s.CreateArticle(anon, kb.Input{Title: "t", Body: "b"}); apperr.KindOf(err) != apperr.Unauthenticated {
		t.Fatalf("anonymous created an article: %v", err)
	}
}

func TestLifecycleAndVisibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	draft := e.article(t, kb.Input{Title: "Refund rules", Body: "Apply for a refund within 7 days."})
	pub := e.article(t, kb.Input{Title: "Water leak", Body: "Close the valve.", Status: kb.StatusPublished})
	if pub.Status != kb.StatusPublished || pub.PublishedAt.IsZero() {
		t.Fatalf("published on create: %+v", pub)
	}

	// Readers and the portal see only published articles.
	if _, err := e.s.GetArticle(reader, draft.ID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("reader read a draft: %v", err)
	}
	if _, err := e.s.GetArticle(writer, draft.ID); err != nil {
		t.Fatalf("writer reads a draft: %v", err)
	}
	for name, ctx := range map[string]context.Context{"customer": customer, "anonymous": anon, "reader": reader} {
		if _, err := e.s.PublishedArticle(ctx, draft.ID); apperr.KindOf(err) != apperr.NotFound {
			t.Errorf("%s: draft through PublishedArticle: %v", name, err)
		}
		a, err := e.s.PublishedArticle(ctx, pub.ID)
		if err != nil || a.ID != pub.ID {
			t.Errorf("%s: published article: %v", name, err)
		}
	}
	if a, _ := e.s.GetArticle(writer, pub.ID); a.Views != 3 {
		t.Fatalf("views %d, want 3", a.Views)
	}
	list, err := e.s.ListArticles(reader, kb.Filter{}, 0, "")
	if err != nil || !slices.Equal(ids(list.Items), []int64{pub.ID}) {
		t.Fatalf("reader list %v %v", ids(list.Items), err)
	}
	if _, err := e.s.ListArticles(reader, kb.Filter{Status: kb.StatusDraft}, 0, ""); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("reader listed drafts: %v", err)
	}
	list, err = e.s.ListArticles(writer, kb.Filter{}, 0, "")
	if err != nil || !slices.Equal(ids(list.Items), []int64{pub.ID, draft.ID}) {
		t.Fatalf("writer list %v %v", ids(list.Items), err)
	}

	// Transitions: publish, illegal ones 409, unpublish, archive.
	e.clk.Advance(time.Hour)
	a, err := e.s.Publish(writer, draft.ID)
	if err != nil || a.Status != kb.StatusPublished || a.Version != 2 || !a.PublishedAt.Equal(e.clk.Now().Truncate(time.Millisecond)) {
		t.Fatalf("publish: %+v %v", a, err)
	}
	if _, err := e.s.Publish(writer, draft.ID); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("publish twice: %v", err)
	}
	if _, err := e.s.Publish(reader, draft.ID); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("reader published: %v", err)
	}
	if _, err := e.s.Unpublish(writer, draft.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Unpublish(writer, draft.ID); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("unpublish a draft: %v", err)
	}
	if _, err := e.s.Archive(writer, pub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.PublishedArticle(anon, pub.ID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("archived article still public: %v", err)
	}
	cur, err := e.s.GetArticle(writer, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.UpdateArticle(writer, pub.ID, kb.Patch{Title: ptr("x"), Version: &cur.Version}); apperr.KindOf(err) != apperr.Conflict ||
		apperr.CodeOf(err) == apperr.CodeStaleVersion {
		t.Fatalf("edit archived: %v", err)
	}
	if got, _ := e.s.Search(writer, "valve", 10); len(got) != 0 {
		t.Fatalf("archived article still in the index: %v", ids(got))
	}
	list, _ = e.s.ListArticles(writer, kb.Filter{Status: kb.StatusArchived}, 0, "")
	if !slices.Equal(ids(list.Items), []int64{pub.ID}) {
		t.Fatalf("archived list %v", ids(list.Items))
	}
	for _, act := range []string{"kb.article.publish", "kb.article.unpublish", "kb.article.archive"} {
		if e.auditCount(t, act) != 1 {
			t.Errorf("%s audited %d times", act, e.auditCount(t, act))
		}
	}
	if _, err := e.s.Publish(writer, 9999); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("publish unknown: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.article(t, kb.Input{Title: "Invoice", Body: "How to get an invoice."})
	got, err := e.s.UpdateArticle(writer, a.ID, kb.Patch{Body: ptr("Invoices are mailed."), Tags: &[]string{"invoice"},
		Version: ptr(int64(1))})
	if err != nil || got.Body != "Invoices are mailed." || got.Title != "Invoice" || got.Version != 2 ||
		!slices.Equal(got.Tags, []string{"invoice"}) {
		t.Fatalf("update: %+v %v", got, err)
	}
	if _, err := e.s.UpdateArticle(writer, a.ID, kb.Patch{Title: ptr("stale"), Version: ptr(int64(1))}); apperr.CodeOf(err) != apperr.CodeStaleVersion {
		t.Fatalf("stale version: %v", err)
	}
	if _, err := e.s.UpdateArticle(writer, a.ID, kb.Patch{Title: ptr("no version")}); apperr.KindOf(err) != apperr.PreconditionRequired {
		t.Fatalf("no version: %v", err)
	}
	if _, err := e.s.UpdateArticle(writer, a.ID, kb.Patch{Title: ptr(""), Version: ptr(int64(2))}); !slices.Equal(fieldsOf(t, err), []string{"title"}) {
		t.Fatal("empty title accepted")
	}
	if got, _ := e.s.Search(writer, "mailed", 5); !slices.Equal(ids(got), []int64{a.ID}) {
		t.Fatalf("re-indexed body not found: %v", ids(got))
	}
	if got, _ := e.s.Search(writer, "how", 5); len(got) != 0 {
		t.Fatalf("old body still indexed: %v", ids(got))
	}
	if e.auditCount(t, "kb.article.update") != 1 {
		t.Fatal("update not audited once")
	}
	r, err := e.s.Ref(anon, a.ID)
	if err != nil || r.Title != "Invoice" || r.Status != kb.StatusDraft {
		t.Fatalf("ref %+v %v", r, err)
	}
	if _, err := e.s.Ref(anon, 999); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("unknown ref: %v", err)
	}
}

// TestChineseSearch: two-character words (退款, 漏水) find articles by title, body or
// tag; drafts never reach PublishedSearch; readers see only published hits.
func TestChineseSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	refund := e.article(t, kb.Input{Title: "如何申请退款", Body: "在订单页面点击“申请售后”，选择退款原因后提交。", Status: kb.StatusPublished})
	leak := e.article(t, kb.Input{Title: "热水器故障处理", Body: "如果热水器底部漏水，请先关闭进水阀门，再联系维修。", Status: kb.StatusPublished})
	tagged := e.article(t, kb.Input{Title: "售后政策", Body: "七天无理由。", Tags: []string{"退款", "退货"}, Status: kb.StatusPublished})
	draft := e.article(t, kb.Input{Title: "退款草稿", Body: "内部讨论中的退款规则，尚未发布。"})

	cases := []struct {
		ctx  context.Context
		q    string
		want []int64
	}{
		{anon, "退款", []int64{tagged.ID, refund.ID}},
		{customer, "漏水", []int64{leak.ID}},
		{anon, "漏水 阀门", []int64{leak.ID}},
		{anon, "热水器漏水", nil}, // a phrase, not two words
		{anon, "申请退款", []int64{refund.ID}},
		{anon, "维修", []int64{leak.ID}},
		{anon, "草稿", nil},
		{anon, "", []int64{tagged.ID, leak.ID, refund.ID}},
	}
	for _, c := range cases {
		got, err := e.s.PublishedSearch(c.ctx, c.q, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), c.want) {
			t.Errorf("PublishedSearch(%q) = %v, want %v", c.q, ids(got), c.want)
		}
	}
	if got, _ := e.s.Search(writer, "退款", 10); !slices.Equal(ids(got), []int64{draft.ID, tagged.ID, refund.ID}) {
		t.Errorf("writer search %v", ids(got))
	}
	if got, _ := e.s.Search(reader, "退款", 10); !slices.Equal(ids(got), []int64{tagged.ID, refund.ID}) {
		t.Errorf("reader search %v", ids(got))
	}
	if _, err := e.s.Search(anon, "退款", 10); apperr.KindOf(err) != apperr.Unauthenticated {
		t.Errorf("anonymous staff search: %v", err)
	}
	sug, err := e.s.Suggest(reader, "漏水", 5)
	if err != nil || len(sug) != 1 || sug[0].ID != leak.ID || sug[0].Snippet == "" {
		t.Fatalf("suggest %+v %v", sug, err)
	}
	if _, err := e.s.PublishedSearch(anon, longQuery(), 5); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("long query: %v", err)
	}
}

func longQuery() string {
	s := ""
	for range kb.MaxQuery + 1 {
		s += "q"
	}
	return s
}

// TestSearchPaging walks a search result through cursors, with drafts mixed in so
// that batches hold hits the filter drops.
func TestSearchPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var want []int64
	for i := range 30 {
		st := kb.StatusPublished
		if i%3 == 0 {
			st = kb.StatusDraft
		}
		a := e.article(t, kb.Input{Title: fmt.Sprintf("退款问题 %d", i), Body: "退款说明", Status: st})
		if st == kb.StatusPublished {
			want = append([]int64{a.ID}, want...)
		}
	}
	for _, q := range []string{"退款", ""} {
		var got []int64
		cur := ""
		for range 10 {
			p, err := e.s.ListArticles(reader, kb.Filter{Q: q}, 7, cur)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(p.Items)...)
			if cur = p.NextCursor; cur == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("q=%q paged %v, want %v", q, got, want)
		}
	}
	if _, err := e.s.ListArticles(reader, kb.Filter{}, 7, "!!"); apperr.KindOf(err) != apperr.Malformed {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestCategories(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root, err := e.s.CreateCategory(writer, kb.CategoryInput{Name: "售后"})
	if err != nil {
		t.Fatal(err)
	}
	child, err := e.s.CreateCategory(writer, kb.CategoryInput{Name: "退款", ParentID: root.ID})
	if err != nil || child.Depth != 1 || child.Path != "售后 / 退款" {
		t.Fatalf("child %+v %v", child, err)
	}
	other, _ := e.s.CreateCategory(writer, kb.CategoryInput{Name: "安装", SortOrder: -1})
	cats, err := e.s.Categories(reader)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cats {
		names = append(names, c.Path)
	}
	if !slices.Equal(names, []string{"安装", "售后", "售后 / 退款"}) {
		t.Fatalf("tree %v", names)
	}
	bad := []struct {
		name  string
		id    int64
		patch kb.CategoryPatch
		in    *kb.CategoryInput
		field string
	}{
		{name: "empty name", in: &kb.CategoryInput{Name: " "}, field: "name"},
		{name: "duplicate sibling", in: &kb.CategoryInput{Name: "退款", ParentID: root.ID}, field: "name"},
		{name: "unknown parent", in: &kb.CategoryInput{Name: "x", ParentID: 999}, field: "parent_id"},
		{name: "cycle", id: root.ID, patch: kb.CategoryPatch{ParentID: &child.ID}, field: "parent_id"},
		{name: "self", id: root.ID, patch: kb.CategoryPatch{ParentID: &root.ID}, field: "parent_id"},
	}
	for _, b := range bad {
		var err error
		if b.in != nil {
			_, err = e.s.CreateCategory(writer, *b.in)
		} else {
			cur, gerr := e.s.GetCategory(writer, b.id)
			if gerr != nil {
				t.Fatal(gerr)
			}
			b.patch.Version = &cur.Version
			_, err = e.s.UpdateCategory(writer, b.id, b.patch)
		}
		if got := fieldsOf(t, err); !slices.Equal(got, []string{b.field}) {
			t.Errorf("%s: fields %v, want %s", b.name, got, b.field)
		}
	}
	// Depth limit.
	parent := other.ID
	for i := range kb.MaxCatDepth - 1 {
		c, err := e.s.CreateCategory(writer, kb.CategoryInput{Name: fmt.Sprint("level", i), ParentID: parent})
		if err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		parent = c.ID
	}
	if _, err := e.s.CreateCategory(writer, kb.CategoryInput{Name: "too deep", ParentID: parent}); !slices.Equal(fieldsOf(t, err), []string{"parent_id"}) {
		t.Fatal("too deep accepted")
	}

	// Filter by category includes sub-categories.
	a := e.article(t, kb.Input{Title: "Refund", Body: "b", CategoryID: child.ID, Status: kb.StatusPublished})
	list, err := e.s.ListArticles(reader, kb.Filter{CategoryID: root.ID}, 0, "")
	if err != nil || !slices.Equal(ids(list.Items), []int64{a.ID}) {
		t.Fatalf("by parent category %v %v", ids(list.Items), err)
	}
	if got, _ := e.s.PublishedInCategory(anon, root.ID, 5); !slices.Equal(ids(got), []int64{a.ID}) {
		t.Fatalf("PublishedInCategory %v", ids(got))
	}
	if _, err := e.s.ListArticles(reader, kb.Filter{CategoryID: 12345}, 0, ""); !slices.Equal(fieldsOf(t, err), []string{"category_id"}) {
		t.Fatal("unknown category filter accepted")
	}

	// Delete: refused while used, then allowed.
	if err := e.s.DeleteCategory(writer, root.ID); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("delete parent: %v", err)
	}
	if err := e.s.DeleteCategory(writer, child.ID); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("delete used: %v", err)
	}
	if _, err := e.s.Archive(writer, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteCategory(writer, child.ID); err != nil {
		t.Fatalf("delete after archive: %v", err)
	}
	if got, _ := e.s.GetArticle(writer, a.ID); got.CategoryID != 0 {
		t.Fatalf("archived article still in the deleted category: %+v", got)
	}
	if err := e.s.DeleteCategory(reader, root.ID); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("reader deleted: %v", err)
	}
	if _, err := e.s.GetCategory(reader, child.ID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("deleted category: %v", err)
	}
	if _, err := e.s.UpdateCategory(writer, root.ID, kb.CategoryPatch{Name: ptr("售后服务")}); apperr.KindOf(err) != apperr.PreconditionRequired {
		t.Fatalf("rename without version: %v", err)
	}
	renamed, err := e.s.UpdateCategory(writer, root.ID, kb.CategoryPatch{Name: ptr("售后服务"), Version: &root.Version})
	if err != nil || renamed.Name != "售后服务" || renamed.Version != root.Version+1 {
		t.Fatalf("rename %+v %v", renamed, err)
	}
	if _, err := e.s.UpdateCategory(writer, root.ID, kb.CategoryPatch{Name: ptr("x"), Version: &root.Version}); apperr.CodeOf(err) != apperr.CodeStaleVersion {
		t.Fatalf("stale rename: %v", err)
	}
	for _, act := range []string{"kb.category.create", "kb.category.update", "kb.category.delete"} {
		if e.auditCount(t, act) == 0 {
			t.Errorf("%s not audited", act)
		}
	}
}
