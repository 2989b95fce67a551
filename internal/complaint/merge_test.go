package complaint_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

func reasonsOf(ds []complaint.Duplicate) map[int64][]string {
	out := map[int64][]string{}
	for _, d := range ds {
		out[d.Complaint.ID] = d.Reasons
	}
	return out
}

func TestDuplicatesOffered(t *testing.T) {
	e := newMergeEnv(t)
	sys := apptest.SystemCtx()
	alice, bob := e.customer(t, "Alice"), e.customer(t, "Bob")
	// Received before the window (30 days by default): never offered.
	old := e.complaint(t, alice.ID, "阳光花园3号楼", "热水器漏水", "楼上热水器漏水到我家天花板")
	e.s.Clock.Advance(40 * 24 * time.Hour)

	base := e.complaint(t, alice.ID, "阳光花园3号楼", "热水器漏水", "楼上热水器漏水到我家天花板，三天没人处理")
	sameCustomer := e.complaint(t, alice.ID, "幸福小区", "发票开错", "上个月的发票抬头开错了")
	sameBuilding := e.complaint(t, bob.ID, "阳光花园 ３号楼 2单元", "电梯停运", "电梯停了两天")
	sameText := e.complaint(t, 0, "", "热水器漏水", "楼上热水器漏水到我家天花板，三天没有人来处理")
	unrelated := e.complaint(t, bob.ID, "幸福小区", "快递丢失", "快递三天没到")
	merged := e.complaint(t, 0, "", "热水器漏水", "楼上热水器漏水到我家天花板，三天没人处理")
	if _, err := e.cs.Merge(sys, merged.ID, complaint.MergeInput{Into: sameCustomer.ID}); err != nil {
		t.Fatal(err)
	}

	ds, err := e.cs.Duplicates(sys, base.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := reasonsOf(ds)
	want := map[int64][]string{
		sameCustomer.ID: {complaint.ReasonCustomer},
		sameBuilding.ID: {complaint.ReasonLocation},
		sameText.ID:     {complaint.ReasonText},
	}
	for id, reasons := range want {
		if !slices.Equal(got[id], reasons) {
			t.Errorf("complaint %d: reasons %v, want %v", id, got[id], reasons)
		}
	}
	for _, id := range []int64{base.ID, old.ID, unrelated.ID, merged.ID} {
		if _, ok := got[id]; ok {
			t.Errorf("complaint %d offered as a duplicate: %v", id, got[id])
		}
	}
	for _, d := range ds {
		if d.Complaint.ID == sameText.ID && d.Score < 0.5 {
			t.Errorf("similar text scored %v", d.Score)
		}
		if d.Complaint.ID == sameCustomer.ID && d.Score >= 0.5 {
			t.Errorf("different text scored %v", d.Score)
		}
	}
	if e.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'complaint.duplicates'`) != 1 {
		t.Error("the duplicate read was not audited")
	}

	// Before saving: the intake form's text, customer and building; the best match first.
	check := complaint.DuplicateQuery{CustomerID: alice.ID, Location: "阳光花园3号楼", Title: "热水器漏水",
		Body: "楼上热水器漏水到我家天花板，三天没人处理"}
	ds, err = e.cs.CheckDuplicates(sys, check)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 || ds[0].Complaint.ID != base.ID || len(ds[0].Reasons) != 3 || ds[0].Score != 1 {
		t.Fatalf("best match = %+v, want complaint %d on all three reasons", ds, base.ID)
	}
	for i := 1; i < len(ds); i++ {
		if len(ds[i].Reasons) > len(ds[i-1].Reasons) {
			t.Errorf("not best first at %d: %v after %v", i, ds[i].Reasons, ds[i-1].Reasons)
		}
	}
	if _, ok := reasonsOf(ds)[old.ID]; ok {
		t.Error("a complaint outside the window was offered")
	}

	// A narrower window setting leaves the old complaint out even when asked about it.
	ds, err = e.cs.Duplicates(sys, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 0 {
		t.Errorf("the old complaint has %d duplicates within its own window, want 0", len(ds))
	}

	for _, tt := range []struct {
		name  string
		ctx   context.Context
		q     complaint.DuplicateQuery
		kind  apperr.Kind
		field string
	}{
		{"nothing to compare", sys, complaint.DuplicateQuery{}, apperr.Invalid, "title"},
		{"negative customer", sys, complaint.DuplicateQuery{CustomerID: -1}, apperr.Invalid, "customer_id"},
		{"customer actor", authz.WithActor(context.Background(), &authz.Actor{ID: alice.ID, Kind: authz.KindCustomer}),
			check, apperr.Forbidden, ""},
		{"no permission", e.actor(t, "reader", "cs", authz.ScopeAll, complaint.PermRead), check, apperr.Forbidden, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.cs.CheckDuplicates(tt.ctx, tt.q)
			wantErr(t, err, tt.kind, tt.field)
		})
	}
}

func TestDuplicatesInScope(t *testing.T) {
	e := newMergeEnv(t)
	alice := e.customer(t, "Alice")
	agent := e.actor(t, "agent_north", "north", authz.ScopeDept, complaint.PermRead, complaint.PermWrite)
	north := e.s.Dept(t, "north", "North").ID
	south := e.s.Dept(t, "south", "South").ID
	mine := e.complaintIn(t, north, alice.ID, "", "噪音扰民", "楼下商铺夜里很吵")
	other := e.complaintIn(t, south, alice.ID, "", "噪音扰民", "楼下商铺夜里很吵")
	ds, err := e.cs.CheckDuplicates(agent, complaint.DuplicateQuery{CustomerID: alice.ID})
	if err != nil {
		t.Fatal(err)
	}
	got := reasonsOf(ds)
	if _, ok := got[mine.ID]; !ok {
		t.Errorf("the department's own complaint was not offered: %v", got)
	}
	if _, ok := got[other.ID]; ok {
		t.Errorf("another department's complaint was offered: %v", got)
	}
	// Asking about a complaint out of reach reads as not found.
	_, err = e.cs.Duplicates(agent, other.ID)
	wantErr(t, err, apperr.NotFound, "")
}

func TestMergeAndCounts(t *testing.T) {
	e := newMergeEnv(t)
	sys := apptest.SystemCtx()
	merger := e.actor(t, "merger", "cs", authz.ScopeAll, complaint.PermRead, complaint.PermMerge)
	from := e.s.Clock.Now().Add(-time.Hour)
	c1 := e.complaint(t, 0, "阳光花园3号楼", "停水", "3号楼停水")
	c2 := e.complaint(t, 0, "阳光花园3号楼", "停水", "3号楼又停水了")
	c3 := e.complaint(t, 0, "阳光花园3号楼", "停水", "一直停水")
	to := e.s.Clock.Now().Add(time.Hour)

	counts := func(wantMasters, wantAll int) {
		t.Helper()
		if m, a := e.listCounts(t); m != wantMasters || a != wantAll {
			t.Errorf("list: %d issues of %d complaints, want %d of %d", m, a, wantMasters, wantAll)
		}
		issues, all, err := e.cs.IssueCounts(sys, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if issues != wantMasters || all != wantAll {
			t.Errorf("IssueCounts = %d issues of %d complaints, want %d of %d", issues, all, wantMasters, wantAll)
		}
	}
	counts(3, 3)

	events := func(c complaint.Complaint) int {
		return e.count(t, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ? AND kind = 'complaint'`, c.TicketID)
	}
	ev1, ev2 := events(c1), events(c2)
	got, err := e.cs.Merge(merger, c2.ID, complaint.MergeInput{Into: c1.ID, Reason: "同一栋楼停水"})
	if err != nil {
		t.Fatal(err)
	}
	if got.MasterID != c1.ID || got.MergedAt.IsZero() || got.Version != c2.Version+1 {
		t.Fatalf("merged = master %d at %v version %d", got.MasterID, got.MergedAt, got.Version)
	}
	if e.get(t, c2.ID).MasterID != c1.ID {
		t.Fatal("the merge was not stored")
	}
	if events(c1) != ev1+1 || events(c2) != ev2+1 {
		t.Errorf("timeline entries: master %d->%d, merged %d->%d, want one more each", ev1, events(c1), ev2, events(c2))
	}
	if e.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'complaint.merge' AND target_id = ?`, fmt.Sprint(c2.ID)) != 1 {
		t.Error("merge not audited")
	}
	counts(2, 3)
	linked, err := e.cs.Linked(merger, c1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(linked) != 1 || linked[0].ID != c2.ID {
		t.Errorf("linked to the master = %v, want [%d]", linked, c2.ID)
	}

	outsider := e.actor(t, "outsider", "far", authz.ScopeDept, complaint.PermRead, complaint.PermMerge)
	reader := e.actor(t, "reader", "cs", authz.ScopeAll, complaint.PermRead)
	for _, tt := range []struct {
		name string
		ctx  context.Context
		id   int64
		into int64
		kind apperr.Kind
		code string
	}{
		{"into itself", merger, c3.ID, c3.ID, apperr.Invalid, "into"},
		{"into nothing", merger, c3.ID, 0, apperr.Invalid, "into"},
		{"into an unknown complaint", merger, c3.ID, 999999, apperr.Invalid, "into"},
		{"no chains: into a merged one", merger, c3.ID, c2.ID, apperr.Invalid, "into"},
		{"a master with linked ones is refused", merger, c1.ID, c3.ID, apperr.Conflict, "merge_has_linked"},
		{"already merged", merger, c2.ID, c3.ID, apperr.Conflict, "already_merged"},
		{"out of scope reads as not found", outsider, c3.ID, c1.ID, apperr.NotFound, ""},
		{"without complaint:merge", reader, c3.ID, c1.ID, apperr.Forbidden, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.cs.Merge(tt.ctx, tt.id, complaint.MergeInput{Into: tt.into})
			wantErr(t, err, tt.kind, tt.code)
		})
	}
	counts(2, 3)

	// A closed complaint may be linked as a duplicate of an open master.
	e.setStage(t, c3.ID, complaint.StageClosed)
	if _, err := e.cs.Merge(merger, c3.ID, complaint.MergeInput{Into: c1.ID}); err != nil {
		t.Fatalf("merge a closed complaint: %v", err)
	}
	counts(1, 3)

	// Unmerge restores the counts.
	_, err = e.cs.Unmerge(merger, c2.ID, complaint.UnmergeInput{})
	wantErr(t, err, apperr.Invalid, "reason")
	got, err = e.cs.Unmerge(merger, c2.ID, complaint.UnmergeInput{Reason: "不是同一问题"})
	if err != nil {
		t.Fatal(err)
	}
	if got.MasterID != 0 || !got.MergedAt.IsZero() {
		t.Errorf("unmerged = master %d at %v", got.MasterID, got.MergedAt)
	}
	if e.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'complaint.unmerge' AND target_id = ?`, fmt.Sprint(c2.ID)) != 1 {
		t.Error("unmerge not audited")
	}
	counts(2, 3)
	_, err = e.cs.Unmerge(merger, c2.ID, complaint.UnmergeInput{Reason: "again"})
	wantErr(t, err, apperr.Conflict, "not_merged")
	if _, err := e.cs.Unmerge(merger, c3.ID, complaint.UnmergeInput{Reason: "undo"}); err != nil {
		t.Fatal(err)
	}
	counts(3, 3)
}

