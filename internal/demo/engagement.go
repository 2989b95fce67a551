package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/kefu-cn/kefu/internal/activity"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/fieldvisit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/revisit"
	"github.com/kefu-cn/kefu/internal/survey"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Demo engagement (data/engagement.json): the center's work with customers beyond
// requests and return visits, over the last three months.
//
//   - Activities (sports and culture events, promotions, trainings) with 10-40
//     participant customers each, created through the activity service; the past ones
//     are ended through it, so the return-visit rule activity_ended decides on their
//     participants (the app's engine job picks the triggers up); one is ongoing, one
//     planned.
//   - Cooperation records on about 20 organisation customers (customer service), most
//     active, some ended, one terminated early.
//   - Field visits by the demo salesperson, recorded by the system for them through the
//     field-visit service with the day they took place, which emits the sales_visit
//     trigger of each.
//   - Surveys: phone surveys after part of the requests resolved in the period and
//     invitations after part of the return visits that reached their customer, with
//     answers keyed in (CSAT about 4.3 on average, NPS around 30); about one phone
//     survey in eight is declined and expires unanswered. The survey service
//     used runs on a fake clock, so invitations and answers carry the days they were
//     made; nothing is sent.
//
// Every part is skipped when it exists already (a second call adds nothing).

// engagementData is data/engagement.json.
type engagementData struct {
	Seed        uint64 `json:"seed"`
	SystemName  string `json:"system_name"`
	Organiser   string `json:"organiser"`
	Salesperson string `json:"salesperson"`
	Activities  []struct {
		Title        string `json:"title"`
		Type         string `json:"type"`
		StartAgo     int    `json:"start_ago"` // days before today (negative: ahead)
		Days         int    `json:"days"`
		Participants int    `json:"participants"`
		End          bool   `json:"end"`
		Description  string `json:"description"`
	} `json:"activities"`
	Cooperations struct {
		Count         int      `json:"count"`
		Titles        []string `json:"titles"`
		NumberPrefix  string   `json:"number_prefix"`
		Notes         []string `json:"notes"`
		TerminateNote string   `json:"terminate_note"`
	} `json:"cooperations"`
	FieldVisits struct {
		Count         int      `json:"count"`
		Days          int      `json:"days"`
		BusinessTypes []string `json:"business_types"`
		Contacts      []struct {
			Name  string `json:"name"`
			Title string `json:"title"`
		} `json:"contacts"`
		Purposes    []string            `json:"purposes"`
		Results     map[string][]string `json:"results"`
		DealResults []string            `json:"deal_results"`
		NextSteps   []string            `json:"next_steps"`
		Locations   []string            `json:"locations"`
	} `json:"field_visits"`
	Surveys struct {
		TicketShare  float64             `json:"ticket_share"`
		RevisitShare float64             `json:"revisit_share"`
		MaxTicket    int                 `json:"max_ticket"`
		MaxRevisit   int                 `json:"max_revisit"`
		Comments     map[string][]string `json:"comments"` // good | fair | poor
	} `json:"surveys"`
}

