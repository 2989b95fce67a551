package jobs

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
)

// housekeepEvery is how often Run purges old done jobs.
const housekeepEvery = time.Hour

// outcomeTimeout bounds the write of a batch of outcomes.
const outcomeTimeout = 30 * time.Second

// prepare freezes the registered kinds into the claim statement and checks the
// periodic kinds. It is called when Run or RunDue starts.
func (r *Runner) prepare() (string, []string, error) {
	r.mu.RLock()
	kinds := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		kinds = append(kinds, k)
	}
	var missing []string
	for _, p := range r.periodic {
		if _, ok := r.handlers[p.kind]; !ok {
			missing = append(missing, p.kind)
		}
	}
	r.mu.RUnlock()
	if len(missing) > 0 {
		return "", nil, fmt.Errorf("jobs: periodic kinds without a handler: %v", missing)
	}
	sort.Strings(kinds)
	return claimSQL(r.db.Dialect, len(kinds)), kinds, nil
}

// pool runs claimed jobs, at most conc at a time.
type pool struct {
	r    *Runner
	base context.Context // parent of outcome writes: values of Run's ctx, never cancelled
	hctx context.Context // parent of handler contexts: cancelled on shutdown

	slots chan struct{}
	freed chan struct{}
	wg    sync.WaitGroup // one per job from start until its outcome is written

	mu   sync.Mutex
	held map[int64]Job // started and not yet recorded

	// Outcomes go through out to one recorder that writes them in batches, one
	// transaction per batch (nil out: each is written by its own goroutine).
	outMu   sync.RWMutex
	out     chan outcome
	closed  bool
	recDone chan struct{}
}

type outcome struct {
	job      Job
	err      error // the handler's
	shutdown bool  // the handler's ctx was cancelled by shutdown
}

// maxBatch bounds how many outcomes one transaction writes; gatherWindow is how long
// the recorder waits for more outcomes while other jobs are still running.
const (
	maxBatch     = 64
	gatherWindow = time.Millisecond
)

func (r *Runner) newPool(base, hctx context.Context, batch bool) *pool {
	p := &pool{
		r:     r,
		base:  base,
		hctx:  hctx,
		slots: make(chan struct{}, r.conc),
		freed: make(chan struct{}, 1),
		held:  map[int64]Job{},
	}
	if batch {
		p.out = make(chan outcome, r.conc)
		p.recDone = make(chan struct{})
		go p.recorder()
	}
	return p
}

func (p *pool) free() int { return cap(p.slots) - len(p.slots) }

// start runs j on a free slot; the caller checked free() > 0. The slot is released once
// the outcome is written, so that outcomes written together free slots together and
// the next claim takes several jobs at once.
func (p *pool) start(j Job) {
	p.slots <- struct{}{}
	p.mu.Lock()
	p.held[j.ID] = j
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		herr := p.r.execute(p.hctx, j)
		o := outcome{job: j, err: herr, shutdown: p.hctx.Err() != nil}
		p.outMu.RLock()
		if p.out != nil && !p.closed {
			p.out <- o
			p.outMu.RUnlock()
			return
		}
		p.outMu.RUnlock()
		p.r.recordBatch(p.base, []outcome{o})
		p.release(j)
	}()
}

// release frees the slot of j after its outcome was written.
func (p *pool) release(j Job) {
	p.mu.Lock()
	delete(p.held, j.ID)
	p.mu.Unlock()
	<-p.slots
	p.wg.Done()
	select {
	case p.freed <- struct{}{}:
	default:
	}
}

func (p *pool) recorder() {
	defer close(p.recDone)
	gather := time.NewTimer(0)
	defer gather.Stop()
	for o := range p.out {
		batch := []outcome{o}
		// Wait briefly for the other running jobs' outcomes: jobs claimed together
		// tend to finish together, and one transaction for all of them frees their
		// slots together, so that the next claim takes as many jobs at once.
		gather.Reset(gatherWindow)
	more:
		for len(batch) < maxBatch {
			p.mu.Lock()
			pending := len(p.held) - len(batch)
			p.mu.Unlock()
			wait := gather.C
			if pending <= 0 {
				wait = nil
			}
			select {
			case o, ok := <-p.out:
				if !ok {
					break more
				}
				batch = append(batch, o)
				continue
			default:
			}
			if wait == nil {
				break
			}
			select {
			case o, ok := <-p.out:
				if !ok {
					break more
				}
				batch = append(batch, o)
			case <-wait:
				break more
			}
		}
		p.r.recordBatch(p.base, batch)
		for _, o := range batch {
			p.release(o.job)
		}
	}
}

// closeOut stops batching: outcomes of handlers still running are then written by their
// own goroutines. It waits for the recorder to write what it has.
func (p *pool) closeOut() {
	if p.out == nil {
		return
	}
	p.outMu.Lock()
	p.closed = true
	close(p.out)
	p.outMu.Unlock()
	<-p.recDone
}

