package ticket_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// testHook is a TypeHook that writes a timeline entry inside the creating transaction
// (through AddEvent, which joins it) and then fails when fail is set.
type testHook struct {
	svc     *ticket.Service
	fail    bool
	created []json.RawMessage // ext of every Created call
	retyped []string          // "from->to" of every Retyped call
	inTx    []bool            // whether Created ran inside a transaction
	refuse  bool              // Retyped fails
}

func (h *testHook) Created(ctx context.Context, t *ticket.Ticket, ext json.RawMessage) error {
	h.created = append(h.created, ext)
	if t.ID == 0 || t.Number == "" {
		return fmt.Errorf("hook: request not stored yet")
	}
	if _, err := h.svc.AddEvent(ctx, t.ID, ticket.Event{Kind: ticket.EventComplaint, Public: true,
		Data: map[string]any{"to": "received", "ext": string(ext)}}); err != nil {
		return err
	}
	if h.fail {
		return apperr.InvalidField("complaint.level", "field.required")
	}
	return nil
}

func (h *testHook) Retyped(ctx context.Context, t *ticket.Ticket, from ticket.Type) error {
	h.retyped = append(h.retyped, string(from)+"->"+string(t.Type))
	if h.refuse {
		return apperr.New(apperr.Conflict, "ticket.invalid.complaint_details")
	}
	_, err := h.svc.AddEvent(ctx, t.ID, ticket.Event{Kind: ticket.EventComplaint,
		Data: map[string]any{"retyped_from": string(from)}})
	return err
}

// noErr marks a case that must succeed (no error kind expected).
const noErr = apperr.Internal

