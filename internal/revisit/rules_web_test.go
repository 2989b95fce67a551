package revisit_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// The rules pages: the list shows the seeded rules; a manager edits one through the
// form (an invalid rate re-renders the form with the field named), switches it off,
// and adds a rule; an agent sees the list without the manager's controls and cannot
// open the form.
func TestRulesPages(t *testing.T) {
	w := newEngWorld(t)
	w.srv.Staff(t, "rules.director", "director", "hq")
	w.srv.Staff(t, "rules.agent", "agent", "cs")
	dir := w.srv.Browser(t, "rules.director", apptest.Password)
	page := dir.Do(t, "GET", "/revisit-rules", nil)
	body := string(page.Body)
	if page.Status != 200 || !strings.Contains(body, `id="rule-rate-complaint_closed">50<`) ||
		!strings.Contains(body, `id="rule-rate-repair_done">30<`) || !strings.Contains(body, `id="rule-edit-coop_monthly"`) {
		t.Fatalf("list: %d\n%s", page.Status, body)
	}
	rule, err := w.svc.RuleByCode(w.ctx, "activity_ended")
	if err != nil {
		t.Fatal(err)
	}
	form := dir.Do(t, "GET", fmt.Sprintf("/revisit-rules/%d", rule.ID), nil)
	if form.Status != 200 || apptest.HiddenField(form.Body, "version") != "1" {
		t.Fatalf("form: %d\n%s", form.Status, form.Body)
	}
	vals := url.Values{"code": {"activity_ended"}, "name": {"活动结束回访"}, "triggers": {"activity.ended"},
		"filters": {"{}"}, "window_start": {"0h"}, "window_length": {"30d"}, "window_mode": {"calendar"},
		"rate_pct": {"150"}, "assignees": {"default=organiser"}, "methods": {"phone, sms"},
		"script": {"您对本次活动是否满意？\n希望今后举办什么样的活动？"}, "repeat": {"{}"}, "active": {"on"}, "version": {"1"}}
	bad := dir.PostForm(t, fmt.Sprintf("/revisit-rules/%d", rule.ID), vals)
	if bad.Status != 422 || !strings.Contains(string(bad.Body), `data-field="rate_pct"`) {
		t.Fatalf("invalid rate: %d\n%s", bad.Status, bad.Body)
	}
	vals.Set("rate_pct", "15")
	if r := dir.PostForm(t, fmt.Sprintf("/revisit-rules/%d", rule.ID), vals); r.Status >= 400 {
		t.Fatalf("save: %d\n%s", r.Status, r.Body)
	}
	got, _ := w.svc.RuleByCode(w.ctx, "activity_ended")
	if got.RatePct != 15 || got.Version != 2 || len(got.Methods) != 2 || len(got.Script) != 2 {
		t.Fatalf("saved rule %+v", got)
	}
	if r := dir.PostForm(t, fmt.Sprintf("/revisit-rules/%d/toggle", rule.ID), url.Values{"active": {"0"}}); r.Status >= 400 {
		t.Fatalf("toggle: %d %s", r.Status, r.Body)
	}
	if got, _ := w.svc.RuleByCode(w.ctx, "activity_ended"); got.Active {
		t.Fatal("still active after the switch")
	}
	vals = url.Values{"code": {"warranty_done"}, "name": {"保修完成回访"}, "triggers": {"ticket.closed"},
		"filters": {`{"types":["after_sales"]}`}, "window_start": {"0h"}, "window_length": {"3d"}, "window_mode": {"working_days"},
		"rate_pct": {"40"}, "assignees": {"default=source_agent\nmajor=director"}, "methods": {"phone"}, "script": {""},
		"repeat": {""}, "active": {"on"}}
	if r := dir.PostForm(t, "/revisit-rules", vals); r.Status >= 400 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if got, err := w.svc.RuleByCode(w.ctx, "warranty_done"); err != nil || got.Policy("major") != "director" || got.RatePct != 40 {
		t.Fatalf("created %+v %v", got, err)
	}
	agent := w.srv.Browser(t, "rules.agent", apptest.Password)
	list := agent.Do(t, "GET", "/revisit-rules", nil)
	if list.Status != 200 || strings.Contains(string(list.Body), "rule-edit-") {
		t.Fatalf("agent list: %d", list.Status)
	}
	if r := agent.Do(t, "GET", fmt.Sprintf("/revisit-rules/%d", rule.ID), nil); r.Status != 403 {
		t.Fatalf("agent form: %d", r.Status)
	}
}
