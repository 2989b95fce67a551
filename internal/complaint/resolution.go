package complaint

// OWNED BY the resolution engineer: proposals, penalties, approval, tasks.
//
// The rules, after the seed's complaint-handling procedure:
//   - During the proposal stage the responsible side (complaint:write, reaching the
//     complaint) adds one or more proposals, each with an optional compensation, and
//     proposes penalties for the directly responsible people and their department
//     head.
//   - A superior of the responsible department — someone whose complaint:approve reaches
//     that department: its head (supervisor), the director, an administrator — approves
//     exactly one proposal with an instruction; the others are set aside and kept.
//     The same superiors approve or refuse each penalty. Nobody approves their own
//     proposal, decides a penalty they proposed, or decides a penalty on themselves.
//   - With a personal cause the responsible person's rectification report
//     must be filed before a proposal can be approved; with a team cause
//     the team gets a rectification task and the department head a task to explain
//     to the customer.
//   - The complaint moves on to execution only with one approved proposal and no penalty still
//     waiting for a decision.
//   - Approved penalties stay on the staff member's record: GET /api/v1/penalties and
//     Service.PenaltiesOf (the assessment work reads them there).
// Every change writes an audit entry and an internal entry on the request's timeline in
// the same transaction.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Limits of the resolution records.
const (
	maxProposalsPerCall = 10
	maxProposals        = 30           // proposals of one complaint
	maxPenalties        = 30           // penalties of one complaint
	maxActions          = 20           // improvement actions of one evaluation
	maxAmount           = 1e10         // fen (100 million yuan): anything above is a typing error
	roleSupervisor      = "supervisor" // the built-in role of department heads and team supervisors
)

// ProposalInput is one proposal with optional compensation.
type ProposalInput struct {
	Body       string `json:"body" text:"multiline"`
	CompForm   string `json:"comp_form"`
	CompAmount int64  `json:"comp_amount"` // fen
}

// ActionInput is one improvement action of the evaluation.
type ActionInput struct {
	Body    string `json:"body" text:"multiline"`
	OwnerID int64  `json:"owner_id"`
	DueOn   string `json:"due_on"` // YYYY-MM-DD
}

// PenaltyInput proposes a penalty for a responsible person.
type PenaltyInput struct {
	StaffID int64       `json:"staff_id"`
	Role    string      `json:"role"` // direct | head
	Kind    PenaltyKind `json:"kind"`
	// FineCategory (A-D) is required for a fine and refused otherwise; Amount (fen)
	// defaults to the category's amount in the settings.
	FineCategory string `json:"fine_category"`
	Amount       *int64 `json:"amount"`
	Note         string `json:"note" text:"multiline"`
}

// PenaltyDecision approves or refuses one proposed penalty.
type PenaltyDecision struct {
	ID      int64  `json:"id"`
	Approve *bool  `json:"approve"`
	Note    string `json:"note" text:"multiline"`
}

// ApproveInput approves one proposal with the superior's instruction and decides
// any of the proposed penalties in the same step.
type ApproveInput struct {
	ProposalID  int64             `json:"proposal_id"`
	Instruction string            `json:"instruction" text:"multiline"`
	Penalties   []PenaltyDecision `json:"penalties"`
}

// DecideInput approves or refuses one penalty.
type DecideInput struct {
	Approve *bool  `json:"approve"`
	Note    string `json:"note" text:"multiline"`
}

// TaskDoneInput files a task as done, with its report (required for a rectification
// report).
type TaskDoneInput struct {
	Report  string `json:"report" text:"multiline"`
	Version *int64 `json:"version"`
}

// PenaltyFilter narrows the penalty list (the staff record).
type PenaltyFilter struct {
	StaffID int64
	DeptID  int64  // the penalised staff member's department
	Status  string // "" = approved
	From    time.Time
	To      time.Time
}

// ======================= checks shared with the stage moves =======================

func (s *Service) checkProposals(f apperr.Fields, in []ProposalInput) error {
	if len(in) > maxProposalsPerCall {
		f.Add("proposals", "complaint.invalid.too_many", "max", maxProposalsPerCall)
		return nil
	}
	for i := range in {
		resCheckProposal(f, fmt.Sprintf("proposals[%d].", i), &in[i])
	}
	return nil
}

// resCheckProposal validates p (trimming its text); prefix names the fields.
func resCheckProposal(f apperr.Fields, prefix string, p *ProposalInput) {
	p.Body = textField(f, prefix+"body", p.Body, maxText, true)
	p.CompForm = textField(f, prefix+"comp_form", p.CompForm, maxShort, false)
	switch {
	case p.CompAmount < 0 || p.CompAmount > maxAmount:
		f.Add(prefix+"comp_amount", "complaint.invalid.amount")
	case p.CompAmount > 0 && p.CompForm == "":
		f.Add(prefix+"comp_form", "complaint.invalid.comp_form_required")
	}
}

func (s *Service) insertProposals(ctx context.Context, c *Complaint, in []ProposalInput, a *authz.Actor) ([]Proposal, error) {
	n, err := s.store.CountProposals(ctx, c.ID, ProposalProposed, time.Time{})
	if err != nil {
		return nil, err
	}
	if n+len(in) > maxProposals {
		return nil, apperr.InvalidField("proposals", "complaint.invalid.too_many", "max", maxProposals)
	}
	now := s.now()
	_, aid, _ := actorFields(a)
	out := make([]Proposal, 0, len(in))
	var ids []int64
	var audited []map[string]any
	for _, p := range in {
		pr := Proposal{ComplaintID: c.ID, Body: p.Body, CompForm: p.CompForm, CompAmount: p.CompAmount,
			Status: ProposalProposed, ProposedBy: aid, ProposedAt: now}
		if err := s.store.InsertProposal(ctx, &pr); err != nil {
			return nil, err
		}
		out = append(out, pr)
		ids = append(ids, pr.ID)
		audited = append(audited, map[string]any{"proposal_id": pr.ID, "comp_form": pr.CompForm,
			"comp_amount": pr.CompAmount})
	}
	if len(out) == 0 {
		return out, nil
	}
	if err := s.resEvent(ctx, c, "", map[string]any{"action": "proposal_created", "proposal_ids": ids}); err != nil {
		return nil, err
	}
	if err := s.record(ctx, "complaint.proposal.create", c.ID, map[string]any{"number": c.Number,
		"proposals": audited}); err != nil {
		return nil, err
	}
	return out, nil
}

