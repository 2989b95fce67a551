// Package jobs runs durable background jobs stored in the database.
//
// A job is a row in the jobs table: a kind (the name of a registered Handler), a JSON
// payload and a schedule (run_at). Enqueue writes the row inside the caller's
// transaction when ctx carries one, so a job exists if and only if the business write
// that asked for it committed. Runners on any number of nodes claim due jobs with a
// lease (FOR UPDATE SKIP LOCKED on PostgreSQL, a write transaction on SQLite), run them,
// and record the outcome: done, a retry with exponential backoff, or dead after the
// last attempt. A node that dies mid-job leaves a lease that expires; any node then
// takes the job again. Periodic jobs are enqueued by every node with a unique key per
// period, so each period's job exists, and runs, once. See docs/jobs.md.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Status is the state of a job.
type Status string

// The job states.
const (
	Queued  Status = "queued"  // waiting for run_at
	Running Status = "running" // claimed by a node, lease until locked_until
	Done    Status = "done"    // finished successfully
	Failed  Status = "failed"  // an attempt failed; waiting for the retry at run_at
	Dead    Status = "dead"    // gave up: attempts exhausted or a permanent error
)

// Defaults for Options and EnqueueOptions.
const (
	DefaultConcurrency  = 4
	DefaultLease        = time.Minute
	DefaultPollInterval = time.Second
	DefaultGrace        = 10 * time.Second
	DefaultRetention    = 7 * 24 * time.Hour
	DefaultMaxAttempts  = 10
	// DefaultBackoffBase and DefaultBackoffMax shape the default retry delay:
	// base * 2^(attempt-1), at most max.
	DefaultBackoffBase = 10 * time.Second
	DefaultBackoffMax  = time.Hour
)

// maxErrorLen bounds the stored last_error.
const maxErrorLen = 2000

// Handler runs one job. ctx is cancelled when the runner shuts down and carries a system
// actor named "job:<kind>". A nil error marks the job done; an error schedules a retry
// (or marks the job dead after its last attempt, or at once for Permanent errors).
// Handlers should be idempotent: a job whose node dies mid-run runs again elsewhere.
type Handler func(ctx context.Context, j Job) error

// Job is a claimed job as its handler sees it.
type Job struct {
	ID          int64
	Kind        string
	Payload     json.RawMessage
	UniqueKey   string // "" when none
	Attempt     int    // 1 for the first run
	MaxAttempts int
	RunAt       time.Time
	CreatedAt   time.Time
	LastError   string // the previous attempt's error, if any
}

// Decode unmarshals the payload into v.
func (j Job) Decode(v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return fmt.Errorf("jobs: decode payload of %s #%d: %w", j.Kind, j.ID, err)
	}
	return nil
}

// Period is the payload of a job enqueued by a periodic schedule.
type Period struct {
	Key   string `json:"key"`   // e.g. "2026-11-23"
	Start int64  `json:"start"` // Unix milliseconds at which the period began
}

// Options configure a Runner.
type Options struct {
	DB    *db.DB
	Clock clock.Clock
	Log   *slog.Logger
	// NodeID names this process in locked_by. It must differ between live processes;
	// the default is host:pid:random.
	NodeID string
	// Concurrency is how many handlers run at once on this node (default 4).
	Concurrency int
	// Lease is how long a claim holds a job before another node may take it again
	// (default 1 min). Running jobs renew it every Lease/3.
	Lease time.Duration
	// PollInterval is how often the runner looks for due jobs when not kicked (default 1s).
	PollInterval time.Duration
	// Grace is how long Run waits for running handlers after its ctx ends (default 10s).
	Grace time.Duration
	// Retention is how long done jobs are kept before housekeeping deletes them
	// (default 7 days). Periodic schedules must have periods shorter than this.
	Retention time.Duration
	// Backoff returns the delay before retry number attempt (1-based); default
	// 10s * 2^(attempt-1), at most 1h.
	Backoff func(attempt int) time.Duration
}

// Runner enqueues, claims and runs jobs.
type Runner struct {
	db        *db.DB
	clock     clock.Clock
	log       *slog.Logger
	node      string
	conc      int
	lease     time.Duration
	poll      time.Duration
	grace     time.Duration
	retention time.Duration
	backoff   func(int) time.Duration

	mu       sync.RWMutex
	handlers map[string]Handler
	periodic []*periodic
	running  bool

	kick chan struct{}
}

type periodic struct {
	kind    string
	sched   Schedule
	lastKey string
}

