package activity

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// The activity pages: the list, the form of a new activity, and the activity with its
// participants (add by customer number, remove, import a spreadsheet) and the end and
// cancel buttons. Every page works without JavaScript (forms post and redirect).

func (s *Service) pageRoutes() []httpx.Route {
	p := pages{s: s}
	const get, post = "GET", "POST"
	return []httpx.Route{
		{Method: get, Path: "/activities", Perm: PermRead, Page: true, Handler: p.list},
		{Method: get, Path: "/activities/new", Perm: PermWrite, Page: true, Handler: p.newForm},
		{Method: post, Path: "/activities", Perm: PermWrite, Page: true, Handler: p.create},
		{Method: get, Path: "/activities/{id}", Perm: PermRead, Page: true, Handler: p.view},
		{Method: post, Path: "/activities/{id}/participants", Perm: PermWrite, Page: true, Handler: p.addParticipant},
		{Method: post, Path: "/activities/{id}/participants/{customer_id}/remove", Perm: PermWrite, Page: true, Handler: p.removeParticipant},
		{Method: post, Path: "/activities/{id}/participants/import", Perm: PermWrite, Page: true, Handler: p.importParticipants,
			MaxBody: MaxImportBytes + 1<<20},
		{Method: post, Path: "/activities/{id}/end", Perm: PermWrite, Page: true, Handler: p.end},
		{Method: post, Path: "/activities/{id}/cancel", Perm: PermWrite, Page: true, Handler: p.cancel},
	}
}

type pages struct{ s *Service }

// ListRow is one activity in the list page.
type ListRow struct {
	ID           int64
	Title        string
	TypeLabel    string
	StartOn      string
	EndOn        string
	Status       Status
	StatusLabel  string
	Participants int
	Organiser    string
}

// ListPage is the model of /activities.
type ListPage struct {
	Rows     []ListRow
	Statuses []web.Choice
	Types    []web.Choice
	CanWrite bool
	NextURL  string
	Error    string
}

// NewPage is the model of /activities/new.
type NewPage struct {
	V       map[string]string
	Types   []web.Choice
	Errors  web.FormErrors
	Message string
}

// DetailPage is the model of /activities/{id}.
type DetailPage struct {
	A            View
	Organiser    string
	Dept         string
	EndedAt      time.Time
	Participants []ParticipantView
	NextURL      string
	CanWrite     bool
	Open         bool
	Message      string
	Import       *ImportResponse
}

func (p pages) fail(w http.ResponseWriter, r *http.Request, err error) { p.s.web.PageError(w, r, err) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (p pages) staffName(r *http.Request, id int64) string {
	if id == 0 || p.s.d.Staff == nil {
		return ""
	}
	if st, err := p.s.d.Staff.GetStaff(sysCtx(r.Context()), id); err == nil {
		return st.DisplayName
	}
	return "#" + itoa(id)
}

func (p pages) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{Status: Status(q.Get("status")), Type: Type(q.Get("type"))}
	pg := ListPage{CanWrite: authz.From(r.Context()).Can(PermWrite),
		Statuses: web.Choices(r, "activity.status.", Statuses, string(f.Status), "activity.page.any_status"),
		Types:    web.Choices(r, "activity.type.", Types, string(f.Type), "activity.page.any_type")}
	res, err := p.s.List(r.Context(), f, 50, q.Get("cursor"))
	if err != nil {
		if _, msg, ok := p.s.web.FieldErrors(r.Context(), err); ok {
			pg.Error = msg
			web.Render(p.s.web, w, r, http.StatusBadRequest, "activity/list", "activity.page.list", pg)
			return
		}
		p.fail(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, a := range res.Items {
		v := ViewOf(r.Context(), &a)
		if _, ok := names[a.OrganiserID]; !ok {
			names[a.OrganiserID] = p.staffName(r, a.OrganiserID)
		}
		pg.Rows = append(pg.Rows, ListRow{ID: a.ID, Title: a.Title, TypeLabel: v.TypeLabel, StartOn: a.StartOn, EndOn: a.EndOn,
			Status: a.Status, StatusLabel: v.StatusLabel, Participants: a.Participants, Organiser: names[a.OrganiserID]})
	}
	if res.NextCursor != "" {
		nq := url.Values{"cursor": {res.NextCursor}}
		if f.Status != "" {
			nq.Set("status", string(f.Status))
		}
		if f.Type != "" {
			nq.Set("type", string(f.Type))
		}
		pg.NextURL = "/activities?" + nq.Encode()
	}
	web.Render(p.s.web, w, r, http.StatusOK, "activity/list", "activity.page.list", pg)
}

var newFields = []string{"title", "type", "start_on", "end_on", "organiser_id", "dept_id", "description"}

func (p pages) newForm(w http.ResponseWriter, r *http.Request) {
	pg := NewPage{V: map[string]string{}, Types: web.Choices(r, "activity.type.", Types, "", "")}
	web.Render(p.s.web, w, r, http.StatusOK, "activity/new", "activity.page.new", pg)
}

func (p pages) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed"))
		return
	}
	f := r.PostFormValue
	in := Input{Title: f("title"), Type: Type(f("type")), StartOn: f("start_on"), EndOn: f("end_on"),
		OrganiserID: web.FormInt(f("organiser_id")), DeptID: web.FormInt(f("dept_id")), Description: f("description")}
	a, err := p.s.Create(r.Context(), in)
	if err == nil {
		web.Redirect(w, r, "/activities/"+itoa(a.ID), "activity.flash.created")
		return
	}
	errs, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg := NewPage{V: map[string]string{}, Errors: errs, Message: msg,
		Types: web.Choices(r, "activity.type.", Types, f("type"), "")}
	for _, k := range newFields {
		pg.V[k] = f(k)
	}
	web.Render(p.s.web, w, r, http.StatusUnprocessableEntity, "activity/new", "activity.page.new", pg)
}