// resEvent adds an entry the customer does not see to c's request timeline.
func (s *Service) resEvent(ctx context.Context, c *Complaint, body string, data map[string]any) error {
	_, err := s.tickets.AddEvent(ctx, c.TicketID, ticket.Event{Kind: ticket.EventComplaint, Body: body, Data: data})
	return err
}

// openCauseTasks opens the tasks the root cause calls for when the complaint enters the
// proposal stage: a rectification report of the responsible person (personal cause), or
// the team's rectification and the department head's explanation to the customer (team
// cause). A task of the same kind still open is not opened twice (a reopened complaint).
func (s *Service) openCauseTasks(ctx context.Context, c *Complaint, a *authz.Actor) error {
	type want struct {
		kind        string
		owner, team int64
	}
	var wants []want
	switch c.CauseKind {
	case CausePersonal:
		wants = append(wants, want{TaskRectificationReport, c.RespStaffID, c.RespTeamID})
	case CauseTeam:
		owner, err := s.resTeamOwner(ctx, c)
		if err != nil {
			return err
		}
		head, err := s.resDeptHead(ctx, c.RespDeptID)
		if err != nil {
			return err
		}
		wants = append(wants, want{TaskTeamRectification, owner, c.RespTeamID}, want{TaskHeadExplanation, head, 0})
	default:
		return nil
	}
	now := s.now()
	_, aid, _ := actorFields(a)
	for _, w := range wants {
		n, err := s.store.CountOpenTasks(ctx, c.ID, w.kind)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		t := Task{ComplaintID: c.ID, Kind: w.kind, OwnerID: w.owner, TeamID: w.team, Status: TaskOpen,
			DueAt: c.StageDueAt, CreatedBy: aid, CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertTask(ctx, &t); err != nil {
			return err
		}
		if err := s.resTaskCreated(ctx, c, t); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) resTaskCreated(ctx context.Context, c *Complaint, t Task) error {
	data := map[string]any{"action": "task_created", "task_id": t.ID, "task_kind": t.Kind, "owner_id": t.OwnerID}
	if err := s.resEvent(ctx, c, "", data); err != nil {
		return err
	}
	data["number"], data["team_id"], data["due_at"] = c.Number, t.TeamID, optTime(t.DueAt)
	return s.record(ctx, "complaint.task.create", c.ID, data)
}

// resSys acts as the system for lookups in the organisation (names, heads).
func resSys(ctx context.Context) context.Context {
	return authz.WithActor(ctx, authz.System("complaint"))
}

// resSupervisors lists the active supervisors of department dept (and team, when not 0),
// longest-serving first.
func (s *Service) resSupervisors(ctx context.Context, dept, team int64) ([]org.Staff, error) {
	if s.staff == nil || dept == 0 {
		return nil, nil
	}
	p, err := s.staff.ListStaff(resSys(ctx), org.StaffFilter{DeptID: dept, TeamID: team, Role: roleSupervisor,
		Status: org.StatusActive, Limit: 200})
	if err != nil {
		return nil, fmt.Errorf("complaint: supervisors: %w", err)
	}
	out := p.Items
	slices.SortFunc(out, func(a, b org.Staff) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// resDeptHead is the first active supervisor of department dept (0 = none).
func (s *Service) resDeptHead(ctx context.Context, dept int64) (int64, error) {
	sups, err := s.resSupervisors(ctx, dept, 0)
	if err != nil || len(sups) == 0 {
		return 0, err
	}
	return sups[0].ID, nil
}

// resTeamOwner is who leads a team's rectification: a supervisor of the team's
// department (one of the team itself first), else the responsible person.
func (s *Service) resTeamOwner(ctx context.Context, c *Complaint) (int64, error) {
	dept := c.RespDeptID
	if s.staff != nil && c.RespTeamID != 0 {
		if t, err := s.staff.GetTeam(resSys(ctx), c.RespTeamID); err == nil {
			dept = t.DeptID
		}
		sups, err := s.resSupervisors(ctx, dept, c.RespTeamID)
		if err != nil {
			return 0, err
		}
		if len(sups) > 0 {
			return sups[0].ID, nil
		}
	}
	if head, err := s.resDeptHead(ctx, dept); err != nil || head != 0 {
		return head, err
	}
	return c.RespStaffID, nil
}

// readyToExecute: the complaint leaves the proposal stage with exactly one approved
// proposal (of this round: a reopened complaint is approved again) and no penalty still
// waiting for a decision.
func (s *Service) readyToExecute(ctx context.Context, c *Complaint) error {
	n, err := s.store.CountProposals(ctx, c.ID, ProposalApproved, c.StageAt)
	if err != nil {
		return err
	}
	if n != 1 {
		return apperr.New(apperr.Conflict, "complaint.error.proposal_not_approved").WithCode("proposal_not_approved")
	}
	p, err := s.store.CountPendingPenalties(ctx, c.ID)
	if err != nil {
		return err
	}
	if p > 0 {
		return apperr.New(apperr.Conflict, "complaint.error.penalty_pending", "count", p).WithCode("penalty_pending")
	}
	return nil
}

// resDueOn reads a due date (YYYY-MM-DD, China time): the end of that day.
func resDueOn(s string) (time.Time, bool) {
	d, err := time.ParseInLocation(time.DateOnly, s, chinaTime)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, 1).Add(-time.Millisecond), true
}

func (s *Service) checkActions(ctx context.Context, f apperr.Fields, in []ActionInput) error {
	if len(in) > maxActions {
		f.Add("actions", "complaint.invalid.too_many", "max", maxActions)
		return nil
	}
	now := s.now()
	for i := range in {
		a := &in[i]
		prefix := fmt.Sprintf("actions[%d].", i)
		a.Body = textField(f, prefix+"body", a.Body, maxText, true)
		switch {
		case a.OwnerID <= 0:
			f.Add(prefix+"owner_id", "field.required")
		case !s.resActiveStaff(ctx, a.OwnerID):
			f.Add(prefix+"owner_id", "complaint.invalid.staff_unknown")
		}
		switch due, ok := resDueOn(a.DueOn); {
		case a.DueOn == "":
			f.Add(prefix+"due_on", "field.required")
		case !ok:
			f.Add(prefix+"due_on", "complaint.invalid.date")
		case due.Before(now):
			f.Add(prefix+"due_on", "complaint.invalid.due_past")
		}
	}
	return nil
}

// resActiveStaff reports whether staff member id exists and is active.
func (s *Service) resActiveStaff(ctx context.Context, id int64) bool {
	if s.staff == nil {
		return true
	}
	st, err := s.staff.GetStaff(resSys(ctx), id)
	return err == nil && st.Active()
}

func (s *Service) insertActions(ctx context.Context, c *Complaint, in []ActionInput, a *authz.Actor) error {
	now := s.now()
	_, aid, _ := actorFields(a)
	for _, act := range in {
		due, _ := resDueOn(act.DueOn)
		t := Task{ComplaintID: c.ID, Kind: TaskImprovement, OwnerID: act.OwnerID, Body: act.Body, Status: TaskOpen,
			DueAt: due, CreatedBy: aid, CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertTask(ctx, &t); err != nil {
			return err
		}
		if err := s.resTaskCreated(ctx, c, t); err != nil {
			return err
		}
	}
	return nil
}

// ======================= rules =======================

// resIsSuperior reports whether a may decide for the responsible department of c: their
// complaint:approve reaches it (its head, the director, an administrator, the system).
func resIsSuperior(a *authz.Actor, c *Complaint) bool {
	if a == nil || a.Kind == authz.KindSystem {
		return true
	}
	return c.RespDeptID != 0 && a.Can(PermApprove) && a.Reaches(PermApprove, authz.Record{DeptID: c.RespDeptID})
}

// resCheckSuperior is resIsSuperior as the answer to give: not found when the actor does not
// even see the complaint, 403 not_superior when they see it but are not a superior.
func resCheckSuperior(a *authz.Actor, c *Complaint) error {
	if resIsSuperior(a, c) {
		return nil
	}
	if !reaches(a, PermRead, c) {
		return apperr.NotFoundf("thing.complaint")
	}
	return apperr.New(apperr.Forbidden, "complaint.error.not_superior").WithCode("not_superior")
}

// resIsSelf reports whether staff id is the acting staff member.
func resIsSelf(a *authz.Actor, id int64) bool {
	return a != nil && a.Kind == authz.KindStaff && id != 0 && a.ID == id
}

func resSelfApproval() error {
	return apperr.New(apperr.Forbidden, "complaint.error.self_approval").WithCode("self_approval")
}

func resRequireProposing(c *Complaint) error {
	if c.Stage != StageProposing {
		return apperr.New(apperr.Conflict, "complaint.error.not_proposing", "stage", i18nStage(c.Stage)).
			WithCode("wrong_stage")
	}
	return nil
}

// ======================= proposals =======================

// AddProposal adds a proposal to complaint id in the proposal stage ("complaint.proposal.create").
func (s *Service) AddProposal(ctx context.Context, id int64, in ProposalInput) (Proposal, error) {
	actor, err := authz.RequireStaff(ctx, PermWrite)
	if err != nil {
		return Proposal{}, err
	}
	f := apperr.Fields{}
	resCheckProposal(f, "", &in)
	var out Proposal
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.lockReached(ctx, actor, id, PermWrite, nil)
		if err != nil {
			return err
		}
		if err := resRequireProposing(&c); err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		if n, err := s.store.CountProposals(ctx, c.ID, ProposalApproved, c.StageAt); err != nil {
			return err
		} else if n > 0 {
			return apperr.New(apperr.Conflict, "complaint.error.already_approved").WithCode("already_approved")
		}
		ps, err := s.insertProposals(ctx, &c, []ProposalInput{in}, actor)
		if err != nil {
			return err
		}
		out = ps[0]
		return nil
	})
	return out, err
}

// Approve approves one proposal of complaint id with the superior's instruction,
// sets the others aside and decides the penalties listed ("complaint.approve",
// "complaint.penalty.decide"). Only a superior of the responsible department approves,
// never their own proposal; with a personal cause the rectification report comes first.
func (s *Service) Approve(ctx context.Context, id int64, in ApproveInput) (Proposal, error) {
	actor, err := authz.RequireStaff(ctx, PermApprove)
	if err != nil {
		return Proposal{}, err
	}
	f := apperr.Fields{}
	in.Instruction = textField(f, "instruction", in.Instruction, maxText, true)
	if in.ProposalID <= 0 {
		f.Add("proposal_id", "field.required")
	}
	seen := map[int64]bool{}
	for i := range in.Penalties {
		d := &in.Penalties[i]
		prefix := fmt.Sprintf("penalties[%d].", i)
		switch {
		case d.ID <= 0:
			f.Add(prefix+"id", "field.required")
		case seen[d.ID]:
			f.Add(prefix+"id", "complaint.invalid.duplicate")
		}
		seen[d.ID] = true
		if d.Approve == nil {
			f.Add(prefix+"approve", "field.required")
		}
		d.Note = textField(f, prefix+"note", d.Note, maxText, false)
	}
	var out Proposal
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.store.Lock(ctx, id)
		if err != nil {
			return notFound(err)
		}
		if err := resCheckSuperior(actor, &c); err != nil {
			return err
		}
		if err := resRequireProposing(&c); err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		ps, err := s.store.Proposals(ctx, c.ID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ps, func(p Proposal) bool { return p.ID == in.ProposalID })
		if i < 0 {
			return apperr.InvalidField("proposal_id", "complaint.invalid.proposal_unknown")
		}
		// A reopened complaint goes through the proposal stage again: what counts is the
		// round that began when it last entered the stage.
		if ps[i].ProposedAt.Before(c.StageAt) {
			return apperr.InvalidField("proposal_id", "complaint.invalid.proposal_old")
		}
		if slices.ContainsFunc(ps, func(p Proposal) bool {
			return p.Status == ProposalApproved && !p.ProposedAt.Before(c.StageAt)
		}) {
			return apperr.New(apperr.Conflict, "complaint.error.already_approved").WithCode("already_approved")
		}
		p := ps[i]
		if resIsSelf(actor, p.ProposedBy) {
			return resSelfApproval()
		}
		if c.CauseKind == CausePersonal {
			n, err := s.store.CountReportedTasks(ctx, c.ID, TaskRectificationReport, c.StageAt)
			if err != nil {
				return err
			}
			if n == 0 {
				return apperr.New(apperr.Conflict, "complaint.error.rectification_report").
					WithCode("rectification_report").OnField("rectification_report")
			}
		}
		// Check every penalty decision before changing anything.
		pens := make([]Penalty, len(in.Penalties))
		for k, d := range in.Penalties {
			if pens[k], err = s.resDecidable(ctx, actor, &c, d.ID, fmt.Sprintf("penalties[%d].id", k)); err != nil {
				return err
			}
		}
		now := s.now()
		_, aid, _ := actorFields(actor)
		ok, err := s.store.ApproveProposal(ctx, c.ID, p.ID, aid, now, in.Instruction)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Conflict, "complaint.error.already_approved").WithCode("already_approved")
		}
		p.Status, p.DecidedBy, p.DecidedAt, p.Instruction = ProposalApproved, aid, now, in.Instruction
		var aside []int64
		for _, o := range ps {
			if o.ID != p.ID && o.Status == ProposalProposed {
				aside = append(aside, o.ID)
			}
		}
		if err := s.resEvent(ctx, &c, in.Instruction, map[string]any{"action": "proposal_approved",
			"proposal_id": p.ID, "set_aside": aside}); err != nil {
			return err
		}
		if err := s.record(ctx, "complaint.approve", c.ID, map[string]any{"number": c.Number, "proposal_id": p.ID,
			"instruction": in.Instruction, "comp_form": p.CompForm, "comp_amount": p.CompAmount,
			"set_aside": aside}); err != nil {
			return err
		}
		for k, d := range in.Penalties {
			if _, err := s.resDecide(ctx, actor, &c, pens[k], *d.Approve, d.Note, now); err != nil {
				return err
			}
		}
		out = p
		return nil
	})
	return out, err
}

