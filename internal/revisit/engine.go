package revisit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/activity"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// The engine. A trigger is one inbox row (revisit_events) written in the producer's
// transaction, keyed so that a listener running twice writes nothing new; the same
// transaction enqueues the engine job (one per two-second slot, so a burst of events
// makes one job), and a periodic pass every minute catches anything left. A pass takes
// the rows after its cursor in id order, in batches, one transaction each that also
// moves the cursor (no inbox row is rewritten): for every active rule taking the event
// and passing its filters it stores a decision (chosen or not) keyed by (rule, subject),
// and for a chosen one the task, with its window, assignee and schedule. A decision that
// exists already is left alone, so reruns create nothing.

// Job kinds of the engine.
const (
	JobEngine = "revisit.engine"
	JobPlans  = "revisit.plans"
	JobExpire = "revisit.expire"
)

// Engine tuning.
const (
	engineSlot  = 2 * time.Second
	engineBatch = 50000
	engineActor = "job:" + JobEngine
)

// listen registers the in-transaction listeners with the producers below revisit.
func (s *Service) listen() {
	if s.d.Tickets != nil {
		s.d.Tickets.OnStatus(func(ctx context.Context, t ticket.Ticket, from, to ticket.Status) error {
			var ev string
			switch to {
			case ticket.StatusResolved:
				ev = EventTicketResolved
			case ticket.StatusClosed:
				ev = EventTicketClosed
			default:
				return nil
			}
			if t.CustomerID == 0 {
				return nil
			}
			attrs := map[string]string{"type": string(t.Type), "severity": string(t.Severity)}
			if t.CategoryID != 0 {
				attrs["category_id"] = itoa(t.CategoryID)
			}
			subject := "ticket:" + itoa(t.ID) + ":" + strconv.Itoa(t.ReopenCount)
			return s.inbox(ctx, inboxRow{EventKey: ev + "|" + subject, Event: ev, SubjectKey: subject,
				SourceType: SourceTicket, SourceID: t.ID, CustomerID: t.CustomerID, DeptID: t.DeptID, TeamID: t.TeamID,
				AgentID: t.AssigneeID, Attrs: attrs, OccurredAt: s.now()})
		})
	}
	if s.d.Complaints != nil {
		s.d.Complaints.OnClosed(func(ctx context.Context, c complaint.Complaint) error {
			if !c.Revisit() || c.CustomerID == 0 { // anonymous or reply-only: no visit (seed 1.13)
				return nil
			}
			dept, team := c.DeptID, c.TeamID
			if c.RespDeptID != 0 {
				dept, team = c.RespDeptID, c.RespTeamID
			}
			subject := "complaint:" + itoa(c.ID) + ":" + strconv.Itoa(c.ReopenCount)
			return s.inbox(ctx, inboxRow{EventKey: EventComplaintClosed + "|" + subject, Event: EventComplaintClosed,
				SubjectKey: subject, SourceType: SourceComplaint, SourceID: c.ID, CustomerID: c.CustomerID, DeptID: dept,
				TeamID: team, AgentID: c.RespStaffID, Level: string(c.Level), OccurredAt: s.now()})
		})
	}
	if s.d.Customers != nil {
		s.d.Customers.OnCreated(func(ctx context.Context, c customer.Customer) error {
			subject := "customer:" + itoa(c.ID)
			return s.inbox(ctx, inboxRow{EventKey: EventCustomerCreated + "|" + subject, Event: EventCustomerCreated,
				SubjectKey: subject, SourceType: SourceCustomer, SourceID: c.ID, CustomerID: c.ID, DeptID: c.DeptID,
				TeamID: c.TeamID, ActorID: c.CreatedBy, AgentID: c.OwnerID, Attrs: map[string]string{"kind": c.Kind},
				OccurredAt: s.now()})
		})
	}
	if s.d.Activities != nil {
		s.d.Activities.OnEnded(func(ctx context.Context, e activity.Ended) error {
			at := e.EndedAt
			if at.IsZero() {
				at = s.now()
			}
			for _, cid := range e.CustomerIDs {
				if cid == 0 {
					continue
				}
				subject := "activity:" + itoa(e.ActivityID) + ":" + itoa(cid)
				if err := s.inbox(ctx, inboxRow{EventKey: EventActivityEnded + "|" + subject, Event: EventActivityEnded,
					SubjectKey: subject, SourceType: SourceActivity, SourceID: e.ActivityID, CustomerID: cid,
					DeptID: e.DeptID, AgentID: e.OrganiserID, Attrs: map[string]string{"type": e.Type},
					OccurredAt: at}); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// Emit records trigger tr in ctx's transaction (producers above revisit: field visits,
// calls, deals). The inbox row is keyed by event and source (and customer), so emitting
// the same trigger twice records it once.
func (s *Service) Emit(ctx context.Context, tr Trigger) error {
	f := apperr.Fields{}
	if !slices.Contains(Events, tr.Event) {
		f.Add("event", "field.invalid_choice")
	}
	if !slices.Contains(SourceTypes, tr.SourceType) {
		f.Add("source_type", "field.invalid_choice")
	}
	if tr.SourceID <= 0 {
		f.Add("source_id", "field.invalid")
	}
	if err := f.Err(); err != nil {
		return fmt.Errorf("revisit: emit: %w", err)
	}
	if tr.CustomerID == 0 {
		return nil
	}
	at := tr.At
	if at.IsZero() {
		at = s.now()
	}
	subject := tr.SourceType + ":" + itoa(tr.SourceID)
	if tr.SourceType == SourceActivity || tr.SourceType == SourcePlan {
		subject += ":" + itoa(tr.CustomerID)
	}
	agent := tr.ActorID
	if v, err := strconv.ParseInt(tr.Attrs["agent_id"], 10, 64); err == nil && v > 0 {
		agent = v
	}
	return s.inbox(ctx, inboxRow{EventKey: tr.Event + "|" + subject, Event: tr.Event, SubjectKey: subject,
		SourceType: tr.SourceType, SourceID: tr.SourceID, CustomerID: tr.CustomerID, DeptID: tr.DeptID, TeamID: tr.TeamID,
		ActorID: tr.ActorID, AgentID: agent, Level: tr.Attrs["level"], Attrs: tr.Attrs, OccurredAt: at})
}

// inbox writes r in ctx's transaction and makes sure an engine job follows.
func (s *Service) inbox(ctx context.Context, r inboxRow) error {
	return s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		now := s.now()
		if err := s.store.insertEvent(ctx, &r, now); err != nil {
			return err
		}
		return s.kick(ctx, now)
	})
}

// kick enqueues the engine job of the current two-second slot (once per slot).
func (s *Service) kick(ctx context.Context, now time.Time) error {
	if s.d.Jobs == nil {
		return nil
	}
	slot := now.Truncate(engineSlot).Add(engineSlot)
	_, _, err := s.d.Jobs.Enqueue(ctx, JobEngine, nil, jobs.UniqueKey(JobEngine+":slot:"+itoa(slot.UnixMilli())),
		jobs.RunAt(slot))
	return err
}

// EngineResult counts what a pass did.
type EngineResult struct {
	Events    int `json:"events"`
	Decisions int `json:"decisions"`
	Chosen    int `json:"chosen"`
	Tasks     int `json:"tasks"`
}

// RunEngine processes every pending inbox row, batch by batch, and returns the counts.
func (s *Service) RunEngine(ctx context.Context) (EngineResult, error) {
	s.engineMu.Lock()
	defer s.engineMu.Unlock()
	ctx = authz.WithActor(ctx, authz.System(engineActor))
	var total EngineResult
	pass := newEnginePass(s)
	for {
		res, n, err := pass.batch(ctx)
		if err != nil {
			return total, err
		}
		total.Events += res.Events
		total.Decisions += res.Decisions
		total.Chosen += res.Chosen
		total.Tasks += res.Tasks
		if n < engineBatch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// enginePass keeps what one pass has looked up: rules, settings, the calendar, the
// customers' profiles and the staff resolved so far.
type enginePass struct {
	s        *Service
	sampler  *sampler
	set      *compiled
	cal      *calendar.Calendar
	rules    []Rule
	profiles map[int64]profile
	staff    map[int64]org.Staff
	heads    map[int64]int64
	director int64
	dirDone  bool
	teams    map[int64][]int64
	attrs    map[string]map[string]string // inbox attrs by their text
	now      time.Time
}

func newEnginePass(s *Service) *enginePass {
	return &enginePass{s: s, profiles: map[int64]profile{}, staff: map[int64]org.Staff{}, heads: map[int64]int64{},
		teams: map[int64][]int64{}, attrs: map[string]map[string]string{}}
}

func (p *enginePass) prepare(ctx context.Context) error {
	if p.sampler == nil {
		key, err := p.s.Secret(ctx)
		if err != nil {
			return err
		}
		p.sampler = newSampler(key)
	}
	var err error
	if p.set, err = p.s.settings(ctx); err != nil {
		return err
	}
	if p.cal == nil {
		if p.cal, err = p.s.calendar(ctx); err != nil {
			return err
		}
	}
	all, err := p.s.allRules(ctx)
	if err != nil {
		return err
	}
	p.rules = p.rules[:0]
	for _, r := range all {
		if r.Active {
			p.rules = append(p.rules, r)
		}
	}
	p.now = p.s.now()
	return nil
}

// batch processes up to engineBatch pending rows in one transaction; n is how many
// rows it took.
func (p *enginePass) batch(ctx context.Context) (EngineResult, int, error) {
	var res EngineResult
	n := 0
	var created []Task
	err := p.s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		res, created = EngineResult{}, nil
		if err := p.s.store.lockInbox(ctx); err != nil { // first: before this transaction reads anything
			return err
		}
		if err := p.prepare(ctx); err != nil {
			return err
		}
		after, err := p.s.store.cursor(ctx)
		if err != nil {
			return err
		}
		rows, err := p.s.store.pendingEvents(ctx, after, engineBatch, p.attrs)
		if err != nil {
			return err
		}
		n = len(rows)
		if n == 0 {
			return nil
		}
		res.Events = n
		firstID, lastID := rows[0].ID, rows[n-1].ID
		var need []int64
		for i := range rows {
			if _, ok := p.profiles[rows[i].CustomerID]; !ok && rows[i].CustomerID != 0 {
				need = append(need, rows[i].CustomerID)
			}
		}
		if len(need) > 0 {
			slices.Sort(need)
			need = slices.Compact(need)
			got, err := p.s.store.profiles(ctx, need)
			if err != nil {
				return err
			}
			for _, id := range need {
				p.profiles[id] = got[id] // a missing file caches as the zero profile
			}
		}
		// (rule, subject) pairs to decide, deduplicated within the batch.
		type pair struct {
			rule *Rule
			row  *inboxRow
		}
		pairs := make([]pair, 0, n)
		seen := make(map[ruleKey]struct{}, n)
		for i := range rows {
			r := &rows[i]
			pr := p.profiles[r.CustomerID]
			for j := range p.rules {
				rule := &p.rules[j]
				if !rule.Takes(r.Event) || !matches(rule, r, &pr) {
					continue
				}
				k := ruleKey{rule.Code, r.SubjectKey}
				if _, ok := seen[k]; ok {
					continue
				}
				seen[k] = struct{}{}
				pairs = append(pairs, pair{rule, r})
			}
		}
		// In key order: the decisions' unique index then takes them in one sweep
		// instead of at random places all over it (subject keys do not sort by time).
		slices.SortFunc(pairs, func(a, b pair) int {
			if c := strings.Compare(a.rule.Code, b.rule.Code); c != 0 {
				return c
			}
			return strings.Compare(a.row.SubjectKey, b.row.SubjectKey)
		})
		// A pair decided before (a rerun, a request closed after it was resolved) is
		// decided again here but not stored: the decisions' unique key drops it, and its
		// task with it.
		decisions := make([]Decision, 0, len(pairs))
		var tasks []Task
		var taskOf []int // index into decisions
		for _, pp := range pairs {
			pr := p.profiles[pp.row.CustomerID]
			d := Decision{Rule: pp.rule.Code, EventKey: pp.row.SubjectKey, CustomerID: pp.row.CustomerID, RatePct: pp.rule.RatePct,
				DecidedAt: p.now}
			d.Bucket = p.sampler.bucket(pp.rule.Code, pp.row.SubjectKey)
			switch {
			case pr.ID == 0:
				d.Reason = reasonNoCustomer
			case pr.Status != "" && pr.Status != customer.StatusActive && pr.MergedInto == 0:
				d.Reason = reasonExcludedCustomer
			default:
				d.Chosen, d.Reason = decide(d.Bucket, pp.rule.RatePct, pr.Key())
			}
			decisions = append(decisions, d)
			if !d.Chosen {
				continue
			}
			t, err := p.task(ctx, pp.rule, pp.row, &pr)
			if err != nil {
				return err
			}
			tasks = append(tasks, t)
			taskOf = append(taskOf, len(decisions)-1)
		}
		dids, err := p.s.store.allocIDs(ctx, "revisit_decisions", len(decisions))
		if err != nil {
			return err
		}
		for i := range decisions {
			decisions[i].ID = dids[i]
		}
		tids, err := p.s.store.allocIDs(ctx, "revisit_tasks", len(tasks))
		if err != nil {
			return err
		}
		for i := range tasks {
			tasks[i].ID = tids[i]
			tasks[i].DecisionID = decisions[taskOf[i]].ID
			decisions[taskOf[i]].TaskID = tids[i]
		}
		stored, err := p.s.store.insertDecisions(ctx, decisions)
		if err != nil {
			return err
		}
		kept := tasks[:0]
		for i := range tasks {
			if stored[taskOf[i]] {
				kept = append(kept, tasks[i])
			}
		}
		tasks = kept
		k := 0
		for i := range decisions {
			if stored[i] {
				decisions[k] = decisions[i]
				k++
			}
		}
		decisions = decisions[:k]
		if err := p.s.store.insertTasksWithIDs(ctx, tasks); err != nil {
			return err
		}
		if err := p.s.store.setCursor(ctx, lastID, p.now); err != nil {
			return err
		}
		res.Decisions, res.Tasks = len(decisions), len(tasks)
		if err := p.s.store.addDecisionStats(ctx, decisionStats(decisions)); err != nil {
			return err
		}
		for i := range decisions {
			if decisions[i].Chosen {
				res.Chosen++
			}
		}
		created = tasks
		if len(decisions) == 0 {
			return nil
		}
		return p.s.record(ctx, "revisit.engine.batch", "revisit_events", 0, map[string]any{"events": res.Events,
			"first_event_id": firstID, "last_event_id": lastID, "decisions": res.Decisions,
			"chosen": res.Chosen, "tasks": res.Tasks})
	})
	if err != nil {
		return EngineResult{}, 0, err
	}
	p.s.publishCreated(ctx, created)
	return res, n, nil
}

// ruleKey names a decision: the rule and the subject key.
type ruleKey struct{ rule, subject string }

// chinaDay is the zone of the days of revisit_decision_stats (China has one offset
// all year).
var chinaDay = time.FixedZone("CST", 8*3600)

// decisionStats counts ds by rule and China day of the decision, in first-seen order.
func decisionStats(ds []Decision) []decisionStat {
	var out []decisionStat
	idx := map[ruleKey]int{}
	for i := range ds {
		d := &ds[i]
		k := ruleKey{d.Rule, d.DecidedAt.In(chinaDay).Format(time.DateOnly)}
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, decisionStat{Rule: k.rule, Day: k.subject})
		}
		out[j].Decided++
		if d.Chosen {
			out[j].Chosen++
		}
	}
	return out
}

// publishCreated announces new tasks (after commit); a large batch is announced by
// its first 100 tasks only (the live lists refresh on any of them).
func (s *Service) publishCreated(ctx context.Context, ts []Task) {
	if s.d.Events == nil {
		return
	}
	for i := range ts {
		if i == 100 {
			break
		}
		t := &ts[i]
		b, _ := json.Marshal(map[string]any{"task_id": t.ID, "rule": t.Rule, "customer_id": t.CustomerID,
			"assignee_id": t.AssigneeID, "scheduled_at": t.ScheduledAt.UTC()})
		s.d.Events.Publish(ctx, events.Event{Topic: TopicTaskCreated, ID: t.ID, At: t.CreatedAt, Data: b,
			Scope: events.Scope{DeptID: t.DeptID, TeamID: t.TeamID, OwnerID: t.AssigneeID, CustomerID: t.CustomerID}})
	}
}

// matches applies rule's filters to inbox row r of a customer with profile pr.
func matches(rule *Rule, r *inboxRow, pr *profile) bool {
	if only := r.Attrs["rule"]; only != "" && only != rule.Code { // a plan's row is for its own rule
		return false
	}
	f := &rule.Filters
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !in(f.Types, r.Attrs["type"]) || !in(f.Severities, r.Attrs["severity"]) || !in(f.IntentClasses, r.Attrs["intent_class"]) ||
		!in(f.Levels, r.Level) || !in(f.Tiers, pr.Tier) || !in(f.ValueClasses, pr.ValueClass) ||
		!in(f.CreditGrades, pr.CreditGrade) {
		return false
	}
	if len(f.DeptIDs) > 0 && !slices.Contains(f.DeptIDs, r.DeptID) {
		return false
	}
	if len(f.CategoryIDs) > 0 {
		c, _ := strconv.ParseInt(r.Attrs["category_id"], 10, 64)
		if !slices.Contains(f.CategoryIDs, c) {
			return false
		}
	}
	if f.KeyOnly && !pr.Key() {
		return false
	}
	if f.Cooperating && r.Attrs["cooperating"] != "1" {
		return false
	}
	return true
}

// window returns the visit window of rule for an event at at.
func window(rule *Rule, cal *calendar.Calendar, loc *time.Location, at time.Time) (time.Time, time.Time) {
	off, _ := calendar.ParseDuration(rule.Window.Start)
	length, _ := calendar.ParseDuration(rule.Window.Length)
	start := at.Add(off)
	switch rule.Window.Mode {
	case WindowWorkingDays:
		days, ok := calendar.WholeDays(length)
		if !ok {
			days = 1
		}
		return start, cal.AddWorkingDays(start, days)
	case WindowSameDay:
		lt := start.In(loc)
		return start, time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc)
	}
	return start, start.Add(length)
}

