package revisit

import (
	"embed"
	"io/fs"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the return-visit pages for the web engine ("revisit/<file>").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is every return-visit route with the permission it needs: rules and the
// engine, tasks, the visit work, the report and the pages. The service checks the same
// permissions again, plus the record's scope (out of reach reads as 404).
func (s *Service) Routes() []httpx.Route {
	var routes []httpx.Route
	routes = append(routes, s.ruleRoutes()...)   // rules.go / engine (rules API, plans run)
	routes = append(routes, s.taskRoutes()...)   // tasks API
	routes = append(routes, s.recordRoutes()...) // visit work API
	routes = append(routes, s.reportRoutes()...) // metrics and the report
	routes = append(routes, s.pageRoutes()...)   // /revisits pages
	return routes
}