// ======================= penalties =======================

// ProposePenalty proposes a penalty for a responsible person of complaint id in the
// proposal stage ("complaint.penalty.create"): the responsible person or someone of the
// responsible department (direct), or a head of that department (head). A fine's amount
// defaults to its category's amount in the settings.
func (s *Service) ProposePenalty(ctx context.Context, id int64, in PenaltyInput) (Penalty, error) {
	actor, err := authz.RequireStaff(ctx, PermWrite)
	if err != nil {
		return Penalty{}, err
	}
	f := apperr.Fields{}
	checkChoice(f, "role", in.Role, []string{PenaltyDirect, PenaltyHead}, true)
	checkChoice(f, "kind", in.Kind, PenaltyKinds, true)
	in.Note = textField(f, "note", in.Note, maxText, in.Kind == PenaltyOther)
	if in.Kind == PenaltyFine {
		checkChoice(f, "fine_category", in.FineCategory, FineCategories, true)
		if in.Amount != nil && (*in.Amount <= 0 || *in.Amount > maxAmount) {
			f.Add("amount", "complaint.invalid.amount")
		}
	} else {
		if in.FineCategory != "" {
			f.Add("fine_category", "complaint.invalid.fine_only")
		}
		if in.Amount != nil && *in.Amount != 0 {
			f.Add("amount", "complaint.invalid.fine_only")
		}
	}
	if in.StaffID <= 0 {
		f.Add("staff_id", "field.required")
	}
	var out Penalty
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.lockReached(ctx, actor, id, PermWrite, nil)
		if err != nil {
			return err
		}
		if err := resRequireProposing(&c); err != nil {
			return err
		}
		var st org.Staff
		if in.StaffID > 0 && s.staff != nil {
			if st, err = s.staff.GetStaff(resSys(ctx), in.StaffID); err != nil {
				f.Add("staff_id", "complaint.invalid.staff_unknown")
			} else if !resPenaltyTarget(&c, st, in.Role) {
				f.Add("staff_id", "complaint.invalid.penalty_staff_"+in.Role)
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		all, err := s.store.Penalties(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(all) >= maxPenalties {
			return apperr.InvalidField("staff_id", "complaint.invalid.too_many", "max", maxPenalties)
		}
		p := Penalty{ComplaintID: c.ID, StaffID: in.StaffID, StaffDeptID: st.DeptID, Role: in.Role, Kind: in.Kind,
			Note: in.Note, Status: PenaltyProposed, ProposedAt: s.now(), Number: c.Number}
		_, p.ProposedBy, _ = actorFields(actor)
		if s.staff == nil {
			p.StaffDeptID = c.RespDeptID
		}
		if in.Kind == PenaltyFine {
			p.FineCategory = in.FineCategory
			if in.Amount != nil {
				p.Amount = *in.Amount
			} else {
				set, err := s.store.loadSettings(ctx)
				if err != nil {
					return err
				}
				p.Amount = set.Fines[in.FineCategory]
			}
		}
		if err := s.store.InsertPenalty(ctx, &p); err != nil {
			return err
		}
		data := map[string]any{"action": "penalty_proposed", "penalty_id": p.ID, "staff_id": p.StaffID,
			"role": p.Role, "kind": p.Kind, "fine_category": p.FineCategory, "amount": p.Amount}
		if err := s.resEvent(ctx, &c, p.Note, data); err != nil {
			return err
		}
		data["number"], data["note"] = c.Number, p.Note
		if err := s.record(ctx, "complaint.penalty.create", c.ID, data); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

// resPenaltyTarget reports whether st may be penalised on c in role: directly responsible
// (the responsible person or someone of the responsible department), or a head
// (supervisor) of the responsible department.
func resPenaltyTarget(c *Complaint, st org.Staff, role string) bool {
	switch role {
	case PenaltyDirect:
		return st.ID == c.RespStaffID || c.RespDeptID != 0 && st.DeptID == c.RespDeptID
	case PenaltyHead:
		return c.RespDeptID != 0 && st.DeptID == c.RespDeptID && slices.Contains(st.Roles, roleSupervisor)
	}
	return false
}

// resDecidable loads penalty pid of c and checks the actor may decide it: still proposed,
// not proposed by them, not on them.
func (s *Service) resDecidable(ctx context.Context, a *authz.Actor, c *Complaint, pid int64, field string) (Penalty, error) {
	p, err := s.store.Penalty(ctx, pid)
	if err != nil && !db.IsNoRows(err) {
		return Penalty{}, err
	}
	if err != nil || p.ComplaintID != c.ID {
		if field == "" {
			return Penalty{}, apperr.NotFoundf("thing.complaint_penalty")
		}
		return Penalty{}, apperr.InvalidField(field, "complaint.invalid.penalty_unknown")
	}
	if p.Status != PenaltyProposed {
		return Penalty{}, apperr.New(apperr.Conflict, "complaint.error.already_decided").WithCode("already_decided")
	}
	if resIsSelf(a, p.ProposedBy) || resIsSelf(a, p.StaffID) {
		return Penalty{}, resSelfApproval()
	}
	return p, nil
}

// resDecide records the decision on p ("complaint.penalty.decide") in ctx's transaction.
func (s *Service) resDecide(ctx context.Context, a *authz.Actor, c *Complaint, p Penalty, approve bool, note string, now time.Time) (Penalty, error) {
	status := PenaltyRefused
	if approve {
		status = PenaltyApproved
	}
	_, aid, _ := actorFields(a)
	ok, err := s.store.DecidePenalty(ctx, p.ID, status, aid, now, note)
	if err != nil {
		return Penalty{}, err
	}
	if !ok {
		return Penalty{}, apperr.New(apperr.Conflict, "complaint.error.already_decided").WithCode("already_decided")
	}
	p.Status, p.DecidedBy, p.DecidedAt, p.DecisionNote = status, aid, now, note
	data := map[string]any{"action": "penalty_decided", "penalty_id": p.ID, "staff_id": p.StaffID, "status": status}
	if err := s.resEvent(ctx, c, note, data); err != nil {
		return Penalty{}, err
	}
	data["number"], data["note"], data["kind"], data["amount"] = c.Number, note, p.Kind, p.Amount
	if err := s.record(ctx, "complaint.penalty.decide", c.ID, data); err != nil {
		return Penalty{}, err
	}
	return p, nil
}

// DecidePenalty approves or refuses penalty pid of complaint id (a superior of the
// responsible department; never on a penalty one proposed or one on oneself).
func (s *Service) DecidePenalty(ctx context.Context, id, pid int64, in DecideInput) (Penalty, error) {
	actor, err := authz.RequireStaff(ctx, PermApprove)
	if err != nil {
		return Penalty{}, err
	}
	f := apperr.Fields{}
	if in.Approve == nil {
		f.Add("approve", "field.required")
	}
	in.Note = textField(f, "note", in.Note, maxText, false)
	var out Penalty
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.store.Lock(ctx, id)
		if err != nil {
			return notFound(err)
		}
		if err := resCheckSuperior(actor, &c); err != nil {
			return err
		}
		if err := resRequireProposing(&c); err != nil {
			return err
		}
		p, err := s.resDecidable(ctx, actor, &c, pid, "")
		if err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		out, err = s.resDecide(ctx, actor, &c, p, *in.Approve, in.Note, s.now())
		return err
	})
	return out, err
}

// ListPenalties pages through penalties newest first: by default the approved ones (the
// staff record), narrowed by f. The actor's complaint:read scope applies to the penalised
// staff member's department (team or own scope: one's own penalties). Audited: it is
// personnel data.
func (s *Service) ListPenalties(ctx context.Context, f PenaltyFilter, limit int, cur string) (Page[Penalty], error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return Page[Penalty]{}, err
	}
	fe := apperr.Fields{}
	if f.Status == "" {
		f.Status = PenaltyApproved
	}
	checkChoice(fe, "status", f.Status, []string{PenaltyProposed, PenaltyApproved, PenaltyRefused}, false)
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		fe.Add("to", "complaint.invalid.period")
	}
	if err := fe.Err(); err != nil {
		return Page[Penalty]{}, err
	}
	var c listCursor
	if err := httpx.DecodeCursor(cur, &c); err != nil {
		return Page[Penalty]{}, err
	}
	if limit <= 0 || limit > httpx.MaxLimit {
		limit = httpx.DefaultLimit
	}
	q := penaltyQuery{staffID: f.StaffID, deptID: f.DeptID, status: f.Status, from: f.From, to: f.To,
		beforeID: c.ID, limit: limit + 1}
	if a.Kind != authz.KindSystem {
		switch a.ScopeOf(PermRead) {
		case authz.ScopeAll:
		case authz.ScopeDept:
			q.scopeDept = max(a.DeptID, -1)
		default:
			q.scopeSelf = a.ID
		}
	}
	items, err := s.store.ListPenalties(ctx, q)
	if err != nil {
		return Page[Penalty]{}, err
	}
	var p Page[Penalty]
	if len(items) > limit {
		items = items[:limit]
		p.NextCursor = httpx.EncodeCursor(listCursor{ID: items[limit-1].ID})
	}
	s.fillPenaltyNames(ctx, items)
	p.Items = items
	return p, s.auditPenaltyRead(ctx, f, len(items))
}

