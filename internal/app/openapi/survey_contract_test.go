package openapi_test

import (
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// surveyHooks are the after hooks of the survey examples (none yet).
func surveyHooks(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte) {
	return nil
}
