// Package demo fills an empty database with realistic demo data (SPEC §3.1 `kefu serve
// --demo`): departments, teams and staff of every role. The dataset lives in data/*.json
// (embedded): data/org.json for the organisation, data/customers.json for 500 customer
// files (customers.go), data/tickets.json for 3,000 service requests over the last 90
// days with canned replies and FAQ articles (tickets.go), data/complaints.json for 300
// complaints over the last year (complaints.go); later capabilities extend it with visits.
package demo

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/kb"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/auth"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/ticket"
)

//go:embed data/*.json
var dataFS embed.FS

// Login is a demo account printed for the operator.
type Login struct {
	Username string
	Password string
	Role     string
	Name     string
}

// orgData is data/org.json.
type orgData struct {
	Password    string `json:"password"`
	Departments []struct {
		Code   string `json:"code"`
		Name   string `json:"name"`
		Parent string `json:"parent"`
	} `json:"departments"`
	Teams []struct {
		Dept string `json:"dept"`
		Name string `json:"name"`
	} `json:"teams"`
	Staff []struct {
		Username string   `json:"username"`
		Name     string   `json:"name"`
		Role     string   `json:"role"`
		Dept     string   `json:"dept"`
		Team     string   `json:"team"`
		Mobile   string   `json:"mobile"`
		Email    string   `json:"email"`
		Skills   []string `json:"skills"`
	} `json:"staff"`
}

func loadOrg() (orgData, error) {
	var d orgData
	b, err := dataFS.ReadFile("data/org.json")
	if err != nil {
		return d, fmt.Errorf("demo: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("demo: data/org.json: %w", err)
	}
	return d, nil
}

// Deps are the services Seed fills. Customer may be nil (no demo customers).
type Deps struct {
	Org      *org.Service
	Auth     *auth.Service
	Customer *customer.Service
	// Clock dates the demo history (relationship dates, transactions, requests); nil =
	// real time.
	Clock clock.Clock
	// Tickets are the request service's collaborators; nil = no demo requests. Seed
	// builds its own request service over them with a fake clock (to date the history
	// of every request) and without jobs, event bus or mail: nothing is sent or
	// scheduled for the past (tickets.go).
	Tickets *ticket.Deps
	// KB receives the demo FAQ articles (nil = none).
	KB *kb.Service
	// TicketCount overrides the number of demo requests (0 = data/tickets.json).
	TicketCount int
	// Complaints adds the demo complaints with the demo requests (complaints.go; they
	// need Tickets); ComplaintCount overrides their number (0 = data/complaints.json).
	Complaints     bool
	ComplaintCount int
}

// Seed fills an empty database (no staff yet) in one transaction and returns the demo
// logins, then adds the demo customers (customers.go) in a second transaction and the
// demo requests, canned replies and FAQ articles (tickets.go). When staff exist already
// it adds nothing to the organisation and returns no logins; the demo customers and
// requests are still added when the demo accounts exist and none exist yet.
func Seed(ctx context.Context, d Deps) ([]Login, error) {
	if authz.From(ctx) == nil {
		ctx = authz.WithActor(ctx, authz.System("demo"))
	}
	o, a := d.Org, d.Auth
	n, err := o.CountStaff(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if n > 0 {
		if err := seedCustomers(ctx, d); err != nil {
			return nil, err
		}
		return nil, seedTickets(ctx, d)
	}
	data, err := loadOrg()
	if err != nil {
		return nil, err
	}
	var logins []Login
	err = o.Atomically(ctx, func(ctx context.Context) error {
		logins = nil
		depts := map[string]int64{}
		for _, d := range data.Departments {
			in := org.DepartmentInput{Code: d.Code, Name: d.Name, ParentID: depts[d.Parent]}
			dep, err := o.CreateDepartment(ctx, in)
			if err != nil {
				return fmt.Errorf("demo: department %s: %w", d.Code, err)
			}
			depts[d.Code] = dep.ID
		}
		teams := map[string]int64{}
		for _, t := range data.Teams {
			team, err := o.CreateTeam(ctx, org.TeamInput{DeptID: depts[t.Dept], Name: t.Name})
			if err != nil {
				return fmt.Errorf("demo: team %s: %w", t.Name, err)
			}
			teams[t.Dept+"/"+t.Name] = team.ID
		}
		for _, s := range data.Staff {
			st, err := o.CreateStaff(ctx, org.StaffInput{Username: s.Username, DisplayName: s.Name, Mobile: s.Mobile,
				Email: s.Email, DeptID: depts[s.Dept], TeamID: teams[s.Dept+"/"+s.Team], Roles: []string{s.Role},
				Skills: s.Skills})
			if err != nil {
				return fmt.Errorf("demo: staff %s: %w", s.Username, err)
			}
			if err := a.SetPassword(ctx, st.ID, data.Password); err != nil {
				return fmt.Errorf("demo: password of %s: %w", s.Username, err)
			}
			logins = append(logins, Login{Username: s.Username, Password: data.Password, Role: s.Role, Name: s.Name})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := seedCustomers(ctx, d); err != nil {
		return nil, err
	}
	if err := seedTickets(ctx, d); err != nil {
		return nil, err
	}
	return logins, nil
}
