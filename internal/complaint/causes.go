package complaint

// OWNED BY the resolution engineer: the editable cause tree.

import (
	"context"
	"fmt"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// The cause tree is edited by whoever holds complaint:manage; anyone who reads
// complaints lists it. The built-in causes (service attitude, repair quality, slow
// response, charges, product quality, other) have a code and are named by the catalog
// ("complaint.cause.<code>") unless an
// administrator gives them a name; added causes carry their own name. A cause that a
// complaint names, or that has children, is deactivated rather than deleted, so that the
// analysis keeps its history.

const (
	maxCauseName  = 64
	maxCauseDepth = 4
)

// CauseInput adds a cause.
type CauseInput struct {
	ParentID  int64  `json:"parent_id"`
	Name      string `json:"name"`
	SortOrder int    `json:"sort_order"`
	Active    *bool  `json:"active"`
}

// CausePatch changes a cause; nil fields stay.
type CausePatch struct {
	ParentID  *int64  `json:"parent_id"`
	Name      *string `json:"name"` // "" on a built-in cause: back to the catalog's name
	SortOrder *int    `json:"sort_order"`
	Active    *bool   `json:"active"`
	// Version is the version the change was made against (required: 428 without, 409
	// when stale).
	Version *int64 `json:"version"`
}

// CauseView is the JSON form of a cause.
type CauseView struct {
	ID        int64     `json:"id"`
	ParentID  int64     `json:"parent_id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Label     string    `json:"label"` // the name to show, in the request's language
	Builtin   bool      `json:"builtin"`
	SortOrder int       `json:"sort_order"`
	Active    bool      `json:"active"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CauseLabel is the name of cause c to show in ctx's language: its own name, or for a
// built-in cause without one the catalog's ("complaint.cause.<code>").
func CauseLabel(ctx context.Context, c Cause) string {
	if c.Name != "" || c.Code == "" {
		return c.Name
	}
	return resolutionText(ctx, i18n.M("complaint.cause."+c.Code))
}

// resolutionText translates m into ctx's language (the key itself without a catalog).
func resolutionText(ctx context.Context, m i18n.Msg) string {
	cat := httpx.CatalogFrom(ctx)
	if cat == nil {
		return m.Key
	}
	return cat.Msg(i18n.Lang(ctx), m)
}

// CauseViewOf is the JSON form of c in ctx's language.
func CauseViewOf(ctx context.Context, c Cause) CauseView {
	return CauseView{ID: c.ID, ParentID: c.ParentID, Code: c.Code, Name: c.Name, Label: CauseLabel(ctx, c),
		Builtin: c.Code != "", SortOrder: c.SortOrder, Active: c.Active, Version: c.Version,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

// ListCauses lists the whole cause tree in display order (complaint:read).
func (s *Service) ListCauses(ctx context.Context) ([]Cause, error) {
	if _, err := authz.RequireStaff(ctx, PermRead); err != nil {
		return nil, err
	}
	return s.store.Causes(ctx)
}

func causeNotFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.complaint_cause")
	}
	return err
}

// checkCauseParent validates parent for cause id (0 = new): it must exist, must not be id
// itself or below it, and the tree stays at most maxCauseDepth deep.
func (s *Service) checkCauseParent(ctx context.Context, f apperr.Fields, id, parent int64) error {
	if parent == 0 {
		return nil
	}
	if parent < 0 {
		f.Add("parent_id", "complaint.invalid.cause_unknown")
		return nil
	}
	depth := 1
	for p := parent; p != 0; depth++ {
		if p == id {
			f.Add("parent_id", "complaint.invalid.cause_cycle")
			return nil
		}
		if depth >= maxCauseDepth {
			f.Add("parent_id", "complaint.invalid.cause_depth", "max", maxCauseDepth)
			return nil
		}
		c, err := s.store.Cause(ctx, p)
		if db.IsNoRows(err) {
			f.Add("parent_id", "complaint.invalid.cause_unknown")
			return nil
		}
		if err != nil {
			return err
		}
		p = c.ParentID
	}
	return nil
}

// CreateCause adds a cause with its own name ("complaint.cause.create").
func (s *Service) CreateCause(ctx context.Context, in CauseInput) (Cause, error) {
	if _, err := authz.RequireStaff(ctx, PermManage); err != nil {
		return Cause{}, err
	}
	f := apperr.Fields{}
	now := s.now()
	c := Cause{ParentID: in.ParentID, Name: textField(f, "name", in.Name, maxCauseName, true), SortOrder: in.SortOrder,
		Active: true, CreatedAt: now, UpdatedAt: now}
	if in.Active != nil {
		c.Active = *in.Active
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.checkCauseParent(ctx, f, 0, c.ParentID); err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		if err := s.store.InsertCause(ctx, &c); err != nil {
			return err
		}
		return s.recordCause(ctx, "complaint.cause.create", c)
	})
	return c, err
}

// UpdateCause changes cause id ("complaint.cause.update").
func (s *Service) UpdateCause(ctx context.Context, id int64, p CausePatch) (Cause, error) {
	if _, err := authz.RequireStaff(ctx, PermManage); err != nil {
		return Cause{}, err
	}
	if p.Version == nil {
		return Cause{}, apperr.VersionRequired()
	}
	var c Cause
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.store.Cause(ctx, id); err != nil {
			return causeNotFound(err)
		}
		if *p.Version != c.Version {
			return apperr.StaleVersion(c.Version)
		}
		f := apperr.Fields{}
		if p.Name != nil {
			// A built-in cause may drop its own name again (the catalog names it).
			c.Name = textField(f, "name", *p.Name, maxCauseName, c.Code == "")
		}
		if p.SortOrder != nil {
			c.SortOrder = *p.SortOrder
		}
		if p.Active != nil {
			c.Active = *p.Active
		}
		if p.ParentID != nil {
			c.ParentID = *p.ParentID
			if err := s.checkCauseParent(ctx, f, id, c.ParentID); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		ok, err := s.store.UpdateCause(ctx, &c)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		return s.recordCause(ctx, "complaint.cause.update", c)
	})
	return c, err
}

