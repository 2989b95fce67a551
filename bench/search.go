package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/demo"
)

// Two-character queries of different frequency (\u escapes: no Han literals in Go
// source). Their share of the loaded customers is counted while loading.
var searchQueries = []struct{ q, what string }{
	{"\u4e0a\u6d77", "city (Shanghai)"},
	{"\u79d1\u6280", "industry word (technology)"},
	{"\u738b\u4f1f", "common full name (Wang Wei)"},
	{"\u6d66\u4e1c", "district (Pudong)"},
	{"\u7269\u6d41", "industry word (logistics)"},
	{"\u9526\u7a0b", "company brand word"},
	{"\u8bf8\u845b", "rare compound surname (Zhuge)"},
	{"\u5a49\u7476", "rare given name"},
	{"\u9cb8\u9c7c", "absent word (whale)"},
}

// docText is what the customer search index holds for a generated customer (see
// customer.searchText): used only to count how many customers each query matches.
func docText(in customer.Input) string {
	parts := []string{in.Name, in.Email, in.CreditCode, in.Province, in.City, in.District, in.Region, in.Industry,
		in.ServiceRegion, strings.Join(in.Tags, " "), strings.Join(in.Qualifications, " "), in.Notes}
	for _, c := range in.Contacts {
		parts = append(parts, c.Name, c.Title, c.Email)
	}
	return strings.Join(parts, "\n")
}

// benchSearch loads o.Docs customers through the customer service (validation,
// encryption, blind indexes, search index, audit: the rows and index entries of the
// API path) in transactions of 2,000, unless the database has them already, then
// measures GET /api/v1/customers?q=... for two-character queries.
func benchSearch(ctx context.Context, s *server, o options, w io.Writer) error {
	actx, err := s.adminCtx(ctx)
	if err != nil {
		return err
	}
	have, err := countCustomers(ctx, s, o.Docs)
	if err != nil {
		return err
	}
	df := make([]int, len(searchQueries))
	total := o.Docs
	if have >= o.Docs {
		// A database loaded by an earlier run (-dir DIR -keep) with the same seed: count
		// the query frequencies over the same generated customers.
		fmt.Fprintf(w, "search-customers: the database holds %d customers already; not loading\n", have)
		total = have
		g, err := demo.NewGenerator(time.Now(), o.Seed+1)
		if err != nil {
			return err
		}
		for range have {
			countTerms(docText(g.Next().Input), df)
		}
	} else if err := loadCustomers(actx, s, o, have, o.Docs, df, w); err != nil {
		return err
	}
	s.checkpoint(ctx)
	fmt.Fprintf(w, "  database %.1f MB on disk (customers, contacts, search index, audit log)\n", float64(s.dbBytes())/1e6)

	fmt.Fprintf(w, "  GET /api/v1/customers?q=... (limit 50, the API default), %d requests per query, one client:\n", o.Runs)
	var all latencies
	for qi, sq := range searchQueries {
		var lat latencies
		hits := 0
		for range o.Runs {
			t0 := time.Now()
			n, err := s.search(ctx, sq.q)
			lat = append(lat, time.Since(t0))
			if err != nil {
				return err
			}
			hits = n
		}
		all = append(all, lat...)
		share := fmt.Sprintf("in %6.3f%% of customers", 100*float64(df[qi])/float64(total))
		fmt.Fprintf(w, "  %-30s %s  %s  (%d on page 1)\n", sq.what, share, lat.summary(), hits)
	}
	fmt.Fprintf(w, "  all queries                    %s\n", all.summary())

	// The same mix with o.C concurrent clients.
	var lat latencies
	var mu sync.Mutex
	var next atomic.Int64
	requests := o.Runs * len(searchQueries)
	var wg sync.WaitGroup
	start := time.Now()
	var firstErr error
	for range o.C {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= requests {
					return
				}
				t0 := time.Now()
				_, err := s.search(ctx, searchQueries[i%len(searchQueries)].q)
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintf(w, "  mixed, %d clients: %.0f searches/s  %s\n", o.C, float64(requests)/time.Since(start).Seconds(), lat.summary())
	fmt.Fprintf(w, "  process RSS %d MB, peak %d MB\n", procStatus("VmRSS")/1024, procStatus("VmHWM")/1024)
	return nil
}

func (s *server) search(ctx context.Context, q string) (int, error) {
	status, body, err := s.get(ctx, "/api/v1/customers?q="+url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("search %q: status %d: %s", q, status, body)
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, err
	}
	return len(page.Items), nil
}

// countCustomers returns the id of the newest customer: ids are assigned in order, so
// it is the number of customers a load created (merges and deletes aside).
func countCustomers(ctx context.Context, s *server, _ int) (int, error) {
	status, body, err := s.get(ctx, "/api/v1/customers?status=all&limit=1")
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("count: status %d: %s", status, body)
	}
	var page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, err
	}
	if len(page.Items) == 0 {
		return 0, nil
	}
	return int(page.Items[0].ID), nil
}

// loadCustomers creates generated customers through the service until there are n,
// 2,000 per transaction; generation runs on another goroutine. The first have were
// loaded by an earlier, interrupted run with the same seed: they are generated again
// (for the uniqueness of identifiers and the query counts) but not stored.
func loadCustomers(ctx context.Context, s *server, o options, have, n int, df []int, w io.Writer) error {
	const batch = 2000
	g, err := demo.NewGenerator(time.Now(), o.Seed+1)
	if err != nil {
		return err
	}
	if have > 0 {
		fmt.Fprintf(w, "search-customers: resuming after customer %d\n", have)
		for range have {
			countTerms(docText(g.Next().Input), df)
		}
	}
	n -= have
	batches := make(chan []customer.Input, 4)
	go func() {
		defer close(batches)
		for done := 0; done < n; {
			size := min(batch, n-done)
			b := make([]customer.Input, size)
			for i := range b {
				b[i] = g.Next().Input
				countTerms(docText(b[i]), df)
			}
			done += size
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	fmt.Fprintf(w, "search-customers: loading %d customers through customer.Service.CreateCustomer, %d per transaction\n", n, batch)
	start, done, lastReport := time.Now(), 0, time.Now()
	for b := range batches {
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			for i := range b {
				if _, err := s.app.Customer.CreateCustomer(ctx, b[i]); err != nil {
					return fmt.Errorf("customer %d: %w", done+i, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		done += len(b)
		if time.Since(lastReport) > 30*time.Second || done == n {
			lastReport = time.Now()
			fmt.Fprintf(w, "  %8d loaded, %.0f s, %.0f/s, database %.0f MB\n", done, time.Since(start).Seconds(),
				float64(done)/time.Since(start).Seconds(), float64(s.dbBytes())/1e6)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fmt.Fprintf(w, "  build: %d customers in %.0f s (%.0f/s)\n", n, time.Since(start).Seconds(), float64(n)/time.Since(start).Seconds())
	return nil
}

// countTerms adds 1 to df[i] for every query i that text contains.
func countTerms(text string, df []int) {
	for qi, sq := range searchQueries {
		if strings.Contains(text, sq.q) {
			df[qi]++
		}
	}
}
