package customer

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// Caller lookup (SPEC §2.2, issue 7): an agent taking a phone call must find the
// caller's file by the number calling in, even when the file is outside the agent's
// own customer scope (a service center answers every customer). That is the one way
// around the scope, so it is narrow:
//
//   - the query is one whole phone number (a mobile, or a landline with its area code);
//     prefixes, suffixes, 4-digit tails and names are refused, so nothing can be
//     enumerated by fishing;
//   - the answer is masked identification only: the customer id, the masked name and
//     masked mobile, enough for the caller to confirm who they are; nothing of the file;
//   - every lookup, hit or miss, is audited ("customer.lookup", with the masked number
//     and the ids found), and each staff member may look up LookupBurst numbers at once,
//     then one per LookupEvery;
//   - a hit records a lookup grant (customer_lookup_grants): for LookupGrantTTL the
//     staff member may open a request for that customer (RequestRef). A customer id
//     guessed without a lookup still reads as missing.
//
// The grant lives in the database, not in the session or a token the client carries,
// so that it is checked server-side, works on every node and expires by itself.

// Limits of the caller lookup.
const (
	LookupGrantTTL  = 30 * time.Minute
	LookupBurst     = 10
	LookupEvery     = 6 * time.Second
	lookupMaxHits   = 5
	lookupMinDigits = 7
)

// CallerMatch is one customer found by a caller lookup: masked identification only.
type CallerMatch struct {
	CustomerID   int64  `json:"customer_id"`
	Name         string `json:"name"`
	MaskedMobile string `json:"mobile"`
}

// CallerLookup is the answer of a caller lookup.
type CallerLookup struct {
	// Phone is the number looked up, masked.
	Phone string        `json:"phone"`
	Items []CallerMatch `json:"items"`
	// GrantExpiresAt is when the right to open a request for the customers found
	// ends (absent when nothing was found).
	GrantExpiresAt *time.Time `json:"grant_expires_at,omitempty"`
}

// normalizeCaller validates a caller's number: one whole mobile or landline number
// (an extension is ignored, as the blind index ignores it).
func normalizeCaller(q string) (key, masked string, ok bool) {
	n, err := cnid.NormalizeMobile(q)
	if err != nil {
		if n, err = cnid.NormalizePhone(q); err != nil {
			return "", "", false
		}
	}
	key = phoneKey(n)
	if len(digitsOnly(key)) < lookupMinDigits {
		return "", "", false
	}
	if len(key) == 11 && key[0] == '1' {
		return key, secure.MaskMobile(key), true
	}
	return key, secure.MaskPhone(key), true
}

// LookupCaller finds the active customers whose own or whose contacts' phone number is
// phone (customer:read; see the comment at the top of lookup.go). It answers 422
// naming "phone" for anything but a whole number and 429 past the rate limit.
func (s *Service) LookupCaller(ctx context.Context, phone string) (CallerLookup, error) {
	actor, err := authz.Require(ctx, PermRead)
	if err != nil {
		return CallerLookup{}, err
	}
	if actor.Kind != authz.KindStaff {
		return CallerLookup{}, apperr.ForbiddenErr()
	}
	key, masked, ok := normalizeCaller(phone)
	if !ok {
		return CallerLookup{}, apperr.InvalidField("phone", "customer.lookup.invalid_phone")
	}
	if !s.lookups.Allow(strconv.FormatInt(actor.ID, 10)) {
		return CallerLookup{}, apperr.New(apperr.RateLimited, "customer.lookup.rate_limited")
	}
	out := CallerLookup{Phone: masked, Items: []CallerMatch{}}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		ids, err := s.store.CallerIDs(ctx, s.prot.keys.Blind(blindPhone, key), lookupMaxHits)
		if err != nil {
			return err
		}
		refs, err := s.Refs(ctx, ids)
		if err != nil {
			return err
		}
		now := s.now()
		until := now.Add(LookupGrantTTL)
		for _, id := range ids {
			r, ok := refs[id]
			if !ok {
				continue
			}
			out.Items = append(out.Items, CallerMatch{CustomerID: id, Name: secure.MaskName(r.Name), MaskedMobile: r.MaskedMobile})
			if err := s.store.AddLookupGrant(ctx, actor.ID, id, ms(until), ms(now)); err != nil {
				return err
			}
		}
		if len(out.Items) > 0 {
			out.GrantExpiresAt = &until
		}
		if err := s.store.PruneLookupGrants(ctx, ms(now)); err != nil {
			return err
		}
		return s.recordOther(ctx, "customer.lookup", "customer", map[string]any{"phone": masked, "found": ids,
			"grant_minutes": int(LookupGrantTTL / time.Minute)})
	})
	if err != nil {
		return CallerLookup{}, err
	}
	return out, nil
}

// RequestRef returns the summary of customer id for opening a request: the actor must
// reach the file with customer:read or hold an unexpired lookup grant for it (the
// system and jobs always may). Anything else reads exactly as a missing customer
// (NotFound "thing.customer"), so that ids cannot be probed.
func (s *Service) RequestRef(ctx context.Context, id int64) (Ref, error) {
	actor := authz.From(ctx)
	if actor == nil {
		return Ref{}, apperr.Unauth()
	}
	ref, err := s.Ref(ctx, id)
	if err != nil {
		return Ref{}, err
	}
	switch actor.Kind {
	case authz.KindSystem:
		return ref, nil
	case authz.KindCustomer:
		if actor.ID == id {
			return ref, nil
		}
		return Ref{}, apperr.NotFoundf("thing.customer")
	}
	if actor.Reaches(PermRead, authz.Record{DeptID: ref.DeptID, TeamID: ref.TeamID, OwnerID: ref.OwnerID}) {
		return ref, nil
	}
	ok, err := s.store.HasLookupGrant(ctx, actor.ID, id, ms(s.now()))
	if err != nil {
		return Ref{}, err
	}
	if !ok {
		return Ref{}, apperr.NotFoundf("thing.customer")
	}
	return ref, nil
}

// lookupCaller is GET /api/v1/customers/lookup?phone=...
func (a api) lookupCaller(w http.ResponseWriter, r *http.Request) {
	res, err := a.s.LookupCaller(r.Context(), r.URL.Query().Get("phone"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, res)
}
