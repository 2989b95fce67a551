package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

var t0 = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

func newRunner(t testing.TB, d *db.DB, clk clock.Clock, node string, mod ...func(*Options)) *Runner {
	o := Options{DB: d, Clock: clk, NodeID: node, PollInterval: 10 * time.Millisecond, Concurrency: 4, Log: testLog(t)}
	for _, f := range mod {
		f(&o)
	}
	return New(o)
}

// secondHandle opens another *db.DB on the same database, as a second node would.
func secondHandle(t testing.TB, d *db.DB) *db.DB {
	t.Helper()
	d2, err := db.Open(context.Background(), d.DSN, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d2.Close() })
	return d2
}

func eventually(t testing.TB, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustGet(t testing.TB, r *Runner, id int64) Info {
	t.Helper()
	in, err := r.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func mustStats(t testing.TB, r *Runner) Stats {
	t.Helper()
	s, err := r.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func countRows(t testing.TB, d *db.DB, where string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM jobs WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnqueueFollowsTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	clk := clock.NewFake(t0)
	r := newRunner(t, d, clk, "n1")
	type mail struct {
		To string `json:"to"`
	}
	var got []string
	var actor *authz.Actor
	r.Register("mail", func(ctx context.Context, j Job) error {
		var m mail
		if err := j.Decode(&m); err != nil {
			return err
		}
		got = append(got, m.To)
		actor = authz.From(ctx)
		return nil
	})

	// Rolled back: no job, no kick.
	boom := errors.New("business write failed")
	var rolledID int64
	err := d.WithTx(ctx, func(ctx context.Context) error {
		id, created, err := r.Enqueue(ctx, "mail", mail{To: "rolled@back"})
		if err != nil || !created {
			t.Fatalf("enqueue in tx: %v %v", created, err)
		}
		rolledID = id
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx = %v", err)
	}
	if _, err := r.Get(ctx, rolledID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("job of a rolled-back transaction exists: %v", err)
	}
	if n := countRows(t, d, "1 = 1"); n != 0 {
		t.Fatalf("%d jobs after rollback", n)
	}
	select {
	case <-r.kick:
		t.Fatal("kicked although the transaction rolled back")
	default:
	}

	// Committed: the job exists, the runner was kicked, and it runs.
	var id int64
	if err := d.WithTx(ctx, func(ctx context.Context) error {
		var err error
		id, _, err = r.Enqueue(ctx, "mail", mail{To: "a@example.com"})
		if err != nil {
			return err
		}
		select {
		case <-r.kick:
			t.Error("kicked before the commit")
		default:
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.kick:
	default:
		t.Fatal("not kicked after the commit")
	}
	in := mustGet(t, r, id)
	if in.Status != Queued || in.Attempts != 0 || in.MaxAttempts != DefaultMaxAttempts || !in.RunAt.Equal(t0) || string(in.Payload) != `{"to":"a@example.com"}` {
		t.Fatalf("stored job = %+v", in)
	}
	n, err := r.RunDue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v", n, err)
	}
	if len(got) != 1 || got[0] != "a@example.com" {
		t.Fatalf("handler saw %v", got)
	}
	if actor == nil || actor.Kind != authz.KindSystem || actor.Username != "job:mail" {
		t.Fatalf("handler actor = %+v", actor)
	}
	in = mustGet(t, r, id)
	if in.Status != Done || in.Attempts != 1 || !in.DoneAt.Equal(t0) || in.LockedBy != "n1" {
		t.Fatalf("after run: %+v", in)
	}

	// Outside a transaction; delayed jobs wait for their time.
	later, _, err := r.Enqueue(ctx, "mail", mail{To: "later@example.com"}, RunIn(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r.RunDue(ctx); n != 0 {
		t.Fatalf("ran %d jobs before their time", n)
	}
	clk.Advance(time.Minute)
	if n, _ := r.RunDue(ctx); n != 1 {
		t.Fatalf("ran %d jobs at their time, want 1", n)
	}
	if mustGet(t, r, later).Status != Done {
		t.Fatal("delayed job not done")
	}

	if _, _, err := r.Enqueue(ctx, "nope", nil); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, _, err := r.Enqueue(ctx, "mail", make(chan int)); err == nil {
		t.Fatal("unmarshallable payload accepted")
	}
}

func TestUniqueKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	d2 := secondHandle(t, d)
	clk := clock.NewFake(t0)
	runners := []*Runner{newRunner(t, d, clk, "n1"), newRunner(t, d2, clk, "n2")}
	for _, r := range runners {
		r.Register("warn", func(context.Context, Job) error { return nil })
	}
	id1, created, err := runners[0].Enqueue(ctx, "warn", nil, UniqueKey("sla-warn:42"))
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	id2, created, err := runners[0].Enqueue(ctx, "warn", nil, UniqueKey("sla-warn:42"))
	if err != nil || created || id2 != id1 {
		t.Fatalf("second: id %d (first %d) created %v err %v", id2, id1, created, err)
	}
	// Inside a transaction a duplicate neither fails nor poisons the transaction.
	if err := d.WithTx(ctx, func(ctx context.Context) error {
		id, created, err := runners[0].Enqueue(ctx, "warn", nil, UniqueKey("sla-warn:42"))
		if err != nil || created || id != id1 {
			return fmt.Errorf("dup in tx: %d %v %v", id, created, err)
		}
		_, created, err = runners[0].Enqueue(ctx, "warn", nil, UniqueKey("sla-warn:43"))
		if err != nil || !created {
			return fmt.Errorf("new key after dup in tx: %v %v", created, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Many nodes at once, same key: one job.
	var wg sync.WaitGroup
	var made atomic.Int32
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, created, err := runners[i%2].Enqueue(ctx, "warn", nil, UniqueKey("report:2026-11"))
			if err != nil {
				t.Error(err)
			}
			if created {
				made.Add(1)
			}
		}()
	}
	wg.Wait()
	if made.Load() != 1 {
		t.Fatalf("%d enqueues reported created for one key", made.Load())
	}
	if n := countRows(t, d, "unique_key = ?", "report:2026-11"); n != 1 {
		t.Fatalf("%d rows for one key", n)
	}
	// Jobs without a key never collide.
	for range 3 {
		if _, created, err := runners[0].Enqueue(ctx, "warn", nil); err != nil || !created {
			t.Fatal(created, err)
		}
	}
	if n := countRows(t, d, "unique_key IS NULL"); n != 3 {
		t.Fatalf("%d keyless jobs, want 3", n)
	}
}

func TestRetryBackoffThenDead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	clk := clock.NewFake(t0)
	r := newRunner(t, d, clk, "n1")
	var calls atomic.Int32
	r.Register("flaky", func(ctx context.Context, j Job) error {
		if c := calls.Add(1); c <= 3 && j.Attempt != int(c) {
			t.Errorf("attempt %d on call %d", j.Attempt, calls.Load())
		}
		return fmt.Errorf("smtp down (attempt %d)", j.Attempt)
	})
	id, _, err := r.Enqueue(ctx, "flaky", nil, MaxAttempts(3))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		wait    time.Duration // clock advance before the run
		status  Status
		backoff time.Duration // run_at - now after the run
	}{
		{0, Failed, 10 * time.Second},
		{10 * time.Second, Failed, 20 * time.Second},
		{20 * time.Second, Dead, 0},
	}
	for i, s := range steps {
		if s.wait > 0 {
			clk.Advance(s.wait - time.Millisecond)
			if n, _ := r.RunDue(ctx); n != 0 {
				t.Fatalf("step %d: ran before the backoff ended", i)
			}
			clk.Advance(time.Millisecond)
		}
		if n, err := r.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("step %d: RunDue = %d, %v", i, n, err)
		}
		in := mustGet(t, r, id)
		want := fmt.Sprintf("smtp down (attempt %d)", i+1)
		if in.Status != s.status || in.Attempts != i+1 || in.LastError != want {
			t.Fatalf("step %d: %+v", i, in)
		}
		if s.status == Failed && in.RunAt.Sub(clk.Now()) != s.backoff {
			t.Fatalf("step %d: retry in %s, want %s", i, in.RunAt.Sub(clk.Now()), s.backoff)
		}
		if s.status == Dead && !in.DoneAt.Equal(clk.Now()) {
			t.Fatalf("dead job done_at = %v", in.DoneAt)
		}
	}
	clk.Advance(24 * time.Hour)
	if n, _ := r.RunDue(ctx); n != 0 || calls.Load() != 3 {
		t.Fatalf("dead job ran again: %d calls", calls.Load())
	}
	if s := mustStats(t, r); s.Dead != 1 || s.Due != 0 {
		t.Fatalf("stats = %+v", s)
	}
	// An operator retries the dead job: a fresh set of attempts.
	if err := r.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := r.Retry(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retry of a queued job: %v", err)
	}
	if n, _ := r.RunDue(ctx); n != 1 || mustGet(t, r, id).Attempts != 1 {
		t.Fatalf("retried job: ran %d, %+v", n, mustGet(t, r, id))
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		attempt int
		want    time.Duration
	}{{0, 10 * time.Second}, {1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second},
		{9, 2560 * time.Second}, {10, time.Hour}, {60, time.Hour}, {1000, time.Hour}} {
		if got := DefaultBackoff(c.attempt); got != c.want {
			t.Errorf("DefaultBackoff(%d) = %s, want %s", c.attempt, got, c.want)
		}
	}
}

func TestHandlerOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	clk := clock.NewFake(t0)
	r := newRunner(t, d, clk, "n1")
	r.Register("panics", func(context.Context, Job) error { panic("nil map write") })
	r.Register("permanent", func(context.Context, Job) error {
		return Permanent(errors.New("payload names no customer"))
	})
	var second atomic.Bool
	r.Register("second-time-lucky", func(context.Context, Job) error {
		if second.Swap(true) {
			return nil
		}
		return errors.New("first try fails")
	})
	r.Register("raw", func(_ context.Context, j Job) error {
		if string(j.Payload) != `{"a":[1,2]}` {
			return Permanent(fmt.Errorf("payload %s", j.Payload))
		}
		return nil
	})
	enq := func(kind string, payload any) int64 {
		id, _, err := r.Enqueue(ctx, kind, payload)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	panics, perm, lucky := enq("panics", nil), enq("permanent", nil), enq("second-time-lucky", nil)
	raw := enq("raw", []byte(`{"a":[1,2]}`)) // []byte marshals to base64: must not be what Raw sees
	raw2 := enq("raw", json.RawMessage(`{"a":[1,2]}`))
	if _, _, err := r.Enqueue(ctx, "raw", json.RawMessage(`{"a":`)); err == nil {
		t.Fatal("invalid raw JSON accepted")
	}
	if n, err := r.RunDue(ctx); err != nil || n != 5 {
		t.Fatalf("RunDue = %d, %v", n, err)
	}
	if in := mustGet(t, r, panics); in.Status != Failed || !strings.Contains(in.LastError, "panic: nil map write") {
		t.Fatalf("panicking job: %+v", in)
	}
	if in := mustGet(t, r, perm); in.Status != Dead || in.Attempts != 1 || in.LastError != "payload names no customer" {
		t.Fatalf("permanent error: %+v", in)
	}
	if in := mustGet(t, r, raw); in.Status != Dead {
		t.Fatalf("[]byte payload: %+v", in)
	}
	if in := mustGet(t, r, raw2); in.Status != Done {
		t.Fatalf("raw payload: %+v", in)
	}
	clk.Advance(10 * time.Second)
	if n, _ := r.RunDue(ctx); n != 2 { // panics again, lucky succeeds
		t.Fatalf("second round ran %d", n)
	}
	if in := mustGet(t, r, lucky); in.Status != Done || in.Attempts != 2 || in.LastError != "first try fails" {
		t.Fatalf("job done after a retry: %+v", in)
	}
	if in := mustGet(t, r, panics); in.Attempts != 2 || in.Status != Failed {
		t.Fatalf("panicking job after two runs: %+v", in)
	}
	long := strings.Repeat("错", maxErrorLen) // multi-byte: cut on a rune boundary
	if got := truncate(long); len(got) > maxErrorLen+3 || !strings.HasSuffix(got, "...") || !utf8.ValidString(got) {
		t.Fatalf("truncate: %d bytes", len(got))
	}
}

// TestExactlyOnceTwoRunners: two nodes, each with its own database handle, drain 500
// jobs (half enqueued before they start, half while they run): every job runs exactly
// once and none is lost. A periodic job both schedule for the same period runs once.
func TestExactlyOnceTwoRunners(t *testing.T) {
	t.Parallel()
	const total = 500
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := dbtest.New(t)
	d2 := secondHandle(t, d)
	var runs sync.Map // job id -> *atomic.Int32
	var byNode [2]atomic.Int32
	var periodic atomic.Int32
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	var runners []*Runner
	for i, h := range []*db.DB{d, d2} {
		r := newRunner(t, h, clock.Real{}, fmt.Sprintf("node-%d", i), func(o *Options) { o.Concurrency = 8 })
		r.Register("work", func(ctx context.Context, j Job) error {
			c, _ := runs.LoadOrStore(j.ID, new(atomic.Int32))
			c.(*atomic.Int32).Add(1)
			byNode[i].Add(1)
			return nil
		})
		r.Register("nightly", func(ctx context.Context, j Job) error {
			var p Period
			if err := j.Decode(&p); err != nil {
				return err
			}
			if j.UniqueKey != "nightly:"+p.Key {
				t.Errorf("periodic job key %q, payload %+v", j.UniqueKey, p)
			}
			periodic.Add(1)
			return nil
		})
		r.Every("nightly", Daily(2, 0, sh))
		runners = append(runners, r)
	}
	ids := map[int64]bool{}
	enqueue := func(n int) {
		for i := range n {
			id, _, err := runners[i%2].Enqueue(ctx, "work", map[string]int{"n": i})
			if err != nil {
				t.Error(err)
				return
			}
			ids[id] = true
		}
	}
	enqueue(total / 2)
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	enqueue(total - total/2)
	eventually(t, 60*time.Second, "all jobs done", func() bool {
		s := mustStats(t, runners[0])
		return s.Done == total+1
	})
	time.Sleep(50 * time.Millisecond) // several poll intervals: nothing else may run
	cancel()
	wg.Wait()

	if len(ids) != total {
		t.Fatalf("%d distinct ids enqueued", len(ids))
	}
	seen := 0
	runs.Range(func(k, v any) bool {
		seen++
		if !ids[k.(int64)] {
			t.Errorf("job %d ran but was never enqueued", k)
		}
		if n := v.(*atomic.Int32).Load(); n != 1 {
			t.Errorf("job %d ran %d times", k, n)
		}
		return true
	})
	if seen != total {
		t.Fatalf("%d of %d jobs ran", seen, total)
	}
	if periodic.Load() != 1 {
		t.Fatalf("periodic job ran %d times for one period", periodic.Load())
	}
	if n := countRows(t, d, "kind = 'nightly'"); n != 1 {
		t.Fatalf("%d rows for one period", n)
	}
	if n := countRows(t, d, "kind = 'work' AND status = 'done' AND attempts = 1"); n != total {
		t.Fatalf("%d work jobs done in one attempt", n)
	}
	t.Logf("%s: node-0 ran %d, node-1 ran %d", d.Dialect, byNode[0].Load(), byNode[1].Load())
}

// TestPeriodicOncePerPeriod: two runners sharing a fake clock schedule the same daily
// job; it runs once per period, also after the day changes, and missed periods run once.
func TestPeriodicOncePerPeriod(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := dbtest.New(t)
	d2 := secondHandle(t, d)
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 23, 1, 59, 0, 0, sh)) // the previous night's period
	var mu sync.Mutex
	periods := map[string]int{}
	var runners []*Runner
	for i, h := range []*db.DB{d, d2} {
		r := newRunner(t, h, clk, fmt.Sprintf("node-%d", i))
		r.Register("classify", func(ctx context.Context, j Job) error {
			var p Period
			if err := j.Decode(&p); err != nil {
				return err
			}
			mu.Lock()
			periods[p.Key]++
			mu.Unlock()
			return nil
		})
		r.Every("classify", Daily(2, 0, sh))
		runners = append(runners, r)
	}
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() { defer wg.Done(); _ = r.Run(ctx) }()
	}
	// Done, not just started: a clock jump past the lease of a running job would
	// rightly let the other node take it again.
	ran := func(key string) func() bool {
		return func() bool { return countRows(t, d, "unique_key = ? AND status = 'done'", "classify:"+key) == 1 }
	}
	eventually(t, 10*time.Second, "period 2026-11-22", ran("2026-11-22"))
	clk.Advance(time.Minute) // 02:00: the new period starts
	eventually(t, 10*time.Second, "period 2026-11-23", ran("2026-11-23"))
	clk.Advance(48 * time.Hour) // both nodes "slept" through 24th: only the current period runs
	eventually(t, 10*time.Second, "period 2026-11-25", ran("2026-11-25"))
	time.Sleep(100 * time.Millisecond) // ten poll intervals of both runners
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"2026-11-22": 1, "2026-11-23": 1, "2026-11-25": 1}
	if fmt.Sprint(periods) != fmt.Sprint(want) {
		t.Fatalf("periods run: %v, want %v", periods, want)
	}
	if n := countRows(t, d, "kind = 'classify'"); n != 3 {
		t.Fatalf("%d periodic rows", n)
	}
}

// TestLeaseExpiry: a node claims a job and dies; once the lease passes another node
// takes the job, and the dead node's late outcome cannot overwrite the new claim.
func TestLeaseExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	d2 := secondHandle(t, d)
	clk := clock.NewFake(t0)
	lease := func(o *Options) { o.Lease = 30 * time.Second }
	dead := newRunner(t, d, clk, "dies", lease)
	alive := newRunner(t, d2, clk, "survives", lease)
	var ran atomic.Int32
	for _, r := range []*Runner{dead, alive} {
		r.Register("sla", func(context.Context, Job) error { ran.Add(1); return nil })
	}
	id, _, err := dead.Enqueue(ctx, "sla", nil)
	if err != nil {
		t.Fatal(err)
	}
	once, _, err := dead.Enqueue(ctx, "sla", nil, MaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	q, kinds, err := dead.prepare()
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := dead.claim(ctx, q, kinds, 10)
	if err != nil || len(claimed) != 2 || claimed[0].ID != id || claimed[1].ID != once {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	// The "dead" node never finishes. Within the lease nobody else takes the job.
	clk.Advance(30 * time.Second)
	if n, _ := alive.RunDue(ctx); n != 0 {
		t.Fatalf("job taken while its lease holds (%d)", n)
	}
	if in := mustGet(t, alive, id); in.Status != Running || in.LockedBy != "dies" || !in.LockedUntil.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("claimed job: %+v", in)
	}
	clk.Advance(time.Millisecond)
	if n, err := alive.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("after the lease: RunDue = %d, %v", n, err)
	}
	in := mustGet(t, alive, id)
	if in.Status != Done || in.Attempts != 2 || in.LockedBy != "survives" || !strings.Contains(in.LastError, "lease of node dies expired") {
		t.Fatalf("reclaimed job: %+v", in)
	}
	if in := mustGet(t, alive, once); in.Status != Dead || in.Attempts != 1 {
		t.Fatalf("job out of attempts after its lease: %+v", in)
	}
	// The dead node comes back and reports its stale claim: nothing changes.
	dead.record(ctx, claimed[0], errors.New("late failure"), false)
	if after := mustGet(t, alive, id); after.Status != Done || after.Attempts != 2 || after.LastError != in.LastError {
		t.Fatalf("stale outcome overwrote the newer claim: %+v", after)
	}
	if ran.Load() != 1 {
		t.Fatalf("handler ran %d times", ran.Load())
	}
}

