package ticket

import (
	"context"
	"fmt"
	"time"
)

// SQL of SLA policies and of the SLA scan.
const (
	slaPolicyColumns = `name, type, severity, tier, calendar_id, response_target, response_mode, resolve_target,
	resolve_mode, confirm_target, confirm_mode, warn_before, active, sort_order, created_at, updated_at`
	sqlSLAPolicies     = `SELECT id, ` + slaPolicyColumns + `, version FROM sla_policies ORDER BY sort_order, id`
	sqlSLAPolicyByID   = `SELECT id, ` + slaPolicyColumns + `, version FROM sla_policies WHERE id = ?`
	sqlSLAPolicyInsert = `INSERT INTO sla_policies (` + slaPolicyColumns + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlSLAPolicyUpdate = `UPDATE sla_policies SET name = ?, type = ?, severity = ?, tier = ?, calendar_id = ?,
	response_target = ?, response_mode = ?, resolve_target = ?, resolve_mode = ?, confirm_target = ?, confirm_mode = ?,
	warn_before = ?, active = ?, sort_order = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`
	sqlSLAPolicyDelete  = `DELETE FROM sla_policies WHERE id = ?`
	sqlCalendarExists   = `SELECT COUNT(*) FROM calendars WHERE id = ?`
	sqlSLAPoliciesInUse = `SELECT COUNT(*) FROM tickets WHERE sla_policy_id = ? AND open = 1`

	// The scan walks tickets_resolve_due (open, resolve_due_at) and tickets_response_due
	// (responded_at, response_due_at): a due window, then cheap filters on the row.
	slaScanResolve = `SELECT id, sla_policy_id, created_at, resolve_due_at FROM tickets
WHERE open = 1 AND resolve_due_at > ? AND resolve_due_at <= ? AND sla_paused_at = 0`
	sqlSLAResolveBreach = slaScanResolve + ` AND resolve_breached_at = 0 ORDER BY resolve_due_at LIMIT ?`
	sqlSLAResolveWarn   = slaScanResolve + ` AND resolve_warned_at = 0 ORDER BY resolve_due_at LIMIT ?`
	slaScanResponse     = `SELECT id, sla_policy_id, created_at, response_due_at FROM tickets
WHERE responded_at = 0 AND response_due_at > ? AND response_due_at <= ? AND open = 1 AND sla_paused_at = 0`
	sqlSLAResponseBreach = slaScanResponse + ` AND response_breached_at = 0 ORDER BY response_due_at LIMIT ?`
	sqlSLAResponseWarn   = slaScanResponse + ` AND response_warned_at = 0 ORDER BY response_due_at LIMIT ?`

	// Stamps are set only while still zero: a warning, a breach or an escalation
	// happens once whatever runs the job.
	sqlStampResponseWarned   = `UPDATE tickets SET response_warned_at = ? WHERE id = ? AND response_warned_at = 0`
	sqlStampResponseBreached = `UPDATE tickets SET response_breached_at = ? WHERE id = ? AND response_breached_at = 0`
	sqlStampResolveWarned    = `UPDATE tickets SET resolve_warned_at = ? WHERE id = ? AND resolve_warned_at = 0`
	sqlStampResolveBreached  = `UPDATE tickets SET resolve_breached_at = ? WHERE id = ? AND resolve_breached_at = 0`
	sqlStampEscalated        = `UPDATE tickets SET escalated_at = ? WHERE id = ? AND escalated_at = 0`
)

func scanSLAPolicy(sc Scanner) (SLAPolicy, error) {
	var p SLAPolicy
	var active int
	var created, updated int64
	err := sc.Scan(&p.ID, &p.Name, &p.Type, &p.Severity, &p.Tier, &p.CalendarID, &p.ResponseTarget, &p.ResponseMode,
		&p.ResolveTarget, &p.ResolveMode, &p.ConfirmTarget, &p.ConfirmMode, &p.WarnBefore, &active, &p.SortOrder,
		&created, &updated, &p.Version)
	if err != nil {
		return SLAPolicy{}, err
	}
	p.Active, p.CreatedAt, p.UpdatedAt = active != 0, time.UnixMilli(created), time.UnixMilli(updated)
	return p, nil
}

