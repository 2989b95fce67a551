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
	// envelope marks a transaction opened by WithEnvelope: a WithTx inside it runs in a
	// savepoint of its own instead of simply joining (see WithEnvelope).
	envelope bool
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
	if t := txFrom(ctx, d); t != nil {
		if t.envelope {
			return d.inSavepoint(ctx, t, fn)
		}
		return fn(ctx)
	}
	if d.group != nil {
		return d.group.submit(ctx, fn)
	}
	return d.runTx(ctx, false, fn)
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

// WithEnvelope runs fn in one write transaction that the WithTx calls made inside it
// join, each as if it were on its own: every such call runs in a SAVEPOINT with its own
// hooks, so one that fails is rolled back alone (on PostgreSQL an error no longer
// aborts the whole envelope) while the caller carries on, exactly as when each call
// committed by itself. Reads with ctx go through the envelope, so they see its writes.
// Nothing commits until fn returns nil: then the deferred writes and BeforeCommit hooks
// run, the envelope commits, and the AfterCommit hooks of every successful inner call
// run. An error or panic from fn rolls everything back.
//
// It exists for work whose outcome must commit atomically with a record of that
// outcome (internal/platform/idempotency keeps an HTTP response with the writes that
// produced it). It bypasses SQLite's group commit and holds the single writer until fn
// returns, so fn must be short, and inside it nothing may write with a context that
// does not carry the envelope (on SQLite that would wait for the writer forever). On
// PostgreSQL at most half the pool's connections are held by envelopes at once, so
// that a read made outside the envelope while it is open always finds a connection.
func (d *DB) WithEnvelope(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if txFrom(ctx, d) != nil {
		return fn(ctx)
	}
	if d.envelopes != nil {
		select {
		case d.envelopes <- struct{}{}:
			defer func() { <-d.envelopes }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return d.runTx(ctx, true, fn)
}

// inSavepoint runs fn inside env (an envelope) as its own unit: a savepoint, a
// transaction state of its own for hooks and per-transaction values, its BeforeCommit
// hooks before the savepoint is released; on success its deferred writes and
// AfterCommit hooks move to the envelope, on failure the savepoint is rolled back and
// they are dropped, as the group committer does for its members.
func (d *DB) inSavepoint(ctx context.Context, env *txState, fn func(ctx context.Context) error) error {
	if _, err := env.tx.ExecContext(ctx, "SAVEPOINT kefu_envelope"); err != nil {
		return fmt.Errorf("db: savepoint: %w", err)
	}
	child := &txState{db: d, tx: env.tx}
	err, p := runOne(ctx, fn, child)
	if err != nil || p != nil {
		bg := context.WithoutCancel(ctx)
		if _, rbErr := env.tx.ExecContext(bg, "ROLLBACK TO SAVEPOINT kefu_envelope"); rbErr == nil {
			_, _ = env.tx.ExecContext(bg, "RELEASE SAVEPOINT kefu_envelope")
		} else if err != nil {
			err = errors.Join(err, fmt.Errorf("db: rollback to savepoint: %w", rbErr))
		}
		if p != nil {
			panic(p)
		}
		return err
	}
	if _, err := env.tx.ExecContext(ctx, "RELEASE SAVEPOINT kefu_envelope"); err != nil {
		return fmt.Errorf("db: release savepoint: %w", err)
	}
	env.afterCommit = append(env.afterCommit, child.afterCommit...)
	for _, df := range child.deferred {
		if len(df.items) == 0 {
			continue
		}
		var into *deferral
		for _, o := range env.deferred {
			if o.key == df.key {
				into = o
				break
			}
		}
		if into == nil {
			into = &deferral{key: df.key, flush: df.flush}
			env.deferred = append(env.deferred, into)
		}
		into.items = append(into.items, df.items...)
	}
	return nil
}

// runTx runs fn in a new write transaction (an envelope when envelope is set) and
// commits it: deferred writes and BeforeCommit hooks first, AfterCommit hooks after a
// successful COMMIT. An error or panic from fn rolls it back.
func (d *DB) runTx(ctx context.Context, envelope bool, fn func(ctx context.Context) error) error {
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	t := &txState{db: d, tx: tx, envelope: envelope}
	tctx := context.WithValue(ctx, txKey{}, t)
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tctx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && !IsUnavailable(rbErr) {
			return errors.Join(err, fmt.Errorf("db: rollback: %w", rbErr))
		}
		return err
	}
	if err := runDeferred(tctx, t.deferred); err != nil {
		_ = tx.Rollback()
		return err
	}
	for i := 0; i < len(t.beforeCommit); i++ {
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
