package activity

import (
	"context"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Participants: customers added by hand or imported. A customer takes part once; the
// activity's participant count and version move with every change, which is audited. A
// list shows names and masked mobiles and is audited as a read of personal data.

// ParticipantView is the JSON form of a participant: the customer's short, masked summary.
type ParticipantView struct {
	CustomerID int64     `json:"customer_id"`
	Name       string    `json:"name"`
	Mobile     string    `json:"mobile"`
	Source     string    `json:"source"`
	AddedBy    int64     `json:"added_by"`
	AddedAt    time.Time `json:"added_at"`
}

// AddInput adds a participant (POST /api/v1/activities/{id}/participants).
type AddInput struct {
	CustomerID int64 `json:"customer_id"`
}

type participantCursor struct {
	C int64 `json:"c"`
}

// reachCustomer returns the summary of customer id when it exists, is active and lies in
// the actor's customer:read scope; anything else is "unknown" (nil ref).
func (s *Service) reachCustomer(ctx context.Context, actor *authz.Actor, id int64) (*customer.Ref, error) {
	if id <= 0 {
		return nil, nil
	}
	ref, err := s.d.Customers.Ref(ctx, id)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return nil, nil
		}
		return nil, err
	}
	if ref.Status != customer.StatusActive {
		return nil, nil
	}
	if actor.Kind != authz.KindSystem && !actor.Reaches(customer.PermRead,
		authz.Record{DeptID: ref.DeptID, TeamID: ref.TeamID, OwnerID: ref.OwnerID}) {
		return nil, nil
	}
	return &ref, nil
}

// Participants pages through the participants of activity id, by customer id.
func (s *Service) Participants(ctx context.Context, id int64, limit int, cur string) (Page[ParticipantView], error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return Page[ParticipantView]{}, err
	}
	var c participantCursor
	if err := httpx.DecodeCursor(cur, &c); err != nil {
		return Page[ParticipantView]{}, err
	}
	limit = pageLimit(limit)
	ps, err := s.store.Participants(ctx, a.ID, c.C, limit+1)
	if err != nil {
		return Page[ParticipantView]{}, err
	}
	out := Page[ParticipantView]{}
	if len(ps) > limit {
		ps = ps[:limit]
		out.NextCursor = httpx.EncodeCursor(participantCursor{C: ps[limit-1].CustomerID})
	}
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.CustomerID
	}
	refs, err := s.d.Customers.Refs(ctx, ids)
	if err != nil {
		return Page[ParticipantView]{}, err
	}
	out.Items = make([]ParticipantView, len(ps))
	for i, p := range ps {
		r := refs[p.CustomerID]
		out.Items[i] = ParticipantView{CustomerID: p.CustomerID, Name: r.Name, Mobile: r.MaskedMobile, Source: p.Source,
			AddedBy: p.AddedBy, AddedAt: p.AddedAt.UTC()}
	}
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "activity.participants.read", a.ID, map[string]any{"customer_ids": ids, "masked": true})
	})
	return out, err
}

// AddParticipant adds customer customerID (active, in the actor's customer scope) to an
// open activity. A customer already taking part is 409.
func (s *Service) AddParticipant(ctx context.Context, id, customerID int64) (ParticipantView, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return ParticipantView{}, err
	}
	var out ParticipantView
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.lockReached(ctx, actor, id, PermWrite, nil)
		if err != nil {
			return err
		}
		if !a.Status.Open() {
			return closedErr(a.Status)
		}
		ref, err := s.reachCustomer(ctx, actor, customerID)
		if err != nil {
			return err
		}
		if ref == nil {
			return apperr.InvalidField("customer_id", "activity.invalid.customer")
		}
		if has, err := s.store.HasParticipant(ctx, a.ID, customerID); err != nil {
			return err
		} else if has {
			return apperr.New(apperr.Conflict, "activity.error.already_participant").WithCode("already_participant").
				OnField("customer_id")
		}
		p := Participant{ActivityID: a.ID, CustomerID: customerID, Source: SourceManual, AddedBy: staffID(actor), AddedAt: s.now()}
		if err := s.store.AddParticipant(ctx, p); err != nil {
			return err
		}
		if err := s.recount(ctx, &a); err != nil {
			return err
		}
		out = ParticipantView{CustomerID: customerID, Name: ref.Name, Mobile: ref.MaskedMobile, Source: p.Source,
			AddedBy: p.AddedBy, AddedAt: p.AddedAt.UTC()}
		return s.record(ctx, "activity.participant.add", a.ID, map[string]any{"customer_id": customerID})
	})
	return out, err
}

// RemoveParticipant takes customer customerID off an open activity (404 when not on it).
func (s *Service) RemoveParticipant(ctx context.Context, id, customerID int64) error {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return err
	}
	return s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.lockReached(ctx, actor, id, PermWrite, nil)
		if err != nil {
			return err
		}
		if !a.Status.Open() {
			return closedErr(a.Status)
		}
		gone, err := s.store.RemoveParticipant(ctx, a.ID, customerID)
		if err != nil {
			return err
		}
		if !gone {
			return apperr.NotFoundf("thing.activity_participant")
		}
		if err := s.recount(ctx, &a); err != nil {
			return err
		}
		return s.record(ctx, "activity.participant.remove", a.ID, map[string]any{"customer_id": customerID})
	})
}

// recount stores the activity's participant count as its next version.
func (s *Service) recount(ctx context.Context, a *Activity) error {
	n, err := s.store.CountParticipants(ctx, a.ID)
	if err != nil {
		return err
	}
	a.Participants = n
	return s.save(ctx, a)
}
