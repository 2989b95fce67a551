package ticket

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// The category tree is admin-defined (ticket:manage); anyone who reads requests (and
// portal customers, who pick one when they submit) lists it.

const (
	maxCategoryName  = 64
	maxCategorySkill = 64
	maxCategoryDepth = 6
)

// CategoryInput creates a category.
type CategoryInput struct {
	ParentID  int64  `json:"parent_id"`
	Name      string `json:"name"`
	Skill     string `json:"skill"`
	SortOrder int    `json:"sort_order"`
	Active    *bool  `json:"active"`
}

// CategoryPatch changes a category; nil fields stay.
type CategoryPatch struct {
	ParentID  *int64  `json:"parent_id"`
	Name      *string `json:"name"`
	Skill     *string `json:"skill"`
	SortOrder *int    `json:"sort_order"`
	Active    *bool   `json:"active"`
	// Version is the version the change was made against (required: 428 without, 409
	// when stale).
	Version *int64 `json:"version"`
}

// CategoryView is the response form of a category.
type CategoryView struct {
	ID        int64     `json:"id"`
	ParentID  int64     `json:"parent_id"`
	Name      string    `json:"name"`
	Skill     string    `json:"skill"`
	SortOrder int       `json:"sort_order"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// View maps c to its response form.
func (c Category) View() CategoryView {
	return CategoryView{ID: c.ID, ParentID: c.ParentID, Name: c.Name, Skill: c.Skill, SortOrder: c.SortOrder,
		Active: c.Active, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: c.Version}
}

// ListCategories lists every category (portal customers: the active ones).
func (s *Service) ListCategories(ctx context.Context) ([]Category, error) {
	actor, err := requireActor(ctx, PermRead, true)
	if err != nil {
		return nil, err
	}
	cs, err := s.store.Categories(ctx)
	if err != nil {
		return nil, err
	}
	if isCustomer(actor) {
		out := cs[:0]
		for _, c := range cs {
			if c.Active {
				out = append(out, c)
			}
		}
		cs = out
	}
	return cs, nil
}

// checkParent validates parent for category id (0 = new): it must exist and must not
// be id itself or below it; the tree stays at most maxCategoryDepth deep.
func (s *Service) checkParent(ctx context.Context, f apperr.Fields, id, parent int64) error {
	if parent == 0 {
		return nil
	}
	depth := 1
	for p := parent; p != 0; depth++ {
		if p == id {
			f.Add("parent_id", "ticket.invalid.category_cycle")
			return nil
		}
		if depth > maxCategoryDepth {
			f.Add("parent_id", "ticket.invalid.category_depth", "max", maxCategoryDepth)
			return nil
		}
		c, err := s.store.Category(ctx, p)
		if db.IsNoRows(err) {
			f.Add("parent_id", "ticket.invalid.category_unknown")
			return nil
		}
		if err != nil {
			return err
		}
		p = c.ParentID
	}
	return nil
}

// CreateCategory adds a category ("ticket.category.create").
func (s *Service) CreateCategory(ctx context.Context, in CategoryInput) (Category, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return Category{}, err
	}
	f := apperr.Fields{}
	now := s.now()
	c := Category{ParentID: in.ParentID, Name: textField(f, "name", in.Name, maxCategoryName, true),
		Skill: textField(f, "skill", in.Skill, maxCategorySkill, false), SortOrder: in.SortOrder, Active: true,
		CreatedAt: now, UpdatedAt: now}
	if in.Active != nil {
		c.Active = *in.Active
	}
	if in.ParentID < 0 {
		f.Add("parent_id", "ticket.invalid.category_unknown")
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.checkParent(ctx, f, 0, c.ParentID); err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		if err := s.store.InsertCategory(ctx, &c); err != nil {
			return err
		}
		return s.recordCategory(ctx, "ticket.category.create", c)
	})
	return c, err
}

func (s *Service) recordCategory(ctx context.Context, action string, c Category) error {
	if s.audit == nil {
		return nil
	}
	return s.record(ctx, action, 0, map[string]any{"category_id": c.ID, "parent_id": c.ParentID, "name": c.Name,
		"skill": c.Skill, "active": c.Active})
}

// UpdateCategory changes category id ("ticket.category.update").
func (s *Service) UpdateCategory(ctx context.Context, id int64, p CategoryPatch) (Category, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return Category{}, err
	}
	if p.Version == nil {
		return Category{}, apperr.VersionRequired()
	}
	var c Category
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.store.Category(ctx, id); err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFoundf("thing.ticket_category")
			}
			return err
		}
		if *p.Version != c.Version {
			return apperr.StaleVersion(c.Version)
		}
		f := apperr.Fields{}
		if p.Name != nil {
			c.Name = textField(f, "name", *p.Name, maxCategoryName, true)
		}
		if p.Skill != nil {
			c.Skill = textField(f, "skill", *p.Skill, maxCategorySkill, false)
		}
		if p.SortOrder != nil {
			c.SortOrder = *p.SortOrder
		}
		if p.Active != nil {
			c.Active = *p.Active
		}
		if p.ParentID != nil {
			c.ParentID = *p.ParentID
			if c.ParentID < 0 {
				f.Add("parent_id", "ticket.invalid.category_unknown")
			} else if err := s.checkParent(ctx, f, id, c.ParentID); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		ok, err := s.store.UpdateCategory(ctx, &c)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		return s.recordCategory(ctx, "ticket.category.update", c)
	})
	return c, err
}

// DeleteCategory removes an unused leaf category (409 when it has children or
// requests; deactivate it instead) ("ticket.category.delete").
func (s *Service) DeleteCategory(ctx context.Context, id int64) error {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.store.Category(ctx, id)
		if err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFoundf("thing.ticket_category")
			}
			return err
		}
		children, used, err := s.store.CategoryUsage(ctx, id)
		if err != nil {
			return err
		}
		if children+used > 0 {
			return apperr.New(apperr.Conflict, "ticket.error.category_in_use").WithCode("category_in_use")
		}
		if err := s.store.DeleteCategory(ctx, id); err != nil {
			return err
		}
		return s.recordCategory(ctx, "ticket.category.delete", c)
	})
}

// ======================= HTTP =======================

func categoryURL(id int64) string { return "/api/v1/ticket-categories/" + strconv.FormatInt(id, 10) }

func (a api) listCategories(w http.ResponseWriter, r *http.Request) {
	cs, err := a.s.ListCategories(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[CategoryView]{Items: make([]CategoryView, len(cs))}
	for i, c := range cs {
		out.Items[i] = c.View()
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) createCategory(w http.ResponseWriter, r *http.Request) {
	var in CategoryInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := a.s.CreateCategory(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, categoryURL(c.ID), c.View())
}

// updateCategory: PATCH with a CategoryPatch.
func (a api) updateCategory(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *CategoryPatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p CategoryPatch) (any, int64, error) {
			x, err := a.s.UpdateCategory(ctx, id, p)
			return x.View(), x.Version, err
		})(w, r)
}

func (a api) deleteCategory(w http.ResponseWriter, r *http.Request) {
	httpx.DeleteByID(a.s.DeleteCategory)(w, r)
}
