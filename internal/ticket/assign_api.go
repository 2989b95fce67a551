package ticket

import (
	"net/http"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// assignAPI holds the JSON handlers of assignment, presence and team rules.
type assignAPI struct{ s *Service }

// assignRoutes is every assignment route with the permission it needs.
func (s *Service) assignRoutes() []httpx.Route {
	a := assignAPI{s: s}
	const get, post, put = "GET", "POST", "PUT"
	return []httpx.Route{
		{Method: post, Path: "/api/v1/tickets/{id}/assign", Perm: PermAssign, Handler: a.assign},
		{Method: post, Path: "/api/v1/tickets/{id}/transfer", Perm: PermAssign, Handler: a.transfer},
		{Method: post, Path: "/api/v1/tickets/{id}/dispatch", Perm: PermAssign, Handler: a.dispatch},
		{Method: post, Path: "/api/v1/tickets/{id}/take", Perm: PermWrite, Handler: a.take},
		{Method: get, Path: "/api/v1/agents", Perm: PermRead, Handler: a.agents},
		{Method: put, Path: "/api/v1/agents/me/presence", Perm: PermWrite, Handler: a.myPresence},
		{Method: put, Path: "/api/v1/agents/{id}/presence", Perm: PermAssign, Handler: a.presence},
		{Method: get, Path: "/api/v1/teams/{id}/assignment", Perm: PermManage, Handler: a.getRule},
		{Method: put, Path: "/api/v1/teams/{id}/assignment", Perm: PermManage, Handler: a.putRule},
	}
}

// ticketAction decodes the body of POST /api/v1/tickets/{id}/<verb> into in (when not
// nil), runs do and writes the request.
func ticketAction[T any](a assignAPI, w http.ResponseWriter, r *http.Request, in *T, do func(id int64) (Ticket, error)) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if in != nil {
		if err := httpx.Decode(r, in); err != nil {
			httpx.Error(w, r, err)
			return
		}
	}
	t, err := do(id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, a.s.view(r.Context(), t))
}

func (a assignAPI) assign(w http.ResponseWriter, r *http.Request) {
	var in AssignInput
	ticketAction(a, w, r, &in, func(id int64) (Ticket, error) { return a.s.Assign(r.Context(), id, in) })
}

func (a assignAPI) transfer(w http.ResponseWriter, r *http.Request) {
	var in TransferInput
	ticketAction(a, w, r, &in, func(id int64) (Ticket, error) { return a.s.Transfer(r.Context(), id, in) })
}

func (a assignAPI) dispatch(w http.ResponseWriter, r *http.Request) {
	var in DispatchInput
	body := &in
	if r.ContentLength == 0 { // no body: pick a technician
		body = nil
	}
	ticketAction(a, w, r, body, func(id int64) (Ticket, error) { return a.s.Dispatch(r.Context(), id, in) })
}

func (a assignAPI) take(w http.ResponseWriter, r *http.Request) {
	ticketAction[struct{}](a, w, r, nil, func(id int64) (Ticket, error) { return a.s.Take(r.Context(), id) })
}

func (a assignAPI) agents(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f := AgentFilter{Availability: Availability(r.URL.Query().Get("availability")), Limit: limit, Cursor: cur}
	if f.DeptID, err = httpx.QueryInt64(r, "dept_id"); err == nil {
		f.TeamID, err = httpx.QueryInt64(r, "team_id")
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListAgents(r.Context(), f)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, p)
}

// myPresenceRequest is PUT /api/v1/agents/me/presence (an agent sets only availability).
type myPresenceRequest struct {
	Availability Availability `json:"availability"`
}

func (a assignAPI) myPresence(w http.ResponseWriter, r *http.Request) {
	var in myPresenceRequest
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	ag, err := a.s.SetMyPresence(r.Context(), in.Availability)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, ag)
}

func (a assignAPI) presence(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in PresenceInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	ag, err := a.s.SetPresence(r.Context(), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, ag)
}

func (a assignAPI) getRule(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	rule, err := a.s.TeamRule(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, rule)
}

func (a assignAPI) putRule(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in TeamRuleInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	rule, err := a.s.SetTeamRule(r.Context(), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, rule)
}
