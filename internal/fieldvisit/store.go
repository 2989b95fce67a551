package fieldvisit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Store holds the field-visit SQL. Every statement runs in the transaction carried by
// ctx when there is one.
type Store struct{ db *db.DB }

// NewStore returns the store over d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// row is a field_visits row as stored (the phone encrypted).
type row struct {
	Visit
	PhoneEnc   string
	PhoneBlind string
}

const visitColumns = `customer_id, business_type, contact_name, contact_title, phone_enc, phone_blind, visited_at,
	purpose, result, next_step, intent_class, deal_closed, location, staff_id, dept_id, team_id, created_at`

const (
	sqlVisitInsert = `INSERT INTO field_visits (` + visitColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlVisitSelect = `SELECT id, ` + visitColumns + ` FROM field_visits`
	sqlVisitByID   = sqlVisitSelect + ` WHERE id = ?`
	// List fragments: the scope, the filters and the keyset, newest first.
	sqlWhereTrue     = ` WHERE 1 = 1`
	sqlAndStaff      = ` AND staff_id = ?`
	sqlAndDept       = ` AND dept_id = ?`
	sqlAndTeamOrSelf = ` AND (team_id = ? OR staff_id = ?)`
	sqlAndTeam       = ` AND team_id = ?`
	sqlAndCustomer   = ` AND customer_id = ?`
	sqlAndFrom       = ` AND visited_at >= ?`
	sqlAndTo         = ` AND visited_at < ?`
	sqlAndBefore     = ` AND (visited_at < ? OR (visited_at = ? AND id < ?))`
	sqlAndNever      = ` AND 1 = 0`
	sqlOrderLimit    = ` ORDER BY visited_at DESC, id DESC LIMIT ?`
	// The last visit of each customer of a set (the ids are bound one by one).
	sqlLastVisits = `SELECT customer_id, MAX(visited_at) FROM field_visits WHERE customer_id IN (%s) GROUP BY customer_id`
	// The customers whose latest visit with an intent class assessed has class ?.
	sqlLatestIntent = `SELECT v.customer_id FROM field_visits v
		WHERE v.intent_class = ? AND v.id = (SELECT w.id FROM field_visits w WHERE w.customer_id = v.customer_id
			AND w.intent_class <> '' ORDER BY w.visited_at DESC, w.id DESC LIMIT 1)
		ORDER BY v.customer_id LIMIT ?`
	// The report: per salesperson in the period.
	sqlReport = `SELECT staff_id, COUNT(*), COUNT(DISTINCT customer_id),
		SUM(CASE WHEN deal_closed = 1 THEN 1 ELSE 0 END),
		SUM(CASE WHEN intent_class = 'A' THEN 1 ELSE 0 END), SUM(CASE WHEN intent_class = 'B' THEN 1 ELSE 0 END),
		SUM(CASE WHEN intent_class = 'C' THEN 1 ELSE 0 END), SUM(CASE WHEN intent_class = 'D' THEN 1 ELSE 0 END)
		FROM field_visits`
	sqlReportGroup   = ` GROUP BY staff_id ORDER BY COUNT(*) DESC, staff_id`
	sqlReportTotals  = `SELECT COUNT(DISTINCT customer_id) FROM field_visits`
	sqlSettingGet    = `SELECT value, version, updated_at FROM field_visit_settings WHERE name = ?`
	sqlSettingInsert = `INSERT INTO field_visit_settings (name, value, version, updated_at) VALUES (?, ?, ?, ?)`
	sqlSettingUpdate = `UPDATE field_visit_settings SET value = ?, version = ?, updated_at = ? WHERE name = ? AND version = ?`
)

type scanner interface{ Scan(dest ...any) error }

func scanRow(sc scanner) (row, error) {
	var r row
	var visited, created int64
	var deal int
	var dept, team sql.NullInt64
	err := sc.Scan(&r.ID, &r.CustomerID, &r.BusinessType, &r.ContactName, &r.ContactTitle, &r.PhoneEnc, &r.PhoneBlind,
		&visited, &r.Purpose, &r.Result, &r.NextStep, &r.IntentClass, &deal, &r.Location, &r.StaffID, &dept, &team,
		&created)
	if err != nil {
		return row{}, err
	}
	r.VisitedAt, r.CreatedAt = db.Time(visited), db.Time(created)
	r.DealClosed, r.DeptID, r.TeamID = deal == 1, dept.Int64, team.Int64
	return r, nil
}

// Insert stores a new visit and sets its id.
func (s *Store) Insert(ctx context.Context, r *row) error {
	err := s.db.QueryRow(ctx, sqlVisitInsert, r.CustomerID, r.BusinessType, r.ContactName, r.ContactTitle, r.PhoneEnc,
		r.PhoneBlind, db.Millis(r.VisitedAt), r.Purpose, r.Result, r.NextStep, r.IntentClass, db.Bool(r.DealClosed),
		r.Location, r.StaffID, db.NullID(r.DeptID), db.NullID(r.TeamID), db.Millis(r.CreatedAt)).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("fieldvisit: insert: %w", err)
	}
	return nil
}

// Get reads visit id.
func (s *Store) Get(ctx context.Context, id int64) (row, error) {
	return scanRow(s.db.QueryRow(ctx, sqlVisitByID, id))
}

