package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

type txKey struct{}

type txState struct {
	db           *DB
	tx           *sql.Tx
	beforeCommit []func(ctx context.Context) error
	afterCommit  []func()
	values       map[any]any
	deferred     []*deferral // Defer (deferred.go)
}

func txFrom(ctx context.Context, d *DB) *txState {
	t, _ := ctx.Value(txKey{}).(*txState)
	if t == nil || t.db != d {
		return nil
	}
	return t
}

// WithTx runs fn in one write transaction carried in ctx. A nested call joins the outer
// transaction. Hooks registered with BeforeCommit run, in order, just before COMMIT
// (audit appends use it to hold the chain head as briefly as possible); hooks from
// AfterCommit run after a successful COMMIT (event publication). On SQLite, concurrent
// calls are committed in groups (see group.go); each caller still gets its own outcome.
func (d *DB) WithTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if txFrom(ctx, d) != nil {
		return fn(ctx)
	}
	if d.group != nil {
		return d.group.submit(ctx, fn)
	}
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	t := &txState{db: d, tx: tx}
	tctx := context.WithValue(ctx, txKey{}, t)
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tctx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("db: rollback: %w", rbErr))
		}
		return err
	}
	if err := runDeferred(tctx, t.deferred); err != nil {
		_ = tx.Rollback()
		return err
	}
	for i := 0; i < len(t.beforeCommit); i++ { // hooks may add hooks
		if err := t.beforeCommit[i](tctx); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	for _, f := range t.afterCommit {
		f()
	}
	return nil
}

// BeforeCommit registers f to run inside ctx's transaction just before it commits.
// Without a transaction in ctx it returns an error: callers must be inside WithTx.
func (d *DB) BeforeCommit(ctx context.Context, f func(ctx context.Context) error) error {
	t := txFrom(ctx, d)
	if t == nil {
		return errors.New("db: BeforeCommit outside a transaction")
	}
	t.beforeCommit = append(t.beforeCommit, f)
	return nil
}

// AfterCommit registers f to run after ctx's transaction commits; without a transaction
// f runs at once.
func (d *DB) AfterCommit(ctx context.Context, f func()) {
	if t := txFrom(ctx, d); t != nil {
		t.afterCommit = append(t.afterCommit, f)
		return
	}
	f()
}

// TxValue returns a value stored on ctx's transaction under key, creating it with mk on
// first use. It lets a package keep per-transaction state (e.g. pending audit entries).
func (d *DB) TxValue(ctx context.Context, key any, mk func() any) (any, bool) {
	t := txFrom(ctx, d)
	if t == nil {
		return nil, false
	}
	if t.values == nil {
		t.values = map[any]any{}
	}
	v, ok := t.values[key]
	if !ok {
		v = mk()
		t.values[key] = v
	}
	return v, true
}
