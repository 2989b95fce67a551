package revisit

import "github.com/kefu-cn/kefu/internal/platform/httpx"

// recordRoutes lists this part's routes (a placeholder its owner replaces).
func (s *Service) recordRoutes() []httpx.Route { return nil }
