package revisit

import (
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// Permissions of the return-visit capability.
const (
	PermRead   = "revisit:read"
	PermWrite  = "revisit:write"
	PermManage = "revisit:manage"
)

// Task statuses.
const (
	StatusOpen      = "open"
	StatusDone      = "done"
	StatusUnreached = "unreached"
	StatusCancelled = "cancelled"
	StatusExpired   = "expired"
)

// Statuses lists every task status.
var Statuses = []string{StatusOpen, StatusDone, StatusUnreached, StatusCancelled, StatusExpired}

// Visit methods.
const (
	MethodPhone  = "phone"
	MethodOnsite = "onsite"
	MethodSMS    = "sms"
	MethodEmail  = "email"
	MethodWeChat = "wechat"
)

// Methods lists every visit method.
var Methods = []string{MethodPhone, MethodOnsite, MethodSMS, MethodEmail, MethodWeChat}

// Levels of a task (the complaint's level; "" for sources without one).
const (
	LevelNone    = ""
	LevelGeneral = "general"
	LevelUrgent  = "urgent"
	LevelMajor   = "major"
)

// Source types of a task.
const (
	SourceTicket     = "ticket"
	SourceComplaint  = "complaint"
	SourceActivity   = "activity"
	SourceFieldVisit = "fieldvisit"
	SourceCustomer   = "customer"
	SourcePlan       = "plan"
	SourceTask       = "task"
)

// SourceTypes lists every source type.
var SourceTypes = []string{SourceTicket, SourceComplaint, SourceActivity, SourceFieldVisit, SourceCustomer, SourcePlan, SourceTask}

// Trigger events.
const (
	EventComplaintClosed   = "complaint.closed"
	EventTicketResolved    = "ticket.resolved"
	EventTicketClosed      = "ticket.closed"
	EventActivityEnded     = "activity.ended"
	EventFieldVisit        = "fieldvisit.recorded"
	EventCustomerCreated   = "customer.created"
	EventDealClosed        = "deal.closed"
	EventCallInbound       = "call.inbound"
	EventPlanMonthly       = "plan.monthly"
	EventPlanHoliday       = "plan.holiday"
	EventPlanHalfMonth     = "plan.half_month"
	EventPlanBirthday      = "plan.birthday"
	TopicTaskCreated       = "revisit.task_created"
	reasonSampled          = "sampled"
	reasonKeyCustomer      = "key_customer"
	reasonNotSampled       = "not_sampled"
	reasonNoCustomer       = "no_customer"
	reasonExcludedCustomer = "customer_inactive"
)

// Events lists the trigger events a rule may name.
var Events = []string{EventComplaintClosed, EventTicketResolved, EventTicketClosed, EventActivityEnded,
	EventFieldVisit, EventCustomerCreated, EventDealClosed, EventCallInbound, EventPlanMonthly, EventPlanHoliday,
	EventPlanHalfMonth, EventPlanBirthday}

// Task is one return visit to make.
type Task struct {
	ID, CustomerID, SourceID, DeptID, TeamID, AssigneeID, ParentID, DecisionID int64
	Rule, SourceType, Level, Method, Status, PlanKey                           string
	Round, Attempts                                                            int
	WindowStart, WindowEnd, ScheduledAt, NextAttemptAt, DoneAt, CreatedAt      time.Time
	UpdatedAt                                                                  time.Time
	Version                                                                    int64
}

// Record is the scope-check view of the task: its department, team and assignee.
func (t Task) Record() authz.Record {
	return authz.Record{DeptID: t.DeptID, TeamID: t.TeamID, OwnerID: t.AssigneeID}
}

// Open reports whether the task still waits for its visit.
func (t Task) Open() bool { return t.Status == StatusOpen }

// Trigger is one event that may call for return visits. Producers below revisit are
// listened to; producers above it (field visits) call Service.Emit in their transaction.
type Trigger struct {
	Event      string
	SourceType string
	SourceID   int64
	CustomerID int64
	DeptID     int64
	TeamID     int64
	// ActorID is who did the source (the salesperson of a field visit): never assigned
	// the verification visit.
	ActorID int64
	At      time.Time
	Attrs   map[string]string
}

// Window modes of a rule.
const (
	WindowCalendar          = "calendar"            // start + length of elapsed time
	WindowWorkingDays       = "working_days"        // length in working days on the business calendar
	WindowSameDay           = "same_day"            // until the end of the event's day
	WindowMonthWorkingDays  = "month_working_days"  // the first N working days of the month (plans)
	WindowWorkingDaysBefore = "working_days_before" // the N working days before a holiday (plans)
)

// WindowModes lists every window mode.
var WindowModes = []string{WindowCalendar, WindowWorkingDays, WindowSameDay, WindowMonthWorkingDays, WindowWorkingDaysBefore}

// Assignee policies: who makes the visit.
const (
	AssignSourceAgent  = "source_agent"  // the request's agent / complaint's responsible person, else the account agent
	AssignAccountAgent = "account_agent" // the customer's account agent (owner)
	AssignTerritory    = "territory"     // the responsible person of the customer's territory
	AssignDeptHead     = "dept_head"     // a supervisor of the source's department (outside the teams first)
	AssignDirector     = "director"      // a director
	AssignOrganiser    = "organiser"     // the activity's organiser (the source's agent)
	AssignCenter       = "center"        // a member of the rule's team (the revisit center), never the source's actor
)

// AssignPolicies lists every assignee policy.
var AssignPolicies = []string{AssignSourceAgent, AssignAccountAgent, AssignTerritory, AssignDeptHead, AssignDirector,
	AssignOrganiser, AssignCenter}

// Repeat kinds.
const (
	RepeatNone      = ""
	RepeatDays      = "days"
	RepeatWeekly    = "weekly"
	RepeatHalfMonth = "half_month"
	RepeatHolidays  = "holidays"
)

// RepeatKinds lists every repeat kind.
var RepeatKinds = []string{RepeatNone, RepeatDays, RepeatWeekly, RepeatHalfMonth, RepeatHolidays}

// Stop conditions of a repeating rule.
var StopConditions = []string{"visit_recorded", "deal_closed"}

// Filters narrow the events a rule takes; an empty list matches anything.
type Filters struct {
	Types         []string `json:"types,omitempty"`        // request types
	CategoryIDs   []int64  `json:"category_ids,omitempty"` // request categories
	DeptIDs       []int64  `json:"dept_ids,omitempty"`
	Tiers         []string `json:"tiers,omitempty"`
	ValueClasses  []string `json:"value_classes,omitempty"`
	CreditGrades  []string `json:"credit_grades,omitempty"`
	Levels        []string `json:"levels,omitempty"`     // complaint levels
	Severities    []string `json:"severities,omitempty"` // request severities
	IntentClasses []string `json:"intent_classes,omitempty"`
	// KeyOnly takes key customers only (tier vip, value class core or credit grade A).
	KeyOnly bool `json:"key_only,omitempty"`
	// Cooperating takes customers with an active cooperation (plans).
	Cooperating bool `json:"cooperating,omitempty"`
}

// Window is when the visit is due, from the event.
type Window struct {
	Start  string `json:"start"`  // offset from the event ("0h", "1d")
	Length string `json:"length"` // "3d", "24h"; working days: whole days
	Mode   string `json:"mode"`
}

// Repeat makes a rule repeat its visit until a stop condition.
type Repeat struct {
	Kind  string   `json:"kind,omitempty"`
	Days  int      `json:"days,omitempty"`  // for kind days
	Count int      `json:"count,omitempty"` // at most this many repeats (0 = until stopped)
	Stop  []string `json:"stop,omitempty"`
	Until string   `json:"until,omitempty"` // YYYY-MM-DD
}

// Question is one line of a rule's script.
type Question struct {
	Q string `json:"q"`
}

// Rule turns trigger events into sampled return-visit tasks.
type Rule struct {
	ID          int64    `json:"id"`
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Triggers    []string `json:"triggers"`
	Filters     Filters  `json:"filters"`
	Window      Window   `json:"window"`
	RatePct     int      `json:"rate_pct"`
	// Assignees maps a level ("general", "urgent", "major") or "default" to a policy.
	Assignees map[string]string `json:"assignees"`
	TeamID    int64             `json:"team_id"` // the revisit center team (policy center)
	Methods   []string          `json:"methods"`
	Script    []Question        `json:"script"`
	Repeat    Repeat            `json:"repeat"`
	Active    bool              `json:"active"`
	Builtin   bool              `json:"builtin"`
	SortOrder int               `json:"sort_order"`
	Version   int64             `json:"version"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Policy returns the assignee policy for level.
func (r *Rule) Policy(level string) string {
	if p, ok := r.Assignees[level]; ok && p != "" {
		return p
	}
	if p := r.Assignees["default"]; p != "" {
		return p
	}
	if p := r.Assignees[LevelGeneral]; p != "" {
		return p
	}
	return AssignAccountAgent
}

// Method is the rule's default method (the first allowed).
func (r *Rule) Method() string {
	if len(r.Methods) > 0 {
		return r.Methods[0]
	}
	return MethodPhone
}

// Takes reports whether the rule is triggered by event.
func (r *Rule) Takes(event string) bool {
	for _, t := range r.Triggers {
		if t == event {
			return true
		}
	}
	return false
}

// IsKey reports whether a customer's classification makes it a key customer, always
// visited whatever the rate (bixu baozheng zhongdian kehu 100% huifang).
func IsKey(tier, valueClass, creditGrade string) bool {
	return tier == customer.TierVIP || valueClass == customer.ValueCore || creditGrade == customer.GradeA
}
