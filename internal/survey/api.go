package survey

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

type api struct{ s *Service }

// InviteView is the JSON form of an invitation.
type InviteView struct {
	ID            int64      `json:"id"`
	TemplateID    int64      `json:"template_id"`
	CustomerID    int64      `json:"customer_id"`
	TicketID      int64      `json:"ticket_id"`
	RevisitTaskID int64      `json:"revisit_task_id"`
	Source        Source     `json:"source"`
	Channel       Channel    `json:"channel"`
	Status        Status     `json:"status"`
	StatusLabel   string     `json:"status_label"`
	TicketType    string     `json:"ticket_type"`
	AgentID       int64      `json:"agent_id"`
	DeptID        int64      `json:"dept_id"`
	TeamID        int64      `json:"team_id"`
	DueAt         *time.Time `json:"due_at"`
	SendBy        *time.Time `json:"send_by"`
	SentAt        *time.Time `json:"sent_at"`
	ExpiresAt     *time.Time `json:"expires_at"`
	AnsweredAt    *time.Time `json:"answered_at"`
	FailReason    string     `json:"fail_reason"`
	CreatedBy     int64      `json:"created_by"`
	Version       int64      `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// ResponseView is the JSON form of an answer sheet.
type ResponseView struct {
	ID         int64     `json:"id"`
	Answers    []Answer  `json:"answers"`
	CSAT       *int      `json:"csat"`
	NPS        *int      `json:"nps"`
	CES        *int      `json:"ces"`
	Channel    Channel   `json:"channel"`
	KeyedBy    int64     `json:"keyed_by"`
	AnsweredAt time.Time `json:"answered_at"`
}

// DetailView is an invitation with its answers (null before they come).
type DetailView struct {
	InviteView
	Response *ResponseView `json:"response"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// ViewOf is the JSON form of inv in the request's language.
func ViewOf(ctx context.Context, inv *Invite) InviteView {
	label := "survey.status." + string(inv.Status)
	if cat := httpx.CatalogFrom(ctx); cat != nil {
		label = cat.T(i18n.Lang(ctx), label, nil)
	}
	return InviteView{ID: inv.ID, TemplateID: inv.TemplateID, CustomerID: inv.CustomerID, TicketID: inv.TicketID,
		RevisitTaskID: inv.RevisitTaskID, Source: inv.Source, Channel: inv.Channel, Status: inv.Status,
		StatusLabel: label, TicketType: inv.TicketType, AgentID: inv.AgentID, DeptID: inv.DeptID, TeamID: inv.TeamID,
		DueAt: optTime(inv.DueAt), SendBy: optTime(inv.SendBy), SentAt: optTime(inv.SentAt),
		ExpiresAt: optTime(inv.ExpiresAt), AnsweredAt: optTime(inv.AnsweredAt), FailReason: inv.FailReason,
		CreatedBy: inv.CreatedBy, Version: inv.Version, CreatedAt: inv.CreatedAt.UTC(), UpdatedAt: inv.UpdatedAt.UTC()}
}

func detailOf(ctx context.Context, inv *Invite, r *Response) DetailView {
	d := DetailView{InviteView: ViewOf(ctx, inv)}
	if r != nil {
		d.Response = &ResponseView{ID: r.ID, Answers: r.Answers, CSAT: r.CSAT, NPS: r.NPS, CES: r.CES, Channel: r.Channel,
			KeyedBy: r.KeyedBy, AnsweredAt: r.AnsweredAt.UTC()}
	}
	return d
}

// ---- templates ----

func (a api) listTemplates(w http.ResponseWriter, r *http.Request) {
	ts, err := a.s.Templates(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[Template]{Items: ts})
}

func (a api) getTemplate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var t Template
		if t, err = a.s.GetTemplate(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, t)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) createTemplate(w http.ResponseWriter, r *http.Request) {
	var in TemplateInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, err := a.s.CreateTemplate(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, "/api/v1/survey-templates/"+strconv.FormatInt(t.ID, 10), t)
}

func (a api) patchTemplate(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *TemplatePatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p TemplatePatch) (any, int64, error) {
			t, err := a.s.PatchTemplate(ctx, id, p)
			return t, t.Version, err
		})(w, r)
}

// ---- settings ----

func (a api) getSettings(w http.ResponseWriter, r *http.Request) {
	st, err := a.s.GetSettings(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, st)
}

func (a api) putSettings(w http.ResponseWriter, r *http.Request) {
	var in SettingsInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	v, err := httpx.SettingsVersion(r, in.Version)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	in.Version = &v
	st, err := a.s.UpdateSettings(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, st.Version)
	httpx.JSON(w, http.StatusOK, st)
}

// ---- invitations ----

func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, chinaTime); err == nil {
		return t, nil
	}
	return time.Time{}, apperr.New(apperr.Malformed, "error.malformed.param", "param", name).OnField(name)
}

func (a api) list(w http.ResponseWriter, r *http.Request) {
	limit, cursor, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	f := InviteFilter{Status: Status(q.Get("status")), Channel: Channel(q.Get("channel")), Source: Source(q.Get("source"))}
	for name, dst := range map[string]*int64{"customer_id": &f.CustomerID, "ticket_id": &f.TicketID,
		"agent_id": &f.AgentID, "template_id": &f.TemplateID} {
		if *dst, err = httpx.QueryInt64(r, name); err != nil {
			httpx.Error(w, r, err)
			return
		}
	}
	if f.From, err = timeParam(r, "from"); err == nil {
		f.To, err = timeParam(r, "to")
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	items, next, err := a.s.List(r.Context(), f, limit, cursor)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[InviteView]{Items: make([]InviteView, len(items)), NextCursor: next}
	for i := range items {
		out.Items[i] = ViewOf(r.Context(), &items[i])
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var inv Invite
		var resp *Response
		if inv, resp, err = a.s.Get(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, detailOf(r.Context(), &inv, resp))
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) create(w http.ResponseWriter, r *http.Request) {
	var in CreateInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	inv, err := a.s.Create(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, "/api/v1/surveys/"+strconv.FormatInt(inv.ID, 10), detailOf(r.Context(), &inv, nil))
}

func (a api) keyIn(ctx context.Context, id int64, in KeyInInput) (DetailView, error) {
	inv, resp, err := a.s.KeyIn(ctx, id, in)
	if err != nil {
		return DetailView{}, err
	}
	return detailOf(ctx, &inv, resp), nil
}

// ---- results ----

func (a api) results(w http.ResponseWriter, r *http.Request) {
	q := ResultQuery{Group: Group(r.URL.Query().Get("group"))}
	var err error
	if q.From, err = timeParam(r, "from"); err == nil {
		q.To, err = timeParam(r, "to")
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	res, err := a.s.Results(r.Context(), q)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, res)
}
