package customer

// Re-verification (SPEC §2.1): every customer file is re-confirmed at least once per
// period (settings key "customer.reverify_days", default 30 days, 1 to 365, changed at
// run time by holders of customer:rules through PUT /api/v1/customer-settings or the form
// on /customers/reverify, audited "customer.settings.update").
//
// A confirmation (POST /api/v1/customers/{id}/verify, customer:write within its scope,
// optional note) sets the file's verified_at/verified_by, adds a customer_verifications
// row and is audited "customer.verify", all in one transaction. It bumps the file's
// version, so an edit that read the file before the confirmation gets a version conflict
// instead of writing the old confirmation back.
//
// A file is overdue when it is active and its last confirmation, or its creation when it
// was never confirmed, lies more than the period before now (strictly: exactly one
// period ago is not overdue yet). The queue (GET /api/v1/customers/reverify-queue, page
// /customers/reverify) shows the overdue files of the actor's customer:write scope as an
// owner's queue: everyone sees the files they own; a department-scoped role (supervisor)
// sees the department's; an all-scoped role (director, admin) sees every file. Never
// confirmed files come first, then the oldest confirmation; keyset pages on
// (verified_at, id).

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Re-verification settings.
const (
	SettingReverifyDays = "customer.reverify_days"
	DefaultReverifyDays = 30
	MinReverifyDays     = 1
	MaxReverifyDays     = 365
	// VerifyConfirmed is the outcome of a plain confirmation.
	VerifyConfirmed  = "confirmed"
	maxVerifyHistory = 100
)

// Verification is one confirmation of a customer file.
type Verification struct {
	ID         int64
	CustomerID int64
	VerifiedBy int64
	VerifiedAt time.Time
	Outcome    string
	Note       string
}

// VerificationView is the response form of a confirmation.
type VerificationView struct {
	ID         int64           `json:"id"`
	CustomerID int64           `json:"customer_id"`
	VerifiedBy *TerritoryStaff `json:"verified_by"`
	VerifiedAt time.Time       `json:"verified_at"`
	Outcome    string          `json:"outcome"`
	Note       string          `json:"note" text:"multiline"`
}

// CustomerSettings are the run-time settings of customer files.
type CustomerSettings struct {
	ReverifyDays int `json:"reverify_days"`
}

// CustomerSettingsPatch changes the settings; nil fields stay as they are.
type CustomerSettingsPatch struct {
	ReverifyDays *int `json:"reverify_days"`
}

// ReverifyItem is one overdue file: the customer and when it fell due.
type ReverifyItem struct {
	Customer Customer
	DueAt    time.Time
}

// ReverifyPage is one page of the re-verification queue.
type ReverifyPage struct {
	Items      []ReverifyItem
	NextCursor string
	Total      int64 // overdue files in the actor's queue
	PeriodDays int
}

// reverifyDays reads the period (the default when unset or unreadable).
func (s *Service) reverifyDays(ctx context.Context) (int, error) {
	v, ok, err := s.store.CustomerSetting(ctx, SettingReverifyDays)
	if err != nil {
		return 0, err
	}
	n, cerr := strconv.Atoi(strings.TrimSpace(v))
	if !ok || cerr != nil || n < MinReverifyDays || n > MaxReverifyDays {
		return DefaultReverifyDays, nil
	}
	return n, nil
}

// GetCustomerSettings returns the run-time settings (customer:read).
func (s *Service) GetCustomerSettings(ctx context.Context) (CustomerSettings, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return CustomerSettings{}, err
	}
	d, err := s.reverifyDays(ctx)
	return CustomerSettings{ReverifyDays: d}, err
}

