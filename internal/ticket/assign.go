package ticket

// Assignment (SPEC §2.2): per-team rules (manual, round robin, least loaded, by skill),
// per-agent caps and availability, transfer to another department with a reason, and the
// dispatch of repair requests to technicians by fault level and availability.
//
// The core calls autoAssign inside the create transaction before the insert and then
// assignEvents for the timeline; the actions (assign, transfer, dispatch, take) run
// through s.mutate so that each is one transaction with its timeline event and audit.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
)

// Strategy is how a team's new requests find an agent.
type Strategy string

// Assignment strategies.
const (
	StrategyManual      Strategy = "manual"       // a supervisor assigns, or an agent takes
	StrategyRoundRobin  Strategy = "round_robin"  // next agent after the last one, by id
	StrategyLeastLoaded Strategy = "least_loaded" // fewest open requests, ties by id
	StrategySkill       Strategy = "skill"        // agents with the category's skill (or the type), least loaded
)

// Strategies lists every strategy in display order.
var Strategies = []Strategy{StrategyManual, StrategyRoundRobin, StrategyLeastLoaded, StrategySkill}

// Availability is an agent's presence.
type Availability string

// Availabilities.
const (
	AvailOnline  Availability = "online"
	AvailAway    Availability = "away"
	AvailOffline Availability = "offline"
)

// Availabilities lists every availability in display order.
var Availabilities = []Availability{AvailOnline, AvailAway, AvailOffline}

// TopicPresence is published (after commit) when an agent's availability or cap changes;
// the event id is the staff id.
const TopicPresence = "agent.presence"

// Skills that drive the dispatch of repair requests: technicians hold SkillTechnician
// and "fault:N", N being the highest fault level they may handle (a technician without
// a fault skill handles only requests without a fault level).
const (
	SkillTechnician  = "technician"
	faultSkillPrefix = "fault:"
)

// Limits of the assignment inputs.
const (
	maxAgentCap     = 1000
	maxAssignReason = 500
)

// Strategy labels used in timeline data (besides the team strategies).
const (
	assignedManually = "manual"
	assignedByTake   = "take"
	assignedDispatch = "dispatch"
)

// TeamRule is a team's assignment rule. A team without a stored rule assigns manually.
type TeamRule struct {
	TeamID              int64    `json:"team_id"`
	Strategy            Strategy `json:"strategy"`
	DefaultCap          int      `json:"default_cap"` // open requests per agent, 0 = unlimited
	RespectAvailability bool     `json:"respect_availability"`
	// LastAssigneeID is the round-robin pointer.
	LastAssigneeID int64     `json:"last_assignee_id"`
	Configured     bool      `json:"configured"` // false: no rule stored, the defaults apply
	UpdatedAt      time.Time `json:"updated_at"`
}

// defaultRule is the rule of a team that has none.
func defaultRule(teamID int64) TeamRule {
	return TeamRule{TeamID: teamID, Strategy: StrategyManual, RespectAvailability: true}
}

// Presence is an agent's availability and personal cap.
type Presence struct {
	StaffID      int64        `json:"staff_id"`
	Availability Availability `json:"availability"`
	Cap          int          `json:"cap"` // 0 = the team's default cap
	UpdatedAt    time.Time    `json:"updated_at"`
}

// Agent is a staff member who works requests, as the agent list shows them.
type Agent struct {
	ID           int64        `json:"id"`
	Username     string       `json:"username"`
	Name         string       `json:"name"`
	DeptID       int64        `json:"dept_id"`
	TeamID       int64        `json:"team_id"`
	TeamName     string       `json:"team_name"`
	Skills       []string     `json:"skills"`
	Availability Availability `json:"availability"`
	OpenLoad     int          `json:"open_load"`
	Cap          int          `json:"cap"`     // effective cap, 0 = unlimited
	OwnCap       int          `json:"own_cap"` // the agent's own cap, 0 = the team default
	AtCap        bool         `json:"at_cap"`
}

// assignCand is an agent who may receive work.
type assignCand struct {
	ID           int64
	Name         string
	DeptID       int64
	TeamID       int64
	Skills       []string
	Availability Availability
	OwnCap       int
	Cap          int // effective, 0 = unlimited
	Load         int
}

func (c assignCand) atCap() bool { return c.Cap > 0 && c.Load >= c.Cap }

// faultLevel is the highest N of the "fault:N" skills (0 without one).
func techFaultLevel(skills []string) int {
	best := 0
	for _, sk := range skills {
		v, ok := strings.CutPrefix(strings.ToLower(sk), faultSkillPrefix)
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > best {
			best = n
		}
	}
	return best
}

func staffHasSkill(skills []string, want string) bool {
	if want == "" {
		return false
	}
	for _, sk := range skills {
		if strings.EqualFold(sk, want) {
			return true
		}
	}
	return false
}

// pickRoundRobin returns the first assignCand (sorted by id) after last, wrapping around.
func pickRoundRobin(cs []assignCand, last int64) (assignCand, bool) {
	if len(cs) == 0 {
		return assignCand{}, false
	}
	for _, c := range cs {
		if c.ID > last {
			return c, true
		}
	}
	return cs[0], true
}

// pickLeastLoaded returns the assignCand with the fewest open requests, ties by id.
func pickLeastLoaded(cs []assignCand) (assignCand, bool) {
	if len(cs) == 0 {
		return assignCand{}, false
	}
	best := cs[0]
	for _, c := range cs[1:] {
		if c.Load < best.Load || (c.Load == best.Load && c.ID < best.ID) {
			best = c
		}
	}
	return best, true
}

