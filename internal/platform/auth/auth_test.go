package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

func TestPasswordHash(t *testing.T) {
	cheap := hashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, err := hashPassword(defaultParams, "s3cret-Pass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with the default parameters", h)
	}
	h2, _ := hashPassword(defaultParams, "s3cret-Pass")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	old, _ := hashPassword(cheap, "s3cret-Pass")
	tests := []struct {
		name     string
		hash     string
		password string
		ok       bool
		rehash   bool
		bad      bool
	}{
		{name: "right password", hash: h, password: "s3cret-Pass", ok: true},
		{name: "wrong password", hash: h, password: "s3cret-pass"},
		{name: "empty password", hash: h, password: ""},
		{name: "other salt, same password", hash: h2, password: "s3cret-Pass", ok: true},
		{name: "old parameters need a rehash", hash: old, password: "s3cret-Pass", ok: true, rehash: true},
		{name: "old parameters, wrong password", hash: old, password: "nope", rehash: true},
		{name: "argon2i is not accepted", hash: strings.Replace(h, "argon2id", "argon2i", 1), password: "s3cret-Pass", bad: true},
		{name: "bcrypt", hash: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", password: "x", bad: true},
		{name: "absurd memory", hash: "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", password: "x", bad: true},
		{name: "truncated", hash: h[:len(h)/2], password: "s3cret-Pass", bad: true},
		{name: "empty", hash: "", password: "", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := checkPassword(tc.hash, tc.password, defaultParams)
			if tc.bad {
				if !errors.Is(err, errBadHash) {
					t.Fatalf("err = %v, want errBadHash", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || rehash != tc.rehash {
				t.Fatalf("ok=%v rehash=%v, want ok=%v rehash=%v", ok, rehash, tc.ok, tc.rehash)
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"":                         "/",
		"/":                        "/",
		"/customers?q=1":           "/customers?q=1",
		"https://evil.example/":    "/",
		"//evil.example/":          "/",
		"/\\evil.example":          "/",
		"javascript:alert(1)":      "/",
		"customers":                "/",
		"/login":                   "/",
		"/login/totp?next=/x":      "/",
		"/logout":                  "/",
		"/account\r\nSet-Cookie:x": "/",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRehashOnSignIn(t *testing.T) {
	e := newEnv(t)
	e.svc.params = hashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	id := e.addStaff(t, "old", "agent", testPassword)
	e.svc.params = defaultParams
	if r := e.browser().login(t, "old", testPassword); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", r.status)
	}
	var h string
	if err := e.db.QueryRow(context.Background(), `SELECT password_hash FROM credentials WHERE staff_id = ?`, id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash not upgraded on sign-in: %s", h)
	}
}

func TestSignInAndOut(t *testing.T) {
	e := newEnv(t)
	c := e.browser()

	page := c.get(t, "/login")
	for _, want := range []string{`lang="zh-CN"`, `id="username"`, `id="password"`, `id="login-submit"`, `id="lang-select"`,
		`id="first-run"`, "kefu user add --username admin --role admin", "登录"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("empty-system sign-in page lacks %q", want)
		}
	}
	if en := c.do(t, "GET", "/login", nil, map[string]string{"Accept-Language": "en"}); !strings.Contains(en.body, "Sign in") {
		t.Error("sign-in page does not follow Accept-Language")
	}

	id := e.addStaff(t, "wang", "agent", testPassword)
	e.exec(t, `UPDATE staff SET locale = 'en' WHERE id = ?`, id)
	if page = c.get(t, "/login"); strings.Contains(page.body, `id="first-run"`) {
		t.Error("first-run hint shown although a staff member can sign in")
	}

	r := c.login(t, "wang", testPassword)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d to %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	var sc *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == SessionCookie {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure || !wellFormed(sc.Value) {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", sc)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE id_hash = ? AND staff_id = ?`, digest(sc.Value), id); n != 1 {
		t.Fatal("session not stored under the SHA-256 of its id")
	}
	if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE id_hash = ? OR csrf_token = ?`, sc.Value, sc.Value); n != 0 {
		t.Fatal("raw session id stored in the database")
	}
	home := c.get(t, "/")
	if home.status != http.StatusOK || home.body != "home of wang lang=en" {
		t.Fatalf("home: %d %q (want the saved language en)", home.status, home.body)
	}
	picked := c.do(t, "GET", "/", nil, map[string]string{"Cookie": httpx.LangCookie + "=zh-TW; " + SessionCookie + "=" + sc.Value})
	if picked.body != "home of wang lang=zh-TW" {
		t.Fatalf("an explicit language choice must win over the saved one: %q", picked.body)
	}
	if n := len(e.auditDetails(t, "auth.login.success")); n != 1 {
		t.Fatalf("auth.login.success entries: %d", n)
	}

	c.loadCSRF(t)
	r = c.postForm(t, "/logout", url.Values{"csrf_token": {c.csrf}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("sign-out: %d to %q", r.status, r.header.Get("Location"))
	}
	if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE staff_id = ?`, id); n != 0 {
		t.Fatalf("%d sessions left after sign-out", n)
	}
	replay := e.browser()
	u, _ := url.Parse(e.srv.URL)
	replay.hc.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: sc.Value}})
	if r := replay.get(t, "/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("old session cookie after sign-out: %d %q", r.status, r.header.Get("Location"))
	}
	if n := len(e.auditDetails(t, "auth.logout")); n != 1 {
		t.Fatalf("auth.logout entries: %d", n)
	}
}

func TestSignInFailures(t *testing.T) {
	e := newEnv(t)
	e.addStaff(t, "li", "agent", testPassword)
	e.addStaff(t, "nopass", "agent", "")
	c := e.browser()

	wrong := c.login(t, "li", "not-the-password")
	unknown := c.login(t, "nobody", "not-the-password")
	nopass := c.login(t, "nopass", "not-the-password")
	for name, r := range map[string]*response{"wrong password": wrong, "unknown user": unknown, "no password": nopass} {
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "用户名或密码错误") || !strings.Contains(r.body, `id="login-submit"`) {
			t.Errorf("%s: %d, want 401 with the generic message on the sign-in form", name, r.status)
		}
	}
	if e.svc.dummyHash == "" {
		t.Error("an unknown user name did not spend a dummy hash")
	}
	for reason, want := range map[string]int{reasonBadPassword: 1, reasonUnknownUser: 1, reasonNoPassword: 1} {
		if n := e.auditReasons(t, reason); n != want {
			t.Errorf("failures with reason %s: %d, want %d", reason, n, want)
		}
	}

	// Without the double-submit token nothing happens.
	if r := e.browser().postForm(t, "/login", url.Values{"username": {"li"}, "password": {testPassword}}); r.status != http.StatusForbidden {
		t.Errorf("sign-in without the form token: %d, want 403", r.status)
	}

	// Empty fields.
	page := c.get(t, "/login")
	r := c.postForm(t, "/login", url.Values{"csrf_token": {match(hiddenCSRF, page.body)}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "field-error") {
		t.Errorf("empty form: %d, want 422 with field errors", r.status)
	}

	// A safe next is followed, a foreign one is not.
	for next, want := range map[string]string{"/account": "/account", "//evil.example/x": "/", "https://evil.example/": "/"} {
		b := e.browser()
		page := b.get(t, "/login?next="+url.QueryEscape(next))
		r := b.postForm(t, "/login", url.Values{"username": {"li"}, "password": {testPassword},
			"csrf_token": {match(hiddenCSRF, page.body)}, "next": {next}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("next=%q: %d to %q, want %q", next, r.status, r.header.Get("Location"), want)
		}
	}

	// Disabled accounts are refused even with the right password.
	e.exec(t, `UPDATE staff SET status = 'disabled' WHERE username = 'li'`)
	if r := c.login(t, "li", testPassword); r.status != http.StatusForbidden || !strings.Contains(r.body, "账号已停用") {
		t.Errorf("disabled account: %d", r.status)
	}
	if n := e.auditReasons(t, reasonDisabled); n != 1 {
		t.Errorf("failures with reason disabled: %d", n)
	}
}

func TestLockout(t *testing.T) {
	e := newEnv(t)
	admin := e.addStaff(t, "root", "admin", "")
	other := e.addStaff(t, "qian", "agent", "")
	id := e.addStaff(t, "zhao", "agent", testPassword)
	try := func(password string) *response { return e.browser().login(t, "zhao", password) }

	// Failures spread over more than the window do not lock.
	for i := 0; i < 4; i++ {
		try("wrong-" + strconv.Itoa(i))
	}
	e.clock.Advance(16 * time.Minute)
	if r := try("wrong-again"); r.status != http.StatusUnauthorized {
		t.Fatalf("failure after the window: %d, want 401", r.status)
	}
	if _, n, _ := e.svc.LockStatus(sysCtx(), id); n != 1 {
		t.Fatalf("failures after the window restarted: %d, want 1", n)
	}
	e.clock.Advance(16 * time.Minute)
	e.exec(t, `DELETE FROM audit_log`)
	e.exec(t, `UPDATE audit_head SET seq = 0, hash = ''`)

	lockAt := e.clock.Now()
	for i := 1; i <= 5; i++ {
		r := try("wrong-" + strconv.Itoa(i))
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusForbidden
		}
		if r.status != want {
			t.Fatalf("attempt %d: %d, want %d", i, r.status, want)
		}
		if i == 5 {
			until := lockAt.Add(15 * time.Minute).In(shanghai).Format("15:04")
			if !strings.Contains(r.body, "账号已被锁定") || !strings.Contains(r.body, until) {
				t.Fatalf("lockout page does not say until %s:\n%s", until, r.body)
			}
		}
	}
	if r := try(testPassword); r.status != http.StatusForbidden || !strings.Contains(r.body, "账号已被锁定") {
		t.Fatalf("right password while locked: %d, want 403 locked", r.status)
	}
	if n := e.auditReasons(t, reasonBadPassword); n != 5 {
		t.Errorf("auth.login.failure bad_password entries: %d, want 5", n)
	}
	if n := e.auditReasons(t, reasonLocked); n != 1 {
		t.Errorf("auth.login.failure locked entries: %d, want 1", n)
	}
	if n := len(e.auditDetails(t, "auth.lockout")); n != 1 {
		t.Errorf("auth.lockout entries: %d, want 1", n)
	}
	until, failures, err := e.svc.LockStatus(sysCtx(), id)
	if err != nil || until.IsZero() || failures != 5 {
		t.Fatalf("LockStatus = %v, %d, %v", until, failures, err)
	}

	// Unlock by time.
	e.clock.Advance(15*time.Minute + time.Second)
	if r := try(testPassword); r.status != http.StatusSeeOther {
		t.Fatalf("after the lock ran out: %d, want 303", r.status)
	}

	// Unlock by an administrator.
	for i := 0; i < 5; i++ {
		try("wrong-" + strconv.Itoa(i))
	}
	if r := try(testPassword); r.status != http.StatusForbidden {
		t.Fatalf("second lockout: %d", r.status)
	}
	agentTok, _, _ := e.svc.CreateToken(sysCtx(), other, "agent")
	adminTok, _, _ := e.svc.CreateToken(sysCtx(), admin, "ops")
	path := "/api/v1/staff/" + strconv.FormatInt(id, 10) + "/unlock"
	if r := e.api(agentTok).postJSON(t, path, ""); r.status != http.StatusForbidden {
		t.Fatalf("unlock by an agent: %d, want 403", r.status)
	}
	if r := e.api(adminTok).postJSON(t, "/api/v1/staff/999999/unlock", ""); r.status != http.StatusNotFound {
		t.Fatalf("unlock of nobody: %d, want 404", r.status)
	}
	r := e.api(adminTok).postJSON(t, path, "")
	if r.status != http.StatusOK || strings.TrimSpace(r.body) != `{"unlocked":true}` {
		t.Fatalf("unlock by an admin: %d %s", r.status, r.body)
	}
	if n := len(e.auditDetails(t, "auth.unlock")); n != 1 {
		t.Errorf("auth.unlock entries: %d", n)
	}
	if r := try(testPassword); r.status != http.StatusSeeOther {
		t.Fatalf("after unlock: %d, want 303", r.status)
	}
	if until, n, _ := e.svc.LockStatus(sysCtx(), id); !until.IsZero() || n != 0 {
		t.Fatalf("after a good sign-in: locked until %v, %d failures", until, n)
	}
	// Unlock through the service, as the CLI would.
	for i := 0; i < 5; i++ {
		try("wrong-" + strconv.Itoa(i))
	}
	if err := e.svc.Unlock(sysCtx(), id); err != nil {
		t.Fatal(err)
	}
	if r := try(testPassword); r.status != http.StatusSeeOther {
		t.Fatalf("after Unlock: %d", r.status)
	}
}

func TestThrottle(t *testing.T) {
	t.Run("per address", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.Login.PerIPPerMinute = 3 })
		e.addStaff(t, "sun", "agent", testPassword)
		c := e.browser()
		for i := 0; i < 3; i++ {
			if r := c.login(t, "sun", "wrong-"+strconv.Itoa(i)); r.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", i, r.status)
			}
		}
		r := c.login(t, "sun", testPassword)
		if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "尝试次数过多") || r.header.Get("Retry-After") == "" {
			t.Fatalf("4th attempt: %d (Retry-After %q), want 429", r.status, r.header.Get("Retry-After"))
		}
		if n := e.auditReasons(t, reasonThrottled); n != 1 {
			t.Fatalf("throttled entries: %d, want 1", n)
		}
		// A flood of refused attempts adds no further audit entries within the minute.
		c.login(t, "sun", testPassword)
		if n := e.auditReasons(t, reasonThrottled); n != 1 {
			t.Fatalf("throttled entries after a second refusal: %d, want 1", n)
		}
	})
	t.Run("per account", func(t *testing.T) {
		e := newEnv(t)
		e.svc.perAccount = httpx.NewLimiter(time.Minute, 2)
		e.addStaff(t, "sun", "agent", testPassword)
		c := e.browser()
		c.login(t, "sun", "wrong-1")
		c.login(t, "SUN", "wrong-2")
		if r := c.login(t, "sun", testPassword); r.status != http.StatusTooManyRequests {
			t.Fatalf("3rd attempt on one account: %d, want 429", r.status)
		}
	})
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	id := e.addStaff(t, "zhou", "agent", testPassword)
	other := e.browser()
	other.mustLogin(t, "zhou", testPassword)
	c := e.browser()
	c.mustLogin(t, "zhou", testPassword)
	const newPw = "Another-Secret-9"
	form := func(tok string) url.Values {
		v := url.Values{"current_password": {testPassword}, "new_password": {newPw}, "confirm_password": {newPw}}
		if tok != "" {
			v.Set("csrf_token", tok)
		}
		return v
	}
	unchanged := func(when string) {
		t.Helper()
		if err := e.svc.VerifyPassword(sysCtx(), id, testPassword); err != nil {
			t.Fatalf("%s: the password changed", when)
		}
	}

	r := c.postForm(t, "/account/password", form(""))
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "表单已过期或来源不可信") {
		t.Fatalf("no token: %d, want 403", r.status)
	}
	unchanged("no token")
	if r := c.postForm(t, "/account/password", form("wrong-token")); r.status != http.StatusForbidden {
		t.Fatalf("wrong token: %d, want 403", r.status)
	}
	unchanged("wrong token")
	for _, hdr := range [][]string{nil, {"X-CSRF-Token", "wrong-token"}} {
		r := c.postJSON(t, "/api/v1/tokens", `{"name":"x"}`, hdr...)
		var body struct{ Error struct{ Code string } }
		_ = json.Unmarshal([]byte(r.body), &body)
		if r.status != http.StatusForbidden || body.Error.Code != "csrf_failed" {
			t.Fatalf("API call with session and header %v: %d %s, want 403 csrf_failed", hdr, r.status, r.body)
		}
	}
	if n := e.count(t, `SELECT COUNT(*) FROM api_tokens`); n != 0 {
		t.Fatal("a token was created without the CSRF token")
	}
	for _, hdr := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		if r := c.postForm(t, "/account/password", form(c.csrf), hdr...); r.status != http.StatusForbidden {
			t.Fatalf("cross-origin post (%v): %d, want 403", hdr, r.status)
		}
	}
	unchanged("cross-origin")

	r = c.postForm(t, "/account/password", form(c.csrf))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account" {
		t.Fatalf("right token: %d %s", r.status, r.body)
	}
	if err := e.svc.VerifyPassword(sysCtx(), id, newPw); err != nil {
		t.Fatal("password not changed")
	}
	if c.get(t, "/account").status != http.StatusOK {
		t.Fatal("the session that changed the password was signed out")
	}
	if r := other.get(t, "/account"); r.status != http.StatusSeeOther {
		t.Fatalf("the other session survived the password change: %d", r.status)
	}
	changes := e.auditDetails(t, "auth.password.change")
	if len(changes) != 2 || changes[1]["reset"] != false {
		t.Fatalf("auth.password.change entries: %v", changes)
	}
	if r := c.postJSON(t, "/api/v1/tokens", `{"name":"cli"}`, "X-CSRF-Token", c.csrf); r.status != http.StatusCreated {
		t.Fatalf("API call with the right CSRF header: %d %s", r.status, r.body)
	}

	// Validation errors re-render the form.
	bad := url.Values{"csrf_token": {c.csrf}, "current_password": {"wrong"}, "new_password": {"short"}, "confirm_password": {"other"}}
	if r := c.postForm(t, "/account/password", bad); r.status != http.StatusUnprocessableEntity || strings.Count(r.body, "field-error") < 2 {
		t.Fatalf("invalid change: %d", r.status)
	}
}