// auditPenaltyRead records a read of penalties (personnel data): "complaint.penalty.list".
func (s *Service) auditPenaltyRead(ctx context.Context, f PenaltyFilter, count int) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "complaint.penalty.list", 0, map[string]any{"staff_id": f.StaffID, "dept_id": f.DeptID,
			"status": f.Status, "from": optTime(f.From), "to": optTime(f.To), "count": count})
	})
}

// PenaltiesOf lists the approved penalties of staff member staffID decided in [from, to)
// (a zero bound is open), oldest first, with the complaint's number and the staff
// member's name. It is the staff record the assessment work reads (warnings, fines and
// their amounts in fen, demotions, dismissals). The actor in ctx needs complaint:read
// reaching the staff member's department (the system actor always does); otherwise
// staffID reads as not found.
func (s *Service) PenaltiesOf(ctx context.Context, staffID int64, from, to time.Time) ([]Penalty, error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return nil, err
	}
	if s.staff != nil && a.Kind != authz.KindSystem {
		st, err := s.staff.GetStaff(resSys(ctx), staffID)
		if err != nil || !a.Reaches(PermRead, authz.Record{DeptID: st.DeptID, TeamID: st.TeamID, OwnerID: st.ID}) {
			return nil, apperr.NotFoundf("thing.staff")
		}
	}
	upTo := to
	if upTo.IsZero() {
		upTo = time.UnixMilli(1<<62 - 1)
	}
	ps, err := s.store.PenaltiesOfStaff(ctx, staffID, from, upTo)
	if err != nil {
		return nil, err
	}
	s.fillPenaltyNames(ctx, ps)
	if err := s.auditPenaltyRead(ctx, PenaltyFilter{StaffID: staffID, Status: PenaltyApproved, From: from, To: to}, len(ps)); err != nil {
		return nil, err
	}
	return ps, nil
}

