package ticket_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// TestCreateAndRead: a request created through the API gets a readable number, a
// priority with its reasons, the customer's masked summary and a timeline; the read is
// audited.
func TestCreateAndRead(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "agent")
	team(t, s, agent, "cs", "Hotline")
	c := ownedBy(t, s, newCustomer(t, s, "Zhang San", "vip", "A"), agent)
	before := s.AuditSeq(t)
	v := createAPI(t, agent, map[string]any{"type": "repair", "channel": "phone", "severity": "moderate",
		"title": "Kitchen tap leaks", "body": "The tap has leaked water since yesterday.", "customer_id": c.ID,
		"fault_level": 2})
	if !s.AuditSince(t, before, "ticket.create") {
		t.Fatal("no ticket.create audit entry")
	}
	num := v["number"].(string)
	if _, ok := ticket.IsNumber(num); !ok || !strings.HasSuffix(num, "-0001") {
		t.Fatalf("number = %q", num)
	}
	if v["priority"] != "high" || v["status"] != "new" || v["version"].(float64) != 1 {
		t.Fatalf("view = %v", v)
	}
	reasons := v["priority_reasons"].([]any)
	if len(reasons) != 2 {
		t.Fatalf("priority_reasons = %v", reasons)
	}
	cust := v["customer"].(map[string]any)
	if cust["name"] != "Zhang San" || !strings.Contains(cust["mobile"].(string), "****") || cust["tier"] != "vip" {
		t.Fatalf("customer summary = %v", cust)
	}
	if next := v["next_statuses"].([]any); len(next) != len(ticket.Next(ticket.StatusNew)) {
		t.Fatalf("next_statuses = %v", next)
	}
	id := idOf(v)
	r := agent.Do(t, "GET", path(id), nil)
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(num)) {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	ev := agent.Do(t, "GET", path(id, "events"), nil)
	if ev.Status != 200 || !bytes.Contains(ev.Body, []byte(`"kind":"created"`)) {
		t.Fatalf("events: %d %s", ev.Status, ev.Body)
	}
	// A second request the same day takes the next number.
	v2 := createAPI(t, agent, map[string]any{"type": "inquiry", "channel": "web", "severity": "general", "title": "Hours?"})
	if !strings.HasSuffix(v2["number"].(string), "-0002") || v2["customer"] != nil {
		t.Fatalf("second = %v", v2)
	}
	if r := agent.Do(t, "GET", "/api/v1/tickets?queue=team", nil); r.Status != 200 || !bytes.Contains(r.Body, []byte(num)) {
		t.Fatalf("team queue: %d %s", r.Status, r.Body)
	}
}

