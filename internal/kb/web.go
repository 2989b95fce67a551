package kb

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// pages holds the HTML handlers.
type pages struct{ s *Service }

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

func tr(r *http.Request, key string, kv ...any) string {
	return httpx.CatalogFrom(r.Context()).Msg(i18n.Lang(r.Context()), i18n.M(key, kv...))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (p pages) fail(w http.ResponseWriter, r *http.Request, err error) { p.s.web.PageError(w, r, err) }

func malformedForm() error { return apperr.New(apperr.Malformed, "error.malformed", "detail", "form") }

// categoryOptions builds the category select: the tree, indented by depth, with a blank
// first entry labelled blankKey.
func categoryOptions(r *http.Request, cats []Category, selected int64, blankKey string, skip int64) []Option {
	out := []Option{{Value: "", Label: tr(r, blankKey), Selected: selected == 0}}
	var below []int64
	if skip != 0 {
		below = Descendants(cats, skip)
	}
	for _, c := range cats {
		if contains(below, c.ID) {
			continue
		}
		out = append(out, Option{Value: itoa(c.ID), Label: strings.Repeat("\u00a0\u00a0", c.Depth) + c.Name,
			Selected: c.ID == selected})
	}
	return out
}

// ======================= list =======================

// ListPage is the model of /kb.
type ListPage struct {
	Q           string
	Categories  []Option
	Statuses    []Option // writers only
	Rows        []ListRow
	NextURL     string
	CanWrite    bool
	FilterError string
}

// ListRow is one line of the article list.
type ListRow struct {
	ID        int64
	Title     string
	Category  string
	Status    string
	Published bool
	Tags      []string
	Snippet   string
	Views     int64
	UpdatedAt time.Time
}

func (p pages) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	actor := authz.From(ctx)
	f, err := filterFrom(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cats, err := p.s.Categories(ctx)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := ListPage{Q: f.Q, Categories: categoryOptions(r, cats, f.CategoryID, "kb.filter.any_category", 0),
		CanWrite: actor.Can(PermWrite)}
	if pg.CanWrite {
		pg.Statuses = []Option{{Value: "", Label: tr(r, "kb.filter.any_status"), Selected: f.Status == ""}}
		for _, st := range Statuses {
			pg.Statuses = append(pg.Statuses, Option{Value: string(st), Label: tr(r, "kb.status."+string(st)),
				Selected: st == f.Status})
		}
	}
	list, err := p.s.ListArticles(ctx, f, 20, r.URL.Query().Get("cursor"))
	if err != nil {
		if _, msg, ok := p.s.web.FieldErrors(ctx, err); ok && apperr.KindOf(err) == apperr.Invalid {
			pg.FilterError = msg
			web.Render(p.s.web, w, r, http.StatusUnprocessableEntity, "kb/list", "page.kb.title", pg)
			return
		}
		p.fail(w, r, err)
		return
	}
	for _, a := range list.Items {
		pg.Rows = append(pg.Rows, ListRow{ID: a.ID, Title: a.Title, Category: a.CategoryName,
			Status: tr(r, "kb.status."+string(a.Status)), Published: a.Published(), Tags: a.Tags,
			Snippet: Snippet(a.Body, f.Q, 120), Views: a.Views, UpdatedAt: a.UpdatedAt})
	}
	if list.NextCursor != "" {
		nq := url.Values{}
		for k, v := range r.URL.Query() {
			if k != "cursor" {
				nq[k] = v
			}
		}
		nq.Set("cursor", list.NextCursor)
		pg.NextURL = "/kb?" + nq.Encode()
	}
	web.Render(p.s.web, w, r, http.StatusOK, "kb/list", "page.kb.title", pg)
}

// ======================= view =======================

// ViewPage is the model of /kb/{id}.
type ViewPage struct {
	A            Article
	Paragraphs   [][]string
	Status       string
	CanWrite     bool
	CanPublish   bool
	CanUnpublish bool
	CanArchive   bool
}

func (p pages) view(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	a, err := p.s.GetArticle(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	can := authz.From(r.Context()).Can(PermWrite)
	pg := ViewPage{A: a, Paragraphs: a.Paragraphs(), Status: tr(r, "kb.status."+string(a.Status)),
		CanWrite: can && a.Status != StatusArchived, CanPublish: can && a.Status == StatusDraft,
		CanUnpublish: can && a.Status == StatusPublished, CanArchive: can && a.Status != StatusArchived}
	web.Render(p.s.web, w, r, http.StatusOK, "kb/view", "page.kb_article.title", pg)
}

// act runs a state change from a button on the article page and goes back to it.
func (p pages) act(w http.ResponseWriter, r *http.Request, verb string) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	ctx := r.Context()
	flash := "kb.flash.archived"
	switch verb {
	case "publish":
		_, err = p.s.Publish(ctx, id)
		flash = "kb.flash.published"
	case "unpublish":
		_, err = p.s.Unpublish(ctx, id)
		flash = "kb.flash.unpublished"
	default:
		_, err = p.s.Archive(ctx, id)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/kb/"+itoa(id), flash)
}

func (p pages) publish(w http.ResponseWriter, r *http.Request)   { p.act(w, r, "publish") }
func (p pages) unpublish(w http.ResponseWriter, r *http.Request) { p.act(w, r, "unpublish") }
func (p pages) archive(w http.ResponseWriter, r *http.Request)   { p.act(w, r, "archive") }

// ======================= create and edit =======================

// FormPage is the model of /kb/new and /kb/{id}/edit.
type FormPage struct {
	New        bool
	ID         int64
	Version    int64
	Title      string
	Body       string
	Tags       string
	Categories []Option
	Errors     web.FormErrors
	Message    string
}

func (p pages) render(w http.ResponseWriter, r *http.Request, status int, pg FormPage, categoryID int64) {
	cats, err := p.s.Categories(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg.Categories = categoryOptions(r, cats, categoryID, "kb.category.none", 0)
	title := "page.kb_edit.title"
	if pg.New {
		title = "page.kb_new.title"
	}
	web.Render(p.s.web, w, r, status, "kb/form", title, pg)
}

func (p pages) newForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, FormPage{New: true}, 0)
}

func (p pages) editForm(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	a, err := p.s.GetArticle(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, FormPage{ID: a.ID, Version: a.Version, Title: a.Title, Body: a.Body,
		Tags: strings.Join(a.Tags, ", ")}, a.CategoryID)
}

// formCategory reads the posted category; a bad number becomes -1 (refused by the
// service with a field error).
func formCategory(r *http.Request) int64 {
	v := strings.TrimSpace(r.PostFormValue("category_id"))
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (p pages) formError(w http.ResponseWriter, r *http.Request, pg FormPage, err error) {
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg.Errors, pg.Message = fe, msg
	pg.Title, pg.Body, pg.Tags = r.PostFormValue("title"), r.PostFormValue("body"), r.PostFormValue("tags")
	p.render(w, r, httpx.Status(apperr.KindOf(err)), pg, formCategory(r))
}

func (p pages) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	in := Input{Title: r.PostFormValue("title"), Body: r.PostFormValue("body"), CategoryID: formCategory(r),
		Tags: SplitTags(r.PostFormValue("tags")), Status: StatusDraft}
	if r.PostFormValue("publish") != "" {
		in.Status = StatusPublished
	}
	a, err := p.s.CreateArticle(r.Context(), in)
	if err == nil {
		web.Redirect(w, r, "/kb/"+itoa(a.ID), "kb.flash.created")
		return
	}
	p.formError(w, r, FormPage{New: true}, err)
}

func (p pages) update(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	title, body, cat := r.PostFormValue("title"), r.PostFormValue("body"), formCategory(r)
	tags := SplitTags(r.PostFormValue("tags"))
	patch := Patch{Title: &title, Body: &body, CategoryID: &cat, Tags: &tags}
	var version int64
	if v := r.PostFormValue("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			p.fail(w, r, malformedForm())
			return
		}
		version, patch.Version = n, &n
	}
	if _, err := p.s.UpdateArticle(r.Context(), id, patch); err != nil {
		p.formError(w, r, FormPage{ID: id, Version: version}, err)
		return
	}
	web.Redirect(w, r, "/kb/"+itoa(id), "kb.flash.saved")
}

