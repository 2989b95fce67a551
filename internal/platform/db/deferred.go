package db

import (
	"context"
	"errors"
)

// Deferred writes.
//
// Some writes are cheaper done once for many transactions than once for each: SQLite's
// FTS5 writes a new index segment whenever pending terms are flushed, which happens at
// every savepoint, so a full-text insert per transaction in a group commit becomes a
// segment per transaction and, later, merges. Defer queues such a write on ctx's
// transaction; the flush function runs once, just before COMMIT (before the
// BeforeCommit hooks), with the items of every transaction committed together under the
// same key, in the order they were queued.

type deferral struct {
	key   any
	flush func(ctx context.Context, items []any) error
	items []any
}

// Defer queues items under key to be written by flush just before ctx's transaction
// commits (together with the items of the transactions of the same group on SQLite).
// A rolled-back transaction's items are dropped. Without a transaction in ctx it
// returns an error: callers must be inside WithTx.
func (d *DB) Defer(ctx context.Context, key any, flush func(ctx context.Context, items []any) error, items ...any) error {
	t := txFrom(ctx, d)
	if t == nil {
		return errors.New("db: Defer outside a transaction")
	}
	for _, df := range t.deferred {
		if df.key == key {
			df.items = append(df.items, items...)
			return nil
		}
	}
	t.deferred = append(t.deferred, &deferral{key: key, flush: flush, items: append([]any(nil), items...)})
	return nil
}

// FlushDeferred writes now the items queued under key in ctx's transaction (a read that
// must see the transaction's own writes calls it first). Without a transaction, or with
// nothing queued, it does nothing.
func (d *DB) FlushDeferred(ctx context.Context, key any) error {
	t := txFrom(ctx, d)
	if t == nil {
		return nil
	}
	for _, df := range t.deferred {
		if df.key == key && len(df.items) > 0 {
			items := df.items
			df.items = nil
			return df.flush(ctx, items)
		}
	}
	return nil
}

// mergeDeferred gathers the queued items of several transactions' states by key, in
// order (first key first; within a key, transaction order).
func mergeDeferred(states []*txState) []*deferral {
	var out []*deferral
	for _, t := range states {
		for _, df := range t.deferred {
			if len(df.items) == 0 {
				continue
			}
			var into *deferral
			for _, o := range out {
				if o.key == df.key {
					into = o
					break
				}
			}
			if into == nil {
				into = &deferral{key: df.key, flush: df.flush}
				out = append(out, into)
			}
			into.items = append(into.items, df.items...)
		}
	}
	return out
}

// runDeferred runs the flushes of dfs in ctx (which carries the transaction).
func runDeferred(ctx context.Context, dfs []*deferral) error {
	for _, df := range dfs {
		if len(df.items) == 0 {
			continue
		}
		items := df.items
		df.items = nil
		if err := df.flush(ctx, items); err != nil {
			return err
		}
	}
	return nil
}
