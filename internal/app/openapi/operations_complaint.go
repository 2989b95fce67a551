package openapi

import (
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// The complaint operations (internal/complaint; the guide is docs/complaints.md). Their
// examples form one workflow, sent in this order after the service-request examples:
// the settings and the cause tree; three complaints recorded (a named one, an anonymous
// one that a higher authority wants answered in writing, and the named customer's
// second complaint about the same leak); duplicates, merge and unmerge; the stages up to
// the proposal; proposals, penalties, the rectification report and the approval; a
// public letter; the case library and the analysis. The contract test's after hooks add
// what an administrator alone cannot do: the responsible department's head proposes and
// drafts (nobody approves their own proposal or letter), a reply letter is uploaded, and
// {approved_complaint_id} is a complaint whose proposal its department head approved.
//
// Chinese texts in the JSON bodies are written as JSON \u escapes (no Chinese characters
// in Go source); the document and docs/complaints.md show them decoded.

// complaintInput is the body of POST /api/v1/complaints: a request (its type is always
// complaint) and, in "complaint", the complaint's own intake fields.
type complaintInput struct {
	ticket.Input
	Complaint complaint.Details `json:"complaint"`
}

// complaintDetail is the JSON of complaint.DetailView: its proposals, penalties and tasks
// marshal as their views without the labels (their MarshalJSON), the letters as LetterView.
type complaintDetail struct {
	complaint.View
	Stages    []complaint.StageView    `json:"stages"`
	Proposals []complaint.ProposalView `json:"proposals"`
	Penalties []complaint.PenaltyView  `json:"penalties"`
	Tasks     []complaint.TaskView     `json:"tasks"`
	Letters   []complaint.LetterView   `json:"letters"`
}

// complaintSettingsInput mirrors the body of PUT /api/v1/complaint-settings.
type complaintSettingsInput struct {
	Levels         map[complaint.Level]complaint.LevelTargets `json:"levels"`
	Stages         map[complaint.Stage]complaint.Target       `json:"stages"`
	WarnBefore     string                                     `json:"warn_before"`
	Fines          map[string]int64                           `json:"fines"`
	DuplicateDays  int                                        `json:"duplicate_days"`
	DuplicateScore float64                                    `json:"duplicate_score"`
	RejectTemplate string                                     `json:"reject_template"`
	Version        *int64                                     `json:"version"`
}

// complaintFilters are the filters of the complaint list.
var complaintFilters = []Param{pQ,
	str("stage", "received, assessing, rejected, investigating, proposing, executing, feedback, evaluating or closed."),
	str("level", "general, urgent or major."),
	num("dept_id", "The request's or the responsible department."),
	num("cause_id", "Root cause (the cause tree)."),
	str("object", "What the complaint is about: department, staff, product or service."),
	num("customer_id", "Customer id."),
	num("master_id", "The complaints merged into this one."),
	str("from", "Received at or after: RFC 3339, or YYYY-MM-DD in China time."),
	str("to", "Received before: RFC 3339, or YYYY-MM-DD in China time."),
	flag("anonymous", "Only anonymous (true) or only named (false) complaints."),
	flag("open", "Only open (true) or only closed (false) complaints."),
	flag("masters", "Leave out the complaints merged into another (each issue once)."),
	flag("cases", "Only complaints marked as cases."),
}

// analysisPeriod are the query parameters of the analysis and its export.
var analysisPeriod = []Param{
	str("from", "Start of the period (received at or after): RFC 3339, or YYYY-MM-DD in China time. Default: this year."),
	str("to", "End of the period, exclusive (at most 3 years after from)."),
	num("dept_id", "Only this department (the request's or the responsible one)."),
}

func complaintOperations() []Op {
	const tag, setTag, resTag, mergeTag, letterTag, anTag = "complaints", "complaint settings", "complaint resolution",
		"complaint merging", "public letters", "complaint analysis"
	return []Op{
		// ---- settings and the cause tree ----
		{Method: "GET", Path: "/api/v1/complaint-settings", Tag: setTag, Summary: "Read the complaint settings: targets by level and stage, warning lead time, fine amounts, duplicate window, rejection template (version 0: the defaults).",
			Resp: complaint.Settings{}, Example: Example{Path: "/api/v1/complaint-settings"}},
		{Method: "PUT", Path: "/api/v1/complaint-settings", Tag: setTag, Summary: "Replace the complaint settings (members left out take their defaults; version: the one read, 0 for the defaults).",
			Body: complaintSettingsInput{}, Resp: complaint.Settings{},
			Example: Example{Path: "/api/v1/complaint-settings", Body: `{"warn_before": "1h", "fines": {"A": 10000, "B": 30000, "C": 50000, "D": 100000}, "duplicate_days": 45, "duplicate_score": 0.5, "reject_template": "\u60a8\u597d\uff0c\u7ecf\u6838\u67e5\uff0c\u60a8\u53cd\u6620\u7684\u60c5\u51b5\u4e0e\u5b9e\u9645\u4e0d\u7b26\uff0c\u5177\u4f53\u8bf4\u660e\u5982\u4e0b\uff1a", "version": "{complaint_settings_version}"}`}},
		{Method: "GET", Path: "/api/v1/complaint-causes", Tag: setTag, Summary: "List the cause tree (built-in causes are named in the request's language).",
			Resp: httpx.Page[complaint.CauseView]{}, Example: Example{Path: "/api/v1/complaint-causes"}},
		{Method: "POST", Path: "/api/v1/complaint-causes", Tag: setTag, Summary: "Add a cause (under a parent, at most 4 levels deep).",
			Body: complaint.CauseInput{}, Resp: complaint.CauseView{}, Status: 201,
			Example: Example{Path: "/api/v1/complaint-causes", Body: `{"parent_id": "{repair_cause_id}", "name": "\u7ef4\u4fee\u540e\u590d\u53d1", "sort_order": 10}`, Yields: "complaint_cause_id"}},
		{Method: "PATCH", Path: "/api/v1/complaint-causes/{id}", Tag: setTag, Summary: "Change a cause (rename, move, deactivate).",
			Body: complaint.CausePatch{}, Resp: complaint.CauseView{},
			Example: Example{Path: "/api/v1/complaint-causes/{complaint_cause_id}", Body: `{"name": "\u7ef4\u4fee\u540e\u77ed\u671f\u5185\u590d\u53d1", "version": "{complaint_cause_id_version}"}`}},

		// ---- recording complaints ----
		{Method: "POST", Path: "/api/v1/complaints", Tag: tag, Summary: "Record a complaint: a request of type complaint with the complaint's intake fields in \"complaint\" (level from the severity, feedback times promised on the business calendar).",
			Body: complaintInput{}, Resp: complaint.View{}, Status: 201,
			Example: Example{Path: "/api/v1/complaints", Body: `{"channel": "phone", "severity": "moderate", "title": "\u5929\u82b1\u677f\u7ef4\u4fee\u540e\u518d\u6b21\u6e17\u6c34", "body": "12\u5c42\u529e\u516c\u5ba4\u5929\u82b1\u677f\u53c8\u5f00\u59cb\u6e17\u6c34\uff0c\u4e0a\u5468\u7ef4\u4fee\u540e\u53ea\u597d\u4e86\u4e09\u5929\uff0c\u5730\u6bef\u548c\u6587\u4ef6\u88ab\u6ce1\u6e7f\uff0c\u8981\u6c42\u5f7b\u5e95\u7ef4\u4fee\u5e76\u8d54\u507f\u635f\u5931\u3002", "customer_id": "{customer_id}", "contact_name": "\u674e\u78ca", "complaint": {"location": "\u79d1\u6280\u56edA\u5ea712\u5c421203\u5ba4", "object_kind": "department", "object_dept_id": "{dept_id}", "object_text": "\u62a5\u4fee\u7ef4\u4fee\u670d\u52a1"}}`, Yields: "complaint_id"},
			More: []Example{
				{Path: "/api/v1/complaints", Body: `{"channel": "email", "severity": "general", "title": "12345\u70ed\u7ebf\u8f6c\u529e\uff1a\u5c0f\u533a\u591c\u95f4\u65bd\u5de5\u566a\u97f3", "body": "\u5e02\u6c11\u53cd\u6620\u9633\u5149\u82b1\u56ed\u5c0f\u533a\u665a\u4e0a10\u70b9\u540e\u4ecd\u6709\u65bd\u5de5\u566a\u97f3\uff0c\u8981\u6c42\u7269\u4e1a\u6838\u67e5\u5e76\u4e66\u9762\u7b54\u590d\u3002", "complaint": {"anonymous": true, "reply_only": true, "location": "\u9633\u5149\u82b1\u56ed\u5c0f\u533a", "object_kind": "service", "object_text": "\u88c5\u4fee\u65bd\u5de5\u7ba1\u7406"}}`, Yields: "anonymous_complaint_id"},
				{Path: "/api/v1/complaints", Body: `{"channel": "email", "severity": "general", "title": "A\u5ea712\u5c42\u5929\u82b1\u677f\u6e17\u6c34\u4ecd\u672a\u4fee\u597d", "body": "\u4e0a\u5468\u62a5\u4fee\u7684\u5929\u82b1\u677f\u6e17\u6c34\u53c8\u51fa\u73b0\u4e86\uff0c\u7ef4\u4fee\u8d28\u91cf\u592a\u5dee\uff0c\u8bf7\u5c3d\u5feb\u5904\u7406\u3002", "customer_id": "{customer_id}", "complaint": {"location": "\u79d1\u6280\u56edA\u5ea712\u5c42"}}`, Yields: "duplicate_complaint_id"},
			}},
		{Method: "GET", Path: "/api/v1/complaints", Tag: tag, Summary: "List and search complaints in the actor's scope, newest first.",
			Query: list(complaintFilters...), Resp: httpx.Page[complaint.View]{},
			Example: Example{Path: "/api/v1/complaints?open=true&level=urgent&q=%E6%B8%97%E6%B0%B4"}},

		// ---- one issue, many complaints ----
		{Method: "POST", Path: "/api/v1/complaints/duplicates/check", Tag: mergeTag, Summary: "Likely duplicates of a complaint not yet saved: same customer, same address or building, or similar text, within the duplicate window.",
			Body: complaint.DuplicateQuery{}, Resp: itemsOf[complaint.DuplicateView]{},
			Example: Example{Path: "/api/v1/complaints/duplicates/check", Body: `{"customer_id": "{customer_id}", "location": "\u79d1\u6280\u56edA\u5ea712\u5c42", "title": "\u5929\u82b1\u677f\u6f0f\u6c34", "body": "\u529e\u516c\u5ba4\u5929\u82b1\u677f\u6f0f\u6c34\uff0c\u4e4b\u524d\u4fee\u8fc7\u53c8\u6f0f\u4e86\u3002"}`}},
		{Method: "GET", Path: "/api/v1/complaints/{id}/duplicates", Tag: mergeTag, Summary: "Likely duplicates of a complaint, best first (at most 20).",
			Resp: itemsOf[complaint.DuplicateView]{}, Example: Example{Path: "/api/v1/complaints/{complaint_id}/duplicates"}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/merge", Tag: mergeTag, Summary: "Merge this complaint into a master complaint about the same issue (never in a chain; both requests stay).",
			Body: complaint.MergeInput{}, Resp: complaint.View{},
			Example: Example{Path: "/api/v1/complaints/{duplicate_complaint_id}/merge", Body: `{"into": "{complaint_id}", "reason": "\u540c\u4e00\u5ba2\u6237\u5c31A\u5ea712\u5c42\u6e17\u6c34\u518d\u6b21\u6295\u8bc9\uff0c\u6309\u4e00\u6b21\u8bb0\u5f55"}`}},
		{Method: "GET", Path: "/api/v1/complaints/{id}/linked", Tag: mergeTag, Summary: "The complaints merged into a master complaint.",
			Resp: itemsOf[complaint.View]{}, Example: Example{Path: "/api/v1/complaints/{complaint_id}/linked"}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/unmerge", Tag: mergeTag, Summary: "Undo a merge, with a reason.",
			Body: complaint.UnmergeInput{}, Resp: complaint.View{},
			Example: Example{Path: "/api/v1/complaints/{duplicate_complaint_id}/unmerge", Body: `{"reason": "\u7ecf\u73b0\u573a\u6838\u5b9e\uff0c\u6e17\u6c34\u70b9\u572812\u5c42\u516c\u5171\u8d70\u5eca\uff0c\u4e0e1203\u5ba4\u4e0d\u662f\u540c\u4e00\u95ee\u9898"}`}},

		// ---- the workflow ----
		{Method: "POST", Path: "/api/v1/complaints/{id}/level", Tag: tag, Summary: "Change the level with a reason (the promised times not yet met are counted again on the new level's targets).",
			Body: complaint.LevelInput{}, Resp: complaint.View{},
			Example: Example{Path: "/api/v1/complaints/{complaint_id}/level", Body: `{"level": "major", "reason": "\u5ba2\u6237\u8868\u793a\u672c\u5468\u4e0d\u89e3\u51b3\u5c06\u5411\u6d88\u8d39\u8005\u534f\u4f1a\u548c\u5a92\u4f53\u53cd\u6620"}`}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/reply-letter", Tag: tag, Summary: "Record an attachment of the complaint's request as its written reply (\u590d\u51fd), required before an anonymous or reply-only complaint closes.",
			Body: complaint.ReplyLetterInput{}, Resp: complaint.View{},
			Example: Example{Path: "/api/v1/complaints/{anonymous_complaint_id}/reply-letter", Body: `{"attachment_id": "{reply_letter_attachment_id}"}`}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/transition", Tag: tag, Summary: "Move a complaint to another stage with the fields that stage needs (an illegal move is 409 illegal_transition).",
			Body: complaint.MoveInput{}, Resp: complaint.View{},
			Example: Example{Path: "/api/v1/complaints/{complaint_id}/transition", Body: `{"stage": "assessing", "reason": "\u5df2\u53d7\u7406\uff0c\u8f6c\u5165\u5224\u65ad"}`},
			More: []Example{
				{Path: "/api/v1/complaints/{complaint_id}/transition", Body: `{"stage": "investigating", "reason": "\u6295\u8bc9\u6210\u7acb\uff1a\u540c\u4e00\u4f4d\u7f6e\u4e00\u5468\u5185\u4e8c\u6b21\u6e17\u6c34", "resp_dept_id": "{dept_id}", "resp_team_id": "{team_id}", "reply": "\u60a8\u597d\uff0c\u60a8\u7684\u6295\u8bc9\u5df2\u786e\u8ba4\u6210\u7acb\uff0c\u5df2\u4ea4\u7531\u552e\u540e\u670d\u52a1\u90e8\u8c03\u67e5\uff0c\u6211\u4eec\u5c06\u572848\u5c0f\u65f6\u5185\u7ed9\u60a8\u5904\u7406\u65b9\u6848\u3002"}`},
				{Path: "/api/v1/complaints/{complaint_id}/transition", Body: `{"stage": "proposing", "reason": "\u8c03\u67e5\u5b8c\u6210", "cause_id": "{complaint_cause_id}", "cause_kind": "personal", "resp_staff_id": "{staff_id}", "findings": "\u4e0a\u6b21\u7ef4\u4fee\u53ea\u66f4\u6362\u4e86\u6e17\u6c34\u5904\u7684\u5bc6\u5c01\u80f6\uff0c\u672a\u68c0\u67e5\u697c\u4e0a1303\u5ba4\u536b\u751f\u95f4\u9632\u6c34\u5c42\uff1b\u9632\u6c34\u5c42\u7834\u635f\u662f\u6e17\u6c34\u7684\u6839\u672c\u539f\u56e0\u3002", "proposals": [{"body": "\u91cd\u505a1303\u5ba4\u536b\u751f\u95f4\u9632\u6c34\u5c42\u5e76\u95ed\u6c34\u8bd5\u9a8c48\u5c0f\u65f6\uff0c\u4fee\u590d1203\u5ba4\u540a\u9876\u3002", "comp_form": "\u51cf\u514d\u4e00\u4e2a\u6708\u7269\u4e1a\u7ba1\u7406\u8d39", "comp_amount": 128000}]}`},
				{Path: "/api/v1/complaints/{anonymous_complaint_id}/transition", Body: `{"stage": "assessing", "reason": "12345\u70ed\u7ebf\u8f6c\u529e\u4ef6\uff0c\u8981\u6c42\u4e66\u9762\u7b54\u590d"}`},
				{Path: "/api/v1/complaints/{anonymous_complaint_id}/transition", Body: `{"stage": "rejected", "reason": "\u7ecf\u73b0\u573a\u6838\u67e5\uff0c\u591c\u95f4\u65bd\u5de5\u4e3a\u5e02\u653f\u4f9b\u6c34\u7ba1\u9053\u62a2\u4fee\uff0c\u4e0d\u662f\u5c0f\u533a\u88c5\u4fee\u65bd\u5de5", "reply": "\u7ecf\u6838\u67e5\uff0c\u60a8\u53cd\u6620\u7684\u591c\u95f4\u65bd\u5de5\u4e3a\u5e02\u653f\u4f9b\u6c34\u7ba1\u9053\u7d27\u6025\u62a2\u4fee\uff0c\u5df2\u4e8e\u5f53\u665a23:30\u7ed3\u675f\uff0c\u4e0d\u5c5e\u4e8e\u5c0f\u533a\u5185\u8fdd\u89c4\u88c5\u4fee\u65bd\u5de5\u3002\u611f\u8c22\u60a8\u7684\u76d1\u7763\u3002"}`},
				{Path: "/api/v1/complaints/{anonymous_complaint_id}/transition", Body: `{"stage": "closed", "summary": "\u4e66\u9762\u590d\u51fd\u5df2\u4e0a\u4f20\uff0c\u8f6c\u529e\u4ef6\u529e\u7ed3"}`},
				{Path: "/api/v1/complaints/{approved_complaint_id}/transition", Body: `{"stage": "executing", "reason": "\u65b9\u6848\u5df2\u6279\u51c6\uff0c\u5f00\u59cb\u5904\u7406"}`},
				{Path: "/api/v1/complaints/{approved_complaint_id}/transition", Body: `{"stage": "feedback", "result": "\u5df2\u66f4\u6362\u5730\u4e0b\u8f66\u5e93B\u533a\u5168\u90e8\u635f\u574f\u706f\u5177\uff0c\u5e76\u589e\u52a0\u591c\u95f4\u5de1\u67e5\u3002", "reply": "\u60a8\u53cd\u6620\u7684\u5730\u4e0b\u8f66\u5e93\u7167\u660e\u95ee\u9898\u5df2\u5904\u7406\u5b8c\u6bd5\uff0c\u635f\u574f\u706f\u5177\u5df2\u5168\u90e8\u66f4\u6362\uff0c\u611f\u8c22\u60a8\u7684\u8010\u5fc3\u7b49\u5f85\u3002"}`},
				{Path: "/api/v1/complaints/{approved_complaint_id}/transition", Body: `{"stage": "evaluating", "satisfaction": 4, "actions": [{"body": "\u6bcf\u6708\u5168\u9762\u5de1\u68c0\u4e00\u6b21\u8f66\u5e93\u7167\u660e\u5e76\u767b\u8bb0", "owner_id": "{staff_id}", "due_on": "2030-06-30"}]}`},
				{Path: "/api/v1/complaints/{approved_complaint_id}/transition", Body: `{"stage": "closed", "summary": "\u7167\u660e\u5df2\u4fee\u590d\uff0c\u5ba2\u6237\u57fa\u672c\u6ee1\u610f\uff0c\u6708\u5ea6\u5de1\u68c0\u5236\u5ea6\u5df2\u5efa\u7acb"}`},
			}},
		{Method: "GET", Path: "/api/v1/complaints/{id}/stages", Tag: tag, Summary: "A complaint's stage history, oldest first (time spent in each stage included).",
			Resp: itemsOf[complaint.StageView]{}, Example: Example{Path: "/api/v1/complaints/{complaint_id}/stages"}},

		// ---- proposals, penalties, tasks, approval ----
		{Method: "POST", Path: "/api/v1/complaints/{id}/proposals", Tag: resTag, Summary: "Add a proposal in the proposal stage, with optional compensation (form and amount in fen).",
			Body: complaint.ProposalInput{}, Resp: complaint.ProposalView{}, Status: 201,
			Example: Example{Path: "/api/v1/complaints/{complaint_id}/proposals", Body: `{"body": "\u66f4\u63621203\u5ba4\u53d7\u635f\u5730\u6bef\uff0c\u7ef4\u4fee\u671f\u95f4\u63d0\u4f9b\u4e34\u65f6\u529e\u516c\u5ba4\u3002", "comp_form": "\u8d54\u507f\u5730\u6bef\u548c\u6587\u4ef6\u635f\u5931", "comp_amount": 500000}`, Yields: "proposal_id"}},
		{Method: "GET", Path: "/api/v1/complaints/{id}/proposals", Tag: resTag, Summary: "A complaint's proposals (approved, set aside or still proposed).",
			Resp: httpx.Page[complaint.ProposalView]{}, Example: Example{Path: "/api/v1/complaints/{complaint_id}/proposals"}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/penalties", Tag: resTag, Summary: "Propose a penalty for a directly responsible person or their department head (a fine's amount defaults to its category's).",
			Body: complaint.PenaltyInput{}, Resp: complaint.PenaltyView{}, Status: 201,
			Example: Example{Path: "/api/v1/complaints/{complaint_id}/penalties", Body: `{"staff_id": "{staff_id}", "role": "direct", "kind": "fine", "fine_category": "B", "note": "\u627f\u8bfa\u7684\u590d\u67e5\u65f6\u95f4\u672a\u5151\u73b0"}`, Yields: "penalty_id"}},
		{Method: "GET", Path: "/api/v1/complaints/{id}/penalties", Tag: resTag, Summary: "A complaint's penalties.",
			Resp: httpx.Page[complaint.PenaltyView]{}, Example: Example{Path: "/api/v1/complaints/{complaint_id}/penalties"}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/penalties/{pid}/decide", Tag: resTag, Summary: "Approve or refuse one proposed penalty (a superior of the responsible department; never one's own proposal or a penalty on oneself).",
			Body: complaint.DecideInput{}, Resp: complaint.PenaltyView{},
			Example: Example{Path: "/api/v1/complaints/{complaint_id}/penalties/{demotion_penalty_id}/decide", Body: `{"approve": false, "note": "\u9996\u6b21\u53d1\u751f\uff0c\u8b66\u544a\u548cB\u7c7b\u7f5a\u6b3e\u5373\u53ef\uff0c\u4e0d\u4e88\u964d\u7ea7"}`}},
		{Method: "GET", Path: "/api/v1/complaints/{id}/tasks", Tag: resTag, Summary: "A complaint's tasks: rectification report, team rectification, the head's explanation, improvement actions.",
			Resp: httpx.Page[complaint.TaskView]{}, Example: Example{Path: "/api/v1/complaints/{complaint_id}/tasks"}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/tasks/{tid}/done", Tag: resTag, Summary: "File a task as done with its report (the task's owner or a superior of the responsible department).",
			Body: complaint.TaskDoneInput{}, Resp: complaint.TaskView{},
			Example: Example{Path: "/api/v1/complaints/{complaint_id}/tasks/{rectification_task_id}/done", Body: `{"report": "\u6574\u6539\u62a5\u544a\uff1a\u4e0a\u6b21\u7ef4\u4fee\u672a\u67e5\u660e\u6e17\u6c34\u6e90\u5934\uff0c\u53ea\u505a\u4e86\u8868\u9762\u5904\u7406\u3002\u4eca\u540e\u51e1\u6e17\u6c34\u62a5\u4fee\uff0c\u5148\u67e5\u660e\u6e90\u5934\u5e76\u505a\u95ed\u6c34\u8bd5\u9a8c\uff0c\u7ef4\u4fee\u540e\u4e09\u5929\u5185\u56de\u8bbf\u786e\u8ba4\u3002"}`}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/approve", Tag: resTag, Summary: "Approve one proposal with an instruction (\u6279\u793a) and decide proposed penalties in the same step; the other proposals are kept, set aside.",
			Body: complaint.ApproveInput{}, Resp: complaint.ResolutionView{},
			Example: Example{Path: "/api/v1/complaints/{complaint_id}/approve", Body: `{"proposal_id": "{supervisor_proposal_id}", "instruction": "\u540c\u610f\u6b64\u65b9\u6848\uff0c\u672c\u5468\u4e94\u524d\u5b8c\u6210\u9632\u6c34\u65bd\u5de5\uff0c\u8865\u507f\u8d39\u7528\u7531\u552e\u540e\u670d\u52a1\u90e8\u5217\u652f\u3002", "penalties": [{"id": "{warning_penalty_id}", "approve": true, "note": "\u540c\u610f\u8b66\u544a"}]}`}},
		{Method: "GET", Path: "/api/v1/penalties", Tag: resTag, Summary: "Penalties on the staff record, newest first (approved ones unless status says otherwise; audited).",
			Query: list(num("staff_id", "The penalised staff member."), num("dept_id", "The penalised staff member's department."),
				str("status", "proposed, approved (default) or refused."), str("from", "Decided at or after: RFC 3339 or YYYY-MM-DD."),
				str("to", "Decided before: RFC 3339 or YYYY-MM-DD.")),
			Resp: httpx.Page[complaint.PenaltyView]{}, Example: Example{Path: "/api/v1/penalties?staff_id={staff_id}"}},

		// ---- public letters ----
		{Method: "POST", Path: "/api/v1/complaint-letters", Tag: letterTag, Summary: "Draft a public letter (\u516c\u5f00\u4fe1) answering the complaints it links.",
			Body: complaint.LetterInput{}, Resp: complaint.LetterView{}, Status: 201,
			Example: Example{Path: "/api/v1/complaint-letters", Body: `{"title": "\u81f4\u79d1\u6280\u56edA\u5ea7\u79df\u6237\uff1a\u536b\u751f\u95f4\u9632\u6c34\u5c42\u68c0\u4fee\u5b89\u6392", "body": "\u5c0a\u656c\u7684\u5404\u4f4d\u79df\u6237\uff1a\u8fd1\u671fA\u5ea7\u90e8\u5206\u697c\u5c42\u51fa\u73b0\u5929\u82b1\u677f\u6e17\u6c34\u3002\u6211\u4eec\u5c06\u4e8e\u672c\u5468\u5bf912\u81f315\u5c42\u536b\u751f\u95f4\u9632\u6c34\u5c42\u9010\u5c42\u68c0\u4fee\uff0c\u65bd\u5de5\u671f\u95f4\u8bf7\u914d\u5408\u5173\u95ed\u536b\u751f\u95f4\u3002\u7ed9\u60a8\u5e26\u6765\u4e0d\u4fbf\uff0c\u656c\u8bf7\u8c05\u89e3\u3002", "complaint_ids": ["{complaint_id}"]}`, Yields: "letter_id"}},
		{Method: "GET", Path: "/api/v1/complaint-letters", Tag: letterTag, Summary: "List public letters, newest first (status=published: the archive).",
			Query: list(str("status", "draft, approved or published.")), Resp: httpx.Page[complaint.LetterView]{},
			Example: Example{Path: "/api/v1/complaint-letters?status=draft"}},
		{Method: "GET", Path: "/api/v1/complaint-letters/{id}", Tag: letterTag, Summary: "Read a public letter with the complaints it answers.",
			Resp: complaint.LetterView{}, Example: Example{Path: "/api/v1/complaint-letters/{letter_id}"}},
		{Method: "PATCH", Path: "/api/v1/complaint-letters/{id}", Tag: letterTag, Summary: "Change a draft letter.",
			Body: complaint.LetterPatch{}, Resp: complaint.LetterView{},
			Example: Example{Path: "/api/v1/complaint-letters/{letter_id}", Body: `{"title": "\u81f4\u79d1\u6280\u56edA\u5ea7\u5168\u4f53\u79df\u6237\uff1a\u536b\u751f\u95f4\u9632\u6c34\u5c42\u68c0\u4fee\u5b89\u6392", "version": "{letter_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/complaint-letters/{id}/links", Tag: letterTag, Summary: "Link more complaints to a letter not yet published.",
			Body: complaint.LetterLinks{}, Resp: complaint.LetterView{},
			Example: Example{Path: "/api/v1/complaint-letters/{letter_id}/links", Body: `{"complaint_ids": ["{duplicate_complaint_id}"]}`}},
		{Method: "POST", Path: "/api/v1/complaint-letters/{id}/approve", Tag: letterTag, Summary: "Approve a draft letter (complaint:approve too, and not its drafter).",
			Resp: complaint.LetterView{}, Example: Example{Path: "/api/v1/complaint-letters/{supervisor_letter_id}/approve"}},
		{Method: "POST", Path: "/api/v1/complaint-letters/{id}/publish", Tag: letterTag, Summary: "Publish an approved letter: shown in the portal, on every linked request, and the feedback step of linked complaints being carried out.",
			Resp: complaint.LetterView{}, Example: Example{Path: "/api/v1/complaint-letters/{supervisor_letter_id}/publish"}},

		// The whole record, once it has all of them (the answer is checked against the document).
		{Method: "GET", Path: "/api/v1/complaints/{id}", Tag: tag, Summary: "Read a complaint with its stage history, proposals, penalties, tasks and public letters (audited).",
			Resp: complaintDetail{}, Example: Example{Path: "/api/v1/complaints/{complaint_id}"}},

		// ---- the case library and the analysis ----
		{Method: "POST", Path: "/api/v1/complaints/{id}/case", Tag: anTag, Summary: "Mark a closed complaint as a case (\u6295\u8bc9\u6848\u4f8b\u5e93) with a summary, or replace its summary.",
			Body: complaint.CaseInput{}, Resp: complaint.View{},
			Example: Example{Path: "/api/v1/complaints/{approved_complaint_id}/case", Body: `{"summary": "\u5730\u4e0b\u8f66\u5e93\u7167\u660e\u957f\u671f\u635f\u574f\u5f15\u53d1\u6295\u8bc9\uff1a\u706f\u5177\u6279\u6b21\u8d28\u91cf\u95ee\u9898\uff0c\u6574\u6279\u66f4\u6362\u5e76\u5efa\u7acb\u6708\u5ea6\u5de1\u68c0\u540e\u5ba2\u6237\u6ee1\u610f\u3002\u9002\u7528\u4e8e\u8bbe\u65bd\u7c7b\u6295\u8bc9\u57f9\u8bad\u3002"}`}},
		{Method: "GET", Path: "/api/v1/complaint-cases", Tag: anTag, Summary: "Search the case library (Chinese words; nothing about the customer).",
			Query: list(pQ), Resp: httpx.Page[complaint.CaseView]{},
			Example: Example{Path: "/api/v1/complaint-cases?q=%E7%85%A7%E6%98%8E"}},
		{Method: "GET", Path: "/api/v1/complaints/analysis", Tag: anTag, Summary: "The complaint analysis of a period: counts and trends, by level, channel, department and cause, Pareto of causes, rates, time per stage, repeat complainants, satisfaction, penalties.",
			Query: analysisPeriod, Resp: complaint.Analysis{}, Example: Example{Path: "/api/v1/complaints/analysis"},
			More: []Example{{Path: "/api/v1/complaints/analysis?from=2026-01-01&to=2026-07-01&dept_id={dept_id}"}}},
		{Method: "GET", Path: "/api/v1/complaints/analysis.xlsx", Tag: anTag, Summary: "The same analysis as an .xlsx workbook, one sheet per table.",
			Query: analysisPeriod, RespMedia: mediaXLSX, Example: Example{Path: "/api/v1/complaints/analysis.xlsx?from=2026-01-01&to=2027-01-01"}},
		{Method: "DELETE", Path: "/api/v1/complaints/{id}/case", Tag: anTag, Summary: "Take a complaint out of the case library (answers the complaint).",
			Resp: complaint.View{}, Example: Example{Path: "/api/v1/complaints/{approved_complaint_id}/case"}},
		{Method: "DELETE", Path: "/api/v1/complaint-causes/{id}", Tag: setTag, Summary: "Delete an added cause that no complaint names and that has no children (else deactivate it).",
			Status: 204, Example: Example{Path: "/api/v1/complaint-causes/{spare_cause_id}"}},
	}
}
