package activity

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
)

type api struct{ s *Service }

// View is the JSON form of an activity.
type View struct {
	ID           int64      `json:"id"`
	Title        string     `json:"title"`
	Type         Type       `json:"type"`
	TypeLabel    string     `json:"type_label"`
	StartOn      string     `json:"start_on"`
	EndOn        string     `json:"end_on"`
	OrganiserID  int64      `json:"organiser_id"`
	DeptID       int64      `json:"dept_id"`
	TeamID       int64      `json:"team_id"`
	Description  string     `json:"description"`
	Status       Status     `json:"status"`
	StatusLabel  string     `json:"status_label"`
	Participants int        `json:"participants"`
	EndedAt      *time.Time `json:"ended_at"`
	CancelledAt  *time.Time `json:"cancelled_at"`
	CreatedBy    int64      `json:"created_by"`
	Version      int64      `json:"version"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func i18nStatus(st Status) i18n.Msg { return i18n.M("activity.status." + string(st)) }
func i18nType(t Type) i18n.Msg      { return i18n.M("activity.type." + string(t)) }

// ViewOf is the JSON form of a in the request's language.
func ViewOf(ctx context.Context, a *Activity) View {
	cat, lang := httpx.CatalogFrom(ctx), i18n.Lang(ctx)
	return View{ID: a.ID, Title: a.Title, Type: a.Type, TypeLabel: cat.Msg(lang, i18nType(a.Type)), StartOn: a.StartOn,
		EndOn: a.EndOn, OrganiserID: a.OrganiserID, DeptID: a.DeptID, TeamID: a.TeamID, Description: a.Description,
		Status: a.Status, StatusLabel: cat.Msg(lang, i18nStatus(a.Status)), Participants: a.Participants,
		EndedAt: optTime(a.EndedAt), CancelledAt: optTime(a.CancelledAt), CreatedBy: a.CreatedBy, Version: a.Version,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
}

func activityURL(id int64) string { return "/api/v1/activities/" + strconv.FormatInt(id, 10) }

// FilterFrom reads an activity filter from the query string.
func FilterFrom(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Status: Status(q.Get("status")), Type: Type(q.Get("type"))}
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"dept_id", &f.DeptID}, {"organiser_id", &f.OrganiserID}, {"customer_id", &f.CustomerID}} {
		if *p.dst, err = httpx.QueryInt64(r, p.name); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (a api) list(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	var f Filter
	if err == nil {
		f, err = FilterFrom(r)
	}
	var p Page[Activity]
	if err == nil {
		p, err = a.s.List(r.Context(), f, limit, cur)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	items := make([]View, len(p.Items))
	for i := range p.Items {
		items[i] = ViewOf(r.Context(), &p.Items[i])
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[View]{Items: items, NextCursor: p.NextCursor})
}

func (a api) create(w http.ResponseWriter, r *http.Request) {
	var in Input
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	act, err := a.s.Create(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, act.Version)
	httpx.Created(w, activityURL(act.ID), ViewOf(r.Context(), &act))
}

func (a api) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var act Activity
	if err == nil {
		act, err = a.s.Get(r.Context(), id)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, act.Version)
	httpx.JSON(w, http.StatusOK, ViewOf(r.Context(), &act))
}

func (a api) update(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *Patch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p Patch) (any, int64, error) {
			act, err := a.s.Update(ctx, id, p)
			return ViewOf(ctx, &act), act.Version, err
		})(w, r)
}

// action runs a bodiless POST action on /api/v1/activities/{id}/... .
func (a api) action(fn func(ctx context.Context, id int64) (Activity, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathID(r, "id")
		var act Activity
		if err == nil {
			act, err = fn(r.Context(), id)
		}
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		httpx.SetETag(w, act.Version)
		httpx.JSON(w, http.StatusOK, ViewOf(r.Context(), &act))
	}
}

func (a api) participants(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var limit int
	var cur string
	if err == nil {
		limit, cur, err = httpx.ListParams(r)
	}
	var p Page[ParticipantView]
	if err == nil {
		p, err = a.s.Participants(r.Context(), id, limit, cur)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if p.Items == nil {
		p.Items = []ParticipantView{}
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[ParticipantView]{Items: p.Items, NextCursor: p.NextCursor})
}

func (a api) addParticipant(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var in AddInput
	if err == nil {
		err = httpx.Decode(r, &in)
	}
	var v ParticipantView
	if err == nil {
		v, err = a.s.AddParticipant(r.Context(), id, in.CustomerID)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, activityURL(id)+"/participants/"+strconv.FormatInt(in.CustomerID, 10), v)
}

func (a api) removeParticipant(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var cid int64
	if err == nil {
		cid, err = httpx.PathID(r, "customer_id")
	}
	if err == nil {
		err = a.s.RemoveParticipant(r.Context(), id, cid)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.NoContent(w)
}

// ImportError is one problem in an import answer.
type ImportError struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

// ImportErrorBody is the standard error member of a failed import answer.
type ImportErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportResponse is the answer of POST /api/v1/activities/{id}/participants/import;
// when rows failed it comes with status 422 and carries the standard error member.
type ImportResponse struct {
	ImportResult
	Errors []ImportError    `json:"errors"`
	Error  *ImportErrorBody `json:"error,omitempty"`
}

func boolParam(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false, true
	case "1", "true", "yes", "on":
		return true, true
	}
	return false, false
}

// runImport imports the request's file into activity id.
func (s *Service) runImport(r *http.Request, id int64, dry bool) (ImportResult, error) {
	f, size, name, done, err := uploadedFile(r)
	if err != nil {
		return ImportResult{}, err
	}
	defer done()
	format, err := tabular.FormatOf(name)
	if err != nil {
		return ImportResult{}, err
	}
	return s.ImportParticipants(r.Context(), id, f, size, format, dry)
}

// importAnswer is the JSON answer of an import result and its status.
func importAnswer(ctx context.Context, res ImportResult) (int, ImportResponse) {
	cat, lang := httpx.CatalogFrom(ctx), i18n.Lang(ctx)
	out := ImportResponse{ImportResult: res, Errors: make([]ImportError, len(res.Errors))}
	for i, e := range res.Errors {
		out.Errors[i] = ImportError{Row: e.Row, Column: e.Column, Message: cat.Msg(lang, e.Msg)}
	}
	if res.OK() {
		return http.StatusOK, out
	}
	out.Error = &ImportErrorBody{Code: "import_rows_invalid",
		Message: cat.T(lang, "activity.import.failed", map[string]any{"failed": res.Failed, "rows": res.Rows})}
	return http.StatusUnprocessableEntity, out
}

func (a api) importParticipants(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	dry, ok := boolParam(r.URL.Query().Get("dry_run"))
	if err == nil && !ok {
		err = apperr.New(apperr.Malformed, "error.malformed.param", "param", "dry_run").OnField("dry_run")
	}
	var res ImportResult
	if err == nil {
		res, err = a.s.runImport(r, id, dry)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	status, out := importAnswer(r.Context(), res)
	httpx.JSON(w, status, out)
}
