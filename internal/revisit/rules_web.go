package revisit

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// The rules pages: /revisit-rules lists every rule with its trigger, window, rate and
// who visits, with switches for managers; /revisit-rules/new and /revisit-rules/{id}
// are the form (plain POST, redirect with a flash; errors re-render the form).

// rulePages are the /revisit-rules pages.
func (s *Service) rulePages() []httpx.Route {
	p := rulePages{s: s}
	return []httpx.Route{
		{Method: "GET", Path: "/revisit-rules", Perm: PermRead, Page: true, Handler: p.list},
		{Method: "GET", Path: "/revisit-rules/new", Perm: PermManage, Page: true, Handler: p.newForm},
		{Method: "POST", Path: "/revisit-rules", Perm: PermManage, Page: true, Handler: p.create},
		{Method: "GET", Path: "/revisit-rules/{id}", Perm: PermManage, Page: true, Handler: p.edit},
		{Method: "POST", Path: "/revisit-rules/{id}", Perm: PermManage, Page: true, Handler: p.save},
		{Method: "POST", Path: "/revisit-rules/{id}/toggle", Perm: PermManage, Page: true, Handler: p.toggle},
	}
}

type rulePages struct{ s *Service }

// RuleRow is one line of the rules list.
type RuleRow struct {
	ID        int64
	Code      string
	Name      string
	Triggers  string
	Window    string
	RatePct   int
	Assignees string
	Methods   string
	Active    bool
}

// RulesPage is the view model of /revisit-rules.
type RulesPage struct {
	Rows      []RuleRow
	CanManage bool
}

// RuleForm is the view model of the rule form.
type RuleForm struct {
	New     bool
	ID      int64
	Action  string
	V       map[string]string // the field values as typed
	Errors  web.FormErrors
	Message string
	Modes   []string
	Active  bool
}

func assigneesText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}

func (p rulePages) list(w http.ResponseWriter, r *http.Request) {
	rules, err := p.s.Rules(r.Context())
	if err != nil {
		p.s.web.PageError(w, r, err)
		return
	}
	a := authz.From(r.Context())
	pg := RulesPage{CanManage: a != nil && a.Can(PermManage)}
	for _, rl := range rules {
		pg.Rows = append(pg.Rows, RuleRow{ID: rl.ID, Code: rl.Code, Name: rl.Name, Triggers: strings.Join(rl.Triggers, ", "),
			Window: rl.Window.Start + " + " + rl.Window.Length + " (" + rl.Window.Mode + ")", RatePct: rl.RatePct,
			Assignees: strings.ReplaceAll(assigneesText(rl.Assignees), "\n", ", "), Methods: strings.Join(rl.Methods, ", "),
			Active: rl.Active})
	}
	web.Render(p.s.web, w, r, http.StatusOK, "revisit/rules", "revisit.rules.title", pg)
}

func formOf(rl *Rule) map[string]string {
	var qs []string
	for _, q := range rl.Script {
		qs = append(qs, q.Q)
	}
	filters, _ := json.Marshal(rl.Filters)
	repeat, _ := json.Marshal(rl.Repeat)
	v := map[string]string{"code": rl.Code, "name": rl.Name, "description": rl.Description,
		"triggers": strings.Join(rl.Triggers, ", "), "filters": string(filters), "window_start": rl.Window.Start,
		"window_length": rl.Window.Length, "window_mode": rl.Window.Mode, "rate_pct": strconv.Itoa(rl.RatePct),
		"assignees": assigneesText(rl.Assignees), "team_id": "", "methods": strings.Join(rl.Methods, ", "),
		"script": strings.Join(qs, "\n"), "repeat": string(repeat), "version": strconv.FormatInt(rl.Version, 10)}
	if rl.TeamID != 0 {
		v["team_id"] = strconv.FormatInt(rl.TeamID, 10)
	}
	return v
}

func (p rulePages) render(w http.ResponseWriter, r *http.Request, status int, f RuleForm) {
	f.Modes = WindowModes
	if f.New {
		f.Action = "/revisit-rules"
	} else {
		f.Action = "/revisit-rules/" + strconv.FormatInt(f.ID, 10)
	}
	web.Render(p.s.web, w, r, status, "revisit/rules_form", "revisit.rules.title", f)
}

func (p rulePages) newForm(w http.ResponseWriter, r *http.Request) {
	rl := Rule{Window: Window{Start: "0h", Length: "3d", Mode: WindowCalendar}, RatePct: 100,
		Assignees: map[string]string{"default": AssignAccountAgent}, Methods: []string{MethodPhone}, Active: true}
	p.render(w, r, http.StatusOK, RuleForm{New: true, V: formOf(&rl), Active: true})
}

func (p rulePages) edit(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var rl Rule
		if rl, err = p.s.Rule(r.Context(), id); err == nil {
			p.render(w, r, http.StatusOK, RuleForm{ID: id, V: formOf(&rl), Active: rl.Active})
			return
		}
	}
	p.s.web.PageError(w, r, err)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' }) {
		if part = strings.TrimSpace(part); part != "" && !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	return out
}

