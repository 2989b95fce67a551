package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/activity"
	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/demo"
	"github.com/kefu-cn/kefu/internal/fieldvisit"
	"github.com/kefu-cn/kefu/internal/survey"
)

// TestSeedEngagement seeds the demo organisation, customers, requests and return
// visits, then the engagement data, and checks it through the services: activities
// with their participants (the past ones ended, the triggers of activity_ended in the
// return-visit inbox), cooperation records, the salesperson's field visits over three
// months, and surveys whose results give a CSAT about 4.3 and a plausible NPS, per
// agent too; a second run adds nothing.
func TestSeedEngagement(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t)
	srv.Clock.Set(time.Date(2026, 11, 23, 2, 30, 0, 0, time.UTC))
	g, err := demo.NewGenerator(srv.App.Clock.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 60 {
		if _, err := srv.App.Customer.CreateCustomer(apptest.SystemCtx(), g.Next().Input); err != nil {
			t.Fatal(err)
		}
	}
	deps := ticketDeps(srv, 400)
	ctx := context.Background()
	if _, err := demo.Seed(ctx, deps); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Revisits(ctx, deps, demo.RevisitOptions{}); err != nil {
		t.Fatal(err)
	}
	a := srv.App
	opts := demo.EngagementOptions{Activity: a.Activity, FieldVisit: a.FieldVisit, Revisit: a.Revisit}
	start := time.Now()
	sum, err := demo.Engagement(ctx, deps, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("engagement in %s: %+v, CSAT %.2f, NPS %d", time.Since(start), sum, sum.CSAT(), sum.NPS())
	if sum.Activities < 6 || sum.Ended < 4 || sum.Participants < 10*sum.Activities || sum.Cooperations < 10 ||
		sum.FieldVisits < 30 || sum.Answers < 20 || sum.Invites < sum.Answers {
		t.Errorf("summary %+v", sum)
	}
	if c := sum.CSAT(); c < 4.0 || c > 4.6 {
		t.Errorf("CSAT %.2f, want about 4.3", c)
	}
	if n := sum.NPS(); n < 15 || n > 70 {
		t.Errorf("NPS %d, want plausible", n)
	}

	sys := apptest.SystemCtx()
	acts, err := a.Activity.List(sys, activity.Filter{}, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[activity.Status]int{}
	for _, x := range acts.Items {
		byStatus[x.Status]++
		if x.Participants < 10 || x.Participants > 40 {
			t.Errorf("activity %q has %d participants", x.Title, x.Participants)
		}
		if x.Status == activity.StatusEnded && x.EndedAt.IsZero() {
			t.Errorf("activity %q ended without a time", x.Title)
		}
	}
	if len(acts.Items) != sum.Activities || byStatus[activity.StatusEnded] != sum.Ended ||
		byStatus[activity.StatusOngoing] != 1 || byStatus[activity.StatusPlanned] != 1 {
		t.Errorf("activities by status %v, summary %+v", byStatus, sum)
	}
	var ended int64
	if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM revisit_events WHERE event = 'activity.ended'`).Scan(&ended); err != nil {
		t.Logf("inbox not counted: %v", err)
	} else if ended == 0 {
		t.Errorf("no activity_ended trigger in the return-visit inbox")
	}

	now := a.Clock.Now()
	vs, err := a.FieldVisit.List(sys, fieldvisit.Filter{}, 200, "")
	if err != nil {
		t.Fatal(err)
	}
	var oldest, newest time.Time
	for _, v := range vs.Items {
		if oldest.IsZero() || v.VisitedAt.Before(oldest) {
			oldest = v.VisitedAt
		}
		if v.VisitedAt.After(newest) {
			newest = v.VisitedAt
		}
	}
	if len(vs.Items) != sum.FieldVisits || now.Sub(oldest) < 70*24*time.Hour || now.Sub(newest) > 10*24*time.Hour {
		t.Errorf("%d field visits from %s to %s", len(vs.Items), oldest, newest)
	}

	res, err := a.Survey.Results(sys, survey.ResultQuery{Group: survey.GroupAgent, From: now.AddDate(0, 0, -100), To: now})
	if err != nil {
		t.Fatal(err)
	}
	tot := res.Total
	if tot.Answered != sum.Answers || tot.CSAT.Average == nil || *tot.CSAT.Average < 4.0 || *tot.CSAT.Average > 4.6 ||
		tot.NPS.Score == nil || len(res.Groups) < 2 {
		t.Errorf("results: total %+v, %d agents", tot, len(res.Groups))
	}
	for _, gr := range res.Groups {
		if gr.CSAT.Average != nil {
			t.Logf("agent %s: %d answered, CSAT %.2f", gr.Label, gr.Answered, *gr.CSAT.Average)
			if a := *gr.CSAT.Average; gr.Answered >= 8 && (a < 3.9 || a > 4.7) {
				t.Errorf("agent %s: CSAT %.2f over %d answers, want about 4.3", gr.Label, a, gr.Answered)
			}
		}
	}

	again, err := demo.Engagement(ctx, deps, opts)
	if err != nil || again != (demo.EngagementSummary{}) {
		t.Errorf("second run: %+v %v", again, err)
	}
}
