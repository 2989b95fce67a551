// Package ticket is the service-request capability (SPEC §2.2): requests with
// readable numbers, their lifecycle as a state machine, a timeline of events, assignment
// and dispatch, SLA targets on a business calendar, canned replies and attachments, the
// agent workspace and the notifications to customers. It publishes request events
// (created, assigned, status changed, resolved, closed, reopened) after commit through
// platform/events for the capabilities that follow (complaints, return visits, surveys).
package ticket

import (
	"github.com/kefu-cn/kefu/internal/customer"
	"slices"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Permissions of the capability (authz.Catalog lists them).
const (
	PermRead     = "ticket:read"     // see requests in scope, their timeline and attachments
	PermWrite    = "ticket:write"    // create, edit, reply, note, transition
	PermAssign   = "ticket:assign"   // assign, transfer, dispatch
	PermManage   = "ticket:manage"   // categories, SLA policies, calendars, assignment rules, settings
	PermCanned   = "ticket:canned"   // manage canned replies
	PermCalendar = "calendar:manage" // edit business calendars and holiday years
)

// Type is the kind of request.
type Type string

// Request types.
const (
	TypeInquiry    Type = "inquiry"
	TypeRepair     Type = "repair"
	TypeComplaint  Type = "complaint"
	TypeSuggestion Type = "suggestion"
	TypeAfterSales Type = "after_sales"
)

// Types lists every request type in display order.
var Types = []Type{TypeInquiry, TypeRepair, TypeComplaint, TypeSuggestion, TypeAfterSales}

// SubKinds are the after-sales sub-kinds (required for after_sales, empty otherwise).
var SubKinds = []string{"return", "exchange", "repair", "refund"}

// Channel is how the request reached the center.
type Channel string

// Channels.
const (
	ChannelPhone  Channel = "phone"
	ChannelEmail  Channel = "email"
	ChannelWeb    Channel = "web"
	ChannelPortal Channel = "portal"
	ChannelChat   Channel = "chat"
	ChannelWalkIn Channel = "walk_in"
	ChannelSocial Channel = "social"
)

// Channels lists every channel in display order.
var Channels = []Channel{ChannelPhone, ChannelEmail, ChannelWeb, ChannelPortal, ChannelChat, ChannelWalkIn, ChannelSocial}

// Severity of a request.
type Severity string

// Severities.
const (
	SeverityGeneral  Severity = "general"
	SeverityModerate Severity = "moderate"
	SeverityMajor    Severity = "major"
)

// Severities lists every severity, mildest first.
var Severities = []Severity{SeverityGeneral, SeverityModerate, SeverityMajor}

// Priority is derived from severity, the customer's tier and credit grade (priority.go).
type Priority string

// Priorities, most urgent first.
const (
	PriorityUrgent Priority = "urgent"
	PriorityHigh   Priority = "high"
	PriorityNormal Priority = "normal"
	PriorityLow    Priority = "low"
)

// Priorities lists every priority, most urgent first.
var Priorities = []Priority{PriorityUrgent, PriorityHigh, PriorityNormal, PriorityLow}

// Status is a lifecycle state.
type Status string

// Lifecycle states.
const (
	StatusNew               Status = "new"
	StatusAcknowledged      Status = "acknowledged"
	StatusInProgress        Status = "in_progress"
	StatusWaitingCustomer   Status = "waiting_customer"
	StatusWaitingDepartment Status = "waiting_department"
	StatusResolved          Status = "resolved"
	StatusClosed            Status = "closed"
	StatusReopened          Status = "reopened"
	StatusCancelled         Status = "cancelled"
)

// Statuses lists every state in lifecycle order.
var Statuses = []Status{StatusNew, StatusAcknowledged, StatusInProgress, StatusWaitingCustomer,
	StatusWaitingDepartment, StatusResolved, StatusClosed, StatusReopened, StatusCancelled}

// transitions is the state machine: from -> the states it may move to.
var transitions = map[Status][]Status{
	StatusNew:               {StatusAcknowledged, StatusInProgress, StatusWaitingCustomer, StatusWaitingDepartment, StatusResolved, StatusCancelled},
	StatusAcknowledged:      {StatusInProgress, StatusWaitingCustomer, StatusWaitingDepartment, StatusResolved, StatusCancelled},
	StatusInProgress:        {StatusWaitingCustomer, StatusWaitingDepartment, StatusResolved, StatusCancelled},
	StatusWaitingCustomer:   {StatusInProgress, StatusWaitingDepartment, StatusResolved, StatusCancelled},
	StatusWaitingDepartment: {StatusInProgress, StatusWaitingCustomer, StatusResolved, StatusCancelled},
	StatusResolved:          {StatusClosed, StatusReopened},
	StatusReopened:          {StatusAcknowledged, StatusInProgress, StatusWaitingCustomer, StatusWaitingDepartment, StatusResolved, StatusCancelled},
	StatusClosed:            {StatusReopened},
	StatusCancelled:         {},
}

// CanTransition reports whether the state machine allows from -> to.
func CanTransition(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Next lists the states from may move to.
func Next(from Status) []Status { return slices.Clone(transitions[from]) }

// ValidStatus reports whether s is a lifecycle state.
func ValidStatus(s Status) bool { _, ok := transitions[s]; return ok }

// Open reports whether work on a request in state s is still expected (it shows in
// queues): every state but resolved, closed and cancelled.
func (s Status) Open() bool {
	return s != StatusResolved && s != StatusClosed && s != StatusCancelled
}

// SLAPaused reports whether SLA clocks stand still in state s (waiting on the customer).
func (s Status) SLAPaused() bool { return s == StatusWaitingCustomer }

// EventKind is the kind of a timeline entry.
type EventKind string

// Timeline event kinds.
const (
	EventCreated        EventKind = "created"
	EventReply          EventKind = "reply"          // staff reply, visible to the customer
	EventCustomerReply  EventKind = "customer_reply" // from the portal or by email
	EventNote           EventKind = "note"           // internal, never shown to the customer
	EventStatus         EventKind = "status"         // data: {"from","to","reason"}
	EventAssign         EventKind = "assign"         // data: {"from","to","team_id","strategy"}
	EventTransfer       EventKind = "transfer"       // data: {"from_dept","to_dept","reason"}
	EventDispatch       EventKind = "dispatch"       // repair dispatch: {"technician","fault_level"}
	EventUpdate         EventKind = "update"         // field changes: {"fields":{...}}
	EventAttachment     EventKind = "attachment"     // data: {"attachment_id","filename"}
	EventSLAWarning     EventKind = "sla_warning"    // data: {"target":"response|resolve","due_at"}
	EventSLABreach      EventKind = "sla_breach"     // data: {"target","due_at"}
	EventEscalation     EventKind = "escalation"     // data: {"to":[staff ids]}
	EventNotification   EventKind = "notification"   // an email/SMS sent to the customer
	EventConfirm        EventKind = "confirm"        // the customer confirmed the resolution
	EventKnowledgeLink  EventKind = "kb_link"        // data: {"article_id","title"}
	EventCustomerLinked EventKind = "customer"       // customer changed
	// EventComplaint is an entry of the complaint workflow kept above (internal/complaint,
	// through AddEvent); data is free-form, e.g. {"from","to","reason"} of a stage change.
	EventComplaint EventKind = "complaint"
)

// Ticket is one service request.
type Ticket struct {
	ID              int64
	Number          string // KFyyyymmdd-NNNN
	Type            Type
	SubKind         string
	CategoryID      int64
	Channel         Channel
	Severity        Severity
	Priority        Priority
	PriorityReasons []i18n.Msg // why this priority (shown on the request)
	FaultLevel      int        // repair: 1 minor .. 3 critical; 0 = not a repair
	Status          Status
	Title           string
	Body            string // the customer's own words
	CustomerID      int64
	ContactName     string
	DeptID          int64
	TeamID          int64
	AssigneeID      int64
	CreatedBy       int64 // staff id; 0 = the customer (portal) or the system

	SLAPolicyID        int64
	CalendarID         string
	ResponseDueAt      time.Time
	RespondedAt        time.Time
	ResolveDueAt       time.Time
	ResolvedAt         time.Time
	ConfirmDueAt       time.Time
	ConfirmedAt        time.Time
	ClosedAt           time.Time
	SLAPausedAt        time.Time     // zero while the clocks run
	SLAPaused          time.Duration // total paused time so far
	ResponseWarnedAt   time.Time
	ResponseBreachedAt time.Time
	ResolveWarnedAt    time.Time
	ResolveBreachedAt  time.Time
	EscalatedAt        time.Time
	ReopenCount        int

	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastActivityAt time.Time

	// customer is the customer's summary when the service already read it (creation),
	// so that the response does not read it again.
	customer *customer.Ref
}

// Record is the scope-check view: department, team and assignee.
func (t *Ticket) Record() authz.Record {
	return authz.Record{DeptID: t.DeptID, TeamID: t.TeamID, OwnerID: t.AssigneeID}
}

// Event is one timeline entry.
type Event struct {
	ID        int64
	TicketID  int64
	Kind      EventKind
	Public    bool // shown to the customer in the portal
	ActorKind authz.Kind
	ActorID   int64
	ActorName string
	Body      string
	Data      map[string]any
	CreatedAt time.Time
}

// Category is a node of the admin-defined category tree.
type Category struct {
	ID        int64
	ParentID  int64
	Name      string
	Skill     string // assignment by skill: agents holding it are preferred
	SortOrder int
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// Attachment is a file attached to a request (bytes loaded only for downloads).
type Attachment struct {
	ID          int64
	TicketID    int64
	EventID     int64
	Filename    string
	ContentType string
	Size        int64
	SHA256      string
	Public      bool
	CreatedBy   int64
	CreatedAt   time.Time
}

// CannedReply is a reusable reply text with placeholders ({customer_name}, {number}, ...).
type CannedReply struct {
	ID        int64
	Title     string
	Body      string
	DeptID    int64 // 0 = every department
	CreatedBy int64
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// Event topics published after commit through platform/events.
const (
	TopicCreated       = "ticket.created"
	TopicAssigned      = "ticket.assigned"
	TopicStatusChanged = "ticket.status_changed"
	TopicResolved      = "ticket.resolved"
	TopicClosed        = "ticket.closed"
	TopicReopened      = "ticket.reopened"
	TopicUpdated       = "ticket.updated" // replies, notes, field changes
	TopicSLAWarning    = "ticket.sla_warning"
	TopicSLABreach     = "ticket.sla_breach"
)
