package customer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Store holds the SQL of the customer capability. Inserts use RETURNING and run inside
// the caller's transaction (db.WithTx in ctx).
type Store struct{ d *db.DB }

// NewStore returns the store over d.
func NewStore(d *db.DB) *Store { return &Store{d: d} }

// custRow is a customers row as stored: personal data encrypted (*Enc), blind indexes,
// JSON as text, times in Unix milliseconds, optional references as 0.
type custRow struct {
	ID                                                 int64
	Kind, Status, Name, NameKey                        string
	MobileEnc, MobileBidx, MobileL4                    string
	PhoneEnc, PhoneBidx, PhoneL4                       string
	Email                                              string
	IDNumberEnc, IDNumberBidx                          string
	CreditCode                                         string
	Province, City, District, AddressEnc, AddressBidx  string
	Region, Industry, Source                           string
	Tier, TierReasons, ValueClass, ValueReasons        string
	CreditGrade, CreditReasons, ClassPinned            string
	ClassifiedAt                                       int64
	CreditFacts                                        string
	SizeEmployees, AnnualSalesFen                      int64
	FoundedOn, RelationshipSince, Qualifications       string
	ServiceRegion, CreditStatus, TradingTerms          string
	CooperationAttitude, BankName, BankAccountEnc      string
	Tags, Notes                                        string
	OwnerID, DeptID, TeamID, TerritoryID               int64
	VerifiedAt, VerifiedBy, MergedInto, MergedAt       int64
	AnonymizedAt, CreatedBy, CreatedAt, UpdatedAt, Ver int64
}

// custColumns are the customers columns after id, in custRow order.
const custColumns = `kind, status, name, name_key, mobile_enc, mobile_bidx, mobile_l4, phone_enc, phone_bidx, phone_l4,
	email, id_number_enc, id_number_bidx, credit_code, province, city, district, address_enc, address_bidx,
	region, industry, source, tier, tier_reasons, value_class, value_reasons, credit_grade, credit_reasons,
	class_pinned, classified_at, credit_facts, size_employees, annual_sales_fen, founded_on, relationship_since,
	qualifications, service_region, credit_status, trading_terms, cooperation_attitude, bank_name, bank_account_enc,
	tags, notes, owner_id, dept_id, team_id, territory_id, verified_at, verified_by, merged_into, merged_at,
	anonymized_at, created_by, created_at, updated_at, version`

const custColumnCount = 57

var (
	sqlCustInsert = `INSERT INTO customers (` + custColumns + `) VALUES (?` + strings.Repeat(", ?", custColumnCount-1) + `) RETURNING id`
	sqlCustSelect = `SELECT id, ` + custColumns + ` FROM customers c`
	sqlCustByID   = sqlCustSelect + ` WHERE c.id = ?`
	sqlCustUpdate = `UPDATE customers SET ` + setList(custColumns) + ` WHERE id = ? AND version = ?`
)

// setList turns "a, b" into "a = ?, b = ?".
func setList(cols string) string { return db.SetList(cols) }

func nullID(id int64) any { return db.NullID(id) }

func (r *custRow) args() []any {
	return []any{r.Kind, r.Status, r.Name, r.NameKey, r.MobileEnc, r.MobileBidx, r.MobileL4, r.PhoneEnc, r.PhoneBidx, r.PhoneL4,
		r.Email, r.IDNumberEnc, r.IDNumberBidx, r.CreditCode, r.Province, r.City, r.District, r.AddressEnc, r.AddressBidx,
		r.Region, r.Industry, r.Source, r.Tier, r.TierReasons, r.ValueClass, r.ValueReasons, r.CreditGrade, r.CreditReasons,
		r.ClassPinned, r.ClassifiedAt, r.CreditFacts, r.SizeEmployees, r.AnnualSalesFen, r.FoundedOn, r.RelationshipSince,
		r.Qualifications, r.ServiceRegion, r.CreditStatus, r.TradingTerms, r.CooperationAttitude, r.BankName, r.BankAccountEnc,
		r.Tags, r.Notes, nullID(r.OwnerID), nullID(r.DeptID), nullID(r.TeamID), nullID(r.TerritoryID), r.VerifiedAt,
		nullID(r.VerifiedBy), nullID(r.MergedInto), r.MergedAt, r.AnonymizedAt, nullID(r.CreatedBy), r.CreatedAt, r.UpdatedAt,
		r.Ver}
}

