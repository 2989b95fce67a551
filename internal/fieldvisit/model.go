package fieldvisit

import (
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// Permissions of the field-visit capability (catalogued in authz.Catalog).
const (
	PermRead   = "fieldvisit:read"
	PermWrite  = "fieldvisit:write"
	PermManage = "fieldvisit:manage"
)

// Intent classes of a visited customer (the seed's A/B/C/D visitors): A the most
// promising, D kept warm on holidays and milestones only. "" = not assessed.
const (
	IntentA = "A"
	IntentB = "B"
	IntentC = "C"
	IntentD = "D"
)

// IntentClasses lists the intent classes in order.
var IntentClasses = []string{IntentA, IntentB, IntentC, IntentD}

// Trigger names of the return-visit engine this capability emits (revisit contract).
const (
	EventRecorded = "fieldvisit.recorded"
	SourceType    = "fieldvisit"
)

// Limits of free text (characters).
const (
	maxShort    = 64
	maxLocation = 200
	maxText     = 2000
	// A visit may be registered before it happens (the seed registers the waiqin form
	// before each visit) but not far ahead, and not recorded long after.
	maxAhead = 24 * time.Hour
	maxBack  = 90 * 24 * time.Hour
)

// Visit is one field visit (a waiqin form) with its contact phone in clear. It leaves
// the service only through View (masked unless the reader may reveal it).
type Visit struct {
	ID           int64
	CustomerID   int64
	BusinessType string
	ContactName  string
	ContactTitle string
	Phone        string // normalized mobile or landline number ("" = none given)
	VisitedAt    time.Time
	Purpose      string
	Result       string
	NextStep     string
	IntentClass  string
	DealClosed   bool
	Location     string
	StaffID      int64 // the salesperson who made (and recorded) the visit
	DeptID       int64
	TeamID       int64
	CreatedAt    time.Time
}

// Record is the scope-check view of a visit: the salesperson's department and team.
func (v Visit) Record() authz.Record {
	return authz.Record{DeptID: v.DeptID, TeamID: v.TeamID, OwnerID: v.StaffID}
}

// Input is the body of POST /api/v1/field-visits.
type Input struct {
	CustomerID   int64  `json:"customer_id"`
	BusinessType string `json:"business_type"`
	ContactName  string `json:"contact_name"`
	ContactTitle string `json:"contact_title"`
	Phone        string `json:"phone"`
	// VisitedAt is when the visit took (or takes) place; absent = now.
	VisitedAt   *time.Time `json:"visited_at"`
	Purpose     string     `json:"purpose" text:"multiline"`
	Result      string     `json:"result" text:"multiline"`
	NextStep    string     `json:"next_step" text:"multiline"`
	IntentClass string     `json:"intent_class"`
	DealClosed  bool       `json:"deal_closed"`
	Location    string     `json:"location"`
	// StaffID names the salesperson when the system records a visit for them (demo
	// data, imports); a staff member always records their own (0 or their own id).
	StaffID int64 `json:"staff_id"`
}

// View is the JSON form of a visit.
type View struct {
	ID           int64     `json:"id"`
	CustomerID   int64     `json:"customer_id"`
	CustomerName string    `json:"customer_name"`
	BusinessType string    `json:"business_type"`
	ContactName  string    `json:"contact_name"`
	ContactTitle string    `json:"contact_title"`
	Phone        string    `json:"phone"`
	PhoneMasked  bool      `json:"phone_masked"`
	VisitedAt    time.Time `json:"visited_at"`
	Purpose      string    `json:"purpose"`
	Result       string    `json:"result"`
	NextStep     string    `json:"next_step"`
	IntentClass  string    `json:"intent_class"`
	DealClosed   bool      `json:"deal_closed"`
	Location     string    `json:"location"`
	StaffID      int64     `json:"staff_id"`
	StaffName    string    `json:"staff_name"`
	DeptID       int64     `json:"dept_id"`
	TeamID       int64     `json:"team_id"`
	CreatedAt    time.Time `json:"created_at"`
}

// Filter narrows the visit list.
type Filter struct {
	// View is "mine" (my visits), "team" (my team's) or "" (everything in scope).
	View       string
	CustomerID int64
	StaffID    int64
	From, To   time.Time // visited_at in [From, To); zero = open
}

// List views.
const (
	ViewMine = "mine"
	ViewTeam = "team"
)

// Class kinds a visit plan applies to: the customer file's tier, value class and
// credit grade, or the intent class of the customer's latest assessed visit.
const (
	KindTier        = "tier"
	KindValueClass  = "value_class"
	KindCreditGrade = "credit_grade"
	KindIntentClass = "intent_class"
)

// ClassKinds lists the class kinds in order.
var ClassKinds = []string{KindTier, KindValueClass, KindCreditGrade, KindIntentClass}

// Plan is one visit-plan rule: customers of class Kind=Value are visited every Months
// months or every Days days (exactly one is set).
type Plan struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	Months int    `json:"months"`
	Days   int    `json:"days"`
}

