package events

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ServeSSE streams the events whose topic starts with one of prefixes (and that filter
// accepts, when filter is not nil) to w as Server-Sent Events: "event: <topic>" and
// "data: <json>" lines, a keep-alive comment every heartbeat interval, until the
// request's context ends. Events carry no replayable id: a client that reconnects
// (Last-Event-ID or not) gets the events from then on and refreshes what it shows.
func (b *Bus) ServeSSE(w http.ResponseWriter, r *http.Request, filter func(Event) bool, prefixes ...string) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any server write timeout
	sub := b.Subscribe(prefixes...)
	defer sub.Close()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // reverse proxies: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 3000\n: connected\n\n"); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(b.heartbeat)
	defer tick.Stop()
	ctx := r.Context()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
		case ev, ok := <-sub.C:
			if !ok {
				return
			}
			if filter != nil && !filter(ev) {
				continue
			}
			if err := writeEvent(w, ev); err != nil {
				return
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// writeEvent writes one event as an SSE frame. JSON never contains a raw newline, and
// the topic is cleaned of line breaks, so the frame cannot be split or forged.
func writeEvent(w io.Writer, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil // skip an unencodable event, keep the stream
	}
	topic := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, ev.Topic)
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", topic, body)
	return err
}