// pickBySkill prefers the agents holding skill (or the request type), least loaded
// among them; without any, the least loaded of all.
func pickBySkill(cs []assignCand, skill string, typ Type) (assignCand, bool) {
	var skilled []assignCand
	for _, c := range cs {
		if staffHasSkill(c.Skills, skill) || staffHasSkill(c.Skills, string(typ)) {
			skilled = append(skilled, c)
		}
	}
	if len(skilled) > 0 {
		return pickLeastLoaded(skilled)
	}
	return pickLeastLoaded(cs)
}

// assignable keeps the assignCands that may receive a request now.
func assignable(cs []assignCand, needOnline bool) []assignCand {
	out := cs[:0:0]
	for _, c := range cs {
		if needOnline && c.Availability != AvailOnline {
			continue
		}
		if c.atCap() {
			continue
		}
		out = append(out, c)
	}
	return out
}

// ======================= automatic assignment =======================

// assignDecision is where a request goes.
type assignDecision struct {
	TeamID     int64
	AssigneeID int64
	Name       string
	Strategy   string
	Dispatch   bool
}

// staffReadCtx acts as the system for internal reads of staff data (no audit of its own).
func staffReadCtx(ctx context.Context) context.Context {
	return authz.WithActor(ctx, authz.System("ticket.assignment"))
}

// autoAssign routes a new request (inside the create transaction, before the insert):
// the team is t.TeamID, else the first team of t.DeptID with a rule. When that rule is
// automatic, repair requests go to an online technician who may handle the fault level
// (least loaded, under cap; looked for in the team, then the department) and the others
// follow the team's strategy. Without a rule, or with a manual one, t stays unassigned.
func (s *Service) autoAssign(ctx context.Context, t *Ticket) error {
	if t.AssigneeID != 0 {
		return nil
	}
	d, err := s.decideAssignment(ctx, t, t.TeamID)
	if err != nil {
		return err
	}
	t.TeamID, t.AssigneeID = d.TeamID, d.AssigneeID
	return nil
}

// assignEvents returns the timeline entries that record what autoAssign decided for a
// new request (nil when it is unassigned): a dispatch for a repair request, else an
// assignment. The core adds them after the "created" entry.
func (s *Service) assignEvents(t *Ticket) []Event {
	if t.AssigneeID == 0 {
		return nil
	}
	if t.Type == TypeRepair {
		return []Event{{Kind: EventDispatch, Data: map[string]any{"technician": t.AssigneeID,
			"fault_level": t.FaultLevel, "team_id": t.TeamID, "strategy": "auto"}}}
	}
	return []Event{{Kind: EventAssign, Data: map[string]any{"from": int64(0), "to": t.AssigneeID,
		"team_id": t.TeamID, "strategy": "auto"}}}
}

// decideAssignment picks the team and agent for t without changing t. explicitTeam is the team the
// request was put in by hand (0 = none): technicians are looked for there first.
func (s *Service) decideAssignment(ctx context.Context, t *Ticket, explicitTeam int64) (assignDecision, error) {
	d := assignDecision{TeamID: t.TeamID}
	rule, ok, err := s.ruleForTicket(ctx, t)
	if err != nil {
		return d, err
	}
	if ok && d.TeamID == 0 {
		d.TeamID = rule.TeamID
	}
	if !ok || rule.Strategy == StrategyManual {
		return d, nil // assigned by hand (repairs: the dispatch action)
	}
	if t.Type == TypeRepair {
		c, found, err := s.pickTechnician(ctx, t, explicitTeam)
		if err != nil || !found {
			return d, err
		}
		d.AssigneeID, d.Name, d.Strategy, d.Dispatch = c.ID, c.Name, assignedDispatch, true
		if c.TeamID != 0 {
			d.TeamID = c.TeamID
		}
		return d, nil
	}
	staff, writers, err := s.teamAgents(ctx, org.StaffFilter{TeamID: rule.TeamID})
	if err != nil {
		return d, err
	}
	cs, err := s.assignCands(ctx, staff, writers, map[int64]TeamRule{rule.TeamID: rule}, rule.Strategy != StrategyRoundRobin)
	if err != nil {
		return d, err
	}
	cs = assignable(cs, rule.RespectAvailability)
	var c assignCand
	var found bool
	switch rule.Strategy {
	case StrategyRoundRobin:
		c, found = pickRoundRobin(cs, rule.LastAssigneeID)
		if found {
			if err := s.store.setRoundRobin(ctx, rule.TeamID, c.ID); err != nil {
				return d, fmt.Errorf("ticket: round robin: %w", err)
			}
		}
	case StrategyLeastLoaded:
		c, found = pickLeastLoaded(cs)
	case StrategySkill:
		skill := ""
		if t.CategoryID != 0 {
			if skill, err = s.store.categorySkill(ctx, t.CategoryID); err != nil && !db.IsNoRows(err) {
				return d, fmt.Errorf("ticket: category skill: %w", err)
			}
		}
		c, found = pickBySkill(cs, skill, t.Type)
	}
	if found {
		d.AssigneeID, d.Name, d.Strategy = c.ID, c.Name, string(rule.Strategy)
	}
	return d, nil
}

// ruleForTicket returns the rule of t's team, or (without a team) of the first team of
// t's department that has one. On PostgreSQL the rule row is locked for the round-robin
// pointer.
func (s *Service) ruleForTicket(ctx context.Context, t *Ticket) (TeamRule, bool, error) {
	var r TeamRule
	var err error
	switch {
	case t.TeamID != 0:
		r, err = s.store.teamRule(ctx, t.TeamID, true)
	case t.DeptID != 0:
		r, err = s.store.firstDeptRule(ctx, t.DeptID)
	default:
		return TeamRule{}, false, nil
	}
	if db.IsNoRows(err) {
		return TeamRule{}, false, nil
	}
	if err != nil {
		return TeamRule{}, false, fmt.Errorf("ticket: assignment rule: %w", err)
	}
	return r, true, nil
}

