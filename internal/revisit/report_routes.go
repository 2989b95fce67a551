package revisit

import "github.com/kefu-cn/kefu/internal/platform/httpx"

// reportRoutes lists this part's routes (a placeholder its owner replaces).
func (s *Service) reportRoutes() []httpx.Route { return nil }
