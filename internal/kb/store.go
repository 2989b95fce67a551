package kb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Store holds the SQL of the knowledge base. Writes run inside the caller's
// transaction (db.WithTx in ctx).
type Store struct{ d *db.DB }

// NewStore returns the store over d.
func NewStore(d *db.DB) *Store { return &Store{d: d} }

const articleColumns = `a.id, a.title, a.body, COALESCE(a.category_id, 0), COALESCE(c.name, ''), a.tags, a.status,
	a.published_at, a.author_id, a.updated_by, a.views, a.version, a.created_at, a.updated_at`

const (
	sqlArticleSelect = `SELECT ` + articleColumns + ` FROM kb_articles a LEFT JOIN kb_categories c ON c.id = a.category_id`
	sqlArticleByID   = sqlArticleSelect + ` WHERE a.id = ?`
	sqlArticleInsert = `INSERT INTO kb_articles (title, body, category_id, tags, status, published_at, author_id,
		updated_by, views, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?) RETURNING id`
	sqlArticleUpdate = `UPDATE kb_articles SET title = ?, body = ?, category_id = ?, tags = ?, status = ?,
		published_at = ?, updated_by = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`
	sqlArticleView = `UPDATE kb_articles SET views = views + 1 WHERE id = ? AND status = ?`

	sqlCategorySelect = `SELECT id, COALESCE(parent_id, 0), name, sort_order, created_at, updated_at, version FROM kb_categories`
	sqlCategoryByID   = sqlCategorySelect + ` WHERE id = ?`
	sqlCategoryInsert = `INSERT INTO kb_categories (parent_id, name, sort_order, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`
	sqlCategoryUpdate = `UPDATE kb_categories SET parent_id = ?, name = ?, sort_order = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`
	sqlCategoryDelete   = `DELETE FROM kb_categories WHERE id = ?`
	sqlCategoryChildren = `SELECT COUNT(*) FROM kb_categories WHERE parent_id = ?`
	sqlCategoryLive     = `SELECT COUNT(*) FROM kb_articles WHERE category_id = ? AND status <> 'archived'`
	sqlCategoryDetach   = `UPDATE kb_articles SET category_id = NULL WHERE category_id = ?`
)

func nullID(id int64) any { return db.NullID(id) }

func ms(t time.Time) int64 { return db.Millis(t) }

func fromMS(v int64) time.Time { return db.Time(v) }

type scanner interface{ Scan(dst ...any) error }

func scanArticle(sc scanner) (Article, error) {
	var a Article
	var tags, status string
	var pub, created, updated int64
	if err := sc.Scan(&a.ID, &a.Title, &a.Body, &a.CategoryID, &a.CategoryName, &tags, &status, &pub, &a.AuthorID,
		&a.UpdatedBy, &a.Views, &a.Version, &created, &updated); err != nil {
		return a, err
	}
	a.Status = Status(status)
	a.PublishedAt, a.CreatedAt, a.UpdatedAt = fromMS(pub), fromMS(created), fromMS(updated)
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &a.Tags); err != nil {
			return a, fmt.Errorf("kb: article %d: stored tags: %w", a.ID, err)
		}
	}
	if a.Tags == nil {
		a.Tags = []string{}
	}
	return a, nil
}

