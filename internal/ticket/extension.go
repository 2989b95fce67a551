package ticket

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Extension points for capabilities above ticket (internal/complaint): a hook that keeps
// a record of its own beside every request of one type, created and retyped in the
// request's own transaction, and the few unchecked operations such a capability needs
// once it has checked the scope of its own record.

// TypeHook is implemented by a capability above ticket that keeps a record of its own beside
// every request of one type (internal/complaint for TypeComplaint).
type TypeHook interface {
	// Created runs inside the creating transaction, after the request row and its first
	// events are stored; ext is Input.Complaint (nil when absent). An error rolls the whole
	// creation back and reaches the client (apperr kinds, e.g. 422 with fields "complaint.level").
	Created(ctx context.Context, t *Ticket, ext json.RawMessage) error
	// Retyped runs inside PatchTicket's transaction when a request's type changes to or
	// from the hook's type (from is the old type, t holds the new one). An error refuses the change.
	Retyped(ctx context.Context, t *Ticket, from Type) error
}

// StatusDriver is a TypeHook whose workflow drives the status of its requests: they
// change status only through Follow, and a direct transition by staff or a customer is
// refused (409 workflow_owned); a customer may still confirm a resolved request.
type StatusDriver interface {
	DrivesStatus() bool
}

// drivenStatus reports whether the hook of typ drives its requests' status.
func (s *Service) drivenStatus(typ Type) bool {
	d, ok := s.hooks[typ].(StatusDriver)
	return ok && d.DrivesStatus()
}

// SetTypeHook registers h for typ (call before serving; not safe concurrently with
// requests). A nil h removes the hook of typ.
func (s *Service) SetTypeHook(typ Type, h TypeHook) {
	if h == nil {
		delete(s.hooks, typ)
		return
	}
	if s.hooks == nil {
		s.hooks = map[Type]TypeHook{}
	}
	s.hooks[typ] = h
}

// StatusListener is called inside the transaction of every status change of a request
// (Transition, Reply with a status, Follow, the portal's confirm and reopen), after the
// request holds its new status and stamps; t is a copy. An error rolls the change back,
// so a listener only records what it must (return visits and surveys keep an inbox row
// and do their work in their own jobs).
type StatusListener func(ctx context.Context, t Ticket, from, to Status) error

// OnStatus registers fn (call before serving; not safe concurrently with requests).
func (s *Service) OnStatus(fn StatusListener) {
	if fn != nil {
		s.statusListeners = append(s.statusListeners, fn)
	}
}

// statusChanged runs the status listeners for t's move from -> to.
func (s *Service) statusChanged(ctx context.Context, t *Ticket, from, to Status) error {
	for _, fn := range s.statusListeners {
		if err := fn(ctx, *t, from, to); err != nil {
			return fmt.Errorf("ticket: status listener: %w", err)
		}
	}
	return nil
}

// extDetails is the workflow details of an input: nil when absent or JSON null.
func extDetails(raw json.RawMessage) json.RawMessage {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil
	}
	return raw
}

// retyped calls the hooks of the old and the new type of t after a type change (from
// is "" when the type did not change). A hook registered for both types is called for
// each of them.
func (s *Service) retyped(ctx context.Context, t *Ticket, from Type) error {
	if from == "" || from == t.Type {
		return nil
	}
	for _, typ := range []Type{from, t.Type} {
		if h := s.hooks[typ]; h != nil {
			if err := h.Retyped(ctx, t, from); err != nil {
				return fmt.Errorf("ticket: %s: %w", typ, err)
			}
		}
	}
	return nil
}

// Load returns request id without an authorization check or audit entry: for a capability
// above that has checked its own record's scope (reads in ctx's transaction when there is one).
func (s *Service) Load(ctx context.Context, id int64) (Ticket, error) {
	t, err := s.store.GetTicket(ctx, id)
	if err != nil {
		return Ticket{}, notFound(err)
	}
	return t, nil
}

