package customer

import (
	"context"
	"database/sql"
	"fmt"
)

// SQL of territories (regions and routes) and of assigning customers to them.

// territoryRow is a territories row as stored (match_rules as JSON text, references as 0).
type territoryRow struct {
	ID                       int64
	Kind                     string
	ParentID                 int64
	Code, Name               string
	Province, City, District string
	MatchRules               string
	ResponsibleID, DeptID    int64
	SortOrder                int64
	Active                   bool
	CreatedAt, UpdatedAt     int64
	Version                  int64
}

const territoryColumns = `kind, parent_id, code, name, province, city, district, match_rules, responsible_id, dept_id,
	sort_order, active, created_at, updated_at`

const (
	sqlTerritoryInsert = `INSERT INTO territories (` + territoryColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlTerritorySelect = `SELECT id, ` + territoryColumns + `, version FROM territories`
	sqlTerritoryByID   = sqlTerritorySelect + ` WHERE id = ?`
	sqlTerritoryAll    = sqlTerritorySelect + ` ORDER BY id LIMIT ?`
	sqlTerritoryPage   = sqlTerritorySelect + ` WHERE id > ? ORDER BY id LIMIT ?`
	sqlTerritoryUpdate = `UPDATE territories SET kind = ?, parent_id = ?, code = ?, name = ?, province = ?, city = ?,
		district = ?, match_rules = ?, responsible_id = ?, dept_id = ?, sort_order = ?, active = ?, updated_at = ?,
		version = version + 1 WHERE id = ? AND version = ?`
	sqlTerritoryDelete = `DELETE FROM territories WHERE id = ?`
	// The cache's version: a deleted territory lowers the count, any other change
	// raises the newest updated_at.
	sqlTerritoryVersion   = `SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM territories`
	sqlTerritoryCodeTaken = `SELECT COUNT(*) FROM territories WHERE code = ? AND id <> ?`
	sqlTerritoryRoutes    = `SELECT COUNT(*) FROM territories WHERE parent_id = ?`
	sqlTerritoryCustomers = `SELECT COUNT(*) FROM customers WHERE territory_id = ?`
	sqlTerritoryCounts    = `SELECT territory_id, COUNT(*) FROM customers WHERE territory_id IS NOT NULL GROUP BY territory_id`
	// sqlActiveCustomersUpTo counts active customers, stopping at the limit.
	sqlActiveCustomersUpTo = `SELECT COUNT(*) FROM (SELECT 1 FROM customers WHERE status = ? LIMIT ?) x`
	sqlCustomerPlaces      = `SELECT id, province, city, district, territory_id FROM customers
		WHERE status = ? AND id > ? ORDER BY id LIMIT ?`
	sqlCustomerSetTerritory = `UPDATE customers SET territory_id = ? WHERE id = ?`
)

func (r *territoryRow) args() []any {
	return []any{r.Kind, nullID(r.ParentID), r.Code, r.Name, r.Province, r.City, r.District, r.MatchRules,
		nullID(r.ResponsibleID), nullID(r.DeptID), r.SortOrder, boolInt(r.Active), r.CreatedAt, r.UpdatedAt}
}

func scanTerritory(sc scanner) (territoryRow, error) {
	var r territoryRow
	var parent, resp, dept sql.NullInt64
	var active int
	err := sc.Scan(&r.ID, &r.Kind, &parent, &r.Code, &r.Name, &r.Province, &r.City, &r.District, &r.MatchRules,
		&resp, &dept, &r.SortOrder, &active, &r.CreatedAt, &r.UpdatedAt, &r.Version)
	r.ParentID, r.ResponsibleID, r.DeptID, r.Active = parent.Int64, resp.Int64, dept.Int64, active != 0
	return r, err
}

