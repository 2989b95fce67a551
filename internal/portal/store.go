package portal

import (
	"context"
	"fmt"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

const (
	sqlSupersedeCodes = `UPDATE portal_codes SET used_at = ? WHERE email_hash = ? AND used_at = 0`
	sqlInsertCode     = `INSERT INTO portal_codes (email_hash, code_hash, customer_id, channel, expires_at, attempts, used_at, created_at, ip)
		VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?)`
	sqlLatestCode = `SELECT id, code_hash, customer_id, expires_at, attempts FROM portal_codes
		WHERE email_hash = ? AND used_at = 0 ORDER BY id DESC LIMIT 1`
	// sqlLatestCodeLocked serializes checks of one address's code on PostgreSQL (SQLite's
	// immediate write transactions already do), so concurrent guesses cannot exceed
	// MaxAttempts.
	sqlLatestCodeLocked = sqlLatestCode + ` FOR UPDATE`
	sqlCountAttempt     = `UPDATE portal_codes SET attempts = attempts + 1 WHERE id = ? AND used_at = 0 AND attempts < ?`
	sqlUseCode          = `UPDATE portal_codes SET used_at = ? WHERE id = ? AND used_at = 0 AND attempts < ?`
	sqlPurgeCodes       = `DELETE FROM portal_codes WHERE expires_at < ?`

	sqlInsertSession = `INSERT INTO portal_sessions (id_hash, customer_id, csrf_token, created_at, last_seen_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqlSession       = `SELECT customer_id, csrf_token, created_at, last_seen_at FROM portal_sessions WHERE id_hash = ?`
	sqlTouchSession  = `UPDATE portal_sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?`
	sqlDeleteSession = `DELETE FROM portal_sessions WHERE id_hash = ?`
	sqlPurgeSessions = `DELETE FROM portal_sessions WHERE last_seen_at < ? OR created_at < ?`
)

// codeRow is a live (unused) sign-in code.
type codeRow struct {
	ID         int64
	CodeHash   string
	CustomerID int64
	ExpiresAt  int64
	Attempts   int
}

// sessionRow is a portal session.
type sessionRow struct {
	Hash       string
	CustomerID int64
	CSRF       string
	CreatedAt  int64
	LastSeenAt int64
}

// Store holds the portal SQL.
type Store struct{ db *db.DB }

// NewStore returns the store over d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

func (st *Store) issueCode(ctx context.Context, emailHash, codeHash string, customerID int64, channel string, expires, now int64, ip string) error {
	if _, err := st.db.Exec(ctx, sqlSupersedeCodes, now, emailHash); err != nil {
		return fmt.Errorf("portal: supersede codes: %w", err)
	}
	if _, err := st.db.Exec(ctx, sqlInsertCode, emailHash, codeHash, customerID, channel, expires, now, ip); err != nil {
		return fmt.Errorf("portal: insert code: %w", err)
	}
	return nil
}

// latestCode returns the newest unused code for emailHash (ok false when none).
func (st *Store) latestCode(ctx context.Context, emailHash string) (codeRow, bool, error) {
	var c codeRow
	q := sqlLatestCode
	if st.db.Dialect == db.Postgres {
		q = sqlLatestCodeLocked
	}
	err := st.db.QueryRow(ctx, q, emailHash).Scan(&c.ID, &c.CodeHash, &c.CustomerID, &c.ExpiresAt, &c.Attempts)
	if err != nil {
		if db.IsNoRows(err) {
			return c, false, nil
		}
		return c, false, fmt.Errorf("portal: read code: %w", err)
	}
	return c, true, nil
}

// countAttempt records a wrong guess; false when the code was used or locked meanwhile.
func (st *Store) countAttempt(ctx context.Context, id int64) (bool, error) {
	res, err := st.db.Exec(ctx, sqlCountAttempt, id, MaxAttempts)
	if err != nil {
		return false, fmt.Errorf("portal: count attempt: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// useCode marks a code used; false when another request used it first (one-time).
func (st *Store) useCode(ctx context.Context, id, now int64) (bool, error) {
	res, err := st.db.Exec(ctx, sqlUseCode, now, id, MaxAttempts)
	if err != nil {
		return false, fmt.Errorf("portal: use code: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (st *Store) insertSession(ctx context.Context, s sessionRow, ip, userAgent string) error {
	if _, err := st.db.Exec(ctx, sqlInsertSession, s.Hash, s.CustomerID, s.CSRF, s.CreatedAt, s.LastSeenAt, ip, userAgent); err != nil {
		return fmt.Errorf("portal: insert session: %w", err)
	}
	return nil
}

func (st *Store) session(ctx context.Context, hash string) (sessionRow, bool, error) {
	s := sessionRow{Hash: hash}
	err := st.db.QueryRow(ctx, sqlSession, hash).Scan(&s.CustomerID, &s.CSRF, &s.CreatedAt, &s.LastSeenAt)
	if err != nil {
		if db.IsNoRows(err) {
			return s, false, nil
		}
		return s, false, fmt.Errorf("portal: read session: %w", err)
	}
	return s, true, nil
}

func (st *Store) touchSession(ctx context.Context, hash string, now int64) error {
	if _, err := st.db.Exec(ctx, sqlTouchSession, now, hash, now-touchEvery.Milliseconds()+1); err != nil {
		return fmt.Errorf("portal: touch session: %w", err)
	}
	return nil
}

func (st *Store) deleteSession(ctx context.Context, hash string) error {
	if _, err := st.db.Exec(ctx, sqlDeleteSession, hash); err != nil {
		return fmt.Errorf("portal: delete session: %w", err)
	}
	return nil
}

// purge deletes expired codes and sessions.
func (st *Store) purge(ctx context.Context, now int64) (int64, error) {
	var total int64
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{sqlPurgeCodes, []any{now}},
		{sqlPurgeSessions, []any{now - IdleTimeout.Milliseconds(), now - AbsoluteMaxAge.Milliseconds()}},
	} {
		res, err := st.db.Exec(ctx, q.sql, q.args...)
		if err != nil {
			return total, fmt.Errorf("portal: purge: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
