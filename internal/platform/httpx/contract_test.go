package httpx_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// TestUnroutedRequests: unknown API addresses and wrong methods get the JSON error body
// (404 not_found; 405 method_not_allowed with Allow), unknown pages the page renderer
// of their part of the site, and Routes() still lists only the mounted routes.
func TestUnroutedRequests(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 200, map[string]string{"ok": "yes"}) }
	rt := httpx.NewRouter()
	rt.PageError = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(httpx.Status(apperr.KindOf(err)))
		_, _ = io.WriteString(w, "staff-page:"+apperr.CodeOf(err))
	}
	rt.PageErrorUnder("/portal/", func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(httpx.Status(apperr.KindOf(err)))
		_, _ = io.WriteString(w, "portal-page:"+apperr.CodeOf(err))
	})
	rt.Mount(
		httpx.Route{Method: "GET", Path: "/api/v1/things", Access: httpx.Public, Handler: ok},
		httpx.Route{Method: "POST", Path: "/api/v1/things", Access: httpx.Public, Handler: ok},
		httpx.Route{Method: "GET", Path: "/api/v1/things/{id}", Access: httpx.Public, Handler: ok},
		httpx.Route{Method: "GET", Path: "/page", Access: httpx.Public, Page: true, Handler: ok},
		httpx.Route{Method: "GET", Path: "/portal/kb", Access: httpx.Public, Page: true, Handler: ok},
	)
	if n := len(rt.Routes()); n != 5 {
		t.Fatalf("Routes() lists %d routes, want the 5 mounted", n)
	}
	srv := httptest.NewServer(httpx.Chain(rt, httpx.Base(quietLog(), cat, nil), httpx.Locale))
	defer srv.Close()

	tests := []struct {
		method, path string
		status       int
		code         string // JSON error code; "" for a page
		page         string // page body
		allow        []string
	}{
		{"GET", "/api/v1/things", 200, "", "", nil},
		{"GET", "/api/v1/nothing", 404, "not_found", "", nil},
		{"GET", "/api/v1/things/1/deeper", 404, "not_found", "", nil},
		{"GET", "/api", 404, "not_found", "", nil},
		{"DELETE", "/api/v1/things", 405, "method_not_allowed", "", []string{"GET", "POST"}},
		{"PATCH", "/api/v1/things/3", 405, "method_not_allowed", "", []string{"GET"}},
		{"GET", "/nothing", 404, "", "staff-page:not_found", nil},
		{"POST", "/page", 405, "", "staff-page:method_not_allowed", []string{"GET"}},
		{"GET", "/portal/nothing", 404, "", "portal-page:not_found", nil},
		{"GET", "/portalx", 404, "", "staff-page:not_found", nil},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			req.Header.Set("Accept-Language", "en")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			for _, m := range tc.allow {
				if !strings.Contains(resp.Header.Get("Allow"), m) {
					t.Errorf("Allow %q lacks %s", resp.Header.Get("Allow"), m)
				}
			}
			switch {
			case tc.code != "":
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("Content-Type %q, want JSON: %s", ct, body)
				}
				var e errorJSON
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("body is not the error JSON: %s", body)
				}
				if e.Error.Code != tc.code || e.Error.Message == "" || e.Error.RequestID == "" {
					t.Errorf("error %+v, want code %s with a message", e.Error, tc.code)
				}
			case tc.page != "":
				if string(body) != tc.page {
					t.Errorf("body %q, want %q", body, tc.page)
				}
			}
		})
	}
}