// UpdateCustomerSettings changes the run-time settings (customer:rules; audited
// "customer.settings.update").
func (s *Service) UpdateCustomerSettings(ctx context.Context, p CustomerSettingsPatch) (CustomerSettings, error) {
	if _, err := authz.Require(ctx, PermRules); err != nil {
		return CustomerSettings{}, err
	}
	if p.ReverifyDays != nil && (*p.ReverifyDays < MinReverifyDays || *p.ReverifyDays > MaxReverifyDays) {
		return CustomerSettings{}, apperr.InvalidField("reverify_days", "customer.invalid.reverify_days",
			"min", MinReverifyDays, "max", MaxReverifyDays)
	}
	var out CustomerSettings
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.reverifyDays(ctx)
		if err != nil {
			return err
		}
		out.ReverifyDays = old
		if p.ReverifyDays == nil || *p.ReverifyDays == old {
			return nil
		}
		out.ReverifyDays = *p.ReverifyDays
		if err := s.store.PutCustomerSetting(ctx, SettingReverifyDays, strconv.Itoa(out.ReverifyDays), ms(s.now())); err != nil {
			return err
		}
		if s.audit == nil {
			return nil
		}
		return s.audit.Record(ctx, audit.Entry{Action: "customer.settings.update", TargetType: "setting",
			TargetID: SettingReverifyDays, Detail: map[string]any{"from": old, "to": out.ReverifyDays}})
	})
	return out, err
}

// VerifyCustomer records that the actor re-confirmed a customer file (see the notes
// above). An out-of-scope file reads as not found; a merged one is a conflict.
func (s *Service) VerifyCustomer(ctx context.Context, id int64, note string) (Verification, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Verification{}, err
	}
	f := apperr.Fields{}
	note = text(f, "note", note, maxReason, false, true)
	if err := f.Err(); err != nil {
		return Verification{}, err
	}
	v := Verification{CustomerID: id, VerifiedAt: s.now(), Outcome: VerifyConfirmed, Note: note}
	if actor.Kind == authz.KindStaff {
		v.VerifiedBy = actor.ID
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.loadScope(ctx, PermWrite, id)
		if err != nil {
			return err
		}
		if r.Status != StatusActive {
			return apperr.New(apperr.Conflict, "customer.not_active").WithCode("customer_not_active")
		}
		ok, err := s.store.MarkVerified(ctx, id, v.VerifiedBy, ms(v.VerifiedAt))
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Conflict, "customer.not_active").WithCode("customer_not_active")
		}
		if v.ID, err = s.store.InsertVerification(ctx, verificationRow{CustomerID: id, VerifiedBy: v.VerifiedBy,
			VerifiedAt: ms(v.VerifiedAt), Outcome: v.Outcome, Changes: "[]", Note: v.Note}); err != nil {
			return err
		}
		return s.record(ctx, "customer.verify", id, map[string]any{"verification_id": v.ID,
			"previous_verified_at": r.VerifiedAt, "owner_id": r.OwnerID, "with_note": v.Note != ""})
	})
	if err != nil {
		return Verification{}, err
	}
	return v, nil
}

// Verifications lists a customer's confirmations, newest first (at most 100).
func (s *Service) Verifications(ctx context.Context, id int64) ([]Verification, error) {
	if _, err := s.loadScope(ctx, PermRead, id); err != nil {
		return nil, err
	}
	rows, err := s.store.Verifications(ctx, id, maxVerifyHistory)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, "customer.read", id, map[string]any{"part": "verifications"}); err != nil {
		return nil, err
	}
	out := make([]Verification, len(rows))
	for i, r := range rows {
		out[i] = Verification{ID: r.ID, CustomerID: r.CustomerID, VerifiedBy: r.VerifiedBy, VerifiedAt: fromMS(r.VerifiedAt),
			Outcome: r.Outcome, Note: r.Note}
	}
	return out, nil
}

// verificationViews names the confirming staff.
func (s *Service) verificationViews(ctx context.Context, vs []Verification) []VerificationView {
	names := map[int64]string{}
	out := make([]VerificationView, len(vs))
	for i, v := range vs {
		out[i] = VerificationView{ID: v.ID, CustomerID: v.CustomerID, VerifiedBy: s.territoryStaff(ctx, names, v.VerifiedBy),
			VerifiedAt: v.VerifiedAt, Outcome: v.Outcome, Note: v.Note}
	}
	return out
}

// reverifyScope is the owner's-queue scope of an actor (see the notes above).
func reverifyScope(a *authz.Actor) scope {
	switch a.ScopeOf(PermWrite) {
	case authz.ScopeAll:
		return scope{Scope: authz.ScopeAll}
	case authz.ScopeDept:
		if a.DeptID != 0 {
			return scope{Scope: authz.ScopeDept, DeptID: a.DeptID}
		}
	}
	return scope{Scope: authz.ScopeOwn, SelfID: a.ID}
}

