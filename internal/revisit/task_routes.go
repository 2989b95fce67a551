package revisit

import "github.com/kefu-cn/kefu/internal/platform/httpx"

// taskRoutes lists this part's routes (a placeholder its owner replaces).
func (s *Service) taskRoutes() []httpx.Route { return nil }
