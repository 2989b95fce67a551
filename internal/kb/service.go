package kb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/search"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Deps are the knowledge base's collaborators.
type Deps struct {
	DB    *db.DB
	Audit *audit.Log
	Clock clock.Clock
	// Search is the KB full-text index; built from DB when nil.
	Search *search.Index
	Log    *slog.Logger
}

// Service holds the knowledge-base use cases.
type Service struct {
	db    *db.DB
	store *Store
	audit *audit.Log
	clock clock.Clock
	index *search.Index
	log   *slog.Logger
	web   *web.Engine
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil {
		return nil, errors.New("kb: a database is required")
	}
	s := &Service{db: d.DB, store: NewStore(d.DB), audit: d.Audit, clock: d.Clock, index: d.Search, log: d.Log}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.index == nil {
		ix, err := search.NewIndex(d.DB, search.KindKB)
		if err != nil {
			return nil, fmt.Errorf("kb: %w", err)
		}
		s.index = ix
	}
	return s, nil
}

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// Store returns the store (tests, demo data).
func (s *Service) Store() *Store { return s.store }

func (s *Service) now() time.Time { return time.UnixMilli(clock.Millis(s.clock.Now())).UTC() }

func (s *Service) record(ctx context.Context, action, targetType string, id int64, detail any) error {
	if s.audit == nil {
		return nil
	}
	err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: targetType,
		TargetID: strconv.FormatInt(id, 10), Detail: detail})
	if err != nil {
		return fmt.Errorf("kb: audit %s: %w", action, err)
	}
	return nil
}

func articleNotFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.kb_article")
	}
	return fmt.Errorf("kb: load article: %w", err)
}

func categoryNotFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.kb_category")
	}
	return fmt.Errorf("kb: load category: %w", err)
}

// statusMsg is the translatable name of a status.
func statusMsg(st Status) i18n.Msg { return i18n.M("kb.status." + string(st)) }

func staffID(a *authz.Actor) int64 {
	if a != nil && a.Kind == authz.KindStaff {
		return a.ID
	}
	return 0
}

// doc is the article's entry in the full-text index: title, body and tags.
func doc(a Article) search.Doc {
	return search.Doc{ID: a.ID, Text: a.Title + "\n" + a.Body + "\n" + strings.Join(a.Tags, " ")}
}

// reindex puts the article into the index, or takes an archived one out.
func (s *Service) reindex(ctx context.Context, a Article) error {
	if a.Status == StatusArchived {
		return s.index.Delete(ctx, a.ID)
	}
	return s.index.Put(ctx, doc(a))
}

// ======================= validation =======================

// Input creates an article.
type Input struct {
	Title      string   `json:"title"`
	Body       string   `json:"body" text:"multiline"`
	CategoryID int64    `json:"category_id"`
	Tags       []string `json:"tags"`
	// Status is "draft" (the default) or "published".
	Status Status `json:"status"`
}

// Patch changes an article; nil fields are left alone. Version, when given, must be
// the stored version (409 otherwise).
type Patch struct {
	Title      *string   `json:"title"`
	Body       *string   `json:"body" text:"multiline"`
	CategoryID *int64    `json:"category_id"`
	Tags       *[]string `json:"tags"`
	Version    *int64    `json:"version"`
}

// check validates and normalizes the editable fields of a.
func (s *Service) check(ctx context.Context, a *Article, f apperr.Fields) error {
	a.Title = strings.TrimSpace(a.Title)
	switch {
	case a.Title == "":
		f.Add("title", "field.required")
	case utf8.RuneCountInString(a.Title) > MaxTitle:
		f.Add("title", "field.too_long", "max", MaxTitle)
	case badText(a.Title, false):
		f.Add("title", "field.invalid")
	}
	a.Body = strings.TrimSpace(strings.ReplaceAll(a.Body, "\r\n", "\n"))
	switch {
	case a.Body == "":
		f.Add("body", "field.required")
	case utf8.RuneCountInString(a.Body) > MaxBody:
		f.Add("body", "field.too_long", "max", MaxBody)
	case badText(a.Body, true):
		f.Add("body", "field.invalid")
	}
	for _, t := range a.Tags {
		if utf8.RuneCountInString(strings.TrimSpace(t)) > MaxTag || badText(t, false) || strings.ContainsAny(t, ",\uff0c") {
			f.Add("tags", "kb.invalid.tag", "max", MaxTag)
			break
		}
	}
	a.Tags = NormalizeTags(a.Tags)
	if len(a.Tags) > MaxTags {
		f.Add("tags", "kb.invalid.too_many_tags", "max", MaxTags)
	}
	switch {
	case a.CategoryID < 0:
		f.Add("category_id", "kb.invalid.category")
	case a.CategoryID > 0:
		c, err := s.store.Category(ctx, a.CategoryID)
		if db.IsNoRows(err) {
			f.Add("category_id", "kb.invalid.category")
		} else if err != nil {
			return fmt.Errorf("kb: load category: %w", err)
		} else {
			a.CategoryName = c.Name
		}
	default:
		a.CategoryName = ""
	}
	return nil
}

