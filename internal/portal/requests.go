package portal

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Limits of what a customer types.
const (
	listLimit    = 20
	maxReplyLen  = 10000 // runes
	maxReasonLen = 1000  // runes
	thingRequest = "portal.thing.request"
)

// The request use cases as the signed-in customer. Each checks that the request is the
// customer's own (another customer's reads as not found, exactly like a missing one)
// before the ticket service, which applies its own customer-actor rules, acts.

// Mine lists the signed-in customer's requests, newest first (the ticket service
// audits the read as "ticket.list").
func (s *Service) Mine(ctx context.Context, customerID int64, cursor string) ([]ticket.Ticket, string, error) {
	a, err := customerActor(ctx)
	if err != nil {
		return nil, "", err
	}
	if s.tickets == nil {
		return nil, "", apperr.NotFoundf(thingRequest)
	}
	if customerID != a.ID {
		return nil, "", apperr.NotFoundf(thingRequest)
	}
	items, next, err := s.tickets.Mine(ctx, a.ID, cursor, listLimit)
	if err != nil {
		return nil, "", err
	}
	own := items[:0]
	for _, t := range items {
		if t.CustomerID == a.ID {
			own = append(own, t)
		}
	}
	return own, next, nil
}

// own reads request id if it belongs to the signed-in customer.
func (s *Service) own(ctx context.Context, id int64) (ticket.Ticket, error) {
	a, err := customerActor(ctx)
	if err != nil {
		return ticket.Ticket{}, err
	}
	if s.tickets == nil {
		return ticket.Ticket{}, apperr.NotFoundf(thingRequest)
	}
	t, err := s.tickets.Get(ctx, id)
	if err != nil {
		if k := apperr.KindOf(err); k == apperr.NotFound || k == apperr.Forbidden {
			return ticket.Ticket{}, apperr.NotFoundf(thingRequest)
		}
		return ticket.Ticket{}, err
	}
	if t.CustomerID != a.ID {
		return ticket.Ticket{}, apperr.NotFoundf(thingRequest)
	}
	return t, nil
}

// Request reads one of the customer's requests with its public timeline (the ticket
// service audits the read as "ticket.read").
func (s *Service) Request(ctx context.Context, id int64) (ticket.Ticket, []ticket.Event, error) {
	t, err := s.own(ctx, id)
	if err != nil {
		return t, nil, err
	}
	evs, err := s.tickets.Timeline(ctx, id)
	if err != nil {
		return t, nil, err
	}
	return t, PublicTimeline(evs), nil
}

// Submit creates a request for the signed-in customer (channel portal).
func (s *Service) Submit(ctx context.Context, in NewRequest) (ticket.Ticket, error) {
	if _, err := customerActor(ctx); err != nil {
		return ticket.Ticket{}, err
	}
	if s.tickets == nil {
		return ticket.Ticket{}, apperr.NotFoundf(thingRequest)
	}
	in.Title, in.Body, in.SubKind = strings.TrimSpace(in.Title), strings.TrimSpace(in.Body), strings.TrimSpace(in.SubKind)
	f := apperr.Fields{}
	if in.Title == "" {
		f.Add("title", "portal.invalid.required")
	}
	if in.Body == "" {
		f.Add("body", "portal.invalid.required")
	}
	if !validType(in.Type) {
		f.Add("type", "portal.invalid.type")
	}
	if err := f.Err(); err != nil {
		return ticket.Ticket{}, err
	}
	if in.Type != ticket.TypeAfterSales {
		in.SubKind = ""
	}
	switch {
	case in.Type != ticket.TypeRepair:
		in.FaultLevel = 0
	case in.FaultLevel == 0:
		in.FaultLevel = 1 // the agent adjusts it; the customer need not know the scale
	}
	return s.tickets.Submit(ctx, in)
}

func validType(t ticket.Type) bool {
	for _, x := range ticket.Types {
		if x == t {
			return true
		}
	}
	return false
}

// Reply adds the customer's reply to their request.
func (s *Service) Reply(ctx context.Context, id int64, body string) error {
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return apperr.InvalidField("body", "portal.invalid.required")
	case utf8.RuneCountInString(body) > maxReplyLen:
		return apperr.InvalidField("body", "portal.invalid.too_long", "max", maxReplyLen)
	}
	if _, err := s.own(ctx, id); err != nil {
		return err
	}
	return s.tickets.Reply(ctx, id, body)
}

// Confirm confirms that the customer's resolved request is solved.
func (s *Service) Confirm(ctx context.Context, id int64) error {
	t, err := s.own(ctx, id)
	if err != nil {
		return err
	}
	if t.Status != ticket.StatusResolved {
		return apperr.New(apperr.Conflict, "portal.error.not_resolved")
	}
	return s.tickets.Confirm(ctx, id)
}

// Reopen reopens the customer's resolved request with their reason.
func (s *Service) Reopen(ctx context.Context, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return apperr.InvalidField("reason", "portal.invalid.required")
	case utf8.RuneCountInString(reason) > maxReasonLen:
		return apperr.InvalidField("reason", "portal.invalid.too_long", "max", maxReasonLen)
	}
	t, err := s.own(ctx, id)
	if err != nil {
		return err
	}
	if t.Status != ticket.StatusResolved {
		return apperr.New(apperr.Conflict, "portal.error.not_resolved")
	}
	return s.tickets.Reopen(ctx, id, reason)
}