func TestBearerToken(t *testing.T) {
	e := newEnv(t)
	admin := e.addStaff(t, "boss", "admin", "")
	agent := e.addStaff(t, "wu", "agent", "")
	plain, tok, err := e.svc.CreateToken(sysCtx(), agent, "script")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) != len(TokenPrefix)+secretLen || tok.Prefix != plain[:len(TokenPrefix)+prefixLen] {
		t.Fatalf("token %q / prefix %q", plain, tok.Prefix)
	}
	api := e.api(plain)
	r := api.get(t, "/api/v1/tokens")
	if r.status != http.StatusOK || !strings.Contains(r.body, `"prefix":"`+tok.Prefix+`"`) || strings.Contains(r.body, plain) {
		t.Fatalf("list with the token: %d %s", r.status, r.body)
	}

	// Stored only as its digest.
	sum := sha256.Sum256([]byte(plain))
	var dg, prefix, name string
	var used int64
	if err := e.db.QueryRow(context.Background(), `SELECT digest, prefix, name, last_used_at FROM api_tokens WHERE id = ?`, tok.ID).
		Scan(&dg, &prefix, &name, &used); err != nil {
		t.Fatal(err)
	}
	if dg != hex.EncodeToString(sum[:]) {
		t.Fatal("digest column is not the SHA-256 of the token")
	}
	for _, col := range []string{dg, prefix, name} {
		if strings.Contains(col, plain[len(TokenPrefix):]) {
			t.Fatal("the plain token is stored")
		}
	}
	if n := e.count(t, `SELECT COUNT(*) FROM api_tokens WHERE digest = ? OR prefix = ? OR name = ?`, plain, plain, plain); n != 0 {
		t.Fatal("the plain token is stored")
	}
	if used != e.clock.Now().UnixMilli() {
		t.Fatalf("last_used_at = %d, want the time of use", used)
	}

	// Revocation takes effect on the very next request.
	if err := e.svc.RevokeToken(sysCtx(), tok.ID); err != nil {
		t.Fatal(err)
	}
	r = api.get(t, "/api/v1/tokens")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, `"code":"unauthenticated"`) || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("revoked token: %d %s", r.status, r.body)
	}
	for _, bad := range []string{TokenPrefix + newSecret(), "garbage", TokenPrefix, ""} {
		if r := e.api(bad).do(t, "GET", "/account", nil, map[string]string{"Authorization": "Bearer " + bad}); r.status != http.StatusUnauthorized {
			t.Errorf("token %q on a page: %d, want 401", bad, r.status)
		}
	}

	// Creating, listing and revoking through the API.
	adminTok, _, _ := e.svc.CreateToken(sysCtx(), admin, "ops")
	adminC := e.api(adminTok)
	// Nobody mints a token for someone else through the API, not even the admin.
	r = adminC.postJSON(t, "/api/v1/tokens", `{"name":"for wu","staff_id":`+strconv.FormatInt(agent, 10)+`}`)
	if r.status != http.StatusForbidden || strings.Contains(r.body, TokenPrefix) {
		t.Fatalf("admin creates a token for another: %d %s", r.status, r.body)
	}
	agentTok, _, err := e.svc.CreateToken(sysCtx(), agent, "bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	r = e.api(agentTok).postJSON(t, "/api/v1/tokens", `{"name":"for wu"}`)
	var created struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		Prefix    string `json:"prefix"`
		Token     string `json:"token"`
		CreatedAt string `json:"created_at"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil || r.status != http.StatusCreated ||
		r.header.Get("Location") != "/api/v1/tokens/"+strconv.FormatInt(created.ID, 10) || created.Token == "" ||
		created.Name != "for wu" || created.CreatedAt == "" || !strings.HasPrefix(created.Token, created.Prefix) {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	agentC := e.api(created.Token)
	adminID := strconv.FormatInt(admin, 10)
	checks := []struct {
		name   string
		c      *client
		method string
		path   string
		body   string
		status int
	}{
		{"agent lists own", agentC, "GET", "/api/v1/tokens", "", http.StatusOK},
		{"agent lists admin's", agentC, "GET", "/api/v1/tokens?staff_id=" + adminID, "", http.StatusForbidden},
		{"agent creates for admin", agentC, "POST", "/api/v1/tokens", `{"name":"x","staff_id":` + adminID + `}`, http.StatusForbidden},
		{"agent reads admin's", agentC, "GET", "/api/v1/tokens/" + strconv.FormatInt(tok.ID+1, 10), "", http.StatusNotFound},
		{"agent revokes admin's", agentC, "DELETE", "/api/v1/tokens/" + strconv.FormatInt(tok.ID+1, 10), "", http.StatusNotFound},
		{"unknown field", agentC, "POST", "/api/v1/tokens", `{"name":"x","scope":"all"}`, http.StatusBadRequest},
		{"no name", agentC, "POST", "/api/v1/tokens", `{"name":"  "}`, http.StatusUnprocessableEntity},
		{"admin lists agent's", adminC, "GET", "/api/v1/tokens?staff_id=" + strconv.FormatInt(agent, 10), "", http.StatusOK},
		{"bad cursor", adminC, "GET", "/api/v1/tokens?cursor=not-a-cursor!", "", http.StatusBadRequest},
		{"anonymous", e.browser(), "GET", "/api/v1/tokens", "", http.StatusUnauthorized},
		{"agent revokes own", agentC, "DELETE", "/api/v1/tokens/" + strconv.FormatInt(created.ID, 10), "", http.StatusNoContent},
		{"revoked right away", agentC, "GET", "/api/v1/tokens", "", http.StatusUnauthorized},
	}
	for _, ck := range checks {
		var body *strings.Reader
		hdr := map[string]string{}
		if ck.body != "" {
			body = strings.NewReader(ck.body)
			hdr["Content-Type"] = "application/json"
		}
		var r *response
		if body != nil {
			r = ck.c.do(t, ck.method, ck.path, body, hdr)
		} else {
			r = ck.c.do(t, ck.method, ck.path, nil, hdr)
		}
		if r.status != ck.status {
			t.Errorf("%s: %s %s = %d, want %d\n%s", ck.name, ck.method, ck.path, r.status, ck.status, r.body)
		}
	}
	r = adminC.get(t, "/api/v1/tokens?staff_id="+strconv.FormatInt(agent, 10)+"&limit=2")
	var page httpx.Page[Token]
	if err := json.Unmarshal([]byte(r.body), &page); err != nil || len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %s", r.body)
	}
	r = adminC.get(t, "/api/v1/tokens?staff_id="+strconv.FormatInt(agent, 10)+"&limit=2&cursor="+page.NextCursor)
	var page2 httpx.Page[Token]
	if err := json.Unmarshal([]byte(r.body), &page2); err != nil || len(page2.Items) != 1 || page2.Items[0].ID == page.Items[0].ID || page2.NextCursor != "" {
		t.Fatalf("second page: %s", r.body)
	}
	if n := len(e.auditDetails(t, "auth.token.create")); n != 4 {
		t.Errorf("auth.token.create entries: %d, want 4", n)
	}
	if n := len(e.auditDetails(t, "auth.token.revoke")); n != 2 {
		t.Errorf("auth.token.revoke entries: %d, want 2", n)
	}

	// A disabled staff member's tokens stop working.
	e.exec(t, `UPDATE staff SET status = 'disabled' WHERE id = ?`, admin)
	if r := adminC.get(t, "/api/v1/tokens"); r.status != http.StatusUnauthorized {
		t.Fatalf("token of a disabled staff member: %d", r.status)
	}
}

func TestAccountTokens(t *testing.T) {
	e := newEnv(t)
	e.addStaff(t, "he", "agent", testPassword)
	c := e.browser()
	c.mustLogin(t, "he", testPassword)
	r := c.postForm(t, "/account/tokens", url.Values{"name": {"reporting"}, "csrf_token": {c.csrf}})
	plain := match(regexp.MustCompile(`id="new-token-value">(kefu_[A-Za-z0-9_-]+)<`), r.body)
	if r.status != http.StatusOK || plain == "" {
		t.Fatalf("create on the account page: %d", r.status)
	}
	if e.api(plain).get(t, "/api/v1/tokens").status != http.StatusOK {
		t.Fatal("the token shown does not work")
	}
	if strings.Contains(c.get(t, "/account").body, plain) {
		t.Fatal("the plain token is shown a second time")
	}
	var id int64
	_ = e.db.QueryRow(context.Background(), `SELECT id FROM api_tokens`).Scan(&id)
	r = c.postForm(t, "/account/tokens/"+strconv.FormatInt(id, 10)+"/revoke", url.Values{"csrf_token": {c.csrf}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke on the account page: %d", r.status)
	}
	if e.api(plain).get(t, "/api/v1/tokens").status != http.StatusUnauthorized {
		t.Fatal("revoked token still works")
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Session.IdleTimeout = config.Duration{Duration: 30 * time.Minute}
		o.Session.AbsoluteTimeout = config.Duration{Duration: time.Hour}
	})
	id := e.addStaff(t, "tian", "agent", testPassword)
	refused := func(c *client) bool {
		r := c.get(t, "/account")
		return r.status == http.StatusSeeOther && strings.HasPrefix(r.header.Get("Location"), "/login")
	}

	t.Run("idle", func(t *testing.T) {
		c := e.browser()
		c.mustLogin(t, "tian", testPassword)
		e.clock.Advance(10 * time.Minute)
		if refused(c) {
			t.Fatal("refused after 10 idle minutes")
		}
		e.clock.Advance(30*time.Minute + time.Second)
		if !refused(c) {
			t.Fatal("accepted after 30 idle minutes")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		c := e.browser()
		c.mustLogin(t, "tian", testPassword)
		for i := 0; i < 2; i++ {
			e.clock.Advance(25 * time.Minute)
			if refused(c) {
				t.Fatalf("refused after %d minutes of activity", 25*(i+1))
			}
		}
		e.clock.Advance(11 * time.Minute)
		if !refused(c) {
			t.Fatal("accepted past the absolute lifetime")
		}
	})
	if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE staff_id = ?`, id); n != 0 {
		t.Fatalf("expired sessions refused but not deleted: %d", n)
	}

	t.Run("cleanup", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			e.browser().mustLogin(t, "tian", testPassword)
		}
		e.clock.Advance(31 * time.Minute)
		live := e.browser()
		live.mustLogin(t, "tian", testPassword)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.svc.RunCleanup(ctx, time.Hour); close(done) }()
		deadline := time.Now().Add(5 * time.Second)
		for e.count(t, `SELECT COUNT(*) FROM sessions`) != 1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		if n := e.count(t, `SELECT COUNT(*) FROM sessions`); n != 1 {
			t.Fatalf("sessions after cleanup: %d, want the 1 live one", n)
		}
		if refused(live) {
			t.Fatal("cleanup removed a live session")
		}
	})
}

