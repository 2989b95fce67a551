package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// withTestActor injects the actor named by the X-Test-Actor header: "reader" holds
// audit:read, "agent" does not, anything else is anonymous.
func withTestActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a *authz.Actor
		switch r.Header.Get("X-Test-Actor") {
		case "reader":
			a = staff(1, "auditor")
			a.Grant(PermRead, authz.ScopeAll)
		case "agent":
			a = staff(2, "agent")
			a.Grant("staff:read", authz.ScopeOwn)
		}
		if a != nil {
			r = r.WithContext(authz.WithActor(r.Context(), a))
		}
		next.ServeHTTP(w, r)
	})
}

func newServer(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	cat := i18n.MustLoad()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := web.New(web.Options{Catalog: cat, Log: quiet, Pages: map[string]fs.FS{"audit": Templates()}})
	if err != nil {
		t.Fatal(err)
	}
	f.log.SetWeb(eng)
	router := httpx.NewRouter()
	router.PageError = eng.PageError
	router.Mount(f.log.Routes()...)
	srv := httptest.NewServer(httpx.Chain(router.Mux, httpx.Base(quiet, cat, nil), httpx.Locale, withTestActor))
	t.Cleanup(srv.Close)
	return srv
}

// seed writes 30 entries: actors 10 and 11 alternate, actions cycle over three values,
// targets "customer" 1..5, one minute apart from t0.
func (f *fixture) seed(t *testing.T) {
	t.Helper()
	for i := 0; i < 30; i++ {
		ctx := authz.WithActor(context.Background(), staff(int64(10+i%2), fmt.Sprintf("user%d", 10+i%2)))
		f.clock.Set(t0.Add(time.Duration(i) * time.Minute))
		action := []string{"customer.read", "customer.update", "customer.export"}[i%3]
		if err := f.log.Record(ctx, Entry{Action: action, TargetType: "customer", TargetID: fmt.Sprint(1 + i%5),
			Detail: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
}

type listResponse struct {
	Items      []map[string]any `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

func get(t *testing.T, srv *httptest.Server, actor, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if actor != "" {
		req.Header.Set("X-Test-Actor", actor)
	}
	req.Header.Set("Accept-Language", "en")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func seqs(items []map[string]any) []int64 {
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = int64(it["seq"].(float64))
	}
	return out
}

func TestAPIList(t *testing.T) {
	f := newFixture(t)
	f.seed(t)
	srv := newServer(t, f)

	tests := []struct {
		name     string
		actor    string
		query    string
		status   int
		wantSeqs string // space-separated seqs of the first page
		wantNext bool
		wantBody string
	}{
		{"reader, newest first", "reader", "?limit=3", 200, "30 29 28", true, ""},
		{"default limit takes all 30", "reader", "", 200, "", false, ""},
		{"agent without audit:read", "agent", "", 403, "", false, `"code":"forbidden"`},
		{"anonymous", "", "", 401, "", false, `"code":"unauthenticated"`},
		{"by actor", "reader", "?actor=10&limit=4", 200, "29 27 25 23", true, ""},
		{"by actor_id alias", "reader", "?actor_id=11&limit=2", 200, "30 28", true, ""},
		{"by action", "reader", "?action=customer.export&limit=3", 200, "30 27 24", true, ""},
		{"by target", "reader", "?target_type=customer&target_id=2", 200, "27 22 17 12 7 2", false, ""},
		{"by time range", "reader", "?from=" + url.QueryEscape(t0.Add(4*time.Minute).Format(time.RFC3339)) +
			"&to=" + url.QueryEscape(t0.Add(7*time.Minute).Format(time.RFC3339)), 200, "7 6 5", false, ""},
		{"time range with offset", "reader", "?from=2026-03-02T17:30:00%2B08:00&to=2026-03-02T17:32:00%2B08:00",
			200, "2 1", false, ""},
		{"combined filters", "reader", "?actor=10&action=customer.read", 200, "25 19 13 7 1", false, ""},
		{"no match", "reader", "?action=nothing", 200, "", false, `"items":[]`},
		{"bad cursor", "reader", "?cursor=%21%21", 400, "", false, `"fields":{"cursor":`},
		{"cursor with bad seq", "reader", "?cursor=" + httpx.EncodeCursor(cursor{Seq: -3}), 400, "", false, `"fields":{"cursor":`},
		{"bad from", "reader", "?from=yesterday", 400, "", false, `must be an RFC 3339 time`},
		{"bad to", "reader", "?to=2026-13-01", 400, "", false, `"fields":{"to":`},
		{"bad actor", "reader", "?actor=bob", 400, "", false, `"fields":{"actor":`},
		{"limit too big", "reader", "?limit=501", 400, "", false, `"fields":{"limit":`},
		{"limit zero", "reader", "?limit=0", 400, "", false, `"fields":{"limit":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, srv, tc.actor, "/api/v1/audit"+tc.query)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.wantBody != "" && !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("body %s lacks %s", body, tc.wantBody)
			}
			if status != 200 {
				return
			}
			var res listResponse
			if err := json.Unmarshal(body, &res); err != nil {
				t.Fatal(err)
			}
			if tc.wantSeqs != "" && fmt.Sprint(seqs(res.Items)) != "["+tc.wantSeqs+"]" {
				t.Fatalf("seqs %v, want [%s]", seqs(res.Items), tc.wantSeqs)
			}
			if tc.name == "default limit takes all 30" && len(res.Items) != 30 {
				t.Fatalf("%d items, want 30", len(res.Items))
			}
			if (res.NextCursor != "") != tc.wantNext {
				t.Fatalf("next_cursor %q, want present=%v", res.NextCursor, tc.wantNext)
			}
		})
	}
}

func TestAPIItemShapeAndPaging(t *testing.T) {
	f := newFixture(t)
	f.seed(t)
	srv := newServer(t, f)

	_, body := get(t, srv, "reader", "/api/v1/audit?limit=1")
	var raw struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || len(raw.Items) != 1 {
		t.Fatalf("body %s: %v", body, err)
	}
	var item map[string]json.RawMessage
	if err := json.Unmarshal(raw.Items[0], &item); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"seq", "at", "actor_id", "actor", "action", "target_type", "target_id", "ip", "request_id", "detail", "hash"} {
		if _, ok := item[k]; !ok {
			t.Errorf("item lacks %q: %s", k, raw.Items[0])
		}
	}
	if len(item) != 11 {
		t.Errorf("item has %d members, want 11: %s", len(item), raw.Items[0])
	}
	if string(item["detail"]) != `{"i":29}` {
		t.Errorf("detail = %s, want the raw object", item["detail"])
	}
	var at string
	_ = json.Unmarshal(item["at"], &at)
	if ts, err := time.Parse(time.RFC3339, at); err != nil || !ts.Equal(t0.Add(29*time.Minute)) {
		t.Errorf("at = %q (%v)", at, err)
	}

	// Walking the cursor visits every matching entry once, newest first.
	var all []int64
	path := "/api/v1/audit?action=customer.update&limit=4"
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("cursor never ends")
		}
		status, body := get(t, srv, "reader", path)
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		var res listResponse
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		all = append(all, seqs(res.Items)...)
		if res.NextCursor == "" {
			break
		}
		path = "/api/v1/audit?action=customer.update&limit=4&cursor=" + url.QueryEscape(res.NextCursor)
	}
	if fmt.Sprint(all) != "[29 26 23 20 17 14 11 8 5 2]" {
		t.Fatalf("paged seqs %v", all)
	}
}

// TestRecordFromRequest: an entry recorded while serving a request carries the client
// address and the request id, and reading the log writes no entry.
func TestRecordFromRequest(t *testing.T) {
	f := newFixture(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := httpx.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f.log.Record(r.Context(), Entry{Action: "customer.reveal", TargetType: "customer", TargetID: "8"}); err != nil {
			httpx.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}), httpx.Base(quiet, i18n.MustLoad(), nil), withTestActor)
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	req.Header.Set("X-Request-ID", "req-123")
	req.Header.Set("X-Test-Actor", "agent")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var ip, rid, actor string
	if err := f.db.QueryRow(context.Background(), `SELECT ip, request_id, actor FROM audit_log WHERE seq = 1`).Scan(&ip, &rid, &actor); err != nil {
		t.Fatal(err)
	}
	if ip != "127.0.0.1" || rid != "req-123" || actor != "agent" {
		t.Fatalf("ip %q request id %q actor %q", ip, rid, actor)
	}

	api := newServer(t, f)
	get(t, api, "reader", "/api/v1/audit")
	get(t, api, "reader", "/audit")
	if n := f.count(t); n != 1 {
		t.Fatalf("reading the log wrote entries: %d", n)
	}
}