// New returns a Runner. Register handlers, then call Run.
func New(o Options) *Runner {
	r := &Runner{
		db:        o.DB,
		clock:     o.Clock,
		log:       o.Log,
		node:      o.NodeID,
		conc:      o.Concurrency,
		lease:     o.Lease,
		poll:      o.PollInterval,
		grace:     o.Grace,
		retention: o.Retention,
		backoff:   o.Backoff,
		handlers:  map[string]Handler{},
		kick:      make(chan struct{}, 1),
	}
	if r.clock == nil {
		r.clock = clock.Real{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.node == "" {
		r.node = defaultNodeID()
	}
	if r.conc <= 0 {
		r.conc = DefaultConcurrency
	}
	if r.lease <= 0 {
		r.lease = DefaultLease
	}
	if r.poll <= 0 {
		r.poll = DefaultPollInterval
	}
	if r.grace <= 0 {
		r.grace = DefaultGrace
	}
	if r.retention <= 0 {
		r.retention = DefaultRetention
	}
	if r.backoff == nil {
		r.backoff = DefaultBackoff
	}
	return r
}

func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(b)
}

// DefaultBackoff is 10s * 2^(attempt-1), capped at one hour.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := DefaultBackoffBase
	for i := 1; i < attempt; i++ {
		d *= 2
		if d >= DefaultBackoffMax {
			return DefaultBackoffMax
		}
	}
	return d
}

// NodeID returns the runner's node id.
func (r *Runner) NodeID() string { return r.node }

// Register sets the handler for kind. Call it at wiring time, before Run; registering a
// kind twice, an empty kind or a nil handler panics (a programming error).
func (r *Runner) Register(kind string, h Handler) {
	if kind == "" || h == nil {
		panic("jobs: Register needs a kind and a handler")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.handlers[kind]; dup {
		panic(fmt.Sprintf("jobs: kind %q registered twice", kind))
	}
	r.handlers[kind] = h
}

// Every makes kind periodic: while Run runs, the job of the current period of s is
// enqueued with the unique key "<kind>:<period key>" and a Period payload. Every node
// does so, and the unique key makes the period's job exist, and run, once. A period
// missed while all nodes were down runs once when one comes back. The kind needs a
// handler (Register) before Run starts.
func (r *Runner) Every(kind string, s Schedule) {
	if kind == "" || s == nil {
		panic("jobs: Every needs a kind and a schedule")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.periodic {
		if p.kind == kind {
			panic(fmt.Sprintf("jobs: kind %q scheduled twice", kind))
		}
	}
	r.periodic = append(r.periodic, &periodic{kind: kind, sched: s})
}

func (r *Runner) handler(kind string) (Handler, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	h, ok := r.handlers[kind]
	return h, ok
}

// Kick wakes the run loop so that it looks for due jobs now. It never blocks.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// EnqueueOption tunes one Enqueue.
type EnqueueOption func(*enqueueOpts)

type enqueueOpts struct {
	runAt       time.Time
	runIn       time.Duration
	uniqueKey   string
	maxAttempts int
}

// RunAt delays the job until t (default: now).
func RunAt(t time.Time) EnqueueOption { return func(o *enqueueOpts) { o.runAt, o.runIn = t, 0 } }

// RunIn delays the job by d from the runner's clock.
func RunIn(d time.Duration) EnqueueOption {
	return func(o *enqueueOpts) { o.runIn, o.runAt = d, time.Time{} }
}

// UniqueKey makes the job exist at most once for key (until done jobs are purged):
// enqueueing a key that exists returns the existing job's id and created=false.
func UniqueKey(key string) EnqueueOption { return func(o *enqueueOpts) { o.uniqueKey = key } }

// MaxAttempts sets how many times the job may run before it is dead (default 10).
func MaxAttempts(n int) EnqueueOption { return func(o *enqueueOpts) { o.maxAttempts = n } }

// ErrUnknownKind is returned by Enqueue for a kind with no registered handler.
var ErrUnknownKind = errors.New("jobs: unknown kind")

// Enqueue adds a job of kind with payload (marshalled to JSON; json.RawMessage is
// stored as is). When ctx carries a transaction of the runner's database the job is
// written in it, and exists only if it commits; after the commit this node's run loop
// is kicked. With UniqueKey, a key that already exists yields that job's id and
// created=false, without error.
func (r *Runner) Enqueue(ctx context.Context, kind string, payload any, opts ...EnqueueOption) (id int64, created bool, err error) {
	if _, ok := r.handler(kind); !ok {
		return 0, false, fmt.Errorf("%w %q", ErrUnknownKind, kind)
	}
	var o enqueueOpts
	for _, f := range opts {
		f(&o)
	}
	now := r.clock.Now()
	runAt := o.runAt
	if runAt.IsZero() {
		runAt = now.Add(o.runIn)
	}
	if o.maxAttempts <= 0 {
		o.maxAttempts = DefaultMaxAttempts
	}
	body, err := marshalPayload(payload)
	if err != nil {
		return 0, false, fmt.Errorf("jobs: enqueue %s: payload: %w", kind, err)
	}
	err = r.db.WithTx(ctx, func(ctx context.Context) error {
		id, created, err = r.insert(ctx, kind, body, o.uniqueKey, o.maxAttempts, clock.Millis(runAt), clock.Millis(now))
		if err != nil {
			return err
		}
		if created && !runAt.After(now) {
			r.db.AfterCommit(ctx, r.Kick)
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	return id, created, nil
}

func marshalPayload(p any) (string, error) {
	switch v := p.(type) {
	case nil:
		return "{}", nil
	case json.RawMessage:
		if !json.Valid(v) {
			return "", errors.New("invalid JSON")
		}
		return string(v), nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// permanentError marks an error that must not be retried.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the job is marked dead at once instead of retried (for
// example a payload that can never be processed).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was wrapped with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
