package audit

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Report is the result of Verify.
type Report struct {
	// Entries is the number of entries read (up to the first bad one).
	Entries int64
	// OK is true when the chain, the checkpoints and the head all agree.
	OK bool
	// FirstBadSeq is the sequence number of the first bad entry (0 when OK).
	FirstBadSeq int64
	// Problem says what is wrong, in English, for the CLI ("" when OK).
	Problem string
	// CheckpointSeq is the sequence number of the newest checkpoint (0 if none).
	CheckpointSeq int64
}

func (r *Report) fail(seq int64, format string, a ...any) {
	r.OK, r.FirstBadSeq, r.Problem = false, seq, fmt.Sprintf(format, a...)
}

const (
	qVerifyHead       = `SELECT seq, hash FROM audit_head WHERE id = 1`
	qNewestCheckpoint = `SELECT seq, head_hash, mac FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`
	qVerifyStream     = `SELECT l.seq, l.at, l.actor_id, l.actor, l.action, l.target_type, l.target_id, l.ip,
		l.request_id, l.detail, l.prev_hash, l.hash, c.head_hash, c.mac
		FROM audit_log l LEFT JOIN audit_checkpoints c ON c.seq = l.seq ORDER BY l.seq`
)

// Verify checks the whole log: sequence numbers start at 1 without gaps, each entry
// links to the previous hash and its own hash recomputes, every checkpoint met on the
// way carries a valid MAC and the hash of its entry, the newest checkpoint is not
// beyond the end of the log (a truncated tail), and the head row agrees with the last
// entry. It reads one consistent snapshot as a stream, in bounded memory, and stops at
// the first problem. A non-nil error means the check could not run.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	rep := Report{OK: true}
	if l.keys == nil {
		return rep, errors.New("audit: verify: no key ring")
	}
	tx, err := l.snapshot(ctx)
	if err != nil {
		return rep, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only snapshot

	var headSeq int64
	var headHash string
	if err := tx.QueryRowContext(ctx, l.db.Rebind(qVerifyHead)).Scan(&headSeq, &headHash); err != nil {
		return rep, fmt.Errorf("audit: verify: read head: %w", err)
	}
	var cpSeq int64
	var cpHash, cpMAC string
	switch err := tx.QueryRowContext(ctx, l.db.Rebind(qNewestCheckpoint)).Scan(&cpSeq, &cpHash, &cpMAC); {
	case db.IsNoRows(err):
	case err != nil:
		return rep, fmt.Errorf("audit: verify: read checkpoint: %w", err)
	}
	rep.CheckpointSeq = cpSeq

	rows, err := tx.QueryContext(ctx, l.db.Rebind(qVerifyStream))
	if err != nil {
		return rep, fmt.Errorf("audit: verify: read log: %w", err)
	}
	defer rows.Close()
	var (
		r        row
		prev     string // hash of the previous entry
		lastSeq  int64
		cpH, cpM sql.NullString
	)
	for rows.Next() {
		if err := rows.Scan(&r.Seq, &r.At, &r.ActorID, &r.Actor, &r.Action, &r.TargetType, &r.TargetID, &r.IP,
			&r.RequestID, &r.Detail, &r.PrevHash, &r.Hash, &cpH, &cpM); err != nil {
			return rep, fmt.Errorf("audit: verify: scan: %w", err)
		}
		if !l.checkEntry(&rep, &r, lastSeq, prev, cpH, cpM) {
			return rep, nil
		}
		rep.Entries++
		lastSeq, prev = r.Seq, r.Hash
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("audit: verify: read log: %w", err)
	}
	rows.Close()

	switch {
	case cpSeq > lastSeq && !l.validMAC(cpSeq, cpHash, cpMAC):
		rep.fail(cpSeq, "checkpoint %d: HMAC does not match (checkpoint forged, or the key file is not the one that signed it)", cpSeq)
	case cpSeq > lastSeq:
		rep.fail(lastSeq+1, "log ends at %d but checkpoint %d (HMAC-signed) says it reached %d: tail truncated", lastSeq, cpSeq, cpSeq)
	case headSeq > lastSeq:
		rep.fail(lastSeq+1, "log ends at %d but the head row says it reached %d: tail truncated", lastSeq, headSeq)
	case headSeq < lastSeq:
		rep.fail(headSeq+1, "entry %d: beyond the head row (seq %d): entries inserted after the head", headSeq+1, headSeq)
	case headHash != prev:
		rep.fail(lastSeq, "entry %d: hash differs from the head row (head row or last entry replaced)", lastSeq)
	}
	return rep, nil
}

// checkEntry checks one entry against its predecessor and any checkpoint at its seq;
// it records the problem in rep and returns false on the first one.
func (l *Log) checkEntry(rep *Report, r *row, lastSeq int64, prev string, cpH, cpM sql.NullString) bool {
	want := lastSeq + 1
	switch {
	case r.Seq < want:
		rep.fail(r.Seq, "entry %d: sequence number out of range (expected %d)", r.Seq, want)
		return false
	case r.Seq > want && lastSeq == 0:
		rep.fail(want, "entry %d missing (log starts at %d)", want, r.Seq)
		return false
	case r.Seq > want:
		if r.Seq == want+1 {
			rep.fail(want, "entry %d missing (sequence jumps from %d to %d)", want, lastSeq, r.Seq)
		} else {
			rep.fail(want, "entries %d to %d missing (sequence jumps from %d to %d)", want, r.Seq-1, lastSeq, r.Seq)
		}
		return false
	case r.PrevHash != prev:
		rep.fail(r.Seq, "entry %d: previous-hash link broken (rows reordered or inserted)", r.Seq)
		return false
	}
	h, err := chainHash(r.PrevHash, r)
	if err != nil || !hmac.Equal([]byte(h), []byte(r.Hash)) {
		rep.fail(r.Seq, "entry %d: hash mismatch (row edited)", r.Seq)
		return false
	}
	if cpH.Valid {
		if !l.validMAC(r.Seq, cpH.String, cpM.String) {
			rep.fail(r.Seq, "checkpoint %d: HMAC does not match (checkpoint forged, or the key file is not the one that signed it)", r.Seq)
			return false
		}
		if cpH.String != r.Hash {
			rep.fail(r.Seq, "entry %d: hash differs from the HMAC-signed checkpoint at %d (log rewritten up to here)", r.Seq, r.Seq)
			return false
		}
	}
	return true
}

func (l *Log) validMAC(seq int64, headHash, mac string) bool {
	want := l.keys.AuditMAC(checkpointMsg(seq, headHash))
	return hmac.Equal([]byte(want), []byte(mac))
}

// snapshot opens a read-only transaction on the read pool so that the head, the
// checkpoints and the log are read as of one instant while writers go on: REPEATABLE
// READ on PostgreSQL, a deferred read transaction (a WAL snapshot) on SQLite.
func (l *Log) snapshot(ctx context.Context) (*sql.Tx, error) {
	var opts *sql.TxOptions
	if l.db.Dialect == db.Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := l.db.R.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("audit: verify: begin: %w", err)
	}
	return tx, nil
}
