// Package apperr is the closed set of error kinds that the domain returns and the edge
// (HTTP, CLI) maps to statuses and exit codes. It knows nothing of HTTP.
package apperr

import (
	"errors"
	"fmt"
	"sort"

	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Kind classifies an error for the edge.
type Kind int

// The kinds. Internal is everything else: a fault of ours, logged and never leaked.
const (
	Internal Kind = iota
	Malformed
	Invalid
	NotFound
	Forbidden
	Unauthenticated
	Conflict
	TooLarge
	RateLimited
	// PreconditionRequired: a write that must name the version it changes did not.
	PreconditionRequired
	// Unavailable: a dependency (the database) cannot be reached right now; retry later.
	Unavailable
	// MethodNotAllowed: the resource exists but does not answer this method.
	MethodNotAllowed
)

var codes = map[Kind]string{
	Internal:        "internal",
	Malformed:       "malformed_request",
	Invalid:         "validation_failed",
	NotFound:        "not_found",
	Forbidden:       "forbidden",
	Unauthenticated: "unauthenticated",
	Conflict:        "conflict",
	TooLarge:        "too_large",
	RateLimited:     "rate_limited",
	// PreconditionRequired and Unavailable keep their own codes.
	PreconditionRequired: "version_required",
	Unavailable:          "unavailable",
	MethodNotAllowed:     "method_not_allowed",
}

// CodeStaleVersion is the one machine code of a write against an outdated version, in
// every capability.
const CodeStaleVersion = "version_conflict"

// Error is a classified error with a translatable message and optional field errors.
type Error struct {
	Kind   Kind
	Code   string              // machine code; defaults to the kind's code
	Msg    i18n.Msg            // human message
	Fields map[string]i18n.Msg // field name -> problem, for Invalid
	Extra  map[string]any      // extra JSON members of the error body (e.g. existing_id)
	Err    error               // cause, never shown
}

func (e *Error) Error() string {
	s := e.code()
	if e.Msg.Key != "" {
		s += ": " + e.Msg.Key
	}
	if len(e.Fields) > 0 {
		names := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		s += fmt.Sprintf(" %v", names)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) code() string {
	if e.Code != "" {
		return e.Code
	}
	return codes[e.Kind]
}

// CodeOf returns the machine code of err.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.code()
	}
	return codes[Internal]
}

// KindOf returns the kind of err; Internal for unclassified errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// New builds an error of kind with a message key and arguments.
func New(kind Kind, key string, kv ...any) *Error {
	return &Error{Kind: kind, Msg: i18n.M(key, kv...)}
}

// WithCode sets the machine code.
func (e *Error) WithCode(code string) *Error { e.Code = code; return e }

// WithCause records the underlying cause.
func (e *Error) WithCause(err error) *Error { e.Err = err; return e }

// WithField names a field that the error is about (the body's "fields" member) with a
// message key for it.
func (e *Error) WithField(field, key string, kv ...any) *Error {
	if e.Fields == nil {
		e.Fields = map[string]i18n.Msg{}
	}
	e.Fields[field] = i18n.M(key, kv...)
	return e
}

// OnField names field as the one the error is about, with the error's own message as
// the field's message (the body's "fields" member).
func (e *Error) OnField(field string) *Error {
	if e.Fields == nil {
		e.Fields = map[string]i18n.Msg{}
	}
	e.Fields[field] = e.Msg
	return e
}

// With adds an extra member to the error body. A field the error is about is never an
// extra member: name it with WithField or OnField (the body's "fields" map).
func (e *Error) With(k string, v any) *Error {
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra[k] = v
	return e
}

// NotFoundf is a not-found error naming the kind of thing (a catalog key).
func NotFoundf(thingKey string) *Error {
	return &Error{Kind: NotFound, Msg: i18n.M("error.not_found", "thing", i18n.M(thingKey))}
}

// StaleVersion is the error of a write that named a version other than the record's
// current one (409, code "version_conflict"); current, when > 0, is added to the body.
func StaleVersion(current int64) *Error {
	e := New(Conflict, "error.version_conflict").WithCode(CodeStaleVersion)
	if current > 0 {
		e.With("current_version", current)
	}
	return e
}

// VersionRequired is the error of a PATCH that carried no version (428).
func VersionRequired() *Error { return New(PreconditionRequired, "error.version_required") }

// UnavailableErr is the error of a request that could not reach the database (503).
func UnavailableErr(cause error) *Error {
	return New(Unavailable, "error.unavailable").WithCause(cause)
}

// ForbiddenErr is the standard permission error.
func ForbiddenErr() *Error { return New(Forbidden, "error.forbidden") }

// Unauth is the standard authentication error.
func Unauth() *Error { return New(Unauthenticated, "error.unauthenticated") }

// Fields collects field errors for one validation pass.
type Fields map[string]i18n.Msg

// Add records a problem with field (the first problem per field wins).
func (f Fields) Add(field, key string, kv ...any) {
	if _, ok := f[field]; !ok {
		f[field] = i18n.M(key, kv...)
	}
}

// Err returns an Invalid error if any field failed, else nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Msg: i18n.M("error.validation_failed"), Fields: map[string]i18n.Msg(f)}
}

// InvalidField is a one-field validation error.
func InvalidField(field, key string, kv ...any) *Error {
	return &Error{Kind: Invalid, Msg: i18n.M("error.validation_failed"), Fields: map[string]i18n.Msg{field: i18n.M(key, kv...)}}
}
