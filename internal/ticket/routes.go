package ticket

import (
	"embed"
	"io/fs"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the request pages for the web engine ("ticket/<file>").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is every request route with the permission it needs: the core routes here,
// then SLA, assignment, notification and workspace routes. The service checks the same
// permissions again, plus the record's scope (out of scope reads as 404).
func (s *Service) Routes() []httpx.Route {
	a := api{s: s}
	const get, post, patch, del = "GET", "POST", "PATCH", "DELETE"
	routes := []httpx.Route{
		{Method: get, Path: "/api/v1/tickets", Perm: PermRead, Handler: a.list},
		{Method: post, Path: "/api/v1/tickets", Perm: PermWrite, Handler: a.create},
		{Method: get, Path: "/api/v1/tickets/{id}", Perm: PermRead, Handler: a.get},
		{Method: patch, Path: "/api/v1/tickets/{id}", Perm: PermWrite, Handler: a.patch},
		{Method: get, Path: "/api/v1/tickets/{id}/events", Perm: PermRead, Handler: a.events},
		{Method: post, Path: "/api/v1/tickets/{id}/transition", Perm: PermWrite, Handler: a.transition},
		{Method: post, Path: "/api/v1/tickets/{id}/reply", Perm: PermWrite, Handler: a.reply},
		{Method: post, Path: "/api/v1/tickets/{id}/note", Perm: PermWrite, Handler: a.note},
		{Method: post, Path: "/api/v1/tickets/{id}/kb-links", Perm: PermWrite, Handler: a.linkArticle},
		// Attachments (attachments.go)
		{Method: post, Path: "/api/v1/tickets/{id}/attachments", Perm: PermWrite, MaxBody: MaxUploadBody, Handler: a.upload},
		{Method: get, Path: "/api/v1/tickets/{id}/attachments", Perm: PermRead, Handler: a.listAttachments},
		{Method: get, Path: "/api/v1/attachments/{id}", Perm: PermRead, Handler: a.download},
		// Categories (categories.go)
		{Method: get, Path: "/api/v1/ticket-categories", Perm: PermRead, Handler: a.listCategories},
		{Method: post, Path: "/api/v1/ticket-categories", Perm: PermManage, Handler: a.createCategory},
		{Method: patch, Path: "/api/v1/ticket-categories/{id}", Perm: PermManage, Handler: a.updateCategory},
		{Method: del, Path: "/api/v1/ticket-categories/{id}", Perm: PermManage, Handler: a.deleteCategory},
		// Canned replies (canned.go)
		{Method: get, Path: "/api/v1/canned-replies", Perm: PermRead, Handler: a.listCanned},
		{Method: post, Path: "/api/v1/canned-replies", Perm: PermCanned, Handler: a.createCanned},
		{Method: patch, Path: "/api/v1/canned-replies/{id}", Perm: PermCanned, Handler: a.updateCanned},
		{Method: del, Path: "/api/v1/canned-replies/{id}", Perm: PermCanned, Handler: a.deleteCanned},
		{Method: get, Path: "/api/v1/tickets/{id}/canned-replies/{cid}", Perm: PermRead, Handler: a.renderCanned},
	}
	routes = append(routes, s.slaRoutes()...)
	routes = append(routes, s.assignRoutes()...)
	routes = append(routes, s.notifyRoutes()...)
	routes = append(routes, s.pageRoutes()...)
	return routes
}
