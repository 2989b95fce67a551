package customer

import (
	"context"
	"fmt"
	"strings"
)

// SQL of duplicate review (duplicates.go).

// notIndexed wraps a column so that no index on it is used (without statistics SQLite
// would otherwise walk the status index of every active customer instead of the id
// range or the blind index).
func notIndexed(col string) string { return "(" + col + " || '')" }

// sqlJoinCandidates finds pairs sharing a blind-indexed identifier or a whole address,
// for the customers a with lo < a.id <= hi: one indexed equality self-join per column
// (UNION). Same-column joins keep b.id > a.id (each pair once); the mobile/phone cross
// join looks one way only (the other way is the same relation seen from b's range).
var sqlJoinCandidates = func() string {
	joins := []struct{ colA, colB string }{{"mobile_bidx", "mobile_bidx"}, {"phone_bidx", "phone_bidx"},
		{"mobile_bidx", "phone_bidx"}, {"id_number_bidx", "id_number_bidx"}, {"credit_code", "credit_code"},
		{"address_bidx", "address_bidx"}}
	parts := make([]string, len(joins))
	for i, j := range joins {
		order := "b.id + 0 > a.id" // + 0: not an index range (PostgreSQL would AND it with the bidx lookup)
		if j.colA != j.colB {
			order = "b.id <> a.id"
		}
		parts[i] = `SELECT a.id AS x, b.id AS y FROM customers a CROSS JOIN customers b WHERE b.` + j.colB + ` = a.` + j.colA +
			` AND a.id > ? AND a.id <= ? AND a.` + j.colA + ` <> '' AND ` + notIndexed("a.status") + ` = 'active' AND ` +
			notIndexed("b.status") + ` = 'active' AND ` + order
	}
	return `SELECT x, y FROM (` + strings.Join(parts, " UNION ") + `) j LIMIT ?`
}()

const (
	sqlMaxCustomerID = `SELECT COALESCE(MAX(id), 0) FROM customers`
	sqlCountActive   = `SELECT COUNT(*) FROM customers WHERE status = 'active'`
	sqlDupFactsCols  = `SELECT id, kind, name, mobile_bidx, phone_bidx, id_number_bidx, credit_code, province, city, district,
	address_bidx FROM customers`
	// Both walk customers_place (province, city, district), not the status index.
	sqlOrgDistricts = `SELECT DISTINCT province, city, district FROM customers
	WHERE (kind || '') = 'org' AND (status || '') = 'active' AND district <> '' ORDER BY province, city, district`
	sqlOrgFactsIn = sqlDupFactsCols + ` WHERE province = ? AND city = ? AND district = ? AND (kind || '') = 'org'
	AND (status || '') = 'active'`

	sqlPairInsert = `INSERT INTO customer_dup_pairs (a_id, b_id, reasons, score, status, detected_at, resolved_by, resolved_at)
	VALUES (?, ?, ?, ?, 'open', ?, NULL, 0) ON CONFLICT (a_id, b_id) DO NOTHING`
	sqlPairRefresh = `UPDATE customer_dup_pairs SET reasons = ?, score = ?
	WHERE a_id = ? AND b_id = ? AND status = 'open' AND (reasons <> ? OR score <> ?)`
	sqlPairSelect = `SELECT id, a_id, b_id, reasons, score, status, detected_at, COALESCE(resolved_by, 0), resolved_at
	FROM customer_dup_pairs p`
	sqlPairByID    = sqlPairSelect + ` WHERE p.id = ?`
	sqlPairResolve = `UPDATE customer_dup_pairs SET status = ?, resolved_by = ?, resolved_at = ? WHERE id = ? AND status = ?`
	sqlPairsOf     = sqlPairSelect + ` WHERE p.a_id = ? AND p.b_id = ?`
	sqlPairRestore = `UPDATE customer_dup_pairs SET status = ?, resolved_by = ?, resolved_at = ? WHERE id = ?`
)

// idPair is a candidate pair as the joins return it.
type idPair struct{ A, B int64 }

// MaxCustomerID is the highest customer id (0 when there is none).
func (s *Store) MaxCustomerID(ctx context.Context) (int64, error) {
	var n int64
	if err := s.d.QueryRow(ctx, sqlMaxCustomerID).Scan(&n); err != nil {
		return 0, fmt.Errorf("customer: max id: %w", err)
	}
	return n, nil
}