// TestLeaseRenewed: a handler running longer than the lease keeps its job, because the
// runner renews the lease, while another node keeps looking.
func TestLeaseRenewed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := dbtest.New(t)
	d2 := secondHandle(t, d)
	short := func(o *Options) { o.Lease = 150 * time.Millisecond }
	a := newRunner(t, d, clock.Real{}, "a", short)
	b := newRunner(t, d2, clock.Real{}, "b", short)
	var runs atomic.Int32
	release := make(chan struct{})
	for _, r := range []*Runner{a, b} {
		r.Register("slow", func(ctx context.Context, j Job) error {
			runs.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		})
	}
	id, _, err := a.Enqueue(ctx, "slow", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	eventually(t, 5*time.Second, "job started", func() bool { return runs.Load() == 1 })
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		if _, err := b.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	eventually(t, 5*time.Second, "job done", func() bool { return mustGet(t, a, id).Status == Done })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 1 {
		t.Fatalf("job ran %d times though its node renewed the lease", runs.Load())
	}
}

func TestCleanShutdown(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	clk := clock.NewFake(t0)

	t.Run("cancelled handler gives its attempt back", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r := newRunner(t, d, clk, "n1", func(o *Options) { o.Grace = 5 * time.Second })
		started := make(chan struct{})
		var sawCancel atomic.Bool
		r.Register("long", func(ctx context.Context, j Job) error {
			close(started)
			<-ctx.Done()
			sawCancel.Store(true)
			return ctx.Err()
		})
		id, _, err := r.Enqueue(ctx, "long", nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		<-started
		if err := r.Run(ctx); !errors.Is(err, ErrRunning) {
			t.Fatalf("second Run = %v", err)
		}
		begin := time.Now()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
		if !sawCancel.Load() {
			t.Fatal("handler's ctx not cancelled")
		}
		if el := time.Since(begin); el > 2*time.Second {
			t.Fatalf("shutdown took %s", el)
		}
		if in := mustGet(t, r, id); in.Status != Queued || in.Attempts != 0 || !in.LockedUntil.IsZero() {
			t.Fatalf("interrupted job: %+v", in)
		}
	})

	t.Run("handler past the grace period keeps its lease", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r := newRunner(t, d, clk, "n2", func(o *Options) { o.Grace = 100 * time.Millisecond })
		started, release, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
		r.Register("stubborn", func(ctx context.Context, j Job) error {
			close(started)
			<-release // ignores ctx
			return nil
		})
		id, _, err := r.Enqueue(ctx, "stubborn", nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		<-started
		begin := time.Now()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if el := time.Since(begin); el < 100*time.Millisecond || el > 3*time.Second {
			t.Fatalf("Run returned after %s, want about the grace period", el)
		}
		if in := mustGet(t, r, id); in.Status != Running || in.LockedBy != "n2" {
			t.Fatalf("job after shutdown: %+v", in)
		}
		close(release)
		go func() {
			for mustGet(t, r, id).Status == Running {
				time.Sleep(5 * time.Millisecond)
			}
			close(finished)
		}()
		select {
		case <-finished: // its late outcome still counts, as it still held the lease
		case <-time.After(5 * time.Second):
			t.Fatal("late outcome not recorded")
		}
		if in := mustGet(t, r, id); in.Status != Done {
			t.Fatalf("late outcome: %+v", in)
		}
	})
}

