package customer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// SQL of re-verification: confirmations of customer files, the overdue queue and the
// period setting.

const (
	sqlReverifySettingRead  = `SELECT value FROM settings WHERE key = ?`
	sqlReverifySettingWrite = `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
	// sqlCustomerVerify bumps the version so that a concurrent edit that read the file
	// before the confirmation cannot write the old verified_at back.
	sqlCustomerVerify     = `UPDATE customers SET verified_at = ?, verified_by = ?, version = version + 1 WHERE id = ? AND status = ?`
	sqlVerificationInsert = `INSERT INTO customer_verifications (customer_id, verified_by, verified_at, outcome, changes, note)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`
	sqlVerificationList = `SELECT id, customer_id, verified_by, verified_at, outcome, note FROM customer_verifications
		WHERE customer_id = ? ORDER BY verified_at DESC, id DESC LIMIT ?`
)

// CustomerSetting reads a settings value (ok=false when absent).
func (s *Store) CustomerSetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.d.QueryRow(ctx, sqlReverifySettingRead, key).Scan(&v)
	if err != nil {
		if err == sql.ErrNoRows {
			return "", false, nil
		}
		return "", false, fmt.Errorf("customer: setting %s: %w", key, err)
	}
	return v, true, nil
}

// PutCustomerSetting writes a settings value.
func (s *Store) PutCustomerSetting(ctx context.Context, key, value string, at int64) error {
	if _, err := s.d.Exec(ctx, sqlReverifySettingWrite, key, value, at); err != nil {
		return fmt.Errorf("customer: setting %s: %w", key, err)
	}
	return nil
}

// verificationRow is a customer_verifications row.
type verificationRow struct {
	ID, CustomerID, VerifiedBy, VerifiedAt int64
	Outcome, Changes, Note                 string
}

// MarkVerified records a confirmation on the customer (active only); it reports false
// when no active customer has the id.
func (s *Store) MarkVerified(ctx context.Context, id, by, at int64) (bool, error) {
	res, err := s.d.Exec(ctx, sqlCustomerVerify, at, nullID(by), id, StatusActive)
	if err != nil {
		return false, fmt.Errorf("customer: verify: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertVerification stores one confirmation and returns its id.
func (s *Store) InsertVerification(ctx context.Context, r verificationRow) (int64, error) {
	var id int64
	err := s.d.QueryRow(ctx, sqlVerificationInsert, r.CustomerID, nullID(r.VerifiedBy), r.VerifiedAt, r.Outcome, r.Changes, r.Note).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("customer: insert verification: %w", err)
	}
	return id, nil
}

// Verifications lists a customer's confirmations, newest first.
func (s *Store) Verifications(ctx context.Context, customerID int64, limit int) ([]verificationRow, error) {
	rows, err := s.d.Query(ctx, sqlVerificationList, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("customer: verifications: %w", err)
	}
	defer rows.Close()
	var out []verificationRow
	for rows.Next() {
		var r verificationRow
		var by sql.NullInt64
		if err := rows.Scan(&r.ID, &r.CustomerID, &by, &r.VerifiedAt, &r.Outcome, &r.Note); err != nil {
			return nil, fmt.Errorf("customer: verifications: %w", err)
		}
		r.VerifiedBy = by.Int64
		out = append(out, r)
	}
	return out, rows.Err()
}

// reverifyQuery selects the overdue files: active, last confirmed (or, never confirmed,
// created) before cutoff, within a scope. A file is verified only after it is created,
// so "verified_at < cutoff AND created_at < cutoff" says exactly that (verified_at is 0
// when never verified). Order: never verified first, then the oldest confirmation; id
// breaks ties (the keyset).
type reverifyQuery struct {
	cutoff    int64
	sc        scope
	afterV    int64 // keyset: (verified_at, id) > (afterV, afterID)
	afterID   int64
	limit     int
	countOnly bool
}

func (q reverifyQuery) sql() (string, []any) {
	where := []string{"c.status = ?", "c.verified_at < ?", "c.created_at < ?"}
	args := []any{StatusActive, q.cutoff, q.cutoff}
	if w, a := q.sc.where(); w != "" {
		where, args = append(where, w), append(args, a...)
	}
	if q.countOnly {
		return `SELECT COUNT(*) FROM customers c WHERE ` + strings.Join(where, " AND "), args
	}
	if q.afterID > 0 {
		where = append(where, "(c.verified_at > ? OR (c.verified_at = ? AND c.id > ?))")
		args = append(args, q.afterV, q.afterV, q.afterID)
	}
	args = append(args, q.limit)
	return sqlCustSelect + ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY c.verified_at, c.id LIMIT ?`, args
}

// ReverifyQueue returns one page of overdue files.
func (s *Store) ReverifyQueue(ctx context.Context, q reverifyQuery) ([]custRow, error) {
	text, args := q.sql()
	rows, err := s.d.Query(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("customer: reverify queue: %w", err)
	}
	defer rows.Close()
	var out []custRow
	for rows.Next() {
		r, err := scanCust(rows)
		if err != nil {
			return nil, fmt.Errorf("customer: scan: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReverifyCount counts the overdue files of a scope.
func (s *Store) ReverifyCount(ctx context.Context, q reverifyQuery) (int64, error) {
	q.countOnly = true
	text, args := q.sql()
	return s.count(ctx, "reverify count", text, args...)
}
