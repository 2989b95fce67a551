package auth

import (
	"context"
	"fmt"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// TargetLoader is implemented by principal loaders that can load a staff member as the
// target of another's action whatever the target's status (org does). Without it the
// service falls back to LoadActor.
type TargetLoader interface {
	LoadTarget(ctx context.Context, staffID int64) (*authz.Actor, error)
}

// target loads staff member staffID with their grants; NotFound when there is none.
func (s *Service) target(ctx context.Context, staffID int64) (*authz.Actor, error) {
	var (
		t   *authz.Actor
		err error
	)
	if tl, ok := s.principals.(TargetLoader); ok {
		t, err = tl.LoadTarget(ctx, staffID)
	} else {
		t, err = s.principals.LoadActor(ctx, staffID)
	}
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return nil, apperr.NotFoundf(thingStaff)
		}
		return nil, fmt.Errorf("auth: load staff %d: %w", staffID, err)
	}
	return t, nil
}

// requireSelfOr lets the staff member staffID act on themselves, and others holding
// perm who cover them (authz.Actor.Covers): a staff member the actor's scope does not
// reach, or who does not exist, is NotFound alike; one in scope holding more than the
// actor is a 403 that tells nothing more. Without perm at all: 403.
func (s *Service) requireSelfOr(ctx context.Context, staffID int64, perm string) (*authz.Actor, error) {
	return s.guard(ctx, staffID, perm, true)
}

// requireSelfOrReach is requireSelfOr for reading: the actor's scope for perm must reach
// staffID, whatever they hold.
func (s *Service) requireSelfOrReach(ctx context.Context, staffID int64, perm string) (*authz.Actor, error) {
	return s.guard(ctx, staffID, perm, false)
}

func (s *Service) guard(ctx context.Context, staffID int64, perm string, cover bool) (*authz.Actor, error) {
	a := authz.From(ctx)
	if a == nil {
		return nil, apperr.Unauth()
	}
	if a.Kind == authz.KindStaff && a.ID == staffID {
		return a, nil
	}
	if !a.Can(perm) {
		return nil, apperr.ForbiddenErr()
	}
	if a.Kind == authz.KindSystem {
		return a, nil
	}
	t, err := s.target(ctx, staffID)
	if err != nil {
		return nil, err
	}
	if !cover {
		if !a.Reaches(perm, t.Subject()) {
			return nil, apperr.NotFoundf(thingStaff)
		}
		return a, nil
	}
	if err := a.CheckCovers(perm, t, thingStaff); err != nil {
		return nil, err
	}
	return a, nil
}
