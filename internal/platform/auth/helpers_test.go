package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// staffLoader is a small PrincipalLoader over the real staff, staff_roles and roles
// tables (the org capability provides the production one).
type staffLoader struct{ db *db.DB }

func (l staffLoader) LoadActor(ctx context.Context, staffID int64) (*authz.Actor, error) {
	a := &authz.Actor{Kind: authz.KindStaff}
	var dept, team sql.NullInt64
	var status string
	err := l.db.QueryRow(ctx, `SELECT id, username, display_name, dept_id, team_id, locale, status FROM staff WHERE id = ?`,
		staffID).Scan(&a.ID, &a.Username, &a.DisplayName, &dept, &team, &a.Locale, &status)
	if db.IsNoRows(err) {
		return nil, apperr.NotFoundf(thingStaff)
	}
	if err != nil {
		return nil, err
	}
	a.DeptID, a.TeamID = dept.Int64, team.Int64
	rows, err := l.db.Query(ctx, `SELECT r.code, r.scope, r.permissions FROM staff_roles sr JOIN roles r ON r.id = sr.role_id
		WHERE sr.staff_id = ? ORDER BY r.code`, staffID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var code, scope, perms string
		if err := rows.Scan(&code, &scope, &perms); err != nil {
			return nil, err
		}
		var ps []string
		if err := json.Unmarshal([]byte(perms), &ps); err != nil {
			return nil, err
		}
		a.Roles = append(a.Roles, code)
		for _, p := range ps {
			a.Grant(p, authz.Scope(scope))
		}
	}
	return a, rows.Err()
}

func (l staffLoader) FindLogin(ctx context.Context, username string) (int64, bool, error) {
	var id int64
	var status string
	err := l.db.QueryRow(ctx, `SELECT id, status FROM staff WHERE username = ?`, username).Scan(&id, &status)
	if db.IsNoRows(err) {
		return 0, false, apperr.NotFoundf(thingStaff)
	}
	return id, status == statusActive, err
}

// env is a running authentication stack: real database, audit log, router, web engine
// and the middleware chain of internal/app, served over loopback.
type env struct {
	db    *db.DB
	svc   *Service
	clock *clock.Fake
	srv   *httptest.Server
	h     http.Handler
}

const testPassword = "Correct-Horse-7"

func sysCtx() context.Context { return authz.WithActor(context.Background(), authz.System("test")) }

func newEnv(t testing.TB, mod ...func(*Options)) *env {
	t.Helper()
	d := dbtest.New(t)
	keys, err := secure.LoadOrCreate(filepath.Join(t.TempDir(), "kefu.keys"), true)
	if err != nil {
		t.Fatal(err)
	}
	fake := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Default()
	o := Options{DB: d, Keys: keys, Clock: fake, Log: log, Principals: staffLoader{d},
		Audit:   audit.New(audit.Options{DB: d, Keys: keys, Clock: fake, Log: log}),
		Session: cfg.Session, Login: cfg.Login, MinPasswordLength: cfg.Security.MinPasswordLength}
	o.Login.PerIPPerMinute = 1000
	for _, m := range mod {
		m(&o)
	}
	svc := New(o)
	// Tests sign in the same account many times a minute; the throttle test sets its own.
	svc.perAccount = httpx.NewLimiter(time.Millisecond, 1000)
	cat := i18n.MustLoad()
	eng, err := web.New(web.Options{Catalog: cat, Log: log, Pages: map[string]fs.FS{"auth": Templates()}})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetWeb(eng)
	rt := httpx.NewRouter()
	rt.PageError = eng.PageError
	rt.Mount(svc.Routes()...)
	rt.Mount(httpx.Route{Method: "GET", Path: "/{$}", Page: true, Handler: func(w http.ResponseWriter, r *http.Request) {
		a := authz.From(r.Context())
		_, _ = io.WriteString(w, "home of "+a.Username+" lang="+i18n.Lang(r.Context()))
	}})
	h := httpx.Chain(rt.Mux, httpx.Recover, httpx.Base(log, cat, nil), httpx.SecurityHeaders,
		httpx.BodyLimit(1<<20), httpx.Locale, httpx.CrossOrigin, svc.Middleware)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{db: d, svc: svc, clock: fake, srv: srv, h: h}
	e.exec(t, `INSERT INTO roles (code, name, description, scope, permissions, builtin, created_at, updated_at)
		VALUES ('admin', 'admin', '', 'all', '["*"]', 1, 0, 0), ('agent', 'agent', '', 'team', '["dept:read"]', 1, 0, 0)`)
	return e
}