// lifecycleKinds are the event kinds only the request's own use cases write: AddEvent
// refuses them (a status entry without the status change would lie; Follow moves it).
var lifecycleKinds = map[EventKind]bool{EventCreated: true, EventStatus: true, EventConfirm: true}

// AddEvent appends ev to request id's timeline inside ctx's transaction (opening one when
// there is none), stamps last_activity_at, bumps nothing else, and publishes ticket.updated
// after commit. ActorKind/ActorID/ActorName are taken from the actor in ctx when ev leaves them empty.
// No permission check: the caller has checked its own.
func (s *Service) AddEvent(ctx context.Context, id int64, ev Event) (Event, error) {
	f := apperr.Fields{}
	switch {
	case ev.Kind == "":
		f.Add("kind", "field.required")
	case lifecycleKinds[ev.Kind]:
		f.Add("kind", "field.invalid_choice")
	}
	ev.Body = textField(f, "body", ev.Body, maxBody, false)
	if err := f.Err(); err != nil {
		return Event{}, err
	}
	var out Event
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.store.LockTicket(ctx, id)
		if err != nil {
			return notFound(err)
		}
		now := s.now()
		evs := []Event{ev}
		texts, err := s.appendEvents(ctx, &t, nil, evs, now)
		if err != nil {
			return err
		}
		if err := s.store.TouchTicket(ctx, t.ID, now); err != nil {
			return err
		}
		t.LastActivityAt = now
		if texts {
			if err := s.reindex(ctx, &t); err != nil {
				return err
			}
		}
		for _, tp := range topicsFor(evs) {
			s.publish(ctx, tp.topic, &t, tp.data)
		}
		out = evs[0]
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	return out, nil
}

// Follow moves request id to status `to` as part of a workflow above (the complaint stages
// drive the request's lifecycle), inside ctx's transaction: when `to` is not directly reachable
// it passes through the shortest legal path of the state machine (e.g. new -> resolved -> closed;
// closed -> reopened -> in_progress); the same status is a no-op; an unreachable target
// (cancelled -> anything) is an error. Each step is a normal status event with reason, runs the
// same SLA/notification/stamp hooks as Transition, the audit entry Transition writes
// ("ticket.status") and the topics after commit. No permission check (the caller checked its own).
func (s *Service) Follow(ctx context.Context, id int64, to Status, reason string) (Ticket, error) {
	f := apperr.Fields{}
	checkChoice(f, "status", to, Statuses, true)
	reason = textField(f, "reason", reason, maxReason, false)
	if err := f.Err(); err != nil {
		return Ticket{}, err
	}
	return s.systemMutate(ctx, id, func(ctx context.Context, t *Ticket) ([]Event, error) {
		if t.Status == to {
			return nil, nil
		}
		steps := StatusPath(t.Status, to)
		if steps == nil {
			// Unreachable: applyTransition answers with the state machine's refusal.
			return s.applyTransition(ctx, t, to, reason, EventStatus)
		}
		var evs []Event
		for _, st := range steps {
			more, err := s.applyTransition(ctx, t, st, reason, EventStatus)
			if err != nil {
				return nil, err
			}
			evs = append(evs, more...)
		}
		return evs, nil
	})
}

// StatusPath is the shortest sequence of legal moves from -> to (to included, from not),
// breadth first over the state machine in the order it lists the moves; nil when to is
// not reachable or is from itself.
func StatusPath(from, to Status) []Status {
	if from == to {
		return nil
	}
	prev := map[Status]Status{from: ""}
	queue := []Status{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, n := range transitions[cur] {
			if _, seen := prev[n]; seen {
				continue
			}
			prev[n] = cur
			if n == to {
				var path []Status
				for st := to; st != from; st = prev[st] {
					path = append([]Status{st}, path...)
				}
				return path
			}
			queue = append(queue, n)
		}
	}
	return nil
}