// TestNoLoneField: an error's fields are only ever in "fields"; an extra member named
// "field" (or one that would override the contract) is refused.
func TestNoLoneField(t *testing.T) {
	err := apperr.New(apperr.Malformed, "error.malformed.cursor").With("field", "cursor").
		With("code", "evil").With("fields", "x").WithField("cursor", "error.malformed.cursor")
	srv := errorServer(t, err)
	resp, err2 := http.Get(srv.URL)
	if err2 != nil {
		t.Fatal(err2)
	}
	defer resp.Body.Close()
	var raw struct {
		Error map[string]json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Error["field"]; ok {
		t.Errorf("error body has a lone field member: %s", raw.Error["field"])
	}
	if string(raw.Error["code"]) != `"malformed_request"` {
		t.Errorf("code %s was overridden by an extra member", raw.Error["code"])
	}
	var fields map[string]string
	if err := json.Unmarshal(raw.Error["fields"], &fields); err != nil || fields["cursor"] == "" {
		t.Errorf("fields %s, want cursor named", raw.Error["fields"])
	}
}

// TestMessagesDoNotEchoInput: path values, query values and other client text never
// reach a message raw (the example: "找不到该#3003\u0000").
func TestMessagesDoNotEchoInput(t *testing.T) {
	rt := httpx.NewRouter()
	rt.Mount(httpx.Route{Method: "GET", Path: "/api/v1/things/{id}", Access: httpx.Public,
		Handler: func(w http.ResponseWriter, r *http.Request) {
			if _, err := httpx.PathID(r, "id"); err != nil {
				httpx.Error(w, r, err)
			}
		}})
	rt.Mount(httpx.Route{Method: "GET", Path: "/api/v1/echo", Access: httpx.Public,
		Handler: func(w http.ResponseWriter, r *http.Request) {
			// A capability that (wrongly) puts a query value into a message.
			q := r.URL.Query().Get("q")
			httpx.Error(w, r, apperr.New(apperr.Malformed, "error.malformed.param", "param", q).OnField(q))
		}})
	srv := httptest.NewServer(httpx.Chain(rt, httpx.Base(quietLog(), cat, nil), httpx.Locale))
	defer srv.Close()
	for _, path := range []string{
		"/api/v1/things/3003%00", "/api/v1/things/%3Cscript%3E", "/api/v1/things/-1",
		"/api/v1/echo?q=" + strings.Repeat("A", 500) + "%E2%80%AE%0A%1B",
	} {
		for _, lang := range i18n.Languages {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Accept-Language", lang)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e errorJSON
			_ = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			texts := []string{e.Error.Message}
			for f, m := range e.Error.Fields {
				texts = append(texts, f, m)
			}
			for _, s := range texts {
				if strings.ContainsAny(s, "\x00\n\x1b\u202e<") || strings.Contains(s, "3003") || strings.Contains(s, strings.Repeat("A", 65)) {
					t.Errorf("%s %s: message echoes raw input: %q", lang, path, s)
				}
			}
		}
	}
}

func TestSafeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cursor", "cursor"},
		{"a\x00b\nc\u202ed\u200be", "abcde"},
		{"\xff", "\uFFFD"},
		{strings.Repeat("长", 70), strings.Repeat("长", 64) + "…"},
	}
	for _, tc := range tests {
		if got := httpx.SafeText(tc.in); got != tc.want {
			t.Errorf("SafeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type hygieneInner struct {
	Title string            `json:"title"`
	Note  string            `json:"note" text:"multiline"`
	Attrs map[string]string `json:"attrs"`
}

type HygieneEmbedded struct {
	Label string `json:"label"`
}

type hygieneRequest struct {
	HygieneEmbedded
	Name    string         `json:"name"`
	Body    string         `json:"body" text:"multiline"`
	Lines   []string       `json:"lines" text:"multiline"`
	Items   []hygieneInner `json:"items"`
	Ptr     *string        `json:"ptr"`
	Any     any            `json:"any"`
	Ignored string         `json:"-"`
	Numbers []int64        `json:"numbers"`
}

// TestTextRules: one-line is the default; `text:"multiline"` lets tab, newline, CRLF
// and bidirectional controls through; the error names the JSON path of the field.
func TestTextRules(t *testing.T) {
	tests := []struct {
		name, body string
		field      string // "" = accepted
		key        string
	}{
		{"clean", `{"name":"张三","body":"line 1\nline 2\r\n\tindented","lines":["a\nb"],"items":[{"title":"t","note":"x\ny"}],"label":"l","numbers":[1]}`, "", ""},
		{"rtl text in a multi-line body", `{"body":"\u202bשלום\u202c"}`, "", ""},
		{"newline in a name", `{"name":"a\nb"}`, "name", "field.line_breaks"},
		{"CR in a name", `{"name":"a\rb"}`, "name", "field.line_breaks"},
		{"line separator in a name", `{"name":"a\u2028b"}`, "name", "field.line_breaks"},
		{"bidi override in a name", `{"name":"\u202egnp.exe"}`, "name", "field.bidi"},
		{"escape in a body", `{"body":"a\u001b[31mred"}`, "body", "field.control_chars"},
		{"NUL in a body", `{"body":"a\u0000"}`, "body", "field.control_chars"},
		{"DEL in a body", `{"body":"a\u007f"}`, "body", "field.control_chars"},
		{"C1 control in a body", `{"body":"a\u0085"}`, "body", "field.control_chars"},
		{"lone CR in a body", `{"body":"a\rb"}`, "body", "field.control_chars"},
		{"multi-line slice", `{"lines":["ok","a\u0007"]}`, "lines[1]", "field.control_chars"},
		{"nested title", `{"items":[{"title":"ok"},{"title":"a\tb"}]}`, "items[1].title", "field.line_breaks"},
		{"nested multi-line note", `{"items":[{"note":"a\nb\u0000"}]}`, "items[0].note", "field.control_chars"},
		{"map value", `{"items":[{"attrs":{"k":"a\nb"}}]}`, "items[0].attrs.k", "field.line_breaks"},
		{"map key", `{"items":[{"attrs":{"a\nb":"v"}}]}`, "items[0].attrs", "field.line_breaks"},
		{"pointer", `{"ptr":"\u2066x"}`, "ptr", "field.bidi"},
		{"embedded", `{"label":"a\u0000"}`, "label", "field.line_breaks"},
		{"interface", `{"any":{"deep":["x","a\u000b"]}}`, "any.deep[1]", "field.line_breaks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x", strings.NewReader(tc.body))
			var dst hygieneRequest
			err := httpx.Decode(r, &dst)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid {
				t.Fatalf("Decode = %v, want Invalid", err)
			}
			if got := e.Fields[tc.field].Key; got != tc.key {
				t.Errorf("fields = %v, want %s: %s", e.Fields, tc.field, tc.key)
			}
			if st := httpx.Status(e.Kind); st != http.StatusUnprocessableEntity {
				t.Errorf("status %d", st)
			}
		})
	}
}

