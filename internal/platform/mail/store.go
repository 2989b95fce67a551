package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// SQL of the mail settings (one row of the settings table).
const (
	sqlSettingRead  = `SELECT value, updated_at FROM settings WHERE key = ?`
	sqlSettingWrite = `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
)

// readSetting returns a settings value and its version (ok=false when absent).
func readSetting(ctx context.Context, d *db.DB, key string) (value string, updatedAt int64, ok bool, err error) {
	err = d.QueryRow(ctx, sqlSettingRead, key).Scan(&value, &updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("mail: read setting %s: %w", key, err)
	}
	return value, updatedAt, true, nil
}

// writeSetting stores a settings value.
func writeSetting(ctx context.Context, d *db.DB, key, value string, at int64) error {
	if _, err := d.Exec(ctx, sqlSettingWrite, key, value, at); err != nil {
		return fmt.Errorf("mail: write setting %s: %w", key, err)
	}
	return nil
}
