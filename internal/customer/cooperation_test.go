package customer_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
)

// withCooperations mounts the cooperation routes on s when the app does not yet.
func withCooperations(t *testing.T, s *apptest.Server) {
	t.Helper()
	for _, rt := range s.App.Router.Routes() {
		if rt.Method == "GET" && rt.Path == "/api/v1/customers/{id}/cooperations" {
			return
		}
	}
	s.App.Router.Mount(s.App.Customer.CooperationRoutes()...)
}

func coopPath(id int64, rest ...any) string {
	p := fmt.Sprintf("/api/v1/customers/%d/cooperations", id)
	for _, x := range rest {
		p += fmt.Sprintf("/%v", x)
	}
	return p
}

// TestCooperationRoles: records are top secret. Only cooperation:reveal reads title and
// number in clear (audited as cooperation.reveal); others read them masked (audited as
// cooperation.list); customers out of the actor's scope read as 404; only
// cooperation:write records and changes them.
func TestCooperationRoles(t *testing.T) {
	s := apptest.New(t)
	withCooperations(t, s)
	for _, r := range []string{"admin", "director", "supervisor", "supervisor@other", "agent", "sales", "qa"} {
		s.As(t, r)
	}
	a := create(t, s.As(t, "agent"), map[string]any{"kind": "org", "name": "Coop Customer", "mobile": "13812340001"})
	b := create(t, s.As(t, "agent@other"), map[string]any{"kind": "org", "name": "Other Customer", "mobile": "13812340002"})
	const title, number = "2026 property service agreement", "HT-2026-0815"
	body := map[string]any{"title": title, "number": number, "start_on": "2026-01-01", "end_on": "2026-12-31", "note": "renewal in December"}
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "agent cannot record", As: "agent", Method: "POST", Path: coopPath(a), Body: body, Status: 403, NoAudit: true},
		{Name: "qa cannot read", As: "qa", Method: "GET", Path: coopPath(a), Status: 403, NoAudit: true},
		{Name: "other department", As: "supervisor@other", Method: "POST", Path: coopPath(a), Body: body, Status: 404, NoAudit: true},
		{Name: "missing customer", As: "director", Method: "GET", Path: coopPath(999999), Status: 404},
		{Name: "invalid", As: "supervisor", Method: "POST", Path: coopPath(a),
			Body: map[string]any{"title": "", "number": "", "start_on": "2026-02-30", "status": "paused"}, Status: 422,
			Has: []string{`"title"`, `"number"`, `"start_on"`, `"status"`}, NoAudit: true},
		{Name: "end before start", As: "supervisor", Method: "POST", Path: coopPath(a),
			Body: map[string]any{"title": "x", "number": "y", "start_on": "2026-02-01", "end_on": "2026-01-01"}, Status: 422, Has: []string{`"end_on"`}},
		{Name: "supervisor records, answer masked", As: "supervisor", Method: "POST", Path: coopPath(a), Body: body, Status: 201,
			Audit: "cooperation.create", Has: []string{`"masked":true`, `"number":"****15"`, `"status":"active"`}, Not: []string{title, number, "renewal"}},
		{Name: "agent reads masked", As: "agent", Method: "GET", Path: coopPath(a), Status: 200, Audit: "cooperation.list",
			Has: []string{`"title":"2****"`, `"number":"****15"`, `"start_on":"2026-01-01"`}, Not: []string{title, number, "renewal"}},
		{Name: "sales out of own scope", As: "sales", Method: "GET", Path: coopPath(a), Status: 404, NoAudit: true},
		{Name: "other department reads", As: "supervisor@other", Method: "GET", Path: coopPath(a), Status: 404, NoAudit: true},
		{Name: "director reads clear", As: "director", Method: "GET", Path: coopPath(a), Status: 200, Audit: "cooperation.reveal",
			Has: []string{title, number, "renewal in December", `"masked":false`}},
		{Name: "director asks masked", As: "director", Method: "GET", Path: coopPath(a) + "?masked=true", Status: 200, Audit: "cooperation.list",
			Not: []string{title}},
		{Name: "other customer empty", As: "director", Method: "GET", Path: coopPath(b), Status: 200, Has: []string{`"items":[]`}},
	})
	var id int64
	if err := s.App.DB.QueryRow(context.Background(), `SELECT id FROM customer_cooperations WHERE customer_id = ?`, a).Scan(&id); err != nil {
		t.Fatal(err)
	}
	apptest.Run(t, s, []apptest.Scenario{
		{Name: "patch needs version", As: "supervisor", Method: "PATCH", Path: coopPath(a, id), Body: map[string]any{"status": "terminated"}, Status: 428},
		{Name: "patch on the wrong customer", As: "director", Method: "PATCH", Path: coopPath(b, id),
			Body: map[string]any{"status": "terminated", "version": 1}, Status: 404},
		{Name: "patch other department", As: "supervisor@other", Method: "PATCH", Path: coopPath(a, id),
			Body: map[string]any{"status": "terminated", "version": 1}, Status: 404},
		{Name: "agent cannot patch", As: "agent", Method: "PATCH", Path: coopPath(a, id), Body: map[string]any{"status": "terminated", "version": 1}, Status: 403},
		{Name: "terminate", As: "director", Method: "PATCH", Path: coopPath(a, id), Body: map[string]any{"status": "terminated", "version": 1},
			Status: 200, Audit: "cooperation.update", Has: []string{`"status":"terminated"`, `"version":2`, title}},
		{Name: "stale", As: "director", Method: "PATCH", Path: coopPath(a, id), Body: map[string]any{"status": "active", "version": 1},
			Status: 409, Has: []string{`"version_conflict"`}},
		{Name: "bad status", As: "director", Method: "PATCH", Path: coopPath(a, id), Body: map[string]any{"status": "paused", "version": 2},
			Status: 422},
	})
	// An active record whose end day has passed reads as ended.
	if r := s.As(t, "director").Do(t, "POST", coopPath(a), map[string]any{"title": "Old", "number": "HT-2019-1", "start_on": "2019-01-01",
		"end_on": "2019-12-31"}); r.Status != 201 || r.JSON(t)["status"] != "ended" {
		t.Fatalf("past record: %d %s", r.Status, r.Body)
	}
}

