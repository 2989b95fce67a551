package survey

import (
	"embed"
	"io/fs"
	"strings"
	"testing/fstest"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

//go:embed templates/*.html public/*.html
var templateFS embed.FS

// Templates returns the survey pages for the web engine ("survey/<file>"). The staff
// pages (templates/) use the shared layout; the public pages (public/s_*.html) are
// served with the survey's own mobile-first layout (public/layout.html, which redefines
// "layout") in front of each.
func Templates() fs.FS {
	layout, err := templateFS.ReadFile("public/layout.html")
	if err != nil {
		panic(err) // fixed at build time
	}
	out := fstest.MapFS{}
	add := func(pattern string, prefix []byte) {
		files, err := fs.Glob(templateFS, pattern)
		if err != nil {
			panic(err)
		}
		for _, f := range files {
			src, err := templateFS.ReadFile(f)
			if err != nil {
				panic(err)
			}
			name := f[strings.LastIndex(f, "/")+1:]
			if name == "layout.html" {
				continue
			}
			data := src
			if prefix != nil {
				data = append(append(append([]byte(nil), prefix...), '\n'), src...)
			}
			out[name] = &fstest.MapFile{Data: data, Mode: 0o444}
		}
	}
	add("templates/*.html", nil)
	add("public/s_*.html", layout)
	return out
}

// Routes is every survey route with the permission it needs. The service checks the
// same permissions again, plus the invitation's scope (out of reach reads as 404).
func (s *Service) Routes() []httpx.Route {
	a, p, sp := api{s: s}, pages{s: s}, staffPages{s: s}
	const get, post, patch, put = "GET", "POST", "PATCH", "PUT"
	pub := httpx.Public
	return []httpx.Route{
		{Method: get, Path: "/api/v1/survey-templates", Perm: PermRead, Handler: a.listTemplates},
		{Method: post, Path: "/api/v1/survey-templates", Perm: PermManage, Handler: a.createTemplate},
		{Method: get, Path: "/api/v1/survey-templates/{id}", Perm: PermRead, Handler: a.getTemplate},
		{Method: patch, Path: "/api/v1/survey-templates/{id}", Perm: PermManage, Handler: a.patchTemplate},
		{Method: get, Path: "/api/v1/survey-settings", Perm: PermManage, Handler: a.getSettings},
		{Method: put, Path: "/api/v1/survey-settings", Perm: PermManage, Handler: a.putSettings},
		{Method: get, Path: "/api/v1/surveys", Perm: PermRead, Handler: a.list},
		{Method: post, Path: "/api/v1/surveys", Perm: PermWrite, Handler: a.create},
		{Method: get, Path: "/api/v1/surveys/{id}", Perm: PermRead, Handler: a.get},
		{Method: post, Path: "/api/v1/surveys/{id}/answers", Perm: PermWrite, Handler: httpx.UpdateByID(a.keyIn)},
		{Method: get, Path: "/api/v1/survey-results", Perm: PermReport, Handler: a.results},
		// Staff pages.
		{Method: get, Path: "/surveys", Perm: PermRead, Page: true, Handler: sp.results},
		{Method: get, Path: "/surveys/templates", Perm: PermRead, Page: true, Handler: sp.templates},
		{Method: get, Path: "/surveys/{id}", Perm: PermRead, Page: true, Handler: sp.detail},
		{Method: post, Path: "/surveys/{id}/answers", Perm: PermWrite, Page: true, Handler: sp.keyIn},
		// The public survey pages: no sign-in, the token is the key.
		{Method: get, Path: "/s/assets/{file}", Access: pub, Handler: p.static},
		{Method: get, Path: "/s/{token}", Access: pub, Page: true, Handler: p.show},
		{Method: post, Path: "/s/{token}", Access: pub, Page: true, Handler: p.submit},
	}
}