type scanner interface{ Scan(dest ...any) error }

func scanCust(sc scanner) (custRow, error) {
	var r custRow
	var owner, dept, team, terr, vby, merged, cby sql.NullInt64
	err := sc.Scan(&r.ID, &r.Kind, &r.Status, &r.Name, &r.NameKey, &r.MobileEnc, &r.MobileBidx, &r.MobileL4, &r.PhoneEnc,
		&r.PhoneBidx, &r.PhoneL4, &r.Email, &r.IDNumberEnc, &r.IDNumberBidx, &r.CreditCode, &r.Province, &r.City,
		&r.District, &r.AddressEnc, &r.AddressBidx, &r.Region, &r.Industry, &r.Source, &r.Tier, &r.TierReasons,
		&r.ValueClass, &r.ValueReasons, &r.CreditGrade, &r.CreditReasons, &r.ClassPinned, &r.ClassifiedAt, &r.CreditFacts,
		&r.SizeEmployees, &r.AnnualSalesFen, &r.FoundedOn, &r.RelationshipSince, &r.Qualifications, &r.ServiceRegion,
		&r.CreditStatus, &r.TradingTerms, &r.CooperationAttitude, &r.BankName, &r.BankAccountEnc, &r.Tags, &r.Notes,
		&owner, &dept, &team, &terr, &r.VerifiedAt, &vby, &merged, &r.MergedAt, &r.AnonymizedAt, &cby, &r.CreatedAt,
		&r.UpdatedAt, &r.Ver)
	r.OwnerID, r.DeptID, r.TeamID, r.TerritoryID = owner.Int64, dept.Int64, team.Int64, terr.Int64
	r.VerifiedBy, r.MergedInto, r.CreatedBy = vby.Int64, merged.Int64, cby.Int64
	return r, err
}

// InsertCustomer stores a new customer and returns its id.
func (s *Store) InsertCustomer(ctx context.Context, r *custRow) (int64, error) {
	var id int64
	if err := s.d.QueryRow(ctx, sqlCustInsert, r.args()...).Scan(&id); err != nil {
		return 0, fmt.Errorf("customer: insert: %w", err)
	}
	return id, nil
}

