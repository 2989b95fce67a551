package httpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

var cat = i18n.MustLoad()

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type decodeTarget struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
	Addr struct {
		Zip int `json:"zip"`
	} `json:"addr"`
	Tags []string `json:"tags"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		ct    string
		body  string
		limit int64 // 0 = no limit
		kind  apperr.Kind
		key   string
		field string // the "field" member of the error body, if any
	}{
		{name: "ok", ct: "application/json", body: `{"name":"张三","age":30,"tags":["a"]}`},
		{name: "ok with charset", ct: "application/json; charset=utf-8", body: `{"name":"a"}`},
		{name: "ok vendor json", ct: "application/vnd.kefu+json", body: `{"age":1}`},
		{name: "ok no content type", body: `{"name":"a"}`},
		{name: "ok trailing space", ct: "application/json", body: "{\"name\":\"a\"}\n\t "},
		{name: "wrong content type", ct: "text/plain", body: `{}`, kind: apperr.Malformed, key: "error.malformed.content_type"},
		{name: "form content type", ct: "application/x-www-form-urlencoded", body: `a=b`, kind: apperr.Malformed, key: "error.malformed.content_type"},
		{name: "broken content type", ct: ";;", body: `{}`, kind: apperr.Malformed, key: "error.malformed.content_type"},
		{name: "empty", ct: "application/json", body: ``, kind: apperr.Malformed, key: "error.malformed.empty"},
		{name: "syntax", ct: "application/json", body: `{"name":}`, kind: apperr.Malformed, key: "error.malformed.json"},
		{name: "truncated", ct: "application/json", body: `{"name":"a"`, kind: apperr.Malformed, key: "error.malformed.json"},
		{name: "wrong type", ct: "application/json", body: `{"age":"thirty"}`, kind: apperr.Malformed, key: "error.malformed.type", field: "age"},
		{name: "wrong nested type", ct: "application/json", body: `{"addr":{"zip":"x"}}`, kind: apperr.Malformed, key: "error.malformed.type", field: "addr.zip"},
		{name: "array for object", ct: "application/json", body: `[1,2]`, kind: apperr.Malformed, key: "error.malformed.type", field: "(body)"},
		{name: "unknown field", ct: "application/json", body: `{"name":"a","admin":true}`, kind: apperr.Malformed, key: "error.malformed.unknown_field", field: "admin"},
		{name: "trailing object", ct: "application/json", body: `{"name":"a"}{"name":"b"}`, kind: apperr.Malformed, key: "error.malformed.trailing"},
		{name: "trailing junk", ct: "application/json", body: `{"name":"a"} x`, kind: apperr.Malformed, key: "error.malformed.trailing"},
		{name: "too large", ct: "application/json", body: `{"name":"` + strings.Repeat("x", 200) + `"}`, limit: 64, kind: apperr.TooLarge, key: "error.too_large"},
		{name: "too large after value", ct: "application/json", body: `{"name":"a"}` + strings.Repeat(" ", 200), limit: 64, kind: apperr.TooLarge, key: "error.too_large"},
		// Input hygiene (issue 7 item 7).
		{name: "invalid utf-8 bytes", ct: "application/json", body: "{\"name\":\"a\xff\"}", kind: apperr.Malformed, key: "error.malformed.utf8", field: "(body)"},
		{name: "lone high surrogate", ct: "application/json", body: `{"name":"a\ud800b"}`, kind: apperr.Malformed, key: "error.malformed.surrogate", field: "name"},
		{name: "lone low surrogate", ct: "application/json", body: `{"name":"\uDC00"}`, kind: apperr.Malformed, key: "error.malformed.surrogate", field: "name"},
		{name: "reversed surrogates", ct: "application/json", body: `{"tags":["\udc00\ud800"]}`, kind: apperr.Malformed, key: "error.malformed.surrogate", field: "tags[0]"},
		{name: "high surrogate then letter", ct: "application/json", body: `{"name":"\ud83d\u0041"}`, kind: apperr.Malformed, key: "error.malformed.surrogate", field: "name"},
		{name: "ok surrogate pair", ct: "application/json", body: `{"name":"\ud83d\ude00 \u4e2d \"\\\ufffd"}`},
		{name: "duplicate key", ct: "application/json", body: `{"name":"a","age":1,"name":"b"}`, kind: apperr.Malformed, key: "error.malformed.duplicate_key", field: "name"},
		{name: "duplicate nested key", ct: "application/json", body: `{"addr":{"zip":1,"zip":2}}`, kind: apperr.Malformed, key: "error.malformed.duplicate_key", field: "addr.zip"},
		{name: "duplicate key in another case", ct: "application/json", body: `{"name":"a","NAME":"b"}`, kind: apperr.Malformed, key: "error.malformed.duplicate_key", field: "NAME"},
		{name: "same key in sibling objects", ct: "application/json", body: `{"addr":{"zip":1},"name":"zip"}`},
		{name: "unknown field made of prose", ct: "application/json", body: `{"please call 400-000":1}`, kind: apperr.Malformed, key: "error.malformed.unknown_field_unnamed", field: "(body)"},
		{name: "tab in a name", ct: "application/json", body: `{"name":"a\tb"}`, kind: apperr.Invalid, key: "error.validation_failed", field: "name"},
		{name: "newline in a tag", ct: "application/json", body: `{"tags":["ok","a\nb"]}`, kind: apperr.Invalid, key: "error.validation_failed", field: "tags[1]"},
		{name: "NUL in a name", ct: "application/json", body: `{"name":"3003\u0000"}`, kind: apperr.Invalid, key: "error.validation_failed", field: "name"},
		{name: "bidi override in a name", ct: "application/json", body: `{"name":"abc\u202Etxt.exe"}`, kind: apperr.Invalid, key: "error.validation_failed", field: "name"},
		{name: "bidi isolate in a name", ct: "application/json", body: `{"name":"a\u2067b"}`, kind: apperr.Invalid, key: "error.validation_failed", field: "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x", strings.NewReader(tc.body))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			if tc.limit > 0 {
				r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, tc.limit)
			}
			var dst decodeTarget
			err := httpx.Decode(r, &dst)
			if tc.key == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok {
				t.Fatalf("Decode error %v is not an apperr.Error", err)
			}
			if e.Kind != tc.kind || e.Msg.Key != tc.key {
				t.Fatalf("Decode error = kind %v key %q, want kind %v key %q", e.Kind, e.Msg.Key, tc.kind, tc.key)
			}
			if _, ok := e.Fields[tc.field]; tc.field != "" && !ok {
				t.Errorf("fields = %v, want %q named", e.Fields, tc.field)
			}
			if _, lone := e.Extra["field"]; lone {
				t.Errorf("error has a lone field member: %v", e.Extra)
			}
			// The message names the problem in every language, with no placeholder left.
			for _, lang := range i18n.Languages {
				if msg := cat.Msg(lang, e.Msg); strings.Contains(msg, "{") || msg == e.Msg.Key {
					t.Errorf("%s message %q is not fully translated", lang, msg)
				}
			}
			for f, m := range e.Fields {
				for _, lang := range i18n.Languages {
					if msg := cat.Msg(lang, m); strings.Contains(msg, "{") || msg == m.Key {
						t.Errorf("%s message of field %s %q is not fully translated", lang, f, msg)
					}
				}
			}
			if tc.field != "" && tc.field != "(body)" && e.Kind == apperr.Malformed && !strings.Contains(cat.Msg(i18n.En, e.Msg), tc.field) {
				t.Errorf("message %q does not name field %q", cat.Msg(i18n.En, e.Msg), tc.field)
			}
		})
	}
	t.Run("values", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(`{"name":"张三","age":30,"addr":{"zip":100000}}`))
		var dst decodeTarget
		if err := httpx.Decode(r, &dst); err != nil {
			t.Fatal(err)
		}
		if dst.Name != "张三" || dst.Age != 30 || dst.Addr.Zip != 100000 {
			t.Errorf("decoded %+v", dst)
		}
	})
}

func TestStatus(t *testing.T) {
	want := map[apperr.Kind]int{
		apperr.Internal: 500, apperr.Malformed: 400, apperr.Invalid: 422, apperr.NotFound: 404,
		apperr.Forbidden: 403, apperr.Unauthenticated: 401, apperr.Conflict: 409,
		apperr.TooLarge: 413, apperr.RateLimited: 429,
	}
	for k, s := range want {
		if got := httpx.Status(k); got != s {
			t.Errorf("Status(%v) = %d, want %d", k, got, s)
		}
	}
}

// errorServer serves httpx.Error(err) behind the real Base and Locale middleware.
func errorServer(t *testing.T, err error) *httptest.Server {
	t.Helper()
	h := httpx.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpx.Error(w, r, err) }),
		httpx.Base(quietLog(), cat, nil), httpx.Locale)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type errorJSON struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    map[string]string `json:"fields"`
		RequestID string            `json:"request_id"`
		Field     string            `json:"field"`
		Existing  float64           `json:"existing_id"`
	} `json:"error"`
}

func getError(t *testing.T, url, acceptLang, cookieLang string) (*http.Response, errorJSON) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if acceptLang != "" {
		req.Header.Set("Accept-Language", acceptLang)
	}
	if cookieLang != "" {
		req.AddCookie(&http.Cookie{Name: httpx.LangCookie, Value: cookieLang})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body errorJSON
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("error body is not JSON: %v", err)
	}
	return resp, body
}

func TestErrorBodiesInThreeLanguages(t *testing.T) {
	fields := apperr.Fields{}
	fields.Add("name", "field.required")
	fields.Add("name", "field.invalid") // first problem per field wins
	fields.Add("note", "field.too_long", "max", 200)
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		msg    i18n.Msg
		fields map[string]i18n.Msg
	}{
		{"not found", apperr.NotFoundf("thing.resource"), 404, "not_found", i18n.M("error.not_found", "thing", i18n.M("thing.resource")), nil},
		{"forbidden", apperr.ForbiddenErr(), 403, "forbidden", i18n.M("error.forbidden"), nil},
		{"unauthenticated", apperr.Unauth(), 401, "unauthenticated", i18n.M("error.unauthenticated"), nil},
		{"validation", fields.Err(), 422, "validation_failed", i18n.M("error.validation_failed"),
			map[string]i18n.Msg{"name": i18n.M("field.required"), "note": i18n.M("field.too_long", "max", 200)}},
		{"conflict with code", apperr.New(apperr.Conflict, "error.conflict").WithCode("duplicate").With("existing_id", 7), 409, "duplicate", i18n.M("error.conflict"), nil},
		{"too large", apperr.New(apperr.TooLarge, "error.too_large", "limit", 1024), 413, "too_large", i18n.M("error.too_large", "limit", 1024), nil},
		{"rate limited", apperr.New(apperr.RateLimited, "error.rate_limited"), 429, "rate_limited", i18n.M("error.rate_limited"), nil},
		{"wrapped", fmt.Errorf("org: %w", apperr.ForbiddenErr()), 403, "forbidden", i18n.M("error.forbidden"), nil},
	}
	langs := []struct{ accept, cookie, lang string }{
		{"", "", i18n.ZhCN},
		{"en-US,en;q=0.9", "", i18n.En},
		{"zh-TW", "", i18n.ZhTW},
		{"en", "zh-TW", i18n.ZhTW}, // the chosen language wins over the header
	}
	for _, tc := range tests {
		srv := errorServer(t, tc.err)
		for _, l := range langs {
			t.Run(tc.name+"/"+l.lang, func(t *testing.T) {
				resp, body := getError(t, srv.URL, l.accept, l.cookie)
				if resp.StatusCode != tc.status {
					t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q", ct)
				}
				if body.Error.Code != tc.code {
					t.Errorf("code = %q, want %q", body.Error.Code, tc.code)
				}
				if want := cat.Msg(l.lang, tc.msg); body.Error.Message != want {
					t.Errorf("message = %q, want %q", body.Error.Message, want)
				}
				if body.Error.RequestID == "" || body.Error.RequestID != resp.Header.Get("X-Request-ID") {
					t.Errorf("request_id %q does not match header %q", body.Error.RequestID, resp.Header.Get("X-Request-ID"))
				}
				if len(body.Error.Fields) != len(tc.fields) {
					t.Errorf("fields = %v, want %d", body.Error.Fields, len(tc.fields))
				}
				for f, m := range tc.fields {
					if want := cat.Msg(l.lang, m); body.Error.Fields[f] != want {
						t.Errorf("fields[%s] = %q, want %q", f, body.Error.Fields[f], want)
					}
				}
				if tc.code == "duplicate" && body.Error.Existing != 7 {
					t.Errorf("existing_id = %v, want 7 (extra members are flattened into the error)", body.Error.Existing)
				}
				if tc.status == 429 && resp.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			})
		}
	}
	// The three languages really differ.
	m := i18n.M("error.forbidden")
	if cat.Msg(i18n.ZhCN, m) == cat.Msg(i18n.En, m) || cat.Msg(i18n.ZhCN, m) == cat.Msg(i18n.ZhTW, m) {
		t.Error("error.forbidden is not translated")
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	secret := "pq: password authentication failed for user kefu_secret"
	srv := errorServer(t, errors.New(secret))
	for _, l := range []string{"zh-CN", "en", "zh-TW"} {
		resp, body := getError(t, srv.URL, l, "")
		if resp.StatusCode != 500 || body.Error.Code != "internal" {
			t.Errorf("%s: status %d code %q", l, resp.StatusCode, body.Error.Code)
		}
		if strings.Contains(body.Error.Message, "kefu_secret") {
			t.Errorf("%s: internal error leaked: %q", l, body.Error.Message)
		}
		if !strings.Contains(body.Error.Message, body.Error.RequestID) {
			t.Errorf("%s: message %q does not give the request id %s", l, body.Error.Message, body.Error.RequestID)
		}
	}
}

func TestRecover(t *testing.T) {
	h := httpx.Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret-panic-detail") }),
		httpx.Base(quietLog(), cat, nil), httpx.Recover)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, body := getError(t, srv.URL, "en", "")
	if resp.StatusCode != 500 || strings.Contains(body.Error.Message, "secret-panic-detail") {
		t.Errorf("panic gave %d %q", resp.StatusCode, body.Error.Message)
	}
}

func TestListParams(t *testing.T) {
	tests := []struct {
		query  string
		limit  int
		cursor string
		bad    bool
	}{
		{"", httpx.DefaultLimit, "", false},
		{"limit=1", 1, "", false},
		{"limit=500", 500, "", false},
		{"limit=20&cursor=abc", 20, "abc", false},
		{"cursor=xyz", httpx.DefaultLimit, "xyz", false},
		{"limit=0", 0, "", true},
		{"limit=501", 0, "", true},
		{"limit=-5", 0, "", true},
		{"limit=ten", 0, "", true},
		{"limit=1.5", 0, "", true},
		{"limit=99999999999999999999", 0, "", true},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/x?"+tc.query, nil)
		limit, cursor, err := httpx.ListParams(r)
		if tc.bad {
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Malformed || e.Fields["limit"].Key == "" {
				t.Errorf("%q: err = %v, want Malformed naming limit", tc.query, err)
			}
			continue
		}
		if err != nil || limit != tc.limit || cursor != tc.cursor {
			t.Errorf("%q: = %d, %q, %v; want %d, %q", tc.query, limit, cursor, err, tc.limit, tc.cursor)
		}
	}
}

func TestCursors(t *testing.T) {
	type pos struct {
		At int64  `json:"at"`
		ID int64  `json:"id"`
		S  string `json:"s"`
	}
	in := pos{At: 1732300000000, ID: 42, S: "退款/?&="}
	c := httpx.EncodeCursor(in)
	if c == "" || strings.ContainsAny(c, "+/=?&") {
		t.Fatalf("cursor %q is not URL-safe", c)
	}
	var out pos
	if err := httpx.DecodeCursor(c, &out); err != nil || out != in {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
	keep := pos{ID: 9}
	if err := httpx.DecodeCursor("", &keep); err != nil || keep.ID != 9 {
		t.Errorf("empty cursor changed the value: %+v %v", keep, err)
	}
	for _, bad := range []string{"!!!", "e30", "bm90IGpzb24", "eyJpZCI6ImEifQ", "%%%"} {
		// "e30" is "{}" and decodes fine; the rest are not base64 JSON of pos.
		var p pos
		err := httpx.DecodeCursor(bad, &p)
		if bad == "e30" {
			if err != nil {
				t.Errorf("DecodeCursor(%q) = %v", bad, err)
			}
			continue
		}
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.Malformed || e.Msg.Key != "error.malformed.cursor" || e.Fields["cursor"].Key == "" {
			t.Errorf("DecodeCursor(%q) = %v, want a malformed cursor error", bad, err)
		}
	}
}

func TestPathIDAndQueryInt64(t *testing.T) {
	mux := http.NewServeMux()
	var got int64
	var gotErr error
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		got, gotErr = httpx.PathID(r, "id")
	})
	for _, tc := range []struct {
		path string
		want int64
		ok   bool
	}{{"/things/7", 7, true}, {"/things/0", 0, false}, {"/things/-3", 0, false}, {"/things/abc", 0, false}, {"/things/99999999999999999999", 0, false}} {
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tc.path, nil))
		if tc.ok && (gotErr != nil || got != tc.want) {
			t.Errorf("%s: %d %v", tc.path, got, gotErr)
		}
		if !tc.ok && apperr.KindOf(gotErr) != apperr.NotFound {
			t.Errorf("%s: err = %v, want NotFound", tc.path, gotErr)
		}
	}
	r := httptest.NewRequest("GET", "/x?dept=12&bad=x", nil)
	if n, err := httpx.QueryInt64(r, "dept"); n != 12 || err != nil {
		t.Errorf("QueryInt64 dept = %d %v", n, err)
	}
	if n, err := httpx.QueryInt64(r, "missing"); n != 0 || err != nil {
		t.Errorf("QueryInt64 missing = %d %v", n, err)
	}
	if _, err := httpx.QueryInt64(r, "bad"); apperr.KindOf(err) != apperr.Malformed {
		t.Errorf("QueryInt64 bad = %v", err)
	}
}

func TestBodyLimit(t *testing.T) {
	h := httpx.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]string
		if err := httpx.Decode(r, &v); err != nil {
			httpx.Error(w, r, err)
			return
		}
		httpx.JSON(w, 200, v)
	}), httpx.Base(quietLog(), cat, nil), httpx.BodyLimit(1024))
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(body io.Reader, length int64) (int, errorJSON) {
		req, _ := http.NewRequest("POST", srv.URL, body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", "en")
		req.ContentLength = length
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e errorJSON
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	small := `{"a":"b"}`
	if st, _ := post(strings.NewReader(small), int64(len(small))); st != 200 {
		t.Errorf("small body: %d", st)
	}
	big := `{"a":"` + strings.Repeat("x", 2000) + `"}`
	// Declared too large: refused before the handler reads anything.
	if st, e := post(strings.NewReader(big), int64(len(big))); st != 413 || e.Error.Code != "too_large" {
		t.Errorf("declared large body: %d %q", st, e.Error.Code)
	}
	// Chunked (length unknown): the reader stops at the limit and Decode reports 413.
	if st, e := post(io.MultiReader(strings.NewReader(big)), -1); st != 413 || e.Error.Code != "too_large" || !strings.Contains(e.Error.Message, "1024") {
		t.Errorf("chunked large body: %d %q %q", st, e.Error.Code, e.Error.Message)
	}
}

func TestBaseClientIPAndRequestID(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name   string
		remote string
		xff    string
		want   string
	}{
		{"direct", "203.0.113.5:4000", "", "203.0.113.5"},
		{"untrusted peer cannot spoof", "203.0.113.5:4000", "1.2.3.4", "203.0.113.5"},
		{"trusted proxy", "10.1.2.3:4000", "198.51.100.7", "198.51.100.7"},
		{"chain of trusted proxies", "10.1.2.3:4000", "198.51.100.7, 10.9.9.9", "198.51.100.7"},
		{"spoofed left part ignored", "10.1.2.3:4000", "6.6.6.6, 198.51.100.7", "198.51.100.7"},
		{"garbage header", "10.1.2.3:4000", "not-an-ip", "10.1.2.3"},
		{"only proxies", "10.1.2.3:4000", "10.2.2.2", "10.1.2.3"},
		{"ipv6 trusted", "[::1]:4000", "2001:db8::1", "2001:db8::1"},
		{"ipv6 untrusted", "[2001:db8::2]:4000", "1.2.3.4", "2001:db8::2"},
		{"mapped v4 trusted", "[::ffff:10.0.0.1]:4000", "192.0.2.1", "192.0.2.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ip, rid string
			h := httpx.Base(quietLog(), cat, trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ip, rid = httpx.ClientIP(r.Context()), httpx.RequestID(r.Context())
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if ip != tc.want {
				t.Errorf("ClientIP = %q, want %q", ip, tc.want)
			}
			if rid == "" || w.Header().Get("X-Request-ID") != rid {
				t.Errorf("request id %q, header %q", rid, w.Header().Get("X-Request-ID"))
			}
		})
	}
	for in, keep := range map[string]bool{"abc-123": true, "has space": false, strings.Repeat("a", 65): false, "": false} {
		var rid string
		h := httpx.Base(quietLog(), cat, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rid = httpx.RequestID(r.Context())
		}))
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Request-ID", in)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if (rid == in) != keep || rid == "" {
			t.Errorf("X-Request-ID %q gave %q (keep=%v)", in, rid, keep)
		}
	}
}

func TestLocaleAndSecurityHeaders(t *testing.T) {
	var lang string
	h := httpx.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { lang = i18n.Lang(r.Context()) }),
		httpx.SecurityHeaders, httpx.Locale)
	for _, tc := range []struct{ cookie, accept, want string }{
		{"", "", i18n.ZhCN}, {"", "en", i18n.En}, {"zh-TW", "en", i18n.ZhTW}, {"klingon", "en", i18n.En},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: httpx.LangCookie, Value: tc.cookie})
		}
		if tc.accept != "" {
			r.Header.Set("Accept-Language", tc.accept)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if lang != tc.want {
			t.Errorf("cookie %q accept %q: lang %q, want %q", tc.cookie, tc.accept, lang, tc.want)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP = %q", csp)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Frame-Options") != "DENY" {
			t.Error("hardening headers missing")
		}
		if explicit := httpx.ExplicitLang(r); explicit != (tc.cookie == "zh-TW") {
			t.Errorf("ExplicitLang = %v for cookie %q", explicit, tc.cookie)
		}
	}
}

// testActor is the test's authentication middleware: X-Test-Actor names a kind and
// permissions ("staff:perm1,perm2", "customer:"), X-Test-Session marks a browser session
// whose CSRF token is "tok-123".
func testActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spec := r.Header.Get("X-Test-Actor")
		if spec == "" {
			next.ServeHTTP(w, r)
			return
		}
		kind, perms, _ := strings.Cut(spec, ":")
		a := &authz.Actor{ID: 1, Kind: authz.Kind(kind), Username: "tester"}
		for _, p := range strings.Split(perms, ",") {
			if p != "" {
				a.Grant(p, authz.ScopeAll)
			}
		}
		ctx := r.Context()
		if r.Header.Get("X-Test-Session") != "" {
			a.SessionID = "sess-1"
			ctx = httpx.WithCSRF(ctx, "tok-123")
		} else {
			a.TokenID = 9
		}
		next.ServeHTTP(w, r.WithContext(authz.WithActor(ctx, a)))
	})
}

func TestRouterGuard(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 200, map[string]string{"ok": "yes"}) }
	rt := httpx.NewRouter()
	rt.PageError = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(httpx.Status(apperr.KindOf(err)))
		_, _ = io.WriteString(w, "page-error:"+apperr.CodeOf(err))
	}
	rt.Mount(
		httpx.Route{Method: "GET", Path: "/pub", Access: httpx.Public, Handler: ok},
		httpx.Route{Method: "POST", Path: "/pub", Access: httpx.Public, Handler: ok},
		httpx.Route{Method: "GET", Path: "/api/things", Handler: ok},
		httpx.Route{Method: "POST", Path: "/api/things", Handler: ok},
		httpx.Route{Method: "GET", Path: "/api/admin", Perm: "staff:manage", Handler: ok},
		httpx.Route{Method: "GET", Path: "/page", Page: true, Handler: ok},
		httpx.Route{Method: "POST", Path: "/page", Page: true, Perm: "staff:manage", Handler: ok},
	)
	if n := len(rt.Routes()); n != 7 {
		t.Errorf("Routes() has %d routes, want 7", n)
	}
	srv := httptest.NewServer(httpx.Chain(rt.Mux, httpx.Base(quietLog(), cat, nil), httpx.Locale, testActor))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	tests := []struct {
		name     string
		method   string
		path     string
		actor    string
		session  bool
		csrfHdr  string
		csrfForm string
		status   int
		code     string // error code for JSON errors; "page-error:<code>" for page errors
		location string
	}{
		{name: "public anonymous", method: "GET", path: "/pub", status: 200},
		{name: "public post without csrf", method: "POST", path: "/pub", status: 200},
		{name: "api anonymous", method: "GET", path: "/api/things", status: 401, code: "unauthenticated"},
		{name: "page anonymous redirects", method: "GET", path: "/page?a=1", status: 303, location: "/login?next=" + url.QueryEscape("/page?a=1")},
		{name: "customer is not staff", method: "GET", path: "/api/things", actor: "customer:", status: 401, code: "unauthenticated"},
		{name: "system actor is not staff", method: "GET", path: "/api/things", actor: "system:", status: 401, code: "unauthenticated"},
		{name: "staff reads", method: "GET", path: "/api/things", actor: "staff:", status: 200},
		{name: "staff lacks permission", method: "GET", path: "/api/admin", actor: "staff:dept:read", status: 403, code: "forbidden"},
		{name: "staff holds permission", method: "GET", path: "/api/admin", actor: "staff:staff:manage", status: 200},
		{name: "admin holds all", method: "GET", path: "/api/admin", actor: "staff:*", status: 200},
		{name: "page forbidden renders page", method: "POST", path: "/page", actor: "staff:", session: true, csrfForm: "tok-123", status: 403, code: "page-error:forbidden"},
		{name: "session post without csrf", method: "POST", path: "/api/things", actor: "staff:", session: true, status: 403, code: "csrf_failed"},
		{name: "session post wrong csrf", method: "POST", path: "/api/things", actor: "staff:", session: true, csrfHdr: "tok-999", status: 403, code: "csrf_failed"},
		{name: "session post csrf header", method: "POST", path: "/api/things", actor: "staff:", session: true, csrfHdr: "tok-123", status: 200},
		{name: "session post csrf form", method: "POST", path: "/api/things", actor: "staff:", session: true, csrfForm: "tok-123", status: 200},
		{name: "session page post without csrf", method: "POST", path: "/page", actor: "staff:*", session: true, status: 403, code: "page-error:csrf_failed"},
		{name: "session page post with csrf", method: "POST", path: "/page", actor: "staff:*", session: true, csrfForm: "tok-123", status: 200},
		{name: "bearer post needs no csrf", method: "POST", path: "/api/things", actor: "staff:", status: 200},
		{name: "unknown route", method: "GET", path: "/nope", actor: "staff:*", status: 404},
		{name: "wrong method", method: "DELETE", path: "/api/things", actor: "staff:*", status: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.csrfForm != "" {
				body = strings.NewReader(url.Values{httpx.CSRFField: {tc.csrfForm}}.Encode())
			}
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, body)
			if tc.csrfForm != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.actor != "" {
				req.Header.Set("X-Test-Actor", tc.actor)
			}
			if tc.session {
				req.Header.Set("X-Test-Session", "1")
			}
			if tc.csrfHdr != "" {
				req.Header.Set(httpx.CSRFHeader, tc.csrfHdr)
			}
			req.Header.Set("Accept-Language", "en")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tc.status, raw)
			}
			if tc.location != "" && resp.Header.Get("Location") != tc.location {
				t.Errorf("Location = %q, want %q", resp.Header.Get("Location"), tc.location)
			}
			switch {
			case strings.HasPrefix(tc.code, "page-error:"):
				if string(raw) != tc.code {
					t.Errorf("body = %q, want %q", raw, tc.code)
				}
			case tc.code != "":
				var e errorJSON
				if err := json.Unmarshal(raw, &e); err != nil {
					t.Fatalf("body %q: %v", raw, err)
				}
				if e.Error.Code != tc.code || e.Error.Message == "" || strings.Contains(e.Error.Message, "error.") {
					t.Errorf("error = %+v, want code %q with an English message", e.Error, tc.code)
				}
			case tc.status == 200:
				if !strings.Contains(string(raw), `"ok":"yes"`) {
					t.Errorf("handler did not run: %s", raw)
				}
			}
		})
	}
}

func TestCrossOrigin(t *testing.T) {
	h := httpx.CrossOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	h = httpx.Chain(h, httpx.Base(quietLog(), cat, nil))
	for _, tc := range []struct {
		site   string
		method string
		want   int
	}{
		{"cross-site", "POST", 403}, {"same-origin", "POST", 204}, {"", "POST", 204}, {"cross-site", "GET", 204},
	} {
		r := httptest.NewRequest(tc.method, "http://kefu.example/x", nil)
		if tc.site != "" {
			r.Header.Set("Sec-Fetch-Site", tc.site)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.site, w.Code, tc.want)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := httpx.NewLimiter(time.Hour, 3)
	for i := 0; i < 3; i++ {
		if !l.Allow("a") {
			t.Fatalf("event %d refused within the burst", i+1)
		}
	}
	if l.Allow("a") {
		t.Error("event beyond the burst allowed")
	}
	if !l.Allow("b") {
		t.Error("another key was limited")
	}
}

func TestCatalogFromContext(t *testing.T) {
	if httpx.CatalogFrom(context.Background()) == nil {
		t.Fatal("no default catalog")
	}
	ctx := httpx.WithCatalog(context.Background(), cat)
	if httpx.CatalogFrom(ctx) != cat {
		t.Error("WithCatalog not honoured")
	}
}
