package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
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

// Decode reads a JSON request body into dst strictly: the content type must be JSON,
// unknown fields, wrong types, trailing data and oversized bodies are refused with a
// Malformed (or TooLarge) error naming the problem.
func Decode(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return apperr.New(apperr.Malformed, "error.malformed.content_type")
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge(tooBig.Limit)
		}
		return apperr.New(apperr.Malformed, "error.malformed.trailing")
	}
	return nil
}

func tooLarge(limit int64) error {
	return apperr.New(apperr.TooLarge, "error.too_large", "limit", limit)
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
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
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return apperr.New(apperr.Malformed, "error.malformed.type", "field", field, "expected", typ.Type.String()).
			With("field", field).WithCause(err)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f, _ = strconv.Unquote(f)
		return apperr.New(apperr.Malformed, "error.malformed.unknown_field", "field", f).With("field", f).WithCause(err)
	}
	return apperr.New(apperr.Malformed, "error.malformed", "detail", err.Error()).WithCause(err)
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
