package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Defaults of Options.
const (
	// DefaultBuffer is how many events a subscriber may fall behind before further
	// events are dropped for it.
	DefaultBuffer = 256
	// DefaultHeartbeat is the interval of the SSE keep-alive comment.
	DefaultHeartbeat = 20 * time.Second
	// Channel is the PostgreSQL NOTIFY channel of the bridge.
	Channel = "kefu_events"
	// maxNotify bounds a NOTIFY payload (PostgreSQL refuses 8000 bytes and more).
	maxNotify = 7900
	// outQueue bounds the events waiting to be sent to other nodes.
	outQueue = 1024
)

// Options configure a Bus.
type Options struct {
	// DB is the database whose transactions delay publication until commit, and, on
	// PostgreSQL, the carrier of the LISTEN/NOTIFY bridge. Nil: deliver at once, no bridge.
	DB  *db.DB
	Log *slog.Logger
	// NodeID names this process; events this node published that come back through the
	// bridge are not delivered twice. Default: a random id.
	NodeID string
	// Buffer is each subscriber's channel capacity (default DefaultBuffer).
	Buffer int
	// Heartbeat is the SSE keep-alive interval (default DefaultHeartbeat).
	Heartbeat time.Duration
}

// Bus is the in-process event bus. It is safe for concurrent use.
type Bus struct {
	db        *db.DB
	log       *slog.Logger
	node      string
	buffer    int
	heartbeat time.Duration

	mu   sync.RWMutex
	subs map[*Subscription]struct{}

	dropped   atomic.Int64 // events dropped for slow subscribers
	bridged   atomic.Bool  // Run is bridging (PostgreSQL): Publish queues NOTIFYs
	out       chan Event   // events waiting for NOTIFY
	outDrops  atomic.Int64
	readyOnce sync.Once
	ready     chan struct{}
}

// Subscription receives the events whose topic starts with one of its prefixes.
type Subscription struct {
	// C delivers the events; it is closed by Close.
	C <-chan Event

	c        chan Event
	bus      *Bus
	prefixes []string
	dropped  atomic.Int64
	once     sync.Once
}

// New returns a Bus.
func New(o Options) *Bus {
	b := &Bus{db: o.DB, log: o.Log, node: o.NodeID, buffer: o.Buffer, heartbeat: o.Heartbeat,
		subs: map[*Subscription]struct{}{}, out: make(chan Event, outQueue), ready: make(chan struct{})}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.node == "" {
		b.node = randomID()
	}
	if b.buffer <= 0 {
		b.buffer = DefaultBuffer
	}
	if b.heartbeat <= 0 {
		b.heartbeat = DefaultHeartbeat
	}
	return b
}

// NodeID returns the node id stamped on published events.
func (b *Bus) NodeID() string { return b.node }

// Dropped returns how many deliveries were dropped because a subscriber was full.
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Publish delivers ev to the subscribers: after the commit of the transaction ctx holds
// (nothing when it rolls back), at once without one. It never blocks on subscribers and
// never fails the caller. On PostgreSQL, while Run runs, the event also goes to the other
// nodes.
func (b *Bus) Publish(ctx context.Context, ev Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	ev.Node = b.node
	if b.db == nil {
		b.deliver(ev)
		return
	}
	b.db.AfterCommit(ctx, func() {
		b.deliver(ev)
		if b.bridged.Load() {
			select {
			case b.out <- ev:
			default:
				b.outDrops.Add(1)
				b.log.Warn("events: bridge queue full, event not sent to other nodes", slog.String("topic", ev.Topic))
			}
		}
	})
}

// Subscribe returns a subscription to the events whose topic starts with one of
// prefixes (every event when none is given). Close it when done.
func (b *Bus) Subscribe(prefixes ...string) *Subscription {
	c := make(chan Event, b.buffer)
	s := &Subscription{C: c, c: c, bus: b, prefixes: prefixes}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Close ends the subscription and closes C. It may be called more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		close(s.c)
		s.bus.mu.Unlock()
	})
}

// Dropped returns how many events were dropped for this subscriber.
func (s *Subscription) Dropped() int64 { return s.dropped.Load() }

// Match reports whether topic starts with one of prefixes (any topic when none).
func Match(topic string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(topic, p) {
			return true
		}
	}
	return false
}

// deliver fans ev out to every matching subscriber without blocking.
func (b *Bus) deliver(ev Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		if !Match(ev.Topic, s.prefixes) {
			continue
		}
		select {
		case s.c <- ev:
		default:
			s.dropped.Add(1)
			if b.dropped.Add(1)%1000 == 1 {
				b.log.Warn("events: slow subscriber, events dropped", slog.String("topic", ev.Topic),
					slog.Int64("dropped_total", b.dropped.Load()))
			}
		}
	}
}

// notifyPayload encodes ev for NOTIFY: without Data when the whole event is too large.
func notifyPayload(ev Event) ([]byte, bool) {
	body, err := json.Marshal(ev)
	if err == nil && len(body) < maxNotify {
		return body, true
	}
	ev.Data = nil
	body, err = json.Marshal(ev)
	if err != nil || len(body) >= maxNotify {
		return nil, false
	}
	return body, true
}
