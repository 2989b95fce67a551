// Package events is the in-process event bus: capabilities publish domain events after
// their transaction commits; subscribers (other capabilities, the SSE hub behind the
// live workspace) receive them. On PostgreSQL a LISTEN/NOTIFY bridge carries events to
// every node so live updates reach users wherever they are connected.
package events

import (
	"encoding/json"
	"time"
)

// Event is one domain event.
type Event struct {
	Topic string          `json:"topic"`          // e.g. "ticket.created"
	ID    int64           `json:"id"`             // the subject's id (a request id)
	At    time.Time       `json:"at"`             // when it happened
	Data  json.RawMessage `json:"data,omitempty"` // topic-specific payload
	Scope Scope           `json:"scope"`          // who may see it (SSE filtering)
	Node  string          `json:"node,omitempty"` // publishing node (bridge loop guard)
}

// Scope tells which staff may see an event: those whose scope reaches the department,
// team or assignee, or the customer it belongs to.
type Scope struct {
	DeptID     int64 `json:"dept_id,omitempty"`
	TeamID     int64 `json:"team_id,omitempty"`
	OwnerID    int64 `json:"owner_id,omitempty"`
	CustomerID int64 `json:"customer_id,omitempty"`
}