// TestCreateValidation: each bad value is refused with 422 naming its field, and
// nothing is stored (no request, no number taken).
func TestCreateValidation(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "agent")
	c := ownedBy(t, s, newCustomer(t, s, "Li Si", "regular", "B"), agent)
	ctx := actorCtx(t, s, agent)
	inactive, err := s.App.Ticket.CreateCategory(apptest.SystemCtx(), ticket.CategoryInput{Name: "Old", Active: new(bool)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		mod   func(*ticket.Input)
		field string
	}{
		{"type missing", func(in *ticket.Input) { in.Type = "" }, "type"},
		{"type unknown", func(in *ticket.Input) { in.Type = "praise" }, "type"},
		{"sub_kind missing", func(in *ticket.Input) { in.Type = ticket.TypeAfterSales }, "sub_kind"},
		{"sub_kind unknown", func(in *ticket.Input) { in.Type, in.SubKind = ticket.TypeAfterSales, "gift" }, "sub_kind"},
		{"sub_kind not after-sales", func(in *ticket.Input) { in.SubKind = "refund" }, "sub_kind"},
		{"channel missing", func(in *ticket.Input) { in.Channel = "" }, "channel"},
		{"channel unknown", func(in *ticket.Input) { in.Channel = "fax" }, "channel"},
		{"severity", func(in *ticket.Input) { in.Severity = "critical" }, "severity"},
		{"title empty", func(in *ticket.Input) { in.Title = "  " }, "title"},
		{"title long", func(in *ticket.Input) { in.Title = strings.Repeat("漏", 201) }, "title"},
		{"body long", func(in *ticket.Input) { in.Body = strings.Repeat("a", 20001) }, "body"},
		{"customer unknown", func(in *ticket.Input) { in.CustomerID = 999999 }, "customer_id"},
		{"category unknown", func(in *ticket.Input) { in.CategoryID = 999999 }, "category_id"},
		{"category inactive", func(in *ticket.Input) { in.CategoryID = inactive.ID }, "category_id"},
		{"fault level for repair", func(in *ticket.Input) { in.Type = ticket.TypeRepair }, "fault_level"},
		{"fault level too high", func(in *ticket.Input) { in.Type, in.FaultLevel = ticket.TypeRepair, 4 }, "fault_level"},
		{"fault level not repair", func(in *ticket.Input) { in.FaultLevel = 1 }, "fault_level"},
		{"dept unknown", func(in *ticket.Input) { in.DeptID = 999999 }, "dept_id"},
		{"team unknown", func(in *ticket.Input) { in.TeamID = 999999 }, "team_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := input(c.ID)
			tc.mod(&in)
			_, err := s.App.Ticket.CreateTicket(ctx, in)
			ae, ok := apperr.As(err)
			if !ok || ae.Kind != apperr.Invalid {
				t.Fatalf("err = %v, want validation error", err)
			}
			if _, ok := ae.Fields[tc.field]; !ok {
				t.Fatalf("fields = %v, want %s", ae.Fields, tc.field)
			}
		})
	}
	if n := count(t, s, `SELECT COUNT(*) FROM tickets`); n != 0 {
		t.Fatalf("%d tickets stored", n)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM ticket_counters`); n != 0 {
		t.Fatalf("a number was taken")
	}
	// Through the API: 422 with error.fields naming the field; malformed JSON 400.
	r := agent.Do(t, "POST", "/api/v1/tickets", map[string]any{"type": "repair", "channel": "phone",
		"severity": "general", "title": "x", "fault_level": 9})
	if r.Status != 422 || !bytes.Contains(r.Body, []byte(`"fault_level"`)) {
		t.Fatalf("API validation: %d %s", r.Status, r.Body)
	}
	if r := agent.Do(t, "POST", "/api/v1/tickets", `{"type": 1}`); r.Status != 400 {
		t.Fatalf("malformed: %d %s", r.Status, r.Body)
	}
	if r := agent.Do(t, "POST", "/api/v1/tickets", `{"unknown": 1}`); r.Status != 400 {
		t.Fatalf("unknown field: %d %s", r.Status, r.Body)
	}
}

// pathTo drives a new request to each state through allowed transitions.
var pathTo = map[ticket.Status][]ticket.Status{
	ticket.StatusNew:               nil,
	ticket.StatusAcknowledged:      {ticket.StatusAcknowledged},
	ticket.StatusInProgress:        {ticket.StatusInProgress},
	ticket.StatusWaitingCustomer:   {ticket.StatusWaitingCustomer},
	ticket.StatusWaitingDepartment: {ticket.StatusWaitingDepartment},
	ticket.StatusResolved:          {ticket.StatusResolved},
	ticket.StatusClosed:            {ticket.StatusResolved, ticket.StatusClosed},
	ticket.StatusReopened:          {ticket.StatusResolved, ticket.StatusReopened},
	ticket.StatusCancelled:         {ticket.StatusCancelled},
}

// TestStateMachine tries every pair of states through the API: allowed moves succeed
// (with their stamps), every other move is a 409 illegal_transition that changes
// nothing (version and timeline stay).
func TestStateMachine(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	ctx := actorCtx(t, s, sup)
	svc := s.App.Ticket
	for _, from := range ticket.Statuses {
		for _, to := range ticket.Statuses {
			tk, err := svc.CreateTicket(ctx, input(0))
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range pathTo[from] {
				if tk, err = svc.Transition(ctx, tk.ID, st, "test"); err != nil {
					t.Fatalf("drive to %s: %v", from, err)
				}
			}
			if tk.Status != from {
				t.Fatalf("drove to %s, got %s", from, tk.Status)
			}
			events := count(t, s, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ?`, tk.ID)
			r := sup.Do(t, "POST", path(tk.ID, "transition"), map[string]any{"status": to, "reason": "because"})
			after, err := svc.Store().GetTicket(context.Background(), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ticket.CanTransition(from, to) {
				if r.Status != 200 || after.Status != to || after.Version != tk.Version+1 {
					t.Errorf("%s -> %s: %d %s (status %s, version %d)", from, to, r.Status, r.Body, after.Status, after.Version)
					continue
				}
				if got := count(t, s, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ?`, tk.ID); got != events+1 {
					t.Errorf("%s -> %s: %d new events", from, to, got-events)
				}
				switch to {
				case ticket.StatusResolved:
					if after.ResolvedAt.IsZero() {
						t.Errorf("%s -> resolved: no resolved_at", from)
					}
				case ticket.StatusClosed:
					if after.ClosedAt.IsZero() {
						t.Errorf("%s -> closed: no closed_at", from)
					}
				case ticket.StatusReopened:
					if after.ReopenCount != tk.ReopenCount+1 {
						t.Errorf("%s -> reopened: reopen_count %d", from, after.ReopenCount)
					}
				}
				continue
			}
			if r.Status != 409 || !bytes.Contains(r.Body, []byte(`"illegal_transition"`)) {
				t.Errorf("%s -> %s: %d %s, want 409 illegal_transition", from, to, r.Status, r.Body)
			}
			if after.Status != from || after.Version != tk.Version || !after.UpdatedAt.Equal(tk.UpdatedAt) {
				t.Errorf("%s -> %s refused but changed: %s v%d", from, to, after.Status, after.Version)
			}
			if got := count(t, s, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ?`, tk.ID); got != events {
				t.Errorf("%s -> %s refused but wrote %d events", from, to, got-events)
			}
		}
	}
	// Reopening needs a reason; an unknown status is a validation error.
	tk, _ := svc.CreateTicket(ctx, input(0))
	if r := sup.Do(t, "POST", path(tk.ID, "transition"), map[string]any{"status": "flying"}); r.Status != 422 {
		t.Fatalf("unknown status: %d %s", r.Status, r.Body)
	}
	if r := sup.Do(t, "POST", path(tk.ID, "transition"), map[string]any{"status": "cancelled"}); r.Status != 422 ||
		!bytes.Contains(r.Body, []byte(`"reason"`)) {
		t.Fatalf("cancel without reason: %d %s", r.Status, r.Body)
	}
}

