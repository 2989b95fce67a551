package httpx

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Limits of list pages (SPEC §3.2).
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Page is a list response.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// EncodeCursor makes an opaque cursor from a keyset position.
func EncodeCursor(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by EncodeCursor; an empty cursor leaves v alone.
func DecodeCursor(s string, v any) error {
	if s == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, v) != nil {
		return apperr.New(apperr.Malformed, "error.malformed.cursor").OnField("cursor")
	}
	return nil
}

// ListParams reads ?limit= and ?cursor=.
func ListParams(r *http.Request) (limit int, cursor string, err error) {
	limit = DefaultLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 1 || n > MaxLimit {
			return 0, "", apperr.New(apperr.Malformed, "error.malformed.limit", "max", MaxLimit).OnField("limit")
		}
		limit = n
	}
	return limit, r.URL.Query().Get("cursor"), nil
}

// PathID reads a positive integer path value. Anything else is "not found", and the
// message never repeats what the client sent.
func PathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.NotFoundf("thing.resource")
	}
	return n, nil
}

// QueryInt64 reads an optional integer query parameter (0 when absent).
func QueryInt64(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.Malformed, "error.malformed.param", "param", name).OnField(name)
	}
	return n, nil
}