func TestPage(t *testing.T) {
	f := newFixture(t)
	f.seed(t)
	srv := newServer(t, f)

	status, body := get(t, srv, "reader", "/audit?actor=10&limit=10")
	page := string(body)
	if status != 200 {
		t.Fatalf("status %d: %s", status, page)
	}
	for _, want := range []string{"Audit log", "customer.read", "user10", `name="actor"`, `value="10"`,
		// entry 29 at t0+28min = 09:58 UTC = 17:58 in Shanghai
		"2026-03-02 17:58:00", `id="audit-next"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "user11") {
		t.Error("actor filter ignored: user11 shown")
	}
	// Follow the next link: the second page holds the older entries.
	i := strings.Index(page, `href="/audit?`)
	if i < 0 {
		t.Fatal("no next-page link")
	}
	link := page[i+len(`href="`):]
	link = strings.ReplaceAll(link[:strings.IndexByte(link, '"')], "&amp;", "&")
	status, body = get(t, srv, "reader", link)
	if status != 200 || !strings.Contains(string(body), "2026-03-02 17:30:00") { // entry 1 at t0
		t.Fatalf("second page (%s): status %d", link, status)
	}
	if strings.Contains(string(body), "2026-03-02 17:58:00") {
		t.Fatal("second page repeats the first")
	}

	// Filter mistakes are shown on the page with 400, not as a crash.
	status, body = get(t, srv, "reader", "/audit?from=soon")
	if status != 400 || !strings.Contains(string(body), "RFC 3339") {
		t.Fatalf("bad time: status %d", status)
	}
	// The browser's datetime-local value is read in Asia/Shanghai.
	_, body = get(t, srv, "reader", "/audit?from=2026-03-02T17:57&to=2026-03-02T17:59")
	if !strings.Contains(string(body), "2026-03-02 17:58:00") || strings.Contains(string(body), "2026-03-02 17:59:00") {
		t.Fatal("datetime-local range not applied in Asia/Shanghai")
	}
	if status, _ := get(t, srv, "agent", "/audit"); status != 403 {
		t.Fatalf("agent got %d, want 403", status)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/audit", nil)
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous page: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}