// ======================= articles: writes =======================

// CreateArticle stores a new article (a draft unless in.Status is "published").
func (s *Service) CreateArticle(ctx context.Context, in Input) (Article, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Article{}, err
	}
	now := s.now()
	a := Article{Title: in.Title, Body: in.Body, CategoryID: in.CategoryID, Tags: in.Tags, Status: in.Status,
		AuthorID: staffID(actor), UpdatedBy: staffID(actor), CreatedAt: now, UpdatedAt: now}
	f := apperr.Fields{}
	switch a.Status {
	case "":
		a.Status = StatusDraft
	case StatusDraft:
	case StatusPublished:
		a.PublishedAt = now
	default:
		f.Add("status", "field.invalid_choice")
	}
	if err := s.check(ctx, &a, f); err != nil {
		return Article{}, err
	}
	if err := f.Err(); err != nil {
		return Article{}, err
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertArticle(ctx, &a); err != nil {
			return err
		}
		if err := s.reindex(ctx, a); err != nil {
			return err
		}
		return s.record(ctx, "kb.article.create", "kb_article", a.ID, map[string]any{"title": a.Title,
			"status": a.Status, "category_id": a.CategoryID, "tags": a.Tags})
	})
	if err != nil {
		return Article{}, err
	}
	return a, nil
}

// mutate loads an article inside one transaction, lets fn change it (fn returns the
// audit detail), saves it with a version check, re-indexes it and audits action.
func (s *Service) mutate(ctx context.Context, id int64, action string, fn func(ctx context.Context, a *Article) (map[string]any, error)) (Article, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Article{}, err
	}
	var out Article
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.store.Article(ctx, id)
		if err != nil {
			return articleNotFound(err)
		}
		detail, err := fn(ctx, &a)
		if err != nil {
			return err
		}
		a.UpdatedBy, a.UpdatedAt = staffID(actor), s.now()
		ok, err := s.store.UpdateArticle(ctx, &a)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		if err := s.reindex(ctx, a); err != nil {
			return err
		}
		if detail == nil {
			detail = map[string]any{}
		}
		detail["version"] = a.Version
		if err := s.record(ctx, action, "kb_article", a.ID, detail); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}

// UpdateArticle changes an article's title, body, category or tags.
func (s *Service) UpdateArticle(ctx context.Context, id int64, p Patch) (Article, error) {
	return s.mutate(ctx, id, "kb.article.update", func(ctx context.Context, a *Article) (map[string]any, error) {
		if p.Version == nil {
			return nil, apperr.VersionRequired()
		}
		if *p.Version != a.Version {
			return nil, apperr.StaleVersion(a.Version)
		}
		if a.Status == StatusArchived {
			return nil, apperr.New(apperr.Conflict, "kb.error.archived")
		}
		var changed []string
		if p.Title != nil {
			a.Title, changed = *p.Title, append(changed, "title")
		}
		if p.Body != nil {
			a.Body, changed = *p.Body, append(changed, "body")
		}
		if p.CategoryID != nil {
			a.CategoryID, changed = *p.CategoryID, append(changed, "category_id")
		}
		if p.Tags != nil {
			a.Tags, changed = *p.Tags, append(changed, "tags")
		}
		f := apperr.Fields{}
		if err := s.check(ctx, a, f); err != nil {
			return nil, err
		}
		if err := f.Err(); err != nil {
			return nil, err
		}
		return map[string]any{"changed": changed, "title": a.Title}, nil
	})
}

