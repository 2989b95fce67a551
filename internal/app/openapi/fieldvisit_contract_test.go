package openapi_test

import (
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// fieldVisitHooks prepare the field-visit examples: the service gets the key ring that
// encrypts contact phones (when the composition root has not passed it yet). No after
// hooks are needed: the examples create what they read.
func fieldVisitHooks(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte) {
	s.App.FieldVisit.SetKeys(s.App.Keys)
	return nil
}
