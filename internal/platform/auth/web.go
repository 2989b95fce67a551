package auth

import (
	"context"
	"crypto/subtle"
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates are the pages of this package: auth/login, auth/login_totp, auth/account.
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// LoginPage is the model of the sign-in page.
type LoginPage struct {
	Username string
	Next     string
	CSRF     string // double-submit token (the form has no session yet)
	Error    string
	Fields   web.FormErrors
	// FirstRun is set while nobody can sign in: the page explains how to create the first
	// administrator.
	FirstRun bool
}

// TOTPPage is the model of the second-factor page.
type TOTPPage struct {
	Next  string
	CSRF  string
	Error string
}

// AccountPage is the model of the signed-in staff member's account page.
type AccountPage struct {
	HasPassword    bool
	PasswordFields web.FormErrors
	PasswordError  string
	TOTPEnabled    bool
	Enrol          *Enrolment
	TOTPFields     web.FormErrors
	TOTPError      string
	Tokens         []Token
	NewToken       string // the plain token, shown once right after it was created
	NewTokenName   string
	TokenFields    web.FormErrors
	TokenError     string
}

// safeNext keeps redirects on this site and away from the sign-in pages.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" {
		return "/"
	}
	if u.Path == "/login" || strings.HasPrefix(u.Path, "/login/") || u.Path == "/logout" {
		return "/"
	}
	return next
}

// loginCSRF returns the sign-in form's double-submit token, setting the cookie when the
// browser has none yet.
func loginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(LoginCSRFCookie); err == nil && wellFormed(c.Value) {
		return c.Value
	}
	tok := newSecret()
	http.SetCookie(w, &http.Cookie{Name: LoginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: httpx.IsHTTPS(r)})
	return tok
}

func loginCSRFOK(r *http.Request) bool {
	c, err := r.Cookie(LoginCSRFCookie)
	if err != nil || !wellFormed(c.Value) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(httpx.CSRFField))) == 1
}

func signedIn(ctx context.Context) *authz.Actor {
	if a := authz.From(ctx); a != nil && a.Kind == authz.KindStaff {
		return a
	}
	return nil
}

// describe turns err into a status and a translated message for a form; ok is false for
// faults of ours (rendered as the error page instead).
func (s *Service) describe(ctx context.Context, err error) (status int, msg string, fields web.FormErrors, ok bool) {
	status, body := httpx.Describe(ctx, err)
	if status >= 500 {
		return status, "", nil, false
	}
	if fe, m, isField := s.web.FieldErrors(ctx, err); isField {
		return status, m, fe, true
	}
	return status, body.Error.Message, nil, true
}

func (s *Service) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if signedIn(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, LoginPage{Next: next})
}

func (s *Service) renderLogin(w http.ResponseWriter, r *http.Request, status int, p LoginPage) {
	p.CSRF = loginCSRF(w, r)
	if exists, err := s.anyCredential(r.Context()); err == nil {
		p.FirstRun = !exists
	}
	web.Render(s.web, w, r, status, "auth/login", "auth.page.login", p)
}

func (s *Service) loginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := LoginPage{Username: r.PostFormValue("username"), Next: safeNext(r.PostFormValue("next"))}
	if !loginCSRFOK(r) {
		p.Error = s.msg(ctx, "auth.error.form_expired")
		s.renderLogin(w, r, http.StatusForbidden, p)
		return
	}
	res, err := s.signIn(ctx, p.Username, r.PostFormValue("password"), r.UserAgent())
	if err != nil {
		status, msg, fields, ok := s.describe(ctx, err)
		if !ok {
			s.web.PageError(w, r, err)
			return
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "60")
		}
		p.Error, p.Fields = msg, fields
		s.renderLogin(w, r, status, p)
		return
	}
	// A browser signing in anew leaves its previous session behind for good.
	if c, err := r.Cookie(SessionCookie); err == nil && wellFormed(c.Value) {
		if err := s.deleteSession(ctx, digest(c.Value)); err != nil {
			httpx.Logger(ctx).Warn("auth: drop previous session", "err", err)
		}
	}
	setSessionCookie(w, r, res.Session)
	clearCookie(w, r, LoginCSRFCookie, "/login")
	if res.MFAPending {
		http.Redirect(w, r, "/login/totp?next="+url.QueryEscape(p.Next), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, p.Next, http.StatusSeeOther)
}

// pendingSession returns the browser's session waiting for its second factor, or nil.
func (s *Service) pendingSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, nil
	}
	ss, err := s.lookupSession(r.Context(), c.Value)
	if err != nil || ss == nil || !ss.mfaPending {
		return nil, err
	}
	return ss, nil
}

func (s *Service) totpPage(w http.ResponseWriter, r *http.Request) {
	ss, err := s.pendingSession(r)
	if err != nil {
		s.web.PageError(w, r, err)
		return
	}
	next := safeNext(r.URL.Query().Get("next"))
	if ss == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	web.Render(s.web, w, r, http.StatusOK, "auth/login_totp", "auth.page.totp", TOTPPage{Next: next, CSRF: ss.csrf})
}

