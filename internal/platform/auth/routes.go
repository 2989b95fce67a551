package auth

import "github.com/kefu-cn/kefu/internal/platform/httpx"

// Routes is every route of authentication, with the access each needs.
func (s *Service) Routes() []httpx.Route {
	const pub = httpx.Public
	return []httpx.Route{
		// Sign-in and sign-out (pages).
		{Method: "GET", Path: "/login", Access: pub, Page: true, Handler: s.loginPage},
		{Method: "POST", Path: "/login", Access: pub, Page: true, Handler: s.loginSubmit},
		{Method: "GET", Path: "/login/totp", Access: pub, Page: true, Handler: s.totpPage},
		{Method: "POST", Path: "/login/totp", Access: pub, Page: true, Handler: s.totpSubmit},
		{Method: "POST", Path: "/logout", Page: true, Handler: s.logout},

		// The signed-in staff member's own account (pages).
		{Method: "GET", Path: "/account", Page: true, Handler: s.accountPage},
		{Method: "POST", Path: "/account/password", Page: true, Handler: s.accountPassword},
		{Method: "POST", Path: "/account/totp/enable", Page: true, Handler: s.accountTOTPEnable},
		{Method: "POST", Path: "/account/totp/disable", Page: true, Handler: s.accountTOTPDisable},
		{Method: "POST", Path: "/account/tokens", Page: true, Handler: s.accountTokenCreate},
		{Method: "POST", Path: "/account/tokens/{id}/revoke", Page: true, Handler: s.accountTokenRevoke},

		// API tokens: one's own; others' with token:manage (checked in the service).
		{Method: "GET", Path: "/api/v1/tokens", Handler: s.apiListTokens},
		{Method: "POST", Path: "/api/v1/tokens", Handler: s.apiCreateToken},
		{Method: "GET", Path: "/api/v1/tokens/{id}", Handler: s.apiGetToken},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Handler: s.apiRevokeToken},
		{Method: "POST", Path: "/api/v1/staff/{id}/unlock", Perm: "staff:manage", Handler: s.apiUnlock},
	}
}
