package survey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed" // the style sheet
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// The public survey pages at /s/{token}: no sign-in; the token in the address is the
// only key (256 random bits; only its SHA-256 digest is stored). A token that is
// malformed, guessed, altered or unknown gets the same 404 page; an expired link gets
// 410 Gone with a page saying so; a link already answered shows the thank-you page
// (GET, 200) and refuses a second answer (POST, 409). The form carries a double-submit
// token (a cookie and a hidden field, as the staff sign-in form does, since there is no
// session) besides the cross-origin check every form gets; answers are rate limited per
// client address.

//go:embed static/survey.css
var surveyCSS []byte

// cssURL is the content-hashed address of the survey page style sheet.
var cssURL = func() string {
	sum := sha256.Sum256(surveyCSS)
	return "/s/assets/survey." + hex.EncodeToString(sum[:])[:12] + ".css"
}()

// csrfCookie is the double-submit cookie of the public form.
const csrfCookie = "kefu_survey_csrf"

// Link states.
const (
	stateOpen     = "open"
	stateAnswered = "answered"
	stateExpired  = "expired"
)

// openLink reads the invitation and template behind token and says what the link can
// do now. Unknown tokens are NotFound.
func (s *Service) openLink(ctx context.Context, token string) (Invite, Template, string, error) {
	if !wellFormedToken(token) {
		return Invite{}, Template{}, "", apperr.NotFoundf("thing.survey")
	}
	inv, err := s.store.InviteByToken(ctx, tokenHash(token))
	if err != nil {
		return Invite{}, Template{}, "", notFound(err, "thing.survey")
	}
	tpl, err := s.store.Template(ctx, inv.TemplateID)
	if err != nil {
		return Invite{}, Template{}, "", err
	}
	switch {
	case inv.Status == StatusAnswered:
		return inv, tpl, stateAnswered, nil
	case !inv.Answerable(s.now()):
		return inv, tpl, stateExpired, nil
	}
	return inv, tpl, stateOpen, nil
}

// AnswerLink records the answers sent through the public form of token. Errors:
// NotFound (unknown token), errAnswered (409), errExpired, Invalid (field errors).
func (s *Service) AnswerLink(ctx context.Context, token string, form url.Values) error {
	if !wellFormedToken(token) {
		return apperr.NotFoundf("thing.survey")
	}
	ctx = systemCtx(ctx, "survey.public")
	return s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		inv, err := s.store.InviteByToken(ctx, tokenHash(token))
		if err != nil {
			return notFound(err, "thing.survey")
		}
		if inv.Status == StatusAnswered {
			return errAnswered
		}
		if !inv.Answerable(s.now()) {
			return errExpired
		}
		tpl, err := s.store.Template(ctx, inv.TemplateID)
		if err != nil {
			return err
		}
		answers, err := DecodeForm(&tpl, form)
		if err != nil {
			return err
		}
		_, err = s.answer(ctx, &inv, answers, inv.Channel, 0)
		return err
	})
}

// ---- page models ----

// ScaleOption is one button of a score question.
type ScaleOption struct {
	Value   int
	Checked bool
}

// QuestionView is a question on the public page.
type QuestionView struct {
	Key      string
	Field    string
	Kind     string
	Text     string
	Required bool
	Scale    []ScaleOption
	LowKey   string // catalog keys of the scale's ends
	HighKey  string
	Options  []ChoiceOption
	Value    string // text answers
	Error    string
}

// ChoiceOption is one option of a choice question.
type ChoiceOption struct {
	ID      string
	Value   string
	Checked bool
}

// PublicPage is the model of the public survey pages.
type PublicPage struct {
	CSS         string
	Token       string
	Name        string
	Description string
	Questions   []QuestionView
	CSRF        string
	Message     string
	State       string
}

func questionViews(tpl *Template, form url.Values, errs web.FormErrors) []QuestionView {
	out := make([]QuestionView, 0, len(tpl.Questions))
	for _, q := range tpl.Questions {
		field := formPrefix + q.Key
		given := map[string]bool{}
		for _, v := range form[field] {
			given[v] = true
		}
		v := QuestionView{Key: q.Key, Field: field, Kind: string(q.Kind), Text: q.Text, Required: q.Required,
			Error: errs["answers."+q.Key]}
		if lo, hi, ok := q.Kind.Scale(); ok {
			for n := lo; n <= hi; n++ {
				v.Scale = append(v.Scale, ScaleOption{Value: n, Checked: given[strconv.Itoa(n)]})
			}
			v.LowKey, v.HighKey = "survey.scale."+string(q.Kind)+".low", "survey.scale."+string(q.Kind)+".high"
		}
		for i, o := range q.Options {
			v.Options = append(v.Options, ChoiceOption{ID: field + "_" + strconv.Itoa(i), Value: o, Checked: given[o]})
		}
		if q.Kind == KindText {
			v.Value = form.Get(field)
		}
		out = append(out, v)
	}
	return out
}