// DeleteCause removes an added, unused leaf cause ("complaint.cause.delete"). A built-in
// cause, or one with children or named by a complaint, is refused with 409: deactivate it
// instead.
func (s *Service) DeleteCause(ctx context.Context, id int64) error {
	if _, err := authz.RequireStaff(ctx, PermManage); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.store.Cause(ctx, id)
		if err != nil {
			return causeNotFound(err)
		}
		if c.Code != "" {
			return apperr.New(apperr.Conflict, "complaint.error.cause_builtin").WithCode("cause_builtin")
		}
		children, used, err := s.store.CauseUsage(ctx, id)
		if err != nil {
			return err
		}
		if children+used > 0 {
			return apperr.New(apperr.Conflict, "complaint.error.cause_in_use").WithCode("cause_in_use")
		}
		if err := s.store.DeleteCause(ctx, id); err != nil {
			return err
		}
		return s.recordCause(ctx, "complaint.cause.delete", c)
	})
}

func (s *Service) recordCause(ctx context.Context, action string, c Cause) error {
	if s.audit == nil {
		return nil
	}
	err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: "complaint_cause",
		TargetID: strconv.FormatInt(c.ID, 10), Detail: map[string]any{"parent_id": c.ParentID, "code": c.Code,
			"name": c.Name, "sort_order": c.SortOrder, "active": c.Active}})
	if err != nil {
		return fmt.Errorf("complaint: audit %s: %w", action, err)
	}
	return nil
}

// ======================= HTTP =======================

func causeURL(id int64) string { return "/api/v1/complaint-causes/" + strconv.FormatInt(id, 10) }

func (s *Service) causeRoutes() []httpx.Route {
	a := api{s: s}
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/complaint-causes", Perm: PermRead, Handler: a.listCauses},
		{Method: "POST", Path: "/api/v1/complaint-causes", Perm: PermManage, Handler: a.createCause},
		{Method: "PATCH", Path: "/api/v1/complaint-causes/{id}", Perm: PermManage, Handler: a.updateCause},
		{Method: "DELETE", Path: "/api/v1/complaint-causes/{id}", Perm: PermManage, Handler: a.deleteCause},
	}
}

func (a api) listCauses(w http.ResponseWriter, r *http.Request) {
	cs, err := a.s.ListCauses(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[CauseView]{Items: make([]CauseView, len(cs))}
	for i, c := range cs {
		out.Items[i] = CauseViewOf(r.Context(), c)
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) createCause(w http.ResponseWriter, r *http.Request) {
	var in CauseInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := a.s.CreateCause(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, causeURL(c.ID), CauseViewOf(r.Context(), c))
}

func (a api) updateCause(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *CausePatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p CausePatch) (any, int64, error) {
			c, err := a.s.UpdateCause(ctx, id, p)
			return CauseViewOf(ctx, c), c.Version, err
		})(w, r)
}

func (a api) deleteCause(w http.ResponseWriter, r *http.Request) {
	httpx.DeleteByID(a.s.DeleteCause)(w, r)
}
