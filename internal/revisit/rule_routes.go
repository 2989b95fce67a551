package revisit

import "github.com/kefu-cn/kefu/internal/platform/httpx"

// ruleRoutes lists this part's routes (a placeholder its owner replaces).
func (s *Service) ruleRoutes() []httpx.Route { return nil }
