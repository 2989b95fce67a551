package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/kb"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Demo service requests (data/tickets.json): a category tree (property repairs,
// after-sales, inquiries, complaints, suggestions), request scenarios with realistic
// titles, bodies, replies, internal notes and resolutions, canned replies and FAQ
// articles. seedTickets replays the life of every request through the request service
// — created, assigned, acknowledged, answered, waiting on the customer or another
// department, resolved (some after their SLA target), confirmed or closed, reopened,
// cancelled — with a fake clock set to each step's instant over the last 90 days, so
// numbers, SLA due times, the timeline, the audit trail and the search index are what
// the real use would have left.

// ticketData is data/tickets.json.
type ticketData struct {
	Count        int               `json:"count"`
	Days         int               `json:"days"`
	Seed         uint64            `json:"seed"`
	SystemName   string            `json:"system_name"`
	ChannelNames map[string]string `json:"channel_names"`
	Categories   []struct {
		Name     string `json:"name"`
		Skill    string `json:"skill"`
		Children []struct {
			Name  string `json:"name"`
			Skill string `json:"skill"`
		} `json:"children"`
	} `json:"categories"`
	Fill        map[string][]string `json:"fill"`
	Scenarios   []ticketScenario    `json:"scenarios"`
	AskCustomer []string            `json:"ask_customer"`
	CustReplies []string            `json:"customer_replies"`
	DeptNotes   []string            `json:"dept_notes"`
	DeptReplies []string            `json:"waiting_dept_replies"`
	Cancel      []string            `json:"cancel_reasons"`
	Reopen      []string            `json:"reopen_reasons"`
	Close       []string            `json:"close_reasons"`
	Rework      []string            `json:"rework_replies"`
	Canned      []struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	} `json:"canned"`
	KBCategories []string `json:"kb_categories"`
	KB           []struct {
		Category string   `json:"category"`
		Title    string   `json:"title"`
		Body     string   `json:"body"`
		Tags     []string `json:"tags"`
	} `json:"kb"`
}

type ticketScenario struct {
	Type     ticket.Type  `json:"type"`
	SubKind  string       `json:"sub_kind"`
	Category string       `json:"category"`
	Weight   int          `json:"weight"`
	Faults   []int        `json:"faults"`
	Cases    []ticketCase `json:"cases"`
	Replies  []string     `json:"replies"` // first replies for cases without their own
	Notes    []string     `json:"notes"`   // internal notes for cases without their own
}

// ticketCase is one request story: what the customer writes, the first reply and the
// internal note that fit it (optional) and its resolution.
type ticketCase struct {
	Title      string `json:"title"`
	Body       string `json:"body"`
	Reply      string `json:"reply"`
	Note       string `json:"note"`
	Resolution string `json:"resolution"`
}