func loadEngagement() (engagementData, error) {
	var d engagementData
	b, err := dataFS.ReadFile("data/engagement.json")
	if err != nil {
		return d, fmt.Errorf("demo: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("demo: data/engagement.json: %w", err)
	}
	fv := &d.FieldVisits
	if d.SystemName == "" || d.Organiser == "" || d.Salesperson == "" || len(d.Activities) == 0 ||
		len(d.Cooperations.Titles) == 0 || len(d.Cooperations.Notes) == 0 || len(fv.BusinessTypes) == 0 ||
		len(fv.Contacts) == 0 || len(fv.Purposes) == 0 || len(fv.DealResults) == 0 || len(fv.NextSteps) == 0 ||
		len(fv.Locations) == 0 || fv.Days <= 0 || fv.Days > 89 {
		return d, errors.New("demo: data/engagement.json: incomplete")
	}
	for _, k := range fieldvisit.IntentClasses {
		if len(fv.Results[k]) == 0 {
			return d, errors.New("demo: data/engagement.json: incomplete field-visit results")
		}
	}
	for _, k := range []string{"good", "fair", "poor"} {
		if len(d.Surveys.Comments[k]) == 0 {
			return d, errors.New("demo: data/engagement.json: incomplete survey comments")
		}
	}
	return d, nil
}

// EngagementOptions are the services Engagement goes through. A nil service skips its
// part: Activity the activities, FieldVisit the field visits, Revisit the surveys after
// return visits. Cooperations need only Deps.Customer, surveys after requests
// Deps.Tickets.
type EngagementOptions struct {
	Activity   *activity.Service
	FieldVisit *fieldvisit.Service
	Revisit    *revisit.Service
}

// EngagementSummary counts what Engagement stored.
type EngagementSummary struct {
	Activities      int
	Participants    int
	Ended           int
	Cooperations    int
	FieldVisits     int
	Invites         int
	Answers         int
	CSATSum, CSATN  int // mean CSAT = CSATSum / CSATN
	Promoters, NPSN int
	Detractors      int
}

// Engagement adds the demo activities, cooperation records, field visits and surveys
// (see above) to a database holding the demo organisation, customers and requests (and
// return visits: call it after Revisits). It adds nothing when the demo accounts are
// missing.
//
//	demo.Engagement(ctx, deps, demo.EngagementOptions{Activity: a.Activity,
//		FieldVisit: a.FieldVisit, Revisit: a.Revisit})
func Engagement(ctx context.Context, d Deps, o EngagementOptions) (EngagementSummary, error) {
	var sum EngagementSummary
	if d.Customer == nil || d.Org == nil {
		return sum, nil
	}
	data, err := loadEngagement()
	if err != nil {
		return sum, err
	}
	now := time.Now()
	if d.Clock != nil {
		now = d.Clock.Now()
	}
	sys := authz.WithActor(ctx, authz.System(data.SystemName))
	org, err := d.Org.StaffByUsername(sys, data.Organiser)
	if err != nil {
		return sum, nil // not the demo organisation
	}
	sales, err := d.Org.StaffByUsername(sys, data.Salesperson)
	if err != nil {
		return sum, nil
	}
	e := &engager{d: data, deps: d, sys: sys, now: now, sum: &sum, asked: map[int64]int{}}
	persons, orgs, err := e.customers()
	if err != nil {
		return sum, err
	}
	if o.Activity != nil {
		if err := e.activities(o.Activity, org.ID, append(append([]int64{}, persons...), orgs...)); err != nil {
			return sum, err
		}
	}
	if err := e.cooperations(orgs); err != nil {
		return sum, err
	}
	if o.FieldVisit != nil {
		if err := e.fieldVisits(o.FieldVisit, sales.ID, orgs); err != nil {
			return sum, err
		}
	}
	return sum, e.surveys(o.Revisit)
}

type engager struct {
	d    engagementData
	deps Deps
	sys  context.Context
	now  time.Time
	sum  *EngagementSummary
	// asked counts the answers keyed in per agent (the CSAT draw's sequence).
	asked map[int64]int
}

func (e *engager) rng(part uint64) *rand.Rand { return rand.New(rand.NewPCG(e.d.Seed, part)) }

// customers lists the active demo customers: persons and organisations, by id.
func (e *engager) customers() (persons, orgs []int64, err error) {
	for cur := ""; ; {
		p, err := e.deps.Customer.ListCustomers(e.sys, customer.Filter{}, 200, cur)
		if err != nil {
			return nil, nil, fmt.Errorf("demo: customers: %w", err)
		}
		for _, c := range p.Items {
			if c.Kind == customer.KindOrg {
				orgs = append(orgs, c.ID)
			} else {
				persons = append(persons, c.ID)
			}
		}
		if cur = p.NextCursor; cur == "" || len(p.Items) == 0 {
			break
		}
	}
	return persons, orgs, nil
}

// day is the China day n days before now.
func (e *engager) day(ago int) string {
	return chinaDay(e.now).AddDate(0, 0, -ago).Format(time.DateOnly)
}

func (e *engager) activities(svc *activity.Service, organiser int64, custs []int64) error {
	if len(custs) == 0 {
		return nil
	}
	if p, err := svc.List(e.sys, activity.Filter{}, 1, ""); err != nil {
		return fmt.Errorf("demo: activities: %w", err)
	} else if len(p.Items) > 0 {
		return nil
	}
	r := e.rng(1)
	for _, x := range e.d.Activities {
		a, err := svc.Create(e.sys, activity.Input{Title: x.Title, Type: activity.Type(x.Type), StartOn: e.day(x.StartAgo),
			EndOn: e.day(x.StartAgo - max(x.Days, 1) + 1), OrganiserID: organiser, Description: x.Description})
		if err != nil {
			return fmt.Errorf("demo: activity %q: %w", x.Title, err)
		}
		e.sum.Activities++
		n := min(x.Participants, len(custs))
		for _, i := range r.Perm(len(custs))[:n] {
			if _, err := svc.AddParticipant(e.sys, a.ID, custs[i]); err != nil {
				return fmt.Errorf("demo: participant of %q: %w", x.Title, err)
			}
			e.sum.Participants++
		}
		switch {
		case x.End:
			if _, err := svc.End(e.sys, a.ID); err != nil {
				return fmt.Errorf("demo: end %q: %w", x.Title, err)
			}
			e.sum.Ended++
		case x.StartAgo >= 0: // started, not over yet
			st := activity.StatusOngoing
			if _, err := svc.Update(e.sys, a.ID, activity.Patch{Status: &st}); err != nil {
				return fmt.Errorf("demo: start %q: %w", x.Title, err)
			}
		}
	}
	return nil
}

func (e *engager) cooperations(orgs []int64) error {
	c := e.d.Cooperations
	if len(orgs) == 0 || c.Count <= 0 {
		return nil
	}
	today := e.day(0)
	if ids, err := e.deps.Customer.Cooperating(e.sys, today, 0, 1); err != nil {
		return fmt.Errorf("demo: cooperations: %w", err)
	} else if len(ids) > 0 {
		return nil
	}
	r := e.rng(2)
	year := chinaDay(e.now).Year()
	for i, idx := range r.Perm(len(orgs))[:min(c.Count, len(orgs))] {
		startAgo := 30 + r.IntN(700)
		in := customer.CooperationInput{Title: c.Titles[r.IntN(len(c.Titles))],
			Number:  fmt.Sprintf("%s-%d-%03d", c.NumberPrefix, year-startAgo/365, 101+i),
			StartOn: e.day(startAgo), Note: c.Notes[r.IntN(len(c.Notes))]}
		switch x := r.Float64(); {
		case i == 0:
			in.EndOn, in.Status, in.Note = e.day(startAgo-365), customer.CoopTerminated, c.TerminateNote
		case x < 0.15: // a one-year agreement that ran out
			in.EndOn = e.day(startAgo - 365)
			if startAgo < 400 {
				in.EndOn = e.day(10 + r.IntN(20))
			}
		case x < 0.75:
			in.EndOn = e.day(startAgo - 365*(1+r.IntN(2)) - 30)
			if in.EndOn <= today {
				in.EndOn = e.day(-30 - r.IntN(300))
			}
		} // else open-ended
		if _, err := e.deps.Customer.AddCooperation(e.sys, orgs[idx], in); err != nil {
			return fmt.Errorf("demo: cooperation of customer %d: %w", orgs[idx], err)
		}
		e.sum.Cooperations++
	}
	return nil
}

func (e *engager) fieldVisits(svc *fieldvisit.Service, sales int64, orgs []int64) error {
	fv := e.d.FieldVisits
	if len(orgs) == 0 || fv.Count <= 0 {
		return nil
	}
	if p, err := svc.List(e.sys, fieldvisit.Filter{}, 1, ""); err != nil {
		return fmt.Errorf("demo: field visits: %w", err)
	} else if len(p.Items) > 0 {
		return nil
	}
	r := e.rng(3)
	// The salesperson's accounts: a third of the organisations, each visited a few times.
	accounts := r.Perm(len(orgs))[:max(1, min(len(orgs), fv.Count/2))]
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	start := chinaDay(e.now).AddDate(0, 0, -fv.Days)
	for i := range fv.Count {
		day := start.AddDate(0, 0, i*fv.Days/fv.Count)
		switch day.Weekday() { // no visits on weekends
		case time.Saturday:
			day = day.AddDate(0, 0, 2)
		case time.Sunday:
			day = day.AddDate(0, 0, 1)
		}
		at := day.Add(time.Duration(9*60+r.IntN(8*60)) * time.Minute)
		if !at.Before(e.now) {
			break
		}
		cls := fieldvisit.IntentClasses[min(r.IntN(10)/2, 3)] // then about a third more B
		if r.Float64() < 0.3 {
			cls = fieldvisit.IntentB
		}
		deal := cls == fieldvisit.IntentA && r.Float64() < 0.4
		result := pick(fv.Results[cls])
		if deal {
			result = pick(fv.DealResults)
		}
		ct := fv.Contacts[r.IntN(len(fv.Contacts))]
		in := fieldvisit.Input{CustomerID: orgs[accounts[r.IntN(len(accounts))]], BusinessType: pick(fv.BusinessTypes),
			ContactName: ct.Name, ContactTitle: ct.Title, Phone: "139" + fmt.Sprintf("%08d", r.IntN(100000000)),
			VisitedAt: &at, Purpose: pick(fv.Purposes), Result: result, NextStep: pick(fv.NextSteps), IntentClass: cls,
			DealClosed: deal, Location: pick(fv.Locations), StaffID: sales}
		if _, err := svc.Create(e.sys, in); err != nil {
			return fmt.Errorf("demo: field visit %d: %w", i, err)
		}
		e.sum.FieldVisits++
	}
	return nil
}

// surveys keys in phone surveys after part of the requests resolved in the period and
// after part of the reached return visits, through a survey service on a fake clock.
func (e *engager) surveys(rv *revisit.Service) error {
	if e.deps.Tickets == nil || e.deps.Tickets.DB == nil {
		return nil
	}
	start := chinaDay(e.now).AddDate(0, 0, -90)
	fake := clock.NewFake(start)
	tdeps := *e.deps.Tickets
	tdeps.Clock, tdeps.Jobs, tdeps.Events, tdeps.Mail = fake, nil, nil, nil
	tsvc, err := ticket.New(tdeps)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	svc, err := survey.New(survey.Deps{DB: tdeps.DB, Audit: tdeps.Audit, Clock: fake, Log: tdeps.Log, Tickets: tsvc,
		Customers: e.deps.Customer, Staff: e.deps.Org})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if l, _, err := svc.List(e.sys, survey.InviteFilter{}, 1, ""); err != nil {
		return fmt.Errorf("demo: surveys: %w", err)
	} else if len(l) > 0 {
		return nil
	}
	s := e.d.Surveys
	r := e.rng(4)
	// after requests resolved: asked on the phone a day or two later
	n := 0
	for cur := ""; n < s.MaxTicket; {
		p, err := tsvc.ListTickets(e.sys, ticket.Filter{}, 200, cur)
		if err != nil {
			return fmt.Errorf("demo: requests: %w", err)
		}
		for _, t := range p.Items {
			if n >= s.MaxTicket || t.Type == ticket.TypeComplaint || t.CustomerID == 0 || t.AssigneeID == 0 ||
				t.ResolvedAt.Before(start) || r.Float64() >= s.TicketShare {
				continue
			}
			at := chinaDay(t.ResolvedAt).AddDate(0, 0, 1+r.IntN(2)).Add(time.Duration(9*60+r.IntN(8*60)) * time.Minute)
			if !at.Before(e.now) {
				continue
			}
			fake.Set(at)
			inv, err := svc.Create(e.sys, survey.CreateInput{TicketID: t.ID, Channel: survey.ChannelPhone})
			if err != nil {
				return fmt.Errorf("demo: survey of request %d: %w", t.ID, err)
			}
			e.sum.Invites++
			n++
			if r.Float64() < 0.12 { // declined on the phone: the invitation expires unanswered
				continue
			}
			if err := e.answer(svc, fake, r, t.AssigneeID, inv.ID, at.Add(time.Duration(3+r.IntN(6))*time.Minute)); err != nil {
				return err
			}
		}
		if cur = p.NextCursor; cur == "" || len(p.Items) == 0 {
			break
		}
	}
	if rv == nil {
		return nil
	}
	// after return visits that reached the customer: the invitation the visit leaves,
	// answered on the phone the next days
	n = 0
	for cur := ""; n < s.MaxRevisit; {
		ts, next, err := rv.Tasks(e.sys, revisit.TaskFilter{Status: revisit.StatusDone, Limit: 200, Cursor: cur})
		if err != nil {
			return fmt.Errorf("demo: return visits: %w", err)
		}
		for _, t := range ts {
			if n >= s.MaxRevisit || t.AssigneeID == 0 || t.DoneAt.Before(start) || r.Float64() >= s.RevisitShare {
				continue
			}
			at := t.DoneAt.Add(time.Duration(20+r.IntN(48*60)) * time.Minute)
			if !at.Before(e.now) {
				continue
			}
			fake.Set(t.DoneAt)
			v := revisit.VisitDone{TaskID: t.ID, Rule: t.Rule, CustomerID: t.CustomerID, AssigneeID: t.AssigneeID,
				DeptID: t.DeptID, Method: t.Method, Reached: true, SourceType: t.SourceType, SourceID: t.SourceID,
				At: t.DoneAt}
			if err := tdeps.DB.WithTx(e.sys, func(ctx context.Context) error { return svc.HandleVisitDone(ctx, v) }); err != nil {
				return fmt.Errorf("demo: survey of return visit %d: %w", t.ID, err)
			}
			l, _, err := svc.List(e.sys, survey.InviteFilter{CustomerID: t.CustomerID, Source: survey.SourceRevisit}, 50, "")
			if err != nil {
				return fmt.Errorf("demo: surveys: %w", err)
			}
			for _, inv := range l {
				if inv.RevisitTaskID != t.ID || inv.Status == survey.StatusAnswered {
					continue
				}
				e.sum.Invites++
				if err := e.answer(svc, fake, r, t.AssigneeID, inv.ID, at); err != nil {
					return err
				}
				n++
			}
		}
		if cur = next; cur == "" || len(ts) == 0 {
			break
		}
	}
	return nil
}

// answer keys in invitation id's answers at `at`: CSAT mostly 4-5 (mean about 4.3),
// an NPS in line with it and now and then a comment. The CSAT of an agent's answers
// follows a golden-ratio sequence through the distribution, so that every agent's
// average is near 4.3 after a handful of answers.
func (e *engager) answer(svc *survey.Service, fake *clock.Fake, r *rand.Rand, agent, id int64, at time.Time) error {
	var csat, nps int
	band := "good"
	k := e.asked[agent]
	e.asked[agent] = k + 1
	_, x := math.Modf(float64(agent%97)/97 + float64(k)*0.6180339887498949)
	switch {
	case x < 0.02:
		csat, nps, band = 1, r.IntN(3), "poor"
	case x < 0.05:
		csat, nps, band = 2, 2+r.IntN(4), "poor"
	case x < 0.14:
		csat, nps, band = 3, 5+r.IntN(3), "fair"
	case x < 0.45:
		csat, nps = 4, 7+r.IntN(3)
	default:
		csat, nps = 5, 8+r.IntN(3)
	}
	ans := map[string]any{"csat": csat, "nps": nps}
	if r.Float64() < 0.5 || band != "good" {
		if c := e.d.Surveys.Comments[band][r.IntN(len(e.d.Surveys.Comments[band]))]; c != "" {
			ans["comment"] = c
		}
	}
	raw, err := json.Marshal(ans)
	if err != nil {
		return fmt.Errorf("demo: survey answers: %w", err)
	}
	fake.Set(at)
	if _, _, err := svc.KeyIn(e.sys, id, survey.KeyInInput{Answers: raw}); err != nil {
		return fmt.Errorf("demo: answers of survey %d: %w", id, err)
	}
	e.sum.Answers++
	e.sum.CSATSum += csat
	e.sum.CSATN++
	e.sum.NPSN++
	switch {
	case nps >= 9:
		e.sum.Promoters++
	case nps <= 6:
		e.sum.Detractors++
	}
	return nil
}

// CSAT is the mean CSAT of the answers keyed in.
func (s EngagementSummary) CSAT() float64 {
	if s.CSATN == 0 {
		return 0
	}
	return float64(s.CSATSum) / float64(s.CSATN)
}

// NPS is promoters% - detractors% of the answers keyed in.
func (s EngagementSummary) NPS() int {
	if s.NPSN == 0 {
		return 0
	}
	return (s.Promoters - s.Detractors) * 100 / s.NPSN
}
