package demo_test

import (
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/demo"
	"github.com/kefu-cn/kefu/internal/ticket"
)

func ticketDeps(srv *apptest.Server, count int) demo.Deps {
	a := srv.App
	return demo.Deps{Org: a.Org, Auth: a.Auth, Customer: a.Customer, Clock: a.Clock, KB: a.KB, TicketCount: count,
		Tickets: &ticket.Deps{DB: a.DB, Audit: a.Audit, Log: a.Log, Customers: a.Customer, Staff: a.Org,
			Calendars: a.Calendars}}
}

// TestTicketGenerator checks the generated requests without a database: valid inputs,
// every type, after-sales sub-kind, channel and severity, and deterministic output.
func TestTicketGenerator(t *testing.T) {
	t.Parallel()
	g, err := demo.NewTicketGenerator(0)
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := demo.NewTicketGenerator(0)
	seen := map[string]int{}
	for i := range 3000 {
		d := g.Next()
		if d2 := g2.Next(); !reflect.DeepEqual(d2.Input, d.Input) {
			t.Fatalf("draft %d not deterministic", i)
		}
		in := d.Input
		seen["type:"+string(in.Type)]++
		seen["sub:"+in.SubKind]++
		seen["channel:"+string(in.Channel)]++
		seen["severity:"+string(in.Severity)]++
		if in.Title == "" || in.Body == "" || d.Category == "" || strings.ContainsAny(in.Title+in.Body, "{}") {
			t.Fatalf("draft %d incomplete or unfilled: %+v (%s)", i, in, d.Category)
		}
		if (in.Type == ticket.TypeAfterSales) != (in.SubKind != "") || (in.Type == ticket.TypeRepair) != (in.FaultLevel > 0) {
			t.Fatalf("draft %d kind fields: %+v", i, in)
		}
	}
	for _, ty := range ticket.Types {
		if seen["type:"+string(ty)] == 0 {
			t.Errorf("no %s request", ty)
		}
	}
	for _, k := range ticket.SubKinds {
		if seen["sub:"+k] == 0 {
			t.Errorf("no after-sales %s request", k)
		}
	}
	for _, c := range ticket.Channels {
		if seen["channel:"+string(c)] == 0 {
			t.Errorf("no request by %s", c)
		}
	}
	for _, s := range ticket.Severities {
		if seen["severity:"+string(s)] == 0 {
			t.Errorf("no %s request", s)
		}
	}
}

