package survey

import (
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// Permissions of the capability.
const (
	PermRead   = "survey:read"
	PermWrite  = "survey:write"
	PermReport = "survey:report"
	PermManage = "survey:manage"
)

// Kind is the kind of a survey question.
type Kind string

// Question kinds: CSAT 1-5, NPS 0-10, CES 1-7 (customer effort), free text, single and
// multiple choice.
const (
	KindCSAT   Kind = "csat"
	KindNPS    Kind = "nps"
	KindCES    Kind = "ces"
	KindText   Kind = "text"
	KindSingle Kind = "single"
	KindMulti  Kind = "multiple"
)

// Kinds lists every question kind.
var Kinds = []Kind{KindCSAT, KindNPS, KindCES, KindText, KindSingle, KindMulti}

// Scale returns the lowest and highest score of a scored kind (ok false otherwise).
func (k Kind) Scale() (lo, hi int, ok bool) {
	switch k {
	case KindCSAT:
		return 1, 5, true
	case KindNPS:
		return 0, 10, true
	case KindCES:
		return 1, 7, true
	}
	return 0, 0, false
}

// Question is one question of a template; the order of the template's list is the
// order on the page.
type Question struct {
	// Key names the question in answers: lower-case letters, digits and '_', unique in
	// the template.
	Key      string   `json:"key"`
	Kind     Kind     `json:"kind"`
	Text     string   `json:"text" text:"multiline"`
	Required bool     `json:"required"`
	Options  []string `json:"options,omitempty"` // single and multiple choice only
}

// Template is an editable survey.
type Template struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Questions   []Question `json:"questions"`
	Active      bool       `json:"active"`
	Default     bool       `json:"is_default"`
	CreatedBy   int64      `json:"created_by"`
	Version     int64      `json:"version"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Question returns the question with key.
func (t *Template) Question(key string) (Question, bool) {
	for _, q := range t.Questions {
		if q.Key == key {
			return q, true
		}
	}
	return Question{}, false
}

// Limits of templates and answers.
const (
	maxName      = 100
	maxDesc      = 1000
	maxQuestions = 30
	maxQText     = 500
	maxOptions   = 20
	maxOption    = 100
	maxKey       = 32
	maxAnswer    = 2000
)

// validKey reports whether k is a question key.
func validKey(k string) bool {
	if k == "" || len(k) > maxKey || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, c := range k {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// checkText trims v and checks its length into f.
func checkText(f apperr.Fields, field, v string, max int, required bool) string {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		f.Add(field, "field.required")
	case utf8.RuneCountInString(v) > max:
		f.Add(field, "field.too_long", "max", max)
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		f.Add(field, "field.invalid")
	}
	return v
}

// ValidateQuestions checks a template's questions (into f, fields "questions[i].x") and
// returns them trimmed.
func ValidateQuestions(f apperr.Fields, qs []Question) []Question {
	if len(qs) == 0 {
		f.Add("questions", "field.required")
		return qs
	}
	if len(qs) > maxQuestions {
		f.Add("questions", "survey.invalid.too_many_questions", "max", maxQuestions)
		return qs
	}
	out := make([]Question, len(qs))
	seen := map[string]bool{}
	for i, q := range qs {
		p := "questions[" + itoa(i) + "]."
		q.Key = strings.TrimSpace(q.Key)
		switch {
		case q.Key == "":
			f.Add(p+"key", "field.required")
		case !validKey(q.Key):
			f.Add(p+"key", "survey.invalid.key")
		case seen[q.Key]:
			f.Add(p+"key", "survey.invalid.key_taken")
		}
		seen[q.Key] = true
		if !slices.Contains(Kinds, q.Kind) {
			f.Add(p+"kind", "field.invalid_choice")
		}
		q.Text = checkText(f, p+"text", q.Text, maxQText, true)
		choice := q.Kind == KindSingle || q.Kind == KindMulti
		switch {
		case choice && len(q.Options) < 2:
			f.Add(p+"options", "survey.invalid.options_few")
		case choice && len(q.Options) > maxOptions:
			f.Add(p+"options", "survey.invalid.options_many", "max", maxOptions)
		case !choice && len(q.Options) > 0:
			f.Add(p+"options", "survey.invalid.options_unused")
		}
		if choice {
			opts := make([]string, 0, len(q.Options))
			for j, o := range q.Options {
				o = checkText(f, p+"options["+itoa(j)+"]", o, maxOption, true)
				if slices.Contains(opts, o) && o != "" {
					f.Add(p+"options["+itoa(j)+"]", "survey.invalid.option_twice")
				}
				opts = append(opts, o)
			}
			q.Options = opts
		} else {
			q.Options = nil
		}
		out[i] = q
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

// Source says why an invitation exists.
type Source string

// Sources.
const (
	SourceTicket  Source = "ticket"  // a request was resolved
	SourceRevisit Source = "revisit" // a return visit was done
	SourceManual  Source = "manual"  // sent by hand
)

// Channel is how the invitation reaches the customer.
type Channel string

// Channels.
const (
	ChannelEmail  Channel = "email"
	ChannelSMS    Channel = "sms"
	ChannelPortal Channel = "portal"
	ChannelPhone  Channel = "phone" // asked on the phone, answers keyed in by staff
)

// Channels lists every channel.
var Channels = []Channel{ChannelEmail, ChannelSMS, ChannelPortal, ChannelPhone}

// Status is an invitation's state.
type Status string

// Invitation states: pending (waiting for its send time), sent (the link is live, or
// the phone call / portal entry awaits an answer), answered, expired (the link's time
// ran out, or the send window passed), unsendable (no address or no provider).
const (
	StatusPending    Status = "pending"
	StatusSent       Status = "sent"
	StatusAnswered   Status = "answered"
	StatusExpired    Status = "expired"
	StatusUnsendable Status = "unsendable"
)

// Statuses lists every state.
var Statuses = []Status{StatusPending, StatusSent, StatusAnswered, StatusExpired, StatusUnsendable}

// Invite is a survey invitation to one customer.
type Invite struct {
	ID            int64
	TemplateID    int64
	CustomerID    int64
	TicketID      int64
	RevisitTaskID int64
	Source        Source
	Channel       Channel
	Status        Status
	TicketType    string
	AgentID       int64
	DeptID        int64
	TeamID        int64
	TokenHash     string
	DedupeKey     string
	DueAt         time.Time
	SendBy        time.Time
	SentAt        time.Time
	ExpiresAt     time.Time
	AnsweredAt    time.Time
	FailReason    string
	CreatedBy     int64
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Link is the public address with a fresh token (set only where one was just made:
	// PendingForCustomer); never stored.
	Link string
}

// Record is the scope-check view: the department, team and agent of the request.
func (i *Invite) Record() authz.Record {
	return authz.Record{DeptID: i.DeptID, TeamID: i.TeamID, OwnerID: i.AgentID}
}

// Answerable reports whether the invitation still takes an answer at now.
func (i *Invite) Answerable(now time.Time) bool {
	if i.Status != StatusSent && i.Status != StatusPending {
		return false
	}
	return i.ExpiresAt.IsZero() || now.Before(i.ExpiresAt)
}

// Answer is the value given to one question: Score for csat/nps/ces, Text for text,
// Choices for single and multiple choice.
type Answer struct {
	Key     string   `json:"key"`
	Kind    Kind     `json:"kind"`
	Score   *int     `json:"score,omitempty"`
	Text    string   `json:"text,omitempty"`
	Choices []string `json:"choices,omitempty"`
}

// Response is a stored answer sheet.
type Response struct {
	ID         int64
	InviteID   int64
	TemplateID int64
	Answers    []Answer
	CSAT       *int
	NPS        *int
	CES        *int
	Channel    Channel
	KeyedBy    int64
	AnsweredAt time.Time
}

// Scores returns the first CSAT, NPS and CES scores among answers.
func Scores(answers []Answer) (csat, nps, ces *int) {
	for _, a := range answers {
		if a.Score == nil {
			continue
		}
		v := *a.Score
		switch {
		case a.Kind == KindCSAT && csat == nil:
			csat = &v
		case a.Kind == KindNPS && nps == nil:
			nps = &v
		case a.Kind == KindCES && ces == nil:
			ces = &v
		}
	}
	return
}

// Tally counts the scores of a group of invitations.
type Tally struct {
	Invited  int     // invitations that reached the customer (sent, answered, expired)
	Answered int     // answer sheets
	CSAT     [5]int  // CSAT answers per score 1..5
	NPS      [11]int // NPS answers per score 0..10
	CESSum   int     // sum of CES scores
	CESCount int     // CES answers
}

// AddScores counts one answer sheet's scores.
func (t *Tally) AddScores(csat, nps, ces *int) {
	if csat != nil && *csat >= 1 && *csat <= 5 {
		t.CSAT[*csat-1]++
	}
	if nps != nil && *nps >= 0 && *nps <= 10 {
		t.NPS[*nps]++
	}
	if ces != nil && *ces >= 1 && *ces <= 7 {
		t.CESSum += *ces
		t.CESCount++
	}
}

// NPSResult is the net promoter score of a set of 0-10 answers: the percentage of
// promoters (9-10) minus the percentage of detractors (0-6), from -100 to 100.
type NPSResult struct {
	Responses  int      `json:"responses"`
	Promoters  int      `json:"promoters"`
	Passives   int      `json:"passives"`
	Detractors int      `json:"detractors"`
	Score      *float64 `json:"score"` // null without answers; one decimal
}

// ComputeNPS computes the NPS of counts (counts[s] answers of score s, 0..10).
func ComputeNPS(counts [11]int) NPSResult {
	var r NPSResult
	for s, n := range counts {
		r.Responses += n
		switch {
		case s >= 9:
			r.Promoters += n
		case s >= 7:
			r.Passives += n
		default:
			r.Detractors += n
		}
	}
	if r.Responses > 0 {
		v := round1(100 * float64(r.Promoters-r.Detractors) / float64(r.Responses))
		r.Score = &v
	}
	return r
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
