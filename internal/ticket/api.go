package ticket

import (
	"context"
	"github.com/kefu-cn/kefu/internal/customer"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// api holds the JSON handlers: thin wrappers that decode, call the service and write
// views.
type api struct{ s *Service }

func ticketURL(id int64) string { return "/api/v1/tickets/" + strconv.FormatInt(id, 10) }

// CustomerSummary is the masked summary of a request's customer.
type CustomerSummary struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Mobile      string `json:"mobile"` // masked: 138****1234
	Tier        string `json:"tier"`
	CreditGrade string `json:"credit_grade"`
}

// SLAView is the SLA part of a request view.
type SLAView struct {
	PolicyID         int64      `json:"policy_id"`
	CalendarID       string     `json:"calendar_id"`
	ResponseDueAt    *time.Time `json:"response_due_at"`
	RespondedAt      *time.Time `json:"responded_at"`
	ResolveDueAt     *time.Time `json:"resolve_due_at"`
	ResolvedAt       *time.Time `json:"resolved_at"`
	ConfirmDueAt     *time.Time `json:"confirm_due_at"`
	ConfirmedAt      *time.Time `json:"confirmed_at"`
	ClosedAt         *time.Time `json:"closed_at"`
	Paused           bool       `json:"paused"`
	ResponseBreached bool       `json:"response_breached"`
	ResolveBreached  bool       `json:"resolve_breached"`
}

// View is the response form of a request.
type View struct {
	ID              int64            `json:"id"`
	Number          string           `json:"number"`
	Type            Type             `json:"type"`
	SubKind         string           `json:"sub_kind"`
	CategoryID      int64            `json:"category_id"`
	Channel         Channel          `json:"channel"`
	Severity        Severity         `json:"severity"`
	Priority        Priority         `json:"priority"`
	PriorityReasons []string         `json:"priority_reasons"`
	FaultLevel      int              `json:"fault_level"`
	Status          Status           `json:"status"`
	NextStatuses    []Status         `json:"next_statuses"`
	Title           string           `json:"title"`
	Body            string           `json:"body" text:"multiline"`
	CustomerID      int64            `json:"customer_id"`
	Customer        *CustomerSummary `json:"customer"`
	ContactName     string           `json:"contact_name"`
	DeptID          int64            `json:"dept_id"`
	TeamID          int64            `json:"team_id"`
	AssigneeID      int64            `json:"assignee_id"`
	CreatedBy       int64            `json:"created_by"`
	SLA             SLAView          `json:"sla"`
	ReopenCount     int              `json:"reopen_count"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
	Version         int64            `json:"version"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// breached reports whether a target due at due was missed: done after it, or not done
// and now past it.
func breached(stamp, due, done, now time.Time) bool {
	switch {
	case !stamp.IsZero():
		return true
	case due.IsZero():
		return false
	case !done.IsZero():
		return done.After(due)
	}
	return now.After(due)
}

// View maps t to its response form; priority reasons are translated into the
// request's language (ctx) and now decides running breaches.
func (t *Ticket) View(ctx context.Context, now time.Time) View {
	cat, lang := httpx.CatalogFrom(ctx), i18n.Lang(ctx)
	v := View{ID: t.ID, Number: t.Number, Type: t.Type, SubKind: t.SubKind, CategoryID: t.CategoryID, Channel: t.Channel,
		Severity: t.Severity, Priority: t.Priority, PriorityReasons: make([]string, len(t.PriorityReasons)),
		FaultLevel: t.FaultLevel, Status: t.Status, NextStatuses: Next(t.Status), Title: t.Title, Body: t.Body,
		CustomerID: t.CustomerID, ContactName: t.ContactName, DeptID: t.DeptID, TeamID: t.TeamID,
		AssigneeID: t.AssigneeID, CreatedBy: t.CreatedBy, ReopenCount: t.ReopenCount, CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt, Version: t.Version}
	if v.NextStatuses == nil {
		v.NextStatuses = []Status{}
	}
	for i, m := range t.PriorityReasons {
		if cat != nil {
			v.PriorityReasons[i] = cat.Msg(lang, m)
		} else {
			v.PriorityReasons[i] = m.Key
		}
	}
	paused := !t.SLAPausedAt.IsZero() || t.Status.SLAPaused()
	resolveDone := t.ResolvedAt
	if !t.Status.Open() && resolveDone.IsZero() {
		resolveDone = t.ClosedAt
	}
	runNow := now
	if paused && !t.SLAPausedAt.IsZero() {
		runNow = t.SLAPausedAt
	}
	v.SLA = SLAView{PolicyID: t.SLAPolicyID, CalendarID: t.CalendarID, ResponseDueAt: timePtr(t.ResponseDueAt),
		RespondedAt: timePtr(t.RespondedAt), ResolveDueAt: timePtr(t.ResolveDueAt), ResolvedAt: timePtr(t.ResolvedAt),
		ConfirmDueAt: timePtr(t.ConfirmDueAt), ConfirmedAt: timePtr(t.ConfirmedAt), ClosedAt: timePtr(t.ClosedAt),
		Paused:           paused,
		ResponseBreached: breached(t.ResponseBreachedAt, t.ResponseDueAt, t.RespondedAt, runNow),
		ResolveBreached:  t.Status != StatusCancelled && breached(t.ResolveBreachedAt, t.ResolveDueAt, resolveDone, runNow)}
	return v
}

// EventView is the response form of a timeline entry.
type EventView struct {
	ID        int64          `json:"id"`
	TicketID  int64          `json:"ticket_id"`
	Kind      EventKind      `json:"kind"`
	Public    bool           `json:"public"`
	ActorKind string         `json:"actor_kind"`
	ActorID   int64          `json:"actor_id"`
	ActorName string         `json:"actor_name"`
	Body      string         `json:"body" text:"multiline"`
	Data      map[string]any `json:"data"`
	CreatedAt time.Time      `json:"created_at"`
}

// View maps e to its response form.
func (e Event) View() EventView {
	v := EventView{ID: e.ID, TicketID: e.TicketID, Kind: e.Kind, Public: e.Public, ActorKind: string(e.ActorKind),
		ActorID: e.ActorID, ActorName: e.ActorName, Body: e.Body, Data: e.Data, CreatedAt: e.CreatedAt}
	if v.Data == nil {
		v.Data = map[string]any{}
	}
	return v
}

// views maps requests to views with their customers' masked summaries (one query for
// all the customers of the page).
func (s *Service) views(ctx context.Context, ts []Ticket) []View {
	now := s.now()
	out := make([]View, len(ts))
	var ids []int64
	seen := map[int64]bool{}
	for i := range ts {
		out[i] = ts[i].View(ctx, now)
		if ref := ts[i].customer; ref != nil && ref.ID == ts[i].CustomerID {
			out[i].Customer = summary(*ref)
			continue
		}
		if id := ts[i].CustomerID; id != 0 && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || s.customers == nil {
		return out
	}
	refs, err := s.customers.Refs(ctx, ids)
	if err != nil {
		s.log.Warn("ticket: customer summaries", "err", err.Error())
		return out
	}
	for i := range ts {
		if ref, ok := refs[ts[i].CustomerID]; ok && out[i].Customer == nil {
			out[i].Customer = summary(ref)
		}
	}
	return out
}

// summary is the masked customer summary shown with a request.
func summary(ref customer.Ref) *CustomerSummary {
	return &CustomerSummary{ID: ref.ID, Name: ref.Name, Mobile: ref.MaskedMobile, Tier: ref.Tier,
		CreditGrade: ref.CreditGrade}
}

func (s *Service) view(ctx context.Context, t Ticket) View { return s.views(ctx, []Ticket{t})[0] }

// filterFrom reads the list filters from the query string.
func filterFrom(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Status: Status(q.Get("status")), Type: Type(q.Get("type")), Channel: Channel(q.Get("channel")),
		Severity: Severity(q.Get("severity")), Priority: Priority(q.Get("priority")), Q: q.Get("q"), Queue: q.Get("queue")}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"dept_id", &f.DeptID}, {"team_id", &f.TeamID}, {"assignee_id", &f.AssigneeID}, {"customer_id", &f.CustomerID}} {
		v, err := httpx.QueryInt64(r, p.name)
		if err != nil {
			return f, err
		}
		*p.dst = v
	}
	for _, p := range []struct {
		name string
		set  func(bool)
	}{{"unassigned", func(b bool) { f.Unassigned = b }}, {"open", func(b bool) { f.Open = &b }}} {
		if s := q.Get(p.name); s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return f, apperr.New(apperr.Malformed, "error.malformed.param", "param", p.name).OnField(p.name)
			}
			p.set(b)
		}
	}
	return f, nil
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
	p, err := a.s.ListTickets(r.Context(), f, limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[View]{Items: a.s.views(r.Context(), p.Items), NextCursor: p.NextCursor})
}