// ======================= tasks =======================

// Tasks lists the tasks of complaint id (complaint:read, in reach).
func (s *Service) Tasks(ctx context.Context, id int64) ([]Task, error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return nil, err
	}
	c, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if err := canSee(a, PermRead, &c); err != nil {
		return nil, err
	}
	ts, err := s.store.Tasks(ctx, id)
	if err != nil {
		return nil, err
	}
	s.fillTaskNames(ctx, ts)
	return ts, nil
}

// FinishTask files task tid of complaint id as done with its report ("complaint.task.done"):
// the task's owner, or a superior of the responsible department. A rectification report
// needs its text.
func (s *Service) FinishTask(ctx context.Context, id, tid int64, in TaskDoneInput) (Task, error) {
	actor, err := authz.RequireStaff(ctx, "")
	if err != nil {
		return Task{}, err
	}
	f := apperr.Fields{}
	in.Report = textField(f, "report", in.Report, maxText, false)
	var out Task
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.store.Lock(ctx, id)
		if err != nil {
			return notFound(err)
		}
		t, err := s.store.Task(ctx, tid)
		if err != nil && !db.IsNoRows(err) {
			return err
		}
		if err != nil || t.ComplaintID != c.ID {
			if !reaches(actor, PermRead, &c) {
				return apperr.NotFoundf("thing.complaint")
			}
			return apperr.NotFoundf("thing.complaint_task")
		}
		if !resIsSelf(actor, t.OwnerID) && !resIsSuperior(actor, &c) {
			if !reaches(actor, PermRead, &c) {
				return apperr.NotFoundf("thing.complaint")
			}
			return apperr.New(apperr.Forbidden, "complaint.error.not_task_owner").WithCode("not_task_owner")
		}
		if in.Version != nil && *in.Version != t.Version {
			return apperr.StaleVersion(t.Version)
		}
		if t.Status == TaskDone {
			return apperr.New(apperr.Conflict, "complaint.error.task_done").WithCode("task_done")
		}
		if t.Kind == TaskRectificationReport && in.Report == "" {
			f.Add("report", "field.required")
		}
		if err := f.Err(); err != nil {
			return err
		}
		now := s.now()
		t.Report, t.DoneAt, t.UpdatedAt = in.Report, now, now
		ok, err := s.store.FinishTask(ctx, &t)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		data := map[string]any{"action": "task_done", "task_id": t.ID, "task_kind": t.Kind}
		if err := s.resEvent(ctx, &c, t.Report, data); err != nil {
			return err
		}
		data["number"], data["report"], data["owner_id"] = c.Number, t.Report, t.OwnerID
		if err := s.record(ctx, "complaint.task.done", c.ID, data); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err == nil {
		ts := []Task{out}
		s.fillTaskNames(ctx, ts)
		out = ts[0]
	}
	return out, err
}

