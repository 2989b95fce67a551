package portal_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/portal"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// outbox records the messages the portal sends instead of talking SMTP (the SMTP
// client is tested in platform/mail).
type outbox struct {
	mu   sync.Mutex
	msgs []mail.Message
	sms  []string // "mobile|text"
}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return nil
}

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.msgs)
}

var codeRe = regexp.MustCompile(`\b(\d{6})\b`)

// code returns the code in the newest message to addr.
func (o *outbox) code(t *testing.T, addr string) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.msgs) - 1; i >= 0; i-- {
		m := o.msgs[i]
		if len(m.To) == 1 && m.To[0] == addr {
			if c := codeRe.FindStringSubmatch(m.Text); c != nil {
				return c[1]
			}
			t.Fatalf("message to %s has no code: %q", addr, m.Text)
		}
	}
	t.Fatalf("no message to %s among %d", addr, len(o.msgs))
	return ""
}

type smsBox struct{ o *outbox }

func (s smsBox) Send(_ context.Context, mobile, text string) error {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	s.o.sms = append(s.o.sms, mobile+"|"+text)
	return nil
}

type env struct {
	s   *apptest.Server
	box *outbox
}

// newEnv starts a fresh application for t (tests run in parallel, each on its own
// database, so the in-memory throttles never meet).
func newEnv(t *testing.T) *env {
	t.Helper()
	t.Parallel()
	s := apptest.New(t)
	box := &outbox{}
	s.App.Portal.SetMail(box)
	return &env{s: s, box: box}
}

func (e *env) customer(t *testing.T, name, email, mobile string) customer.Customer {
	t.Helper()
	c, err := e.s.App.Customer.CreateCustomer(apptest.SystemCtx(), customer.Input{Kind: customer.KindPerson, Name: name,
		Email: email, Mobile: mobile})
	if err != nil {
		t.Fatalf("create customer %s: %v", name, err)
	}
	return c
}

func (e *env) ticket(t *testing.T, customerID int64, title string) ticket.Ticket {
	t.Helper()
	tk, err := e.s.App.Ticket.CreateTicket(apptest.SystemCtx(), ticket.Input{Type: ticket.TypeInquiry, Channel: ticket.ChannelPhone,
		Severity: ticket.SeverityGeneral, Title: title, Body: "words of " + title, CustomerID: customerID})
	if err != nil {
		t.Fatalf("create ticket: %v", err)
	}
	return tk
}

func (e *env) status(t *testing.T, id int64) ticket.Status {
	t.Helper()
	tk, err := e.s.App.Ticket.GetTicket(apptest.SystemCtx(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk.Status
}

// browser is a customer's browser: a cookie jar, no redirects followed, English.
type browser struct {
	e    *env
	hc   *http.Client
	csrf string
}

type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(t *testing.T, req *http.Request) page {
	t.Helper()
	req.Header.Set("Accept-Language", "en")
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw), header: resp.Header}
}

func (b *browser) get(t *testing.T, path string) page {
	t.Helper()
	req, _ := http.NewRequest("GET", b.e.s.URL+path, nil)
	return b.do(t, req)
}

