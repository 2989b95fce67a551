package mail

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/mail/mailtest"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// withTestActor injects the actor named by X-Test-Actor: "admin" holds settings:manage,
// "agent" does not, anything else is anonymous.
func withTestActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a *authz.Actor
		switch r.Header.Get("X-Test-Actor") {
		case "admin":
			a = &authz.Actor{ID: 1, Kind: authz.KindStaff, Username: "admin", Roles: []string{"admin"}}
			a.Grant(PermManage, authz.ScopeAll)
		case "agent":
			a = &authz.Actor{ID: 2, Kind: authz.KindStaff, Username: "agent", Roles: []string{"agent"}}
			a.Grant("customer:read", authz.ScopeTeam)
		}
		if a != nil {
			r = r.WithContext(authz.WithActor(r.Context(), a))
		}
		next.ServeHTTP(w, r)
	})
}

func TestAPI(t *testing.T) {
	s, _, _ := newService(t)
	cat := i18n.MustLoad()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := web.New(web.Options{Catalog: cat, Log: quiet, Pages: map[string]fs.FS{"mail": Templates()}})
	if err != nil {
		t.Fatal(err)
	}
	s.SetWeb(eng)
	router := httpx.NewRouter()
	router.PageError = eng.PageError
	router.Mount(s.Routes()...)
	srv := httptest.NewServer(httpx.Chain(router.Mux, httpx.Base(quiet, cat, nil), httpx.Locale, withTestActor))
	defer srv.Close()
	smtpd := mailtest.New(t, "kefu", "pw")

	do := func(actor, method, path string, body any) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("X-Test-Actor", actor)
		req.Header.Set("Accept-Language", "en")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	good := map[string]any{"host": smtpd.Host, "port": smtpd.Port, "username": "kefu", "password": "pw",
		"from": "kefu@example.com", "from_name": "Kefu", "security": "none", "enabled": true}
	tests := []struct {
		name, actor, method, path string
		body                      any
		status                    int
		has, hasNot               []string
	}{
		{"anonymous", "", "GET", "/api/v1/settings/mail", nil, 401, nil, nil},
		{"agent forbidden", "agent", "GET", "/api/v1/settings/mail", nil, 403, nil, nil},
		{"agent cannot put", "agent", "PUT", "/api/v1/settings/mail", good, 403, nil, nil},
		{"defaults", "admin", "GET", "/api/v1/settings/mail", nil, 200, []string{`"password_set":false`, `"port":587`}, nil},
		{"invalid names fields", "admin", "PUT", "/api/v1/settings/mail",
			map[string]any{"host": "bad host", "port": 0, "from": "x", "security": "ssl", "enabled": true}, 422,
			[]string{`"host"`, `"port"`, `"from"`, `"security"`}, nil},
		{"unknown field", "admin", "PUT", "/api/v1/settings/mail", map[string]any{"hots": "x"}, 400, []string{"hots"}, nil},
		{"save", "admin", "PUT", "/api/v1/settings/mail", good, 200, []string{`"password_set":true`}, []string{`"pw"`, "password\":"}},
		{"read back", "admin", "GET", "/api/v1/settings/mail", nil, 200, []string{`"password_set":true`, `"enabled":true`}, []string{`"pw"`}},
		{"test mail", "admin", "POST", "/api/v1/settings/mail/test", map[string]any{"to": "ops@example.com"}, 200, []string{`"sent":true`}, nil},
		{"test bad address", "admin", "POST", "/api/v1/settings/mail/test", map[string]any{"to": "ops"}, 422, []string{`"to"`}, nil},
		{"test refused", "admin", "POST", "/api/v1/settings/mail/test", map[string]any{"to": "refuse@example.com"}, 409, []string{"550"}, nil},
		{"page", "admin", "GET", "/settings/mail", nil, 200, []string{`name="host"`, smtpd.Host, "Set (leave empty to keep it)"}, []string{`value="pw"`}},
		{"page forbidden", "agent", "GET", "/settings/mail", nil, 403, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(tc.actor, tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			for _, h := range tc.has {
				if !strings.Contains(body, h) {
					t.Errorf("body lacks %q: %s", h, body)
				}
			}
			for _, h := range tc.hasNot {
				if strings.Contains(body, h) {
					t.Errorf("body has %q: %s", h, body)
				}
			}
		})
	}
	if msgs := smtpd.Wait(1, 5*time.Second); len(msgs) != 1 || msgs[0].Subject != "Service center test mail" {
		t.Errorf("test mails %+v", msgs)
	}

	// The page's forms (POST-redirect-GET; errors re-render naming the field).
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("X-Test-Actor", "admin")
		req.Header.Set("Accept-Language", "en")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(out)
	}
	form := url.Values{"host": {smtpd.Host}, "port": {"abc"}, "from": {"kefu@example.com"}, "security": {"none"}, "enabled": {"1"}}
	if st, _, body := post("/settings/mail", form); st != 422 || !strings.Contains(body, `id="err-port"`) {
		t.Errorf("bad port form: %d %s", st, body)
	}
	form.Set("port", strconv.Itoa(smtpd.Port))
	form.Set("username", "kefu") // password kept from before
	if st, loc, body := post("/settings/mail", form); st != 303 || loc != "/settings/mail" {
		t.Errorf("save form: %d %q %s", st, loc, body)
	}
	if st, loc, _ := post("/settings/mail/test", url.Values{"to": {"ops2@example.com"}}); st != 303 || loc != "/settings/mail" {
		t.Errorf("test form: %d %q", st, loc)
	}
	if st, _, body := post("/settings/mail/test", url.Values{"to": {"refuse@example.com"}}); st != 409 || !strings.Contains(body, "550") {
		t.Errorf("refused test form: %d %s", st, body)
	}
	if msgs := smtpd.Wait(2, 5*time.Second); len(msgs) != 2 {
		t.Errorf("%d test mails", len(msgs))
	}
}
