package kb

import (
	"embed"
	"io/fs"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the knowledge-base pages for the web engine ("kb/<file>").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is every knowledge-base route with the permission it needs. The service checks
// the same permissions again (and hides drafts from readers without kb:write).
func (s *Service) Routes() []httpx.Route {
	a, p := api{s: s}, pages{s: s}
	const get, post, patch, del = "GET", "POST", "PATCH", "DELETE"
	return []httpx.Route{
		// JSON API
		{Method: get, Path: "/api/v1/kb/articles", Perm: PermRead, Handler: a.list},
		{Method: post, Path: "/api/v1/kb/articles", Perm: PermWrite, Handler: a.create},
		{Method: get, Path: "/api/v1/kb/articles/{id}", Perm: PermRead, Handler: a.get},
		{Method: patch, Path: "/api/v1/kb/articles/{id}", Perm: PermWrite, Handler: a.update},
		{Method: del, Path: "/api/v1/kb/articles/{id}", Perm: PermWrite, Handler: a.archive},
		{Method: post, Path: "/api/v1/kb/articles/{id}/publish", Perm: PermWrite, Handler: a.publish},
		{Method: post, Path: "/api/v1/kb/articles/{id}/unpublish", Perm: PermWrite, Handler: a.unpublish},
		{Method: get, Path: "/api/v1/kb/suggest", Perm: PermRead, Handler: a.suggest},
		{Method: get, Path: "/api/v1/kb/categories", Perm: PermRead, Handler: a.listCategories},
		{Method: post, Path: "/api/v1/kb/categories", Perm: PermWrite, Handler: a.createCategory},
		{Method: get, Path: "/api/v1/kb/categories/{id}", Perm: PermRead, Handler: a.getCategory},
		{Method: patch, Path: "/api/v1/kb/categories/{id}", Perm: PermWrite, Handler: a.updateCategory},
		{Method: del, Path: "/api/v1/kb/categories/{id}", Perm: PermWrite, Handler: a.deleteCategory},

		// Pages (forms post back and redirect: POST-redirect-GET)
		{Method: get, Path: "/kb", Perm: PermRead, Page: true, Handler: p.list},
		{Method: get, Path: "/kb/new", Perm: PermWrite, Page: true, Handler: p.newForm},
		{Method: post, Path: "/kb", Perm: PermWrite, Page: true, Handler: p.create},
		{Method: get, Path: "/kb/{id}", Perm: PermRead, Page: true, Handler: p.view},
		{Method: get, Path: "/kb/{id}/edit", Perm: PermWrite, Page: true, Handler: p.editForm},
		{Method: post, Path: "/kb/{id}", Perm: PermWrite, Page: true, Handler: p.update},
		{Method: post, Path: "/kb/{id}/publish", Perm: PermWrite, Page: true, Handler: p.publish},
		{Method: post, Path: "/kb/{id}/unpublish", Perm: PermWrite, Page: true, Handler: p.unpublish},
		{Method: post, Path: "/kb/{id}/archive", Perm: PermWrite, Page: true, Handler: p.archive},
		{Method: get, Path: "/kb/categories", Perm: PermWrite, Page: true, Handler: p.categories},
		{Method: post, Path: "/kb/categories", Perm: PermWrite, Page: true, Handler: p.createCategory},
		{Method: post, Path: "/kb/categories/{id}/update", Perm: PermWrite, Page: true, Handler: p.updateCategory},
		{Method: post, Path: "/kb/categories/{id}/delete", Perm: PermWrite, Page: true, Handler: p.deleteCategory},
	}
}
