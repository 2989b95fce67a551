package customer

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kefu-cn/kefu/internal/customer/classify"
)

// SQL of customer_transactions (the RFM input of the value class and tier).

const (
	txColumns   = `customer_id, occurred_on, kind, amount_fen, ref, note, created_by, created_at`
	sqlTxInsert = `INSERT INTO customer_transactions (` + txColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlTxSelect = `SELECT id, ` + txColumns + ` FROM customer_transactions`
	sqlTxByID   = sqlTxSelect + ` WHERE id = ? AND customer_id = ?`
	// Newest first: by day, then by id; the cursor is the last (day, id) shown.
	sqlTxPage = sqlTxSelect + ` WHERE customer_id = ? AND (occurred_on < ? OR (occurred_on = ? AND id < ?))
		ORDER BY occurred_on DESC, id DESC LIMIT ?`
	sqlTxFirstPage = sqlTxSelect + ` WHERE customer_id = ? ORDER BY occurred_on DESC, id DESC LIMIT ?`
	sqlTxDelete    = `DELETE FROM customer_transactions WHERE id = ? AND customer_id = ?`
	sqlTxFacts     = `SELECT occurred_on, amount_fen FROM customer_transactions WHERE customer_id = ?`
)

// txRow is a customer_transactions row.
type txRow struct {
	ID, CustomerID       int64
	On, Kind             string
	AmountFen            int64
	Ref, Note            string
	CreatedBy, CreatedAt int64
}

func scanTx(sc scanner) (txRow, error) {
	var r txRow
	var by sql.NullInt64
	err := sc.Scan(&r.ID, &r.CustomerID, &r.On, &r.Kind, &r.AmountFen, &r.Ref, &r.Note, &by, &r.CreatedAt)
	r.CreatedBy = by.Int64
	return r, err
}

// InsertTransaction stores a transaction and sets its id.
func (s *Store) InsertTransaction(ctx context.Context, r *txRow) error {
	err := s.d.QueryRow(ctx, sqlTxInsert, r.CustomerID, r.On, r.Kind, r.AmountFen, r.Ref, r.Note, nullID(r.CreatedBy),
		r.CreatedAt).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("customer: insert transaction: %w", err)
	}
	return nil
}

// Transaction loads one transaction of a customer (sql.ErrNoRows when missing).
func (s *Store) Transaction(ctx context.Context, customerID, id int64) (txRow, error) {
	return scanTx(s.d.QueryRow(ctx, sqlTxByID, id, customerID))
}

// DeleteTransaction removes a transaction of a customer.
func (s *Store) DeleteTransaction(ctx context.Context, customerID, id int64) error {
	if _, err := s.d.Exec(ctx, sqlTxDelete, id, customerID); err != nil {
		return fmt.Errorf("customer: delete transaction: %w", err)
	}
	return nil
}

// Transactions pages through a customer's transactions, newest first, after the cursor
// (beforeDay, beforeID); an empty beforeDay starts at the newest.
func (s *Store) Transactions(ctx context.Context, customerID int64, beforeDay string, beforeID int64, limit int) ([]txRow, error) {
	var rows *sql.Rows
	var err error
	if beforeDay == "" {
		rows, err = s.d.Query(ctx, sqlTxFirstPage, customerID, limit)
	} else {
		rows, err = s.d.Query(ctx, sqlTxPage, customerID, beforeDay, beforeDay, beforeID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("customer: transactions: %w", err)
	}
	defer rows.Close()
	var out []txRow
	for rows.Next() {
		r, err := scanTx(rows)
		if err != nil {
			return nil, fmt.Errorf("customer: scan transaction: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// TransactionFacts returns the day and amount of every transaction of a customer (the
// input of the rules engine).
func (s *Store) TransactionFacts(ctx context.Context, customerID int64) ([]classify.Transaction, error) {
	rows, err := s.d.Query(ctx, sqlTxFacts, customerID)
	if err != nil {
		return nil, fmt.Errorf("customer: transaction facts: %w", err)
	}
	defer rows.Close()
	var out []classify.Transaction
	for rows.Next() {
		var t classify.Transaction
		if err := rows.Scan(&t.On, &t.AmountFen); err != nil {
			return nil, fmt.Errorf("customer: transaction facts: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
