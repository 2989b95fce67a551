package complaint_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// world is a center with an intake department (cs) and a responsible one (eng): an agent
// and a supervisor in each, a director over both.
type world struct {
	srv                        *apptest.Server
	agent, sup, engSup, engRep *apptest.Client
	director                   *apptest.Client
	engDept                    int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv := apptest.New(t)
	w := &world{srv: srv, agent: srv.As(t, "agent@cs"), sup: srv.As(t, "supervisor@cs"),
		engSup: srv.As(t, "supervisor@eng"), engRep: srv.As(t, "agent@eng"), director: srv.As(t, "director@hq")}
	w.engDept = w.engSup.Staff.DeptID
	return w
}

func (w *world) do(t *testing.T, c *apptest.Client, method, path string, body any, want int) map[string]any {
	t.Helper()
	r := c.Do(t, method, path, body)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.Status, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.JSON(t)
}

// create records a complaint through POST /api/v1/complaints.
func (w *world) create(t *testing.T, severity string, details map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{"channel": "phone", "severity": severity, "title": "电梯故障多次报修无人处理",
		"body": "三号楼电梯停运两天，物业没有回复"}
	if details != nil {
		body["complaint"] = details
	}
	return w.do(t, w.agent, "POST", "/api/v1/complaints", body, http.StatusCreated)
}

func id(m map[string]any) int64 { return int64(m["id"].(float64)) }

func path(cid int64, tail string) string { return fmt.Sprintf("/api/v1/complaints/%d%s", cid, tail) }

// toExecuting moves a complaint from received to executing: assessed valid by the
// intake supervisor, proposed by the responsible person, approved by the director.
func (w *world) toExecuting(t *testing.T, cid int64) {
	t.Helper()
	w.do(t, w.agent, "POST", path(cid, "/transition"), map[string]any{"stage": "assessing"}, 200)
	w.do(t, w.sup, "POST", path(cid, "/transition"), map[string]any{"stage": "investigating",
		"resp_dept_id": w.engDept, "resp_staff_id": w.engRep.Staff.ID, "reply": "我们将在48小时内给您答复"}, 200)
	w.do(t, w.engRep, "POST", path(cid, "/transition"), map[string]any{"stage": "proposing",
		"cause_id": 2, "cause_kind": "other", "findings": "维修配件缺货",
		"proposals": []map[string]any{{"body": "更换配件并减免当月电梯费", "comp_form": "减免费用", "comp_amount": 5000},
			{"body": "仅更换配件"}}}, 200)
	d := w.do(t, w.director, "GET", path(cid, ""), nil, 200)
	props := d["proposals"].([]any)
	if len(props) != 2 {
		t.Fatalf("proposals: %v", props)
	}
	first := props[0].(map[string]any)
	pid := first["ID"]
	if pid == nil {
		pid = first["id"]
	}
	w.do(t, w.director, "POST", path(cid, "/approve"), map[string]any{"proposal_id": pid, "instruction": "同意，尽快落实"}, 200)
	w.do(t, w.engRep, "POST", path(cid, "/transition"), map[string]any{"stage": "executing"}, 200)
}

// close finishes a complaint that is executing.
func (w *world) close(t *testing.T, cid int64) map[string]any {
	t.Helper()
	w.do(t, w.engRep, "POST", path(cid, "/transition"), map[string]any{"stage": "feedback",
		"result": "已更换配件，电梯恢复运行", "reply": "您反映的电梯问题已处理完毕"}, 200)
	w.do(t, w.agent, "POST", path(cid, "/transition"), map[string]any{"stage": "evaluating", "satisfaction": 4,
		"actions": []map[string]any{{"body": "建立电梯配件库存预警", "owner_id": w.engSup.Staff.ID,
			"due_on": time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}}}, 200)
	return w.do(t, w.sup, "POST", path(cid, "/transition"), map[string]any{"stage": "closed", "summary": "配件管理改进"}, 200)
}

