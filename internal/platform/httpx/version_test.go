package httpx

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

func TestSettingsVersion(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	cases := []struct {
		name    string
		body    *int64
		ifMatch string
		want    int64
		kind    apperr.Kind // Internal (0) = no error
	}{
		{"defaults in the body", n(0), "", 0, apperr.Internal},
		{"saved version in the body", n(3), "", 3, apperr.Internal},
		{"If-Match only", nil, `"4"`, 4, apperr.Internal},
		{"body and If-Match agree", n(4), `W/"4"`, 4, apperr.Internal},
		{"neither", nil, "", 0, apperr.PreconditionRequired},
		{"defaults with If-Match", n(0), `"2"`, 0, apperr.Malformed},
		{"disagreeing", n(3), `"4"`, 0, apperr.Malformed},
		{"negative", n(-1), "", 0, apperr.Invalid},
		{"If-Match no version", nil, `"abc"`, 0, apperr.Malformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "/x", nil)
			if c.ifMatch != "" {
				r.Header.Set("If-Match", c.ifMatch)
			}
			got, err := SettingsVersion(r, c.body)
			if c.kind == apperr.Internal {
				if err != nil || got != c.want {
					t.Fatalf("= %d, %v; want %d", got, err, c.want)
				}
				return
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Kind != c.kind {
				t.Fatalf("error %v, want kind %d", err, c.kind)
			}
		})
	}
}
