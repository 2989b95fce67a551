package app_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/config"
)

// Behind a TLS proxy every cookie the product sets is Secure and HSTS is sent; that is
// known from http.public_url, or from X-Forwarded-Proto sent by a trusted proxy only.
func TestCookiesSecureBehindTLSProxy(t *testing.T) {
	trustLoopback := func(c *config.Config) { c.HTTP.TrustedProxies = []string{"127.0.0.1", "::1"} }
	cases := []struct {
		name   string
		opt    apptest.Option
		proto  string // X-Forwarded-Proto sent
		secure bool
	}{
		{name: "plain http", opt: func(*config.Config) {}},
		{name: "forwarded https from an untrusted peer", opt: func(*config.Config) {}, proto: "https"},
		{name: "forwarded https from a trusted proxy", opt: trustLoopback, proto: "https", secure: true},
		{name: "forwarded http from a trusted proxy", opt: trustLoopback, proto: "http"},
		{name: "chain ending in https", opt: trustLoopback, proto: "http, https", secure: true},
		{name: "public url https", opt: func(c *config.Config) { c.HTTP.PublicURL = "https://kefu.example.cn" }, secure: true},
		{name: "public url http", opt: func(c *config.Config) { c.HTTP.PublicURL = "http://10.1.2.3:8080" }, proto: "https"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := apptest.New(t, tc.opt)
			s.Staff(t, "cookie_admin", "admin", "")
			hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			var setCookies []string
			var hsts []string
			do := func(method, path string, form url.Values, cookies []*http.Cookie) (*http.Response, string) {
				t.Helper()
				var body io.Reader
				if form != nil {
					body = strings.NewReader(form.Encode())
				}
				req, _ := http.NewRequest(method, s.URL+path, body)
				if form != nil {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				if tc.proto != "" {
					req.Header.Set("X-Forwarded-Proto", tc.proto)
				}
				for _, c := range cookies {
					req.AddCookie(c)
				}
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				setCookies = append(setCookies, resp.Header.Values("Set-Cookie")...)
				hsts = append(hsts, resp.Header.Get("Strict-Transport-Security"))
				return resp, string(b)
			}
			login, page := do("GET", "/login", nil, nil)
			form := url.Values{"username": {"cookie_admin"}, "password": {apptest.Password},
				"csrf_token": {apptest.HiddenField([]byte(page), "csrf_token")}}
			signedIn, _ := do("POST", "/login", form, login.Cookies())
			if signedIn.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", signedIn.StatusCode)
			}
			do("GET", "/lang?set=en&next=/", nil, signedIn.Cookies())
			do("POST", "/logout", url.Values{}, signedIn.Cookies())
			names := map[string]bool{}
			for _, c := range setCookies {
				names[strings.SplitN(c, "=", 2)[0]] = true
				if got := strings.Contains(strings.ToLower(c), "; secure"); got != tc.secure {
					t.Errorf("Set-Cookie %q: Secure=%v, want %v", c, got, tc.secure)
				}
			}
			for _, want := range []string{"kefu_login_csrf", "kefu_session", "kefu_lang"} {
				if !names[want] {
					t.Errorf("cookie %s was not set (got %v)", want, names)
				}
			}
			for _, h := range hsts {
				if (h != "") != tc.secure {
					t.Errorf("Strict-Transport-Security %q, want present=%v", h, tc.secure)
				}
			}
		})
	}
}