// Publish makes a draft visible to agents and customers.
func (s *Service) Publish(ctx context.Context, id int64) (Article, error) {
	return s.mutate(ctx, id, "kb.article.publish", func(_ context.Context, a *Article) (map[string]any, error) {
		if a.Status != StatusDraft {
			return nil, apperr.New(apperr.Conflict, "kb.error.illegal_transition", "from", statusMsg(a.Status), "to", statusMsg(StatusPublished))
		}
		a.Status, a.PublishedAt = StatusPublished, s.now()
		return map[string]any{"title": a.Title}, nil
	})
}

// Unpublish takes a published article back to draft.
func (s *Service) Unpublish(ctx context.Context, id int64) (Article, error) {
	return s.mutate(ctx, id, "kb.article.unpublish", func(_ context.Context, a *Article) (map[string]any, error) {
		if a.Status != StatusPublished {
			return nil, apperr.New(apperr.Conflict, "kb.error.illegal_transition", "from", statusMsg(a.Status), "to", statusMsg(StatusDraft))
		}
		a.Status = StatusDraft
		return map[string]any{"title": a.Title}, nil
	})
}

// Archive retires an article (DELETE): it leaves the index and every reader's view
// but stays on record.
func (s *Service) Archive(ctx context.Context, id int64) (Article, error) {
	return s.mutate(ctx, id, "kb.article.archive", func(_ context.Context, a *Article) (map[string]any, error) {
		if a.Status == StatusArchived {
			return nil, apperr.New(apperr.Conflict, "kb.error.illegal_transition", "from", statusMsg(a.Status), "to", statusMsg(StatusArchived))
		}
		from := a.Status
		a.Status = StatusArchived
		return map[string]any{"title": a.Title, "from": from}, nil
	})
}

// ======================= articles: reads =======================

// visible says which statuses a staff member may read: drafts and archived articles
// need kb:write.
func visible(a *authz.Actor, st Status) bool {
	return st == StatusPublished || a.Can(PermWrite)
}

// GetArticle returns an article to staff with kb:read; drafts and archived articles
// only to those with kb:write (others get 404).
func (s *Service) GetArticle(ctx context.Context, id int64) (Article, error) {
	actor, err := authz.Require(ctx, PermRead)
	if err != nil {
		return Article{}, err
	}
	a, err := s.store.Article(ctx, id)
	if err != nil {
		return Article{}, articleNotFound(err)
	}
	if !visible(actor, a.Status) {
		return Article{}, apperr.NotFoundf("thing.kb_article")
	}
	return a, nil
}

// PublishedArticle returns a published article to anyone (portal customers, anonymous
// portal readers, staff) and counts the view; drafts and archived articles are not
// found.
func (s *Service) PublishedArticle(ctx context.Context, id int64) (Article, error) {
	a, err := s.store.Article(ctx, id)
	if err != nil {
		return Article{}, articleNotFound(err)
	}
	if a.Status != StatusPublished {
		return Article{}, apperr.NotFoundf("thing.kb_article")
	}
	if err := s.store.CountView(ctx, id); err != nil {
		s.log.WarnContext(ctx, "kb: count view", slog.Int64("article", id), slog.String("err", err.Error()))
	} else {
		a.Views++
	}
	return a, nil
}

// Ref is what another capability needs to link to an article (the ticket timeline's
// "kb_link" event): its id, title and status.
type Ref struct {
	ID     int64
	Title  string
	Status Status
}

// Ref returns the article's reference without an authorization check, audit or view
// count; the caller decides who may link what (customers see only published ones).
func (s *Service) Ref(ctx context.Context, id int64) (Ref, error) {
	a, err := s.store.Article(ctx, id)
	if err != nil {
		return Ref{}, articleNotFound(err)
	}
	return Ref{ID: a.ID, Title: a.Title, Status: a.Status}, nil
}

// Filter narrows a list of articles.
type Filter struct {
	Q          string
	CategoryID int64 // this category and those below it
	// Status: "" = what the actor may see apart from archived ones (drafts and
	// published for writers, published for readers), or one status.
	Status Status
}

// Page is one page of articles.
type Page struct {
	Items      []Article
	NextCursor string
}

type cursor struct {
	ID int64 `json:"i"`
}

