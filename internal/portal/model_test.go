package portal

import (
	"testing"

	"github.com/kefu-cn/kefu/internal/ticket"
)

func TestParseIdentifier(t *testing.T) {
	tests := []struct {
		in      string
		channel string
		value   string
		ok      bool
	}{
		{"alice@example.com", ChannelEmail, "alice@example.com", true},
		{"  Alice@Example.COM ", ChannelEmail, "alice@example.com", true},
		{"13812345678", ChannelSMS, "13812345678", true},
		{"+86 138-1234-5678", ChannelSMS, "13812345678", true},
		{"", "", "", false},
		{"alice", "", "", false},
		{"alice@", "", "", false},
		{"@example.com", "", "", false},
		{"12345", "", "", false},
		{"Alice <alice@example.com>", "", "", false},
		{string(make([]byte, 300)), "", "", false},
	}
	for _, tc := range tests {
		id, ok := ParseIdentifier(tc.in)
		if ok != tc.ok || id.Channel != tc.channel || id.Value != tc.value {
			t.Errorf("ParseIdentifier(%q) = %+v, %v; want %s %s %v", tc.in, id, ok, tc.channel, tc.value, tc.ok)
		}
	}
}

func TestMasked(t *testing.T) {
	tests := []struct {
		id   Identifier
		want string
	}{
		{Identifier{ChannelEmail, "alice@example.com"}, "a***@example.com"},
		{Identifier{ChannelSMS, "13812345678"}, "138****5678"},
		{Identifier{}, ""},
	}
	for _, tc := range tests {
		if got := tc.id.Masked(); got != tc.want {
			t.Errorf("%+v.Masked() = %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"123456", "123456", true},
		{" 123 456 ", "123456", true},
		{"123-456", "123456", true},
		{"１２３４５６", "123456", true},
		{"12345", "12345", false},
		{"1234567", "1234567", false},
		{"12a456", "", false},
		{"", "", false},
		{"000000", "000000", true},
	}
	for _, tc := range tests {
		got, ok := NormalizeCode(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := newCode()
		if n, ok := NormalizeCode(c); !ok || n != c {
			t.Fatalf("newCode() = %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Errorf("only %d distinct codes in 200", len(seen))
	}
}

func TestPublicTimeline(t *testing.T) {
	var evs []ticket.Event
	for _, k := range []ticket.EventKind{ticket.EventCreated, ticket.EventReply, ticket.EventCustomerReply, ticket.EventNote,
		ticket.EventStatus, ticket.EventAssign, ticket.EventTransfer, ticket.EventDispatch, ticket.EventUpdate,
		ticket.EventAttachment, ticket.EventSLAWarning, ticket.EventSLABreach, ticket.EventEscalation,
		ticket.EventNotification, ticket.EventConfirm, ticket.EventKnowledgeLink, ticket.EventCustomerLinked} {
		evs = append(evs, ticket.Event{Kind: k, Public: true}) // even a note wrongly marked public stays hidden
	}
	got := map[ticket.EventKind]bool{}
	for _, e := range PublicTimeline(evs) {
		got[e.Kind] = true
	}
	want := map[ticket.EventKind]bool{ticket.EventCreated: true, ticket.EventReply: true, ticket.EventCustomerReply: true,
		ticket.EventStatus: true, ticket.EventConfirm: true}
	if len(got) != len(want) {
		t.Errorf("PublicTimeline kept %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("PublicTimeline dropped %s", k)
		}
	}
}

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"":                      "/portal",
		"/portal/tickets/3":     "/portal/tickets/3",
		"/portal":               "/portal",
		"/customers":            "/portal",
		"//evil.example/portal": "/portal",
		"https://evil.example/": "/portal",
		"/portal/login":         "/portal",
		"/portalx":              "/portal",
		"/portal\\..\\x":        "/portal",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseIdentifier(f *testing.F) {
	for _, s := range []string{"alice@example.com", "+86 138 1234 5678", "", "@", "a@b.c", "１３８１２３４５６７８"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseIdentifier(s)
		if !ok {
			return
		}
		again, ok2 := ParseIdentifier(id.Value)
		if !ok2 || again != id {
			t.Errorf("ParseIdentifier(%q) = %+v, not stable: %+v %v", s, id, again, ok2)
		}
		if id.Masked() == "" {
			t.Errorf("no masked form for %+v", id)
		}
	})
}

func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"123456", " 12 34 56", "１２３４５６", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := NormalizeCode(s)
		if ok && (len(c) != CodeDigits || c != mustDigits(c)) {
			t.Errorf("NormalizeCode(%q) = %q", s, c)
		}
	})
}

func mustDigits(s string) string {
	for _, r := range s {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return s
}
