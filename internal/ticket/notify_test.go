package ticket

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/platform/mail/mailtest"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

type notifyEnv struct {
	s    *Service
	d    *db.DB
	jobs *jobs.Runner
	clk  *clock.Fake
	smtp *mailtest.Server
	mail *mail.Service
	cust *customer.Service
	bus  *events.Bus
	ctx  context.Context
	rng  *rand.Rand
}

func newNotifyEnv(t *testing.T) *notifyEnv {
	t.Helper()
	d := dbtest.New(t)
	keys, err := secure.LoadOrCreate(filepath.Join(t.TempDir(), "kefu.keys"), true)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 23, 10, 0, 0, 0, notifyZone))
	al := audit.New(audit.Options{DB: d, Keys: keys, Clock: clk})
	staff := org.New(org.Deps{DB: d, Audit: al, Clock: clk})
	cust, err := customer.New(customer.Deps{DB: d, Audit: al, Keys: keys, Clock: clk, Staff: staff})
	if err != nil {
		t.Fatal(err)
	}
	runner := jobs.New(jobs.Options{DB: d, Clock: clk})
	srv := mailtest.New(t, "kefu", "pw")
	ms := mail.New(mail.Options{DB: d, Keys: keys, Audit: al, Clock: clk, Catalog: i18n.MustLoad(),
		BaseURL: "https://kefu.example.com/"})
	bus := events.New(events.Options{DB: d})
	s, err := New(Deps{DB: d, Audit: al, Clock: clk, Jobs: runner, Customers: cust, Staff: staff, Mail: ms, Events: bus})
	if err != nil {
		t.Fatal(err)
	}
	e := &notifyEnv{s: s, d: d, jobs: runner, clk: clk, smtp: srv, mail: ms, cust: cust, bus: bus,
		ctx: authz.WithActor(context.Background(), authz.System("test")), rng: rand.New(rand.NewPCG(7, 11))}
	e.setMail(t, true)
	return e
}

func (e *notifyEnv) setMail(t *testing.T, enabled bool) {
	t.Helper()
	pw := e.smtp.Password
	if _, err := e.mail.Update(e.ctx, mail.Input{Host: e.smtp.Host, Port: e.smtp.Port, Username: e.smtp.Username,
		Password: &pw, From: "kefu@example.com", FromName: "客服中心", Security: mail.SecurityNone, Enabled: enabled}); err != nil {
		t.Fatal(err)
	}
}

func (e *notifyEnv) customer(t *testing.T, email string) int64 {
	t.Helper()
	c, err := e.cust.CreateCustomer(e.ctx, customer.Input{Kind: customer.KindPerson, Name: "张三",
		Mobile: cnid.GenerateMobile(e.rng), Email: email})
	if err != nil {
		t.Fatalf("customer: %v", err)
	}
	return c.ID
}

func (e *notifyEnv) create(t *testing.T, customerID int64) Ticket {
	t.Helper()
	tk, err := e.s.CreateTicket(e.ctx, Input{Type: TypeRepair, Channel: ChannelPhone, Severity: SeverityGeneral,
		Title: "热水器漏水", Body: "客户反映热水器底部漏水。", CustomerID: customerID, FaultLevel: 1})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return tk
}

func (e *notifyEnv) runJobs(t *testing.T) {
	t.Helper()
	if _, err := e.jobs.RunDue(e.ctx); err != nil {
		t.Fatalf("run jobs: %v", err)
	}
}