// TestSeedTickets seeds the demo organisation, customers and a few hundred requests
// (KEFU_DEMO_TICKETS=3000 seeds the full set and reports the time) and checks their
// spread over states, the numbers, the timeline, the search index, canned replies and
// FAQ articles, and that a second seed adds nothing.
func TestSeedTickets(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t)
	// A fixed day keeps the seeded history (hours, weekdays, SLA due times) the same
	// from run to run.
	srv.Clock.Set(time.Date(2026, 11, 23, 2, 30, 0, 0, time.UTC))
	count := 150
	if v, err := strconv.Atoi(os.Getenv("KEFU_DEMO_TICKETS")); err == nil && v > 0 {
		count = v
	} else {
		// A few customers of our own keep the test fast: Seed adds its 500 demo
		// customers only to a database without any (TestSeedCustomers covers them).
		g, err := demo.NewGenerator(srv.App.Clock.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		for range 40 {
			if _, err := srv.App.Customer.CreateCustomer(apptest.SystemCtx(), g.Next().Input); err != nil {
				t.Fatal(err)
			}
		}
	}
	deps := ticketDeps(srv, count)
	start := time.Now()
	if _, err := demo.Seed(context.Background(), deps); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded the demo organisation, customers and %d requests in %s", count, time.Since(start))
	ctx := apptest.SystemCtx()
	svc := srv.App.Ticket
	var all []ticket.Ticket
	cur := ""
	for {
		p, err := svc.ListTickets(ctx, ticket.Filter{}, 500, cur)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			break
		}
		cur = p.NextCursor
	}
	if len(all) != count {
		t.Fatalf("%d requests, want %d", len(all), count)
	}
	numbers := map[string]bool{}
	states := map[ticket.Status]int{}
	now := srv.App.Clock.Now()
	breached, assigned, withCustomer := 0, 0, 0
	byState := map[ticket.Status]int{}
	for _, tk := range all {
		if numbers[tk.Number] {
			t.Fatalf("number %s used twice", tk.Number)
		}
		numbers[tk.Number] = true
		if _, ok := ticket.IsNumber(tk.Number); !ok {
			t.Fatalf("bad number %q", tk.Number)
		}
		states[tk.Status]++
		if tk.CreatedAt.After(now) || tk.CreatedAt.Before(now.Add(-91*24*time.Hour)) || tk.UpdatedAt.After(now) {
			t.Fatalf("%s dated %s..%s, now %s", tk.Number, tk.CreatedAt, tk.UpdatedAt, now)
		}
		if tk.Number[2:10] != tk.CreatedAt.In(time.FixedZone("CST", 8*3600)).Format("20060102") {
			t.Fatalf("number %s created %s", tk.Number, tk.CreatedAt)
		}
		if !tk.ResolveDueAt.IsZero() && (tk.ResolvedAt.After(tk.ResolveDueAt) || tk.Status.Open() && now.After(tk.ResolveDueAt)) {
			breached++
			byState[tk.Status]++
		}
		if tk.AssigneeID != 0 {
			assigned++
		}
		if tk.CustomerID != 0 {
			withCustomer++
		}
	}
	t.Logf("states %v; %d breached their resolution target (%v), %d assigned, %d with a customer", states, breached,
		byState, assigned, withCustomer)
	for _, st := range []ticket.Status{ticket.StatusNew, ticket.StatusInProgress, ticket.StatusWaitingCustomer,
		ticket.StatusWaitingDepartment, ticket.StatusResolved, ticket.StatusClosed, ticket.StatusCancelled,
		ticket.StatusReopened} {
		// Only the last two days' requests are still new: a handful among a few hundred.
		if states[st] == 0 && (st != ticket.StatusNew || count >= 1000) {
			t.Errorf("no request in state %s", st)
		}
	}
	if states[ticket.StatusClosed] < count/4 {
		t.Errorf("only %d closed of %d", states[ticket.StatusClosed], count)
	}
	if breached == 0 || breached > count/2 {
		t.Errorf("%d of %d breached", breached, count)
	}
	if withCustomer < count*3/4 || assigned < count/2 {
		t.Errorf("%d with a customer, %d assigned of %d", withCustomer, assigned, count)
	}
	// The timeline of a closed request: created ... resolved, closed, in time order.
	for _, tk := range all {
		if tk.Status != ticket.StatusClosed {
			continue
		}
		evs, err := svc.Events(ctx, tk.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[ticket.EventKind]bool{}
		for i, e := range evs {
			kinds[e.Kind] = true
			if i > 0 && e.CreatedAt.Before(evs[i-1].CreatedAt) {
				t.Fatalf("%s: event %d at %s before %s", tk.Number, i, e.CreatedAt, evs[i-1].CreatedAt)
			}
		}
		if !kinds[ticket.EventCreated] || !kinds[ticket.EventReply] || !kinds[ticket.EventStatus] && !kinds[ticket.EventConfirm] {
			t.Fatalf("%s timeline %v", tk.Number, kinds)
		}
		break
	}
	// The auto-close job finds nothing to do: requests resolved longer than the quiet
	// period ago were closed while seeding.
	if n, err := svc.AutoClose(ctx); err != nil || n != 0 {
		t.Errorf("auto-close after seeding closed %d (%v)", n, err)
	}
	// Chinese two-character search.
	for _, q := range []string{"漏水", "退款", "发票", "电梯"} {
		p, err := svc.ListTickets(ctx, ticket.Filter{Q: q}, 20, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) == 0 {
			t.Errorf("search %q finds nothing", q)
		}
	}
	canned, err := svc.ListCanned(ctx)
	if err != nil || len(canned) < 5 {
		t.Errorf("canned replies %d, %v", len(canned), err)
	}
	if arts, err := srv.App.KB.PublishedSearch(ctx, "漏水", 10); err != nil || len(arts) == 0 {
		t.Errorf("FAQ search: %d, %v", len(arts), err)
	}
	// A second seed adds nothing.
	if _, err := demo.Seed(context.Background(), deps); err != nil {
		t.Fatal(err)
	}
	if p, _ := svc.ListTickets(ctx, ticket.Filter{}, 1, ""); len(p.Items) != 1 || p.Items[0].ID != all[0].ID {
		t.Fatal("second seed added requests")
	}
}