// pickTechnician finds an online technician for repair t: in explicitTeam first, then in
// t's department (everyone when t has none), under cap, least loaded.
func (s *Service) pickTechnician(ctx context.Context, t *Ticket, explicitTeam int64) (assignCand, bool, error) {
	var scopes []org.StaffFilter
	if explicitTeam != 0 {
		scopes = append(scopes, org.StaffFilter{TeamID: explicitTeam})
	}
	scopes = append(scopes, org.StaffFilter{DeptID: t.DeptID})
	for _, f := range scopes {
		staff, writers, err := s.teamAgents(ctx, f)
		if err != nil {
			return assignCand{}, false, err
		}
		staff = slices.DeleteFunc(staff, func(st org.Staff) bool {
			return !staffHasSkill(st.Skills, SkillTechnician) || techFaultLevel(st.Skills) < t.FaultLevel
		})
		if len(staff) == 0 {
			continue
		}
		cs, err := s.assignCands(ctx, staff, writers, nil, true)
		if err != nil {
			return assignCand{}, false, err
		}
		if c, ok := pickLeastLoaded(assignable(cs, true)); ok {
			return c, true, nil
		}
	}
	return assignCand{}, false, nil
}

// teamAgents lists the active staff matching f and the roles that make them agents.
func (s *Service) teamAgents(ctx context.Context, f org.StaffFilter) ([]org.Staff, map[string]bool, error) {
	staff, err := s.assignStaff(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	writers, err := s.writerRoles(ctx)
	if err != nil {
		return nil, nil, err
	}
	return staff, writers, nil
}

// assignStaff lists the active staff matching f (all pages), as the system.
func (s *Service) assignStaff(ctx context.Context, f org.StaffFilter) ([]org.Staff, error) {
	if s.staff == nil {
		return nil, nil
	}
	sctx := staffReadCtx(ctx)
	f.Status, f.Limit = org.StatusActive, httpx.MaxLimit
	var out []org.Staff
	for {
		p, err := s.staff.ListStaff(sctx, f)
		if err != nil {
			return nil, fmt.Errorf("ticket: list staff: %w", err)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out, nil
		}
		f.Cursor = p.NextCursor
	}
}

// writerRoles returns the codes of the roles that grant ticket:write.
func (s *Service) writerRoles(ctx context.Context) (map[string]bool, error) {
	rs, err := s.staff.AllRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("ticket: roles: %w", err)
	}
	out := make(map[string]bool, len(rs))
	for _, r := range rs {
		if slices.Contains(r.Permissions, PermWrite) || slices.Contains(r.Permissions, authz.All) {
			out[r.Code] = true
		}
	}
	return out, nil
}

func holdsRole(st org.Staff, roles map[string]bool) bool {
	for _, r := range st.Roles {
		if roles[r] {
			return true
		}
	}
	return false
}

// assignCands turns active staff into candidates: only those holding ticket:write
// (writers: the roles granting it; nil = load them), with
// their availability, effective cap (their own, else their team's default; rules holds
// the rules already loaded) and their open load (counted when withLoad or when a cap
// applies). Sorted by id.
func (s *Service) assignCands(ctx context.Context, staff []org.Staff, writers map[string]bool, rules map[int64]TeamRule, withLoad bool) ([]assignCand, error) {
	if len(staff) == 0 {
		return nil, nil
	}
	if writers == nil {
		var err error
		if writers, err = s.writerRoles(ctx); err != nil {
			return nil, err
		}
	}
	cs := make([]assignCand, 0, len(staff))
	ids := make([]int64, 0, len(staff))
	for _, st := range staff {
		if !st.Active() || !holdsRole(st, writers) {
			continue
		}
		cs = append(cs, assignCand{ID: st.ID, Name: st.DisplayName, DeptID: st.DeptID, TeamID: st.TeamID,
			Skills: st.Skills, Availability: AvailOffline})
		ids = append(ids, st.ID)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	slices.SortFunc(cs, func(a, b assignCand) int { return cmp.Compare(a.ID, b.ID) })
	slices.Sort(ids)
	pres, err := s.store.presenceOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("ticket: presence: %w", err)
	}
	if rules == nil {
		rules = map[int64]TeamRule{}
	}
	var missing []int64
	for _, c := range cs {
		if _, ok := rules[c.TeamID]; !ok && c.TeamID != 0 && !slices.Contains(missing, c.TeamID) {
			missing = append(missing, c.TeamID)
		}
	}
	if len(missing) > 0 {
		more, err := s.store.rulesOf(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("ticket: assignment rules: %w", err)
		}
		for _, r := range more {
			rules[r.TeamID] = r
		}
	}
	for i := range cs {
		c := &cs[i]
		if p, ok := pres[c.ID]; ok {
			c.Availability, c.OwnCap = p.Availability, p.Cap
		}
		c.Cap = c.OwnCap
		if c.Cap == 0 {
			c.Cap = rules[c.TeamID].DefaultCap
		}
	}
	if !withLoad {
		withLoad = slices.ContainsFunc(cs, func(c assignCand) bool { return c.Cap > 0 })
	}
	if withLoad {
		loads, err := s.store.openLoads(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("ticket: open load: %w", err)
		}
		for i := range cs {
			cs[i].Load = loads[cs[i].ID]
		}
	}
	return cs, nil
}

// ======================= actions =======================

// AssignInput is POST /api/v1/tickets/{id}/assign: an agent (assignee_id; 0 takes the
// request back to its team's queue) and/or a team (team_id; without an agent the team's
// rule picks one). Force overrides the agent's cap.
type AssignInput struct {
	AssigneeID *int64 `json:"assignee_id"`
	TeamID     *int64 `json:"team_id"`
	Reason     string `json:"reason"`
	Force      bool   `json:"force"`
}

