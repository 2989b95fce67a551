// Package e2e holds browser journeys: the whole application runs in-process on loopback
// (real database through dbtest, real router, real sessions) and Debian's Chromium,
// driven headless by chromedp, uses it as a person would.
//
// Chromium is found at $KEFU_CHROMIUM, /usr/bin/chromium or on PATH. Without it the
// journeys skip locally and fail in CI (CI=true), where .ci/run installs it first.
// Set KEFU_E2E_SHOTS=DIR to keep the screenshots for a look.
package e2e

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/demo"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// chromiumPath finds the browser, or skips (locally) / fails (in CI) the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("KEFU_CHROMIUM"), "/usr/bin/chromium"}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	msg := "Chromium not found (install Debian's chromium package or set KEFU_CHROMIUM)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + ": browser journeys are required in CI")
	}
	t.Skip(msg + "; skipping the browser journey")
	return ""
}

// site is the running application with demo data.
type site struct {
	URL    string
	App    *app.App
	Logins []demo.Login
}

func startSite(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	cfg := config.Default()
	cfg.DB = d.DSN
	cfg.KeyFile = filepath.Join(t.TempDir(), "kefu.keys")
	cfg.Log.Level = "error"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	a, err := app.New(ctx, cfg, app.Options{DB: d, SkipMigrate: true, Log: quietLogger()})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	logins, err := demo.Seed(ctx, demo.Deps{Org: a.Org, Auth: a.Auth, Customer: a.Customer, Clock: a.Clock})
	if err != nil {
		t.Fatalf("demo.Seed: %v", err)
	}
	if len(logins) == 0 {
		t.Fatal("demo.Seed returned no logins")
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &site{URL: srv.URL, App: a, Logins: logins}
}

func (s *site) login(t *testing.T, role string) demo.Login {
	t.Helper()
	for _, l := range s.Logins {
		if l.Role == role {
			return l
		}
	}
	t.Fatalf("no demo login with role %s in %+v", role, s.Logins)
	return demo.Login{}
}

// browser starts a headless Chromium with a fresh profile and a 1280x800 window, as
// this machine needs it (no sandbox as root, no background networking), and collects
// what the pages write to the console.
func browser(t *testing.T, parent context.Context) (context.Context, *consoleLog) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	cl := &consoleLog{done: make(chan struct{})}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		<-cl.done
	})
	// A browser in China asks for Chinese first. This first call starts Chromium.
	if _, err := chromedp.Call(bctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "zh-CN,zh;q=0.9"}}); err != nil {
		close(cl.done)
		t.Fatalf("start Chromium: %v", err)
	}
	messages := chromedp.Console(bctx)
	go func() {
		defer close(cl.done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				cl.add(m.String())
			}
		}
	}()
	return bctx, cl
}

type consoleLog struct {
	mu   sync.Mutex
	msgs []string
	done chan struct{}
}

func (c *consoleLog) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, s)
}

func (c *consoleLog) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// pageState is what the journey reads off a page.
type pageState struct {
	Path    string
	Lang    string
	Heading string
}

