package mail

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/mail/mailtest"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

func newService(t *testing.T) (*Service, *audit.Log, context.Context) {
	t.Helper()
	d := dbtest.New(t)
	keys, err := secure.LoadOrCreate(filepath.Join(t.TempDir(), "keys.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	al := audit.New(audit.Options{DB: d, Keys: keys})
	s := New(Options{DB: d, Keys: keys, Audit: al, Catalog: i18n.MustLoad()})
	return s, al, authz.WithActor(context.Background(), authz.System("test"))
}

func ptr(s string) *string { return &s }

func configure(t *testing.T, s *Service, ctx context.Context, srv *mailtest.Server, enabled bool) {
	t.Helper()
	_, err := s.Update(ctx, Input{Host: srv.Host, Port: srv.Port, Username: srv.Username, Password: ptr(srv.Password),
		From: "kefu@example.com", FromName: "客服中心", Security: SecurityNone, Enabled: enabled})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSendChineseWithAuth(t *testing.T) {
	s, _, ctx := newService(t)
	srv := mailtest.New(t, "agent", "s3cret")
	configure(t, s, ctx, srv, true)
	subject := "【客服中心】您的工单 KF20261123-0042 已受理"
	text := "尊敬的客户：您好！您的服务请求已受理，我们将在 2026-11-25 18:00 前处理完毕。"
	tests := []struct {
		name string
		msg  Message
	}{
		{"plain", Message{To: []string{"zhang@example.cn"}, Subject: subject, Text: text,
			Headers: map[string]string{"X-Kefu-Ticket": "42"}}},
		{"alternative", Message{To: []string{"zhang@example.cn"}, Subject: subject, Text: text, HTML: "<p>" + text + "</p>"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Send(ctx, tc.msg); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Wait(i+1, 5*time.Second)
			if len(msgs) != i+1 {
				t.Fatalf("%d messages", len(msgs))
			}
			m := msgs[i]
			if m.Subject != subject {
				t.Errorf("subject %q", m.Subject)
			}
			if strings.TrimSpace(m.Text) != text {
				t.Errorf("text %q", m.Text)
			}
			if tc.msg.HTML != "" && !strings.Contains(m.HTML, text) {
				t.Errorf("html %q", m.HTML)
			}
			raw := string(m.Raw)
			if !strings.Contains(raw, "=?utf-8?") && !strings.Contains(raw, "=?UTF-8?") {
				t.Errorf("subject not encoded:\n%s", raw)
			}
			for _, h := range []string{"Message-Id:", "Date:", "Mime-Version: 1.0"} {
				if !strings.Contains(raw, h) {
					t.Errorf("missing %s:\n%s", h, raw)
				}
			}
			if m.From != "kefu@example.com" || len(m.To) != 1 || m.To[0] != "zhang@example.cn" {
				t.Errorf("envelope %s -> %v", m.From, m.To)
			}
			from, _ := m.Header.AddressList("From")
			if len(from) != 1 || from[0].Name != "客服中心" {
				t.Errorf("from %v", from)
			}
			if tc.msg.HTML != "" && !strings.Contains(raw, "multipart/alternative") {
				t.Errorf("not multipart/alternative")
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	s, _, ctx := newService(t)
	srv := mailtest.New(t, "agent", "s3cret")
	configure(t, s, ctx, srv, true)
	if err := s.Send(ctx, Message{To: []string{"refuse-me@example.com"}, Subject: "x", Text: "x"}); err == nil ||
		!strings.Contains(err.Error(), "550") {
		t.Errorf("refused recipient: %v", err)
	}
	if err := s.Send(ctx, Message{To: []string{"not an address"}, Subject: "x", Text: "x"}); !errors.Is(err, ErrBadAddress) {
		t.Errorf("bad address: %v", err)
	}
	if err := s.Send(ctx, Message{To: []string{"a@example.com"}, Subject: "x", Text: "x",
		Headers: map[string]string{"Bcc": "evil@example.com"}}); !errors.Is(err, ErrBadHeader) {
		t.Errorf("reserved header: %v", err)
	}
	// Wrong password.
	if _, err := s.Update(ctx, Input{Host: srv.Host, Port: srv.Port, Username: "agent", Password: ptr("wrong"),
		From: "kefu@example.com", Security: SecurityNone, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, Message{To: []string{"a@example.com"}, Subject: "x", Text: "x"}); err == nil ||
		!strings.Contains(err.Error(), "authenticate") {
		t.Errorf("bad password: %v", err)
	}
	// Disabled.
	configure(t, s, ctx, srv, false)
	if err := s.Send(ctx, Message{To: []string{"a@example.com"}, Subject: "x", Text: "x"}); !errors.Is(err, ErrDisabled) {
		t.Errorf("disabled: %v", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestNeverConfiguredIsDisabled(t *testing.T) {
	s, _, ctx := newService(t)
	if err := s.Send(ctx, Message{To: []string{"a@example.com"}, Subject: "x", Text: "x"}); !errors.Is(err, ErrDisabled) {
		t.Fatalf("got %v", err)
	}
	v, err := s.Get(ctx)
	if err != nil || v.Enabled || v.Port != 587 || v.Security != SecurityStartTLS {
		t.Fatalf("defaults %+v %v", v, err)
	}
}

func TestSettingsStoredSafely(t *testing.T) {
	s, _, ctx := newService(t)
	srv := mailtest.New(t, "agent", "s3cret")
	configure(t, s, ctx, srv, true)
	raw, _, ok, err := readSetting(ctx, s.db, SettingKey)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if strings.Contains(raw, "s3cret") || !strings.Contains(raw, "password_enc") {
		t.Fatalf("password stored in clear: %s", raw)
	}
	v, err := s.Get(ctx)
	if err != nil || !v.PasswordSet || v.Username != "agent" || v.Host != srv.Host {
		t.Fatalf("view %+v %v", v, err)
	}
	// Password nil keeps it; "" clears it (then the enabled setting with a user needs one).
	if v, err = s.Update(ctx, Input{Host: srv.Host, Port: srv.Port, Username: "agent", From: "kefu@example.com",
		Security: SecurityNone, Enabled: true}); err != nil || !v.PasswordSet {
		t.Fatalf("keep: %+v %v", v, err)
	}
	if err := s.Send(ctx, Message{To: []string{"a@example.com"}, Subject: "x", Text: "x"}); err != nil {
		t.Fatalf("send with kept password: %v", err)
	}
	_, err = s.Update(ctx, Input{Host: srv.Host, Port: srv.Port, Username: "agent", Password: ptr(""),
		From: "kefu@example.com", Security: SecurityNone, Enabled: true})
	assertFields(t, err, "password")
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, "settings.mail.update").Scan(&n); err != nil || n != 2 {
		t.Errorf("audit entries %d %v", n, err)
	}
}

func assertFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.Invalid {
		t.Fatalf("want validation error, got %v", err)
	}
	for _, f := range fields {
		if _, ok := e.Fields[f]; !ok {
			t.Errorf("field %s not named in %v", f, e.Fields)
		}
	}
	if len(e.Fields) != len(fields) {
		t.Errorf("fields %v, want %v", e.Fields, fields)
	}
}

func TestValidation(t *testing.T) {
	s, _, ctx := newService(t)
	tests := []struct {
		name   string
		in     Input
		fields []string
	}{
		{"enabled needs host and from", Input{Port: 25, Enabled: true}, []string{"host", "from"}},
		{"bad port", Input{Host: "smtp.example.com", Port: 70000, From: "a@example.com"}, []string{"port"}},
		{"bad host", Input{Host: "smtp example.com", Port: 25, From: "a@example.com"}, []string{"host"}},
		{"bad from", Input{Host: "smtp.example.com", Port: 25, From: "not-an-address"}, []string{"from"}},
		{"bad security", Input{Host: "smtp.example.com", Port: 25, From: "a@example.com", Security: "ssl3"}, []string{"security"}},
		{"name with newline", Input{Host: "smtp.example.com", Port: 25, From: "a@example.com", FromName: "a\r\nBcc: x"}, []string{"from_name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Update(ctx, tc.in)
			assertFields(t, err, tc.fields...)
		})
	}
	staff := authz.WithActor(context.Background(), &authz.Actor{ID: 9, Kind: authz.KindStaff})
	if _, err := s.Get(staff); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("get without permission: %v", err)
	}
	if _, err := s.Update(staff, Input{Port: 25}); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("update without permission: %v", err)
	}
	if err := s.SendTest(staff, "a@example.com"); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("test without permission: %v", err)
	}
}

func TestSendTest(t *testing.T) {
	s, _, ctx := newService(t)
	if err := s.SendTest(ctx, "a@example.com"); apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("unconfigured: %v", err)
	}
	srv := mailtest.New(t, "", "")
	configure(t, s, ctx, srv, false) // a test works before mail is switched on
	if err := s.SendTest(ctx, "bad"); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("bad address: %v", err)
	}
	if err := s.SendTest(i18n.WithLang(ctx, i18n.En), "admin@example.com"); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Wait(1, 5*time.Second)
	if len(msgs) != 1 || msgs[0].Subject != "Service center test mail" {
		t.Fatalf("messages %+v", msgs)
	}
	if err := s.SendTest(ctx, "refuse@example.com"); apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("refused: %v", err)
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"a@example.com", true},
		{" zhang.san+kf@example.com.cn ", true},
		{"root@localhost", true},
		{"", false},
		{"a@", false},
		{"@example.com", false},
		{"A <a@example.com>", false},
		{"a@example.com\r\nBcc: b@example.com", false},
		{"a@example.com, b@example.com", false},
		{"a@nodot", false},
		{strings.Repeat("a", 250) + "@example.com", false},
	}
	for _, tc := range tests {
		if _, err := ParseAddress(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseAddress(%q) = %v", tc.in, err)
		}
	}
}

func TestCheckHeader(t *testing.T) {
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"X-Kefu-Ticket", "42", true},
		{"X-Kefu-Title", "漏水报修", true},
		{"Subject", "x", false},
		{"X Bad", "x", false},
		{"X-Colon:", "x", false},
		{"X-Inject", "a\r\nBcc: b", false},
		{"", "x", false},
	}
	for _, tc := range tests {
		if err := CheckHeader(tc.name, tc.value); (err == nil) != tc.ok {
			t.Errorf("CheckHeader(%q, %q) = %v", tc.name, tc.value, err)
		}
	}
}

