package ticket

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// slaRoutes are the SLA policy routes (ticket:manage).
func (s *Service) slaRoutes() []httpx.Route {
	a := slaAPI{s: s}
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/sla-policies", Perm: PermManage, Handler: a.list},
		{Method: "POST", Path: "/api/v1/sla-policies", Perm: PermManage, Handler: a.create},
		{Method: "GET", Path: "/api/v1/sla-policies/{id}", Perm: PermManage, Handler: a.get},
		{Method: "PATCH", Path: "/api/v1/sla-policies/{id}", Perm: PermManage, Handler: a.update},
		{Method: "DELETE", Path: "/api/v1/sla-policies/{id}", Perm: PermManage, Handler: a.delete},
	}
}

// SLAPolicyInput creates a policy (POST) or changes one (PATCH: nil fields stay).
type SLAPolicyInput struct {
	Name           *string        `json:"name"`
	Type           *Type          `json:"type"`
	Severity       *Severity      `json:"severity"`
	Tier           *string        `json:"tier"`
	CalendarID     *string        `json:"calendar_id"`
	ResponseTarget *string        `json:"response_target"`
	ResponseMode   *calendar.Mode `json:"response_mode"`
	ResolveTarget  *string        `json:"resolve_target"`
	ResolveMode    *calendar.Mode `json:"resolve_mode"`
	ConfirmTarget  *string        `json:"confirm_target"`
	ConfirmMode    *calendar.Mode `json:"confirm_mode"`
	WarnBefore     *string        `json:"warn_before"`
	Active         *bool          `json:"active"`
	SortOrder      *int           `json:"sort_order"`
	// Version is the version a PATCH was made against (required there: 428 without,
	// 409 when stale); a POST ignores it.
	Version *int64 `json:"version"`
}

func (in SLAPolicyInput) apply(p *SLAPolicy) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&p.Name, in.Name)
	set(&p.Tier, in.Tier)
	set(&p.CalendarID, in.CalendarID)
	set(&p.ResponseTarget, in.ResponseTarget)
	set(&p.ResolveTarget, in.ResolveTarget)
	set(&p.ConfirmTarget, in.ConfirmTarget)
	set(&p.WarnBefore, in.WarnBefore)
	if in.Type != nil {
		p.Type = *in.Type
	}
	if in.Severity != nil {
		p.Severity = *in.Severity
	}
	for _, m := range []struct {
		dst *calendar.Mode
		v   *calendar.Mode
	}{{&p.ResponseMode, in.ResponseMode}, {&p.ResolveMode, in.ResolveMode}, {&p.ConfirmMode, in.ConfirmMode}} {
		if m.v != nil {
			*m.dst = *m.v
		}
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	if in.SortOrder != nil {
		p.SortOrder = *in.SortOrder
	}
}

// validateSLAPolicy checks p (and parses its targets).
func (s *Service) validateSLAPolicy(ctx context.Context, p *SLAPolicy) error {
	f := apperr.Fields{}
	textField(f, "name", p.Name, 64, true)
	if p.Type != "" {
		checkChoice(f, "type", p.Type, Types, false)
	}
	if p.Severity != "" {
		checkChoice(f, "severity", p.Severity, Severities, false)
	}
	if p.Tier != "" && !slices.Contains(customer.Tiers, p.Tier) {
		f.Add("tier", "field.invalid_choice")
	}
	if p.CalendarID == "" {
		p.CalendarID = calendar.DefaultID
	}
	if !calendar.ValidID(p.CalendarID) {
		f.Add("calendar_id", "ticket_sla.invalid.calendar")
	} else if ok, err := s.store.calendarExists(ctx, p.CalendarID); err != nil {
		return fmt.Errorf("ticket: sla policy calendar: %w", err)
	} else if !ok && p.CalendarID != calendar.DefaultID {
		f.Add("calendar_id", "ticket_sla.invalid.calendar")
	}
	if p.SortOrder < 0 || p.SortOrder > 1_000_000 {
		f.Add("sort_order", "ticket_sla.invalid.sort_order")
	}
	_ = p.parse(f)
	return f.Err()
}

func (s *Service) recordSLA(ctx context.Context, action string, p *SLAPolicy) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, audit.Entry{Action: action, TargetType: "sla_policy", TargetID: strconv.FormatInt(p.ID, 10),
		Detail: map[string]any{"name": p.Name, "type": p.Type, "severity": p.Severity, "tier": p.Tier,
			"calendar_id": p.CalendarID, "response": p.ResponseTarget + " " + string(p.ResponseMode),
			"resolve": p.ResolveTarget + " " + string(p.ResolveMode), "confirm": p.ConfirmTarget + " " + string(p.ConfirmMode),
			"warn_before": p.WarnBefore, "active": p.Active, "sort_order": p.SortOrder}})
}

