package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/demo"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Service-request scenarios (SPEC §4.2, issue 4 "Numbers"):
//
//	create-tickets  POST /api/v1/tickets as an agent (validation, priority, SLA due times,
//	                number, timeline, audit, search index, event), closed loop or paced;
//	ticket-queue    first page of GET /api/v1/tickets?queue=team with -docs requests
//	                stored, as an agent of a team holding a tenth of them;
//	search-tickets  GET /api/v1/tickets?q=<two Chinese characters> over -docs requests.
//
// The last two load the requests with ticket.Service.BulkInsert (multi-row INSERTs of
// rows, created entries and search documents: the bench and demo bulk path), then
// measure over loopback HTTP.

// benchTeams is how many teams share the loaded requests (the measured agent's team
// holds one in benchTeams).
const benchTeams = 10

// benchOrg is the bench department: benchTeams teams with one agent each.
type benchOrg struct {
	deptID  int64
	teams   []int64
	agents  []int64
	tokens  []string // bearer tokens of the agents
	custIDs []int64
	custNm  []string
	cats    map[string]int64
}

// setupTickets creates (or, on a kept database, finds) the bench department, its teams
// and agents with their tokens, the demo category tree and o.Customers customers.
func setupTickets(ctx context.Context, s *server, o options, w io.Writer) (*benchOrg, error) {
	customers := o.Customers
	if customers <= 0 {
		customers = 300
	}
	actx, err := s.adminCtx(ctx)
	if err != nil {
		return nil, err
	}
	b := &benchOrg{}
	dep, err := s.app.Org.DepartmentByCode(actx, "bench")
	if apperr.KindOf(err) == apperr.NotFound {
		dep, err = s.app.Org.CreateDepartment(actx, org.DepartmentInput{Code: "bench", Name: "Bench"})
	}
	if err != nil {
		return nil, fmt.Errorf("bench department: %w", err)
	}
	b.deptID = dep.ID
	teams, err := s.app.Org.AllTeams(actx)
	if err != nil {
		return nil, err
	}
	have := map[string]int64{}
	for _, tm := range teams {
		if tm.DeptID == dep.ID {
			have[tm.Name] = tm.ID
		}
	}
	sys := authz.WithActor(ctx, authz.System("bench"))
	for i := range benchTeams {
		name := fmt.Sprintf("Bench team %02d", i)
		id, ok := have[name]
		if !ok {
			tm, err := s.app.Org.CreateTeam(actx, org.TeamInput{DeptID: dep.ID, Name: name})
			if err != nil {
				return nil, fmt.Errorf("bench team: %w", err)
			}
			id = tm.ID
		}
		b.teams = append(b.teams, id)
		user := fmt.Sprintf("bench-agent-%02d", i)
		st, err := s.app.Org.StaffByUsername(actx, user)
		if apperr.KindOf(err) == apperr.NotFound {
			st, err = s.app.Org.CreateStaff(actx, org.StaffInput{Username: user, DisplayName: user, DeptID: dep.ID,
				TeamID: id, Roles: []string{"agent"}})
		}
		if err != nil {
			return nil, fmt.Errorf("bench agent: %w", err)
		}
		b.agents = append(b.agents, st.ID)
		tok, _, err := s.app.Auth.CreateToken(sys, st.ID, "bench")
		if err != nil {
			return nil, fmt.Errorf("bench token: %w", err)
		}
		b.tokens = append(b.tokens, tok)
	}
	if b.cats, err = demo.SeedCategories(actx, s.app.Ticket); err != nil {
		return nil, err
	}
	// Customers: the first customers that agent 0 (who sends the creates) serves, created
	// in its team when there are fewer; a request for a customer outside an agent's
	// scope is refused as a missing customer.
	a0, err := s.app.Org.LoadActor(sys, b.agents[0])
	if err != nil {
		return nil, fmt.Errorf("bench agent: %w", err)
	}
	a0ctx := authz.WithActor(ctx, a0)
	page, err := s.app.Customer.ListCustomers(a0ctx, customer.Filter{}, customers, "")
	if err != nil {
		return nil, err
	}
	if missing := customers - len(page.Items); missing > 0 {
		g, err := demo.NewGenerator(time.Now(), o.Seed+2)
		if err != nil {
			return nil, err
		}
		err = s.db.WithTx(actx, func(ctx context.Context) error {
			for range missing {
				in := g.Next().Input
				in.OwnerID = b.agents[0]
				if _, err := s.app.Customer.CreateCustomer(ctx, in); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("bench customers: %w", err)
		}
		if page, err = s.app.Customer.ListCustomers(a0ctx, customer.Filter{}, customers, ""); err != nil {
			return nil, err
		}
	}
	for _, c := range page.Items {
		b.custIDs = append(b.custIDs, c.ID)
		b.custNm = append(b.custNm, c.Name)
	}
	if len(b.custIDs) == 0 {
		return nil, errors.New("bench: no customers")
	}
	fmt.Fprintf(w, "  bench department: %d teams with an agent each, %d customers, %d categories\n", len(b.teams),
		len(b.custIDs), len(b.cats))
	return b, nil
}

// ticketBodies prepares n realistic create requests (data/tickets.json) for the bench
// customers (one in twenty without a customer) in the demo categories.
func ticketBodies(n int, b *benchOrg, seed uint64) ([][]byte, error) {
	g, err := demo.NewTicketGenerator(seed)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([][]byte, n)
	for i := range out {
		d := g.Next()
		in := d.Input
		in.CategoryID = b.cats[d.Category]
		if r.IntN(20) > 0 {
			in.CustomerID = b.custIDs[r.IntN(len(b.custIDs))]
		}
		if out[i], err = json.Marshal(in); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// benchCreateTickets sends o.N POST /api/v1/tickets as agent 0 with o.C clients,
// closed loop or (o.Rate > 0) on a fixed schedule, latency counted from the scheduled
// instant.
func benchCreateTickets(ctx context.Context, s *server, o options, w io.Writer) error {
	b, err := setupTickets(ctx, s, o, w)
	if err != nil {
		return err
	}
	bodies, err := ticketBodies(o.N, b, o.Seed)
	if err != nil {
		return err
	}
	token := b.tokens[0]
	fmt.Fprintf(w, "create-tickets: %d requests (avg %d bytes), %d clients", o.N, avgLen(bodies), o.C)
	if o.Rate > 0 {
		fmt.Fprintf(w, ", paced at %d/s", o.Rate)
	}
	fmt.Fprintln(w)
	cpu0, busy0 := cpuTime(), machineBusy()
	lat, took, failures, err := load(ctx, o, len(bodies), func(i int) error {
		status, body, err := s.doAs(ctx, token, http.MethodPost, "/api/v1/tickets", bodies[i])
		if err == nil && status != http.StatusCreated {
			err = fmt.Errorf("status %d: %s", status, body)
		}
		return err
	})
	if err != nil {
		fmt.Fprintf(w, "  %d failures, first: %v\n", failures, err)
	}
	fmt.Fprintf(w, "  %d created in %.2f s = %.0f creates/s sustained\n", o.N-failures, took.Seconds(),
		float64(o.N)/took.Seconds())
	fmt.Fprintf(w, "  latency %s\n", lat.summary())
	own := cpuTime() - cpu0
	others := max(0, machineBusy()-busy0-own)
	fmt.Fprintf(w, "  CPU %.2f ms per create (whole process: server and clients); this process used %.2f cores, other processes %.2f (load average %s)\n",
		float64(own.Microseconds())/1000/float64(o.N), own.Seconds()/took.Seconds(), others.Seconds()/took.Seconds(), loadAvg())
	fmt.Fprintf(w, "  database %.1f MB, peak RSS %d MB\n", float64(s.dbBytes())/1e6, procStatus("VmHWM")/1024)
	if failures > 0 {
		return fmt.Errorf("%d requests failed", failures)
	}
	return nil
}

// load runs n calls of do with o.C concurrent clients (paced at o.Rate per second
// when set) and returns the latencies, the wall time, the failures and the first error.
func load(ctx context.Context, o options, n int, do func(i int) error) (latencies, time.Duration, int, error) {
	lat := make(latencies, n)
	var next, failures atomic.Int64
	var firstErr atomic.Value
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Second / time.Duration(o.Rate)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range max(1, o.C) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if interval > 0 {
					t0 = start.Add(time.Duration(i) * interval)
					time.Sleep(time.Until(t0))
				}
				err := do(i)
				lat[i] = time.Since(t0)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	if os.Getenv("KEFU_BENCH_DEBUG") != "" && interval > 0 {
		// Where the slow requests were: seconds into the run with their worst latency.
		worst := map[int]time.Duration{}
		for i, d := range lat {
			sec := int(time.Duration(i) * interval / time.Second)
			worst[sec] = max(worst[sec], d)
		}
		for sec := range len(worst) {
			if worst[sec] > 50*time.Millisecond {
				fmt.Fprintf(os.Stderr, "  second %d: max %v\n", sec, worst[sec].Round(time.Millisecond))
			}
		}
	}
	var err error
	if e := firstErr.Load(); e != nil {
		err = errors.New(e.(string))
	}
	return lat, time.Since(start), int(failures.Load()), err
}

// doAs sends a request with the bearer token.
func (s *server) doAs(ctx context.Context, token, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return s.do(req)
}

// Two-character queries of the issue (\u escapes: no Han literals in Go source), and
// an absent word.
var ticketQueries = []struct{ q, what string }{
	{"\u9000\u6b3e", "refund (tui kuan)"},
	{"\u6f0f\u6c34", "leak (lou shui)"},
	{"\u7535\u68af", "elevator (dian ti)"},
	{"\u53d1\u7968", "invoice (fa piao)"},
	{"\u7269\u4e1a", "property (wu ye)"},
	{"\u9cb8\u9c7c", "absent word (whale)"},
}

// loadTickets stores requests until the database holds o.Docs (an earlier run's
// requests are kept with -dir DIR -keep): realistic drafts spread over the teams of b
// (a tenth each), a sixth of them open, dated over the last year, through
// ticket.Service.BulkInsert in transactions of 10,000. It returns how many requests
// the database holds and the share of the new ones that contain each query.
func loadTickets(ctx context.Context, s *server, o options, b *benchOrg, w io.Writer) (int, []float64, error) {
	have, err := s.countTickets(ctx)
	if err != nil {
		return 0, nil, err
	}
	df := make([]int, len(ticketQueries))
	if have >= o.Docs {
		// Loaded by an earlier run (-dir DIR -keep): the query shares of the same
		// generator, over a sample.
		fmt.Fprintf(w, "  the database holds %d requests already; not loading\n", have)
		g, err := demo.NewTicketGenerator(o.Seed)
		if err != nil {
			return 0, nil, err
		}
		sample := min(have, 200000)
		for range sample {
			d := g.Next()
			countQueries(d.Input.Title+"\n"+d.Input.Body, df)
		}
		return have, shares(df, sample), nil
	}
	actx, err := s.adminCtx(ctx)
	if err != nil {
		return 0, nil, err
	}
	n := o.Docs - have
	g, err := demo.NewTicketGenerator(o.Seed + uint64(have))
	if err != nil {
		return 0, nil, err
	}
	r := rand.New(rand.NewPCG(o.Seed, uint64(have)))
	const batch = 10000
	now := time.Now()
	span := 365 * 24 * time.Hour
	step := span / time.Duration(n+1)
	first := now.Add(-span)
	closed := []ticket.Status{ticket.StatusClosed, ticket.StatusClosed, ticket.StatusClosed, ticket.StatusResolved,
		ticket.StatusCancelled}
	open := []ticket.Status{ticket.StatusNew, ticket.StatusAcknowledged, ticket.StatusInProgress,
		ticket.StatusInProgress, ticket.StatusWaitingCustomer, ticket.StatusWaitingDepartment}
	batches := make(chan []ticket.Ticket, 2)
	go func() {
		defer close(batches)
		for done := 0; done < n; {
			size := min(batch, n-done)
			ts := make([]ticket.Ticket, size)
			for i := range ts {
				d := g.Next()
				in := d.Input
				at := first.Add(time.Duration(done+i) * step)
				team := r.IntN(benchTeams)
				t := ticket.Ticket{Type: in.Type, SubKind: in.SubKind, CategoryID: b.cats[d.Category], Channel: in.Channel,
					Severity: in.Severity, FaultLevel: in.FaultLevel, Title: in.Title, Body: in.Body,
					DeptID: b.deptID, TeamID: b.teams[team], CreatedBy: b.agents[team], CalendarID: "default",
					CreatedAt: at, ResponseDueAt: at.Add(24 * time.Hour), ResolveDueAt: at.Add(48 * time.Hour)}
				t.Priority, t.PriorityReasons = ticket.ComputePriority(in.Severity, "", "")
				if k := r.IntN(len(b.custIDs) * 20); k < len(b.custIDs)*19 {
					t.CustomerID, t.ContactName = b.custIDs[k%len(b.custIDs)], b.custNm[k%len(b.custIDs)]
				}
				if r.IntN(6) == 0 {
					t.Status = open[r.IntN(len(open))]
				} else {
					t.Status = closed[r.IntN(len(closed))]
				}
				if t.Status != ticket.StatusNew || r.IntN(2) == 0 {
					t.AssigneeID = b.agents[team]
				}
				if t.Status != ticket.StatusNew && t.Status != ticket.StatusAcknowledged {
					t.RespondedAt = at.Add(time.Duration(r.IntN(600)) * time.Minute)
				}
				if !t.Status.Open() {
					t.ResolvedAt = at.Add(time.Duration(60+r.IntN(4000)) * time.Minute)
					if t.Status == ticket.StatusClosed {
						t.ClosedAt = t.ResolvedAt.Add(time.Duration(r.IntN(2000)) * time.Minute)
					}
				}
				t.UpdatedAt, t.LastActivityAt = at, at
				ts[i] = t
				countQueries(t.Title+"\n"+t.Body, df)
			}
			done += size
			select {
			case batches <- ts:
			case <-ctx.Done():
				return
			}
		}
	}()
	fmt.Fprintf(w, "  loading %d requests through ticket.Service.BulkInsert, %d per transaction\n", n, batch)
	start, done, lastReport := time.Now(), 0, time.Now()
	for ts := range batches {
		if err := s.db.WithTx(actx, func(ctx context.Context) error { return s.app.Ticket.BulkInsert(ctx, ts) }); err != nil {
			return 0, nil, err
		}
		done += len(ts)
		if time.Since(lastReport) > 30*time.Second || done == n {
			lastReport = time.Now()
			fmt.Fprintf(w, "  %8d loaded, %.0f s, %.0f/s, database %.0f MB\n", done, time.Since(start).Seconds(),
				float64(done)/time.Since(start).Seconds(), float64(s.dbBytes())/1e6)
		}
	}
	if ctx.Err() != nil {
		return 0, nil, ctx.Err()
	}
	fmt.Fprintf(w, "  build: %d requests in %.1f s (%.0f/s)\n", n, time.Since(start).Seconds(), float64(n)/time.Since(start).Seconds())
	return have + n, shares(df, n), nil
}

// countQueries adds 1 to df[i] for every query i that text contains.
func countQueries(text string, df []int) {
	for qi, q := range ticketQueries {
		if strings.Contains(text, q.q) {
			df[qi]++
		}
	}
}

func shares(df []int, n int) []float64 {
	out := make([]float64, len(df))
	for i := range df {
		out[i] = float64(df[i]) / float64(max(n, 1))
	}
	return out
}

// countTickets is the id of the newest request (ids are assigned in order, so the
// number of requests a load created).
func (s *server) countTickets(ctx context.Context) (int, error) {
	status, body, err := s.get(ctx, "/api/v1/tickets?limit=1")
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("count: status %d: %s", status, body)
	}
	var page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, err
	}
	if len(page.Items) == 0 {
		return 0, nil
	}
	return int(page.Items[0].ID), nil
}

// listPage GETs path with token and returns the number of items (an error unless 200).
func (s *server) listPage(ctx context.Context, token, path string) (int, error) {
	status, body, err := s.doAs(ctx, token, http.MethodGet, path, nil)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d: %s", path, status, body)
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, err
	}
	return len(page.Items), nil
}

// measureGets requests each path o.Runs times with one client, then the mix with o.C
// clients, and reports the latencies.
func measureGets(ctx context.Context, s *server, o options, w io.Writer, token string, paths []struct{ path, what string }) error {
	var all latencies
	for _, p := range paths {
		var lat latencies
		items := 0
		for range o.Runs {
			t0 := time.Now()
			n, err := s.listPage(ctx, token, p.path)
			lat = append(lat, time.Since(t0))
			if err != nil {
				return err
			}
			items = n
		}
		all = append(all, lat...)
		fmt.Fprintf(w, "  %-34s %s  (%d on page 1)\n", p.what, lat.summary(), items)
	}
	if len(paths) > 1 {
		fmt.Fprintf(w, "  %-34s %s\n", "all of the above", all.summary())
	}
	if o.C > 1 {
		n := o.Runs * len(paths)
		lat, took, _, err := load(ctx, options{C: o.C}, n, func(i int) error {
			_, err := s.listPage(ctx, token, paths[i%len(paths)].path)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  mixed, %d clients: %.0f requests/s  %s\n", o.C, float64(n)/took.Seconds(), lat.summary())
	}
	return nil
}

// benchTicketQueue loads o.Docs requests and measures the first page of the agent
// queues as the agent of team 0 (a tenth of the requests).
func benchTicketQueue(ctx context.Context, s *server, o options, w io.Writer) error {
	b, err := setupTickets(ctx, s, o, w)
	if err != nil {
		return err
	}
	total, _, err := loadTickets(ctx, s, o, b, w)
	if err != nil {
		return err
	}
	s.checkpoint(ctx)
	fmt.Fprintf(w, "  database %.1f MB on disk (requests, created entries, search index, audit log)\n", float64(s.dbBytes())/1e6)
	fmt.Fprintf(w, "ticket-queue: %d requests stored; agent of a team holding ~1/%d of them; %d requests per query, one client:\n",
		total, benchTeams, o.Runs)
	paths := []struct{ path, what string }{
		{"/api/v1/tickets?queue=team", "queue=team (first page, 50)"},
		{"/api/v1/tickets?queue=mine", "queue=mine"},
		{"/api/v1/tickets?queue=unassigned", "queue=unassigned"},
		{"/api/v1/tickets?queue=waiting", "queue=waiting"},
		{"/api/v1/tickets?queue=breaching", "queue=breaching"},
		{"/api/v1/tickets", "all in scope (no queue)"},
	}
	if err := measureGets(ctx, s, o, w, b.tokens[0], paths[:1]); err != nil {
		return err
	}
	fmt.Fprintln(w, "  other queues of the same agent:")
	if err := measureGets(ctx, s, options{Runs: o.Runs, C: 1}, w, b.tokens[0], paths[1:]); err != nil {
		return err
	}
	fmt.Fprintf(w, "  process RSS %d MB, peak %d MB\n", procStatus("VmRSS")/1024, procStatus("VmHWM")/1024)
	return nil
}

// benchSearchTickets loads o.Docs requests and measures two-character Chinese queries,
// as the admin (every request) and as the agent of team 0 (a tenth).
func benchSearchTickets(ctx context.Context, s *server, o options, w io.Writer) error {
	b, err := setupTickets(ctx, s, o, w)
	if err != nil {
		return err
	}
	total, share, err := loadTickets(ctx, s, o, b, w)
	if err != nil {
		return err
	}
	s.checkpoint(ctx)
	fmt.Fprintf(w, "  database %.1f MB on disk (requests, created entries, search index, audit log)\n", float64(s.dbBytes())/1e6)
	paths := make([]struct{ path, what string }, len(ticketQueries))
	for i, q := range ticketQueries {
		paths[i].path = "/api/v1/tickets?q=" + url.QueryEscape(q.q)
		paths[i].what = q.what
		if share != nil {
			paths[i].what += ", in " + strconv.FormatFloat(100*share[i], 'f', 1, 64) + "%"
		}
	}
	fmt.Fprintf(w, "search-tickets: %d requests stored; GET /api/v1/tickets?q=... (page of 50), %d requests per query\n",
		total, o.Runs)
	fmt.Fprintln(w, "  as the admin (every request in scope):")
	if err := measureGets(ctx, s, o, w, s.token, paths); err != nil {
		return err
	}
	fmt.Fprintf(w, "  as the agent of a team holding ~1/%d of the requests:\n", benchTeams)
	if err := measureGets(ctx, s, options{Runs: o.Runs, C: 1}, w, b.tokens[0], paths); err != nil {
		return err
	}
	fmt.Fprintf(w, "  process RSS %d MB, peak %d MB\n", procStatus("VmRSS")/1024, procStatus("VmHWM")/1024)
	return nil
}

// machineBusy is the CPU time every process of the machine has used so far
// (/proc/stat: user, nice, system, irq, softirq, steal), to tell how much of the two
// cores other processes took during a measurement.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ = 100
}
