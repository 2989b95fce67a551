package search_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/search"
)

// corpusGen makes realistic service-request texts from testdata/words.txt:
// a customer name, a Zipf-distributed run of service words with punctuation, an
// address, and now and then a phone number, order number or product model.
type corpusGen struct {
	r     *rand.Rand
	lists map[string][]string
	zipf  *rand.Zipf
}

func newCorpusGen(tb testing.TB, seed uint64) *corpusGen {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "words.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	lists := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		case line == "", strings.HasPrefix(line, "#"):
		default:
			lists[section] = append(lists[section], strings.Fields(line)...)
		}
	}
	for _, s := range []string{"surnames", "given", "cities", "districts", "roads", "words"} {
		if len(lists[s]) == 0 {
			tb.Fatalf("testdata/words.txt: empty section %q", s)
		}
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &corpusGen{r: r, lists: lists, zipf: rand.NewZipf(r, 1.1, 2, uint64(len(lists["words"])-1))}
}

func (g *corpusGen) pick(list string) string {
	l := g.lists[list]
	return l[g.r.IntN(len(l))]
}

func (g *corpusGen) doc() string {
	var b strings.Builder
	b.WriteString(g.pick("surnames"))
	b.WriteString(g.pick("given"))
	b.WriteString("：")
	n := 8 + g.r.IntN(14)
	words := g.lists["words"]
	for i := 0; i < n; i++ {
		b.WriteString(words[g.zipf.Uint64()])
		if g.r.IntN(5) == 0 {
			b.WriteString("，")
		}
	}
	b.WriteString("。地址：")
	b.WriteString(g.pick("cities") + g.pick("districts") + g.pick("roads"))
	fmt.Fprintf(&b, "%d号", 1+g.r.IntN(999))
	switch g.r.IntN(6) {
	case 0:
		fmt.Fprintf(&b, " 电话1%010d", g.r.Int64N(1e10))
	case 1:
		fmt.Fprintf(&b, " 单号KF2026%04d-%04d", g.r.IntN(10000), g.r.IntN(10000))
	case 2:
		fmt.Fprintf(&b, " 型号iPhone%d", 8+g.r.IntN(10))
	}
	return b.String()
}

func envInt(tb testing.TB, name string) int {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		tb.Fatalf("%s=%q: want a count", name, v)
	}
	return n
}

// TestSearchScale builds an index of KEFU_BENCH_SEARCH_DOCS generated documents and
// reports build speed, size on disk and query latency percentiles by term frequency:
//
//	KEFU_BENCH_SEARCH_DOCS=1000000 go test -run TestSearchScale -v -timeout 2h ./internal/platform/search/
//	KEFU_TEST_DB=postgres KEFU_BENCH_SEARCH_DOCS=1000000 go test -run TestSearchScale -v -timeout 2h ./internal/platform/search/
//
// KEFU_BENCH_SEARCH_OPTIMIZE=1 also merges the SQLite FTS5 segments and measures again.
func TestSearchScale(t *testing.T) {
	n := envInt(t, "KEFU_BENCH_SEARCH_DOCS")
	if n == 0 {
		t.Skip("set KEFU_BENCH_SEARCH_DOCS=N to build and measure an index of N documents")
	}
	ctx := context.Background()
	d := dbtest.New(t)
	ix, err := search.NewIndex(d, search.KindTicket)
	if err != nil {
		t.Fatal(err)
	}

	// Document frequency of every two-character term in a sample, to pick queries.
	const seed = 42
	sample := min(n, 50000)
	df := map[string]int{}
	g := newCorpusGen(t, seed)
	var textBytes int64
	for i := 0; i < sample; i++ {
		seen := map[string]bool{}
		for _, term := range search.Tokenize(g.doc()) {
			if utf8.RuneCountInString(term) == 2 && !strings.HasPrefix(term, "_") && !seen[term] {
				seen[term] = true
				df[term]++
			}
		}
	}

	g = newCorpusGen(t, seed)
	start := time.Now()
	const batch = 1000
	docs := make([]search.Doc, 0, batch)
	for id := 1; id <= n; id++ {
		text := g.doc()
		textBytes += int64(len(text))
		docs = append(docs, search.Doc{ID: int64(id), Text: text})
		if len(docs) == batch || id == n {
			if err := ix.Put(ctx, docs...); err != nil {
				t.Fatal(err)
			}
			docs = docs[:0]
		}
		if id%200000 == 0 {
			t.Logf("  %d documents, %.0f s", id, time.Since(start).Seconds())
		}
	}
	build := time.Since(start)
	report(t, "engine %s: %d documents (%.1f MB of text, %.0f bytes/doc) indexed in %.1f s = %.0f docs/s (batches of %d)",
		d.Dialect, n, float64(textBytes)/1e6, float64(textBytes)/float64(n), build.Seconds(), float64(n)/build.Seconds(), batch)
	settle(t, d)
	report(t, "index size on disk: %.1f MB (%.0f bytes/doc)", float64(indexBytes(t, d))/1e6, float64(indexBytes(t, d))/float64(n))

	bands := pickQueries(df, sample)
	measure(t, ix, bands, n)
	if d.Dialect == db.SQLite && os.Getenv("KEFU_BENCH_SEARCH_UNIGRAMS") != "" {
		unigramCost(t, d, n, seed)
	}
	if d.Dialect == db.SQLite && os.Getenv("KEFU_BENCH_SEARCH_OPTIMIZE") != "" {
		start := time.Now()
		if _, err := d.Exec(ctx, `INSERT INTO search_ticket (search_ticket) VALUES ('optimize')`); err != nil {
			t.Fatal(err)
		}
		settle(t, d)
		report(t, "after FTS5 optimize (%.1f s): %.1f MB", time.Since(start).Seconds(), float64(indexBytes(t, d))/1e6)
		measure(t, ix, bands, n)
	}
}

