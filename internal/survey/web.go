package survey

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Staff pages: /surveys (results for survey:report holders, and the latest
// invitations within reach) and /surveys/templates (the templates; edited through the
// API, docs/surveys.md).

// Option is an entry of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// InviteRow is an invitation in the page's list.
type InviteRow struct {
	ID        int64
	Status    string
	Channel   string
	Source    string
	CreatedAt time.Time
}

// ResultsPage is the model of /surveys.
type ResultsPage struct {
	CanReport bool
	Groups    []Option
	From, To  string
	Results   *Results
	Message   string
	Recent    []InviteRow
}

// AnswerRow is one answer on the detail page.
type AnswerRow struct {
	Question string
	Value    string
}

// DetailPage is the model of /surveys/{id}: the invitation, its answers, or the form to
// key in the answers given on the phone.
type DetailPage struct {
	ID, CustomerID, TicketID     int64
	Status, Channel, Source      string
	Template, FailReason         string
	CreatedAt, SentAt, ExpiresAt time.Time
	AnsweredAt                   time.Time
	Answers                      []AnswerRow
	CanKeyIn                     bool
	Questions                    []QuestionView
	Message                      string
}

// TemplatesPage is the model of /surveys/templates.
type TemplatesPage struct {
	Items []Template
}

type staffPages struct{ s *Service }

func (p staffPages) results(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cat, lang := p.s.d.Catalog, i18n.Lang(ctx)
	a := authz.From(ctx)
	q := r.URL.Query()
	m := ResultsPage{CanReport: a.Can(PermReport), From: q.Get("from"), To: q.Get("to")}
	group := Group(q.Get("group"))
	if group == "" {
		group = GroupAgent
	}
	for _, g := range Groups {
		m.Groups = append(m.Groups, Option{Value: string(g), Label: cat.T(lang, "survey.group."+string(g), nil), Selected: g == group})
	}
	if m.CanReport {
		rq := ResultQuery{Group: group}
		var err error
		if rq.From, err = parseDay(m.From); err == nil {
			if rq.To, err = parseDay(m.To); err == nil && !rq.To.IsZero() {
				rq.To = rq.To.AddDate(0, 0, 1) // the "to" day is included
			}
		}
		var res Results
		if err == nil {
			res, err = p.s.Results(ctx, rq)
		}
		if err != nil {
			_, msg, ok := p.s.web.FieldErrors(ctx, err)
			if !ok {
				p.s.web.PageError(w, r, err)
				return
			}
			m.Message = msg
		} else {
			m.Results = &res
			m.From = res.From.In(chinaTime).Format(time.DateOnly)
			m.To = res.To.Add(-time.Millisecond).In(chinaTime).Format(time.DateOnly)
		}
	}
	items, _, err := p.s.List(ctx, InviteFilter{}, 20, "")
	if err != nil {
		p.s.web.PageError(w, r, err)
		return
	}
	for _, it := range items {
		m.Recent = append(m.Recent, InviteRow{ID: it.ID, Status: cat.T(lang, "survey.status."+string(it.Status), nil),
			Channel: cat.T(lang, "survey.channel."+string(it.Channel), nil),
			Source:  cat.T(lang, "survey.source."+string(it.Source), nil), CreatedAt: it.CreatedAt})
	}
	web.Render(p.s.web, w, r, http.StatusOK, "survey/results", "survey.page.results", m)
}

func (p staffPages) detail(w http.ResponseWriter, r *http.Request) {
	p.renderDetail(w, r, http.StatusOK, nil, nil, "")
}

// keyIn is POST /surveys/{id}/answers (the form of the detail page).
func (p staffPages) keyIn(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		if err = r.ParseForm(); err != nil {
			err = apperr.New(apperr.Malformed, "error.malformed")
		}
	}
	if err == nil {
		_, _, err = p.s.KeyInForm(r.Context(), id, r.PostForm)
	}
	switch {
	case err == nil:
		web.Redirect(w, r, "/surveys/"+strconv.FormatInt(id, 10), "survey.flash.answered")
	case apperr.KindOf(err) == apperr.Invalid:
		fe, msg, _ := p.s.web.FieldErrors(r.Context(), err)
		p.renderDetail(w, r, http.StatusUnprocessableEntity, r.PostForm, fe, msg)
	default:
		p.s.web.PageError(w, r, err)
	}
}

func (p staffPages) renderDetail(w http.ResponseWriter, r *http.Request, status int, form url.Values, fe web.FormErrors, msg string) {
	ctx := r.Context()
	cat, lang := p.s.d.Catalog, i18n.Lang(ctx)
	id, err := httpx.PathID(r, "id")
	var inv Invite
	var resp *Response
	if err == nil {
		inv, resp, err = p.s.Get(ctx, id)
	}
	var tpl Template
	if err == nil {
		tpl, err = p.s.TemplateOf(ctx, &inv)
	}
	if err != nil {
		p.s.web.PageError(w, r, err)
		return
	}
	a := authz.From(ctx)
	m := DetailPage{ID: inv.ID, CustomerID: inv.CustomerID, TicketID: inv.TicketID,
		Status: cat.T(lang, "survey.status."+string(inv.Status), nil), Channel: cat.T(lang, "survey.channel."+string(inv.Channel), nil),
		Source: cat.T(lang, "survey.source."+string(inv.Source), nil), Template: tpl.Name, FailReason: inv.FailReason,
		CreatedAt: inv.CreatedAt, SentAt: inv.SentAt, ExpiresAt: inv.ExpiresAt, AnsweredAt: inv.AnsweredAt, Message: msg,
		CanKeyIn: a.Reaches(PermWrite, inv.Record()) && inv.Answerable(p.s.now())}
	if resp != nil {
		for _, an := range resp.Answers {
			row := AnswerRow{Question: an.Key}
			if q, ok := tpl.Question(an.Key); ok {
				row.Question = q.Text
			}
			switch {
			case an.Score != nil:
				row.Value = strconv.Itoa(*an.Score)
			case len(an.Choices) > 0:
				row.Value = strings.Join(an.Choices, " / ")
			default:
				row.Value = an.Text
			}
			m.Answers = append(m.Answers, row)
		}
	}
	if m.CanKeyIn && resp == nil {
		m.Questions = questionViews(&tpl, form, fe)
	}
	web.Render(p.s.web, w, r, status, "survey/detail", "survey.page.detail_title", m)
}

func (p staffPages) templates(w http.ResponseWriter, r *http.Request) {
	ts, err := p.s.Templates(r.Context())
	if err != nil {
		p.s.web.PageError(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "survey/templates", "survey.page.templates", TemplatesPage{Items: ts})
}

// parseDay reads a YYYY-MM-DD day in China time ("" = zero).
func parseDay(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, chinaTime)
	if err != nil {
		return time.Time{}, apperr.InvalidField("from", "survey.invalid.day")
	}
	return t, nil
}