// ======================= categories =======================

// CategoriesPage is the model of /kb/categories.
type CategoriesPage struct {
	Rows    []CategoryRow
	Parents []Option // for the new category form
	Name    string
	Sort    int
	Errors  web.FormErrors
	Message string
	EditID  int64 // the row whose update failed
}

// CategoryRow is one category with its own edit form.
type CategoryRow struct {
	C       Category
	Indent  string
	Parents []Option
}

func (p pages) categoriesPage(w http.ResponseWriter, r *http.Request, status int, pg CategoriesPage, parent int64) {
	cats, err := p.s.Categories(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg.Parents = categoryOptions(r, cats, parent, "kb.category.root", 0)
	for _, c := range cats {
		pg.Rows = append(pg.Rows, CategoryRow{C: c, Indent: strings.Repeat("\u00a0\u00a0", c.Depth),
			Parents: categoryOptions(r, cats, c.ParentID, "kb.category.root", c.ID)})
	}
	web.Render(p.s.web, w, r, status, "kb/categories", "page.kb_categories.title", pg)
}

func (p pages) categories(w http.ResponseWriter, r *http.Request) {
	p.categoriesPage(w, r, http.StatusOK, CategoriesPage{}, 0)
}

func formInt(r *http.Request, name string) (int64, bool) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

func (p pages) categoryFormError(w http.ResponseWriter, r *http.Request, pg CategoriesPage, parent int64, err error) {
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg.Errors, pg.Message = fe, msg
	p.categoriesPage(w, r, httpx.Status(apperr.KindOf(err)), pg, parent)
}

func (p pages) createCategory(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	parent, ok1 := formInt(r, "parent_id")
	sort, ok2 := formInt(r, "sort_order")
	in := CategoryInput{Name: r.PostFormValue("name"), ParentID: parent, SortOrder: int(sort)}
	var err error
	switch {
	case !ok1:
		err = apperr.InvalidField("parent_id", "kb.invalid.parent")
	case !ok2:
		err = apperr.InvalidField("sort_order", "field.invalid")
	default:
		_, err = p.s.CreateCategory(r.Context(), in)
	}
	if err == nil {
		web.Redirect(w, r, "/kb/categories", "kb.flash.category_created")
		return
	}
	p.categoryFormError(w, r, CategoriesPage{Name: in.Name, Sort: in.SortOrder}, parent, err)
}

func (p pages) updateCategory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, malformedForm())
		return
	}
	parent, ok1 := formInt(r, "parent_id")
	sort64, ok2 := formInt(r, "sort_order")
	name, sort := r.PostFormValue("name"), int(sort64)
	patch := CategoryPatch{Name: &name, ParentID: &parent, SortOrder: &sort}
	if v := r.PostFormValue("version"); v != "" {
		n, ok := formInt(r, "version")
		if !ok {
			n = -1 // no version: refused as stale
		}
		patch.Version = &n
	}
	switch {
	case !ok1:
		err = apperr.InvalidField("parent_id", "kb.invalid.parent")
	case !ok2:
		err = apperr.InvalidField("sort_order", "field.invalid")
	default:
		_, err = p.s.UpdateCategory(r.Context(), id, patch)
	}
	if err == nil {
		web.Redirect(w, r, "/kb/categories", "kb.flash.category_saved")
		return
	}
	p.categoryFormError(w, r, CategoriesPage{EditID: id}, 0, err)
}

func (p pages) deleteCategory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := p.s.DeleteCategory(r.Context(), id); err != nil {
		if apperr.KindOf(err) == apperr.Conflict {
			p.categoryFormError(w, r, CategoriesPage{EditID: id}, 0, err)
			return
		}
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/kb/categories", "kb.flash.category_deleted")
}