// unigramCost indexes the same documents without their unigram terms in a scratch
// FTS5 table and compares the sizes (dbstat), to price one-character queries.
func unigramCost(t *testing.T, d *db.DB, n int, seed uint64) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Exec(ctx, `CREATE VIRTUAL TABLE bench_bigrams USING fts5(terms, content='', contentless_delete=1, tokenize="ascii tokenchars '_'")`); err != nil {
		t.Fatal(err)
	}
	g := newCorpusGen(t, seed)
	for id := 1; id <= n; {
		err := d.WithTx(ctx, func(ctx context.Context) error {
			for end := id + 1000; id < end && id <= n; id++ {
				var kept []string
				for _, term := range search.Tokenize(g.doc()) {
					if !strings.HasPrefix(term, "_") {
						kept = append(kept, term)
					}
				}
				if _, err := d.Exec(ctx, `INSERT INTO bench_bigrams (rowid, terms) VALUES (?, ?)`, id, strings.Join(kept, " ")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	size := func(prefix string) float64 {
		var b int64
		if err := d.QueryRow(ctx, `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE ?`, prefix+"%").Scan(&b); err != nil {
			t.Fatal(err)
		}
		return float64(b) / 1e6
	}
	with, without := size("search_ticket"), size("bench_bigrams")
	report(t, "unigram cost: index with unigrams %.1f MB, bigrams and words only %.1f MB (+%.0f%%)", with, without, 100*(with-without)/without)
}

func report(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf(format, args...)
}

func settle(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	switch d.Dialect {
	case db.SQLite:
		if _, err := d.W.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
	case db.Postgres:
		if _, err := d.W.ExecContext(ctx, `VACUUM ANALYZE search_ticket`); err != nil {
			t.Fatal(err)
		}
	}
}

func indexBytes(t *testing.T, d *db.DB) int64 {
	t.Helper()
	ctx := context.Background()
	switch d.Dialect {
	case db.SQLite:
		var total int64
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(d.Path + suffix); err == nil {
				total += fi.Size()
			}
		}
		return total // the test database holds nothing else of size
	default:
		var size int64
		if err := d.QueryRow(ctx, `SELECT pg_total_relation_size('search_ticket')`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		return size
	}
}

type band struct {
	name    string
	queries []string
}

// pickQueries groups the sampled two-character terms by document frequency.
func pickQueries(df map[string]int, sample int) []band {
	type tf struct {
		term string
		frac float64
	}
	var all []tf
	for term, c := range df {
		all = append(all, tf{term, float64(c) / float64(sample)})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].frac != all[j].frac {
			return all[i].frac > all[j].frac
		}
		return all[i].term < all[j].term
	})
	limits := []struct {
		name   string
		lo, hi float64
	}{
		{"2-char, in >=20% of docs", 0.20, 1.01},
		{"2-char, in 5-20%", 0.05, 0.20},
		{"2-char, in 1-5%", 0.01, 0.05},
		{"2-char, in 0.1-1%", 0.001, 0.01},
		{"2-char, in 0.01-0.1%", 0.0001, 0.001},
		{"2-char, in <0.01%", 0, 0.0001},
	}
	var bands []band
	for _, l := range limits {
		var b band
		b.name = l.name
		var in []string
		for _, x := range all {
			if x.frac >= l.lo && x.frac < l.hi {
				in = append(in, x.term)
			}
		}
		// Spread the picks over the band.
		for i := 0; i < 8 && len(in) > 0; i++ {
			b.queries = append(b.queries, in[i*len(in)/8])
		}
		b.queries = slices.Compact(b.queries)
		if len(b.queries) > 0 {
			bands = append(bands, b)
		}
	}
	bands = append(bands,
		band{"2-char, absent", []string{"鲸鱼", "火箭", "钢琴", "沙漠"}},
		band{"1-char (unigram)", []string{"修", "费", "覃", "鲸"}},
		band{"3-4 char phrase", []string{"管理费", "退款申请", "卫生间漏水", "物业管理", "快递损坏", "浦东新区"}},
		band{"Latin prefix / digits", []string{"iphone", "kf2026", "iphone12", "138"}},
	)
	return bands
}

func measure(t *testing.T, ix *search.Index, bands []band, n int) {
	t.Helper()
	ctx := context.Background()
	const runs = 300
	for _, b := range bands {
		lat := make([]time.Duration, 0, runs)
		hits := 0
		for i := 0; i < runs; i++ {
			q := b.queries[i%len(b.queries)]
			start := time.Now()
			ids, err := ix.Search(ctx, q, 20, 0)
			lat = append(lat, time.Since(start))
			if err != nil {
				t.Fatal(err)
			}
			hits += len(ids)
		}
		// Second page of the first query (keyset after the 20th id).
		slices.Sort(lat)
		pct := func(p float64) float64 {
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
		}
		report(t, "%-26s p50 %7.2f ms  p95 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (avg %4.1f hits of 20; %s)",
			b.name, pct(0.50), pct(0.95), pct(0.99), float64(lat[len(lat)-1].Microseconds())/1000,
			float64(hits)/runs, strings.Join(b.queries, " "))
	}
	_ = n
}

// benchIndex returns an index of the ticket kind holding n generated documents.
func benchIndex(b *testing.B, n int) (*db.DB, *search.Index) {
	b.Helper()
	d := dbtest.New(b)
	ix, err := search.NewIndex(d, search.KindTicket)
	if err != nil {
		b.Fatal(err)
	}
	g := newCorpusGen(b, 7)
	var docs []search.Doc
	for id := 1; id <= n; id++ {
		docs = append(docs, search.Doc{ID: int64(id), Text: g.doc()})
	}
	if err := ix.Put(context.Background(), docs...); err != nil {
		b.Fatal(err)
	}
	return d, ix
}

func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	b.Run("batch1000", func(b *testing.B) {
		_, ix := benchIndex(b, 0)
		g := newCorpusGen(b, 1)
		texts := make([]string, 5000)
		for i := range texts {
			texts[i] = g.doc()
		}
		id := int64(0)
		docs := make([]search.Doc, 1000)
		for b.Loop() {
			for i := range docs {
				id++
				docs[i] = search.Doc{ID: id, Text: texts[id%int64(len(texts))]}
			}
			if err := ix.Put(ctx, docs...); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(id)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("single_tx", func(b *testing.B) {
		d, ix := benchIndex(b, 0)
		g := newCorpusGen(b, 2)
		texts := make([]string, 5000)
		for i := range texts {
			texts[i] = g.doc()
		}
		id := int64(0)
		for b.Loop() {
			id++
			if err := d.WithTx(ctx, func(ctx context.Context) error {
				return ix.Put(ctx, search.Doc{ID: id, Text: texts[id%int64(len(texts))]})
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(id)/b.Elapsed().Seconds(), "docs/s")
	})
}

func BenchmarkSearchTwoChar(b *testing.B) {
	ctx := context.Background()
	_, ix := benchIndex(b, 20000)
	queries := []string{"客户", "退款", "漏水", "物业", "覃雨", "鲸鱼"}
	i := 0
	for b.Loop() {
		if _, err := ix.Search(ctx, queries[i%len(queries)], 20, 0); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
