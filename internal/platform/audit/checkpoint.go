package audit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/clock"
)

// checkpointTag separates checkpoint MACs from any other use of the audit key.
const checkpointTag = "kefu-audit-checkpoint-v1"

// checkpointMsg is the message a checkpoint's MAC signs: the tag, the sequence number
// (8-byte big-endian) and the head hash, length-prefixed.
func checkpointMsg(seq int64, headHash string) []byte {
	b := make([]byte, 0, len(checkpointTag)+8+8+8+len(headHash))
	b = appendString(b, checkpointTag)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	return appendString(b, headHash)
}

const (
	qHeadAndCheckpoint = `SELECT h.seq, h.hash, COALESCE((SELECT MAX(seq) FROM audit_checkpoints), 0)
		FROM audit_head h WHERE h.id = 1`
	qInsertCheckpoint = `INSERT INTO audit_checkpoints (seq, head_hash, at, mac) VALUES (?, ?, ?, ?)
		ON CONFLICT (seq) DO NOTHING`
)

// Checkpoint signs the current head of the chain with the audit key (kept in the key
// file, outside the database) when it moved since the newest checkpoint. Several nodes
// may checkpoint at once: the same head gives the same row, inserted once.
func (l *Log) Checkpoint(ctx context.Context) error {
	if l.keys == nil {
		return errors.New("audit: checkpoint: no key ring")
	}
	var seq, last int64
	var head string
	if err := l.db.QueryRow(ctx, qHeadAndCheckpoint).Scan(&seq, &head, &last); err != nil {
		return fmt.Errorf("audit: checkpoint: read head: %w", err)
	}
	if seq == 0 || seq <= last {
		return nil
	}
	mac := l.keys.AuditMAC(checkpointMsg(seq, head))
	res, err := l.db.Exec(ctx, qInsertCheckpoint, seq, head, clock.Millis(l.clock.Now()), mac)
	if err != nil {
		return fmt.Errorf("audit: checkpoint %d: %w", seq, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		// The log line is a copy of the checkpoint outside the database: shipped off the
		// host, it also pins the head against someone who deletes checkpoint rows.
		l.log.Info("audit checkpoint", slog.Int64("seq", seq), slog.String("head_hash", head), slog.String("mac", mac))
	}
	return nil
}

// RunCheckpoints writes a checkpoint every interval until ctx ends.
func (l *Log) RunCheckpoints(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn("audit checkpoint failed", slog.String("err", err.Error()))
			}
		}
	}
}