// post sends a form, with the session's CSRF token unless the form has one.
func (b *browser) post(t *testing.T, path string, form url.Values) page {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if b.csrf != "" && !form.Has("csrf_token") {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(t, req)
}

// signIn runs the whole sign-in with the emailed code.
func (e *env) signIn(t *testing.T, email string) *browser {
	t.Helper()
	b := e.browser()
	if p := b.get(t, "/portal/login"); p.status != 200 {
		t.Fatalf("login page: %d", p.status)
	}
	p := b.post(t, "/portal/login", url.Values{"email": {email}})
	if p.status != 303 || !strings.HasPrefix(p.location, "/portal/verify") {
		t.Fatalf("request code: %d %q\n%s", p.status, p.location, p.body)
	}
	code := e.box.code(t, strings.ToLower(email))
	p = b.post(t, "/portal/verify", url.Values{"code": {code}})
	if p.status != 303 || p.location != "/portal" {
		t.Fatalf("verify: %d %q\n%s", p.status, p.location, p.body)
	}
	home := b.get(t, "/portal")
	if home.status != 200 {
		t.Fatalf("portal home: %d\n%s", home.status, home.body)
	}
	b.csrf = apptest.BodyCSRF([]byte(home.body))
	if b.csrf == "" {
		t.Fatal("no CSRF token on the portal page")
	}
	return b
}

func TestSignInWithEmailedCode(t *testing.T) {
	e := newEnv(t)
	alice := e.customer(t, "Alice Wang", "Alice@Example.com", "")
	b := e.browser()
	p := b.post(t, "/portal/login", url.Values{"email": {"alice@EXAMPLE.com"}})
	if p.status != 303 || p.location != "/portal/verify" {
		t.Fatalf("request code: %d %q", p.status, p.location)
	}
	if e.box.count() != 1 {
		t.Fatalf("%d messages sent, want 1", e.box.count())
	}
	code := e.box.code(t, "alice@example.com")
	v := b.get(t, "/portal/verify")
	if v.status != 200 || !strings.Contains(v.body, "a***@example.com") {
		t.Fatalf("verify page: %d\n%s", v.status, v.body)
	}
	before := e.s.AuditSeq(t)
	p = b.post(t, "/portal/verify", url.Values{"code": {code[:3] + " " + code[3:]}})
	if p.status != 303 || p.location != "/portal" {
		t.Fatalf("verify: %d %q\n%s", p.status, p.location, p.body)
	}
	if !e.s.AuditSince(t, before, portal.ActionSignIn) {
		t.Error("no portal.signin audit entry")
	}
	var cookie string
	for _, c := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, portal.SessionCookie+"=") {
			cookie = c
		}
	}
	if !strings.Contains(cookie, "Path=/portal") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Errorf("session cookie %q lacks Path=/portal, HttpOnly or SameSite=Lax", cookie)
	}
	home := b.get(t, "/portal")
	if home.status != 200 || !strings.Contains(home.body, alice.Name) {
		t.Fatalf("portal home: %d\n%s", home.status, home.body)
	}
	if !strings.Contains(home.body, `name="viewport"`) {
		t.Error("portal layout is not mobile-ready")
	}
	b.csrf = apptest.BodyCSRF([]byte(home.body))

	// Sign out, then the used code does not work again.
	if p := b.post(t, "/portal/logout", nil); p.status != 303 || p.location != "/portal/login" {
		t.Fatalf("logout: %d %q", p.status, p.location)
	}
	if p := b.get(t, "/portal"); p.status != 303 || !strings.HasPrefix(p.location, "/portal/login") {
		t.Fatalf("after logout: %d %q", p.status, p.location)
	}
	b2 := e.browser()
	b2.post(t, "/portal/login", url.Values{"email": {"alice@example.com"}})
	newCode := e.box.code(t, "alice@example.com")
	if newCode == code {
		t.Skip("the same random code twice")
	}
	if p := b2.post(t, "/portal/verify", url.Values{"code": {code}}); p.status != 422 {
		t.Errorf("a used code: %d, want 422", p.status)
	}
	if p := b2.post(t, "/portal/verify", url.Values{"code": {newCode}}); p.status != 303 {
		t.Errorf("the new code: %d, want 303", p.status)
	}
}

func TestUnknownEmailLooksTheSame(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Known", "known@example.com", "")
	known := e.browser().post(t, "/portal/login", url.Values{"email": {"known@example.com"}})
	unknown := e.browser().post(t, "/portal/login", url.Values{"email": {"nobody@example.com"}})
	if known.status != unknown.status || known.location != unknown.location || known.body != unknown.body {
		t.Errorf("known %d %q, unknown %d %q: responses differ", known.status, known.location, unknown.status, unknown.location)
	}
	if e.box.count() != 1 {
		t.Errorf("%d messages sent, want 1 (none for the unknown address)", e.box.count())
	}
	// The unknown address's verify page accepts no code.
	b := e.browser()
	b.post(t, "/portal/login", url.Values{"email": {"nobody@example.com"}})
	if p := b.post(t, "/portal/verify", url.Values{"code": {"123456"}}); p.status != 422 {
		t.Errorf("code for an unknown address: %d, want 422", p.status)
	}
	// Malformed input is the only thing that differs.
	if p := e.browser().post(t, "/portal/login", url.Values{"email": {"not an address"}}); p.status != 422 {
		t.Errorf("malformed address: %d, want 422", p.status)
	}
}

