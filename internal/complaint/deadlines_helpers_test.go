package complaint_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// dlEnv is a running application with a complaint service of the test's own, whose
// deadline jobs run on a runner of their own (the application's runner is never run
// here), and an organisation: a department with a team, its team supervisor, its head
// (a supervisor outside the teams) and a director.
type dlEnv struct {
	s       *apptest.Server
	svc     *complaint.Service
	runner  *jobs.Runner
	dept    org.Department
	team    org.Team
	teamSup org.Staff
	head    org.Staff
	dir     org.Staff
	cust    customer.Customer
}

var (
	dlMobileMu  sync.Mutex
	dlMobileRng = rand.New(rand.NewPCG(8, 9))
)

func dlMobile() string {
	dlMobileMu.Lock()
	defer dlMobileMu.Unlock()
	return cnid.GenerateMobile(dlMobileRng)
}

// dlZone is the default calendar's zone.
var dlZone = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// sh parses "2026-11-20 16:00" in Shanghai.
func dlAt(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, dlZone)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newDLEnv starts the application with its clock at start (Shanghai time) and builds
// the organisation; code names the department (unique per test).
func newDLEnv(t testing.TB, start, code string) *dlEnv {
	t.Helper()
	s := apptest.New(t)
	s.Clock.Set(dlAt(t, start))
	e := &dlEnv{s: s}
	e.runner, e.svc = dlService(t, s, "deadlines-a")
	ctx := apptest.SystemCtx()
	e.dept = s.Dept(t, code, "Dept "+code)
	tm, err := s.App.Org.CreateTeam(ctx, org.TeamInput{DeptID: e.dept.ID, Name: "Team " + code})
	if err != nil {
		t.Fatal(err)
	}
	e.team = tm
	e.teamSup = s.Staff(t, code+"_teamsup", "supervisor", code)
	dept, team := e.dept.ID, tm.ID
	if e.teamSup, err = s.App.Org.UpdateStaff(ctx, e.teamSup.ID, org.StaffPatch{DeptID: &dept, TeamID: &team}); err != nil {
		t.Fatal(err)
	}
	e.head = s.Staff(t, code+"_head", "supervisor", code)
	e.dir = s.Staff(t, code+"_dir", "director", "")
	// A disabled director and a supervisor of another department are never told.
	off := s.Staff(t, code+"_olddir", "director", "")
	disabled := org.StatusDisabled
	if _, err := s.App.Org.UpdateStaff(ctx, off.ID, org.StaffPatch{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	s.Staff(t, code+"_othersup", "supervisor", code+"x")
	if e.cust, err = s.App.Customer.CreateCustomer(ctx, customer.Input{Kind: customer.KindPerson, Name: "王芳",
		Mobile: dlMobile()}); err != nil {
		t.Fatal(err)
	}
	return e
}

// dlService builds a complaint service over the application's services whose jobs run
// on a new runner named node.
func dlService(t testing.TB, s *apptest.Server, node string) (*jobs.Runner, *complaint.Service) {
	t.Helper()
	a := s.App
	r := jobs.New(jobs.Options{DB: a.DB, Clock: s.Clock, NodeID: node, Concurrency: 4, Lease: 10 * time.Second})
	svc, err := complaint.New(complaint.Deps{DB: a.DB, Audit: a.Audit, Clock: s.Clock, Events: a.Events, Jobs: r,
		Tickets: a.Ticket, Staff: a.Org, Customers: a.Customer, Calendars: a.Calendars})
	if err != nil {
		t.Fatal(err)
	}
	return r, svc
}

var dlSeverity = map[complaint.Level]ticket.Severity{
	complaint.LevelGeneral: ticket.SeverityGeneral,
	complaint.LevelUrgent:  ticket.SeverityModerate,
	complaint.LevelMajor:   ticket.SeverityMajor,
}

// create records a complaint of level in the department and team (as the system).
func (e *dlEnv) create(t testing.TB, level complaint.Level) complaint.Complaint {
	t.Helper()
	c, err := e.svc.Create(apptest.SystemCtx(), ticket.Input{Channel: ticket.ChannelPhone, Severity: dlSeverity[level],
		Title: "热水器维修后仍漏水", Body: "客户投诉维修人员上门后热水器仍然漏水。", CustomerID: e.cust.ID,
		DeptID: e.dept.ID, TeamID: e.team.ID, Reason: "deadline test"})
	if err != nil {
		t.Fatalf("create complaint: %v", err)
	}
	if c.Level != level {
		t.Fatalf("level %s, want %s", c.Level, level)
	}
	return c
}

func (e *dlEnv) get(t testing.TB, id int64) complaint.Complaint {
	t.Helper()
	c, err := e.svc.Store().Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// move moves complaint id to stage as the system.
func (e *dlEnv) move(t testing.TB, id int64, in complaint.MoveInput) complaint.Complaint {
	t.Helper()
	c, err := e.svc.Transition(apptest.SystemCtx(), id, in)
	if err != nil {
		t.Fatalf("move %d to %s: %v", id, in.Stage, err)
	}
	return c
}

// runJobs scans and runs every due job of the test's runner, twice over: the second
// round must find nothing more to record.
func (e *dlEnv) runJobs(t testing.TB) {
	t.Helper()
	for range 2 {
		if _, err := e.svc.ScanDeadlines(context.Background()); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := e.runner.RunDue(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// at sets the clock to t and runs the jobs.
func (e *dlEnv) at(t testing.TB, when time.Time) {
	t.Helper()
	e.s.Clock.Set(when)
	e.runJobs(t)
}

// dlRecord is a warning or escalation on a request's timeline.
type dlRecord struct {
	Deadline string   `json:"deadline"`
	Kind     string   `json:"kind"`
	Level    string   `json:"level"`
	Stage    string   `json:"stage"`
	To       []int64  `json:"to"`
	Names    []string `json:"names"`
	DueAt    string   `json:"due_at"`
}

// records lists the deadline records on complaint c's request timeline, oldest first.
func (e *dlEnv) records(t testing.TB, c complaint.Complaint) []dlRecord {
	t.Helper()
	rows, err := e.s.App.DB.Query(context.Background(), `SELECT data FROM ticket_events WHERE ticket_id = ? AND kind = ? ORDER BY id`,
		c.TicketID, string(ticket.EventComplaint))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []dlRecord
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &probe); err != nil {
			t.Fatalf("event data %s: %v", raw, err)
		}
		if _, ok := probe["deadline"]; !ok {
			continue // a stage move or another entry
		}
		var r dlRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatalf("event data %s: %v", raw, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// count counts c's deadline records of target and kind ("" = any).
func (e *dlEnv) count(t testing.TB, c complaint.Complaint, target, kind string) int {
	t.Helper()
	n := 0
	for _, r := range e.records(t, c) {
		if (target == "" || r.Deadline == target) && (kind == "" || r.Kind == kind) {
			n++
		}
	}
	return n
}

// want checks the number of warnings and escalations of target.
func (e *dlEnv) want(t testing.TB, c complaint.Complaint, target string, warnings, escalations int) {
	t.Helper()
	if w, x := e.count(t, c, target, "warning"), e.count(t, c, target, "escalation"); w != warnings || x != escalations {
		t.Errorf("complaint %d %s: %d warnings and %d escalations, want %d and %d (%+v)", c.ID, target, w, x,
			warnings, escalations, e.records(t, c))
	}
}

// audits counts the audit entries of action about complaint id.
func (e *dlEnv) audits(t testing.TB, action string, id int64) int {
	t.Helper()
	var n int
	if err := e.s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = ? AND target_type = ? AND target_id = ?`,
		action, "complaint", fmt.Sprint(id)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func dlSameIDs(got []int64, want ...int64) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// actor is a staff actor holding perms (all scope) for service-level checks.
func dlActor(id int64, perms ...string) context.Context {
	a := &authz.Actor{ID: id, Kind: authz.KindStaff, Username: fmt.Sprint("staff", id), DisplayName: "staff"}
	for _, p := range perms {
		a.Grant(p, authz.ScopeAll)
	}
	return authz.WithActor(context.Background(), a)
}
