package survey

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Group is how results are broken down.
type Group string

// Groupings of results.
const (
	GroupAgent   Group = "agent"
	GroupTeam    Group = "team"
	GroupType    Group = "type"
	GroupChannel Group = "channel"
	GroupPeriod  Group = "period" // calendar month in China time
)

// Groups lists every grouping.
var Groups = []Group{GroupAgent, GroupTeam, GroupType, GroupChannel, GroupPeriod}

// ResultQuery selects results: invitations created in [From, To), grouped by Group.
type ResultQuery struct {
	Group Group
	From  time.Time
	To    time.Time
}

// CSATResult is the CSAT of a group: the average of 1-5 answers and how many gave each.
type CSATResult struct {
	Responses    int      `json:"responses"`
	Average      *float64 `json:"average"` // null without answers; two decimals
	Distribution [5]int   `json:"distribution"`
	// Satisfied is the share (percent) of answers of 4 or 5.
	Satisfied *float64 `json:"satisfied_pct"`
}

// CESResult is the average customer effort (1 easy .. 7 hard).
type CESResult struct {
	Responses int      `json:"responses"`
	Average   *float64 `json:"average"`
}

// GroupResult is one row of the results.
type GroupResult struct {
	Key          string     `json:"key"`
	Label        string     `json:"label"`
	Invited      int        `json:"invited"`
	Answered     int        `json:"answered"`
	ResponseRate *float64   `json:"response_rate"` // percent; null when none invited
	CSAT         CSATResult `json:"csat"`
	NPS          NPSResult  `json:"nps"`
	CES          CESResult  `json:"ces"`
}

// Results are the survey results of a period (GET /api/v1/survey-results).
type Results struct {
	Group  Group         `json:"group"`
	From   time.Time     `json:"from"`
	To     time.Time     `json:"to"`
	Total  GroupResult   `json:"total"`
	Groups []GroupResult `json:"groups"`
}

// chinaTime is the zone of periods and of dates given without one.
var chinaTime = time.FixedZone("CST", 8*3600)

// Results computes the results within the actor's reach (survey:report).
func (s *Service) Results(ctx context.Context, q ResultQuery) (Results, error) {
	a, err := authz.RequireStaff(ctx, PermReport)
	if err != nil {
		return Results{}, err
	}
	if q.Group == "" {
		q.Group = GroupAgent
	}
	now := s.now()
	if q.To.IsZero() {
		q.To = now.Add(time.Millisecond) // up to now, included
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, -1, 0)
	}
	f := apperr.Fields{}
	if !slices.Contains(Groups, q.Group) {
		f.Add("group", "field.invalid_choice")
	}
	if !q.From.Before(q.To) {
		f.Add("to", "survey.invalid.period")
	} else if q.To.Sub(q.From) > 3*366*24*time.Hour {
		f.Add("from", "survey.invalid.period_long")
	}
	if err := f.Err(); err != nil {
		return Results{}, err
	}
	scope, args := scopeSQL(a, PermReport)
	tallies := map[string]*Tally{}
	var order []string
	var total Tally
	err = s.store.ResultRows(ctx, q.From, q.To, scope, args, func(r resultRow) {
		key := groupKey(q.Group, r)
		t := tallies[key]
		if t == nil {
			t = &Tally{}
			tallies[key] = t
			order = append(order, key)
		}
		for _, x := range []*Tally{t, &total} {
			if r.Status != StatusUnsendable {
				x.Invited++
			}
			if r.Answered {
				x.Answered++
				x.AddScores(r.CSAT, r.NPS, r.CES)
			}
		}
	})
	if err != nil {
		return Results{}, err
	}
	slices.Sort(order)
	out := Results{Group: q.Group, From: q.From.UTC(), To: q.To.UTC(), Total: summarize("", "", &total),
		Groups: make([]GroupResult, 0, len(order))}
	labels := s.labeler(ctx, q.Group)
	for _, k := range order {
		out.Groups = append(out.Groups, summarize(k, labels(k), tallies[k]))
	}
	return out, nil
}

// groupKey is the group of row r.
func groupKey(g Group, r resultRow) string {
	switch g {
	case GroupAgent:
		return strconv.FormatInt(r.AgentID, 10)
	case GroupTeam:
		return strconv.FormatInt(r.TeamID, 10)
	case GroupType:
		return r.TicketType
	case GroupChannel:
		return string(r.Channel)
	}
	return r.CreatedAt.In(chinaTime).Format("2006-01")
}

// summarize turns a tally into a result row.
func summarize(key, label string, t *Tally) GroupResult {
	g := GroupResult{Key: key, Label: label, Invited: t.Invited, Answered: t.Answered, NPS: ComputeNPS(t.NPS)}
	if t.Invited > 0 {
		v := round1(100 * float64(t.Answered) / float64(t.Invited))
		g.ResponseRate = &v
	}
	g.CSAT.Distribution = t.CSAT
	sum, sat := 0, 0
	for i, n := range t.CSAT {
		g.CSAT.Responses += n
		sum += (i + 1) * n
		if i >= 3 {
			sat += n
		}
	}
	if g.CSAT.Responses > 0 {
		avg := round2(float64(sum) / float64(g.CSAT.Responses))
		pct := round1(100 * float64(sat) / float64(g.CSAT.Responses))
		g.CSAT.Average, g.CSAT.Satisfied = &avg, &pct
	}
	g.CES.Responses = t.CESCount
	if t.CESCount > 0 {
		avg := round2(float64(t.CESSum) / float64(t.CESCount))
		g.CES.Average = &avg
	}
	return g
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// labeler names the groups of g in the request's language.
func (s *Service) labeler(ctx context.Context, g Group) func(key string) string {
	cat, lang := s.d.Catalog, i18n.Lang(ctx)
	sys := authz.WithActor(ctx, authz.System("survey.results"))
	none := cat.T(lang, "survey.results.none", nil)
	return func(key string) string {
		switch g {
		case GroupAgent, GroupTeam:
			id, _ := strconv.ParseInt(key, 10, 64)
			if id == 0 || s.d.Staff == nil {
				return none
			}
			if g == GroupAgent {
				if st, err := s.d.Staff.GetStaff(sys, id); err == nil {
					return st.DisplayName
				}
			} else if t, err := s.d.Staff.GetTeam(sys, id); err == nil {
				return t.Name
			}
			return "#" + key
		case GroupType:
			if key == "" {
				return none
			}
			if k := "ticket.type." + key; cat.Has(k) {
				return cat.T(lang, k, nil)
			}
			return key
		case GroupChannel:
			return cat.T(lang, "survey.channel."+key, nil)
		}
		return key
	}
}