// The whole workflow through the API for each level, with the level derived from the
// severity, the promised times on the calendar, the request following the stages, and
// the events after commit.
func TestWorkflowEachLevel(t *testing.T) {
	w := newWorld(t)
	sub := w.srv.App.Events.Subscribe("complaint.")
	defer sub.Close()
	for _, tc := range []struct {
		severity string
		level    complaint.Level
	}{{"general", complaint.LevelGeneral}, {"moderate", complaint.LevelUrgent}, {"major", complaint.LevelMajor}} {
		t.Run(string(tc.level), func(t *testing.T) {
			c := w.create(t, tc.severity, map[string]any{"location": "三号楼", "object_kind": "service"})
			cid := id(c)
			if c["level"] != string(tc.level) || c["stage"] != "received" || c["first_answer_due_at"] == nil ||
				c["result_due_at"] == nil {
				t.Fatalf("created: %v", c)
			}
			w.toExecuting(t, cid)
			closed := w.close(t, cid)
			if closed["stage"] != "closed" || closed["satisfaction"].(float64) != 4 || closed["closed_at"] == nil {
				t.Fatalf("closed: %v", closed)
			}
			d := w.do(t, w.sup, "GET", path(cid, ""), nil, 200)
			if n := len(d["stages"].([]any)); n != 8 { // intake + 7 moves
				t.Errorf("stage history has %d entries, want 8", n)
			}
			tk := w.do(t, w.sup, "GET", fmt.Sprintf("/api/v1/tickets/%d", int64(c["ticket_id"].(float64))), nil, 200)
			if tk["status"] != "closed" {
				t.Errorf("request status %v, want closed", tk["status"])
			}
		})
	}
	closedEvents := 0
	deadline := time.After(5 * time.Second)
	for closedEvents < 3 {
		select {
		case ev := <-sub.C:
			if ev.Topic != complaint.TopicClosed {
				continue
			}
			var d complaint.EventData
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			if !d.Revisit || d.DeptID != w.engDept || d.Level == "" {
				t.Errorf("closed event: %+v", d)
			}
			closedEvents++
		case <-deadline:
			t.Fatalf("got %d complaint.closed events, want 3", closedEvents)
		}
	}
}

// stageOf reads a complaint's stage and version.
func (w *world) stageOf(t *testing.T, cid int64) (string, float64, int) {
	d := w.do(t, w.director, "GET", path(cid, ""), nil, 200)
	return d["stage"].(string), d["version"].(float64), len(d["stages"].([]any))
}