// scopeClause narrows a query to what the actor's scope for perm reaches.
func scopeClause(a *authz.Actor, perm string) (string, []any) {
	switch a.ScopeOf(perm) {
	case authz.ScopeAll:
		return "", nil
	case authz.ScopeDept:
		if a.DeptID == 0 {
			return sqlAndNever, nil
		}
		return sqlAndDept, []any{a.DeptID}
	case authz.ScopeTeam:
		return sqlAndTeamOrSelf, []any{a.TeamID, a.ID}
	case authz.ScopeOwn:
		return sqlAndStaff, []any{a.ID}
	}
	return sqlAndNever, nil
}

// cursor is a keyset position of the list.
type cursor struct {
	At int64 `json:"at"`
	ID int64 `json:"id"`
}

// List returns up to limit visits the actor reaches, newest first, after cur.
func (s *Store) List(ctx context.Context, a *authz.Actor, f Filter, cur *cursor, limit int) ([]row, error) {
	var q strings.Builder
	q.WriteString(sqlVisitSelect + sqlWhereTrue)
	sc, args := scopeClause(a, PermRead)
	q.WriteString(sc)
	switch f.View {
	case ViewMine:
		q.WriteString(sqlAndStaff)
		args = append(args, a.ID)
	case ViewTeam:
		if a.TeamID == 0 {
			q.WriteString(sqlAndNever)
		} else {
			q.WriteString(sqlAndTeam)
			args = append(args, a.TeamID)
		}
	}
	if f.StaffID != 0 {
		q.WriteString(sqlAndStaff)
		args = append(args, f.StaffID)
	}
	if f.CustomerID != 0 {
		q.WriteString(sqlAndCustomer)
		args = append(args, f.CustomerID)
	}
	if !f.From.IsZero() {
		q.WriteString(sqlAndFrom)
		args = append(args, db.Millis(f.From))
	}
	if !f.To.IsZero() {
		q.WriteString(sqlAndTo)
		args = append(args, db.Millis(f.To))
	}
	if cur != nil {
		q.WriteString(sqlAndBefore)
		args = append(args, cur.At, cur.At, cur.ID)
	}
	q.WriteString(sqlOrderLimit)
	args = append(args, limit)
	rows, err := s.db.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("fieldvisit: list: %w", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("fieldvisit: list: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastVisits returns the last visit time (Unix ms) of each customer of ids that has one.
func (s *Store) LastVisits(ctx context.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	const batch = 500
	for len(ids) > 0 {
		n := min(batch, len(ids))
		part := ids[:n]
		ids = ids[n:]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		q := fmt.Sprintf(sqlLastVisits, strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", "))
		rows, err := s.db.Query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("fieldvisit: last visits: %w", err)
		}
		for rows.Next() {
			var id, at int64
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("fieldvisit: last visits: %w", err)
			}
			out[id] = at
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("fieldvisit: last visits: %w", err)
		}
	}
	return out, nil
}

// LatestIntent returns up to limit customers whose latest assessed visit has class.
func (s *Store) LatestIntent(ctx context.Context, class string, limit int) ([]int64, error) {
	rows, err := s.db.Query(ctx, sqlLatestIntent, class, limit)
	if err != nil {
		return nil, fmt.Errorf("fieldvisit: latest intent: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("fieldvisit: latest intent: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Report counts the visits the actor reaches in [from, to) per salesperson, and the
// distinct customers visited overall.
func (s *Store) Report(ctx context.Context, a *authz.Actor, from, to int64) ([]ReportRow, int, error) {
	sc, args := scopeClause(a, PermRead)
	where := sqlWhereTrue + sc + sqlAndFrom + sqlAndTo
	args = append(args, from, to)
	rows, err := s.db.Query(ctx, sqlReport+where+sqlReportGroup, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("fieldvisit: report: %w", err)
	}
	defer rows.Close()
	var out []ReportRow
	for rows.Next() {
		var r ReportRow
		var deals, ia, ib, ic, id sql.NullInt64
		if err := rows.Scan(&r.StaffID, &r.Visits, &r.Customers, &deals, &ia, &ib, &ic, &id); err != nil {
			return nil, 0, fmt.Errorf("fieldvisit: report: %w", err)
		}
		r.Deals, r.IntentA, r.IntentB, r.IntentC, r.IntentD = int(deals.Int64), int(ia.Int64), int(ib.Int64), int(ic.Int64), int(id.Int64)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("fieldvisit: report: %w", err)
	}
	var customers int
	if err := s.db.QueryRow(ctx, sqlReportTotals+where, args...).Scan(&customers); err != nil {
		return nil, 0, fmt.Errorf("fieldvisit: report totals: %w", err)
	}
	return out, customers, nil
}

// Setting reads the settings row name (sql.ErrNoRows when absent).
func (s *Store) Setting(ctx context.Context, name string) (value string, version, updatedAt int64, err error) {
	err = s.db.QueryRow(ctx, sqlSettingGet, name).Scan(&value, &version, &updatedAt)
	return value, version, updatedAt, err
}

// SaveSetting writes the settings row name at version next when its stored version is
// prev (0 = the row does not exist yet); it reports false when the row moved on.
func (s *Store) SaveSetting(ctx context.Context, name, value string, prev, next, at int64) (bool, error) {
	if prev == 0 {
		if _, err := s.db.Exec(ctx, sqlSettingInsert, name, value, next, at); err != nil {
			if db.IsUniqueViolation(err) {
				return false, nil
			}
			return false, fmt.Errorf("fieldvisit: save %s: %w", name, err)
		}
		return true, nil
	}
	res, err := s.db.Exec(ctx, sqlSettingUpdate, value, next, at, name, prev)
	if err != nil {
		return false, fmt.Errorf("fieldvisit: save %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("fieldvisit: save %s: %w", name, err)
	}
	return n == 1, nil
}