func loadTickets() (ticketData, error) {
	var d ticketData
	b, err := dataFS.ReadFile("data/tickets.json")
	if err != nil {
		return d, fmt.Errorf("demo: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("demo: data/tickets.json: %w", err)
	}
	if d.Count <= 0 || d.Days <= 0 || len(d.Scenarios) == 0 || len(d.AskCustomer) == 0 || len(d.DeptNotes) == 0 ||
		len(d.Cancel) == 0 || len(d.Reopen) == 0 || len(d.Close) == 0 || len(d.CustReplies) == 0 || len(d.DeptReplies) == 0 ||
		len(d.Rework) == 0 {
		return d, errors.New("demo: data/tickets.json: incomplete")
	}
	for i, s := range d.Scenarios {
		if s.Weight <= 0 || len(s.Cases) == 0 || len(s.Replies) == 0 || (s.Type == ticket.TypeRepair && len(s.Faults) == 0) {
			return d, fmt.Errorf("demo: data/tickets.json: scenario %d incomplete", i)
		}
		for j, c := range s.Cases {
			if c.Title == "" || c.Body == "" || c.Resolution == "" {
				return d, fmt.Errorf("demo: data/tickets.json: scenario %d case %d incomplete", i, j)
			}
		}
	}
	return d, nil
}

// TicketDraft is one generated request: the create input without customer, category
// and placement, and the path of its category ("parent/child", a key of the map
// SeedCategories returns).
type TicketDraft struct {
	Input    ticket.Input
	Category string
	scenario int
	kase     int
	fill     map[string]string // the placeholder values of this request
}

// TicketGenerator draws realistic requests from data/tickets.json, deterministically
// for a seed (demo data and load tests).
type TicketGenerator struct {
	d     ticketData
	r     *rand.Rand
	cum   []int // cumulative scenario weights
	total int
}

// NewTicketGenerator returns a generator; seed 0 takes the seed of data/tickets.json.
func NewTicketGenerator(seed uint64) (*TicketGenerator, error) {
	d, err := loadTickets()
	if err != nil {
		return nil, err
	}
	if seed == 0 {
		seed = d.Seed
	}
	g := &TicketGenerator{d: d, r: rand.New(rand.NewPCG(seed, seed^0x7ac3e7))}
	for _, s := range d.Scenarios {
		g.total += s.Weight
		g.cum = append(g.cum, g.total)
	}
	return g, nil
}

// Channel weights: the phone still brings most requests.
var channelWeights = []struct {
	c ticket.Channel
	w int
}{{ticket.ChannelPhone, 38}, {ticket.ChannelChat, 15}, {ticket.ChannelPortal, 15}, {ticket.ChannelWeb, 12},
	{ticket.ChannelEmail, 8}, {ticket.ChannelSocial, 7}, {ticket.ChannelWalkIn, 5}}

func (g *TicketGenerator) pick(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[g.r.IntN(len(list))]
}

// fill replaces every {key} of s with a value of the fill list key, the same value
// for the same key within one request (memo); unknown keys stay as they are.
func (g *TicketGenerator) fill(s string, memo map[string]string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		key := s[i+1 : i+j]
		b.WriteString(s[:i])
		if v, ok := memo[key]; ok {
			b.WriteString(v)
		} else if vals, ok := g.d.Fill[key]; ok && len(vals) > 0 {
			v := g.pick(vals)
			memo[key] = v
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}

// Next returns the next request.
func (g *TicketGenerator) Next() TicketDraft {
	n := g.r.IntN(g.total)
	si, _ := slices.BinarySearch(g.cum, n+1)
	sc := &g.d.Scenarios[si]
	ci := g.r.IntN(len(sc.Cases))
	memo := map[string]string{}
	in := ticket.Input{Type: sc.Type, SubKind: sc.SubKind, Title: g.fill(sc.Cases[ci].Title, memo),
		Body: g.fill(sc.Cases[ci].Body, memo)}
	w := g.r.IntN(100)
	for _, cw := range channelWeights {
		if w < cw.w {
			in.Channel = cw.c
			break
		}
		w -= cw.w
	}
	switch f := g.r.IntN(100); {
	case f < 70:
		in.Severity = ticket.SeverityGeneral
	case f < 93:
		in.Severity = ticket.SeverityModerate
	default:
		in.Severity = ticket.SeverityMajor
	}
	if sc.Type == ticket.TypeRepair {
		in.FaultLevel = sc.Faults[g.r.IntN(len(sc.Faults))]
		if in.FaultLevel == 3 && in.Severity == ticket.SeverityGeneral {
			in.Severity = ticket.SeverityModerate
		}
	}
	if sc.Type == ticket.TypeComplaint && in.Severity == ticket.SeverityGeneral && g.r.IntN(2) == 0 {
		in.Severity = ticket.SeverityModerate
	}
	return TicketDraft{Input: in, Category: sc.Category, scenario: si, kase: ci, fill: memo}
}

// SeedCategories creates the demo category tree when the service has no category yet
// and returns every category by path ("parent" and "parent/child"). ctx must carry an
// actor with ticket:manage.
func SeedCategories(ctx context.Context, s *ticket.Service) (map[string]int64, error) {
	d, err := loadTickets()
	if err != nil {
		return nil, err
	}
	existing, err := s.ListCategories(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: categories: %w", err)
	}
	out := map[string]int64{}
	if len(existing) > 0 {
		names := map[int64]string{}
		for _, c := range existing {
			names[c.ID] = c.Name
		}
		for _, c := range existing {
			if c.ParentID == 0 {
				out[c.Name] = c.ID
			} else {
				out[names[c.ParentID]+"/"+c.Name] = c.ID
			}
		}
		return out, nil
	}
	for i, p := range d.Categories {
		parent, err := s.CreateCategory(ctx, ticket.CategoryInput{Name: p.Name, Skill: p.Skill, SortOrder: i + 1})
		if err != nil {
			return nil, fmt.Errorf("demo: category %s: %w", p.Name, err)
		}
		out[p.Name] = parent.ID
		for j, c := range p.Children {
			child, err := s.CreateCategory(ctx, ticket.CategoryInput{ParentID: parent.ID, Name: c.Name, Skill: c.Skill,
				SortOrder: j + 1})
			if err != nil {
				return nil, fmt.Errorf("demo: category %s/%s: %w", p.Name, c.Name, err)
			}
			out[p.Name+"/"+c.Name] = child.ID
		}
	}
	return out, nil
}

// demoAgent is a demo staff member who works requests.
type demoAgent struct {
	id     int64
	actor  *authz.Actor
	deptID int64
	teamID int64
}

// ticketSeeder replays the demo requests.
type ticketSeeder struct {
	d       ticketData
	g       *TicketGenerator
	r       *rand.Rand
	svc     *ticket.Service
	db      *db.DB
	clk     *clock.Fake
	now     time.Time
	sys     *authz.Actor
	cats    map[string]int64
	cs      []demoAgent // customer-service agents (the cs department's teams)
	tech    []demoAgent // technicians (repairs)
	lead    *authz.Actor
	custs   []customer.Customer
	created int
	// complaints replays the demo complaints between the requests (complaints.go); nil = none.
	complaints *complaintSeeder
}

// Agents of the demo organisation (data/org.json) who work requests, and the lead
// who assigns the customer-service department's requests.
var (
	demoCSAgents   = []string{"agent", "agent2", "supervisor"}
	demoTechAgents = []string{"tech"}
	demoLead       = "director"
)

// seedTickets adds the demo requests, canned replies and FAQ articles when the demo
// accounts exist and there is no request yet.
func seedTickets(ctx context.Context, d Deps) error {
	if d.Tickets == nil || d.Tickets.DB == nil {
		return nil
	}
	data, err := loadTickets()
	if err != nil {
		return err
	}
	now := time.Now()
	if d.Clock != nil {
		now = d.Clock.Now()
	}
	deps := *d.Tickets
	fake := clock.NewFake(now)
	deps.Clock, deps.Jobs, deps.Events, deps.Mail = fake, nil, nil, nil
	svc, err := ticket.New(deps)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	sd := &ticketSeeder{d: data, svc: svc, db: deps.DB, clk: fake, now: now, sys: authz.System(data.SystemName),
		r: rand.New(rand.NewPCG(data.Seed, data.Seed^0xd3e0))}
	sys := authz.WithActor(ctx, sd.sys)
	// Demo staff: without them this is not a demo organisation.
	load := func(names []string) ([]demoAgent, error) {
		var out []demoAgent
		for _, u := range names {
			st, err := d.Org.StaffByUsername(sys, u)
			if err != nil {
				return nil, err
			}
			a, err := d.Org.LoadActor(sys, st.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, demoAgent{id: st.ID, actor: a, deptID: st.DeptID, teamID: st.TeamID})
		}
		return out, nil
	}
	if sd.cs, err = load(demoCSAgents); err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return nil
		}
		return fmt.Errorf("demo: agents: %w", err)
	}
	if sd.tech, err = load(demoTechAgents); err != nil {
		return fmt.Errorf("demo: technicians: %w", err)
	}
	if lead, err := load([]string{demoLead}); err == nil {
		sd.lead = lead[0].actor
	}
	existing, err := svc.ListTickets(sys, ticket.Filter{}, 1, "")
	if err != nil {
		return fmt.Errorf("demo: requests: %w", err)
	}
	if len(existing.Items) > 0 {
		return nil
	}
	if d.Customer != nil {
		cur := ""
		for {
			p, err := d.Customer.ListCustomers(sys, customer.Filter{}, 500, cur)
			if err != nil {
				return fmt.Errorf("demo: customers: %w", err)
			}
			sd.custs = append(sd.custs, p.Items...)
			if p.NextCursor == "" {
				break
			}
			cur = p.NextCursor
		}
	}
	if sd.g, err = NewTicketGenerator(data.Seed); err != nil {
		return err
	}
	count := data.Count
	if d.TicketCount > 0 {
		count = d.TicketCount
	}
	fake.Set(now.Add(-time.Duration(data.Days) * 24 * time.Hour))
	if sd.cats, err = SeedCategories(sys, svc); err != nil {
		return err
	}
	if err := sd.seedCanned(sys); err != nil {
		return err
	}
	if err := seedKB(sys, d.KB, data); err != nil {
		return err
	}
	if d.Complaints {
		if sd.complaints, err = newComplaintSeeder(sys, d, sd, d.ComplaintCount); err != nil {
			return err
		}
	}
	return sd.run(ctx, count)
}

