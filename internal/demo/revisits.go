package demo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/revisit"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Demo return visits (data/revisits.json): the last three months of a return-visit
// center's work, replayed day by day through the return-visit service with a fake
// clock, so that triggers, sampling decisions, tasks, records, retries, follow-up
// requests, second visits, sign-offs and audit entries are what real use would have
// left. The triggers are the demo's own history: every request resolved in the period
// (repair_done, incident_closed) and every named complaint closed in it
// (complaint_closed), emitted at the time they happened and turned into decisions and
// tasks by the rule engine each morning. The visitors then call: about 85% of the
// customers are reached (some at the second attempt, the rest end unreached after the
// retry schedule), scores are mostly 4-5 with a few of 2 or less, a few visits are made
// after their window and a few are forgotten until they expire; some customers raise an
// issue, which becomes a follow-up request, most of them resolved a few days later
// (then the second visit answers the issue) and some still open; the department head
// signs off most records, and one record is found false, flagged by the head and
// confirmed by the director.

// revisitData is data/revisits.json.
type revisitData struct {
	Seed       uint64              `json:"seed"`
	Days       int                 `json:"days"`
	SystemName string              `json:"system_name"`
	Answers    map[string][]string `json:"answers"` // good | fair | poor
	Notes      map[string][]string `json:"notes"`   // good | fair | poor | unreached
	Issues     []struct {
		Text string `json:"text"`
		Type string `json:"type"`
	} `json:"issues"`
	SignoffNotes []string `json:"signoff_notes"`
	FalseReason  string   `json:"false_reason"`
	FalseNote    string   `json:"false_note"`
}

func loadRevisits() (revisitData, error) {
	var d revisitData
	b, err := dataFS.ReadFile("data/revisits.json")
	if err != nil {
		return d, fmt.Errorf("demo: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("demo: data/revisits.json: %w", err)
	}
	for _, k := range []string{"good", "fair", "poor"} {
		if len(d.Answers[k]) == 0 || len(d.Notes[k]) == 0 {
			return d, errors.New("demo: data/revisits.json: incomplete answers or notes")
		}
	}
	if d.Days <= 0 || d.SystemName == "" || len(d.Notes["unreached"]) == 0 || len(d.Issues) == 0 ||
		len(d.SignoffNotes) == 0 || d.FalseReason == "" || d.FalseNote == "" {
		return d, errors.New("demo: data/revisits.json: incomplete")
	}
	return d, nil
}

// RevisitOptions adjust Revisits.
type RevisitOptions struct {
	// Complaints lists the closed complaints that trigger visits (read only; nil = none).
	Complaints *complaint.Service
	// Days is how far back the history goes (0 = data/revisits.json: 90).
	Days int
}

// RevisitSummary counts what Revisits stored.
type RevisitSummary struct {
	Triggers   int // events emitted
	Decisions  int
	Tasks      int
	Records    int // visits recorded (attempts included)
	Reached    int
	Issues     int // raised during visits
	Resolved   int // follow-up requests resolved (their second visit answers the issue)
	Signoffs   int
	Expired    int64
	FalseFound int
}

// Revisits adds the demo return-visit history (see above) to a database holding the
// demo organisation, customers, requests and complaints (Seed with Tickets and
// Complaints). It builds its own request service (from d.Tickets) and return-visit
// service with a fake clock and no jobs, events, mail or SMS, so nothing is sent or
// scheduled for the past. It adds nothing when return-visit tasks exist already or the
// demo director is missing.
//
// Call it after Seed:
//
//	demo.Revisits(ctx, deps, demo.RevisitOptions{Complaints: a.Complaint})
func Revisits(ctx context.Context, d Deps, o RevisitOptions) (RevisitSummary, error) {
	var sum RevisitSummary
	if d.Tickets == nil || d.Tickets.DB == nil || d.Customer == nil || d.Org == nil {
		return sum, nil
	}
	data, err := loadRevisits()
	if err != nil {
		return sum, err
	}
	if o.Days > 0 {
		data.Days = o.Days
	}
	now := time.Now()
	if d.Clock != nil {
		now = d.Clock.Now()
	}
	start := chinaDay(now.AddDate(0, 0, -data.Days))
	fake := clock.NewFake(start)
	tdeps := *d.Tickets
	tdeps.Clock, tdeps.Jobs, tdeps.Events, tdeps.Mail = fake, nil, nil, nil
	tsvc, err := ticket.New(tdeps)
	if err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	cals, _ := tdeps.Calendars.(revisit.Calendars)
	rv, err := revisit.New(revisit.Deps{DB: tdeps.DB, Audit: tdeps.Audit, Clock: fake, Log: tdeps.Log, Tickets: tsvc,
		Customers: d.Customer, Staff: d.Org, Calendars: cals})
	if err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	sys := authz.WithActor(ctx, authz.System(data.SystemName))
	if ts, _, err := rv.Tasks(sys, revisit.TaskFilter{Limit: 1}); err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	} else if len(ts) > 0 {
		return sum, nil
	}
	sd := &revisitSeeder{d: data, rv: rv, tsvc: tsvc, org: d.Org, clk: fake, now: now, sys: sys, actors: map[int64]*authz.Actor{},
		sum: &sum}
	if ok, err := sd.staff(d); err != nil || !ok {
		return sum, err
	}
	if sd.sig, err = demoSignature(); err != nil {
		return sum, err
	}
	if err := sd.collect(o.Complaints, start); err != nil {
		return sum, err
	}
	return sum, sd.replay(start)
}

