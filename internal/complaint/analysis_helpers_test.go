package complaint_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// anEnv is a running application for the analysis and case library tests, with two
// departments (ana, anb), staff in each, three customers and a hand-built set of
// complaints written straight into the tables (anDataset).
type anEnv struct {
	s          *apptest.Server
	svc        *complaint.Service
	deptA      org.Department
	deptB      org.Department
	staffA     org.Staff
	staffB     org.Staff
	custX      customer.Customer
	custY      customer.Customer
	custZ      customer.Customer
	causes     map[string]int64 // built-in cause code -> id
	complaints map[string]complaint.Complaint
}

var (
	anMobileMu  sync.Mutex
	anMobileRng = rand.New(rand.NewPCG(10, 11))
)

func anMobile() string {
	anMobileMu.Lock()
	defer anMobileMu.Unlock()
	return cnid.GenerateMobile(anMobileRng)
}

// anChina is the zone of the analysis' days.
var anChina = time.FixedZone("CST", 8*3600)

// anAt is a time in China: month, day, hour of 2026.
func anAt(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, anChina)
}

// newAnEnv starts the application on 2026-12-07 (China time) with the organisation
// and customers, but no complaints.
func newAnEnv(t testing.TB) *anEnv {
	t.Helper()
	s := apptest.New(t)
	s.Clock.Set(anAt(time.December, 7, 12))
	e := &anEnv{s: s, svc: s.App.Complaint, causes: map[string]int64{}, complaints: map[string]complaint.Complaint{}}
	e.deptA, e.deptB = s.Dept(t, "ana", "Dept A"), s.Dept(t, "anb", "Dept B")
	e.staffA, e.staffB = s.Staff(t, "an_staff_a", "agent", "ana"), s.Staff(t, "an_staff_b", "agent", "anb")
	ctx := apptest.SystemCtx()
	for _, c := range []struct {
		dst  *customer.Customer
		name string
	}{{&e.custX, "Xavier Xu"}, {&e.custY, "Yvonne Yang"}, {&e.custZ, "Zack Zhao"}} {
		cu, err := s.App.Customer.CreateCustomer(ctx, customer.Input{Kind: customer.KindPerson, Name: c.name, Mobile: anMobile()})
		if err != nil {
			t.Fatalf("customer: %v", err)
		}
		*c.dst = cu
	}
	rows, err := s.App.DB.Query(context.Background(), `SELECT id, code FROM complaint_causes`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			t.Fatal(err)
		}
		e.causes[code] = id
	}
	return e
}

// anSpec describes one hand-built complaint.
type anSpec struct {
	key        string
	created    time.Time
	level      complaint.Level
	channel    ticket.Channel
	stage      complaint.Stage
	dept, resp int64
	cause      string
	customer   int64
	master     string // key of the master complaint (merged)
	firstLate  bool   // the first answer came after its due time
	firstDone  bool
	resultLate bool
	resultDone bool
	rejected   bool
	sat        int
	title      string
}

// insert writes a request and its complaint row as spec says (no workflow, no audit).
func (e *anEnv) insert(t testing.TB, sp anSpec) complaint.Complaint {
	t.Helper()
	ctx := apptest.SystemCtx()
	title := sp.title
	if title == "" {
		title = "Complaint " + sp.key
	}
	ts := []ticket.Ticket{{Type: ticket.TypeComplaint, Channel: sp.channel, Severity: ticket.SeverityGeneral,
		Status: ticket.StatusNew, Title: title, CustomerID: sp.customer, DeptID: sp.dept, CalendarID: "default",
		CreatedAt: sp.created}}
	if err := e.s.App.Ticket.BulkInsert(ctx, ts); err != nil {
		t.Fatalf("tickets: %v", err)
	}
	c := complaint.Complaint{TicketID: ts[0].ID, Number: ts[0].Number, Title: title, Channel: sp.channel, Stage: sp.stage,
		Level: sp.level, CustomerID: sp.customer, DeptID: sp.dept, RespDeptID: sp.resp, CalendarID: "default",
		CauseID: e.causes[sp.cause], StageAt: sp.created, Version: 1, CreatedAt: sp.created, UpdatedAt: sp.created,
		FirstDueAt: sp.created.Add(24 * time.Hour), ResultDueAt: sp.created.Add(48 * time.Hour), Satisfaction: sp.sat}
	if sp.cause != "" {
		c.CauseKind = complaint.CauseOther
	}
	if sp.firstDone {
		c.FirstDoneAt = sp.created.Add(2 * time.Hour)
		if sp.firstLate {
			c.FirstDoneAt = sp.created.Add(30 * time.Hour)
		}
	}
	if sp.resultDone {
		c.ResultDoneAt = sp.created.Add(40 * time.Hour)
		if sp.resultLate {
			c.ResultDoneAt = sp.created.Add(60 * time.Hour)
		}
	}
	if sp.rejected {
		c.RejectedAt = sp.created.Add(3 * time.Hour)
	}
	if sp.stage == complaint.StageClosed {
		c.ClosedAt = sp.created.Add(72 * time.Hour)
	}
	if sp.master != "" {
		c.MasterID = e.complaints[sp.master].ID
		c.MergedAt = sp.created.Add(time.Hour)
	}
	if err := e.s.App.DB.WithTx(ctx, func(ctx context.Context) error { return e.svc.Store().Insert(ctx, &c) }); err != nil {
		t.Fatalf("complaint %s: %v", sp.key, err)
	}
	e.complaints[sp.key] = c
	return c
}