func TestWrongCodesLockTheCode(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Bob", "bob@example.com", "")
	b := e.browser()
	b.post(t, "/portal/login", url.Values{"email": {"bob@example.com"}})
	code := e.box.code(t, "bob@example.com")
	wrong := fmt.Sprintf("%06d", (mustAtoi(code)+1)%1_000_000)
	before := e.s.AuditSeq(t)
	for i := 1; i <= portal.MaxAttempts; i++ {
		p := b.post(t, "/portal/verify", url.Values{"code": {wrong}})
		if p.status != 422 {
			t.Fatalf("wrong code %d: %d, want 422", i, p.status)
		}
		locked := strings.Contains(p.body, "no longer works")
		if locked != (i == portal.MaxAttempts) {
			t.Errorf("wrong code %d: locked message = %v", i, locked)
		}
	}
	if !e.s.AuditSince(t, before, portal.ActionCodeFail) {
		t.Error("no portal.code.fail audit entry")
	}
	if p := b.post(t, "/portal/verify", url.Values{"code": {code}}); p.status != 422 || !strings.Contains(p.body, "no longer works") {
		t.Errorf("right code after %d wrong ones: %d, want 422 locked", portal.MaxAttempts, p.status)
	}
	if p := b.post(t, "/portal/verify", url.Values{"code": {"12ab"}}); p.status != 422 {
		t.Errorf("malformed code: %d, want 422", p.status)
	}
}

func TestExpiredCodeRefused(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Carol", "carol@example.com", "")
	b := e.browser()
	b.post(t, "/portal/login", url.Values{"email": {"carol@example.com"}})
	code := e.box.code(t, "carol@example.com")
	e.s.Clock.Advance(portal.CodeTTL + time.Second)
	if p := b.post(t, "/portal/verify", url.Values{"code": {code}}); p.status != 422 {
		t.Errorf("expired code: %d, want 422", p.status)
	}
	if n, err := e.s.App.Portal.Purge(context.Background()); err != nil || n != 1 {
		t.Errorf("Purge = %d, %v; want 1 expired code", n, err)
	}
}

func TestCodeRequestsAreThrottled(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Dan", "dan@example.com", "")
	var last page
	for i := 0; i < 4; i++ {
		last = e.browser().post(t, "/portal/login", url.Values{"email": {"dan@example.com"}})
	}
	if last.status != http.StatusTooManyRequests {
		t.Errorf("4th code request in a row: %d, want 429", last.status)
	}
	if e.box.count() != 3 {
		t.Errorf("%d messages, want 3", e.box.count())
	}
}

func TestSessionExpiresWhenIdle(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Erin", "erin@example.com", "")
	b := e.signIn(t, "erin@example.com")
	e.s.Clock.Advance(portal.IdleTimeout - time.Minute)
	if p := b.get(t, "/portal"); p.status != 200 {
		t.Fatalf("within idle time: %d", p.status)
	}
	e.s.Clock.Advance(portal.IdleTimeout + time.Minute)
	if p := b.get(t, "/portal"); p.status != 303 || !strings.HasPrefix(p.location, "/portal/login") {
		t.Errorf("after idle timeout: %d %q", p.status, p.location)
	}
}

func TestCustomersSeeOnlyTheirOwnRequests(t *testing.T) {
	e := newEnv(t)
	a := e.customer(t, "Ann", "ann@example.com", "")
	bc := e.customer(t, "Ben", "ben@example.com", "")
	theirs := e.ticket(t, bc.ID, "Ben's broken heater")
	mine := e.ticket(t, a.ID, "Ann's slow internet")
	ann := e.signIn(t, "ann@example.com")
	ben := e.signIn(t, "ben@example.com")

	list := ann.get(t, "/portal")
	if !strings.Contains(list.body, mine.Number) || strings.Contains(list.body, theirs.Number) {
		t.Errorf("Ann's list shows the wrong requests:\n%s", list.body)
	}
	other := "/portal/tickets/" + strconv.FormatInt(theirs.ID, 10)
	tests := []struct {
		name   string
		b      *browser
		method string
		path   string
		form   url.Values
		status int
	}{
		{"own request", ann, "GET", "/portal/tickets/" + strconv.FormatInt(mine.ID, 10), nil, 200},
		{"other's request", ann, "GET", other, nil, 404},
		{"missing request", ann, "GET", "/portal/tickets/999999", nil, 404},
		{"malformed id", ann, "GET", "/portal/tickets/abc", nil, 404},
		{"reply to other's", ann, "POST", other + "/reply", url.Values{"body": {"mine now"}}, 404},
		{"confirm other's", ann, "POST", other + "/confirm", nil, 404},
		{"reopen other's", ann, "POST", other + "/reopen", url.Values{"reason": {"no"}}, 404},
		{"owner reads it", ben, "GET", other, nil, 200},
		{"post without csrf", ann, "POST", "/portal/tickets/" + strconv.FormatInt(mine.ID, 10) + "/reply",
			url.Values{"body": {"x"}, "csrf_token": {"forged"}}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p page
			if tc.method == "GET" {
				p = tc.b.get(t, tc.path)
			} else {
				p = tc.b.post(t, tc.path, tc.form)
			}
			if p.status != tc.status {
				t.Fatalf("%s %s: %d, want %d\n%s", tc.method, tc.path, p.status, tc.status, p.body)
			}
			if tc.status == 404 && strings.Contains(p.body, "heater") {
				t.Error("the 404 page leaks the request")
			}
		})
	}
	if got := e.status(t, theirs.ID); got != ticket.StatusNew {
		t.Errorf("Ben's request is %s after Ann's attempts", got)
	}
}