func pageLimit(n, def, most int) int {
	switch {
	case n <= 0:
		return def
	case n > most:
		return most
	}
	return n
}

// query turns a filter into the statuses and categories the actor may list.
func (s *Service) query(ctx context.Context, actor *authz.Actor, f *Filter) (articleQuery, error) {
	fe := apperr.Fields{}
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > MaxQuery {
		fe.Add("q", "field.too_long", "max", MaxQuery)
	}
	var q articleQuery
	switch {
	case f.Status == "" && actor.Can(PermWrite):
		q.statuses = []Status{StatusDraft, StatusPublished}
	case f.Status == "":
		q.statuses = []Status{StatusPublished}
	case !ValidStatus(f.Status):
		fe.Add("status", "field.invalid_choice")
	case !visible(actor, f.Status):
		return q, apperr.ForbiddenErr()
	default:
		q.statuses = []Status{f.Status}
	}
	if f.CategoryID < 0 {
		fe.Add("category_id", "kb.invalid.category")
	} else if f.CategoryID > 0 {
		cats, err := s.store.Categories(ctx)
		if err != nil {
			return q, err
		}
		found := false
		for _, c := range cats {
			found = found || c.ID == f.CategoryID
		}
		if !found {
			fe.Add("category_id", "kb.invalid.category")
		}
		q.categories = Descendants(cats, f.CategoryID)
	}
	return q, fe.Err()
}

// ListArticles pages through articles newest first, narrowed by f; f.Q searches the
// title, body and tags (two-character Chinese words included).
func (s *Service) ListArticles(ctx context.Context, f Filter, limit int, cur string) (Page, error) {
	actor, err := authz.Require(ctx, PermRead)
	if err != nil {
		return Page{}, err
	}
	q, err := s.query(ctx, actor, &f)
	if err != nil {
		return Page{}, err
	}
	var c cursor
	if err := httpx.DecodeCursor(cur, &c); err != nil {
		return Page{}, err
	}
	if c.ID < 0 {
		return Page{}, apperr.New(apperr.Malformed, "error.malformed.cursor").OnField("cursor")
	}
	limit = pageLimit(limit, httpx.DefaultLimit, httpx.MaxLimit)
	items, next, err := s.find(ctx, f.Q, q, limit, c.ID)
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: items}
	if next > 0 {
		p.NextCursor = httpx.EncodeCursor(cursor{ID: next})
	}
	return p, nil
}

// The largest batch of ids taken from the text index at once (the first batch is about
// twice the page, each next one doubles) and the number of batches one call walks.
const (
	searchBatch    = 500
	maxSearchSteps = 20
)

// find lists up to limit articles matching q (all when q is empty) below the id
// before; next is the cursor of the following page (0 = no more).
func (s *Service) find(ctx context.Context, text string, q articleQuery, limit int, before int64) ([]Article, int64, error) {
	if text == "" {
		q.before, q.limit = before, limit+1
		items, err := s.store.Articles(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		if len(items) > limit {
			items = items[:limit]
			return items, items[limit-1].ID, nil
		}
		return items, 0, nil
	}
	pq := search.ParseQuery(text)
	if pq.Empty() {
		return nil, 0, nil
	}
	var got []Article
	batch := min(max(2*(limit+1), 20), searchBatch)
	for step := 0; step < maxSearchSteps; step, batch = step+1, min(2*batch, searchBatch) {
		ids, err := s.index.SearchQuery(ctx, pq, batch, before)
		if err != nil {
			return nil, 0, fmt.Errorf("kb: search: %w", err)
		}
		if len(ids) == 0 {
			return got, 0, nil
		}
		w := q
		w.ids, w.limit = ids, limit+1-len(got)
		rows, err := s.store.Articles(ctx, w)
		if err != nil {
			return nil, 0, err
		}
		got = append(got, rows...)
		if len(got) > limit {
			got = got[:limit]
			return got, got[limit-1].ID, nil
		}
		if len(ids) < batch {
			return got, 0, nil
		}
		before = ids[len(ids)-1]
	}
	return got, before, nil
}

// Search finds articles for staff: published ones for kb:read, drafts too for
// kb:write. An empty query lists the newest.
func (s *Service) Search(ctx context.Context, q string, limit int) ([]Article, error) {
	actor, err := authz.Require(ctx, PermRead)
	if err != nil {
		return nil, err
	}
	f := Filter{Q: q}
	aq, err := s.query(ctx, actor, &f)
	if err != nil {
		return nil, err
	}
	items, _, err := s.find(ctx, f.Q, aq, pageLimit(limit, search.DefaultLimit, httpx.MaxLimit), 0)
	return items, err
}

// PublishedSearch finds published articles for anyone: the portal's customers and
// anonymous readers, and the ticket workspace. An empty query lists the newest.
func (s *Service) PublishedSearch(ctx context.Context, q string, limit int) ([]Article, error) {
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > MaxQuery {
		return nil, apperr.InvalidField("q", "field.too_long", "max", MaxQuery)
	}
	aq := articleQuery{statuses: []Status{StatusPublished}}
	items, _, err := s.find(ctx, q, aq, pageLimit(limit, search.DefaultLimit, httpx.MaxLimit), 0)
	return items, err
}

// PublishedInCategory lists the newest published articles of a category and the
// categories below it, for anyone (the portal's FAQ by topic).
func (s *Service) PublishedInCategory(ctx context.Context, categoryID int64, limit int) ([]Article, error) {
	aq := articleQuery{statuses: []Status{StatusPublished}}
	if categoryID > 0 {
		cats, err := s.store.Categories(ctx)
		if err != nil {
			return nil, err
		}
		aq.categories = Descendants(cats, categoryID)
	}
	items, _, err := s.find(ctx, "", aq, pageLimit(limit, search.DefaultLimit, httpx.MaxLimit), 0)
	return items, err
}

// Suggestion is one article offered while an agent writes a reply.
type Suggestion struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Snippet string `json:"snippet"`
}

