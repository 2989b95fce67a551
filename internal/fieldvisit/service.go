// Package fieldvisit keeps the salespeople's customer visits (kehu baifang, the
// waiqin form; SPEC §2.7): the visit record from a phone-sized page, visit plans per customer class with
// the overdue ones, and visit reports. Each recorded visit is a trigger of the
// return-visit rules (sales_visit: a verification call within 24 h), emitted to the
// return-visit engine inside the recording transaction.
package fieldvisit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// Deps are the field-visit service's collaborators.
type Deps struct {
	DB        *db.DB
	Audit     *audit.Log
	Clock     clock.Clock
	Log       *slog.Logger
	Customers *customer.Service
	Staff     *org.Service
	Revisits  *revisit.Service
	// Keys encrypts the contact's phone at rest and computes its blind index. Without
	// it a visit can be recorded only without a phone number.
	Keys *secure.Keyring
}

// Service holds the field-visit use cases.
type Service struct {
	d     Deps
	store *Store
	web   *web.Engine
	// emit hands each recorded visit to the return-visit engine (Deps.Revisits).
	emit Emitter
}

// New builds the service and registers its table with customer merges.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Customers == nil || d.Revisits == nil {
		return nil, errors.New("fieldvisit: a database, the customer and the return-visit services are required")
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if err := d.Customers.LinkTable("field_visits", "customer_id"); err != nil { // merges move visits
		return nil, fmt.Errorf("fieldvisit: %w", err)
	}
	return &Service{d: d, store: NewStore(d.DB), emit: d.Revisits}, nil
}

// SetKeys gives the service the key ring when Deps did not (wiring, before serving).
func (s *Service) SetKeys(k *secure.Keyring) {
	if s.d.Keys == nil {
		s.d.Keys = k
	}
}

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// Store returns the store (tests, demo data).
func (s *Service) Store() *Store { return s.store }

// now is the clock's time at millisecond precision (what the database keeps).
func (s *Service) now() time.Time { return time.UnixMilli(clock.Millis(s.d.Clock.Now())) }

// Encryption context (AES-GCM additional data) and blind-index purpose of the phone.
const (
	aadPhone   = "field_visit.phone"
	blindPhone = "field_visit.phone"
)

// record writes an audit entry about visit id in ctx's transaction.
func (s *Service) record(ctx context.Context, action string, id int64, detail any) error {
	if s.d.Audit == nil {
		return nil
	}
	target := ""
	if id != 0 {
		target = strconv.FormatInt(id, 10)
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Action: action, TargetType: "field_visit", TargetID: target, Detail: detail}); err != nil {
		return fmt.Errorf("fieldvisit: audit %s: %w", action, err)
	}
	return nil
}

// textField trims v and checks its length; required adds field.required when empty.
func textField(f apperr.Fields, field, v string, max int, required bool) string {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		f.Add(field, "field.required")
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		f.Add(field, "field.invalid")
	case utf8.RuneCountInString(v) > max:
		f.Add(field, "field.too_long", "max", max)
	}
	return v
}

// normalizePhone accepts a mainland mobile or a landline number with its area code
// (a contact's own line: service numbers such as 95xxx or 400 are refused); "" stays "".
func normalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	if n, err := cnid.NormalizeMobile(s); err == nil {
		return n, true
	}
	if n, err := cnid.NormalizePhone(s); err == nil && strings.HasPrefix(n, "0") {
		return n, true
	}
	return "", false
}

