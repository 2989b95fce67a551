package complaint_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/ticket"
)

func TestLetterDraftApprovePublish(t *testing.T) {
	e := newMergeEnv(t)
	sys := apptest.SystemCtx()
	drafter := e.actor(t, "drafter", "cs", authz.ScopeAll, complaint.PermRead, complaint.PermLetter, complaint.PermApprove)
	approver := e.actor(t, "approver", "cs", authz.ScopeAll, complaint.PermRead, complaint.PermLetter, complaint.PermApprove)
	writer := e.actor(t, "writer", "cs", authz.ScopeAll, complaint.PermRead, complaint.PermLetter)

	executing := e.complaint(t, 0, "阳光花园3号楼", "停水", "3号楼停水两天")
	e.setStage(t, executing.ID, complaint.StageExecuting)
	received := e.complaint(t, 0, "阳光花园3号楼", "停水", "又停水")
	evaluating := e.complaint(t, 0, "阳光花园3号楼", "停水", "停水已恢复但想要说法")
	e.setStage(t, evaluating.ID, complaint.StageEvaluating)

	// Drafting: the text and complaints the drafter reaches.
	for _, tt := range []struct {
		name  string
		in    complaint.LetterInput
		field string
	}{
		{"no title", complaint.LetterInput{Body: "x"}, "title"},
		{"no body", complaint.LetterInput{Title: "x"}, "body"},
		{"unknown complaint", complaint.LetterInput{Title: "x", Body: "y", ComplaintIDs: []int64{999999}}, "complaint_ids"},
		{"bad complaint id", complaint.LetterInput{Title: "x", Body: "y", ComplaintIDs: []int64{-1}}, "complaint_ids"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.cs.DraftLetter(drafter, tt.in)
			wantErr(t, err, apperr.Invalid, tt.field)
		})
	}
	reader := e.actor(t, "reader", "cs", authz.ScopeAll, complaint.PermRead)
	_, err := e.cs.DraftLetter(reader, complaint.LetterInput{Title: "x", Body: "y"})
	wantErr(t, err, apperr.Forbidden, "")

	const title, body = "关于阳光花园3号楼停水的公开信", "各位业主：3号楼停水系水管爆裂所致，现已修复。"
	l, err := e.cs.DraftLetter(drafter, complaint.LetterInput{Title: title, Body: "初稿",
		ComplaintIDs: []int64{executing.ID, received.ID, executing.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != complaint.LetterDraft || l.Version != 1 || !slices.Equal(l.Complaints, []int64{executing.ID, received.ID}) {
		t.Fatalf("draft = %+v", l)
	}

	// Editing a draft needs its version.
	newBody := body
	_, err = e.cs.PatchLetter(drafter, l.ID, complaint.LetterPatch{Body: &newBody})
	wantErr(t, err, apperr.PreconditionRequired, "")
	stale := int64(7)
	_, err = e.cs.PatchLetter(drafter, l.ID, complaint.LetterPatch{Body: &newBody, Version: &stale})
	wantErr(t, err, apperr.Conflict, apperr.CodeStaleVersion)
	l, err = e.cs.PatchLetter(drafter, l.ID, complaint.LetterPatch{Body: &newBody, Version: &l.Version})
	if err != nil {
		t.Fatal(err)
	}
	if l.Body != body || l.Version != 2 {
		t.Fatalf("patched = %+v", l)
	}

	// Publishing needs an approval; nobody approves their own letter; approving needs complaint:approve.
	_, err = e.cs.PublishLetter(approver, l.ID)
	wantErr(t, err, apperr.Conflict, "letter_not_approved")
	_, err = e.cs.ApproveLetter(drafter, l.ID)
	wantErr(t, err, apperr.Forbidden, "self_approval")
	_, err = e.cs.ApproveLetter(writer, l.ID)
	wantErr(t, err, apperr.Forbidden, "")
	l, err = e.cs.ApproveLetter(approver, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != complaint.LetterApproved || l.ApprovedAt.IsZero() || l.ApprovedBy == 0 {
		t.Fatalf("approved = %+v", l)
	}
	_, err = e.cs.ApproveLetter(approver, l.ID)
	wantErr(t, err, apperr.Conflict, "letter_not_draft")
	_, err = e.cs.PatchLetter(drafter, l.ID, complaint.LetterPatch{Body: &newBody, Version: &l.Version})
	wantErr(t, err, apperr.Conflict, "letter_not_draft")

	// More complaints may be linked until it is published.
	l, err = e.cs.LinkLetter(writer, l.ID, complaint.LetterLinks{ComplaintIDs: []int64{evaluating.ID, received.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Complaints) != 3 {
		t.Fatalf("linked = %v", l.Complaints)
	}

	publicEvents := func(c complaint.Complaint) int {
		return e.count(t, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ? AND kind = 'complaint' AND public = 1`, c.TicketID)
	}
	before := map[int64]int{}
	for _, c := range []complaint.Complaint{executing, received, evaluating} {
		before[c.ID] = publicEvents(c)
	}
	l, err = e.cs.PublishLetter(writer, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != complaint.LetterPublished || l.PublishedAt.IsZero() {
		t.Fatalf("published = %+v", l)
	}

	// The executing complaint's feedback step is done by the letter; the others are linked only.
	if got := e.get(t, executing.ID); got.Stage != complaint.StageFeedback {
		t.Errorf("executing complaint is in %s after publishing, want feedback", got.Stage)
	}
	if got := e.get(t, received.ID); got.Stage != complaint.StageReceived {
		t.Errorf("received complaint moved to %s", got.Stage)
	}
	if got := e.get(t, evaluating.ID); got.Stage != complaint.StageEvaluating {
		t.Errorf("evaluating complaint moved to %s", got.Stage)
	}
	hist, err := e.cs.History(sys, executing.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.To != complaint.StageFeedback || last.Data["reply"] != body || last.Data["letter_id"] == nil {
		t.Errorf("stage log = %+v", last)
	}
	tk, err := e.s.App.Ticket.Load(context.Background(), executing.TicketID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != ticket.StatusResolved {
		t.Errorf("request of the answered complaint is %s, want resolved", tk.Status)
	}
	for _, c := range []complaint.Complaint{executing, received, evaluating} {
		if got := publicEvents(c); got != before[c.ID]+1 {
			t.Errorf("complaint %d: %d public timeline entries after publishing, want %d", c.ID, got, before[c.ID]+1)
		}
	}
	_, err = e.cs.LinkLetter(writer, l.ID, complaint.LetterLinks{ComplaintIDs: []int64{received.ID}})
	wantErr(t, err, apperr.Conflict, "letter_published")

	for _, action := range []string{"complaint.letter.draft", "complaint.letter.update", "complaint.letter.approve",
		"complaint.letter.link", "complaint.letter.publish"} {
		if n := e.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND target_id = ?`, action, fmt.Sprint(l.ID)); n != 1 {
			t.Errorf("%d audit entries %s, want 1", n, action)
		}
	}
	if n := e.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'complaint.transition' AND target_id = ?`, fmt.Sprint(executing.ID)); n != 1 {
		t.Errorf("%d transition audit entries for the answered complaint, want 1", n)
	}

	// The archive: the published letter stays queryable, and each complaint lists it.
	draft, err := e.cs.DraftLetter(drafter, complaint.LetterInput{Title: "另一封草稿", Body: "草稿"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		status string
		want   []int64
	}{
		{complaint.LetterPublished, []int64{l.ID}},
		{complaint.LetterDraft, []int64{draft.ID}},
		{"", []int64{draft.ID, l.ID}},
	} {
		p, err := e.cs.Letters(reader, tt.status, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, x := range p.Items {
			ids = append(ids, x.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("letters with status %q = %v, want %v", tt.status, ids, tt.want)
		}
	}
	_, err = e.cs.Letters(reader, "bogus", 10, "")
	wantErr(t, err, apperr.Invalid, "status")
	c, err := e.cs.Get(reader, received.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.cs.Detail(reader, &c)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Letters) != 1 || d.Letters[0].ID != l.ID {
		t.Errorf("letters of the complaint = %+v", d.Letters)
	}

	// The portal's view: published only.
	if _, err := e.cs.PublishedLetter(context.Background(), l.ID); err != nil {
		t.Errorf("published letter: %v", err)
	}
	_, err = e.cs.PublishedLetter(context.Background(), draft.ID)
	wantErr(t, err, apperr.NotFound, "")
	pub, err := e.cs.PublishedLetters(context.Background(), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) != 1 || pub[0].ID != l.ID {
		t.Errorf("published letters = %+v", pub)
	}
}

func TestLetterScope(t *testing.T) {
	e := newMergeEnv(t)
	north := e.s.Dept(t, "north", "North").ID
	south := e.s.Dept(t, "south", "South").ID
	drafter := e.actor(t, "drafter_n", "north", authz.ScopeDept, complaint.PermRead, complaint.PermLetter)
	approver := e.actor(t, "approver_n", "north", authz.ScopeDept, complaint.PermRead, complaint.PermLetter, complaint.PermApprove)
	mine := e.complaintIn(t, north, 0, "", "停电", "停电了")
	theirs := e.complaintIn(t, south, 0, "", "停电", "也停电了")

	_, err := e.cs.DraftLetter(drafter, complaint.LetterInput{Title: "停电", Body: "说明", ComplaintIDs: []int64{mine.ID, theirs.ID}})
	wantErr(t, err, apperr.Invalid, "complaint_ids")
	l, err := e.cs.DraftLetter(drafter, complaint.LetterInput{Title: "停电", Body: "说明"})
	if err != nil {
		t.Fatal(err)
	}
	// No complaint linked yet: nothing to approve.
	_, err = e.cs.ApproveLetter(approver, l.ID)
	wantErr(t, err, apperr.Invalid, "complaint_ids")
	// Linked by someone who reaches both; the department's approver does not reach the other one.
	if _, err := e.cs.LinkLetter(apptest.SystemCtx(), l.ID, complaint.LetterLinks{ComplaintIDs: []int64{mine.ID, theirs.ID}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.cs.ApproveLetter(approver, l.ID)
	wantErr(t, err, apperr.Forbidden, "letter_out_of_scope")
	got, err := e.cs.GetLetter(drafter, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Complaints, []int64{mine.ID}) {
		t.Errorf("complaints shown to the department = %v, want only [%d]", got.Complaints, mine.ID)
	}
	_, err = e.cs.GetLetter(drafter, 999999)
	wantErr(t, err, apperr.NotFound, "")
}

// TestLettersHTTP: the public letter routes through the real router for each role, and
// the portal page of the published letter.
func TestLettersHTTP(t *testing.T) {
	e := newMergeEnv(t)
	cs := e.s.Dept(t, "cs", "Customer service").ID
	c1 := e.complaintIn(t, cs, 0, "阳光花园3号楼", "停水", "3号楼停水")
	e.setStage(t, c1.ID, complaint.StageExecuting)
	const base = "/api/v1/complaint-letters"
	sup := e.s.As(t, "supervisor")
	r := sup.Do(t, "POST", base, map[string]any{"title": "关于停水的公开信", "body": "水管已修复。", "complaint_ids": []int64{c1.ID}})
	if r.Status != 201 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	id := int64(r.JSON(t)["id"].(float64))
	one := fmt.Sprintf("%s/%d", base, id)
	apptest.Run(t, e.s, []apptest.Scenario{
		{Name: "anonymous", As: "", Method: "GET", Path: base, Status: 401},
		{Name: "agent reads the list", As: "agent", Method: "GET", Path: base + "?status=draft", Status: 200,
			Has: []string{`"status":"draft"`, `"title":"关于停水的公开信"`}},
		{Name: "bad status", As: "agent", Method: "GET", Path: base + "?status=bogus", Status: 422},
		{Name: "agent may not draft", As: "agent", Method: "POST", Path: base, Body: map[string]any{"title": "x", "body": "y"}, Status: 403},
		{Name: "qa may not draft", As: "qa", Method: "POST", Path: base, Body: map[string]any{"title": "x", "body": "y"}, Status: 403},
		{Name: "patch without version", As: "supervisor", Method: "PATCH", Path: one, Body: map[string]any{"title": "关于停水"}, Status: 428},
		{Name: "patch", As: "supervisor", Method: "PATCH", Path: one, Body: map[string]any{"title": "关于3号楼停水", "version": 1},
			Status: 200, Has: []string{`"version":2`}, Audit: "complaint.letter.update"},
		{Name: "publish before approval", As: "supervisor", Method: "POST", Path: one + "/publish", Status: 409,
			Has: []string{`letter_not_approved`}},
		{Name: "the drafter may not approve", As: "supervisor", Method: "POST", Path: one + "/approve", Status: 403,
			Has: []string{`self_approval`}},
		{Name: "agent may not approve", As: "agent", Method: "POST", Path: one + "/approve", Status: 403},
		{Name: "director approves", As: "director", Method: "POST", Path: one + "/approve", Status: 200,
			Has: []string{`"status":"approved"`}, Audit: "complaint.letter.approve"},
		{Name: "link more", As: "supervisor", Method: "POST", Path: one + "/links", Body: map[string]any{"complaint_ids": []int64{c1.ID}},
			Status: 200, Has: []string{fmt.Sprintf(`"complaint_ids":[%d]`, c1.ID)}, Audit: "complaint.letter.link"},
		{Name: "agent may not publish", As: "agent", Method: "POST", Path: one + "/publish", Status: 403},
		{Name: "publish", As: "supervisor", Method: "POST", Path: one + "/publish", Status: 200,
			Has: []string{`"status":"published"`}, Audit: "complaint.letter.publish"},
		{Name: "the archive", As: "qa", Method: "GET", Path: base + "?status=published", Status: 200,
			Has: []string{fmt.Sprintf(`"id":%d`, id)}},
		{Name: "the complaint is in feedback", As: "director", Method: "GET", Path: fmt.Sprintf("/api/v1/complaints/%d", c1.ID),
			Status: 200, Has: []string{`"stage":"feedback"`, "关于3号楼停水"}},
		{Name: "no links after publishing", As: "supervisor", Method: "POST", Path: one + "/links",
			Body: map[string]any{"complaint_ids": []int64{c1.ID}}, Status: 409, Has: []string{`letter_published`}},
		{Name: "the portal shows it", As: "", Method: "GET", Path: fmt.Sprintf("/portal/letters/%d", id), Status: 200,
			Has: []string{"关于3号楼停水", "水管已修复。"}},
	})
}