// TransferInput is POST /api/v1/tickets/{id}/transfer.
type TransferInput struct {
	DeptID int64  `json:"dept_id"`
	TeamID int64  `json:"team_id"`
	Reason string `json:"reason"`
}

// DispatchInput is POST /api/v1/tickets/{id}/dispatch (technician_id 0 = pick one).
type DispatchInput struct {
	TechnicianID int64  `json:"technician_id"`
	Reason       string `json:"reason"`
	Force        bool   `json:"force"`
}

func assignReason(f apperr.Fields, reason string, required bool) string {
	reason = strings.TrimSpace(reason)
	switch {
	case required && reason == "":
		f.Add("reason", "field.required")
	case utf8.RuneCountInString(reason) > maxAssignReason:
		f.Add("reason", "field.too_long", "max", maxAssignReason)
	case strings.ContainsFunc(reason, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }):
		f.Add("reason", "field.invalid")
	}
	return reason
}

func openForAssign(t *Ticket) error {
	if !t.Status.Open() {
		return apperr.New(apperr.Conflict, "ticket.assign.error.not_open", "status", string(t.Status)).WithCode("ticket_not_open")
	}
	return nil
}

// assigneeFor loads staff member id as a possible assignee of t and checks that they are
// reached by the actor's perm scope (else they read exactly as a missing staff member,
// so that ids cannot be probed), active, work requests and belong to t's department;
// unless force, that they are under their cap. Problems name field.
func (s *Service) assigneeFor(ctx context.Context, t *Ticket, id int64, field, perm string, force bool) (assignCand, error) {
	st, err := s.staff.GetStaff(staffReadCtx(ctx), id)
	if apperr.KindOf(err) == apperr.NotFound {
		return assignCand{}, apperr.InvalidField(field, "ticket.assign.error.unknown_agent")
	}
	if err != nil {
		return assignCand{}, fmt.Errorf("ticket: load agent: %w", err)
	}
	actor := authz.From(ctx)
	if !actor.Reaches(perm, authz.Record{DeptID: st.DeptID, TeamID: st.TeamID, OwnerID: st.ID}) {
		return assignCand{}, apperr.InvalidField(field, "ticket.assign.error.unknown_agent")
	}
	if !st.Active() {
		return assignCand{}, apperr.InvalidField(field, "ticket.assign.error.inactive")
	}
	if t.DeptID != 0 && st.DeptID != t.DeptID {
		return assignCand{}, apperr.InvalidField(field, "ticket.assign.error.other_dept")
	}
	cs, err := s.assignCands(ctx, []org.Staff{st}, nil, nil, true)
	if err != nil {
		return assignCand{}, err
	}
	if len(cs) == 0 {
		return assignCand{}, apperr.InvalidField(field, "ticket.assign.error.not_agent")
	}
	c := cs[0]
	if !force && c.ID != t.AssigneeID && c.atCap() {
		return assignCand{}, apperr.InvalidField(field, "ticket.assign.error.at_cap", "cap", c.Cap)
	}
	return c, nil
}

// assignTeamFor loads team id for t; it must exist (problems name field).
func (s *Service) assignTeamFor(ctx context.Context, id int64, field string) (org.Team, error) {
	tm, err := s.staff.GetTeam(staffReadCtx(ctx), id)
	if apperr.KindOf(err) == apperr.NotFound {
		return org.Team{}, apperr.InvalidField(field, "ticket.assign.error.unknown_team")
	}
	if err != nil {
		return org.Team{}, fmt.Errorf("ticket: load team: %w", err)
	}
	return tm, nil
}

func assignEvent(from int64, d assignDecision, reason string, extra map[string]any) Event {
	data := map[string]any{"from": from, "to": d.AssigneeID, "team_id": d.TeamID, "strategy": d.Strategy}
	if d.Name != "" {
		data["to_name"] = d.Name
	}
	if reason != "" {
		data["reason"] = reason
	}
	for k, v := range extra {
		data[k] = v
	}
	kind := EventAssign
	if d.Dispatch {
		kind = EventDispatch
		data["technician"] = d.AssigneeID
	}
	return Event{Kind: kind, Body: reason, Data: data}
}

// Assign gives request id to an agent and/or a team (ticket:assign within scope).
func (s *Service) Assign(ctx context.Context, id int64, in AssignInput) (Ticket, error) {
	f := apperr.Fields{}
	reason := assignReason(f, in.Reason, false)
	if in.AssigneeID == nil && in.TeamID == nil {
		f.Add("assignee_id", "ticket.assign.error.target_required")
	}
	if in.AssigneeID != nil && *in.AssigneeID < 0 {
		f.Add("assignee_id", "field.invalid")
	}
	if in.TeamID != nil && *in.TeamID <= 0 {
		f.Add("team_id", "field.invalid")
	}
	if err := f.Err(); err != nil {
		return Ticket{}, err
	}
	return s.mutate(ctx, id, PermAssign, func(ctx context.Context, t *Ticket) ([]Event, error) {
		if err := openForAssign(t); err != nil {
			return nil, err
		}
		from, fromTeam := t.AssigneeID, t.TeamID
		d := assignDecision{TeamID: t.TeamID, Strategy: assignedManually}
		if in.TeamID != nil {
			tm, err := s.assignTeamFor(ctx, *in.TeamID, "team_id")
			if err != nil {
				return nil, err
			}
			if !authz.From(ctx).Reaches(PermAssign, authz.Record{DeptID: tm.DeptID, TeamID: tm.ID}) {
				// Out of reach reads as missing, like a staff member out of reach.
				return nil, apperr.InvalidField("team_id", "ticket.assign.error.unknown_team")
			}
			if t.DeptID != 0 && tm.DeptID != t.DeptID {
				return nil, apperr.InvalidField("team_id", "ticket.assign.error.team_other_dept")
			}
			d.TeamID = tm.ID
			if t.DeptID == 0 {
				t.DeptID = tm.DeptID
			}
		}
		switch {
		case in.AssigneeID != nil && *in.AssigneeID != 0:
			c, err := s.assigneeFor(ctx, t, *in.AssigneeID, "assignee_id", PermAssign, in.Force)
			if err != nil {
				return nil, err
			}
			if in.TeamID != nil && c.TeamID != d.TeamID {
				return nil, apperr.InvalidField("assignee_id", "ticket.assign.error.not_in_team")
			}
			if in.TeamID == nil && c.TeamID != 0 {
				d.TeamID = c.TeamID
			}
			if t.DeptID == 0 {
				t.DeptID = c.DeptID
			}
			d.AssigneeID, d.Name = c.ID, c.Name
		case in.AssigneeID != nil: // back to the team's queue
		default: // a team only: its rule picks an agent
			probe := *t
			probe.TeamID, probe.AssigneeID = d.TeamID, 0
			auto, err := s.decideAssignment(ctx, &probe, d.TeamID)
			if err != nil {
				return nil, err
			}
			if auto.AssigneeID != 0 {
				d = auto
			}
		}
		if d.AssigneeID == from && d.TeamID == fromTeam {
			return nil, nil // nothing changes
		}
		t.TeamID, t.AssigneeID = d.TeamID, d.AssigneeID
		return []Event{assignEvent(from, d, reason, map[string]any{"from_team": fromTeam, "forced": in.Force})}, nil
	})
}

