// Package search is Kefu's portable, Chinese-aware full-text index.
//
// Tokenizing is ours, indexing is the engine's: Tokenize turns text into terms (CJK
// bigrams plus one-character unigrams, lower-cased Latin/digit words) and ParseQuery
// turns a search box string into the same terms (a phrase of consecutive bigrams for a
// longer Chinese run, a prefix for a Latin word). The engine keeps one row per document:
// an FTS5 table on SQLite, a tsvector with a GIN index on PostgreSQL. Results come
// newest (highest document id) first with keyset paging; there is no relevance ranking.
package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// The kinds of index. Each has its tables in a migration (00002_search unless said); table names
// come only from this list, never from input.
const (
	KindCustomer = "customer"
	KindTicket   = "ticket"
	KindKB       = "kb"
	// KindComplaintCase is the complaint case library (its table is in 00014_complaints).
	KindComplaintCase = "complaint_case"
)

var kinds = map[string]string{
	KindCustomer:      "search_customer",
	KindTicket:        "search_ticket",
	KindKB:            "search_kb",
	KindComplaintCase: "search_complaint_case",
}

// Kinds returns the known index kinds.
func Kinds() []string { return []string{KindCustomer, KindTicket, KindKB, KindComplaintCase} }

// Errors of this package.
var (
	ErrUnknownKind = errors.New("search: unknown index kind")
	ErrBadID       = errors.New("search: document id must be positive")
)

// Limits of Search.
const (
	DefaultLimit = 20
	MaxLimit     = 1000
	// putBatch is the number of documents per INSERT statement.
	putBatch = 200
)

// row is one tokenized document.
type row struct {
	id     int64
	joined string
	terms  []string
}

// Doc is one searchable document: its id (the owning record's id, > 0) and all of its
// searchable text joined.
type Doc struct {
	ID   int64
	Text string
}

// Index is the full-text index of one kind of document.
type Index struct {
	d     *db.DB
	kind  string
	table string

	qSearch, qSearchAfter string
	// PostgreSQL: qWindow looks for the matches among the pgWindow newest rows below
	// the cursor (by the primary key); qBitmap collects every match through the GIN
	// index and sorts them.
	qWindow, qWindowWide, qBitmap string
}

// pgWindow is how many of the newest rows the first PostgreSQL step filters. A term in
// more than limit/pgWindow of the documents (1% for a page of 20) is answered there;
// rarer terms go to the GIN bitmap, whose cost grows with the number of matches. The
// planner cannot choose between the two itself: it estimates every lexeme missing from
// its statistics at the same frequency, and the backward primary-key scan it then picks
// read 90,000 rows (300 ms) for a term in 0.02% of 1,000,000 documents.
const pgWindow = 2000

// pgWideFactor is how much wider the second window is (see SearchQuery).
const pgWideFactor = 10

// NewIndex returns the index of kind (KindCustomer, KindTicket or KindKB).
func NewIndex(d *db.DB, kind string) (*Index, error) {
	table, ok := kinds[kind]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	ix := &Index{d: d, kind: kind, table: table}
	switch d.Dialect {
	case db.SQLite:
		ix.qSearch = `SELECT rowid FROM ` + table + ` WHERE ` + table + ` MATCH ? ORDER BY rowid DESC LIMIT ?`
		ix.qSearchAfter = `SELECT rowid FROM ` + table + ` WHERE ` + table + ` MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?`
	case db.Postgres:
		window := func(n int) string {
			return `SELECT doc_id FROM (SELECT doc_id, tsv FROM ` + table + ` WHERE doc_id < ? ORDER BY doc_id DESC LIMIT ` +
				fmt.Sprint(n) + `) w WHERE tsv @@ CAST(? AS tsquery) ORDER BY doc_id DESC LIMIT ?`
		}
		ix.qWindow, ix.qWindowWide = window(pgWindow), window(pgWindow*pgWideFactor)
		// "doc_id + 0" keeps the planner from AND-ing the GIN bitmap with a primary-key
		// range bitmap over most of the table (40 ms at 1,000,000 rows).
		ix.qBitmap = `WITH m AS MATERIALIZED (SELECT doc_id FROM ` + table + ` WHERE tsv @@ CAST(? AS tsquery) AND doc_id + 0 < ?)
			SELECT doc_id FROM m ORDER BY doc_id DESC LIMIT ?`
	default:
		return nil, fmt.Errorf("search: unsupported dialect %v", d.Dialect)
	}
	return ix, nil
}

