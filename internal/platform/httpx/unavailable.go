package httpx

import (
	"context"
	"net/http"
)

type pageErrorKey struct{}

// PageErrorsInContext is middleware that keeps in ctx the router's error page renderer
// for the request's part of the site, so that a failure before routing (the session
// lookup of the authentication middleware while the database is away) still shows a
// page request the friendly, translated error page instead of the JSON error body.
// Mount it outermost among the middleware that may fail that way.
func (rt *Router) PageErrorsInContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if render := rt.pageError(r); render != nil && !IsAPI(r) {
			r = r.WithContext(context.WithValue(r.Context(), pageErrorKey{}, render))
		}
		next.ServeHTTP(w, r)
	})
}

// unavailablePage renders err as the error page when r is a page request and a renderer
// is in its context; it reports whether it did.
func unavailablePage(w http.ResponseWriter, r *http.Request, err error) bool {
	render, _ := r.Context().Value(pageErrorKey{}).(func(w http.ResponseWriter, r *http.Request, err error))
	if render == nil || IsAPI(r) {
		return false
	}
	render(w, r, err)
	return true
}