// ---- handlers ----

type pages struct{ s *Service }

// static serves the survey style sheet; anything else is the survey 404 page.
func (p pages) static(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != cssURL {
		p.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(surveyCSS)
}

func (p pages) render(w http.ResponseWriter, r *http.Request, status int, page, title string, m PublicPage) {
	m.CSS = cssURL
	w.Header().Set("X-Robots-Tag", "noindex")
	web.Render(p.s.web, w, r, status, page, title, m)
}

// notFound renders the one page of every unknown, guessed, altered or malformed link:
// nothing on it depends on the address asked for (the language links lead home).
func (p pages) notFound(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/", ""
	p.render(w, r2, http.StatusNotFound, "survey/s_notfound", "survey.public.notfound_title", PublicPage{})
}

// formCSRF returns the form's double-submit token, setting the cookie when the browser
// has none yet.
func formCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == tokenLen && wellFormedToken(c.Value) {
		return c.Value
	}
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/s/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: httpx.IsHTTPS(r), MaxAge: 86400})
	return tok
}

func formCSRFOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || !wellFormedToken(c.Value) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(httpx.CSRFField))) == 1
}

// show is GET /s/{token}.
func (p pages) show(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	_, tpl, state, err := p.s.openLink(r.Context(), token)
	p.answerPage(w, r, token, &tpl, state, err, nil, nil, "", http.StatusOK)
}

// answerPage renders the page for a link's state (or error).
func (p pages) answerPage(w http.ResponseWriter, r *http.Request, token string, tpl *Template, state string, err error,
	form url.Values, errs web.FormErrors, msg string, status int) {
	switch {
	case apperr.KindOf(err) == apperr.NotFound:
		p.notFound(w, r)
		return
	case err != nil:
		p.s.web.PageError(w, r, err)
		return
	case state == stateAnswered:
		p.render(w, r, status, "survey/s_done", "survey.public.done_title", PublicPage{Name: tpl.Name, State: state})
		return
	case state == stateExpired:
		p.render(w, r, http.StatusGone, "survey/s_expired", "survey.public.expired_title", PublicPage{Name: tpl.Name, State: state})
		return
	}
	p.render(w, r, status, "survey/s_form", "survey.public.title", PublicPage{Token: token, Name: tpl.Name,
		Description: tpl.Description, Questions: questionViews(tpl, form, errs), CSRF: formCSRF(w, r), Message: msg,
		State: state})
}

// submit is POST /s/{token}.
func (p pages) submit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := r.PathValue("token")
	if !p.s.limiter.Allow("survey:" + httpx.ClientIP(ctx)) {
		w.Header().Set("Retry-After", "60")
		p.s.web.PageError(w, r, apperr.New(apperr.RateLimited, "error.rate_limited"))
		return
	}
	_, tpl, state, err := p.s.openLink(ctx, token)
	if err != nil || state != stateOpen {
		status := http.StatusOK
		if state == stateAnswered {
			status = http.StatusConflict
		}
		p.answerPage(w, r, token, &tpl, state, err, nil, nil, "", status)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.answerPage(w, r, token, &tpl, state, nil, nil, nil, p.msg(ctx, "survey.public.form_unreadable"), http.StatusBadRequest)
		return
	}
	if !formCSRFOK(r) {
		p.answerPage(w, r, token, &tpl, state, nil, r.PostForm, nil, p.msg(ctx, "survey.public.form_expired"), http.StatusForbidden)
		return
	}
	err = p.s.AnswerLink(ctx, token, r.PostForm)
	switch {
	case err == nil:
		http.Redirect(w, r, "/s/"+token, http.StatusSeeOther)
	case errors.Is(err, errAnswered):
		p.answerPage(w, r, token, &tpl, stateAnswered, nil, nil, nil, "", http.StatusConflict)
	case errors.Is(err, errExpired):
		p.answerPage(w, r, token, &tpl, stateExpired, nil, nil, nil, "", http.StatusGone)
	default:
		fe, m, ok := p.s.web.FieldErrors(ctx, err)
		if !ok {
			p.answerPage(w, r, token, &tpl, state, err, nil, nil, "", 0)
			return
		}
		p.answerPage(w, r, token, &tpl, state, nil, r.PostForm, fe, m, http.StatusUnprocessableEntity)
	}
}

func (p pages) msg(ctx context.Context, key string) string {
	return p.s.d.Catalog.T(i18n.Lang(ctx), key, nil)
}
