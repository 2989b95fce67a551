package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Choice is one option of a select on a page.
type Choice struct {
	Value    string
	Label    string
	Selected bool
}

// T translates key with its arguments in the request's language.
func T(r *http.Request, key string, kv ...any) string {
	return httpx.CatalogFrom(r.Context()).Msg(i18n.Lang(r.Context()), i18n.M(key, kv...))
}

// Label translates prefix+v, or gives v itself when the catalog has no such key ("" for "").
func Label(r *http.Request, prefix, v string) string {
	if v == "" {
		return ""
	}
	cat := httpx.CatalogFrom(r.Context())
	if !cat.Has(prefix + v) {
		return v
	}
	return cat.T(i18n.Lang(r.Context()), prefix+v, nil)
}

// Choices are the options of values labelled by prefix+value, selected marking the
// chosen one; a blankKey adds a first empty option with that label.
func Choices[S ~string](r *http.Request, prefix string, values []S, selected, blankKey string) []Choice {
	var out []Choice
	if blankKey != "" {
		out = append(out, Choice{Value: "", Label: T(r, blankKey), Selected: selected == ""})
	}
	for _, v := range values {
		out = append(out, Choice{Value: string(v), Label: Label(r, prefix, string(v)), Selected: string(v) == selected})
	}
	return out
}

// FormInt parses an optional whole number from a form: 0 when empty, -1 when it is not
// a number (so that the service refuses it, naming the field).
func FormInt(s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}
