package openapi

import (
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/auth"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// The handlers below decode or write types their packages keep unexported. These
// mirrors have the same JSON members; the contract test sends every example through
// the real handlers (which refuse unknown members) and validates every response
// against them, so a mirror that drifts fails the test.

// itemsOf is a list answered in one piece ({"items": [...]}, no cursor).
type itemsOf[T any] struct {
	Items []T `json:"items"`
}

// auth

type tokenRequest struct {
	Name    string `json:"name"`
	StaffID int64  `json:"staff_id"`
}

type createdToken struct {
	auth.Token
	Plain string `json:"token"`
}

type unlocked struct {
	Unlocked bool `json:"unlocked"`
}

// org

type meResponse struct {
	ID           int64                  `json:"id"`
	Username     string                 `json:"username"`
	DisplayName  string                 `json:"display_name"`
	Roles        []string               `json:"roles"`
	Permissions  []string               `json:"permissions"`
	Scopes       map[string]authz.Scope `json:"scopes"`
	DepartmentID int64                  `json:"department_id"`
	TeamID       int64                  `json:"team_id"`
	Locale       string                 `json:"locale"`
}

type createStaffRequest struct {
	org.StaffInput
	Password string `json:"password"`
}

type roleView struct {
	org.Role
	Label string `json:"label"`
}

// customer

type revealRequest struct {
	Fields []string `json:"fields"`
	Reason string   `json:"reason"`
}

type verifyRequest struct {
	Note string `json:"note"`
}

type reverifyQueue struct {
	Items      []customer.ReverifyItemView `json:"items"`
	NextCursor string                      `json:"next_cursor"`
	Total      int64                       `json:"total"`
	PeriodDays int                         `json:"period_days"`
}

type mergeRequest struct {
	From   int64  `json:"from"`
	Reason string `json:"reason"`
}

type mergeResponse struct {
	Merge    customer.MergeInfo `json:"merge"`
	Survivor customer.View      `json:"survivor"`
}

type importProblem struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

type importResult struct {
	ImportID  int64           `json:"import_id"`
	Rows      int             `json:"rows"`
	Created   int             `json:"created"`
	Failed    int             `json:"failed"`
	DryRun    bool            `json:"dry_run"`
	Errors    []importProblem `json:"errors"`
	ReportURL string          `json:"report_url,omitempty"`
}

// mail

type mailTestResult struct {
	Sent bool   `json:"sent"`
	To   string `json:"to"`
}

// calendar

type dueResponse struct {
	DueAt string `json:"due_at"`
}

// ticket

type transitionRequest struct {
	Status ticket.Status `json:"status"`
	Reason string        `json:"reason"`
}

type noteRequest struct {
	Body string `json:"body"`
}

type linkRequest struct {
	ArticleID int64 `json:"article_id"`
}

type eventResult struct {
	Event  ticket.EventView `json:"event"`
	Ticket ticket.View      `json:"ticket"`
}

type myPresenceRequest struct {
	Availability ticket.Availability `json:"availability"`
}

type renderedCanned struct {
	Body string `json:"body"`
}