// ======================= reads =======================

// Resolution is the proposals, penalties and tasks of complaint id (complaint:read, in reach).
func (s *Service) Resolution(ctx context.Context, id int64) ([]Proposal, []Penalty, []Task, error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, nil, nil, notFound(err)
	}
	if err := canSee(a, PermRead, &c); err != nil {
		return nil, nil, nil, err
	}
	return s.resolutionOf(ctx, id)
}

// resolutionOf lists the proposals, penalties and tasks of complaint id (for its detail view).
func (s *Service) resolutionOf(ctx context.Context, id int64) ([]Proposal, []Penalty, []Task, error) {
	ps, err := s.store.Proposals(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	pens, err := s.store.Penalties(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	ts, err := s.store.Tasks(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	names := s.resNames(ctx)
	for i := range ps {
		ps[i].ProposerName, ps[i].DeciderName = names(ps[i].ProposedBy), names(ps[i].DecidedBy)
	}
	for i := range pens {
		pens[i].StaffName = names(pens[i].StaffID)
	}
	for i := range ts {
		ts[i].OwnerName = names(ts[i].OwnerID)
	}
	return ps, pens, ts, nil
}

// resNames returns a lookup of staff display names, cached for one read.
func (s *Service) resNames(ctx context.Context) func(id int64) string {
	cache := map[int64]string{}
	return func(id int64) string {
		if id == 0 || s.staff == nil {
			return ""
		}
		if n, ok := cache[id]; ok {
			return n
		}
		n := ""
		if st, err := s.staff.GetStaff(resSys(ctx), id); err == nil {
			n = st.DisplayName
			if n == "" {
				n = st.Username
			}
		}
		cache[id] = n
		return n
	}
}

func (s *Service) fillPenaltyNames(ctx context.Context, ps []Penalty) {
	names := s.resNames(ctx)
	for i := range ps {
		ps[i].StaffName = names(ps[i].StaffID)
	}
}

func (s *Service) fillTaskNames(ctx context.Context, ts []Task) {
	names := s.resNames(ctx)
	for i := range ts {
		ts[i].OwnerName = names(ts[i].OwnerID)
	}
}

// ======================= JSON =======================

// ProposalView is the JSON form of a proposal.
type ProposalView struct {
	ID           int64      `json:"id"`
	ComplaintID  int64      `json:"complaint_id"`
	Body         string     `json:"body"`
	CompForm     string     `json:"comp_form"`
	CompAmount   int64      `json:"comp_amount"`
	Status       string     `json:"status"`
	StatusLabel  string     `json:"status_label,omitempty"`
	ProposedBy   int64      `json:"proposed_by"`
	ProposerName string     `json:"proposer_name"`
	ProposedAt   time.Time  `json:"proposed_at"`
	DecidedBy    int64      `json:"decided_by"`
	DeciderName  string     `json:"decider_name"`
	DecidedAt    *time.Time `json:"decided_at"`
	Instruction  string     `json:"instruction"`
}

// PenaltyView is the JSON form of a penalty.
type PenaltyView struct {
	ID           int64       `json:"id"`
	ComplaintID  int64       `json:"complaint_id"`
	Number       string      `json:"number"`
	StaffID      int64       `json:"staff_id"`
	StaffName    string      `json:"staff_name"`
	StaffDeptID  int64       `json:"staff_dept_id"`
	Role         string      `json:"role"`
	Kind         PenaltyKind `json:"kind"`
	KindLabel    string      `json:"kind_label,omitempty"`
	FineCategory string      `json:"fine_category"`
	Amount       int64       `json:"amount"`
	Note         string      `json:"note"`
	Status       string      `json:"status"`
	StatusLabel  string      `json:"status_label,omitempty"`
	ProposedBy   int64       `json:"proposed_by"`
	ProposedAt   time.Time   `json:"proposed_at"`
	DecidedBy    int64       `json:"decided_by"`
	DecidedAt    *time.Time  `json:"decided_at"`
	DecisionNote string      `json:"decision_note"`
}

// TaskView is the JSON form of a task.
type TaskView struct {
	ID          int64      `json:"id"`
	ComplaintID int64      `json:"complaint_id"`
	Kind        string     `json:"kind"`
	KindLabel   string     `json:"kind_label,omitempty"`
	OwnerID     int64      `json:"owner_id"`
	OwnerName   string     `json:"owner_name"`
	TeamID      int64      `json:"team_id"`
	Body        string     `json:"body"`
	Report      string     `json:"report"`
	Status      string     `json:"status"`
	StatusLabel string     `json:"status_label,omitempty"`
	DueAt       *time.Time `json:"due_at"`
	DoneAt      *time.Time `json:"done_at"`
	Version     int64      `json:"version"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// MarshalJSON writes p in its JSON form (ProposalView without the labels, which need
// the request's language: the complaint's detail embeds the domain values).
func (p Proposal) MarshalJSON() ([]byte, error) { return json.Marshal(p.jsonView()) }

// MarshalJSON writes p in its JSON form (PenaltyView without the labels).
func (p Penalty) MarshalJSON() ([]byte, error) { return json.Marshal(p.jsonView()) }

// MarshalJSON writes t in its JSON form (TaskView without the labels).
func (t Task) MarshalJSON() ([]byte, error) { return json.Marshal(t.jsonView()) }

// ResolutionView is the proposals, penalties and tasks of one complaint.
type ResolutionView struct {
	Proposals []ProposalView `json:"proposals"`
	Penalties []PenaltyView  `json:"penalties"`
	Tasks     []TaskView     `json:"tasks"`
}

// jsonView is p's JSON form without its labels.
func (p Proposal) jsonView() ProposalView {
	return ProposalView{ID: p.ID, ComplaintID: p.ComplaintID, Body: p.Body, CompForm: p.CompForm,
		CompAmount: p.CompAmount, Status: p.Status, ProposedBy: p.ProposedBy, ProposerName: p.ProposerName,
		ProposedAt: p.ProposedAt.UTC(), DecidedBy: p.DecidedBy, DeciderName: p.DeciderName,
		DecidedAt: optTime(p.DecidedAt), Instruction: p.Instruction}
}

// jsonView is p's JSON form without its labels.
func (p Penalty) jsonView() PenaltyView {
	return PenaltyView{ID: p.ID, ComplaintID: p.ComplaintID, Number: p.Number, StaffID: p.StaffID,
		StaffName: p.StaffName, StaffDeptID: p.StaffDeptID, Role: p.Role, Kind: p.Kind, FineCategory: p.FineCategory,
		Amount: p.Amount, Note: p.Note, Status: p.Status, ProposedBy: p.ProposedBy, ProposedAt: p.ProposedAt.UTC(),
		DecidedBy: p.DecidedBy, DecidedAt: optTime(p.DecidedAt), DecisionNote: p.DecisionNote}
}

// jsonView is t's JSON form without its labels.
func (t Task) jsonView() TaskView {
	return TaskView{ID: t.ID, ComplaintID: t.ComplaintID, Kind: t.Kind, OwnerID: t.OwnerID, OwnerName: t.OwnerName,
		TeamID: t.TeamID, Body: t.Body, Report: t.Report, Status: t.Status, DueAt: optTime(t.DueAt),
		DoneAt: optTime(t.DoneAt), Version: t.Version, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

// ProposalViewOf is the JSON form of p in ctx's language.
func ProposalViewOf(ctx context.Context, p Proposal) ProposalView {
	v := p.jsonView()
	v.StatusLabel = resolutionText(ctx, i18n.M("complaint.proposal.status."+p.Status))
	return v
}

// PenaltyViewOf is the JSON form of p in ctx's language.
func PenaltyViewOf(ctx context.Context, p Penalty) PenaltyView {
	v := p.jsonView()
	v.KindLabel = resolutionText(ctx, i18n.M("complaint.penalty.kind."+string(p.Kind)))
	v.StatusLabel = resolutionText(ctx, i18n.M("complaint.penalty.status."+p.Status))
	return v
}

// TaskViewOf is the JSON form of t in ctx's language.
func TaskViewOf(ctx context.Context, t Task) TaskView {
	v := t.jsonView()
	v.KindLabel = resolutionText(ctx, i18n.M("complaint.task.kind."+t.Kind))
	v.StatusLabel = resolutionText(ctx, i18n.M("complaint.task.status."+t.Status))
	return v
}

func resViews[T, V any](ctx context.Context, xs []T, f func(context.Context, T) V) []V {
	out := make([]V, len(xs))
	for i, x := range xs {
		out[i] = f(ctx, x)
	}
	return out
}

// ResolutionViewOf is the JSON form of a complaint's proposals, penalties and tasks.
func ResolutionViewOf(ctx context.Context, ps []Proposal, pens []Penalty, ts []Task) ResolutionView {
	return ResolutionView{Proposals: resViews(ctx, ps, ProposalViewOf), Penalties: resViews(ctx, pens, PenaltyViewOf),
		Tasks: resViews(ctx, ts, TaskViewOf)}
}

// ======================= HTTP =======================

func (s *Service) resolutionRoutes() []httpx.Route {
	a := api{s: s}
	const get, post = "GET", "POST"
	routes := s.causeRoutes()
	return append(routes, []httpx.Route{
		{Method: get, Path: "/api/v1/complaints/{id}/proposals", Perm: PermRead, Handler: a.proposals},
		{Method: post, Path: "/api/v1/complaints/{id}/proposals", Perm: PermWrite, Handler: a.addProposal},
		{Method: post, Path: "/api/v1/complaints/{id}/approve", Perm: PermApprove, Handler: a.approve},
		{Method: get, Path: "/api/v1/complaints/{id}/penalties", Perm: PermRead, Handler: a.complaintPenalties},
		{Method: post, Path: "/api/v1/complaints/{id}/penalties", Perm: PermWrite, Handler: a.proposePenalty},
		{Method: post, Path: "/api/v1/complaints/{id}/penalties/{pid}/decide", Perm: PermApprove, Handler: a.decidePenalty},
		{Method: get, Path: "/api/v1/complaints/{id}/tasks", Perm: PermRead, Handler: a.tasks},
		// The owner of a task (an improvement action may go to anyone) or a superior of the
		// responsible department: the service checks which.
		{Method: post, Path: "/api/v1/complaints/{id}/tasks/{tid}/done", Perm: PermRead, Handler: a.finishTask},
		{Method: get, Path: "/api/v1/penalties", Perm: PermRead, Handler: a.penalties},
	}...)
}

func (a api) resolution(w http.ResponseWriter, r *http.Request, write func(ResolutionView)) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	ps, pens, ts, err := a.s.Resolution(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	write(ResolutionViewOf(r.Context(), ps, pens, ts))
}

func (a api) proposals(w http.ResponseWriter, r *http.Request) {
	a.resolution(w, r, func(v ResolutionView) {
		httpx.JSON(w, http.StatusOK, httpx.Page[ProposalView]{Items: v.Proposals})
	})
}

func (a api) complaintPenalties(w http.ResponseWriter, r *http.Request) {
	a.resolution(w, r, func(v ResolutionView) {
		httpx.JSON(w, http.StatusOK, httpx.Page[PenaltyView]{Items: v.Penalties})
	})
}

func (a api) tasks(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	ts, err := a.s.Tasks(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[TaskView]{Items: resViews(r.Context(), ts, TaskViewOf)})
}

func resPath(id int64, rest string) string {
	return "/api/v1/complaints/" + strconv.FormatInt(id, 10) + rest
}

func (a api) addProposal(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in ProposalInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.AddProposal(r.Context(), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p.ProposerName = a.s.resNames(r.Context())(p.ProposedBy)
	httpx.Created(w, resPath(id, "/proposals"), ProposalViewOf(r.Context(), p))
}

// approve answers with the complaint's whole resolution after the decision.
func (a api) approve(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in ApproveInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if _, err := a.s.Approve(r.Context(), id, in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	ps, pens, ts, err := a.s.resolutionOf(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, ResolutionViewOf(r.Context(), ps, pens, ts))
}

func (a api) proposePenalty(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in PenaltyInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ProposePenalty(r.Context(), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	ps := []Penalty{p}
	a.s.fillPenaltyNames(r.Context(), ps)
	httpx.Created(w, resPath(id, "/penalties"), PenaltyViewOf(r.Context(), ps[0]))
}

func (a api) decidePenalty(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var pid int64
	if err == nil {
		pid, err = httpx.PathID(r, "pid")
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in DecideInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.DecidePenalty(r.Context(), id, pid, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	ps := []Penalty{p}
	a.s.fillPenaltyNames(r.Context(), ps)
	httpx.JSON(w, http.StatusOK, PenaltyViewOf(r.Context(), ps[0]))
}

func (a api) finishTask(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	var tid int64
	if err == nil {
		tid, err = httpx.PathID(r, "tid")
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in TaskDoneInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, err := a.s.FinishTask(r.Context(), id, tid, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, TaskViewOf(r.Context(), t))
}

// PenaltyFilterFrom reads a penalty filter from the query string (staff_id, dept_id,
// status, from, to).
func PenaltyFilterFrom(r *http.Request) (PenaltyFilter, error) {
	f := PenaltyFilter{Status: r.URL.Query().Get("status")}
	var err error
	if f.StaffID, err = httpx.QueryInt64(r, "staff_id"); err != nil {
		return f, err
	}
	if f.DeptID, err = httpx.QueryInt64(r, "dept_id"); err != nil {
		return f, err
	}
	if f.From, err = timeParam(r, "from"); err != nil {
		return f, err
	}
	if f.To, err = timeParam(r, "to"); err != nil {
		return f, err
	}
	return f, nil
}

func (a api) penalties(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f, err := PenaltyFilterFrom(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListPenalties(r.Context(), f, limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[PenaltyView]{Items: resViews(r.Context(), p.Items, PenaltyViewOf),
		NextCursor: p.NextCursor})
}
