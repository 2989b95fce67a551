package customer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/search"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// StaffLoader resolves a staff member (an owner) to their department and team; the org
// service implements it (auth.PrincipalLoader's LoadActor).
type StaffLoader interface {
	LoadActor(ctx context.Context, staffID int64) (*authz.Actor, error)
}

// Deps are the customer service's collaborators.
type Deps struct {
	DB    *db.DB
	Audit *audit.Log
	Keys  *secure.Keyring
	Clock clock.Clock
	Staff StaffLoader
	// Search is the customer full-text index; built from DB when nil.
	Search *search.Index
	Log    *slog.Logger
}

// Service holds the customer-file use cases.
type Service struct {
	db     *db.DB
	store  *Store
	audit  *audit.Log
	prot   protector
	clock  clock.Clock
	staff  StaffLoader
	index  *search.Index
	log    *slog.Logger
	web    *web.Engine
	zoneCN *time.Location
	terr   territoryCache // the territory matcher (territory.go)
	links  []LinkedTable  // tables other capabilities registered for merges (merge.go)
	cls    classState     // cached classification rules, job runner (classification.go)
	// history lists the records capabilities above keep about a customer (history.go).
	history []HistorySource
	// created are called in the transaction that creates a customer file (OnCreated).
	created []CreateListener
	// lookups limits caller lookups per staff member (lookup.go).
	lookups *httpx.Limiter
}

// New builds the service.
func New(d Deps) (*Service, error) {
	s := &Service{db: d.DB, store: NewStore(d.DB), audit: d.Audit, prot: protector{keys: d.Keys}, clock: d.Clock,
		staff: d.Staff, index: d.Search, log: d.Log, lookups: httpx.NewLimiter(LookupEvery, LookupBurst)}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if d.Keys == nil {
		return nil, errors.New("customer: a key ring is required")
	}
	if s.index == nil {
		ix, err := search.NewIndex(d.DB, search.KindCustomer)
		if err != nil {
			return nil, fmt.Errorf("customer: %w", err)
		}
		s.index = ix
	}
	s.zoneCN = time.FixedZone("CST", 8*3600)
	return s, nil
}

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// Store returns the store (for the capability's later parts and tests).
func (s *Service) Store() *Store { return s.store }

func (s *Service) now() time.Time { return time.UnixMilli(clock.Millis(s.clock.Now())) }

// today is the current date in China (dates of birth, "not in the future").
func (s *Service) today() time.Time {
	y, m, d := s.clock.Now().In(s.zoneCN).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (s *Service) record(ctx context.Context, action string, id int64, detail any) error {
	if s.audit == nil {
		return nil
	}
	target := ""
	if id != 0 {
		target = strconv.FormatInt(id, 10)
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: "customer", TargetID: target, Detail: detail}); err != nil {
		return fmt.Errorf("customer: audit %s: %w", action, err)
	}
	return nil
}

func notFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.customer")
	}
	return fmt.Errorf("customer: load: %w", err)
}

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return httpx.DefaultLimit
	case n > httpx.MaxLimit:
		return httpx.MaxLimit
	}
	return n
}

type cursor struct {
	ID int64 `json:"i"`
}

func decodeCursor(s string) (int64, error) {
	var c cursor
	if err := httpx.DecodeCursor(s, &c); err != nil {
		return 0, err
	}
	if c.ID < 0 {
		return 0, apperr.New(apperr.Malformed, "error.malformed.cursor").OnField("cursor")
	}
	return c.ID, nil
}

// ======================= row mapping =======================

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func fromJSON[T any](s string, v *T) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

func ms(t time.Time) int64 { return db.Millis(t) }

func fromMS(v int64) time.Time { return db.Time(v) }

