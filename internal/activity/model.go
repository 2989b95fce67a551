package activity

import (
	"slices"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// Permissions of the capability.
const (
	PermRead  = "activity:read"
	PermWrite = "activity:write"
)

// Type is the kind of an activity.
type Type string

// Activity types.
const (
	TypeSportsCulture Type = "sports_culture" // wenti huodong
	TypePromotion     Type = "promotion"
	TypeTraining      Type = "training"
	TypeOther         Type = "other"
)

// Types lists every activity type.
var Types = []Type{TypeSportsCulture, TypePromotion, TypeTraining, TypeOther}

// Status is where an activity stands: planned -> ongoing -> ended, or cancelled before
// it ends.
type Status string

// Activity statuses.
const (
	StatusPlanned   Status = "planned"
	StatusOngoing   Status = "ongoing"
	StatusEnded     Status = "ended"
	StatusCancelled Status = "cancelled"
)

// Statuses lists every status.
var Statuses = []Status{StatusPlanned, StatusOngoing, StatusEnded, StatusCancelled}

// Open reports whether an activity in status st may still change (participants, fields).
func (st Status) Open() bool { return st == StatusPlanned || st == StatusOngoing }

// Participant sources.
const (
	SourceManual = "manual"
	SourceImport = "import"
)

// Activity is one activity with customers.
type Activity struct {
	ID           int64
	Title        string
	Type         Type
	StartOn      string // YYYY-MM-DD
	EndOn        string // YYYY-MM-DD
	OrganiserID  int64  // staff id
	DeptID       int64
	TeamID       int64 // the organiser's team (team-scoped readers)
	Description  string
	Status       Status
	Participants int // distinct participant customers
	EndedAt      time.Time
	CancelledAt  time.Time
	CreatedBy    int64 // staff id, 0 for the system
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Record is the activity as a scope check sees it: its department, the organiser's team,
// and the organiser as owner.
func (a Activity) Record() authz.Record {
	return authz.Record{DeptID: a.DeptID, TeamID: a.TeamID, OwnerID: a.OrganiserID}
}

// Input creates an activity (POST /api/v1/activities).
type Input struct {
	Title       string `json:"title"`
	Type        Type   `json:"type"`
	StartOn     string `json:"start_on"`
	EndOn       string `json:"end_on"`
	OrganiserID int64  `json:"organiser_id"`
	DeptID      int64  `json:"dept_id"`
	Description string `json:"description" text:"multiline"`
}

// Patch changes an activity (PATCH /api/v1/activities/{id}); members left out stay.
// Status may move planned <-> ongoing here; ending and cancelling have their own actions.
type Patch struct {
	Title       *string `json:"title"`
	Type        *Type   `json:"type"`
	StartOn     *string `json:"start_on"`
	EndOn       *string `json:"end_on"`
	OrganiserID *int64  `json:"organiser_id"`
	DeptID      *int64  `json:"dept_id"`
	Description *string `json:"description" text:"multiline"`
	Status      *Status `json:"status"`
	Version     *int64  `json:"version"`
}

// Participant is a customer taking part in an activity.
type Participant struct {
	ActivityID int64
	CustomerID int64
	Source     string
	AddedBy    int64
	AddedAt    time.Time
}

func validType(t Type) bool     { return slices.Contains(Types, t) }
func validStatus(s Status) bool { return slices.Contains(Statuses, s) }
