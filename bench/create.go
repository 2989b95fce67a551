package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/demo"
)

// createBodies prepares n valid, mutually distinct create requests (no 409): demo-like
// persons and organisations with contacts ("mixed"), or bare persons ("simple").
func createBodies(n int, kind string, seed uint64) ([][]byte, error) {
	g, err := demo.NewGenerator(time.Now(), seed)
	if err != nil {
		return nil, err
	}
	bodies := make([][]byte, n)
	for i := range bodies {
		in := g.Next().Input
		if kind == "simple" {
			in = customer.Input{Kind: customer.KindPerson, Name: in.Name, Mobile: in.Mobile, Province: in.Province,
				City: in.City, District: in.District, Address: in.Address}
			if in.Mobile == "" {
				in.Mobile = fmt.Sprintf("139%08d", i)
			}
		}
		if bodies[i], err = json.Marshal(in); err != nil {
			return nil, err
		}
	}
	return bodies, nil
}

// benchCreate sends o.N POST /api/v1/customers with o.C concurrent clients and reports
// the sustained rate and the latency percentiles. With o.Rate > 0 the requests are sent
// on a fixed schedule (open loop) and latency counts from the scheduled instant.
func benchCreate(ctx context.Context, s *server, o options, w io.Writer) error {
	bodies, err := createBodies(o.N, o.Body, o.Seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "create-customers: %d requests (%s bodies, avg %d bytes), %d clients", o.N, o.Body, avgLen(bodies), o.C)
	if o.Rate > 0 {
		fmt.Fprintf(w, ", paced at %d/s", o.Rate)
	}
	fmt.Fprintln(w)
	lat := make(latencies, o.N)
	var next, failures atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Second / time.Duration(o.Rate)
	}
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	for range o.C {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if interval > 0 {
					t0 = start.Add(time.Duration(i) * interval)
					time.Sleep(time.Until(t0))
				}
				status, body, err := s.post(ctx, "/api/v1/customers", bodies[i])
				lat[i] = time.Since(t0)
				if err == nil && status != http.StatusCreated {
					err = fmt.Errorf("status %d: %s", status, body)
				}
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(w, "  %d failures, first: %v\n", failures.Load(), e)
	}
	fmt.Fprintf(w, "  %d created in %.2f s = %.0f creates/s sustained\n", int64(o.N)-failures.Load(), took.Seconds(),
		float64(o.N)/took.Seconds())
	fmt.Fprintf(w, "  latency %s\n", lat.summary())
	fmt.Fprintf(w, "  CPU %.2f ms per create (whole process: server and clients; load average %s)\n",
		float64((cpuTime()-cpu0).Microseconds())/1000/float64(o.N), loadAvg())
	fmt.Fprintf(w, "  database %.1f MB, peak RSS %d MB\n", float64(s.dbBytes())/1e6, procStatus("VmHWM")/1024)
	if failures.Load() > 0 {
		return fmt.Errorf("%d requests failed", failures.Load())
	}
	return nil
}

func avgLen(bs [][]byte) int {
	if len(bs) == 0 {
		return 0
	}
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	return n / len(bs)
}

func (s *server) post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	return s.do(req)
}

func (s *server) get(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	return s.do(req)
}

func (s *server) do(req *http.Request) (int, []byte, error) {
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