// Suggest returns published articles matching q as titles and snippets (kb:read).
func (s *Service) Suggest(ctx context.Context, q string, limit int) ([]Suggestion, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if q == "" {
		return []Suggestion{}, nil
	}
	items, err := s.PublishedSearch(ctx, q, pageLimit(limit, 5, 20))
	if err != nil {
		return nil, err
	}
	out := make([]Suggestion, len(items))
	for i, a := range items {
		out[i] = Suggestion{ID: a.ID, Title: a.Title, Snippet: Snippet(a.Body, q, SnippetRunes)}
	}
	return out, nil
}

// ======================= categories =======================

// CategoryInput creates a category.
type CategoryInput struct {
	Name      string `json:"name"`
	ParentID  int64  `json:"parent_id"`
	SortOrder int    `json:"sort_order"`
}

// CategoryPatch changes a category; nil fields are left alone (parent_id 0 = root).
type CategoryPatch struct {
	Name      *string `json:"name"`
	ParentID  *int64  `json:"parent_id"`
	SortOrder *int    `json:"sort_order"`
	// Version is the version the change was made against (required: 428 without, 409
	// when stale).
	Version *int64 `json:"version"`
}

// Categories returns the category tree, depth first (kb:read).
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return nil, err
	}
	return s.PublishedCategories(ctx)
}

// PublishedCategories returns the category tree to anyone (the portal).
func (s *Service) PublishedCategories(ctx context.Context) ([]Category, error) {
	cats, err := s.store.Categories(ctx)
	if err != nil {
		return nil, err
	}
	return Tree(cats), nil
}

// GetCategory returns one category (kb:read).
func (s *Service) GetCategory(ctx context.Context, id int64) (Category, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return Category{}, err
	}
	cats, err := s.PublishedCategories(ctx)
	if err != nil {
		return Category{}, err
	}
	for _, c := range cats {
		if c.ID == id {
			return c, nil
		}
	}
	return Category{}, apperr.NotFoundf("thing.kb_category")
}

