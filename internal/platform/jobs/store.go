package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// All SQL of the package lives here. Placeholders are portable `?`, rebound by db for
// PostgreSQL. Times are Unix milliseconds from the runner's clock.

const sqlInsert = `INSERT INTO jobs (kind, payload, unique_key, status, attempts, max_attempts, run_at,
	locked_by, locked_until, last_error, created_at, updated_at, done_at)
VALUES (?, ?, ?, 'queued', 0, ?, ?, '', 0, '', ?, ?, 0)
ON CONFLICT (unique_key) DO NOTHING
RETURNING id`

const sqlByUniqueKey = `SELECT id FROM jobs WHERE unique_key = ?`

// The claim statements: the engines truly differ here, so both stand side by side.
//
// PostgreSQL: many nodes claim at once. FOR UPDATE SKIP LOCKED makes each claimer lock
// the due rows it picks and pass over rows another transaction has locked, so two
// claimers never get the same row and never wait for each other; a row whose status
// another claimer changed and committed meanwhile is re-checked and dropped.
//
// SQLite: there is one writer at a time. The statement runs inside a write transaction
// (BEGIN IMMEDIATE, which db opens for every WithTx), so the subquery and the update
// see one snapshot that no other connection (or process) can change in between.
// INDEXED BY pins the partial index of due jobs, which yields them already in run_at
// order (without it the planner may pick jobs_status and sort every due job).
//
// %s is replaced by the "?, ?, ..." list of the registered kinds: a node claims only
// kinds it can run (during a rolling upgrade, new kinds wait for new nodes).
// Arguments: node, locked_until, updated_at, now, kinds..., limit.
const (
	sqlClaimPostgres = `UPDATE jobs SET status = 'running', locked_by = ?, locked_until = ?, attempts = attempts + 1, updated_at = ?
WHERE id IN (
	SELECT id FROM jobs
	WHERE status IN ('queued', 'failed') AND run_at <= ? AND kind IN (%s)
	ORDER BY run_at, id
	LIMIT ?
	FOR UPDATE SKIP LOCKED)
RETURNING id, kind, payload, COALESCE(unique_key, ''), attempts, max_attempts, run_at, created_at, last_error`

	sqlClaimSQLite = `UPDATE jobs SET status = 'running', locked_by = ?, locked_until = ?, attempts = attempts + 1, updated_at = ?
WHERE id IN (
	SELECT id FROM jobs INDEXED BY jobs_due
	WHERE status IN ('queued', 'failed') AND run_at <= ? AND kind IN (%s)
	ORDER BY run_at, id
	LIMIT ?)
RETURNING id, kind, payload, COALESCE(unique_key, ''), attempts, max_attempts, run_at, created_at, last_error`
)

// sqlReclaim returns running jobs whose lease has passed (their node died or stalled)
// to the queue; the attempt they used stays counted, and a job that has used its last
// attempt is dead. Arguments: now (run_at), now (updated_at), now (done_at), now.
const sqlReclaim = `UPDATE jobs SET
	status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END,
	run_at = ?, locked_until = 0, updated_at = ?,
	done_at = CASE WHEN attempts >= max_attempts THEN CAST(? AS BIGINT) ELSE 0 END,
	last_error = 'jobs: lease of node ' || locked_by || ' expired'
WHERE status = 'running' AND locked_until < ?`

const sqlAnyExpired = `SELECT 1 FROM jobs WHERE status = 'running' AND locked_until < ? LIMIT 1`

