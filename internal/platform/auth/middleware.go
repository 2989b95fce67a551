package auth

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Middleware authenticates each request. A bearer token must be valid, or the request
// ends with 401 at once; a live session cookie (second factor done) makes the request
// its staff member's, with the session's CSRF token and saved language in the context.
// Anything else passes on anonymous, and the router decides (401 for the API, the
// sign-in page for pages). The cost is one indexed lookup plus the actor load.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if token, ok := bearer(r); ok {
			actor, err := s.tokenActor(ctx, token)
			if err != nil {
				if apperr.KindOf(err) == apperr.Unauthenticated {
					w.Header().Set("WWW-Authenticate", `Bearer realm="kefu"`)
				}
				httpx.Error(w, r, err)
				return
			}
			actor.IP = httpx.ClientIP(ctx)
			next.ServeHTTP(w, r.WithContext(authz.WithActor(ctx, actor)))
			return
		}
		c, err := r.Cookie(SessionCookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		ss, err := s.lookupSession(ctx, c.Value)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		if ss == nil {
			clearCookie(w, r, SessionCookie, "/")
			next.ServeHTTP(w, r)
			return
		}
		if ss.mfaPending {
			next.ServeHTTP(w, r) // authenticates nothing but /login/totp
			return
		}
		actor, err := s.loadActor(ctx, ss.staffID)
		if err != nil {
			if apperr.KindOf(err) != apperr.Unauthenticated {
				httpx.Error(w, r, err)
				return
			}
			httpx.Logger(ctx).Warn("auth: session of a staff member that cannot be loaded",
				slog.Int64("staff_id", ss.staffID))
			clearCookie(w, r, SessionCookie, "/")
			next.ServeHTTP(w, r)
			return
		}
		actor.SessionID = ss.hash
		actor.IP = httpx.ClientIP(ctx)
		ctx = authz.WithActor(ctx, actor)
		ctx = httpx.WithCSRF(ctx, ss.csrf)
		if !httpx.ExplicitLang(r) && actor.Locale != "" {
			if lang := i18n.Normalize(actor.Locale); lang != "" {
				ctx = i18n.WithLang(ctx, lang)
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if strings.EqualFold(h, "bearer") {
		return "", true // the scheme without a token
	}
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(h[7:]), true
}
