package complaint_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// The approval rules: only a superior of the responsible department approves (someone
// who does not even see the complaint gets 404, someone who sees it but is no superior
// 403), nobody approves their own proposal, exactly one proposal is approved and the
// others are set aside and kept.
func TestApprovalRules(t *testing.T) {
	e := newResEnv(t)
	c := e.proposing(t, complaint.CauseOther, "Replace the part and waive the month's fee", "Replace the part")
	own, err := e.svc.AddProposal(e.as(t, e.engSup), c.ID, complaint.ProposalInput{Body: "Refund the repair",
		CompForm: "refund", CompAmount: 20000})
	if err != nil {
		t.Fatalf("add proposal: %v", err)
	}
	ps, _, _ := e.resolution(t, c.ID)
	if len(ps) != 3 || ps[0].ProposedBy != e.engRep.Staff.ID || ps[2].CompAmount != 20000 {
		t.Fatalf("proposals: %+v", ps)
	}
	first := ps[0].ID
	seq := e.srv.AuditSeq(t)
	for _, tc := range []struct {
		name string
		as   *apptest.Client
		in   complaint.ApproveInput
		kind apperr.Kind
		code string
	}{
		{"agent lacks complaint:approve", e.engRep, complaint.ApproveInput{ProposalID: first, Instruction: "ok"}, apperr.Forbidden, ""},
		{"supervisor of another department does not see it", e.otherSup, complaint.ApproveInput{ProposalID: first, Instruction: "ok"}, apperr.NotFound, ""},
		{"intake supervisor sees it but is no superior of eng", e.sup, complaint.ApproveInput{ProposalID: first, Instruction: "ok"}, apperr.Forbidden, "not_superior"},
		{"self-approval refused", e.engSup, complaint.ApproveInput{ProposalID: own.ID, Instruction: "ok"}, apperr.Forbidden, "self_approval"},
		{"instruction required", e.engSup, complaint.ApproveInput{ProposalID: first}, apperr.Invalid, "instruction"},
		{"proposal of another complaint", e.engSup, complaint.ApproveInput{ProposalID: first + 1000, Instruction: "ok"}, apperr.Invalid, "proposal_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Approve(e.as(t, tc.as), c.ID, tc.in)
			resWant(t, err, tc.kind, tc.code)
		})
	}
	if e.srv.AuditSince(t, seq, "complaint.approve") {
		t.Fatal("a refused approval was audited as done")
	}
	// The department head approves another's proposal; the director could too.
	p, err := e.svc.Approve(e.as(t, e.engSup), c.ID, complaint.ApproveInput{ProposalID: ps[1].ID, Instruction: "Agreed, do it today"})
	if err != nil {
		t.Fatalf("head approves: %v", err)
	}
	if p.Status != complaint.ProposalApproved || p.Instruction != "Agreed, do it today" {
		t.Fatalf("approved: %+v", p)
	}
	ps, _, _ = e.resolution(t, c.ID)
	status := map[string]int{}
	for _, x := range ps {
		status[x.Status]++
		if x.DecidedBy != e.engSup.Staff.ID || x.DeciderName == "" {
			t.Errorf("proposal %d decided by %d (%q)", x.ID, x.DecidedBy, x.DeciderName)
		}
	}
	if status[complaint.ProposalApproved] != 1 || status[complaint.ProposalSetAside] != 2 {
		t.Fatalf("statuses %v, want 1 approved and 2 set aside", status)
	}
	_, err = e.svc.Approve(e.as(t, e.director), c.ID, complaint.ApproveInput{ProposalID: first, Instruction: "no, this one"})
	resWant(t, err, apperr.Conflict, "already_approved")
	_, err = e.svc.AddProposal(e.as(t, e.engRep), c.ID, complaint.ProposalInput{Body: "late idea"})
	resWant(t, err, apperr.Conflict, "already_approved")
	if !e.srv.AuditSince(t, seq, "complaint.approve") {
		t.Error("no complaint.approve audit entry")
	}
	if n := e.count(t, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ? AND kind = 'complaint' AND public = 0 AND body = ?`,
		c.TicketID, "Agreed, do it today"); n != 1 {
		t.Errorf("%d internal timeline entries with the instruction, want 1", n)
	}

	// The director approves on a fresh complaint (center-wide reach).
	c2 := e.proposing(t, complaint.CauseOther, "Only proposal")
	ps, _, _ = e.resolution(t, c2.ID)
	if _, err := e.svc.Approve(e.as(t, e.director), c2.ID, complaint.ApproveInput{ProposalID: ps[0].ID, Instruction: "ok"}); err != nil {
		t.Fatalf("director approves: %v", err)
	}
}

// With a personal cause the responsible person's rectification report is filed before any
// proposal can be approved; only the task's owner (or a superior) files it, with its text.
func TestApprovalNeedsRectificationReport(t *testing.T) {
	e := newResEnv(t)
	c := e.proposing(t, complaint.CausePersonal, "Apologise and repair")
	task := e.taskOf(t, c.ID, complaint.TaskRectificationReport)
	if task.OwnerID != e.engRep.Staff.ID || task.Status != complaint.TaskOpen || task.OwnerName == "" {
		t.Fatalf("rectification task: %+v", task)
	}
	ps, _, _ := e.resolution(t, c.ID)
	approve := complaint.ApproveInput{ProposalID: ps[0].ID, Instruction: "ok"}
	_, err := e.svc.Approve(e.as(t, e.engSup), c.ID, approve)
	resWant(t, err, apperr.Conflict, "rectification_report")

	for _, tc := range []struct {
		name string
		as   *apptest.Client
		in   complaint.TaskDoneInput
		kind apperr.Kind
		code string
	}{
		{"not the owner, sees the complaint", e.sup, complaint.TaskDoneInput{Report: "x"}, apperr.Forbidden, "not_task_owner"},
		{"not the owner, out of reach", e.otherSup, complaint.TaskDoneInput{Report: "x"}, apperr.NotFound, ""},
		{"report required", e.engRep, complaint.TaskDoneInput{}, apperr.Invalid, "report"},
		{"stale version", e.engRep, complaint.TaskDoneInput{Report: "x", Version: new(int64(9))}, apperr.Conflict, apperr.CodeStaleVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.FinishTask(e.as(t, tc.as), c.ID, task.ID, tc.in)
			resWant(t, err, tc.kind, tc.code)
		})
	}
	done, err := e.svc.FinishTask(e.as(t, e.engRep), c.ID, task.ID, complaint.TaskDoneInput{
		Report: "I will confirm every visit time by phone", Version: &task.Version})
	if err != nil {
		t.Fatalf("file the report: %v", err)
	}
	if done.Status != complaint.TaskDone || done.DoneAt.IsZero() || done.Version != task.Version+1 ||
		done.OwnerName != e.engRep.Staff.DisplayName {
		t.Fatalf("done: %+v", done)
	}
	_, err = e.svc.FinishTask(e.as(t, e.engRep), c.ID, task.ID, complaint.TaskDoneInput{Report: "again"})
	resWant(t, err, apperr.Conflict, "task_done")
	if _, err := e.svc.Approve(e.as(t, e.engSup), c.ID, approve); err != nil {
		t.Fatalf("approve after the report: %v", err)
	}
}

// A team cause opens the team's rectification and the department head's explanation.
func TestTeamCauseTasks(t *testing.T) {
	e := newResEnv(t)
	c := e.proposing(t, complaint.CauseTeam, "Retrain the team")
	_, _, ts := e.resolution(t, c.ID)
	owners := map[string]int64{}
	for _, x := range ts {
		owners[x.Kind] = x.OwnerID
		if x.Status != complaint.TaskOpen || x.DueAt.IsZero() {
			t.Errorf("task %+v", x)
		}
	}
	if len(ts) != 2 || owners[complaint.TaskTeamRectification] != e.engSup.Staff.ID ||
		owners[complaint.TaskHeadExplanation] != e.engSup.Staff.ID {
		t.Fatalf("tasks %+v", ts)
	}
	if ts[0].Kind == complaint.TaskTeamRectification && ts[0].TeamID != e.engTeam {
		t.Errorf("team task on team %d, want %d", ts[0].TeamID, e.engTeam)
	}
	// No report gate for a team cause; the head files the explanation without one.
	head := e.taskOf(t, c.ID, complaint.TaskHeadExplanation)
	if _, err := e.svc.FinishTask(e.as(t, e.engSup), c.ID, head.ID, complaint.TaskDoneInput{}); err != nil {
		t.Fatalf("head explains: %v", err)
	}
	ps, _, _ := e.resolution(t, c.ID)
	if _, err := e.svc.Approve(e.as(t, e.director), c.ID, complaint.ApproveInput{ProposalID: ps[0].ID, Instruction: "ok"}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	got, err := e.svc.Tasks(e.as(t, e.engRep), c.ID)
	if err != nil || len(got) != 2 {
		t.Fatalf("tasks as the responsible agent: %v %v", got, err)
	}
	if _, err := e.svc.Tasks(e.as(t, e.otherSup), c.ID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("tasks out of reach: %v", err)
	}
}

// Proposals are checked field by field and only in the proposal stage.
func TestProposalChecks(t *testing.T) {
	e := newResEnv(t)
	c := e.proposing(t, complaint.CauseOther, "First")
	for _, tc := range []struct {
		name  string
		in    complaint.ProposalInput
		field string
	}{
		{"body required", complaint.ProposalInput{Body: "  "}, "body"},
		{"negative amount", complaint.ProposalInput{Body: "x", CompForm: "refund", CompAmount: -1}, "comp_amount"},
		{"amount without its form", complaint.ProposalInput{Body: "x", CompAmount: 100}, "comp_form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.AddProposal(e.as(t, e.engRep), c.ID, tc.in)
			resWant(t, err, apperr.Invalid, tc.field)
		})
	}
	if _, err := e.svc.AddProposal(e.as(t, e.otherSup), c.ID, complaint.ProposalInput{Body: "x"}); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("proposal out of reach: %v", err)
	}
	// Given at the move itself, with a field named by its index.
	c2, err := e.svc.Create(e.as(t, e.agent), resTicketInput())
	if err != nil {
		t.Fatal(err)
	}
	e.move(t, e.agent, c2.ID, complaint.MoveInput{Stage: complaint.StageAssessing})
	e.move(t, e.sup, c2.ID, complaint.MoveInput{Stage: complaint.StageInvestigating, RespDeptID: e.engDept})
	_, err = e.svc.AddProposal(e.as(t, e.engSup), c2.ID, complaint.ProposalInput{Body: "too early"})
	resWant(t, err, apperr.Conflict, "wrong_stage")
	_, err = e.svc.Transition(e.as(t, e.engSup), c2.ID, complaint.MoveInput{Stage: complaint.StageProposing, CauseID: 1,
		CauseKind: complaint.CauseOther, Findings: "f", Proposals: []complaint.ProposalInput{{Body: "ok"}, {Body: ""}}})
	resWant(t, err, apperr.Invalid, "proposals[1].body")
}

// Penalties: who may be penalised, fines defaulting to the settings' amounts, decisions by
// a superior who neither proposed the penalty nor is its subject, and the gates of the
// move to execution.
func TestPenalties(t *testing.T) {
	e := newResEnv(t)
	c := e.proposing(t, complaint.CauseOther, "Repair")
	rep, head, other := e.engRep.Staff.ID, e.engSup.Staff.ID, e.sup.Staff.ID
	for _, tc := range []struct {
		name   string
		in     complaint.PenaltyInput
		amount int64
		field  string
	}{
		{"fine A defaults to 100 yuan", complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: complaint.PenaltyFine, FineCategory: "A"}, 10000, ""},
		{"fine B defaults to 300 yuan", complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: complaint.PenaltyFine, FineCategory: "B"}, 30000, ""},
		{"fine C defaults to 500 yuan", complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: complaint.PenaltyFine, FineCategory: "C"}, 50000, ""},
		{"fine D defaults to 1000 yuan", complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: complaint.PenaltyFine, FineCategory: "D"}, 100000, ""},
		{"fine amount overridden", complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: complaint.PenaltyFine, FineCategory: "A", Amount: new(int64(15000))}, 15000, ""},
		{"warning for the head", complaint.PenaltyInput{StaffID: head, Role: "head", Kind: complaint.PenaltyWarning}, 0, ""},
		{"fine needs a category", complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: complaint.PenaltyFine}, 0, "fine_category"},
		{"a warning has no category", complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: complaint.PenaltyWarning, FineCategory: "A"}, 0, "fine_category"},
		{"unknown kind", complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: "flogging"}, 0, "kind"},
		{"other needs a note", complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: complaint.PenaltyOther}, 0, "note"},
		{"direct: not of the responsible department", complaint.PenaltyInput{StaffID: other, Role: "direct", Kind: complaint.PenaltyWarning}, 0, "staff_id"},
		{"head: an agent is no head", complaint.PenaltyInput{StaffID: rep, Role: "head", Kind: complaint.PenaltyWarning}, 0, "staff_id"},
		{"head: another department's supervisor", complaint.PenaltyInput{StaffID: other, Role: "head", Kind: complaint.PenaltyWarning}, 0, "staff_id"},
		{"unknown staff", complaint.PenaltyInput{StaffID: 999999, Role: "direct", Kind: complaint.PenaltyWarning}, 0, "staff_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.svc.ProposePenalty(e.as(t, e.engRep), c.ID, tc.in)
			if tc.field != "" {
				resWant(t, err, apperr.Invalid, tc.field)
				return
			}
			if err != nil {
				t.Fatalf("propose: %v", err)
			}
			if p.Amount != tc.amount || p.Status != complaint.PenaltyProposed || p.StaffDeptID != e.engDept {
				t.Fatalf("penalty %+v, want amount %d", p, tc.amount)
			}
		})
	}
	_, pens, _ := e.resolution(t, c.ID)
	if len(pens) != 6 {
		t.Fatalf("%d penalties, want 6", len(pens))
	}
	ps, _, _ := e.resolution(t, c.ID)
	// The move to execution waits for the approved proposal and every decision.
	_, err := e.svc.Transition(e.as(t, e.engRep), c.ID, complaint.MoveInput{Stage: complaint.StageExecuting})
	resWant(t, err, apperr.Conflict, "proposal_not_approved")
	var headPenalty int64
	var decisions []complaint.PenaltyDecision
	for _, p := range pens {
		if p.StaffID == head {
			headPenalty = p.ID
			continue
		}
		decisions = append(decisions, complaint.PenaltyDecision{ID: p.ID, Approve: resApprove(p.Amount != 15000), Note: "per the rules"})
	}
	// The head cannot decide a penalty on themselves, so the approval with it fails whole.
	_, err = e.svc.Approve(e.as(t, e.engSup), c.ID, complaint.ApproveInput{ProposalID: ps[0].ID, Instruction: "ok",
		Penalties: append(decisions, complaint.PenaltyDecision{ID: headPenalty, Approve: resApprove(true)})})
	resWant(t, err, apperr.Forbidden, "self_approval")
	if _, err := e.svc.Approve(e.as(t, e.engSup), c.ID, complaint.ApproveInput{ProposalID: ps[0].ID, Instruction: "ok",
		Penalties: decisions}); err != nil {
		t.Fatalf("approve with decisions: %v", err)
	}
	_, err = e.svc.Transition(e.as(t, e.engRep), c.ID, complaint.MoveInput{Stage: complaint.StageExecuting})
	resWant(t, err, apperr.Conflict, "penalty_pending")
	for _, tc := range []struct {
		name string
		as   *apptest.Client
		pid  int64
		in   complaint.DecideInput
		kind apperr.Kind
		code string
	}{
		{"decision required", e.director, headPenalty, complaint.DecideInput{}, apperr.Invalid, "approve"},
		{"nobody decides a penalty on themselves", e.engSup, headPenalty, complaint.DecideInput{Approve: resApprove(true)}, apperr.Forbidden, "self_approval"},
		{"no superior of eng", e.sup, headPenalty, complaint.DecideInput{Approve: resApprove(true)}, apperr.Forbidden, "not_superior"},
		{"decided already", e.director, decisions[0].ID, complaint.DecideInput{Approve: resApprove(true)}, apperr.Conflict, "already_decided"},
		{"not this complaint's", e.director, headPenalty + 1000, complaint.DecideInput{Approve: resApprove(true)}, apperr.NotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.DecidePenalty(e.as(t, tc.as), c.ID, tc.pid, tc.in)
			resWant(t, err, tc.kind, tc.code)
		})
	}
	if _, err := e.svc.DecidePenalty(e.as(t, e.director), c.ID, headPenalty, complaint.DecideInput{Approve: resApprove(true),
		Note: "the head answers for the team"}); err != nil {
		t.Fatalf("director decides: %v", err)
	}
	e.move(t, e.engRep, c.ID, complaint.MoveInput{Stage: complaint.StageExecuting})

	// The staff record: 4 approved fines for the agent (the overridden one was refused).
	// Reading it is audited (personnel data).
	seq := e.srv.AuditSeq(t)
	got, err := e.svc.PenaltiesOf(apptest.SystemCtx(), rep, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !e.srv.AuditSince(t, seq, "complaint.penalty.list") {
		t.Error("reading the staff record wrote no audit entry")
	}
	var sum int64
	for _, p := range got {
		sum += p.Amount
		if p.Status != complaint.PenaltyApproved || p.Number == "" || p.StaffName == "" {
			t.Errorf("record entry %+v", p)
		}
	}
	if len(got) != 4 || sum != 190000 {
		t.Fatalf("staff record: %d penalties summing %d fen, want 4 and 190000", len(got), sum)
	}
	if got, _ := e.svc.PenaltiesOf(apptest.SystemCtx(), rep, time.Now().Add(time.Hour), time.Time{}); len(got) != 0 {
		t.Fatalf("record after now: %+v", got)
	}
	if _, err := e.svc.PenaltiesOf(e.as(t, e.otherSup), rep, time.Time{}, time.Time{}); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("record out of reach: %v", err)
	}
	for _, tc := range []struct {
		name string
		as   *apptest.Client
		f    complaint.PenaltyFilter
		want int
	}{
		{"the head lists the department's approved penalties", e.engSup, complaint.PenaltyFilter{}, 5},
		{"by staff member", e.engSup, complaint.PenaltyFilter{StaffID: head}, 1},
		{"refused ones", e.engSup, complaint.PenaltyFilter{Status: complaint.PenaltyRefused}, 1},
		{"the director sees every department", e.director, complaint.PenaltyFilter{DeptID: e.engDept}, 5},
		{"an agent sees their own", e.engRep, complaint.PenaltyFilter{}, 4},
		{"another department's supervisor sees none", e.otherSup, complaint.PenaltyFilter{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.svc.ListPenalties(e.as(t, tc.as), tc.f, 50, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != tc.want {
				t.Fatalf("%d penalties, want %d", len(p.Items), tc.want)
			}
		})
	}
	// Paging by cursor.
	p1, err := e.svc.ListPenalties(e.as(t, e.director), complaint.PenaltyFilter{}, 3, "")
	if err != nil || len(p1.Items) != 3 || p1.NextCursor == "" {
		t.Fatalf("page 1: %d %q %v", len(p1.Items), p1.NextCursor, err)
	}
	p2, err := e.svc.ListPenalties(e.as(t, e.director), complaint.PenaltyFilter{}, 3, p1.NextCursor)
	if err != nil || len(p2.Items) != 2 || p2.NextCursor != "" || p2.Items[0].ID >= p1.Items[2].ID {
		t.Fatalf("page 2: %+v %v", p2, err)
	}
	// Penalties are proposed only in the proposal stage.
	_, err = e.svc.ProposePenalty(e.as(t, e.engRep), c.ID, complaint.PenaltyInput{StaffID: rep, Role: "direct", Kind: complaint.PenaltyWarning})
	resWant(t, err, apperr.Conflict, "wrong_stage")
}

// Improvement actions of the evaluation become tasks with an owner and a due date.
func TestImprovementActionTasks(t *testing.T) {
	e := newResEnv(t)
	c := e.proposing(t, complaint.CauseOther, "Repair")
	ps, _, _ := e.resolution(t, c.ID)
	if _, err := e.svc.Approve(e.as(t, e.director), c.ID, complaint.ApproveInput{ProposalID: ps[0].ID, Instruction: "ok"}); err != nil {
		t.Fatal(err)
	}
	e.move(t, e.engRep, c.ID, complaint.MoveInput{Stage: complaint.StageExecuting})
	e.move(t, e.engRep, c.ID, complaint.MoveInput{Stage: complaint.StageFeedback, Result: "Repaired", Reply: "Repaired"})
	for _, tc := range []struct {
		name  string
		act   complaint.ActionInput
		field string
	}{
		{"body required", complaint.ActionInput{OwnerID: e.engSup.Staff.ID, DueOn: resTomorrow()}, "actions[0].body"},
		{"owner required", complaint.ActionInput{Body: "x", DueOn: resTomorrow()}, "actions[0].owner_id"},
		{"owner unknown", complaint.ActionInput{Body: "x", OwnerID: 999999, DueOn: resTomorrow()}, "actions[0].owner_id"},
		{"due date required", complaint.ActionInput{Body: "x", OwnerID: e.engSup.Staff.ID}, "actions[0].due_on"},
		{"due date malformed", complaint.ActionInput{Body: "x", OwnerID: e.engSup.Staff.ID, DueOn: "2026/01/01"}, "actions[0].due_on"},
		{"due date past", complaint.ActionInput{Body: "x", OwnerID: e.engSup.Staff.ID, DueOn: "2020-01-01"}, "actions[0].due_on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Transition(e.as(t, e.agent), c.ID, complaint.MoveInput{Stage: complaint.StageEvaluating,
				Satisfaction: 4, Actions: []complaint.ActionInput{tc.act}})
			resWant(t, err, apperr.Invalid, tc.field)
		})
	}
	e.move(t, e.sup, c.ID, complaint.MoveInput{Stage: complaint.StageEvaluating, Satisfaction: 4,
		Actions: []complaint.ActionInput{{Body: "Keep spare parts in stock", OwnerID: e.engSup.Staff.ID, DueOn: resTomorrow()}}})
	task := e.taskOf(t, c.ID, complaint.TaskImprovement)
	if task.OwnerID != e.engSup.Staff.ID || task.Body != "Keep spare parts in stock" || !task.DueAt.After(time.Now()) {
		t.Fatalf("improvement task %+v", task)
	}
	if _, err := e.svc.FinishTask(e.as(t, e.engSup), c.ID, task.ID, complaint.TaskDoneInput{Report: "Stock level alarm set"}); err != nil {
		t.Fatalf("finish improvement: %v", err)
	}
}

// The resolution routes through the real router: status codes, error codes, audit entries.
func TestResolutionHTTP(t *testing.T) {
	e := newResEnv(t)
	c := e.proposing(t, complaint.CauseOther)
	base := fmt.Sprintf("/api/v1/complaints/%d", c.ID)
	r := e.engSup.Do(t, "POST", base+"/proposals", map[string]any{"body": "Refund the visit", "comp_form": "refund", "comp_amount": 5000})
	if r.Status != http.StatusCreated {
		t.Fatalf("add proposal: %d %s", r.Status, r.Body)
	}
	own := int64(r.JSON(t)["id"].(float64))
	r = e.engRep.Do(t, "POST", base+"/proposals", map[string]any{"body": "Repair for free"})
	if r.Status != http.StatusCreated {
		t.Fatalf("add proposal: %d %s", r.Status, r.Body)
	}
	other := int64(r.JSON(t)["id"].(float64))
	r = e.engRep.Do(t, "POST", base+"/penalties", map[string]any{"staff_id": e.engRep.Staff.ID, "role": "direct",
		"kind": "fine", "fine_category": "B"})
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"amount":30000`) ||
		!strings.Contains(string(r.Body), `"staff_name":"`+e.engRep.Staff.DisplayName+`"`) {
		t.Fatalf("propose penalty: %d %s", r.Status, r.Body)
	}
	pen := int64(r.JSON(t)["id"].(float64))
	apptest.Run(t, e.srv, []apptest.Scenario{
		{Name: "list proposals", As: "agent@eng", Method: "GET", Path: base + "/proposals", Status: 200,
			Has: []string{`"comp_amount":5000`, `"status":"proposed"`, `"status_label":"待审批"`}},
		{Name: "self-approval", As: "supervisor@eng", Method: "POST", Path: base + "/approve",
			Body: map[string]any{"proposal_id": own, "instruction": "ok"}, Status: 403, Has: []string{`"self_approval"`}, NoAudit: true},
		{Name: "another department's supervisor", As: "supervisor@other", Method: "POST", Path: base + "/approve",
			Body: map[string]any{"proposal_id": other, "instruction": "ok"}, Status: 404, NoAudit: true},
		{Name: "agent has no approve", As: "agent@eng", Method: "POST", Path: base + "/approve",
			Body: map[string]any{"proposal_id": other, "instruction": "ok"}, Status: 403},
		{Name: "instruction required", As: "supervisor@eng", Method: "POST", Path: base + "/approve",
			Body: map[string]any{"proposal_id": other}, Status: 422, Has: []string{`"instruction"`}},
		{Name: "not executing before approval", As: "agent@eng", Method: "POST", Path: base + "/transition",
			Body: map[string]any{"stage": "executing"}, Status: 409, Has: []string{`"proposal_not_approved"`}},
		{Name: "head approves with the penalty", As: "supervisor@eng", Method: "POST", Path: base + "/approve",
			Body: map[string]any{"proposal_id": other, "instruction": "Agreed", "penalties": []map[string]any{
				{"id": pen, "approve": true, "note": "B per the rules"}}},
			Status: 200, Has: []string{`"status":"approved"`, `"status":"set_aside"`, `"instruction":"Agreed"`},
			Audit: "complaint.penalty.decide"},
		{Name: "twice", As: "director@hq", Method: "POST", Path: base + "/approve",
			Body: map[string]any{"proposal_id": own, "instruction": "ok"}, Status: 409, Has: []string{`"already_approved"`}},
		{Name: "penalties of the complaint", As: "supervisor@eng", Method: "GET", Path: base + "/penalties", Status: 200,
			Has: []string{`"kind":"fine"`, `"status":"approved"`, `"staff_name":"Test agent_eng"`}},
		{Name: "staff record", As: "supervisor@eng", Method: "GET",
			Path: fmt.Sprintf("/api/v1/penalties?staff_id=%d", e.engRep.Staff.ID), Status: 200,
			Has: []string{`"amount":30000`, `"number":"` + c.Number + `"`}, Audit: "complaint.penalty.list"},
		{Name: "staff record: bad status", As: "supervisor@eng", Method: "GET", Path: "/api/v1/penalties?status=maybe",
			Status: 422, Has: []string{`"status"`}},
		{Name: "tasks", As: "agent@eng", Method: "GET", Path: base + "/tasks", Status: 200, Has: []string{`"items":[]`}},
		{Name: "the detail embeds the resolution", As: "supervisor@eng", Method: "GET", Path: base, Status: 200,
			Has: []string{`"proposals":[{"id":`, `"comp_form":"refund"`, `"penalties":[{"id":`, `"fine_category":"B"`}},
		{Name: "moves on", As: "agent@eng", Method: "POST", Path: base + "/transition",
			Body: map[string]any{"stage": "executing"}, Status: 200},
	})
}