func TestTimelineReplyConfirmReopen(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Fay", "fay@example.com", "")
	fay := e.signIn(t, "fay@example.com")
	admin := e.s.As(t, "admin")

	if p := fay.get(t, "/portal/tickets/new"); p.status != 200 {
		t.Fatalf("new form: %d", p.status)
	}
	if p := fay.post(t, "/portal/tickets/new", url.Values{"type": {"inquiry"}, "title": {""}, "body": {""}}); p.status != 422 {
		t.Errorf("empty submission: %d, want 422", p.status)
	}
	p := fay.post(t, "/portal/tickets/new", url.Values{"type": {"repair"}, "title": {"Water leaking"}, "body": {"The pipe leaks."}})
	if p.status != 303 || !strings.HasPrefix(p.location, "/portal/tickets/") {
		t.Fatalf("submit: %d %q\n%s", p.status, p.location, p.body)
	}
	id := strings.TrimPrefix(p.location, "/portal/tickets/")
	tid, _ := strconv.ParseInt(id, 10, 64)
	tk, err := e.s.App.Ticket.GetTicket(apptest.SystemCtx(), tid)
	if err != nil || tk.Channel != ticket.ChannelPortal || tk.Type != ticket.TypeRepair {
		t.Fatalf("submitted request = %+v, %v", tk, err)
	}

	for _, call := range []struct{ path, body string }{
		{"/api/v1/tickets/" + id + "/reply", `{"body":"A technician comes tomorrow."}`},
		{"/api/v1/tickets/" + id + "/note", `{"body":"SECRET internal remark"}`},
	} {
		if r := admin.Do(t, "POST", call.path, call.body); r.Status >= 300 {
			t.Fatalf("%s: %d %s", call.path, r.Status, r.Body)
		}
	}
	if p := fay.post(t, "/portal/tickets/"+id+"/reply", url.Values{"body": {"Thank you, I will be home."}}); p.status != 303 {
		t.Fatalf("customer reply: %d\n%s", p.status, p.body)
	}
	if p := fay.post(t, "/portal/tickets/"+id+"/reply", url.Values{"body": {"  "}}); p.status != 422 {
		t.Errorf("empty reply: %d, want 422", p.status)
	}
	view := fay.get(t, "/portal/tickets/"+id)
	for _, want := range []string{"A technician comes tomorrow.", "Thank you, I will be home.", "Water leaking", tk.Number} {
		if !strings.Contains(view.body, want) {
			t.Errorf("request page lacks %q", want)
		}
	}
	if strings.Contains(view.body, "SECRET") {
		t.Error("request page shows an internal note")
	}
	if strings.Contains(view.body, `id="confirm"`) {
		t.Error("confirm button before resolution")
	}
	if p := fay.post(t, "/portal/tickets/"+id+"/confirm", nil); p.status != 409 {
		t.Errorf("confirm before resolution: %d, want 409", p.status)
	}

	// Resolved: reopen with a reason, resolve again, confirm.
	resolve := func() {
		t.Helper()
		if r := admin.Do(t, "POST", "/api/v1/tickets/"+id+"/transition", `{"status":"resolved"}`); r.Status != 200 {
			t.Fatalf("resolve: %d %s", r.Status, r.Body)
		}
	}
	resolve()
	view = fay.get(t, "/portal/tickets/"+id)
	if !strings.Contains(view.body, `id="confirm"`) || !strings.Contains(view.body, `id="reopen"`) {
		t.Fatalf("resolved request lacks confirm and reopen:\n%s", view.body)
	}
	if p := fay.post(t, "/portal/tickets/"+id+"/reopen", url.Values{"reason": {""}}); p.status != 422 {
		t.Errorf("reopen without reason: %d, want 422", p.status)
	}
	if p := fay.post(t, "/portal/tickets/"+id+"/reopen", url.Values{"reason": {"Still leaking"}}); p.status != 303 {
		t.Fatalf("reopen: %d\n%s", p.status, p.body)
	}
	if got := e.status(t, tid); got != ticket.StatusReopened {
		t.Fatalf("after reopen: %s", got)
	}
	if view := fay.get(t, "/portal/tickets/"+id); !strings.Contains(view.body, "Still leaking") {
		t.Error("the reopen reason is not on the timeline")
	}
	resolve()
	if p := fay.post(t, "/portal/tickets/"+id+"/confirm", nil); p.status != 303 {
		t.Fatalf("confirm: %d\n%s", p.status, p.body)
	}
	if got := e.status(t, tid); got != ticket.StatusClosed {
		t.Errorf("after confirm: %s, want closed", got)
	}
	view = fay.get(t, "/portal/tickets/"+id)
	if strings.Contains(view.body, `id="confirm"`) || strings.Contains(view.body, `name="body"`) {
		t.Error("a closed request still offers confirm or reply")
	}
}

