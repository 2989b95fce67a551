package httpx

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// Access says who may reach a route.
type Access int

// Access levels.
const (
	// Authenticated staff (with Perm when set). The default.
	Staff Access = iota
	// Public routes need no sign-in (health checks, sign-in page, survey links).
	Public
	// Customer routes need a customer signed in to the portal (actor kind customer);
	// anyone else, staff included, is treated as anonymous and sent to the portal
	// sign-in page (pages) or refused with 401 (API). Perm is not used.
	Customer
)

// Route is one line of a capability's route table.
type Route struct {
	Method  string
	Path    string
	Perm    string // permission the actor needs; "" = any signed-in staff member
	Access  Access
	Page    bool // HTML page: errors render as pages, sign-in redirects instead of 401
	Handler http.HandlerFunc
	// MaxBody, when > 0, is the largest request body the route accepts instead of the
	// global limit (file uploads); it takes effect through Router.BodyLimit.
	MaxBody int64
}

// Pattern is the ServeMux pattern of the route.
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

// Router mounts route tables on a ServeMux and enforces access, permission and CSRF
// uniformly, so a handler never forgets a check.
type Router struct {
	Mux *http.ServeMux
	// PageError renders an error as an HTML page (set by the web layer).
	PageError func(w http.ResponseWriter, r *http.Request, err error)
	// SignInURL is where page routes send anonymous visitors.
	SignInURL string
	// CustomerSignInURL is where Customer page routes send visitors who are not a
	// signed-in portal customer.
	CustomerSignInURL string
	routes            []Route
	// bodyLimits maps the patterns of routes with their own MaxBody to it.
	bodyLimits map[string]int64
	// pageErrors are the page error renderers of parts of the site with their own look
	// (the portal), by path prefix; PageError serves the rest.
	pageErrors []prefixPageError
}

type prefixPageError struct {
	prefix string
	render func(w http.ResponseWriter, r *http.Request, err error)
}

// PageErrorUnder makes render the error page of every page under prefix (e.g.
// "/portal/"): failed checks of its page routes and its unknown addresses. The longest
// matching prefix wins.
func (rt *Router) PageErrorUnder(prefix string, render func(w http.ResponseWriter, r *http.Request, err error)) {
	rt.pageErrors = append(rt.pageErrors, prefixPageError{prefix: prefix, render: render})
}

// pageError returns the error page renderer for r's path (nil when there is none).
func (rt *Router) pageError(r *http.Request) func(w http.ResponseWriter, r *http.Request, err error) {
	render, best := rt.PageError, -1
	for _, pe := range rt.pageErrors {
		p := strings.TrimSuffix(pe.prefix, "/")
		if (r.URL.Path == p || strings.HasPrefix(r.URL.Path, p+"/")) && len(p) > best {
			render, best = pe.render, len(p)
		}
	}
	return render
}

// ServeHTTP routes r. A request that matches no route gets the error contract instead
// of net/http's plain text: under /api/ the JSON error body (404 not_found, or 405
// method_not_allowed with an Allow header), elsewhere the styled error page of that
// part of the site. Routes() still lists only the mounted routes.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := rt.Mux.Handler(r)
	if pattern != "" {
		rt.Mux.ServeHTTP(w, r)
		return
	}
	// The mux's own answer (404, or 405 with Allow) is probed, never written.
	p := &probeWriter{header: http.Header{}}
	h.ServeHTTP(p, r)
	var err error
	if p.status == http.StatusMethodNotAllowed {
		allow := p.header.Get("Allow")
		w.Header().Set("Allow", allow)
		err = apperr.New(apperr.MethodNotAllowed, "error.method_not_allowed", "allow", allow)
	} else {
		err = apperr.New(apperr.NotFound, "error.route_not_found")
	}
	if render := rt.pageError(r); render != nil && !IsAPI(r) {
		render(w, r, err)
		return
	}
	Error(w, r, err)
}

// IsAPI reports whether r is addressed to the JSON API (/api/...).
func IsAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
}

// probeWriter records what a handler would answer, writing nothing.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }

