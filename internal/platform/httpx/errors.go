// Package httpx is the HTTP platform: middleware, JSON in and out, the SPEC error body,
// cursor pagination and route tables with a permission beside each route.
package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// ErrorBody is the SPEC §3.2 error envelope.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Extra     map[string]any    `json:"-"`
}

// Status maps an error kind to its HTTP status: the one place that does so.
func Status(k apperr.Kind) int {
	switch k {
	case apperr.Malformed:
		return http.StatusBadRequest
	case apperr.Invalid:
		return http.StatusUnprocessableEntity
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.PreconditionRequired:
		return http.StatusPreconditionRequired
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	case apperr.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// Describe translates err into the language of ctx: status and body. Internal errors
// are logged with the request id and replaced by a generic message.
func Describe(ctx context.Context, err error) (int, ErrorBody) {
	cat := CatalogFrom(ctx)
	lang := i18n.Lang(ctx)
	rid := RequestID(ctx)
	e, ok := apperr.As(err)
	if (!ok || e.Kind == apperr.Internal) && db.IsUnavailable(err) { // the database is away: 503, retry later
		Logger(ctx).WarnContext(ctx, "database unavailable", slog.String("err", err.Error()))
		e, ok = apperr.UnavailableErr(err), true
	}
	if !ok || e.Kind == apperr.Internal {
		if !errors.Is(err, context.Canceled) {
			Logger(ctx).ErrorContext(ctx, "request failed", slog.String("err", err.Error()))
		}
		return http.StatusInternalServerError, ErrorBody{Error: ErrorDetail{
			Code:      apperr.CodeOf(err),
			Message:   cat.T(lang, "error.internal", map[string]any{"request_id": rid}),
			RequestID: rid,
		}}
	}
	body := ErrorBody{Error: ErrorDetail{Code: apperr.CodeOf(e), RequestID: rid, Extra: e.Extra}}
	key := e.Msg
	if key.Key == "" {
		key = i18n.M("error." + apperr.CodeOf(e))
	}
	body.Error.Message = cat.Msg(lang, SafeMsg(key))
	if len(e.Fields) > 0 {
		body.Error.Fields = make(map[string]string, len(e.Fields))
		for f, m := range e.Fields {
			body.Error.Fields[SafeText(f)] = cat.Msg(lang, SafeMsg(m))
		}
	}
	return Status(e.Kind), body
}

// Error writes err as the SPEC JSON error body.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	status, body := Describe(r.Context(), err)
	RetryAfter(w, status)
	if status == http.StatusServiceUnavailable && unavailablePage(w, r, err) {
		return
	}
	JSON(w, status, errorJSON(body))
}

// RetryAfter tells the client when to try again after a 429 (60 s) or a 503 (5 s),
// unless the handler set its own Retry-After; JSON errors and error pages both use it.
func RetryAfter(w http.ResponseWriter, status int) {
	if w.Header().Get("Retry-After") != "" {
		return
	}
	switch status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "60")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
	}
}

// errorJSON flattens Extra into the error object. The members of the contract (code,
// message, fields, request_id) cannot be overridden, and a lone top-level "field" is
// refused: the fields an error is about are only ever named in "fields".
func errorJSON(b ErrorBody) map[string]any {
	inner := map[string]any{"code": b.Error.Code, "message": b.Error.Message}
	if len(b.Error.Fields) > 0 {
		inner["fields"] = b.Error.Fields
	}
	if b.Error.RequestID != "" {
		inner["request_id"] = b.Error.RequestID
	}
	for k, v := range b.Error.Extra {
		if _, taken := inner[k]; !taken && !reservedExtra[k] {
			inner[k] = v
		}
	}
	return map[string]any{"error": inner}
}

// reservedExtra are members an error's Extra may never add to the body.
var reservedExtra = map[string]bool{"code": true, "message": true, "fields": true, "request_id": true, "field": true}

// maxArgRunes bounds a message argument that may come from the client.
const maxArgRunes = 64

// SafeText makes a string fit to appear in an error message or as a field name: control,
// format (bidirectional overrides, zero-width) and other invisible characters are
// dropped, invalid UTF-8 becomes U+FFFD, and the result is at most 64 characters
// (longer text is cut and ends with an ellipsis). Messages name the problem, they never
// echo raw client input.
func SafeText(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if n == maxArgRunes {
			b.WriteRune('…')
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// SafeMsg returns m with every string argument (nested messages too) passed through
// SafeText, so that no argument that came from a client reaches a message unbounded.
func SafeMsg(m i18n.Msg) i18n.Msg {
	if len(m.Args) == 0 {
		return m
	}
	args := make(map[string]any, len(m.Args))
	for k, v := range m.Args {
		switch v := v.(type) {
		case string:
			args[k] = SafeText(v)
		case i18n.Msg:
			args[k] = SafeMsg(v)
		case fmt.Stringer:
			args[k] = SafeText(v.String())
		default:
			args[k] = v
		}
	}
	return i18n.Msg{Key: m.Key, Args: args}
}
