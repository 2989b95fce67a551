package customer

import (
	"context"
	"fmt"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// Ref is the short, masked summary of a customer file that other capabilities keep
// beside their own records (a request shows its customer's name, masked mobile, tier
// and credit grade). It carries no personal data in clear.
type Ref struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	MaskedMobile string `json:"mobile"`
	Tier         string `json:"tier"`
	CreditGrade  string `json:"credit_grade"`
	DeptID       int64  `json:"dept_id"`
	TeamID       int64  `json:"team_id"`
	OwnerID      int64  `json:"owner_id"`
	Status       string `json:"status"`
	MergedInto   int64  `json:"merged_into"`
}

// Ref returns the summary of customer id for other capabilities. It checks no
// permission and writes no audit entry: callers show it only beside records the actor
// may see, and a page that shows the customer file itself calls GetCustomer (audited).
// A missing customer is a NotFound error ("thing.customer").
func (s *Service) Ref(ctx context.Context, id int64) (Ref, error) {
	r, err := s.store.refRow(ctx, id)
	if err != nil {
		if db.IsNoRows(err) {
			return Ref{}, apperr.NotFoundf("thing.customer")
		}
		return Ref{}, fmt.Errorf("customer: ref %d: %w", id, err)
	}
	return s.ref(r)
}

// Refs returns the summaries of the customers ids (missing ones are absent from the
// map) in one query, like Ref.
func (s *Service) Refs(ctx context.Context, ids []int64) (map[int64]Ref, error) {
	rows, err := s.store.refRows(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Ref, len(rows))
	for _, r := range rows {
		if out[r.ID], err = s.ref(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) ref(r refRow) (Ref, error) {
	mobile, err := s.prot.dec(r.MobileEnc, aadMobile)
	if err != nil {
		return Ref{}, fmt.Errorf("customer: ref %d: %w", r.ID, err)
	}
	ref := Ref{ID: r.ID, Name: r.Name, Email: r.Email, Tier: r.Tier, CreditGrade: r.CreditGrade, DeptID: r.DeptID,
		TeamID: r.TeamID, OwnerID: r.OwnerID, Status: r.Status, MergedInto: r.MergedInto}
	if mobile != "" {
		ref.MaskedMobile = secure.MaskMobile(mobile)
	}
	return ref, nil
}
