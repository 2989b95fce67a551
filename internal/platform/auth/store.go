package auth

import (
	"context"
	"fmt"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// The SQL of this package. Every instant is Unix milliseconds from the injected clock.
const (
	sqlStaffBasics = `SELECT username, status FROM staff WHERE id = ?`

	sqlCredential = `SELECT password_hash, totp_secret, totp_enabled, totp_last_step, failed_count,
		first_failed_at, locked_until FROM credentials WHERE staff_id = ?`
	sqlAnyCredential  = `SELECT COUNT(*) FROM (SELECT 1 FROM credentials LIMIT 1) c`
	sqlUpsertPassword = `INSERT INTO credentials (staff_id, password_hash, password_changed_at, totp_secret,
		totp_enabled, totp_last_step, failed_count, first_failed_at, locked_until)
		VALUES (?, ?, ?, '', 0, 0, 0, 0, 0)
		ON CONFLICT (staff_id) DO UPDATE SET password_hash = excluded.password_hash,
		password_changed_at = excluded.password_changed_at`
	sqlRehash = `UPDATE credentials SET password_hash = ? WHERE staff_id = ? AND password_hash = ?`
	// A failure outside the window, or the first one after a lock ran out, starts a new count.
	sqlRecordFailure = `UPDATE credentials SET
		failed_count = CASE WHEN first_failed_at < ? OR locked_until <> 0 THEN 1 ELSE failed_count + 1 END,
		first_failed_at = CASE WHEN first_failed_at < ? OR locked_until <> 0 THEN ? ELSE first_failed_at END,
		locked_until = 0
		WHERE staff_id = ? RETURNING failed_count`
	sqlLock         = `UPDATE credentials SET locked_until = ? WHERE staff_id = ?`
	sqlResetFailure = `UPDATE credentials SET failed_count = 0, first_failed_at = 0, locked_until = 0
		WHERE staff_id = ? AND (failed_count <> 0 OR first_failed_at <> 0 OR locked_until <> 0)`
	sqlSetTOTPSecret = `UPDATE credentials SET totp_secret = ?, totp_enabled = 0, totp_last_step = 0
		WHERE staff_id = ? AND totp_enabled = 0`
	sqlEnableTOTP = `UPDATE credentials SET totp_enabled = 1, totp_last_step = ?
		WHERE staff_id = ? AND totp_enabled = 0 AND totp_secret <> ''`
	sqlDisableTOTP = `UPDATE credentials SET totp_enabled = 0, totp_secret = '', totp_last_step = 0
		WHERE staff_id = ? AND totp_enabled = 1`
	// Claims a time step; no row changes when the step (or a later one) was used already.
	sqlUseTOTPStep = `UPDATE credentials SET totp_last_step = ? WHERE staff_id = ? AND totp_last_step < ?`

	sqlInsertSession = `INSERT INTO sessions (id_hash, staff_id, csrf_token, mfa_pending, created_at,
		last_seen_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlSession = `SELECT s.staff_id, s.csrf_token, s.mfa_pending, s.created_at, s.last_seen_at, st.status
		FROM sessions s JOIN staff st ON st.id = s.staff_id WHERE s.id_hash = ?`
	sqlTouchSession       = `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?`
	sqlDeleteSession      = `DELETE FROM sessions WHERE id_hash = ?`
	sqlDeleteSessions     = `DELETE FROM sessions WHERE staff_id = ?`
	sqlDeleteOtherSession = `DELETE FROM sessions WHERE staff_id = ? AND id_hash <> ?`
	// Expired by idle time, by absolute age, or a sign-in that never finished its second factor.
	sqlCleanupSessions = `DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?
		OR (mfa_pending = 1 AND created_at < ?)`

	sqlInsertToken = `INSERT INTO api_tokens (staff_id, name, digest, prefix, created_at, last_used_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, 0, 0) RETURNING id`
	sqlTokenByDigest = `SELECT t.id, t.staff_id, t.last_used_at, t.revoked_at, st.status
		FROM api_tokens t JOIN staff st ON st.id = t.staff_id WHERE t.digest = ?`
	sqlTouchToken = `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND last_used_at < ?`
	sqlToken      = `SELECT id, staff_id, name, prefix, created_at, last_used_at, revoked_at
		FROM api_tokens WHERE id = ?`
	sqlTokensOf = `SELECT id, staff_id, name, prefix, created_at, last_used_at, revoked_at
		FROM api_tokens WHERE staff_id = ? AND id < ? ORDER BY id DESC LIMIT ?`
	sqlRevokeToken = `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`
)

// credential is a row of credentials.
type credential struct {
	PasswordHash  string
	TOTPSecret    string // encrypted
	TOTPEnabled   bool
	TOTPLastStep  int64
	FailedCount   int
	FirstFailedAt int64
	LockedUntil   int64
}

func (s *Service) credential(ctx context.Context, staffID int64) (credential, bool, error) {
	var c credential
	var enabled int
	err := s.db.QueryRow(ctx, sqlCredential, staffID).Scan(&c.PasswordHash, &c.TOTPSecret, &enabled,
		&c.TOTPLastStep, &c.FailedCount, &c.FirstFailedAt, &c.LockedUntil)
	if db.IsNoRows(err) {
		return credential{}, false, nil
	}
	if err != nil {
		return credential{}, false, fmt.Errorf("auth: read credential: %w", err)
	}
	c.TOTPEnabled = enabled != 0
	return c, true, nil
}

// staffBasics returns a staff member's username and status; found is false without a row.
func (s *Service) staffBasics(ctx context.Context, staffID int64) (username, status string, found bool, err error) {
	err = s.db.QueryRow(ctx, sqlStaffBasics, staffID).Scan(&username, &status)
	if db.IsNoRows(err) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("auth: read staff: %w", err)
	}
	return username, status, true, nil
}

// anyCredential reports whether anybody can sign in at all.
func (s *Service) anyCredential(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.QueryRow(ctx, sqlAnyCredential).Scan(&n); err != nil {
		return false, fmt.Errorf("auth: count credentials: %w", err)
	}
	return n > 0, nil
}

func scanToken(sc interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created, used, revoked int64
	if err := sc.Scan(&t.ID, &t.StaffID, &t.Name, &t.Prefix, &created, &used, &revoked); err != nil {
		return Token{}, err
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMillis(created), fromMillis(used), fromMillis(revoked)
	return t, nil
}