// TestReplyNotePatch: the first staff reply is the first response; a reply may move
// the status; notes are internal; a patch with a stale version is refused; a severity
// change recomputes the priority.
func TestReplyNotePatch(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "agent")
	team(t, s, agent, "cs", "Hotline")
	c := ownedBy(t, s, newCustomer(t, s, "Wang Wu", "regular", "C"), agent)
	v := createAPI(t, agent, map[string]any{"type": "inquiry", "channel": "phone", "severity": "moderate",
		"title": "Invoice", "customer_id": c.ID})
	id := idOf(v)
	if v["priority"] != "low" {
		t.Fatalf("grade C moderate = %v", v["priority"])
	}
	r := agent.Do(t, "POST", path(id, "reply"), map[string]any{"body": "Please send the invoice number.",
		"status": "waiting_customer"})
	if r.Status != 201 {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	res := decode[struct {
		Event  ticket.EventView
		Ticket ticket.View
	}](t, r.Body)
	if res.Event.Kind != ticket.EventReply || !res.Event.Public || res.Ticket.Status != ticket.StatusWaitingCustomer ||
		res.Ticket.SLA.RespondedAt == nil || !res.Ticket.SLA.Paused {
		t.Fatalf("reply result = %+v", res)
	}
	first := *res.Ticket.SLA.RespondedAt
	s.Clock.Advance(60_000_000_000)
	if r := agent.Do(t, "POST", path(id, "reply"), map[string]any{"body": "Any news?"}); r.Status != 201 {
		t.Fatalf("second reply: %d", r.Status)
	}
	got, _ := s.App.Ticket.Store().GetTicket(context.Background(), id)
	if !got.RespondedAt.Equal(first) {
		t.Fatalf("responded_at moved: %v -> %v", first, got.RespondedAt)
	}
	if r := agent.Do(t, "POST", path(id, "reply"), map[string]any{"body": "x", "status": "closed"}); r.Status != 409 {
		t.Fatalf("reply with illegal status: %d", r.Status)
	}
	if r := agent.Do(t, "POST", path(id, "reply"), map[string]any{"body": " "}); r.Status != 422 {
		t.Fatalf("empty reply: %d", r.Status)
	}
	if r := agent.Do(t, "POST", path(id, "note"), map[string]any{"body": "Customer sounded upset."}); r.Status != 201 ||
		!bytes.Contains(r.Body, []byte(`"public":false`)) {
		t.Fatalf("note: %d %s", r.Status, r.Body)
	}
	cur, _ := s.App.Ticket.Store().GetTicket(context.Background(), id)
	if r := agent.Do(t, "PATCH", path(id), map[string]any{"title": "Invoice copy", "version": cur.Version - 1}); r.Status != 409 {
		t.Fatalf("stale patch: %d %s", r.Status, r.Body)
	}
	r = agent.Do(t, "PATCH", path(id), map[string]any{"severity": "major", "version": cur.Version})
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"priority":"high"`)) {
		t.Fatalf("patch severity: %d %s", r.Status, r.Body)
	}
	if r := agent.Do(t, "PATCH", path(id), map[string]any{"fault_level": 2, "version": cur.Version + 1}); r.Status != 422 {
		t.Fatalf("fault level on inquiry: %d %s", r.Status, r.Body)
	}
	// A no-op patch writes nothing.
	before := count(t, s, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ?`, id)
	if r := agent.Do(t, "PATCH", path(id), map[string]any{"severity": "major", "version": cur.Version + 1}); r.Status != 200 {
		t.Fatalf("no-op patch: %d", r.Status)
	}
	if count(t, s, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ?`, id) != before {
		t.Fatal("no-op patch wrote an event")
	}
	ev := agent.Do(t, "GET", path(id, "events"), nil)
	for _, k := range []string{`"kind":"reply"`, `"kind":"note"`, `"kind":"status"`, `"kind":"update"`} {
		if !bytes.Contains(ev.Body, []byte(k)) {
			t.Errorf("timeline lacks %s", k)
		}
	}
}

// TestScopes: scenario table per role.
func TestScopes(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "agent@cs")
	team(t, s, agent, "cs", "Hotline")
	other := s.As(t, "agent@ops")
	team(t, s, other, "ops", "Field")
	mate := s.As(t, "agent@cs2")
	hot, _ := s.App.Org.AllTeams(apptest.SystemCtx())
	for _, tm := range hot {
		if tm.Name == "Hotline" {
			joinTeam(t, s, mate, tm)
		}
	}
	s.As(t, "supervisor@cs")
	s.As(t, "supervisor@ops")
	s.As(t, "qa")
	v := createAPI(t, agent, map[string]any{"type": "inquiry", "channel": "phone", "severity": "general", "title": "Scope"})
	p := path(idOf(v))
	body := map[string]any{"body": "hello"}
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "anonymous list", As: "", Method: "GET", Path: "/api/v1/tickets", Status: 401},
		{Name: "anonymous get", As: "", Method: "GET", Path: p, Status: 401},
		{Name: "anonymous create", As: "", Method: "POST", Path: "/api/v1/tickets", Body: map[string]any{}, Status: 401},
		{Name: "agent reads own team", As: "agent@cs", Method: "GET", Path: p, Status: 200, Audit: "ticket.read"},
		{Name: "team mate reads", As: "agent@cs2", Method: "GET", Path: p, Status: 200},
		{Name: "agent of other dept", As: "agent@ops", Method: "GET", Path: p, Status: 404},
		{Name: "agent of other dept events", As: "agent@ops", Method: "GET", Path: p + "/events", Status: 404},
		{Name: "agent of other dept reply", As: "agent@ops", Method: "POST", Path: p + "/reply", Body: body, Status: 404},
		{Name: "agent of other dept list", As: "agent@ops", Method: "GET", Path: "/api/v1/tickets", Status: 200,
			Not: []string{v["number"].(string)}},
		{Name: "supervisor same dept", As: "supervisor@cs", Method: "GET", Path: p, Status: 200},
		{Name: "supervisor other dept", As: "supervisor@ops", Method: "GET", Path: p, Status: 404},
		{Name: "supervisor other dept transition", As: "supervisor@ops", Method: "POST", Path: p + "/transition",
			Body: map[string]any{"status": "acknowledged"}, Status: 404},
		{Name: "qa reads", As: "qa", Method: "GET", Path: p, Status: 200},
		{Name: "qa lists", As: "qa", Method: "GET", Path: "/api/v1/tickets", Status: 200, Has: []string{v["number"].(string)}},
		{Name: "qa cannot create", As: "qa", Method: "POST", Path: "/api/v1/tickets", Body: map[string]any{}, Status: 403},
		{Name: "qa cannot reply", As: "qa", Method: "POST", Path: p + "/reply", Body: body, Status: 403, NoAudit: true},
		{Name: "qa cannot note", As: "qa", Method: "POST", Path: p + "/note", Body: body, Status: 403},
		{Name: "qa cannot patch", As: "qa", Method: "PATCH", Path: p, Body: map[string]any{"title": "x"}, Status: 403},
		{Name: "qa cannot transition", As: "qa", Method: "POST", Path: p + "/transition",
			Body: map[string]any{"status": "acknowledged"}, Status: 403},
		{Name: "qa cannot manage categories", As: "qa", Method: "POST", Path: "/api/v1/ticket-categories",
			Body: map[string]any{"name": "x"}, Status: 403},
		{Name: "agent cannot manage categories", As: "agent@cs", Method: "POST", Path: "/api/v1/ticket-categories",
			Body: map[string]any{"name": "x"}, Status: 403},
		{Name: "agent cannot manage canned", As: "agent@cs", Method: "POST", Path: "/api/v1/canned-replies",
			Body: map[string]any{"title": "x", "body": "y"}, Status: 403},
		{Name: "agent replies", As: "agent@cs", Method: "POST", Path: p + "/reply", Body: body, Status: 201, Audit: "ticket.reply"},
		{Name: "agent notes", As: "agent@cs", Method: "POST", Path: p + "/note", Body: body, Status: 201, Audit: "ticket.note"},
		{Name: "agent acknowledges", As: "agent@cs", Method: "POST", Path: p + "/transition",
			Body: map[string]any{"status": "acknowledged"}, Status: 200, Audit: "ticket.status"},
		{Name: "agent edits without version", As: "agent@cs", Method: "PATCH", Path: p, Body: map[string]any{"title": "Scope 2"},
			Status: 428, Has: []string{`"code":"version_required"`}, NoAudit: true},
		{Name: "agent edits stale", As: "agent@cs", Method: "PATCH", Path: p, Body: map[string]any{"title": "Scope 2", "version": 1},
			Status: 409, Has: []string{`"code":"version_conflict"`, `"current_version":`}, NoAudit: true},
		{Name: "missing request", As: "agent@cs", Method: "GET", Path: "/api/v1/tickets/999999", Status: 404},
		{Name: "bad id", As: "agent@cs", Method: "GET", Path: "/api/v1/tickets/abc", Status: 404},
		{Name: "bad filter", As: "agent@cs", Method: "GET", Path: "/api/v1/tickets?status=flying", Status: 422},
		{Name: "bad cursor", As: "agent@cs", Method: "GET", Path: "/api/v1/tickets?cursor=!!!", Status: 400},
		{Name: "bad open", As: "agent@cs", Method: "GET", Path: "/api/v1/tickets?open=maybe", Status: 400},
	})
	// The version may come in If-Match instead of the body; the answer carries the new
	// one as its ETag.
	cur, err := s.App.Ticket.Store().GetTicket(context.Background(), idOf(v))
	if err != nil {
		t.Fatal(err)
	}
	before := s.AuditSeq(t)
	r := agent.DoWithHeaders(t, "PATCH", p, map[string]any{"title": "Scope 2"}, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, cur.Version)})
	if r.Status != 200 || r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, cur.Version+1) || !s.AuditSince(t, before, "ticket.update") {
		t.Fatalf("patch with If-Match: %d %q %s", r.Status, r.Header.Get("ETag"), r.Body)
	}
	if r := agent.DoWithHeaders(t, "PATCH", p, map[string]any{"title": "Scope 3"}, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, cur.Version)}); r.Status != 409 {
		t.Fatalf("stale If-Match: %d %s", r.Status, r.Body)
	}
}

// TestQueuesAndPaging: queues return what they name; pages follow the cursor without
// overlap.
func TestQueuesAndPaging(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	tm := team(t, s, sup, "cs", "Hotline")
	ctx := actorCtx(t, s, sup)
	svc := s.App.Ticket
	var ids []int64
	for i := range 7 {
		in := input(0)
		in.Title = fmt.Sprintf("Request %d", i)
		in.TeamID = tm.ID
		tk, err := svc.CreateTicket(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	if _, err := svc.Transition(ctx, ids[0], ticket.StatusWaitingCustomer, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, ids[1], ticket.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	var seen []int64
	cur := ""
	for range 10 {
		p, err := svc.ListTickets(ctx, ticket.Filter{}, 3, cur)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range p.Items {
			seen = append(seen, tk.ID)
		}
		if cur = p.NextCursor; cur == "" {
			break
		}
	}
	want := slices.Clone(ids)
	slices.Reverse(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("paged ids = %v, want %v", seen, want)
	}
	check := func(f ticket.Filter, want int) {
		t.Helper()
		p, err := svc.ListTickets(ctx, f, 50, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != want {
			t.Errorf("filter %+v: %d items, want %d", f, len(p.Items), want)
		}
	}
	check(ticket.Filter{Queue: ticket.QueueTeam}, 6) // resolved is not open
	check(ticket.Filter{Queue: ticket.QueueUnassigned}, 6)
	check(ticket.Filter{Queue: ticket.QueueWaiting}, 1)
	check(ticket.Filter{Queue: ticket.QueueMine}, 0)
	check(ticket.Filter{Status: ticket.StatusResolved}, 1)
	open := false
	check(ticket.Filter{Open: &open}, 1)
	check(ticket.Filter{Queue: ticket.QueueBreaching}, 0) // no SLA targets without policies... or none due yet
}

// TestConcurrentNumbers: concurrent creations get distinct, gap-free numbers (on
// PostgreSQL through the counter row lock).
func TestConcurrentNumbers(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	ctx := actorCtx(t, s, s.As(t, "supervisor"))
	const workers, each = 8, 15
	var mu sync.Mutex
	var nums []string
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				tk, err := s.App.Ticket.CreateTicket(ctx, input(0))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				nums = append(nums, tk.Number)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	slices.Sort(nums)
	for i, n := range nums {
		if want := fmt.Sprintf("-%04d", i+1); !strings.HasSuffix(n, want) {
			t.Fatalf("numbers not gap-free on %s: %d is %s", dbtest.Engine(), i, n)
		}
	}
}

// TestSearch: two-character Chinese queries and exact numbers find requests; replies
// are searchable; scope still applies.
func TestSearch(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "agent")
	team(t, s, agent, "cs", "Hotline")
	other := s.As(t, "agent@ops")
	team(t, s, other, "ops", "Field")
	refund := createAPI(t, agent, map[string]any{"type": "after_sales", "sub_kind": "refund", "channel": "phone",
		"severity": "general", "title": "申请退款", "body": "客户购买的净水器不满意，要求退款。"})
	leak := createAPI(t, agent, map[string]any{"type": "repair", "fault_level": 2, "channel": "phone",
		"severity": "moderate", "title": "厨房水管", "body": "厨房水槽下面的水管接头处一直在滴水。"})
	createAPI(t, agent, map[string]any{"type": "inquiry", "channel": "web", "severity": "general",
		"title": "营业时间", "body": "周末是否营业？"})
	if r := agent.Do(t, "POST", path(idOf(leak), "reply"), map[string]any{"body": "师傅明天上门处理漏水。"}); r.Status != 201 {
		t.Fatal(r.Status)
	}
	find := func(c *apptest.Client, q string) []string {
		t.Helper()
		r := c.Do(t, "GET", "/api/v1/tickets?q="+q, nil)
		if r.Status != 200 {
			t.Fatalf("search %s: %d %s", q, r.Status, r.Body)
		}
		p := decode[struct{ Items []ticket.View }](t, r.Body)
		var out []string
		for _, v := range p.Items {
			out = append(out, v.Number)
		}
		return out
	}
	if got := find(agent, "退款"); len(got) != 1 || got[0] != refund["number"] {
		t.Fatalf("退款 -> %v", got)
	}
	if got := find(agent, "漏水"); len(got) != 1 || got[0] != leak["number"] {
		t.Fatalf("漏水 (in a reply) -> %v", got)
	}
	if got := find(agent, leak["number"].(string)); len(got) != 1 || got[0] != leak["number"] {
		t.Fatalf("number -> %v", got)
	}
	if got := find(agent, strings.ToLower(refund["number"].(string))); len(got) != 1 {
		t.Fatalf("lower-case number -> %v", got)
	}
	if got := find(other, "退款"); len(got) != 0 {
		t.Fatalf("other team found %v", got)
	}
	if got := find(agent, "冰箱"); len(got) != 0 {
		t.Fatalf("冰箱 -> %v", got)
	}
}

func upload(t *testing.T, c *apptest.Client, s *apptest.Server, id int64, name string, data []byte) *apptest.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.WriteField("public", "true")
	mw.Close()
	return c.DoWithHeaders(t, "POST", path(id, "attachments"), buf.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()})
}

// TestAttachments: allowed files are stored and served as downloads with nosniff;
// active content is refused naming the file; other departments cannot download.
func TestAttachments(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "agent")
	team(t, s, agent, "cs", "Hotline")
	s.As(t, "agent@ops")
	id := idOf(createAPI(t, agent, map[string]any{"type": "repair", "fault_level": 1, "channel": "phone",
		"severity": "general", "title": "Photo"}))
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	r := upload(t, agent, s, id, "漏水 照片.png", png)
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	att := decode[ticket.AttachmentView](t, r.Body)
	before := s.AuditSeq(t)
	d := agent.Do(t, "GET", att.URL, nil)
	if d.Status != 200 || !bytes.Equal(d.Body, png) {
		t.Fatalf("download: %d", d.Status)
	}
	if d.Header.Get("X-Content-Type-Options") != "nosniff" || d.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(d.Header.Get("Content-Disposition"), "attachment;") ||
		!strings.Contains(d.Header.Get("Content-Disposition"), "filename*=UTF-8''") {
		t.Fatalf("download headers: %v", d.Header)
	}
	if !s.AuditSince(t, before, "ticket.attachment.download") {
		t.Fatal("download not audited")
	}
	txt := upload(t, agent, s, id, "notes.txt", []byte("plain words"))
	tv := decode[ticket.AttachmentView](t, txt.Body)
	if d := agent.Do(t, "GET", tv.URL, nil); d.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("text served as %s", d.Header.Get("Content-Type"))
	}
	for name, data := range map[string][]byte{
		"x.html":    []byte("<html><script>alert(1)</script></html>"),
		"x.svg":     []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`),
		"x.png":     []byte("<html><script>alert(1)</script>"),
		"x.exe":     []byte("MZ\x90\x00"),
		"setup.txt": []byte("<!DOCTYPE html><p>"),
	} {
		r := upload(t, agent, s, id, name, data)
		if r.Status != 422 || !bytes.Contains(r.Body, []byte(`"file"`)) {
			t.Errorf("%s: %d %s, want 422 naming file", name, r.Status, r.Body)
		}
	}
	if r := agent.Do(t, "POST", path(id, "attachments"), map[string]any{"file": "x"}); r.Status != 400 {
		t.Errorf("JSON upload: %d", r.Status)
	}
	big := upload(t, agent, s, id, "big.txt", bytes.Repeat([]byte("a"), ticket.MaxAttachmentSize+1))
	if big.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d %s", big.Status, big.Body)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM ticket_attachments`); n != 2 {
		t.Errorf("%d attachments stored, want 2", n)
	}
	if r := s.As(t, "agent@ops").Do(t, "GET", att.URL, nil); r.Status != 404 {
		t.Errorf("other department download: %d", r.Status)
	}
	list := agent.Do(t, "GET", path(id, "attachments"), nil)
	if list.Status != 200 || !bytes.Contains(list.Body, []byte("notes.txt")) {
		t.Errorf("list: %d %s", list.Status, list.Body)
	}
}

