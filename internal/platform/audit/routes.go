package audit

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the audit pages for the web engine ("audit/audit_list").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is the audit route table. Reading the log is not itself audited (that would
// recurse), but every route needs audit:read.
func (l *Log) Routes() []httpx.Route {
	return []httpx.Route{
		{Method: http.MethodGet, Path: "/api/v1/audit", Perm: PermRead, Handler: l.apiList},
		{Method: http.MethodGet, Path: "/audit", Perm: PermRead, Page: true, Handler: l.pageList},
	}
}
