package openapi

import (
	"reflect"

	"github.com/kefu-cn/kefu/internal/kb"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// registerOverrides adjusts the schemas of types whose own MarshalJSON adds or changes
// members.
func registerOverrides(r *reflector) {
	// Some errors add members of their own beside code and message (existing_id of a
	// duplicate, current_version of a stale write).
	r.overrides[reflect.TypeFor[httpx.ErrorDetail]()] = func(s Schema) {
		delete(s, "additionalProperties")
	}
	r.overrides[reflect.TypeFor[kb.Article]()] = func(s Schema) {
		props := s["properties"].(Schema)
		props["published_at"] = Schema{"type": []any{"string", "null"}, "format": "date-time"}
		if !r.request {
			s["required"] = append(s["required"].([]any), "published_at")
		}
	}
}
