package mail

import (
	"net/http"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) {
	v, err := s.Get(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

func (s *Service) apiPut(w http.ResponseWriter, r *http.Request) {
	var in Input
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	v, err := s.Update(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

// TestRequest is the body of POST /api/v1/settings/mail/test.
type TestRequest struct {
	To string `json:"to"`
}

func (s *Service) apiTest(w http.ResponseWriter, r *http.Request) {
	var in TestRequest
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if err := s.SendTest(r.Context(), in.To); err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"sent": true, "to": in.To})
}
