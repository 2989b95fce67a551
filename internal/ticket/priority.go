package ticket

import (
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Priority rule (shown on the request as its reasons, in this order):
//
//  1. Severity gives the base: major -> high, moderate -> normal,
//     general -> low.
//  2. A VIP customer raises it one step (high -> urgent). Regular and potential
//     customers, and requests without a customer, keep the base.
//  3. Credit grade C lowers it one step (not below low), except for major requests:
//     a serious problem is never put back because of the customer's payment record.
//     Grades A and B change nothing.
//
// So a major request of a VIP is urgent; a general request of a grade-C customer is low.

// priorityRank orders priorities from low (0) to urgent (3).
var priorityRank = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

func rankOf(p Priority) int {
	for i, q := range priorityRank {
		if q == p {
			return i
		}
	}
	return 1
}

// ComputePriority derives the priority of a request of severity sev for a customer of
// tier and credit grade ("" when unknown), with the reasons to show.
func ComputePriority(sev Severity, tier, grade string) (Priority, []i18n.Msg) {
	var base Priority
	switch sev {
	case SeverityMajor:
		base = PriorityHigh
	case SeverityModerate:
		base = PriorityNormal
	default:
		base = PriorityLow
	}
	reasons := []i18n.Msg{i18n.M("ticket.priority.reason.severity_" + string(sev))}
	r := rankOf(base)
	if tier == customer.TierVIP {
		if r < len(priorityRank)-1 {
			r++
		}
		reasons = append(reasons, i18n.M("ticket.priority.reason.vip"))
	}
	if grade == customer.GradeC {
		switch {
		case sev == SeverityMajor:
			reasons = append(reasons, i18n.M("ticket.priority.reason.credit_c_major"))
		case r > 0:
			r--
			reasons = append(reasons, i18n.M("ticket.priority.reason.credit_c"))
		default:
			reasons = append(reasons, i18n.M("ticket.priority.reason.credit_c_lowest"))
		}
	}
	return priorityRank[r], reasons
}