func tagsJSON(tags []string) string {
	if tags == nil {
		tags = []string{}
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// Article loads one article.
func (s *Store) Article(ctx context.Context, id int64) (Article, error) {
	return scanArticle(s.d.QueryRow(ctx, sqlArticleByID, id))
}

// InsertArticle stores a new article (version 1, no views) and sets its id.
func (s *Store) InsertArticle(ctx context.Context, a *Article) error {
	err := s.d.QueryRow(ctx, sqlArticleInsert, a.Title, a.Body, nullID(a.CategoryID), tagsJSON(a.Tags), string(a.Status),
		ms(a.PublishedAt), a.AuthorID, a.UpdatedBy, ms(a.CreatedAt), ms(a.UpdatedAt)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("kb: insert article: %w", err)
	}
	a.Version = 1
	return nil
}

// UpdateArticle saves a if its stored version is still a.Version; ok is false when
// someone else changed it first. On success a.Version is the new version.
func (s *Store) UpdateArticle(ctx context.Context, a *Article) (bool, error) {
	res, err := s.d.Exec(ctx, sqlArticleUpdate, a.Title, a.Body, nullID(a.CategoryID), tagsJSON(a.Tags), string(a.Status),
		ms(a.PublishedAt), a.UpdatedBy, ms(a.UpdatedAt), a.ID, a.Version)
	if err != nil {
		return false, fmt.Errorf("kb: update article: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("kb: update article: %w", err)
	}
	if n == 1 {
		a.Version++
	}
	return n == 1, nil
}

// CountView adds one to a published article's view count.
func (s *Store) CountView(ctx context.Context, id int64) error {
	if _, err := s.d.Exec(ctx, sqlArticleView, id, string(StatusPublished)); err != nil {
		return fmt.Errorf("kb: count view: %w", err)
	}
	return nil
}

// articleQuery narrows a list of articles.
type articleQuery struct {
	statuses   []Status
	categories []int64 // empty = any
	ids        []int64 // the search hits to keep (nil = no search)
	before     int64   // keyset: id < before (0 = from the newest)
	limit      int
}

// Articles lists articles newest (highest id) first.
func (s *Store) Articles(ctx context.Context, q articleQuery) ([]Article, error) {
	var sb strings.Builder
	args := make([]any, 0, 8)
	sb.WriteString(sqlArticleSelect)
	sb.WriteString(` WHERE 1 = 1`)
	in := func(col string, n int) {
		sb.WriteString(` AND ` + col + ` IN (?` + strings.Repeat(", ?", n-1) + `)`)
	}
	if len(q.statuses) > 0 {
		in("a.status", len(q.statuses))
		for _, st := range q.statuses {
			args = append(args, string(st))
		}
	}
	if len(q.categories) > 0 {
		in("a.category_id", len(q.categories))
		for _, c := range q.categories {
			args = append(args, c)
		}
	}
	if q.ids != nil {
		if len(q.ids) == 0 {
			return nil, nil
		}
		in("a.id", len(q.ids))
		for _, id := range q.ids {
			args = append(args, id)
		}
	}
	if q.before > 0 {
		sb.WriteString(` AND a.id < ?`)
		args = append(args, q.before)
	}
	sb.WriteString(` ORDER BY a.id DESC LIMIT ?`)
	args = append(args, q.limit)
	rows, err := s.d.Query(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("kb: list articles: %w", err)
	}
	defer rows.Close()
	var out []Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("kb: list articles: %w", err)
	}
	return out, nil
}

func scanCategory(sc scanner) (Category, error) {
	var c Category
	var created, updated int64
	err := sc.Scan(&c.ID, &c.ParentID, &c.Name, &c.SortOrder, &created, &updated, &c.Version)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, err
}

// Categories loads every category (unordered; see Tree).
func (s *Store) Categories(ctx context.Context) ([]Category, error) {
	rows, err := s.d.Query(ctx, sqlCategorySelect)
	if err != nil {
		return nil, fmt.Errorf("kb: list categories: %w", err)
	}
	defer rows.Close()
	var out []Category
	for rows.Next() {
		c, err := scanCategory(rows)
		if err != nil {
			return nil, fmt.Errorf("kb: list categories: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("kb: list categories: %w", err)
	}
	return out, nil
}

// Category loads one category.
func (s *Store) Category(ctx context.Context, id int64) (Category, error) {
	return scanCategory(s.d.QueryRow(ctx, sqlCategoryByID, id))
}

// InsertCategory stores a new category and sets its id.
func (s *Store) InsertCategory(ctx context.Context, c *Category) error {
	err := s.d.QueryRow(ctx, sqlCategoryInsert, nullID(c.ParentID), c.Name, c.SortOrder, ms(c.CreatedAt),
		ms(c.UpdatedAt)).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("kb: insert category: %w", err)
	}
	c.Version = 1
	return nil
}

// UpdateCategory saves c if its stored version is still c.Version (then bumped); ok is
// false when someone else changed it first.
func (s *Store) UpdateCategory(ctx context.Context, c Category) (bool, error) {
	res, err := s.d.Exec(ctx, sqlCategoryUpdate, nullID(c.ParentID), c.Name, c.SortOrder, ms(c.UpdatedAt), c.ID, c.Version)
	if err != nil {
		return false, fmt.Errorf("kb: update category: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("kb: update category: %w", err)
	}
	return n == 1, nil
}

// CategoryUse counts a category's child categories and its articles that are not
// archived.
func (s *Store) CategoryUse(ctx context.Context, id int64) (children, live int, err error) {
	if err = s.d.QueryRow(ctx, sqlCategoryChildren, id).Scan(&children); err != nil {
		return 0, 0, fmt.Errorf("kb: category use: %w", err)
	}
	if err = s.d.QueryRow(ctx, sqlCategoryLive, id).Scan(&live); err != nil {
		return 0, 0, fmt.Errorf("kb: category use: %w", err)
	}
	return children, live, nil
}

// DeleteCategory removes a category, detaching the archived articles that still name it.
func (s *Store) DeleteCategory(ctx context.Context, id int64) error {
	if _, err := s.d.Exec(ctx, sqlCategoryDetach, id); err != nil {
		return fmt.Errorf("kb: delete category: %w", err)
	}
	if _, err := s.d.Exec(ctx, sqlCategoryDelete, id); err != nil {
		return fmt.Errorf("kb: delete category: %w", err)
	}
	return nil
}
