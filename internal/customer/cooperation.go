package customer

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Cooperation records (hezuo xieyi) on customer files: title, number, dates, status and
// a note. They are top secret (SPEC 2.8, juemi): a reader without cooperation:reveal sees
// the title and number masked and no note; every read is audited, a clear read as
// "cooperation.reveal". The customer must lie in the actor's scope of the permission
// used (out of reach reads as 404). The return-visit engine asks Cooperating for the
// customers with an active record on a day (rule coop_monthly).

// Permissions of cooperation records.
const (
	PermCoopRead   = "cooperation:read"
	PermCoopWrite  = "cooperation:write"
	PermCoopReveal = "cooperation:reveal"
)

// CoopStatus is a cooperation record's status. A record stored active whose end day has
// passed reads as ended; terminated is set by hand (ended early).
type CoopStatus string

// Cooperation statuses.
const (
	CoopActive     CoopStatus = "active"
	CoopEnded      CoopStatus = "ended"
	CoopTerminated CoopStatus = "terminated"
)

// CoopStatuses lists every status.
var CoopStatuses = []CoopStatus{CoopActive, CoopEnded, CoopTerminated}

// Limits of cooperation fields (characters) and of a customer's list.
const (
	maxCoopTitle  = 200
	maxCoopNumber = 64
	maxCoopNote   = 2000
	maxCoopList   = 500
)

