package complaint

// OWNED BY the web engineer: the complaints on the customer page and in the portal.

import (
	"context"
	"fmt"
	"strconv"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// CustomerHistory lists the complaints of customer customerID that the staff member in
// ctx may see, newest first, at most limit (customer.HistorySource: the customer page
// shows them, each with its stage). It goes through List, so the scope rules and the
// audit entry ("complaint.list") are those of every complaint list. An actor without
// complaint:read (or a portal customer) gets nothing.
func (s *Service) CustomerHistory(ctx context.Context, customerID int64, limit int) ([]customer.HistoryItem, error) {
	a := authz.From(ctx)
	if a == nil || isCustomer(a) || !a.Can(PermRead) || customerID <= 0 {
		return nil, nil
	}
	page, err := s.List(ctx, Filter{CustomerID: customerID}, limit, "")
	if err != nil {
		return nil, fmt.Errorf("complaint: customer history: %w", err)
	}
	out := make([]customer.HistoryItem, 0, len(page.Items))
	for _, c := range page.Items {
		out = append(out, customer.HistoryItem{Kind: i18n.M("thing.complaint"), Ref: c.Number, Title: c.Title,
			State: i18nStage(c.Stage), URL: "/complaints/" + strconv.FormatInt(c.ID, 10), At: c.CreatedAt})
	}
	return out, nil
}

var _ customer.HistorySource = (*Service)(nil)

// PortalStage is the stage of the complaint of request ticketID for the portal's request
// page: ok is false when the request carries no complaint the customer in ctx may see
// (an anonymous complaint is nobody's). The read is the request page's, audited there.
func (s *Service) PortalStage(ctx context.Context, ticketID int64) (i18n.Msg, bool, error) {
	c, err := s.ByTicket(ctx, ticketID)
	if apperr.KindOf(err) == apperr.NotFound {
		return i18n.Msg{}, false, nil
	}
	if err != nil {
		return i18n.Msg{}, false, err
	}
	return i18nStage(c.Stage), true, nil
}
