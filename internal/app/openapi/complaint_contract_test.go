package openapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/app/openapi"
)

// complaintHooks are the after hooks of the complaint examples (TestEveryOperationExample):
// what the administrator's examples cannot do alone. Nobody approves their own proposal,
// penalty or public letter, so the head (supervisor) of the responsible department — the
// examples' {dept_id} — proposes and drafts what the examples approve. The hooks also
// upload the anonymous complaint's reply letter and prepare {approved_complaint_id}, a
// complaint whose proposal its department head approved, for the later stages.
func complaintHooks(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte) {
	// do sends one request and returns the answer's JSON object (nil after reporting a
	// failure: the examples that need its ids then fail on their placeholders).
	do := func(c *apptest.Client, method, path, body string, want int) map[string]any {
		t.Helper()
		var send any
		if body != "" {
			send = body
		}
		r := c.Do(t, method, path, send)
		if r.Status != want {
			t.Errorf("complaint fixture %s %s: %d, want %d\n%s\n%s", method, path, r.Status, want, body, r.Body)
			return nil
		}
		var m map[string]any
		_ = json.Unmarshal(r.Body, &m)
		return m
	}
	id := func(m map[string]any) string {
		if m == nil || m["id"] == nil {
			return ""
		}
		b, _ := json.Marshal(m["id"])
		return string(b)
	}
	// itemID is the id of the first item of a list answer whose member key is value.
	itemID := func(body []byte, key, value string) string {
		var p struct {
			Items []map[string]any `json:"items"`
		}
		_ = json.Unmarshal(body, &p)
		for _, it := range p.Items {
			if it[key] == value {
				return id(it)
			}
		}
		t.Errorf("complaint fixture: no item with %s = %q in %s", key, value, body)
		return ""
	}
	head := func() *apptest.Client { return s.As(t, "supervisor@aftersales") } // the department of {dept_id}
	complaintPath := func(name, rest string) string {
		return "/api/v1/complaints/" + f[name] + rest
	}

	return map[string]func([]byte){
		"GET /api/v1/complaint-settings": func(body []byte) {
			var m struct {
				Version int64 `json:"version"`
			}
			if json.Unmarshal(body, &m) == nil {
				f["complaint_settings_version"] = strconv.FormatInt(m.Version, 10)
			}
		},
		"GET /api/v1/complaint-causes": func(body []byte) {
			f["repair_cause_id"] = itemID(body, "code", "repair_quality")
			f["product_cause_id"] = itemID(body, "code", "product_quality")
		},
		// An added cause nobody uses, for the deletion example.
		"POST /api/v1/complaint-causes": func([]byte) {
			create("/api/v1/complaint-causes", `{"name": "待归类", "sort_order": 99}`, "spare_cause_id")
		},
		"POST /api/v1/complaints": func([]byte) {
			sup := head()
			f["supervisor_id"] = strconv.FormatInt(sup.Staff.ID, 10)

			// The reply letter (复函) of the anonymous complaint: an attachment of its request.
			c := do(admin, "GET", complaintPath("anonymous_complaint_id", ""), "", http.StatusOK)
			if c != nil {
				tid, _ := json.Marshal(c["ticket_id"])
				body, headers := f.request(t, openapi.Example{File: &openapi.ExampleFile{Field: "file",
					Name: "reply-letter.txt", Content: "关于阳光花园小区夜间施工噪音的复函：经核查，系市政供水管道抢修。"}})
				r := admin.DoWithHeaders(t, "POST", "/api/v1/tickets/"+string(tid)+"/attachments", body, headers)
				if r.Status != http.StatusCreated {
					t.Errorf("complaint fixture: reply letter upload: %d %s", r.Status, r.Body)
				} else {
					f["reply_letter_attachment_id"] = id(r.JSON(t))
				}
			}

			// A complaint up to an approved proposal: the administrator investigates and
			// proposes, the department head approves.
			a := do(admin, "POST", "/api/v1/complaints", `{"channel": "phone", "severity": "general", "title": "地下车库B区照明长期损坏",
				"body": "地下车库B区一半的灯不亮已经两周，晚上停车很危险。", "customer_id": `+f["customer_id"]+`,
				"complaint": {"location": "科技园地下车库B区", "object_kind": "service"}}`, http.StatusCreated)
			aid := id(a)
			if aid == "" {
				return
			}
			f["approved_complaint_id"] = aid
			move := func(body string) bool {
				return do(admin, "POST", "/api/v1/complaints/"+aid+"/transition", body, http.StatusOK) != nil
			}
			if !move(`{"stage": "assessing"}`) ||
				!move(`{"stage": "investigating", "reason": "投诉成立", "resp_dept_id": `+f["dept_id"]+`}`) ||
				!move(`{"stage": "proposing", "cause_id": `+f["product_cause_id"]+`, "cause_kind": "other",
					"findings": "同一批次LED灯具质量问题，批量损坏。", "proposals": [{"body": "整批更换B区灯具，向供应商索赔。"}]}`) {
				return
			}
			r := sup.Do(t, "GET", "/api/v1/complaints/"+aid+"/proposals", nil)
			pid := itemID(r.Body, "status", "proposed")
			do(sup, "POST", "/api/v1/complaints/"+aid+"/approve", `{"proposal_id": `+pid+`, "instruction": "同意，三天内完成更换。"}`, http.StatusOK)
		},
		// The department head's own proposal, which the administrator approves.
		"POST /api/v1/complaints/{id}/proposals": func([]byte) {
			p := do(head(), "POST", complaintPath("complaint_id", "/proposals"), `{"body": "重做1303室卫生间防水层并闭水试验，修复1203室吊顶，承担地毯清洗费用。",
				"comp_form": "减免一个月物业管理费并赔偿清洗费", "comp_amount": 158000}`, http.StatusCreated)
			f["supervisor_proposal_id"] = id(p)
		},
		// Penalties the department head proposes: the administrator approves the warning
		// (with the proposal) and refuses the demotion.
		"POST /api/v1/complaints/{id}/penalties": func([]byte) {
			sup := head()
			w := do(sup, "POST", complaintPath("complaint_id", "/penalties"), `{"staff_id": `+f["staff_id"]+`, "role": "direct",
				"kind": "warning", "note": "维修未查明渗水源头"}`, http.StatusCreated)
			f["warning_penalty_id"] = id(w)
			d := do(sup, "POST", complaintPath("complaint_id", "/penalties"), `{"staff_id": `+f["staff_id"]+`, "role": "direct",
				"kind": "demotion", "note": "一周内同一问题二次投诉"}`, http.StatusCreated)
			f["demotion_penalty_id"] = id(d)
		},
		"GET /api/v1/complaints/{id}/tasks": func(body []byte) {
			f["rectification_task_id"] = itemID(body, "kind", "rectification_report")
		},
		// The department head decides the administrator's fine; the approved proposal is
		// then carried out (executing), so that publishing the letter gives the feedback.
		"POST /api/v1/complaints/{id}/approve": func([]byte) {
			do(head(), "POST", complaintPath("complaint_id", "/penalties/"+f["penalty_id"]+"/decide"),
				`{"approve": true, "note": "同意B类罚款"}`, http.StatusOK)
			do(admin, "POST", complaintPath("complaint_id", "/transition"), `{"stage": "executing", "reason": "方案已批准"}`, http.StatusOK)
		},
		// The department head's letter, which the administrator approves and publishes.
		"POST /api/v1/complaint-letters": func([]byte) {
			l := do(head(), "POST", "/api/v1/complaint-letters", `{"title": "关于科技园A座渗水问题的公开信",
				"body": "尊敬的各位租户：A座12层渗水源于楼上卫生间防水层破损，我们已重做防水层并完成闭水试验，受影响的租户将获得相应补偿。",
				"complaint_ids": [`+f["complaint_id"]+`]}`, http.StatusCreated)
			f["supervisor_letter_id"] = id(l)
		},
	}
}