// Cooperation is one cooperation agreement with a customer.
type Cooperation struct {
	ID         int64
	CustomerID int64
	Title      string
	Number     string
	StartOn    string // YYYY-MM-DD
	EndOn      string // YYYY-MM-DD, "" = open-ended
	Status     CoopStatus
	Note       string
	CreatedBy  int64
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// StatusOn is the record's status on day (YYYY-MM-DD): an active record whose end day is
// before day has ended.
func (c Cooperation) StatusOn(day string) CoopStatus {
	if c.Status == CoopActive && c.EndOn != "" && c.EndOn < day {
		return CoopEnded
	}
	return c.Status
}

// CooperationInput records a cooperation (POST /api/v1/customers/{id}/cooperations).
type CooperationInput struct {
	Title   string     `json:"title"`
	Number  string     `json:"number"`
	StartOn string     `json:"start_on"`
	EndOn   string     `json:"end_on"`
	Status  CoopStatus `json:"status"`
	Note    string     `json:"note" text:"multiline"`
}

// CooperationPatch changes a record; members left out stay.
type CooperationPatch struct {
	Title   *string     `json:"title"`
	Number  *string     `json:"number"`
	StartOn *string     `json:"start_on"`
	EndOn   *string     `json:"end_on"`
	Status  *CoopStatus `json:"status"`
	Note    *string     `json:"note" text:"multiline"`
	Version *int64      `json:"version"`
}

// CooperationView is the JSON form of a record. Masked: title and number are masked
// and the note is left out (the reader holds no cooperation:reveal).
type CooperationView struct {
	ID         int64      `json:"id"`
	CustomerID int64      `json:"customer_id"`
	Title      string     `json:"title"`
	Number     string     `json:"number"`
	StartOn    string     `json:"start_on"`
	EndOn      string     `json:"end_on"`
	Status     CoopStatus `json:"status"`
	Note       string     `json:"note"`
	Masked     bool       `json:"masked"`
	Version    int64      `json:"version"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// maskCoopTitle keeps the first character of a title.
func maskCoopTitle(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return ""
	}
	return string(r) + "****"
}

// maskCoopNumber keeps the last two characters of a number of five or more.
func maskCoopNumber(s string) string {
	rs := []rune(s)
	if len(rs) == 0 {
		return ""
	}
	if len(rs) < 5 {
		return "****"
	}
	return "****" + string(rs[len(rs)-2:])
}

// View is the JSON form of c on day today, masked or clear.
func (c Cooperation) View(today string, masked bool) CooperationView {
	v := CooperationView{ID: c.ID, CustomerID: c.CustomerID, Title: c.Title, Number: c.Number, StartOn: c.StartOn,
		EndOn: c.EndOn, Status: c.StatusOn(today), Note: c.Note, Masked: masked, Version: c.Version,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if masked {
		v.Title, v.Number, v.Note = maskCoopTitle(c.Title), maskCoopNumber(c.Number), ""
	}
	return v
}

// todayDay is today in China as YYYY-MM-DD.
func (s *Service) todayDay() string { return s.today().Format(time.DateOnly) }

// coopDay checks a YYYY-MM-DD day.
func coopDay(f apperr.Fields, field, v string, required bool) string {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			f.Add(field, "field.required")
		}
		return v
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		f.Add(field, "cooperation.invalid.day")
	}
	return v
}

// checkCoop validates c's fields.
func checkCoop(f apperr.Fields, c *Cooperation) {
	c.Title = text(f, "title", c.Title, maxCoopTitle, true, false)
	c.Number = text(f, "number", c.Number, maxCoopNumber, true, false)
	c.Note = text(f, "note", c.Note, maxCoopNote, false, true)
	c.StartOn = coopDay(f, "start_on", c.StartOn, true)
	c.EndOn = coopDay(f, "end_on", c.EndOn, false)
	if _, bad := f["start_on"]; !bad && c.EndOn != "" && c.EndOn < c.StartOn {
		f.Add("end_on", "cooperation.invalid.end_before_start")
	}
	switch {
	case c.Status == "":
		f.Add("status", "field.required")
	case !validCoopStatus(c.Status):
		f.Add("status", "field.invalid_choice")
	}
}

func validCoopStatus(st CoopStatus) bool {
	for _, x := range CoopStatuses {
		if x == st {
			return true
		}
	}
	return false
}

// clearFor reports whether the actor reads customer r's cooperation records in clear.
func clearFor(actor *authz.Actor, r custRow) bool {
	return actor != nil && (actor.Kind == authz.KindSystem ||
		actor.Reaches(PermCoopReveal, authz.Record{DeptID: r.DeptID, TeamID: r.TeamID, OwnerID: r.OwnerID}))
}

// Cooperations lists customer id's cooperation records, the latest start first, masked
// unless the actor holds cooperation:reveal reaching the customer and did not ask for
// the masked view. The read is audited ("cooperation.list", or "cooperation.reveal" when
// clear).
func (s *Service) Cooperations(ctx context.Context, id int64, wantMasked bool) ([]CooperationView, error) {
	r, err := s.loadScope(ctx, PermCoopRead, id)
	if err != nil {
		return nil, err
	}
	masked := wantMasked || !clearFor(authz.From(ctx), r)
	cs, err := s.store.Cooperations(ctx, id, maxCoopList)
	if err != nil {
		return nil, err
	}
	today := s.todayDay()
	out := make([]CooperationView, len(cs))
	ids := make([]int64, len(cs))
	for i, c := range cs {
		out[i], ids[i] = c.View(today, masked), c.ID
	}
	action := "cooperation.reveal"
	if masked {
		action = "cooperation.list"
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, action, id, map[string]any{"cooperation_ids": ids, "masked": masked})
	})
	return out, err
}

// AddCooperation records a cooperation on an active customer file (status active unless
// given). The answer is masked like a list for an actor without cooperation:reveal.
func (s *Service) AddCooperation(ctx context.Context, id int64, in CooperationInput) (CooperationView, error) {
	var out CooperationView
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.loadScope(ctx, PermCoopWrite, id)
		if err != nil {
			return err
		}
		if r.Status != StatusActive {
			return apperr.New(apperr.Conflict, "customer.not_active").WithCode("customer_not_active")
		}
		actor := authz.From(ctx)
		now := s.now()
		c := Cooperation{CustomerID: id, Title: in.Title, Number: in.Number, StartOn: in.StartOn, EndOn: in.EndOn,
			Status: in.Status, Note: in.Note, CreatedBy: staffID(actor), Version: 1, CreatedAt: now, UpdatedAt: now}
		if c.Status == "" {
			c.Status = CoopActive
		}
		f := apperr.Fields{}
		checkCoop(f, &c)
		if err := f.Err(); err != nil {
			return err
		}
		if err := s.store.InsertCooperation(ctx, &c); err != nil {
			return err
		}
		out = c.View(s.todayDay(), !clearFor(actor, r))
		return s.record(ctx, "cooperation.create", id, map[string]any{"cooperation_id": c.ID, "start_on": c.StartOn,
			"end_on": c.EndOn, "status": c.Status})
	})
	return out, err
}

// UpdateCooperation changes record cid of customer id (version: the one read).
func (s *Service) UpdateCooperation(ctx context.Context, id, cid int64, p CooperationPatch) (CooperationView, error) {
	var out CooperationView
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.loadScope(ctx, PermCoopWrite, id)
		if err != nil {
			return err
		}
		if r.Status != StatusActive {
			return apperr.New(apperr.Conflict, "customer.not_active").WithCode("customer_not_active")
		}
		c, err := s.store.Cooperation(ctx, id, cid)
		if err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFoundf("thing.cooperation")
			}
			return err
		}
		if p.Version != nil && *p.Version != c.Version {
			return apperr.StaleVersion(c.Version)
		}
		before := c
		for _, x := range []struct {
			src *string
			dst *string
		}{{p.Title, &c.Title}, {p.Number, &c.Number}, {p.StartOn, &c.StartOn}, {p.EndOn, &c.EndOn}, {p.Note, &c.Note}} {
			if x.src != nil {
				*x.dst = *x.src
			}
		}
		if p.Status != nil {
			c.Status = *p.Status
		}
		f := apperr.Fields{}
		checkCoop(f, &c)
		if err := f.Err(); err != nil {
			return err
		}
		prev := c.Version
		c.Version, c.UpdatedAt = c.Version+1, s.now()
		if ok, err := s.store.UpdateCooperation(ctx, &c, prev); err != nil {
			return err
		} else if !ok {
			return apperr.StaleVersion(c.Version)
		}
		var changed []string
		for _, x := range []struct {
			name string
			diff bool
		}{{"title", before.Title != c.Title}, {"number", before.Number != c.Number}, {"start_on", before.StartOn != c.StartOn},
			{"end_on", before.EndOn != c.EndOn}, {"status", before.Status != c.Status}, {"note", before.Note != c.Note}} {
			if x.diff {
				changed = append(changed, x.name)
			}
		}
		out = c.View(s.todayDay(), !clearFor(authz.From(ctx), r))
		return s.record(ctx, "cooperation.update", id, map[string]any{"cooperation_id": c.ID, "changed": changed,
			"status": c.Status})
	})
	return out, err
}

// Cooperating returns the ids of the customers with an active cooperation record
// covering day on (YYYY-MM-DD), after customer afterID, by id, at most limit (1..5000).
// It is a system query for the return-visit engine: no authorization, no audit.
func (s *Service) Cooperating(ctx context.Context, on string, afterID int64, limit int) ([]int64, error) {
	if _, err := time.Parse(time.DateOnly, on); err != nil {
		return nil, apperr.InvalidField("on", "cooperation.invalid.day")
	}
	limit = min(max(limit, 1), 5000)
	return s.store.CooperatingIDs(ctx, on, afterID, limit)
}

// ======================= HTTP =======================

// CooperationRoutes are the cooperation-record routes (mounted beside Routes).
func (s *Service) CooperationRoutes() []httpx.Route {
	a := coopAPI{s: s}
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/customers/{id}/cooperations", Perm: PermCoopRead, Handler: a.list},
		{Method: "POST", Path: "/api/v1/customers/{id}/cooperations", Perm: PermCoopWrite, Handler: a.create},
		{Method: "PATCH", Path: "/api/v1/customers/{id}/cooperations/{cid}", Perm: PermCoopWrite, Handler: a.update},
	}
}

type coopAPI struct{ s *Service }

func (a coopAPI) list(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	masked, ok := boolParam(r.URL.Query().Get("masked"))
	if err == nil && !ok {
		err = apperr.New(apperr.Malformed, "error.malformed.param", "param", "masked").OnField("masked")
	}
	var items []CooperationView
	if err == nil {
		items, err = a.s.Cooperations(r.Context(), id, masked)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[CooperationView]{Items: items})
}

func (a coopAPI) create(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var in CooperationInput
	if err == nil {
		err = httpx.Decode(r, &in)
	}
	var v CooperationView
	if err == nil {
		v, err = a.s.AddCooperation(r.Context(), id, in)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, v.Version)
	httpx.Created(w, customerURL(id)+"/cooperations/"+itoa(v.ID), v)
}

func (a coopAPI) update(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var cid int64
	if err == nil {
		cid, err = httpx.PathID(r, "cid")
	}
	var p CooperationPatch
	if err == nil {
		err = httpx.DecodePatch(r, &p, &p.Version)
	}
	var v CooperationView
	if err == nil {
		v, err = a.s.UpdateCooperation(r.Context(), id, cid, p)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, v.Version)
	httpx.JSON(w, http.StatusOK, v)
}