// Transfer moves request id to another department (and optionally one of its teams)
// with a reason; the assignee is cleared and the target team's rule assigns anew.
func (s *Service) Transfer(ctx context.Context, id int64, in TransferInput) (Ticket, error) {
	f := apperr.Fields{}
	reason := assignReason(f, in.Reason, true)
	if in.DeptID <= 0 {
		f.Add("dept_id", "field.required")
	}
	if in.TeamID < 0 {
		f.Add("team_id", "field.invalid")
	}
	if err := f.Err(); err != nil {
		return Ticket{}, err
	}
	return s.mutate(ctx, id, PermAssign, func(ctx context.Context, t *Ticket) ([]Event, error) {
		if err := openForAssign(t); err != nil {
			return nil, err
		}
		dept, err := s.staff.GetDepartment(staffReadCtx(ctx), in.DeptID)
		if apperr.KindOf(err) == apperr.NotFound {
			return nil, apperr.InvalidField("dept_id", "ticket.assign.error.unknown_dept")
		}
		if err != nil {
			return nil, fmt.Errorf("ticket: load department: %w", err)
		}
		if dept.ID == t.DeptID {
			return nil, apperr.InvalidField("dept_id", "ticket.assign.error.same_dept")
		}
		if in.TeamID != 0 {
			tm, err := s.assignTeamFor(ctx, in.TeamID, "team_id")
			if err != nil {
				return nil, err
			}
			if tm.DeptID != dept.ID {
				return nil, apperr.InvalidField("team_id", "ticket.assign.error.team_other_dept")
			}
		}
		ev := Event{Kind: EventTransfer, Body: reason, Data: map[string]any{"from_dept": t.DeptID, "to_dept": dept.ID,
			"to_dept_name": dept.Name, "from_team": t.TeamID, "to_team": in.TeamID, "from_assignee": t.AssigneeID,
			"reason": reason}}
		t.DeptID, t.TeamID, t.AssigneeID = dept.ID, in.TeamID, 0
		d, err := s.decideAssignment(ctx, t, in.TeamID)
		if err != nil {
			return nil, err
		}
		evs := []Event{ev}
		t.TeamID = d.TeamID
		if d.AssigneeID != 0 {
			t.AssigneeID = d.AssigneeID
			evs = append(evs, assignEvent(0, d, "", nil))
		}
		return evs, nil
	})
}

// Dispatch sends repair request id to a technician: the one given (who must hold the
// technician skill and a fault level at least the request's) or, without one, the
// least-loaded online technician under cap.
func (s *Service) Dispatch(ctx context.Context, id int64, in DispatchInput) (Ticket, error) {
	f := apperr.Fields{}
	reason := assignReason(f, in.Reason, false)
	if in.TechnicianID < 0 {
		f.Add("technician_id", "field.invalid")
	}
	if err := f.Err(); err != nil {
		return Ticket{}, err
	}
	return s.mutate(ctx, id, PermAssign, func(ctx context.Context, t *Ticket) ([]Event, error) {
		if t.Type != TypeRepair {
			return nil, apperr.New(apperr.Conflict, "ticket.assign.error.not_repair").WithCode("not_repair")
		}
		if err := openForAssign(t); err != nil {
			return nil, err
		}
		from := t.AssigneeID
		d := assignDecision{TeamID: t.TeamID, Dispatch: true}
		if in.TechnicianID != 0 {
			c, err := s.assigneeFor(ctx, t, in.TechnicianID, "technician_id", PermAssign, in.Force)
			if err != nil {
				return nil, err
			}
			if !staffHasSkill(c.Skills, SkillTechnician) {
				return nil, apperr.InvalidField("technician_id", "ticket.assign.error.not_technician")
			}
			if lv := techFaultLevel(c.Skills); lv < t.FaultLevel {
				return nil, apperr.InvalidField("technician_id", "ticket.assign.error.fault_level",
					"level", t.FaultLevel, "max", lv)
			}
			d.AssigneeID, d.Name, d.Strategy = c.ID, c.Name, assignedManually
			if c.TeamID != 0 {
				d.TeamID = c.TeamID
			}
		} else {
			c, ok, err := s.pickTechnician(ctx, t, t.TeamID)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, apperr.New(apperr.Conflict, "ticket.assign.error.no_technician", "level", t.FaultLevel).
					WithCode("no_technician")
			}
			d.AssigneeID, d.Name, d.Strategy = c.ID, c.Name, "auto"
			if c.TeamID != 0 {
				d.TeamID = c.TeamID
			}
		}
		t.TeamID, t.AssigneeID = d.TeamID, d.AssigneeID
		return []Event{assignEvent(from, d, reason, map[string]any{"fault_level": t.FaultLevel, "forced": in.Force})}, nil
	})
}

