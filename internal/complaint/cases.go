package complaint

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/search"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// The case library: closed complaints marked as cases with a summary, kept
// in their own Chinese-aware text index (title, summary and the cause's name) and read
// by everyone who reads complaints, for training. A case shows the complaint's title,
// the summary, the level and the cause — nothing about the customer.

// CaseInput marks a complaint as a case.
type CaseInput struct {
	Summary string `json:"summary" text:"multiline"`
	// Version, when given, must be the complaint's current version (409 when stale).
	Version *int64 `json:"version"`
}

// CaseView is a case of the library.
type CaseView struct {
	ID         int64      `json:"id"` // the complaint's id
	Title      string     `json:"title"`
	Summary    string     `json:"summary"`
	Level      Level      `json:"level"`
	LevelLabel string     `json:"level_label"`
	CauseID    int64      `json:"cause_id"`
	Cause      string     `json:"cause"`
	CauseKind  CauseKind  `json:"cause_kind"`
	ClosedAt   *time.Time `json:"closed_at"`
	CaseAt     time.Time  `json:"case_at"`
}

// MarkCase marks closed complaint id as a case with a summary (complaint:analyze, the
// complaint in reach), or replaces the summary of a case.
func (s *Service) MarkCase(ctx context.Context, id int64, in CaseInput) (Complaint, error) {
	actor, err := authz.RequireStaff(ctx, PermAnalyze)
	if err != nil {
		return Complaint{}, err
	}
	f := apperr.Fields{}
	summary := textField(f, "summary", in.Summary, maxText, true)
	if err := f.Err(); err != nil {
		return Complaint{}, err
	}
	var out Complaint
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.lockReached(ctx, actor, id, PermAnalyze, in.Version)
		if err != nil {
			return err
		}
		if c.Stage != StageClosed {
			return apperr.New(apperr.Conflict, "complaint.case.error.not_closed").WithCode("complaint_not_closed")
		}
		causes, err := s.store.causeNames(ctx)
		if err != nil {
			return err
		}
		was := c.IsCase
		c.IsCase, c.CaseSummary = true, summary
		if !was {
			c.CaseAt = s.now()
		}
		if err := s.save(ctx, &c); err != nil {
			return err
		}
		if err := s.cases.Put(ctx, search.Doc{ID: c.ID, Text: caseText(ctx, &c, causes)}); err != nil {
			return fmt.Errorf("complaint: case index: %w", err)
		}
		if err := s.record(ctx, "complaint.case.mark", c.ID, map[string]any{"number": c.Number, "summary": summary,
			"replaced": was}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// UnmarkCase takes complaint id out of the case library (complaint:analyze).
func (s *Service) UnmarkCase(ctx context.Context, id int64) (Complaint, error) {
	actor, err := authz.RequireStaff(ctx, PermAnalyze)
	if err != nil {
		return Complaint{}, err
	}
	var out Complaint
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.lockReached(ctx, actor, id, PermAnalyze, nil)
		if err != nil {
			return err
		}
		if !c.IsCase {
			out = c
			return nil
		}
		c.IsCase, c.CaseSummary, c.CaseAt = false, "", time.Time{}
		if err := s.save(ctx, &c); err != nil {
			return err
		}
		if err := s.cases.Delete(ctx, c.ID); err != nil {
			return fmt.Errorf("complaint: case index: %w", err)
		}
		if err := s.record(ctx, "complaint.case.unmark", c.ID, map[string]any{"number": c.Number}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// caseText is a case's document in the index: the title, the summary and the cause's
// name in every language (a built-in cause is named by the catalog).
func caseText(ctx context.Context, c *Complaint, causes map[int64]anCauseName) string {
	parts := []string{c.Title, c.CaseSummary}
	if cn, ok := causes[c.CauseID]; ok {
		if cn.name != "" {
			parts = append(parts, cn.name)
		} else if cat := httpx.CatalogFrom(ctx); cat != nil && cat.Has("complaint.cause."+cn.code) {
			for _, lang := range i18n.Languages {
				parts = append(parts, cat.T(lang, "complaint.cause."+cn.code, nil))
			}
		} else {
			parts = append(parts, cn.code)
		}
	}
	return strings.Join(parts, "\n")
}

// caseSearchBatch and caseSearchSteps bound a search of the library.
const (
	caseSearchBatch = 200
	caseSearchSteps = 20
)

// Cases pages through the case library, newest first; q searches it (Chinese words of
// two characters or more, Latin words). Every holder of complaint:read reads it: a case
// carries no personal data.
func (s *Service) Cases(ctx context.Context, q string, limit int, cur string) (Page[CaseView], error) {
	if _, err := authz.RequireStaff(ctx, PermRead); err != nil {
		return Page[CaseView]{}, err
	}
	q = strings.TrimSpace(q)
	if len([]rune(q)) > 100 {
		f := apperr.Fields{}
		f.Add("q", "field.too_long", "max", 100)
		return Page[CaseView]{}, f.Err()
	}
	var c listCursor
	if err := httpx.DecodeCursor(cur, &c); err != nil {
		return Page[CaseView]{}, err
	}
	limit = pageLimit(limit)
	var items []Complaint
	var err error
	if q == "" {
		items, err = s.store.List(ctx, Filter{Cases: true}, listScope{all: true}, c.ID, limit+1)
	} else {
		items, err = s.searchCases(ctx, q, c.ID, limit+1)
	}
	if err != nil {
		return Page[CaseView]{}, err
	}
	page := Page[CaseView]{Items: []CaseView{}}
	if len(items) > limit {
		items = items[:limit]
		page.NextCursor = httpx.EncodeCursor(listCursor{ID: items[limit-1].ID})
	}
	causes, err := s.store.causeNames(ctx)
	if err != nil {
		return Page[CaseView]{}, err
	}
	l := anLabelsOf(ctx)
	for i := range items {
		page.Items = append(page.Items, caseViewOf(&items[i], causes, l))
	}
	return page, nil
}

func (s *Service) searchCases(ctx context.Context, q string, before int64, want int) ([]Complaint, error) {
	var out []Complaint
	after := before
	for range caseSearchSteps {
		ids, err := s.cases.Search(ctx, q, caseSearchBatch, after)
		if err != nil {
			return nil, fmt.Errorf("complaint: case search: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		got, err := s.store.casesByIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if len(out) >= want || len(ids) < caseSearchBatch {
			break
		}
		after = ids[len(ids)-1]
	}
	if len(out) > want {
		out = out[:want]
	}
	return out, nil
}

func caseViewOf(c *Complaint, causes map[int64]anCauseName, l anLabels) CaseView {
	v := CaseView{ID: c.ID, Title: c.Title, Summary: c.CaseSummary, Level: c.Level,
		LevelLabel: l.t("complaint.level." + string(c.Level)), CauseID: c.CauseID, CauseKind: c.CauseKind,
		ClosedAt: optTime(c.ClosedAt), CaseAt: c.CaseAt.UTC()}
	if c.CauseID != 0 {
		v.Cause = anCauseLabel(causes, c.CauseID, l)
	}
	return v
}

// ======================= HTTP =======================

func (a analysisAPI) markCase(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in CaseInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := a.s.MarkCase(r.Context(), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, ViewOf(r.Context(), &c))
}

func (a analysisAPI) unmarkCase(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := a.s.UnmarkCase(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, ViewOf(r.Context(), &c))
}

func (a analysisAPI) cases(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.Cases(r.Context(), r.URL.Query().Get("q"), limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[CaseView]{Items: p.Items, NextCursor: p.NextCursor})
}

// CasesPage is the model of /complaints/cases.
type CasesPage struct {
	Q         string
	Items     []CaseView
	NextURL   string
	CanManage bool // may take cases out of the library
	Message   string
}

func (a analysisAPI) casesPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	pg := CasesPage{Q: q, CanManage: authz.From(ctx).Can(PermAnalyze)}
	p, err := a.s.Cases(ctx, q, 50, r.URL.Query().Get("cursor"))
	status := http.StatusOK
	if err != nil {
		if a.s.web == nil {
			httpx.Error(w, r, err)
			return
		}
		_, msg, ok := a.s.web.FieldErrors(ctx, err)
		if !ok {
			a.s.web.PageError(w, r, err)
			return
		}
		pg.Message, status = msg, httpx.Status(apperr.KindOf(err))
	}
	pg.Items = p.Items
	if p.NextCursor != "" {
		pg.NextURL = "/complaints/cases?" + url.Values{"q": {q}, "cursor": {p.NextCursor}}.Encode()
	}
	if a.s.web == nil {
		httpx.JSON(w, status, p.Items)
		return
	}
	web.Render(a.s.web, w, r, status, "complaint/cases", "complaint.case.title", pg)
}

func (a analysisAPI) markCaseForm(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		if err = r.ParseForm(); err != nil {
			err = apperr.New(apperr.Malformed, "error.malformed", "detail", "form")
		}
	}
	if err == nil {
		in := CaseInput{Summary: r.PostForm.Get("summary")}
		if v := r.PostForm.Get("version"); v != "" {
			if n, perr := strconv.ParseInt(v, 10, 64); perr == nil {
				in.Version = &n
			}
		}
		_, err = a.s.MarkCase(r.Context(), id, in)
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	web.Redirect(w, r, "/complaints/"+strconv.FormatInt(id, 10), "complaint.case.flash.marked")
}

func (a analysisAPI) unmarkCaseForm(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		_, err = a.s.UnmarkCase(r.Context(), id)
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	web.Redirect(w, r, "/complaints/cases", "complaint.case.flash.unmarked")
}

func (a analysisAPI) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	if a.s.web == nil {
		httpx.Error(w, r, err)
		return
	}
	a.s.web.PageError(w, r, err)
}