// running returns the jobs in flight.
func (p *pool) running() []Job {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Job, 0, len(p.held))
	for _, j := range p.held {
		out = append(out, j)
	}
	return out
}

// renew extends the leases of the jobs in flight.
func (p *pool) renew(ctx context.Context) {
	r := p.r
	for _, j := range p.running() {
		now := r.clock.Now()
		ok, err := r.fenced(ctx, sqlRenew, j, clock.Millis(now.Add(r.lease)), clock.Millis(now))
		switch {
		case err != nil:
			if ctx.Err() == nil {
				r.log.Warn("jobs: renew lease", "id", j.ID, "kind", j.Kind, "err", err)
			}
		case !ok:
			r.log.Warn("jobs: lease lost while running; another node may run the job again", "id", j.ID, "kind", j.Kind)
		}
	}
}

// wait waits for the jobs in flight, at most d (forever when d < 0); it reports whether
// all finished.
func (p *pool) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	if d < 0 {
		<-done
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// execute runs one claimed job and returns the handler's error.
func (r *Runner) execute(hctx context.Context, j Job) error {
	h, ok := r.handler(j.Kind)
	if !ok { // cannot happen: only registered kinds are claimed
		return Permanent(fmt.Errorf("%w %q", ErrUnknownKind, j.Kind))
	}
	ctx := hctx
	if authz.From(ctx) == nil {
		ctx = authz.WithActor(ctx, authz.System("job:"+j.Kind))
	}
	return r.call(ctx, h, j)
}

// call runs h, turning a panic into an error.
func (r *Runner) call(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("jobs: handler panicked", "id", j.ID, "kind", j.Kind, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("jobs: panic: %v", p)
		}
	}()
	return h(ctx, j)
}

// record writes the outcome of one run of j.
func (r *Runner) record(ctx context.Context, j Job, herr error, shutdown bool) {
	r.recordBatch(ctx, []outcome{{job: j, err: herr, shutdown: shutdown}})
}

// recordBatch writes outcomes in one transaction; if that fails, one by one.
func (r *Runner) recordBatch(base context.Context, batch []outcome) {
	ctx, cancel := context.WithTimeout(base, outcomeTimeout)
	defer cancel()
	names := make([]string, len(batch))
	oks := make([]bool, len(batch))
	var err error
	if len(batch) == 1 {
		names[0], oks[0], err = r.apply(ctx, batch[0])
		r.logOutcome(batch[0], names[0], oks[0], err)
		return
	}
	err = r.db.WithTx(ctx, func(ctx context.Context) error {
		for i, o := range batch {
			var err error
			if names[i], oks[i], err = r.apply(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.log.Warn("jobs: batch of outcomes failed; writing them one by one", "count", len(batch), "err", err)
		for _, o := range batch {
			r.recordBatch(base, []outcome{o})
		}
		return
	}
	for i, o := range batch {
		r.logOutcome(o, names[i], oks[i], nil)
	}
}

// apply runs the outcome statement of o and reports whether the claim still held.
func (r *Runner) apply(ctx context.Context, o outcome) (string, bool, error) {
	j, herr := o.job, o.err
	now := r.clock.Now()
	ms := clock.Millis(now)
	switch {
	case herr == nil:
		ok, err := r.fenced(ctx, sqlDone, j, ms, ms)
		return "done", ok, err
	case o.shutdown:
		// Interrupted by shutdown: give the attempt back and let any node run it again.
		ok, err := r.fenced(ctx, sqlRelease, j, ms, ms)
		return "released", ok, err
	case IsPermanent(herr) || j.Attempt >= j.MaxAttempts:
		ok, err := r.fenced(ctx, sqlDead, j, truncate(herr.Error()), ms, ms)
		return "dead", ok, err
	default:
		at := now.Add(r.backoff(j.Attempt))
		ok, err := r.fenced(ctx, sqlRetry, j, clock.Millis(at), truncate(herr.Error()), ms)
		return "retry", ok, err
	}
}

func (r *Runner) logOutcome(o outcome, name string, ok bool, err error) {
	j := o.job
	attrs := []any{"id", j.ID, "kind", j.Kind, "attempt", j.Attempt, "outcome", name}
	if o.err != nil {
		attrs = append(attrs, "error", o.err.Error())
	}
	switch {
	case err != nil:
		r.log.Error("jobs: record outcome", append(attrs, "err", err)...)
	case !ok:
		r.log.Warn("jobs: lease lost before the outcome was recorded; the job runs again", attrs...)
	case name == "dead":
		r.log.Error("jobs: job dead", attrs...)
	case name == "retry":
		r.log.Warn("jobs: job failed, will retry", attrs...)
	default:
		r.log.Debug("jobs: job finished", attrs...)
	}
}

func truncate(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	// Cut on a rune boundary.
	cut := maxErrorLen
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

// maintain enqueues the current period of each periodic kind and requeues jobs whose
// lease expired.
func (r *Runner) maintain(ctx context.Context) {
	r.schedule(ctx)
	if n, err := r.reclaim(ctx); err != nil {
		if ctx.Err() == nil {
			r.log.Warn("jobs: reclaim", "err", err)
		}
	} else if n > 0 {
		r.log.Warn("jobs: requeued jobs whose lease expired", "count", n)
	}
}

// schedule enqueues, for each periodic kind, the job of the current period unless this
// runner already did. Other nodes doing the same hit the unique key.
func (r *Runner) schedule(ctx context.Context) {
	r.mu.RLock()
	ps := append([]*periodic(nil), r.periodic...)
	r.mu.RUnlock()
	now := r.clock.Now()
	for _, p := range ps {
		key, start, _ := p.sched.Period(now)
		r.mu.RLock()
		last := p.lastKey
		r.mu.RUnlock()
		if key == last {
			continue
		}
		id, created, err := r.Enqueue(ctx, p.kind, Period{Key: key, Start: clock.Millis(start)},
			UniqueKey(p.kind+":"+key), RunAt(start), MaxAttempts(DefaultMaxAttempts))
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("jobs: schedule periodic job", "kind", p.kind, "period", key, "err", err)
			}
			continue
		}
		r.mu.Lock()
		p.lastKey = key
		r.mu.Unlock()
		if created {
			r.log.Info("jobs: periodic job enqueued", "kind", p.kind, "period", key, "id", id)
		}
	}
}

// ErrRunning is returned by Run when the runner already runs.
var ErrRunning = errors.New("jobs: Run called twice")

// Run claims and runs due jobs until ctx ends, then cancels the handlers' contexts and
// waits for them at most the grace period. A handler that returns after being cancelled
// with an error gives its attempt back; one still running when Run returns keeps its
// lease, which expires, and the job runs again on some node. Run also enqueues periodic
// jobs, requeues jobs whose lease expired and purges old done jobs. It returns nil after
// a clean shutdown.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return ErrRunning
	}
	r.running = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}()
	q, kinds, err := r.prepare()
	if err != nil {
		return err
	}
	base := context.WithoutCancel(ctx)
	hctx, cancelHandlers := context.WithCancel(base)
	defer cancelHandlers()
	p := r.newPool(base, hctx, true)

	r.log.Info("jobs: runner started", "node", r.node, "kinds", len(kinds), "concurrency", r.conc, "lease", r.lease)
	poll := time.NewTicker(r.poll)
	defer poll.Stop()
	beat := time.NewTicker(max(r.lease/3, time.Millisecond))
	defer beat.Stop()
	var lastMaintain, lastPurge time.Time