// validate checks in and returns the visit it describes (without customer checks,
// salesperson or times set by the service beyond VisitedAt). history allows any past
// visit time (the system recording earlier visits: imports, demo data).
func validate(in Input, now time.Time, history bool) (Visit, apperr.Fields) {
	f := apperr.Fields{}
	v := Visit{CustomerID: in.CustomerID, DealClosed: in.DealClosed}
	if in.CustomerID <= 0 {
		if in.CustomerID == 0 {
			f.Add("customer_id", "field.required")
		} else {
			f.Add("customer_id", "fieldvisit.invalid.customer_unknown")
		}
	}
	v.BusinessType = textField(f, "business_type", in.BusinessType, maxShort, true)
	v.ContactName = textField(f, "contact_name", in.ContactName, maxShort, true)
	v.ContactTitle = textField(f, "contact_title", in.ContactTitle, maxShort, false)
	phone := textField(f, "phone", in.Phone, maxShort, true)
	if phone != "" {
		n, ok := normalizePhone(phone)
		if !ok {
			f.Add("phone", "fieldvisit.invalid.phone")
		}
		v.Phone = n
	}
	v.Purpose = textField(f, "purpose", in.Purpose, maxText, true)
	v.Result = textField(f, "result", in.Result, maxText, false)
	v.NextStep = textField(f, "next_step", in.NextStep, maxText, false)
	v.Location = textField(f, "location", in.Location, maxLocation, false)
	v.IntentClass = strings.ToUpper(strings.TrimSpace(in.IntentClass))
	switch v.IntentClass {
	case "", IntentA, IntentB, IntentC, IntentD:
	default:
		f.Add("intent_class", "field.invalid_choice")
	}
	v.VisitedAt = now
	if in.VisitedAt != nil {
		at := time.UnixMilli(in.VisitedAt.UnixMilli())
		switch {
		case at.After(now.Add(maxAhead)):
			f.Add("visited_at", "fieldvisit.invalid.visited_future")
		case !history && at.Before(now.Add(-maxBack)), at.Year() < 2000:
			f.Add("visited_at", "fieldvisit.invalid.visited_past", "days", int(maxBack/(24*time.Hour)))
		}
		v.VisitedAt = at
	}
	if in.StaffID < 0 {
		f.Add("staff_id", "fieldvisit.invalid.staff")
	}
	return v, f
}

// reachCustomer is the customer of a visit if the actor's customer scope reaches it.
// A customer out of reach gets exactly the answer of a missing one.
func (s *Service) reachCustomer(ctx context.Context, a *authz.Actor, f apperr.Fields, id int64) (customer.Ref, bool, error) {
	if id <= 0 {
		return customer.Ref{}, false, nil
	}
	ref, err := s.d.Customers.Ref(ctx, id)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			f.Add("customer_id", "fieldvisit.invalid.customer_unknown")
			return customer.Ref{}, false, nil
		}
		return customer.Ref{}, false, err
	}
	rec := authz.Record{DeptID: ref.DeptID, TeamID: ref.TeamID, OwnerID: ref.OwnerID}
	if a.Kind != authz.KindSystem && !a.Reaches(customer.PermRead, rec) {
		f.Add("customer_id", "fieldvisit.invalid.customer_unknown")
		return customer.Ref{}, false, nil
	}
	if ref.Status == customer.StatusMerged {
		f.Add("customer_id", "fieldvisit.invalid.customer_merged", "survivor", ref.MergedInto)
		return customer.Ref{}, false, nil
	}
	return ref, true, nil
}

// salesperson resolves who made the visit: a staff member records their own; the
// system names them (in.StaffID).
func (s *Service) salesperson(ctx context.Context, a *authz.Actor, f apperr.Fields, staffID int64) (id, dept, team int64, err error) {
	if a.Kind == authz.KindStaff {
		if staffID != 0 && staffID != a.ID {
			f.Add("staff_id", "fieldvisit.invalid.staff")
		}
		return a.ID, a.DeptID, a.TeamID, nil
	}
	if staffID <= 0 {
		f.Add("staff_id", "field.required")
		return 0, 0, 0, nil
	}
	if s.d.Staff == nil {
		return staffID, 0, 0, nil
	}
	st, err := s.d.Staff.GetStaff(authz.WithActor(ctx, authz.System("fieldvisit")), staffID)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			f.Add("staff_id", "fieldvisit.invalid.staff")
			return 0, 0, 0, nil
		}
		return 0, 0, 0, err
	}
	return st.ID, st.DeptID, st.TeamID, nil
}