// task builds the task of a chosen event.
func (p *enginePass) task(ctx context.Context, rule *Rule, r *inboxRow, pr *profile) (Task, error) {
	ws, we := window(rule, p.cal, p.set.loc, r.OccurredAt)
	if a, b := r.Attrs["window_start"], r.Attrs["window_end"]; a != "" && b != "" { // plans give their window
		x, err1 := strconv.ParseInt(a, 10, 64)
		y, err2 := strconv.ParseInt(b, 10, 64)
		if err1 == nil && err2 == nil && y > x {
			ws, we = time.UnixMilli(x), time.UnixMilli(y)
		}
	}
	from := ws
	if p.now.After(from) {
		from = p.now
	}
	t := Task{Rule: rule.Code, CustomerID: r.CustomerID, SourceType: r.SourceType, SourceID: r.SourceID, Level: r.Level,
		WindowStart: ws, WindowEnd: we, ScheduledAt: nextSlot(p.set, p.cal, from, we, true), Method: rule.Method(),
		Status: StatusOpen, Round: 1, PlanKey: r.Attrs["plan_key"], Version: 1, CreatedAt: p.now, UpdatedAt: p.now}
	if pr.MergedInto != 0 {
		t.CustomerID = pr.MergedInto
	}
	assignee, team, err := p.assignee(ctx, rule, r, pr)
	if err != nil {
		return Task{}, err
	}
	t.AssigneeID, t.DeptID, t.TeamID = assignee, r.DeptID, r.TeamID
	if t.DeptID == 0 {
		t.DeptID, t.TeamID = pr.DeptID, pr.TeamID
	}
	if assignee != 0 {
		st, err := p.staffOf(ctx, assignee)
		if err != nil {
			return Task{}, err
		}
		if st.ID != 0 {
			t.DeptID, t.TeamID = st.DeptID, st.TeamID
		} else {
			t.AssigneeID = 0
		}
	} else if team != 0 {
		t.TeamID = team
		if st, ok := p.teamDept(ctx, team); ok {
			t.DeptID = st
		}
	}
	return t, nil
}

