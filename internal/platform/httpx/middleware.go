package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyLogger
	keyCatalog
	keyIP
	keyCSRF
	keyHTTPS
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies mws so that the first is outermost.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// RequestID returns the request id in ctx.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(keyRequestID).(string)
	return s
}

// Logger returns the request-scoped logger in ctx (slog.Default outside a request).
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// CatalogFrom returns the message catalog in ctx.
func CatalogFrom(ctx context.Context) *i18n.Catalog {
	if c, ok := ctx.Value(keyCatalog).(*i18n.Catalog); ok {
		return c
	}
	return i18n.MustLoad()
}

// WithCatalog stores the catalog in ctx (tests and jobs that render messages).
func WithCatalog(ctx context.Context, c *i18n.Catalog) context.Context {
	return context.WithValue(ctx, keyCatalog, c)
}

// ClientIP returns the client address of the request in ctx.
func ClientIP(ctx context.Context) string {
	s, _ := ctx.Value(keyIP).(string)
	return s
}

// WithCSRF stores the session's CSRF token in ctx (set by the authentication middleware).
func WithCSRF(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, keyCSRF, token)
}

// CSRFToken returns the session's CSRF token in ctx.
func CSRFToken(ctx context.Context) string {
	s, _ := ctx.Value(keyCSRF).(string)
	return s
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush lets Server-Sent Events through the wrapper.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Base sets up the request context: request id, client ip (X-Forwarded-For only from
// trusted proxies), logger, catalog, and an access log line.
func Base(log *slog.Logger, cat *i18n.Catalog, trusted []netip.Prefix) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rid := r.Header.Get("X-Request-ID")
			if rid == "" || len(rid) > 64 || strings.ContainsAny(rid, " \t\r\n") {
				rid = newID()
			}
			ip := realIP(r, trusted)
			l := log.With(slog.String("request_id", rid))
			ctx := context.WithValue(r.Context(), keyRequestID, rid)
			ctx = context.WithValue(ctx, keyLogger, l)
			ctx = context.WithValue(ctx, keyCatalog, cat)
			ctx = context.WithValue(ctx, keyIP, ip)
			w.Header().Set("X-Request-ID", rid)
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r.WithContext(ctx))
			l.LogAttrs(ctx, slog.LevelInfo, "http",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
				slog.String("ip", ip), slog.Duration("took", time.Since(start)))
		})
	}
}

func realIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if !inPrefixes(addr, trusted) {
		return addr.String()
	}
	// Walk X-Forwarded-For from the right, skipping trusted proxies.
	parts := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(parts) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
		if err != nil {
			break
		}
		if !inPrefixes(a, trusted) {
			return a.String()
		}
	}
	return addr.String()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// Recover turns a panic into a logged 500 without leaking the stack to the client.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				Logger(r.Context()).Error("panic", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				Error(w, r, fmt.Errorf("panic: %v", p))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// BodyLimit caps request bodies at n bytes; handlers see *http.MaxBytesError beyond it.
func BodyLimit(n int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				Error(w, r, tooLarge(n))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// LangCookie is the cookie that holds the chosen interface language.
const LangCookie = "kefu_lang"

// Locale picks the language: the kefu_lang cookie, else Accept-Language, else zh-CN.
// The authentication middleware may later apply the user's saved preference.
func Locale(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := ""
		if c, err := r.Cookie(LangCookie); err == nil {
			lang = i18n.Normalize(c.Value)
		}
		if lang == "" {
			lang = i18n.Negotiate(r.Header.Get("Accept-Language"))
		}
		w.Header().Add("Vary", "Accept-Language")
		next.ServeHTTP(w, r.WithContext(i18n.WithLang(r.Context(), lang)))
	})
}

// ExplicitLang reports whether the request chose its language by cookie or header, so
// a user's saved preference should not override it.
func ExplicitLang(r *http.Request) bool {
	if c, err := r.Cookie(LangCookie); err == nil && i18n.Normalize(c.Value) != "" {
		return true
	}
	return false
}

// HTTPS marks the requests that reached the site over HTTPS: directly over TLS, always
// when public is set (http.public_url is https://: a TLS proxy sits in front), or when
// X-Forwarded-Proto says https and the connection comes from a trusted proxy (anyone
// else could send the header). On such requests every cookie the response sets is made
// Secure, whichever code set it, and SecurityHeaders adds HSTS. Mount it before
// SecurityHeaders.
func HTTPS(public bool, trusted []netip.Prefix) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !public && r.TLS == nil && !forwardedHTTPS(r, trusted) {
				next.ServeHTTP(w, r)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), keyHTTPS, true))
			next.ServeHTTP(&secureCookies{ResponseWriter: w}, r)
		})
	}
}

// IsHTTPS reports whether r reached the site over HTTPS (see HTTPS).
func IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	v, _ := r.Context().Value(keyHTTPS).(bool)
	return v
}

func forwardedHTTPS(r *http.Request, trusted []netip.Prefix) bool {
	v := r.Header.Get("X-Forwarded-Proto")
	if v == "" || len(trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !inPrefixes(peer, trusted) {
		return false
	}
	if i := strings.LastIndexByte(v, ','); i >= 0 { // the nearest proxy's word is the last
		v = v[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(v), "https")
}

// secureCookies adds the Secure attribute to every Set-Cookie header that lacks it, as
// the headers are sent.
type secureCookies struct {
	http.ResponseWriter
	done bool
}

func (s *secureCookies) secure() {
	if s.done {
		return
	}
	s.done = true
	cookies := s.Header()["Set-Cookie"]
	for i, c := range cookies {
		hasSecure := false
		for _, attr := range strings.Split(c, ";")[1:] {
			if strings.EqualFold(strings.TrimSpace(attr), "secure") {
				hasSecure = true
				break
			}
		}
		if !hasSecure {
			cookies[i] = c + "; Secure"
		}
	}
}

func (s *secureCookies) WriteHeader(code int) {
	s.secure()
	s.ResponseWriter.WriteHeader(code)
}

func (s *secureCookies) Write(b []byte) (int, error) {
	s.secure()
	return s.ResponseWriter.Write(b)
}

func (s *secureCookies) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush lets Server-Sent Events through the wrapper.
func (s *secureCookies) Flush() {
	s.secure()
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// SecurityHeaders sets a strict CSP (no inline scripts) and the usual hardening headers,
// and HSTS on requests that came over HTTPS (see HTTPS).
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if IsHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// CrossOrigin refuses cross-origin state-changing browser requests (Go's
// CrossOriginProtection: Sec-Fetch-Site / Origin checks). Requests without browser
// headers, such as API clients with bearer tokens, pass.
func CrossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, csrfError(nil))
	}))
	return cop.Handler(next)
}
