package customer

import (
	"context"
	"fmt"
	"strings"
)

// SQL of cooperation records (cooperation.go), table customer_cooperations (migration 00017).

const coopColumns = `customer_id, title, number, start_on, end_on, status, note, created_by, version, created_at, updated_at`

const (
	sqlCoopSelect = `SELECT id, ` + coopColumns + ` FROM customer_cooperations`
	sqlCoopInsert = `INSERT INTO customer_cooperations (` + coopColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlCoopByID   = sqlCoopSelect + ` WHERE id = ? AND customer_id = ?`
	sqlCoopList   = sqlCoopSelect + ` WHERE customer_id = ? ORDER BY start_on DESC, id DESC LIMIT ?`
	// sqlCooperating walks customer_cooperations_active (status, customer_id, start_on,
	// end_on) from afterID on; the days are checked in the index.
	sqlCooperating = `SELECT DISTINCT customer_id FROM customer_cooperations WHERE status = ? AND customer_id > ?
		AND start_on <= ? AND (end_on = '' OR end_on >= ?) ORDER BY customer_id LIMIT ?`
)

var sqlCoopUpdate = `UPDATE customer_cooperations SET ` + setList(strings.TrimPrefix(coopColumns, "customer_id, ")) +
	` WHERE id = ? AND version = ?`

func coopArgs(c *Cooperation) []any {
	return []any{c.Title, c.Number, c.StartOn, c.EndOn, string(c.Status), c.Note, c.CreatedBy, c.Version,
		ms(c.CreatedAt), ms(c.UpdatedAt)}
}

func scanCoop(sc scanner) (Cooperation, error) {
	var c Cooperation
	var status string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.CustomerID, &c.Title, &c.Number, &c.StartOn, &c.EndOn, &status, &c.Note, &c.CreatedBy,
		&c.Version, &created, &updated); err != nil {
		return Cooperation{}, err
	}
	c.Status, c.CreatedAt, c.UpdatedAt = CoopStatus(status), fromMS(created), fromMS(updated)
	return c, nil
}

// InsertCooperation stores a new cooperation record and sets its id.
func (s *Store) InsertCooperation(ctx context.Context, c *Cooperation) error {
	args := append([]any{c.CustomerID}, coopArgs(c)...)
	if err := s.d.QueryRow(ctx, sqlCoopInsert, args...).Scan(&c.ID); err != nil {
		return fmt.Errorf("customer: insert cooperation: %w", err)
	}
	return nil
}

// UpdateCooperation writes c when its stored version is prev; false when it moved on.
func (s *Store) UpdateCooperation(ctx context.Context, c *Cooperation, prev int64) (bool, error) {
	res, err := s.d.Exec(ctx, sqlCoopUpdate, append(coopArgs(c), c.ID, prev)...)
	if err != nil {
		return false, fmt.Errorf("customer: update cooperation: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("customer: update cooperation: %w", err)
	}
	return n == 1, nil
}

// Cooperation loads record id of customer customerID (sql.ErrNoRows when missing).
func (s *Store) Cooperation(ctx context.Context, customerID, id int64) (Cooperation, error) {
	return scanCoop(s.d.QueryRow(ctx, sqlCoopByID, id, customerID))
}

// Cooperations lists a customer's records, the latest start first (at most limit).
func (s *Store) Cooperations(ctx context.Context, customerID int64, limit int) ([]Cooperation, error) {
	rows, err := s.d.Query(ctx, sqlCoopList, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("customer: cooperations: %w", err)
	}
	defer rows.Close()
	var out []Cooperation
	for rows.Next() {
		c, err := scanCoop(rows)
		if err != nil {
			return nil, fmt.Errorf("customer: cooperations: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CooperatingIDs lists the customers with an active record covering day on, after
// customer afterID, at most limit.
func (s *Store) CooperatingIDs(ctx context.Context, on string, afterID int64, limit int) ([]int64, error) {
	rows, err := s.d.Query(ctx, sqlCooperating, string(CoopActive), afterID, on, on, limit)
	if err != nil {
		return nil, fmt.Errorf("customer: cooperating: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("customer: cooperating: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
