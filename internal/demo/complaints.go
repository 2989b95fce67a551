package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Demo complaints (data/complaints.json): a few hundred complaints of a property
// management and after-sales center over the last year, replayed through the request
// and complaint services with the request seeder's fake clock, interleaved with the
// demo requests in time order (tickets.go calls complaintSeeder.until before each
// request), so numbers, stage history, deadlines, timelines, audit entries and the
// search index are what real use would have left. They cover every stage, level and
// cause: anonymous and reply-only complaints closed with their written reply
// attached, rejected ones, reopened ones, level changes, proposals approved with an
// instruction by a superior who did not propose them, rectification reports and team
// tasks, warnings and fines (categories A-D) approved by the director, satisfaction
// scores and improvement actions, two groups of complaints about one issue merged into
// a master, and one public letter (drafted, approved by someone else, published) that
// answers a handful of complaints and completes their feedback step.

// complaintData is data/complaints.json.
type complaintData struct {
	Count           int                 `json:"count"`
	Days            int                 `json:"days"`
	Seed            uint64              `json:"seed"`
	SystemName      string              `json:"system_name"`
	Category        string              `json:"category"` // of complaints without one of their own
	Location        string              `json:"location"` // a building's address ({community}, {building})
	ReplyLetterName string              `json:"reply_letter_name"`
	Fill            map[string][]string `json:"fill"`
	Scenarios       []complaintScenario `json:"scenarios"`
	Anonymous       []complaintCase     `json:"anonymous"`
	ReplyOnly       []complaintCase     `json:"reply_only"`
	MergeGroups     []struct {
		Community string   `json:"community"`
		Building  string   `json:"building"`
		Title     string   `json:"title"`
		Bodies    []string `json:"bodies"`
		Cause     string   `json:"cause"`
		Resp      string   `json:"resp"`
	} `json:"merge_groups"`
	MergeReason string `json:"merge_reason"`
	Letter      struct {
		Community string   `json:"community"`
		Title     string   `json:"title"`
		Body      string   `json:"body"`
		Cases     []string `json:"cases"`
		Causes    []string `json:"causes"`
		Titles    []string `json:"titles"`
	} `json:"letter"`
	InvestigatingReplies []string          `json:"investigating_replies"`
	RejectReasons        []string          `json:"reject_reasons"`
	RejectReplies        []string          `json:"reject_replies"`
	Instructions         []string          `json:"instructions"`
	RectificationReports []string          `json:"rectification_reports"`
	TeamReports          []string          `json:"team_reports"`
	HeadReports          []string          `json:"head_reports"`
	PenaltyNotes         map[string]string `json:"penalty_notes"`
	PenaltyDecisions     []string          `json:"penalty_decisions"`
	Improvements         []string          `json:"improvements"`
	Summaries            []string          `json:"summaries"`
	LevelReasons         []string          `json:"level_reasons"`
	ReopenReasons        []string          `json:"reopen_reasons"`
	CaseSummaries        map[string]string `json:"case_summaries"` // by cause code; "merge": a merge group's master
	ReplyLetter          string            `json:"reply_letter"`
}

// complaintScenario is one kind of complaint: its root cause, whose cause it may be, the
// departments that may be responsible, what it is about, and its texts.
type complaintScenario struct {
	Cause      string                `json:"cause"` // a built-in cause code
	Kinds      []complaint.CauseKind `json:"kinds"`
	Resp       []string              `json:"resp"` // department codes
	Object     complaint.ObjectKind  `json:"object"`
	ObjectText string                `json:"object_text"`
	Category   string                `json:"category"`
	Weight     int                   `json:"weight"`
	Cases      []complaintCase       `json:"cases"`
	Findings   []string              `json:"findings"`
	Proposals  []struct {
		Body       string `json:"body"`
		CompForm   string `json:"comp_form"`
		CompAmount int64  `json:"comp_amount"` // yuan
	} `json:"proposals"`
	Results []string `json:"results"`
	Replies []string `json:"replies"`
}

type complaintCase struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

