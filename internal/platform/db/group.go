package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Group commit for SQLite.
//
// SQLite has one writer. Under concurrent load every write transaction used to pay its
// own COMMIT, i.e. its own append of every page it touched (table and index pages,
// the search segment, the audit head) to the WAL. The group committer runs the write
// transactions that are waiting at the same moment inside ONE SQLite transaction, each
// in its own SAVEPOINT: a failing or panicking function rolls back to its savepoint
// and only its caller sees the error; the others commit together. Every caller gets
// its answer only after the shared COMMIT, so an acknowledged write is as durable as
// before. Pages shared between the batched transactions (index roots, the audit chain
// head, the search index's newest segment) are written once per batch instead of once
// per transaction.
//
// Savepoints are not free (a SAVEPOINT and a RELEASE per member, and SQLite's FTS5
// flushes its pending terms into a new index segment at every RELEASE, which later
// costs merges), so a batch first runs optimistically: every member in the shared
// transaction without savepoints. Only when a member fails or panics is that attempt
// rolled back and the batch run again with a savepoint per member, as described above.
// A member's function may therefore run twice, as a transaction function must allow
// anyway (the first run's effects were rolled back and its hooks discarded).

const maxGroup = 32

type groupReq struct {
	ctx context.Context
	fn  func(ctx context.Context) error
	res chan groupRes
}

type groupRes struct {
	err   error
	panic any
	after []func()
	state *txState // the member's transaction state (its deferred writes)
}

type group struct {
	d      *DB
	reqs   chan *groupReq
	quit   chan struct{}
	done   chan struct{}
	closed sync.Once
}

func newGroup(d *DB) *group {
	g := &group{d: d, reqs: make(chan *groupReq, 256), quit: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	return g
}

var errClosed = errors.New("db: closed")

func (g *group) close() {
	g.closed.Do(func() { close(g.quit) })
	<-g.done
}

// submit runs fn in the next group and waits for its outcome.
func (g *group) submit(ctx context.Context, fn func(ctx context.Context) error) error {
	r := &groupReq{ctx: ctx, fn: fn, res: make(chan groupRes, 1)}
	select {
	case g.reqs <- r:
	case <-g.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	res := <-r.res // always answered: the loop answers every request it takes
	if res.panic != nil {
		panic(res.panic)
	}
	if res.err != nil {
		return res.err
	}
	for _, f := range res.after {
		f()
	}
	return nil
}

func (g *group) loop() {
	defer close(g.done)
	batch := make([]*groupReq, 0, maxGroup)
	for {
		select {
		case <-g.quit:
			for {
				select {
				case r := <-g.reqs:
					r.res <- groupRes{err: errClosed}
				default:
					return
				}
			}
		case r := <-g.reqs:
			batch = append(batch[:0], r)
		drain:
			for len(batch) < maxGroup {
				select {
				case r := <-g.reqs:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			g.run(batch)
		}
	}
}

// run executes one batch in one transaction.
func (g *group) run(batch []*groupReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.res <- groupRes{err: err}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	if len(live) > 1 && g.runOptimistic(live) {
		return
	}
	tx, err := g.d.W.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range live {
			r.res <- groupRes{err: fmt.Errorf("db: begin: %w", err)}
		}
		return
	}
	useSavepoints := len(live) > 1
	results := make([]groupRes, len(live))
	committed := make([]bool, len(live))
	abort := func(cause error) {
		_ = tx.Rollback()
		for i, r := range live {
			if results[i].err == nil && results[i].panic == nil {
				results[i].err = fmt.Errorf("db: group transaction aborted: %w", cause)
			}
			r.res <- results[i]
		}
	}
	for i, r := range live {
		if useSavepoints {
			if _, err := tx.Exec("SAVEPOINT kefu_group"); err != nil {
				abort(err)
				return
			}
		}
		t := &txState{db: g.d, tx: tx}
		err, p := runOne(r.ctx, r.fn, t)
		switch {
		case err == nil && p == nil:
			committed[i] = true
			results[i].after, results[i].state = t.afterCommit, t
			if useSavepoints {
				if _, err := tx.Exec("RELEASE kefu_group"); err != nil {
					abort(err)
					return
				}
			}
		case !useSavepoints:
			_ = tx.Rollback()
			r.res <- groupRes{err: err, panic: p}
			return
		default:
			results[i] = groupRes{err: err, panic: p}
			if _, rbErr := tx.Exec("ROLLBACK TO kefu_group"); rbErr != nil {
				abort(rbErr)
				return
			}
			if _, rbErr := tx.Exec("RELEASE kefu_group"); rbErr != nil {
				abort(rbErr)
				return
			}
		}
	}
	anyOK := false
	var states []*txState
	for i, c := range committed {
		anyOK = anyOK || c
		if c {
			states = append(states, results[i].state)
		}
	}
	if err := g.flushDeferred(tx, states); err != nil {
		abort(err)
		return
	}
	if !anyOK {
		_ = tx.Rollback()
	} else if err := tx.Commit(); err != nil {
		for i := range live {
			if committed[i] {
				results[i] = groupRes{err: fmt.Errorf("db: commit: %w", err)}
			}
		}
	}
	for i, r := range live {
		r.res <- results[i]
	}
}

// runOptimistic runs every member of the batch in one transaction without savepoints
// and answers them all after the COMMIT. When a member fails or panics (or BEGIN
// fails) it rolls back, answers nobody and reports false: the caller runs the batch
// again with savepoints, which isolates the failing member.
func (g *group) runOptimistic(live []*groupReq) bool {
	tx, err := g.d.W.BeginTx(context.Background(), nil)
	if err != nil {
		return false
	}
	after := make([][]func(), len(live))
	states := make([]*txState, len(live))
	for i, r := range live {
		t := &txState{db: g.d, tx: tx}
		if err, p := runOne(r.ctx, r.fn, t); err != nil || p != nil {
			_ = tx.Rollback()
			return false
		}
		after[i], states[i] = t.afterCommit, t
	}
	if err := g.flushDeferred(tx, states); err != nil {
		_ = tx.Rollback()
		return false
	}
	if err := tx.Commit(); err != nil {
		for _, r := range live {
			r.res <- groupRes{err: fmt.Errorf("db: commit: %w", err)}
		}
		return true
	}
	for i, r := range live {
		r.res <- groupRes{after: after[i]}
	}
	return true
}

// flushDeferred runs, once for the whole group, the deferred writes of the members
// whose states are given (deferred.go), inside tx.
func (g *group) flushDeferred(tx *sql.Tx, states []*txState) error {
	dfs := mergeDeferred(states)
	if len(dfs) == 0 {
		return nil
	}
	return runDeferred(context.WithValue(context.Background(), txKey{}, &txState{db: g.d, tx: tx}), dfs)
}

// runOne runs one caller's function and its before-commit hooks on t, turning a panic
// into a value to re-raise in the caller's goroutine.
func runOne(ctx context.Context, fn func(context.Context) error, t *txState) (err error, p any) {
	tctx := context.WithValue(ctx, txKey{}, t)
	defer func() {
		if v := recover(); v != nil {
			p = v
		}
	}()
	if err := fn(tctx); err != nil {
		return err, nil
	}
	for i := 0; i < len(t.beforeCommit); i++ {
		if err := t.beforeCommit[i](tctx); err != nil {
			return err, nil
		}
	}
	return nil, nil
}