func (a api) create(w http.ResponseWriter, r *http.Request) {
	var in Input
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, err := a.s.CreateTicket(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, ticketURL(t.ID), a.s.view(r.Context(), t))
}

func (a api) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var t Ticket
		if t, err = a.s.GetTicket(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, a.s.view(r.Context(), t))
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) patch(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *Patch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p Patch) (any, int64, error) {
			x, err := a.s.PatchTicket(ctx, id, p)
			return a.s.view(ctx, x), x.Version, err
		})(w, r)
}

func (a api) events(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := decodeCursor(cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	evs, err := a.s.Events(r.Context(), id, c.ID, limit)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[EventView]{Items: make([]EventView, len(evs))}
	for i, e := range evs {
		out.Items[i] = e.View()
	}
	if len(evs) == limit {
		out.NextCursor = httpx.EncodeCursor(cursor{ID: evs[len(evs)-1].ID})
	}
	httpx.JSON(w, http.StatusOK, out)
}

// transitionRequest is POST /api/v1/tickets/{id}/transition.
type transitionRequest struct {
	Status Status `json:"status"`
	Reason string `json:"reason"`
}

func (a api) transition(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var req transitionRequest
	if err := httpx.Decode(r, &req); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, err := a.s.Transition(r.Context(), id, req.Status, req.Reason)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, a.s.view(r.Context(), t))
}

// eventResult is the response to a reply or a note: the new entry and the request.
type eventResult struct {
	Event  EventView `json:"event"`
	Ticket View      `json:"ticket"`
}

func (a api) reply(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in ReplyInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, ev, err := a.s.Reply(r.Context(), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, ticketURL(id)+"/events", eventResult{Event: ev.View(), Ticket: a.s.view(r.Context(), t)})
}

// noteRequest is POST /api/v1/tickets/{id}/note.
type noteRequest struct {
	Body string `json:"body" text:"multiline"`
}

func (a api) note(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var req noteRequest
	if err := httpx.Decode(r, &req); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, ev, err := a.s.Note(r.Context(), id, req.Body)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, ticketURL(id)+"/events", eventResult{Event: ev.View(), Ticket: a.s.view(r.Context(), t)})
}

type linkRequest struct {
	ArticleID int64 `json:"article_id"`
}

// linkArticle: POST /api/v1/tickets/{id}/kb-links {"article_id"}.
func (a api) linkArticle(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var req linkRequest
	if err := httpx.Decode(r, &req); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, err := a.s.LinkArticle(r.Context(), id, req.ArticleID)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, ticketURL(id)+"/events", a.s.view(r.Context(), t))
}