// TestPortalCustomer: a customer actor sees only their own requests and only the public
// timeline; they can reply, confirm and reopen, nothing else.
func TestPortalCustomer(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	staff := actorCtx(t, s, s.As(t, "director")) // the customers belong to no department
	svc := s.App.Ticket
	a := newCustomer(t, s, "Customer A", "regular", "A")
	b := newCustomer(t, s, "Customer B", "regular", "A")
	ca, cb := customerCtx(a.ID), customerCtx(b.ID)
	in := input(b.ID) // a customer cannot create for someone else: the id is forced
	in.Channel = ticket.ChannelPhone
	mine, err := svc.CreateTicket(ca, in)
	if err != nil {
		t.Fatal(err)
	}
	if mine.CustomerID != a.ID || mine.Channel != ticket.ChannelPortal || mine.CreatedBy != 0 {
		t.Fatalf("portal creation = %+v", mine)
	}
	theirs, err := svc.CreateTicket(cb, input(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.GetTicket(ca, theirs.ID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("A reads B's request: %v", err)
	}
	if _, err := svc.Events(ca, theirs.ID, 0, 50); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("A reads B's timeline: %v", err)
	}
	if _, _, err := svc.Reply(ca, theirs.ID, ticket.ReplyInput{Body: "hi"}); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("A replies to B's request: %v", err)
	}
	p, err := svc.ListTickets(ca, ticket.Filter{}, 50, "")
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != mine.ID {
		t.Fatalf("A's list = %v %v", p.Items, err)
	}
	if _, _, err := svc.Note(staff, mine.ID, "internal remark"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Note(ca, mine.ID, "x"); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("customer note: %v", err)
	}
	if _, err := svc.PatchTicket(ca, mine.ID, ticket.Patch{}); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("customer patch: %v", err)
	}
	if _, err := svc.Transition(ca, mine.ID, ticket.StatusResolved, ""); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("customer resolves: %v", err)
	}
	if _, err := svc.Confirm(ca, mine.ID); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("confirm before resolution: %v", err)
	}
	if _, _, err := svc.Reply(staff, mine.ID, ticket.ReplyInput{Body: "Fixed?", Status: ticket.StatusWaitingCustomer}); err != nil {
		t.Fatal(err)
	}
	tk, ev, err := svc.Reply(ca, mine.ID, ticket.ReplyInput{Body: "Yes, thanks"})
	if err != nil || ev.Kind != ticket.EventCustomerReply || tk.Status != ticket.StatusInProgress {
		t.Fatalf("customer reply: %v %v %v", ev.Kind, tk.Status, err)
	}
	evs, err := svc.Events(ca, mine.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if !e.Public || e.Kind == ticket.EventNote {
			t.Fatalf("customer sees %s (public %v)", e.Kind, e.Public)
		}
	}
	if _, err := svc.Transition(staff, mine.ID, ticket.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	tk, err = svc.Confirm(ca, mine.ID)
	if err != nil || tk.Status != ticket.StatusClosed || tk.ConfirmedAt.IsZero() {
		t.Fatalf("confirm: %v %v", tk.Status, err)
	}
	if _, err := svc.Reopen(ca, mine.ID, ""); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("reopen without reason: %v", err)
	}
	tk, err = svc.Reopen(ca, mine.ID, "It leaks again")
	if err != nil || tk.Status != ticket.StatusReopened || tk.ReopenCount != 1 {
		t.Fatalf("reopen: %v %v", tk.Status, err)
	}
	if _, err := svc.Reopen(cb, mine.ID, "not mine"); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("B reopens A's: %v", err)
	}
}

