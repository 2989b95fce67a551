package ticket

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Canned replies: texts with placeholders that agents insert into replies.
// Holders of ticket:canned manage them: with scope "all" for any department or for
// everyone (dept 0), otherwise for their own department only. Anyone who reads requests
// lists those shared with everyone plus their department's.

const (
	maxCannedTitle = 100
	maxCannedBody  = 5000
)

// CannedPlaceholders are the placeholders RenderCanned fills.
var CannedPlaceholders = []string{"{customer_name}", "{number}", "{agent_name}", "{title}", "{due_at}"}

// RenderCanned fills the placeholders of body from vars (keys without braces:
// "customer_name"); unknown placeholders stay as written.
func RenderCanned(body string, vars map[string]string) string {
	if !strings.Contains(body, "{") {
		return body
	}
	pairs := make([]string, 0, 2*len(CannedPlaceholders))
	for _, p := range CannedPlaceholders {
		if v, ok := vars[strings.Trim(p, "{}")]; ok {
			pairs = append(pairs, p, v)
		}
	}
	return strings.NewReplacer(pairs...).Replace(body)
}

// CannedVars are the placeholder values for request t replied to by the actor in ctx.
func (s *Service) CannedVars(ctx context.Context, t *Ticket) map[string]string {
	vars := map[string]string{"number": t.Number, "title": t.Title, "customer_name": t.ContactName}
	if t.CustomerID != 0 {
		if ref, err := s.customerRef(ctx, t.CustomerID); err == nil && ref.Name != "" {
			vars["customer_name"] = ref.Name
		}
	}
	if a := authz.From(ctx); a != nil {
		_, _, vars["agent_name"] = actorFields(a)
	}
	if !t.ResolveDueAt.IsZero() {
		vars["due_at"] = t.ResolveDueAt.In(numberZone).Format("2006-01-02 15:04")
	}
	return vars
}

// CannedInput creates or replaces a canned reply.
type CannedInput struct {
	Title  string `json:"title"`
	Body   string `json:"body" text:"multiline"`
	DeptID int64  `json:"dept_id"`
}

// CannedPatch changes a canned reply; nil fields stay.
type CannedPatch struct {
	Title  *string `json:"title"`
	Body   *string `json:"body" text:"multiline"`
	DeptID *int64  `json:"dept_id"`
	// Version is the version the change was made against (required: 428 without, 409
	// when stale).
	Version *int64 `json:"version"`
}

