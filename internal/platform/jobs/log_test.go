package jobs

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// testLog returns a logger whose warnings and errors appear in t's output while t runs
// (later records, from handlers that outlive a test, are dropped).
func testLog(t testing.TB) *slog.Logger {
	h := &tbHandler{t: t}
	t.Cleanup(func() { h.mu.Lock(); h.done = true; h.mu.Unlock() })
	return slog.New(h)
}

type tbHandler struct {
	t     testing.TB
	mu    sync.Mutex
	done  bool
	attrs []slog.Attr
}

func (h *tbHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *tbHandler) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	th := slog.NewTextHandler(&b, nil).WithAttrs(h.attrs)
	if err := th.Handle(context.Background(), r); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.done {
		h.t.Log(strings.TrimSpace(b.String()))
	}
	return nil
}

func (h *tbHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &tbHandler{t: h.t, done: h.done, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *tbHandler) WithGroup(string) slog.Handler { return h }
