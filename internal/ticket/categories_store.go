package ticket

import (
	"context"
	"database/sql"
	"fmt"
)

const (
	categorySelect    = `SELECT id, parent_id, name, skill, sort_order, active, created_at, updated_at, version FROM ticket_categories`
	sqlCategoryByID   = categorySelect + ` WHERE id = ?`
	sqlCategories     = categorySelect + ` ORDER BY sort_order, id LIMIT 5000`
	sqlCategoryInsert = `INSERT INTO ticket_categories (parent_id, name, skill, sort_order, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlCategoryUpdate = `UPDATE ticket_categories SET parent_id = ?, name = ?, skill = ?, sort_order = ?, active = ?,
		updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`
	sqlCategoryDelete   = `DELETE FROM ticket_categories WHERE id = ?`
	sqlCategoryChildren = `SELECT COUNT(*) FROM ticket_categories WHERE parent_id = ?`
	sqlCategoryUsed     = `SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE category_id = ? LIMIT 1) u`
)

func scanCategory(sc Scanner) (Category, error) {
	var c Category
	var parent sql.NullInt64
	var active int
	var created, updated int64
	err := sc.Scan(&c.ID, &parent, &c.Name, &c.Skill, &c.SortOrder, &active, &created, &updated, &c.Version)
	c.ParentID, c.Active, c.CreatedAt, c.UpdatedAt = parent.Int64, active == 1, fromMS(created), fromMS(updated)
	return c, err
}

// Category loads category id (sql.ErrNoRows when missing).
func (s *Store) Category(ctx context.Context, id int64) (Category, error) {
	return scanCategory(s.db.QueryRow(ctx, sqlCategoryByID, id))
}

// Categories lists every category by sort order.
func (s *Store) Categories(ctx context.Context) ([]Category, error) {
	rows, err := s.db.Query(ctx, sqlCategories)
	if err != nil {
		return nil, fmt.Errorf("ticket: categories: %w", err)
	}
	defer rows.Close()
	var out []Category
	for rows.Next() {
		c, err := scanCategory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// InsertCategory stores c and sets its id.
func (s *Store) InsertCategory(ctx context.Context, c *Category) error {
	err := s.db.QueryRow(ctx, sqlCategoryInsert, nullID(c.ParentID), c.Name, c.Skill, c.SortOrder, boolInt(c.Active),
		ms(c.CreatedAt), ms(c.UpdatedAt)).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("ticket: insert category: %w", err)
	}
	c.Version = 1
	return nil
}

// UpdateCategory writes c if its stored version is still c.Version; on success
// c.Version is the new version, ok false when someone else changed it first.
func (s *Store) UpdateCategory(ctx context.Context, c *Category) (bool, error) {
	res, err := s.db.Exec(ctx, sqlCategoryUpdate, nullID(c.ParentID), c.Name, c.Skill, c.SortOrder, boolInt(c.Active),
		ms(c.UpdatedAt), c.ID, c.Version)
	if err != nil {
		return false, fmt.Errorf("ticket: update category: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("ticket: update category: %w", err)
	}
	if n == 1 {
		c.Version++
	}
	return n == 1, nil
}

// CategoryUsage counts the children of category id and whether requests use it.
func (s *Store) CategoryUsage(ctx context.Context, id int64) (children, used int, err error) {
	if err = s.db.QueryRow(ctx, sqlCategoryChildren, id).Scan(&children); err != nil {
		return 0, 0, fmt.Errorf("ticket: category usage: %w", err)
	}
	if err = s.db.QueryRow(ctx, sqlCategoryUsed, id).Scan(&used); err != nil {
		return 0, 0, fmt.Errorf("ticket: category usage: %w", err)
	}
	return children, used, nil
}

// DeleteCategory removes category id.
func (s *Store) DeleteCategory(ctx context.Context, id int64) error {
	if _, err := s.db.Exec(ctx, sqlCategoryDelete, id); err != nil {
		return fmt.Errorf("ticket: delete category: %w", err)
	}
	return nil
}