func (s *Service) totpSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ss, err := s.pendingSession(r)
	if err != nil {
		s.web.PageError(w, r, err)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if ss == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	p := TOTPPage{Next: next, CSRF: ss.csrf}
	if subtle.ConstantTimeCompare([]byte(ss.csrf), []byte(r.PostFormValue(httpx.CSRFField))) != 1 {
		p.Error = s.msg(ctx, "error.csrf")
		web.Render(s.web, w, r, http.StatusForbidden, "auth/login_totp", "auth.page.totp", p)
		return
	}
	raw, err := s.secondFactor(ctx, ss, r.PostFormValue("code"), r.UserAgent())
	if err != nil {
		status, msg, _, ok := s.describe(ctx, err)
		if !ok {
			s.web.PageError(w, r, err)
			return
		}
		if apperr.CodeOf(err) == "account_locked" || apperr.CodeOf(err) == "bad_credentials" {
			clearCookie(w, r, SessionCookie, "/")
			s.renderLogin(w, r, status, LoginPage{Next: next, Error: msg})
			return
		}
		p.Error = msg
		web.Render(s.web, w, r, status, "auth/login_totp", "auth.page.totp", p)
		return
	}
	setSessionCookie(w, r, raw)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if a := signedIn(ctx); a != nil && a.SessionID != "" {
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			if err := s.deleteSession(ctx, a.SessionID); err != nil {
				return err
			}
			return s.record(ctx, "auth.logout", a.ID, nil)
		})
		if err != nil {
			s.web.PageError(w, r, err)
			return
		}
	}
	clearCookie(w, r, SessionCookie, "/")
	web.Redirect(w, r, "/login", "auth.flash.signed_out")
}

func (s *Service) msg(ctx context.Context, key string) string {
	_, body := httpx.Describe(ctx, apperr.New(apperr.Invalid, key))
	return body.Error.Message
}

// renderAccount renders the account page with p's form state filled in.
func (s *Service) renderAccount(w http.ResponseWriter, r *http.Request, status int, p AccountPage) {
	ctx := r.Context()
	a := signedIn(ctx)
	c, found, err := s.credential(ctx, a.ID)
	if err != nil {
		s.web.PageError(w, r, err)
		return
	}
	p.HasPassword, p.TOTPEnabled = found, found && c.TOTPEnabled
	if found && !c.TOTPEnabled {
		e, err := s.BeginTOTP(ctx)
		if err != nil {
			s.web.PageError(w, r, err)
			return
		}
		p.Enrol = &e
	}
	if p.Tokens, _, err = s.ListTokens(ctx, a.ID, httpx.MaxLimit, 0); err != nil {
		s.web.PageError(w, r, err)
		return
	}
	web.Render(s.web, w, r, status, "auth/account", "auth.page.account", p)
}

func (s *Service) accountPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, http.StatusOK, AccountPage{})
}

// formFailed re-renders the account page for a refused form; set fills the section.
func (s *Service) formFailed(w http.ResponseWriter, r *http.Request, err error, set func(p *AccountPage, msg string, fe web.FormErrors)) {
	status, msg, fields, ok := s.describe(r.Context(), err)
	if !ok {
		s.web.PageError(w, r, err)
		return
	}
	var p AccountPage
	set(&p, msg, fields)
	s.renderAccount(w, r, status, p)
}

func (s *Service) accountPassword(w http.ResponseWriter, r *http.Request) {
	err := s.ChangePassword(r.Context(), r.PostFormValue("current_password"), r.PostFormValue("new_password"),
		r.PostFormValue("confirm_password"))
	if err != nil {
		s.formFailed(w, r, err, func(p *AccountPage, msg string, fe web.FormErrors) { p.PasswordError, p.PasswordFields = msg, fe })
		return
	}
	web.Redirect(w, r, "/account", "auth.flash.password_changed")
}

func (s *Service) accountTOTPEnable(w http.ResponseWriter, r *http.Request) {
	if err := s.EnableTOTP(r.Context(), r.PostFormValue("code")); err != nil {
		s.formFailed(w, r, err, func(p *AccountPage, msg string, fe web.FormErrors) { p.TOTPError, p.TOTPFields = msg, fe })
		return
	}
	web.Redirect(w, r, "/account", "auth.flash.totp_enabled")
}

func (s *Service) accountTOTPDisable(w http.ResponseWriter, r *http.Request) {
	a := signedIn(r.Context())
	if err := s.DisableTOTP(r.Context(), a.ID, r.PostFormValue("password")); err != nil {
		s.formFailed(w, r, err, func(p *AccountPage, msg string, fe web.FormErrors) { p.TOTPError, p.TOTPFields = msg, fe })
		return
	}
	web.Redirect(w, r, "/account", "auth.flash.totp_disabled")
}

func (s *Service) accountTokenCreate(w http.ResponseWriter, r *http.Request) {
	a := signedIn(r.Context())
	name := r.PostFormValue("name")
	plain, t, err := s.CreateToken(r.Context(), a.ID, name)
	if err != nil {
		s.formFailed(w, r, err, func(p *AccountPage, msg string, fe web.FormErrors) {
			p.TokenError, p.TokenFields, p.NewTokenName = msg, fe, name
		})
		return
	}
	// Rendered, not redirected: the plain token must not travel in a URL or a cookie.
	s.renderAccount(w, r, http.StatusOK, AccountPage{NewToken: plain, NewTokenName: t.Name})
}

func (s *Service) accountTokenRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var t Token
		if t, err = s.token(r.Context(), id); err == nil && t.StaffID != signedIn(r.Context()).ID {
			err = apperr.NotFoundf(thingToken) // this page manages one's own tokens only
		}
	}
	if err == nil {
		err = s.RevokeToken(r.Context(), id)
	}
	if err != nil {
		s.web.PageError(w, r, err)
		return
	}
	web.Redirect(w, r, "/account", "auth.flash.token_revoked")
}