// chinaDay is the start of t's day in China time.
func chinaDay(t time.Time) time.Time {
	l := t.In(chinaZone)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, chinaZone)
}

// revisitSeeder replays the return-visit work.
type revisitSeeder struct {
	d      revisitData
	rv     *revisit.Service
	tsvc   *ticket.Service
	org    *org.Service
	clk    *clock.Fake
	now    time.Time
	sys    context.Context
	head   *authz.Actor // the department head: signs off, flags false records
	dir    *authz.Actor // the director: visits major complaints, confirms false records
	admin  *authz.Actor // confirms a false record the director flagged
	actors map[int64]*authz.Actor
	sig    string
	events []revisit.Trigger
	// followUps are the follow-up requests to resolve, by when.
	followUps []plannedFollowUp
	// done are the reached records of the head's department (false-record candidates).
	done []doneRecord
	sum  *RevisitSummary
}

type plannedFollowUp struct {
	ticketID int64
	at       time.Time
}

type doneRecord struct {
	taskID, recordID int64
	record           authz.Record // the task's place
	by               int64        // who made the visit
	at               time.Time
}

func (sd *revisitSeeder) staff(d Deps) (bool, error) {
	for _, x := range []struct {
		name string
		dst  **authz.Actor
	}{{demoDirector, &sd.dir}, {demoHead, &sd.head}, {"admin", &sd.admin}} {
		st, err := d.Org.StaffByUsername(sd.sys, x.name)
		if err != nil {
			return false, nil // not the demo organisation
		}
		if *x.dst, err = d.Org.LoadActor(sd.sys, st.ID); err != nil {
			return false, fmt.Errorf("demo: %w", err)
		}
	}
	return true, nil
}

// setClock moves the fake clock to t (never back).
func (sd *revisitSeeder) setClock(t time.Time) {
	if t.After(sd.clk.Now()) {
		sd.clk.Set(t)
	}
}

// collect lists the triggers of the period: requests resolved and named complaints closed.
func (sd *revisitSeeder) collect(complaints *complaint.Service, start time.Time) error {
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(sd.now) }
	for cur := ""; ; {
		p, err := sd.tsvc.ListTickets(sd.sys, ticket.Filter{}, 200, cur)
		if err != nil {
			return fmt.Errorf("demo: requests: %w", err)
		}
		for _, t := range p.Items {
			if t.Type == ticket.TypeComplaint || t.CustomerID == 0 || !in(t.ResolvedAt) {
				continue
			}
			sd.events = append(sd.events, revisit.Trigger{Event: revisit.EventTicketResolved, SourceType: revisit.SourceTicket,
				SourceID: t.ID, CustomerID: t.CustomerID, DeptID: t.DeptID, TeamID: t.TeamID, ActorID: t.AssigneeID,
				At: t.ResolvedAt, Attrs: map[string]string{"type": string(t.Type), "severity": string(t.Severity),
					"agent_id": strconv.FormatInt(t.AssigneeID, 10)}})
		}
		if cur = p.NextCursor; cur == "" {
			break
		}
	}
	if complaints != nil {
		for cur := ""; ; {
			p, err := complaints.List(sd.sys, complaint.Filter{Stage: complaint.StageClosed}, 200, cur)
			if err != nil {
				return fmt.Errorf("demo: complaints: %w", err)
			}
			for i := range p.Items {
				c := &p.Items[i]
				if !c.Revisit() || c.CustomerID == 0 || !in(c.ClosedAt) {
					continue
				}
				dept, team := c.DeptID, c.TeamID
				if c.RespDeptID != 0 {
					dept, team = c.RespDeptID, c.RespTeamID
				}
				sd.events = append(sd.events, revisit.Trigger{Event: revisit.EventComplaintClosed,
					SourceType: revisit.SourceComplaint, SourceID: c.ID, CustomerID: c.CustomerID, DeptID: dept, TeamID: team,
					ActorID: c.RespStaffID, At: c.ClosedAt, Attrs: map[string]string{"level": string(c.Level),
						"agent_id": strconv.FormatInt(c.RespStaffID, 10)}})
			}
			if cur = p.NextCursor; cur == "" {
				break
			}
		}
	}
	slices.SortStableFunc(sd.events, func(a, b revisit.Trigger) int { return a.At.Compare(b.At) })
	return nil
}