// TestCategoriesAndCanned: the category tree refuses cycles; canned replies render
// their placeholders for a request.
func TestCategoriesAndCanned(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	dir := s.As(t, "director")
	sup := s.As(t, "supervisor")
	team(t, s, sup, "cs", "Hotline")
	r := dir.Do(t, "POST", "/api/v1/ticket-categories", map[string]any{"name": "Appliances", "skill": "appliance"})
	if r.Status != 201 {
		t.Fatalf("create category: %d %s", r.Status, r.Body)
	}
	root := decode[ticket.CategoryView](t, r.Body)
	r = dir.Do(t, "POST", "/api/v1/ticket-categories", map[string]any{"name": "Water heaters", "parent_id": root.ID})
	child := decode[ticket.CategoryView](t, r.Body)
	if r := dir.Do(t, "PATCH", fmt.Sprintf("/api/v1/ticket-categories/%d", root.ID), map[string]any{"parent_id": child.ID}); r.Status != 428 {
		t.Fatalf("no version: %d %s", r.Status, r.Body)
	}
	if r := dir.Do(t, "PATCH", fmt.Sprintf("/api/v1/ticket-categories/%d", root.ID), map[string]any{"parent_id": child.ID, "version": root.Version}); r.Status != 422 {
		t.Fatalf("cycle: %d %s", r.Status, r.Body)
	}
	r = dir.Do(t, "PATCH", fmt.Sprintf("/api/v1/ticket-categories/%d", root.ID), map[string]any{"skill": "heaters", "version": root.Version})
	if r.Status != 200 || decode[ticket.CategoryView](t, r.Body).Version != root.Version+1 {
		t.Fatalf("patch category: %d %s", r.Status, r.Body)
	}
	if r := dir.Do(t, "PATCH", fmt.Sprintf("/api/v1/ticket-categories/%d", root.ID), map[string]any{"skill": "x", "version": root.Version}); r.Status != 409 ||
		!bytes.Contains(r.Body, []byte(`"version_conflict"`)) {
		t.Fatalf("stale category patch: %d %s", r.Status, r.Body)
	}
	if r := dir.Do(t, "DELETE", fmt.Sprintf("/api/v1/ticket-categories/%d", root.ID), nil); r.Status != 409 {
		t.Fatalf("delete parent: %d %s", r.Status, r.Body)
	}
	if r := sup.Do(t, "GET", "/api/v1/ticket-categories", nil); r.Status != 200 || !bytes.Contains(r.Body, []byte("Water heaters")) {
		t.Fatalf("list categories: %d", r.Status)
	}
	c := ownedBy(t, s, newCustomer(t, s, "Zhao Liu", "regular", "B"), sup)
	v := createAPI(t, sup, map[string]any{"type": "inquiry", "channel": "phone", "severity": "general",
		"title": "Heater", "customer_id": c.ID, "category_id": child.ID})
	r = sup.Do(t, "POST", "/api/v1/canned-replies", map[string]any{"title": "Greeting",
		"body": "您好，{customer_name}！工单 {number}（{title}）由{agent_name}处理。"})
	if r.Status != 201 {
		t.Fatalf("create canned: %d %s", r.Status, r.Body)
	}
	cv := decode[ticket.CannedView](t, r.Body)
	if r := sup.Do(t, "GET", "/api/v1/canned-replies", nil); !bytes.Contains(r.Body, []byte("Greeting")) {
		t.Fatalf("list canned: %s", r.Body)
	}
	r = sup.Do(t, "GET", fmt.Sprintf("%s/canned-replies/%d", path(idOf(v)), cv.ID), nil)
	want := fmt.Sprintf("您好，Zhao Liu！工单 %s（Heater）由Test supervisor_cs处理。", v["number"])
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(want)) {
		t.Fatalf("render: %d %s, want %s", r.Status, r.Body, want)
	}
	if r := sup.Do(t, "POST", "/api/v1/canned-replies", map[string]any{"title": "x", "body": "y", "dept_id": 999}); r.Status != 422 {
		t.Fatalf("other dept canned: %d %s", r.Status, r.Body)
	}
	if r := sup.Do(t, "DELETE", fmt.Sprintf("/api/v1/canned-replies/%d", cv.ID), nil); r.Status != 204 {
		t.Fatalf("delete canned: %d", r.Status)
	}
}
