package faulttest

import (
	"context"
	"database/sql"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// tcpProxy forwards loopback connections to a target; the test stops and restarts it
// to take the database away and bring it back.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func (p *tcpProxy) start(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment after stop
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	if p.conns == nil {
		p.conns = map[net.Conn]struct{}{}
	}
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

// stop refuses new connections and cuts the open ones, as a database server that went
// away would.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// inProcess runs the whole app on dsn over loopback, with an administrator who has a
// token and a signed-in browser.
type inProcess struct {
	app     *app.App
	url     string
	token   string
	browser *apptest.Client
}

func startInProcess(t *testing.T, dsn string) *inProcess {
	t.Helper()
	cfg := config.Default()
	cfg.DB, cfg.KeyFile = dsn, filepath.Join(t.TempDir(), "kefu.keys")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, app.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	sys := authz.WithActor(ctx, authz.System("faulttest"))
	st, err := a.Org.CreateStaff(sys, org.StaffInput{Username: "away_admin", DisplayName: "Away Admin", Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Auth.SetPassword(sys, st.ID, apptest.Password); err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Auth.CreateToken(sys, st.ID, "faulttest")
	if err != nil {
		t.Fatal(err)
	}
	p := &inProcess{app: a, url: hs.URL, token: tok}
	p.browser = (&apptest.Server{App: a, HTTP: hs, URL: hs.URL}).Browser(t, "away_admin", apptest.Password)
	return p
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (p *inProcess) api(t *testing.T, method, path, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func errorCode(body string) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Error.Code
}

// TestDatabaseAway takes PostgreSQL away behind a loopback TCP proxy and brings it
// back: meanwhile the API answers 503 with Retry-After, pages show the translated
// error page, /readyz says not ready; afterwards everything works again without a
// restart. On SQLite see TestSQLiteLocked.
func TestDatabaseAway(t *testing.T) {
	if dbtest.Engine() != "postgres" {
		t.Skip("PostgreSQL only: an embedded SQLite file cannot become unreachable (TestSQLiteLocked covers SQLite)")
	}
	raw := dbtest.NewDSN(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	px := &tcpProxy{addr: "127.0.0.1:0", target: u.Host}
	px.start(t)
	t.Cleanup(px.stop)
	u.Host = px.addr
	p := startInProcess(t, u.String())
	if r := p.api(t, "GET", "/api/v1/customers", ""); r.status != http.StatusOK {
		t.Fatalf("before: %d %s", r.status, r.body)
	}

	px.stop()
	cat := i18n.MustLoad()
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/customers", ""},
		{"POST", "/api/v1/customers", `{"kind":"person","name":"Away"}`},
	} {
		r := p.api(t, c.method, c.path, c.body)
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || errorCode(r.body) != "unavailable" {
			t.Errorf("%s %s while away: %d Retry-After=%q %s, want 503 unavailable with Retry-After", c.method, c.path, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	page := p.browser.Do(t, "GET", "/", nil)
	want := cat.T("zh-CN", "error.unavailable", nil)
	if page.Status != http.StatusServiceUnavailable || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
		page.Header.Get("Retry-After") == "" || !strings.Contains(html.UnescapeString(string(page.Body)), want) {
		t.Errorf("page while away: %d %s Retry-After=%q\n%.400s", page.Status, page.Header.Get("Content-Type"),
			page.Header.Get("Retry-After"), page.Body)
	}
	if r := p.api(t, "GET", "/readyz", ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz while away: %d %s", r.status, r.body)
	}

	px.start(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := p.api(t, "GET", "/api/v1/customers", "")
		if r.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database came back: %d %s", r.status, r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := p.api(t, "POST", "/api/v1/customers", `{"kind":"person","name":"Back"}`); r.status != http.StatusCreated {
		t.Errorf("write after recovery: %d %s", r.status, r.body)
	}
	if page := p.browser.Do(t, "GET", "/", nil); page.Status != http.StatusOK {
		t.Errorf("page after recovery: %d", page.Status)
	}
	if r := p.api(t, "GET", "/readyz", ""); r.status != http.StatusOK {
		t.Errorf("/readyz after recovery: %d %s", r.status, r.body)
	}
}

// TestSQLiteLocked is SQLite's honest equivalent of a database that went away. An
// embedded database is a file the process holds open: it cannot become unreachable,
// and a file deleted or replaced under a running server goes on being used through
// the open descriptors (the change shows only at the next start). What does happen is
// another process holding the write lock longer than busy_timeout (a backup or
// maintenance tool), a full disk, or I/O errors. Here a second connection holds the
// write lock: writes answer 503 with Retry-After (after the 10 s busy_timeout), and
// succeed again once the lock is released, without a restart.
// db.TestIsUnavailable checks the other SQLite codes with real errors.
func TestSQLiteLocked(t *testing.T) {
	if dbtest.Engine() == "postgres" {
		t.Skip("SQLite only")
	}
	if testing.Short() {
		t.Skip("short mode: waits for busy_timeout")
	}
	dsn := dbtest.NewDSN(t)
	p := startInProcess(t, dsn)
	_, path, err := db.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	locker, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(1000)")
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	conn, err := locker.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	r := p.api(t, "POST", "/api/v1/customers", `{"kind":"person","name":"Locked"}`)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || errorCode(r.body) != "unavailable" {
		t.Errorf("write while locked: %d Retry-After=%q %s, want 503 unavailable", r.status, r.header.Get("Retry-After"), r.body)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if r := p.api(t, "POST", "/api/v1/customers", `{"kind":"person","name":"Unlocked"}`); r.status != http.StatusCreated {
		t.Errorf("write after the lock: %d %s", r.status, r.body)
	}
}