// Kind returns the index kind.
func (ix *Index) Kind() string { return ix.kind }

// Put inserts or replaces documents, in ctx's transaction when there is one, else in a
// transaction of its own (all or nothing). A document whose text has no terms is
// removed from the index. When an id appears twice, the last one wins.
func (ix *Index) Put(ctx context.Context, docs ...Doc) error {
	if len(docs) == 0 {
		return nil
	}
	rows := make([]row, 0, len(docs))
	pos := make(map[int64]int, len(docs))
	var empty []int64
	for _, doc := range docs {
		if doc.ID <= 0 {
			return fmt.Errorf("%w: %d", ErrBadID, doc.ID)
		}
		r := row{id: doc.ID}
		r.joined, r.terms = tokenize(doc.Text)
		if i, ok := pos[doc.ID]; ok {
			rows[i] = r
			continue
		}
		pos[doc.ID] = len(rows)
		rows = append(rows, r)
	}
	live := rows[:0]
	for _, r := range rows {
		if len(r.terms) == 0 {
			empty = append(empty, r.id)
		} else {
			live = append(live, r)
		}
	}
	if ix.d.Dialect == db.SQLite {
		// Gathered with the other writes of the same group commit and written once
		// before COMMIT: FTS5 writes an index segment per flush (see db.Defer).
		ops := make([]any, 0, len(rows))
		for _, id := range empty {
			ops = append(ops, pendingOp{id: id, del: true})
		}
		for _, r := range live {
			ops = append(ops, pendingOp{id: r.id, joined: r.joined})
		}
		return ix.d.WithTx(ctx, func(ctx context.Context) error {
			return ix.d.Defer(ctx, ix, ix.flushPending, ops...)
		})
	}
	return ix.d.WithTx(ctx, func(ctx context.Context) error { // PostgreSQL
		if len(empty) > 0 {
			if err := ix.delete(ctx, empty); err != nil {
				return err
			}
		}
		for start := 0; start < len(live); start += putBatch {
			batch := live[start:min(start+putBatch, len(live))]
			args := make([]any, 0, 2*len(batch))
			var q strings.Builder
			q.WriteString(`INSERT INTO ` + ix.table + ` (doc_id, tsv) VALUES `)
			for i, r := range batch {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, CAST(? AS tsvector))")
				args = append(args, r.id, tsvector(r.terms))
			}
			q.WriteString(` ON CONFLICT (doc_id) DO UPDATE SET tsv = EXCLUDED.tsv`)
			if _, err := ix.d.Exec(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("search: put %s: %w", ix.kind, err)
			}
		}
		return nil
	})
}

// Delete removes documents from the index; unknown ids are ignored.
func (ix *Index) Delete(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	if ix.d.Dialect == db.SQLite {
		ops := make([]any, len(ids))
		for i, id := range ids {
			ops[i] = pendingOp{id: id, del: true}
		}
		return ix.d.WithTx(ctx, func(ctx context.Context) error {
			return ix.d.Defer(ctx, ix, ix.flushPending, ops...)
		})
	}
	return ix.d.WithTx(ctx, func(ctx context.Context) error { return ix.delete(ctx, ids) })
}

// pendingOp is a deferred change of one SQLite document: its new terms, or removal.
type pendingOp struct {
	id     int64
	joined string
	del    bool
}

