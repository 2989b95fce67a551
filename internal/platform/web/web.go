// Package web renders server-side pages: html/template files embedded and parsed once
// per language at start-up, a shared layout with navigation filtered by permission,
// content-hashed static assets and page-level error rendering.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

//go:embed templates/*.html
var baseTemplates embed.FS

//go:embed static
var staticFS embed.FS

// NavItem is one entry of the main navigation.
type NavItem struct {
	Key  string // i18n key of the label
	Href string
	Perm string // shown only to actors holding it ("" = every signed-in staff member)
}

// NavLink is a NavItem ready for the template.
type NavLink struct {
	Label  string
	Href   string
	Active bool
}

// LangOption is an entry of the language switcher.
type LangOption struct {
	Code    string
	Label   string
	Current bool
}

// Layout is the view model every page shares.
type Layout struct {
	Lang      string
	Title     string
	User      *authz.Actor
	RoleNames []string
	Nav       []NavLink
	CSRF      string
	Languages []LangOption
	Flash     string
	Path      string
	Next      string
	Now       time.Time
}

// View is what a page template receives: the shared layout and the page's own model.
type View[T any] struct {
	Layout
	Page T
}

// Engine holds the parsed templates of every language and the static assets.
type Engine struct {
	cat    *i18n.Catalog
	pages  map[string]map[string]*template.Template // lang -> page -> template
	assets map[string]asset                         // logical name -> hashed
	byURL  map[string]asset                         // hashed URL -> content
	nav    []NavItem
	log    *slog.Logger
}

type asset struct {
	url  string
	body []byte
	ct   string
}

// Options configure the engine.
type Options struct {
	Catalog *i18n.Catalog
	// Pages maps a capability name to a file system whose *.html files are its pages;
	// a page is named "<capability>/<file name without .html>".
	Pages map[string]fs.FS
	Nav   []NavItem
	Log   *slog.Logger
}

// New parses every page for every language; a missing or broken template fails here.
func New(o Options) (*Engine, error) {
	e := &Engine{cat: o.Catalog, pages: map[string]map[string]*template.Template{}, nav: o.Nav,
		assets: map[string]asset{}, byURL: map[string]asset{}, log: o.Log}
	if e.log == nil {
		e.log = slog.Default()
	}
	if err := e.loadAssets(); err != nil {
		return nil, err
	}
	pageFS := map[string]fs.FS{"web": MustSub(baseTemplates, "templates")}
	for k, v := range o.Pages {
		pageFS[k] = v
	}
	for _, lang := range i18n.Languages {
		base, err := template.New("base").Funcs(e.funcs(lang)).ParseFS(baseTemplates, "templates/layout.html")
		if err != nil {
			return nil, fmt.Errorf("web: layout: %w", err)
		}
		e.pages[lang] = map[string]*template.Template{}
		for capName, fsys := range pageFS {
			files, err := fs.Glob(fsys, "*.html")
			if err != nil {
				return nil, err
			}
			for _, f := range files {
				if capName == "web" && f == "layout.html" {
					continue
				}
				src, err := fs.ReadFile(fsys, f)
				if err != nil {
					return nil, err
				}
				t, err := base.Clone()
				if err != nil {
					return nil, err
				}
				if _, err := t.New(f).Parse(string(src)); err != nil {
					return nil, fmt.Errorf("web: %s/%s: %w", capName, f, err)
				}
				e.pages[lang][capName+"/"+strings.TrimSuffix(f, ".html")] = t
			}
		}
	}
	return e, nil
}

// MustSub is fs.Sub for embedded trees whose layout is fixed at build time (a
// capability's templates): it panics instead of returning an error that cannot happen.
func MustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}

func (e *Engine) funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":  func(key string, kv ...any) string { return e.cat.T(lang, key, i18n.M(key, kv...).Args) },
		"tm": func(m i18n.Msg) string { return e.cat.Msg(lang, m) },
		"asset": func(name string) string {
			if a, ok := e.assets[name]; ok {
				return a.url
			}
			return "/static/missing/" + name
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(shanghai).Format("2006-01-02 15:04")
		},
		"has": func(a *authz.Actor, perm string) bool { return a.Can(perm) },
	}
}

var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

func (e *Engine) loadAssets() error {
	return fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(staticFS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		ext := path.Ext(name)
		url := "/static/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:])[:12] + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		a := asset{url: url, body: b, ct: ct}
		e.assets[name] = a
		e.byURL[url] = a
		return nil
	})
}

// roleLabel names a role: the catalog label of a built-in role, else the name an
// administrator gave it, else its code.
func (e *Engine) roleLabel(lang string, a *authz.Actor, code string) string {
	if key := "role." + code; e.cat.Has(key) {
		return e.cat.T(lang, key, nil)
	}
	if n := a.RoleNames[code]; n != "" {
		return n
	}
	return code
}

