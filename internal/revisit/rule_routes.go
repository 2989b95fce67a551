package revisit

import (
	"context"
	"net/http"
	"strconv"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// ruleRoutes are the rules API, the plan runs and the rules pages (rules_web.go).
func (s *Service) ruleRoutes() []httpx.Route {
	a := ruleAPI{s: s}
	routes := []httpx.Route{
		{Method: "GET", Path: "/api/v1/revisit-rules", Perm: PermRead, Handler: a.list},
		{Method: "POST", Path: "/api/v1/revisit-rules", Perm: PermManage, Handler: a.create},
		{Method: "GET", Path: "/api/v1/revisit-rules/{id}", Perm: PermRead, Handler: a.get},
		{Method: "PATCH", Path: "/api/v1/revisit-rules/{id}", Perm: PermManage, Handler: a.update},
		{Method: "POST", Path: "/api/v1/revisit-rules/{id}/enable", Perm: PermManage, Handler: a.active(true)},
		{Method: "POST", Path: "/api/v1/revisit-rules/{id}/disable", Perm: PermManage, Handler: a.active(false)},
		{Method: "POST", Path: "/api/v1/revisit-plans/run", Perm: PermManage, Handler: a.runPlan},
	}
	return append(routes, s.rulePages()...)
}

type ruleAPI struct{ s *Service }

func (a ruleAPI) list(w http.ResponseWriter, r *http.Request) {
	rules, err := a.s.Rules(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[Rule]{Items: rules})
}

func (a ruleAPI) create(w http.ResponseWriter, r *http.Request) {
	var in RuleInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	rule, err := a.s.CreateRule(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, rule.Version)
	httpx.Created(w, "/api/v1/revisit-rules/"+strconv.FormatInt(rule.ID, 10), rule)
}

func (a ruleAPI) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var rule Rule
		if rule, err = a.s.Rule(r.Context(), id); err == nil {
			httpx.SetETag(w, rule.Version)
			httpx.JSON(w, http.StatusOK, rule)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a ruleAPI) update(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *RulePatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p RulePatch) (any, int64, error) {
			rule, err := a.s.UpdateRule(ctx, id, p)
			return rule, rule.Version, err
		})(w, r)
}

func (a ruleAPI) active(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathID(r, "id")
		if err == nil {
			var rule Rule
			if rule, err = a.s.SetRuleActive(r.Context(), id, on); err == nil {
				httpx.SetETag(w, rule.Version)
				httpx.JSON(w, http.StatusOK, rule)
				return
			}
		}
		httpx.Error(w, r, err)
	}
}

func (a ruleAPI) runPlan(w http.ResponseWriter, r *http.Request) {
	var in PlanInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	res, err := a.s.RunPlan(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, res)
}
