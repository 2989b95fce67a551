package ticket_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// TestCustomerPageHistory: the customer page lists the customer's requests newest
// first with their type and state, linked to their pages, and only those the viewer
// reaches: a request placed in another department stays off a supervisor's page, and a
// viewer without ticket:read sees none.
func TestCustomerPageHistory(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sup, dir := s.As(t, "supervisor"), s.As(t, "director")
	s.As(t, "archivist")
	ops := s.Dept(t, "ops", "Field operations")
	c := ownedBy(t, s, newCustomer(t, s, "History Customer", "", ""), sup)
	other := newCustomer(t, s, "Someone Else", "", "")

	ours := createAPI(t, sup, map[string]any{"type": "repair", "channel": "phone", "severity": "general",
		"fault_level": 1, "title": "Heater makes noise", "customer_id": c.ID})
	if _, err := s.App.Ticket.Follow(actorCtx(t, s, sup), idOf(ours), ticket.StatusInProgress, ""); err != nil {
		t.Fatal(err)
	}
	theirs := createAPI(t, dir, map[string]any{"type": "inquiry", "channel": "phone", "severity": "general",
		"title": "Invoice question", "customer_id": c.ID, "dept_id": ops.ID, "reason": "Billing is handled by ops"})
	elsewhere := createAPI(t, dir, map[string]any{"type": "inquiry", "channel": "phone", "severity": "general",
		"title": "Other customer's request", "customer_id": other.ID})
	num := func(v map[string]any) string { return v["number"].(string) }
	link := func(v map[string]any) string { return fmt.Sprintf(`href="/tickets/%d"`, idOf(v)) }

	cases := []struct {
		name      string
		user      string
		want, not []string
		order     []string // these appear in this order
	}{
		{"supervisor sees their department's request", "supervisor_cs",
			[]string{`id="history"`, `id="history-table"`, num(ours), link(ours), "Heater makes noise", "Repair", "In progress"},
			[]string{num(theirs), "Invoice question", num(elsewhere), `id="history-none"`}, nil},
		{"director sees both, newest first", "director_cs",
			[]string{num(ours), num(theirs), "Inquiry", "New"}, []string{num(elsewhere)}, []string{num(theirs), num(ours)}},
		{"no ticket:read, no requests", "archivist_cs",
			[]string{`id="history"`, `id="history-none"`}, []string{num(ours), num(theirs)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			br := s.Browser(t, tc.user, apptest.Password)
			br.Lang = "en"
			r := br.Do(t, "GET", fmt.Sprintf("/customers/%d", c.ID), nil)
			pageHas(t, r, http.StatusOK, tc.want, tc.not)
			last := -1
			for _, w := range tc.order {
				i := bytes.Index(r.Body, []byte(w))
				if i < last {
					t.Fatalf("%s is not in order %v", w, tc.order)
				}
				last = i
			}
		})
	}
}

// TestCustomerHistorySource: the request source lists the customer's requests in the
// actor's scope, newest first, at most limit, with type and status messages.
func TestCustomerHistorySource(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	c := ownedBy(t, s, newCustomer(t, s, "Source Customer", "", ""), sup)
	var ids []int64
	for i := range 3 {
		v := createAPI(t, sup, map[string]any{"type": "inquiry", "channel": "phone", "severity": "general",
			"title": fmt.Sprint("Question ", i), "customer_id": c.ID})
		ids = append(ids, idOf(v))
	}
	var src customer.HistorySource = s.App.Ticket
	items, err := src.CustomerHistory(actorCtx(t, s, sup), c.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].URL != fmt.Sprintf("/tickets/%d", ids[2]) || items[1].URL != fmt.Sprintf("/tickets/%d", ids[1]) {
		t.Fatalf("items %+v", items)
	}
	if it := items[0]; it.Kind.Key != "ticket.type.inquiry" || it.State.Key != "ticket.status.new" || it.Title != "Question 2" ||
		it.Ref == "" || it.At.IsZero() {
		t.Fatalf("item %+v", it)
	}
	if items, err := src.CustomerHistory(customerCtx(c.ID), c.ID, 10); err != nil || len(items) != 0 {
		t.Fatalf("a portal customer got %d items (%v)", len(items), err)
	}
}
