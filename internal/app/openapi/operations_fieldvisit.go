package openapi

import (
	"github.com/kefu-cn/kefu/internal/fieldvisit"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// The field-visit operations (internal/fieldvisit; the guide is docs/field-visits.md).
// Their examples follow the activities: the visit plans are read and replaced (version
// 0 while the defaults apply), the administrator records a visit (a waiqin form) on the
// example customer, which emits the sales_visit verification trigger, then lists and
// reads visits, the overdue customers and the visit report.
//
// Chinese texts in the JSON bodies are written as JSON \u escapes (no Chinese characters
// in Go source); the document and docs/field-visits.md show them decoded.

func fieldVisitOperations() []Op {
	const tag, planTag = "field visits", "visit plans"
	return []Op{
		{Method: "GET", Path: "/api/v1/field-visit-plans", Tag: planTag, Summary: "Read the visit plans: how often customers of each class (tier, value class, credit grade, intent class) are visited (version 0: the defaults).",
			Resp: fieldvisit.Plans{}, Example: Example{Path: "/api/v1/field-visit-plans"}},
		{Method: "PUT", Path: "/api/v1/field-visit-plans", Tag: planTag, Summary: "Replace the visit plans (each: kind, value and months or days; version: the one read, 0 for the defaults; 409 when stale).",
			Body: fieldvisit.PlansInput{}, Resp: fieldvisit.Plans{},
			Example: Example{Path: "/api/v1/field-visit-plans", Body: `{"plans": [{"kind": "tier", "value": "vip", "months": 1}, {"kind": "intent_class", "value": "A", "months": 1}, {"kind": "intent_class", "value": "B", "months": 3}, {"kind": "credit_grade", "value": "C", "days": 180}], "version": 0}`}},
		{Method: "POST", Path: "/api/v1/field-visits", Tag: tag, Summary: "Record a field visit (the waiqin form) by the actor on a customer in their scope: the contact's phone is encrypted at rest and answered masked; the sales_visit verification call is triggered (within 24 h).",
			Body: fieldvisit.Input{}, Resp: fieldvisit.View{}, Status: 201,
			Example: Example{Path: "/api/v1/field-visits", Body: `{"customer_id": "{customer_id}", "business_type": "\u7269\u4e1a\u670d\u52a1\u7eed\u7ea6", "contact_name": "\u674e\u78ca", "contact_title": "\u91c7\u8d2d\u7ecf\u7406", "phone": "13900139000", "purpose": "\u6d3d\u8c082027\u5e74\u5ea6\u7269\u4e1a\u670d\u52a1\u7eed\u7ea6\u53ca\u62a5\u4ef7", "result": "\u5ba2\u6237\u8ba4\u53ef\u670d\u52a1\u8d28\u91cf\uff0c\u5e0c\u671b\u4e0b\u8c03\u4fdd\u6d01\u8d39\u7528", "next_step": "\u4e0b\u5468\u4e09\u524d\u63d0\u4ea4\u65b0\u62a5\u4ef7", "intent_class": "A", "deal_closed": false, "location": "\u79d1\u6280\u56edA\u5ea712\u5c42"}`, Yields: "field_visit_id"}},
		{Method: "GET", Path: "/api/v1/field-visits", Tag: tag, Summary: "List the field visits in the actor's scope, newest first (phones masked; audited).",
			Query: list(str("view", "mine (my visits), team (my team's) or empty (everything in scope)."),
				num("customer_id", "Customer id."), num("staff_id", "Salesperson (staff id)."),
				str("from", "Visited at or after: RFC 3339, or YYYY-MM-DD in China time."),
				str("to", "Visited before: RFC 3339, or YYYY-MM-DD in China time.")),
			Resp: httpx.Page[fieldvisit.View]{}, Example: Example{Path: "/api/v1/field-visits?view=mine"}},
		{Method: "GET", Path: "/api/v1/field-visits/{id}", Tag: tag, Summary: "Read a field visit: the phone in clear for holders of customer:reveal reaching the customer, masked otherwise; every read is audited.",
			Resp: fieldvisit.View{}, Example: Example{Path: "/api/v1/field-visits/{field_visit_id}"}},
		{Method: "GET", Path: "/api/v1/field-visits/overdue", Tag: planTag, Summary: "The customers in the actor's scope whose last visit is older than their plan allows (or never visited), most overdue first.",
			Resp: fieldvisit.OverdueList{}, Example: Example{Path: "/api/v1/field-visits/overdue"}},
		{Method: "GET", Path: "/api/v1/field-visits/report", Tag: tag, Summary: "Visits, customers, deals and intent classes per salesperson in a period (default: this month so far), in the actor's scope.",
			Query: []Param{str("from", "Start: RFC 3339, or YYYY-MM-DD in China time."), str("to", "End, exclusive (at most 366 days after from).")},
			Resp:  fieldvisit.Report{}, Example: Example{Path: "/api/v1/field-visits/report?from=2026-12-01&to=2027-01-01"}},
	}
}