func readPage(ctx context.Context) (pageState, error) {
	var p pageState
	var err error
	if p.Path, err = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); err != nil {
		return p, err
	}
	if p.Lang, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil {
		return p, err
	}
	p.Heading, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main h1`), chromedp.NodeVisible))
	return p, err
}

// visibleIn waits, across navigations, for sel on a page in lang.
func visibleIn(lang, sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`html[lang="` + lang + `"] ` + sel))
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("KEFU_E2E_SHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name), png, 0o644); err != nil {
			t.Errorf("save screenshot: %v", err)
		}
	}
}

// TestSignInSwitchLanguageSignOut is the first journey of every user: open the site,
// sign in in Chinese, see the home page, switch to English, sign out.
func TestSignInSwitchLanguageSignOut(t *testing.T) {
	chromiumPath(t) // skip or fail before starting anything
	cat := i18n.MustLoad()
	s := startSite(t)
	admin := s.login(t, "admin")
	staff, err := s.App.Org.StaffByUsername(authz.WithActor(context.Background(), authz.System("e2e")), admin.Username)
	if err != nil {
		t.Fatalf("demo admin: %v", err)
	}
	deptName := ""
	if staff.DeptID != 0 {
		if deptName, err = s.App.Org.DepartmentName(context.Background(), staff.DeptID); err != nil {
			t.Fatalf("department of the demo admin: %v", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bctx, console := browser(t, ctx)

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: timed out", name)
			}
			t.Fatalf("%s: %v", name, err)
		}
	}
	read := func(name string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(bctx, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	expect := func(what string, want pageState) {
		t.Helper()
		got, err := readPage(bctx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != want {
			t.Fatalf("%s: page is %+v, want %+v", what, got, want)
		}
	}

	// 1. Anonymous visitors land on the Chinese sign-in page.
	step("open the site", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(s.URL+"/"), visibleIn(i18n.ZhCN, `#login`))
	expect("sign-in page", pageState{Path: "/login", Lang: i18n.ZhCN, Heading: cat.T(i18n.ZhCN, "auth.login.heading", nil)})

	// 2. Sign in as the demo administrator.
	step("sign in",
		chromedp.SendKeys(chromedp.ID(`username`), admin.Username),
		chromedp.SendKeys(chromedp.ID(`password`), admin.Password),
		chromedp.Click(chromedp.ID(`login-submit`)),
		visibleIn(i18n.ZhCN, `#me`),
	)
	expect("Chinese home page", pageState{Path: "/", Lang: i18n.ZhCN,
		Heading: cat.T(i18n.ZhCN, "home.welcome", map[string]any{"name": admin.Name})})
	me := read("read my account card", chromedp.Text(chromedp.ID(`me`)))
	for _, want := range []string{admin.Username, cat.T(i18n.ZhCN, "role.admin", nil), "系统管理员", deptName} {
		if !strings.Contains(me, want) {
			t.Errorf("home page account card %q lacks %q", me, want)
		}
	}
	status := read("read the status card", chromedp.Text(chromedp.ID(`status`)))
	if !strings.Contains(status, cat.T(i18n.ZhCN, "home.db_ok", nil)) || !strings.Contains(status, cat.T(i18n.ZhCN, "home.schema_current", nil)) {
		t.Errorf("status card %q does not show a healthy database with a current schema", status)
	}
	styled, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`getComputedStyle(document.getElementById("me")).display !== "inline"`))
	if err != nil || !styled {
		t.Errorf("the page's stylesheet did not load (cards are unstyled): %v", err)
	}
	screenshot(t, bctx, "home-zh-CN.png")

	// 3. Switch to English with the header's language select (app.js submits it).
	step("choose English",
		chromedp.SetValue(chromedp.ID(`lang-select`), i18n.En),
		// Fire the change event as a person's pick would; app.js then submits the form.
		chromedp.Evaluate[chromedp.Void](`setTimeout(function () {
			document.getElementById("lang-select").dispatchEvent(new Event("change", {bubbles: true}));
		}, 0)`),
		visibleIn(i18n.En, `#me`),
	)
	expect("English home page", pageState{Path: "/", Lang: i18n.En,
		Heading: cat.T(i18n.En, "home.welcome", map[string]any{"name": admin.Name})})
	me = read("read my account card", chromedp.Text(chromedp.ID(`me`)))
	if want := cat.T(i18n.En, "role.admin", nil); !strings.Contains(me, want) {
		t.Errorf("English account card %q lacks the role name %q", me, want)
	}
	if selected := read("read the language select", chromedp.Value(chromedp.ID(`lang-select`))); selected != i18n.En {
		t.Errorf("language select shows %q after switching, want en", selected)
	}
	screenshot(t, bctx, "home-en.png")

	// 4. Sign out: back on the (English) sign-in page, and the home page is closed again.
	step("sign out", chromedp.Click(chromedp.ID(`logout`)), visibleIn(i18n.En, `#login`))
	expect("signed out", pageState{Path: "/login", Lang: i18n.En, Heading: cat.T(i18n.En, "auth.login.heading", nil)})
	step("home needs a session again", chromedp.Navigate(s.URL+"/"), visibleIn(i18n.En, `#login`))
	if path := read("read location", chromedp.Evaluate[string](`location.pathname`)); path != "/login" {
		t.Errorf("after sign-out / shows %s, want the sign-in page", path)
	}

	for _, msg := range console.all() {
		if strings.Contains(msg, "Content Security Policy") || strings.Contains(msg, "exception") {
			t.Errorf("browser console: %s", msg)
		}
	}
}