// assignee resolves who visits by the rule's policy for the event's level; a zero
// assignee with a team leaves the task to the team's pool.
func (p *enginePass) assignee(ctx context.Context, rule *Rule, r *inboxRow, pr *profile) (int64, int64, error) {
	first := func(ids ...int64) int64 {
		for _, id := range ids {
			if id != 0 {
				return id
			}
		}
		return 0
	}
	switch rule.Policy(r.Level) {
	case AssignSourceAgent:
		return first(r.AgentID, pr.OwnerID), 0, nil
	case AssignAccountAgent:
		return first(pr.OwnerID, r.AgentID), 0, nil
	case AssignTerritory:
		return first(pr.Responsible, pr.OwnerID, r.AgentID), 0, nil
	case AssignOrganiser:
		return first(r.AgentID, r.ActorID), 0, nil
	case AssignDeptHead:
		dept := first(r.DeptID, pr.DeptID)
		head, err := p.head(ctx, dept)
		return first(head, r.AgentID, pr.OwnerID), 0, err
	case AssignDirector:
		d, err := p.directorID(ctx)
		return first(d, r.AgentID, pr.OwnerID), 0, err
	case AssignCenter:
		team := first(rule.TeamID, p.set.CenterTeamID)
		if team == 0 {
			return 0, r.TeamID, nil
		}
		members, err := p.members(ctx, team)
		if err != nil {
			return 0, 0, err
		}
		var pool []int64
		for _, m := range members {
			if m != r.ActorID && m != r.AgentID { // never the salesperson who made the visit
				pool = append(pool, m)
			}
		}
		if len(pool) == 0 {
			return 0, team, nil
		}
		return pool[p.sampler.bucket("assign:"+rule.Code, r.SubjectKey)%len(pool)], team, nil
	}
	return pr.OwnerID, 0, nil
}