// TestDuplicateKeysAtDepth: a key repeated inside an array element, or in a map, is
// named by its path.
func TestDuplicateKeysAtDepth(t *testing.T) {
	for body, field := range map[string]string{
		`{"items":[{"title":"a"},{"title":"b","Title":"c"}]}`: "items[1].Title",
		`{"items":[{"attrs":{"k":"1","k":"2"}}]}`:             "items[0].attrs.k",
		`{"any":{"x":[{"y":1,"y":2}]}}`:                       "any.x[0].y",
	} {
		var dst hygieneRequest
		err := httpx.Decode(httptest.NewRequest("POST", "/x", strings.NewReader(body)), &dst)
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.Malformed || e.Fields[field].Key != "field.duplicate" {
			t.Errorf("%s: %v, want duplicate %s", body, err, field)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	body := `{"name":"张三","body":"line 1\nline 2","lines":["a","b"],"items":[{"title":"t","note":"n","attrs":{"k":"v"}}],"numbers":[1,2,3]}`
	for b.Loop() {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
		var dst hygieneRequest
		if err := httpx.Decode(r, &dst); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFormHygiene: a page's form post with invalid UTF-8 or a control character other
// than tab and line breaks is refused before the handler runs, naming the field.
func TestFormHygiene(t *testing.T) {
	ran := 0
	rt := httpx.NewRouter()
	var got error
	rt.PageError = func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(httpx.Status(apperr.KindOf(err)))
	}
	rt.Mount(httpx.Route{Method: "POST", Path: "/form", Access: httpx.Public, Page: true,
		Handler: func(w http.ResponseWriter, r *http.Request) { ran++ }})
	srv := httptest.NewServer(httpx.Chain(rt, httpx.Base(quietLog(), cat, nil), httpx.Locale))
	defer srv.Close()
	tests := []struct {
		body   string
		status int
		field  string
	}{
		{"title=ok&body=line+1%0D%0Aline+2%09x", 200, ""},
		{"title=a%00b", 422, "title"},
		{"body=a%1Bb", 422, "body"},
		{"body=a%FFb", 422, "body"},
		{"a%00b=x", 422, "(form)"},
	}
	for _, tc := range tests {
		got, ran = nil, 0
		resp, err := http.Post(srv.URL+"/form", "application/x-www-form-urlencoded", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%q: status %d, want %d", tc.body, resp.StatusCode, tc.status)
			continue
		}
		if tc.field == "" {
			if ran != 1 {
				t.Errorf("%q: handler did not run", tc.body)
			}
			continue
		}
		if e, ok := apperr.As(got); ran != 0 || !ok || e.Fields[tc.field].Key == "" {
			t.Errorf("%q: ran %d, err %v, want field %s named", tc.body, ran, got, tc.field)
		}
	}
}
