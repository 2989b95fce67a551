package complaint

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/ticket"
)

type api struct{ s *Service }

// View is the JSON form of a complaint.
type View struct {
	ID            int64          `json:"id"`
	TicketID      int64          `json:"ticket_id"`
	Number        string         `json:"number"`
	Title         string         `json:"title"`
	Channel       ticket.Channel `json:"channel"`
	Stage         Stage          `json:"stage"`
	StageLabel    string         `json:"stage_label"`
	NextStages    []Stage        `json:"next_stages"`
	Level         Level          `json:"level"`
	LevelLabel    string         `json:"level_label"`
	Anonymous     bool           `json:"anonymous"`
	ReplyOnly     bool           `json:"reply_only"`
	Revisit       bool           `json:"revisit"`
	CustomerID    int64          `json:"customer_id"`
	Location      string         `json:"location"`
	ObjectKind    ObjectKind     `json:"object_kind"`
	ObjectDeptID  int64          `json:"object_dept_id"`
	ObjectStaffID int64          `json:"object_staff_id"`
	ObjectText    string         `json:"object_text"`
	DeptID        int64          `json:"dept_id"`
	TeamID        int64          `json:"team_id"`
	RespDeptID    int64          `json:"resp_dept_id"`
	RespTeamID    int64          `json:"resp_team_id"`
	RespStaffID   int64          `json:"resp_staff_id"`
	CauseID       int64          `json:"cause_id"`
	CauseKind     CauseKind      `json:"cause_kind"`
	FirstDueAt    *time.Time     `json:"first_answer_due_at"`
	FirstDoneAt   *time.Time     `json:"first_answer_at"`
	ResultDueAt   *time.Time     `json:"result_due_at"`
	ResultDoneAt  *time.Time     `json:"result_at"`
	StageAt       time.Time      `json:"stage_at"`
	StageDueAt    *time.Time     `json:"stage_due_at"`
	EscalatedAt   *time.Time     `json:"escalated_at"`
	Satisfaction  int            `json:"satisfaction"`
	ReplyLetterID int64          `json:"reply_letter_id"`
	MasterID      int64          `json:"master_id"`
	IsCase        bool           `json:"is_case"`
	CaseSummary   string         `json:"case_summary,omitempty"`
	ReopenCount   int            `json:"reopen_count"`
	ClosedAt      *time.Time     `json:"closed_at"`
	Version       int64          `json:"version"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// i18nStage is the catalog message naming stage st.
func i18nStage(st Stage) i18n.Msg { return i18n.M("complaint.stage." + string(st)) }

// i18nLevel is the catalog message naming level l.
func i18nLevel(l Level) i18n.Msg { return i18n.M("complaint.level." + string(l)) }

// ViewOf is the JSON form of c in the request's language.
func ViewOf(ctx context.Context, c *Complaint) View {
	cat, lang := httpx.CatalogFrom(ctx), i18n.Lang(ctx)
	label := func(m i18n.Msg) string {
		if cat == nil {
			return m.Key
		}
		return cat.Msg(lang, m)
	}
	esc := c.FirstEscalatedAt
	for _, t := range []time.Time{c.ResultEscalatedAt, c.StageEscalatedAt} {
		if !t.IsZero() && (esc.IsZero() || t.Before(esc)) {
			esc = t
		}
	}
	return View{ID: c.ID, TicketID: c.TicketID, Number: c.Number, Title: c.Title, Channel: c.Channel, Stage: c.Stage,
		StageLabel: label(i18nStage(c.Stage)), NextStages: NextStages(c.Stage), Level: c.Level,
		LevelLabel: label(i18nLevel(c.Level)), Anonymous: c.Anonymous, ReplyOnly: c.ReplyOnly, Revisit: c.Revisit(),
		CustomerID: c.CustomerID, Location: c.Location, ObjectKind: c.ObjectKind, ObjectDeptID: c.ObjectDeptID,
		ObjectStaffID: c.ObjectStaffID, ObjectText: c.ObjectText, DeptID: c.DeptID, TeamID: c.TeamID,
		RespDeptID: c.RespDeptID, RespTeamID: c.RespTeamID, RespStaffID: c.RespStaffID, CauseID: c.CauseID,
		CauseKind: c.CauseKind, FirstDueAt: optTime(c.FirstDueAt), FirstDoneAt: optTime(c.FirstDoneAt),
		ResultDueAt: optTime(c.ResultDueAt), ResultDoneAt: optTime(c.ResultDoneAt), StageAt: c.StageAt.UTC(),
		StageDueAt: optTime(c.StageDueAt), EscalatedAt: optTime(esc), Satisfaction: c.Satisfaction,
		ReplyLetterID: c.ReplyLetterID, MasterID: c.MasterID, IsCase: c.IsCase, CaseSummary: c.CaseSummary,
		ReopenCount: c.ReopenCount, ClosedAt: optTime(c.ClosedAt), Version: c.Version, CreatedAt: c.CreatedAt.UTC(),
		UpdatedAt: c.UpdatedAt.UTC()}
}

// viewing turns a use case answering a complaint into one answering its JSON view (for
// httpx.UpdateByID: the POST actions on /api/v1/complaints/{id}/...).
func viewing[In any](fn func(ctx context.Context, id int64, in In) (Complaint, error)) func(context.Context, int64, In) (View, error) {
	return func(ctx context.Context, id int64, in In) (View, error) {
		c, err := fn(ctx, id, in)
		return ViewOf(ctx, &c), err
	}
}

func views(ctx context.Context, cs []Complaint) []View {
	out := make([]View, len(cs))
	for i := range cs {
		out[i] = ViewOf(ctx, &cs[i])
	}
	return out
}

// StageView is the JSON form of one stage move.
type StageView struct {
	ID        int64          `json:"id"`
	From      Stage          `json:"from"`
	To        Stage          `json:"to"`
	Reason    string         `json:"reason"`
	Data      map[string]any `json:"data"`
	ActorKind authz.Kind     `json:"actor_kind"`
	ActorID   int64          `json:"actor_id"`
	ActorName string         `json:"actor_name"`
	Seconds   int64          `json:"seconds_in_from"`
	At        time.Time      `json:"at"`
}

// DetailView is a complaint with its history, proposals, penalties, tasks and letters.
type DetailView struct {
	View
	Stages    []StageView  `json:"stages"`
	Proposals []Proposal   `json:"proposals"`
	Penalties []Penalty    `json:"penalties"`
	Tasks     []Task       `json:"tasks"`
	Letters   []LetterView `json:"letters"`
}

// Detail is complaint c with everything recorded on it (the actor has read c).
func (s *Service) Detail(ctx context.Context, c *Complaint) (DetailView, error) {
	d := DetailView{View: ViewOf(ctx, c), Stages: []StageView{}}
	hist, err := s.store.Stages(ctx, c.ID)
	if err != nil {
		return d, err
	}
	for _, e := range hist {
		sv := StageView{ID: e.ID, From: e.From, To: e.To, Reason: e.Reason, Data: e.Data, ActorKind: e.ActorKind,
			ActorID: e.ActorID, ActorName: e.ActorName, At: e.At.UTC()}
		if e.From != "" && !e.FromSince.IsZero() {
			sv.Seconds = int64(e.At.Sub(e.FromSince) / time.Second)
		}
		d.Stages = append(d.Stages, sv)
	}
	if isCustomer(authz.From(ctx)) { // a customer sees the stage and the replies, not the internals
		return d, nil
	}
	if d.Proposals, d.Penalties, d.Tasks, err = s.resolutionOf(ctx, c.ID); err != nil {
		return d, err
	}
	letters, err := s.lettersOf(ctx, c.ID)
	if err != nil {
		return d, err
	}
	d.Letters = make([]LetterView, len(letters))
	for i := range letters {
		d.Letters[i] = LetterViewOf(ctx, &letters[i])
	}
	return d, nil
}

func boolParam(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, apperr.New(apperr.Malformed, "error.malformed.param", "param", name).OnField(name)
	}
	return &b, nil
}

func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, chinaTime); err == nil {
		return t, nil
	}
	return time.Time{}, apperr.New(apperr.Malformed, "error.malformed.param", "param", name).OnField(name)
}

// chinaTime is the zone of dates given without one.
var chinaTime = time.FixedZone("CST", 8*3600)

// FilterFrom reads a complaint filter from the query string.
func FilterFrom(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Stage: Stage(q.Get("stage")), Level: Level(q.Get("level")), ObjectKind: ObjectKind(q.Get("object")),
		Q: q.Get("q")}
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"dept_id", &f.DeptID}, {"cause_id", &f.CauseID}, {"customer_id", &f.CustomerID}, {"master_id", &f.MasterID}} {
		if *p.dst, err = httpx.QueryInt64(r, p.name); err != nil {
			return f, err
		}
	}
	if f.From, err = timeParam(r, "from"); err != nil {
		return f, err
	}
	if f.To, err = timeParam(r, "to"); err != nil {
		return f, err
	}
	if f.Anonymous, err = boolParam(r, "anonymous"); err != nil {
		return f, err
	}
	if f.Open, err = boolParam(r, "open"); err != nil {
		return f, err
	}
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"masters", &f.Masters}, {"cases", &f.Cases}} {
		b, err := boolParam(r, p.name)
		if err != nil {
			return f, err
		}
		*p.dst = b != nil && *b
	}
	return f, nil
}

func (a api) list(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f, err := FilterFrom(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.List(r.Context(), f, limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[View]{Items: views(r.Context(), p.Items), NextCursor: p.NextCursor})
}

func (a api) create(w http.ResponseWriter, r *http.Request) {
	var in ticket.Input
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := a.s.Create(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, "/api/v1/complaints/"+strconv.FormatInt(c.ID, 10), ViewOf(r.Context(), &c))
}

func (a api) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var c Complaint
		if c, err = a.s.Get(r.Context(), id); err == nil {
			var d DetailView
			if d, err = a.s.Detail(r.Context(), &c); err == nil {
				httpx.JSON(w, http.StatusOK, d)
				return
			}
		}
	}
	httpx.Error(w, r, err)
}

func (a api) stages(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var c Complaint
		if c, err = a.s.Get(r.Context(), id); err == nil {
			var d DetailView
			if d, err = a.s.Detail(r.Context(), &c); err == nil {
				httpx.JSON(w, http.StatusOK, map[string]any{"items": d.Stages})
				return
			}
		}
	}
	httpx.Error(w, r, err)
}

func (a api) transition(w http.ResponseWriter, r *http.Request) {
	httpx.UpdateByID(viewing(a.s.Transition))(w, r)
}

// LevelInput changes a complaint's level.
type LevelInput struct {
	Level   Level  `json:"level"`
	Reason  string `json:"reason" text:"multiline"`
	Version *int64 `json:"version"`
}

func (a api) level(w http.ResponseWriter, r *http.Request) {
	httpx.UpdateByID(viewing(a.s.ChangeLevel))(w, r)
}

// ReplyLetterInput attaches the written reply (fuhan), an attachment of the request.
type ReplyLetterInput struct {
	AttachmentID int64 `json:"attachment_id"`
}

func (a api) replyLetter(w http.ResponseWriter, r *http.Request) {
	httpx.UpdateByID(viewing(func(ctx context.Context, id int64, in ReplyLetterInput) (Complaint, error) {
		return a.s.AttachReplyLetter(ctx, id, in.AttachmentID)
	}))(w, r)
}