func (sd *ticketSeeder) seedCanned(ctx context.Context) error {
	have, err := sd.svc.ListCanned(ctx)
	if err != nil || len(have) > 0 {
		return err
	}
	for _, c := range sd.d.Canned {
		if _, err := sd.svc.CreateCanned(ctx, ticket.CannedInput{Title: c.Title, Body: c.Body}); err != nil {
			return fmt.Errorf("demo: canned reply %s: %w", c.Title, err)
		}
	}
	return nil
}

// seedKB adds the published FAQ articles when the knowledge base is empty.
func seedKB(ctx context.Context, k *kb.Service, data ticketData) error {
	if k == nil {
		return nil
	}
	page, err := k.ListArticles(ctx, kb.Filter{}, 1, "")
	if err != nil {
		return fmt.Errorf("demo: kb: %w", err)
	}
	if len(page.Items) > 0 {
		return nil
	}
	cats := map[string]int64{}
	for i, name := range data.KBCategories {
		c, err := k.CreateCategory(ctx, kb.CategoryInput{Name: name, SortOrder: i + 1})
		if err != nil {
			return fmt.Errorf("demo: kb category %s: %w", name, err)
		}
		cats[name] = c.ID
	}
	for _, a := range data.KB {
		in := kb.Input{Title: a.Title, Body: a.Body, CategoryID: cats[a.Category], Tags: a.Tags, Status: kb.StatusPublished}
		if _, err := k.CreateArticle(ctx, in); err != nil {
			return fmt.Errorf("demo: kb article %s: %w", a.Title, err)
		}
	}
	return nil
}

