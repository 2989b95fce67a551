package kb

import (
	"context"
	"net/http"
	"strconv"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// api holds the JSON handlers: thin wrappers that decode, call the service and write.
type api struct{ s *Service }

func articleURL(id int64) string  { return "/api/v1/kb/articles/" + strconv.FormatInt(id, 10) }
func categoryURL(id int64) string { return "/api/v1/kb/categories/" + strconv.FormatInt(id, 10) }

// filterFrom reads ?q=, ?category_id= (or ?category=) and ?status=.
func filterFrom(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Q: q.Get("q"), Status: Status(q.Get("status"))}
	name := "category_id"
	if q.Get(name) == "" && q.Get("category") != "" {
		name = "category"
	}
	id, err := httpx.QueryInt64(r, name)
	f.CategoryID = id
	return f, err
}

func (a api) list(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f, err := filterFrom(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListArticles(r.Context(), f, limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[Article]{Items: p.Items, NextCursor: p.NextCursor}
	if out.Items == nil {
		out.Items = []Article{}
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) create(w http.ResponseWriter, r *http.Request) {
	var in Input
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	art, err := a.s.CreateArticle(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, articleURL(art.ID), art)
}

func (a api) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var art Article
		if art, err = a.s.GetArticle(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, art)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) update(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *Patch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p Patch) (any, int64, error) {
			x, err := a.s.UpdateArticle(ctx, id, p)
			return x, x.Version, err
		})(w, r)
}

// transition runs a state change on the article named in the path and writes it.
func (a api) transition(w http.ResponseWriter, r *http.Request, verb string) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var art Article
	switch verb {
	case "publish":
		art, err = a.s.Publish(r.Context(), id)
	case "unpublish":
		art, err = a.s.Unpublish(r.Context(), id)
	default:
		art, err = a.s.Archive(r.Context(), id)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, art)
}

func (a api) publish(w http.ResponseWriter, r *http.Request)   { a.transition(w, r, "publish") }
func (a api) unpublish(w http.ResponseWriter, r *http.Request) { a.transition(w, r, "unpublish") }
func (a api) archive(w http.ResponseWriter, r *http.Request)   { a.transition(w, r, "archive") }

// suggest is GET /api/v1/kb/suggest?q=&limit= for the agent's reply box.
func (a api) suggest(w http.ResponseWriter, r *http.Request) {
	limit := 5
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 20 {
			httpx.Error(w, r, apperr.New(apperr.Malformed, "error.malformed.limit", "max", 20).OnField("limit"))
			return
		}
		limit = n
	}
	items, err := a.s.Suggest(r.Context(), r.URL.Query().Get("q"), limit)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[Suggestion]{Items: items})
}

func (a api) listCategories(w http.ResponseWriter, r *http.Request) {
	cats, err := a.s.Categories(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if cats == nil {
		cats = []Category{}
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[Category]{Items: cats})
}

func (a api) getCategory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var c Category
		if c, err = a.s.GetCategory(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, c)
			return
		}
	}
	httpx.Error(w, r, err)
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
	httpx.Created(w, categoryURL(c.ID), c)
}

func (a api) updateCategory(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *CategoryPatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p CategoryPatch) (any, int64, error) {
			x, err := a.s.UpdateCategory(ctx, id, p)
			return x, x.Version, err
		})(w, r)
}

func (a api) deleteCategory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		if err = a.s.DeleteCategory(r.Context(), id); err == nil {
			httpx.NoContent(w)
			return
		}
	}
	httpx.Error(w, r, err)
}