// Create records a field visit by the actor (fieldvisit:write) on a customer their
// customer scope reaches, encrypts the contact's phone, audits the record and, in the
// same transaction, emits the visit to the return-visit engine (the sales_visit
// verification call). Problems are one 422 naming every field.
func (s *Service) Create(ctx context.Context, in Input) (View, error) {
	a, err := authz.RequireStaff(ctx, PermWrite)
	if err != nil {
		return View{}, err
	}
	now := s.now()
	v, f := validate(in, now, a.Kind == authz.KindSystem)
	ref, _, err := s.reachCustomer(ctx, a, f, in.CustomerID)
	if err != nil {
		return View{}, err
	}
	if v.StaffID, v.DeptID, v.TeamID, err = s.salesperson(ctx, a, f, in.StaffID); err != nil {
		return View{}, err
	}
	if err := f.Err(); err != nil {
		return View{}, err
	}
	r := row{Visit: v}
	r.CreatedAt = now
	if v.Phone != "" {
		if s.d.Keys == nil {
			return View{}, errors.New("fieldvisit: no key ring to encrypt the phone")
		}
		if r.PhoneEnc, err = s.d.Keys.Encrypt(v.Phone, aadPhone); err != nil {
			return View{}, fmt.Errorf("fieldvisit: encrypt: %w", err)
		}
		r.PhoneBlind = s.d.Keys.Blind(blindPhone, v.Phone)
	}
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.Insert(ctx, &r); err != nil {
			return err
		}
		if err := s.record(ctx, "fieldvisit.create", r.ID, map[string]any{"customer_id": r.CustomerID,
			"staff_id": r.StaffID, "intent_class": r.IntentClass, "deal_closed": r.DealClosed}); err != nil {
			return err
		}
		return s.emitRecorded(ctx, r.Visit)
	})
	if err != nil {
		return View{}, err
	}
	v.ID, v.CreatedAt = r.ID, r.CreatedAt
	return view(v, ref.Name, s.staffName(ctx, v.StaffID)), nil
}

// canReveal reports whether the actor sees v's phone in clear: customer:reveal with a
// scope reaching the visit's customer.
func canReveal(a *authz.Actor, ref customer.Ref) bool {
	if a == nil {
		return false
	}
	if a.Kind == authz.KindSystem {
		return true
	}
	return a.Reaches(customer.PermReveal, authz.Record{DeptID: ref.DeptID, TeamID: ref.TeamID, OwnerID: ref.OwnerID})
}

// maskPhone masks a mobile or landline number.
func maskPhone(p string) string {
	if p == "" {
		return ""
	}
	if len(p) == 11 && p[0] == '1' {
		return secure.MaskMobile(p)
	}
	return secure.MaskPhone(p)
}

// view is the JSON form of v, its phone masked (reveal is decided by the callers).
func view(v Visit, customerName, staffName string) View {
	return View{ID: v.ID, CustomerID: v.CustomerID, CustomerName: customerName, BusinessType: v.BusinessType,
		ContactName: v.ContactName, ContactTitle: v.ContactTitle, Phone: maskPhone(v.Phone), PhoneMasked: v.Phone != "",
		VisitedAt: v.VisitedAt.UTC(), Purpose: v.Purpose, Result: v.Result, NextStep: v.NextStep,
		IntentClass: v.IntentClass, DealClosed: v.DealClosed, Location: v.Location, StaffID: v.StaffID,
		StaffName: staffName, DeptID: v.DeptID, TeamID: v.TeamID, CreatedAt: v.CreatedAt.UTC()}
}

