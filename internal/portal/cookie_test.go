package portal_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The cookie that carries a sign-in between its two steps must not reveal where the
// code went: the address is sealed with the key ring, and a cookie that was tampered
// with starts the sign-in again.
func TestLoginCookieDoesNotCarryTheAddress(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Carol Li", "carol@example.com", "")
	b := e.browser()
	p := b.post(t, "/portal/login", url.Values{"email": {"carol@example.com"}})
	if p.status != 303 {
		t.Fatalf("request code: %d", p.status)
	}
	var value string
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "kefu_portal_login" {
			value = c.Value
		}
	}
	if value == "" {
		t.Fatalf("no login cookie in %q", p.header.Values("Set-Cookie"))
	}
	for _, clear := range []string{"carol@example.com", "email:carol@example.com"} {
		for _, enc := range []string{clear, base64.RawURLEncoding.EncodeToString([]byte(clear)), base64.StdEncoding.EncodeToString([]byte(clear))} {
			if strings.Contains(value, enc) || strings.Contains(value, strings.TrimRight(enc, "=")[:len(enc)/2]) {
				t.Fatalf("login cookie %q reveals the address (%q)", value, clear)
			}
		}
	}
	if raw, err := base64.RawURLEncoding.DecodeString(value); err == nil && strings.Contains(strings.ToLower(string(raw)), "carol") {
		t.Fatalf("login cookie decodes to %q", raw)
	}
	// The flow still works with the sealed cookie...
	if v := b.get(t, "/portal/verify"); v.status != 200 || !strings.Contains(v.body, "c***@example.com") {
		t.Fatalf("verify page: %d", v.status)
	}
	// ...and a forged one (the old clear format) is refused.
	forged := e.browser()
	u, _ := url.Parse(e.s.URL + "/portal/")
	forged.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "kefu_portal_login", Value: base64.RawURLEncoding.EncodeToString([]byte("email:carol@example.com")), Path: "/portal"}})
	if v := forged.get(t, "/portal/verify"); v.status != 303 || v.location != "/portal/login" {
		t.Fatalf("forged login cookie: %d %q", v.status, v.location)
	}
}