type reverifyCursor struct {
	V int64 `json:"v"`
	I int64 `json:"i"`
}

// reverifyCutoff is the instant before which a confirmation (or creation) is overdue.
func (s *Service) reverifyCutoff(ctx context.Context) (int64, int, error) {
	days, err := s.reverifyDays(ctx)
	if err != nil {
		return 0, 0, err
	}
	return ms(s.now()) - int64(days)*24*int64(time.Hour/time.Millisecond), days, nil
}

// ReverifyQueue pages through the overdue files of the actor's queue (customer:write;
// audited "customer.list" with view "reverify" and the ids returned).
func (s *Service) ReverifyQueue(ctx context.Context, limit int, cur string) (ReverifyPage, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return ReverifyPage{}, err
	}
	var c reverifyCursor
	if err := httpx.DecodeCursor(cur, &c); err != nil {
		return ReverifyPage{}, err
	}
	if c.I < 0 || c.V < 0 {
		return ReverifyPage{}, apperr.New(apperr.Malformed, "error.malformed.cursor").OnField("cursor")
	}
	limit = pageLimit(limit)
	cutoff, days, err := s.reverifyCutoff(ctx)
	if err != nil {
		return ReverifyPage{}, err
	}
	q := reverifyQuery{cutoff: cutoff, sc: reverifyScope(actor), afterV: c.V, afterID: c.I, limit: limit + 1}
	rows, err := s.store.ReverifyQueue(ctx, q)
	if err != nil {
		return ReverifyPage{}, err
	}
	page := ReverifyPage{PeriodDays: days}
	if page.Total, err = s.store.ReverifyCount(ctx, q); err != nil {
		return ReverifyPage{}, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		page.NextCursor = httpx.EncodeCursor(reverifyCursor{V: last.VerifiedAt, I: last.ID})
	}
	period := time.Duration(days) * 24 * time.Hour
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		cu, err := s.fromRow(r)
		if err != nil {
			return ReverifyPage{}, err
		}
		basis := cu.VerifiedAt
		if basis.IsZero() {
			basis = cu.CreatedAt
		}
		page.Items = append(page.Items, ReverifyItem{Customer: cu, DueAt: basis.Add(period)})
		ids = append(ids, cu.ID)
	}
	if err := s.record(ctx, "customer.list", 0, map[string]any{"view": "reverify", "ids": ids, "count": len(ids)}); err != nil {
		return ReverifyPage{}, err
	}
	return page, nil
}

// ReverifyDue counts the overdue files of the actor's queue (0 without customer:write).
func (s *Service) ReverifyDue(ctx context.Context) (int64, error) {
	actor := authz.From(ctx)
	if actor == nil || !actor.Can(PermWrite) {
		return 0, nil
	}
	cutoff, _, err := s.reverifyCutoff(ctx)
	if err != nil {
		return 0, err
	}
	return s.store.ReverifyCount(ctx, reverifyQuery{cutoff: cutoff, sc: reverifyScope(actor)})
}

// ======================= JSON API =======================

// ReverifyItemView is one queue entry in responses: the masked file and its due time.
type ReverifyItemView struct {
	View
	DueAt time.Time `json:"due_at"`
}

// reverifyQueueResponse is GET /api/v1/customers/reverify-queue.
type reverifyQueueResponse struct {
	Items      []ReverifyItemView `json:"items"`
	NextCursor string             `json:"next_cursor"`
	Total      int64              `json:"total"`
	PeriodDays int                `json:"period_days"`
}

func (a api) reverifyQueue(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ReverifyQueue(r.Context(), limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := reverifyQueueResponse{Items: make([]ReverifyItemView, len(p.Items)), NextCursor: p.NextCursor, Total: p.Total,
		PeriodDays: p.PeriodDays}
	for i, it := range p.Items {
		out.Items[i] = ReverifyItemView{View: it.Customer.ViewIn(r.Context(), true), DueAt: it.DueAt}
	}
	httpx.JSON(w, http.StatusOK, out)
}

// verifyRequest is POST /api/v1/customers/{id}/verify (the body is optional).
type verifyRequest struct {
	Note string `json:"note" text:"multiline"`
}

func (a api) verify(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var req verifyRequest
	if r.ContentLength != 0 {
		if err := httpx.Decode(r, &req); err != nil {
			httpx.Error(w, r, err)
			return
		}
	}
	v, err := a.s.VerifyCustomer(r.Context(), id, req.Note)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, a.s.verificationViews(r.Context(), []Verification{v})[0])
}

