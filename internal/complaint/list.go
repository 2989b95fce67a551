package complaint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Filter narrows a complaint list.
type Filter struct {
	Stage      Stage
	Level      Level
	DeptID     int64 // the request's or the responsible department
	CauseID    int64
	ObjectKind ObjectKind
	From, To   time.Time // received within [From, To)
	Anonymous  *bool
	Open       *bool
	CustomerID int64
	// Masters leaves out the complaints merged into another (each issue once).
	Masters  bool
	MasterID int64 // the complaints merged into this one
	Cases    bool  // only complaints marked as cases
	Q        string
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

type listCursor struct {
	ID int64 `json:"i"`
}

// listScope is the actor's reach as SQL: every complaint, a department's, a team's, or
// the complaints one is responsible for.
type listScope struct {
	all              bool
	dept, team, self int64
	customer         int64
}

func scopeOf(a *authz.Actor) listScope {
	if a == nil || a.Kind == authz.KindSystem {
		return listScope{all: true}
	}
	if isCustomer(a) {
		return listScope{customer: a.ID}
	}
	switch a.ScopeOf(PermRead) {
	case authz.ScopeAll:
		return listScope{all: true}
	case authz.ScopeDept:
		return listScope{dept: max(a.DeptID, -1)}
	case authz.ScopeTeam:
		return listScope{team: max(a.TeamID, -1), self: a.ID}
	}
	return listScope{self: a.ID}
}

func checkFilter(f *Filter) error {
	fe := apperr.Fields{}
	if f.Stage != "" && !ValidStage(f.Stage) {
		fe.Add("stage", "field.invalid_choice")
	}
	if f.Level != "" && !validLevel(f.Level) {
		fe.Add("level", "field.invalid_choice")
	}
	checkChoice(fe, "object_kind", f.ObjectKind, ObjectKinds, false)
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		fe.Add("to", "complaint.invalid.period")
	}
	f.Q = strings.TrimSpace(f.Q)
	if len([]rune(f.Q)) > 100 {
		fe.Add("q", "field.too_long", "max", 100)
	}
	return fe.Err()
}

// List pages through the complaints the actor may see, newest first, narrowed by f. A
// portal customer sees their own named complaints. Every call is audited.
func (s *Service) List(ctx context.Context, f Filter, limit int, cur string) (Page[Complaint], error) {
	a := authz.From(ctx)
	if a == nil {
		return Page[Complaint]{}, apperr.Unauth()
	}
	if !isCustomer(a) {
		if _, err := authz.Require(ctx, PermRead); err != nil {
			return Page[Complaint]{}, err
		}
	}
	if err := checkFilter(&f); err != nil {
		return Page[Complaint]{}, err
	}
	var c listCursor
	if err := httpx.DecodeCursor(cur, &c); err != nil {
		return Page[Complaint]{}, err
	}
	limit = pageLimit(limit)
	sc := scopeOf(a)
	var items []Complaint
	var err error
	if f.Q == "" {
		items, err = s.store.List(ctx, f, sc, c.ID, limit+1)
	} else {
		items, err = s.search(ctx, f, sc, c.ID, limit+1)
	}
	if err != nil {
		return Page[Complaint]{}, err
	}
	page := Page[Complaint]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = httpx.EncodeCursor(listCursor{ID: page.Items[limit-1].ID})
	}
	ids := make([]int64, len(page.Items))
	for i, x := range page.Items {
		ids[i] = x.ID
	}
	if err := s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "complaint.list", 0, map[string]any{"ids": ids, "count": len(ids), "q": f.Q})
	}); err != nil {
		return Page[Complaint]{}, err
	}
	return page, nil
}

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return httpx.DefaultLimit
	case n > httpx.MaxLimit:
		return httpx.MaxLimit
	}
	return n
}

// search walks the request text index newest first and keeps the complaints of the
// matching requests that pass the scope and the filters.
func (s *Service) search(ctx context.Context, f Filter, sc listScope, before int64, want int) ([]Complaint, error) {
	const batch, steps = 500, 20
	var out []Complaint
	after := int64(0)
	for range steps {
		tids, err := s.requests.Search(ctx, f.Q, batch, after)
		if err != nil {
			return nil, fmt.Errorf("complaint: search: %w", err)
		}
		if len(tids) == 0 {
			break
		}
		got, err := s.store.ListByTickets(ctx, f, sc, before, tids)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if len(out) >= want || len(tids) < batch {
			break
		}
		after = tids[len(tids)-1]
	}
	if len(out) > want {
		out = out[:want]
	}
	return out, nil
}
