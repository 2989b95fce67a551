package activity

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Store holds the activity SQL; every statement runs in ctx's transaction when there is one.
type Store struct {
	db *db.DB
}

// NewStore returns the store over d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// activityColumns are the activities columns after id, in scanActivity / activityArgs order.
const activityColumns = `title, type, start_on, end_on, organiser_id, dept_id, team_id, description, status,
	participants, ended_at, cancelled_at, created_by, version, created_at, updated_at`

const activityColumnCount = 16

const (
	sqlActivitySelect = `SELECT id, ` + activityColumns + ` FROM activities`
	sqlActivityByID   = sqlActivitySelect + ` WHERE id = ?`
	sqlActivityLock   = sqlActivityByID + ` FOR UPDATE`

	sqlParticipantExists = `SELECT COUNT(*) FROM activity_participants WHERE activity_id = ? AND customer_id = ?`
	sqlParticipantInsert = `INSERT INTO activity_participants (activity_id, customer_id, source, added_by, added_at) VALUES (?, ?, ?, ?, ?)`
	sqlParticipantDelete = `DELETE FROM activity_participants WHERE activity_id = ? AND customer_id = ?`
	sqlParticipantCount  = `SELECT COUNT(DISTINCT customer_id) FROM activity_participants WHERE activity_id = ?`
	sqlParticipantIDs    = `SELECT DISTINCT customer_id FROM activity_participants WHERE activity_id = ? ORDER BY customer_id`
	// sqlParticipantPage lists one row per customer (merges may leave two), keyset by
	// customer id over activity_participants_activity.
	sqlParticipantPage = `SELECT customer_id, MIN(source), MIN(added_by), MIN(added_at) FROM activity_participants
		WHERE activity_id = ? AND customer_id > ? GROUP BY customer_id ORDER BY customer_id LIMIT ?`
)

var (
	sqlActivityInsert = `INSERT INTO activities (` + activityColumns + `) VALUES (?` +
		strings.Repeat(", ?", activityColumnCount-1) + `) RETURNING id`
	sqlActivityUpdate = `UPDATE activities SET ` + db.SetList(activityColumns) + ` WHERE id = ? AND version = ?`
)

type scanner interface{ Scan(dest ...any) error }

func activityArgs(a *Activity) []any {
	return []any{a.Title, string(a.Type), a.StartOn, a.EndOn, db.NullID(a.OrganiserID), db.NullID(a.DeptID),
		db.NullID(a.TeamID), a.Description, string(a.Status), a.Participants, db.Millis(a.EndedAt),
		db.Millis(a.CancelledAt), a.CreatedBy, a.Version, db.Millis(a.CreatedAt), db.Millis(a.UpdatedAt)}
}

func scanActivity(row scanner) (Activity, error) {
	var a Activity
	var typ, status string
	var organiser, dept, team sql.NullInt64
	var ended, cancelled, created, updated int64
	if err := row.Scan(&a.ID, &a.Title, &typ, &a.StartOn, &a.EndOn, &organiser, &dept, &team, &a.Description,
		&status, &a.Participants, &ended, &cancelled, &a.CreatedBy, &a.Version, &created, &updated); err != nil {
		return Activity{}, err
	}
	a.Type, a.Status = Type(typ), Status(status)
	a.OrganiserID, a.DeptID, a.TeamID = organiser.Int64, dept.Int64, team.Int64
	a.EndedAt, a.CancelledAt, a.CreatedAt, a.UpdatedAt = db.Time(ended), db.Time(cancelled), db.Time(created), db.Time(updated)
	return a, nil
}

// Insert stores a new activity and sets its id.
func (s *Store) Insert(ctx context.Context, a *Activity) error {
	if err := s.db.QueryRow(ctx, sqlActivityInsert, activityArgs(a)...).Scan(&a.ID); err != nil {
		return fmt.Errorf("activity: insert: %w", err)
	}
	return nil
}

