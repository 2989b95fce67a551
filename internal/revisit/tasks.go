package revisit

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Store returns the store (the other parts of revisit, tests, demo data).
func (s *Service) Store() *Store { return s.store }

// Task views of a list.
const (
	ViewAll     = ""
	ViewMine    = "mine"
	ViewTeam    = "team"
	ViewOverdue = "overdue"
)

// TaskFilter narrows a task list.
type TaskFilter struct {
	Rule       string
	Status     string
	AssigneeID int64
	CustomerID int64
	SourceType string
	SourceID   int64
	DueBefore  time.Time // window_end before
	View       string    // mine | team | overdue
	Limit      int
	Cursor     string

	actorID, actorTeam int64
}

type taskCursor struct {
	ID int64 `json:"i"`
}

func taskNotFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.revisit_task")
	}
	return fmt.Errorf("revisit: task: %w", err)
}

func scopeOf(a *authz.Actor) taskScope {
	if a == nil || a.Kind == authz.KindSystem {
		return taskScope{all: true}
	}
	switch a.ScopeOf(PermRead) {
	case authz.ScopeAll:
		return taskScope{all: true}
	case authz.ScopeDept:
		return taskScope{dept: max(a.DeptID, -1)}
	case authz.ScopeTeam:
		return taskScope{team: max(a.TeamID, -1), self: a.ID}
	}
	return taskScope{self: max(a.ID, -1)}
}

// Task returns task id when the actor reaches it with revisit:read (404 otherwise).
func (s *Service) Task(ctx context.Context, id int64) (Task, error) {
	a, err := authz.Require(ctx, PermRead)
	if err != nil {
		return Task{}, err
	}
	if a.Kind == authz.KindCustomer {
		return Task{}, apperr.ForbiddenErr()
	}
	t, err := s.store.GetTask(ctx, id)
	if err != nil {
		return Task{}, taskNotFound(err)
	}
	if !a.Reaches(PermRead, t.Record()) {
		return Task{}, apperr.NotFoundf("thing.revisit_task")
	}
	return t, nil
}

// Tasks pages through the tasks the actor reaches, newest first.
func (s *Service) Tasks(ctx context.Context, f TaskFilter) ([]Task, string, error) {
	a, err := authz.Require(ctx, PermRead)
	if err != nil {
		return nil, "", err
	}
	if a.Kind == authz.KindCustomer {
		return nil, "", apperr.ForbiddenErr()
	}
	fe := apperr.Fields{}
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		fe.Add("status", "field.invalid_choice")
	}
	if f.SourceType != "" && !slices.Contains(SourceTypes, f.SourceType) {
		fe.Add("source_type", "field.invalid_choice")
	}
	if !slices.Contains([]string{ViewAll, ViewMine, ViewTeam, ViewOverdue}, f.View) {
		fe.Add("view", "field.invalid_choice")
	}
	if len(f.Rule) > 64 {
		fe.Add("rule", "field.too_long", "max", 64)
	}
	if err := fe.Err(); err != nil {
		return nil, "", err
	}
	var cur taskCursor
	if err := httpx.DecodeCursor(f.Cursor, &cur); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 || limit > httpx.MaxLimit {
		limit = httpx.DefaultLimit
	}
	f.actorID, f.actorTeam = a.ID, max(a.TeamID, -1)
	items, err := s.store.listTasks(ctx, f, scopeOf(a), s.now(), cur.ID, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = httpx.EncodeCursor(taskCursor{ID: items[limit-1].ID})
	}
	return items, next, nil
}

// AssignInput hands a task to another staff member.
type AssignInput struct {
	AssigneeID int64  `json:"assignee_id"`
	Version    *int64 `json:"version"`
}

// Assign hands open task id to another staff member: the actor holds revisit:write at
// department scope or wider (supervisors), reaches the task, and reaches the new
// assignee with revisit:write; the task moves to the assignee's department and team.
func (s *Service) Assign(ctx context.Context, id int64, in AssignInput) (Task, error) {
	a, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Task{}, err
	}
	if a.Kind == authz.KindCustomer {
		return Task{}, apperr.ForbiddenErr()
	}
	var out Task
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.store.LockTask(ctx, id)
		if err != nil {
			return taskNotFound(err)
		}
		if !a.Reaches(PermRead, t.Record()) {
			return apperr.NotFoundf("thing.revisit_task")
		}
		if !a.HoldsAt(PermWrite, authz.ScopeDept) || !a.Reaches(PermWrite, t.Record()) {
			return apperr.ForbiddenErr()
		}
		if in.Version != nil && *in.Version != t.Version {
			return apperr.StaleVersion(t.Version)
		}
		if !t.Open() {
			return apperr.New(apperr.Conflict, "revisit.error.task_not_open")
		}
		if in.AssigneeID <= 0 || s.d.Staff == nil {
			return apperr.InvalidField("assignee_id", "field.required")
		}
		target, err := s.d.Staff.LoadTarget(authz.WithActor(ctx, authz.System("revisit")), in.AssigneeID)
		if err != nil || target == nil || !a.Reaches(PermWrite, target.Subject()) || !target.Can(PermWrite) {
			return apperr.InvalidField("assignee_id", "revisit.invalid.assignee")
		}
		from := t.AssigneeID
		prev := t.Version
		t.AssigneeID, t.DeptID, t.TeamID = target.ID, target.DeptID, target.TeamID
		t.Version, t.UpdatedAt = prev+1, s.now()
		if ok, err := s.store.UpdateTask(ctx, &t, prev); err != nil {
			return err
		} else if !ok {
			return apperr.StaleVersion(prev)
		}
		out = t
		return s.record(ctx, "revisit.task.assign", "revisit_task", t.ID, map[string]any{"from": from,
			"to": target.ID, "rule": t.Rule, "customer_id": t.CustomerID, "version": t.Version})
	})
	if err != nil {
		return Task{}, err
	}
	return out, nil
}