// Take gives an unassigned request the actor can work on to the actor.
func (s *Service) Take(ctx context.Context, id int64) (Ticket, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Ticket{}, err
	}
	if actor.Kind != authz.KindStaff {
		return Ticket{}, apperr.ForbiddenErr()
	}
	return s.mutate(ctx, id, PermWrite, func(ctx context.Context, t *Ticket) ([]Event, error) {
		if err := openForAssign(t); err != nil {
			return nil, err
		}
		if t.AssigneeID != 0 {
			return nil, apperr.New(apperr.Conflict, "ticket.assign.error.taken").WithCode("already_assigned")
		}
		st, err := s.staff.GetStaff(staffReadCtx(ctx), actor.ID)
		if err != nil {
			return nil, fmt.Errorf("ticket: load agent: %w", err)
		}
		cs, err := s.assignCands(ctx, []org.Staff{st}, nil, nil, true)
		if err != nil {
			return nil, err
		}
		if len(cs) == 1 && cs[0].atCap() {
			return nil, apperr.New(apperr.Conflict, "ticket.assign.error.own_cap", "cap", cs[0].Cap).WithCode("at_cap")
		}
		d := assignDecision{TeamID: t.TeamID, AssigneeID: actor.ID, Name: actor.DisplayName, Strategy: assignedByTake}
		if d.TeamID == 0 && st.TeamID != 0 && (t.DeptID == 0 || t.DeptID == st.DeptID) {
			d.TeamID = st.TeamID
		}
		if t.DeptID == 0 {
			t.DeptID = st.DeptID
		}
		t.TeamID, t.AssigneeID = d.TeamID, d.AssigneeID
		return []Event{assignEvent(0, d, "", nil)}, nil
	})
}

// ======================= presence and rules =======================

// AgentFilter narrows the agent list.
type AgentFilter struct {
	DeptID       int64
	TeamID       int64
	Availability Availability
	Limit        int
	Cursor       string
}

// ListAgents lists the staff who work requests within the actor's ticket:read scope,
// with availability, open load and cap.
func (s *Service) ListAgents(ctx context.Context, f AgentFilter) (httpx.Page[Agent], error) {
	actor, err := authz.Require(ctx, PermRead)
	if err != nil {
		return httpx.Page[Agent]{}, err
	}
	if f.Availability != "" && !slices.Contains(Availabilities, f.Availability) {
		return httpx.Page[Agent]{}, apperr.InvalidField("availability", "field.invalid_choice")
	}
	empty := httpx.Page[Agent]{Items: []Agent{}}
	sf := org.StaffFilter{DeptID: f.DeptID, TeamID: f.TeamID, Status: org.StatusActive, Limit: f.Limit, Cursor: f.Cursor}
	self := false
	switch actor.ScopeOf(PermRead) {
	case authz.ScopeAll:
	case authz.ScopeDept:
		if actor.DeptID == 0 || (sf.DeptID != 0 && sf.DeptID != actor.DeptID) {
			return empty, nil
		}
		sf.DeptID = actor.DeptID
	case authz.ScopeTeam:
		if actor.TeamID == 0 {
			self = true
		} else if sf.TeamID != 0 && sf.TeamID != actor.TeamID {
			return empty, nil
		} else {
			sf.TeamID = actor.TeamID
		}
	default:
		self = true
	}
	var staff []org.Staff
	next := ""
	if self {
		if f.Cursor != "" || actor.Kind != authz.KindStaff {
			return empty, nil
		}
		st, err := s.staff.GetStaff(staffReadCtx(ctx), actor.ID)
		if err != nil {
			return httpx.Page[Agent]{}, fmt.Errorf("ticket: load agent: %w", err)
		}
		if (f.DeptID == 0 || f.DeptID == st.DeptID) && (f.TeamID == 0 || f.TeamID == st.TeamID) {
			staff = []org.Staff{st}
		}
	} else {
		p, err := s.staff.ListStaff(staffReadCtx(ctx), sf)
		if err != nil {
			return httpx.Page[Agent]{}, err
		}
		staff, next = p.Items, p.NextCursor
	}
	cs, err := s.assignCands(ctx, staff, nil, nil, true)
	if err != nil {
		return httpx.Page[Agent]{}, err
	}
	teams, err := s.assignTeamNames(ctx)
	if err != nil {
		return httpx.Page[Agent]{}, err
	}
	byID := make(map[int64]org.Staff, len(staff))
	for _, st := range staff {
		byID[st.ID] = st
	}
	out := httpx.Page[Agent]{Items: make([]Agent, 0, len(cs)), NextCursor: next}
	for _, c := range cs {
		if f.Availability != "" && c.Availability != f.Availability {
			continue
		}
		out.Items = append(out.Items, agentOf(c, byID[c.ID].Username, teams[c.TeamID]))
	}
	// Newest first like the staff list (its cursor continues from the last id).
	slices.SortFunc(out.Items, func(a, b Agent) int { return cmp.Compare(b.ID, a.ID) })
	return out, nil
}

func agentOf(c assignCand, username, team string) Agent {
	skills := c.Skills
	if skills == nil {
		skills = []string{}
	}
	return Agent{ID: c.ID, Username: username, Name: c.Name, DeptID: c.DeptID, TeamID: c.TeamID, TeamName: team,
		Skills: skills, Availability: c.Availability, OpenLoad: c.Load, Cap: c.Cap, OwnCap: c.OwnCap, AtCap: c.atCap()}
}

