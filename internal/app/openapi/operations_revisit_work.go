package openapi

import (
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// The visit-work operations (internal/revisit: records, retries, follow-ups, sign-off,
// false records and sanctions, SMS templates; the guide is docs/revisit-work.md). The
// contract test's revisitWorkHooks create what the examples act on: a customer and five
// visit tasks of the "holiday_care" rule (no script) in the agent's department
// ({revisit_visit_id} recorded by phone with a new issue, {revisit_signed_visit_id} on
// site with a signature, {revisit_unreached_visit_id} unreached, and two recorded by the
// agent beforehand: {revisit_review_visit_id} to sign off and flag false, and
// {revisit_false_visit_id}, already flagged, to confirm), then, after the confirmations,
// the two proposed sanctions {revisit_sanction_id} and {revisit_sanction2_id}.
//
// Chinese texts in the JSON bodies are written as JSON \u escapes (no Chinese characters
// in Go source); the document and docs/revisit-work.md show them decoded.

func revisitWorkOperations() []Op {
	const tag, reviewTag, setTag = "return-visit work", "return-visit review", "return-visit settings"
	return []Op{
		{Method: "POST", Path: "/api/v1/revisits/{id}/record", Tag: tag, Summary: "Record a visit of a task: method, time (default now), reached, satisfaction 1-5 and the answers to the rule's script when reached, important, new issues (each becomes a follow-up request with the appointment time told to the customer), and for an on-site visit the customer's signature as a PNG data URL (or multipart/form-data: the JSON in the \"record\" part, the PNG in the \"signature\" part). A reached visit completes the task; an unreached one is an attempt with its retry, or makes the task unreached after the last retry. Missing parts are refused together (422 naming each).",
			Body: revisit.RecordInput{}, Resp: revisit.RecordView{},
			Example: Example{Path: "/api/v1/revisits/{revisit_visit_id}/record", Body: `{"method": "phone", "reached": true, "satisfaction": 2, "important": true, "answers": {"Any other comments?": "\u7535\u68af\u8fd8\u662f\u7ecf\u5e38\u505c\u5728\u4e24\u5c42\u4e4b\u95f4"}, "note": "\u5ba2\u6237\u5bf9\u7ef4\u4fee\u7ed3\u679c\u4e0d\u6ee1\u610f", "issues": [{"text": "3\u53f7\u7535\u68af\u4ecd\u7136\u7ecf\u5e38\u505c\u5728\u4e24\u5c42\u4e4b\u95f4\uff0c\u8981\u6c42\u5f7b\u5e95\u68c0\u4fee", "appointment_at": "2030-01-15T10:00:00+08:00"}]}`},
			More: []Example{
				{Path: "/api/v1/revisits/{revisit_signed_visit_id}/record", Body: `{"method": "onsite", "reached": true, "satisfaction": 5, "answers": {"Any other comments?": "\u65e0"}, "signature": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABgAAAAYCAAAAADFHGIkAAAAPklEQVR42pXSsQEAIACDsPz/NHqAHWTNCnrGEA3REA3REA3REA3REA3REA3REA3REA3REA3REA0xRsjfIlcOy/L4FlCcF3YAAAAASUVORK5CYII="}`},
				{Path: "/api/v1/revisits/{revisit_unreached_visit_id}/record", Body: `{"method": "phone", "reached": false, "note": "\u65e0\u4eba\u63a5\u542c"}`},
			}},
		{Method: "GET", Path: "/api/v1/revisits/{id}", Tag: tag, Summary: "Read a visit task with its records, attempts, issues (with their follow-up requests and next visits) and the notices sent about it.",
			Resp: revisit.RecordView{}, Example: Example{Path: "/api/v1/revisits/{revisit_visit_id}"}},
		{Method: "GET", Path: "/api/v1/revisits/{id}/signature", Tag: tag, Summary: "The customer's signature of the task's latest signed on-site visit, as a PNG image.",
			RespMedia: "image/png", Example: Example{Path: "/api/v1/revisits/{revisit_signed_visit_id}/signature"}},

		{Method: "POST", Path: "/api/v1/revisits/{id}/signoff", Tag: reviewTag, Summary: "Sign off a record of the task (its latest unless record_id is given) with the supervisor's opinion; the note is required, a record is signed off once, never by its own visitor.",
			Body: revisit.SignoffInput{}, Resp: revisit.RecordView{},
			Example: Example{Path: "/api/v1/revisits/{revisit_review_visit_id}/signoff", Body: `{"note": "\u5df2\u6838\u5b9e\uff0c\u8bb0\u5f55\u5b8c\u6574\uff0c\u5ba2\u6237\u610f\u89c1\u5df2\u8f6c\u5de5\u7a0b\u90e8\u8ddf\u8fdb"}`}},
		{Method: "POST", Path: "/api/v1/revisits/{id}/flag-false", Tag: reviewTag, Summary: "Flag a record false (the customer denies the visit, say): the reason is required; staff_id is whose false visit it is (default: the salesperson whose visit the task verifies, else the visitor). The director is notified.",
			Body: revisit.FlagFalseInput{}, Resp: revisit.RecordView{},
			Example: Example{Path: "/api/v1/revisits/{revisit_review_visit_id}/flag-false", Body: `{"reason": "\u5ba2\u6237\u5426\u8ba4\u5f53\u5929\u6709\u4e1a\u52a1\u4eba\u5458\u4e0a\u95e8\u62dc\u8bbf"}`}},
		{Method: "POST", Path: "/api/v1/revisits/{id}/confirm-false", Tag: reviewTag, Summary: "Confirm a flagged record false: counts the staff member's confirmed false visits and proposes the sanction in order (1st: the month's performance pay; 2nd: the month's whole pay and commission; 3rd and later: dismissal).",
			Body: revisit.ConfirmFalseInput{}, Resp: revisit.RecordView{},
			Example: Example{Path: "/api/v1/revisits/{revisit_false_visit_id}/confirm-false", Body: `{"note": "\u7ecf\u7535\u8bdd\u518d\u6b21\u6838\u5b9e\uff0c\u786e\u8ba4\u4e3a\u865a\u5047\u62dc\u8bbf"}`},
			More:    []Example{{Path: "/api/v1/revisits/{revisit_review_visit_id}/confirm-false", Body: `{}`}}},
		{Method: "GET", Path: "/api/v1/revisit-sanctions", Tag: reviewTag, Summary: "List the sanctions proposed for confirmed false records, newest first.",
			Query: list(str("status", "proposed, approved or rejected."), num("staff_id", "Whose sanctions.")),
			Resp:  httpx.Page[revisit.SanctionView]{}, Example: Example{Path: "/api/v1/revisit-sanctions?status=proposed"}},
		{Method: "POST", Path: "/api/v1/revisit-sanctions/{id}/approve", Tag: reviewTag, Summary: "Approve a proposed sanction (never one on yourself).",
			Body: revisit.DecideInput{}, Resp: revisit.SanctionView{},
			Example: Example{Path: "/api/v1/revisit-sanctions/{revisit_sanction_id}/approve", Body: `{}`}},
		{Method: "POST", Path: "/api/v1/revisit-sanctions/{id}/reject", Tag: reviewTag, Summary: "Reject a proposed sanction; the note is required.",
			Body: revisit.DecideInput{}, Resp: revisit.SanctionView{},
			Example: Example{Path: "/api/v1/revisit-sanctions/{revisit_sanction2_id}/reject", Body: `{"note": "\u5ba2\u6237\u8bb0\u9519\u4e86\u62dc\u8bbf\u65e5\u671f\uff0c\u62dc\u8bbf\u5c5e\u5b9e"}`}},

		{Method: "POST", Path: "/api/v1/revisit-sms-templates", Tag: setTag, Summary: "Add an SMS revisit template: it must start with the respectful greeting and end with the booking line and the consultant's name ({consultant}); placeholders {name}, {consultant}, {booking_phone}, {project}, {date}.",
			Body: revisit.SMSTemplateInput{}, Resp: revisit.SMSTemplateView{}, Status: 201,
			Example: Example{Path: "/api/v1/revisit-sms-templates", Body: `{"name": "\u6837\u677f\u623f\u5f00\u653e\u65e5", "body": "\u5c0a\u656c\u7684\u8d35\u5bbe\uff0c\u672c\u5468\u516d\u6837\u677f\u623f\u5f00\u653e\uff0c\u6b22\u8fce\u8385\u4e34\u53c2\u89c2\u3002\u9884\u7ea6\u7535\u8bdd\uff1a400-800-1234 \u7f6e\u4e1a\u987e\u95ee\uff1a{consultant}"}`, Yields: "revisit_sms_template_id"}},
		{Method: "GET", Path: "/api/v1/revisit-sms-templates", Tag: setTag, Summary: "List the SMS revisit templates.",
			Resp: httpx.Page[revisit.SMSTemplateView]{}, Example: Example{Path: "/api/v1/revisit-sms-templates"}},
		{Method: "PATCH", Path: "/api/v1/revisit-sms-templates/{id}", Tag: setTag, Summary: "Change an SMS revisit template (the same rule applies; version required).",
			Body: revisit.SMSTemplatePatch{}, Resp: revisit.SMSTemplateView{},
			Example: Example{Path: "/api/v1/revisit-sms-templates/{revisit_sms_template_id}", Body: `{"body": "{name}\u5148\u751f/\u5973\u58eb\u60a8\u597d\uff0c\u672c\u5468\u516d\u6837\u677f\u623f\u5f00\u653e\uff0c\u6b22\u8fce\u8385\u4e34\u53c2\u89c2\u3002\u9884\u7ea6\u7535\u8bdd\uff1a{booking_phone} \u7f6e\u4e1a\u987e\u95ee\uff1a{consultant}", "version": "{revisit_sms_template_id_version}"}`}},
		{Method: "GET", Path: "/api/v1/revisit-retry-schedule", Tag: setTag, Summary: "Read the retry schedule of unreached visits (default +2h, +1wd, +3wd).",
			Resp: revisit.RetrySchedule{}, Example: Example{Path: "/api/v1/revisit-retry-schedule"}},
		{Method: "PUT", Path: "/api/v1/revisit-retry-schedule", Tag: setTag, Summary: "Replace the retry schedule: steps \"+Nm\" minutes, \"+Nh\" hours or \"+Nwd\" working days (at most 10; an empty list: no retry). Retries never fall inside the do-not-disturb windows.",
			Body: revisit.RetrySchedule{}, Resp: revisit.RetrySchedule{},
			Example: Example{Path: "/api/v1/revisit-retry-schedule", Body: `{"steps": ["+2h", "+1wd", "+3wd"]}`}},
	}
}
