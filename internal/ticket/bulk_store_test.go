package ticket_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// TestBulkInsert loads requests over several multi-row statements and two days through
// the bench and demo bulk path: ids and numbers set, numbers unique and continued by
// CreateTicket, rows as given, a created entry each, searchable.
func TestBulkInsert(t *testing.T) {
	d := dbtest.New(t)
	day := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC) // 09:00 in China
	fake := clock.NewFake(day.Add(2 * time.Hour))
	s, err := ticket.New(ticket.Deps{DB: d, Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	ctx := authz.WithActor(context.Background(), authz.System("test"))
	const n = 1203
	ts := make([]ticket.Ticket, n)
	for i := range ts {
		at := day.Add(time.Duration(i) * time.Minute) // 20 hours: crosses midnight in China
		ts[i] = ticket.Ticket{Type: ticket.TypeInquiry, Channel: ticket.ChannelPhone, Severity: ticket.SeverityGeneral,
			Priority: ticket.PriorityNormal, Status: ticket.StatusClosed, Title: fmt.Sprintf("bulk %d", i),
			Body: "\u6f0f\u6c34", CreatedAt: at, ClosedAt: at.Add(time.Hour)}
	}
	ts[7].Status, ts[7].Body = ticket.StatusInProgress, "\u9000\u6b3e"
	if err := s.BulkInsert(ctx, ts); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	days := map[string]int{}
	for i, tk := range ts {
		if tk.ID == 0 || tk.Number == "" || seen[tk.Number] {
			t.Fatalf("request %d: id %d number %q", i, tk.ID, tk.Number)
		}
		seen[tk.Number] = true
		days[tk.Number[:10]]++
	}
	if len(days) != 2 {
		t.Fatalf("numbers over days %v", days)
	}
	got, err := s.Store().GetTicket(ctx, ts[7].ID)
	if err != nil || got.Number != ts[7].Number || got.Status != ticket.StatusInProgress || got.Version != 1 ||
		!got.ClosedAt.Equal(ts[7].ClosedAt) {
		t.Fatalf("stored %+v, %v", got, err)
	}
	evs, err := s.Store().Events(ctx, got.ID, 0, 10, false)
	if err != nil || len(evs) != 1 || evs[0].Kind != ticket.EventCreated {
		t.Fatalf("timeline %+v, %v", evs, err)
	}
	page, err := s.ListTickets(ctx, ticket.Filter{Q: "\u9000\u6b3e"}, 10, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != got.ID {
		t.Fatalf("search: %+v, %v", page.Items, err)
	}
	// CreateTicket on the first day continues its sequence.
	created, err := s.CreateTicket(ctx, ticket.Input{Type: ticket.TypeInquiry, Channel: ticket.ChannelPhone,
		Severity: ticket.SeverityGeneral, Title: "after the bulk load"})
	if err != nil {
		t.Fatal(err)
	}
	if want := ticket.FormatNumber(fake.Now(), int64(days[created.Number[:10]]+1)); created.Number != want {
		t.Fatalf("number after bulk load %s, want %s", created.Number, want)
	}
	if err := s.BulkInsert(ctx, []ticket.Ticket{{Title: "no date"}}); err == nil {
		t.Fatal("bulk insert without created_at accepted")
	}
}