func (e *notifyEnv) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *notifyEnv) notifications(t *testing.T, id int64) int {
	return e.count(t, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ? AND kind = ?`, id, string(EventNotification))
}

func TestNotifyAcknowledgement(t *testing.T) {
	e := newNotifyEnv(t)
	withEmail := e.customer(t, "zhang.san@example.cn")
	noEmail := e.customer(t, "")

	tk := e.create(t, withEmail)
	other := e.create(t, noEmail)
	anonymous := e.create(t, 0)
	e.runJobs(t)

	msgs := e.smtp.Wait(1, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	t.Logf("acknowledgement:\n%s\n\n%s", m.Subject, m.Text)
	if len(m.To) != 1 || m.To[0] != "zhang.san@example.cn" {
		t.Errorf("to %v", m.To)
	}
	if !strings.Contains(m.Subject, tk.Number) || !strings.Contains(m.Subject, "已受理") {
		t.Errorf("subject %q", m.Subject)
	}
	due := "我们将尽快处理"
	if !tk.ResolveDueAt.IsZero() {
		due = tk.ResolveDueAt.In(notifyZone).Format("2006-01-02 15:04")
	}
	for _, want := range []string{tk.Number, "热水器漏水", due, "张三", fmt.Sprintf("https://kefu.example.com/portal/tickets/%d", tk.ID)} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if got := m.Header.Get("X-Kefu-Ticket"); got != tk.Number {
		t.Errorf("X-Kefu-Ticket %q", got)
	}
	if n := e.notifications(t, tk.ID); n != 1 {
		t.Errorf("%d notification events", n)
	}
	for _, id := range []int64{other.ID, anonymous.ID} {
		if n := e.notifications(t, id); n != 0 {
			t.Errorf("ticket %d: %d notification events without an email", id, n)
		}
	}
	if n := e.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND target_id = ?`, "ticket.notification", fmt.Sprint(tk.ID)); n != 1 {
		t.Errorf("audit entries %d", n)
	}
	// A job that runs again (e.g. after a crash) mails once.
	if err := e.s.runNotify(e.ctx, jobs.Job{Kind: JobNotify,
		Payload: []byte(fmt.Sprintf(`{"ticket_id":%d,"notice":"ack","key":"ack"}`, tk.ID))}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.smtp.Messages()); n != 1 {
		t.Errorf("%d messages after a repeated job", n)
	}
}

