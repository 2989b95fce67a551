package complaint

import (
	"context"
	"fmt"
	"time"
)

// deadlineColumns are the columns of one deadline target: its due time, the time it
// was met ("" for the stage target: a stage is met when it changes, which moves its due
// time) and its two stamps.
type deadlineColumns struct {
	due, done, warned, escalated string
}

// deadlineTargetColumns maps each deadline target to its columns.
var deadlineTargetColumns = map[string]deadlineColumns{
	DeadlineFirstAnswer: {"first_due_at", "first_done_at", "first_warned_at", "first_escalated_at"},
	DeadlineResult:      {"result_due_at", "result_done_at", "result_warned_at", "result_escalated_at"},
	DeadlineStage:       {"stage_due_at", "", "stage_warned_at", "stage_escalated_at"},
}

// deadlineCandidate is a complaint whose target falls due in the scanned window.
type deadlineCandidate struct {
	ID    int64
	Stage Stage
	Level Level
	DueAt time.Time
}

// sqlDeadlineCandidates selects the open complaints (neither closed nor rejected, not
// merged into another) whose target is not met, whose stamp is unset and whose due
// time lies in (from, to], soonest first. %[1]s is the due column, %[2]s the stamp,
// %[3]s the "met" condition.
const sqlDeadlineCandidates = `SELECT id, stage, level, %[1]s FROM complaints
	WHERE %[1]s > ? AND %[1]s <= ? AND %[2]s = 0%[3]s
	AND stage <> ? AND stage <> ? AND master_id IS NULL
	ORDER BY %[1]s, id LIMIT ?`

// deadlineCandidates lists up to limit complaints whose target falls due in (from, to]
// and whose warning (warn) or escalation is not recorded yet.
func (s *Store) deadlineCandidates(ctx context.Context, target string, warn bool, from, to time.Time, limit int) ([]deadlineCandidate, error) {
	cols, ok := deadlineTargetColumns[target]
	if !ok {
		return nil, fmt.Errorf("complaint: unknown deadline target %q", target)
	}
	stamp := cols.escalated
	if warn {
		stamp = cols.warned
	}
	// The same terms as the partial indexes of the due columns (00014), so that both
	// engines use them.
	met := " AND " + cols.due + " > 0"
	if cols.done != "" {
		met = " AND " + cols.done + " = 0"
	}
	q := fmt.Sprintf(sqlDeadlineCandidates, cols.due, stamp, met)
	rows, err := s.db.Query(ctx, q, ms(from), ms(to), string(StageClosed), string(StageRejected), limit)
	if err != nil {
		return nil, fmt.Errorf("complaint: deadline candidates: %w", err)
	}
	defer rows.Close()
	var out []deadlineCandidate
	for rows.Next() {
		var c deadlineCandidate
		var stage, level string
		var due int64
		if err := rows.Scan(&c.ID, &stage, &level, &due); err != nil {
			return nil, fmt.Errorf("complaint: deadline candidates: %w", err)
		}
		c.Stage, c.Level, c.DueAt = Stage(stage), Level(level), fromMS(due)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("complaint: deadline candidates: %w", err)
	}
	return out, nil
}
