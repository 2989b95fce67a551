package portal

import (
	"context"

	"github.com/kefu-cn/kefu/internal/kb"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// NewRequest is what a customer submits from the portal.
type NewRequest struct {
	Type    ticket.Type
	SubKind string
	Title   string
	Body    string
	// FaultLevel is how bad a repair is (1 minor .. 3 critical); repairs only.
	FaultLevel int
}

// Tickets is the request service as the portal uses it. Every method runs with the
// signed-in customer as the actor in ctx and must enforce the customer-actor rules
// itself (a customer reaches only requests whose CustomerID is theirs; anything else
// reads as not found); the portal checks ownership again on top.
type Tickets interface {
	// Submit creates a request for the customer in ctx (channel portal).
	Submit(ctx context.Context, in NewRequest) (ticket.Ticket, error)
	// Mine lists the customer's requests, newest first, by keyset cursor.
	Mine(ctx context.Context, customerID int64, cursor string, limit int) ([]ticket.Ticket, string, error)
	// Get reads one request.
	Get(ctx context.Context, id int64) (ticket.Ticket, error)
	// Timeline lists the request's events, oldest first (the portal filters them).
	Timeline(ctx context.Context, id int64) ([]ticket.Event, error)
	// Reply adds a customer reply.
	Reply(ctx context.Context, id int64, body string) error
	// Confirm records the customer's confirmation of a resolved request (it closes it).
	Confirm(ctx context.Context, id int64) error
	// Reopen reopens a resolved request with the customer's reason.
	Reopen(ctx context.Context, id int64, reason string) error
}

// KnowledgeBase is the published FAQ (kb.Service).
type KnowledgeBase interface {
	PublishedSearch(ctx context.Context, q string, limit int) ([]kb.Article, error)
	PublishedArticle(ctx context.Context, id int64) (kb.Article, error)
}

// TicketService adapts the request service to what the portal needs. The service
// applies its customer-actor rules (own requests only, public timeline only, portal
// channel, confirm and reopen as the only transitions) and audits every read.
func TicketService(s *ticket.Service) Tickets { return ticketAdapter{s: s} }

type ticketAdapter struct{ s *ticket.Service }

// maxTimeline bounds the events a request page loads.
const (
	timelineBatch = 200
	maxTimeline   = 2000
)

func (a ticketAdapter) Submit(ctx context.Context, in NewRequest) (ticket.Ticket, error) {
	return a.s.CreateTicket(ctx, ticket.Input{Type: in.Type, SubKind: in.SubKind, Title: in.Title, Body: in.Body,
		FaultLevel: in.FaultLevel, Channel: ticket.ChannelPortal, Severity: ticket.SeverityGeneral})
}

func (a ticketAdapter) Mine(ctx context.Context, customerID int64, cursor string, limit int) ([]ticket.Ticket, string, error) {
	p, err := a.s.ListTickets(ctx, ticket.Filter{CustomerID: customerID}, limit, cursor)
	return p.Items, p.NextCursor, err
}

func (a ticketAdapter) Get(ctx context.Context, id int64) (ticket.Ticket, error) {
	return a.s.GetTicket(ctx, id)
}

func (a ticketAdapter) Timeline(ctx context.Context, id int64) ([]ticket.Event, error) {
	var out []ticket.Event
	var after int64
	for len(out) < maxTimeline {
		evs, err := a.s.Events(ctx, id, after, timelineBatch)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
		if len(evs) < timelineBatch {
			break
		}
		after = evs[len(evs)-1].ID
	}
	return out, nil
}

func (a ticketAdapter) Reply(ctx context.Context, id int64, body string) error {
	_, _, err := a.s.Reply(ctx, id, ticket.ReplyInput{Body: body})
	return err
}

func (a ticketAdapter) Confirm(ctx context.Context, id int64) error {
	_, err := a.s.Confirm(ctx, id)
	return err
}

func (a ticketAdapter) Reopen(ctx context.Context, id int64, reason string) error {
	_, err := a.s.Reopen(ctx, id, reason)
	return err
}
