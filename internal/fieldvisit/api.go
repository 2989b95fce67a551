package fieldvisit

import (
	"net/http"
	"strconv"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// api holds the JSON handlers (thin: decode, call the service, write).
type api struct{ s *Service }

func (a api) create(w http.ResponseWriter, r *http.Request) {
	var in Input
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	v, err := a.s.Create(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, "/api/v1/field-visits/"+strconv.FormatInt(v.ID, 10), v)
}

func (a api) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	v, err := a.s.Get(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

// filterOf reads the list filters of r.
func filterOf(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{View: q.Get("view")}
	var err error
	if f.CustomerID, err = httpx.QueryInt64(r, "customer_id"); err != nil {
		return Filter{}, err
	}
	if f.StaffID, err = httpx.QueryInt64(r, "staff_id"); err != nil {
		return Filter{}, err
	}
	if f.From, err = ParseTime("from", q.Get("from")); err != nil {
		return Filter{}, err
	}
	if f.To, err = ParseTime("to", q.Get("to")); err != nil {
		return Filter{}, err
	}
	return f, nil
}

func (a api) list(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f, err := filterOf(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	page, err := a.s.List(r.Context(), f, limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, page)
}

func (a api) overdue(w http.ResponseWriter, r *http.Request) {
	out, err := a.s.Overdue(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err := ParseTime("from", q.Get("from"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	to, err := ParseTime("to", q.Get("to"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out, err := a.s.VisitReport(r.Context(), from, to)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) plans(w http.ResponseWriter, r *http.Request) {
	out, err := a.s.GetPlans(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if out.Version > 0 {
		httpx.SetETag(w, out.Version)
	}
	httpx.JSON(w, http.StatusOK, out)
}

// savePlans replaces the plans. It names the version it replaces (the body's
// "version", 0 while the defaults apply, or If-Match): 428 without, 409 when stale.
func (a api) savePlans(w http.ResponseWriter, r *http.Request) {
	var in PlansInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	v, err := httpx.SettingsVersion(r, in.Version)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	in.Version = &v
	out, err := a.s.SavePlans(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, out.Version)
	httpx.JSON(w, http.StatusOK, out)
}
