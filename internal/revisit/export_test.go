package revisit

import (
	"context"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/calendar"
)

// TestEvent is an inbox row as the tests write it.
type TestEvent struct {
	Event, Subject, SourceType string
	SourceID, CustomerID       int64
	DeptID, TeamID             int64
	ActorID, AgentID           int64
	Level                      string
	Attrs                      map[string]string
	At                         time.Time
}

// InsertTestEvents writes events to the inbox in bulk (no job kicked).
func (s *Service) InsertTestEvents(ctx context.Context, evs []TestEvent) error {
	rows := make([]inboxRow, len(evs))
	for i, e := range evs {
		rows[i] = inboxRow{EventKey: e.Event + "|" + e.Subject, Event: e.Event, SubjectKey: e.Subject,
			SourceType: e.SourceType, SourceID: e.SourceID, CustomerID: e.CustomerID, DeptID: e.DeptID, TeamID: e.TeamID,
			ActorID: e.ActorID, AgentID: e.AgentID, Level: e.Level, Attrs: e.Attrs, OccurredAt: e.At}
	}
	return s.d.DB.WithTx(ctx, func(ctx context.Context) error { return s.store.insertEvents(ctx, rows, s.now()) })
}

// NextSlotWith exposes the pure scheduling function.
func NextSlotWith(st Settings, cal *calendar.Calendar, after, windowEnd time.Time, working bool) (time.Time, error) {
	c, err := st.compile()
	if err != nil {
		return time.Time{}, err
	}
	return nextSlot(c, cal, after, windowEnd, working), nil
}

// InDNDWith exposes the pure do-not-disturb check.
func InDNDWith(st Settings, at time.Time) (bool, error) {
	c, err := st.compile()
	if err != nil {
		return false, err
	}
	in, _ := c.inDND(at)
	return in, nil
}