// toRow encrypts c into its stored form.
func (s *Service) toRow(c *Customer) (custRow, error) {
	p := s.prot
	r := custRow{ID: c.ID, Kind: c.Kind, Status: c.Status, Name: c.Name, NameKey: nameKey(c.Name), Email: c.Email,
		CreditCode: c.CreditCode, Province: c.Province, City: c.City, District: c.District, Region: c.Region,
		Industry: c.Industry, Source: c.Source, Tier: c.Tier, TierReasons: encodeReasons(c.TierReasons),
		ValueClass: c.ValueClass, ValueReasons: encodeReasons(c.ValueReasons), CreditGrade: c.CreditGrade,
		CreditReasons: encodeReasons(c.CreditReasons), ClassPinned: toJSON(nonNil(c.Pinned)), ClassifiedAt: ms(c.ClassifiedAt),
		CreditFacts: toJSON(c.CreditFacts), SizeEmployees: c.SizeEmployees, AnnualSalesFen: c.AnnualSalesFen,
		FoundedOn: c.FoundedOn, RelationshipSince: c.RelationshipSince, Qualifications: toJSON(nonNil(c.Qualifications)),
		ServiceRegion: c.ServiceRegion, CreditStatus: c.CreditStatus, TradingTerms: c.TradingTerms,
		CooperationAttitude: c.CooperationAttitude, BankName: c.BankName, Tags: toJSON(nonNil(c.Tags)), Notes: c.Notes,
		OwnerID: c.OwnerID, DeptID: c.DeptID, TeamID: c.TeamID, TerritoryID: c.TerritoryID, VerifiedAt: ms(c.VerifiedAt),
		VerifiedBy: c.VerifiedBy, MergedInto: c.MergedInto, MergedAt: ms(c.MergedAt), AnonymizedAt: ms(c.AnonymizedAt),
		CreatedBy: c.CreatedBy, CreatedAt: ms(c.CreatedAt), UpdatedAt: ms(c.UpdatedAt), Ver: c.Version}
	var err error
	enc := func(dst *string, v, aad string) {
		if err == nil {
			*dst, err = p.enc(v, aad)
		}
	}
	enc(&r.MobileEnc, c.Mobile, aadMobile)
	enc(&r.PhoneEnc, c.Phone, aadPhone)
	enc(&r.IDNumberEnc, c.IDNumber, aadIDNumber)
	enc(&r.AddressEnc, c.Address, aadAddress)
	enc(&r.BankAccountEnc, c.BankAccount, aadBankAccount)
	if err != nil {
		return r, err
	}
	r.MobileBidx, r.MobileL4 = p.phoneBlind(c.Mobile)
	r.PhoneBidx, r.PhoneL4 = p.phoneBlind(c.Phone)
	r.IDNumberBidx = p.blind(blindIDNumber, c.IDNumber)
	r.AddressBidx = p.blind(blindAddress, addressKey(c.Province, c.City, c.District, c.Address))
	return r, nil
}

