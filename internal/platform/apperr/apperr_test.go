package apperr_test

import (
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

func TestFieldsAndCodes(t *testing.T) {
	tests := []struct {
		name   string
		err    *apperr.Error
		code   string
		fields map[string]string // field -> message key
	}{
		{"on field takes the error's message", apperr.New(apperr.Malformed, "error.malformed.cursor").OnField("cursor"),
			"malformed_request", map[string]string{"cursor": "error.malformed.cursor"}},
		{"with field", apperr.New(apperr.Malformed, "error.malformed.json").WithField("name", "field.duplicate"),
			"malformed_request", map[string]string{"name": "field.duplicate"}},
		{"method not allowed", apperr.New(apperr.MethodNotAllowed, "error.method_not_allowed"), "method_not_allowed", nil},
		{"stale version", apperr.StaleVersion(3), apperr.CodeStaleVersion, nil},
		{"not found", apperr.NotFoundf("thing.resource"), "not_found", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := apperr.CodeOf(tc.err); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			if len(tc.err.Fields) != len(tc.fields) {
				t.Errorf("fields %v, want %v", tc.err.Fields, tc.fields)
			}
			for f, k := range tc.fields {
				if tc.err.Fields[f].Key != k {
					t.Errorf("fields[%s] = %q, want %q", f, tc.err.Fields[f].Key, k)
				}
			}
			if _, lone := tc.err.Extra["field"]; lone {
				t.Error("a lone field member")
			}
		})
	}
}
