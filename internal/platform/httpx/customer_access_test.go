package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// TestRouterCustomerAccess: Customer routes admit only a signed-in portal customer; staff
// and system actors are anonymous there, and a customer session must send its CSRF token.
func TestRouterCustomerAccess(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 200, map[string]string{"ok": "yes"}) }
	rt := httpx.NewRouter()
	rt.PageError = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(httpx.Status(apperr.KindOf(err)))
		_, _ = io.WriteString(w, "page-error:"+apperr.CodeOf(err))
	}
	rt.Mount(
		httpx.Route{Method: "GET", Path: "/portal/page", Access: httpx.Customer, Page: true, Handler: ok},
		httpx.Route{Method: "POST", Path: "/portal/page", Access: httpx.Customer, Page: true, Handler: ok},
		httpx.Route{Method: "GET", Path: "/portal/api", Access: httpx.Customer, Handler: ok},
		httpx.Route{Method: "GET", Path: "/staff", Handler: ok},
	)
	srv := httptest.NewServer(httpx.Chain(rt.Mux, httpx.Base(quietLog(), cat, nil), httpx.Locale, testActor))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	toLogin := "/portal/login?next=" + url.QueryEscape("/portal/page")
	tests := []struct {
		name, method, path, actor string
		session                   bool
		csrf                      string
		status                    int
		location, body            string
	}{
		{name: "anonymous page", method: "GET", path: "/portal/page", status: 303, location: toLogin},
		{name: "anonymous api", method: "GET", path: "/portal/api", status: 401},
		{name: "staff page", method: "GET", path: "/portal/page", actor: "staff:*", session: true, status: 303, location: toLogin},
		{name: "staff api", method: "GET", path: "/portal/api", actor: "staff:*", status: 401},
		{name: "system api", method: "GET", path: "/portal/api", actor: "system:", status: 401},
		{name: "customer page", method: "GET", path: "/portal/page", actor: "customer:", session: true, status: 200},
		{name: "customer api", method: "GET", path: "/portal/api", actor: "customer:", session: true, status: 200},
		{name: "customer post without csrf", method: "POST", path: "/portal/page", actor: "customer:", session: true, status: 403, body: "page-error:csrf_failed"},
		{name: "customer post wrong csrf", method: "POST", path: "/portal/page", actor: "customer:", session: true, csrf: "tok-999", status: 403, body: "page-error:csrf_failed"},
		{name: "customer post with csrf", method: "POST", path: "/portal/page", actor: "customer:", session: true, csrf: "tok-123", status: 200},
		{name: "customer is not staff", method: "GET", path: "/staff", actor: "customer:", session: true, status: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.csrf != "" {
				body = strings.NewReader(url.Values{httpx.CSRFField: {tc.csrf}}.Encode())
			}
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, body)
			if tc.csrf != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.actor != "" {
				req.Header.Set("X-Test-Actor", tc.actor)
			}
			if tc.session {
				req.Header.Set("X-Test-Session", "1")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.status, raw)
			}
			if tc.location != "" && resp.Header.Get("Location") != tc.location {
				t.Errorf("Location = %q, want %q", resp.Header.Get("Location"), tc.location)
			}
			if tc.body != "" && string(raw) != tc.body {
				t.Errorf("body = %q, want %q", raw, tc.body)
			}
		})
	}
}
