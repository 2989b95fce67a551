-- Durable background jobs (internal/platform/jobs). Times are Unix milliseconds from
-- the injected clock. unique_key is NULL for ordinary jobs; a non-NULL key exists once
-- (periodic jobs use "<kind>:<period>" so that every node may enqueue the same period).
-- status: queued | running | done | failed (waiting for a retry at run_at) | dead.
-- Ids are never reused (AUTOINCREMENT on SQLite, identity on PostgreSQL).
-- +goose Up
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    unique_key   TEXT UNIQUE,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_at       BIGINT NOT NULL,
    locked_by    TEXT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_error   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    done_at      BIGINT NOT NULL
);
-- Claiming walks the due jobs in run_at order.
CREATE INDEX jobs_due ON jobs(run_at, id) WHERE status IN ('queued', 'failed');
-- Stats count per status; reclaiming finds the few running jobs; housekeeping deletes
-- old done jobs.
CREATE INDEX jobs_status ON jobs(status, done_at);

-- +goose Down
DROP TABLE jobs;
