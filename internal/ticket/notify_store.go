package ticket

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SQL of customer notifications and auto-close.
const (
	// sqlNotifySent finds the timeline entry of a notification already sent (its data
	// holds the notice key), so that a job that runs twice mails once.
	sqlNotifySent = `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ? AND kind = ? AND data LIKE ?`
	// sqlAutoCloseDue lists resolved requests quiet since before a cutoff, oldest first
	// (index tickets_resolved_at).
	sqlAutoCloseDue = `SELECT id FROM tickets WHERE status = ? AND resolved_at > 0 AND resolved_at <= ?
		ORDER BY resolved_at, id LIMIT ?`
	sqlNotifySettingRead  = `SELECT value FROM settings WHERE key = ?`
	sqlNotifySettingWrite = `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
)

// NotificationSent reports whether request id's timeline holds the notification key.
func (s *Store) NotificationSent(ctx context.Context, id int64, key string) (bool, error) {
	var n int
	if err := s.db.QueryRow(ctx, sqlNotifySent, id, string(EventNotification), `%"key":"`+key+`"%`).Scan(&n); err != nil {
		return false, fmt.Errorf("ticket: notification sent: %w", err)
	}
	return n > 0, nil
}

// AutoCloseDue returns up to limit ids of requests resolved at or before cutoff (ms).
func (s *Store) AutoCloseDue(ctx context.Context, cutoff int64, limit int) ([]int64, error) {
	rows, err := s.db.Query(ctx, sqlAutoCloseDue, string(StatusResolved), cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("ticket: auto-close due: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("ticket: auto-close due: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// NotifySetting reads a settings value (ok=false when absent).
func (s *Store) NotifySetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.db.QueryRow(ctx, sqlNotifySettingRead, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("ticket: setting %s: %w", key, err)
	}
	return v, true, nil
}

// PutNotifySetting writes a settings value.
func (s *Store) PutNotifySetting(ctx context.Context, key, value string, at int64) error {
	if _, err := s.db.Exec(ctx, sqlNotifySettingWrite, key, value, at); err != nil {
		return fmt.Errorf("ticket: setting %s: %w", key, err)
	}
	return nil
}
