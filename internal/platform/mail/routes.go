package mail

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the mail pages for the web engine ("mail/settings").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is the mail settings route table; every route needs settings:manage.
func (s *Service) Routes() []httpx.Route {
	return []httpx.Route{
		{Method: http.MethodGet, Path: "/api/v1/settings/mail", Perm: PermManage, Handler: s.apiGet},
		{Method: http.MethodPut, Path: "/api/v1/settings/mail", Perm: PermManage, Handler: s.apiPut},
		{Method: http.MethodPost, Path: "/api/v1/settings/mail/test", Perm: PermManage, Handler: s.apiTest},
		{Method: http.MethodGet, Path: "/settings/mail", Perm: PermManage, Page: true, Handler: s.pageGet},
		{Method: http.MethodPost, Path: "/settings/mail", Perm: PermManage, Page: true, Handler: s.pageSave},
		{Method: http.MethodPost, Path: "/settings/mail/test", Perm: PermManage, Page: true, Handler: s.pageTest},
	}
}
