package ticket

import (
	"net/http"

	"github.com/kefu-cn/kefu/internal/platform/events"
)

// Streamer serves live events to a browser as Server-Sent Events (the *events.Bus).
// The workspace's /tickets/stream needs it; the service finds it on Deps.Events: the
// bus both publishes and streams, so wiring Deps{Events: bus} is all it takes.
type Streamer interface {
	ServeSSE(w http.ResponseWriter, r *http.Request, filter func(events.Event) bool, prefixes ...string)
}

// streamer returns the live-event stream, or nil when the publisher cannot stream (the
// stream page then answers 503 and pages simply do not update live).
func (s *Service) streamer() Streamer {
	if st, ok := s.events.(Streamer); ok {
		return st
	}
	return nil
}