// TestClaimRace hammers the engine's claim statement from two handles and several
// goroutines each: every job is claimed exactly once.
func TestClaimRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	d2 := secondHandle(t, d)
	clk := clock.NewFake(t0)
	const total = 300
	var runners []*Runner
	for i, h := range []*db.DB{d, d2} {
		r := newRunner(t, h, clk, fmt.Sprintf("c%d", i))
		r.Register("x", func(context.Context, Job) error { return nil })
		r.Register("other", func(context.Context, Job) error { return nil })
		runners = append(runners, r)
	}
	if err := d.WithTx(ctx, func(ctx context.Context) error {
		for range total {
			if _, _, err := runners[0].Enqueue(ctx, "x", nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	claimed := map[int64]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		r := runners[g%2]
		q, kinds, err := r.prepare()
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				js, err := r.claim(ctx, q, kinds, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				for _, j := range js {
					claimed[j.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(claimed) != total {
		t.Fatalf("%d of %d jobs claimed", len(claimed), total)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("job %d claimed %d times", id, n)
		}
	}
	if n := countRows(t, d, "status = 'running' AND attempts = 1"); n != total {
		t.Fatalf("%d running rows", n)
	}
}

// TestClaimStatements: the two engines' statements stand side by side; the one of the
// engine under test is used (and exercised by the tests above), the claim walks the
// partial index of due jobs, and a node claims only the kinds it can run.
func TestClaimStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg, lite := claimSQL(db.Postgres, 2), claimSQL(db.SQLite, 2)
	if !strings.Contains(pg, "FOR UPDATE SKIP LOCKED") || strings.Contains(lite, "FOR UPDATE") {
		t.Fatalf("claim statements:\n%s\n%s", pg, lite)
	}
	if !strings.Contains(lite, "kind IN (?, ?)") {
		t.Fatalf("kinds list: %s", lite)
	}
	d := dbtest.New(t)
	clk := clock.NewFake(t0)
	old := newRunner(t, d, clk, "old")
	old.Register("a", func(context.Context, Job) error { return nil })
	upgraded := newRunner(t, d, clk, "new")
	upgraded.Register("a", func(context.Context, Job) error { return nil })
	upgraded.Register("b", func(context.Context, Job) error { return nil })
	if _, _, err := upgraded.Enqueue(ctx, "b", nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := old.RunDue(ctx); n != 0 {
		t.Fatal("a node claimed a kind it has no handler for")
	}
	if n, _ := upgraded.RunDue(ctx); n != 1 {
		t.Fatal("the node with the handler did not run the job")
	}
	if d.Dialect == db.SQLite {
		q, kinds, _ := old.prepare()
		sel := strings.TrimSuffix(q[strings.Index(q, "SELECT id"):strings.Index(q, "\nRETURNING")], ")")
		args := []any{clock.Millis(t0)}
		for _, k := range kinds {
			args = append(args, k)
		}
		rows, err := d.Query(ctx, "EXPLAIN QUERY PLAN "+sel, append(args, 10)...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "jobs_due") || strings.Contains(p, "TEMP B-TREE") {
			t.Fatalf("claim does not walk jobs_due in order: %s", p)
		}
	}
}

func TestPurgeAndStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	clk := clock.NewFake(t0)
	r := newRunner(t, d, clk, "n1")
	r.Register("ok", func(context.Context, Job) error { return nil })
	r.Register("bad", func(context.Context, Job) error { return Permanent(errors.New("no")) })
	r.Register("tick", func(context.Context, Job) error { return nil })
	enq := func(kind string, opts ...EnqueueOption) int64 {
		id, _, err := r.Enqueue(ctx, kind, nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	oldDone := enq("ok")
	oldDead := enq("bad")
	oldTick := enq("tick", UniqueKey("tick:1"))
	lastTick := enq("tick", UniqueKey("tick:2"))
	if n, _ := r.RunDue(ctx); n != 4 {
		t.Fatalf("ran %d", n)
	}
	clk.Advance(8 * 24 * time.Hour)
	recent := enq("ok")
	queued := enq("ok", RunIn(time.Hour))
	if n, _ := r.RunDue(ctx); n != 1 {
		t.Fatalf("ran %d", n)
	}
	due := enq("ok")
	if s := mustStats(t, r); !s.OldestDue.Equal(clk.Now()) || s.OldestDue.IsZero() ||
		(s != Stats{Queued: 2, Done: 4, Dead: 1, Due: 1, OldestDue: s.OldestDue}) {
		t.Fatalf("stats = %+v", s)
	}
	n, err := r.Purge(ctx, 7*24*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	for id, kept := range map[int64]bool{oldDone: false, oldTick: false, oldDead: true, lastTick: true, recent: true, queued: true, due: true} {
		_, err := r.Get(ctx, id)
		if kept != (err == nil) {
			t.Errorf("job %d: kept %v, Get error %v", id, kept, err)
		}
	}
	// The newest periodic row survives, so its period is not enqueued again.
	if _, created, _ := r.Enqueue(ctx, "tick", nil, UniqueKey("tick:2")); created {
		t.Fatal("purge let the current period's job be enqueued again")
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	r := New(Options{DB: nil})
	if r.conc != DefaultConcurrency || r.lease != DefaultLease || r.poll != DefaultPollInterval ||
		r.grace != DefaultGrace || r.retention != DefaultRetention || r.NodeID() == "" {
		t.Fatalf("defaults: %+v", r)
	}
	if New(Options{}).NodeID() == r.NodeID() {
		t.Fatal("two runners got the same default node id")
	}
	for name, f := range map[string]func(){
		"empty kind":  func() { r.Register("", func(context.Context, Job) error { return nil }) },
		"nil handler": func() { r.Register("k", nil) },
		"twice": func() {
			r.Register("k", func(context.Context, Job) error { return nil })
			r.Register("k", func(context.Context, Job) error { return nil })
		},
		"every twice":   func() { r.Every("p", Hourly(0)); r.Every("p", Hourly(0)) },
		"bad daily":     func() { Daily(24, 0, nil) },
		"tiny interval": func() { Every(time.Millisecond) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	r2 := New(Options{})
	r2.Every("orphan", Hourly(5))
	if err := r2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "orphan") {
		t.Fatalf("Run with a periodic kind without handler: %v", err)
	}
}