// detail builds the activity page model.
func (p pages) detail(r *http.Request, id int64) (DetailPage, error) {
	a, err := p.s.Get(r.Context(), id)
	if err != nil {
		return DetailPage{}, err
	}
	pg := DetailPage{A: ViewOf(r.Context(), &a), Organiser: p.staffName(r, a.OrganiserID), Open: a.Status.Open(), EndedAt: a.EndedAt,
		CanWrite: reaches(authz.From(r.Context()), PermWrite, &a)}
	if a.DeptID != 0 && p.s.d.Staff != nil {
		pg.Dept, _ = p.s.d.Staff.DepartmentName(sysCtx(r.Context()), a.DeptID)
	}
	ps, err := p.s.Participants(r.Context(), id, 100, r.URL.Query().Get("pcursor"))
	if err != nil {
		return DetailPage{}, err
	}
	pg.Participants = ps.Items
	if ps.NextCursor != "" {
		pg.NextURL = "/activities/" + itoa(id) + "?" + url.Values{"pcursor": {ps.NextCursor}}.Encode()
	}
	return pg, nil
}

func (p pages) view(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var pg DetailPage
	if err == nil {
		pg, err = p.detail(r, id)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "activity/detail", "activity.page.detail", pg)
}

// after answers a form post on activity id: back to its page with flash, or the page
// again with the problem when it is one the user can fix.
func (p pages) after(w http.ResponseWriter, r *http.Request, id int64, err error, flash string) {
	if err == nil {
		web.Redirect(w, r, "/activities/"+itoa(id), flash)
		return
	}
	_, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg, derr := p.detail(r, id)
	if derr != nil {
		p.fail(w, r, derr)
		return
	}
	pg.Message = msg
	web.Render(p.s.web, w, r, http.StatusUnprocessableEntity, "activity/detail", "activity.page.detail", pg)
}

func (p pages) addParticipant(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cid := web.FormInt(strings.TrimSpace(r.PostFormValue("customer_id")))
	_, err = p.s.AddParticipant(r.Context(), id, cid)
	p.after(w, r, id, err, "activity.flash.added")
}

func (p pages) removeParticipant(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var cid int64
	if err == nil {
		cid, err = httpx.PathID(r, "customer_id")
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.after(w, r, id, p.s.RemoveParticipant(r.Context(), id, cid), "activity.flash.removed")
}

func (p pages) importParticipants(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	dry := r.PostFormValue("dry_run") != ""
	var res ImportResult
	f, size, name, done, err := uploadedFile(r)
	if err == nil {
		var format tabular.Format
		if format, err = tabular.FormatOf(name); err == nil {
			res, err = p.s.ImportParticipants(r.Context(), id, f, size, format, dry)
		}
		done()
	}
	if err != nil {
		p.after(w, r, id, err, "")
		return
	}
	if res.OK() && !dry {
		web.Redirect(w, r, "/activities/"+itoa(id), "activity.flash.imported")
		return
	}
	status, out := importAnswer(r.Context(), res)
	pg, derr := p.detail(r, id)
	if derr != nil {
		p.fail(w, r, derr)
		return
	}
	pg.Import = &out
	web.Render(p.s.web, w, r, status, "activity/detail", "activity.page.detail", pg)
}

func (p pages) end(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		_, err = p.s.End(r.Context(), id)
	}
	p.afterAction(w, r, id, err, "activity.flash.ended")
}

func (p pages) cancel(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		_, err = p.s.Cancel(r.Context(), id)
	}
	p.afterAction(w, r, id, err, "activity.flash.cancelled")
}

// afterAction is after for the end and cancel buttons: a conflict (already ended) shows
// the page with the message.
func (p pages) afterAction(w http.ResponseWriter, r *http.Request, id int64, err error, flash string) {
	if id == 0 || err != nil && apperr.KindOf(err) != apperr.Conflict {
		if err == nil {
			err = apperr.NotFoundf("thing.activity")
		}
		p.fail(w, r, err)
		return
	}
	p.after(w, r, id, err, flash)
}
