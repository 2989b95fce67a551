// Package apptest runs the whole Kefu application for tests: a fresh migrated database
// (SQLite, or PostgreSQL with KEFU_TEST_DB=postgres), the real router and middleware
// over loopback HTTP, staff of any role with bearer tokens or browser sessions, and a
// scenario-table runner that also checks the audit entries each request wrote.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// Password is the password of every staff member the harness creates.
const Password = "Test-Passw0rd!"

// Server is a running application.
type Server struct {
	App   *app.App
	HTTP  *httptest.Server
	URL   string
	Clock *clock.Fake

	mu      sync.Mutex
	clients map[string]*Client
}

// Option adjusts the configuration before the app is built.
type Option func(*config.Config)

// New starts the full application on a fresh database; it stops when t ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.KeyFile = filepath.Join(t.TempDir(), "kefu.keys")
	cfg.Log.Level = "error"
	for _, o := range opts {
		o(&cfg)
	}
	d := dbtest.New(t)
	cfg.DB = d.DSN
	if err := cfg.Validate(); err != nil {
		t.Fatalf("apptest: config: %v", err)
	}
	fake := clock.NewFake(time.Now())
	a, err := app.New(ctx, cfg, app.Options{DB: d, SkipMigrate: true, Clock: fake, Log: discardLogger()})
	if err != nil {
		t.Fatalf("apptest: app: %v", err)
	}
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	return &Server{App: a, HTTP: hs, URL: hs.URL, Clock: fake, clients: map[string]*Client{}}
}

// SystemCtx is a context acting as the system (for setting up fixtures).
func SystemCtx() context.Context { return authz.WithActor(context.Background(), authz.System("test")) }

// Dept returns the department with code, creating it (named name) if needed.
func (s *Server) Dept(t testing.TB, code, name string) org.Department {
	t.Helper()
	ctx := SystemCtx()
	if d, err := s.App.Org.DepartmentByCode(ctx, code); err == nil {
		return d
	}
	d, err := s.App.Org.CreateDepartment(ctx, org.DepartmentInput{Code: code, Name: name})
	if err != nil {
		t.Fatalf("apptest: create department %s: %v", code, err)
	}
	return d
}

// Staff creates a staff member with role in the department deptCode ("" = none).
func (s *Server) Staff(t testing.TB, username, role, deptCode string) org.Staff {
	t.Helper()
	ctx := SystemCtx()
	in := org.StaffInput{Username: username, DisplayName: "Test " + username, Roles: []string{role}}
	if deptCode != "" {
		in.DeptID = s.Dept(t, deptCode, "Dept "+deptCode).ID
	}
	st, err := s.App.Org.CreateStaff(ctx, in)
	if err != nil {
		t.Fatalf("apptest: create staff %s: %v", username, err)
	}
	if err := s.App.Auth.SetPassword(ctx, st.ID, Password); err != nil {
		t.Fatalf("apptest: set password: %v", err)
	}
	return st
}

// As returns a client authenticated with a bearer token for a staff member described by
// spec: "role" (department cs) or "role@dept". The same spec returns the same client.
// "" returns an anonymous client.
func (s *Server) As(t testing.TB, spec string) *Client {
	t.Helper()
	if spec == "" {
		return s.Anonymous()
	}
	s.mu.Lock()
	c := s.clients[spec]
	s.mu.Unlock()
	if c != nil {
		return c
	}
	role, dept, _ := strings.Cut(spec, "@")
	if dept == "" {
		dept = "cs"
	}
	st := s.Staff(t, role+"_"+dept, role, dept)
	plain, _, err := s.App.Auth.CreateToken(SystemCtx(), st.ID, "test")
	if err != nil {
		t.Fatalf("apptest: token: %v", err)
	}
	c = &Client{s: s, http: s.HTTP.Client(), token: plain, Staff: st}
	s.mu.Lock()
	s.clients[spec] = c
	s.mu.Unlock()
	return c
}

// Anonymous returns a client without credentials.
func (s *Server) Anonymous() *Client { return &Client{s: s, http: s.HTTP.Client()} }

// Browser signs username in through the real sign-in form and returns a client holding
// the session cookie and its CSRF token.
func (s *Server) Browser(t testing.TB, username, password string) *Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	c := &Client{s: s, http: hc}
	page := c.Do(t, "GET", "/login", nil)
	form := url.Values{"username": {username}, "password": {password}}
	if tok := HiddenField(page.Body, "csrf_token"); tok != "" {
		form.Set("csrf_token", tok)
	}
	resp := c.PostForm(t, "/login", form)
	if resp.Status >= 400 {
		t.Fatalf("apptest: sign-in of %s failed: %d %s", username, resp.Status, resp.Body)
	}
	home := c.Do(t, "GET", "/", nil)
	c.csrf = BodyCSRF(home.Body)
	if c.csrf == "" {
		t.Fatalf("apptest: no CSRF token after sign-in of %s (status %d)", username, home.Status)
	}
	return c
}