func (p *probeWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}

func (p *probeWriter) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

// NewRouter returns an empty router.
func NewRouter() *Router {
	return &Router{Mux: http.NewServeMux(), SignInURL: "/login", CustomerSignInURL: "/portal/login"}
}

// Mount registers routes.
func (rt *Router) Mount(routes ...Route) {
	for _, r := range routes {
		rt.routes = append(rt.routes, r)
		rt.Mux.Handle(r.Pattern(), rt.guard(r))
		if r.MaxBody > 0 {
			if rt.bodyLimits == nil {
				rt.bodyLimits = map[string]int64{}
			}
			rt.bodyLimits[r.Pattern()] = r.MaxBody
		}
	}
}

// BodyLimit is the BodyLimit middleware with n as the default and each route's own
// MaxBody where it has one (found by the mux pattern the request will be routed to;
// only requests that may carry a body are looked up). Mount every route first.
func (rt *Router) BodyLimit(n int64) Middleware {
	return func(next http.Handler) http.Handler {
		def := BodyLimit(n)(next)
		if len(rt.bodyLimits) == 0 {
			return def
		}
		large := map[int64]http.Handler{}
		for _, m := range rt.bodyLimits {
			large[m] = BodyLimit(m)(next)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !safeMethod(r.Method) {
				if _, pattern := rt.Mux.Handler(r); pattern != "" {
					if m, ok := rt.bodyLimits[pattern]; ok {
						large[m].ServeHTTP(w, r)
						return
					}
				}
			}
			def.ServeHTTP(w, r)
		})
	}
}

// Routes lists every mounted route (the authorization matrix tests walk it).
func (rt *Router) Routes() []Route { return append([]Route(nil), rt.routes...) }

func (rt *Router) fail(w http.ResponseWriter, r *http.Request, route Route, err error) {
	if render := rt.pageError(r); route.Page && render != nil {
		render(w, r, err)
		return
	}
	Error(w, r, err)
}

func (rt *Router) guard(route Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route.Access == Customer {
			a := authz.From(r.Context())
			if a == nil || a.Kind != authz.KindCustomer {
				if route.Page {
					http.Redirect(w, r, rt.CustomerSignInURL+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				Error(w, r, apperr.Unauth())
				return
			}
			if !safeMethod(r.Method) && a.SessionID != "" && !validCSRF(r) {
				rt.fail(w, r, route, csrfError(r))
				return
			}
		} else if route.Access != Public {
			a := authz.From(r.Context())
			if a == nil || a.Kind != authz.KindStaff {
				if route.Page {
					http.Redirect(w, r, rt.SignInURL+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				Error(w, r, apperr.Unauth())
				return
			}
			if route.Perm != "" && !a.Can(route.Perm) {
				rt.fail(w, r, route, apperr.ForbiddenErr())
				return
			}
			if !safeMethod(r.Method) && a.SessionID != "" && !validCSRF(r) {
				rt.fail(w, r, route, csrfError(r))
				return
			}
		}
		if route.Page && !safeMethod(r.Method) {
			if err := CheckForm(r); err != nil {
				rt.fail(w, r, route, err)
				return
			}
		}
		route.Handler(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// CSRFField is the form field and CSRFHeader the header that carry the session's token.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

func validCSRF(r *http.Request) bool {
	want := CSRFToken(r.Context())
	if want == "" {
		return false
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// csrfError is the refusal of a form without a valid token, or 413 when the token could
// not be read because the body was over the route's limit (a too-large upload).
func csrfError(r *http.Request) error {
	var tooLarge *http.MaxBytesError
	if r != nil && r.MultipartForm == nil {
		// Reading the form again returns the error the token lookup swallowed.
		if err := r.ParseMultipartForm(1 << 20); err != nil && errors.As(err, &tooLarge) {
			return apperr.New(apperr.TooLarge, "error.too_large", "limit", tooLarge.Limit)
		}
	}
	return apperr.New(apperr.Forbidden, "error.csrf").WithCode("csrf_failed")
}
