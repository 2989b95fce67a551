package customer

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kefu-cn/kefu/internal/customer/classify"
)

// SQL of the classification part: the rules (customer_rules, one row per section) and
// the batches of the nightly re-evaluation.

const (
	sqlRulesSelect = `SELECT kind, config, version, updated_by, updated_at FROM customer_rules WHERE kind IN ('tier', 'value', 'credit')`
	// sqlRulesStamp changes whenever any section is saved (versions only grow), so that
	// a node can tell whether its cached rules are current with one cheap query.
	sqlRulesStamp  = `SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM customer_rules WHERE kind IN ('tier', 'value', 'credit')`
	sqlRulesUpsert = `INSERT INTO customer_rules (kind, config, version, updated_by, updated_at) VALUES (?, ?, 1, ?, ?)
		ON CONFLICT (kind) DO UPDATE SET config = excluded.config, version = customer_rules.version + 1,
		updated_by = excluded.updated_by, updated_at = excluded.updated_at`

	// sqlClassBatch is one keyset batch of customers with the columns the rules read and
	// the stored results (no personal data: nothing to decrypt). The status is checked in
	// Go: with "status = ?" in SQL, SQLite walks the (status, verified_at) index and sorts
	// every active customer for each batch instead of walking the primary key.
	sqlClassBatch = `SELECT id, status, kind, relationship_since, class_pinned, credit_facts, tier, tier_reasons,
		value_class, value_reasons, credit_grade, credit_reasons, version
		FROM customers WHERE id > ? ORDER BY id LIMIT ?`
	// sqlClassTxRange loads the transactions of a batch (an id range) in one query.
	sqlClassTxRange = `SELECT customer_id, occurred_on, amount_fen FROM customer_transactions
		WHERE customer_id >= ? AND customer_id <= ?`
	// sqlClassUpdate stores new results; a row changed meanwhile (its version moved) is
	// left alone: whoever changed it classified it with fresher data.
	sqlClassUpdate = `UPDATE customers SET tier = ?, tier_reasons = ?, value_class = ?, value_reasons = ?,
		credit_grade = ?, credit_reasons = ?, classified_at = ? WHERE id = ? AND version = ?`
	// sqlClassUpdateOne stores the results of one customer inside the write that changed
	// its inputs (the version was bumped by that write already).
	sqlClassUpdateOne = `UPDATE customers SET tier = ?, tier_reasons = ?, value_class = ?, value_reasons = ?,
		credit_grade = ?, credit_reasons = ?, classified_at = ? WHERE id = ?`
)

// rulesRow is one customer_rules row.
type rulesRow struct {
	Kind, Config         string
	Version              int64
	UpdatedBy, UpdatedAt int64
}

// Rules loads every stored rule section.
func (s *Store) Rules(ctx context.Context) ([]rulesRow, error) {
	rows, err := s.d.Query(ctx, sqlRulesSelect)
	if err != nil {
		return nil, fmt.Errorf("customer: rules: %w", err)
	}
	defer rows.Close()
	var out []rulesRow
	for rows.Next() {
		var r rulesRow
		var by sql.NullInt64
		if err := rows.Scan(&r.Kind, &r.Config, &r.Version, &by, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("customer: rules: %w", err)
		}
		r.UpdatedBy = by.Int64
		out = append(out, r)
	}
	return out, rows.Err()
}

// RulesStamp returns a number that grows whenever a rule section is saved.
func (s *Store) RulesStamp(ctx context.Context) (int64, error) {
	var n int64
	if err := s.d.QueryRow(ctx, sqlRulesStamp).Scan(&n); err != nil {
		return 0, fmt.Errorf("customer: rules stamp: %w", err)
	}
	return n, nil
}

// SaveRuleSection writes one section (inserted, or updated with its version bumped).
func (s *Store) SaveRuleSection(ctx context.Context, kind, config string, by, at int64) error {
	if _, err := s.d.Exec(ctx, sqlRulesUpsert, kind, config, nullID(by), at); err != nil {
		return fmt.Errorf("customer: save rules %s: %w", kind, err)
	}
	return nil
}

// classRow is what the re-evaluation reads of a customer.
type classRow struct {
	ID                         int64
	Kind, RelationshipSince    string
	Pinned, Facts              string
	Tier, TierReasons          string
	ValueClass, ValueReasons   string
	CreditGrade, CreditReasons string
	Version                    int64
	Transactions               []classify.Transaction
}

// classResult is a stored classification.
type classResult struct {
	Tier, TierReasons          string
	ValueClass, ValueReasons   string
	CreditGrade, CreditReasons string
	At                         int64
}

// ClassBatch reads the next limit customers with id > after, in id order, and returns
// the active ones, each with its transactions (two queries), plus the number of rows
// read and the last id read (the next batch's after).
func (s *Store) ClassBatch(ctx context.Context, after int64, limit int) (out []classRow, read int, last int64, err error) {
	rows, err := s.d.Query(ctx, sqlClassBatch, after, limit)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("customer: class batch: %w", err)
	}
	for rows.Next() {
		var r classRow
		var status string
		if err := rows.Scan(&r.ID, &status, &r.Kind, &r.RelationshipSince, &r.Pinned, &r.Facts, &r.Tier, &r.TierReasons,
			&r.ValueClass, &r.ValueReasons, &r.CreditGrade, &r.CreditReasons, &r.Version); err != nil {
			rows.Close()
			return nil, 0, 0, fmt.Errorf("customer: class batch: %w", err)
		}
		read, last = read+1, r.ID
		if status == StatusActive {
			out = append(out, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, 0, fmt.Errorf("customer: class batch: %w", err)
	}
	if len(out) == 0 {
		return nil, read, last, nil
	}
	index := make(map[int64]int, len(out))
	for i, r := range out {
		index[r.ID] = i
	}
	txs, err := s.d.Query(ctx, sqlClassTxRange, out[0].ID, out[len(out)-1].ID)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("customer: class batch transactions: %w", err)
	}
	defer txs.Close()
	for txs.Next() {
		var id int64
		var t classify.Transaction
		if err := txs.Scan(&id, &t.On, &t.AmountFen); err != nil {
			return nil, 0, 0, fmt.Errorf("customer: class batch transactions: %w", err)
		}
		if i, ok := index[id]; ok { // merged customers in the range are skipped
			out[i].Transactions = append(out[i].Transactions, t)
		}
	}
	if err := txs.Err(); err != nil {
		return nil, 0, 0, fmt.Errorf("customer: class batch transactions: %w", err)
	}
	return out, read, last, nil
}

// UpdateClass stores new results of a batch row if its version is still version; it
// reports whether the row was written.
func (s *Store) UpdateClass(ctx context.Context, id, version int64, r classResult) (bool, error) {
	res, err := s.d.Exec(ctx, sqlClassUpdate, r.Tier, r.TierReasons, r.ValueClass, r.ValueReasons, r.CreditGrade,
		r.CreditReasons, r.At, id, version)
	if err != nil {
		return false, fmt.Errorf("customer: update class: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetClass stores the results of one customer (inside the write that changed it).
func (s *Store) SetClass(ctx context.Context, id int64, r classResult) error {
	if _, err := s.d.Exec(ctx, sqlClassUpdateOne, r.Tier, r.TierReasons, r.ValueClass, r.ValueReasons, r.CreditGrade,
		r.CreditReasons, r.At, id); err != nil {
		return fmt.Errorf("customer: set class: %w", err)
	}
	return nil
}