// stage logs that complaint key left stage from after hours in it.
func (e *anEnv) stage(t testing.TB, key string, from, to complaint.Stage, since time.Time, hours int) {
	t.Helper()
	c := e.complaints[key]
	en := complaint.StageEntry{ComplaintID: c.ID, From: from, To: to, FromSince: since,
		At: since.Add(time.Duration(hours) * time.Hour), ActorKind: "system", ActorName: "test"}
	if err := e.s.App.DB.WithTx(context.Background(), func(ctx context.Context) error {
		return e.svc.Store().InsertStage(ctx, &en)
	}); err != nil {
		t.Fatal(err)
	}
}

// penalty records a penalty of staff member st (of department dept) on complaint key.
func (e *anEnv) penalty(t testing.TB, key string, st org.Staff, dept int64, kind complaint.PenaltyKind, amount int64, status string) {
	t.Helper()
	c := e.complaints[key]
	_, err := e.s.App.DB.Exec(context.Background(), `INSERT INTO complaint_penalties (complaint_id, staff_id, staff_dept_id,
		role, kind, fine_category, amount, note, status, proposed_by, proposed_at, decided_by, decided_at, decision_note)
		VALUES (?, ?, ?, 'direct', ?, '', ?, '', ?, 0, ?, 0, ?, '')`, c.ID, st.ID, dept, string(kind), amount, status,
		c.CreatedAt.UnixMilli(), c.CreatedAt.Add(96*time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
}

// anDataset builds the hand-built set. In 2026: seven complaint issues and one
// complaint merged into c1; one more issue in 2025. See TestAnalysisNumbers for the
// figures it must give.
func anDataset(t testing.TB) *anEnv {
	t.Helper()
	e := newAnEnv(t)
	A, B := e.deptA.ID, e.deptB.ID
	X, Y, Z := e.custX.ID, e.custY.ID, e.custZ.ID
	closed, phone := complaint.StageClosed, ticket.ChannelPhone
	g, u, m := complaint.LevelGeneral, complaint.LevelUrgent, complaint.LevelMajor
	for _, sp := range []anSpec{
		{key: "c1", created: anAt(3, 10, 9), level: g, channel: phone, stage: closed, dept: A, resp: A, cause: "service_attitude",
			customer: X, firstDone: true, resultDone: true, sat: 5, title: "Water leak after repair"},
		{key: "c2", created: anAt(3, 20, 9), level: g, channel: phone, stage: closed, dept: A, resp: A, cause: "service_attitude",
			customer: X, firstDone: true, firstLate: true, resultDone: true, sat: 4},
		{key: "c3", created: anAt(4, 2, 9), level: u, channel: ticket.ChannelWeb, stage: complaint.StageExecuting, dept: A, resp: A,
			cause: "repair_quality", customer: Y, firstDone: true, resultDone: true, resultLate: true},
		{key: "c4", created: anAt(4, 15, 9), level: u, channel: phone, stage: complaint.StageInvestigating, dept: A, resp: B,
			cause: "service_attitude", customer: X, firstDone: true},
		{key: "c5", created: anAt(5, 5, 9), level: m, channel: ticket.ChannelEmail, stage: complaint.StageRejected, dept: B,
			cause: "slow_response", customer: Y, firstDone: true, rejected: true},
		{key: "c6", created: anAt(6, 1, 9), level: g, channel: phone, stage: complaint.StageReceived, dept: B, customer: Z},
		{key: "c7", created: anAt(3, 11, 9), level: g, channel: phone, stage: complaint.StageReceived, dept: A,
			cause: "service_attitude", customer: X, master: "c1"},
		{key: "c8", created: time.Date(2025, 11, 5, 9, 0, 0, 0, anChina), level: g, channel: phone, stage: closed, dept: A, resp: A,
			cause: "charges", customer: X, firstDone: true, resultDone: true, sat: 1},
		{key: "c9", created: anAt(7, 7, 9), level: g, channel: ticket.ChannelWalkIn, stage: closed, dept: B, resp: B,
			cause: "repair_quality", customer: Z, firstDone: true, resultDone: true, sat: 2},
	} {
		e.insert(t, sp)
	}
	rcv, asg, inv := complaint.StageReceived, complaint.StageAssessing, complaint.StageInvestigating
	c := e.complaints
	e.stage(t, "c1", rcv, asg, c["c1"].CreatedAt, 2)
	e.stage(t, "c1", asg, inv, c["c1"].CreatedAt.Add(2*time.Hour), 4)
	e.stage(t, "c2", rcv, asg, c["c2"].CreatedAt, 4)
	e.stage(t, "c2", asg, inv, c["c2"].CreatedAt.Add(4*time.Hour), 10)
	e.stage(t, "c3", rcv, asg, c["c3"].CreatedAt, 6)
	e.stage(t, "c7", rcv, asg, c["c7"].CreatedAt, 100) // merged, still counted
	e.stage(t, "c8", rcv, asg, c["c8"].CreatedAt, 50)  // in 2025: not counted
	e.penalty(t, "c1", e.staffA, A, complaint.PenaltyFine, 10000, complaint.PenaltyApproved)
	e.penalty(t, "c1", e.staffA, A, complaint.PenaltyWarning, 0, complaint.PenaltyApproved)
	e.penalty(t, "c4", e.staffB, B, complaint.PenaltyFine, 30000, complaint.PenaltyApproved)
	e.penalty(t, "c4", e.staffB, B, complaint.PenaltyFine, 50000, complaint.PenaltyProposed)  // not approved
	e.penalty(t, "c8", e.staffA, A, complaint.PenaltyFine, 100000, complaint.PenaltyApproved) // 2025
	return e
}
