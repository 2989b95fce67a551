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

// Routes is every field-visit route with the permission it needs.
func (s *Service) Routes() []httpx.Route { return nil }
