package openapi

import (
	"github.com/kefu-cn/kefu/internal/activity"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// The activity operations (internal/activity) and the cooperation records on customer
// files (internal/customer/cooperation.go); the guide is docs/activities.md. Their
// examples form one workflow after the complaints: an activity is planned (and a second
// one, later cancelled), started, given participants by hand and from a spreadsheet,
// and ended (which triggers the return-visit rule activity_ended); then a cooperation
// agreement is recorded on the example customer, read and terminated. The contract
// test's hook (activity_contract_test.go) creates the customer the spreadsheet names.

// activityImportResult mirrors activity.ImportResponse (200: every row passed).
type activityImportResult struct {
	Rows       int             `json:"rows"`
	Added      int             `json:"added"`
	Already    int             `json:"already"`
	Duplicates int             `json:"duplicates"`
	Failed     int             `json:"failed"`
	DryRun     bool            `json:"dry_run"`
	Errors     []importProblem `json:"errors"`
}

func activityOperations() []Op {
	const tag, coopTag = "activities", "cooperation records"
	return []Op{
		{Method: "POST", Path: "/api/v1/activities", Tag: tag, Summary: "Plan an activity with customers (organiser: the actor unless given; department: the organiser's unless given).",
			Body: activity.Input{}, Resp: activity.View{}, Status: 201,
			Example: Example{Path: "/api/v1/activities", Body: `{"title": "\u79cb\u5b63\u4e1a\u4e3b\u7fbd\u6bdb\u7403\u8054\u8c0a\u8d5b", "type": "sports_culture", "start_on": "2026-10-17", "end_on": "2026-10-18", "description": "\u4f1a\u6240\u4f53\u80b2\u9986\uff0c\u6bcf\u6237\u9650\u62a5\u4e24\u4eba"}`, Yields: "activity_id"},
			More:    []Example{{Path: "/api/v1/activities", Body: `{"title": "\u65b0\u54c1\u51c0\u6c34\u5668\u4f7f\u7528\u57f9\u8bad", "type": "training", "start_on": "2026-11-05"}`, Yields: "cancel_activity_id"}}},
		{Method: "GET", Path: "/api/v1/activities", Tag: tag, Summary: "List the activities in the actor's scope, newest first.",
			Query: list(str("status", "planned, ongoing, ended or cancelled."), str("type", "sports_culture, promotion, training or other."),
				num("dept_id", "Department id."), num("organiser_id", "Organiser (staff id)."), num("customer_id", "Only activities this customer takes part in.")),
			Resp: httpx.Page[activity.View]{}, Example: Example{Path: "/api/v1/activities?status=planned&type=sports_culture"}},
		{Method: "GET", Path: "/api/v1/activities/{id}", Tag: tag, Summary: "Read an activity.",
			Resp: activity.View{}, Example: Example{Path: "/api/v1/activities/{activity_id}"}},
		{Method: "PATCH", Path: "/api/v1/activities/{id}", Tag: tag, Summary: "Change an open activity (status may move between planned and ongoing).",
			Body: activity.Patch{}, Resp: activity.View{},
			Example: Example{Path: "/api/v1/activities/{activity_id}", Body: `{"status": "ongoing", "version": "{activity_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/activities/{id}/participants", Tag: tag, Summary: "Add a participant customer by id (409 when already taking part).",
			Body: activity.AddInput{}, Resp: activity.ParticipantView{}, Status: 201,
			Example: Example{Path: "/api/v1/activities/{activity_id}/participants", Body: `{"customer_id": "{customer_id}"}`}},
		{Method: "POST", Path: "/api/v1/activities/{id}/participants/import", Tag: tag, Summary: "Import participants from .xlsx or .csv, by customer number or mobile (all rows or none; 422 lists the bad rows); the body is the file, or a multipart form with the part \"file\".",
			Query:     []Param{str("filename", "The file's name (its extension gives the format) when the body is the file."), flag("dry_run", "Check only.")},
			BodyMedia: mediaCSV, Resp: activityImportResult{},
			Example: Example{Path: "/api/v1/activities/{activity_id}/participants/import?filename=participants.csv", ContentType: mediaCSV,
				Raw: "Customer number,Mobile\n,13500135000\n"}},
		{Method: "GET", Path: "/api/v1/activities/{id}/participants", Tag: tag, Summary: "List the participants (masked mobiles; audited).",
			Query: list(), Resp: httpx.Page[activity.ParticipantView]{}, Example: Example{Path: "/api/v1/activities/{activity_id}/participants"}},
		{Method: "DELETE", Path: "/api/v1/activities/{id}/participants/{customer_id}", Tag: tag, Summary: "Take a customer off an open activity.",
			Status: 204, Example: Example{Path: "/api/v1/activities/{activity_id}/participants/{activity_customer_id}"}},
		{Method: "POST", Path: "/api/v1/activities/{id}/end", Tag: tag, Summary: "End an activity: the return-visit rule activity_ended is triggered for its participants (409 when already ended or cancelled).",
			Resp: activity.View{}, Example: Example{Path: "/api/v1/activities/{activity_id}/end"}},
		{Method: "POST", Path: "/api/v1/activities/{id}/cancel", Tag: tag, Summary: "Cancel an open activity (no return visits).",
			Resp: activity.View{}, Example: Example{Path: "/api/v1/activities/{cancel_activity_id}/cancel"}},

		{Method: "POST", Path: "/api/v1/customers/{id}/cooperations", Tag: coopTag, Summary: "Record a cooperation agreement (top secret: the answer is masked without cooperation:reveal).",
			Body: customer.CooperationInput{}, Resp: customer.CooperationView{}, Status: 201,
			Example: Example{Path: "/api/v1/customers/{customer_id}/cooperations", Body: `{"title": "2026\u5e74\u5ea6\u7269\u4e1a\u670d\u52a1\u5408\u4f5c\u534f\u8bae", "number": "HT-2026-0815", "start_on": "2026-01-01", "end_on": "2026-12-31"}`, Yields: "cooperation_id"}},
		{Method: "GET", Path: "/api/v1/customers/{id}/cooperations", Tag: coopTag, Summary: "List a customer's cooperation agreements: in clear (audited as a reveal) for holders of cooperation:reveal, else title and number masked.",
			Query: []Param{flag("masked", "Ask for the masked view even with cooperation:reveal.")},
			Resp:  httpx.Page[customer.CooperationView]{}, Example: Example{Path: "/api/v1/customers/{customer_id}/cooperations"}},
		{Method: "PATCH", Path: "/api/v1/customers/{id}/cooperations/{cid}", Tag: coopTag, Summary: "Change a cooperation agreement (status active, ended or terminated).",
			Body: customer.CooperationPatch{}, Resp: customer.CooperationView{},
			Example: Example{Path: "/api/v1/customers/{customer_id}/cooperations/{cooperation_id}", Body: `{"status": "terminated", "note": "\u5ba2\u6237\u642c\u8fc1\uff0c\u63d0\u524d\u7ec8\u6b62", "version": "{cooperation_id_version}"}`}},
	}
}
