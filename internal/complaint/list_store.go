package complaint

import (
	"context"
	"fmt"
	"strings"
)

// where is the scope as a condition with its arguments.
func (sc listScope) where() (string, []any) {
	switch {
	case sc.all:
		return "", nil
	case sc.customer != 0:
		return "c.customer_id = ? AND c.anonymous = 0", []any{sc.customer}
	case sc.dept != 0:
		return "(c.dept_id = ? OR c.resp_dept_id = ?)", []any{sc.dept, sc.dept}
	case sc.team != 0:
		return "(c.team_id = ? OR c.resp_team_id = ? OR c.resp_staff_id = ? OR c.created_by = ?)",
			[]any{sc.team, sc.team, sc.self, sc.self}
	}
	return "(c.resp_staff_id = ? OR c.created_by = ?)", []any{sc.self, sc.self}
}

// filterWhere builds the conditions of f and sc.
func filterWhere(f Filter, sc listScope, before int64) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) { conds = append(conds, cond); args = append(args, a...) }
	if w, a := sc.where(); w != "" {
		add(w, a...)
	}
	if f.Stage != "" {
		add("c.stage = ?", string(f.Stage))
	}
	if f.Level != "" {
		add("c.level = ?", string(f.Level))
	}
	if f.DeptID != 0 {
		add("(c.dept_id = ? OR c.resp_dept_id = ?)", f.DeptID, f.DeptID)
	}
	if f.CauseID != 0 {
		add("c.cause_id = ?", f.CauseID)
	}
	if f.ObjectKind != "" {
		add("c.object_kind = ?", string(f.ObjectKind))
	}
	if !f.From.IsZero() {
		add("c.created_at >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		add("c.created_at < ?", ms(f.To))
	}
	if f.Anonymous != nil {
		add("c.anonymous = ?", boolInt(*f.Anonymous))
	}
	if f.Open != nil {
		if *f.Open {
			add("c.stage <> ?", string(StageClosed))
		} else {
			add("c.stage = ?", string(StageClosed))
		}
	}
	if f.CustomerID != 0 {
		add("c.customer_id = ?", f.CustomerID)
	}
	if f.Masters {
		add("c.master_id IS NULL")
	}
	if f.MasterID != 0 {
		add("c.master_id = ?", f.MasterID)
	}
	if f.Cases {
		add("c.is_case = 1")
	}
	if before > 0 {
		add("c.id < ?", before)
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// List returns up to limit complaints matching f in sc, newest (highest id) first, with
// ids below before (0 = from the newest).
func (s *Store) List(ctx context.Context, f Filter, sc listScope, before int64, limit int) ([]Complaint, error) {
	where, args := filterWhere(f, sc, before)
	return s.query(ctx, ComplaintSelect+where+" ORDER BY c.id DESC LIMIT ?", append(args, limit)...)
}

// ListByTickets returns the complaints of requests tids matching f in sc, newest first.
func (s *Store) ListByTickets(ctx context.Context, f Filter, sc listScope, before int64, tids []int64) ([]Complaint, error) {
	where, args := filterWhere(f, sc, before)
	in := strings.TrimSuffix(strings.Repeat("?,", len(tids)), ",")
	cond := " WHERE c.ticket_id IN (" + in + ")"
	if where != "" {
		cond = where + " AND c.ticket_id IN (" + in + ")"
	}
	for _, id := range tids {
		args = append(args, id)
	}
	return s.query(ctx, ComplaintSelect+cond+" ORDER BY c.id DESC", args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Complaint, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: list: %w", err)
	}
	defer rows.Close()
	out := []Complaint{}
	for rows.Next() {
		c, err := ScanComplaint(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: list: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
