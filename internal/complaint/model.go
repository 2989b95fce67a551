// Package complaint is the complaint capability (SPEC §2.3): every request of type
// complaint carries a complaint record, created in the request's own transaction, that
// follows the seed rules' workflow — intake, validity, investigation with a root cause
// and its rectification, proposals and penalties approved by a superior, feedback,
// evaluation — with deadlines on the business calendar, escalation by level, merging of
// complaints about one issue, public letters, the analysis and the case library.
// It publishes complaint.stage_changed and complaint.closed after commit; the return
// visits (SPEC §2.4) subscribe to them.
package complaint

import (
	"slices"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Permissions of the capability (authz.Catalog lists them).
const (
	PermRead    = "complaint:read"    // see complaints in scope, their stages, proposals, penalties
	PermWrite   = "complaint:write"   // record, move the working stages, propose, report results
	PermAssess  = "complaint:assess"  // decide validity, set the responsible department, change the level
	PermApprove = "complaint:approve" // approve proposals and penalties of departments in scope
	PermMerge   = "complaint:merge"   // merge and unmerge complaints about one issue
	PermLetter  = "complaint:letter"  // draft, approve and publish public letters
	PermAnalyze = "complaint:analyze" // the analysis, its exports, the case library
	PermManage  = "complaint:manage"  // the cause tree and the settings (targets, fines, templates)
)

// Stage is a step of the complaint workflow.
type Stage string

// Stages, in workflow order.
const (
	StageReceived      Stage = "received"      // intake
	StageAssessing     Stage = "assessing"     // validity
	StageRejected      Stage = "rejected"      // not valid
	StageInvestigating Stage = "investigating" // investigation
	StageProposing     Stage = "proposing"     // proposal
	StageExecuting     Stage = "executing"     // execution
	StageFeedback      Stage = "feedback"      // feedback
	StageEvaluating    Stage = "evaluating"    // evaluation
	StageClosed        Stage = "closed"        // closed
)

// Stages lists every stage in workflow order.
var Stages = []Stage{StageReceived, StageAssessing, StageRejected, StageInvestigating, StageProposing,
	StageExecuting, StageFeedback, StageEvaluating, StageClosed}

// stageMoves is the state machine: from -> the stages it may move to. A closed complaint
// reopens into assessing.
var stageMoves = map[Stage][]Stage{
	StageReceived:      {StageAssessing},
	StageAssessing:     {StageRejected, StageInvestigating},
	StageRejected:      {StageClosed},
	StageInvestigating: {StageProposing},
	StageProposing:     {StageExecuting},
	StageExecuting:     {StageFeedback},
	StageFeedback:      {StageEvaluating},
	StageEvaluating:    {StageClosed},
	StageClosed:        {StageAssessing},
}

// CanMove reports whether the workflow allows from -> to.
func CanMove(from, to Stage) bool { return slices.Contains(stageMoves[from], to) }

// NextStages lists the stages from may move to.
func NextStages(from Stage) []Stage { return slices.Clone(stageMoves[from]) }

// ValidStage reports whether s is a stage.
func ValidStage(s Stage) bool { _, ok := stageMoves[s]; return ok }

// Open reports whether work on a complaint in stage s is still expected.
func (s Stage) Open() bool { return s != StageClosed }

// ticketStatus is the request status that follows each stage (the request's queues and
// SLA clocks see the complaint's progress).
var ticketStatus = map[Stage]ticket.Status{
	StageReceived:      ticket.StatusNew,
	StageAssessing:     ticket.StatusAcknowledged,
	StageInvestigating: ticket.StatusInProgress,
	StageProposing:     ticket.StatusInProgress,
	StageExecuting:     ticket.StatusInProgress,
	StageFeedback:      ticket.StatusResolved,
	StageEvaluating:    ticket.StatusResolved,
	StageRejected:      ticket.StatusResolved,
	StageClosed:        ticket.StatusClosed,
}

// Level is how serious a complaint is; it decides the targets and who is escalated to.
type Level string

// Levels, mildest first.
const (
	LevelGeneral Level = "general" // yiban
	LevelUrgent  Level = "urgent"  // jinyao
	LevelMajor   Level = "major"   // zhongdian
)

// Levels lists every level, mildest first.
var Levels = []Level{LevelGeneral, LevelUrgent, LevelMajor}

// LevelFor derives the level of a new complaint from the request's severity.
func LevelFor(sev ticket.Severity) Level {
	switch sev {
	case ticket.SeverityMajor:
		return LevelMajor
	case ticket.SeverityModerate:
		return LevelUrgent
	}
	return LevelGeneral
}

// ObjectKind is what a complaint is about.
type ObjectKind string

// Object kinds ("" = not said).
const (
	ObjectDepartment ObjectKind = "department"
	ObjectStaff      ObjectKind = "staff"
	ObjectProduct    ObjectKind = "product"
	ObjectService    ObjectKind = "service"
)

// ObjectKinds lists every object kind.
var ObjectKinds = []ObjectKind{ObjectDepartment, ObjectStaff, ObjectProduct, ObjectService}

// CauseKind says whose the root cause is.
type CauseKind string

// Cause kinds.
const (
	CausePersonal CauseKind = "personal" // geren yuanyin: a rectification report before approval
	CauseTeam     CauseKind = "team"     // xiangmuzu yuanyin: a team rectification and the head's explanation
	CauseOther    CauseKind = "other"    // neither (a product fault, a third party)
)

// CauseKinds lists every cause kind.
var CauseKinds = []CauseKind{CausePersonal, CauseTeam, CauseOther}

// Proposal statuses.
const (
	ProposalProposed = "proposed"
	ProposalApproved = "approved"
	ProposalSetAside = "set_aside" // another proposal was approved; kept
)

// PenaltyKind is a sanction for a responsible person.
type PenaltyKind string

// Penalty kinds.
const (
	PenaltyWarning   PenaltyKind = "warning"
	PenaltyFine      PenaltyKind = "fine"
	PenaltyDemotion  PenaltyKind = "demotion"
	PenaltyPersuade  PenaltyKind = "dismissal_persuade" // quantui, persuaded to leave
	PenaltyDismissal PenaltyKind = "dismissal_expel"    // kaichu, expelled
	PenaltyOther     PenaltyKind = "other"
)

// PenaltyKinds lists every penalty kind.
var PenaltyKinds = []PenaltyKind{PenaltyWarning, PenaltyFine, PenaltyDemotion, PenaltyPersuade, PenaltyDismissal, PenaltyOther}

// Penalty roles: the directly responsible person or their department head.
const (
	PenaltyDirect = "direct"
	PenaltyHead   = "head"
)

// FineCategories are the seed's fine categories (amounts are settings).
var FineCategories = []string{"A", "B", "C", "D"}

// Penalty statuses.
const (
	PenaltyProposed = "proposed"
	PenaltyApproved = "approved"
	PenaltyRefused  = "refused"
)

// Task kinds.
const (
	TaskRectificationReport = "rectification_report" // zhenggai baogao of the responsible person (personal cause)
	TaskTeamRectification   = "team_rectification"   // the team's rectification (team cause)
	TaskHeadExplanation     = "head_explanation"     // the department head explains to the customer (team cause)
	TaskImprovement         = "improvement"          // an improvement action of the evaluation
)

// Task statuses.
const (
	TaskOpen = "open"
	TaskDone = "done"
)

// Letter statuses.
const (
	LetterDraft     = "draft"
	LetterApproved  = "approved"
	LetterPublished = "published"
)

// Complaint is the complaint record of one request.
type Complaint struct {
	ID         int64
	TicketID   int64
	Number     string // the request's number
	Title      string
	Channel    ticket.Channel
	Stage      Stage
	Level      Level
	Anonymous  bool // no customer file, no contact: no return visit
	ReplyOnly  bool // a higher authority asked only for a written reply (fuhan): no return visit
	CustomerID int64
	Location   string // the address or building the complaint is about

	ObjectKind    ObjectKind
	ObjectDeptID  int64
	ObjectStaffID int64
	ObjectText    string // the product or service named

	DeptID      int64 // the request's department and team (intake)
	TeamID      int64
	RespDeptID  int64 // the responsible department, set when the complaint is valid
	RespTeamID  int64
	RespStaffID int64
	CauseID     int64
	CauseKind   CauseKind

	CalendarID   string
	FirstDueAt   time.Time // the first answer promised to the customer
	FirstDoneAt  time.Time
	ResultDueAt  time.Time // the investigation and proposal promised
	ResultDoneAt time.Time
	StageAt      time.Time // when the current stage began
	StageDueAt   time.Time // the current stage's target (zero: none)

	FirstWarnedAt     time.Time
	FirstEscalatedAt  time.Time
	ResultWarnedAt    time.Time
	ResultEscalatedAt time.Time
	StageWarnedAt     time.Time
	StageEscalatedAt  time.Time

	RejectedAt    time.Time
	Satisfaction  int   // the customer's satisfaction with the result, 1-5 (0 = not asked)
	ReplyLetterID int64 // the written reply (fuhan), an attachment of the request
	MasterID      int64 // merged into this complaint (0 = a master or alone)
	MergedAt      time.Time
	IsCase        bool
	CaseSummary   string
	CaseAt        time.Time
	ReopenCount   int
	ClosedAt      time.Time
	CreatedBy     int64 // the staff member who recorded it (0 = the customer or the system)

	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Record is the scope-check view at intake: the request's department and team, and the
// staff member who recorded it.
func (c *Complaint) Record() authz.Record {
	return authz.Record{DeptID: c.DeptID, TeamID: c.TeamID, OwnerID: c.CreatedBy}
}

// RespRecord is the scope-check view of the responsible side.
func (c *Complaint) RespRecord() authz.Record {
	return authz.Record{DeptID: c.RespDeptID, TeamID: c.RespTeamID, OwnerID: c.RespStaffID}
}

// Revisit reports whether the complaint gets a return visit when it closes: never for an
// anonymous complaint or one answered only in writing.
func (c *Complaint) Revisit() bool { return !c.Anonymous && !c.ReplyOnly }

// NeedsReplyLetter reports whether the written reply must be attached before closing.
func (c *Complaint) NeedsReplyLetter() bool { return c.Anonymous || c.ReplyOnly }

// StageEntry is one move of the workflow (the stage history).
type StageEntry struct {
	ID          int64
	ComplaintID int64
	From        Stage
	To          Stage
	FromSince   time.Time // when the complaint entered From (time spent = At - FromSince)
	Reason      string
	Data        map[string]any
	ActorKind   authz.Kind
	ActorID     int64
	ActorName   string
	At          time.Time
}

// Cause is a node of the editable cause tree. Built-in causes have a code and are named
// by the catalog ("complaint.cause.<code>"); added causes carry their own name.
type Cause struct {
	ID        int64
	ParentID  int64
	Code      string
	Name      string
	SortOrder int
	Active    bool
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Proposal is one way of resolving a complaint (proposal), with optional compensation.
type Proposal struct {
	ID           int64
	ComplaintID  int64
	Body         string
	CompForm     string // the form of compensation (heli buchang), e.g. a refund, a free repair
	CompAmount   int64  // fen
	Status       string
	ProposedBy   int64
	ProposedAt   time.Time
	DecidedBy    int64
	DecidedAt    time.Time
	Instruction  string // the approver's instruction (pishi)
	ProposerName string // filled on reads
	DeciderName  string
}

// Penalty is a sanction proposed for a responsible person, approved by a superior and
// kept on the staff member's record.
type Penalty struct {
	ID           int64
	ComplaintID  int64
	StaffID      int64
	StaffDeptID  int64
	Role         string // direct | head
	Kind         PenaltyKind
	FineCategory string // A-D for fines
	Amount       int64  // fen
	Note         string
	Status       string
	ProposedBy   int64
	ProposedAt   time.Time
	DecidedBy    int64
	DecidedAt    time.Time
	DecisionNote string
	StaffName    string // filled on reads
	Number       string // the complaint's request number, filled on reads
}

// Task is a rectification or improvement task of a complaint.
type Task struct {
	ID          int64
	ComplaintID int64
	Kind        string
	OwnerID     int64
	TeamID      int64
	Body        string
	Report      string // the report filed when done (zhenggai baogao for a rectification report)
	Status      string
	DueAt       time.Time
	DoneAt      time.Time
	CreatedBy   int64
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	OwnerName   string // filled on reads
}

// Letter is a public letter (gongkaixin) answering a problem many customers share.
type Letter struct {
	ID          int64
	Title       string
	Body        string
	Status      string
	DraftedBy   int64
	ApprovedBy  int64
	ApprovedAt  time.Time
	PublishedBy int64
	PublishedAt time.Time
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Complaints  []int64 // the complaints it answers (ids)
}

// Event topics published after commit through platform/events.
const (
	TopicStageChanged = "complaint.stage_changed"
	TopicClosed       = "complaint.closed"
)

// EventData is the payload of both topics.
type EventData struct {
	ComplaintID int64  `json:"complaint_id"`
	TicketID    int64  `json:"ticket_id"`
	Number      string `json:"number"`
	From        Stage  `json:"from"`
	To          Stage  `json:"to"`
	Level       Level  `json:"level"`
	CustomerID  int64  `json:"customer_id"`
	DeptID      int64  `json:"dept_id"` // the responsible department (the intake one before it is set)
	Revisit     bool   `json:"revisit"`
	Anonymous   bool   `json:"anonymous"`
	ReplyOnly   bool   `json:"reply_only"`
	MasterID    int64  `json:"master_id,omitempty"`
}