// TestMergeHTTP: the duplicate, merge, unmerge and linked routes through the real router
// for each role.
func TestMergeHTTP(t *testing.T) {
	e := newMergeEnv(t)
	cs := e.s.Dept(t, "cs", "Customer service").ID
	alice := e.customer(t, "Alice")
	c1 := e.complaintIn(t, cs, alice.ID, "阳光花园3号楼", "停水", "3号楼停水")
	c2 := e.complaintIn(t, cs, alice.ID, "阳光花园3号楼", "停水", "3号楼又停水了")
	c3 := e.complaintIn(t, cs, 0, "", "电梯故障", "电梯坏了")
	other := e.complaintIn(t, e.s.Dept(t, "far", "Far away").ID, alice.ID, "", "停水", "停水")
	p := func(id int64, rest string) string { return fmt.Sprintf("/api/v1/complaints/%d/%s", id, rest) }
	check := map[string]any{"customer_id": alice.ID, "location": "阳光花园 3号楼", "title": "停水", "body": "停水"}
	apptest.Run(t, e.s, []apptest.Scenario{
		{Name: "anonymous", As: "", Method: "GET", Path: p(c1.ID, "duplicates"), Status: 401},
		{Name: "supervisor sees the department's duplicates", As: "supervisor", Method: "GET", Path: p(c1.ID, "duplicates"),
			Status: 200, Has: []string{fmt.Sprintf(`"id":%d`, c2.ID), `"reasons":["customer","location","text"]`},
			Not: []string{fmt.Sprintf(`"id":%d,`, other.ID)}, Audit: "complaint.duplicates"},
		{Name: "director sees every department's", As: "director", Method: "GET", Path: p(c1.ID, "duplicates"),
			Status: 200, Has: []string{fmt.Sprintf(`"id":%d,`, other.ID)}},
		{Name: "agent does not reach the department's complaint", As: "agent", Method: "GET", Path: p(c1.ID, "duplicates"), Status: 404},
		{Name: "qa reads", As: "qa", Method: "GET", Path: p(c1.ID, "duplicates"), Status: 200},
		{Name: "check before saving", As: "supervisor", Method: "POST", Path: "/api/v1/complaints/duplicates/check",
			Body: check, Status: 200, Has: []string{fmt.Sprintf(`"id":%d`, c1.ID), `"score":`}},
		{Name: "check needs something", As: "supervisor", Method: "POST", Path: "/api/v1/complaints/duplicates/check",
			Body: map[string]any{}, Status: 422, Has: []string{`"title"`}},
		{Name: "check needs complaint:write", As: "qa", Method: "POST", Path: "/api/v1/complaints/duplicates/check",
			Body: check, Status: 403},
		{Name: "agent may not merge", As: "agent", Method: "POST", Path: p(c2.ID, "merge"), Body: map[string]any{"into": c1.ID}, Status: 403},
		{Name: "qa may not merge", As: "qa", Method: "POST", Path: p(c2.ID, "merge"), Body: map[string]any{"into": c1.ID}, Status: 403},
		{Name: "supervisor merges", As: "supervisor", Method: "POST", Path: p(c2.ID, "merge"),
			Body: map[string]any{"into": c1.ID, "reason": "同一问题"}, Status: 200,
			Has: []string{fmt.Sprintf(`"master_id":%d`, c1.ID)}, Audit: "complaint.merge"},
		{Name: "into another department's complaint", As: "supervisor", Method: "POST", Path: p(c3.ID, "merge"),
			Body: map[string]any{"into": other.ID}, Status: 422, Has: []string{`"into"`}},
		{Name: "no chain", As: "supervisor", Method: "POST", Path: p(c3.ID, "merge"),
			Body: map[string]any{"into": c2.ID}, Status: 422, Has: []string{`"into"`}},
		{Name: "a master is not merged", As: "supervisor", Method: "POST", Path: p(c1.ID, "merge"),
			Body: map[string]any{"into": c3.ID}, Status: 409, Has: []string{`merge_has_linked`}},
		{Name: "unknown member", As: "supervisor", Method: "POST", Path: p(c3.ID, "merge"),
			Body: map[string]any{"master": c1.ID}, Status: 400},
		{Name: "linked", As: "qa", Method: "GET", Path: p(c1.ID, "linked"), Status: 200,
			Has: []string{fmt.Sprintf(`"id":%d`, c2.ID)}, Audit: "complaint.linked"},
		{Name: "the list counts each issue once", As: "director", Method: "GET", Path: "/api/v1/complaints?masters=true",
			Status: 200, Not: []string{fmt.Sprintf(`"id":%d,`, c2.ID)}},
		{Name: "unmerge needs a reason", As: "supervisor", Method: "POST", Path: p(c2.ID, "unmerge"),
			Body: map[string]any{}, Status: 422, Has: []string{`"reason"`}},
		{Name: "unmerge", As: "supervisor", Method: "POST", Path: p(c2.ID, "unmerge"),
			Body: map[string]any{"reason": "不是同一问题"}, Status: 200, Has: []string{`"master_id":0`}, Audit: "complaint.unmerge"},
		{Name: "unmerge twice", As: "supervisor", Method: "POST", Path: p(c2.ID, "unmerge"),
			Body: map[string]any{"reason": "again"}, Status: 409, Has: []string{`not_merged`}},
		{Name: "the list has it again", As: "director", Method: "GET", Path: "/api/v1/complaints?masters=true",
			Status: 200, Has: []string{fmt.Sprintf(`"id":%d,`, c2.ID)}},
	})
}
