package fieldvisit

import (
	"context"
	"fmt"

	"github.com/kefu-cn/kefu/internal/revisit"
)

// Emitter receives each recorded visit inside the recording transaction: the
// return-visit engine (revisit.Service.Emit) keeps it in its inbox and turns it into
// the sales_visit verification task.
type Emitter interface {
	Emit(ctx context.Context, tr revisit.Trigger) error
}

// emitRecorded hands the visit to the return-visit engine (inside ctx's transaction).
// The salesperson is the actor of the source, never the one who verifies it.
func (s *Service) emitRecorded(ctx context.Context, v Visit) error {
	if s.emit == nil {
		return nil
	}
	deal := "0"
	if v.DealClosed {
		deal = "1"
	}
	err := s.emit.Emit(ctx, revisit.Trigger{Event: EventRecorded, SourceType: SourceType, SourceID: v.ID,
		CustomerID: v.CustomerID, DeptID: v.DeptID, TeamID: v.TeamID, ActorID: v.StaffID, At: v.VisitedAt,
		Attrs: map[string]string{"intent_class": v.IntentClass, "deal_closed": deal}})
	if err != nil {
		return fmt.Errorf("fieldvisit: emit: %w", err)
	}
	return nil
}
