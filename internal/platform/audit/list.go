package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
)

// PermRead is the permission that lets a role read the audit log.
const PermRead = "audit:read"

// Filter narrows a listing; zero fields do not filter. From is inclusive, To exclusive.
type Filter struct {
	ActorID    int64
	Action     string
	TargetType string
	TargetID   string
	From, To   time.Time
}

// Item is one entry as the API and the page show it.
type Item struct {
	Seq        int64           `json:"seq"`
	At         string          `json:"at"` // RFC 3339, UTC, milliseconds
	ActorID    int64           `json:"actor_id"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	IP         string          `json:"ip"`
	RequestID  string          `json:"request_id"`
	Detail     json.RawMessage `json:"detail"`
	Hash       string          `json:"hash"`
	// Time is At as a time, for pages.
	Time time.Time `json:"-"`
}

// timeLayout is RFC 3339 with milliseconds, the precision entries are stored with.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

const qListSelect = `SELECT seq, at, actor_id, actor, action, target_type, target_id, ip, request_id, detail, hash FROM audit_log`

// List returns entries matching f, newest first, at most limit of them, starting after
// the cursor seq (0 = from the newest); next is the cursor of the following page, 0 when
// there is none. Pages are keyed on seq, never by offset, and nothing is counted.
// The actor in ctx must hold audit:read.
func (l *Log) List(ctx context.Context, f Filter, limit int, cursor int64) (items []Item, next int64, err error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = 50
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if cursor > 0 {
		add("seq < ?", cursor)
	}
	if f.ActorID != 0 {
		add("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.TargetType != "" {
		add("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if !f.From.IsZero() {
		add("at >= ?", clock.Millis(f.From))
	}
	if !f.To.IsZero() {
		add("at < ?", clock.Millis(f.To))
	}
	q := qListSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit+1)

	rows, err := l.db.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	items = make([]Item, 0, min(limit+1, 64))
	for rows.Next() {
		var it Item
		var at int64
		var detail string
		if err := rows.Scan(&it.Seq, &at, &it.ActorID, &it.Actor, &it.Action, &it.TargetType, &it.TargetID,
			&it.IP, &it.RequestID, &detail, &it.Hash); err != nil {
			return nil, 0, fmt.Errorf("audit: list: scan: %w", err)
		}
		it.Time = time.UnixMilli(at).UTC()
		it.At = it.Time.Format(timeLayout)
		it.Detail = json.RawMessage(detail)
		if !json.Valid(it.Detail) {
			// Only a tampered row holds invalid JSON; show it as a string rather than
			// breaking the response.
			b, _ := json.Marshal(detail)
			it.Detail = b
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	if len(items) > limit {
		items = items[:limit]
		next = items[limit-1].Seq
	}
	return items, next, nil
}
