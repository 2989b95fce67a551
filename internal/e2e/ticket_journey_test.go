package e2e

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/platform/mail/mailtest"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// TestPhoneRequestToPortalConfirmation is the service-request journey of issue 4: an
// agent takes a phone request for an existing customer, takes it on, replies and
// resolves it; the customer signs in to the portal with the code emailed to them
// (through a real SMTP exchange with an in-process server), sees the reply and
// confirms the resolution, which closes the request.
func TestPhoneRequestToPortalConfirmation(t *testing.T) {
	chromiumPath(t)
	cat := i18n.MustLoad()
	s := startSite(t)
	sys := authz.WithActor(context.Background(), authz.System("e2e"))

	// Mail goes through SMTP to an in-process server, as an administrator configured it.
	smtpd := mailtest.New(t, "kefu", "smtp-secret")
	pw := smtpd.Password
	if _, err := s.App.Mail.Update(sys, mail.Input{Host: smtpd.Host, Port: smtpd.Port, Username: smtpd.Username,
		Password: &pw, From: "kefu@example.com", FromName: "Kefu", Security: mail.SecurityNone, Enabled: true}); err != nil {
		t.Fatalf("configure SMTP: %v", err)
	}
	agent := s.login(t, "agent")
	agentStaff, err := s.App.Org.StaffByUsername(sys, agent.Username)
	if err != nil {
		t.Fatalf("demo agent: %v", err)
	}
	// The caller is a customer of the agent's book (agents reach their own and their
	// team's customers).
	const email = "lin.xiaowen@example.com"
	cust, err := s.App.Customer.CreateCustomer(sys, customer.Input{Kind: "person", Name: "林晓雯", Mobile: "13912345678",
		Email: email, Province: "浙江省", City: "杭州市", District: "西湖区", OwnerID: agentStaff.ID})
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	title := "热水器不出热水"
	words := "家里的热水器从昨天开始不出热水，麻烦尽快安排处理。"
	reply := "您好，已为您远程重置热水器，请再试一次；如仍有问题请回复我们。"

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	staffCtx, staffConsole := browser(t, ctx)
	step := func(bctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: timed out", name)
			}
			t.Fatalf("%s: %v", name, err)
		}
	}
	read := func(bctx context.Context, name string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(bctx, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}

	// 1. The agent signs in and opens the new-request form from the phone call.
	step(staffCtx, "sign in as the agent",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(s.URL+"/login"),
		visibleIn(i18n.ZhCN, `#login`),
		chromedp.SendKeys(chromedp.ID(`username`), agent.Username),
		chromedp.SendKeys(chromedp.ID(`password`), agent.Password),
		chromedp.Click(chromedp.ID(`login-submit`)),
		visibleIn(i18n.ZhCN, `#me`),
	)
	// 2. Find the caller's file by name and fill in the request in the caller's words.
	step(staffCtx, "search the caller",
		chromedp.Navigate(s.URL+"/tickets/new"),
		chromedp.WaitVisible(chromedp.ID(`cq`)),
		chromedp.SendKeys(chromedp.ID(`cq`), "林晓雯"),
		chromedp.Click(chromedp.ID(`customer-search-go`)),
		chromedp.WaitVisible(chromedp.ID(`customer-`+strconv.FormatInt(cust.ID, 10))),
	)
	step(staffCtx, "fill in the request",
		chromedp.Click(chromedp.ID(`customer-`+strconv.FormatInt(cust.ID, 10))),
		chromedp.SetValue(chromedp.ID(`type`), string(ticket.TypeInquiry)),
		chromedp.SetValue(chromedp.ID(`channel`), string(ticket.ChannelPhone)),
		chromedp.SendKeys(chromedp.ID(`title`), title),
		chromedp.SendKeys(chromedp.ID(`body`), words),
		chromedp.Click(chromedp.ID(`ticket-create`)),
		chromedp.WaitVisible(chromedp.ID(`timeline`)),
	)
	path := read(staffCtx, "request page address", chromedp.Evaluate[string](`location.pathname`))
	m := regexp.MustCompile(`^/tickets/(\d+)$`).FindStringSubmatch(path)
	if m == nil {
		t.Fatalf("after creating, the browser is at %q, want /tickets/{id}", path)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	tk, err := s.App.Ticket.GetTicket(sys, id)
	if err != nil {
		t.Fatalf("load the new request: %v", err)
	}
	if tk.CustomerID != cust.ID || tk.Channel != ticket.ChannelPhone || tk.Title != title {
		t.Fatalf("request %+v is not the phone request for customer %d", tk, cust.ID)
	}
	if !regexp.MustCompile(`^KF\d{8}-\d{4,}$`).MatchString(tk.Number) {
		t.Errorf("request number %q is not KFyyyymmdd-NNNN", tk.Number)
	}
	header := read(staffCtx, "request page", chromedp.Text(chromedp.CSS(`main`)))
	if !strings.Contains(header, tk.Number) {
		t.Errorf("request page does not show the number %s", tk.Number)
	}
	if strings.Contains(header, "13912345678") {
		t.Errorf("request page shows the customer's mobile in clear")
	}
	screenshot(t, staffCtx, "ticket-new.png")

	// 3. The agent takes the request (assignment), replies and resolves it. Each form
	// post reloads the page: the old page is marked first, so that the wait is for the
	// timeline of the page that comes back, not the one already showing.
	markStale := chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`)
	reloaded := chromedp.WaitVisible(chromedp.CSS(`body:not([data-stale]) #timeline`))
	if tk.AssigneeID == 0 {
		step(staffCtx, "take the request", markStale, chromedp.Click(chromedp.CSS(`form#take button`)), reloaded)
	}
	step(staffCtx, "reply",
		chromedp.SendKeys(chromedp.CSS(`form#reply textarea[name=body]`), reply),
		markStale,
		chromedp.Click(chromedp.ID(`reply-send`)),
		reloaded,
	)
	step(staffCtx, "resolve",
		markStale,
		chromedp.Click(chromedp.CSS(`form#transition button[name=to][value=resolved]`)),
		reloaded,
	)
	if tk, err = s.App.Ticket.GetTicket(sys, id); err != nil {
		t.Fatal(err)
	}
	if tk.Status != ticket.StatusResolved || tk.AssigneeID == 0 || tk.RespondedAt.IsZero() {
		t.Fatalf("after the agent's work the request is %s, assignee %d, responded %v; want resolved, assigned, responded",
			tk.Status, tk.AssigneeID, tk.RespondedAt)
	}
	timeline := read(staffCtx, "timeline", chromedp.Text(chromedp.ID(`timeline`)))
	if !strings.Contains(timeline, reply) {
		t.Errorf("the timeline does not show the reply: %q", timeline)
	}
	screenshot(t, staffCtx, "ticket-resolved.png")

	// 4. The customer, in a browser of their own, asks the portal for a sign-in code.
	custCtx, custConsole := browser(t, ctx)
	before := len(smtpd.Messages())
	step(custCtx, "portal sign-in page",
		chromedp.EmulateViewport(390, 844), // a phone
		chromedp.Navigate(s.URL+"/portal"),
		visibleIn(i18n.ZhCN, `#email`),
		chromedp.SendKeys(chromedp.ID(`email`), email),
		chromedp.Submit(chromedp.ID(`email`)),
		visibleIn(i18n.ZhCN, `#code`),
	)
	msgs := smtpd.Wait(before+1, 10*time.Second)
	code := ""
	for _, msg := range msgs[before:] {
		if len(msg.To) > 0 && strings.EqualFold(msg.To[0], email) {
			code = regexp.MustCompile(`\b\d{6}\b`).FindString(msg.Text)
		}
	}
	if code == "" {
		t.Fatalf("no sign-in code was mailed to %s (messages: %+v)", email, msgs[before:])
	}
	step(custCtx, "enter the code",
		chromedp.SendKeys(chromedp.ID(`code`), code),
		chromedp.Submit(chromedp.ID(`code`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/portal/tickets/`+m[1]+`"]`)),
	)
	// 5. The request shows the agent's reply; the customer confirms the resolution.
	step(custCtx, "open the request",
		chromedp.Click(chromedp.CSS(`a[href="/portal/tickets/`+m[1]+`"]`)),
		chromedp.WaitVisible(chromedp.ID(`confirm`)),
	)
	page := read(custCtx, "portal request page", chromedp.Text(chromedp.CSS(`main`)))
	for _, want := range []string{tk.Number, title, reply} {
		if !strings.Contains(page, want) {
			t.Errorf("portal request page lacks %q", want)
		}
	}
	screenshot(t, custCtx, "portal-resolved.png")
	step(custCtx, "confirm",
		chromedp.Click(chromedp.ID(`confirm`)),
		chromedp.WaitNotPresent(chromedp.ID(`confirm`)),
	)
	if tk, err = s.App.Ticket.GetTicket(sys, id); err != nil {
		t.Fatal(err)
	}
	if tk.Status != ticket.StatusClosed || tk.ConfirmedAt.IsZero() {
		t.Fatalf("after the customer's confirmation the request is %s (confirmed %v), want closed and confirmed",
			tk.Status, tk.ConfirmedAt)
	}
	closed := cat.T(i18n.ZhCN, "ticket.status.closed", nil)
	if page = read(custCtx, "portal request page", chromedp.Text(chromedp.CSS(`main`))); !strings.Contains(page, closed) {
		t.Errorf("portal request page does not show the status %q after confirming", closed)
	}

	for _, cl := range []*consoleLog{staffConsole, custConsole} {
		for _, msg := range cl.all() {
			if strings.Contains(msg, "Content Security Policy") || strings.Contains(msg, "exception") {
				t.Errorf("browser console: %s", msg)
			}
		}
	}
}
