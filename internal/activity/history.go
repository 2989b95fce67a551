package activity

import (
	"context"
	"fmt"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// CustomerHistory lists the activities customer customerID took part in that the staff
// member in ctx may see, newest first, at most limit (customer.HistorySource: the
// customer page shows them with their status; wire it with
// a.Customer.AddHistorySource(a.Activity)). An actor without activity:read gets nothing.
func (s *Service) CustomerHistory(ctx context.Context, customerID int64, limit int) ([]customer.HistoryItem, error) {
	a := authz.From(ctx)
	if a == nil || a.Kind == authz.KindCustomer || !a.Can(PermRead) || customerID <= 0 {
		return nil, nil
	}
	page, err := s.List(ctx, Filter{CustomerID: customerID}, limit, "")
	if err != nil {
		return nil, fmt.Errorf("activity: customer history: %w", err)
	}
	out := make([]customer.HistoryItem, 0, len(page.Items))
	for _, x := range page.Items {
		out = append(out, customer.HistoryItem{Kind: i18n.M("thing.activity"), Ref: x.StartOn, Title: x.Title,
			State: i18nStatus(x.Status), URL: "/activities/" + itoa(x.ID), At: x.CreatedAt})
	}
	return out, nil
}

var _ customer.HistorySource = (*Service)(nil)