// fromRow decrypts a stored row.
func (s *Service) fromRow(r custRow) (Customer, error) {
	c := Customer{ID: r.ID, Kind: r.Kind, Status: r.Status, Name: r.Name, Email: r.Email, CreditCode: r.CreditCode,
		Province: r.Province, City: r.City, District: r.District, Region: r.Region, Industry: r.Industry, Source: r.Source,
		Tier: r.Tier, ValueClass: r.ValueClass, CreditGrade: r.CreditGrade, ClassifiedAt: fromMS(r.ClassifiedAt),
		SizeEmployees: r.SizeEmployees, AnnualSalesFen: r.AnnualSalesFen, FoundedOn: r.FoundedOn,
		RelationshipSince: r.RelationshipSince, ServiceRegion: r.ServiceRegion, CreditStatus: r.CreditStatus,
		TradingTerms: r.TradingTerms, CooperationAttitude: r.CooperationAttitude, BankName: r.BankName, Notes: r.Notes,
		OwnerID: r.OwnerID, DeptID: r.DeptID, TeamID: r.TeamID, TerritoryID: r.TerritoryID, VerifiedAt: fromMS(r.VerifiedAt),
		VerifiedBy: r.VerifiedBy, MergedInto: r.MergedInto, MergedAt: fromMS(r.MergedAt), AnonymizedAt: fromMS(r.AnonymizedAt),
		CreatedBy: r.CreatedBy, CreatedAt: fromMS(r.CreatedAt), UpdatedAt: fromMS(r.UpdatedAt), Version: r.Ver}
	c.Territory = s.territoryRef(r.TerritoryID)
	c.TierReasons, c.ValueReasons, c.CreditReasons = decodeReasons(r.TierReasons), decodeReasons(r.ValueReasons),
		decodeReasons(r.CreditReasons)
	err := errors.Join(fromJSON(r.ClassPinned, &c.Pinned), fromJSON(r.CreditFacts, &c.CreditFacts),
		fromJSON(r.Qualifications, &c.Qualifications), fromJSON(r.Tags, &c.Tags))
	if err != nil {
		return c, fmt.Errorf("customer %d: stored JSON: %w", r.ID, err)
	}
	p := s.prot
	dec := func(dst *string, v, aad string) {
		if err == nil {
			*dst, err = p.dec(v, aad)
		}
	}
	dec(&c.Mobile, r.MobileEnc, aadMobile)
	dec(&c.Phone, r.PhoneEnc, aadPhone)
	dec(&c.IDNumber, r.IDNumberEnc, aadIDNumber)
	dec(&c.Address, r.AddressEnc, aadAddress)
	dec(&c.BankAccount, r.BankAccountEnc, aadBankAccount)
	return c, err
}

func (s *Service) contactToRow(ct *Contact) (contactRow, error) {
	r := contactRow{ID: ct.ID, CustomerID: ct.CustomerID, Name: ct.Name, Title: ct.Title, IsKeyPerson: ct.IsKeyPerson,
		Email: ct.Email, Preferences: ct.Preferences, Birthday: ct.Birthday, Notes: ct.Notes,
		CreatedAt: ms(ct.CreatedAt), UpdatedAt: ms(ct.UpdatedAt), Version: ct.Version}
	var err error
	if r.MobileEnc, err = s.prot.enc(ct.Mobile, aadContactMobile); err != nil {
		return r, err
	}
	if r.PhoneEnc, err = s.prot.enc(ct.Phone, aadContactPhone); err != nil {
		return r, err
	}
	r.MobileBidx, r.MobileL4 = s.prot.phoneBlind(ct.Mobile)
	r.PhoneBidx, r.PhoneL4 = s.prot.phoneBlind(ct.Phone)
	return r, nil
}

func (s *Service) contactFromRow(r contactRow) (Contact, error) {
	ct := Contact{ID: r.ID, CustomerID: r.CustomerID, Name: r.Name, Title: r.Title, IsKeyPerson: r.IsKeyPerson,
		Email: r.Email, Preferences: r.Preferences, Birthday: r.Birthday, Notes: r.Notes,
		CreatedAt: fromMS(r.CreatedAt), UpdatedAt: fromMS(r.UpdatedAt), Version: r.Version}
	var err error
	if ct.Mobile, err = s.prot.dec(r.MobileEnc, aadContactMobile); err != nil {
		return ct, err
	}
	ct.Phone, err = s.prot.dec(r.PhoneEnc, aadContactPhone)
	return ct, err
}

// ======================= create and update =======================

