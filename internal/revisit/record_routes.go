package revisit

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Body limits of the record route.
const (
	maxRecordBody     = 1 << 20
	maxRecordJSONPart = 64 << 10
)

// recordRoutes lists the visit-work routes: the record of a task and its review, the
// signature image, sanctions, SMS templates and the retry schedule.
func (s *Service) recordRoutes() []httpx.Route {
	const get, post = http.MethodGet, http.MethodPost
	routes := []httpx.Route{
		{Method: get, Path: "/api/v1/revisits/{id}", Perm: workPermRead, Handler: s.apiVisit},
		{Method: post, Path: "/api/v1/revisits/{id}/record", Perm: workPermWrite, Handler: s.apiRecord, MaxBody: maxRecordBody},
		{Method: get, Path: "/api/v1/revisits/{id}/signature", Perm: workPermRead, Handler: s.apiSignature},
		{Method: post, Path: "/api/v1/revisits/{id}/signoff", Perm: workPermSignoff, Handler: httpx.UpdateByID(s.Signoff)},
		{Method: post, Path: "/api/v1/revisits/{id}/flag-false", Perm: workPermVerify, Handler: httpx.UpdateByID(s.FlagFalse)},
		{Method: post, Path: "/api/v1/revisits/{id}/confirm-false", Perm: workPermApprove, Handler: httpx.UpdateByID(s.ConfirmFalse)},
	}
	routes = append(routes, s.sanctionRoutes()...)
	routes = append(routes, s.smsRoutes()...)
	routes = append(routes, s.retryRoutes()...)
	return routes
}

func (s *Service) apiVisit(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var v RecordView
		if v, err = s.Visit(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, v)
			return
		}
	}
	httpx.Error(w, r, err)
}

// apiRecord takes a JSON record, or a multipart form with the JSON in the "record" part
// and the signature PNG in the "signature" file part.
func (s *Service) apiRecord(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	in, err := DecodeRecordRequest(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	v, err := s.Record(r.Context(), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

// DecodeRecordRequest reads a record request: strict JSON, or multipart/form-data
// with a "record" JSON part and a "signature" PNG part.
func DecodeRecordRequest(r *http.Request) (RecordInput, error) {
	var in RecordInput
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return in, httpx.Decode(r, &in)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return in, apperr.New(apperr.Malformed, "error.malformed").WithCause(err)
	}
	var sig []byte
	seenRecord := false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return in, bodyError(err)
		}
		switch p.FormName() {
		case "record":
			if seenRecord {
				return in, apperr.New(apperr.Malformed, "error.malformed").OnField("record")
			}
			seenRecord = true
			raw, err := readPart(p, maxRecordJSONPart)
			if err != nil {
				return in, err
			}
			fake := &http.Request{Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(raw))}
			if err := httpx.Decode(fake, &in); err != nil {
				return in, err
			}
		case "signature":
			if sig != nil {
				return in, apperr.New(apperr.Malformed, "error.malformed").OnField("signature")
			}
			if sig, err = readPart(p, MaxSignatureBytes); err != nil {
				return in, apperr.InvalidField("signature", "revisit.work.invalid.signature_too_large", "max", MaxSignatureBytes>>10)
			}
		default:
			return in, apperr.New(apperr.Malformed, "error.malformed.unknown_field_unnamed").WithField("(body)", "field.unknown")
		}
	}
	if !seenRecord {
		return in, apperr.InvalidField("record", "field.required")
	}
	if sig != nil {
		if in.Signature != "" {
			return in, apperr.InvalidField("signature", "revisit.work.invalid.signature_twice")
		}
		if err := in.SetSignaturePNG(sig); err != nil {
			return in, err
		}
	}
	return in, nil
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apperr.New(apperr.TooLarge, "error.too_large", "limit", tooBig.Limit)
	}
	return apperr.New(apperr.Malformed, "error.malformed").WithCause(err)
}

// readPart reads at most max bytes of a part; more is an error.
func readPart(p io.Reader, max int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(p, int64(max)+1))
	if err != nil {
		return nil, bodyError(err)
	}
	if len(b) > max {
		return nil, apperr.New(apperr.TooLarge, "error.too_large", "limit", max)
	}
	return b, nil
}

// apiSignature serves the signature image with its own type, never inside a page.
func (s *Service) apiSignature(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	png, err := s.Signature(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Disposition", `inline; filename="signature.png"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(png)
}
