package openapi

import (
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/survey"
)

// The survey operations (internal/survey; the guide is docs/surveys.md), sent in this
// order after the return visits: the sending settings, the templates (the seeded
// default and a new one for return visits), a phone survey of the example customer
// created with the new template, its answers keyed in, the list and the results. The
// public pages at /s/{token} are HTML, outside /api/v1, and not in this document.
//
// Chinese texts in the JSON bodies are written as JSON \u escapes (no Chinese
// characters in Go source); the document and docs/surveys.md show them decoded.

// surveyFilters are the filters of the invitation list.
var surveyFilters = []Param{
	str("status", "pending, sent, answered, expired or unsendable."),
	str("channel", "email, sms, portal or phone."),
	str("source", "ticket (a request resolved), revisit (a return visit done) or manual."),
	num("customer_id", "Customer id."), num("ticket_id", "Request id."), num("agent_id", "The agent of the request or the sender."),
	num("template_id", "Survey template id."),
	str("from", "Created at or after: RFC 3339, or YYYY-MM-DD in China time."),
	str("to", "Created before: RFC 3339, or YYYY-MM-DD in China time."),
}

func surveyOperations() []Op {
	const tag = "surveys"
	return []Op{
		{Method: "GET", Path: "/api/v1/survey-settings", Tag: tag,
			Summary: "The sending settings: after which events surveys go out, the delay and window after the event, how long a link lasts, the channels in order, the template of automatic surveys.",
			Resp:    survey.Settings{}, Example: Example{Path: "/api/v1/survey-settings"}},
		{Method: "PUT", Path: "/api/v1/survey-settings", Tag: tag,
			Summary: "Change the sending settings (members not sent stay; version 0 before the first change, or If-Match).",
			Body:    survey.SettingsInput{}, Resp: survey.Settings{},
			Example: Example{Path: "/api/v1/survey-settings", Body: `{"send_delay": "2h", "send_window": "3d", "link_ttl": "7d", "channels": ["email", "sms", "portal"], "version": "{survey_settings_version}"}`}},
		{Method: "GET", Path: "/api/v1/survey-templates", Tag: tag, Summary: "List the survey templates (the seeded default: CSAT, NPS and a comment).",
			Resp: httpx.Page[survey.Template]{}, Example: Example{Path: "/api/v1/survey-templates"}},
		{Method: "POST", Path: "/api/v1/survey-templates", Tag: tag,
			Summary: "Create a survey template: ordered questions of kind csat (1-5), nps (0-10), ces (1-7), text, single or multiple (with options).",
			Body:    survey.TemplateInput{}, Resp: survey.Template{}, Status: 201,
			Example: Example{Path: "/api/v1/survey-templates", Body: `{"name": "\u56de\u8bbf\u540e\u6ee1\u610f\u5ea6\u8c03\u67e5", "description": "\u56de\u8bbf\u7ed3\u675f\u540e\u53d1\u9001", "questions": [{"key": "csat", "kind": "csat", "text": "\u60a8\u5bf9\u8fd9\u6b21\u56de\u8bbf\u6ee1\u610f\u5417\uff1f", "required": true}, {"key": "ces", "kind": "ces", "text": "\u529e\u7406\u8fd9\u4ef6\u4e8b\u8d39\u529b\u5417\uff1f"}, {"key": "liked", "kind": "multiple", "text": "\u54ea\u4e9b\u65b9\u9762\u505a\u5f97\u597d\uff1f", "options": ["\u6001\u5ea6", "\u901f\u5ea6", "\u8d28\u91cf"]}, {"key": "comment", "kind": "text", "text": "\u8fd8\u6709\u4ec0\u4e48\u5efa\u8bae\uff1f"}]}`, Yields: "survey_template_id"}},
		{Method: "GET", Path: "/api/v1/survey-templates/{id}", Tag: tag, Summary: "Read a survey template.",
			Resp: survey.Template{}, Example: Example{Path: "/api/v1/survey-templates/{survey_template_id}"}},
		{Method: "PATCH", Path: "/api/v1/survey-templates/{id}", Tag: tag,
			Summary: "Change a survey template (name, description, questions, active, is_default); the default template cannot be switched off.",
			Body:    survey.TemplatePatch{}, Resp: survey.Template{},
			Example: Example{Path: "/api/v1/survey-templates/{survey_template_id}", Body: `{"description": "\u56de\u8bbf\u7ed3\u675f\u540e\u7531\u5ba2\u670d\u53d1\u9001\u6216\u7535\u8bdd\u8be2\u95ee", "version": "{survey_template_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/surveys", Tag: tag,
			Summary: "Send a survey by hand to a customer or to the customer of a request (ticket_id): by email, SMS, on the portal, or ask on the phone (then key in the answers).",
			Body:    survey.CreateInput{}, Resp: survey.DetailView{}, Status: 201,
			Example: Example{Path: "/api/v1/surveys", Body: `{"customer_id": "{customer_id}", "template_id": "{survey_template_id}", "channel": "phone"}`, Yields: "survey_id"}},
		{Method: "GET", Path: "/api/v1/surveys", Tag: tag, Summary: "List survey invitations within reach, newest first.",
			Query: list(surveyFilters...), Resp: httpx.Page[survey.InviteView]{},
			Example: Example{Path: "/api/v1/surveys?channel=phone&status=sent&limit=20"}},
		{Method: "GET", Path: "/api/v1/surveys/{id}", Tag: tag, Summary: "Read a survey invitation with its answers (null before they come).",
			Resp: survey.DetailView{}, Example: Example{Path: "/api/v1/surveys/{survey_id}"}},
		{Method: "POST", Path: "/api/v1/surveys/{id}/answers", Tag: tag,
			Summary: "Key in the answers the customer gave on the phone (one answer sheet per survey: a second is 409).",
			Body:    survey.KeyInInput{}, Resp: survey.DetailView{},
			Example: Example{Path: "/api/v1/surveys/{survey_id}/answers", Body: `{"answers": {"csat": 5, "ces": 2, "liked": ["\u6001\u5ea6", "\u901f\u5ea6"], "comment": "\u5e08\u5085\u5f88\u4e13\u4e1a"}}`}},
		{Method: "GET", Path: "/api/v1/survey-results", Tag: tag,
			Summary: "Results per agent, team, request type, channel or month: response rate, CSAT average and distribution, NPS (promoters 9-10 minus detractors 0-6), CES average.",
			Query: []Param{str("group", "agent (default), team, type, channel or period (month)."),
				str("from", "Created at or after: RFC 3339, or YYYY-MM-DD in China time (default a month before to)."),
				str("to", "Created before: RFC 3339, or YYYY-MM-DD in China time (default now).")},
			Resp: survey.Results{}, Example: Example{Path: "/api/v1/survey-results?group=channel"}},
	}
}
