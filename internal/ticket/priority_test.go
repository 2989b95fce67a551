package ticket

import (
	"slices"
	"testing"
)

func TestComputePriority(t *testing.T) {
	cases := []struct {
		sev     Severity
		tier    string
		grade   string
		want    Priority
		reasons []string
	}{
		{SeverityGeneral, "", "", PriorityLow, []string{"ticket.priority.reason.severity_general"}},
		{SeverityModerate, "regular", "B", PriorityNormal, []string{"ticket.priority.reason.severity_moderate"}},
		{SeverityMajor, "potential", "A", PriorityHigh, []string{"ticket.priority.reason.severity_major"}},
		{SeverityGeneral, "vip", "", PriorityNormal, []string{"ticket.priority.reason.severity_general", "ticket.priority.reason.vip"}},
		{SeverityModerate, "vip", "A", PriorityHigh, []string{"ticket.priority.reason.severity_moderate", "ticket.priority.reason.vip"}},
		{SeverityMajor, "vip", "", PriorityUrgent, []string{"ticket.priority.reason.severity_major", "ticket.priority.reason.vip"}},
		{SeverityMajor, "vip", "C", PriorityUrgent, []string{"ticket.priority.reason.severity_major", "ticket.priority.reason.vip",
			"ticket.priority.reason.credit_c_major"}},
		{SeverityMajor, "regular", "C", PriorityHigh, []string{"ticket.priority.reason.severity_major",
			"ticket.priority.reason.credit_c_major"}},
		{SeverityModerate, "regular", "C", PriorityLow, []string{"ticket.priority.reason.severity_moderate",
			"ticket.priority.reason.credit_c"}},
		{SeverityGeneral, "", "C", PriorityLow, []string{"ticket.priority.reason.severity_general",
			"ticket.priority.reason.credit_c_lowest"}},
		{SeverityGeneral, "vip", "C", PriorityLow, []string{"ticket.priority.reason.severity_general", "ticket.priority.reason.vip",
			"ticket.priority.reason.credit_c"}},
		{SeverityModerate, "vip", "C", PriorityNormal, []string{"ticket.priority.reason.severity_moderate",
			"ticket.priority.reason.vip", "ticket.priority.reason.credit_c"}},
	}
	for _, tc := range cases {
		t.Run(string(tc.sev)+"/"+tc.tier+"/"+tc.grade, func(t *testing.T) {
			got, reasons := ComputePriority(tc.sev, tc.tier, tc.grade)
			if got != tc.want {
				t.Errorf("priority = %s, want %s", got, tc.want)
			}
			keys := make([]string, len(reasons))
			for i, r := range reasons {
				keys[i] = r.Key
			}
			if !slices.Equal(keys, tc.reasons) {
				t.Errorf("reasons = %v, want %v", keys, tc.reasons)
			}
		})
	}
}

func TestStoredReasonsRoundTrip(t *testing.T) {
	_, reasons := ComputePriority(SeverityMajor, "vip", "C")
	back := decodeMsgs(encodeMsgs(reasons))
	if len(back) != len(reasons) || back[2].Key != reasons[2].Key {
		t.Fatalf("round trip: %v -> %v", reasons, back)
	}
	if decodeMsgs("not json") != nil {
		t.Fatal("garbage decodes to reasons")
	}
}
