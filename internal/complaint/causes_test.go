package complaint_test

import (
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// The cause tree through the API: everyone who reads complaints lists it, managers edit
// it, used causes are deactivated rather than deleted.
func TestCausesHTTP(t *testing.T) {
	e := newResEnv(t)
	c := e.proposing(t, complaint.CauseOther, "Repair") // names cause 2
	apptest.Run(t, e.srv, []apptest.Scenario{
		{Name: "list in Chinese", As: "agent@cs", Method: "GET", Path: "/api/v1/complaint-causes", Status: 200,
			Has: []string{`"code":"service_attitude"`, `"label":"服务态度"`, `"label":"响应不及时"`, `"builtin":true`}},
		{Name: "list in English", As: "agent@cs", Method: "GET", Path: "/api/v1/complaint-causes", Lang: "en", Status: 200,
			Has: []string{`"label":"Repair quality"`}},
		{Name: "agent cannot add", As: "agent@cs", Method: "POST", Path: "/api/v1/complaint-causes",
			Body: map[string]any{"name": "x"}, Status: 403},
		{Name: "name required", As: "admin", Method: "POST", Path: "/api/v1/complaint-causes",
			Body: map[string]any{"name": ""}, Status: 422, Has: []string{`"name"`}},
		{Name: "unknown parent", As: "admin", Method: "POST", Path: "/api/v1/complaint-causes",
			Body: map[string]any{"name": "x", "parent_id": 9999}, Status: 422, Has: []string{`"parent_id"`}},
		{Name: "add under repair quality", As: "admin", Method: "POST", Path: "/api/v1/complaint-causes",
			Body: map[string]any{"name": "配件缺货", "parent_id": 2, "sort_order": 5}, Status: 201,
			Has: []string{`"label":"配件缺货"`, `"parent_id":2`, `"builtin":false`, `"version":1`}, Audit: "complaint.cause.create"},
		{Name: "patch needs a version", As: "admin", Method: "PATCH", Path: "/api/v1/complaint-causes/7",
			Body: map[string]any{"name": "y"}, Status: 428},
		{Name: "stale version", As: "admin", Method: "PATCH", Path: "/api/v1/complaint-causes/7",
			Body: map[string]any{"name": "y", "version": 5}, Status: 409},
		{Name: "a cause is not its own parent", As: "admin", Method: "PATCH", Path: "/api/v1/complaint-causes/7",
			Body: map[string]any{"parent_id": 7, "version": 1}, Status: 422, Has: []string{`"parent_id"`}},
		{Name: "rename", As: "admin", Method: "PATCH", Path: "/api/v1/complaint-causes/7",
			Body: map[string]any{"name": "备件缺货", "version": 1}, Status: 200, Has: []string{`"name":"备件缺货"`, `"version":2`},
			Audit: "complaint.cause.update"},
		{Name: "a built-in cause gets its own name", As: "admin", Method: "PATCH", Path: "/api/v1/complaint-causes/4",
			Body: map[string]any{"name": "收费争议", "version": 1}, Status: 200, Has: []string{`"label":"收费争议"`}},
		{Name: "a built-in cause is not deleted", As: "admin", Method: "DELETE", Path: "/api/v1/complaint-causes/1",
			Status: 409, Has: []string{`"cause_builtin"`}},
		{Name: "an unused added cause is deleted", As: "admin", Method: "DELETE", Path: "/api/v1/complaint-causes/7",
			Status: 204, Audit: "complaint.cause.delete"},
		{Name: "deactivate a used cause", As: "admin", Method: "PATCH", Path: "/api/v1/complaint-causes/2",
			Body: map[string]any{"active": false, "version": 1}, Status: 200, Has: []string{`"active":false`}},
		{Name: "missing cause", As: "admin", Method: "PATCH", Path: "/api/v1/complaint-causes/999",
			Body: map[string]any{"name": "z", "version": 1}, Status: 404},
	})
	// A cause in use by a complaint (an added one) cannot be deleted.
	cause, err := e.svc.CreateCause(e.as(t, e.director), complaint.CauseInput{Name: "Billing error"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.App.DB.Exec(apptest.SystemCtx(), `UPDATE complaints SET cause_id = ? WHERE id = ?`, cause.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	resWant(t, e.svc.DeleteCause(e.as(t, e.director), cause.ID), apperr.Conflict, "cause_in_use")
	// A deactivated cause is refused at the move to the proposal stage.
	c2, err := e.svc.Create(e.as(t, e.agent), resTicketInput())
	if err != nil {
		t.Fatal(err)
	}
	e.move(t, e.agent, c2.ID, complaint.MoveInput{Stage: complaint.StageAssessing})
	e.move(t, e.sup, c2.ID, complaint.MoveInput{Stage: complaint.StageInvestigating, RespDeptID: e.engDept})
	_, err = e.svc.Transition(e.as(t, e.engSup), c2.ID, complaint.MoveInput{Stage: complaint.StageProposing, CauseID: 2,
		CauseKind: complaint.CauseOther, Findings: "f"})
	resWant(t, err, apperr.Invalid, "cause_id")
}

// The tree stays a tree: no cycles, at most four levels, parents that exist.
func TestCauseTreeShape(t *testing.T) {
	e := newResEnv(t)
	ctx := e.as(t, e.director)
	parent := int64(2)
	var chain []complaint.Cause
	for i := range 3 { // levels 2, 3 and 4 under "repair quality"
		c, err := e.svc.CreateCause(ctx, complaint.CauseInput{Name: "level " + string(rune('2'+i)), ParentID: parent})
		if err != nil {
			t.Fatalf("level %d: %v", i+2, err)
		}
		chain, parent = append(chain, c), c.ID
	}
	for _, tc := range []struct {
		name  string
		run   func() error
		field string
	}{
		{"a fifth level", func() error {
			_, err := e.svc.CreateCause(ctx, complaint.CauseInput{Name: "too deep", ParentID: parent})
			return err
		}, "parent_id"},
		{"under its own child", func() error {
			_, err := e.svc.UpdateCause(ctx, chain[0].ID, complaint.CausePatch{ParentID: &chain[1].ID, Version: &chain[0].Version})
			return err
		}, "parent_id"},
		{"a negative parent", func() error {
			_, err := e.svc.CreateCause(ctx, complaint.CauseInput{Name: "x", ParentID: -1})
			return err
		}, "parent_id"},
		{"a name too long", func() error {
			_, err := e.svc.CreateCause(ctx, complaint.CauseInput{Name: string(make([]rune, 65, 65)) + "x"})
			return err
		}, "name"},
		{"an added cause keeps a name", func() error {
			empty := ""
			_, err := e.svc.UpdateCause(ctx, chain[2].ID, complaint.CausePatch{Name: &empty, Version: &chain[2].Version})
			return err
		}, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) { resWant(t, tc.run(), apperr.Invalid, tc.field) })
	}
	// Without complaint:manage nothing changes; every reader lists the tree.
	if _, err := e.svc.CreateCause(e.as(t, e.sup), complaint.CauseInput{Name: "x"}); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("supervisor adds a cause: %v", err)
	}
	all, err := e.svc.ListCauses(e.as(t, e.engRep))
	if err != nil || len(all) != 9 {
		t.Fatalf("list: %d causes, %v", len(all), err)
	}
	// A built-in cause may drop its own name again.
	named, err := e.svc.UpdateCause(ctx, 3, complaint.CausePatch{Name: new("Late"), Version: new(int64(1))})
	if err != nil || complaint.CauseLabel(apptest.SystemCtx(), named) != "Late" {
		t.Fatalf("name a built-in: %+v %v", named, err)
	}
	back, err := e.svc.UpdateCause(ctx, 3, complaint.CausePatch{Name: new(""), Version: &named.Version})
	if err != nil || back.Name != "" || complaint.CauseLabel(apptest.SystemCtx(), back) != "响应不及时" {
		t.Fatalf("unname a built-in: %+v %v", back, err)
	}
}