func TestTOTP(t *testing.T) {
	e := newEnv(t)
	id := e.addStaff(t, "feng", "agent", testPassword)
	c := e.browser()
	c.mustLogin(t, "feng", testPassword)
	acc := c.get(t, "/account")
	secret := match(regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`), acc.body)
	if secret == "" || !strings.Contains(acc.body, `src="data:image/png;base64,`) || !strings.Contains(acc.body, "otpauth://totp/") {
		t.Fatal("account page shows no enrolment (secret, QR code, URI)")
	}
	if again := match(regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`), c.get(t, "/account").body); again != secret {
		t.Fatal("the pending secret changed between two views")
	}
	var stored string
	if err := e.db.QueryRow(context.Background(), `SELECT totp_secret FROM credentials WHERE staff_id = ?`, id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == "" || strings.Contains(stored, secret) {
		t.Fatal("TOTP secret not stored encrypted")
	}
	if plain, err := e.svc.keys.Decrypt(stored, totpAAD); err != nil || plain != secret {
		t.Fatalf("stored secret does not decrypt to the shown one: %v", err)
	}
	code := func(at time.Time) string {
		s, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	wrongCode := func() string {
		now := e.clock.Now()
		valid := map[string]bool{code(now): true, code(now.Add(-30 * time.Second)): true, code(now.Add(30 * time.Second)): true}
		for _, w := range []string{"000000", "111111", "222222", "333333"} {
			if !valid[w] {
				return w
			}
		}
		return "999999"
	}

	if r := c.postForm(t, "/account/totp/enable", url.Values{"code": {wrongCode()}, "csrf_token": {c.csrf}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.body, "验证码不正确") {
		t.Fatalf("enable with a wrong code: %d", r.status)
	}
	used := code(e.clock.Now())
	if r := c.postForm(t, "/account/totp/enable", url.Values{"code": {used}, "csrf_token": {c.csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	if n := len(e.auditDetails(t, "auth.totp.enable")); n != 1 {
		t.Fatalf("auth.totp.enable entries: %d", n)
	}
	c.postForm(t, "/logout", url.Values{"csrf_token": {c.csrf}})

	// The password alone now leads to the second step, and authenticates nothing.
	r := c.login(t, "feng", testPassword)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login/totp") {
		t.Fatalf("sign-in with TOTP on: %d to %q", r.status, r.header.Get("Location"))
	}
	if r := c.get(t, "/account"); r.status != http.StatusSeeOther {
		t.Fatalf("a session waiting for its code reached /account: %d", r.status)
	}
	if r := c.get(t, "/api/v1/tokens"); r.status != http.StatusUnauthorized {
		t.Fatalf("a session waiting for its code reached the API: %d", r.status)
	}
	if n := len(e.auditDetails(t, "auth.login.success")); n != 1 {
		t.Fatalf("success audited before the second factor: %d entries", n)
	}
	page := c.get(t, "/login/totp")
	tok := match(hiddenCSRF, page.body)
	if page.status != http.StatusOK || tok == "" || !strings.Contains(page.body, `id="code"`) {
		t.Fatalf("second-factor page: %d", page.status)
	}
	submit := func(c *client, code, tok string) *response {
		return c.postForm(t, "/login/totp", url.Values{"code": {code}, "csrf_token": {tok}, "next": {"/account"}})
	}
	if r := submit(c, used, tok); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "验证码不正确或已被使用") {
		t.Fatalf("replayed code: %d, want 401", r.status)
	}
	if r := submit(c, wrongCode(), tok); r.status != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d, want 401", r.status)
	}
	e.clock.Advance(30 * time.Second)
	good := code(e.clock.Now())
	if r := submit(c, good, "bad-token"); r.status != http.StatusForbidden {
		t.Fatalf("code without the form token: %d, want 403", r.status)
	}
	r = submit(c, good, tok)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account" {
		t.Fatalf("right code: %d to %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	if r := c.get(t, "/account"); r.status != http.StatusOK || !strings.Contains(r.body, `id="totp-disable"`) {
		t.Fatalf("after the second factor: %d", r.status)
	}
	if n := len(e.auditDetails(t, "auth.login.success")); n != 2 {
		t.Fatalf("auth.login.success entries: %d, want 2", n)
	}
	if n := e.auditReasons(t, reasonBadTOTP); n != 2 {
		t.Fatalf("bad_totp failures: %d, want 2", n)
	}

	// The same code cannot sign in a second browser.
	c2 := e.browser()
	c2.login(t, "feng", testPassword)
	if r := submit(c2, good, match(hiddenCSRF, c2.get(t, "/login/totp").body)); r.status != http.StatusUnauthorized {
		t.Fatalf("code replayed in another browser: %d, want 401", r.status)
	}

	// Turning it off needs the password.
	c.loadCSRF(t)
	if r := c.postForm(t, "/account/totp/disable", url.Values{"password": {"wrong"}, "csrf_token": {c.csrf}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("disable with a wrong password: %d", r.status)
	}
	if r := c.postForm(t, "/account/totp/disable", url.Values{"password": {testPassword}, "csrf_token": {c.csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.status)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM credentials WHERE staff_id = ? AND totp_enabled = 0 AND totp_secret = ''`, id); n != 1 {
		t.Fatal("TOTP still on after disable")
	}
	if n := len(e.auditDetails(t, "auth.totp.disable")); n != 1 {
		t.Fatalf("auth.totp.disable entries: %d", n)
	}
}