var (
	hiddenRe   = `<input[^>]*name="%s"[^>]*value="([^"]*)"`
	bodyCSRFRe = regexp.MustCompile(`data-csrf="([^"]*)"`)
)

// HiddenField extracts the value of a named input from a page.
func HiddenField(page []byte, name string) string {
	m := regexp.MustCompile(fmt.Sprintf(hiddenRe, regexp.QuoteMeta(name))).FindSubmatch(page)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// BodyCSRF extracts the session CSRF token the layout puts on <body>.
func BodyCSRF(page []byte) string {
	m := bodyCSRFRe.FindSubmatch(page)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// Client makes requests to the server.
type Client struct {
	s     *Server
	http  *http.Client
	token string
	csrf  string
	Lang  string
	Staff org.Staff
}

// CSRF returns the session CSRF token (browser clients).
func (c *Client) CSRF() string { return c.csrf }

// Response is a completed request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("apptest: response is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Do sends a request; body may be nil, a string/[]byte (sent as is) or a value (JSON).
func (c *Client) Do(t testing.TB, method, path string, body any) *Response {
	t.Helper()
	return c.DoWithHeaders(t, method, path, body, nil)
}

// DoWithHeaders is Do with extra request headers.
func (c *Client) DoWithHeaders(t testing.TB, method, path string, body any, headers map[string]string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("apptest: marshal body: %v", err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, c.s.URL+path, rd)
	if err != nil {
		t.Fatalf("apptest: request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.decorate(req)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.send(t, req)
}

// PostForm posts an HTML form (adding the session's CSRF token when the client has one
// and the form does not).
func (c *Client) PostForm(t testing.TB, path string, form url.Values) *Response {
	t.Helper()
	if c.csrf != "" && form.Get("csrf_token") == "" {
		form.Set("csrf_token", c.csrf)
	}
	req, err := http.NewRequest("POST", c.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("apptest: request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.decorate(req)
	req.Header.Del("X-CSRF-Token")
	return c.send(t, req)
}

func (c *Client) decorate(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.Lang != "" {
		req.Header.Set("Accept-Language", c.Lang)
	}
}

func (c *Client) send(t testing.TB, req *http.Request) *Response {
	t.Helper()
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("apptest: %s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("apptest: read body: %v", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Scenario is one row of an HTTP scenario table.
type Scenario struct {
	Name    string
	As      string // "" anonymous, "role" or "role@dept"
	Method  string
	Path    string
	Body    any
	Lang    string   // Accept-Language
	Status  int      // expected status
	Has     []string // fragments the body must contain
	Not     []string // fragments the body must not contain
	Audit   string   // an audit action the request must have written ("" = not checked)
	NoAudit bool     // the request must have written no audit entry
}

// Run executes scenarios in order (they may build on each other).
func Run(t *testing.T, s *Server, scenarios []Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			c := s.As(t, sc.As)
			before := s.AuditSeq(t)
			cc := *c
			cc.Lang = sc.Lang
			r := cc.Do(t, sc.Method, sc.Path, sc.Body)
			if r.Status != sc.Status {
				t.Fatalf("%s %s as %q: status %d, want %d\n%s", sc.Method, sc.Path, sc.As, r.Status, sc.Status, r.Body)
			}
			for _, h := range sc.Has {
				if !bytes.Contains(r.Body, []byte(h)) {
					t.Errorf("body lacks %q:\n%s", h, r.Body)
				}
			}
			for _, h := range sc.Not {
				if bytes.Contains(r.Body, []byte(h)) {
					t.Errorf("body has %q:\n%s", h, r.Body)
				}
			}
			if sc.Audit != "" && !s.AuditSince(t, before, sc.Audit) {
				t.Errorf("no audit entry %q written by %s %s", sc.Audit, sc.Method, sc.Path)
			}
			if sc.NoAudit {
				if after := s.AuditSeq(t); after != before {
					t.Errorf("request wrote %d audit entries, want none", after-before)
				}
			}
		})
	}
}

// AuditSeq is the newest audit sequence number.
func (s *Server) AuditSeq(t testing.TB) int64 {
	t.Helper()
	var seq int64
	if err := s.App.DB.QueryRow(context.Background(), `SELECT COALESCE(MAX(seq), 0) FROM audit_log`).Scan(&seq); err != nil {
		t.Fatalf("apptest: audit seq: %v", err)
	}
	return seq
}

// AuditSince reports whether an entry with action was written after seq.
func (s *Server) AuditSince(t testing.TB, seq int64, action string) bool {
	t.Helper()
	var n int
	if err := s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE seq > ? AND action = ?`, seq, action).Scan(&n); err != nil {
		t.Fatalf("apptest: audit: %v", err)
	}
	return n > 0
}
