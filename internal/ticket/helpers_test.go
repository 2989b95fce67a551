package ticket_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/ticket"
)

var (
	mobileMu  sync.Mutex
	mobileRng = rand.New(rand.NewPCG(42, 4))
)

func mobile() string {
	mobileMu.Lock()
	defer mobileMu.Unlock()
	return cnid.GenerateMobile(mobileRng)
}

// actorCtx is a context acting as the staff member behind a test client.
func actorCtx(t testing.TB, s *apptest.Server, c *apptest.Client) context.Context {
	t.Helper()
	a, err := s.App.Org.LoadActor(apptest.SystemCtx(), c.Staff.ID)
	if err != nil {
		t.Fatal(err)
	}
	return authz.WithActor(context.Background(), a)
}

// customerCtx is a context acting as portal customer id.
func customerCtx(id int64) context.Context {
	return authz.WithActor(context.Background(), &authz.Actor{ID: id, Kind: authz.KindCustomer,
		Username: fmt.Sprint(id), DisplayName: "customer"})
}

// newCustomer creates a customer with tier and credit grade pinned by hand.
func newCustomer(t testing.TB, s *apptest.Server, name, tier, grade string) customer.Customer {
	t.Helper()
	c, err := s.App.Customer.CreateCustomer(apptest.SystemCtx(), customer.Input{Kind: customer.KindPerson, Name: name,
		Mobile: mobile(), Tier: tier, CreditGrade: grade})
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	return c
}

// team creates a team in department deptCode and moves the client's staff member into it.
func team(t testing.TB, s *apptest.Server, c *apptest.Client, deptCode, name string) org.Team {
	t.Helper()
	ctx := apptest.SystemCtx()
	d := s.Dept(t, deptCode, "Dept "+deptCode)
	tm, err := s.App.Org.CreateTeam(ctx, org.TeamInput{DeptID: d.ID, Name: name})
	if err != nil {
		t.Fatalf("create team: %v", err)
	}
	if c != nil {
		joinTeam(t, s, c, tm)
	}
	return tm
}

func joinTeam(t testing.TB, s *apptest.Server, c *apptest.Client, tm org.Team) {
	t.Helper()
	dept, tid := tm.DeptID, tm.ID
	if _, err := s.App.Org.UpdateStaff(apptest.SystemCtx(), c.Staff.ID, org.StaffPatch{DeptID: &dept, TeamID: &tid}); err != nil {
		t.Fatalf("join team: %v", err)
	}
}

// input is a valid request input.
func input(customerID int64) ticket.Input {
	return ticket.Input{Type: ticket.TypeInquiry, Channel: ticket.ChannelPhone, Severity: ticket.SeverityGeneral,
		Title: "Water heater question", Body: "The customer asks how to descale the heater.", CustomerID: customerID}
}

// createAPI posts a request and returns its view.
func createAPI(t testing.TB, c *apptest.Client, body any) map[string]any {
	t.Helper()
	r := c.Do(t, "POST", "/api/v1/tickets", body)
	if r.Status != 201 {
		t.Fatalf("create ticket: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func idOf(m map[string]any) int64 { return int64(m["id"].(float64)) }

func path(id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/tickets/%d", id)
	for _, s := range rest {
		p += "/" + s
	}
	return p
}

func count(t testing.TB, s *apptest.Server, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.App.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
	return v
}

// ownedBy makes staff member by the owner of customer c, which moves the file into by's
// department and team (within by's customer scope, so by may open requests for it).
func ownedBy(t testing.TB, s *apptest.Server, c customer.Customer, by *apptest.Client) customer.Customer {
	t.Helper()
	id := by.Staff.ID
	out, err := s.App.Customer.UpdateCustomer(apptest.SystemCtx(), c.ID, customer.Patch{OwnerID: &id, Version: &c.Version})
	if err != nil {
		t.Fatalf("owner of customer %d: %v", c.ID, err)
	}
	return out
}
