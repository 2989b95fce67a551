package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Run bridges the bus across nodes on PostgreSQL until ctx ends: it LISTENs on Channel
// over a dedicated connection (reconnecting with backoff when it breaks) and delivers the
// events other nodes publish, and it sends the events published here with pg_notify. On
// SQLite (or without a database) it returns at once: one node, nothing to bridge.
func (b *Bus) Run(ctx context.Context) error {
	if b.db == nil || b.db.Dialect != db.Postgres {
		b.readyOnce.Do(func() { close(b.ready) })
		return nil
	}
	b.bridged.Store(true)
	defer b.bridged.Store(false)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.sendLoop(ctx)
	}()
	defer wg.Wait()
	backoff := 500 * time.Millisecond
	for {
		err := b.listen(ctx)
		if ctx.Err() != nil {
			return nil
		}
		b.log.Warn("events: bridge connection lost, reconnecting", slog.String("err", err.Error()),
			slog.Duration("in", backoff))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// Ready is closed once the bridge listens (at once on SQLite). Tests wait on it.
func (b *Bus) Ready() <-chan struct{} { return b.ready }

// listen holds one LISTEN connection until it fails or ctx ends.
func (b *Bus) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, b.db.DSN)
	if err != nil {
		return fmt.Errorf("events: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, sqlListen); err != nil {
		return fmt.Errorf("events: listen: %w", err)
	}
	b.readyOnce.Do(func() { close(b.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("events: wait: %w", err)
		}
		var ev Event
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil || ev.Topic == "" {
			b.log.Warn("events: unreadable notification ignored", slog.Int("bytes", len(n.Payload)))
			continue
		}
		if ev.Node == b.node {
			continue // delivered locally when published
		}
		b.deliver(ev)
	}
}

// sendLoop sends the locally published events to the other nodes.
func (b *Bus) sendLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-b.out:
			body, ok := notifyPayload(ev)
			if !ok {
				b.log.Warn("events: event too large to bridge", slog.String("topic", ev.Topic))
				continue
			}
			if _, err := b.db.Exec(ctx, sqlNotify, Channel, string(body)); err != nil && !errors.Is(err, context.Canceled) {
				b.log.Warn("events: notify", slog.String("topic", ev.Topic), slog.String("err", err.Error()))
			}
		}
	}
}

func randomID() string {
	var p [6]byte
	_, _ = rand.Read(p[:])
	return "node-" + hex.EncodeToString(p[:])
}
