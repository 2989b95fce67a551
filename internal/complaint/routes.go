package complaint

import (
	"embed"
	"io/fs"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the complaint pages for the web engine ("complaint/<file>").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is every complaint route with the permission it needs: the record and its
// stages here, then resolution (causes, proposals, penalties, tasks), merging, public
// letters, settings and deadlines, the analysis and the pages. The service checks the
// same permissions again, plus the complaint's scope (out of reach reads as 404).
func (s *Service) Routes() []httpx.Route {
	a := api{s: s}
	const get, post = "GET", "POST"
	routes := []httpx.Route{
		{Method: get, Path: "/api/v1/complaints", Perm: PermRead, Handler: a.list},
		{Method: post, Path: "/api/v1/complaints", Perm: PermWrite, Handler: a.create},
		{Method: get, Path: "/api/v1/complaints/{id}", Perm: PermRead, Handler: a.get},
		{Method: get, Path: "/api/v1/complaints/{id}/stages", Perm: PermRead, Handler: a.stages},
		{Method: post, Path: "/api/v1/complaints/{id}/transition", Perm: PermWrite, Handler: a.transition},
		{Method: post, Path: "/api/v1/complaints/{id}/level", Perm: PermAssess, Handler: a.level},
		{Method: post, Path: "/api/v1/complaints/{id}/reply-letter", Perm: PermWrite, Handler: a.replyLetter},
	}
	routes = append(routes, s.resolutionRoutes()...)
	routes = append(routes, s.mergeRoutes()...)
	routes = append(routes, s.letterRoutes()...)
	routes = append(routes, s.settingsRoutes()...)
	routes = append(routes, s.analysisRoutes()...)
	routes = append(routes, s.pageRoutes()...)
	return routes
}