// staffName is the display name of staff member id ("#id" when unknown).
func (s *Service) staffName(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	if s.d.Staff != nil {
		if st, err := s.d.Staff.GetStaff(authz.WithActor(ctx, authz.System("fieldvisit")), id); err == nil {
			return st.DisplayName
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}

// decrypt returns the visit of r with its phone in clear.
func (s *Service) decrypt(r row) (Visit, error) {
	v := r.Visit
	if r.PhoneEnc != "" {
		if s.d.Keys == nil {
			return Visit{}, errors.New("fieldvisit: no key ring to decrypt the phone")
		}
		p, err := s.d.Keys.Decrypt(r.PhoneEnc, aadPhone)
		if err != nil {
			return Visit{}, fmt.Errorf("fieldvisit: decrypt %d: %w", r.ID, err)
		}
		v.Phone = p
	}
	return v, nil
}

// Get returns visit id (fieldvisit:read, and the visit in the actor's scope; anything
// else reads as not found). The phone is in clear for a holder of customer:reveal whose
// scope reaches the customer, masked otherwise; every read is audited
// ("fieldvisit.read", saying whether the phone was shown in clear).
func (s *Service) Get(ctx context.Context, id int64) (View, error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return View{}, err
	}
	var out View
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.Get(ctx, id)
		if err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFoundf("thing.field_visit")
			}
			return fmt.Errorf("fieldvisit: load: %w", err)
		}
		if a.Kind != authz.KindSystem && !a.Reaches(PermRead, r.Record()) {
			return apperr.NotFoundf("thing.field_visit")
		}
		v, err := s.decrypt(r)
		if err != nil {
			return err
		}
		ref, err := s.d.Customers.Ref(ctx, v.CustomerID)
		if err != nil && apperr.KindOf(err) != apperr.NotFound {
			return err
		}
		out = view(v, ref.Name, s.staffName(ctx, v.StaffID))
		clear := v.Phone != "" && canReveal(a, ref)
		if clear {
			out.Phone, out.PhoneMasked = v.Phone, false
		}
		return s.record(ctx, "fieldvisit.read", id, map[string]any{"customer_id": v.CustomerID, "phone_clear": clear})
	})
	return out, err
}

// List pages through the visits in the actor's scope (fieldvisit:read), newest first,
// narrowed by f. Phones are always masked in lists; the read is audited
// ("fieldvisit.list" with the ids returned).
func (s *Service) List(ctx context.Context, f Filter, limit int, cur string) (httpx.Page[View], error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return httpx.Page[View]{}, err
	}
	if f.View != "" && f.View != ViewMine && f.View != ViewTeam {
		return httpx.Page[View]{}, apperr.InvalidField("view", "field.invalid_choice")
	}
	var c *cursor
	if cur != "" {
		c = &cursor{}
		if err := httpx.DecodeCursor(cur, c); err != nil {
			return httpx.Page[View]{}, err
		}
	}
	if limit <= 0 || limit > httpx.MaxLimit {
		limit = httpx.DefaultLimit
	}
	out := httpx.Page[View]{Items: []View{}}
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		rows, err := s.store.List(ctx, a, f, c, limit+1)
		if err != nil {
			return err
		}
		if len(rows) > limit {
			last := rows[limit-1]
			out.NextCursor = httpx.EncodeCursor(cursor{At: db.Millis(last.VisitedAt), ID: last.ID})
			rows = rows[:limit]
		}
		ids := make([]int64, 0, len(rows))
		cids := make([]int64, 0, len(rows))
		for _, r := range rows {
			ids, cids = append(ids, r.ID), append(cids, r.CustomerID)
		}
		refs, err := s.d.Customers.Refs(ctx, cids)
		if err != nil {
			return err
		}
		names := map[int64]string{}
		for _, r := range rows {
			v, err := s.decrypt(r)
			if err != nil {
				return err
			}
			n, ok := names[v.StaffID]
			if !ok {
				n = s.staffName(ctx, v.StaffID)
				names[v.StaffID] = n
			}
			out.Items = append(out.Items, view(v, refs[v.CustomerID].Name, n))
		}
		return s.record(ctx, "fieldvisit.list", 0, map[string]any{"ids": ids})
	})
	return out, err
}
