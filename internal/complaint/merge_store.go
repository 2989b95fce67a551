package complaint

// OWNED BY the merge engineer: the SQL of likely duplicates, merging and issue counts.

import (
	"context"
	"fmt"
	"time"
)

// maxDuplicateScan caps the complaints one duplicate search compares (newest first).
const maxDuplicateScan = 2000

// maxCustomerScan caps the complaints of the same customer looked at besides the window's.
const maxCustomerScan = 200

const (
	sqlMergeLinkedCount = `SELECT COUNT(*) FROM complaints WHERE master_id = ?`
	sqlMergeSet         = `UPDATE complaints SET master_id = ?, merged_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`
	sqlMergeClear       = `UPDATE complaints SET master_id = NULL, merged_at = 0, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`
	sqlIssueCounts      = `SELECT COUNT(*), COUNT(DISTINCT COALESCE(c.master_id, c.id)) FROM complaints c`
)

// duplicateCandidates returns the complaints received in [from, to) in sc that are not
// merged into another, newest first, at most maxDuplicateScan, plus up to
// maxCustomerScan of customer's in the same window (0 = none); except is left out.
func (s *Store) duplicateCandidates(ctx context.Context, sc listScope, from, to time.Time, customer, except int64) ([]Complaint, error) {
	f := Filter{From: from, To: to, Masters: true}
	where, args := filterWhere(f, sc, 0)
	cond := " WHERE c.id <> ?"
	if where != "" {
		cond = where + " AND c.id <> ?"
	}
	args = append(args, except)
	out, err := s.query(ctx, ComplaintSelect+cond+" ORDER BY c.created_at DESC, c.id DESC LIMIT ?",
		append(args, maxDuplicateScan)...)
	if err != nil {
		return nil, err
	}
	if customer == 0 || len(out) < maxDuplicateScan {
		return out, nil
	}
	// The window holds more than the scan takes: the same customer's complaints are
	// still offered (they are the likeliest duplicates), through their own index.
	args = append(args[:len(args):len(args)], customer, maxCustomerScan)
	mine, err := s.query(ctx, ComplaintSelect+cond+" AND c.customer_id = ? ORDER BY c.created_at DESC LIMIT ?", args...)
	if err != nil {
		return nil, err
	}
	seen := make(map[int64]bool, len(out))
	for _, c := range out {
		seen[c.ID] = true
	}
	for _, c := range mine {
		if !seen[c.ID] {
			out = append(out, c)
		}
	}
	return out, nil
}

// linkedCount is how many complaints are merged into id.
func (s *Store) linkedCount(ctx context.Context, id int64) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, sqlMergeLinkedCount, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("complaint: linked: %w", err)
	}
	return n, nil
}

// setMaster links complaint c to master (0 unlinks it) when its stored version is c.Version;
// it bumps the version in c and reports false when the row moved on.
func (s *Store) setMaster(ctx context.Context, c *Complaint, master int64, at time.Time) (bool, error) {
	q, args := sqlMergeSet, []any{master, ms(at), ms(at), c.ID, c.Version}
	if master == 0 {
		q, args = sqlMergeClear, []any{ms(at), c.ID, c.Version}
	}
	res, err := s.db.Exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("complaint: merge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("complaint: merge: %w", err)
	}
	if n != 1 {
		return false, nil
	}
	c.MasterID, c.Version, c.UpdatedAt = master, c.Version+1, at
	c.MergedAt = time.Time{}
	if master != 0 {
		c.MergedAt = at
	}
	return true, nil
}

// issueCounts counts the complaints received in [from, to) in sc and the issues they
// are about (a complaint merged into another counts with its master's issue).
func (s *Store) issueCounts(ctx context.Context, sc listScope, from, to time.Time) (issues, complaints int, err error) {
	where, args := filterWhere(Filter{From: from, To: to}, sc, 0)
	if err := s.db.QueryRow(ctx, sqlIssueCounts+where, args...).Scan(&complaints, &issues); err != nil {
		return 0, 0, fmt.Errorf("complaint: issue counts: %w", err)
	}
	return issues, complaints, nil
}