// TaskView is the JSON form of a task.
type TaskView struct {
	ID            int64      `json:"id"`
	Rule          string     `json:"rule"`
	CustomerID    int64      `json:"customer_id"`
	SourceType    string     `json:"source_type"`
	SourceID      int64      `json:"source_id"`
	Level         string     `json:"level"`
	DeptID        int64      `json:"dept_id"`
	TeamID        int64      `json:"team_id"`
	AssigneeID    int64      `json:"assignee_id"`
	WindowStart   time.Time  `json:"window_start"`
	WindowEnd     time.Time  `json:"window_end"`
	ScheduledAt   time.Time  `json:"scheduled_at"`
	Method        string     `json:"method"`
	Status        string     `json:"status"`
	Round         int        `json:"round"`
	ParentID      int64      `json:"parent_id"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	DoneAt        *time.Time `json:"done_at"`
	DecisionID    int64      `json:"decision_id"`
	PlanKey       string     `json:"plan_key"`
	Overdue       bool       `json:"overdue"`
	Version       int64      `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// ViewOf is the JSON form of t at now.
func ViewOf(t *Task, now time.Time) TaskView {
	return TaskView{ID: t.ID, Rule: t.Rule, CustomerID: t.CustomerID, SourceType: t.SourceType, SourceID: t.SourceID,
		Level: t.Level, DeptID: t.DeptID, TeamID: t.TeamID, AssigneeID: t.AssigneeID, WindowStart: t.WindowStart.UTC(),
		WindowEnd: t.WindowEnd.UTC(), ScheduledAt: t.ScheduledAt.UTC(), Method: t.Method, Status: t.Status, Round: t.Round,
		ParentID: t.ParentID, Attempts: t.Attempts, NextAttemptAt: optTime(t.NextAttemptAt), DoneAt: optTime(t.DoneAt),
		DecisionID: t.DecisionID, PlanKey: t.PlanKey, Overdue: t.Open() && now.After(t.WindowEnd), Version: t.Version,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

// TaskFilterFrom reads a task filter from the query string.
func TaskFilterFrom(r *http.Request) (TaskFilter, error) {
	q := r.URL.Query()
	f := TaskFilter{Rule: q.Get("rule"), Status: q.Get("status"), SourceType: q.Get("source_type"), View: q.Get("view")}
	var err error
	if f.Limit, f.Cursor, err = httpx.ListParams(r); err != nil {
		return f, err
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"assignee_id", &f.AssigneeID}, {"customer_id", &f.CustomerID}, {"source_id", &f.SourceID}} {
		if *p.dst, err = httpx.QueryInt64(r, p.name); err != nil {
			return f, err
		}
	}
	if v := q.Get("due_before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, err2 := time.ParseInLocation(time.DateOnly, v, time.FixedZone("CST", 8*3600))
			if err2 != nil {
				return f, apperr.New(apperr.Malformed, "error.malformed.param", "param", "due_before").OnField("due_before")
			}
			t = d
		}
		f.DueBefore = t
	}
	return f, nil
}

type taskAPI struct{ s *Service }

func (a taskAPI) list(w http.ResponseWriter, r *http.Request) {
	f, err := TaskFilterFrom(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	items, next, err := a.s.Tasks(r.Context(), f)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	now := a.s.now()
	out := make([]TaskView, len(items))
	for i := range items {
		out[i] = ViewOf(&items[i], now)
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[TaskView]{Items: out, NextCursor: next})
}

func (a taskAPI) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var t Task
		if t, err = a.s.Task(r.Context(), id); err == nil {
			httpx.SetETag(w, t.Version)
			httpx.JSON(w, http.StatusOK, ViewOf(&t, a.s.now()))
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a taskAPI) assign(w http.ResponseWriter, r *http.Request) {
	httpx.UpdateByID(func(ctx context.Context, id int64, in AssignInput) (TaskView, error) {
		t, err := a.s.Assign(ctx, id, in)
		return ViewOf(&t, a.s.now()), err
	})(w, r)
}
