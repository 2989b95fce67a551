package portal

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/web"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Shell is the part of every portal page model the portal layout reads.
type Shell struct {
	CSS      string // URL of the portal style sheet
	Customer string // the signed-in customer's name ("" when signed out)
	Section  string // active navigation entry: requests, new, kb
	HasKB    bool
	// HasLetters shows the public letters entry (letters.go).
	HasLetters bool
}

// Option is an entry of a select box.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// LoginPage is the model of the sign-in page.
type LoginPage struct {
	Shell
	Value   string
	SMS     bool // sign-in by mobile is offered
	Next    string
	Errors  web.FormErrors
	Message string
}

// VerifyPage is the model of the code page.
type VerifyPage struct {
	Shell
	To      string // where the code went, masked
	Minutes int    // how long a code lives
	Next    string
	Errors  web.FormErrors
	Message string
}

// RequestRow is a request in the customer's list.
type RequestRow struct {
	ID         int64
	Number     string
	Title      string
	Type       string
	Status     string
	StatusCode string
	Created    time.Time
	Updated    time.Time
}

// ListPage is the model of the customer's request list.
type ListPage struct {
	Shell
	Items      []RequestRow
	NextCursor string
	Surveys    []SurveyLink // open satisfaction surveys (first page only)
}

// SurveyLink is an open survey offered to the customer.
type SurveyLink struct {
	Link    string
	Created time.Time
}

// NewPage is the model of the submission form.
type NewPage struct {
	Shell
	Types    []Option
	SubKinds []Option
	Faults   []Option
	Title    string
	Body     string
	Errors   web.FormErrors
	Message  string
}

// EventRow is one public timeline entry.
type EventRow struct {
	Kind string // created, reply, customer_reply, status, confirm
	Mine bool   // written by the customer
	Who  string
	Text string // what happened (status changes)
	Body string
	At   time.Time
}

// DetailPage is the model of a request page.
type DetailPage struct {
	Shell
	ID         int64
	Number     string
	Title      string
	Body       string
	Type       string
	Status     string
	StatusCode string
	Created    time.Time
	Events     []EventRow
	CanReply   bool
	CanConfirm bool
	CanReopen  bool
	Reply      string
	Reason     string
	Errors     web.FormErrors
	Message    string
	// ComplaintStage is the stage of the complaint the request carries ("" = none).
	ComplaintStage string
}

// ArticleRow is a FAQ entry in a list.
type ArticleRow struct {
	ID       int64
	Title    string
	Category string
	Excerpt  string
}

// KBListPage is the model of the FAQ list.
type KBListPage struct {
	Shell
	Q      string
	Items  []ArticleRow
	Errors web.FormErrors
}

// KBPage is the model of a FAQ article.
type KBPage struct {
	Shell
	Title    string
	Category string
	Body     string
	Updated  time.Time
}

// ErrorPage is the model of a portal error page.
type ErrorPage struct {
	Shell
	Status  int
	Message string
}

type pages struct{ s *Service }

const codeMinutes = int(CodeTTL / time.Minute)

func (p pages) shell(r *http.Request, section string) Shell {
	sh := Shell{CSS: cssURL, Section: section, HasKB: p.s.kb != nil, HasLetters: p.s.letters != nil}
	if a := authz.From(r.Context()); a != nil && a.Kind == authz.KindCustomer {
		sh.Customer = a.DisplayName
	}
	return sh
}

func (p pages) t(r *http.Request, key string, args map[string]any) string {
	return p.s.cat.T(i18n.Lang(r.Context()), key, args)
}

// PageError renders err as a portal error page: the router's renderer for the pages
// under /portal/, unknown addresses included.
func (s *Service) PageError(w http.ResponseWriter, r *http.Request, err error) {
	pages{s: s}.fail(w, r, err)
}

// fail renders err as a portal page (sign-in for an expired session).
func (p pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	if apperr.KindOf(err) == apperr.Unauthenticated {
		http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
		return
	}
	status, body := httpx.Describe(r.Context(), err)
	if status >= 500 {
		httpx.Logger(r.Context()).Error("portal: page failed", "err", err.Error())
	}
	httpx.RetryAfter(w, status)
	web.Render(p.s.web, w, r, status, "portal/error", "portal.title.error",
		ErrorPage{Shell: p.shell(r, ""), Status: status, Message: body.Error.Message})
}

func signedIn(r *http.Request) bool {
	a := authz.From(r.Context())
	return a != nil && a.Kind == authz.KindCustomer
}

// safeNext keeps a post-sign-in redirect inside the portal.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") ||
		(u.Path != cookiePath && !strings.HasPrefix(u.Path, cookiePath+"/")) || strings.HasPrefix(u.Path, "/portal/login") ||
		strings.HasPrefix(u.Path, "/portal/verify") {
		return cookiePath
	}
	return next
}

