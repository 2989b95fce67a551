package customer

import (
	"context"
	"fmt"
	"strings"
)

// refRow is the narrow read behind Ref: the summary columns only (a full customer row
// costs 57 columns and several decryptions).
type refRow struct {
	ID, DeptID, TeamID, OwnerID, MergedInto   int64
	Name, Email, MobileEnc, Tier, CreditGrade string
	Status                                    string
}

const refColumns = `id, name, email, mobile_enc, tier, credit_grade, COALESCE(dept_id, 0), COALESCE(team_id, 0),
	COALESCE(owner_id, 0), status, COALESCE(merged_into, 0)`

func scanRef(r interface{ Scan(...any) error }) (refRow, error) {
	var x refRow
	err := r.Scan(&x.ID, &x.Name, &x.Email, &x.MobileEnc, &x.Tier, &x.CreditGrade, &x.DeptID, &x.TeamID, &x.OwnerID,
		&x.Status, &x.MergedInto)
	return x, err
}

// refRow loads the summary columns of customer id.
func (s *Store) refRow(ctx context.Context, id int64) (refRow, error) {
	return scanRef(s.d.QueryRow(ctx, `SELECT `+refColumns+` FROM customers WHERE id = ?`, id))
}

// refRows loads the summary columns of the customers ids (unknown ids are absent).
func (s *Store) refRows(ctx context.Context, ids []int64) ([]refRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.d.Query(ctx, `SELECT `+refColumns+` FROM customers WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("customer: refs: %w", err)
	}
	defer rows.Close()
	var out []refRow
	for rows.Next() {
		x, err := scanRef(rows)
		if err != nil {
			return nil, fmt.Errorf("customer: refs: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