func (a api) verifications(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	vs, err := a.s.Verifications(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[VerificationView]{Items: a.s.verificationViews(r.Context(), vs)})
}

func (a api) getSettings(w http.ResponseWriter, r *http.Request) {
	st, err := a.s.GetCustomerSettings(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, st)
}

func (a api) putSettings(w http.ResponseWriter, r *http.Request) {
	var p CustomerSettingsPatch
	if err := httpx.Decode(r, &p); err != nil {
		httpx.Error(w, r, err)
		return
	}
	st, err := a.s.UpdateCustomerSettings(r.Context(), p)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, st)
}

// ======================= pages =======================

// ReverifyListPage is the model of /customers/reverify.
type ReverifyListPage struct {
	Rows       []ReverifyRow
	Total      int64
	PeriodDays int
	Days       string // the settings form's value
	NextURL    string
	CanRules   bool
	Errors     web.FormErrors
	Message    string
}

// ReverifyRow is one overdue file of the queue page (masked).
type ReverifyRow struct {
	ID       int64
	Name     string
	Kind     string
	Place    string
	Owner    string
	Verified time.Time
	DueAt    time.Time
}

func (p pages) reverifyModel(r *http.Request) (ReverifyListPage, error) {
	ctx := r.Context()
	q, err := p.s.ReverifyQueue(ctx, httpx.DefaultLimit, r.URL.Query().Get("cursor"))
	if err != nil {
		return ReverifyListPage{}, err
	}
	pg := ReverifyListPage{Total: q.Total, PeriodDays: q.PeriodDays, Days: strconv.Itoa(q.PeriodDays),
		CanRules: authz.From(ctx).Can(PermRules)}
	owners := map[int64]string{}
	for _, it := range q.Items {
		c := it.Customer
		pg.Rows = append(pg.Rows, ReverifyRow{ID: c.ID, Name: c.Name, Kind: label(r, "customer.kind.", c.Kind),
			Place: c.View(true).AddressDisplay, Owner: p.ownerName(ctx, owners, c.OwnerID), Verified: c.VerifiedAt, DueAt: it.DueAt})
	}
	if q.NextCursor != "" {
		pg.NextURL = "/customers/reverify?" + url.Values{"cursor": {q.NextCursor}}.Encode()
	}
	return pg, nil
}

func (p pages) reverify(w http.ResponseWriter, r *http.Request) {
	pg, err := p.reverifyModel(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "customer/reverify", "page.reverify.title", pg)
}

func (p pages) reverifySettings(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	raw := strings.TrimSpace(r.PostFormValue("reverify_days"))
	n, cerr := strconv.Atoi(raw)
	var err error
	if cerr != nil {
		err = apperr.InvalidField("reverify_days", "customer.invalid.reverify_days", "min", MinReverifyDays, "max", MaxReverifyDays)
	} else {
		_, err = p.s.UpdateCustomerSettings(r.Context(), CustomerSettingsPatch{ReverifyDays: &n})
	}
	if err == nil {
		web.Redirect(w, r, "/customers/reverify", "customer.flash.settings_saved")
		return
	}
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg, merr := p.reverifyModel(r)
	if merr != nil {
		p.fail(w, r, merr)
		return
	}
	pg.Errors, pg.Message, pg.Days = fe, msg, raw
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "customer/reverify", "page.reverify.title", pg)
}

// verify confirms a file from its detail page or from the queue (next=reverify goes
// back to the queue).
func (p pages) verify(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	if _, err := p.s.VerifyCustomer(r.Context(), id, r.PostFormValue("note")); err != nil {
		p.fail(w, r, err)
		return
	}
	to := "/customers/" + itoa(id)
	if r.PostFormValue("next") == "reverify" {
		to = "/customers/reverify"
	}
	web.Redirect(w, r, to, "customer.flash.verified")
}