func TestTransferEncoding(t *testing.T) {
	if transferEncoding("hello world") != "quoted-printable" || transferEncoding("您好，世界") != "base64" {
		t.Fatal("wrong choice")
	}
}

func TestSendOverTLS(t *testing.T) {
	tests := []struct {
		mode     string
		security Security
	}{
		{mailtest.StartTLS, SecurityStartTLS},
		{mailtest.Implicit, SecurityTLS},
	}
	for _, tc := range tests {
		t.Run(string(tc.security), func(t *testing.T) {
			srv := mailtest.NewTLS(t, "agent", "s3cret", tc.mode)
			s, _, ctx := newService(t)
			s.tls = srv.ClientTLS
			if _, err := s.Update(ctx, Input{Host: srv.Host, Port: srv.Port, Username: "agent", Password: ptr("s3cret"),
				From: "kefu@example.com", Security: tc.security, Enabled: true}); err != nil {
				t.Fatal(err)
			}
			if err := s.Send(ctx, Message{To: []string{"a@example.com"}, Subject: "工单", Text: "您好"}); err != nil {
				t.Fatal(err)
			}
			if msgs := srv.Wait(1, 5*time.Second); len(msgs) != 1 || msgs[0].Subject != "工单" {
				t.Fatalf("messages %+v", msgs)
			}
			// Without trusting the certificate the connection is refused.
			s.tls = nil
			if err := s.Send(ctx, Message{To: []string{"a@example.com"}, Subject: "x", Text: "x"}); err == nil {
				t.Fatal("sent to an untrusted server")
			}
		})
	}
}