// Every illegal stage move gets 409 illegal_transition and changes nothing.
func TestIllegalMoves(t *testing.T) {
	w := newWorld(t)
	cid := id(w.create(t, "general", nil))
	try := func(t *testing.T) {
		from, v, n := w.stageOf(t, cid)
		for _, to := range complaint.Stages {
			if complaint.CanMove(complaint.Stage(from), to) {
				continue
			}
			r := w.director.Do(t, "POST", path(cid, "/transition"), map[string]any{"stage": to, "reason": "x",
				"reply": "x", "resp_dept_id": w.engDept, "result": "x", "satisfaction": 3})
			if r.Status != http.StatusConflict || !contains(r.Body, `"illegal_transition"`) {
				t.Errorf("%s -> %s: %d %s, want 409 illegal_transition", from, to, r.Status, r.Body)
			}
			if st, v2, n2 := w.stageOf(t, cid); st != from || v2 != v || n2 != n {
				t.Errorf("%s -> %s changed the complaint: %s v%v (%d moves)", from, to, st, v2, n2)
			}
		}
	}
	try(t) // received
	w.toExecuting(t, cid)
	try(t) // executing
	w.close(t, cid)
	try(t) // closed
	// A closed complaint reopens into assessing with a reason (and only with one).
	w.do(t, w.director, "POST", path(cid, "/transition"), map[string]any{"stage": "assessing"}, 422)
	re := w.do(t, w.director, "POST", path(cid, "/transition"), map[string]any{"stage": "assessing", "reason": "客户再次来电"}, 200)
	if re["reopen_count"].(float64) != 1 || re["closed_at"] != nil {
		t.Errorf("reopened: %v", re)
	}
	try(t) // assessing
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

// An anonymous complaint cannot close without its written reply, and its closed event
// says revisit: false. The same holds for a reply-only complaint.
func TestNoRevisitNeedsReplyLetter(t *testing.T) {
	w := newWorld(t)
	sub := w.srv.App.Events.Subscribe(complaint.TopicClosed)
	defer sub.Close()
	for _, details := range []map[string]any{{"anonymous": true}, {"reply_only": true}} {
		c := w.create(t, "general", details)
		cid := id(c)
		if c["revisit"] != false {
			t.Fatalf("revisit on %v", c)
		}
		w.toExecuting(t, cid)
		w.do(t, w.engRep, "POST", path(cid, "/transition"), map[string]any{"stage": "feedback", "result": "已处理", "reply": "已处理"}, 200)
		w.do(t, w.agent, "POST", path(cid, "/transition"), map[string]any{"stage": "evaluating", "satisfaction": 3}, 200)
		r := w.sup.Do(t, "POST", path(cid, "/transition"), map[string]any{"stage": "closed"})
		if r.Status != http.StatusConflict || !contains(r.Body, "reply_letter_required") {
			t.Fatalf("close without the reply letter: %d %s", r.Status, r.Body)
		}
		if st, _, _ := w.stageOf(t, cid); st != "evaluating" {
			t.Fatalf("stage %s after the refused close", st)
		}
		att := uploadLetter(t, w, int64(c["ticket_id"].(float64)))
		w.do(t, w.agent, "POST", path(cid, "/reply-letter"), map[string]any{"attachment_id": att}, 200)
		w.do(t, w.sup, "POST", path(cid, "/transition"), map[string]any{"stage": "closed"}, 200)
		select {
		case ev := <-sub.C:
			var d complaint.EventData
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.Revisit || d.ComplaintID != cid {
				t.Errorf("closed event %+v, want revisit false for %d", d, cid)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no complaint.closed event")
		}
	}
	// An anonymous complaint has neither a customer nor a contact.
	r := w.agent.Do(t, "POST", "/api/v1/complaints", map[string]any{"channel": "phone", "severity": "general",
		"title": "匿名", "contact_name": "张先生", "complaint": map[string]any{"anonymous": true}})
	if r.Status != 422 || !contains(r.Body, `"contact_name"`) {
		t.Errorf("anonymous with a contact: %d %s", r.Status, r.Body)
	}
}

// uploadLetter attaches a reply letter to request tid and returns the attachment id.
func uploadLetter(t *testing.T, w *world, tid int64) int64 {
	t.Helper()
	a, err := w.srv.App.Ticket.AddAttachment(apptest.SystemCtx(), tid, ticketAttachment())
	if err != nil {
		t.Fatalf("attachment: %v", err)
	}
	return a.ID
}

func ticketAttachment() ticket.AttachmentInput {
	return ticket.AttachmentInput{Filename: "reply.txt", ContentType: "text/plain", Data: []byte("written reply\n")}
}

// A complaint request's status follows the complaint's stages: a direct transition of
// the request is refused and changes nothing; its type cannot change away from complaint.
func TestRequestFollowsStages(t *testing.T) {
	w := newWorld(t)
	c := w.create(t, "general", nil)
	tp := fmt.Sprintf("/api/v1/tickets/%d", int64(c["ticket_id"].(float64)))
	r := w.director.Do(t, "POST", tp+"/transition", map[string]any{"status": "resolved"})
	if r.Status != http.StatusConflict || !contains(r.Body, "workflow_owned") {
		t.Fatalf("direct transition: %d %s", r.Status, r.Body)
	}
	tk := w.do(t, w.director, "GET", tp, nil, 200)
	if tk["status"] != "new" {
		t.Fatalf("request status %v", tk["status"])
	}
	r = w.director.Do(t, "PATCH", tp, map[string]any{"type": "inquiry", "version": tk["version"]})
	if r.Status != http.StatusConflict {
		t.Fatalf("retype: %d %s", r.Status, r.Body)
	}
	w.do(t, w.agent, "POST", path(id(c), "/transition"), map[string]any{"stage": "assessing"}, 200)
	if tk = w.do(t, w.director, "GET", tp, nil, 200); tk["status"] != "acknowledged" {
		t.Fatalf("request status %v after assessing, want acknowledged", tk["status"])
	}
}
