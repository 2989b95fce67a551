package customer

import (
	"context"
	"fmt"
)

// SQL of merges (merge.go). Linked-table statements are built from the registry
// (validated identifiers, see LinkTable), never from input.

const (
	sqlMergeInsert = `INSERT INTO customer_merges (survivor_id, merged_id, snapshot, reason, merged_by, merged_at, undone_by,
	undone_at, purge_after, purged_at) VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?, 0) RETURNING id`
	sqlMergeCols = `m.id, m.survivor_id, m.merged_id, m.snapshot, m.reason, COALESCE(m.merged_by, 0), m.merged_at,
	COALESCE(m.undone_by, 0), m.undone_at, m.purge_after, m.purged_at`
	sqlMergeByID = `SELECT ` + sqlMergeCols + ` FROM customer_merges m WHERE m.id = ?`
	sqlMergeList = `SELECT ` + sqlMergeCols + `, s.name, d.name FROM customer_merges m
	JOIN customers s ON s.id = m.survivor_id JOIN customers d ON d.id = m.merged_id WHERE 1 = 1`
	sqlMergeUndone = `UPDATE customer_merges SET undone_by = ?, undone_at = ? WHERE id = ? AND undone_at = 0 AND purged_at = 0`
	sqlMergePurge  = `UPDATE customer_merges SET snapshot = '{}', purged_at = ? WHERE id IN (
	SELECT id FROM customer_merges WHERE purged_at = 0 AND purge_after <= ? ORDER BY id LIMIT 500)`
)

// mergeRow is a customer_merges row.
type mergeRow struct {
	ID, SurvivorID, MergedID int64
	Snapshot, Reason         string
	MergedBy, MergedAt       int64
	UndoneBy, UndoneAt       int64
	PurgeAfter, PurgedAt     int64
	// From lists only: the two customers' names.
	SurvivorName, MergedName string
}

// InsertMerge stores a merge and returns its id.
func (s *Store) InsertMerge(ctx context.Context, m *mergeRow) (int64, error) {
	var id int64
	err := s.d.QueryRow(ctx, sqlMergeInsert, m.SurvivorID, m.MergedID, m.Snapshot, m.Reason, nullID(m.MergedBy), m.MergedAt,
		m.PurgeAfter).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("customer: insert merge: %w", err)
	}
	return id, nil
}

func scanMerge(sc scanner, names bool) (mergeRow, error) {
	var m mergeRow
	dst := []any{&m.ID, &m.SurvivorID, &m.MergedID, &m.Snapshot, &m.Reason, &m.MergedBy, &m.MergedAt, &m.UndoneBy, &m.UndoneAt,
		&m.PurgeAfter, &m.PurgedAt}
	if names {
		dst = append(dst, &m.SurvivorName, &m.MergedName)
	}
	err := sc.Scan(dst...)
	return m, err
}

// Merge loads one merge (sql.ErrNoRows when missing).
func (s *Store) Merge(ctx context.Context, id int64) (mergeRow, error) {
	return scanMerge(s.d.QueryRow(ctx, sqlMergeByID, id), false)
}

// ListMerges lists merges whose two customers are within sc, newest first, below the
// id before (0 = from the top). The snapshot is not loaded.
func (s *Store) ListMerges(ctx context.Context, sc scope, before int64, limit int) ([]mergeRow, error) {
	q := sqlMergeList
	var args []any
	for _, alias := range []string{"s", "d"} {
		if w, a := scopeOn(sc, alias); w != "" {
			q += " AND " + w
			args = append(args, a...)
		}
	}
	if before > 0 {
		q += " AND m.id < ?"
		args = append(args, before)
	}
	q += " ORDER BY m.id DESC LIMIT ?"
	rows, err := s.d.Query(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("customer: merges: %w", err)
	}
	defer rows.Close()
	var out []mergeRow
	for rows.Next() {
		m, err := scanMerge(rows, true)
		if err != nil {
			return nil, fmt.Errorf("customer: merges: %w", err)
		}
		m.Snapshot = ""
		out = append(out, m)
	}
	return out, rows.Err()
}

// MarkUndone records the undo of a merge; false when it was undone or purged already.
func (s *Store) MarkUndone(ctx context.Context, id, by, at int64) (bool, error) {
	res, err := s.d.Exec(ctx, sqlMergeUndone, nullID(by), at, id)
	if err != nil {
		return false, fmt.Errorf("customer: undo merge: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PurgeMerges empties up to 500 snapshots whose purge_after has passed and returns how
// many it purged.
func (s *Store) PurgeMerges(ctx context.Context, now int64) (int, error) {
	res, err := s.d.Exec(ctx, sqlMergePurge, now, now)
	if err != nil {
		return 0, fmt.Errorf("customer: purge merges: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// LinkedIDs lists the ids of l's rows that point at customer id.
func (s *Store) LinkedIDs(ctx context.Context, l LinkedTable, id int64) ([]int64, error) {
	rows, err := s.d.Query(ctx, `SELECT id FROM `+l.Table+` WHERE `+l.Column+` = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("customer: linked %s: %w", l.Table, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("customer: linked %s: %w", l.Table, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Repoint moves every row of l from customer from to customer to.
func (s *Store) Repoint(ctx context.Context, l LinkedTable, from, to int64) error {
	if _, err := s.d.Exec(ctx, `UPDATE `+l.Table+` SET `+l.Column+` = ? WHERE `+l.Column+` = ?`, to, from); err != nil {
		return fmt.Errorf("customer: re-point %s: %w", l.Table, err)
	}
	return nil
}

// RepointIDs moves the rows ids of l that point at customer from (still) to customer to.
func (s *Store) RepointIDs(ctx context.Context, l LinkedTable, ids []int64, from, to int64) (int, error) {
	n := 0
	for start := 0; start < len(ids); start += inBatch {
		batch := ids[start:min(start+inBatch, len(ids))]
		args := append([]any{to, from}, int64Args(batch)...)
		res, err := s.d.Exec(ctx, `UPDATE `+l.Table+` SET `+l.Column+` = ? WHERE `+l.Column+` = ? AND id IN `+inList(len(batch)), args...)
		if err != nil {
			return n, fmt.Errorf("customer: restore %s: %w", l.Table, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += int(k)
	}
	return n, nil
}
