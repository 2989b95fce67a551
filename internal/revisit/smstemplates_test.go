package revisit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// TestCheckSMSTemplate: the greeting and the closing of the seed's rule.
func TestCheckSMSTemplate(t *testing.T) {
	cases := []struct {
		body string
		ok   bool
	}{
		{"尊敬的贵宾，本周六样板房开放，欢迎莅临。预约电话：400-800-1234 置业顾问：{consultant}", true},
		{"{name}先生/女士您好，您关注的户型已有新优惠。预约电话：{booking_phone}，置业顾问：{consultant}", true},
		{"尊敬的贵宾，中秋快乐！预约电话：{booking_phone} 置业顾问 {consultant}", true},
		{"您好，本周六样板房开放。预约电话：400-800-1234 置业顾问：{consultant}", false}, // no greeting
		{"尊敬的贵宾，本周六样板房开放。预约电话：400-800-1234", false},                // no consultant
		{"尊敬的贵宾，本周六样板房开放。置业顾问：{consultant}", false},                // no booking line
		{"尊敬的贵宾，预约电话：400 置业顾问：{consultant}，谢谢", false},             // does not end with the name
		{"尊敬的贵宾，{price} 元起。预约电话：400 置业顾问：{consultant}", false},     // unknown placeholder
		{"{name}先生您好，预约电话：400 置业顾问：{consultant}", false},           // not the greeting
		{"", false},
	}
	for _, c := range cases {
		f := apperr.Fields{}
		revisit.CheckSMSTemplate(f, "body", c.body)
		if (len(f) == 0) != c.ok {
			t.Errorf("%q: ok=%v, fields %v", c.body, len(f) == 0, f)
		}
	}
	if got := revisit.RenderSMS("{name}先生/女士您好 {consultant} {x}", map[string]string{"name": "王", "consultant": "李"}); got != "王先生/女士您好 李 {x}" {
		t.Fatalf("render: %q", got)
	}
}

// TestSMSTemplatesAPI: templates are created and changed by revisit:manage only, and a
// template breaking the rule is refused.
func TestSMSTemplatesAPI(t *testing.T) {
	e := newWorkEnv(t)
	admin := e.srv.As(t, "admin")
	good := "尊敬的贵宾，本周六样板房开放，欢迎莅临。预约电话：400-800-1234 置业顾问：{consultant}"
	wkStatus(t, e.agent.Do(t, http.MethodPost, "/api/v1/revisit-sms-templates", map[string]any{"name": "open day", "body": good}), http.StatusForbidden)
	wkStatus(t, e.sup.Do(t, http.MethodGet, "/api/v1/revisit-sms-templates", nil), http.StatusForbidden)
	r := admin.Do(t, http.MethodPost, "/api/v1/revisit-sms-templates", map[string]any{"name": "bad", "body": "本周六样板房开放"})
	wkStatus(t, r, http.StatusUnprocessableEntity)
	if f := wkErrFields(t, r); len(f) != 1 || f[0] != "body" {
		t.Fatalf("fields %v", f)
	}
	r = admin.Do(t, http.MethodPost, "/api/v1/revisit-sms-templates", map[string]any{"name": "open day", "body": good})
	wkStatus(t, r, http.StatusCreated)
	var v revisit.SMSTemplateView
	if err := json.Unmarshal(r.Body, &v); err != nil || v.Version != 1 || !v.Active {
		t.Fatalf("created %s", r.Body)
	}
	wkStatus(t, admin.Do(t, http.MethodPost, "/api/v1/revisit-sms-templates", map[string]any{"name": "open day", "body": good}), http.StatusConflict)
	path := fmt.Sprintf("/api/v1/revisit-sms-templates/%d", v.ID)
	wkStatus(t, admin.Do(t, http.MethodPatch, path, map[string]any{"active": false}), http.StatusPreconditionRequired)
	wkStatus(t, admin.Do(t, http.MethodPatch, path, map[string]any{"body": "你好 {consultant}", "version": 1}), http.StatusUnprocessableEntity)
	wkStatus(t, admin.Do(t, http.MethodPatch, path, map[string]any{"active": false, "version": 7}), http.StatusConflict)
	r = admin.Do(t, http.MethodPatch, path, map[string]any{"active": false, "version": 1})
	wkStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &v); err != nil || v.Version != 2 || v.Active {
		t.Fatalf("patched %s", r.Body)
	}
	r = admin.Do(t, http.MethodGet, "/api/v1/revisit-sms-templates", nil)
	wkStatus(t, r, http.StatusOK)
	var list struct {
		Items []revisit.SMSTemplateView `json:"items"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("list %s", r.Body)
	}
	wkStatus(t, admin.Do(t, http.MethodPatch, "/api/v1/revisit-sms-templates/999999", map[string]any{"version": 1}), http.StatusNotFound)
}