// CountActive counts the active customers.
func (s *Store) CountActive(ctx context.Context) (int, error) {
	var n int
	if err := s.d.QueryRow(ctx, sqlCountActive).Scan(&n); err != nil {
		return 0, fmt.Errorf("customer: count: %w", err)
	}
	return n, nil
}

// JoinCandidates returns up to limit pairs of active customers, the first with an id in
// (lo, hi], sharing a phone number, ID number, credit code or whole address.
func (s *Store) JoinCandidates(ctx context.Context, lo, hi int64, limit int) ([]idPair, error) {
	args := make([]any, 0, 13)
	for range 6 {
		args = append(args, lo, hi)
	}
	rows, err := s.d.Query(ctx, sqlJoinCandidates, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("customer: duplicate joins: %w", err)
	}
	defer rows.Close()
	var out []idPair
	for rows.Next() {
		var p idPair
		if err := rows.Scan(&p.A, &p.B); err != nil {
			return nil, fmt.Errorf("customer: duplicate joins: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) scanFacts(ctx context.Context, q string, args ...any) ([]*dupFacts, error) {
	rows, err := s.d.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("customer: duplicate facts: %w", err)
	}
	defer rows.Close()
	var out []*dupFacts
	for rows.Next() {
		f := &dupFacts{}
		if err := rows.Scan(&f.ID, &f.Kind, &f.Name, &f.MobileBidx, &f.PhoneBidx, &f.IDNumberBidx, &f.Credit, &f.Province,
			&f.City, &f.District, &f.AddressBidx); err != nil {
			return nil, fmt.Errorf("customer: duplicate facts: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// inList is "(?, ?, ...)" for n values.
func inList(n int) string { return "(?" + strings.Repeat(", ?", n-1) + ")" }

const inBatch = 500

// DupFacts loads the comparison columns of the given customers, by id.
func (s *Store) DupFacts(ctx context.Context, ids []int64) (map[int64]*dupFacts, error) {
	out := map[int64]*dupFacts{}
	ids = uniqueIDs(ids)
	for start := 0; start < len(ids); start += inBatch {
		batch := ids[start:min(start+inBatch, len(ids))]
		fs, err := s.scanFacts(ctx, sqlDupFactsCols+` WHERE id IN `+inList(len(batch)), int64Args(batch)...)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			out[f.ID] = f
		}
	}
	return out, nil
}

func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// place is a province/city/district triple.
type place struct{ Province, City, District string }

// OrgDistricts lists the districts that have active organisation customers.
func (s *Store) OrgDistricts(ctx context.Context) ([]place, error) {
	rows, err := s.d.Query(ctx, sqlOrgDistricts)
	if err != nil {
		return nil, fmt.Errorf("customer: districts: %w", err)
	}
	defer rows.Close()
	var out []place
	for rows.Next() {
		var p place
		if err := rows.Scan(&p.Province, &p.City, &p.District); err != nil {
			return nil, fmt.Errorf("customer: districts: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// OrgFactsIn loads the comparison columns of the active organisations of one district.
func (s *Store) OrgFactsIn(ctx context.Context, p place) ([]*dupFacts, error) {
	return s.scanFacts(ctx, sqlOrgFactsIn, p.Province, p.City, p.District)
}

// UpsertDupPair records pair (a < b) as open with its reasons and score, or refreshes
// the reasons and score of an open pair; a dismissed or merged pair stays as it is.
// created reports a new pair.
func (s *Store) UpsertDupPair(ctx context.Context, a, b int64, reasons string, score int, at int64) (bool, error) {
	res, err := s.d.Exec(ctx, sqlPairInsert, a, b, reasons, score, at)
	if err != nil {
		return false, fmt.Errorf("customer: dup pair: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return true, nil
	}
	if _, err := s.d.Exec(ctx, sqlPairRefresh, reasons, score, a, b, reasons, score); err != nil {
		return false, fmt.Errorf("customer: dup pair: %w", err)
	}
	return false, nil
}

// dupPairRow is a customer_dup_pairs row.
type dupPairRow struct {
	ID         int64  `json:"id"`
	A          int64  `json:"a_id"`
	B          int64  `json:"b_id"`
	Reasons    string `json:"-"`
	Score      int    `json:"-"`
	Status     string `json:"status"`
	DetectedAt int64  `json:"-"`
	ResolvedBy int64  `json:"resolved_by"`
	ResolvedAt int64  `json:"resolved_at"`
}

func scanPair(sc scanner) (dupPairRow, error) {
	var p dupPairRow
	err := sc.Scan(&p.ID, &p.A, &p.B, &p.Reasons, &p.Score, &p.Status, &p.DetectedAt, &p.ResolvedBy, &p.ResolvedAt)
	return p, err
}

// DupPair loads one pair (sql.ErrNoRows when missing).
func (s *Store) DupPair(ctx context.Context, id int64) (dupPairRow, error) {
	return scanPair(s.d.QueryRow(ctx, sqlPairByID, id))
}

// PairOf loads the pair of two customers (any order; sql.ErrNoRows when none).
func (s *Store) PairOf(ctx context.Context, x, y int64) (dupPairRow, error) {
	k := orderedPair(x, y)
	return scanPair(s.d.QueryRow(ctx, sqlPairsOf, k.A, k.B))
}

// ResolvePair moves a pair from status from to status to; false when it was not in from.
func (s *Store) ResolvePair(ctx context.Context, id int64, from, to string, by, at int64) (bool, error) {
	res, err := s.d.Exec(ctx, sqlPairResolve, to, nullID(by), at, id, from)
	if err != nil {
		return false, fmt.Errorf("customer: resolve pair: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RestorePair puts back a pair's status as a snapshot recorded it.
func (s *Store) RestorePair(ctx context.Context, p dupPairRow) error {
	if _, err := s.d.Exec(ctx, sqlPairRestore, p.Status, nullID(p.ResolvedBy), p.ResolvedAt, p.ID); err != nil {
		return fmt.Errorf("customer: restore pair: %w", err)
	}
	return nil
}

// scopeOn is sc's condition on the customers row aliased alias.
func scopeOn(sc scope, alias string) (string, []any) {
	w, args := sc.where()
	return strings.ReplaceAll(w, "c.", alias+"."), args
}

// OpenPairs lists open pairs whose two customers are active and within sc, newest
// first, below the id before (0 = from the top).
func (s *Store) OpenPairs(ctx context.Context, sc scope, before int64, limit int) ([]dupPairRow, error) {
	q := `SELECT p.id, p.a_id, p.b_id, p.reasons, p.score, p.status, p.detected_at, COALESCE(p.resolved_by, 0), p.resolved_at
	FROM customer_dup_pairs p JOIN customers a ON a.id = p.a_id JOIN customers b ON b.id = p.b_id
	WHERE p.status = 'open' AND a.status = 'active' AND b.status = 'active'`
	var args []any
	for _, alias := range []string{"a", "b"} {
		if w, a := scopeOn(sc, alias); w != "" {
			q += " AND " + w
			args = append(args, a...)
		}
	}
	if before > 0 {
		q += " AND p.id < ?"
		args = append(args, before)
	}
	q += " ORDER BY p.id DESC LIMIT ?"
	rows, err := s.d.Query(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("customer: pairs: %w", err)
	}
	defer rows.Close()
	var out []dupPairRow
	for rows.Next() {
		p, err := scanPair(rows)
		if err != nil {
			return nil, fmt.Errorf("customer: pairs: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CustomersByID loads customers by id (any order; missing ids are skipped).
func (s *Store) CustomersByID(ctx context.Context, ids []int64) ([]custRow, error) {
	ids = uniqueIDs(ids)
	var out []custRow
	for start := 0; start < len(ids); start += inBatch {
		batch := ids[start:min(start+inBatch, len(ids))]
		rows, err := s.d.Query(ctx, sqlCustSelect+` WHERE c.id IN `+inList(len(batch)), int64Args(batch)...)
		if err != nil {
			return nil, fmt.Errorf("customer: load: %w", err)
		}
		for rows.Next() {
			r, err := scanCust(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("customer: scan: %w", err)
			}
			out = append(out, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
