package revisit

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SQL of repeating series (repeat.go) and of the care plans (plans_care.go). Series
// need no table of their own: a series is its first task (a task of a repeating rule
// that is no follow-up of another) and the tasks whose plan_key is
// "series|<first task id>|<n>"; the next occurrence exists when its plan_key does.

const (
	// A finished task that may end a series so far: the first task of a series or an
	// occurrence, of one of the rules listed, with no occurrence after it yet, after id
	// (keyset order; revisit_tasks_parent of migration 00021).
	sqlSeriesCandidates = ` WHERE t.rule_code IN (%s) AND t.status IN ('done', 'unreached', 'expired')
		AND ((t.source_type <> 'task' AND t.parent_id IS NULL) OR t.plan_key LIKE 'series|%%') AND t.id > ?
		AND NOT EXISTS (SELECT 1 FROM revisit_tasks c WHERE c.parent_id = t.id AND c.plan_key LIKE 'series|%%')
		ORDER BY t.id LIMIT ?`
	// A deal closed for the customer after a time: the deal.closed event, or a field
	// visit recorded with deal_closed=1.
	sqlSeriesDealClosed = `SELECT COUNT(*) FROM revisit_events WHERE customer_id = ? AND occurred_at > ?
		AND (event = 'deal.closed' OR (event = 'fieldvisit.recorded' AND attrs LIKE '%"deal_closed":"1"%'))`
	// A field visit recorded for the customer after a time.
	sqlSeriesVisited = `SELECT COUNT(*) FROM revisit_events WHERE customer_id = ? AND occurred_at > ?
		AND event = 'fieldvisit.recorded'`
	// Active customers of some tiers (care_regular_biweekly), after id.
	sqlCareTierCustomers = `SELECT id FROM customers WHERE id > ? AND merged_into IS NULL AND anonymized_at = 0
		AND status = 'active' AND tier IN (%s) ORDER BY id LIMIT ?`
	sqlCareAllCustomers = `SELECT id FROM customers WHERE id > ? AND merged_into IS NULL AND anonymized_at = 0
		AND status = 'active' ORDER BY id LIMIT ?`
	// Active customers with a contact born on a day (MM-DD; the contact's birthday is
	// stored as YYYY-MM-DD or MM-DD), after id.
	sqlCareBirthdays = `SELECT DISTINCT c.id FROM customers c JOIN customer_contacts k ON k.customer_id = c.id
		WHERE c.id > ? AND c.merged_into IS NULL AND c.anonymized_at = 0 AND c.status = 'active'
		AND (k.birthday IN (?, ?) OR SUBSTR(k.birthday, 6) IN (?, ?)) ORDER BY c.id LIMIT ?`
)

func placeholders(n int) string {
	if n <= 0 {
		return "NULL"
	}
	return "?" + strings.Repeat(", ?", n-1)
}

// seriesCandidates lists finished first tasks and occurrences of rules after afterID.
func (s *Store) seriesCandidates(ctx context.Context, rules []string, afterID int64, limit int) ([]Task, error) {
	q := TaskSelect + fmt.Sprintf(sqlSeriesCandidates, placeholders(len(rules)))
	args := make([]any, 0, len(rules)+2)
	for _, r := range rules {
		args = append(args, r)
	}
	args = append(args, afterID, limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("revisit: series: %w", err)
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t, err := ScanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("revisit: series: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) countSince(ctx context.Context, q string, customerID int64, since time.Time) (bool, error) {
	var n int
	if err := s.db.QueryRow(ctx, q, customerID, ms(since)).Scan(&n); err != nil {
		return false, fmt.Errorf("revisit: series stop: %w", err)
	}
	return n > 0, nil
}

// dealClosedSince reports a deal closed by the customer after since.
func (s *Store) dealClosedSince(ctx context.Context, customerID int64, since time.Time) (bool, error) {
	return s.countSince(ctx, sqlSeriesDealClosed, customerID, since)
}

// visitedSince reports a field visit recorded for the customer after since.
func (s *Store) visitedSince(ctx context.Context, customerID int64, since time.Time) (bool, error) {
	return s.countSince(ctx, sqlSeriesVisited, customerID, since)
}

func (s *Store) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("revisit: care customers: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// tierCustomers lists active customers of tiers (any tier when empty) after afterID.
func (s *Store) tierCustomers(ctx context.Context, tiers []string, afterID int64, limit int) ([]int64, error) {
	if len(tiers) == 0 {
		return s.ids(ctx, sqlCareAllCustomers, afterID, limit)
	}
	args := []any{afterID}
	for _, t := range tiers {
		args = append(args, t)
	}
	args = append(args, limit)
	return s.ids(ctx, fmt.Sprintf(sqlCareTierCustomers, placeholders(len(tiers))), args...)
}

// birthdayCustomers lists active customers with a contact born on mmdd (or on alt,
// e.g. 02-29 on 02-28 of a common year) after afterID.
func (s *Store) birthdayCustomers(ctx context.Context, mmdd, alt string, afterID int64, limit int) ([]int64, error) {
	return s.ids(ctx, sqlCareBirthdays, afterID, mmdd, alt, mmdd, alt, limit)
}
