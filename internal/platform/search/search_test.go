package search_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/search"
)

var corpus = []search.Doc{
	{ID: 1, Text: "客户要求退款，快递损坏"},
	{ID: 2, Text: "卫生间漏水需要报修"},
	{ID: 3, Text: "物业管理费账单"},
	{ID: 4, Text: "张三 zhangsan@example.com 13812345678"},
	{ID: 5, Text: "上海市浦东新区张江路"},
	{ID: 6, Text: "物业 业费 分开写"},
	{ID: 7, Text: "Zhangwei 的 iPhone15 屏幕坏了，工单号 KF20261123-0042"},
}

func newIndex(t *testing.T, kind string) (*db.DB, *search.Index) {
	t.Helper()
	d := dbtest.New(t)
	ix, err := search.NewIndex(d, kind)
	if err != nil {
		t.Fatal(err)
	}
	return d, ix
}

func mustSearch(t *testing.T, ix *search.Index, q string) []int64 {
	t.Helper()
	ids, err := ix.Search(context.Background(), q, 50, 0)
	if err != nil {
		t.Fatalf("Search(%q): %v", q, err)
	}
	return ids
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	_, ix := newIndex(t, search.KindTicket)
	if err := ix.Put(ctx, corpus...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    string
		want []int64
	}{
		{"退款", []int64{1}},
		{"漏水", []int64{2}},
		{"物业", []int64{6, 3}},
		{"张三", []int64{4}},
		{"浦东", []int64{5}},
		{"管理费", []int64{3}},
		{"物业管理费", []int64{3}},
		{"物业费", nil},         // not contiguous in 3, split by spaces in 6
		{"业费", []int64{6}},   // the bigram itself exists in 6
		{"漏", []int64{2}},    // one character: unigram
		{"张", []int64{5, 4}}, // 张三 and 张江路
		{"费", []int64{6, 3}},
		{"zhang", []int64{7, 4}},
		{"ZHANGSAN", []int64{4}},
		{"ｚｈａｎｇｓａｎ", []int64{4}},
		{"zhangsan@example.com", []int64{4}},
		{"example.com", []int64{4}},
		{"example", []int64{4}},
		{"13812345678", []int64{4}},
		{"1381234", []int64{4}}, // prefix of a digit run
		{"12345678", nil},       // digit runs are indexed whole: no suffix match
		{"iphone", []int64{7}},
		{"15", []int64{7}},
		{"KF20261123-0042", []int64{7}},
		{"kf20261123", []int64{7}},
		{"20261123", []int64{7}},
		{"张三 zhang", []int64{4}},
		{"退款 漏水", nil},
		{"漏水！！！", []int64{2}},
		{"", nil},
		{"！？", nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if got := mustSearch(t, ix, tt.q); !slices.Equal(got, tt.want) {
				t.Fatalf("Search(%q) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestSearchAdversarial(t *testing.T) {
	ctx := context.Background()
	_, ix := newIndex(t, search.KindCustomer)
	if err := ix.Put(ctx, corpus...); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`"`, `""`, `"退款`, `'`, `''`, `*`, `退款*`, `:`, `:*`, `a:*`, `&`, `|`, `!`, `()`, `(`, `)`,
		`&|!()`, `a & b | !c`, `<->`, `a <-> b`, `NEAR`, `NEAR(退款 快递)`, `AND`, `OR`, `NOT`, `a AND`,
		`-`, `-退款`, `+`, `^`, `{}`, `[]`, `\`, `\\`, `\'`, `\"`, `'; DROP TABLE search_ticket; --`,
		`1' OR '1'='1`, `退款" OR "1`, `terms:退款`, `search_customer:x`, `rowid`, `%`, `_`, `_漏`,
		"\x00", "\xff\xfe", strings.Repeat("退", 3000), strings.Repeat("a ", 3000), strings.Repeat(`"*`, 500),
	} {
		if _, err := ix.Search(ctx, q, 10, 0); err != nil {
			t.Errorf("Search(%q): %v", q, err)
		}
		if _, err := ix.Search(ctx, q, 10, 5); err != nil {
			t.Errorf("Search(%q, after): %v", q, err)
		}
	}
	// The adversarial input did not harm the index.
	if got := mustSearch(t, ix, "退款"); !slices.Equal(got, []int64{1}) {
		t.Fatalf("after adversarial queries: %v", got)
	}
}

func TestUpdateDelete(t *testing.T) {
	ctx := context.Background()
	_, ix := newIndex(t, search.KindCustomer)
	if err := ix.Put(ctx, corpus...); err != nil {
		t.Fatal(err)
	}
	// Replace: the old terms are gone, the new ones found.
	if err := ix.Put(ctx, search.Doc{ID: 2, Text: "厨房水管破裂"}); err != nil {
		t.Fatal(err)
	}
	if got := mustSearch(t, ix, "漏水"); len(got) != 0 {
		t.Fatalf("old text still found: %v", got)
	}
	if got := mustSearch(t, ix, "水管"); !slices.Equal(got, []int64{2}) {
		t.Fatalf("new text: %v", got)
	}
	// The same id twice in one Put: the last wins.
	if err := ix.Put(ctx, search.Doc{ID: 8, Text: "第一版"}, search.Doc{ID: 8, Text: "第二版"}); err != nil {
		t.Fatal(err)
	}
	if got := mustSearch(t, ix, "第一"); len(got) != 0 {
		t.Fatalf("first version found: %v", got)
	}
	if got := mustSearch(t, ix, "第二"); !slices.Equal(got, []int64{8}) {
		t.Fatalf("second version: %v", got)
	}
	// Text without terms removes the document.
	if err := ix.Put(ctx, search.Doc{ID: 8, Text: "！！！"}); err != nil {
		t.Fatal(err)
	}
	if got := mustSearch(t, ix, "第二"); len(got) != 0 {
		t.Fatalf("emptied document found: %v", got)
	}
	if err := ix.Delete(ctx, 1, 3, 999); err != nil {
		t.Fatal(err)
	}
	if got := mustSearch(t, ix, "物业"); !slices.Equal(got, []int64{6}) {
		t.Fatalf("after delete: %v", got)
	}
	if got := mustSearch(t, ix, "退款"); len(got) != 0 {
		t.Fatalf("deleted document found: %v", got)
	}
	// Delete then re-add the same id.
	if err := ix.Put(ctx, search.Doc{ID: 1, Text: "退款已完成"}); err != nil {
		t.Fatal(err)
	}
	if got := mustSearch(t, ix, "退款"); !slices.Equal(got, []int64{1}) {
		t.Fatalf("re-added: %v", got)
	}
	if err := ix.Put(ctx, search.Doc{ID: 0, Text: "x"}); !errors.Is(err, search.ErrBadID) {
		t.Fatalf("id 0: %v", err)
	}
	if err := ix.Put(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ix.Delete(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTransactions(t *testing.T) {
	ctx := context.Background()
	d, ix := newIndex(t, search.KindTicket)
	boom := errors.New("boom")
	err := d.WithTx(ctx, func(ctx context.Context) error {
		if err := ix.Put(ctx, search.Doc{ID: 1, Text: "客户要求退款"}); err != nil {
			return err
		}
		// Visible inside the transaction.
		ids, err := ix.Search(ctx, "退款", 10, 0)
		if err != nil {
			return err
		}
		if !slices.Equal(ids, []int64{1}) {
			t.Errorf("inside tx: %v", ids)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if got := mustSearch(t, ix, "退款"); len(got) != 0 {
		t.Fatalf("rolled back Put is visible: %v", got)
	}
	// A failing batch (bad id after good ones) writes nothing.
	err = ix.Put(ctx, search.Doc{ID: 1, Text: "退款"}, search.Doc{ID: -1, Text: "漏水"})
	if !errors.Is(err, search.ErrBadID) {
		t.Fatalf("bad batch: %v", err)
	}
	if got := mustSearch(t, ix, "退款"); len(got) != 0 {
		t.Fatalf("partial batch visible: %v", got)
	}
	// Committed inside a caller's transaction.
	if err := d.WithTx(ctx, func(ctx context.Context) error {
		return ix.Put(ctx, search.Doc{ID: 2, Text: "卫生间漏水"})
	}); err != nil {
		t.Fatal(err)
	}
	if got := mustSearch(t, ix, "漏水"); !slices.Equal(got, []int64{2}) {
		t.Fatalf("committed: %v", got)
	}
	// Rolled-back delete leaves the document.
	_ = d.WithTx(ctx, func(ctx context.Context) error {
		if err := ix.Delete(ctx, 2); err != nil {
			return err
		}
		return boom
	})
	if got := mustSearch(t, ix, "漏水"); !slices.Equal(got, []int64{2}) {
		t.Fatalf("rolled back delete: %v", got)
	}
}

func TestPagingAndKinds(t *testing.T) {
	ctx := context.Background()
	d, ix := newIndex(t, search.KindKB)
	var docs []search.Doc
	for i := int64(1); i <= 250; i++ {
		text := fmt.Sprintf("第%d条 退款说明", i)
		if i%3 == 0 {
			text = "无关内容"
		}
		docs = append(docs, search.Doc{ID: i * 10, Text: text})
	}
	if err := ix.Put(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	var all []int64
	after := int64(0)
	for page := 0; ; page++ {
		ids, err := ix.Search(ctx, "退款", 7, after)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			break
		}
		all = append(all, ids...)
		after = ids[len(ids)-1]
		if page > 100 {
			t.Fatal("paging does not end")
		}
	}
	var want []int64
	for i := int64(250); i >= 1; i-- {
		if i%3 != 0 {
			want = append(want, i*10)
		}
	}
	if !slices.Equal(all, want) {
		t.Fatalf("paged ids: got %d ids %v..., want %d", len(all), all[:min(5, len(all))], len(want))
	}
	if ids, err := ix.Search(ctx, "退款", 0, 0); err != nil || len(ids) != search.DefaultLimit {
		t.Fatalf("default limit: %d, %v", len(ids), err)
	}
	// Indexes of different kinds are separate.
	other, err := search.NewIndex(d, search.KindCustomer)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustSearch(t, other, "退款"); len(got) != 0 {
		t.Fatalf("customer index sees kb documents: %v", got)
	}
	for _, k := range []string{"", "tickets", "ticket; DROP TABLE x", "search_ticket"} {
		if _, err := search.NewIndex(d, k); !errors.Is(err, search.ErrUnknownKind) {
			t.Errorf("NewIndex(%q) err = %v", k, err)
		}
	}
}

func TestSearchCanceled(t *testing.T) {
	_, ix := newIndex(t, search.KindTicket)
	if err := ix.Put(context.Background(), corpus...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, "退款", 10, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled search err = %v", err)
	}
}

// TestSchema checks this package's tables on the running engine: every kind has its
// table, and on SQLite it is an FTS5 table whose rowid is the document id.
func TestSchema(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	for _, k := range search.Kinds() {
		table := "search_" + k
		switch d.Dialect {
		case db.SQLite:
			var sqlText string
			if err := d.QueryRow(ctx, `SELECT sql FROM sqlite_master WHERE name = ?`, table).Scan(&sqlText); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			if !strings.HasPrefix(sqlText, "CREATE VIRTUAL TABLE") || !strings.Contains(sqlText, "fts5") {
				t.Fatalf("%s: %s", table, sqlText)
			}
		case db.Postgres:
			var cols []string
			rows, err := d.Query(ctx, `SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns
				WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position`, table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					t.Fatal(err)
				}
				cols = append(cols, c)
			}
			rows.Close()
			if got := strings.Join(cols, ", "); got != "doc_id bigint NO, tsv tsvector NO" {
				t.Fatalf("%s columns: %s", table, got)
			}
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM pg_indexes WHERE tablename = ? AND indexdef LIKE '%USING gin (tsv)%'`, table).Scan(&n); err != nil || n != 1 {
				t.Fatalf("%s GIN index: %d, %v", table, n, err)
			}
		}
	}
}

// FuzzSearch: any query string on a small index answers without error.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"退款", "物业管理费", "zhang", `"a" OR b*`, "a:*&|!()<->", "NEAR(x y, 2)", "\\'\"", "漏", "\xff"} {
		f.Add(s)
	}
	ctx := context.Background()
	d := dbtest.New(f)
	ix, err := search.NewIndex(d, search.KindTicket)
	if err != nil {
		f.Fatal(err)
	}
	if err := ix.Put(ctx, corpus...); err != nil {
		f.Fatal(err)
	}
	next := int64(1000)
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := ix.Search(ctx, q, 10, 0); err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		if search.ParseQuery(q).Empty() || len(search.Tokenize(q)) >= search.MaxTerms {
			return
		}
		// A document made of the query's text is found by it.
		next++
		if err := ix.Put(ctx, search.Doc{ID: next, Text: q}); err != nil {
			t.Fatalf("Put(%q): %v", q, err)
		}
		ids, err := ix.Search(ctx, q, 1, 0)
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		if len(ids) != 1 || ids[0] != next {
			t.Fatalf("Search(%q) = %v, want [%d] (query %s, terms %q)", q, ids, next, search.ParseQuery(q), search.Terms(q))
		}
	})
}