func (s *Store) slaPolicies(ctx context.Context) ([]SLAPolicy, error) {
	rows, err := s.db.Query(ctx, sqlSLAPolicies)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SLAPolicy{}
	for rows.Next() {
		p, err := scanSLAPolicy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) slaPolicy(ctx context.Context, id int64) (SLAPolicy, error) {
	return scanSLAPolicy(s.db.QueryRow(ctx, sqlSLAPolicyByID, id))
}

func (s *Store) insertSLAPolicy(ctx context.Context, p *SLAPolicy) error {
	return s.db.QueryRow(ctx, sqlSLAPolicyInsert, p.Name, p.Type, p.Severity, p.Tier, p.CalendarID, p.ResponseTarget,
		p.ResponseMode, p.ResolveTarget, p.ResolveMode, p.ConfirmTarget, p.ConfirmMode, p.WarnBefore, boolInt(p.Active),
		p.SortOrder, p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli()).Scan(&p.ID)
}

// updateSLAPolicy writes p if its stored version is still p.Version; on success
// p.Version is the new version, ok false when someone else changed it first.
func (s *Store) updateSLAPolicy(ctx context.Context, p *SLAPolicy) (bool, error) {
	res, err := s.db.Exec(ctx, sqlSLAPolicyUpdate, p.Name, p.Type, p.Severity, p.Tier, p.CalendarID, p.ResponseTarget,
		p.ResponseMode, p.ResolveTarget, p.ResolveMode, p.ConfirmTarget, p.ConfirmMode, p.WarnBefore, boolInt(p.Active),
		p.SortOrder, p.UpdatedAt.UnixMilli(), p.ID, p.Version)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == 1 {
		p.Version++
	}
	return n == 1, nil
}

func (s *Store) deleteSLAPolicy(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, sqlSLAPolicyDelete, id)
	return err
}

func (s *Store) calendarExists(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, sqlCalendarExists, id).Scan(&n)
	return n > 0, err
}

func (s *Store) openTicketsWithPolicy(ctx context.Context, id int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, sqlSLAPoliciesInUse, id).Scan(&n)
	return n, err
}

// slaCandidate is a request the scan looks at for one target.
type slaCandidate struct {
	ID        int64
	PolicyID  int64
	CreatedAt time.Time
	DueAt     time.Time
}

// slaCandidates returns open, running requests whose target due time lies in (from, to]
// and whose warning (warn) or breach (!warn) is not recorded yet, earliest due first.
func (s *Store) slaCandidates(ctx context.Context, target string, warn bool, from, to time.Time, limit int) ([]slaCandidate, error) {
	var q string
	switch {
	case target == TargetResponse && warn:
		q = sqlSLAResponseWarn
	case target == TargetResponse:
		q = sqlSLAResponseBreach
	case warn:
		q = sqlSLAResolveWarn
	default:
		q = sqlSLAResolveBreach
	}
	rows, err := s.db.Query(ctx, q, from.UnixMilli(), to.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []slaCandidate
	for rows.Next() {
		var c slaCandidate
		var created, due int64
		if err := rows.Scan(&c.ID, &c.PolicyID, &created, &due); err != nil {
			return nil, err
		}
		c.CreatedAt, c.DueAt = time.UnixMilli(created), time.UnixMilli(due)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Stamp kinds for slaStamp.
const (
	stampResponseWarned = iota
	stampResponseBreached
	stampResolveWarned
	stampResolveBreached
	stampEscalated
)

// slaStamp sets one SLA stamp of ticket id to at if it is still zero, and reports
// whether it did.
func (s *Store) slaStamp(ctx context.Context, id int64, stamp int, at time.Time) (bool, error) {
	var q string
	switch stamp {
	case stampResponseWarned:
		q = sqlStampResponseWarned
	case stampResponseBreached:
		q = sqlStampResponseBreached
	case stampResolveWarned:
		q = sqlStampResolveWarned
	case stampResolveBreached:
		q = sqlStampResolveBreached
	case stampEscalated:
		q = sqlStampEscalated
	default:
		return false, fmt.Errorf("ticket: unknown sla stamp %d", stamp)
	}
	res, err := s.db.Exec(ctx, q, at.UnixMilli(), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