loop:
	for {
		if time.Since(lastMaintain) >= r.poll {
			r.maintain(ctx)
			lastMaintain = time.Now()
		}
		if time.Since(lastPurge) >= housekeepEvery {
			lastPurge = time.Now()
			if n, err := r.Purge(ctx, r.retention); err != nil {
				if ctx.Err() == nil {
					r.log.Warn("jobs: purge", "err", err)
				}
			} else if n > 0 {
				r.log.Info("jobs: purged done jobs", "count", n)
			}
		}
		for free := p.free(); free > 0 && ctx.Err() == nil; free = p.free() {
			jobs, err := r.claim(ctx, q, kinds, free)
			if err != nil {
				if ctx.Err() == nil {
					r.log.Warn("jobs: claim", "err", err)
				}
				break
			}
			for _, j := range jobs {
				p.start(j)
			}
			if len(jobs) < free {
				break
			}
		}
		select {
		case <-ctx.Done():
			break loop
		case <-r.kick:
		case <-p.freed:
		case <-poll.C:
		case <-beat.C:
			p.renew(ctx)
		}
	}

	cancelHandlers()
	finished := p.wait(r.grace)
	p.closeOut()
	if !finished {
		ids := []int64{}
		for _, j := range p.running() {
			ids = append(ids, j.ID)
		}
		r.log.Warn("jobs: handlers still running after the grace period; their leases will expire", "ids", ids)
	}
	r.log.Info("jobs: runner stopped", "node", r.node)
	return nil
}

// RunDue runs, on this goroutine's behalf, every job due now: it enqueues the current
// periodic jobs, requeues expired leases, then claims and runs due jobs (Concurrency at
// a time) until none is left, and returns how many ran. For the CLI and tests.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	q, kinds, err := r.prepare()
	if err != nil {
		return 0, err
	}
	r.maintain(ctx)
	p := r.newPool(context.WithoutCancel(ctx), ctx, false)
	ran := 0
	for ctx.Err() == nil {
		jobs, err := r.claim(ctx, q, kinds, r.conc)
		if err != nil {
			p.wait(-1)
			return ran, err
		}
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			p.start(j)
		}
		ran += len(jobs)
		p.wait(-1)
	}
	p.wait(-1)
	return ran, ctx.Err()
}
