package openapi

import "github.com/kefu-cn/kefu/internal/revisit"

// The return-visit report (internal/revisit/report*.go; the guide is
// docs/revisit-report.md): the metrics and the summary report of a period as JSON and as
// an .xlsx workbook. The examples need nothing set up: an empty period reports zeros.

// revisitReportPeriod are the query parameters of the report and its export.
var revisitReportPeriod = []Param{
	str("month", "A month, YYYY-MM (China time); instead of from and to."),
	str("from", "Start of the period (tasks whose window starts at or after): RFC 3339, or YYYY-MM-DD in China time. Default: this month."),
	str("to", "End of the period, exclusive (at most 3 years after from)."),
	str("rule", "Only this rule (its code)."),
	num("dept_id", "Only the tasks of this department."),
}

func revisitReportOperations() []Op {
	const tag = "return-visit report"
	return []Op{
		{Method: "GET", Path: "/api/v1/reports/revisits", Tag: tag, Summary: "The return-visit summary report of a period, in total and per rule: sampling decisions and the visit rate achieved against the rule's rate (center-wide, for those who see every department), tasks by status, on-time and reach rates, satisfaction and its distribution, the processing rate of the issues raised (target 100%) with the oldest unanswered listed, false records per staff member, the figures per month and per visitor. A supervisor's report covers their department's tasks.",
			Query: revisitReportPeriod, Resp: revisit.Report{}, Example: Example{Path: "/api/v1/reports/revisits?month=2026-10"},
			More: []Example{{Path: "/api/v1/reports/revisits?from=2026-01-01&to=2027-01-01&rule=repair_done"}}},
		{Method: "GET", Path: "/api/v1/reports/revisits.xlsx", Tag: tag, Summary: "The same report as an .xlsx workbook, one sheet per table (overview, rules, months, satisfaction, visitors, unanswered issues, false records).",
			Query: revisitReportPeriod, RespMedia: mediaXLSX, Example: Example{Path: "/api/v1/reports/revisits.xlsx?month=2026-10"}},
	}
}
