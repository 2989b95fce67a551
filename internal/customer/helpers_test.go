package customer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
)

// ids generates valid identity data deterministically.
type ids struct{ r *rand.Rand }

func newIDs(seed uint64) *ids { return &ids{r: rand.New(rand.NewPCG(seed, 7))} }

func (g *ids) mobile() string { return cnid.GenerateMobile(g.r) }
func (g *ids) resident() string {
	return cnid.GenerateResidentID(g.r, "110105", time.Date(1980+g.r.IntN(20), time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), 0, 0, 0, 0, time.UTC), true)
}
func (g *ids) uscc() string { return cnid.GenerateUSCC(g.r) }

// actorCtx is a context acting as the staff member behind a test client.
func actorCtx(t testing.TB, s *apptest.Server, c *apptest.Client) context.Context {
	t.Helper()
	a, err := s.App.Org.LoadActor(apptest.SystemCtx(), c.Staff.ID)
	if err != nil {
		t.Fatal(err)
	}
	return authz.WithActor(context.Background(), a)
}

// create posts a customer through the API and returns its id.
func create(t testing.TB, c *apptest.Client, body map[string]any) int64 {
	t.Helper()
	r := c.Do(t, "POST", "/api/v1/customers", body)
	if r.Status != 201 {
		t.Fatalf("create customer: %d %s", r.Status, r.Body)
	}
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func path(id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/customers/%d", id)
	for _, s := range rest {
		p += "/" + s
	}
	return p
}

func countCustomers(t testing.TB, s *apptest.Server) int {
	t.Helper()
	var n int
	if err := s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var _ = customer.KindPerson

// versioned returns body with "version" set to the stored version of row id of table
// (a PATCH must carry the version it was made against).
func versioned(t testing.TB, s *apptest.Server, table string, id int64, body map[string]any) map[string]any {
	t.Helper()
	var v int64
	if err := s.App.DB.QueryRow(context.Background(), `SELECT version FROM `+table+` WHERE id = ?`, id).Scan(&v); err != nil {
		t.Fatalf("version of %s %d: %v", table, id, err)
	}
	out := map[string]any{"version": v}
	for k, x := range body {
		out[k] = x
	}
	return out
}

// ver is the stored version of customer id, for service calls.
func ver(t testing.TB, s *apptest.Server, id int64) *int64 {
	t.Helper()
	v := versioned(t, s, "customers", id, nil)["version"].(int64)
	return &v
}
