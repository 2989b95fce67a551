package portal

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"io/fs"
	"net/http"
	"strings"
	"testing/fstest"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

//go:embed templates/*.html templates/pages/*.html
var templateFS embed.FS

//go:embed static/portal.css
var portalCSS []byte

// cssURL is the content-hashed URL of the portal style sheet.
var cssURL = func() string {
	sum := sha256.Sum256(portalCSS)
	return "/portal/static/portal." + hex.EncodeToString(sum[:])[:12] + ".css"
}()

// Templates returns the portal pages for the web engine ("portal/<file>"). The portal
// has its own mobile-first layout: each page is served to the engine with the portal
// layout (templates/layout.html, which redefines "layout") in front of it, so the
// engine's shared staff layout is replaced for portal pages only.
func Templates() fs.FS {
	layout, err := templateFS.ReadFile("templates/layout.html")
	if err != nil {
		panic(err) // fixed at build time
	}
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		panic(err)
	}
	out := fstest.MapFS{}
	for _, f := range files {
		src, err := templateFS.ReadFile(f)
		if err != nil {
			panic(err)
		}
		name := strings.TrimPrefix(f, "templates/pages/")
		out[name] = &fstest.MapFile{Data: append(append(append([]byte(nil), layout...), '\n'), src...), Mode: 0o444}
	}
	return out
}

// Routes is every portal route. Pages of a signed-in customer carry Access Customer:
// the router sends anyone else (staff included) to /portal/login and checks the
// portal session's CSRF token on every form post.
func (s *Service) Routes() []httpx.Route {
	p := pages{s: s}
	const get, post = "GET", "POST"
	pub, cust := httpx.Public, httpx.Customer
	return []httpx.Route{
		{Method: get, Path: "/portal/static/{file}", Access: pub, Handler: p.static},
		// Sign-in: one-time code by e-mail (or SMS).
		{Method: get, Path: "/portal/login", Access: pub, Page: true, Handler: p.login},
		{Method: post, Path: "/portal/login", Access: pub, Page: true, Handler: p.sendCode},
		{Method: get, Path: "/portal/verify", Access: pub, Page: true, Handler: p.verifyForm},
		{Method: post, Path: "/portal/verify", Access: pub, Page: true, Handler: p.verify},
		{Method: post, Path: "/portal/logout", Access: cust, Page: true, Handler: p.logout},
		// The customer's own requests.
		{Method: get, Path: "/portal", Access: cust, Page: true, Handler: p.list},
		{Method: get, Path: "/portal/{$}", Access: cust, Page: true, Handler: p.list},
		{Method: get, Path: "/portal/tickets/new", Access: cust, Page: true, Handler: p.newForm},
		{Method: post, Path: "/portal/tickets/new", Access: cust, Page: true, Handler: p.create},
		{Method: get, Path: "/portal/tickets/{id}", Access: cust, Page: true, Handler: p.detail},
		{Method: post, Path: "/portal/tickets/{id}/reply", Access: cust, Page: true, Handler: p.reply},
		{Method: post, Path: "/portal/tickets/{id}/confirm", Access: cust, Page: true, Handler: p.confirm},
		{Method: post, Path: "/portal/tickets/{id}/reopen", Access: cust, Page: true, Handler: p.reopen},
		// Published FAQ, open to anyone (signed in or not).
		{Method: get, Path: "/portal/kb", Access: pub, Page: true, Handler: p.kbList},
		{Method: get, Path: "/portal/kb/{id}", Access: pub, Page: true, Handler: p.kbArticle},
		// Published public letters, open to anyone (letters.go).
		{Method: get, Path: "/portal/letters", Access: pub, Page: true, Handler: p.lettersList},
		{Method: get, Path: "/portal/letters/{id}", Access: pub, Page: true, Handler: p.letter},
	}
}

// static serves the portal's stylesheet; any other file is the portal's 404 page.
func (p pages) static(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != cssURL {
		p.fail(w, r, apperr.NotFoundf("thing.resource"))
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(portalCSS)
}