func (s *Service) assignTeamNames(ctx context.Context) (map[int64]string, error) {
	ts, err := s.staff.AllTeams(ctx)
	if err != nil {
		return nil, fmt.Errorf("ticket: teams: %w", err)
	}
	out := make(map[int64]string, len(ts))
	for _, t := range ts {
		out[t.ID] = t.Name
	}
	return out, nil
}

// PresenceInput changes an agent's availability and/or cap.
type PresenceInput struct {
	Availability *Availability `json:"availability"`
	Cap          *int          `json:"cap"`
}

func (in PresenceInput) check() error {
	f := apperr.Fields{}
	if in.Availability == nil && in.Cap == nil {
		f.Add("availability", "field.required")
	}
	if in.Availability != nil && !slices.Contains(Availabilities, *in.Availability) {
		f.Add("availability", "field.invalid_choice")
	}
	if in.Cap != nil && (*in.Cap < 0 || *in.Cap > maxAgentCap) {
		f.Add("cap", "ticket.assign.error.cap_range", "max", maxAgentCap)
	}
	return f.Err()
}

// SetMyPresence sets the signed-in agent's own availability.
// MyAvailability is the signed-in staff member's availability (offline until set).
func (s *Service) MyAvailability(ctx context.Context) (Availability, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return "", err
	}
	pr, ok, err := s.store.presence(ctx, actor.ID)
	if err != nil || !ok {
		return AvailOffline, err
	}
	return pr.Availability, nil
}

func (s *Service) SetMyPresence(ctx context.Context, a Availability) (Agent, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Agent{}, err
	}
	if actor.Kind != authz.KindStaff {
		return Agent{}, apperr.ForbiddenErr()
	}
	in := PresenceInput{Availability: &a}
	if err := in.check(); err != nil {
		return Agent{}, err
	}
	return s.setPresence(ctx, actor.ID, in)
}

// SetPresence sets an agent's availability and/or cap (ticket:assign within scope).
func (s *Service) SetPresence(ctx context.Context, staffID int64, in PresenceInput) (Agent, error) {
	if _, err := authz.Require(ctx, PermAssign); err != nil {
		return Agent{}, err
	}
	if err := in.check(); err != nil {
		return Agent{}, err
	}
	st, err := s.staff.GetStaff(staffReadCtx(ctx), staffID)
	if err != nil {
		return Agent{}, err
	}
	if _, err := authz.RequireRecord(ctx, PermAssign, authz.Record{DeptID: st.DeptID, TeamID: st.TeamID, OwnerID: st.ID}, "thing.staff"); err != nil {
		return Agent{}, err
	}
	return s.setPresence(ctx, staffID, in)
}

func (s *Service) setPresence(ctx context.Context, staffID int64, in PresenceInput) (Agent, error) {
	var out Agent
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		st, err := s.staff.GetStaff(staffReadCtx(ctx), staffID)
		if err != nil {
			return err
		}
		cur, ok, err := s.store.presence(ctx, staffID)
		if err != nil {
			return fmt.Errorf("ticket: presence: %w", err)
		}
		if !ok {
			cur = Presence{StaffID: staffID, Availability: AvailOffline}
		}
		next := cur
		if in.Availability != nil {
			next.Availability = *in.Availability
		}
		if in.Cap != nil {
			next.Cap = *in.Cap
		}
		next.UpdatedAt = s.now()
		if err := s.store.putPresence(ctx, next); err != nil {
			return fmt.Errorf("ticket: save presence: %w", err)
		}
		detail := map[string]any{}
		if next.Availability != cur.Availability || !ok {
			detail["availability"] = map[string]any{"from": cur.Availability, "to": next.Availability}
		}
		if next.Cap != cur.Cap {
			detail["cap"] = map[string]any{"from": cur.Cap, "to": next.Cap}
		}
		if err := s.auditAssign(ctx, "agent.presence", "staff", staffID, detail); err != nil {
			return err
		}
		if s.events != nil {
			data, _ := json.Marshal(map[string]any{"availability": next.Availability, "cap": next.Cap})
			s.events.Publish(ctx, events.Event{Topic: TopicPresence, ID: staffID, At: next.UpdatedAt, Data: data,
				Scope: events.Scope{DeptID: st.DeptID, TeamID: st.TeamID, OwnerID: st.ID}})
		}
		cs, err := s.assignCands(ctx, []org.Staff{st}, nil, nil, true)
		if err != nil {
			return err
		}
		teams, err := s.assignTeamNames(ctx)
		if err != nil {
			return err
		}
		if len(cs) == 1 {
			out = agentOf(cs[0], st.Username, teams[st.TeamID])
		} else { // not (or no longer) an agent: report the presence all the same
			out = agentOf(assignCand{ID: st.ID, Name: st.DisplayName, DeptID: st.DeptID, TeamID: st.TeamID,
				Skills: st.Skills, Availability: next.Availability, OwnCap: next.Cap, Cap: next.Cap}, st.Username, teams[st.TeamID])
		}
		return nil
	})
	if err == nil && in.Availability != nil && *in.Availability == AvailOnline && s.jobs != nil {
		s.kickBacklog(ctx)
	}
	return out, err
}

// TeamRuleInput replaces a team's assignment rule.
type TeamRuleInput struct {
	Strategy            Strategy `json:"strategy"`
	DefaultCap          int      `json:"default_cap"`
	RespectAvailability *bool    `json:"respect_availability"` // default true
}

// manageableTeam loads team id for ticket:manage within the actor's scope.
func (s *Service) manageableTeam(ctx context.Context, id int64) (org.Team, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return org.Team{}, err
	}
	tm, err := s.staff.GetTeam(staffReadCtx(ctx), id)
	if err != nil {
		return org.Team{}, err
	}
	if _, err := authz.RequireRecord(ctx, PermManage, authz.Record{DeptID: tm.DeptID, TeamID: tm.ID}, "thing.team"); err != nil {
		return org.Team{}, err
	}
	return tm, nil
}