// A reopened complaint goes through the proposal stage again: the earlier approval does
// not carry over, a new proposal is approved, and the rectification report is filed anew.
func TestReopenedComplaintIsApprovedAgain(t *testing.T) {
	e := newResEnv(t)
	c := e.proposing(t, complaint.CausePersonal, "Repair")
	task := e.taskOf(t, c.ID, complaint.TaskRectificationReport)
	if _, err := e.svc.FinishTask(e.as(t, e.engRep), c.ID, task.ID, complaint.TaskDoneInput{Report: "r1"}); err != nil {
		t.Fatal(err)
	}
	ps, _, _ := e.resolution(t, c.ID)
	if _, err := e.svc.Approve(e.as(t, e.engSup), c.ID, complaint.ApproveInput{ProposalID: ps[0].ID, Instruction: "ok"}); err != nil {
		t.Fatal(err)
	}
	e.move(t, e.engRep, c.ID, complaint.MoveInput{Stage: complaint.StageExecuting})
	e.move(t, e.engRep, c.ID, complaint.MoveInput{Stage: complaint.StageFeedback, Result: "Repaired", Reply: "Repaired"})
	e.move(t, e.sup, c.ID, complaint.MoveInput{Stage: complaint.StageEvaluating, Satisfaction: 2})
	e.move(t, e.sup, c.ID, complaint.MoveInput{Stage: complaint.StageClosed})
	e.srv.Clock.Advance(time.Minute)
	e.move(t, e.sup, c.ID, complaint.MoveInput{Stage: complaint.StageAssessing, Reason: "Broke again"})
	e.move(t, e.sup, c.ID, complaint.MoveInput{Stage: complaint.StageInvestigating, RespDeptID: e.engDept,
		RespStaffID: e.engRep.Staff.ID})
	e.move(t, e.engRep, c.ID, complaint.MoveInput{Stage: complaint.StageProposing, CauseID: 2,
		CauseKind: complaint.CausePersonal, Findings: "Wrong part fitted", Proposals: []complaint.ProposalInput{{Body: "Fit the right part"}}})
	_, err := e.svc.Transition(e.as(t, e.engRep), c.ID, complaint.MoveInput{Stage: complaint.StageExecuting})
	resWant(t, err, apperr.Conflict, "proposal_not_approved")
	ps, _, ts := e.resolution(t, c.ID)
	if len(ps) != 2 || len(ts) != 2 {
		t.Fatalf("proposals %d, tasks %d; want 2 and 2", len(ps), len(ts))
	}
	_, err = e.svc.Approve(e.as(t, e.engSup), c.ID, complaint.ApproveInput{ProposalID: ps[0].ID, Instruction: "old"})
	resWant(t, err, apperr.Invalid, "proposal_id")
	approve := complaint.ApproveInput{ProposalID: ps[1].ID, Instruction: "new"}
	_, err = e.svc.Approve(e.as(t, e.engSup), c.ID, approve)
	resWant(t, err, apperr.Conflict, "rectification_report")
	task = e.taskOf(t, c.ID, complaint.TaskRectificationReport) // the first, done
	for _, x := range ts {
		if x.Status == complaint.TaskOpen {
			task = x
		}
	}
	if _, err := e.svc.FinishTask(e.as(t, e.engRep), c.ID, task.ID, complaint.TaskDoneInput{Report: "r2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Approve(e.as(t, e.engSup), c.ID, approve); err != nil {
		t.Fatal(err)
	}
	e.move(t, e.engRep, c.ID, complaint.MoveInput{Stage: complaint.StageExecuting})
}