// parseRuleForm reads the posted form into a full rule input; field errors name the
// form's fields.
func parseRuleForm(r *http.Request, fe apperr.Fields) (RuleInput, map[string]string) {
	v := map[string]string{}
	for _, k := range []string{"code", "name", "description", "triggers", "filters", "window_start", "window_length",
		"window_mode", "rate_pct", "assignees", "team_id", "methods", "script", "repeat", "version"} {
		v[k] = r.PostFormValue(k)
	}
	in := RuleInput{Code: strings.TrimSpace(v["code"]), Name: v["name"], Description: v["description"],
		Triggers: splitList(v["triggers"]), Methods: splitList(v["methods"]),
		Window: &Window{Start: strings.TrimSpace(v["window_start"]), Length: strings.TrimSpace(v["window_length"]),
			Mode: v["window_mode"]}}
	active := r.PostFormValue("active") == "on"
	in.Active = &active
	rate, err := strconv.Atoi(strings.TrimSpace(v["rate_pct"]))
	if err != nil {
		fe.Add("rate_pct", "revisit.invalid.rate")
	}
	in.RatePct = &rate
	if t := strings.TrimSpace(v["team_id"]); t != "" {
		if in.TeamID, err = strconv.ParseInt(t, 10, 64); err != nil {
			fe.Add("team_id", "field.invalid")
		}
	}
	in.Assignees = map[string]string{}
	for _, line := range strings.Split(v["assignees"], "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		lvl, pol, ok := strings.Cut(line, "=")
		if !ok {
			fe.Add("assignees", "field.invalid")
			continue
		}
		in.Assignees[strings.TrimSpace(lvl)] = strings.TrimSpace(pol)
	}
	in.Script = []Question{}
	for _, line := range strings.Split(v["script"], "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.Script = append(in.Script, Question{Q: line})
		}
	}
	decode := func(field string, dst any) {
		raw := strings.TrimSpace(v[field])
		if raw == "" {
			return
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
		dec.DisallowUnknownFields()
		if dec.Decode(dst) != nil {
			fe.Add(field, "field.invalid")
		}
	}
	in.Filters, in.Repeat = &Filters{}, &Repeat{}
	decode("filters", in.Filters)
	decode("repeat", in.Repeat)
	return in, v
}

func (p rulePages) formError(w http.ResponseWriter, r *http.Request, f RuleForm, err error) {
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.s.web.PageError(w, r, err)
		return
	}
	f.Errors, f.Message = fe, msg
	p.render(w, r, httpx.Status(apperr.KindOf(err)), f)
}

func (p rulePages) create(w http.ResponseWriter, r *http.Request) {
	if err := httpx.CheckForm(r); err != nil {
		p.s.web.PageError(w, r, err)
		return
	}
	fe := apperr.Fields{}
	in, v := parseRuleForm(r, fe)
	f := RuleForm{New: true, V: v, Active: *in.Active}
	if err := fe.Err(); err != nil {
		p.formError(w, r, f, err)
		return
	}
	rl, err := p.s.CreateRule(r.Context(), in)
	if err != nil {
		p.formError(w, r, f, err)
		return
	}
	web.Redirect(w, r, "/revisit-rules#rule-"+strconv.FormatInt(rl.ID, 10), "revisit.rules.saved")
}

func (p rulePages) save(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		err = httpx.CheckForm(r)
	}
	if err != nil {
		p.s.web.PageError(w, r, err)
		return
	}
	fe := apperr.Fields{}
	in, v := parseRuleForm(r, fe)
	f := RuleForm{ID: id, V: v, Active: *in.Active}
	version, verr := strconv.ParseInt(v["version"], 10, 64)
	if verr != nil {
		fe.Add("version", "field.invalid")
	}
	if err := fe.Err(); err != nil {
		p.formError(w, r, f, err)
		return
	}
	team := in.TeamID
	patch := RulePatch{Name: &in.Name, Description: &in.Description, Triggers: in.Triggers, Filters: in.Filters,
		Window: in.Window, RatePct: in.RatePct, Assignees: in.Assignees, TeamID: &team, Methods: in.Methods,
		Script: in.Script, Repeat: in.Repeat, Active: in.Active, Version: &version}
	if patch.Triggers == nil {
		patch.Triggers = []string{}
	}
	if patch.Methods == nil {
		patch.Methods = []string{}
	}
	if _, err := p.s.UpdateRule(r.Context(), id, patch); err != nil {
		p.formError(w, r, f, err)
		return
	}
	web.Redirect(w, r, "/revisit-rules#rule-"+strconv.FormatInt(id, 10), "revisit.rules.saved")
}

func (p rulePages) toggle(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		err = httpx.CheckForm(r)
	}
	if err == nil {
		_, err = p.s.SetRuleActive(r.Context(), id, r.PostFormValue("active") == "1")
	}
	if err != nil {
		p.s.web.PageError(w, r, err)
		return
	}
	web.Redirect(w, r, "/revisit-rules#rule-"+strconv.FormatInt(id, 10), "revisit.rules.saved")
}
