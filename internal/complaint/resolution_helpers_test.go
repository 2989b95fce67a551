package complaint_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// resEnv is a center for the resolution tests: an intake department (cs) with an agent
// and a supervisor, a responsible department (eng) with two agents, a team and its head
// (supervisor), another department's supervisor, and a director.
type resEnv struct {
	srv *apptest.Server
	svc *complaint.Service

	agent, sup, engSup, engRep, engRep2, otherSup, director *apptest.Client
	engDept, engTeam                                        int64
}

func newResEnv(t *testing.T) *resEnv {
	t.Helper()
	srv := apptest.New(t)
	e := &resEnv{srv: srv, svc: srv.App.Complaint, agent: srv.As(t, "agent@cs"), sup: srv.As(t, "supervisor@cs"),
		engSup: srv.As(t, "supervisor@eng"), engRep: srv.As(t, "agent@eng"), otherSup: srv.As(t, "supervisor@other"),
		director: srv.As(t, "director@hq")}
	e.engDept = e.engSup.Staff.DeptID
	st := srv.Staff(t, "agent2_eng", "agent", "eng")
	e.engRep2 = &apptest.Client{Staff: st}
	tm, err := srv.App.Org.CreateTeam(apptest.SystemCtx(), org.TeamInput{DeptID: e.engDept, Name: "Lift team"})
	if err != nil {
		t.Fatalf("create team: %v", err)
	}
	e.engTeam = tm.ID
	return e
}

// as is a context acting as the staff member behind c.
func (e *resEnv) as(t testing.TB, c *apptest.Client) context.Context {
	t.Helper()
	a, err := e.srv.App.Org.LoadActor(apptest.SystemCtx(), c.Staff.ID)
	if err != nil {
		t.Fatal(err)
	}
	return authz.WithActor(context.Background(), a)
}

// resMove moves complaint id as c, failing the test on an error.
func (e *resEnv) move(t testing.TB, c *apptest.Client, id int64, in complaint.MoveInput) complaint.Complaint {
	t.Helper()
	out, err := e.svc.Transition(e.as(t, c), id, in)
	if err != nil {
		t.Fatalf("move %d to %s: %v", id, in.Stage, err)
	}
	return out
}

// proposing records a complaint in cs and moves it to the proposal stage with cause kind
// kind, the eng agent as responsible person (and the team for a team cause), and
// proposals made by the eng agent.
func (e *resEnv) proposing(t testing.TB, kind complaint.CauseKind, proposals ...string) complaint.Complaint {
	t.Helper()
	c, err := e.svc.Create(e.as(t, e.agent), resTicketInput())
	if err != nil {
		t.Fatalf("create complaint: %v", err)
	}
	e.move(t, e.agent, c.ID, complaint.MoveInput{Stage: complaint.StageAssessing})
	e.move(t, e.sup, c.ID, complaint.MoveInput{Stage: complaint.StageInvestigating, RespDeptID: e.engDept,
		RespStaffID: e.engRep.Staff.ID})
	in := complaint.MoveInput{Stage: complaint.StageProposing, CauseID: 2, CauseKind: kind, Findings: "Spare parts out of stock"}
	if kind == complaint.CauseTeam {
		in.RespTeamID = e.engTeam
	}
	for _, p := range proposals {
		in.Proposals = append(in.Proposals, complaint.ProposalInput{Body: p})
	}
	return e.move(t, e.engRep, c.ID, in)
}

// resTicketInput is a complaint request as the phone agent records it.
func resTicketInput() ticket.Input {
	return ticket.Input{Channel: ticket.ChannelPhone, Severity: ticket.SeverityGeneral, Title: "Lift broken again",
		Body: "The lift of building 3 stopped for two days."}
}

// resolution reads the proposals, penalties and tasks of complaint id as the director.
func (e *resEnv) resolution(t testing.TB, id int64) ([]complaint.Proposal, []complaint.Penalty, []complaint.Task) {
	t.Helper()
	ps, pens, ts, err := e.svc.Resolution(e.as(t, e.director), id)
	if err != nil {
		t.Fatalf("resolution of %d: %v", id, err)
	}
	return ps, pens, ts
}

// taskOf returns the task of kind on complaint id.
func (e *resEnv) taskOf(t testing.TB, id int64, kind string) complaint.Task {
	t.Helper()
	_, _, ts := e.resolution(t, id)
	for _, x := range ts {
		if x.Kind == kind {
			return x
		}
	}
	t.Fatalf("complaint %d has no %s task: %+v", id, kind, ts)
	return complaint.Task{}
}

// resWant fails unless err has kind and (when given) the code or names the field.
func resWant(t testing.TB, err error, kind apperr.Kind, codeOrField string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want kind %v %s", kind, codeOrField)
	}
	if apperr.KindOf(err) != kind {
		t.Fatalf("error %v: kind %v, want %v", err, apperr.KindOf(err), kind)
	}
	if codeOrField == "" {
		return
	}
	if ae, ok := apperr.As(err); ok {
		if _, named := ae.Fields[codeOrField]; named || ae.Code == codeOrField {
			return
		}
	}
	t.Fatalf("error %v lacks code or field %q", err, codeOrField)
}

func resApprove(b bool) *bool { return &b }

// resCount runs a COUNT query.
func (e *resEnv) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.srv.App.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// resTomorrow is tomorrow's date in China time.
func resTomorrow() string {
	return time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format(time.DateOnly)
}