// flushPending writes the deferred changes of one or more transactions (in order; for
// an id changed twice the last change wins) to the FTS5 table.
func (ix *Index) flushPending(ctx context.Context, items []any) error {
	last := make(map[int64]int, len(items))
	for i, it := range items {
		last[it.(pendingOp).id] = i
	}
	var dels []int64
	var puts []row
	for i, it := range items {
		op := it.(pendingOp)
		if last[op.id] != i {
			continue
		}
		if op.del {
			dels = append(dels, op.id)
		} else {
			puts = append(puts, row{id: op.id, joined: op.joined})
		}
	}
	if len(dels) > 0 {
		if err := ix.delete(ctx, dels); err != nil {
			return err
		}
	}
	return ix.insertSQLite(ctx, puts)
}

// insertSQLite replaces the terms of rows in the FTS5 table, in statements of putBatch.
func (ix *Index) insertSQLite(ctx context.Context, rows []row) error {
	for start := 0; start < len(rows); start += putBatch {
		batch := rows[start:min(start+putBatch, len(rows))]
		args := make([]any, 0, 2*len(batch))
		var q strings.Builder
		// contentless_delete=1 makes OR REPLACE drop the old row's terms.
		q.WriteString(`INSERT OR REPLACE INTO ` + ix.table + ` (rowid, terms) VALUES `)
		for i, r := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?)")
			args = append(args, r.id, r.joined)
		}
		if _, err := ix.d.Exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("search: put %s: %w", ix.kind, err)
		}
	}
	return nil
}

func (ix *Index) delete(ctx context.Context, ids []int64) error {
	col := "doc_id"
	if ix.d.Dialect == db.SQLite {
		col = "rowid"
	}
	for start := 0; start < len(ids); start += putBatch {
		batch := ids[start:min(start+putBatch, len(ids))]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		q := `DELETE FROM ` + ix.table + ` WHERE ` + col + ` IN (?` + strings.Repeat(", ?", len(batch)-1) + `)`
		if _, err := ix.d.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("search: delete %s: %w", ix.kind, err)
		}
	}
	return nil
}

// Search returns the ids of the documents matching q, newest (highest id) first, at
// most limit of them (DefaultLimit when limit <= 0, at most MaxLimit). after is the
// keyset cursor: 0 for the first page, else the last id of the previous page. A query
// without terms matches nothing. It reads inside ctx's transaction when there is one.
func (ix *Index) Search(ctx context.Context, q string, limit int, after int64) ([]int64, error) {
	return ix.SearchQuery(ctx, ParseQuery(q), limit, after)
}

// SearchQuery is Search with an already parsed query.
func (ix *Index) SearchQuery(ctx context.Context, q Query, limit int, after int64) ([]int64, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if q.Empty() || after < 0 || after == 1 {
		return nil, ctx.Err()
	}
	// Inside a transaction, its own pending changes must be visible.
	if err := ix.d.FlushDeferred(ctx, ix); err != nil {
		return nil, err
	}
	if ix.d.Dialect == db.Postgres {
		if after == 0 {
			after = math.MaxInt64
		}
		expr := q.tsquery()
		ids, err := ix.ids(ctx, limit, ix.qWindow, after, expr, limit)
		if err != nil || len(ids) == limit {
			return ids, err
		}
		// A frequent term that still fell short (a large page) is likely answered by a
		// window pgWideFactor times wider, far cheaper than collecting its every match;
		// a rare term goes to the GIN bitmap at once.
		if len(ids)*pgWideFactor >= limit {
			if ids, err = ix.ids(ctx, limit, ix.qWindowWide, after, expr, limit); err != nil || len(ids) == limit {
				return ids, err
			}
		}
		return ix.ids(ctx, limit, ix.qBitmap, expr, after, limit)
	}
	expr := q.fts5()
	var args []any
	sqlText := ix.qSearch
	if after > 0 {
		sqlText = ix.qSearchAfter
		args = []any{expr, after, limit}
	} else {
		args = []any{expr, limit}
	}
	return ix.ids(ctx, limit, sqlText, args...)
}

func (ix *Index) ids(ctx context.Context, limit int, sqlText string, args ...any) ([]int64, error) {
	rows, err := ix.d.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("search: query %s: %w", ix.kind, err)
	}
	defer rows.Close()
	ids := make([]int64, 0, limit)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("search: scan %s: %w", ix.kind, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: query %s: %w", ix.kind, err)
	}
	return ids, nil
}
