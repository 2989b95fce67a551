package revisit

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// rulesCache keeps every rule for the engine, reloaded when the rules' stamp moves.
type rulesCache struct {
	mu    sync.Mutex
	stamp string
	all   []Rule
}

// allRules returns every rule (cached; one cheap stamp query per call).
func (s *Service) allRules(ctx context.Context) ([]Rule, error) {
	stamp, err := s.store.rulesStamp(ctx)
	if err != nil {
		return nil, err
	}
	s.rules.mu.Lock()
	defer s.rules.mu.Unlock()
	if s.rules.all != nil && s.rules.stamp == stamp {
		return s.rules.all, nil
	}
	all, err := s.store.rules(ctx)
	if err != nil {
		return nil, err
	}
	s.rules.all, s.rules.stamp = all, stamp
	return all, nil
}

// record writes an audit entry in ctx's transaction.
func (s *Service) record(ctx context.Context, action, targetType string, id int64, detail any) error {
	if s.d.Audit == nil {
		return nil
	}
	target := ""
	if id != 0 {
		target = strconv.FormatInt(id, 10)
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Action: action, TargetType: targetType, TargetID: target, Detail: detail}); err != nil {
		return fmt.Errorf("revisit: audit %s: %w", action, err)
	}
	return nil
}

// Rules lists every rule (revisit:read), in display order.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return nil, err
	}
	return s.store.rules(ctx)
}

// Rule returns rule id (revisit:read).
func (s *Service) Rule(ctx context.Context, id int64) (Rule, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return Rule{}, err
	}
	r, err := s.store.rule(ctx, id)
	if err != nil {
		return Rule{}, ruleNotFound(err)
	}
	return r, nil
}

// RuleByCode returns the rule with code (no permission check: the engine and plans).
func (s *Service) RuleByCode(ctx context.Context, code string) (Rule, error) {
	r, err := s.store.ruleByCode(ctx, code)
	if err != nil {
		return Rule{}, ruleNotFound(err)
	}
	return r, nil
}

func ruleNotFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.revisit_rule")
	}
	return fmt.Errorf("revisit: rule: %w", err)
}

// RuleInput creates a rule; RulePatch (the same members, each optional, plus version)
// changes one.
type RuleInput struct {
	Code        string            `json:"code"`
	Name        string            `json:"name"`
	Description string            `json:"description" text:"multiline"`
	Triggers    []string          `json:"triggers"`
	Filters     *Filters          `json:"filters"`
	Window      *Window           `json:"window"`
	RatePct     *int              `json:"rate_pct"`
	Assignees   map[string]string `json:"assignees"`
	TeamID      int64             `json:"team_id"`
	Methods     []string          `json:"methods"`
	Script      []Question        `json:"script"`
	Repeat      *Repeat           `json:"repeat"`
	Active      *bool             `json:"active"`
	SortOrder   int               `json:"sort_order"`
}

