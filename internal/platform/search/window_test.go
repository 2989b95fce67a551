package search_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/search"
)

// TestFrequentTermLargePages pages through a term in a quarter of the documents with
// pages larger than the PostgreSQL first window holds matches for (the wider window and
// the bitmap fallback there; FTS5 on SQLite): every page is the next newest matches, in
// order, none lost or repeated.
func TestFrequentTermLargePages(t *testing.T) {
	ctx := context.Background()
	_, ix := newIndex(t, search.KindTicket)
	const n = 8000
	docs := make([]search.Doc, 0, n)
	var want []int64
	for id := int64(1); id <= n; id++ {
		text := "客户来电咨询账单"
		if id%4 == 0 {
			text = "物业费发票开具问题"
			want = append(want, id)
		}
		docs = append(docs, search.Doc{ID: id, Text: text})
	}
	if err := ix.Put(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(want) // newest first
	var got []int64
	after := int64(0)
	for page := 0; ; page++ {
		ids, err := ix.Search(ctx, "物业", 700, after)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids...)
		if len(ids) < 700 {
			break
		}
		after = ids[len(ids)-1]
		if page > 10 {
			t.Fatal("too many pages")
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged matches: %d ids, want %d (first %v, want %v)", len(got), len(want), got[:min(5, len(got))], want[:5])
	}
}
