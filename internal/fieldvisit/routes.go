package fieldvisit

import (
	"embed"
	"io/fs"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the field-visit pages for the web engine ("fieldvisit/<file>").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is every field-visit route with the permission it needs. The service checks
// the same permissions again, plus the visit's scope (out of reach reads as 404) and
// the customer's (a customer out of reach is refused like a missing one).
func (s *Service) Routes() []httpx.Route {
	a, p := api{s: s}, pages{s: s}
	const get, post, put = "GET", "POST", "PUT"
	return []httpx.Route{
		{Method: get, Path: "/api/v1/field-visits", Perm: PermRead, Handler: a.list},
		{Method: post, Path: "/api/v1/field-visits", Perm: PermWrite, Handler: a.create},
		{Method: get, Path: "/api/v1/field-visits/overdue", Perm: PermRead, Handler: a.overdue},
		{Method: get, Path: "/api/v1/field-visits/report", Perm: PermRead, Handler: a.report},
		{Method: get, Path: "/api/v1/field-visits/{id}", Perm: PermRead, Handler: a.get},
		{Method: get, Path: "/api/v1/field-visit-plans", Perm: PermRead, Handler: a.plans},
		{Method: put, Path: "/api/v1/field-visit-plans", Perm: PermManage, Handler: a.savePlans},
		// Pages (web.go): phone-sized, working without JavaScript.
		{Method: get, Path: "/field-visits", Perm: PermRead, Page: true, Handler: p.list},
		{Method: get, Path: "/field-visits/new", Perm: PermWrite, Page: true, Handler: p.newForm},
		{Method: post, Path: "/field-visits", Perm: PermWrite, Page: true, Handler: p.create},
		{Method: get, Path: "/field-visits/plans", Perm: PermRead, Page: true, Handler: p.plans},
		{Method: post, Path: "/field-visits/plans", Perm: PermManage, Page: true, Handler: p.savePlans},
		{Method: get, Path: "/field-visits/{id}", Perm: PermRead, Page: true, Handler: p.detail},
	}
}
