package revisit

import "github.com/kefu-cn/kefu/internal/platform/httpx"

// taskRoutes are the tasks API (tasks.go) and the engine's settings (settings.go).
func (s *Service) taskRoutes() []httpx.Route {
	a := taskAPI{s: s}
	routes := []httpx.Route{
		{Method: "GET", Path: "/api/v1/revisit-tasks", Perm: PermRead, Handler: a.list},
		{Method: "GET", Path: "/api/v1/revisit-tasks/{id}", Perm: PermRead, Handler: a.get},
		{Method: "POST", Path: "/api/v1/revisit-tasks/{id}/assign", Perm: PermWrite, Handler: a.assign},
	}
	return append(routes, s.settingsRoutes()...)
}
