package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

func TestHTTPSMarksCookiesAndHSTS(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		name   string
		public bool
		remote string
		proto  string
		secure bool
	}{
		{"plain", false, "10.1.1.1:5000", "", false},
		{"public https", true, "203.0.113.9:5000", "", true},
		{"trusted proxy says https", false, "10.1.1.1:5000", "https", true},
		{"untrusted peer says https", false, "203.0.113.9:5000", "https", false},
		{"trusted proxy says http", false, "10.1.1.1:5000", "http", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var seen bool
			h := httpx.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = httpx.IsHTTPS(r)
				// One cookie that never asks for Secure (like the flash cookie), one that does.
				http.SetCookie(w, &http.Cookie{Name: "plain", Value: "1", Path: "/"})
				http.SetCookie(w, &http.Cookie{Name: "asks", Value: "1", Path: "/", Secure: httpx.IsHTTPS(r)})
				w.WriteHeader(204)
			}), httpx.HTTPS(tc.public, proxy), httpx.SecurityHeaders)
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if seen != tc.secure {
				t.Fatalf("IsHTTPS = %v, want %v", seen, tc.secure)
			}
			for _, c := range rec.Header().Values("Set-Cookie") {
				if n := strings.Count(strings.ToLower(c), "; secure"); n != map[bool]int{true: 1, false: 0}[tc.secure] {
					t.Errorf("Set-Cookie %q has Secure %d times", c, n)
				}
			}
			if (rec.Header().Get("Strict-Transport-Security") != "") != tc.secure {
				t.Errorf("HSTS %q", rec.Header().Get("Strict-Transport-Security"))
			}
		})
	}
}