// placement resolves an owner to the customer's scope fields.
func (s *Service) placement(ctx context.Context, actor *authz.Actor, c *Customer, ownerID int64, f apperr.Fields) error {
	c.OwnerID, c.DeptID, c.TeamID = 0, 0, 0
	if ownerID == 0 {
		return nil
	}
	if ownerID < 0 {
		f.Add("owner_id", "customer.invalid.owner")
		return nil
	}
	if actor.Kind == authz.KindStaff && ownerID == actor.ID {
		c.OwnerID, c.DeptID, c.TeamID = actor.ID, actor.DeptID, actor.TeamID
		return nil
	}
	if s.staff == nil {
		f.Add("owner_id", "customer.invalid.owner")
		return nil
	}
	owner, err := s.staff.LoadActor(ctx, ownerID)
	if err != nil {
		if k := apperr.KindOf(err); k == apperr.NotFound || k == apperr.Forbidden {
			f.Add("owner_id", "customer.invalid.owner")
			return nil
		}
		return fmt.Errorf("customer: load owner: %w", err)
	}
	c.OwnerID, c.DeptID, c.TeamID = owner.ID, owner.DeptID, owner.TeamID
	return nil
}

// dupHit is an existing customer sharing an identifying value.
type dupHit struct {
	IDs    []int64
	Fields []string
}

// duplicates finds active customers (other than c) with c's mobile, phone, ID number or
// credit code; changed limits the check to the fields being written.
func (s *Service) duplicates(ctx context.Context, c *Customer, r *custRow, changed func(string) bool) ([]int64, []string, error) {
	p := dupProbe{excludeID: c.ID}
	var fields []string
	if changed("mobile") && r.MobileBidx != "" {
		p.phones, fields = append(p.phones, r.MobileBidx), append(fields, "mobile")
	}
	if changed("phone") && r.PhoneBidx != "" {
		p.phones, fields = append(p.phones, r.PhoneBidx), append(fields, "phone")
	}
	if changed("id_number") && r.IDNumberBidx != "" {
		p.idNumber, fields = r.IDNumberBidx, append(fields, "id_number")
	}
	if changed("credit_code") && r.CreditCode != "" {
		p.creditCode, fields = r.CreditCode, append(fields, "credit_code")
	}
	if len(fields) == 0 {
		return nil, nil, nil
	}
	ids, err := s.store.Duplicates(ctx, p)
	return ids, fields, err
}

func duplicateErr(ids []int64, fields []string) error {
	e := apperr.New(apperr.Conflict, "customer.duplicate", "id", ids[0]).WithCode("duplicate_customer").
		With("existing_id", ids[0]).With("existing_ids", ids)
	e.Fields = map[string]i18n.Msg{}
	for _, f := range fields {
		e.Fields[f] = i18n.M("customer.duplicate.field", "id", ids[0])
	}
	return e
}

// searchText is the text the full-text index holds for a customer: never a value that
// is encrypted at rest (phones, ID number, address detail, bank account).
func searchText(c *Customer, contacts []Contact) string {
	parts := []string{c.Name, c.Email, c.CreditCode, c.Province, c.City, c.District, c.Region, c.Industry,
		c.ServiceRegion, strings.Join(c.Tags, " "), strings.Join(c.Qualifications, " "), c.Notes}
	for _, ct := range contacts {
		parts = append(parts, ct.Name, ct.Title, ct.Email)
	}
	return strings.Join(parts, "\n")
}

func (s *Service) reindex(ctx context.Context, c *Customer, contacts []Contact) error {
	if err := s.index.Put(ctx, search.Doc{ID: c.ID, Text: searchText(c, contacts)}); err != nil {
		return fmt.Errorf("customer: index: %w", err)
	}
	return nil
}

// CreateListener is called inside the transaction that creates a customer file through
// CreateCustomer (the API, the page, the CLI), after the file is stored; c is a copy
// without its contacts. An error rolls the creation back.
type CreateListener func(ctx context.Context, c Customer) error

// OnCreated registers fn (call before serving; not safe concurrently with requests).
func (s *Service) OnCreated(fn CreateListener) {
	if fn != nil {
		s.created = append(s.created, fn)
	}
}

