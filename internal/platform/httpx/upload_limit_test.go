package httpx_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// TestUploadOverLimitIs413: a session form upload larger than the route's MaxBody is
// refused as too large (413), not as a missing CSRF token, although the token sits in
// the part of the body that was never read.
func TestUploadOverLimitIs413(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 200, map[string]string{"ok": "yes"}) }
	rt := httpx.NewRouter()
	rt.PageError = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(httpx.Status(apperr.KindOf(err)))
		_, _ = io.WriteString(w, "page-error:"+apperr.CodeOf(err))
	}
	rt.Mount(httpx.Route{Method: "POST", Path: "/upload", Page: true, MaxBody: 4096, Handler: ok})
	srv := httptest.NewServer(httpx.Chain(rt.Mux, httpx.Base(quietLog(), cat, nil), rt.BodyLimit(1024), httpx.Locale, testActor))
	defer srv.Close()

	for _, tc := range []struct {
		name    string
		size    int
		token   string
		status  int
		body    string
		chunked bool
	}{
		{"small with token", 100, "tok-123", 200, "", false},
		{"small without token", 100, "", 403, "page-error:csrf_failed", false},
		{"over the limit", 64 << 10, "tok-123", 413, "too_large", false},
		{"over the limit, chunked", 64 << 10, "tok-123", 413, "page-error:too_large", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			fw, _ := mw.CreateFormFile("file", "a.txt")
			_, _ = fw.Write(bytes.Repeat([]byte("x"), tc.size))
			if tc.token != "" {
				_ = mw.WriteField(httpx.CSRFField, tc.token)
			}
			_ = mw.Close()
			var rd io.Reader = &buf
			if tc.chunked {
				rd = io.MultiReader(&buf) // hides the length: sent chunked
			}
			req, _ := http.NewRequest("POST", srv.URL+"/upload", rd)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("X-Test-Actor", "staff:*")
			req.Header.Set("X-Test-Session", "1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, raw)
			}
			if tc.body != "" && !bytes.Contains(raw, []byte(tc.body)) {
				t.Errorf("body %q, want %q", raw, tc.body)
			}
		})
	}
}
