package httpx_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

type fuzzTarget struct {
	Name   string            `json:"name"`
	Count  int               `json:"count"`
	Ratio  float64           `json:"ratio"`
	OK     bool              `json:"ok"`
	Tags   []string          `json:"tags"`
	Meta   map[string]string `json:"meta"`
	Nested *struct {
		ID int64 `json:"id"`
	} `json:"nested"`
	Channel uint8  `json:"channel"`
	Body    string `json:"body" text:"multiline"`
	Lines   []struct {
		Title string `json:"title"`
		Note  string `json:"note" text:"multiline"`
	} `json:"lines"`
	Any any `json:"any"`
}

// FuzzDecode: whatever the body and content type, Decode either succeeds or returns a
// client error (Malformed, Invalid or TooLarge) whose message translates in every
// language; it never returns an error that would become a 5xx. Invalid always names a
// field. What it accepts is valid UTF-8 with no control character outside multi-line
// fields, and has a U+FFFD only where the client sent one.
func FuzzDecode(f *testing.F) {
	seeds := []struct{ ct, body string }{
		{"application/json", `{"name":"张三","count":1,"ratio":0.5,"ok":true,"tags":["a"],"meta":{"k":"v"},"nested":{"id":9},"channel":3}`},
		{"application/json", `{}`},
		{"application/json", ``},
		{"application/json", `{"count":"x"}`},
		{"application/json", `{"channel":300}`},
		{"application/json", `{"unknown":1}`},
		{"application/json", `{"name":"a"} trailing`},
		{"application/json", `[`},
		{"application/json", `{"nested":{"id":1e400}}`},
		{"application/json", "\xff\xfe"},
		{"application/json; charset=gbk", `{"name":"x"}`},
		{"text/plain", `{}`},
		{"", `null`},
		{"application/problem+json", `{"ok":false}`},
		{"application/json", `{"name":"` + strings.Repeat("长", 400) + `"}`},
		{"application/json", `{"name":"a","name":"b"}`},
		{"application/json", `{"lines":[{"title":"t","note":"a\nb"},{"title":"x","title":"y"}]}`},
		{"application/json", `{"name":"\ud800"}`},
		{"application/json", `{"body":"\ud83d\ude00\r\n\t\u202e"}`},
		{"application/json", `{"name":"a\u202eb"}`},
		{"application/json", `{"any":{"k":["\u0000",{"x":"\ufffd"}]},"meta":{"a\nb":"c"}}`},
	}
	for _, s := range seeds {
		f.Add(s.ct, s.body)
	}
	cat := i18n.MustLoad()
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 1024)
		var dst fuzzTarget
		err := httpx.Decode(r, &dst)
		if err == nil {
			if len(body) > 1024 {
				t.Fatalf("accepted a %d-byte body over the 1024-byte limit", len(body))
			}
			if err := httpx.CheckText(&dst); err != nil {
				t.Fatalf("accepted text that breaks the rules: %v", err)
			}
			if !utf8.ValidString(body) {
				t.Fatalf("accepted invalid UTF-8")
			}
			sent := strings.Contains(body, "\uFFFD") || strings.Contains(strings.ToLower(body), `\ufffd`)
			if !sent && strings.Contains(fmt.Sprintf("%+v", dst), "\uFFFD") {
				t.Fatalf("a U+FFFD appeared that the client did not send: %+v", dst)
			}
			return
		}
		e, ok := apperr.As(err)
		if !ok {
			t.Fatalf("Decode returned an unclassified error (would be a 500): %v", err)
		}
		if e.Kind != apperr.Malformed && e.Kind != apperr.TooLarge && e.Kind != apperr.Invalid {
			t.Fatalf("Decode returned kind %v, want Malformed, Invalid or TooLarge: %v", e.Kind, err)
		}
		if e.Kind == apperr.Invalid && len(e.Fields) == 0 {
			t.Fatalf("Invalid without a field: %v", err)
		}
		for f, m := range e.Fields {
			if f == "" || !cat.Has(m.Key) {
				t.Fatalf("field %q message %q", f, m.Key)
			}
		}
		if st := httpx.Status(e.Kind); st < 400 || st >= 500 {
			t.Fatalf("status %d for %v", st, err)
		}
		if !cat.Has(e.Msg.Key) {
			t.Fatalf("error key %q is not in the catalog", e.Msg.Key)
		}
		if e.Kind == apperr.TooLarge && len(body) <= 1024 {
			t.Fatalf("TooLarge for a %d-byte body", len(body))
		}
	})
}
