package ticket_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// TestAssignmentRoutesPerRole walks the assignment API per role: agents may take and
// set their own presence but not assign; supervisors assign within their department;
// team rules need ticket:manage.
func TestAssignmentRoutesPerRole(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sys := apptest.SystemCtx()
	cs := s.Dept(t, "cs", "Customer service")
	ops := s.Dept(t, "ops", "Operations")
	hotline, err := s.App.Org.CreateTeam(sys, org.TeamInput{DeptID: cs.ID, Name: "hotline"})
	if err != nil {
		t.Fatal(err)
	}
	agent := s.As(t, "agent@cs")
	if _, err := s.App.Org.UpdateStaff(sys, agent.Staff.ID, org.StaffPatch{TeamID: &hotline.ID}); err != nil {
		t.Fatal(err)
	}
	far := s.As(t, "agent@ops")
	s.As(t, "supervisor@cs")
	s.As(t, "supervisor@ops")
	newTicket := func(in ticket.Input) int64 {
		t.Helper()
		if in.Type == "" {
			in.Type = ticket.TypeInquiry
		}
		in.Channel, in.Severity, in.Title = ticket.ChannelPhone, ticket.SeverityGeneral, "Water leak"
		tk, err := s.App.Ticket.CreateTicket(sys, in)
		if err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	t1 := newTicket(ticket.Input{DeptID: cs.ID})
	t2 := newTicket(ticket.Input{DeptID: cs.ID})
	queued := newTicket(ticket.Input{TeamID: hotline.ID})
	path := func(id int64, verb string) string { return fmt.Sprintf("/api/v1/tickets/%d/%s", id, verb) }
	agentID, farID := agent.Staff.ID, far.Staff.ID
	rules := fmt.Sprintf("/api/v1/teams/%d/assignment", hotline.ID)

	sub := s.App.Events.Subscribe(ticket.TopicAssigned, ticket.TopicPresence)
	defer sub.Close()
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "anonymous cannot assign", Method: "POST", Path: path(t1, "assign"), Body: map[string]any{"assignee_id": agentID}, Status: 401},
		{Name: "agent cannot assign", As: "agent@cs", Method: "POST", Path: path(t1, "assign"), Body: map[string]any{"assignee_id": agentID}, Status: 403},
		{Name: "qa cannot assign", As: "qa@cs", Method: "POST", Path: path(t1, "assign"), Body: map[string]any{"assignee_id": agentID}, Status: 403},
		{Name: "supervisor assigns within the department", As: "supervisor@cs", Method: "POST", Path: path(t1, "assign"),
			Body: map[string]any{"assignee_id": agentID, "reason": "regular customer"}, Status: 200,
			Has: []string{fmt.Sprintf(`"assignee_id":%d`, agentID), fmt.Sprintf(`"team_id":%d`, hotline.ID)}, Audit: "ticket.assign"},
		{Name: "supervisor cannot assign outside the department", As: "supervisor@cs", Method: "POST", Path: path(t2, "assign"),
			Body: map[string]any{"assignee_id": farID}, Status: 422, Has: []string{`"assignee_id"`}, NoAudit: true},
		{Name: "unknown field", As: "supervisor@cs", Method: "POST", Path: path(t2, "assign"),
			Body: map[string]any{"assignee": agentID}, Status: 400, Has: []string{"assignee"}},
		{Name: "other department's supervisor does not see it", As: "supervisor@ops", Method: "POST", Path: path(t1, "assign"),
			Body: map[string]any{"assignee_id": farID}, Status: 404},
		{Name: "transfer needs a reason", As: "supervisor@cs", Method: "POST", Path: path(t2, "transfer"),
			Body: map[string]any{"dept_id": ops.ID}, Status: 422, Has: []string{`"reason"`}},
		{Name: "transfer with a reason", As: "supervisor@cs", Method: "POST", Path: path(t2, "transfer"),
			Body: map[string]any{"dept_id": ops.ID, "reason": "billing matter"}, Status: 200,
			Has: []string{fmt.Sprintf(`"dept_id":%d`, ops.ID), `"assignee_id":0`}, Audit: "ticket.transfer"},
		{Name: "dispatch is for repairs only", As: "supervisor@cs", Method: "POST", Path: path(t1, "dispatch"), Status: 409},
		{Name: "agent of another team cannot take", As: "agent@ops", Method: "POST", Path: path(queued, "take"), Status: 404},
		{Name: "agent takes from the team queue", As: "agent@cs", Method: "POST", Path: path(queued, "take"), Status: 200,
			Has: []string{fmt.Sprintf(`"assignee_id":%d`, agentID)}, Audit: "ticket.assign"},
		{Name: "taken already", As: "supervisor@cs", Method: "POST", Path: path(queued, "take"), Status: 409},
		{Name: "agent lists agents", As: "agent@cs", Method: "GET", Path: "/api/v1/agents", Status: 200,
			Has: []string{fmt.Sprintf(`"id":%d`, agentID), `"open_load":2`}, Not: []string{fmt.Sprintf(`"id":%d,`, farID)}},
		{Name: "bad availability filter", As: "agent@cs", Method: "GET", Path: "/api/v1/agents?availability=busy", Status: 422},
		{Name: "agent goes online", As: "agent@cs", Method: "PUT", Path: "/api/v1/agents/me/presence",
			Body: map[string]any{"availability": "online"}, Status: 200, Has: []string{`"availability":"online"`}, Audit: "agent.presence"},
		{Name: "agent cannot set their own cap", As: "agent@cs", Method: "PUT", Path: "/api/v1/agents/me/presence",
			Body: map[string]any{"availability": "online", "cap": 99}, Status: 400, Has: []string{"cap"}},
		{Name: "qa has no presence", As: "qa@cs", Method: "PUT", Path: "/api/v1/agents/me/presence",
			Body: map[string]any{"availability": "online"}, Status: 403},
		{Name: "agent cannot set another's presence", As: "agent@cs", Method: "PUT", Path: fmt.Sprintf("/api/v1/agents/%d/presence", agentID),
			Body: map[string]any{"cap": 5}, Status: 403},
		{Name: "supervisor sets a cap", As: "supervisor@cs", Method: "PUT", Path: fmt.Sprintf("/api/v1/agents/%d/presence", agentID),
			Body: map[string]any{"cap": 5}, Status: 200, Has: []string{`"own_cap":5`}, Audit: "agent.presence"},
		{Name: "bad cap", As: "supervisor@cs", Method: "PUT", Path: fmt.Sprintf("/api/v1/agents/%d/presence", agentID),
			Body: map[string]any{"cap": -3}, Status: 422, Has: []string{`"cap"`}},
		{Name: "other department's supervisor", As: "supervisor@ops", Method: "PUT", Path: fmt.Sprintf("/api/v1/agents/%d/presence", agentID),
			Body: map[string]any{"cap": 5}, Status: 404},
		{Name: "supervisor cannot read rules", As: "supervisor@cs", Method: "GET", Path: rules, Status: 403},
		{Name: "director reads the default rule", As: "director@cs", Method: "GET", Path: rules, Status: 200,
			Has: []string{`"strategy":"manual"`, `"configured":false`}},
		{Name: "bad strategy", As: "director@cs", Method: "PUT", Path: rules, Body: map[string]any{"strategy": "random"}, Status: 422,
			Has: []string{`"strategy"`}},
		{Name: "director sets round robin", As: "director@cs", Method: "PUT", Path: rules,
			Body: map[string]any{"strategy": "round_robin", "default_cap": 3}, Status: 200,
			Has: []string{`"strategy":"round_robin"`, `"default_cap":3`}, Audit: "ticket.assignment_rule"},
		{Name: "unknown team", As: "director@cs", Method: "GET", Path: "/api/v1/teams/987654/assignment", Status: 404},
	})

	// Assignments and presence changes were published for the live workspace.
	seen := map[string]int{}
	for len(sub.C) > 0 {
		ev := <-sub.C
		seen[ev.Topic]++
	}
	if seen[ticket.TopicAssigned] < 3 || seen[ticket.TopicPresence] != 2 {
		t.Fatalf("published events %v, want >= 3 assigned (assign, transfer, take) and 2 presence", seen)
	}

	// A request created in the team now goes to the online agent.
	sup := s.As(t, "supervisor@cs")
	r := sup.Do(t, "POST", "/api/v1/tickets", map[string]any{"type": "inquiry", "channel": "phone", "severity": "general",
		"title": "Invoice copy", "team_id": hotline.ID, "reason": "hotline takes invoices"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var v struct {
		ID         int64 `json:"id"`
		AssigneeID int64 `json:"assignee_id"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil || v.AssigneeID != agentID {
		t.Fatalf("created request assigned to %d (%v), want %d: %s", v.AssigneeID, err, agentID, r.Body)
	}
	ev := sup.Do(t, "GET", fmt.Sprintf("/api/v1/tickets/%d/events", v.ID), nil)
	if ev.Status != 200 || !json.Valid(ev.Body) || !strings.Contains(string(ev.Body), `"kind":"assign"`) {
		t.Fatalf("timeline of the created request: %d %s", ev.Status, ev.Body)
	}
}
