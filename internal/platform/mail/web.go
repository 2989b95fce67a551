package mail

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// SettingsPage is the model of /settings/mail.
type SettingsPage struct {
	Host        string
	Port        string
	Username    string
	PasswordSet bool
	From        string
	FromName    string
	Security    Security
	Securities  []Security
	Enabled     bool
	TestTo      string
	Errors      web.FormErrors
	Message     string
	TestOK      bool
}

func pageFrom(v View) SettingsPage {
	return SettingsPage{Host: v.Host, Port: strconv.Itoa(v.Port), Username: v.Username, PasswordSet: v.PasswordSet,
		From: v.From, FromName: v.FromName, Security: v.Security, Securities: Securities, Enabled: v.Enabled}
}

func (s *Service) pageGet(w http.ResponseWriter, r *http.Request) {
	v, err := s.Get(r.Context())
	if err != nil {
		s.web.PageError(w, r, err)
		return
	}
	web.Render(s.web, w, r, http.StatusOK, "mail/settings", "mail.page.title", pageFrom(v))
}

// pageSave stores the form; an empty password field keeps the stored password unless
// "clear_password" is ticked.
func (s *Service) pageSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.web.PageError(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	f := r.PostForm
	in := Input{Host: f.Get("host"), Username: f.Get("username"), From: f.Get("from"), FromName: f.Get("from_name"),
		Security: Security(f.Get("security")), Enabled: f.Get("enabled") != ""}
	port, perr := strconv.Atoi(strings.TrimSpace(f.Get("port")))
	in.Port = port
	if perr != nil {
		in.Port = -1 // reported as an invalid port
	}
	if pw := f.Get("password"); pw != "" {
		in.Password = &pw
	} else if f.Get("clear_password") != "" {
		empty := ""
		in.Password = &empty
	}
	_, err := s.Update(r.Context(), in)
	if err == nil {
		web.Redirect(w, r, "/settings/mail", "mail.flash.saved")
		return
	}
	fe, msg, ok := s.web.FieldErrors(r.Context(), err)
	if !ok {
		s.web.PageError(w, r, err)
		return
	}
	v, gerr := s.Get(r.Context())
	if gerr != nil {
		s.web.PageError(w, r, gerr)
		return
	}
	pg := pageFrom(v)
	pg.Host, pg.Port, pg.Username, pg.From, pg.FromName = f.Get("host"), f.Get("port"), f.Get("username"), f.Get("from"), f.Get("from_name")
	pg.Security, pg.Enabled, pg.Errors, pg.Message = in.Security, in.Enabled, fe, msg
	web.Render(s.web, w, r, httpx.Status(apperr.KindOf(err)), "mail/settings", "mail.page.title", pg)
}

func (s *Service) pageTest(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.web.PageError(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	to := r.PostForm.Get("to")
	err := s.SendTest(r.Context(), to)
	if err == nil {
		web.Redirect(w, r, "/settings/mail", "mail.flash.test_sent")
		return
	}
	v, gerr := s.Get(r.Context())
	if gerr != nil {
		s.web.PageError(w, r, gerr)
		return
	}
	pg := pageFrom(v)
	pg.TestTo = to
	if fe, msg, ok := s.web.FieldErrors(r.Context(), err); ok {
		pg.Errors, pg.Message = fe, msg
	} else if apperr.KindOf(err) == apperr.Conflict {
		_, body := httpx.Describe(r.Context(), err)
		pg.Message = body.Error.Message
	} else {
		s.web.PageError(w, r, err)
		return
	}
	web.Render(s.web, w, r, httpx.Status(apperr.KindOf(err)), "mail/settings", "mail.page.title", pg)
}