// The outcome statements are fenced by (locked_by, attempts): they change the row only
// while this claim still holds it. A node whose lease expired and whose job was taken
// by another node cannot overwrite the newer claim's state.
const (
	fence      = ` WHERE id = ? AND status = 'running' AND locked_by = ? AND attempts = ?`
	sqlRenew   = `UPDATE jobs SET locked_until = ?, updated_at = ?` + fence
	sqlDone    = `UPDATE jobs SET status = 'done', locked_until = 0, done_at = ?, updated_at = ?` + fence
	sqlRetry   = `UPDATE jobs SET status = 'failed', run_at = ?, last_error = ?, locked_until = 0, updated_at = ?` + fence
	sqlDead    = `UPDATE jobs SET status = 'dead', last_error = ?, locked_until = 0, done_at = ?, updated_at = ?` + fence
	sqlRelease = `UPDATE jobs SET status = CASE WHEN attempts > 1 THEN 'failed' ELSE 'queued' END, attempts = attempts - 1, run_at = ?, locked_until = 0, updated_at = ?` + fence
	purgeBatch = 1000
	sqlPurge   = `DELETE FROM jobs WHERE id IN (
	SELECT id FROM jobs WHERE status = 'done' AND done_at < ?
		AND id NOT IN (SELECT MAX(id) FROM jobs WHERE unique_key IS NOT NULL GROUP BY kind)
	LIMIT ?)`
	sqlStatusCounts = `SELECT status, COUNT(*) FROM jobs GROUP BY status`
	sqlDue          = `SELECT COUNT(*), COALESCE(MIN(run_at), 0) FROM jobs WHERE status IN ('queued', 'failed') AND run_at <= ?`
	sqlGet          = `SELECT id, kind, payload, COALESCE(unique_key, ''), status, attempts, max_attempts, run_at,
	locked_by, locked_until, last_error, created_at, updated_at, done_at FROM jobs WHERE id = ?`
	sqlRetryDead = `UPDATE jobs SET status = 'queued', attempts = 0, run_at = ?, done_at = 0, updated_at = ?
WHERE id = ? AND status = 'dead'`
)

// claimSQL returns the claim statement of the engine for the given number of kinds.
func claimSQL(d db.Dialect, kinds int) string {
	list := strings.TrimSuffix(strings.Repeat("?, ", kinds), ", ")
	if d == db.Postgres {
		return fmt.Sprintf(sqlClaimPostgres, list)
	}
	return fmt.Sprintf(sqlClaimSQLite, list)
}

