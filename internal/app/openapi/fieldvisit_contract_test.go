package openapi_test

import (
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// fieldVisitHooks are the after hooks of the fieldvisit examples (none yet).
func fieldVisitHooks(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte) {
	return nil
}