// checkCategory validates c against the rest of the tree (cats, which holds c's old
// version on update).
func checkCategory(c *Category, cats []Category, f apperr.Fields) {
	c.Name = strings.Join(strings.Fields(c.Name), " ")
	switch {
	case c.Name == "":
		f.Add("name", "field.required")
	case utf8.RuneCountInString(c.Name) > MaxCatName:
		f.Add("name", "field.too_long", "max", MaxCatName)
	case badText(c.Name, false):
		f.Add("name", "field.invalid")
	}
	if c.SortOrder < -1000000 || c.SortOrder > 1000000 {
		f.Add("sort_order", "field.invalid")
	}
	tree := Tree(cats)
	depth := map[int64]int{}
	for _, t := range tree {
		depth[t.ID] = t.Depth
	}
	if c.ParentID != 0 {
		pd, ok := depth[c.ParentID]
		switch {
		case c.ParentID < 0 || !ok:
			f.Add("parent_id", "kb.invalid.parent")
			return
		case c.ID != 0 && contains(Descendants(cats, c.ID), c.ParentID):
			f.Add("parent_id", "kb.invalid.parent_cycle")
			return
		default:
			height := 0
			if c.ID != 0 {
				for _, d := range Descendants(cats, c.ID) {
					height = max(height, depth[d]-depth[c.ID])
				}
			}
			if pd+1+height >= MaxCatDepth {
				f.Add("parent_id", "kb.invalid.too_deep", "max", MaxCatDepth)
			}
		}
	}
	for _, o := range cats {
		if o.ID != c.ID && o.ParentID == c.ParentID && strings.EqualFold(o.Name, c.Name) {
			f.Add("name", "kb.invalid.category_taken")
			break
		}
	}
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// CreateCategory adds a category (kb:write).
func (s *Service) CreateCategory(ctx context.Context, in CategoryInput) (Category, error) {
	if _, err := authz.Require(ctx, PermWrite); err != nil {
		return Category{}, err
	}
	now := s.now()
	c := Category{Name: in.Name, ParentID: in.ParentID, SortOrder: in.SortOrder, CreatedAt: now, UpdatedAt: now}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		cats, err := s.store.Categories(ctx)
		if err != nil {
			return err
		}
		f := apperr.Fields{}
		checkCategory(&c, cats, f)
		if err := f.Err(); err != nil {
			return err
		}
		if err := s.store.InsertCategory(ctx, &c); err != nil {
			return err
		}
		return s.record(ctx, "kb.category.create", "kb_category", c.ID, map[string]any{"name": c.Name,
			"parent_id": c.ParentID})
	})
	if err != nil {
		return Category{}, err
	}
	return s.GetCategory(ctx, c.ID)
}

// UpdateCategory renames, moves or re-orders a category (kb:write).
func (s *Service) UpdateCategory(ctx context.Context, id int64, p CategoryPatch) (Category, error) {
	if _, err := authz.Require(ctx, PermWrite); err != nil {
		return Category{}, err
	}
	if p.Version == nil {
		return Category{}, apperr.VersionRequired()
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.store.Category(ctx, id)
		if err != nil {
			return categoryNotFound(err)
		}
		if *p.Version != c.Version {
			return apperr.StaleVersion(c.Version)
		}
		cats, err := s.store.Categories(ctx)
		if err != nil {
			return err
		}
		before := c
		if p.Name != nil {
			c.Name = *p.Name
		}
		if p.ParentID != nil {
			c.ParentID = *p.ParentID
		}
		if p.SortOrder != nil {
			c.SortOrder = *p.SortOrder
		}
		f := apperr.Fields{}
		checkCategory(&c, cats, f)
		if err := f.Err(); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		ok, err := s.store.UpdateCategory(ctx, c)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		return s.record(ctx, "kb.category.update", "kb_category", c.ID, map[string]any{"name": c.Name,
			"old_name": before.Name, "parent_id": c.ParentID, "old_parent_id": before.ParentID, "sort_order": c.SortOrder})
	})
	if err != nil {
		return Category{}, err
	}
	return s.GetCategory(ctx, id)
}

// DeleteCategory removes an empty category (kb:write): one with sub-categories or
// articles that are not archived is refused with 409.
func (s *Service) DeleteCategory(ctx context.Context, id int64) error {
	if _, err := authz.Require(ctx, PermWrite); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.store.Category(ctx, id)
		if err != nil {
			return categoryNotFound(err)
		}
		children, live, err := s.store.CategoryUse(ctx, id)
		if err != nil {
			return err
		}
		if children > 0 {
			return apperr.New(apperr.Conflict, "kb.error.category_has_children", "count", children)
		}
		if live > 0 {
			return apperr.New(apperr.Conflict, "kb.error.category_in_use", "count", live)
		}
		if err := s.store.DeleteCategory(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, "kb.category.delete", "kb_category", id, map[string]any{"name": c.Name})
	})
}
