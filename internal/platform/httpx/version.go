package httpx

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Version returns the record version that a PATCH must name: the body's "version"
// member (body, nil when the client sent none) or the If-Match header, which holds the
// version as an entity tag ("3", W/"3" or a bare 3). Neither: 428 version_required.
// Both, disagreeing, or an If-Match that is no version: 400 naming "version".
func Version(r *http.Request, body *int64) (int64, error) {
	header, hasHeader, err := ifMatchVersion(r)
	if err != nil {
		return 0, err
	}
	switch {
	case body != nil && hasHeader && *body != header:
		return 0, apperr.New(apperr.Malformed, "error.malformed.version_mismatch").WithCode("malformed_request").
			WithField("version", "error.malformed.version_mismatch")
	case body != nil:
		if *body <= 0 {
			return 0, apperr.InvalidField("version", "field.invalid")
		}
		return *body, nil
	case hasHeader:
		return header, nil
	}
	return 0, apperr.VersionRequired()
}

// SettingsVersion is the version a PUT of a settings document replaces: like Version,
// except that the body may name 0 (the defaults, never saved yet), which then cannot
// go with an If-Match (a saved version is never 0).
func SettingsVersion(r *http.Request, body *int64) (int64, error) {
	if body == nil || *body != 0 {
		return Version(r, body)
	}
	if _, hasHeader, err := ifMatchVersion(r); err != nil {
		return 0, err
	} else if hasHeader {
		return 0, apperr.New(apperr.Malformed, "error.malformed.version_mismatch").WithCode("malformed_request").
			WithField("version", "error.malformed.version_mismatch")
	}
	return 0, nil
}

// ifMatchVersion reads If-Match as a version number.
func ifMatchVersion(r *http.Request) (int64, bool, error) {
	raw := strings.TrimSpace(r.Header.Get("If-Match"))
	if raw == "" {
		return 0, false, nil
	}
	v := strings.TrimPrefix(raw, "W/")
	v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false, apperr.New(apperr.Malformed, "error.malformed.if_match").WithField("version", "error.malformed.if_match")
	}
	return n, true, nil
}

// SetETag sets the ETag of a versioned record, so that clients can send it back in
// If-Match.
func SetETag(w http.ResponseWriter, version int64) {
	w.Header().Set("ETag", `"`+strconv.FormatInt(version, 10)+`"`)
}

// DecodePatch decodes a versioned PATCH body strictly into req and sets *version to the
// version the change is made against: the body's "version" member (*version as decoded)
// or If-Match (428 with neither; see Version).
func DecodePatch(r *http.Request, req any, version **int64) error {
	if err := Decode(r, req); err != nil {
		return err
	}
	v, err := Version(r, *version)
	if err != nil {
		return err
	}
	*version = &v
	return nil
}

// PatchByID is the handler of a versioned "PATCH .../{id}": the id from the path, the
// body and version through DecodePatch (version points into the body at its
// "version" member), then fn, whose result is written as 200 with the record's new
// version as ETag. The service refuses a stale version (409) inside its transaction.
func PatchByID[P any](version func(*P) **int64, fn func(ctx context.Context, id int64, p P) (out any, newVersion int64, err error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := PathID(r, "id")
		var p P
		if err == nil {
			err = DecodePatch(r, &p, version(&p))
		}
		var out any
		var next int64
		if err == nil {
			out, next, err = fn(r.Context(), id, p)
		}
		if err != nil {
			Error(w, r, err)
			return
		}
		SetETag(w, next)
		JSON(w, http.StatusOK, out)
	}
}