// Plans is the editable set of visit plans (GET/PUT /api/v1/field-visit-plans).
type Plans struct {
	Plans     []Plan    `json:"plans"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PlansInput is the body of PUT /api/v1/field-visit-plans.
type PlansInput struct {
	Plans   []Plan `json:"plans"`
	Version *int64 `json:"version"`
}

// DefaultPlans are the plans before an administrator edits them: key customers (VIP,
// core value) and intent class A monthly, important customers and intent class B
// quarterly.
func DefaultPlans() []Plan {
	return []Plan{
		{Kind: KindTier, Value: "vip", Months: 1},
		{Kind: KindValueClass, Value: "core", Months: 1},
		{Kind: KindValueClass, Value: "important", Months: 3},
		{Kind: KindIntentClass, Value: IntentA, Months: 1},
		{Kind: KindIntentClass, Value: IntentB, Months: 3},
	}
}

// due is when a customer last visited at last falls due under p.
func (p Plan) due(last time.Time) time.Time {
	if p.Months > 0 {
		return last.In(chinaTime).AddDate(0, p.Months, 0)
	}
	return last.Add(time.Duration(p.Days) * 24 * time.Hour)
}

// Overdue is a customer in scope whose last visit is older than their plan allows.
type Overdue struct {
	CustomerID   int64      `json:"customer_id"`
	CustomerName string     `json:"customer_name"`
	OwnerID      int64      `json:"owner_id"`
	Plan         Plan       `json:"plan"`
	LastVisitAt  *time.Time `json:"last_visit_at"`
	Never        bool       `json:"never_visited"`
	DueAt        time.Time  `json:"due_at"`
	DaysOverdue  int        `json:"days_overdue"`
}

// OverdueList is the answer of GET /api/v1/field-visits/overdue.
type OverdueList struct {
	Items []Overdue `json:"items"`
	// Truncated: more customers were in scope than one run examines (scanLimit).
	Truncated bool `json:"truncated"`
}

// ReportRow counts one salesperson's visits in a period.
type ReportRow struct {
	StaffID   int64  `json:"staff_id"`
	StaffName string `json:"staff_name"`
	Visits    int    `json:"visits"`
	Customers int    `json:"customers"`
	Deals     int    `json:"deals"`
	IntentA   int    `json:"intent_a"`
	IntentB   int    `json:"intent_b"`
	IntentC   int    `json:"intent_c"`
	IntentD   int    `json:"intent_d"`
}

// Report is the answer of GET /api/v1/field-visits/report.
type Report struct {
	From  time.Time   `json:"from"`
	To    time.Time   `json:"to"`
	Rows  []ReportRow `json:"rows"`
	Total ReportRow   `json:"total"`
}

var chinaTime = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()
