package customer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

var histBase = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// hist builds an item ref at histBase plus minutes.
func hist(ref string, minutes int) customer.HistoryItem {
	return customer.HistoryItem{Kind: i18n.M("ticket.type.complaint"), Ref: ref, Title: "Title " + ref,
		State: i18n.M("ticket.status.new"), URL: "/records/" + ref, At: histBase.Add(time.Duration(minutes) * time.Minute)}
}

func refs(items []customer.HistoryItem) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Ref
	}
	return strings.Join(out, ",")
}

// fakeSource lists fixed items of one customer (newest first, at most limit), for the
// actor it was asked by; err makes it fail.
type fakeSource struct {
	customerID int64
	items      []customer.HistoryItem
	err        error
	asked      []int64 // actor ids it was called with
	limits     []int
}

func (f *fakeSource) CustomerHistory(ctx context.Context, customerID int64, limit int) ([]customer.HistoryItem, error) {
	if a := authz.From(ctx); a != nil {
		f.asked = append(f.asked, a.ID)
	}
	f.limits = append(f.limits, limit)
	if f.err != nil {
		return nil, f.err
	}
	if customerID != f.customerID {
		return nil, nil
	}
	out := customer.MergeHistory([][]customer.HistoryItem{f.items}, limit)
	return out, nil
}

// TestMergeHistory: items of every list merged newest first (ties in list order), cut at limit.
func TestMergeHistory(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		lists [][]customer.HistoryItem
		limit int
		want  string
	}{
		{"empty", nil, 50, ""},
		{"one list", [][]customer.HistoryItem{{hist("a", 3), hist("b", 1)}}, 50, "a,b"},
		{"interleaved", [][]customer.HistoryItem{{hist("a", 4), hist("c", 2)}, {hist("b", 3), hist("d", 1)}}, 50, "a,b,c,d"},
		{"unsorted input", [][]customer.HistoryItem{{hist("old", 1), hist("new", 9)}}, 50, "new,old"},
		{"ties keep list order", [][]customer.HistoryItem{{hist("x", 5)}, {hist("y", 5)}}, 50, "x,y"},
		{"limit", [][]customer.HistoryItem{{hist("a", 4), hist("c", 2)}, {hist("b", 3), hist("d", 1)}}, 3, "a,b,c"},
		{"limit zero", [][]customer.HistoryItem{{hist("a", 4)}}, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := refs(customer.MergeHistory(tc.lists, tc.limit)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHistory: the service merges its sources for a customer the actor reaches (at most
// HistoryLimit in total), keeps what the other sources listed when one fails, and
// answers NotFound for a customer out of the actor's scope; the page shows the items.
func TestHistory(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	s.As(t, "agent@other")
	ctx := actorCtx(t, s, sup)
	c, err := s.App.Customer.CreateCustomer(ctx, customer.Input{Kind: customer.KindPerson, Name: "History File",
		Mobile: newIDs(41).mobile()})
	if err != nil {
		t.Fatal(err)
	}
	var many []customer.HistoryItem
	for i := range 60 {
		many = append(many, hist(fmt.Sprintf("m%02d", 60-i), 100-2*i)) // newest first
	}
	a := &fakeSource{customerID: c.ID, items: many}
	b := &fakeSource{customerID: c.ID, items: []customer.HistoryItem{hist("b-newest", 500), hist("b-mid", 99), hist("b-old", 1)}}
	broken := &fakeSource{err: errors.New("source down")}
	s.App.Customer.AddHistorySource(a)
	s.App.Customer.AddHistorySource(b)

	got, err := s.App.Customer.History(ctx, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != customer.HistoryLimit {
		t.Fatalf("%d items, want %d", len(got), customer.HistoryLimit)
	}
	if r := refs(got[:4]); r != "b-newest,m60,b-mid,m59" {
		t.Fatalf("head %s", r)
	}
	for i := 1; i < len(got); i++ {
		if got[i].At.After(got[i-1].At) {
			t.Fatalf("item %d (%s) is newer than item %d", i, got[i].Ref, i-1)
		}
	}
	if a.limits[0] != customer.HistoryLimit || a.asked[0] != sup.Staff.ID {
		t.Fatalf("source asked with limit %v by %v", a.limits, a.asked)
	}
	if got, err := s.App.Customer.History(ctx, c, 2); err != nil || refs(got) != "b-newest,m60" {
		t.Fatalf("limit 2: %s %v", refs(got), err)
	}

	// Out of scope: NotFound, no source asked.
	otherCtx := actorCtx(t, s, s.As(t, "agent@other"))
	before := len(a.asked)
	if _, err := s.App.Customer.History(otherCtx, c, 0); apperr.KindOf(err) != apperr.NotFound || len(a.asked) != before {
		t.Fatalf("out of scope: %v (asked %d times)", err, len(a.asked)-before)
	}

	// The page lists them, linked, newest first.
	br := s.Browser(t, "supervisor_cs", apptest.Password)
	page := br.Do(t, "GET", fmt.Sprintf("/customers/%d", c.ID), nil)
	body := string(page.Body)
	if page.Status != 200 || !strings.Contains(body, `id="history-table"`) || !strings.Contains(body, `<a href="/records/b-newest">b-newest</a>`) ||
		strings.Index(body, "b-newest") > strings.Index(body, "m60") || strings.Contains(body, `id="history-failed"`) {
		t.Fatalf("page %d:\n%s", page.Status, body)
	}

	// A failing source: the others still show, the page says some are missing.
	s.App.Customer.AddHistorySource(broken)
	got, err = s.App.Customer.History(ctx, c, 0)
	if err == nil || !strings.Contains(err.Error(), "source down") || len(got) != customer.HistoryLimit {
		t.Fatalf("with a broken source: %d items, %v", len(got), err)
	}
	page = br.Do(t, "GET", fmt.Sprintf("/customers/%d", c.ID), nil)
	if body := string(page.Body); page.Status != 200 || !strings.Contains(body, `id="history-failed"`) || !strings.Contains(body, "b-newest") {
		t.Fatalf("page with a broken source %d:\n%s", page.Status, body)
	}
}

// TestHistoryEmpty: a customer without records shows the empty state.
func TestHistoryEmpty(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	c, err := s.App.Customer.CreateCustomer(actorCtx(t, s, sup), customer.Input{Kind: customer.KindPerson, Name: "Quiet File",
		Mobile: newIDs(42).mobile()})
	if err != nil {
		t.Fatal(err)
	}
	br := s.Browser(t, "supervisor_cs", apptest.Password)
	page := br.Do(t, "GET", fmt.Sprintf("/customers/%d", c.ID), nil)
	if body := string(page.Body); page.Status != 200 || !strings.Contains(body, `id="history-none"`) || strings.Contains(body, `id="history-table"`) {
		t.Fatalf("page %d:\n%s", page.Status, body)
	}
}