// replay runs the period day by day: the morning's triggers through the engine, the
// day's calls, the follow-up requests resolved, the head's sign-offs, the evening's
// expiry of the tasks left undone.
func (sd *revisitSeeder) replay(start time.Time) error {
	next := 0
	falseDay := chinaDay(sd.now.AddDate(0, 0, -25))
	for day := start; day.Before(sd.now); day = day.AddDate(0, 0, 1) {
		morning := day.Add(8 * time.Hour)
		if morning.After(sd.now) {
			morning = sd.now
		}
		sd.setClock(morning)
		for next < len(sd.events) && sd.events[next].At.Before(morning) {
			if err := sd.rv.Emit(sd.sys, sd.events[next]); err != nil {
				return fmt.Errorf("demo: trigger: %w", err)
			}
			sd.sum.Triggers++
			next++
		}
		res, err := sd.rv.RunEngine(sd.sys)
		if err != nil {
			return fmt.Errorf("demo: engine: %w", err)
		}
		sd.sum.Decisions += res.Decisions
		sd.sum.Tasks += res.Tasks
		var made []doneRecord
		for pass := 0; pass < 3; pass++ {
			n, err := sd.work(day, &made)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
		if err := sd.resolveFollowUps(day); err != nil {
			return err
		}
		if err := sd.signoffs(day, made); err != nil {
			return err
		}
		if day.Equal(falseDay) {
			if err := sd.falseRecord(day); err != nil {
				return err
			}
		}
		evening := day.Add(23*time.Hour + 30*time.Minute)
		if evening.After(sd.now) {
			break
		}
		sd.setClock(evening)
		n, err := sd.rv.ExpireTasks(sd.sys)
		if err != nil {
			return fmt.Errorf("demo: expire: %w", err)
		}
		sd.sum.Expired += n
	}
	return nil
}

// revisitFate is how a task's visits go, drawn from its id.
type revisitFate struct {
	forgotten bool // never called: it expires
	late      bool // called after its window
	reachAt   int  // the attempt that reaches the customer (0 = none does)
	score     int
	issue     bool
	important bool
	r         *rand.Rand
}

func (sd *revisitSeeder) fate(t *revisit.Task) revisitFate {
	r := rand.New(rand.NewPCG(sd.d.Seed, uint64(t.ID)))
	f := revisitFate{r: r}
	x := r.Float64()
	switch {
	case t.Round >= 2: // the second visit of an issue: always made, nearly always reached
		f.reachAt = 1
		if r.Float64() < 0.1 {
			f.reachAt = 2
		}
	case x < 0.03:
		f.forgotten = true
	case x < 0.08:
		f.late = true
		f.reachAt = 1
	case x < 0.17: // not reached at any attempt: about 85% of the customers are reached
	case x < 0.29:
		f.reachAt = 2
	default:
		f.reachAt = 1
	}
	switch s := r.Float64(); {
	case s < 0.02:
		f.score = 1
	case s < 0.06:
		f.score = 2
	case s < 0.15:
		f.score = 3
	case s < 0.45:
		f.score = 4
	default:
		f.score = 5
	}
	f.issue = r.Float64() < 0.08 || (f.score <= 3 && r.Float64() < 0.4)
	f.important = f.score <= 2 || r.Float64() < 0.03
	return f
}

// openTasks lists every open task.
func (sd *revisitSeeder) openTasks() ([]revisit.Task, error) {
	var out []revisit.Task
	for cur := ""; ; {
		ts, next, err := sd.rv.Tasks(sd.sys, revisit.TaskFilter{Status: "open", Limit: 200, Cursor: cur})
		if err != nil {
			return nil, fmt.Errorf("demo: tasks: %w", err)
		}
		out = append(out, ts...)
		if cur = next; cur == "" || len(ts) == 0 {
			break
		}
	}
	return out, nil
}

// actor is who visits task t: its assignee when they may, else the director.
func (sd *revisitSeeder) actor(t *revisit.Task) context.Context {
	a := sd.dir
	if t.AssigneeID != 0 {
		x, ok := sd.actors[t.AssigneeID]
		if !ok {
			x, _ = sd.org.LoadActor(sd.sys, t.AssigneeID) // nil: not a staff member who may visit
			sd.actors[t.AssigneeID] = x
		}
		if x != nil && x.Reaches("revisit:write", t.Record()) {
			a = x
		}
	}
	return authz.WithActor(context.Background(), a)
}

// work makes the calls due on day; it returns how many it made.
func (sd *revisitSeeder) work(day time.Time, made *[]doneRecord) (int, error) {
	tasks, err := sd.openTasks()
	if err != nil {
		return 0, err
	}
	due := func(t *revisit.Task) time.Time {
		if !t.NextAttemptAt.IsZero() {
			return t.NextAttemptAt
		}
		return t.ScheduledAt
	}
	slices.SortFunc(tasks, func(a, b revisit.Task) int {
		return cmp.Or(due(&a).Compare(due(&b)), cmp.Compare(a.ID, b.ID))
	})
	dayEnd := day.Add(19 * time.Hour)
	n := 0
	for i := range tasks {
		t := &tasks[i]
		f := sd.fate(t)
		var at time.Time
		switch {
		case f.forgotten:
			continue
		case f.late && t.Attempts == 0:
			if t.WindowEnd.Before(day) || !t.WindowEnd.Before(dayEnd.Add(-time.Hour)) {
				continue // called the afternoon its window ends, just too late
			}
			at = t.WindowEnd.Add(time.Duration(10+f.r.IntN(50)) * time.Minute)
		default:
			if due(t).After(dayEnd) {
				continue
			}
			at = due(t)
		}
		at = latest(at, day.Add(9*time.Hour), sd.clk.Now()).Add(time.Duration(2+f.r.IntN(10)) * time.Minute)
		if h := at.In(chinaZone).Hour(); h >= 12 && h < 14 { // lunch: the do-not-disturb hours
			at = chinaDay(at).Add(14*time.Hour + time.Duration(f.r.IntN(20))*time.Minute)
		}
		if at.After(day.Add(20*time.Hour)) || at.After(sd.now) {
			continue
		}
		sd.setClock(at)
		rec, err := sd.visit(t, &f)
		if err != nil {
			return n, err
		}
		n++
		if rec.recordID != 0 {
			*made = append(*made, rec)
			if t.Round <= 1 && rec.by != sd.head.ID && rec.by != sd.dir.ID && rec.by != sd.admin.ID {
				sd.done = append(sd.done, rec)
			}
		}
	}
	return n, nil
}

func latest(ts ...time.Time) time.Time {
	out := ts[0]
	for _, t := range ts[1:] {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// visit records one call of task t; a reached call returns its record.
func (sd *revisitSeeder) visit(t *revisit.Task, f *revisitFate) (doneRecord, error) {
	r := f.r
	reached := f.reachAt > 0 && t.Attempts+1 >= f.reachAt
	in := revisit.RecordInput{Method: t.Method, Reached: &reached}
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	if !reached {
		in.Note = pick(sd.d.Notes["unreached"])
	} else {
		band := "good"
		switch {
		case f.score <= 2:
			band = "poor"
		case f.score == 3:
			band = "fair"
		}
		in.Satisfaction, in.Important, in.Note = f.score, f.important, pick(sd.d.Notes[band])
		rule, err := sd.rv.RuleByCode(sd.sys, t.Rule)
		if err != nil {
			return doneRecord{}, fmt.Errorf("demo: rule %s: %w", t.Rule, err)
		}
		in.Answers = map[string]string{}
		for _, q := range rule.Script {
			in.Answers[q.Q] = pick(sd.d.Answers[band])
		}
		if t.Method == revisit.MethodOnsite {
			in.Signature = sd.sig
		}
		if f.issue && t.Round <= 1 {
			is := sd.d.Issues[r.IntN(len(sd.d.Issues))]
			appt := chinaDay(sd.clk.Now()).AddDate(0, 0, 3).Add(10 * time.Hour)
			in.Issues = []revisit.IssueInput{{Text: is.Text, Type: is.Type, AppointmentAt: &appt}}
		}
	}
	actx := sd.actor(t)
	v, err := sd.rv.Record(actx, t.ID, in)
	if err != nil {
		return doneRecord{}, fmt.Errorf("demo: visit of task %d: %w", t.ID, err)
	}
	sd.sum.Records++
	if !reached {
		return doneRecord{}, nil
	}
	sd.sum.Reached++
	for _, is := range v.Issues {
		if is.RecordID != v.RecordID {
			continue
		}
		sd.sum.Issues++
		if is.TicketID != 0 && r.Float64() < 0.8 { // most follow-ups are resolved within days
			sd.followUps = append(sd.followUps, plannedFollowUp{ticketID: is.TicketID,
				at: chinaDay(sd.clk.Now()).AddDate(0, 0, 2+r.IntN(5)).Add(15 * time.Hour)})
		}
	}
	return doneRecord{taskID: t.ID, recordID: v.RecordID, record: t.Record(), by: authz.From(actx).ID, at: sd.clk.Now()}, nil
}

// resolveFollowUps resolves the follow-up requests planned for day (the request service
// then asks for the second visit).
func (sd *revisitSeeder) resolveFollowUps(day time.Time) error {
	rest := sd.followUps[:0]
	for _, fu := range sd.followUps {
		if !chinaDay(fu.at).Equal(day) || fu.at.After(sd.now) {
			rest = append(rest, fu)
			continue
		}
		sd.setClock(fu.at)
		for _, st := range []ticket.Status{ticket.StatusInProgress, ticket.StatusResolved} {
			if _, err := sd.tsvc.Transition(sd.sys, fu.ticketID, st, ""); err != nil {
				return fmt.Errorf("demo: follow-up request %d: %w", fu.ticketID, err)
			}
		}
		sd.sum.Resolved++
	}
	sd.followUps = rest
	return nil
}

// signoffs: the department head (the director for other departments) checks most of
// the day's records in the evening.
func (sd *revisitSeeder) signoffs(day time.Time, made []doneRecord) error {
	at := day.Add(18*time.Hour + 30*time.Minute)
	if at.After(sd.now) {
		return nil
	}
	sd.setClock(at)
	for _, m := range made {
		r := rand.New(rand.NewPCG(sd.d.Seed^0x5160, uint64(m.recordID)))
		if r.Float64() >= 0.7 {
			continue
		}
		t, err := sd.rv.Task(sd.sys, m.taskID)
		if err != nil {
			return fmt.Errorf("demo: sign-off: %w", err)
		}
		a := sd.dir // nobody signs off their own visit
		if sd.head.ID != m.by && sd.head.Reaches("revisit:signoff", t.Record()) {
			a = sd.head
		} else if sd.dir.ID == m.by {
			continue
		}
		note := sd.d.SignoffNotes[r.IntN(len(sd.d.SignoffNotes))]
		if _, err := sd.rv.Signoff(authz.WithActor(context.Background(), a), m.taskID,
			revisit.SignoffInput{RecordID: m.recordID, Note: note}); err != nil {
			return fmt.Errorf("demo: sign-off of task %d: %w", m.taskID, err)
		}
		sd.sum.Signoffs++
	}
	return nil
}

// falseRecord: on day a customer denies a visit of a week or more before; the head
// (the director outside the head's department) flags the record and the director (the
// administrator) confirms it.
func (sd *revisitSeeder) falseRecord(day time.Time) error {
	var best *doneRecord
	for i := range sd.done {
		if c := &sd.done[i]; c.at.Before(day.AddDate(0, 0, -7)) {
			best = c // the latest of them
		}
	}
	if best == nil {
		return nil
	}
	flagger, confirmer := sd.head, sd.dir
	if !sd.head.Reaches("revisit:verify", best.record) {
		flagger, confirmer = sd.dir, sd.admin
	}
	sd.setClock(day.Add(19 * time.Hour))
	if _, err := sd.rv.FlagFalse(authz.WithActor(context.Background(), flagger), best.taskID, revisit.FlagFalseInput{RecordID: best.recordID,
		Reason: sd.d.FalseReason}); err != nil {
		return fmt.Errorf("demo: flag task %d: %w", best.taskID, err)
	}
	sd.setClock(day.Add(19*time.Hour + 40*time.Minute))
	if _, err := sd.rv.ConfirmFalse(authz.WithActor(context.Background(), confirmer), best.taskID,
		revisit.ConfirmFalseInput{RecordID: best.recordID, Note: sd.d.FalseNote}); err != nil {
		return fmt.Errorf("demo: confirm task %d: %w", best.taskID, err)
	}
	sd.sum.FalseFound++
	return nil
}

// demoSignature is a customer's signature as a PNG data URL (a drawn stroke).
func demoSignature() (string, error) {
	img := image.NewGray(image.Rect(0, 0, 300, 100))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for x := 20; x < 280; x++ {
		y := 50 + int(25*math.Sin(float64(x)/18)*math.Cos(float64(x)/47))
		for dy := -1; dy <= 1; dy++ {
			img.SetGray(x, y+dy, color.Gray{Y: 20})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", fmt.Errorf("demo: signature: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()), nil
}