func kinds(evs []ticket.Event) []ticket.EventKind {
	out := make([]ticket.EventKind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}

func timeline(t *testing.T, s *apptest.Server, id int64) []ticket.Event {
	t.Helper()
	evs, err := s.App.Ticket.Events(apptest.SystemCtx(), id, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestTypeHookCreated: the hook of a type runs inside the creating transaction (what it
// writes is there on success, gone with the request when it fails), gets the complaint
// details untouched (nil when absent), and its error reaches the client.
func TestTypeHookCreated(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "supervisor")
	hook := &testHook{svc: s.App.Ticket}
	s.App.Ticket.SetTypeHook(ticket.TypeComplaint, hook)
	complaint := func(ext any) map[string]any {
		m := map[string]any{"type": "complaint", "channel": "phone", "severity": "major", "title": "Rude installer"}
		if ext != nil {
			m["complaint"] = ext
		}
		return m
	}
	cases := []struct {
		name    string
		fail    bool
		body    any
		status  int
		wantExt string // what the hook got ("" = nil)
	}{
		{"details passed untouched", false, complaint(map[string]any{"level": "major", "note": "line\nbreak"}), 201,
			`{"level":"major","note":"line\nbreak"}`},
		{"anonymous without details", false, complaint(nil), 201, ""},
		{"null details", false, `{"type":"complaint","channel":"web","severity":"general","title":"Noise","complaint":null}`, 201, ""},
		{"hook refuses", true, complaint(map[string]any{"level": ""}), 422, `{"level":""}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hook.fail, hook.created = tc.fail, nil
			before := count(t, s, `SELECT COUNT(*) FROM tickets`)
			beforeEv := count(t, s, `SELECT COUNT(*) FROM ticket_events`)
			r := agent.Do(t, "POST", "/api/v1/tickets", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if len(hook.created) != 1 {
				t.Fatalf("hook called %d times", len(hook.created))
			}
			if got := string(hook.created[0]); got != tc.wantExt {
				t.Fatalf("hook got %q, want %q", got, tc.wantExt)
			}
			if tc.wantExt == "" && hook.created[0] != nil {
				t.Fatalf("hook got %q, want nil", hook.created[0])
			}
			if tc.fail {
				if !bytes.Contains(r.Body, []byte(`"complaint.level"`)) {
					t.Fatalf("error does not name complaint.level: %s", r.Body)
				}
				if n := count(t, s, `SELECT COUNT(*) FROM tickets`); n != before {
					t.Fatalf("%d requests after a refused hook, want %d", n, before)
				}
				if n := count(t, s, `SELECT COUNT(*) FROM ticket_events`); n != beforeEv {
					t.Fatalf("%d events after a refused hook, want %d", n, beforeEv)
				}
				return
			}
			id := idOf(r.JSON(t))
			evs := timeline(t, s, id)
			if !slices.Contains(kinds(evs), ticket.EventComplaint) {
				t.Fatalf("timeline %v lacks the hook's entry", kinds(evs))
			}
			if got, err := s.App.Ticket.Load(context.Background(), id); err != nil || got.CustomerID != 0 || got.ContactName != "" {
				t.Fatalf("anonymous complaint stored with customer %d contact %q (%v)", got.CustomerID, got.ContactName, err)
			}
		})
	}
	// A portal customer's complaint reaches the hook too (no details).
	c := newCustomer(t, s, "Portal Complainer", "", "")
	hook.fail, hook.created = false, nil
	if _, err := s.App.Ticket.CreateTicket(customerCtx(c.ID), ticket.Input{Type: ticket.TypeComplaint,
		Channel: ticket.ChannelPortal, Severity: ticket.SeverityGeneral, Title: "Late delivery"}); err != nil {
		t.Fatalf("portal complaint: %v", err)
	}
	if len(hook.created) != 1 || hook.created[0] != nil {
		t.Fatalf("hook calls for the portal complaint: %q", hook.created)
	}
}

// TestComplaintDetailsRefused: details for a type without a hook (or any other type
// than complaint) are refused with 422 naming "complaint"; nothing is stored.
func TestComplaintDetailsRefused(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "supervisor")
	s.App.Ticket.SetTypeHook(ticket.TypeComplaint, nil) // whatever the app registered
	cases := []struct {
		name, body string
		status     int
	}{
		{"inquiry with details", `{"type":"inquiry","channel":"phone","severity":"general","title":"Q","complaint":{"level":"major"}}`, 422},
		{"complaint without a hook", `{"type":"complaint","channel":"phone","severity":"general","title":"Q","complaint":{"level":"major"}}`, 422},
		{"details as a string", `{"type":"inquiry","channel":"phone","severity":"general","title":"Q","complaint":"x"}`, 422},
		{"null is no details", `{"type":"inquiry","channel":"phone","severity":"general","title":"Q","complaint":null}`, 201},
		{"malformed details", `{"type":"inquiry","channel":"phone","severity":"general","title":"Q","complaint":{"a":1,"a":2}}`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := count(t, s, `SELECT COUNT(*) FROM tickets`)
			r := agent.Do(t, "POST", "/api/v1/tickets", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status == 422 {
				var body struct {
					Error struct {
						Fields map[string]any `json:"fields"`
					} `json:"error"`
				}
				if err := json.Unmarshal(r.Body, &body); err != nil || body.Error.Fields["complaint"] == nil {
					t.Fatalf("422 does not name complaint: %s", r.Body)
				}
			}
			if tc.status != 201 {
				if n := count(t, s, `SELECT COUNT(*) FROM tickets`); n != before {
					t.Fatalf("a refused request was stored")
				}
			}
		})
	}
	// With a hook for complaint, an inquiry still may not carry the details.
	s.App.Ticket.SetTypeHook(ticket.TypeComplaint, &testHook{svc: s.App.Ticket})
	if r := agent.Do(t, "POST", "/api/v1/tickets", cases[0].body); r.Status != 422 {
		t.Fatalf("inquiry with details and a complaint hook: %d %s", r.Status, r.Body)
	}
}

// TestTypeHookRetyped: a type change to or from the hooked type calls Retyped in the
// patch's transaction; its refusal keeps the request as it was.
func TestTypeHookRetyped(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "supervisor")
	hook := &testHook{svc: s.App.Ticket}
	s.App.Ticket.SetTypeHook(ticket.TypeComplaint, hook)
	v := createAPI(t, agent, map[string]any{"type": "inquiry", "channel": "phone", "severity": "general", "title": "Q"})
	id := idOf(v)
	patch := func(typ string) *apptest.Response {
		cur, err := s.App.Ticket.Load(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return agent.Do(t, "PATCH", path(id), map[string]any{"type": typ, "version": cur.Version})
	}
	steps := []struct {
		typ     string
		refuse  bool
		status  int
		retyped []string
		stored  ticket.Type
	}{
		{"suggestion", false, 200, nil, ticket.TypeSuggestion},
		{"complaint", false, 200, []string{"suggestion->complaint"}, ticket.TypeComplaint},
		{"inquiry", true, 409, []string{"complaint->inquiry"}, ticket.TypeComplaint},
		{"inquiry", false, 200, []string{"complaint->inquiry"}, ticket.TypeInquiry},
	}
	for i, st := range steps {
		t.Run(fmt.Sprint(i, st.typ), func(t *testing.T) {
			hook.refuse, hook.retyped = st.refuse, nil
			evBefore := len(timeline(t, s, id))
			r := patch(st.typ)
			if r.Status != st.status {
				t.Fatalf("status %d, want %d: %s", r.Status, st.status, r.Body)
			}
			if !slices.Equal(hook.retyped, st.retyped) {
				t.Fatalf("retyped %v, want %v", hook.retyped, st.retyped)
			}
			got, err := s.App.Ticket.Load(context.Background(), id)
			if err != nil || got.Type != st.stored {
				t.Fatalf("stored type %s (%v), want %s", got.Type, err, st.stored)
			}
			evs := timeline(t, s, id)
			switch {
			case st.refuse && len(evs) != evBefore:
				t.Fatalf("a refused change left %d new events", len(evs)-evBefore)
			case !st.refuse && st.retyped != nil && evs[len(evs)-1].Kind != ticket.EventComplaint:
				t.Fatalf("the hook's entry is not on the timeline: %v", kinds(evs))
			}
		})
	}
}

// TestFollow: Follow reaches a status through the shortest legal path, one status event
// (with the reason) per step and the lifecycle stamps; the same status changes nothing;
// an unreachable status is refused.
func TestFollow(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "supervisor")
	ctx := actorCtx(t, s, agent)
	svc := s.App.Ticket
	newReq := func(t *testing.T) ticket.Ticket {
		tk, err := svc.CreateTicket(ctx, ticket.Input{Type: ticket.TypeComplaint, Channel: ticket.ChannelPhone,
			Severity: ticket.SeverityGeneral, Title: "Follow me"})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	cases := []struct {
		name  string
		setup []ticket.Status // Follow steps before the one under test
		to    ticket.Status
		path  []string // "from->to" of the new status events
		err   apperr.Kind
	}{
		{"direct", nil, ticket.StatusInProgress, []string{"new->in_progress"}, noErr},
		{"new to closed passes resolved", nil, ticket.StatusClosed, []string{"new->resolved", "resolved->closed"}, noErr},
		{"closed to in_progress passes reopened", []ticket.Status{ticket.StatusClosed}, ticket.StatusInProgress,
			[]string{"closed->reopened", "reopened->in_progress"}, noErr},
		{"same status", []ticket.Status{ticket.StatusInProgress}, ticket.StatusInProgress, nil, noErr},
		{"cancelled refuses", []ticket.Status{ticket.StatusCancelled}, ticket.StatusInProgress, nil, apperr.Conflict},
		{"unknown status", nil, "nowhere", nil, apperr.Invalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tk := newReq(t)
			for _, st := range tc.setup {
				var err error
				if tk, err = svc.Follow(ctx, tk.ID, st, "setup"); err != nil {
					t.Fatalf("setup to %s: %v", st, err)
				}
			}
			before := len(timeline(t, s, tk.ID))
			before2 := tk
			got, err := svc.Follow(ctx, tk.ID, tc.to, "stage moved")
			if tc.err != noErr {
				if apperr.KindOf(err) != tc.err {
					t.Fatalf("err = %v, want kind %v", err, tc.err)
				}
				if n := len(timeline(t, s, tk.ID)); n != before {
					t.Fatalf("a refused Follow added %d events", n-before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.to {
				t.Fatalf("status %s, want %s", got.Status, tc.to)
			}
			evs := timeline(t, s, tk.ID)[before:]
			var steps []string
			for _, e := range evs {
				if e.Kind != ticket.EventStatus {
					continue
				}
				steps = append(steps, fmt.Sprint(e.Data["from"], "->", e.Data["to"]))
				if e.Data["reason"] != "stage moved" || e.ActorKind != authz.KindStaff || e.ActorID != agent.Staff.ID {
					t.Errorf("status event %v by %s %d, want the reason and the agent", e.Data, e.ActorKind, e.ActorID)
				}
			}
			if !slices.Equal(steps, tc.path) {
				t.Fatalf("steps %v, want %v", steps, tc.path)
			}
			if tc.path == nil && (got.Version != before2.Version || len(evs) != 0) {
				t.Fatalf("a no-op Follow wrote: version %d -> %d, %d events", before2.Version, got.Version, len(evs))
			}
			if tc.to == ticket.StatusClosed && (got.ResolvedAt.IsZero() || got.ClosedAt.IsZero()) {
				t.Fatalf("stamps: resolved %v closed %v", got.ResolvedAt, got.ClosedAt)
			}
			if tc.to == ticket.StatusInProgress && len(tc.setup) > 0 && tc.setup[0] == ticket.StatusClosed && got.ReopenCount != 1 {
				t.Fatalf("reopen count %d", got.ReopenCount)
			}
		})
	}
	// Inside a caller's transaction that fails, nothing of Follow stays.
	tk := newReq(t)
	boom := fmt.Errorf("boom")
	err := s.App.DB.WithTx(ctx, func(ctx context.Context) error {
		if _, err := svc.Follow(ctx, tk.ID, ticket.StatusResolved, "x"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if got, _ := svc.Load(context.Background(), tk.ID); got.Status != ticket.StatusNew {
		t.Fatalf("status %s after a rolled back Follow", got.Status)
	}
}

// TestAddEvent: AddEvent appends an entry (actor from ctx unless given), stamps the last
// activity and leaves the version alone; lifecycle kinds and unknown requests are refused.
func TestAddEvent(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	agent := s.As(t, "supervisor")
	ctx := actorCtx(t, s, agent)
	svc := s.App.Ticket
	tk, err := svc.CreateTicket(ctx, ticket.Input{Type: ticket.TypeComplaint, Channel: ticket.ChannelPhone,
		Severity: ticket.SeverityGeneral, Title: "Timeline"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		id        int64
		ev        ticket.Event
		err       apperr.Kind
		actorKind authz.Kind
		actorID   int64
	}{
		{"actor from ctx", tk.ID, ticket.Event{Kind: ticket.EventComplaint, Body: "Assessing the complaint",
			Data: map[string]any{"from": "received", "to": "assessing"}}, noErr, authz.KindStaff, agent.Staff.ID},
		{"actor given", tk.ID, ticket.Event{Kind: ticket.EventComplaint, ActorKind: authz.KindSystem, ActorName: "complaint",
			Data: map[string]any{"to": "investigating"}}, noErr, authz.KindSystem, 0},
		{"status kind refused", tk.ID, ticket.Event{Kind: ticket.EventStatus}, apperr.Invalid, "", 0},
		{"no kind", tk.ID, ticket.Event{}, apperr.Invalid, "", 0},
		{"unknown request", 987654, ticket.Event{Kind: ticket.EventComplaint}, apperr.NotFound, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, err := svc.Load(context.Background(), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := svc.AddEvent(ctx, tc.id, tc.ev)
			if tc.err != noErr {
				if apperr.KindOf(err) != tc.err {
					t.Fatalf("err = %v, want kind %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.ID == 0 || ev.ActorKind != tc.actorKind || ev.ActorID != tc.actorID {
				t.Fatalf("event %+v", ev)
			}
			after, err := svc.Load(context.Background(), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Version != before.Version || after.Status != before.Status {
				t.Fatalf("version %d -> %d, status %s -> %s", before.Version, after.Version, before.Status, after.Status)
			}
			if after.LastActivityAt.Before(before.LastActivityAt) || after.LastActivityAt.IsZero() {
				t.Fatalf("last activity %v -> %v", before.LastActivityAt, after.LastActivityAt)
			}
			evs := timeline(t, s, tk.ID)
			last := evs[len(evs)-1]
			if last.ID != ev.ID || last.Kind != ticket.EventComplaint || last.Data["to"] != tc.ev.Data["to"] {
				t.Fatalf("last timeline entry %+v", last)
			}
		})
	}
	// The request page labels the entry.
	br := s.Browser(t, "supervisor_cs", apptest.Password)
	pageHas(t, br.Do(t, "GET", fmt.Sprintf("/tickets/%d", tk.ID), nil), http.StatusOK,
		[]string{`data-kind="complaint"`, "Assessing the complaint"}, nil)
}