// AssetURL returns the hashed URL of a static file (e.g. "app.css").
func (e *Engine) AssetURL(name string) string { return e.assets[name].url }

// ServeStatic serves hashed assets with a year-long immutable cache.
func (e *Engine) ServeStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := e.byURL[r.URL.Path]
	if !ok {
		e.PageError(w, r, apperr.New(apperr.NotFound, "error.route_not_found"))
		return
	}
	w.Header().Set("Content-Type", a.ct)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(a.body)
}

// Pages lists the parsed page names (tests check each renders).
func (e *Engine) Pages() []string {
	var out []string
	for name := range e.pages[i18n.ZhCN] {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// LayoutFor builds the shared view model for r.
func (e *Engine) LayoutFor(r *http.Request, titleKey string) Layout {
	ctx := r.Context()
	lang := i18n.Lang(ctx)
	l := Layout{Lang: lang, Title: e.cat.T(lang, titleKey, nil), User: authz.From(ctx), CSRF: httpx.CSRFToken(ctx),
		Path: r.URL.Path, Now: time.Now()}
	if l.User != nil && l.User.Kind != authz.KindStaff {
		l.User = nil
	}
	for _, code := range i18n.Languages {
		l.Languages = append(l.Languages, LangOption{Code: code, Label: e.cat.T(code, "lang.self", nil), Current: code == lang})
	}
	if l.User != nil {
		for _, role := range l.User.Roles {
			l.RoleNames = append(l.RoleNames, e.roleLabel(lang, l.User, role))
		}
		for _, n := range e.nav {
			if n.Perm == "" || l.User.Can(n.Perm) {
				active := n.Href == r.URL.Path || (n.Href != "/" && strings.HasPrefix(r.URL.Path, n.Href+"/"))
				l.Nav = append(l.Nav, NavLink{Label: e.cat.T(lang, n.Key, nil), Href: n.Href, Active: active})
			}
		}
	}
	if c, err := r.Cookie(flashCookie); err == nil && e.cat.Has(c.Value) {
		l.Flash = e.cat.T(lang, c.Value, nil)
	}
	return l
}

// Render executes page with data in the request's language and writes it with status.
// The flash message, once shown, is cleared.
func Render[T any](e *Engine, w http.ResponseWriter, r *http.Request, status int, page, titleKey string, data T) {
	v := View[T]{Layout: e.LayoutFor(r, titleKey), Page: data}
	e.execute(r.Context(), w, status, page, v)
}

func (e *Engine) execute(ctx context.Context, w http.ResponseWriter, status int, page string, v any) {
	lang := i18n.Lang(ctx)
	t, ok := e.pages[lang][page]
	if !ok {
		httpx.Logger(ctx).Error("web: unknown page", slog.String("page", page))
		http.Error(w, "page not found: "+page, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		httpx.Logger(ctx).Error("web: render", slog.String("page", page), slog.String("err", err.Error()))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

const flashCookie = "kefu_flash"

// Flash sets a one-shot message (an i18n key) shown on the next page.
func Flash(w http.ResponseWriter, key string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: key, Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// Redirect sends the browser on after a successful form post (POST-redirect-GET).
func Redirect(w http.ResponseWriter, r *http.Request, to, flashKey string) {
	if flashKey != "" {
		Flash(w, flashKey)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// ErrorPage is the model of the error page.
type ErrorPage struct {
	Status  int
	Message string
}

// PageError renders err as an HTML error page with the status httpx maps it to.
func (e *Engine) PageError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := httpx.Describe(r.Context(), err)
	if apperr.KindOf(err) == apperr.Unauthenticated {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	httpx.RetryAfter(w, status)
	Render(e, w, r, status, "web/error", "page.error.title", ErrorPage{Status: status, Message: body.Error.Message})
}

// FormErrors are field errors translated for a form.
type FormErrors map[string]string

// FieldErrors translates an Invalid error's fields for re-rendering a form; ok is false
// when err is not a validation error.
func (e *Engine) FieldErrors(ctx context.Context, err error) (FormErrors, string, bool) {
	ae, ok := apperr.As(err)
	if !ok || (ae.Kind != apperr.Invalid && ae.Kind != apperr.Conflict && ae.Kind != apperr.Malformed) {
		return nil, "", false
	}
	lang := i18n.Lang(ctx)
	fe := FormErrors{}
	for f, m := range ae.Fields {
		fe[f] = e.cat.Msg(lang, httpx.SafeMsg(m))
	}
	return fe, e.cat.Msg(lang, httpx.SafeMsg(ae.Msg)), true
}