// ---- sign-in ----

func (p pages) login(w http.ResponseWriter, r *http.Request) {
	if signedIn(r) {
		http.Redirect(w, r, "/portal", http.StatusSeeOther)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "portal/login", "portal.title.login",
		LoginPage{Shell: p.shell(r, ""), SMS: p.s.sms != nil, Next: safeNext(r.URL.Query().Get("next"))})
}

func (p pages) sendCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	input := r.PostFormValue("email")
	next := safeNext(r.PostFormValue("next"))
	id, err := p.s.RequestCode(ctx, input, httpx.ClientIP(ctx))
	if err != nil {
		page := LoginPage{Shell: p.shell(r, ""), SMS: p.s.sms != nil, Value: input, Next: next}
		fe, msg, ok := p.s.web.FieldErrors(ctx, err)
		if !ok && apperr.KindOf(err) != apperr.RateLimited {
			p.fail(w, r, err)
			return
		}
		status, body := httpx.Describe(ctx, err)
		page.Errors, page.Message = fe, msg
		if !ok {
			page.Message = body.Error.Message
		}
		web.Render(p.s.web, w, r, status, "portal/login", "portal.title.login", page)
		return
	}
	// The cookie carries the address sealed with the key ring, never in clear.
	sealed, err := p.s.keys.Encrypt(id.Channel+":"+id.Value, loginCookieAAD)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	setCookie(w, r, loginCookie, base64.RawURLEncoding.EncodeToString([]byte(sealed)), int(CodeTTL/time.Second)+300)
	to := "/portal/verify"
	if next != cookiePath {
		to += "?next=" + url.QueryEscape(next)
	}
	web.Redirect(w, r, to, "portal.flash.code_sent")
}

// loginCookieAAD binds the sealed login cookie to its purpose.
const loginCookieAAD = "portal.login_cookie"

// pendingLogin reads the identifier the code was requested for.
func (p pages) pendingLogin(r *http.Request) (Identifier, bool) {
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return Identifier{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return Identifier{}, false
	}
	plain, err := p.s.keys.Decrypt(string(raw), loginCookieAAD)
	if err != nil {
		return Identifier{}, false
	}
	ch, v, ok := strings.Cut(plain, ":")
	if !ok {
		return Identifier{}, false
	}
	id, ok := ParseIdentifier(v)
	if !ok || id.Channel != ch {
		return Identifier{}, false
	}
	return id, true
}

func (p pages) verifyForm(w http.ResponseWriter, r *http.Request) {
	if signedIn(r) {
		http.Redirect(w, r, "/portal", http.StatusSeeOther)
		return
	}
	id, ok := p.pendingLogin(r)
	if !ok {
		http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "portal/verify", "portal.title.verify",
		VerifyPage{Shell: p.shell(r, ""), To: id.Masked(), Minutes: codeMinutes, Next: safeNext(r.URL.Query().Get("next"))})
}

