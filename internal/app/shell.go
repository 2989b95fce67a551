package app

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/activity"
	"github.com/kefu-cn/kefu/internal/app/openapi"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/fieldvisit"
	"github.com/kefu-cn/kefu/internal/kb"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/auth"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/platform/web"
	"github.com/kefu-cn/kefu/internal/portal"
	"github.com/kefu-cn/kefu/internal/revisit"
	"github.com/kefu-cn/kefu/internal/survey"
	"github.com/kefu-cn/kefu/internal/ticket"
)

//go:embed templates/*.html
var shellTemplates embed.FS

// pageTemplates gathers every capability's page templates for the web engine.
func pageTemplates() map[string]fs.FS {
	sub, err := fs.Sub(shellTemplates, "templates")
	if err != nil {
		panic(err)
	}
	return map[string]fs.FS{
		"app":        sub,
		"auth":       auth.Templates(),
		"org":        org.Templates(),
		"audit":      audit.Templates(),
		"customer":   customer.Templates(),
		"mail":       mail.Templates(),
		"calendar":   calendar.Templates(),
		"kb":         kb.Templates(),
		"ticket":     ticket.Templates(),
		"complaint":  complaint.Templates(),
		"activity":   activity.Templates(),
		"revisit":    revisit.Templates(),
		"fieldvisit": fieldvisit.Templates(),
		"survey":     survey.Templates(),
		"portal":     portal.Templates(),
		"openapi":    openapi.Templates(),
	}
}

// navigation is the main menu; each entry shows only to those holding its permission.
func navigation() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.home", Href: "/"},
		{Key: "ticket_web.nav.workspace", Href: "/tickets", Perm: "ticket:read"},
		{Key: "ticket_web.nav.tickets", Href: "/tickets?queue=all", Perm: "ticket:read"},
		{Key: "complaint_web.nav.complaints", Href: "/complaints", Perm: "complaint:read"},
		{Key: "complaint.analysis.nav", Href: "/complaints/analysis", Perm: "complaint:analyze"},
		{Key: "complaint.case.nav", Href: "/complaints/cases", Perm: "complaint:read"},
		{Key: "revisit.nav.revisits", Href: "/revisits", Perm: "revisit:read"},
		{Key: "revisit.nav.report", Href: "/revisits/report", Perm: "revisit:report"},
		{Key: "revisit.nav.rules", Href: "/revisit-rules", Perm: "revisit:manage"},
		{Key: "survey.nav.surveys", Href: "/surveys", Perm: "survey:read"},
		{Key: "fieldvisit.nav.visits", Href: "/field-visits", Perm: "fieldvisit:read"},
		{Key: "activity.nav.activities", Href: "/activities", Perm: "activity:read"},
		{Key: "nav.customers", Href: "/customers", Perm: "customer:read"},
		{Key: "nav.reverify", Href: "/customers/reverify", Perm: "customer:write"},
		{Key: "nav.territories", Href: "/territories", Perm: "territory:manage"},
		{Key: "customer_merge.nav.duplicates", Href: "/customers/duplicates", Perm: "customer:merge"},
		{Key: "nav.kb", Href: "/kb", Perm: "kb:read"},
		{Key: "ticket_web.nav.canned", Href: "/canned-replies", Perm: "ticket:canned"},
		{Key: "ticket_web.nav.categories", Href: "/ticket-categories", Perm: "ticket:manage"},
		{Key: "nav.staff", Href: "/staff", Perm: "staff:read"},
		{Key: "nav.departments", Href: "/departments", Perm: "dept:read"},
		{Key: "nav.roles", Href: "/roles", Perm: "role:read"},
		{Key: "nav.audit", Href: "/audit", Perm: "audit:read"},
		{Key: "mail.nav.settings", Href: "/settings/mail", Perm: "settings:manage"},
		{Key: "nav.calendars", Href: "/calendars", Perm: "calendar:manage"},
		{Key: "nav.api_docs", Href: "/api-docs"},
	}
}

func (a *App) shellRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/healthz", Access: httpx.Public, Handler: a.healthz},
		{Method: "GET", Path: "/readyz", Access: httpx.Public, Handler: a.readyz},
		{Method: "GET", Path: "/static/", Access: httpx.Public, Handler: a.Web.ServeStatic},
		{Method: "GET", Path: "/lang", Access: httpx.Public, Handler: a.setLang},
		{Method: "GET", Path: "/{$}", Page: true, Handler: a.home},
	}
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	httpx.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type readiness struct {
	Status   string `json:"status"`
	Database string `json:"database"`
	Schema   string `json:"schema"`
}

func (a *App) readiness(ctx context.Context) readiness {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rd := readiness{Status: "ok", Database: "ok", Schema: "current"}
	if err := a.DB.R.PingContext(ctx); err != nil {
		rd.Status, rd.Database, rd.Schema = "unavailable", "unreachable", "unknown"
		return rd
	}
	ok, err := a.DB.SchemaCurrent(ctx)
	switch {
	case err != nil:
		rd.Status, rd.Schema = "unavailable", "unknown"
	case !ok:
		rd.Status, rd.Schema = "unavailable", "pending"
	}
	return rd
}

func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	rd := a.readiness(r.Context())
	status := http.StatusOK
	if rd.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	httpx.JSON(w, status, rd)
}

// setLang stores the chosen language in a cookie (and in the staff member's profile when
// signed in) and goes back to the page it came from.
func (a *App) setLang(w http.ResponseWriter, r *http.Request) {
	lang := i18n.Normalize(r.URL.Query().Get("set"))
	next := safeNext(r.URL.Query().Get("next"))
	if lang != "" {
		http.SetCookie(w, &http.Cookie{Name: httpx.LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: httpx.IsHTTPS(r)})
		if actor := authz.From(r.Context()); actor != nil && actor.Kind == authz.KindStaff {
			if err := a.Org.SetLocale(r.Context(), actor.ID, lang); err != nil {
				httpx.Logger(r.Context()).Warn("save language preference", "err", err)
			}
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext keeps redirects on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// HomePage is the model of the home page.
type HomePage struct {
	Department string
	Engine     string
	Database   string
	Schema     string
	Version    string
	Uptime     string
	StaffCount int
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	actor := authz.From(ctx)
	rd := a.readiness(ctx)
	page := HomePage{Engine: a.DB.Dialect.String(), Database: rd.Database, Schema: rd.Schema,
		Version: Version, Uptime: time.Since(a.started).Round(time.Second).String()}
	if actor.DeptID != 0 {
		if d, err := a.Org.DepartmentName(ctx, actor.DeptID); err == nil {
			page.Department = d
		}
	}
	web.Render(a.Web, w, r, http.StatusOK, "app/home", "page.home.title", page)
}

// Version is the running build's version, set by the CLI.
var Version = "dev"