// Update writes a when its stored version is prev; false when the row moved on.
func (s *Store) Update(ctx context.Context, a *Activity, prev int64) (bool, error) {
	res, err := s.db.Exec(ctx, sqlActivityUpdate, append(activityArgs(a), a.ID, prev)...)
	if err != nil {
		return false, fmt.Errorf("activity: update: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("activity: update: %w", err)
	}
	return n == 1, nil
}

// Get loads activity id (sql.ErrNoRows when missing).
func (s *Store) Get(ctx context.Context, id int64) (Activity, error) {
	return scanActivity(s.db.QueryRow(ctx, sqlActivityByID, id))
}

// Lock loads activity id for change inside ctx's transaction (FOR UPDATE on PostgreSQL;
// SQLite's immediate write transaction already excludes other writers).
func (s *Store) Lock(ctx context.Context, id int64) (Activity, error) {
	q := sqlActivityByID
	if s.db.Dialect == db.Postgres {
		q = sqlActivityLock
	}
	return scanActivity(s.db.QueryRow(ctx, q, id))
}

// listQuery is a page of the activity list: the actor's reach and the filters.
type listQuery struct {
	all                         bool
	dept, team, self            int64
	status                      Status
	typ                         Type
	deptID, organiserID, custID int64
	before                      int64
	limit                       int
}

func (q listQuery) sql() (string, []any) {
	var where []string
	var args []any
	if !q.all {
		switch {
		case q.dept != 0:
			where, args = append(where, "a.dept_id = ?"), append(args, q.dept)
		case q.team != 0:
			where, args = append(where, "(a.team_id = ? OR a.organiser_id = ?)"), append(args, q.team, q.self)
		default:
			where, args = append(where, "a.organiser_id = ?"), append(args, q.self)
		}
	}
	if q.status != "" {
		where, args = append(where, "a.status = ?"), append(args, string(q.status))
	}
	if q.typ != "" {
		where, args = append(where, "a.type = ?"), append(args, string(q.typ))
	}
	if q.deptID != 0 {
		where, args = append(where, "a.dept_id = ?"), append(args, q.deptID)
	}
	if q.organiserID != 0 {
		where, args = append(where, "a.organiser_id = ?"), append(args, q.organiserID)
	}
	if q.custID != 0 {
		where = append(where, "EXISTS (SELECT 1 FROM activity_participants p WHERE p.activity_id = a.id AND p.customer_id = ?)")
		args = append(args, q.custID)
	}
	if q.before > 0 {
		where, args = append(where, "a.id < ?"), append(args, q.before)
	}
	s := `SELECT a.id, ` + prefixed("a.", activityColumns) + ` FROM activities a`
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	return s + " ORDER BY a.id DESC LIMIT ?", append(args, q.limit)
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// List returns one page of activities, newest first.
func (s *Store) List(ctx context.Context, q listQuery) ([]Activity, error) {
	query, args := q.sql()
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("activity: list: %w", err)
	}
	defer rows.Close()
	var out []Activity
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, fmt.Errorf("activity: list: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// HasParticipant reports whether customer takes part in activity.
func (s *Store) HasParticipant(ctx context.Context, activityID, customerID int64) (bool, error) {
	var n int
	if err := s.db.QueryRow(ctx, sqlParticipantExists, activityID, customerID).Scan(&n); err != nil {
		return false, fmt.Errorf("activity: participant: %w", err)
	}
	return n > 0, nil
}

// AddParticipant inserts a participant row.
func (s *Store) AddParticipant(ctx context.Context, p Participant) error {
	if _, err := s.db.Exec(ctx, sqlParticipantInsert, p.ActivityID, p.CustomerID, p.Source, p.AddedBy, db.Millis(p.AddedAt)); err != nil {
		return fmt.Errorf("activity: add participant: %w", err)
	}
	return nil
}

// RemoveParticipant deletes every row of customer in activity; it reports whether any went.
func (s *Store) RemoveParticipant(ctx context.Context, activityID, customerID int64) (bool, error) {
	res, err := s.db.Exec(ctx, sqlParticipantDelete, activityID, customerID)
	if err != nil {
		return false, fmt.Errorf("activity: remove participant: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CountParticipants counts the distinct participant customers of activity.
func (s *Store) CountParticipants(ctx context.Context, activityID int64) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, sqlParticipantCount, activityID).Scan(&n); err != nil {
		return 0, fmt.Errorf("activity: count participants: %w", err)
	}
	return n, nil
}

// ParticipantIDs lists the distinct participant customers of activity, by id.
func (s *Store) ParticipantIDs(ctx context.Context, activityID int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, sqlParticipantIDs, activityID)
	if err != nil {
		return nil, fmt.Errorf("activity: participants: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("activity: participants: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Participants returns one page of the participants of activity after customer id after.
func (s *Store) Participants(ctx context.Context, activityID, after int64, limit int) ([]Participant, error) {
	rows, err := s.db.Query(ctx, sqlParticipantPage, activityID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("activity: participants: %w", err)
	}
	defer rows.Close()
	var out []Participant
	for rows.Next() {
		p := Participant{ActivityID: activityID}
		var at int64
		if err := rows.Scan(&p.CustomerID, &p.Source, &p.AddedBy, &at); err != nil {
			return nil, fmt.Errorf("activity: participants: %w", err)
		}
		p.AddedAt = db.Time(at)
		out = append(out, p)
	}
	return out, rows.Err()
}
