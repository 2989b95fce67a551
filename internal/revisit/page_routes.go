package revisit

import "github.com/kefu-cn/kefu/internal/platform/httpx"

// pageRoutes lists this part's routes (a placeholder its owner replaces).
func (s *Service) pageRoutes() []httpx.Route { return nil }
