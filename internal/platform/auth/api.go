package auth

import (
	"net/http"
	"strconv"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// createdToken is the answer to creating a token: the only time the plain token is seen.
type createdToken struct {
	Token
	Plain string `json:"token"`
}

type createTokenRequest struct {
	Name    string `json:"name"`
	StaffID int64  `json:"staff_id"`
}

// apiListTokens: GET /api/v1/tokens[?staff_id=] (others' tokens need token:manage).
func (s *Service) apiListTokens(w http.ResponseWriter, r *http.Request) {
	a := authz.From(r.Context())
	staffID, err := httpx.QueryInt64(r, "staff_id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if staffID == 0 {
		staffID = a.ID
	}
	limit, cursor, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var after int64
	if err := httpx.DecodeCursor(cursor, &after); err != nil {
		httpx.Error(w, r, err)
		return
	}
	items, next, err := s.ListTokens(r.Context(), staffID, limit, after)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	page := httpx.Page[Token]{Items: items}
	if next != 0 {
		page.NextCursor = httpx.EncodeCursor(next)
	}
	httpx.JSON(w, http.StatusOK, page)
}

// apiCreateToken: POST /api/v1/tokens {"name", "staff_id"?}.
func (s *Service) apiCreateToken(w http.ResponseWriter, r *http.Request) {
	var req createTokenRequest
	if err := httpx.Decode(r, &req); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if req.StaffID == 0 {
		req.StaffID = authz.From(r.Context()).ID
	}
	plain, t, err := s.CreateToken(r.Context(), req.StaffID, req.Name)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, "/api/v1/tokens/"+strconv.FormatInt(t.ID, 10), createdToken{Token: t, Plain: plain})
}

// apiGetToken: GET /api/v1/tokens/{id}.
func (s *Service) apiGetToken(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, err := s.GetToken(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, t)
}

// apiRevokeToken: DELETE /api/v1/tokens/{id}.
func (s *Service) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if err := s.RevokeToken(r.Context(), id); err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.NoContent(w)
}

// apiUnlock: POST /api/v1/staff/{id}/unlock.
func (s *Service) apiUnlock(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if err := s.Unlock(r.Context(), id); err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]bool{"unlocked": true})
}