func (p pages) verify(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := p.pendingLogin(r)
	if !ok {
		web.Redirect(w, r, "/portal/login", "portal.flash.start_again")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	ss, err := p.s.Verify(ctx, id.Value, r.PostFormValue("code"), httpx.ClientIP(ctx), r.UserAgent())
	if err != nil {
		page := VerifyPage{Shell: p.shell(r, ""), To: id.Masked(), Minutes: codeMinutes, Next: next}
		fe, msg, ok := p.s.web.FieldErrors(ctx, err)
		if !ok && apperr.KindOf(err) != apperr.RateLimited {
			p.fail(w, r, err)
			return
		}
		status, body := httpx.Describe(ctx, err)
		page.Errors, page.Message = fe, msg
		if !ok {
			page.Message = body.Error.Message
		}
		web.Render(p.s.web, w, r, status, "portal/verify", "portal.title.verify", page)
		return
	}
	clearCookie(w, r, loginCookie)
	setCookie(w, r, SessionCookie, ss.Raw, 0)
	web.Redirect(w, r, next, "portal.flash.signed_in")
}

func (p pages) logout(w http.ResponseWriter, r *http.Request) {
	if err := p.s.SignOut(r.Context()); err != nil && apperr.KindOf(err) != apperr.Unauthenticated {
		p.fail(w, r, err)
		return
	}
	clearCookie(w, r, SessionCookie)
	web.Redirect(w, r, "/portal/login", "portal.flash.signed_out")
}

// ---- requests ----

var errNoTickets = apperr.NotFoundf("portal.thing.request")

func (p pages) labelStatus(r *http.Request, st ticket.Status) string {
	return p.t(r, "portal.status."+string(st), nil)
}

func (p pages) labelType(r *http.Request, ty ticket.Type) string {
	return p.t(r, "portal.type."+string(ty), nil)
}

func (p pages) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := customerActor(ctx)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if p.s.tickets == nil {
		p.fail(w, r, errNoTickets)
		return
	}
	cursor := r.URL.Query().Get("cursor")
	items, next, err := p.s.Mine(ctx, a.ID, cursor)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	page := ListPage{Shell: p.shell(r, "requests"), NextCursor: next}
	if cursor == "" && p.s.surveys != nil {
		invs, err := p.s.surveys.PendingForCustomer(ctx, a.ID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, inv := range invs {
			if inv.Link != "" {
				page.Surveys = append(page.Surveys, SurveyLink{Link: inv.Link, Created: inv.CreatedAt})
			}
		}
	}
	for _, t := range items {
		page.Items = append(page.Items, RequestRow{ID: t.ID, Number: t.Number, Title: t.Title, Type: p.labelType(r, t.Type),
			Status: p.labelStatus(r, t.Status), StatusCode: string(t.Status), Created: t.CreatedAt, Updated: t.UpdatedAt})
	}
	web.Render(p.s.web, w, r, http.StatusOK, "portal/list", "portal.title.list", page)
}

func (p pages) newPage(r *http.Request, typ, sub string, fault int, title, body string) NewPage {
	page := NewPage{Shell: p.shell(r, "new"), Title: title, Body: body}
	for lvl := 1; lvl <= 3; lvl++ {
		page.Faults = append(page.Faults, Option{Value: strconv.Itoa(lvl), Label: p.t(r, "portal.fault."+strconv.Itoa(lvl), nil),
			Selected: lvl == fault})
	}
	for _, ty := range ticket.Types {
		page.Types = append(page.Types, Option{Value: string(ty), Label: p.labelType(r, ty), Selected: string(ty) == typ})
	}
	page.SubKinds = append(page.SubKinds, Option{Value: "", Label: p.t(r, "portal.subkind.none", nil), Selected: sub == ""})
	for _, k := range ticket.SubKinds {
		page.SubKinds = append(page.SubKinds, Option{Value: k, Label: p.t(r, "portal.subkind."+k, nil), Selected: k == sub})
	}
	return page
}

func (p pages) newForm(w http.ResponseWriter, r *http.Request) {
	if p.s.tickets == nil {
		p.fail(w, r, errNoTickets)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "portal/new", "portal.title.new", p.newPage(r, string(ticket.TypeInquiry), "", 1, "", ""))
}

func (p pages) create(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if p.s.tickets == nil {
		p.fail(w, r, errNoTickets)
		return
	}
	in := NewRequest{Type: ticket.Type(r.PostFormValue("type")), SubKind: r.PostFormValue("sub_kind"),
		Title: r.PostFormValue("title"), Body: r.PostFormValue("body")}
	if lvl, err := strconv.Atoi(r.PostFormValue("fault_level")); err == nil && lvl >= 1 && lvl <= 3 {
		in.FaultLevel = lvl
	}
	t, err := p.s.Submit(ctx, in)
	if err != nil {
		fe, msg, ok := p.s.web.FieldErrors(ctx, err)
		if !ok {
			p.fail(w, r, err)
			return
		}
		page := p.newPage(r, string(in.Type), in.SubKind, in.FaultLevel, in.Title, in.Body)
		page.Errors, page.Message = fe, msg
		status, _ := httpx.Describe(ctx, err)
		web.Render(p.s.web, w, r, status, "portal/new", "portal.title.new", page)
		return
	}
	web.Redirect(w, r, "/portal/tickets/"+strconv.FormatInt(t.ID, 10), "portal.flash.submitted")
}

func (p pages) detail(w http.ResponseWriter, r *http.Request) {
	p.renderDetail(w, r, http.StatusOK, "", "", nil, "")
}

func (p pages) renderDetail(w http.ResponseWriter, r *http.Request, status int, reply, reason string, fe web.FormErrors, msg string) {
	ctx := r.Context()
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if p.s.tickets == nil {
		p.fail(w, r, errNoTickets)
		return
	}
	t, evs, err := p.s.Request(ctx, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	a := authz.From(ctx)
	page := DetailPage{Shell: p.shell(r, "requests"), ID: t.ID, Number: t.Number, Title: t.Title, Body: t.Body,
		Type: p.labelType(r, t.Type), Status: p.labelStatus(r, t.Status), StatusCode: string(t.Status), Created: t.CreatedAt,
		CanReply:   t.Status != ticket.StatusClosed && t.Status != ticket.StatusCancelled,
		CanConfirm: t.Status == ticket.StatusResolved,
		CanReopen:  t.Status == ticket.StatusResolved,
		Reply:      reply, Reason: reason, Errors: fe, Message: msg}
	if t.Type == ticket.TypeComplaint && p.s.complaints != nil {
		if st, ok, err := p.s.complaints.PortalStage(ctx, t.ID); err != nil {
			p.fail(w, r, err)
			return
		} else if ok {
			page.ComplaintStage = p.s.cat.Msg(i18n.Lang(ctx), st)
		}
	}
	for _, e := range evs {
		row := EventRow{Kind: string(e.Kind), Body: e.Body, At: e.CreatedAt,
			Mine: e.ActorKind == authz.KindCustomer && e.ActorID == a.ID}
		switch {
		case row.Mine:
			row.Who = p.t(r, "portal.timeline.you", nil)
		case e.ActorKind == authz.KindStaff && e.ActorName != "":
			row.Who = e.ActorName
		default:
			row.Who = p.t(r, "portal.timeline.center", nil)
		}
		switch e.Kind {
		case ticket.EventCreated:
			row.Text = p.t(r, "portal.timeline.created", nil)
			row.Body = "" // the request's own words show above the timeline
		case ticket.EventStatus:
			to, _ := e.Data["to"].(string)
			row.Text = p.t(r, "portal.timeline.status", map[string]any{"status": p.labelStatus(r, ticket.Status(to))})
			if reason, _ := e.Data["reason"].(string); reason != "" && row.Body == "" {
				row.Body = reason
			}
		case ticket.EventConfirm:
			row.Text = p.t(r, "portal.timeline.confirmed", nil)
		case ticket.EventComplaint:
			row.Text = p.t(r, "portal.timeline.complaint", nil)
			if to, _ := e.Data["to"].(string); to != "" && p.s.cat.Has("complaint.stage."+to) {
				row.Text = p.t(r, "portal.timeline.complaint_stage", map[string]any{"stage": p.t(r, "complaint.stage."+to, nil)})
			}
		}
		page.Events = append(page.Events, row)
	}
	web.Render(p.s.web, w, r, status, "portal/detail", "portal.title.detail", page)
}

// action runs one of the request actions and goes back to the request page, or shows
// it again with the problem.
func (p pages) action(w http.ResponseWriter, r *http.Request, flash string, run func(id int64) error, reply, reason string) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if p.s.tickets == nil {
		p.fail(w, r, errNoTickets)
		return
	}
	if err := run(id); err != nil {
		fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
		if !ok {
			p.fail(w, r, err)
			return
		}
		status, _ := httpx.Describe(r.Context(), err)
		p.renderDetail(w, r, status, reply, reason, fe, msg)
		return
	}
	web.Redirect(w, r, "/portal/tickets/"+strconv.FormatInt(id, 10), flash)
}

func (p pages) reply(w http.ResponseWriter, r *http.Request) {
	body := r.PostFormValue("body")
	p.action(w, r, "portal.flash.replied", func(id int64) error { return p.s.Reply(r.Context(), id, body) }, body, "")
}

func (p pages) confirm(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, "portal.flash.confirmed", func(id int64) error { return p.s.Confirm(r.Context(), id) }, "", "")
}

