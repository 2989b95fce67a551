package ticket

import (
	"context"
	"fmt"
	"strconv"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// CustomerHistory lists the requests of customer customerID that the staff member in
// ctx may see, newest first, at most limit (customer.HistorySource: the customer page
// shows them). It goes through ListTickets, so the scope rules and the audit entry
// ("ticket.list") are those of every request list. An actor without ticket:read (or a
// portal customer) gets nothing.
func (s *Service) CustomerHistory(ctx context.Context, customerID int64, limit int) ([]customer.HistoryItem, error) {
	a := authz.From(ctx)
	if a == nil || isCustomer(a) || !a.Can(PermRead) || customerID <= 0 {
		return nil, nil
	}
	page, err := s.ListTickets(ctx, Filter{CustomerID: customerID}, limit, "")
	if err != nil {
		return nil, fmt.Errorf("ticket: customer history: %w", err)
	}
	out := make([]customer.HistoryItem, 0, len(page.Items))
	for _, t := range page.Items {
		out = append(out, customer.HistoryItem{Kind: i18n.M("ticket.type." + string(t.Type)), Ref: t.Number,
			Title: t.Title, State: i18nStatus(t.Status), URL: "/tickets/" + strconv.FormatInt(t.ID, 10), At: t.CreatedAt})
	}
	return out, nil
}

var _ customer.HistorySource = (*Service)(nil)
