package customer

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// api holds the JSON handlers: thin wrappers that decode, call the service and write
// masked views.
type api struct{ s *Service }

func customerURL(id int64) string { return "/api/v1/customers/" + strconv.FormatInt(id, 10) }

// filterFrom reads the list filters from the query string.
func filterFrom(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Q: q.Get("q"), Kind: q.Get("kind"), Status: q.Get("status"), Tier: q.Get("tier"),
		ValueClass: q.Get("value_class"), CreditGrade: q.Get("credit_grade"), Province: q.Get("province"),
		City: q.Get("city"), District: q.Get("district"), Industry: q.Get("industry"), Tag: q.Get("tag")}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"owner_id", &f.OwnerID}, {"dept_id", &f.DeptID}, {"team_id", &f.TeamID}, {"territory_id", &f.TerritoryID}} {
		v, err := httpx.QueryInt64(r, p.name)
		if err != nil {
			return f, err
		}
		*p.dst = v
	}
	if v := q.Get("verified_before"); v != "" {
		t, err := time.ParseInLocation(dayLayout, v, time.FixedZone("CST", 8*3600))
		if err != nil {
			return f, apperr.New(apperr.Malformed, "error.malformed.param", "param", "verified_before").OnField("verified_before")
		}
		f.VerifiedBefore = t
	}
	return f, nil
}

func (a api) list(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f, err := filterFrom(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListCustomers(r.Context(), f, limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[View]{Items: make([]View, len(p.Items)), NextCursor: p.NextCursor}
	for i, c := range p.Items {
		out.Items[i] = c.ViewIn(r.Context(), true)
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) create(w http.ResponseWriter, r *http.Request) {
	var in Input
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := a.s.CreateCustomer(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, customerURL(c.ID), c.ViewIn(r.Context(), true))
}

func (a api) get(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var c Customer
		if c, err = a.s.GetCustomer(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, c.ViewIn(r.Context(), true))
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) update(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *Patch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p Patch) (any, int64, error) {
			x, err := a.s.UpdateCustomer(ctx, id, p)
			return x.ViewIn(ctx, true), x.Version, err
		})(w, r)
}

// revealRequest is POST /api/v1/customers/{id}/reveal.
type revealRequest struct {
	Fields []string `json:"fields"`
	Reason string   `json:"reason"`
}

func (a api) reveal(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var req revealRequest
	if err := httpx.Decode(r, &req); err != nil {
		httpx.Error(w, r, err)
		return
	}
	out, err := a.s.Reveal(r.Context(), id, req.Fields, req.Reason)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) listContacts(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var cts []Contact
		if cts, err = a.s.ListContacts(r.Context(), id); err == nil {
			out := httpx.Page[ContactView]{Items: make([]ContactView, len(cts))}
			for i, ct := range cts {
				out.Items[i] = ct.View(true)
			}
			httpx.JSON(w, http.StatusOK, out)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) createContact(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in ContactInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	ct, err := a.s.AddContact(r.Context(), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, customerURL(id)+"/contacts/"+strconv.FormatInt(ct.ID, 10), ct.View(true))
}

func (a api) updateContact(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	cid, err := httpx.PathID(r, "cid")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var p ContactPatch
	if err := httpx.DecodePatch(r, &p, &p.Version); err != nil {
		httpx.Error(w, r, err)
		return
	}
	ct, err := a.s.UpdateContact(r.Context(), id, cid, p)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, ct.Version)
	httpx.JSON(w, http.StatusOK, ct.View(true))
}

func (a api) deleteContact(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	cid, err := httpx.PathID(r, "cid")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if err := a.s.DeleteContact(r.Context(), id, cid); err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.NoContent(w)
}