func (p pages) reopen(w http.ResponseWriter, r *http.Request) {
	reason := r.PostFormValue("reason")
	p.action(w, r, "portal.flash.reopened", func(id int64) error { return p.s.Reopen(r.Context(), id, reason) }, "", reason)
}

// ---- FAQ ----

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func (p pages) kbList(w http.ResponseWriter, r *http.Request) {
	if p.s.kb == nil {
		p.fail(w, r, apperr.NotFoundf("portal.thing.article"))
		return
	}
	q := r.URL.Query().Get("q")
	page := KBListPage{Shell: p.shell(r, "kb"), Q: q}
	items, err := p.s.kb.PublishedSearch(r.Context(), q, 50)
	if err != nil {
		fe, _, ok := p.s.web.FieldErrors(r.Context(), err)
		if !ok {
			p.fail(w, r, err)
			return
		}
		page.Errors = fe
		web.Render(p.s.web, w, r, http.StatusUnprocessableEntity, "portal/kb", "portal.title.kb", page)
		return
	}
	for _, a := range items {
		page.Items = append(page.Items, ArticleRow{ID: a.ID, Title: a.Title, Category: a.CategoryName, Excerpt: excerpt(a.Body, 80)})
	}
	web.Render(p.s.web, w, r, http.StatusOK, "portal/kb", "portal.title.kb", page)
}

func (p pages) kbArticle(w http.ResponseWriter, r *http.Request) {
	if p.s.kb == nil {
		p.fail(w, r, apperr.NotFoundf("portal.thing.article"))
		return
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	a, err := p.s.kb.PublishedArticle(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "portal/article", "portal.title.kb",
		KBPage{Shell: p.shell(r, "kb"), Title: a.Title, Category: a.CategoryName, Body: a.Body, Updated: a.UpdatedAt})
}