// CreateCustomer validates and stores a new customer file (with its contacts) in one
// transaction: row, search index and audit entry. A mobile, phone, ID number or credit
// code that an active customer has already gives a Conflict (code duplicate_customer,
// existing_id) unless in.Force and the actor holds customer:force_duplicate.
func (s *Service) CreateCustomer(ctx context.Context, in Input) (Customer, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Customer{}, err
	}
	if in.Force && !actor.Can(PermForceDuplicate) {
		return Customer{}, apperr.ForbiddenErr()
	}
	now, today := s.now(), s.today()
	c := Customer{Status: StatusActive, Version: 1, CreatedAt: now, UpdatedAt: now}
	if actor.Kind == authz.KindStaff {
		c.CreatedBy = actor.ID
	}
	f := apperr.Fields{}
	apply(&c, in.patch(), today, f)
	if len(in.Contacts) > maxContacts {
		f.Add("contacts", "customer.invalid.too_many", "max", maxContacts)
	}
	contacts := make([]Contact, 0, len(in.Contacts))
	for i, ci := range in.Contacts {
		ct := Contact{CreatedAt: now, UpdatedAt: now}
		applyContact(&ct, ci.patch(), today, f, "contacts["+strconv.Itoa(i)+"].")
		contacts = append(contacts, ct)
	}
	owner := in.OwnerID
	if owner == 0 && actor.Kind == authz.KindStaff {
		owner = actor.ID
	}
	if err := s.placement(ctx, actor, &c, owner, f); err != nil {
		return Customer{}, err
	}
	if err := f.Err(); err != nil {
		return Customer{}, err
	}
	if !actor.Reaches(PermWrite, c.Record()) {
		return Customer{}, apperr.InvalidField("owner_id", "customer.invalid.owner") // out of reach reads as unknown
	}
	if err := s.assignTerritory(ctx, &c); err != nil {
		return Customer{}, err
	}
	if err := s.classifyNew(ctx, &c); err != nil {
		return Customer{}, err
	}
	row, err := s.toRow(&c)
	if err != nil {
		return Customer{}, err
	}
	crows := make([]contactRow, len(contacts))
	for i := range contacts {
		if crows[i], err = s.contactToRow(&contacts[i]); err != nil {
			return Customer{}, err
		}
	}
	// The audit detail is computed before the transaction: on SQLite every write
	// transaction runs on the one writer, so work that needs no database stays outside.
	filled := setFields(c.View(false))
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		dups, fields, err := s.duplicates(ctx, &c, &row, func(string) bool { return true })
		if err != nil {
			return err
		}
		if len(dups) > 0 && !in.Force {
			return duplicateErr(dups, fields)
		}
		if c.ID, err = s.store.InsertCustomer(ctx, &row); err != nil {
			return err
		}
		for i := range crows {
			crows[i].CustomerID = c.ID
		}
		if err := s.store.InsertContacts(ctx, crows); err != nil {
			return err
		}
		for i := range contacts {
			contacts[i].ID, contacts[i].CustomerID = crows[i].ID, c.ID
		}
		if err := s.reindex(ctx, &c, contacts); err != nil {
			return err
		}
		if len(dups) > 0 {
			for _, d := range dups {
				if err := s.store.AddDupPair(ctx, d, c.ID, toJSON(fields), 100, ms(now)); err != nil {
					return err
				}
			}
			if err := s.record(ctx, "customer.force_duplicate", c.ID, map[string]any{"existing_ids": dups, "fields": fields}); err != nil {
				return err
			}
		}
		if err := s.record(ctx, "customer.create", c.ID, map[string]any{"kind": c.Kind, "owner_id": c.OwnerID,
			"fields": filled, "contacts": len(contacts)}); err != nil {
			return err
		}
		for _, fn := range s.created {
			if err := fn(ctx, c); err != nil {
				return fmt.Errorf("customer: create listener: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Customer{}, err
	}
	c.Contacts = contacts
	return c, nil
}

// viewMap is a view as a JSON object, for field-level comparisons in audit details.
func viewMap(v View) map[string]json.RawMessage {
	v.Contacts, v.Masked = nil, false
	v.CreatedAt, v.UpdatedAt, v.Version = time.Time{}, time.Time{}, 0
	var m map[string]json.RawMessage
	_ = json.Unmarshal([]byte(toJSON(v)), &m)
	return m
}

var zeroJSON = []string{`""`, `0`, `null`, `[]`, `false`}

// setFields names the fields of v that hold a value (never the values: personal data
// must not reach the audit log in clear).
func setFields(v View) []string {
	var out []string
	for k, raw := range viewMap(v) {
		if k == "id" || k == "status" || k == "address_display" || k == "credit_facts" && string(raw) == toJSON(CreditFacts{}) {
			continue
		}
		if !slices.Contains(zeroJSON, string(raw)) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// changedFields names the fields that differ between two versions of a customer.
func changedFields(a, b Customer) []string {
	ma, mb := viewMap(a.View(false)), viewMap(b.View(false))
	var out []string
	for k, va := range ma {
		if k == "address_display" {
			continue
		}
		if string(va) != string(mb[k]) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// UpdateCustomer applies a partial update. Changing the owner moves the file to the new
// owner's department and team; the result must stay within the actor's write scope.
func (s *Service) UpdateCustomer(ctx context.Context, id int64, p Patch) (Customer, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Customer{}, err
	}
	if p.Force && !actor.Can(PermForceDuplicate) {
		return Customer{}, apperr.ForbiddenErr()
	}
	if p.Version == nil {
		return Customer{}, apperr.VersionRequired()
	}
	var out Customer
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.Customer(ctx, id)
		if err != nil {
			return notFound(err)
		}
		if !actor.Reaches(PermWrite, authz.Record{DeptID: r.DeptID, TeamID: r.TeamID, OwnerID: r.OwnerID}) {
			return apperr.NotFoundf("thing.customer")
		}
		c, err := s.fromRow(r)
		if err != nil {
			return err
		}
		if c.Status != StatusActive {
			return apperr.New(apperr.Conflict, "customer.not_active").WithCode("customer_not_active")
		}
		if *p.Version != c.Version {
			return apperr.StaleVersion(c.Version)
		}
		old := c
		f := apperr.Fields{}
		apply(&c, p, s.today(), f)
		if p.OwnerID != nil {
			if err := s.placement(ctx, actor, &c, *p.OwnerID, f); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if !actor.Reaches(PermWrite, c.Record()) {
			return apperr.InvalidField("owner_id", "customer.invalid.owner") // out of reach reads as unknown
		}
		if err := s.assignTerritory(ctx, &c); err != nil {
			return err
		}
		if p.classInputs() {
			if _, err := s.reclassify(ctx, &c); err != nil {
				return err
			}
		}
		changed := changedFields(old, c)
		if len(changed) == 0 {
			out = c
			return nil
		}
		c.Version++
		c.UpdatedAt = s.now()
		row, err := s.toRow(&c)
		if err != nil {
			return err
		}
		dups, fields, err := s.duplicates(ctx, &c, &row, func(f string) bool { return slices.Contains(changed, f) })
		if err != nil {
			return err
		}
		if len(dups) > 0 && !p.Force {
			return duplicateErr(dups, fields)
		}
		ok, err := s.store.UpdateCustomer(ctx, &row, old.Version)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		crows, err := s.store.Contacts(ctx, c.ID)
		if err != nil {
			return err
		}
		contacts := make([]Contact, len(crows))
		for i, cr := range crows {
			contacts[i] = Contact{ID: cr.ID, CustomerID: cr.CustomerID, Name: cr.Name, Title: cr.Title, Email: cr.Email}
		}
		if err := s.reindex(ctx, &c, contacts); err != nil {
			return err
		}
		if len(dups) > 0 {
			for _, d := range dups {
				if err := s.store.AddDupPair(ctx, d, c.ID, toJSON(fields), 100, ms(c.UpdatedAt)); err != nil {
					return err
				}
			}
			if err := s.record(ctx, "customer.force_duplicate", c.ID, map[string]any{"existing_ids": dups, "fields": fields}); err != nil {
				return err
			}
		}
		out = c
		return s.record(ctx, "customer.update", c.ID, map[string]any{"changed": changed, "version": c.Version})
	})
	return out, err
}

// ======================= reads =======================

// load reads and decrypts one customer after checking perm's scope (out of scope reads
// as not found). It writes no audit entry.
func (s *Service) load(ctx context.Context, perm string, id int64) (Customer, error) {
	if _, err := authz.Require(ctx, perm); err != nil {
		return Customer{}, err
	}
	r, err := s.store.Customer(ctx, id)
	if err != nil {
		return Customer{}, notFound(err)
	}
	if _, err := authz.RequireRecord(ctx, perm, authz.Record{DeptID: r.DeptID, TeamID: r.TeamID, OwnerID: r.OwnerID}, "thing.customer"); err != nil {
		return Customer{}, err
	}
	return s.fromRow(r)
}

func (s *Service) contactsOf(ctx context.Context, id int64) ([]Contact, error) {
	rows, err := s.store.Contacts(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]Contact, len(rows))
	for i, r := range rows {
		if out[i], err = s.contactFromRow(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetCustomer returns one customer file with its contacts and records the read in the
// audit log ("customer.read"). Callers show it masked (View(true)).
func (s *Service) GetCustomer(ctx context.Context, id int64) (Customer, error) {
	c, err := s.load(ctx, PermRead, id)
	if err != nil {
		return Customer{}, err
	}
	if c.Contacts, err = s.contactsOf(ctx, id); err != nil {
		return Customer{}, err
	}
	if err := s.record(ctx, "customer.read", id, map[string]any{"masked": true}); err != nil {
		return Customer{}, err
	}
	return c, nil
}

// Reveal returns the clear values of fields (RevealableFields) of one customer to a
// holder of customer:reveal whose scope reaches it, and audits who, whose, which and
// why ("customer.reveal").
func (s *Service) Reveal(ctx context.Context, id int64, fields []string, reason string) (Revealed, error) {
	if _, err := authz.Require(ctx, PermReveal); err != nil {
		return Revealed{}, err
	}
	f := apperr.Fields{}
	reason = text(f, "reason", reason, maxReason, true, true)
	var want []string
	for _, fl := range fields {
		fl = strings.TrimSpace(fl)
		if !slices.Contains(RevealableFields, fl) {
			f.Add("fields", "customer.invalid.reveal_field", "field", fl)
			continue
		}
		if !slices.Contains(want, fl) {
			want = append(want, fl)
		}
	}
	if len(fields) == 0 {
		f.Add("fields", "field.required")
	}
	if err := f.Err(); err != nil {
		return Revealed{}, err
	}
	c, err := s.load(ctx, PermReveal, id)
	if err != nil {
		return Revealed{}, err
	}
	out := Revealed{ID: id, Fields: map[string]string{}}
	for _, fl := range want {
		switch fl {
		case FieldMobile:
			out.Fields[fl] = c.Mobile
		case FieldPhone:
			out.Fields[fl] = c.Phone
		case FieldIDNumber:
			out.Fields[fl] = c.IDNumber
		case FieldAddress:
			out.Fields[fl] = c.Address
		case FieldBankAccount:
			out.Fields[fl] = c.BankAccount
		case FieldContacts:
			cts, err := s.contactsOf(ctx, id)
			if err != nil {
				return Revealed{}, err
			}
			out.Contacts = make([]ContactPhones, 0, len(cts))
			for _, ct := range cts {
				out.Contacts = append(out.Contacts, ContactPhones{ID: ct.ID, Name: ct.Name, Mobile: ct.Mobile, Phone: ct.Phone})
			}
		}
	}
	if err := s.record(ctx, "customer.reveal", id, map[string]any{"fields": want, "reason": reason,
		"owner_id": c.OwnerID}); err != nil {
		return Revealed{}, err
	}
	return out, nil
}