func (e *env) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := e.db.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("exec %s: %v", q, err)
	}
}

func (e *env) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", q, err)
	}
	return n
}

// addStaff inserts a staff member with role (and a password unless empty).
func (e *env) addStaff(t testing.TB, username, role, password string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		return e.db.QueryRow(ctx, `INSERT INTO staff (username, display_name, mobile, email, skills, status, locale, created_at, updated_at)
			VALUES (?, ?, '', '', '[]', 'active', '', 0, 0) RETURNING id`, username, "Name "+username).Scan(&id)
	})
	if err != nil {
		t.Fatalf("insert staff: %v", err)
	}
	e.exec(t, `INSERT INTO staff_roles (staff_id, role_id) SELECT ?, id FROM roles WHERE code = ?`, id, role)
	if password != "" {
		if err := e.svc.SetPassword(sysCtx(), id, password); err != nil {
			t.Fatalf("set password: %v", err)
		}
	}
	return id
}

// auditDetails returns the Detail objects of the entries with action.
func (e *env) auditDetails(t testing.TB, action string) []map[string]any {
	t.Helper()
	rows, err := e.db.Query(context.Background(), `SELECT detail FROM audit_log WHERE action = ? ORDER BY seq`, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (e *env) auditReasons(t testing.TB, reason string) int {
	n := 0
	for _, d := range e.auditDetails(t, "auth.login.failure") {
		if d["reason"] == reason {
			n++
		}
	}
	return n
}

// client is a browser (cookie jar, redirects not followed) or an API client.
type client struct {
	e     *env
	hc    *http.Client
	token string
	csrf  string
}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) browser() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (e *env) api(token string) *client {
	c := e.browser()
	c.token = token
	return c
}

func (c *client) do(t testing.TB, method, path string, body io.Reader, hdr map[string]string) *response {
	t.Helper()
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (c *client) get(t testing.TB, path string) *response { return c.do(t, "GET", path, nil, nil) }

func (c *client) postForm(t testing.TB, path string, form url.Values, hdr ...string) *response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for i := 0; i+1 < len(hdr); i += 2 {
		h[hdr[i]] = hdr[i+1]
	}
	return c.do(t, "POST", path, strings.NewReader(form.Encode()), h)
}

func (c *client) postJSON(t testing.TB, path, body string, hdr ...string) *response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for i := 0; i+1 < len(hdr); i += 2 {
		h[hdr[i]] = hdr[i+1]
	}
	return c.do(t, "POST", path, strings.NewReader(body), h)
}

var (
	hiddenCSRF = regexp.MustCompile(`<input[^>]*name="csrf_token"[^>]*value="([^"]*)"`)
	bodyCSRF   = regexp.MustCompile(`data-csrf="([^"]*)"`)
)

func match(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// login goes through the real sign-in form and returns the POST's response.
func (c *client) login(t testing.TB, username, password string) *response {
	t.Helper()
	page := c.get(t, "/login")
	if page.status != http.StatusOK {
		t.Fatalf("GET /login: %d", page.status)
	}
	return c.postForm(t, "/login", url.Values{"username": {username}, "password": {password},
		"csrf_token": {match(hiddenCSRF, page.body)}})
}

// mustLogin signs in and picks up the session's CSRF token from the account page.
func (c *client) mustLogin(t testing.TB, username, password string) {
	t.Helper()
	r := c.login(t, username, password)
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign-in of %s: status %d\n%s", username, r.status, r.body)
	}
	c.loadCSRF(t)
}

func (c *client) loadCSRF(t testing.TB) {
	t.Helper()
	acc := c.get(t, "/account")
	if acc.status != http.StatusOK {
		t.Fatalf("GET /account: %d", acc.status)
	}
	c.csrf = match(bodyCSRF, acc.body)
	if c.csrf == "" {
		t.Fatal("no CSRF token on the account page")
	}
}

func (c *client) cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.e.srv.URL)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}