// ticketBatch is how many requests one seeding transaction replays.
const ticketBatch = 100

// run replays count requests, created at instants spread over the last days (more of
// them in office hours and on weekdays), oldest first.
func (sd *ticketSeeder) run(ctx context.Context, count int) error {
	span := time.Duration(sd.d.Days) * 24 * time.Hour
	start := sd.now.Add(-span)
	at := make([]time.Time, 0, count)
	for len(at) < count {
		t := start.Add(time.Duration(sd.r.Int64N(int64(span - 20*time.Minute))))
		lt := t.In(chinaZone)
		h := lt.Hour()
		keep := 100
		switch {
		case h < 7 || h >= 22:
			keep = 8
		case h < 9 || h >= 19:
			keep = 45
		}
		if wd := lt.Weekday(); wd == time.Saturday || wd == time.Sunday {
			keep = keep * 6 / 10
		}
		if sd.r.IntN(100) < keep {
			at = append(at, t)
		}
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	if count > 0 {
		if err := sd.complaints.until(ctx, at[0]); err != nil {
			return err
		}
	}
	for i := 0; i < count; i += ticketBatch {
		batch := at[i:min(i+ticketBatch, count)]
		err := sd.db.WithTx(ctx, func(ctx context.Context) error {
			for _, t := range batch {
				if err := sd.complaints.until(ctx, t); err != nil {
					return err
				}
				if err := sd.one(ctx, t); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return sd.complaints.done(ctx)
}

// life is the path a demo request takes.
type life struct {
	final       ticket.Status // where it ends
	viaCustomer bool          // waits on the customer once before resolving
	viaDept     bool          // waits on another department once before resolving
	reopen      bool          // reopened after closing, then resolved and closed again
	lateReply   bool          // first response after its target
	late        bool          // resolved after its target
}

// planLife picks the end state of a request created age ago: old ones are mostly
// closed, recent ones still in the queues.
func (sd *ticketSeeder) planLife(age time.Duration) life {
	p := sd.r.IntN(100)
	var l life
	day := 24 * time.Hour
	switch {
	case age > 10*day:
		switch {
		case p < 72:
			l.final = ticket.StatusClosed
		case p < 78:
			l.final, l.reopen = ticket.StatusClosed, true
		case p < 83:
			l.final = ticket.StatusResolved
		case p < 88:
			l.final = ticket.StatusCancelled
		case p < 92:
			l.final = ticket.StatusWaitingDepartment
		case p < 95:
			l.final = ticket.StatusInProgress
		case p < 98:
			l.final = ticket.StatusWaitingCustomer
		default:
			l.final = ticket.StatusReopened
		}
	case age > 2*day:
		switch {
		case p < 35:
			l.final = ticket.StatusClosed
		case p < 60:
			l.final = ticket.StatusResolved
		case p < 74:
			l.final = ticket.StatusInProgress
		case p < 84:
			l.final = ticket.StatusWaitingCustomer
		case p < 92:
			l.final = ticket.StatusWaitingDepartment
		case p < 95:
			l.final = ticket.StatusAcknowledged
		case p < 97:
			l.final = ticket.StatusReopened
		default:
			l.final = ticket.StatusCancelled
		}
	default:
		switch {
		case p < 25:
			l.final = ticket.StatusNew
		case p < 40:
			l.final = ticket.StatusAcknowledged
		case p < 70:
			l.final = ticket.StatusInProgress
		case p < 80:
			l.final = ticket.StatusWaitingCustomer
		case p < 85:
			l.final = ticket.StatusWaitingDepartment
		default:
			l.final = ticket.StatusResolved
		}
	}
	l.viaCustomer = sd.r.IntN(100) < 18
	l.viaDept = sd.r.IntN(100) < 8
	l.lateReply = sd.r.IntN(100) < 8
	l.late = sd.r.IntN(100) < 7
	return l
}

// clockStep moves a request's own clock forward.
type clockStep struct {
	sd    *ticketSeeder
	at    time.Time
	scale float64
	limit time.Time
}

// advance moves by d (scaled for young requests), never past the limit and always by
// at least a second, and sets the fake clock.
func (c *clockStep) advance(d time.Duration) {
	next := c.at.Add(time.Duration(float64(d) * c.scale))
	if next.After(c.limit) {
		next = c.limit
	}
	if !next.After(c.at) {
		next = c.at.Add(time.Second)
	}
	c.at = next
	c.sd.clk.Set(next)
}

// until moves to a random instant before due (when there is room), else a little on.
func (c *clockStep) until(due time.Time, lo time.Duration) {
	room := due.Sub(c.at) - lo
	if due.IsZero() || room <= time.Minute {
		c.advance(lo + c.sd.minutes(10, 90))
		return
	}
	c.advance(lo + time.Duration(c.sd.r.Int64N(int64(room))))
}

func (sd *ticketSeeder) minutes(lo, hi int) time.Duration {
	return time.Duration(lo+sd.r.IntN(hi-lo+1)) * time.Minute
}

// say fills text (or, when it is empty, a random entry of list) with the request's
// placeholder values.
func (sd *ticketSeeder) say(dr *TicketDraft, text string, list []string) string {
	if text == "" && len(list) > 0 {
		text = list[sd.r.IntN(len(list))]
	}
	return sd.g.fill(text, dr.fill)
}

func (sd *ticketSeeder) pick(list []string) string {
	return sd.g.fill(list[sd.r.IntN(len(list))], map[string]string{})
}

func as(ctx context.Context, a *authz.Actor) context.Context { return authz.WithActor(ctx, a) }

// one replays one request created at created.
func (sd *ticketSeeder) one(ctx context.Context, created time.Time) error {
	dr := sd.g.Next()
	for sd.complaints != nil && dr.Input.Type == ticket.TypeComplaint {
		dr = sd.g.Next() // the complaints come from complaints.go, with their record
	}
	sc := &sd.d.Scenarios[dr.scenario]
	kase := &sc.Cases[dr.kase]
	in := dr.Input
	in.CategoryID = sd.cats[dr.Category]
	var cust *customer.Customer
	if len(sd.custs) > 0 && (in.Channel != ticket.ChannelWalkIn || sd.r.IntN(2) == 0) && sd.r.IntN(100) < 94 {
		cust = &sd.custs[sd.r.IntN(len(sd.custs))]
		in.CustomerID = cust.ID
	}
	agents := sd.cs
	if in.Type == ticket.TypeRepair {
		agents = sd.tech
	}
	agent := agents[sd.r.IntN(len(agents))]
	in.DeptID, in.TeamID = agent.deptID, agent.teamID
	age := sd.now.Sub(created)
	l := sd.planLife(age)
	if cust == nil && (l.final == ticket.StatusWaitingCustomer || l.viaCustomer) {
		l.viaCustomer = false
	}
	c := &clockStep{sd: sd, at: created, scale: 1, limit: sd.now.Add(-time.Minute)}
	if age < 4*24*time.Hour {
		c.scale = max(0.02, float64(age)/float64(4*24*time.Hour))
	}
	sd.clk.Set(created)
	creator := as(ctx, sd.sys)
	switch in.Channel {
	case ticket.ChannelPhone, ticket.ChannelWalkIn:
		// Taken by an agent, replayed as the system under the agent's name: the demo
		// places requests in any team for any customer, which a staff member may do
		// only with ticket:assign and a reason, for a customer in scope or looked up.
		a := sd.cs[sd.r.IntN(len(sd.cs))].actor
		creator = as(ctx, authz.System(a.DisplayName))
	default:
		if name := sd.d.ChannelNames[string(in.Channel)]; name != "" {
			creator = as(ctx, authz.System(name))
		}
	}
	t, err := sd.svc.CreateTicket(creator, in)
	if err != nil {
		return fmt.Errorf("demo: request %q: %w", in.Title, err)
	}
	sd.created++
	if l.final == ticket.StatusNew {
		return nil
	}
	if l.final == ticket.StatusCancelled && sd.r.IntN(3) == 0 {
		c.advance(sd.minutes(10, 240))
		_, err := sd.svc.Transition(as(ctx, sd.sys), t.ID, ticket.StatusCancelled, sd.pick(sd.d.Cancel))
		return wrap(t, err)
	}
	me := as(ctx, agent.actor)
	if t.AssigneeID == 0 {
		c.advance(sd.minutes(3, 45))
		if t, err = sd.assign(ctx, t, agent); err != nil {
			return wrap(t, err)
		}
	} else if t.AssigneeID != agent.id {
		for _, a := range agents {
			if a.id == t.AssigneeID {
				me = as(ctx, a.actor)
			}
		}
	}
	step := func(to ticket.Status, reason string) error {
		var err error
		t, err = sd.svc.Transition(me, t.ID, to, reason)
		return wrap(t, err)
	}
	reply := func(body string, to ticket.Status) error {
		var err error
		t, _, err = sd.svc.Reply(me, t.ID, ticket.ReplyInput{Body: body, Status: to})
		return wrap(t, err)
	}
	note := func(body string) error {
		var err error
		t, _, err = sd.svc.Note(me, t.ID, body)
		return wrap(t, err)
	}
	c.advance(sd.minutes(2, 30))
	if err := step(ticket.StatusAcknowledged, ""); err != nil {
		return err
	}
	if l.final == ticket.StatusAcknowledged {
		return nil
	}
	if l.final == ticket.StatusCancelled {
		c.advance(sd.minutes(30, 600))
		return step(ticket.StatusCancelled, sd.pick(sd.d.Cancel))
	}
	// First response: within its target, or (lateReply) after it.
	if l.lateReply && !t.ResponseDueAt.IsZero() {
		c.advance(t.ResponseDueAt.Sub(c.at) + sd.minutes(20, 600))
	} else {
		c.until(t.ResponseDueAt, 5*time.Minute)
	}
	if l.final == ticket.StatusWaitingCustomer {
		return reply(sd.pick(sd.d.AskCustomer), ticket.StatusWaitingCustomer)
	}
	if err := reply(sd.say(&dr, kase.Reply, sc.Replies), ticket.StatusInProgress); err != nil {
		return err
	}
	if (kase.Note != "" || len(sc.Notes) > 0) && sd.r.IntN(100) < 75 {
		c.advance(sd.minutes(20, 300))
		if err := note(sd.say(&dr, kase.Note, sc.Notes)); err != nil {
			return err
		}
	}
	if l.final == ticket.StatusInProgress {
		return nil
	}
	if l.viaDept || l.final == ticket.StatusWaitingDepartment {
		c.advance(sd.minutes(10, 120))
		if err := note(sd.pick(sd.d.DeptNotes)); err != nil {
			return err
		}
		if err := reply(sd.pick(sd.d.DeptReplies), ticket.StatusWaitingDepartment); err != nil {
			return err
		}
		if l.final == ticket.StatusWaitingDepartment {
			return nil
		}
		c.advance(sd.minutes(240, 2880))
		if err := step(ticket.StatusInProgress, ""); err != nil {
			return err
		}
	}
	if l.viaCustomer {
		c.advance(sd.minutes(10, 240))
		if err := reply(sd.pick(sd.d.AskCustomer), ticket.StatusWaitingCustomer); err != nil {
			return err
		}
		c.advance(sd.minutes(60, 1800))
		t, _, err = sd.svc.Reply(as(ctx, customerActor(cust)), t.ID, ticket.ReplyInput{Body: sd.pick(sd.d.CustReplies)})
		if err != nil {
			return wrap(t, err)
		}
	}
	// Resolution: before its target, or (late) after it.
	if l.late && !t.ResolveDueAt.IsZero() {
		c.advance(t.ResolveDueAt.Sub(c.at) + sd.minutes(60, 2400))
	} else {
		c.until(t.ResolveDueAt, 20*time.Minute)
	}
	if err := reply(sd.say(&dr, kase.Resolution, nil), ticket.StatusResolved); err != nil {
		return err
	}
	if l.final == ticket.StatusResolved {
		if sd.now.Sub(c.at) < ticket.DefaultAutoCloseAfter-time.Hour {
			return nil
		}
		// Nobody confirmed: the auto-close job closed it after the quiet period (as it
		// would at once on the first start otherwise).
		c.advance(ticket.DefaultAutoCloseAfter + sd.minutes(1, 10))
		job := authz.System("job:" + ticket.JobAutoClose)
		_, err := sd.svc.Transition(as(ctx, job), t.ID, ticket.StatusClosed, ticket.ReasonAutoClose)
		return wrap(t, err)
	}
	if err := sd.close(ctx, c, &t, me, cust); err != nil {
		return err
	}
	if l.final == ticket.StatusClosed && !l.reopen {
		return nil
	}
	c.advance(sd.minutes(120, 4320))
	reopener := me
	if cust != nil && in.Channel == ticket.ChannelPortal {
		reopener = as(ctx, customerActor(cust))
	}
	if t, err = sd.svc.Transition(reopener, t.ID, ticket.StatusReopened, sd.pick(sd.d.Reopen)); err != nil {
		return wrap(t, err)
	}
	if l.final == ticket.StatusReopened {
		return nil
	}
	c.advance(sd.minutes(30, 600))
	if err := reply(sd.say(&dr, "", sd.d.Rework), ticket.StatusInProgress); err != nil {
		return err
	}
	c.advance(sd.minutes(120, 2880))
	if err := reply(sd.say(&dr, kase.Resolution, nil), ticket.StatusResolved); err != nil {
		return err
	}
	return sd.close(ctx, c, &t, me, cust)
}

// close ends a resolved request: the customer confirms it in the portal, or the agent
// closes it after a call (or when the confirmation period ran out).
func (sd *ticketSeeder) close(ctx context.Context, c *clockStep, t *ticket.Ticket, me context.Context, cust *customer.Customer) error {
	c.advance(sd.minutes(30, 2880))
	var err error
	if cust != nil && (t.Channel == ticket.ChannelPortal || sd.r.IntN(4) == 0) {
		*t, err = sd.svc.Confirm(as(ctx, customerActor(cust)), t.ID)
	} else {
		*t, err = sd.svc.Transition(me, t.ID, ticket.StatusClosed, sd.pick(sd.d.Close))
	}
	return wrap(*t, err)
}

// assign gives t to agent, as the lead of the customer-service department (the
// system for other departments), over the agent's cap when needed.
func (sd *ticketSeeder) assign(ctx context.Context, t ticket.Ticket, agent demoAgent) (ticket.Ticket, error) {
	by := sd.sys
	if sd.lead != nil && sd.lead.Reaches(ticket.PermAssign, authz.Record{DeptID: agent.deptID, TeamID: agent.teamID}) {
		by = sd.lead
	}
	id := agent.id
	out, err := sd.svc.Assign(as(ctx, by), t.ID, ticket.AssignInput{AssigneeID: &id})
	if apperr.KindOf(err) == apperr.Invalid {
		out, err = sd.svc.Assign(as(ctx, by), t.ID, ticket.AssignInput{AssigneeID: &id, Force: true})
	}
	if err != nil {
		return t, err
	}
	return out, nil
}

// customerActor acts as a demo customer in the portal.
func customerActor(c *customer.Customer) *authz.Actor {
	return &authz.Actor{Kind: authz.KindCustomer, ID: c.ID, Username: c.Name, DisplayName: c.Name}
}

func wrap(t ticket.Ticket, err error) error {
	if err != nil {
		return fmt.Errorf("demo: request %s: %w", t.Number, err)
	}
	return nil
}
