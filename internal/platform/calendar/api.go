package calendar

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// MaxImportBytes bounds an uploaded holiday table.
const MaxImportBytes = 1 << 20

// api holds the JSON handlers.
type api struct{ r *Registry }

func (a api) listCalendars(w http.ResponseWriter, r *http.Request) {
	defs, err := a.r.ListCalendars(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"items": defs})
}

func (a api) getCalendar(w http.ResponseWriter, r *http.Request) {
	d, err := a.r.GetDef(r.Context(), r.PathValue("id"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, d)
}

func (a api) putCalendar(w http.ResponseWriter, r *http.Request) {
	var in DefInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	d, created, err := a.r.PutCalendar(r.Context(), r.PathValue("id"), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if created {
		httpx.Created(w, "/api/v1/calendars/"+d.ID, d)
		return
	}
	httpx.JSON(w, http.StatusOK, d)
}

// dueResponse is the body of the preview.
type dueResponse struct {
	DueAt string `json:"due_at"`
}

func (a api) due(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	t, err := a.r.Preview(r.Context(), r.PathValue("id"), q.Get("from"), q.Get("duration"), q.Get("mode"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, dueResponse{DueAt: t.Format(time.RFC3339)})
}

func (a api) listYears(w http.ResponseWriter, r *http.Request) {
	ys, err := a.r.ListYears(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"items": ys})
}

// pathYear reads {year}; a value that is no year reads as not found.
func pathYear(r *http.Request) (int, error) {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil || y < minYear || y >= maxYear {
		return 0, apperr.NotFoundf("calendar.thing.year")
	}
	return y, nil
}

func (a api) getYear(w http.ResponseWriter, r *http.Request) {
	y, err := pathYear(r)
	if err == nil {
		var v YearView
		if v, err = a.r.GetYear(r.Context(), y); err == nil {
			httpx.JSON(w, http.StatusOK, v)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) putYear(w http.ResponseWriter, r *http.Request) {
	y, err := pathYear(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in YearInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	v, err := a.r.PutYear(r.Context(), y, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

// importYears takes the file as the request body (application/json) or as the "file"
// part of a multipart form.
func (a api) importYears(w http.ResponseWriter, r *http.Request) {
	data, err := readUpload(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	vs, err := a.r.ImportYears(r.Context(), data)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"items": vs})
}

// readUpload returns the uploaded table: the "file" part of a multipart form, or the
// whole body.
func readUpload(r *http.Request) ([]byte, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		f, _, err := r.FormFile("file")
		if err != nil {
			if isTooLarge(err) {
				return nil, apperr.New(apperr.TooLarge, "error.too_large", "limit", MaxImportBytes)
			}
			return nil, apperr.InvalidField("file", "field.required")
		}
		defer f.Close()
		return readAllLimited(f)
	}
	return readAllLimited(r.Body)
}

func readAllLimited(rd io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, MaxImportBytes+1))
	if err != nil {
		if isTooLarge(err) {
			return nil, apperr.New(apperr.TooLarge, "error.too_large", "limit", MaxImportBytes)
		}
		return nil, apperr.New(apperr.Malformed, "error.malformed.empty").WithCause(err)
	}
	if len(b) > MaxImportBytes {
		return nil, apperr.New(apperr.TooLarge, "error.too_large", "limit", MaxImportBytes)
	}
	return b, nil
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