func loadComplaints() (complaintData, error) {
	var d complaintData
	b, err := dataFS.ReadFile("data/complaints.json")
	if err != nil {
		return d, fmt.Errorf("demo: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("demo: data/complaints.json: %w", err)
	}
	lists := [][]string{d.InvestigatingReplies, d.RejectReasons, d.RejectReplies, d.Instructions,
		d.RectificationReports, d.TeamReports, d.HeadReports, d.PenaltyDecisions, d.Improvements, d.Summaries,
		d.LevelReasons, d.ReopenReasons}
	if d.Count <= 0 || d.Days <= 0 || len(d.Scenarios) == 0 || len(d.Anonymous) == 0 || len(d.ReplyOnly) == 0 ||
		len(d.Letter.Cases) == 0 || len(d.Letter.Cases) != len(d.Letter.Titles) ||
		len(d.Letter.Cases) != len(d.Letter.Causes) || d.ReplyLetter == "" || d.ReplyLetterName == "" || d.Location == "" ||
		slices.ContainsFunc(lists, func(l []string) bool { return len(l) == 0 }) {
		return d, errors.New("demo: data/complaints.json: incomplete")
	}
	for i, s := range d.Scenarios {
		if s.Weight <= 0 || len(s.Cases) == 0 || len(s.Kinds) == 0 || len(s.Resp) == 0 || len(s.Findings) == 0 ||
			len(s.Proposals) == 0 || len(s.Results) == 0 || len(s.Replies) == 0 {
			return d, fmt.Errorf("demo: data/complaints.json: scenario %d incomplete", i)
		}
	}
	for i, g := range d.MergeGroups {
		if len(g.Bodies) < 2 || g.Title == "" || g.Cause == "" || g.Resp == "" {
			return d, fmt.Errorf("demo: data/complaints.json: merge group %d incomplete", i)
		}
	}
	return d, nil
}

// Demo staff who work complaints (data/org.json): the department head who assesses,
// drafts the public letter and proposes penalties, the director who approves them, and
// the staff each responsible department gives its complaints to.
var (
	demoHead         = "supervisor"
	demoDirector     = "director"
	demoQA           = "quality"
	demoRespStaff    = map[string][]string{"cs": {"agent", "agent2"}, "tech": {"tech"}, "admin": {"archivist"}}
	demoActionOwners = []string{"supervisor", "tech", "agent", "agent2"}
)

// respDept is a department complaints are given to, with the staff who take them.
type respDept struct {
	id    int64
	staff []demoAgent // actor nil: the person holds no complaint permission
}

// complaintPlan is one entry of the replay: a complaint (or a group of them: a merge
// group, the public letter) first received at `at`.
type complaintPlan struct {
	at    time.Time
	final complaint.Stage // where a single complaint ends
	// rejected: found not valid (final rejected, or closed after the rejection).
	rejected  bool
	reopen    bool // closed, reopened, worked again and closed
	anonymous bool
	replyOnly bool
	merge     int  // 1+index of the merge group (0 = none)
	letter    bool // the public letter's complaints
}

// complaintSeeder replays the demo complaints through the services of the request seeder.
type complaintSeeder struct {
	d       complaintData
	ts      *ticketSeeder
	svc     *complaint.Service
	r       *rand.Rand
	sys     *authz.Actor
	head    demoAgent
	dir     demoAgent
	qa      demoAgent // marks cases
	resp    map[string]respDept
	owners  []demoAgent // improvement action owners
	causes  map[string]int64
	plans   []complaintPlan
	next    int
	cum     []int
	total   int
	created int
	closed  []closedComplaint // case library candidates
}

// newComplaintSeeder builds the complaint service over the request seeder's request
// service (it registers itself as the hook of complaint requests there: the demo
// requests of that service carry their complaint record) and plans count complaints
// over the last data.Days days. ctx carries the system actor.
func newComplaintSeeder(ctx context.Context, d Deps, ts *ticketSeeder, count int) (*complaintSeeder, error) {
	data, err := loadComplaints()
	if err != nil {
		return nil, err
	}
	if count <= 0 {
		count = data.Count
	}
	deps := complaint.Deps{DB: ts.db, Clock: ts.clk, Tickets: ts.svc, Staff: d.Org, Customers: d.Customer}
	if d.Tickets != nil {
		deps.Audit, deps.Log = d.Tickets.Audit, d.Tickets.Log
		if d.Tickets.Calendars != nil {
			deps.Calendars = d.Tickets.Calendars
		}
	}
	svc, err := complaint.New(deps)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cs := &complaintSeeder{d: data, ts: ts, svc: svc, sys: authz.System(data.SystemName),
		r: rand.New(rand.NewPCG(data.Seed, data.Seed^0xc0391a)), resp: map[string]respDept{}, causes: map[string]int64{}}
	load := func(u string) (demoAgent, error) {
		st, err := d.Org.StaffByUsername(ctx, u)
		if err != nil {
			return demoAgent{}, fmt.Errorf("demo: staff %s: %w", u, err)
		}
		a, err := d.Org.LoadActor(ctx, st.ID)
		if err != nil {
			return demoAgent{}, fmt.Errorf("demo: staff %s: %w", u, err)
		}
		return demoAgent{id: st.ID, actor: a, deptID: st.DeptID, teamID: st.TeamID}, nil
	}
	if cs.head, err = load(demoHead); err != nil {
		return nil, err
	}
	if cs.dir, err = load(demoDirector); err != nil {
		return nil, err
	}
	if cs.qa, err = load(demoQA); err != nil {
		return nil, err
	}
	for code, names := range demoRespStaff {
		dep, err := d.Org.DepartmentByCode(ctx, code)
		if err != nil {
			return nil, fmt.Errorf("demo: department %s: %w", code, err)
		}
		rd := respDept{id: dep.ID}
		for _, u := range names {
			a, err := load(u)
			if err != nil {
				return nil, err
			}
			if !a.actor.Can(complaint.PermWrite) {
				a.actor = nil
			}
			rd.staff = append(rd.staff, a)
		}
		cs.resp[code] = rd
	}
	for _, u := range demoActionOwners {
		a, err := load(u)
		if err != nil {
			return nil, err
		}
		cs.owners = append(cs.owners, a)
	}
	causes, err := svc.ListCauses(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: complaint causes: %w", err)
	}
	for _, c := range causes {
		if c.Code != "" && c.Active {
			cs.causes[c.Code] = c.ID
		}
	}
	for _, s := range data.Scenarios {
		if cs.causes[s.Cause] == 0 {
			return nil, fmt.Errorf("demo: complaint cause %s missing", s.Cause)
		}
		cs.total += s.Weight
		cs.cum = append(cs.cum, cs.total)
	}
	cs.plan(count)
	return cs, nil
}

// plan spreads count complaints over the last Days days: a fifth of them in the last
// two weeks (every stage among them, in turn), the rest older and mostly closed; the
// merge groups, the public letter, anonymous, reply-only, rejected and reopened
// complaints among them.
func (cs *complaintSeeder) plan(count int) {
	now := cs.ts.now
	day := 24 * time.Hour
	span := time.Duration(cs.d.Days) * day
	at := func(lo, hi time.Duration) time.Time {
		for {
			t := now.Add(-lo - time.Duration(cs.r.Int64N(int64(hi-lo))))
			lt := t.In(chinaZone)
			h := lt.Hour()
			keep := 100
			switch {
			case h < 7 || h >= 22:
				keep = 6
			case h < 9 || h >= 19:
				keep = 40
			}
			if wd := lt.Weekday(); wd == time.Saturday || wd == time.Sunday {
				keep = keep * 7 / 10
			}
			if cs.r.IntN(100) < keep {
				return t
			}
		}
	}
	// The groups: their members are received over a few days from these instants.
	for i := range cs.d.MergeGroups {
		frac := []float64{0.35, 0.12, 0.6}[i%3]
		t := now.Add(-time.Duration(frac * float64(span)))
		cs.plans = append(cs.plans, complaintPlan{at: t, merge: i + 1, final: complaint.StageClosed})
		count -= len(cs.d.MergeGroups[i].Bodies)
	}
	cs.plans = append(cs.plans, complaintPlan{at: now.Add(-time.Duration(0.2 * float64(span))), letter: true})
	count -= len(cs.d.Letter.Cases)
	young := max(count/5, len(complaint.Stages)+1)
	youngStages := []complaint.Stage{complaint.StageReceived, complaint.StageAssessing, complaint.StageInvestigating,
		complaint.StageRejected, complaint.StageProposing, complaint.StageExecuting, complaint.StageFeedback,
		complaint.StageEvaluating, complaint.StageClosed}
	var singles []complaintPlan
	for i := 0; i < count; i++ {
		var p complaintPlan
		switch {
		case i < young:
			p.at = at(10*time.Minute, 14*day)
		case i < young+count/4:
			p.at = at(14*day, 60*day)
		default:
			p.at = at(60*day, span-day)
		}
		singles = append(singles, p)
	}
	sort.Slice(singles, func(i, j int) bool { return singles[i].at.After(singles[j].at) })
	for i := range singles {
		p := &singles[i]
		age := now.Sub(p.at)
		pr := cs.r.IntN(100)
		switch {
		case i < young:
			p.final = youngStages[i%len(youngStages)]
		case age <= 60*day:
			switch {
			case pr < 55:
				p.final = complaint.StageClosed
			case pr < 63:
				p.final, p.rejected = complaint.StageClosed, true
			case pr < 73:
				p.final = complaint.StageEvaluating
			case pr < 79:
				p.final = complaint.StageFeedback
			case pr < 91:
				p.final = complaint.StageExecuting
			case pr < 96:
				p.final = complaint.StageProposing
			default:
				p.final = complaint.StageInvestigating
			}
		default:
			switch {
			case pr < 84:
				p.final = complaint.StageClosed
			case pr < 94:
				p.final, p.rejected = complaint.StageClosed, true
			case pr < 97:
				p.final = complaint.StageEvaluating
			default:
				p.final = complaint.StageExecuting
			}
		}
		if p.final == complaint.StageRejected {
			p.rejected = true
		}
		if p.final == complaint.StageClosed && !p.rejected && age > 20*day && cs.r.IntN(100) < 3 {
			p.reopen = true
		}
		switch k := cs.r.IntN(100); {
		case k < 6:
			p.anonymous = true
		case k < 11:
			p.replyOnly = true
		}
	}
	// At least one closed anonymous, one closed reply-only and one reopened complaint,
	// whatever the count (the oldest ones).
	anon, reply := false, false
	reopen := slices.ContainsFunc(singles, func(p complaintPlan) bool { return p.reopen })
	for i := len(singles) - 1; i >= 0; i-- {
		p := &singles[i]
		if p.final != complaint.StageClosed || p.reopen || p.rejected {
			continue
		}
		switch {
		case !anon:
			p.anonymous, p.replyOnly, anon = true, false, true
		case !reply && !p.anonymous:
			p.replyOnly, reply = true, true
		case !reopen && !p.anonymous && !p.replyOnly:
			p.reopen, reopen = true, true
		}
	}
	cs.plans = append(cs.plans, singles...)
	sort.SliceStable(cs.plans, func(i, j int) bool { return cs.plans[i].at.Before(cs.plans[j].at) })
}

// complaintBatch is how many complaints one seeding transaction replays (outside the
// request seeder's own transactions).
const complaintBatch = 25

// until replays the planned complaints received before t. Inside a transaction it runs
// in it; outside it opens one per batch. A nil seeder does nothing.
func (cs *complaintSeeder) until(ctx context.Context, t time.Time) error {
	if cs == nil {
		return nil
	}
	for cs.next < len(cs.plans) && cs.plans[cs.next].at.Before(t) {
		err := cs.ts.db.WithTx(ctx, func(ctx context.Context) error {
			for n := 0; n < complaintBatch && cs.next < len(cs.plans) && cs.plans[cs.next].at.Before(t); n++ {
				p := cs.plans[cs.next]
				cs.next++
				if err := cs.replay(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (cs *complaintSeeder) replay(ctx context.Context, p complaintPlan) error {
	switch {
	case p.merge > 0:
		return cs.mergeGroup(ctx, p)
	case p.letter:
		return cs.letter(ctx, p)
	}
	return cs.single(ctx, p)
}

// story is one complaint being replayed: its texts, its people and its clock.
type story struct {
	sc       *complaintScenario
	fill     map[string]string
	title    string
	body     string
	location string
	cause    string
	kind     complaint.CauseKind
	respCode string
	resp     demoAgent // the responsible person
	intake   demoAgent // the agent who took it (and moves the working stages)
	step     *cstep
	c        complaint.Complaint
	t        ticket.Ticket
	cust     *customer.Customer
	plan     complaintPlan
	master   bool // the master of a merge group
}

// closedComplaint is a closed complaint the case library may take.
type closedComplaint struct {
	id     int64
	cause  string
	master bool
}

// cstep moves a complaint's own clock forward (the request seeder's fake clock).
type cstep struct {
	cs    *complaintSeeder
	at    time.Time
	scale float64
	limit time.Time
}

func (c *cstep) advance(d time.Duration) {
	next := c.at.Add(time.Duration(float64(d) * c.scale))
	if next.After(c.limit) {
		next = c.limit
	}
	if !next.After(c.at) {
		next = c.at.Add(time.Second)
	}
	c.at = next
	c.cs.ts.clk.Set(next)
}

// until moves to a random instant before due (when there is room), else a little on;
// late moves past due instead.
func (c *cstep) until(due time.Time, late bool) {
	room := due.Sub(c.at)
	switch {
	case due.IsZero() || room <= 10*time.Minute:
		c.advance(c.cs.minutes(10, 90))
	case late:
		c.advance(room + c.cs.minutes(30, 600))
	default:
		// Scaled down for young complaints: still before due.
		c.advance(time.Duration(float64(room) * (0.2 + 0.7*c.cs.r.Float64())))
	}
}

func (cs *complaintSeeder) minutes(lo, hi int) time.Duration {
	return time.Duration(lo+cs.r.IntN(hi-lo+1)) * time.Minute
}

func (cs *complaintSeeder) hours(lo, hi int) time.Duration { return cs.minutes(lo*60, hi*60) }

func (cs *complaintSeeder) pick(list []string) string {
	return list[cs.r.IntN(len(list))]
}

// fill replaces every {key} of s with a value of the fill list key, the same value for
// the same key within one complaint (memo).
func (cs *complaintSeeder) fill(s string, memo map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		j := strings.IndexByte(s[max(i, 0):], '}')
		if i < 0 || j < 0 {
			b.WriteString(s)
			return b.String()
		}
		key := s[i+1 : i+j]
		b.WriteString(s[:i])
		if v, ok := memo[key]; ok {
			b.WriteString(v)
		} else if vals := cs.d.Fill[key]; len(vals) > 0 {
			v := vals[cs.r.IntN(len(vals))]
			memo[key] = v
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}

// newStory starts a complaint received at `at` whose age decides how fast it moves.
func (cs *complaintSeeder) newStory(p complaintPlan, sc *complaintScenario) *story {
	now := cs.ts.now
	st := &story{sc: sc, plan: p, fill: map[string]string{}, cause: sc.Cause}
	st.step = &cstep{cs: cs, at: p.at, scale: 1, limit: now.Add(-time.Minute)}
	if age := now.Sub(p.at); age < 14*24*time.Hour {
		st.step.scale = max(0.01, float64(age)/float64(16*24*time.Hour))
	}
	st.kind = sc.Kinds[cs.r.IntN(len(sc.Kinds))]
	st.respCode = sc.Resp[cs.r.IntN(len(sc.Resp))]
	rd := cs.resp[st.respCode]
	st.resp = rd.staff[cs.r.IntN(len(rd.staff))]
	if st.kind == complaint.CauseTeam && st.resp.teamID == 0 {
		st.kind = complaint.CauseOther
	}
	st.intake = cs.ts.cs[cs.r.IntN(len(cs.ts.cs))]
	return st
}

// scenario draws a scenario by weight.
func (cs *complaintSeeder) scenario() *complaintScenario {
	n := cs.r.IntN(cs.total)
	i, _ := slices.BinarySearch(cs.cum, n+1)
	return &cs.d.Scenarios[i]
}

func (cs *complaintSeeder) scenarioOf(cause string) *complaintScenario {
	for i := range cs.d.Scenarios {
		if cs.d.Scenarios[i].Cause == cause {
			return &cs.d.Scenarios[i]
		}
	}
	return &cs.d.Scenarios[0]
}

// single replays one complaint to its planned end.
func (cs *complaintSeeder) single(ctx context.Context, p complaintPlan) error {
	sc := cs.scenario()
	st := cs.newStory(p, sc)
	var k complaintCase
	switch {
	case p.anonymous:
		k = cs.d.Anonymous[cs.r.IntN(len(cs.d.Anonymous))]
	case p.replyOnly:
		k = cs.d.ReplyOnly[cs.r.IntN(len(cs.d.ReplyOnly))]
	default:
		k = sc.Cases[cs.r.IntN(len(sc.Cases))]
	}
	st.title, st.body = cs.fill(k.Title, st.fill), cs.fill(k.Body, st.fill)
	switch {
	case st.fill["building"] != "":
		st.location = cs.fill(cs.d.Location, st.fill)
	case st.fill["community"] != "":
		st.location = st.fill["community"]
	}
	if err := cs.receive(ctx, st); err != nil {
		return err
	}
	return cs.work(ctx, st, p.final)
}

// receive records the complaint: a request of type complaint with its "complaint"
// member, taken by the intake agent (phone, walk-in) or arriving by another channel.
func (cs *complaintSeeder) receive(ctx context.Context, st *story) error {
	ts := cs.ts
	ts.clk.Set(st.step.at)
	in := ticket.Input{Type: ticket.TypeComplaint, Title: st.title, Body: st.body,
		DeptID: st.intake.deptID, TeamID: st.intake.teamID, CategoryID: ts.cats[st.sc.Category]}
	if in.CategoryID == 0 {
		in.CategoryID = ts.cats[cs.d.Category]
	}
	w := cs.r.IntN(100)
	for _, cw := range channelWeights {
		if w < cw.w {
			in.Channel = cw.c
			break
		}
		w -= cw.w
	}
	switch s := cs.r.IntN(100); {
	case s < 55:
		in.Severity = ticket.SeverityGeneral
	case s < 85:
		in.Severity = ticket.SeverityModerate
	default:
		in.Severity = ticket.SeverityMajor
	}
	det := complaint.Details{Anonymous: st.plan.anonymous, ReplyOnly: st.plan.replyOnly, Location: st.location,
		ObjectKind: st.sc.Object, ObjectText: st.sc.ObjectText}
	switch st.sc.Object {
	case complaint.ObjectStaff:
		det.ObjectStaffID = st.resp.id
		det.ObjectDeptID = cs.resp[st.respCode].id
	case complaint.ObjectDepartment:
		det.ObjectDeptID = cs.resp[st.respCode].id
	}
	if st.plan.replyOnly {
		in.Channel = ticket.ChannelEmail
	}
	if st.plan.anonymous {
		if in.Channel == ticket.ChannelPortal || in.Channel == ticket.ChannelEmail {
			in.Channel = ticket.ChannelPhone
		}
	} else if len(ts.custs) > 0 && (!st.plan.replyOnly || cs.r.IntN(2) == 0) {
		st.cust = &ts.custs[cs.r.IntN(len(ts.custs))]
		in.CustomerID = st.cust.ID
	}
	if !st.plan.anonymous && cs.r.IntN(100) < 4 && in.Severity != ticket.SeverityMajor {
		det.Level, det.LevelReason = complaint.LevelMajor, cs.pick(cs.d.LevelReasons)
	}
	raw, err := json.Marshal(det)
	if err != nil {
		return fmt.Errorf("demo: complaint details: %w", err)
	}
	in.Complaint = raw
	creator := as(ctx, cs.sys)
	switch in.Channel {
	case ticket.ChannelPhone, ticket.ChannelWalkIn:
		creator = as(ctx, authz.System(st.intake.actor.DisplayName))
	default:
		if name := ts.d.ChannelNames[string(in.Channel)]; name != "" {
			creator = as(ctx, authz.System(name))
		}
	}
	t, err := ts.svc.CreateTicket(creator, in)
	if err != nil {
		return fmt.Errorf("demo: complaint %q: %w", in.Title, err)
	}
	if t.AssigneeID == 0 {
		st.step.advance(cs.minutes(2, 20))
		if t, err = ts.assign(ctx, t, st.intake); err != nil {
			return wrap(t, err)
		}
	}
	st.t = t
	if st.c, err = cs.svc.ByTicket(as(ctx, cs.sys), t.ID); err != nil {
		return fmt.Errorf("demo: complaint of %s: %w", t.Number, err)
	}
	cs.created++
	return nil
}

// move moves the complaint as actor a.
func (cs *complaintSeeder) move(ctx context.Context, st *story, a *authz.Actor, in complaint.MoveInput) error {
	c, err := cs.svc.Transition(as(ctx, a), st.c.ID, in)
	if err != nil {
		return fmt.Errorf("demo: complaint %s to %s: %w", st.c.Number, in.Stage, err)
	}
	st.c = c
	return nil
}

// worker is who carries the complaint on the responsible side: the responsible person
// when they hold complaint:write, else the department head.
func (cs *complaintSeeder) worker(st *story) *authz.Actor {
	if st.resp.actor != nil {
		return st.resp.actor
	}
	return cs.head.actor
}

// approver is a superior of the responsible department who did not propose: the head
// of the department for its own complaints (now and then the director), the director
// for the others and whenever penalties wait for a decision (the head proposed them).
func (cs *complaintSeeder) approver(st *story, proposer *authz.Actor, penalties bool) demoAgent {
	if st.respCode == "cs" && !penalties && proposer.ID != cs.head.id && cs.r.IntN(100) < 70 {
		return cs.head
	}
	return cs.dir
}

// work carries a complaint received or investigated through the stages up to final
// (and, for a planned reopening, closes it, reopens it and closes it again).
func (cs *complaintSeeder) work(ctx context.Context, st *story, final complaint.Stage) error {
	step := st.step
	in := complaint.MoveInput{Stage: complaint.StageInvestigating, RespDeptID: cs.resp[st.respCode].id,
		RespTeamID: st.resp.teamID, RespStaffID: st.resp.id}
	if st.c.Stage != complaint.StageInvestigating {
		if done, err := cs.assess(ctx, st, final, in); done || err != nil {
			return err
		}
	}
	if err := cs.resolve(ctx, st, true); err != nil {
		return err
	}
	if final == complaint.StageProposing {
		return nil
	}
	if err := cs.execute(ctx, st); err != nil {
		return err
	}
	if final == complaint.StageExecuting {
		return nil
	}
	if err := cs.feedback(ctx, st); err != nil {
		return err
	}
	if final == complaint.StageFeedback {
		return nil
	}
	if err := cs.evaluate(ctx, st); err != nil {
		return err
	}
	if final == complaint.StageEvaluating {
		return nil
	}
	if err := cs.close(ctx, st, cs.pick(cs.d.Summaries)); err != nil {
		return err
	}
	if !st.plan.reopen {
		return nil
	}
	// The customer was not satisfied after all: reopened, investigated again and closed.
	step.advance(cs.hours(24, 240))
	if err := cs.move(ctx, st, cs.head.actor, complaint.MoveInput{Stage: complaint.StageAssessing,
		Reason: cs.pick(cs.d.ReopenReasons)}); err != nil {
		return err
	}
	step.advance(cs.hours(1, 8))
	in.Reply = cs.pick(cs.d.InvestigatingReplies)
	if err := cs.move(ctx, st, cs.head.actor, in); err != nil {
		return err
	}
	if err := cs.resolve(ctx, st, false); err != nil {
		return err
	}
	for _, f := range []func(context.Context, *story) error{cs.execute, cs.feedback, cs.evaluate} {
		if err := f(ctx, st); err != nil {
			return err
		}
	}
	return cs.close(ctx, st, cs.pick(cs.d.Summaries))
}

// assess takes a received complaint to assessing and then, unless final stops it
// earlier, rejects it (closing it when final says so) or has it investigated (in). done
// reports that nothing is left to do.
func (cs *complaintSeeder) assess(ctx context.Context, st *story, final complaint.Stage, in complaint.MoveInput) (bool, error) {
	step := st.step
	if final == complaint.StageReceived {
		return true, nil
	}
	step.advance(cs.minutes(5, 90))
	if err := cs.move(ctx, st, st.intake.actor, complaint.MoveInput{Stage: complaint.StageAssessing}); err != nil {
		return true, err
	}
	if st.c.Level == complaint.LevelGeneral && cs.r.IntN(100) < 5 {
		step.advance(cs.minutes(10, 60))
		c, err := cs.svc.ChangeLevel(as(ctx, cs.head.actor), st.c.ID, complaint.LevelInput{Level: complaint.LevelUrgent,
			Reason: cs.pick(cs.d.LevelReasons)})
		if err != nil {
			return true, fmt.Errorf("demo: complaint %s level: %w", st.c.Number, err)
		}
		st.c = c
	}
	if final == complaint.StageAssessing {
		return true, nil
	}
	// The first answer: mostly within the promise, now and then late.
	step.until(st.c.FirstDueAt, cs.r.IntN(100) < 8)
	if st.plan.rejected {
		if err := cs.move(ctx, st, cs.head.actor, complaint.MoveInput{Stage: complaint.StageRejected,
			Reason: cs.pick(cs.d.RejectReasons), Reply: cs.pick(cs.d.RejectReplies)}); err != nil {
			return true, err
		}
		if final == complaint.StageRejected {
			return true, nil
		}
		return true, cs.close(ctx, st, "")
	}
	in.Reply = cs.pick(cs.d.InvestigatingReplies)
	if err := cs.move(ctx, st, cs.head.actor, in); err != nil {
		return true, err
	}
	return final == complaint.StageInvestigating, nil
}

// resolve moves an investigated complaint to the proposal stage with the root cause,
// the findings and one to three proposals; files the rectification report a personal
// cause needs; proposes penalties (first round only: a reopened complaint is proposed
// and approved again, without new penalties); and has a superior approve one proposal
// with an instruction and decide the penalties.
func (cs *complaintSeeder) resolve(ctx context.Context, st *story, first bool) error {
	step, sc := st.step, st.sc
	step.advance(cs.hours(4, 30))
	proposer := cs.worker(st)
	in := complaint.MoveInput{Stage: complaint.StageProposing, CauseID: cs.causes[st.cause], CauseKind: st.kind,
		Findings: cs.pick(sc.Findings)}
	n := 1 + cs.r.IntN(min(3, len(sc.Proposals)))
	for _, i := range cs.r.Perm(len(sc.Proposals))[:n] {
		p := sc.Proposals[i]
		in.Proposals = append(in.Proposals, complaint.ProposalInput{Body: p.Body, CompForm: p.CompForm,
			CompAmount: p.CompAmount * 100})
	}
	if err := cs.move(ctx, st, proposer, in); err != nil {
		return err
	}
	// The rectification report of a personal cause comes before the approval.
	if st.kind == complaint.CausePersonal {
		step.advance(cs.hours(2, 20))
		if err := cs.finishTasks(ctx, st, complaint.TaskRectificationReport); err != nil {
			return err
		}
	}
	var pens []complaint.Penalty
	if first && (st.kind == complaint.CausePersonal && cs.r.IntN(100) < 80 ||
		st.kind == complaint.CauseTeam && cs.r.IntN(100) < 25) {
		step.advance(cs.minutes(20, 240))
		p, err := cs.propose(ctx, st)
		if err != nil {
			return err
		}
		pens = append(pens, p)
	}
	if st.plan.final == complaint.StageProposing && cs.r.IntN(2) == 0 {
		return nil // still waiting for the approval
	}
	step.advance(cs.hours(2, 20))
	ps, _, _, err := cs.svc.Resolution(as(ctx, cs.sys), st.c.ID)
	if err != nil {
		return fmt.Errorf("demo: complaint %s proposals: %w", st.c.Number, err)
	}
	var pid int64
	for _, p := range ps {
		if p.Status == complaint.ProposalProposed && !p.ProposedAt.Before(st.c.StageAt) {
			pid = p.ID
			break
		}
	}
	ap := complaint.ApproveInput{ProposalID: pid, Instruction: cs.pick(cs.d.Instructions)}
	for _, p := range pens {
		yes := cs.r.IntN(100) < 94
		ap.Penalties = append(ap.Penalties, complaint.PenaltyDecision{ID: p.ID, Approve: &yes,
			Note: cs.pick(cs.d.PenaltyDecisions)})
	}
	by := cs.approver(st, proposer, len(pens) > 0)
	if _, err := cs.svc.Approve(as(ctx, by.actor), st.c.ID, ap); err != nil {
		return fmt.Errorf("demo: complaint %s approval: %w", st.c.Number, err)
	}
	return nil
}

// propose proposes a penalty for the responsible person, as the department head: a
// written warning or a fine of category A-D at its default amount.
func (cs *complaintSeeder) propose(ctx context.Context, st *story) (complaint.Penalty, error) {
	in := complaint.PenaltyInput{StaffID: st.resp.id, Role: complaint.PenaltyDirect, Kind: complaint.PenaltyWarning,
		Note: cs.d.PenaltyNotes["warning"]}
	if k := cs.r.IntN(100); k >= 40 {
		cat := "A"
		switch {
		case k >= 94:
			cat = "D"
		case k >= 82:
			cat = "C"
		case k >= 64:
			cat = "B"
		}
		in.Kind, in.FineCategory, in.Note = complaint.PenaltyFine, cat, cs.d.PenaltyNotes[cat]
	}
	p, err := cs.svc.ProposePenalty(as(ctx, cs.head.actor), st.c.ID, in)
	if err != nil {
		return p, fmt.Errorf("demo: complaint %s penalty: %w", st.c.Number, err)
	}
	return p, nil
}

// finishTasks files the open tasks of the kinds given (all kinds when none is given) as
// done, each by its owner (a superior when the owner cannot act).
func (cs *complaintSeeder) finishTasks(ctx context.Context, st *story, kinds ...string) error {
	tasks, err := cs.svc.Tasks(as(ctx, cs.sys), st.c.ID)
	if err != nil {
		return fmt.Errorf("demo: complaint %s tasks: %w", st.c.Number, err)
	}
	for _, t := range tasks {
		if t.Status != complaint.TaskOpen || len(kinds) > 0 && !slices.Contains(kinds, t.Kind) {
			continue
		}
		by := cs.dir.actor
		for _, a := range append([]demoAgent{st.resp, cs.head}, cs.owners...) {
			if a.id == t.OwnerID && a.actor != nil {
				by = a.actor
			}
		}
		var report string
		switch t.Kind {
		case complaint.TaskRectificationReport:
			report = cs.pick(cs.d.RectificationReports)
		case complaint.TaskTeamRectification:
			report = cs.pick(cs.d.TeamReports)
		case complaint.TaskHeadExplanation:
			report = cs.pick(cs.d.HeadReports)
		}
		if _, err := cs.svc.FinishTask(as(ctx, by), st.c.ID, t.ID, complaint.TaskDoneInput{Report: report}); err != nil {
			return fmt.Errorf("demo: complaint %s task %s: %w", st.c.Number, t.Kind, err)
		}
	}
	return nil
}

// execute moves an approved complaint to executing (the team's tasks are done meanwhile).
func (cs *complaintSeeder) execute(ctx context.Context, st *story) error {
	st.step.advance(cs.hours(1, 12))
	if err := cs.move(ctx, st, cs.worker(st), complaint.MoveInput{Stage: complaint.StageExecuting}); err != nil {
		return err
	}
	if st.kind == complaint.CauseTeam {
		st.step.advance(cs.hours(6, 48))
		return cs.finishTasks(ctx, st, complaint.TaskTeamRectification, complaint.TaskHeadExplanation)
	}
	return nil
}

// feedback reports the result and replies to the customer.
func (cs *complaintSeeder) feedback(ctx context.Context, st *story) error {
	st.step.advance(cs.hours(8, 96))
	return cs.move(ctx, st, cs.worker(st), complaint.MoveInput{Stage: complaint.StageFeedback,
		Result: cs.pick(st.sc.Results), Reply: cs.pick(st.sc.Replies)})
}

// evaluate records the customer's satisfaction and, mostly, improvement actions.
func (cs *complaintSeeder) evaluate(ctx context.Context, st *story) error {
	st.step.advance(cs.hours(4, 72))
	sat := 5
	switch k := cs.r.IntN(100); {
	case k < 4:
		sat = 1
	case k < 12:
		sat = 2
	case k < 30:
		sat = 3
	case k < 65:
		sat = 4
	}
	in := complaint.MoveInput{Stage: complaint.StageEvaluating, Satisfaction: sat}
	if n := cs.r.IntN(3); n > 0 || sat <= 2 {
		for range max(n, 1) {
			due := st.step.at.Add(time.Duration(7+cs.r.IntN(40)) * 24 * time.Hour).In(chinaZone).Format(time.DateOnly)
			in.Actions = append(in.Actions, complaint.ActionInput{Body: cs.pick(cs.d.Improvements),
				OwnerID: cs.owners[cs.r.IntN(len(cs.owners))].id, DueOn: due})
		}
	}
	return cs.move(ctx, st, st.intake.actor, in)
}

// close closes the complaint, with its written reply attached first when it gets no
// return visit; the improvement actions of older complaints are done by then.
func (cs *complaintSeeder) close(ctx context.Context, st *story, summary string) error {
	st.step.advance(cs.hours(2, 72))
	if st.c.NeedsReplyLetter() && st.c.ReplyLetterID == 0 {
		memo := map[string]string{"title": st.title, "result": st.title}
		if len(st.sc.Results) > 0 && !st.plan.rejected {
			memo["result"] = cs.pick(st.sc.Results)
		} else if st.plan.rejected {
			memo["result"] = cs.pick(cs.d.RejectReplies)
		}
		body := cs.fill(cs.d.ReplyLetter, memo)
		att, err := cs.ts.svc.AddAttachment(as(ctx, st.intake.actor), st.c.TicketID, ticket.AttachmentInput{
			Filename: cs.d.ReplyLetterName + "-" + st.c.Number + ".txt", Data: []byte(body)})
		if err != nil {
			return fmt.Errorf("demo: complaint %s reply letter: %w", st.c.Number, err)
		}
		st.step.advance(cs.minutes(1, 10))
		if st.c, err = cs.svc.AttachReplyLetter(as(ctx, st.intake.actor), st.c.ID, att.ID); err != nil {
			return fmt.Errorf("demo: complaint %s reply letter: %w", st.c.Number, err)
		}
	}
	if err := cs.move(ctx, st, st.intake.actor, complaint.MoveInput{Stage: complaint.StageClosed,
		Summary: summary}); err != nil {
		return err
	}
	if !st.plan.rejected {
		cs.closed = append(cs.closed, closedComplaint{id: st.c.ID, cause: st.cause, master: st.master})
		if cs.ts.now.Sub(st.step.at) > 45*24*time.Hour {
			st.step.advance(cs.hours(24, 24*20))
			return cs.finishTasks(ctx, st, complaint.TaskImprovement)
		}
	}
	return nil
}

// mergeGroup replays complaints about one issue, received over a few days from
// different customers through different teams: the first one is investigated, each
// later one is merged into it at intake, and then the first one is worked to the end.
func (cs *complaintSeeder) mergeGroup(ctx context.Context, p complaintPlan) error {
	g := cs.d.MergeGroups[p.merge-1]
	sc := cs.scenarioOf(g.Cause)
	var master *story
	at := p.at
	for i, body := range g.Bodies {
		q := p
		q.at = at
		st := cs.newStory(q, sc)
		st.respCode = g.Resp
		rd := cs.resp[g.Resp]
		st.resp = rd.staff[cs.r.IntN(len(rd.staff))]
		st.title, st.body = g.Title, body
		st.location = cs.fill(cs.d.Location, map[string]string{"community": g.Community, "building": g.Building})
		if i > 0 {
			st.intake = cs.ts.cs[i%len(cs.ts.cs)]
			if !st.step.at.After(master.step.at) {
				st.step.at = master.step.at.Add(cs.minutes(20, 120))
			}
		}
		if err := cs.receive(ctx, st); err != nil {
			return err
		}
		if i == 0 {
			master, st.master = st, true
			if err := cs.work(ctx, st, complaint.StageInvestigating); err != nil {
				return err
			}
		} else {
			st.step.advance(cs.minutes(5, 40))
			if _, err := cs.svc.Merge(as(ctx, cs.head.actor), st.c.ID, complaint.MergeInput{Into: master.c.ID,
				Reason: cs.d.MergeReason}); err != nil {
				return fmt.Errorf("demo: merge %s into %s: %w", st.c.Number, master.c.Number, err)
			}
			master.step.at = st.step.at
		}
		at = at.Add(cs.hours(8, 40))
	}
	return cs.work(ctx, master, complaint.StageClosed)
}

// letter replays the complaints a public letter answers: received over two weeks, each
// investigated and carried out; then the letter is drafted by the department head,
// approved by the director, published (which completes their feedback step), and the
// complaints are evaluated and, when old enough, closed.
func (cs *complaintSeeder) letter(ctx context.Context, p complaintPlan) error {
	ld := cs.d.Letter
	var stories []*story
	var ids []int64
	at := p.at
	for i := range ld.Cases {
		q := p
		q.at, q.final = at, complaint.StageClosed
		sc := cs.scenarioOf(ld.Causes[i])
		st := cs.newStory(q, sc)
		st.kind, st.respCode = complaint.CauseOther, "admin"
		st.resp = cs.resp["admin"].staff[0]
		st.title, st.body, st.location = ld.Titles[i], ld.Cases[i], ld.Community
		if err := cs.receive(ctx, st); err != nil {
			return err
		}
		if err := cs.work(ctx, st, complaint.StageExecuting); err != nil {
			return err
		}
		stories = append(stories, st)
		ids = append(ids, st.c.ID)
		at = at.Add(cs.hours(20, 60))
	}
	step := &cstep{cs: cs, at: at, scale: 1, limit: cs.ts.now.Add(-time.Minute)}
	for _, st := range stories {
		if st.step.at.After(step.at) {
			step.at = st.step.at
		}
	}
	step.advance(cs.hours(24, 48))
	l, err := cs.svc.DraftLetter(as(ctx, cs.head.actor), complaint.LetterInput{Title: ld.Title, Body: ld.Body,
		ComplaintIDs: ids})
	if err != nil {
		return fmt.Errorf("demo: public letter: %w", err)
	}
	step.advance(cs.hours(2, 20))
	if _, err := cs.svc.ApproveLetter(as(ctx, cs.dir.actor), l.ID); err != nil {
		return fmt.Errorf("demo: public letter approval: %w", err)
	}
	step.advance(cs.hours(2, 20))
	if _, err := cs.svc.PublishLetter(as(ctx, cs.head.actor), l.ID); err != nil {
		return fmt.Errorf("demo: public letter publication: %w", err)
	}
	for _, st := range stories {
		st.step.at = step.at
		if st.c, err = cs.svc.Store().Get(ctx, st.c.ID); err != nil {
			return fmt.Errorf("demo: complaint %s: %w", st.c.Number, err)
		}
		if err := cs.evaluate(ctx, st); err != nil {
			return err
		}
		if cs.ts.now.Sub(st.step.at) > 10*24*time.Hour {
			if err := cs.close(ctx, st, cs.pick(cs.d.Summaries)); err != nil {
				return err
			}
		}
	}
	return nil
}

// done finishes the replay: the complaints still planned, then a few closed ones marked
// as cases of the case library by quality control (one per summary of the data, the
// oldest first).
func (cs *complaintSeeder) done(ctx context.Context) error {
	if cs == nil {
		return nil
	}
	if err := cs.until(ctx, cs.ts.now.Add(time.Minute)); err != nil {
		return err
	}
	at := cs.ts.now.Add(-6 * time.Hour)
	return cs.ts.db.WithTx(ctx, func(ctx context.Context) error {
		for _, key := range slices.Sorted(maps.Keys(cs.d.CaseSummaries)) {
			i := slices.IndexFunc(cs.closed, func(c closedComplaint) bool {
				return key == "merge" && c.master || key != "merge" && !c.master && c.cause == key
			})
			if i < 0 {
				continue
			}
			at = at.Add(cs.minutes(5, 40))
			cs.ts.clk.Set(at)
			if _, err := cs.svc.MarkCase(as(ctx, cs.qa.actor), cs.closed[i].id,
				complaint.CaseInput{Summary: cs.d.CaseSummaries[key]}); err != nil {
				return fmt.Errorf("demo: complaint case: %w", err)
			}
			cs.closed = slices.Delete(cs.closed, i, i+1)
		}
		return nil
	})
}