func TestServiceAuthorization(t *testing.T) {
	e := newEnv(t)
	a := e.addStaff(t, "anna", "agent", testPassword)
	b := e.addStaff(t, "bobo", "agent", testPassword)
	actorA, err := staffLoader{e.db}.LoadActor(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	ctxA := authz.WithActor(context.Background(), actorA)
	for name, err := range map[string]error{
		"SetPassword of another":    e.svc.SetPassword(ctxA, b, "Brand-New-Secret-1"),
		"RevokeSessions of another": e.svc.RevokeSessions(ctxA, b),
		"Unlock":                    e.svc.Unlock(ctxA, b),
		"DisableTOTP of another":    e.svc.DisableTOTP(ctxA, b, ""),
	} {
		if httpx.Status(apperr.KindOf(err)) != http.StatusForbidden {
			t.Errorf("%s as an agent: %v, want forbidden", name, err)
		}
	}
	if _, _, err := e.svc.CreateToken(context.Background(), a, "x"); httpx.Status(apperr.KindOf(err)) != http.StatusUnauthorized {
		t.Errorf("CreateToken without an actor: %v", err)
	}
	for pw, want := range map[string]int{"short": 422, "password123": 422, "aaaaaaaaaaaa": 422, "my-Anna-pass": 422, "Fine-Pass-42": 0} {
		err := e.svc.SetPassword(ctxA, a, pw)
		if got := httpx.Status(apperr.KindOf(err)); (want == 0 && err != nil) || (want != 0 && got != want) {
			t.Errorf("SetPassword(%q) = %v, want status %d", pw, err, want)
		}
	}
}

// BenchmarkMiddlewareBearer measures authenticating one API request by bearer token:
// the digest lookup (joined with the staff status) plus the actor load.
func BenchmarkMiddlewareBearer(b *testing.B) {
	e := newEnv(b)
	id := e.addStaff(b, "bench", "agent", "")
	plain, _, err := e.svc.CreateToken(sysCtx(), id, "bench")
	if err != nil {
		b.Fatal(err)
	}
	h := e.svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if authz.From(r.Context()) == nil {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest("GET", "/api/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+plain)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkHashPassword is the cost of one argon2id hash with the default parameters.
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := hashPassword(defaultParams, testPassword); err != nil {
			b.Fatal(err)
		}
	}
}