func TestSessionsDoNotCross(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Gus", "gus@example.com", "")
	e.s.Staff(t, "staffer", "admin", "cs")
	staff := e.s.Browser(t, "staffer", apptest.Password)
	if r := staff.Do(t, "GET", "/portal", nil); r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/portal/login") {
		t.Errorf("staff session on the portal: %d %q", r.Status, r.Header.Get("Location"))
	}
	admin := e.s.As(t, "admin")
	if r := admin.Do(t, "GET", "/portal", nil); r.Status != 303 {
		t.Errorf("staff token on the portal: %d", r.Status)
	}

	gus := e.signIn(t, "gus@example.com")
	var raw string
	u, _ := url.Parse(e.s.URL + "/portal")
	for _, c := range gus.hc.Jar.Cookies(u) {
		if c.Name == portal.SessionCookie {
			raw = c.Value
		}
	}
	if raw == "" {
		t.Fatal("no portal cookie in the jar")
	}
	for _, path := range []string{"/", "/customers", "/api/v1/tickets", "/api/v1/customers"} {
		req, _ := http.NewRequest("GET", e.s.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: portal.SessionCookie, Value: raw})
		p := gus.do(t, req)
		if p.status != 401 && !(p.status == 303 && strings.HasPrefix(p.location, "/login")) {
			t.Errorf("portal cookie on %s: %d %q", path, p.status, p.location)
		}
	}
}

func TestSignInBySMS(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Hu", "", "13812345678")
	b := e.browser()
	if p := b.post(t, "/portal/login", url.Values{"email": {"138 1234 5678"}}); p.status != 422 {
		t.Errorf("mobile without an SMS provider: %d, want 422", p.status)
	}
	e.s.App.Portal.SetSMS(smsBox{e.box})
	if p := b.post(t, "/portal/login", url.Values{"email": {"138 1234 5678"}}); p.status != 303 {
		t.Fatalf("mobile with SMS: %d", p.status)
	}
	e.box.mu.Lock()
	sent := append([]string(nil), e.box.sms...)
	e.box.mu.Unlock()
	if len(sent) != 1 || !strings.HasPrefix(sent[0], "13812345678|") {
		t.Fatalf("sms = %q", sent)
	}
	code := codeRe.FindString(sent[0][12:])
	if p := b.post(t, "/portal/verify", url.Values{"code": {code}}); p.status != 303 {
		t.Errorf("verify by SMS code: %d", p.status)
	}
}

func TestFAQIsPublic(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if p := b.get(t, "/portal/kb"); p.status != 200 {
		t.Errorf("FAQ list: %d", p.status)
	}
	if p := b.get(t, "/portal/kb/12345"); p.status != 404 {
		t.Errorf("missing article: %d, want 404", p.status)
	}
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// TestConcurrentGuessesStayCapped: guesses sent at once cannot exceed MaxAttempts.
func TestConcurrentGuessesStayCapped(t *testing.T) {
	e := newEnv(t)
	e.customer(t, "Ivy", "ivy@example.com", "")
	b := e.browser()
	b.post(t, "/portal/login", url.Values{"email": {"ivy@example.com"}})
	code := e.box.code(t, "ivy@example.com")
	var wg sync.WaitGroup
	for i := 1; i <= 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.post(t, "/portal/verify", url.Values{"code": {fmt.Sprintf("%06d", (mustAtoi(code)+i)%1_000_000)}})
		}()
	}
	wg.Wait()
	var attempts int
	if err := e.s.App.DB.QueryRow(context.Background(), `SELECT MAX(attempts) FROM portal_codes`).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != portal.MaxAttempts {
		t.Errorf("attempts = %d after 8 concurrent wrong guesses, want %d", attempts, portal.MaxAttempts)
	}
	if p := b.post(t, "/portal/verify", url.Values{"code": {code}}); p.status != 422 {
		t.Errorf("right code after the flood: %d, want 422", p.status)
	}
}