func (p *enginePass) sys(ctx context.Context) context.Context {
	return authz.WithActor(ctx, authz.System(engineActor))
}

func (p *enginePass) staffOf(ctx context.Context, id int64) (org.Staff, error) {
	if st, ok := p.staff[id]; ok {
		return st, nil
	}
	if p.s.d.Staff == nil {
		return org.Staff{ID: id}, nil
	}
	st, err := p.s.d.Staff.GetStaff(p.sys(ctx), id)
	if err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Kind != apperr.NotFound {
			return org.Staff{}, err
		}
		st = org.Staff{}
	}
	if st.Status != "" && st.Status != org.StatusActive {
		st = org.Staff{}
	}
	p.staff[id] = st
	return st, nil
}

func (p *enginePass) list(ctx context.Context, f org.StaffFilter) ([]org.Staff, error) {
	if p.s.d.Staff == nil {
		return nil, nil
	}
	f.Status, f.Limit = org.StatusActive, 100
	var out []org.Staff
	for {
		page, err := p.s.d.Staff.ListStaff(p.sys(ctx), f)
		if err != nil {
			return nil, fmt.Errorf("revisit: staff: %w", err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" || len(out) >= 1000 {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

// head is a supervisor of dept, one outside the teams first (the department head).
func (p *enginePass) head(ctx context.Context, dept int64) (int64, error) {
	if dept == 0 {
		return 0, nil
	}
	if h, ok := p.heads[dept]; ok {
		return h, nil
	}
	list, err := p.list(ctx, org.StaffFilter{DeptID: dept, Role: "supervisor"})
	if err != nil {
		return 0, err
	}
	var h, inTeam int64
	for _, st := range list {
		p.staff[st.ID] = st
		switch {
		case st.TeamID == 0 && (h == 0 || st.ID < h):
			h = st.ID
		case st.TeamID != 0 && (inTeam == 0 || st.ID < inTeam):
			inTeam = st.ID
		}
	}
	if h == 0 {
		h = inTeam
	}
	p.heads[dept] = h
	return h, nil
}

func (p *enginePass) directorID(ctx context.Context) (int64, error) {
	if p.dirDone {
		return p.director, nil
	}
	list, err := p.list(ctx, org.StaffFilter{Role: "director"})
	if err != nil {
		return 0, err
	}
	p.dirDone = true
	for _, st := range list {
		p.staff[st.ID] = st
		if p.director == 0 || st.ID < p.director {
			p.director = st.ID
		}
	}
	return p.director, nil
}

func (p *enginePass) members(ctx context.Context, team int64) ([]int64, error) {
	if m, ok := p.teams[team]; ok {
		return m, nil
	}
	list, err := p.list(ctx, org.StaffFilter{TeamID: team})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(list))
	for _, st := range list {
		p.staff[st.ID] = st
		ids = append(ids, st.ID)
	}
	slices.Sort(ids)
	p.teams[team] = ids
	return ids, nil
}

func (p *enginePass) teamDept(ctx context.Context, team int64) (int64, bool) {
	if p.s.d.Staff == nil {
		return 0, false
	}
	t, err := p.s.d.Staff.GetTeam(p.sys(ctx), team)
	if err != nil {
		return 0, false
	}
	return t.DeptID, true
}

// PendingEvents counts the inbox rows waiting for the engine.
func (s *Service) PendingEvents(ctx context.Context) (int64, error) { return s.store.pendingCount(ctx) }
