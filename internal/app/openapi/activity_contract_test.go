package openapi_test

import (
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// activityHooks are the after hooks of the activity examples (none yet).
func activityHooks(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte) {
	return nil
}