// UpdateCustomer writes every column of r if the stored version is still oldVersion;
// it reports false when the row changed meanwhile (or is gone).
func (s *Store) UpdateCustomer(ctx context.Context, r *custRow, oldVersion int64) (bool, error) {
	args := append(r.args(), r.ID, oldVersion)
	res, err := s.d.Exec(ctx, sqlCustUpdate, args...)
	if err != nil {
		return false, fmt.Errorf("customer: update: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Customer loads one customer row (sql.ErrNoRows when missing).
func (s *Store) Customer(ctx context.Context, id int64) (custRow, error) {
	return scanCust(s.d.QueryRow(ctx, sqlCustByID, id))
}

// scope restricts a query to what the actor's customer:read scope reaches.
type scope struct {
	Scope  authz.Scope
	DeptID int64
	TeamID int64
	SelfID int64
}

func (sc scope) where() (string, []any) {
	switch sc.Scope {
	case authz.ScopeAll:
		return "", nil
	case authz.ScopeDept:
		return "c.dept_id = ?", []any{sc.DeptID}
	case authz.ScopeTeam:
		if sc.TeamID != 0 {
			return "(c.team_id = ? OR c.owner_id = ?)", []any{sc.TeamID, sc.SelfID}
		}
		return "c.owner_id = ?", []any{sc.SelfID}
	}
	return "c.owner_id = ?", []any{sc.SelfID}
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// listQuery is a customer list request in store terms.
type listQuery struct {
	f      Filter
	sc     scope
	before int64 // id < before (0 = from the top)
	floor  int64 // id >= floor (0 = none): the window of a merged search
	// match restricts to these ids OR rows matching the blind indexes (search).
	search  bool
	textIDs []int64 // text and blind-index hits inside the window
	limit   int
}

func (q listQuery) sql() (string, []any) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where, args = append(where, cond), append(args, a...) }
	if w, a := q.sc.where(); w != "" {
		add(w, a...)
	}
	if q.before > 0 {
		add("c.id < ?", q.before)
	}
	if q.floor > 0 {
		add("c.id >= ?", q.floor)
	}
	f := q.f
	// The status test is written so that it cannot use the (status, verified_at) index:
	// without statistics SQLite would take it for selective, visit every active customer
	// and sort them, instead of walking the primary key newest first (1.25 s -> 0.6 ms
	// for a plain list of 220,000 customers; bench/README.md).
	switch f.Status {
	case "":
		add("(c.status || '') = ?", StatusActive)
	case StatusAll:
	default:
		add("(c.status || '') = ?", f.Status)
	}
	for _, eq := range []struct {
		col, v string
	}{{"c.kind", f.Kind}, {"c.tier", f.Tier}, {"c.value_class", f.ValueClass}, {"c.credit_grade", f.CreditGrade},
		{"c.province", f.Province}, {"c.city", f.City}, {"c.district", f.District}, {"c.industry", f.Industry}} {
		if eq.v != "" {
			add(eq.col+" = ?", eq.v)
		}
	}
	for _, eq := range []struct {
		col string
		v   int64
	}{{"c.owner_id", f.OwnerID}, {"c.dept_id", f.DeptID}, {"c.team_id", f.TeamID}, {"c.territory_id", f.TerritoryID}} {
		if eq.v != 0 {
			add(eq.col+" = ?", eq.v)
		}
	}
	if f.Tag != "" {
		// tags is a JSON array of strings: match the quoted element.
		add(`c.tags LIKE ? ESCAPE '\'`, `%"`+likeEscape(f.Tag)+`"%`)
	}
	if !f.VerifiedBefore.IsZero() {
		add("c.verified_at < ?", f.VerifiedBefore.UnixMilli())
	}
	if q.search {
		var or []string
		if len(q.textIDs) > 0 {
			or = append(or, "c.id IN (?"+strings.Repeat(", ?", len(q.textIDs)-1)+")")
			for _, id := range q.textIDs {
				args = append(args, id)
			}
		}
		if len(or) == 0 {
			or = append(or, "1 = 0")
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	text := sqlCustSelect
	if len(where) > 0 {
		text += " WHERE " + strings.Join(where, " AND ")
	}
	text += " ORDER BY c.id DESC LIMIT ?"
	args = append(args, q.limit)
	return text, args
}

// ListCustomers runs a list query, newest first.
func (s *Store) ListCustomers(ctx context.Context, q listQuery) ([]custRow, error) {
	text, args := q.sql()
	rows, err := s.d.Query(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("customer: list: %w", err)
	}
	defer rows.Close()
	var out []custRow
	for rows.Next() {
		r, err := scanCust(rows)
		if err != nil {
			return nil, fmt.Errorf("customer: scan: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// maxBlindHits bounds the ids one blind-index lookup returns (a last-4 lookup matches
// about one customer in 10,000).
const maxBlindHits = 5000

// BlindHits returns the ids of customers (newest first) whose own or whose contacts'
// phone numbers, last 4 digits or ID number match l: one indexed lookup per column,
// joined with UNION.
func (s *Store) BlindHits(ctx context.Context, l lookup) ([]int64, error) {
	var parts []string
	var args []any
	add := func(q string, v string) { parts, args = append(parts, q), append(args, v) }
	for _, c := range []struct{ v, col string }{{l.phone, "bidx"}, {l.last4, "l4"}} {
		if c.v == "" {
			continue
		}
		add(`SELECT id FROM customers WHERE mobile_`+c.col+` = ?`, c.v)
		add(`SELECT id FROM customers WHERE phone_`+c.col+` = ?`, c.v)
		add(`SELECT customer_id FROM customer_contacts WHERE mobile_`+c.col+` = ?`, c.v)
		add(`SELECT customer_id FROM customer_contacts WHERE phone_`+c.col+` = ?`, c.v)
	}
	if l.idNumber != "" {
		add(`SELECT id FROM customers WHERE id_number_bidx = ?`, l.idNumber)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	rows, err := s.d.Query(ctx, `SELECT id FROM (`+strings.Join(parts, " UNION ")+`) h ORDER BY id DESC LIMIT `+fmt.Sprint(maxBlindHits), args...)
	if err != nil {
		return nil, fmt.Errorf("customer: blind lookup: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// dupProbe are the identifying values of a customer being written.
type dupProbe struct {
	excludeID  int64
	phones     []string // whole-number blind indexes (mobile, phone)
	idNumber   string
	creditCode string
}

// Duplicates returns the ids of active customers sharing a phone number, the ID number
// or the credit code with p (at most 10, oldest first), and what matched.
func (s *Store) Duplicates(ctx context.Context, p dupProbe) ([]int64, error) {
	// One indexed lookup per value, joined with UNION: an OR across several indexed
	// columns may make SQLite scan the table.
	var parts []string
	var args []any
	add := func(col, v string) {
		parts = append(parts, `SELECT id FROM customers WHERE `+col+` = ? AND status = ? AND id <> ?`)
		args = append(args, v, StatusActive, p.excludeID)
	}
	for _, ph := range p.phones {
		if ph != "" {
			add("mobile_bidx", ph)
			add("phone_bidx", ph)
		}
	}
	if p.idNumber != "" {
		add("id_number_bidx", p.idNumber)
	}
	if p.creditCode != "" {
		add("credit_code", p.creditCode)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	rows, err := s.d.Query(ctx, `SELECT id FROM (`+strings.Join(parts, " UNION ")+`) d ORDER BY id LIMIT 10`, args...)
	if err != nil {
		return nil, fmt.Errorf("customer: duplicates: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// AddDupPair records a pair of customers for duplicate review (a < b); an existing
// pair is left alone.
func (s *Store) AddDupPair(ctx context.Context, a, b int64, reasons string, score int, at int64) error {
	if a > b {
		a, b = b, a
	}
	_, err := s.d.Exec(ctx, `INSERT INTO customer_dup_pairs (a_id, b_id, reasons, score, status, detected_at, resolved_by, resolved_at)
		VALUES (?, ?, ?, ?, 'open', ?, NULL, 0) ON CONFLICT (a_id, b_id) DO NOTHING`, a, b, reasons, score, at)
	if err != nil {
		return fmt.Errorf("customer: dup pair: %w", err)
	}
	return nil
}

// ---- contacts ----

// contactRow is a customer_contacts row as stored.
type contactRow struct {
	ID, CustomerID                      int64
	Name, Title                         string
	IsKeyPerson                         bool
	MobileEnc, MobileBidx, MobileL4     string
	PhoneEnc, PhoneBidx, PhoneL4        string
	Email, Preferences, Birthday, Notes string
	CreatedAt, UpdatedAt                int64
	Version                             int64
}

const contactColumns = `customer_id, name, title, is_key_person, mobile_enc, mobile_bidx, mobile_l4, phone_enc, phone_bidx,
	phone_l4, email, preferences, birthday, notes, created_at, updated_at`

var (
	sqlContactInsert = `INSERT INTO customer_contacts (` + contactColumns + `) VALUES (?` + strings.Repeat(", ?", 15) + `) RETURNING id`
	sqlContactSelect = `SELECT id, ` + contactColumns + `, version FROM customer_contacts`
	// sqlContactUpdate writes a contact if its version is still the one read, and bumps it.
	sqlContactUpdate = `UPDATE customer_contacts SET ` + setList(contactColumns) + `, version = version + 1 WHERE id = ? AND version = ?`
)

func boolInt(b bool) int { return db.Bool(b) }

func (r *contactRow) args() []any {
	return []any{r.CustomerID, r.Name, r.Title, boolInt(r.IsKeyPerson), r.MobileEnc, r.MobileBidx, r.MobileL4, r.PhoneEnc,
		r.PhoneBidx, r.PhoneL4, r.Email, r.Preferences, r.Birthday, r.Notes, r.CreatedAt, r.UpdatedAt}
}

func scanContact(sc scanner) (contactRow, error) {
	var r contactRow
	var key int
	err := sc.Scan(&r.ID, &r.CustomerID, &r.Name, &r.Title, &key, &r.MobileEnc, &r.MobileBidx, &r.MobileL4, &r.PhoneEnc,
		&r.PhoneBidx, &r.PhoneL4, &r.Email, &r.Preferences, &r.Birthday, &r.Notes, &r.CreatedAt, &r.UpdatedAt, &r.Version)
	r.IsKeyPerson = key != 0
	return r, err
}

// InsertContacts stores contacts (one statement per 50) and sets their ids.
func (s *Store) InsertContacts(ctx context.Context, rs []contactRow) error {
	for i := range rs {
		if err := s.d.QueryRow(ctx, sqlContactInsert, rs[i].args()...).Scan(&rs[i].ID); err != nil {
			return fmt.Errorf("customer: insert contact: %w", err)
		}
	}
	return nil
}

// UpdateContact writes every column of r if the stored version is still version (then
// bumped); it reports whether the row was written.
func (s *Store) UpdateContact(ctx context.Context, r *contactRow, version int64) (bool, error) {
	res, err := s.d.Exec(ctx, sqlContactUpdate, append(r.args(), r.ID, version)...)
	if err != nil {
		return false, fmt.Errorf("customer: update contact: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("customer: update contact: %w", err)
	}
	return n == 1, nil
}

// DeleteContact removes a contact.
func (s *Store) DeleteContact(ctx context.Context, customerID, id int64) error {
	if _, err := s.d.Exec(ctx, `DELETE FROM customer_contacts WHERE id = ? AND customer_id = ?`, id, customerID); err != nil {
		return fmt.Errorf("customer: delete contact: %w", err)
	}
	return nil
}

// Contacts lists a customer's contacts, key persons first, then by id.
func (s *Store) Contacts(ctx context.Context, customerID int64) ([]contactRow, error) {
	rows, err := s.d.Query(ctx, sqlContactSelect+` WHERE customer_id = ? ORDER BY is_key_person DESC, id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("customer: contacts: %w", err)
	}
	defer rows.Close()
	var out []contactRow
	for rows.Next() {
		r, err := scanContact(rows)
		if err != nil {
			return nil, fmt.Errorf("customer: scan contact: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Contact loads one contact of a customer (sql.ErrNoRows when missing).
func (s *Store) Contact(ctx context.Context, customerID, id int64) (contactRow, error) {
	return scanContact(s.d.QueryRow(ctx, sqlContactSelect+` WHERE id = ? AND customer_id = ?`, id, customerID))
}

// TouchCustomer bumps a customer's version and update time (a contact changed).
func (s *Store) TouchCustomer(ctx context.Context, id, at int64) error {
	if _, err := s.d.Exec(ctx, `UPDATE customers SET version = version + 1, updated_at = ? WHERE id = ?`, at, id); err != nil {
		return fmt.Errorf("customer: touch: %w", err)
	}
	return nil
}