// ListSLAPolicies returns every policy, most specific first as matching ranks them.
func (s *Service) ListSLAPolicies(ctx context.Context) ([]SLAPolicy, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return nil, err
	}
	ps, err := s.store.slaPolicies(ctx)
	if err != nil {
		return nil, fmt.Errorf("ticket: sla policies: %w", err)
	}
	return ps, nil
}

// GetSLAPolicy returns policy id.
func (s *Service) GetSLAPolicy(ctx context.Context, id int64) (SLAPolicy, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return SLAPolicy{}, err
	}
	p, err := s.store.slaPolicy(ctx, id)
	if db.IsNoRows(err) {
		return SLAPolicy{}, apperr.NotFoundf("ticket_sla.thing.policy")
	}
	return p, err
}

// CreateSLAPolicy adds a policy (active unless said otherwise).
func (s *Service) CreateSLAPolicy(ctx context.Context, in SLAPolicyInput) (SLAPolicy, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return SLAPolicy{}, err
	}
	p := SLAPolicy{Active: true, SortOrder: 100, Version: 1}
	in.apply(&p)
	if err := s.validateSLAPolicy(ctx, &p); err != nil {
		return SLAPolicy{}, err
	}
	now := s.now()
	p.CreatedAt, p.UpdatedAt = now, now
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.insertSLAPolicy(ctx, &p); err != nil {
			return err
		}
		s.db.AfterCommit(ctx, s.invalidateSLA)
		return s.recordSLA(ctx, "sla_policy.create", &p)
	})
	if err != nil {
		return SLAPolicy{}, fmt.Errorf("ticket: create sla policy: %w", err)
	}
	return p, nil
}

// UpdateSLAPolicy changes policy id. Requests keep the due times they have; the new
// targets apply to requests created afterwards (and to later pauses and reopenings).
func (s *Service) UpdateSLAPolicy(ctx context.Context, id int64, in SLAPolicyInput) (SLAPolicy, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return SLAPolicy{}, err
	}
	if in.Version == nil {
		return SLAPolicy{}, apperr.VersionRequired()
	}
	var p SLAPolicy
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if p, err = s.store.slaPolicy(ctx, id); err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFoundf("ticket_sla.thing.policy")
			}
			return err
		}
		if *in.Version != p.Version {
			return apperr.StaleVersion(p.Version)
		}
		in.apply(&p)
		if err := s.validateSLAPolicy(ctx, &p); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		ok, err := s.store.updateSLAPolicy(ctx, &p)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		s.db.AfterCommit(ctx, s.invalidateSLA)
		return s.recordSLA(ctx, "sla_policy.update", &p)
	})
	if err != nil {
		return SLAPolicy{}, fmt.Errorf("ticket: update sla policy %d: %w", id, err)
	}
	return p, nil
}

// DeleteSLAPolicy removes policy id; a policy open requests still run on cannot be
// removed (409; deactivate it instead).
func (s *Service) DeleteSLAPolicy(ctx context.Context, id int64) error {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		p, err := s.store.slaPolicy(ctx, id)
		if err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFoundf("ticket_sla.thing.policy")
			}
			return err
		}
		n, err := s.store.openTicketsWithPolicy(ctx, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "ticket_sla.error.in_use", "count", n).WithCode("in_use")
		}
		if err := s.store.deleteSLAPolicy(ctx, id); err != nil {
			return err
		}
		s.db.AfterCommit(ctx, s.invalidateSLA)
		return s.recordSLA(ctx, "sla_policy.delete", &p)
	})
	if err != nil {
		return fmt.Errorf("ticket: delete sla policy %d: %w", id, err)
	}
	return nil
}

// slaAPI holds the JSON handlers of SLA policies.
type slaAPI struct{ s *Service }

func (a slaAPI) list(w http.ResponseWriter, r *http.Request) {
	ps, err := a.s.ListSLAPolicies(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"items": ps})
}

func (a slaAPI) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var p SLAPolicy
		if p, err = a.s.GetSLAPolicy(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, p)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a slaAPI) create(w http.ResponseWriter, r *http.Request) {
	var in SLAPolicyInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.CreateSLAPolicy(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, "/api/v1/sla-policies/"+strconv.FormatInt(p.ID, 10), p)
}

func (a slaAPI) update(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *SLAPolicyInput) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p SLAPolicyInput) (any, int64, error) {
			x, err := a.s.UpdateSLAPolicy(ctx, id, p)
			return x, x.Version, err
		})(w, r)
}

func (a slaAPI) delete(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		if err = a.s.DeleteSLAPolicy(r.Context(), id); err == nil {
			httpx.NoContent(w)
			return
		}
	}
	httpx.Error(w, r, err)
}
