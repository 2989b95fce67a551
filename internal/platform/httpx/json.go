package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// JSON writes v with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// Created writes 201 with a Location header and the created resource.
func Created(w http.ResponseWriter, location string, v any) {
	w.Header().Set("Location", location)
	JSON(w, http.StatusCreated, v)
}

// NoContent writes 204.
func NoContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// Decode reads a JSON request body into dst strictly: the content type must be JSON;
// unknown fields, wrong types, trailing data and oversized bodies are refused with a
// Malformed (or TooLarge) error naming the problem; so are invalid UTF-8 (in the bytes
// or as a lone surrogate in a \u escape, which encoding/json would silently turn into
// U+FFFD) and a key repeated in one object, at any depth. Then every string of the
// result must pass the text rules (see CheckText): a violation is Invalid and names the
// field. Nothing of a refused body is half-applied: callers act only on a nil error.
func Decode(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return apperr.New(apperr.Malformed, "error.malformed.content_type")
		}
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge(tooBig.Limit)
		}
		return apperr.New(apperr.Malformed, "error.malformed").WithCause(err)
	}
	if !utf8.Valid(raw) {
		return apperr.New(apperr.Malformed, "error.malformed.utf8").WithField("(body)", "field.invalid_utf8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return apperr.New(apperr.Malformed, "error.malformed.trailing")
	}
	if err := scanJSON(raw); err != nil {
		return err
	}
	return CheckText(dst)
}

func tooLarge(limit int64) error {
	return apperr.New(apperr.TooLarge, "error.too_large", "limit", limit)
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	if ae, ok := apperr.As(err); ok {
		return ae // a custom UnmarshalJSON that already classified its refusal
	}
	switch {
	case errors.As(err, &tooBig):
		return tooLarge(tooBig.Limit)
	case errors.Is(err, io.EOF):
		return apperr.New(apperr.Malformed, "error.malformed.empty")
	case errors.As(err, &syn):
		return apperr.New(apperr.Malformed, "error.malformed.json", "offset", syn.Offset).WithCause(err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(apperr.Malformed, "error.malformed.json", "offset", "EOF").WithCause(err)
	case errors.As(err, &typ):
		// Field is the JSON path; map keys in it come from the client, so it is named
		// only when it looks like one of our field paths.
		field := safeFieldName(typ.Field)
		expected := jsonKind(typ.Type)
		return apperr.New(apperr.Malformed, "error.malformed.type", "field", field, "expected", expected).
			WithField(field, "field.wrong_type", "expected", expected).WithCause(err)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		// The unknown name is the client's: it is repeated only when it is a plausible
		// field name (ASCII, at most 64 characters), never as free text.
		f, _ = strconv.Unquote(f)
		if name := safeFieldName(f); name != "(body)" {
			return apperr.New(apperr.Malformed, "error.malformed.unknown_field", "field", name).
				WithField(name, "field.unknown").WithCause(err)
		}
		return apperr.New(apperr.Malformed, "error.malformed.unknown_field_unnamed").
			WithField("(body)", "field.unknown").WithCause(err)
	}
	// Anything else (a value a custom decoder refused, say) is named without its text,
	// which may repeat the input.
	return apperr.New(apperr.Malformed, "error.malformed").WithCause(err)
}

// jsonKind names the JSON type a Go type is decoded from, as a catalog message (never
// the Go type's name, which is an internal detail).
func jsonKind(t reflect.Type) i18n.Msg {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return i18n.M("json.type.object")
	}
	switch t.Kind() {
	case reflect.String:
		return i18n.M("json.type.string")
	case reflect.Bool:
		return i18n.M("json.type.boolean")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return i18n.M("json.type.number")
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return i18n.M("json.type.string")
		}
		return i18n.M("json.type.array")
	}
	return i18n.M("json.type.object")
}

// UpdateByID is the handler of a JSON write on ".../{id}" (PATCH, or a POST action): the
// id from the path, the body decoded strictly into Req, fn's result written as 200.
func UpdateByID[Req, Resp any](fn func(ctx context.Context, id int64, req Req) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := PathID(r, "id")
		if err != nil {
			Error(w, r, err)
			return
		}
		var req Req
		if err := Decode(r, &req); err != nil {
			Error(w, r, err)
			return
		}
		out, err := fn(r.Context(), id, req)
		if err != nil {
			Error(w, r, err)
			return
		}
		JSON(w, http.StatusOK, out)
	}
}

// DeleteByID is the handler of "DELETE .../{id}": fn with the id from the path, then 204.
func DeleteByID(fn func(ctx context.Context, id int64) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := PathID(r, "id")
		if err == nil {
			err = fn(r.Context(), id)
		}
		if err != nil {
			Error(w, r, err)
			return
		}
		NoContent(w)
	}
}
