package openapi

import (
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// The return-visit engine's operations (internal/revisit: rules, the plan runs, tasks,
// settings; the guide is docs/revisits.md). The contract test's revisitHooks put one
// open task in place ({revisit_task_id}, assigned to the administrator) and name the
// administrator as the assignee of the reassignment ({revisit_assignee_id}); the
// settings' version comes from the GET before the PUT.
//
// Chinese texts in the JSON bodies are written as JSON \u escapes (no Chinese characters
// in Go source); the document and docs/revisits.md show them decoded.

// revisitTaskFilters are the filters of the task list.
var revisitTaskFilters = []Param{
	str("rule", "Rule code."), str("status", "open, done, unreached, cancelled or expired."),
	num("assignee_id", "Who visits."), num("customer_id", "Customer id."),
	str("source_type", "ticket, complaint, activity, fieldvisit, customer, plan or task."), num("source_id", "The source's id."),
	str("due_before", "Window ends before: RFC 3339, or YYYY-MM-DD in China time."),
	str("view", "mine (assigned to me), team (my team's) or overdue (open past the window)."),
}

func revisitOperations() []Op {
	const tag, taskTag, setTag = "return-visit rules", "return-visit tasks", "return-visit settings"
	return []Op{
		{Method: "GET", Path: "/api/v1/revisit-rules", Tag: tag, Summary: "List every return-visit rule in display order (the seeded defaults included).",
			Resp: httpx.Page[revisit.Rule]{}, Example: Example{Path: "/api/v1/revisit-rules"}},
		{Method: "POST", Path: "/api/v1/revisit-rules", Tag: tag, Summary: "Add a rule: triggers, filters, window, sampling rate, who visits by level, methods, script and repeat.",
			Body: revisit.RuleInput{}, Resp: revisit.Rule{}, Status: 201,
			Example: Example{Path: "/api/v1/revisit-rules", Body: `{"code": "after_sales_done", "name": "\u552e\u540e\u5b8c\u6210\u56de\u8bbf", "description": "\u552e\u540e\u8bf7\u6c42\u89e3\u51b3\u540e\u4e24\u4e2a\u5de5\u4f5c\u65e5\u5185\u7535\u8bdd\u56de\u8bbf20%", "triggers": ["ticket.resolved"], "filters": {"types": ["after_sales"]}, "window": {"start": "0h", "length": "2d", "mode": "working_days"}, "rate_pct": 20, "assignees": {"default": "source_agent"}, "methods": ["phone", "sms"], "script": [{"q": "\u552e\u540e\u5904\u7406\u7ed3\u679c\u662f\u5426\u6ee1\u610f\uff1f"}, {"q": "\u5904\u7406\u4eba\u5458\u7684\u670d\u52a1\u6001\u5ea6\u5982\u4f55\uff1f"}], "active": true, "sort_order": 90}`, Yields: "revisit_rule_id"}},
		{Method: "GET", Path: "/api/v1/revisit-rules/{id}", Tag: tag, Summary: "Read a rule.",
			Resp: revisit.Rule{}, Example: Example{Path: "/api/v1/revisit-rules/{revisit_rule_id}"}},
		{Method: "PATCH", Path: "/api/v1/revisit-rules/{id}", Tag: tag, Summary: "Change a rule at its version (members left out keep their value; the code never changes).",
			Body: revisit.RulePatch{}, Resp: revisit.Rule{},
			Example: Example{Path: "/api/v1/revisit-rules/{revisit_rule_id}", Body: `{"rate_pct": 25, "script": [{"q": "\u552e\u540e\u5904\u7406\u7ed3\u679c\u662f\u5426\u6ee1\u610f\uff1f"}], "version": "{revisit_rule_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/revisit-rules/{id}/disable", Tag: tag, Summary: "Switch a rule off (its events are no longer decided on).",
			Resp: revisit.Rule{}, OptionalBody: true, Example: Example{Path: "/api/v1/revisit-rules/{revisit_rule_id}/disable"}},
		{Method: "POST", Path: "/api/v1/revisit-rules/{id}/enable", Tag: tag, Summary: "Switch a rule on.",
			Resp: revisit.Rule{}, OptionalBody: true, Example: Example{Path: "/api/v1/revisit-rules/{revisit_rule_id}/enable"}},
		{Method: "POST", Path: "/api/v1/revisit-plans/run", Tag: tag, Summary: "Run a plan: a monthly rule for a month (YYYY-MM; coop_monthly: every customer cooperating on the 1st, in the first three working days) or a holiday rule for the first day of a holiday. Running a period again creates nothing new.",
			Body: revisit.PlanInput{}, Resp: revisit.PlanResult{},
			Example: Example{Path: "/api/v1/revisit-plans/run", Body: `{"rule": "coop_monthly", "month": "2026-10"}`}},
		{Method: "GET", Path: "/api/v1/revisit-tasks", Tag: taskTag, Summary: "List the return-visit tasks in the actor's scope, newest first.",
			Query: list(revisitTaskFilters...), Resp: httpx.Page[revisit.TaskView]{},
			Example: Example{Path: "/api/v1/revisit-tasks?status=open&due_before=2030-01-01"}},
		{Method: "GET", Path: "/api/v1/revisit-tasks/{id}", Tag: taskTag, Summary: "Read a task (out of scope reads as 404).",
			Resp: revisit.TaskView{}, Example: Example{Path: "/api/v1/revisit-tasks/{revisit_task_id}"}},
		{Method: "POST", Path: "/api/v1/revisit-tasks/{id}/assign", Tag: taskTag, Summary: "Hand an open task to another staff member the actor reaches (department scope or wider).",
			Body: revisit.AssignInput{}, Resp: revisit.TaskView{},
			Example: Example{Path: "/api/v1/revisit-tasks/{revisit_task_id}/assign", Body: `{"assignee_id": "{revisit_assignee_id}"}`}},
		{Method: "GET", Path: "/api/v1/revisit-settings", Tag: setTag, Summary: "Read the engine settings: do-not-disturb windows, the customers' time zone, the revisit center team (version 0: the defaults).",
			Resp: revisit.Settings{}, Example: Example{Path: "/api/v1/revisit-settings"}},
		{Method: "PUT", Path: "/api/v1/revisit-settings", Tag: setTag, Summary: "Replace the engine settings at their version (a window past midnight is written 21:00-09:00).",
			Body: revisit.Settings{}, Resp: revisit.Settings{},
			Example: Example{Path: "/api/v1/revisit-settings", Body: `{"dnd": ["12:00-14:00", "21:00-09:00"], "time_zone": "Asia/Shanghai", "center_team_id": 0, "version": "{revisit_settings_version}"}`}},
	}
}
