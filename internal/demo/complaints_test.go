package demo_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/demo"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// TestSeedComplaints seeds the demo organisation, a few customers, a few requests and
// the demo complaints (KEFU_DEMO_COMPLAINTS=300 KEFU_DEMO_TICKETS=3000 seeds the full
// set and reports the time)
// and checks through the complaint service that they cover every stage, level and
// cause, over the last year; that anonymous and reply-only ones closed with their
// written reply; that merge groups, the published public letter with its links, the
// approved proposals and penalties (never decided by their proposer), satisfaction
// scores, improvement actions and cases exist; and that a second seed adds nothing.
func TestSeedComplaints(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t)
	srv.Clock.Set(time.Date(2026, 11, 23, 2, 30, 0, 0, time.UTC))
	count := 60
	if v, err := strconv.Atoi(os.Getenv("KEFU_DEMO_COMPLAINTS")); err == nil && v > 0 {
		count = v
	}
	g, err := demo.NewGenerator(srv.App.Clock.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if _, err := srv.App.Customer.CreateCustomer(apptest.SystemCtx(), g.Next().Input); err != nil {
			t.Fatal(err)
		}
	}
	requests := 40
	if v, err := strconv.Atoi(os.Getenv("KEFU_DEMO_TICKETS")); err == nil && v > 0 {
		requests = v
	}
	deps := ticketDeps(srv, requests)
	deps.Complaints, deps.ComplaintCount = true, count
	start := time.Now()
	if _, err := demo.Seed(context.Background(), deps); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded the demo organisation, %d requests and %d complaints in %s", requests, count, time.Since(start))

	ctx := apptest.SystemCtx()
	svc := srv.App.Complaint
	now := srv.App.Clock.Now()
	var all []complaint.Complaint
	cur := ""
	for {
		p, err := svc.List(ctx, complaint.Filter{}, 200, cur)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			break
		}
		cur = p.NextCursor
	}
	if len(all) != count {
		t.Fatalf("%d complaints, want %d", len(all), count)
	}
	// Every complaint request has its record, and the other requests are all there.
	tks, err := srv.App.Ticket.ListTickets(ctx, ticket.Filter{Type: ticket.TypeComplaint}, 500, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(tks.Items) != count {
		t.Errorf("%d complaint requests for %d complaints", len(tks.Items), count)
	}
	causes, err := svc.ListCauses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stages := map[complaint.Stage]int{}
	levels := map[complaint.Level]int{}
	byCause := map[int64]int{}
	var anonClosed, replyClosed, merged, reopened, rated int
	masters := map[int64]int{}
	oldest, newest := now, time.Time{}
	for _, c := range all {
		stages[c.Stage]++
		levels[c.Level]++
		if c.CauseID != 0 {
			byCause[c.CauseID]++
		}
		if c.CreatedAt.Before(oldest) {
			oldest = c.CreatedAt
		}
		if c.CreatedAt.After(newest) {
			newest = c.CreatedAt
		}
		if c.CreatedAt.After(now) || c.UpdatedAt.After(now) {
			t.Errorf("%s dated %s..%s, now %s", c.Number, c.CreatedAt, c.UpdatedAt, now)
		}
		if c.Stage == complaint.StageClosed {
			if c.NeedsReplyLetter() && c.ReplyLetterID == 0 {
				t.Errorf("%s closed without its written reply", c.Number)
			}
			if c.Anonymous {
				anonClosed++
			}
			if c.ReplyOnly {
				replyClosed++
			}
			if c.RejectedAt.IsZero() {
				if c.Satisfaction < 1 || c.Satisfaction > 5 {
					t.Errorf("%s closed with satisfaction %d", c.Number, c.Satisfaction)
				}
				rated++
			}
		}
		if c.Anonymous && c.CustomerID != 0 {
			t.Errorf("anonymous %s has customer %d", c.Number, c.CustomerID)
		}
		if c.MasterID != 0 {
			merged++
			masters[c.MasterID]++
		}
		if c.ReopenCount > 0 {
			reopened++
		}
	}
	// The history of every complaint and the timeline of its request run forward in time,
	// from intake to no later than now.
	for _, c := range all {
		hist, err := svc.History(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := c.CreatedAt
		for _, e := range hist {
			if e.At.Before(last) || e.At.After(now) {
				t.Fatalf("%s: %s -> %s at %s, after %s (now %s)", c.Number, e.From, e.To, e.At, last, now)
			}
			last = e.At
		}
		if hist[len(hist)-1].To != c.Stage {
			t.Errorf("%s in %s, history ends in %s", c.Number, c.Stage, hist[len(hist)-1].To)
		}
		evs, err := srv.App.Ticket.Events(ctx, c.TicketID, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].CreatedAt.Before(evs[i-1].CreatedAt) || evs[i].CreatedAt.After(now) {
				t.Fatalf("%s: event %d (%s) at %s before %s", c.Number, i, evs[i].Kind, evs[i].CreatedAt, evs[i-1].CreatedAt)
			}
		}
	}
	t.Logf("stages %v, levels %v, causes %v; %d merged into %d masters, %d reopened, %d rated", stages, levels,
		byCause, merged, len(masters), reopened, rated)
	for _, s := range complaint.Stages {
		if stages[s] == 0 {
			t.Errorf("no complaint in stage %s", s)
		}
	}
	for _, l := range complaint.Levels {
		if levels[l] == 0 {
			t.Errorf("no %s complaint", l)
		}
	}
	for _, c := range causes {
		if c.Code != "" && byCause[c.ID] == 0 {
			t.Errorf("no complaint with cause %s", c.Code)
		}
	}
	if anonClosed == 0 || replyClosed == 0 || reopened == 0 || merged < 2 || len(masters) == 0 {
		t.Errorf("%d anonymous and %d reply-only closed, %d reopened, %d merged", anonClosed, replyClosed, reopened, merged)
	}
	if now.Sub(oldest) < 200*24*time.Hour || now.Sub(newest) > 2*24*time.Hour {
		t.Errorf("received from %s to %s, now %s: not spread over the year", oldest, newest, now)
	}
	for id := range masters {
		m, err := svc.Store().Get(ctx, id)
		if err != nil || m.MasterID != 0 {
			t.Errorf("master %d: %+v, %v", id, m.MasterID, err)
		}
		linked, err := svc.Linked(ctx, id)
		if err != nil || len(linked) != masters[id] {
			t.Errorf("master %d lists %d linked, want %d (%v)", id, len(linked), masters[id], err)
		}
	}
	if issues, n, err := svc.IssueCounts(ctx, now.AddDate(-2, 0, 0), now.Add(time.Hour)); err != nil || n != count ||
		issues != count-merged {
		t.Errorf("issue counts %d issues, %d complaints (%v); want %d, %d", issues, n, err, count-merged, count)
	}

	// The public letter: published, approved by someone other than its author, linked to
	// a handful of complaints whose feedback step it completed.
	letters, err := svc.Letters(ctx, complaint.LetterPublished, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(letters.Items) != 1 {
		t.Fatalf("%d published letters", len(letters.Items))
	}
	l := letters.Items[0]
	if len(l.Complaints) < 3 || l.ApprovedBy == 0 || l.ApprovedBy == l.DraftedBy || l.PublishedAt.IsZero() {
		t.Errorf("letter %+v", l)
	}
	for _, id := range l.Complaints {
		c, err := svc.Store().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Stage != complaint.StageEvaluating && c.Stage != complaint.StageClosed {
			t.Errorf("letter complaint %s in stage %s", c.Number, c.Stage)
		}
		hist, err := svc.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(hist, func(e complaint.StageEntry) bool {
			return e.To == complaint.StageFeedback && e.Data["letter_id"] != nil
		}) {
			t.Errorf("letter complaint %s: feedback not by the letter: %+v", c.Number, hist)
		}
	}

	// Proposals and penalties: approved by a superior who did not propose them.
	pens, err := svc.ListPenalties(ctx, complaint.PenaltyFilter{}, 200, "")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, p := range pens.Items {
		kinds[string(p.Kind)+p.FineCategory]++
		if p.Status != complaint.PenaltyApproved || p.DecidedBy == 0 || p.DecidedBy == p.ProposedBy ||
			p.DecidedBy == p.StaffID {
			t.Errorf("penalty %+v", p)
		}
		if p.Kind == complaint.PenaltyFine && p.Amount != complaint.DefaultSettings().Fines[p.FineCategory] {
			t.Errorf("fine %s of %d fen", p.FineCategory, p.Amount)
		}
	}
	t.Logf("approved penalties %v", kinds)
	if kinds["warning"] == 0 || len(pens.Items) < 3 {
		t.Errorf("approved penalties %v", kinds)
	}
	var checked, improvements int
	for _, c := range all {
		if c.Stage != complaint.StageClosed || !c.RejectedAt.IsZero() {
			continue
		}
		ps, _, ts, err := svc.Resolution(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		approved := 0
		for _, p := range ps {
			if p.Status == complaint.ProposalApproved {
				approved++
				if p.Instruction == "" || p.DecidedBy == 0 || p.DecidedBy == p.ProposedBy {
					t.Errorf("%s: proposal %+v", c.Number, p)
				}
			}
		}
		if approved != 1+c.ReopenCount { // a reopened complaint is approved again
			t.Errorf("%s closed with %d approved proposals, reopened %d times", c.Number, approved, c.ReopenCount)
		}
		for _, tk := range ts {
			if tk.Kind == complaint.TaskImprovement {
				improvements++
			}
			if tk.Kind == complaint.TaskRectificationReport && tk.Status == complaint.TaskDone && tk.Report == "" {
				t.Errorf("%s: rectification report without its text", c.Number)
			}
		}
		checked++
	}
	if checked == 0 || improvements == 0 {
		t.Errorf("%d closed complaints checked, %d improvement actions", checked, improvements)
	}
	if cases, err := svc.List(ctx, complaint.Filter{Cases: true}, 50, ""); err != nil || len(cases.Items) == 0 {
		t.Errorf("%d cases (%v)", len(cases.Items), err)
	}
	// The analysis of the year sees them all, month by month.
	an, err := svc.Analyze(ctx, complaint.AnalysisQuery{From: now.AddDate(-1, 0, -1), To: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	months := 0
	for _, p := range an.Trend {
		if p.Count > 0 {
			months++
		}
	}
	if an.Totals.Received != int64(count) || an.Totals.Linked != int64(merged) || months < 8 || len(an.Pareto) < 6 ||
		len(an.Penalties) == 0 {
		t.Errorf("analysis: totals %+v, %d months with complaints, %d causes, penalties %+v", an.Totals, months,
			len(an.Pareto), an.Penalties)
	}
	// Chinese search over the complaints ("leak").
	if p, err := svc.List(ctx, complaint.Filter{Q: "\u6f0f\u6c34"}, 20, ""); err != nil || len(p.Items) == 0 {
		t.Errorf("search finds nothing (%v)", err)
	}
	// A second seed adds nothing.
	if _, err := demo.Seed(context.Background(), deps); err != nil {
		t.Fatal(err)
	}
	if p, _ := svc.List(ctx, complaint.Filter{}, 1, ""); len(p.Items) != 1 || p.Items[0].ID != all[0].ID {
		t.Fatal("second seed added complaints")
	}
}
