package survey_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/survey"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// fakeMail records the messages sent (a real sender for the survey: it only needs Send).
type fakeMail struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (f *fakeMail) Send(_ context.Context, m mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m)
	return nil
}

func (f *fakeMail) all() []mail.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]mail.Message(nil), f.sent...)
}

type smsMsg struct{ to, text string }

type fakeSMS struct {
	mu   sync.Mutex
	sent []smsMsg
}

func (f *fakeSMS) Send(_ context.Context, mobile, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, smsMsg{mobile, text})
	return nil
}

// env is the application with the survey's senders replaced by recorders.
type env struct {
	s    *apptest.Server
	svc  *survey.Service
	mail *fakeMail
	sms  *fakeSMS
}

var mobileSeq atomic.Int64

// testMobile returns a valid mainland mobile number, unique in the test binary.
func testMobile() string { return fmt.Sprintf("139%08d", 10000000+mobileSeq.Add(1)) }

func newEnv(t testing.TB) *env {
	t.Helper()
	s := apptest.New(t)
	s.Clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	e := &env{s: s, svc: s.App.Survey, mail: &fakeMail{}, sms: &fakeSMS{}}
	e.svc.SetSenders(e.mail, nil)
	return e
}

func sys() context.Context { return apptest.SystemCtx() }

// customer creates a person with the given email and mobile ("" = none).
func (e *env) customer(t testing.TB, name, email, mobile string) customer.Customer {
	t.Helper()
	c, err := e.s.App.Customer.CreateCustomer(sys(), customer.Input{Kind: customer.KindPerson, Name: name, Email: email,
		Mobile: mobile})
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	return c
}

// resolved creates a request of customerID in dept and resolves it (as the system).
func (e *env) resolved(t testing.TB, customerID, deptID int64, assignee int64) ticket.Ticket {
	t.Helper()
	tk, err := e.s.App.Ticket.CreateTicket(sys(), ticket.Input{Type: ticket.TypeRepair, Channel: ticket.ChannelPhone, Severity: ticket.SeverityGeneral, FaultLevel: 1,
		Title: "空调不制冷", Body: "客室空调不制冷，请派人维修。", CustomerID: customerID, DeptID: deptID, Reason: "survey test"})
	if err != nil {
		t.Fatalf("create request: %v", err)
	}
	if assignee != 0 {
		a := assignee
		if tk, err = e.s.App.Ticket.Assign(sys(), tk.ID, ticket.AssignInput{AssigneeID: &a, Reason: "survey test", Force: true}); err != nil {
			t.Fatalf("assign request: %v", err)
		}
	}
	if tk, err = e.s.App.Ticket.Transition(sys(), tk.ID, ticket.StatusResolved, ""); err != nil {
		t.Fatalf("resolve request: %v", err)
	}
	return tk
}

// invites lists every invitation (as the system), newest first.
func (e *env) invites(t testing.TB, f survey.InviteFilter) []survey.Invite {
	t.Helper()
	items, _, err := e.svc.List(sys(), f, 100, "")
	if err != nil {
		t.Fatalf("list invitations: %v", err)
	}
	return items
}

func (e *env) invite(t testing.TB, id int64) survey.Invite {
	t.Helper()
	inv, _, err := e.svc.Get(sys(), id)
	if err != nil {
		t.Fatalf("get invitation %d: %v", id, err)
	}
	return inv
}

// sendDue runs the sweep as the job would.
func (e *env) sendDue(t testing.TB) int {
	t.Helper()
	n, err := e.svc.SendDue(context.Background())
	if err != nil {
		t.Fatalf("send due: %v", err)
	}
	return n
}

var linkRe = regexp.MustCompile(`/s/([A-Za-z0-9_-]{43})`)

// tokenIn extracts the link token from a message text.
func tokenIn(t testing.TB, text string) string {
	t.Helper()
	m := linkRe.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no survey link in %q", text)
	}
	return m[1]
}

// visitor is a browser-like client without a staff session (cookies kept).
type visitor struct {
	base string
	hc   *http.Client
}

func (e *env) visitor() *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{base: e.s.URL, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	body   string
	loc    string
}

func (v *visitor) get(t testing.TB, path string) page {
	t.Helper()
	resp, err := v.hc.Get(v.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, body: string(b), loc: resp.Header.Get("Location")}
}

func (v *visitor) post(t testing.TB, path string, form url.Values) page {
	t.Helper()
	req, _ := http.NewRequest("POST", v.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := v.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, body: string(b), loc: resp.Header.Get("Location")}
}

// answerForm opens the form of token and returns its CSRF field with the answers.
func (v *visitor) answerForm(t testing.TB, token string, answers url.Values) url.Values {
	t.Helper()
	p := v.get(t, "/s/"+token)
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="survey-form"`) {
		t.Fatalf("GET /s/{token}: %d\n%s", p.status, p.body)
	}
	form := url.Values{"csrf_token": {apptest.HiddenField([]byte(p.body), "csrf_token")}}
	for k, vs := range answers {
		form[k] = vs
	}
	return form
}