// TestCooperating: the system query lists the customers with an active record covering
// the day, each once, by id, page by page.
func TestCooperating(t *testing.T) {
	s := apptest.New(t)
	ctx := apptest.SystemCtx()
	svc := s.App.Customer
	mk := func(name, mobile string) int64 {
		c, err := svc.CreateCustomer(ctx, customer.Input{Kind: "org", Name: name, Mobile: mobile})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	add := func(id int64, start, end string, st customer.CoopStatus) {
		if _, err := svc.AddCooperation(ctx, id, customer.CooperationInput{Title: "Agreement", Number: "N-" + start,
			StartOn: start, EndOn: end, Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	c1, c2, c3, c4, c5 := mk("C1", "13900000001"), mk("C2", "13900000002"), mk("C3", "13900000003"), mk("C4", "13900000004"), mk("C5", "13900000005")
	add(c1, "2026-01-01", "2026-12-31", customer.CoopActive)
	add(c1, "2026-06-01", "", customer.CoopActive) // twice: listed once
	add(c2, "2026-10-01", "", customer.CoopActive) // open-ended from the day
	add(c3, "2025-01-01", "2026-09-30", customer.CoopActive)
	add(c4, "2026-01-01", "2026-12-31", customer.CoopTerminated)
	add(c5, "2026-10-02", "2026-12-31", customer.CoopActive)
	got, err := svc.Cooperating(context.Background(), "2026-10-01", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{c1, c2}; !slices.Equal(got, want) {
		t.Fatalf("cooperating on 2026-10-01 = %v, want %v", got, want)
	}
	page1, _ := svc.Cooperating(context.Background(), "2026-10-05", 0, 2)
	page2, _ := svc.Cooperating(context.Background(), "2026-10-05", page1[len(page1)-1], 2)
	if all := append(page1, page2...); !slices.Equal(all, []int64{c1, c2, c5}) {
		t.Fatalf("pages = %v %v, want %v", page1, page2, []int64{c1, c2, c5})
	}
	if _, err := svc.Cooperating(context.Background(), "2026-1-5", 0, 10); err == nil {
		t.Fatal("a bad day must be refused")
	}
}

// BenchmarkCooperating: one page of 500 cooperating customers out of 2,000 customers
// with 10 agreements each (the query walks customer_cooperations_active).
func BenchmarkCooperating(b *testing.B) {
	s := apptest.New(b)
	ctx := apptest.SystemCtx()
	svc := s.App.Customer
	err := s.App.DB.WithTx(ctx, func(ctx context.Context) error {
		for i := range 2000 {
			c, err := svc.CreateCustomer(ctx, customer.Input{Kind: "org", Name: fmt.Sprintf("Bench %04d Trading", i)})
			if err != nil {
				return err
			}
			for j := range 10 {
				start := fmt.Sprintf("20%02d-01-01", 17+j)
				if _, err := svc.AddCooperation(ctx, c.ID, customer.CooperationInput{Title: "Agreement", Number: fmt.Sprintf("B-%d-%d", i, j),
					StartOn: start, EndOn: fmt.Sprintf("20%02d-12-31", 17+j)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		ids, err := svc.Cooperating(context.Background(), "2026-10-01", 0, 500)
		if err != nil || len(ids) != 500 {
			b.Fatalf("%d ids, %v", len(ids), err)
		}
	}
}