func TestNotifyConfirmationOnResolve(t *testing.T) {
	e := newNotifyEnv(t)
	tk := e.create(t, e.customer(t, "li.si@example.cn"))
	e.runJobs(t)
	e.clk.Advance(2 * time.Hour)
	resolved, err := e.s.Transition(e.ctx, tk.ID, StatusResolved, "")
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	e.runJobs(t)
	msgs := e.smtp.Wait(2, 5*time.Second)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	m := msgs[1]
	by := e.clk.Now().Add(ConfirmWindow)
	if !resolved.ConfirmDueAt.IsZero() {
		by = resolved.ConfirmDueAt
	}
	confirmBy := by.In(notifyZone).Format("2006-01-02 15:04")
	if !strings.Contains(m.Subject, tk.Number) || !strings.Contains(m.Subject, "确认") {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{confirmBy, fmt.Sprintf("/portal/tickets/%d", tk.ID)} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if n := e.notifications(t, tk.ID); n != 2 {
		t.Errorf("%d notification events", n)
	}
}

func TestNotifyMailDisabled(t *testing.T) {
	e := newNotifyEnv(t)
	cid := e.customer(t, "wang.wu@example.cn")
	// Enqueued while on, switched off before the job runs: done, nothing sent.
	tk := e.create(t, cid)
	e.setMail(t, false)
	e.runJobs(t)
	if n := e.count(t, `SELECT COUNT(*) FROM jobs WHERE kind = ? AND status = ?`, JobNotify, string(jobs.Done)); n != 1 {
		t.Errorf("%d done notify jobs", n)
	}
	// Off at creation: no job at all.
	e.create(t, cid)
	if n := e.count(t, `SELECT COUNT(*) FROM jobs WHERE kind = ?`, JobNotify); n != 1 {
		t.Errorf("%d notify jobs", n)
	}
	if n := len(e.smtp.Messages()); n != 0 {
		t.Errorf("%d messages while disabled", n)
	}
	if n := e.notifications(t, tk.ID); n != 0 {
		t.Errorf("%d notification events while disabled", n)
	}
}

func TestAutoClose(t *testing.T) {
	e := newNotifyEnv(t)
	e.setMail(t, false)
	sub := e.bus.Subscribe(TopicClosed)
	defer sub.Close()
	tk := e.create(t, 0)
	open := e.create(t, 0)
	if _, err := e.s.Transition(e.ctx, tk.ID, StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		closed  int
		status  Status
	}{
		{71 * time.Hour, 0, StatusResolved},
		{time.Hour - time.Millisecond, 0, StatusResolved},
		{time.Millisecond, 1, StatusClosed},
		{24 * time.Hour, 0, StatusClosed},
	}
	for i, st := range steps {
		e.clk.Advance(st.advance)
		n, err := e.s.AutoClose(context.Background())
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if n != st.closed {
			t.Errorf("step %d: closed %d, want %d", i, n, st.closed)
		}
		got, err := e.s.store.GetTicket(context.Background(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != st.status {
			t.Errorf("step %d: status %s, want %s", i, got.Status, st.status)
		}
	}
	if got, _ := e.s.store.GetTicket(context.Background(), open.ID); got.Status != StatusNew {
		t.Errorf("open request touched: %s", got.Status)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ? AND kind = ? AND body = ?`,
		tk.ID, string(EventStatus), ReasonAutoClose); n != 1 {
		t.Errorf("%d auto_close events", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND target_id = ? AND actor_id = 0`,
		"ticket.status", fmt.Sprint(tk.ID)); n < 1 {
		t.Errorf("close not audited as the system")
	}
	select {
	case ev := <-sub.C:
		if ev.ID != tk.ID {
			t.Errorf("closed event %+v", ev)
		}
	case <-time.After(time.Second):
		t.Error("no ticket.closed event")
	}
}

func TestAutoCloseSetting(t *testing.T) {
	e := newNotifyEnv(t)
	e.setMail(t, false)
	st, err := e.s.GetTicketSettings(e.ctx)
	if err != nil || st.AutoCloseAfter != "3d" || st.AutoCloseHours != 72 {
		t.Fatalf("default %+v %v", st, err)
	}
	tests := []struct {
		in    string
		want  string
		valid bool
	}{
		{"24h", "1d", true},
		{"36h", "36h", true},
		{"2d", "2d", true},
		{"30m", "", false},
		{"91d", "", false},
		{"soon", "", false},
		{"-1h", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			in := tc.in
			st, err := e.s.UpdateTicketSettings(e.ctx, TicketSettingsPatch{AutoCloseAfter: &in})
			if !tc.valid {
				if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Invalid || ae.Fields["autoclose_after"].Key == "" {
					t.Fatalf("want a validation error naming autoclose_after, got %v", err)
				}
				return
			}
			if err != nil || st.AutoCloseAfter != tc.want {
				t.Fatalf("%+v %v", st, err)
			}
		})
	}
	// 2d now: a request resolved 47 h ago stays, 48 h closes.
	tk := e.create(t, 0)
	if _, err := e.s.Transition(e.ctx, tk.ID, StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(47 * time.Hour)
	if n, _ := e.s.AutoClose(context.Background()); n != 0 {
		t.Fatalf("closed %d before the quiet period", n)
	}
	e.clk.Advance(time.Hour)
	if n, _ := e.s.AutoClose(context.Background()); n != 1 {
		t.Fatalf("closed %d after the quiet period", n)
	}
	noPerm := authz.WithActor(context.Background(), &authz.Actor{ID: 3, Kind: authz.KindStaff})
	if _, err := e.s.GetTicketSettings(noPerm); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("get without permission: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, "ticket.settings.update"); n != 3 {
		t.Errorf("%d settings audit entries", n)
	}
}

func TestAutoCloseRegisteredPeriodic(t *testing.T) {
	e := newNotifyEnv(t)
	e.setMail(t, false)
	tk := e.create(t, 0)
	if _, err := e.s.Transition(e.ctx, tk.ID, StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(DefaultAutoCloseAfter + autoCloseEvery)
	e.runJobs(t) // enqueues the current period's auto-close job and runs it
	got, err := e.s.store.GetTicket(context.Background(), tk.ID)
	if err != nil || got.Status != StatusClosed {
		t.Fatalf("status %s %v", got.Status, err)
	}
}