func (s *Store) territoryRows(ctx context.Context, q string, args ...any) ([]territoryRow, error) {
	rows, err := s.d.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("customer: territories: %w", err)
	}
	defer rows.Close()
	var out []territoryRow
	for rows.Next() {
		r, err := scanTerritory(rows)
		if err != nil {
			return nil, fmt.Errorf("customer: scan territory: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AllTerritories returns up to limit territories by id.
func (s *Store) AllTerritories(ctx context.Context, limit int) ([]territoryRow, error) {
	return s.territoryRows(ctx, sqlTerritoryAll, limit)
}

// TerritoryPage returns up to limit territories with id > after, by id.
func (s *Store) TerritoryPage(ctx context.Context, after int64, limit int) ([]territoryRow, error) {
	return s.territoryRows(ctx, sqlTerritoryPage, after, limit)
}

// Territory loads one territory (sql.ErrNoRows when missing).
func (s *Store) Territory(ctx context.Context, id int64) (territoryRow, error) {
	return scanTerritory(s.d.QueryRow(ctx, sqlTerritoryByID, id))
}

// InsertTerritory stores a new territory and returns its id.
func (s *Store) InsertTerritory(ctx context.Context, r *territoryRow) (int64, error) {
	var id int64
	if err := s.d.QueryRow(ctx, sqlTerritoryInsert, r.args()...).Scan(&id); err != nil {
		return 0, fmt.Errorf("customer: insert territory: %w", err)
	}
	return id, nil
}

// UpdateTerritory writes every column of r but created_at if the stored version is
// still r.Version (then bumped); it reports whether the row was written.
func (s *Store) UpdateTerritory(ctx context.Context, r *territoryRow) (bool, error) {
	res, err := s.d.Exec(ctx, sqlTerritoryUpdate, r.Kind, nullID(r.ParentID), r.Code, r.Name, r.Province, r.City, r.District,
		r.MatchRules, nullID(r.ResponsibleID), nullID(r.DeptID), r.SortOrder, boolInt(r.Active), r.UpdatedAt, r.ID, r.Version)
	if err != nil {
		return false, fmt.Errorf("customer: update territory: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("customer: update territory: %w", err)
	}
	return n == 1, nil
}

// DeleteTerritory removes a territory.
func (s *Store) DeleteTerritory(ctx context.Context, id int64) error {
	if _, err := s.d.Exec(ctx, sqlTerritoryDelete, id); err != nil {
		return fmt.Errorf("customer: delete territory: %w", err)
	}
	return nil
}

// territoryVersion identifies the state of the territories table for the cache.
type territoryVersion struct{ count, maxUpdated int64 }

// TerritoryVersion reads the cache version of the territories table.
func (s *Store) TerritoryVersion(ctx context.Context) (territoryVersion, error) {
	var v territoryVersion
	if err := s.d.QueryRow(ctx, sqlTerritoryVersion).Scan(&v.count, &v.maxUpdated); err != nil {
		return v, fmt.Errorf("customer: territory version: %w", err)
	}
	return v, nil
}

func (s *Store) count(ctx context.Context, what, q string, args ...any) (int64, error) {
	var n int64
	if err := s.d.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("customer: %s: %w", what, err)
	}
	return n, nil
}

// TerritoryCodeTaken reports whether another territory (not id) has code.
func (s *Store) TerritoryCodeTaken(ctx context.Context, code string, id int64) (bool, error) {
	n, err := s.count(ctx, "territory code", sqlTerritoryCodeTaken, code, id)
	return n > 0, err
}

// TerritoryRoutes counts the routes under a region.
func (s *Store) TerritoryRoutes(ctx context.Context, id int64) (int64, error) {
	return s.count(ctx, "territory routes", sqlTerritoryRoutes, id)
}

// TerritoryCustomers counts the customers assigned to a territory (any status).
func (s *Store) TerritoryCustomers(ctx context.Context, id int64) (int64, error) {
	return s.count(ctx, "territory customers", sqlTerritoryCustomers, id)
}

// TerritoryCounts counts the customers of every territory that has any.
func (s *Store) TerritoryCounts(ctx context.Context) (map[int64]int64, error) {
	rows, err := s.d.Query(ctx, sqlTerritoryCounts)
	if err != nil {
		return nil, fmt.Errorf("customer: territory counts: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("customer: territory counts: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// ActiveCustomersUpTo counts the active customers, stopping at limit.
func (s *Store) ActiveCustomersUpTo(ctx context.Context, limit int) (int64, error) {
	return s.count(ctx, "count customers", sqlActiveCustomersUpTo, StatusActive, limit)
}

// customerPlace is what territory assignment reads of a customer.
type customerPlace struct {
	ID                       int64
	Province, City, District string
	TerritoryID              int64
}

// CustomerPlaces returns up to limit active customers with id > after, by id.
func (s *Store) CustomerPlaces(ctx context.Context, after int64, limit int) ([]customerPlace, error) {
	rows, err := s.d.Query(ctx, sqlCustomerPlaces, StatusActive, after, limit)
	if err != nil {
		return nil, fmt.Errorf("customer: places: %w", err)
	}
	defer rows.Close()
	var out []customerPlace
	for rows.Next() {
		var p customerPlace
		var t sql.NullInt64
		if err := rows.Scan(&p.ID, &p.Province, &p.City, &p.District, &t); err != nil {
			return nil, fmt.Errorf("customer: places: %w", err)
		}
		p.TerritoryID = t.Int64
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetCustomerTerritory assigns a customer to a territory (0 = none). The customer's
// version is left alone: the territory is derived from the address, and every write of
// the customer recomputes it.
func (s *Store) SetCustomerTerritory(ctx context.Context, id, territoryID int64) error {
	if _, err := s.d.Exec(ctx, sqlCustomerSetTerritory, nullID(territoryID), id); err != nil {
		return fmt.Errorf("customer: set territory: %w", err)
	}
	return nil
}
