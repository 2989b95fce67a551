package customer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// The customer file shows its history (SPEC §2.1): the records that capabilities above
// customer keep about a customer (requests, complaints, later visits and calls), newest
// first, each with its state. customer imports none of them: each registers a
// HistorySource, which lists only what the actor in ctx may see.

// HistoryItem is one record of a customer kept by a capability above customer, for the customer page.
type HistoryItem struct {
	Kind  i18n.Msg  // what it is, e.g. i18n.M("ticket.type.complaint")
	Ref   string    // readable number, e.g. KF20261123-0042
	Title string    // its title, as the record's own pages show it
	State i18n.Msg  // its state, translated on the page
	URL   string    // the staff page of the record
	At    time.Time // when it happened (creation), for the newest-first order
}

// HistorySource lists the records of customer id that the actor in ctx may see, newest first, at most limit.
type HistorySource interface {
	CustomerHistory(ctx context.Context, customerID int64, limit int) ([]HistoryItem, error)
}

// HistoryLimit is how many records the customer page shows, all sources together.
const HistoryLimit = 50

// AddHistorySource registers h (call before serving; not safe concurrently with requests).
func (s *Service) AddHistorySource(h HistorySource) {
	if h != nil {
		s.history = append(s.history, h)
	}
}

// History merges the records of customer c from every source, newest first, at most
// limit (HistoryLimit when limit is not in 1..HistoryLimit). c is a customer the caller
// read through GetCustomer; an actor who does not reach it gets NotFound. Each source
// filters by the actor. A source that fails is left out and its error returned (joined)
// beside what the others listed, so that a page can still show those.
func (s *Service) History(ctx context.Context, c Customer, limit int) ([]HistoryItem, error) {
	a := authz.From(ctx)
	if a == nil {
		return nil, apperr.Unauth()
	}
	if !a.Reaches(PermRead, c.Record()) {
		return nil, apperr.NotFoundf("thing.customer")
	}
	if limit <= 0 || limit > HistoryLimit {
		limit = HistoryLimit
	}
	lists := make([][]HistoryItem, 0, len(s.history))
	var errs []error
	for _, src := range s.history {
		items, err := src.CustomerHistory(ctx, c.ID, limit)
		if err != nil {
			errs = append(errs, fmt.Errorf("customer: history of %d: %w", c.ID, err))
			continue
		}
		lists = append(lists, items)
	}
	return MergeHistory(lists, limit), errors.Join(errs...)
}

// MergeHistory merges lists into one, newest first (ties keep the order of the lists and
// of their items), at most limit items.
func MergeHistory(lists [][]HistoryItem, limit int) []HistoryItem {
	var out []HistoryItem
	for _, l := range lists {
		out = append(out, l...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// HistoryRow is one line of the history section of the customer page.
type HistoryRow struct {
	Kind  string
	Ref   string
	Title string
	State string
	URL   string
	At    time.Time
}

// historyRows reads the history of c for the page: the rows, and whether some source
// failed (logged; the others still show).
func (p pages) historyRows(r *http.Request, c Customer) ([]HistoryRow, bool) {
	ctx := r.Context()
	items, err := p.s.History(ctx, c, HistoryLimit)
	failed := err != nil
	if failed {
		p.s.log.Warn("customer: page history", slog.Int64("customer", c.ID), slog.String("err", err.Error()))
	}
	cat, lang := httpx.CatalogFrom(ctx), i18n.Lang(ctx)
	rows := make([]HistoryRow, 0, len(items))
	for _, it := range items {
		rows = append(rows, HistoryRow{Kind: cat.Msg(lang, it.Kind), Ref: it.Ref, Title: it.Title,
			State: cat.Msg(lang, it.State), URL: it.URL, At: it.At})
	}
	return rows, failed
}
