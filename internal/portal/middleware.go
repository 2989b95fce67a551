package portal

import (
	"net/http"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Middleware authenticates portal requests: under /portal, a live kefu_portal cookie
// makes the request its customer's (authz.KindCustomer, with the session's CSRF token),
// replacing any staff actor the staff middleware found, so that a staff session never
// acts in the portal. Outside /portal it does nothing, so a portal session never
// reaches a staff page. Mount it after the staff authentication middleware.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != cookiePath && !strings.HasPrefix(r.URL.Path, cookiePath+"/") {
			next.ServeHTTP(w, r)
			return
		}
		c, err := r.Cookie(SessionCookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		ss, err := s.lookup(ctx, c.Value)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		if ss == nil {
			clearCookie(w, r, SessionCookie)
			next.ServeHTTP(w, r)
			return
		}
		actor := &authz.Actor{Kind: authz.KindCustomer, ID: ss.who.ID, DisplayName: ss.who.Name,
			SessionID: ss.hash, IP: httpx.ClientIP(ctx)}
		ctx = authz.WithActor(ctx, actor)
		ctx = httpx.WithCSRF(ctx, ss.csrf)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: cookiePath, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: httpx.IsHTTPS(r)})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	setCookie(w, r, name, "", -1)
}