// CannedView is the response form of a canned reply.
type CannedView struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body" text:"multiline"`
	DeptID    int64     `json:"dept_id"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// View maps c to its response form.
func (c CannedReply) View() CannedView {
	return CannedView{ID: c.ID, Title: c.Title, Body: c.Body, DeptID: c.DeptID, CreatedBy: c.CreatedBy,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: c.Version}
}

// ListCanned lists the canned replies the actor may use.
func (s *Service) ListCanned(ctx context.Context) ([]CannedReply, error) {
	a, err := authz.Require(ctx, PermRead)
	if err != nil {
		return nil, err
	}
	return s.store.CannedList(ctx, a.ScopeOf(PermRead) == authz.ScopeAll, a.DeptID)
}

// cannedDept checks the department a canned reply is for.
func cannedDept(a *authz.Actor, f apperr.Fields, dept int64) int64 {
	if a.ScopeOf(PermCanned) == authz.ScopeAll {
		if dept < 0 {
			f.Add("dept_id", "ticket.invalid.dept_unknown")
		}
		return dept
	}
	if dept != 0 && dept != a.DeptID {
		f.Add("dept_id", "ticket.invalid.canned_dept")
	}
	return a.DeptID
}

func (s *Service) checkCannedDept(ctx context.Context, f apperr.Fields, dept int64) error {
	if dept == 0 || s.staff == nil || f["dept_id"].Key != "" {
		return nil
	}
	if _, err := s.staff.DepartmentName(ctx, dept); err != nil {
		if apperr.KindOf(err) != apperr.NotFound {
			return err
		}
		f.Add("dept_id", "ticket.invalid.dept_unknown")
	}
	return nil
}

// CreateCanned adds a canned reply ("ticket.canned.create").
func (s *Service) CreateCanned(ctx context.Context, in CannedInput) (CannedReply, error) {
	a, err := authz.Require(ctx, PermCanned)
	if err != nil {
		return CannedReply{}, err
	}
	f := apperr.Fields{}
	now := s.now()
	c := CannedReply{Title: textField(f, "title", in.Title, maxCannedTitle, true),
		Body: textField(f, "body", in.Body, maxCannedBody, true), DeptID: cannedDept(a, f, in.DeptID),
		CreatedAt: now, UpdatedAt: now}
	if a.Kind == authz.KindStaff {
		c.CreatedBy = a.ID
	}
	if err := s.checkCannedDept(ctx, f, c.DeptID); err != nil {
		return CannedReply{}, err
	}
	if err := f.Err(); err != nil {
		return CannedReply{}, err
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertCanned(ctx, &c); err != nil {
			return err
		}
		return s.record(ctx, "ticket.canned.create", 0, map[string]any{"canned_id": c.ID, "title": c.Title, "dept_id": c.DeptID})
	})
	return c, err
}

// loadCanned loads canned reply id for change by the actor (other departments' read
// as not found unless the actor's scope is all).
func (s *Service) loadCanned(ctx context.Context, a *authz.Actor, id int64) (CannedReply, error) {
	c, err := s.store.Canned(ctx, id)
	if db.IsNoRows(err) {
		return c, apperr.NotFoundf("thing.canned_reply")
	}
	if err != nil {
		return c, err
	}
	if a.ScopeOf(PermCanned) != authz.ScopeAll && c.DeptID != a.DeptID {
		return c, apperr.NotFoundf("thing.canned_reply")
	}
	return c, nil
}

// UpdateCanned changes canned reply id ("ticket.canned.update").
func (s *Service) UpdateCanned(ctx context.Context, id int64, p CannedPatch) (CannedReply, error) {
	a, err := authz.Require(ctx, PermCanned)
	if err != nil {
		return CannedReply{}, err
	}
	if p.Version == nil {
		return CannedReply{}, apperr.VersionRequired()
	}
	var c CannedReply
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if c, err = s.loadCanned(ctx, a, id); err != nil {
			return err
		}
		if *p.Version != c.Version {
			return apperr.StaleVersion(c.Version)
		}
		f := apperr.Fields{}
		if p.Title != nil {
			c.Title = textField(f, "title", *p.Title, maxCannedTitle, true)
		}
		if p.Body != nil {
			c.Body = textField(f, "body", *p.Body, maxCannedBody, true)
		}
		if p.DeptID != nil {
			c.DeptID = cannedDept(a, f, *p.DeptID)
			if err := s.checkCannedDept(ctx, f, c.DeptID); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		ok, err := s.store.UpdateCanned(ctx, &c)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		return s.record(ctx, "ticket.canned.update", 0, map[string]any{"canned_id": c.ID, "title": c.Title, "dept_id": c.DeptID})
	})
	return c, err
}

// DeleteCanned removes canned reply id ("ticket.canned.delete").
func (s *Service) DeleteCanned(ctx context.Context, id int64) error {
	a, err := authz.Require(ctx, PermCanned)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.loadCanned(ctx, a, id)
		if err != nil {
			return err
		}
		if err := s.store.DeleteCanned(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, "ticket.canned.delete", 0, map[string]any{"canned_id": c.ID, "title": c.Title})
	})
}

// RenderCannedFor returns canned reply cid filled in for request id.
func (s *Service) RenderCannedFor(ctx context.Context, id, cid int64) (string, error) {
	a, err := authz.Require(ctx, PermRead)
	if err != nil {
		return "", err
	}
	t, err := s.store.GetTicket(ctx, id)
	if err != nil {
		return "", notFound(err)
	}
	if err := canSee(a, PermRead, &t); err != nil {
		return "", err
	}
	c, err := s.store.Canned(ctx, cid)
	if db.IsNoRows(err) {
		return "", apperr.NotFoundf("thing.canned_reply")
	}
	if err != nil {
		return "", err
	}
	if c.DeptID != 0 && c.DeptID != a.DeptID && a.ScopeOf(PermRead) != authz.ScopeAll {
		return "", apperr.NotFoundf("thing.canned_reply")
	}
	return RenderCanned(c.Body, s.CannedVars(ctx, &t)), nil
}

// ======================= HTTP =======================

func (a api) listCanned(w http.ResponseWriter, r *http.Request) {
	cs, err := a.s.ListCanned(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[CannedView]{Items: make([]CannedView, len(cs))}
	for i, c := range cs {
		out.Items[i] = c.View()
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) createCanned(w http.ResponseWriter, r *http.Request) {
	var in CannedInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := a.s.CreateCanned(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, "/api/v1/canned-replies/"+strconv.FormatInt(c.ID, 10), c.View())
}

// updateCanned: PATCH with a CannedPatch.
func (a api) updateCanned(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *CannedPatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p CannedPatch) (any, int64, error) {
			x, err := a.s.UpdateCanned(ctx, id, p)
			return x.View(), x.Version, err
		})(w, r)
}

func (a api) deleteCanned(w http.ResponseWriter, r *http.Request) {
	httpx.DeleteByID(a.s.DeleteCanned)(w, r)
}

func (a api) renderCanned(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	cid, err := httpx.PathID(r, "cid")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	body, err := a.s.RenderCannedFor(r.Context(), id, cid)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]string{"body": body})
}
