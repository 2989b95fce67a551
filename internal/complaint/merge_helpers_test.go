package complaint_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// mergeEnv is a running application with a complaint service for the merge and letter tests.
type mergeEnv struct {
	s  *apptest.Server
	cs *complaint.Service
}

func newMergeEnv(t *testing.T) *mergeEnv {
	t.Helper()
	s := apptest.New(t)
	return &mergeEnv{s: s, cs: s.App.Complaint}
}

var mergeSeq atomic.Int64

// customer creates a customer file.
func (e *mergeEnv) customer(t *testing.T, name string) customer.Customer {
	t.Helper()
	n := mergeSeq.Add(1)
	c, err := e.s.App.Customer.CreateCustomer(apptest.SystemCtx(), customer.Input{Kind: customer.KindPerson, Name: name,
		Mobile: fmt.Sprintf("139%08d", 10000000+n*7919%90000000)})
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	return c
}

// complaintIn records a complaint in department dept (0 = none) as the system.
func (e *mergeEnv) complaintIn(t *testing.T, dept, customerID int64, location, title, body string) complaint.Complaint {
	t.Helper()
	details, _ := json.Marshal(map[string]any{"location": location})
	in := ticket.Input{Channel: ticket.ChannelPhone, Severity: ticket.SeverityGeneral, Title: title, Body: body,
		CustomerID: customerID, DeptID: dept, Complaint: details}
	if dept != 0 {
		in.Reason = "test placement"
	}
	c, err := e.cs.Create(apptest.SystemCtx(), in)
	if err != nil {
		t.Fatalf("create complaint %q: %v", title, err)
	}
	return c
}

func (e *mergeEnv) complaint(t *testing.T, customerID int64, location, title, body string) complaint.Complaint {
	t.Helper()
	return e.complaintIn(t, 0, customerID, location, title, body)
}

// actor is a staff member of department dept (created for real) holding perms at scope.
func (e *mergeEnv) actor(t *testing.T, name, dept string, scope authz.Scope, perms ...string) context.Context {
	t.Helper()
	st := e.s.Staff(t, name, "agent", dept)
	a := &authz.Actor{ID: st.ID, Kind: authz.KindStaff, Username: st.Username, DisplayName: st.DisplayName,
		DeptID: st.DeptID, TeamID: st.TeamID}
	for _, p := range perms {
		a.Grant(p, scope)
	}
	return authz.WithActor(context.Background(), a)
}

// get reloads complaint id.
func (e *mergeEnv) get(t *testing.T, id int64) complaint.Complaint {
	t.Helper()
	c, err := e.cs.Store().Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setStage puts complaint id in stage st directly (fixture: the stages before it are
// tested by the workflow's own tests).
func (e *mergeEnv) setStage(t *testing.T, id int64, st complaint.Stage) {
	t.Helper()
	if _, err := e.s.App.DB.Exec(context.Background(), `UPDATE complaints SET stage = ? WHERE id = ?`, string(st), id); err != nil {
		t.Fatal(err)
	}
}

// masters counts the complaints List returns with Filter.Masters (each issue once) and without.
func (e *mergeEnv) listCounts(t *testing.T) (masters, all int) {
	t.Helper()
	ctx := apptest.SystemCtx()
	for _, m := range []bool{true, false} {
		p, err := e.cs.List(ctx, complaint.Filter{Masters: m}, 200, "")
		if err != nil {
			t.Fatal(err)
		}
		if m {
			masters = len(p.Items)
		} else {
			all = len(p.Items)
		}
	}
	return masters, all
}

func (e *mergeEnv) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.s.App.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantErr fails unless err has kind and (when given) code or field.
func wantErr(t *testing.T, err error, kind apperr.Kind, codeOrField string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v %s", kind, codeOrField)
	}
	if apperr.KindOf(err) != kind {
		t.Fatalf("error %v: kind %v, want %v", err, apperr.KindOf(err), kind)
	}
	if codeOrField == "" {
		return
	}
	ae, _ := apperr.As(err)
	if ae != nil {
		if _, ok := ae.Fields[codeOrField]; ok || ae.Code == codeOrField {
			return
		}
	}
	if apperr.CodeOf(err) == codeOrField {
		return
	}
	t.Fatalf("error %v: want code or field %q (%+v)", err, codeOrField, ae)
}
