package customer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// SQL of imports: batched duplicate probes, the bulk insert and customer_imports.

const (
	sqlImportInsert = `INSERT INTO customer_imports (file_name, format, dry_run, status, rows_total, rows_ok, rows_failed,
		report, created_by, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlImportByID = `SELECT id, file_name, format, dry_run, status, rows_total, rows_ok, rows_failed, report,
		COALESCE(created_by, 0), created_at, finished_at FROM customer_imports WHERE id = ?`
)

// existingProbe are the blind indexes and credit codes of a batch of imported rows.
type existingProbe struct {
	phones, idNumbers, creditCodes []string
}

// existingHits map the probed values that active customers hold to one such customer.
type existingHits struct {
	phones, idNumbers, creditCodes map[string]int64
}

func (h existingHits) empty() bool {
	return len(h.phones) == 0 && len(h.idNumbers) == 0 && len(h.creditCodes) == 0
}

// existingIdentifiers looks the probe's values up among active customers: one indexed
// IN query per column.
func (s *Store) existingIdentifiers(ctx context.Context, p existingProbe) (existingHits, error) {
	h := existingHits{phones: map[string]int64{}, idNumbers: map[string]int64{}, creditCodes: map[string]int64{}}
	for _, q := range []struct {
		col  string
		vals []string
		into map[string]int64
	}{
		{"mobile_bidx", p.phones, h.phones},
		{"phone_bidx", p.phones, h.phones},
		{"id_number_bidx", p.idNumbers, h.idNumbers},
		{"credit_code", p.creditCodes, h.creditCodes},
	} {
		if len(q.vals) == 0 {
			continue
		}
		args := make([]any, 0, len(q.vals)+1)
		args = append(args, StatusActive)
		for _, v := range q.vals {
			args = append(args, v)
		}
		text := `SELECT ` + q.col + `, MIN(id) FROM customers WHERE status = ? AND ` + q.col + ` IN (?` +
			strings.Repeat(", ?", len(q.vals)-1) + `) GROUP BY ` + q.col
		rows, err := s.d.Query(ctx, text, args...)
		if err != nil {
			return h, fmt.Errorf("customer: import duplicates: %w", err)
		}
		for rows.Next() {
			var v string
			var id int64
			if err := rows.Scan(&v, &id); err != nil {
				rows.Close()
				return h, fmt.Errorf("customer: import duplicates: %w", err)
			}
			if prev, ok := q.into[v]; !ok || id < prev {
				q.into[v] = id
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return h, fmt.Errorf("customer: import duplicates: %w", err)
		}
	}
	return h, nil
}

// bulkInserter inserts customers with one statement prepared on ctx's transaction.
type bulkInserter struct {
	stmt *sql.Stmt
}

// newBulkInserter prepares the customer insert on the transaction in ctx.
func (s *Store) newBulkInserter(ctx context.Context) (*bulkInserter, error) {
	preparer, ok := s.d.Q(ctx).(interface {
		PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	})
	if !ok || !s.d.InTx(ctx) {
		return nil, fmt.Errorf("customer: bulk insert needs a transaction")
	}
	st, err := preparer.PrepareContext(ctx, s.d.Rebind(sqlCustInsert))
	if err != nil {
		return nil, fmt.Errorf("customer: prepare insert: %w", err)
	}
	return &bulkInserter{stmt: st}, nil
}

func (b *bulkInserter) insert(ctx context.Context, r *custRow) (int64, error) {
	var id int64
	if err := b.stmt.QueryRowContext(ctx, r.args()...).Scan(&id); err != nil {
		return 0, fmt.Errorf("customer: import insert: %w", err)
	}
	return id, nil
}

func (b *bulkInserter) close() { _ = b.stmt.Close() }

// importRecord is a customer_imports row.
type importRecord struct {
	ID                    int64
	FileName, Format      string
	DryRun                bool
	Status                string
	Rows, OK, Failed      int
	Report                string
	CreatedBy             int64
	CreatedAt, FinishedAt int64
}

func (s *Store) insertImport(ctx context.Context, r *importRecord) (int64, error) {
	var id int64
	err := s.d.QueryRow(ctx, sqlImportInsert, r.FileName, r.Format, boolInt(r.DryRun), r.Status, r.Rows, r.OK, r.Failed,
		r.Report, nullID(r.CreatedBy), r.CreatedAt, r.FinishedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("customer: record import: %w", err)
	}
	return id, nil
}

// importByID loads one import run (sql.ErrNoRows when missing).
func (s *Store) importByID(ctx context.Context, id int64) (importRecord, error) {
	var r importRecord
	var dry int
	err := s.d.QueryRow(ctx, sqlImportByID, id).Scan(&r.ID, &r.FileName, &r.Format, &dry, &r.Status, &r.Rows, &r.OK,
		&r.Failed, &r.Report, &r.CreatedBy, &r.CreatedAt, &r.FinishedAt)
	r.DryRun = dry != 0
	return r, err
}

func isNoRows(err error) bool { return db.IsNoRows(err) }
