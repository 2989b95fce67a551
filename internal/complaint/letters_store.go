package complaint

// OWNED BY the merge engineer: the SQL of public letters and their links.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

const letterColumns = `l.id, l.title, l.body, l.status, l.drafted_by, l.approved_by, l.approved_at, l.published_by,
	l.published_at, l.version, l.created_at, l.updated_at`

const (
	sqlLetterInsert = `INSERT INTO complaint_letters (title, body, status, drafted_by, approved_by, approved_at,
	published_by, published_at, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlLetterUpdate = `UPDATE complaint_letters SET title = ?, body = ?, status = ?, approved_by = ?, approved_at = ?,
	published_by = ?, published_at = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?`
	sqlLetterByID     = `SELECT ` + letterColumns + ` FROM complaint_letters l WHERE l.id = ?`
	sqlLetterLinkAdd  = `INSERT INTO complaint_letter_links (letter_id, complaint_id, created_at) VALUES (?, ?, ?) ON CONFLICT (letter_id, complaint_id) DO NOTHING`
	sqlLetterLinks    = `SELECT letter_id, complaint_id FROM complaint_letter_links WHERE letter_id IN (%s) ORDER BY letter_id, complaint_id`
	sqlLettersOfCompl = `SELECT ` + letterColumns + ` FROM complaint_letters l JOIN complaint_letter_links k ON k.letter_id = l.id
	WHERE k.complaint_id = ? ORDER BY l.id DESC`
)

func scanLetter(row scanner) (Letter, error) {
	var l Letter
	var approved, published, created, updated int64
	err := row.Scan(&l.ID, &l.Title, &l.Body, &l.Status, &l.DraftedBy, &l.ApprovedBy, &approved, &l.PublishedBy,
		&published, &l.Version, &created, &updated)
	if err != nil {
		return Letter{}, err
	}
	l.ApprovedAt, l.PublishedAt, l.CreatedAt, l.UpdatedAt = fromMS(approved), fromMS(published), fromMS(created), fromMS(updated)
	return l, nil
}

// insertLetter stores a new letter and sets its id.
func (s *Store) insertLetter(ctx context.Context, l *Letter) error {
	err := s.db.QueryRow(ctx, sqlLetterInsert, l.Title, l.Body, l.Status, l.DraftedBy, l.ApprovedBy, ms(l.ApprovedAt),
		l.PublishedBy, ms(l.PublishedAt), l.Version, ms(l.CreatedAt), ms(l.UpdatedAt)).Scan(&l.ID)
	if err != nil {
		return fmt.Errorf("complaint: letter insert: %w", err)
	}
	return nil
}

// updateLetter writes l when its stored version is prev; false when the row moved on.
func (s *Store) updateLetter(ctx context.Context, l *Letter, prev int64) (bool, error) {
	res, err := s.db.Exec(ctx, sqlLetterUpdate, l.Title, l.Body, l.Status, l.ApprovedBy, ms(l.ApprovedAt), l.PublishedBy,
		ms(l.PublishedAt), l.Version, ms(l.UpdatedAt), l.ID, prev)
	if err != nil {
		return false, fmt.Errorf("complaint: letter update: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("complaint: letter update: %w", err)
	}
	return n == 1, nil
}

// letter loads letter id (sql.ErrNoRows when missing); lock takes the row for change
// (FOR UPDATE on PostgreSQL; SQLite's write transaction already excludes other writers).
func (s *Store) letter(ctx context.Context, id int64, lock bool) (Letter, error) {
	q := sqlLetterByID
	if lock && s.db.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	return scanLetter(s.db.QueryRow(ctx, q, id))
}

// letters returns up to limit letters (status "" = any) with ids below before (0 = from
// the newest), newest first.
func (s *Store) letters(ctx context.Context, status string, before int64, limit int) ([]Letter, error) {
	var conds []string
	var args []any
	if status != "" {
		conds, args = append(conds, "l.status = ?"), append(args, status)
	}
	if before > 0 {
		conds, args = append(conds, "l.id < ?"), append(args, before)
	}
	q := `SELECT ` + letterColumns + ` FROM complaint_letters l`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	return s.queryLetters(ctx, q+" ORDER BY l.id DESC LIMIT ?", append(args, limit)...)
}

// lettersOfComplaint lists the letters linked to complaint id, newest first.
func (s *Store) lettersOfComplaint(ctx context.Context, id int64) ([]Letter, error) {
	return s.queryLetters(ctx, sqlLettersOfCompl, id)
}

func (s *Store) queryLetters(ctx context.Context, q string, args ...any) ([]Letter, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: letters: %w", err)
	}
	defer rows.Close()
	out := []Letter{}
	for rows.Next() {
		l, err := scanLetter(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: letters: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// linkLetter links letter id to complaints; it returns the complaints newly linked.
func (s *Store) linkLetter(ctx context.Context, id int64, complaints []int64, at time.Time) ([]int64, error) {
	var added []int64
	for _, c := range complaints {
		res, err := s.db.Exec(ctx, sqlLetterLinkAdd, id, c, ms(at))
		if err != nil {
			return nil, fmt.Errorf("complaint: letter link: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("complaint: letter link: %w", err)
		} else if n == 1 {
			added = append(added, c)
		}
	}
	return added, nil
}

// letterLinks returns the complaints linked to each of letters ids.
func (s *Store) letterLinks(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := fmt.Sprintf(sqlLetterLinks, strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","))
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: letter links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l, c int64
		if err := rows.Scan(&l, &c); err != nil {
			return nil, fmt.Errorf("complaint: letter links: %w", err)
		}
		out[l] = append(out[l], c)
	}
	return out, rows.Err()
}

// complaintsIn returns the complaints among ids that sc reaches.
func (s *Store) complaintsIn(ctx context.Context, sc listScope, ids []int64) ([]Complaint, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	where, args := filterWhere(Filter{}, sc, 0)
	in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	cond := " WHERE c.id IN (" + in + ")"
	if where != "" {
		cond = where + " AND c.id IN (" + in + ")"
	}
	for _, id := range ids {
		args = append(args, id)
	}
	return s.query(ctx, ComplaintSelect+cond+" ORDER BY c.id", args...)
}