// TeamRule returns team id's assignment rule (the defaults when none is stored).
func (s *Service) TeamRule(ctx context.Context, id int64) (TeamRule, error) {
	if _, err := s.manageableTeam(ctx, id); err != nil {
		return TeamRule{}, err
	}
	r, err := s.store.teamRule(ctx, id, false)
	if db.IsNoRows(err) {
		return defaultRule(id), nil
	}
	if err != nil {
		return TeamRule{}, fmt.Errorf("ticket: assignment rule: %w", err)
	}
	return r, nil
}

// SetTeamRule replaces team id's assignment rule.
func (s *Service) SetTeamRule(ctx context.Context, id int64, in TeamRuleInput) (TeamRule, error) {
	if _, err := s.manageableTeam(ctx, id); err != nil {
		return TeamRule{}, err
	}
	f := apperr.Fields{}
	if in.Strategy == "" {
		f.Add("strategy", "field.required")
	} else if !slices.Contains(Strategies, in.Strategy) {
		f.Add("strategy", "field.invalid_choice")
	}
	if in.DefaultCap < 0 || in.DefaultCap > maxAgentCap {
		f.Add("default_cap", "ticket.assign.error.cap_range", "max", maxAgentCap)
	}
	if err := f.Err(); err != nil {
		return TeamRule{}, err
	}
	r := TeamRule{TeamID: id, Strategy: in.Strategy, DefaultCap: in.DefaultCap, RespectAvailability: true,
		Configured: true, UpdatedAt: s.now()}
	if in.RespectAvailability != nil {
		r.RespectAvailability = *in.RespectAvailability
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		prev, err := s.store.teamRule(ctx, id, false)
		if db.IsNoRows(err) {
			prev, err = defaultRule(id), nil
		}
		if err != nil {
			return fmt.Errorf("ticket: assignment rule: %w", err)
		}
		r.LastAssigneeID = prev.LastAssigneeID
		if err := s.store.putRule(ctx, r); err != nil {
			return fmt.Errorf("ticket: save assignment rule: %w", err)
		}
		return s.auditAssign(ctx, "ticket.assignment_rule", "team", id, map[string]any{
			"from": map[string]any{"strategy": prev.Strategy, "default_cap": prev.DefaultCap, "respect_availability": prev.RespectAvailability},
			"to":   map[string]any{"strategy": r.Strategy, "default_cap": r.DefaultCap, "respect_availability": r.RespectAvailability},
		})
	})
	if err != nil {
		return TeamRule{}, err
	}
	if r.Strategy != StrategyManual {
		s.kickBacklog(ctx)
	}
	return r, nil
}

// auditAssign writes an audit entry (inside the caller's transaction).
func (s *Service) auditAssign(ctx context.Context, action, targetType string, id int64, detail any) error {
	if s.audit == nil {
		return nil
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: targetType, TargetID: strconv.FormatInt(id, 10), Detail: detail}); err != nil {
		return fmt.Errorf("ticket: audit %s: %w", action, err)
	}
	return nil
}

// ======================= backlog job =======================

// Job kinds of the assignment.
const (
	jobAssignBacklog = "ticket.assign_backlog"
	backlogBatch     = 200
)

// registerAssignJobs registers the backlog job: requests left unassigned in a team with
// an automatic rule (everyone away or at cap) are assigned once agents come online or
// fall below their cap. It runs every minute and when an agent goes online.
func (s *Service) registerAssignJobs(r *jobs.Runner) {
	r.Register(jobAssignBacklog, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.AssignBacklog(ctx)
		return err
	})
	r.Every(jobAssignBacklog, jobs.Every(time.Minute))
}

// kickBacklog enqueues a backlog run now (at most one pending).
func (s *Service) kickBacklog(ctx context.Context) {
	if s.jobs == nil {
		return
	}
	key := jobAssignBacklog + ":" + strconv.FormatInt(clock.Millis(s.now())/10_000, 10)
	if _, _, err := s.jobs.Enqueue(context.WithoutCancel(ctx), jobAssignBacklog, struct{}{}, jobs.UniqueKey(key)); err != nil {
		s.log.Warn("assignment backlog not enqueued", "err", err)
	}
}

// AssignBacklog assigns the unassigned open requests of the teams with an automatic
// rule, oldest first, while agents can take them; it returns how many it assigned.
func (s *Service) AssignBacklog(ctx context.Context) (int, error) {
	teams, err := s.store.autoTeams(ctx)
	if err != nil {
		return 0, fmt.Errorf("ticket: backlog teams: %w", err)
	}
	n := 0
	for _, team := range teams {
		ids, err := s.store.unassigned(ctx, team, backlogBatch)
		if err != nil {
			return n, fmt.Errorf("ticket: backlog: %w", err)
		}
		for _, id := range ids {
			assigned, repair := false, false
			_, err := s.systemMutate(ctx, id, func(ctx context.Context, t *Ticket) ([]Event, error) {
				if !t.Status.Open() || t.AssigneeID != 0 || t.TeamID != team {
					return nil, nil
				}
				repair = t.Type == TypeRepair
				d, err := s.decideAssignment(ctx, t, t.TeamID)
				if err != nil || d.AssigneeID == 0 {
					return nil, err
				}
				t.TeamID, t.AssigneeID, assigned = d.TeamID, d.AssigneeID, true
				return []Event{assignEvent(0, d, "", map[string]any{"backlog": true})}, nil
			})
			if err != nil {
				return n, err
			}
			if !assigned {
				if repair {
					continue // waits for a technician; the team's other requests may still go
				}
				break // nobody can take more in this team now
			}
			n++
		}
	}
	return n, nil
}
