package ticket

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/search"
)

// Bulk loading, for load tests (bench/) and demo data ONLY: it writes requests as the
// caller built them — no validation, authorization, priority, SLA policy, assignment,
// audit entry, notification or event — in multi-row INSERTs. Requests created by
// people go through CreateTicket.

// bulkRows is how many requests one multi-row INSERT carries (41 parameters each:
// under SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement).
const bulkRows = 500

const (
	// sqlBulkSeq reserves n numbers of a day at once: it returns the last one.
	sqlBulkSeq = `INSERT INTO ticket_counters (day, seq) VALUES (?, ?)
		ON CONFLICT (day) DO UPDATE SET seq = ticket_counters.seq + ? RETURNING seq`
	sqlBulkTicketHead = `INSERT INTO tickets (` + ticketColumns + `) VALUES `
	sqlBulkEventHead  = `INSERT INTO ticket_events (ticket_id, kind, public, actor_kind, actor_id, actor_name, body, data,
		created_at) VALUES `
)

// BulkInsert stores ts (load tests and demo data only; see above) inside ctx's
// transaction, or one of its own: the rows as given, a number from the day's counter
// for every request without one (numbers stay unique with those CreateTicket takes
// later), a "created" timeline entry each and their search documents. It sets the ids
// and numbers in ts. Version 0 is stored as 1; a zero UpdatedAt or LastActivityAt as
// CreatedAt.
func (s *Service) BulkInsert(ctx context.Context, ts []Ticket) error {
	for i := range ts {
		t := &ts[i]
		if t.CreatedAt.IsZero() || t.Title == "" || t.Status == "" {
			return errors.New("ticket: bulk insert: a request needs created_at, title and status")
		}
		if t.Version == 0 {
			t.Version = 1
		}
		if t.UpdatedAt.IsZero() {
			t.UpdatedAt = t.CreatedAt
		}
		if t.LastActivityAt.IsZero() {
			t.LastActivityAt = t.CreatedAt
		}
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.bulkNumbers(ctx, ts); err != nil {
			return err
		}
		for start := 0; start < len(ts); start += bulkRows {
			if err := s.bulkBatch(ctx, ts[start:min(start+bulkRows, len(ts))]); err != nil {
				return err
			}
		}
		return nil
	})
}

// bulkNumbers gives every request without a number the next one of its China day,
// reserving each day's range with one counter update.
func (s *Service) bulkNumbers(ctx context.Context, ts []Ticket) error {
	need := map[string][]int{}
	var days []string
	for i := range ts {
		if ts[i].Number != "" {
			continue
		}
		day := numberDay(ts[i].CreatedAt)
		if need[day] == nil {
			days = append(days, day)
		}
		need[day] = append(need[day], i)
	}
	for _, day := range days {
		idx := need[day]
		n := int64(len(idx))
		var last int64
		if err := s.db.QueryRow(ctx, sqlBulkSeq, day, n, n).Scan(&last); err != nil {
			return fmt.Errorf("ticket: bulk numbers: %w", err)
		}
		for k, i := range idx {
			ts[i].Number = FormatNumber(ts[i].CreatedAt, last-n+1+int64(k))
		}
	}
	return nil
}

// bulkBatch inserts up to bulkRows requests, their created entries and documents.
func (s *Service) bulkBatch(ctx context.Context, ts []Ticket) error {
	var q strings.Builder
	q.WriteString(sqlBulkTicketHead)
	row := "(?" + strings.Repeat(", ?", ticketColumnCount-1) + ")"
	args := make([]any, 0, len(ts)*ticketColumnCount)
	for i := range ts {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
		args = append(args, ticketArgs(&ts[i])...)
	}
	q.WriteString(" RETURNING id, number")
	rows, err := s.db.Query(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("ticket: bulk insert: %w", err)
	}
	ids := make(map[string]int64, len(ts))
	for rows.Next() {
		var id int64
		var number string
		if err := rows.Scan(&id, &number); err != nil {
			rows.Close()
			return fmt.Errorf("ticket: bulk insert: %w", err)
		}
		ids[number] = id
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("ticket: bulk insert: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ticket: bulk insert: %w", err)
	}
	q.Reset()
	q.WriteString(sqlBulkEventHead)
	args = args[:0]
	docs := make([]search.Doc, len(ts))
	for i := range ts {
		t := &ts[i]
		id, ok := ids[t.Number]
		if !ok {
			return fmt.Errorf("ticket: bulk insert: no id returned for %s", t.Number)
		}
		t.ID = id
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, t.ID, string(EventCreated), 1, string(authz.KindSystem), int64(0), "system", "",
			`{"number":"`+t.Number+`","channel":"`+string(t.Channel)+`"}`, ms(t.CreatedAt))
		docs[i] = search.Doc{ID: t.ID, Text: docText(t, nil)}
	}
	if _, err := s.db.Exec(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("ticket: bulk insert events: %w", err)
	}
	if err := s.index.Put(ctx, docs...); err != nil {
		return fmt.Errorf("ticket: bulk insert: index: %w", err)
	}
	return nil
}
