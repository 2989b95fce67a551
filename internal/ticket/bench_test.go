package ticket_test

import (
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// BenchmarkCreateTicket measures request creation at the service level: validation,
// customer lookup, number, priority, SLA, assignment, row, timeline, audit, search
// index, notification hooks and events, one transaction each.
func BenchmarkCreateTicket(b *testing.B) {
	s := apptest.New(b)
	agent := s.As(b, "agent")
	team(b, s, agent, "cs", "Hotline")
	ctx := actorCtx(b, s, agent)
	c := newCustomer(b, s, "Bench Customer", "vip", "A")
	in := input(c.ID)
	in.Title = "厨房水管漏水，需要上门维修"
	in.Body = "客户反映厨房水槽下方的水管接头处一直在滴水，已经持续两天，希望尽快安排师傅上门。"
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.App.Ticket.CreateTicket(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateTicketParallel is BenchmarkCreateTicket from concurrent callers (as
// the HTTP server runs them; SQLite commits them in groups).
func BenchmarkCreateTicketParallel(b *testing.B) {
	s := apptest.New(b)
	agent := s.As(b, "agent")
	team(b, s, agent, "cs", "Hotline")
	ctx := actorCtx(b, s, agent)
	c := newCustomer(b, s, "Bench Customer", "vip", "A")
	in := input(c.ID)
	in.Title = "厨房水管漏水，需要上门维修"
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.App.Ticket.CreateTicket(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

var _ = ticket.TypeRepair
