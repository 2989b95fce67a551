package portal_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// A customer's complaint shows its stage on the portal request page, with the replies
// meant for them; what the center keeps internal (a level change and its reason) stays out.
func TestPortalComplaintStage(t *testing.T) {
	e := newEnv(t)
	c := e.customer(t, "Lin Xiaowen", "lin@example.com", "")
	sys := apptest.SystemCtx()
	cp, err := e.s.App.Complaint.Create(sys, ticket.Input{Channel: ticket.ChannelPhone, Severity: ticket.SeverityGeneral,
		Title: "Technician missed two visits", Body: "Nobody came, nobody called.", CustomerID: c.ID})
	if err != nil {
		t.Fatalf("create complaint: %v", err)
	}
	dept := e.s.Dept(t, "tech", "Technical support")
	for _, in := range []complaint.MoveInput{
		{Stage: complaint.StageAssessing},
		{Stage: complaint.StageInvestigating, RespDeptID: dept.ID, Reply: "We will answer within 48 hours."},
	} {
		if _, err := e.s.App.Complaint.Transition(sys, cp.ID, in); err != nil {
			t.Fatalf("move to %s: %v", in.Stage, err)
		}
	}
	if _, err := e.s.App.Complaint.ChangeLevel(sys, cp.ID, complaint.LevelInput{Level: complaint.LevelUrgent,
		Reason: "internal: check the dispatch log"}); err != nil {
		t.Fatalf("change level: %v", err)
	}
	b := e.signIn(t, "lin@example.com")
	p := b.get(t, "/portal/tickets/"+strconv.FormatInt(cp.TicketID, 10))
	if p.status != 200 {
		t.Fatalf("request page: %d\n%s", p.status, p.body)
	}
	for _, want := range []string{`id="complaint-stage"`, "Complaint progress: Investigating", "We will answer within 48 hours."} {
		if !strings.Contains(p.body, want) {
			t.Errorf("portal request page lacks %q", want)
		}
	}
	if strings.Contains(p.body, "check the dispatch log") {
		t.Error("portal request page shows an internal reason")
	}
}
