package revisit

import "github.com/kefu-cn/kefu/internal/platform/httpx"

// pageRoutes are the visit workspace workPages (web.go, web_task.go): the task lists, the
// task page and its forms. The services check the same permissions again, with scope.
func (s *Service) pageRoutes() []httpx.Route {
	p := workPages{s: s}
	const get, post = "GET", "POST"
	return []httpx.Route{
		{Method: get, Path: "/revisits", Perm: PermRead, Page: true, Handler: p.work},
		{Method: get, Path: "/revisits/{id}", Perm: PermRead, Page: true, Handler: p.view},
		{Method: get, Path: "/revisits/{id}/signature", Perm: PermRead, Page: true, Handler: p.signature},
		{Method: post, Path: "/revisits/{id}/record", Perm: PermWrite, Page: true, Handler: p.recordPost},
		{Method: post, Path: "/revisits/{id}/records/{rid}/signoff", Perm: webPermSignoff, Page: true, Handler: p.signoff},
		{Method: post, Path: "/revisits/{id}/records/{rid}/flag-false", Perm: webPermVerify, Page: true, Handler: p.flagFalse},
	}
}
