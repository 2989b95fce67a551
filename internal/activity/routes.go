package activity

import (
	"embed"
	"io/fs"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the activity pages for the web engine ("activity/<file>").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is every activity route with the permission it needs. The service checks the
// same permissions again, plus the activity's scope (out of reach reads as 404).
func (s *Service) Routes() []httpx.Route {
	a := api{s: s}
	const get, post, patch, del = "GET", "POST", "PATCH", "DELETE"
	routes := []httpx.Route{
		{Method: get, Path: "/api/v1/activities", Perm: PermRead, Handler: a.list},
		{Method: post, Path: "/api/v1/activities", Perm: PermWrite, Handler: a.create},
		{Method: get, Path: "/api/v1/activities/{id}", Perm: PermRead, Handler: a.get},
		{Method: patch, Path: "/api/v1/activities/{id}", Perm: PermWrite, Handler: a.update},
		{Method: post, Path: "/api/v1/activities/{id}/end", Perm: PermWrite, Handler: a.action(s.End)},
		{Method: post, Path: "/api/v1/activities/{id}/cancel", Perm: PermWrite, Handler: a.action(s.Cancel)},
		{Method: get, Path: "/api/v1/activities/{id}/participants", Perm: PermRead, Handler: a.participants},
		{Method: post, Path: "/api/v1/activities/{id}/participants", Perm: PermWrite, Handler: a.addParticipant},
		{Method: del, Path: "/api/v1/activities/{id}/participants/{customer_id}", Perm: PermWrite, Handler: a.removeParticipant},
		{Method: post, Path: "/api/v1/activities/{id}/participants/import", Perm: PermWrite, Handler: a.importParticipants,
			MaxBody: MaxImportBytes + 1<<20},
	}
	return append(routes, s.pageRoutes()...)
}