func (r *Runner) insert(ctx context.Context, kind, payload, uniqueKey string, maxAttempts int, runAt, now int64) (int64, bool, error) {
	var key any
	if uniqueKey != "" {
		key = uniqueKey
	}
	rows, err := r.db.Query(ctx, sqlInsert, kind, payload, key, maxAttempts, runAt, now, now)
	if err != nil {
		return 0, false, fmt.Errorf("insert: %w", err)
	}
	var id int64
	found := false
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("insert: %w", err)
		}
		found = true
	}
	if err := rows.Close(); err != nil {
		return 0, false, fmt.Errorf("insert: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("insert: %w", err)
	}
	if found {
		return id, true, nil
	}
	// The unique key exists: report the job that holds it.
	if err := r.db.QueryRow(ctx, sqlByUniqueKey, uniqueKey).Scan(&id); err != nil {
		if db.IsNoRows(err) { // purged between the two statements
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("find unique key: %w", err)
	}
	return id, false, nil
}

// claim takes up to limit due jobs of the given kinds for this node.
func (r *Runner) claim(ctx context.Context, q string, kinds []string, limit int) ([]Job, error) {
	if limit <= 0 || len(kinds) == 0 {
		return nil, nil
	}
	now := r.clock.Now()
	nowMs := clock.Millis(now)
	args := make([]any, 0, len(kinds)+5)
	args = append(args, r.node, clock.Millis(now.Add(r.lease)), nowMs, nowMs)
	for _, k := range kinds {
		args = append(args, k)
	}
	args = append(args, limit)
	var out []Job
	err := r.db.WithTx(ctx, func(ctx context.Context) error {
		out = out[:0]
		rows, err := r.db.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j Job
			var payload string
			var runAt, created int64
			if err := rows.Scan(&j.ID, &j.Kind, &payload, &j.UniqueKey, &j.Attempt, &j.MaxAttempts, &runAt, &created, &j.LastError); err != nil {
				return err
			}
			j.Payload = json.RawMessage(payload)
			j.RunAt, j.CreatedAt = clock.FromMillis(runAt), clock.FromMillis(created)
			out = append(out, j)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return rows.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: claim: %w", err)
	}
	// RETURNING gives no order; run the oldest first.
	sort.Slice(out, func(a, b int) bool {
		if !out[a].RunAt.Equal(out[b].RunAt) {
			return out[a].RunAt.Before(out[b].RunAt)
		}
		return out[a].ID < out[b].ID
	})
	return out, nil
}

// reclaim requeues running jobs whose lease has passed and returns how many. A read
// looks first, so that an idle poll takes no write lock.
func (r *Runner) reclaim(ctx context.Context) (int64, error) {
	now := clock.Millis(r.clock.Now())
	var one int
	if err := r.db.QueryRow(ctx, sqlAnyExpired, now).Scan(&one); err != nil {
		if db.IsNoRows(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("jobs: look for expired leases: %w", err)
	}
	res, err := r.db.Exec(ctx, sqlReclaim, now, now, now, now)
	if err != nil {
		return 0, fmt.Errorf("jobs: reclaim expired leases: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("jobs: reclaim expired leases: %w", err)
	}
	return n, nil
}

// fenced runs an outcome statement for the claim of j and reports whether it still held
// the job.
func (r *Runner) fenced(ctx context.Context, q string, j Job, args ...any) (bool, error) {
	args = append(args, j.ID, r.node, j.Attempt)
	res, err := r.db.Exec(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// Purge deletes done jobs that finished more than olderThan ago and returns how many.
// The newest job of each kind that uses unique keys is kept whatever its age, so that a
// periodic job's current period is never enqueued (and run) a second time. Dead jobs are
// kept for inspection.
func (r *Runner) Purge(ctx context.Context, olderThan time.Duration) (int64, error) {
	cutoff := clock.Millis(r.clock.Now().Add(-olderThan))
	var total int64
	for {
		res, err := r.db.Exec(ctx, sqlPurge, cutoff, purgeBatch)
		if err != nil {
			return total, fmt.Errorf("jobs: purge: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("jobs: purge: %w", err)
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

// Stats counts jobs per status.
type Stats struct {
	Queued, Running, Done, Failed, Dead int64
	// Due is how many queued or failed jobs are due now; OldestDue is the run_at of the
	// oldest of them (zero when none): now - OldestDue is how far the runners lag.
	Due       int64
	OldestDue time.Time
}

// Stats returns the number of jobs in each status and the backlog of due jobs.
func (r *Runner) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	rows, err := r.db.Query(ctx, sqlStatusCounts)
	if err != nil {
		return s, fmt.Errorf("jobs: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return s, fmt.Errorf("jobs: stats: %w", err)
		}
		switch Status(st) {
		case Queued:
			s.Queued = n
		case Running:
			s.Running = n
		case Done:
			s.Done = n
		case Failed:
			s.Failed = n
		case Dead:
			s.Dead = n
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("jobs: stats: %w", err)
	}
	var oldest int64
	if err := r.db.QueryRow(ctx, sqlDue, clock.Millis(r.clock.Now())).Scan(&s.Due, &oldest); err != nil {
		return s, fmt.Errorf("jobs: stats: %w", err)
	}
	s.OldestDue = clock.FromMillis(oldest)
	return s, nil
}

// Info is a stored job, for inspection.
type Info struct {
	ID          int64
	Kind        string
	Payload     json.RawMessage
	UniqueKey   string
	Status      Status
	Attempts    int
	MaxAttempts int
	RunAt       time.Time
	LockedBy    string // the node that claimed it last
	LockedUntil time.Time
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DoneAt      time.Time
}

// ErrNotFound is returned by Get for an unknown id.
var ErrNotFound = errors.New("jobs: job not found")

// Get returns the stored job id.
func (r *Runner) Get(ctx context.Context, id int64) (Info, error) {
	var in Info
	var payload, status string
	var runAt, until, created, updated, done int64
	err := r.db.QueryRow(ctx, sqlGet, id).Scan(&in.ID, &in.Kind, &payload, &in.UniqueKey, &status, &in.Attempts,
		&in.MaxAttempts, &runAt, &in.LockedBy, &until, &in.LastError, &created, &updated, &done)
	if err != nil {
		if db.IsNoRows(err) {
			return in, fmt.Errorf("%w: %d", ErrNotFound, id)
		}
		return in, fmt.Errorf("jobs: get %d: %w", id, err)
	}
	in.Payload, in.Status = json.RawMessage(payload), Status(status)
	in.RunAt, in.LockedUntil = clock.FromMillis(runAt), clock.FromMillis(until)
	in.CreatedAt, in.UpdatedAt, in.DoneAt = clock.FromMillis(created), clock.FromMillis(updated), clock.FromMillis(done)
	return in, nil
}

// Retry puts a dead job back in the queue with a fresh set of attempts (an operator's
// action after fixing the cause). It reports ErrNotFound unless the job is dead.
func (r *Runner) Retry(ctx context.Context, id int64) error {
	now := clock.Millis(r.clock.Now())
	res, err := r.db.Exec(ctx, sqlRetryDead, now, now, id)
	if err != nil {
		return fmt.Errorf("jobs: retry %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("jobs: retry %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("%w: no dead job %d", ErrNotFound, id)
	}
	r.db.AfterCommit(ctx, r.Kick)
	return nil
}
