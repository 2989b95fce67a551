package revisit

import "time"

// Visit-work permissions (authz/perms.go holds the labels; named apart from the
// engine's own constants).
const (
	workPermRead    = "revisit:read"
	workPermWrite   = "revisit:write"
	workPermSignoff = "revisit:signoff"
	workPermVerify  = "revisit:verify"
	workPermApprove = "revisit:approve"
	workPermManage  = "revisit:manage"
)

// VisitRecord is what a visitor wrote about one call or visit of a task: a reached
// visit completes the task; an unreached one is an attempt and schedules the retry.
type VisitRecord struct {
	ID           int64
	TaskID       int64
	Round        int
	Method       string
	VisitedAt    time.Time
	Reached      bool
	Satisfaction int // 1..5; 0 = not given (unreached)
	Answers      map[string]string
	Important    bool
	Note         string
	AgentID      int64
	SignatureID  int64 // the customer's signature of an on-site visit
	// Sign-off by a supervisor of the department (zhuguan jiancha bing qianshu yijian).
	SignoffBy   int64
	SignoffAt   time.Time
	SignoffNote string
	// False record: flagged (revisit:verify), then confirmed by the director.
	FlaggedFalseAt   time.Time
	FlaggedBy        int64
	FalseReason      string
	FalseConfirmedAt time.Time
	FalseConfirmedBy int64
	FalseStaffID     int64 // whose false visit it was (the salesperson)
	CreatedAt        time.Time
	Version          int64
}

// Attempt is one unreached call or visit of a task.
type Attempt struct {
	ID      int64
	TaskID  int64
	At      time.Time
	Outcome string // unreached
	Note    string
	AgentID int64
	NextAt  time.Time // the retry scheduled (zero: none, the task became unreached)
}

// Attempt outcomes.
const OutcomeUnreached = "unreached"

// Issue is a new problem the customer raised in a visit: its follow-up request, the
// appointment time told to the customer, and the next visit that answers it.
type Issue struct {
	ID            int64
	RecordID      int64
	TaskID        int64
	Body          string
	TicketID      int64
	AppointmentAt time.Time
	NextTaskID    int64
	AnsweredAt    time.Time // zero until the next-round visit is done
	CreatedAt     time.Time
}

// Notice is a result sent to a staff member (kept as the record of what was sent).
type Notice struct {
	ID        int64
	TaskID    int64
	RecordID  int64
	StaffID   int64
	Reason    string // result | dissatisfied | important | false_record
	Channel   string // inapp; email once mailed (MailedAt)
	MailedAt  time.Time
	CreatedAt time.Time
}

// Notice reasons.
const (
	NoticeResult       = "result"
	NoticeDissatisfied = "dissatisfied"
	NoticeImportant    = "important"
	NoticeFalseRecord  = "false_record"
)

// Sanction is the penalty proposed for a confirmed false visit, in the seed's order.
type Sanction struct {
	ID         int64
	StaffID    int64
	RecordID   int64
	Offence    int    // 1st, 2nd, 3rd (and later) confirmed false visit of the staff member
	Kind       string // SanctionPerformancePay, SanctionMonthPay, SanctionDismissal
	Month      string // YYYY-MM the pay deductions apply to
	Status     string // proposed | approved | rejected
	ProposedBy int64
	DecidedBy  int64
	DecidedAt  time.Time
	Note       string
	Version    int64
	CreatedAt  time.Time
}

// Sanction kinds (the seed: first the month's performance pay, second the month's whole
// pay and commission, third dismissal) and statuses.
const (
	SanctionPerformancePay = "performance_pay"
	SanctionMonthPay       = "month_pay"
	SanctionDismissal      = "dismissal"

	SanctionProposed = "proposed"
	SanctionApproved = "approved"
	SanctionRejected = "rejected"
)

// SanctionFor is the sanction of the n-th confirmed false visit.
func SanctionFor(n int) string {
	switch {
	case n <= 1:
		return SanctionPerformancePay
	case n == 2:
		return SanctionMonthPay
	}
	return SanctionDismissal
}

// SMSTemplate is an SMS revisit message.
type SMSTemplate struct {
	ID        int64
	Name      string
	Body      string
	Active    bool
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}