// RulePatch changes a rule at version.
type RulePatch struct {
	Name        *string           `json:"name"`
	Description *string           `json:"description" text:"multiline"`
	Triggers    []string          `json:"triggers"`
	Filters     *Filters          `json:"filters"`
	Window      *Window           `json:"window"`
	RatePct     *int              `json:"rate_pct"`
	Assignees   map[string]string `json:"assignees"`
	TeamID      *int64            `json:"team_id"`
	Methods     []string          `json:"methods"`
	Script      []Question        `json:"script"`
	Repeat      *Repeat           `json:"repeat"`
	Active      *bool             `json:"active"`
	SortOrder   *int              `json:"sort_order"`
	Version     *int64            `json:"version"`
}

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,47}$`)

var validLevels = []string{"default", LevelGeneral, LevelUrgent, LevelMajor}

// validate checks r; field errors name the JSON members.
func validateRule(r *Rule) error {
	f := apperr.Fields{}
	if !codePattern.MatchString(r.Code) {
		f.Add("code", "revisit.invalid.code")
	}
	r.Name = strings.TrimSpace(r.Name)
	switch {
	case r.Name == "":
		f.Add("name", "field.required")
	case utf8.RuneCountInString(r.Name) > 100:
		f.Add("name", "field.too_long", "max", 100)
	}
	if utf8.RuneCountInString(r.Description) > 2000 {
		f.Add("description", "field.too_long", "max", 2000)
	}
	if len(r.Triggers) == 0 {
		f.Add("triggers", "field.required")
	}
	for i, t := range r.Triggers {
		if !slices.Contains(Events, t) {
			f.Add("triggers."+strconv.Itoa(i), "field.invalid_choice")
		}
	}
	if r.RatePct < 0 || r.RatePct > 100 {
		f.Add("rate_pct", "revisit.invalid.rate")
	}
	if !slices.Contains(WindowModes, r.Window.Mode) {
		f.Add("window.mode", "field.invalid_choice")
	}
	if _, err := calendar.ParseDuration(r.Window.Start); err != nil {
		f.Add("window.start", "revisit.invalid.duration")
	}
	if d, err := calendar.ParseDuration(r.Window.Length); err != nil || d <= 0 {
		f.Add("window.length", "revisit.invalid.duration")
	} else if r.Window.Mode != WindowCalendar && r.Window.Mode != WindowSameDay {
		if _, ok := calendar.WholeDays(d); !ok {
			f.Add("window.length", "revisit.invalid.whole_days")
		}
	}
	if len(r.Assignees) == 0 {
		f.Add("assignees", "field.required")
	}
	for lvl, p := range r.Assignees {
		if !slices.Contains(validLevels, lvl) {
			f.Add("assignees."+lvl, "revisit.invalid.level")
		} else if !slices.Contains(AssignPolicies, p) {
			f.Add("assignees."+lvl, "field.invalid_choice")
		}
	}
	if r.TeamID < 0 {
		f.Add("team_id", "field.invalid")
	}
	if len(r.Methods) == 0 {
		f.Add("methods", "field.required")
	}
	for i, m := range r.Methods {
		if !slices.Contains(Methods, m) || slices.Index(r.Methods, m) != i {
			f.Add("methods."+strconv.Itoa(i), "field.invalid_choice")
		}
	}
	if len(r.Script) > 50 {
		f.Add("script", "revisit.invalid.too_many", "max", 50)
	}
	for i := range r.Script {
		r.Script[i].Q = strings.TrimSpace(r.Script[i].Q)
		if r.Script[i].Q == "" || utf8.RuneCountInString(r.Script[i].Q) > 500 {
			f.Add("script."+strconv.Itoa(i)+".q", "field.invalid")
		}
	}
	if !slices.Contains(RepeatKinds, r.Repeat.Kind) {
		f.Add("repeat.kind", "field.invalid_choice")
	}
	if r.Repeat.Kind == RepeatDays && (r.Repeat.Days < 1 || r.Repeat.Days > 366) {
		f.Add("repeat.days", "revisit.invalid.repeat_days")
	}
	if r.Repeat.Count < 0 || r.Repeat.Count > 1000 {
		f.Add("repeat.count", "field.invalid")
	}
	for i, st := range r.Repeat.Stop {
		if !slices.Contains(StopConditions, st) {
			f.Add("repeat.stop."+strconv.Itoa(i), "field.invalid_choice")
		}
	}
	if r.Repeat.Until != "" {
		if _, err := time.Parse(time.DateOnly, r.Repeat.Until); err != nil {
			f.Add("repeat.until", "field.invalid")
		}
	}
	for _, lst := range [][]string{r.Filters.Types, r.Filters.Tiers, r.Filters.ValueClasses, r.Filters.CreditGrades,
		r.Filters.Levels, r.Filters.Severities, r.Filters.IntentClasses} {
		if len(lst) > 50 {
			f.Add("filters", "revisit.invalid.too_many", "max", 50)
		}
	}
	if r.SortOrder < 0 || r.SortOrder > 1_000_000 {
		f.Add("sort_order", "field.invalid")
	}
	return f.Err()
}

// CreateRule adds a rule (revisit:manage).
func (s *Service) CreateRule(ctx context.Context, in RuleInput) (Rule, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return Rule{}, err
	}
	now := s.now()
	r := Rule{Code: strings.TrimSpace(in.Code), Name: in.Name, Description: strings.TrimSpace(in.Description),
		Triggers: in.Triggers, Assignees: in.Assignees, TeamID: in.TeamID, Methods: in.Methods, Script: in.Script,
		Active: true, SortOrder: in.SortOrder, Version: 1, CreatedAt: now, UpdatedAt: now,
		Window: Window{Start: "0h", Length: "3d", Mode: WindowCalendar}, RatePct: 100}
	if in.Filters != nil {
		r.Filters = *in.Filters
	}
	if in.Window != nil {
		r.Window = *in.Window
	}
	if in.RatePct != nil {
		r.RatePct = *in.RatePct
	}
	if in.Repeat != nil {
		r.Repeat = *in.Repeat
	}
	if in.Active != nil {
		r.Active = *in.Active
	}
	if r.Script == nil {
		r.Script = []Question{}
	}
	if err := validateRule(&r); err != nil {
		return Rule{}, err
	}
	err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.ruleByCode(ctx, r.Code); err == nil {
			return apperr.New(apperr.Conflict, "revisit.error.code_taken").OnField("code")
		} else if !db.IsNoRows(err) {
			return err
		}
		if err := s.store.insertRule(ctx, &r); err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "revisit.error.code_taken").OnField("code")
			}
			return err
		}
		return s.record(ctx, "revisit.rule.create", "revisit_rule", r.ID, ruleDetail(&r))
	})
	if err != nil {
		return Rule{}, err
	}
	return r, nil
}

func ruleDetail(r *Rule) map[string]any {
	return map[string]any{"code": r.Code, "name": r.Name, "triggers": r.Triggers, "filters": r.Filters,
		"window": r.Window, "rate_pct": r.RatePct, "assignees": r.Assignees, "team_id": r.TeamID, "methods": r.Methods,
		"repeat": r.Repeat, "active": r.Active, "questions": len(r.Script), "version": r.Version}
}

// UpdateRule changes rule id at p.Version (revisit:manage; 409 when stale). The code
// of a rule never changes: decisions and tasks keep it.
func (s *Service) UpdateRule(ctx context.Context, id int64, p RulePatch) (Rule, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return Rule{}, err
	}
	var out Rule
	err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.rule(ctx, id)
		if err != nil {
			return ruleNotFound(err)
		}
		if p.Version != nil && *p.Version != r.Version {
			return apperr.StaleVersion(r.Version)
		}
		if p.Name != nil {
			r.Name = *p.Name
		}
		if p.Description != nil {
			r.Description = strings.TrimSpace(*p.Description)
		}
		if p.Triggers != nil {
			r.Triggers = p.Triggers
		}
		if p.Filters != nil {
			r.Filters = *p.Filters
		}
		if p.Window != nil {
			r.Window = *p.Window
		}
		if p.RatePct != nil {
			r.RatePct = *p.RatePct
		}
		if p.Assignees != nil {
			r.Assignees = p.Assignees
		}
		if p.TeamID != nil {
			r.TeamID = *p.TeamID
		}
		if p.Methods != nil {
			r.Methods = p.Methods
		}
		if p.Script != nil {
			r.Script = p.Script
		}
		if p.Repeat != nil {
			r.Repeat = *p.Repeat
		}
		if p.Active != nil {
			r.Active = *p.Active
		}
		if p.SortOrder != nil {
			r.SortOrder = *p.SortOrder
		}
		if err := validateRule(&r); err != nil {
			return err
		}
		prev := r.Version
		r.Version, r.UpdatedAt = prev+1, s.now()
		if ok, err := s.store.updateRule(ctx, &r, prev); err != nil {
			if db.IsForeignKeyViolation(err) {
				return apperr.InvalidField("team_id", "field.invalid")
			}
			return err
		} else if !ok {
			return apperr.StaleVersion(prev)
		}
		out = r
		return s.record(ctx, "revisit.rule.update", "revisit_rule", r.ID, ruleDetail(&r))
	})
	if err != nil {
		return Rule{}, err
	}
	return out, nil
}

// SetRuleActive switches rule id on or off (revisit:manage) without a version: the
// list's enable and disable buttons.
func (s *Service) SetRuleActive(ctx context.Context, id int64, active bool) (Rule, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return Rule{}, err
	}
	var out Rule
	err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.rule(ctx, id)
		if err != nil {
			return ruleNotFound(err)
		}
		if r.Active == active {
			out = r
			return nil
		}
		prev := r.Version
		r.Active, r.Version, r.UpdatedAt = active, prev+1, s.now()
		if ok, err := s.store.updateRule(ctx, &r, prev); err != nil {
			return err
		} else if !ok {
			return apperr.StaleVersion(prev)
		}
		out = r
		action := "revisit.rule.disable"
		if active {
			action = "revisit.rule.enable"
		}
		return s.record(ctx, action, "revisit_rule", r.ID, map[string]any{"code": r.Code, "version": r.Version})
	})
	return out, err
}
