package customer

import (
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// Permissions of the customer capability (catalogued in authz.Catalog).
const (
	PermRead           = "customer:read"
	PermWrite          = "customer:write"
	PermReveal         = "customer:reveal"
	PermForceDuplicate = "customer:force_duplicate"
	PermExport         = "customer:export"
	PermExportClear    = "customer:export_clear"
	PermImport         = "customer:import"
	PermMerge          = "customer:merge"
	PermRules          = "customer:rules"
	PermTerritory      = "territory:manage"
)

// Kinds of customer.
const (
	KindPerson = "person"
	KindOrg    = "org"
)

// Statuses of a customer file. A merged file points at its survivor (MergedInto).
const (
	StatusActive = "active"
	StatusMerged = "merged"
)

// Tiers (SPEC §2.1): VIP, regular, potential. "" = not classified yet.
const (
	TierVIP       = "vip"
	TierRegular   = "regular"
	TierPotential = "potential"
)

// Value classes from RFM: core, important, general, churned.
const (
	ValueCore      = "core"
	ValueImportant = "important"
	ValueGeneral   = "general"
	ValueChurned   = "churned"
)

// Credit grades.
const (
	GradeA = "A"
	GradeB = "B"
	GradeC = "C"
)

// Cooperation attitudes.
const (
	AttitudePositive = "positive"
	AttitudeNeutral  = "neutral"
	AttitudeNegative = "negative"
)

// Choice lists (in display order).
var (
	Kinds        = []string{KindPerson, KindOrg}
	Statuses     = []string{StatusActive, StatusMerged}
	Tiers        = []string{TierVIP, TierRegular, TierPotential}
	ValueClasses = []string{ValueCore, ValueImportant, ValueGeneral, ValueChurned}
	CreditGrades = []string{GradeA, GradeB, GradeC}
	Attitudes    = []string{AttitudePositive, AttitudeNeutral, AttitudeNegative}
)

// Fields that can be revealed (they are encrypted at rest and masked by default).
const (
	FieldMobile      = "mobile"
	FieldPhone       = "phone"
	FieldIDNumber    = "id_number"
	FieldAddress     = "address"
	FieldBankAccount = "bank_account"
	FieldContacts    = "contacts" // every contact's mobile and phone
)

// RevealableFields lists the fields Reveal accepts.
var RevealableFields = []string{FieldMobile, FieldPhone, FieldIDNumber, FieldAddress, FieldBankAccount, FieldContacts}

// Limits of free-text fields (characters) and lists.
const (
	maxName      = 100
	maxShort     = 64
	maxText      = 2000
	maxTag       = 32
	maxTags      = 30
	maxQuals     = 30
	maxContacts  = 50
	maxReason    = 500
	maxQuery     = 100
	maxAddress   = 200
	maxBankAcct  = 40
	maxEmployees = 100_000_000
)

// CreditFacts are the facts the credit-grade rules read (SPEC §2.1 default rules).
type CreditFacts struct {
	// C conditions: any one gives grade C.
	BadDebt2Y         bool `json:"bad_debt_2y"`        // bad debt or serious breach within 2 years
	BrokenPromises    bool `json:"broken_promises"`    // promises broken
	DebtDisputes      bool `json:"debt_disputes"`      // debt disputes or asset transfer
	WeakCapital       bool `json:"weak_capital"`       // weak capital
	LossesOrDecline   bool `json:"losses_or_decline"`  // losses or steep decline
	IllegalOperations bool `json:"illegal_operations"` // illegal operations
	OrderedToSuspend  bool `json:"ordered_to_suspend"` // ordered to suspend business
	AccountsAtRisk    bool `json:"accounts_at_risk"`   // accounts at risk of freezing
	// A conditions (besides cooperation >= 1 year from relationship_since, and 2 years of
	// cooperation from relationship_since without bad debt).
	GoodOperations2Y   bool `json:"good_operations_2y"`
	StrongCapital      bool `json:"strong_capital"`
	PaymentsOnStandard bool `json:"payments_on_standard"`
}

// Customer is a customer file with its personal data in clear. It never leaves the
// service unmasked except through Reveal (and, later, audited clear exports); use View.
type Customer struct {
	ID     int64
	Kind   string
	Status string
	Name   string

	Mobile   string // 11 digits
	Phone    string // cnid.NormalizePhone form
	Email    string
	IDNumber string // 18 characters
	// CreditCode is the unified social credit code (organisations; public data, clear).
	CreditCode string

	Province string
	City     string
	District string
	Address  string // the street-level detail below the district (encrypted at rest)

	Region   string
	Industry string
	Source   string

	// Tier, ValueClass and CreditGrade come from the rules engine (classification.go);
	// their reasons are catalog messages (classify.* keys) stored with classify.EncodeMsgs.
	Tier          string
	TierReasons   []i18n.Msg
	ValueClass    string
	ValueReasons  []i18n.Msg
	CreditGrade   string
	CreditReasons []i18n.Msg
	// Pinned names the classification dimensions ("tier", "value_class",
	// "credit_grade") set by hand, which the rules engine leaves alone.
	Pinned       []string
	ClassifiedAt time.Time
	CreditFacts  CreditFacts

	SizeEmployees       int64
	AnnualSalesFen      int64
	FoundedOn           string // YYYY-MM-DD
	RelationshipSince   string // YYYY-MM-DD
	Qualifications      []string
	ServiceRegion       string
	CreditStatus        string
	TradingTerms        string
	CooperationAttitude string
	BankName            string
	BankAccount         string

	Tags  []string
	Notes string

	OwnerID     int64
	DeptID      int64
	TeamID      int64
	TerritoryID int64

	VerifiedAt   time.Time
	VerifiedBy   int64
	MergedInto   int64
	MergedAt     time.Time
	AnonymizedAt time.Time
	CreatedBy    int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int64

	// Contacts is filled by GetCustomer (not by lists).
	Contacts []Contact
	// Territory describes TerritoryID (name, responsible); see territory.go.
	Territory *TerritoryRef
}

// Record is the scope-check view of the customer: the owner's department and team.
func (c Customer) Record() authz.Record {
	return authz.Record{DeptID: c.DeptID, TeamID: c.TeamID, OwnerID: c.OwnerID}
}

// Contact is a contact person or key person of a customer.
type Contact struct {
	ID          int64
	CustomerID  int64
	Name        string
	Title       string
	IsKeyPerson bool
	Mobile      string
	Phone       string
	Email       string
	Preferences string
	Birthday    string // YYYY-MM-DD or MM-DD
	Notes       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
}

// Input creates a customer. Strings are trimmed; empty means unknown.
type Input struct {
	Kind                string         `json:"kind"`
	Name                string         `json:"name"`
	Mobile              string         `json:"mobile"`
	Phone               string         `json:"phone"`
	Email               string         `json:"email"`
	IDNumber            string         `json:"id_number"`
	CreditCode          string         `json:"credit_code"`
	Province            string         `json:"province"`
	City                string         `json:"city"`
	District            string         `json:"district"`
	Address             string         `json:"address"`
	Region              string         `json:"region"`
	Industry            string         `json:"industry"`
	Source              string         `json:"source"`
	Tier                string         `json:"tier"`
	ValueClass          string         `json:"value_class"`
	CreditGrade         string         `json:"credit_grade"`
	CreditFacts         *CreditFacts   `json:"credit_facts"`
	SizeEmployees       int64          `json:"size_employees"`
	AnnualSalesFen      int64          `json:"annual_sales_fen"`
	FoundedOn           string         `json:"founded_on"`
	RelationshipSince   string         `json:"relationship_since"`
	Qualifications      []string       `json:"qualifications"`
	ServiceRegion       string         `json:"service_region"`
	CreditStatus        string         `json:"credit_status"`
	TradingTerms        string         `json:"trading_terms"`
	CooperationAttitude string         `json:"cooperation_attitude"`
	BankName            string         `json:"bank_name"`
	BankAccount         string         `json:"bank_account"`
	OwnerID             int64          `json:"owner_id"`
	Tags                []string       `json:"tags"`
	Notes               string         `json:"notes" text:"multiline"`
	Contacts            []ContactInput `json:"contacts"`
	// Force creates the customer even when its mobile, ID number or credit code exists
	// already (permission customer:force_duplicate; audited).
	Force bool `json:"force"`
}

// Patch changes a customer; nil fields stay as they are.
type Patch struct {
	Kind                *string      `json:"kind"`
	Name                *string      `json:"name"`
	Mobile              *string      `json:"mobile"`
	Phone               *string      `json:"phone"`
	Email               *string      `json:"email"`
	IDNumber            *string      `json:"id_number"`
	CreditCode          *string      `json:"credit_code"`
	Province            *string      `json:"province"`
	City                *string      `json:"city"`
	District            *string      `json:"district"`
	Address             *string      `json:"address"`
	Region              *string      `json:"region"`
	Industry            *string      `json:"industry"`
	Source              *string      `json:"source"`
	Tier                *string      `json:"tier"`
	ValueClass          *string      `json:"value_class"`
	CreditGrade         *string      `json:"credit_grade"`
	CreditFacts         *CreditFacts `json:"credit_facts"`
	SizeEmployees       *int64       `json:"size_employees"`
	AnnualSalesFen      *int64       `json:"annual_sales_fen"`
	FoundedOn           *string      `json:"founded_on"`
	RelationshipSince   *string      `json:"relationship_since"`
	Qualifications      *[]string    `json:"qualifications"`
	ServiceRegion       *string      `json:"service_region"`
	CreditStatus        *string      `json:"credit_status"`
	TradingTerms        *string      `json:"trading_terms"`
	CooperationAttitude *string      `json:"cooperation_attitude"`
	BankName            *string      `json:"bank_name"`
	BankAccount         *string      `json:"bank_account"`
	OwnerID             *int64       `json:"owner_id"`
	Tags                *[]string    `json:"tags"`
	Notes               *string      `json:"notes" text:"multiline"`
	// Version is the version the change was made against: required (428 without), a
	// stale one is refused with 409 (optimistic locking).
	Version *int64 `json:"version"`
	// Force: see Input.Force.
	Force bool `json:"force"`
}

// patch turns an Input into the equivalent Patch over an empty customer.
func (in Input) patch() Patch {
	p := Patch{Kind: &in.Kind, Name: &in.Name, Mobile: &in.Mobile, Phone: &in.Phone, Email: &in.Email,
		IDNumber: &in.IDNumber, CreditCode: &in.CreditCode, Province: &in.Province, City: &in.City,
		District: &in.District, Address: &in.Address, Region: &in.Region, Industry: &in.Industry, Source: &in.Source,
		Tier: &in.Tier, ValueClass: &in.ValueClass, CreditGrade: &in.CreditGrade, CreditFacts: in.CreditFacts,
		SizeEmployees: &in.SizeEmployees, AnnualSalesFen: &in.AnnualSalesFen, FoundedOn: &in.FoundedOn,
		RelationshipSince: &in.RelationshipSince, Qualifications: &in.Qualifications, ServiceRegion: &in.ServiceRegion,
		CreditStatus: &in.CreditStatus, TradingTerms: &in.TradingTerms, CooperationAttitude: &in.CooperationAttitude,
		BankName: &in.BankName, BankAccount: &in.BankAccount, Tags: &in.Tags, Notes: &in.Notes, Force: in.Force}
	if in.OwnerID != 0 {
		p.OwnerID = &in.OwnerID
	}
	return p
}

// ContactInput creates a contact.
type ContactInput struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	IsKeyPerson bool   `json:"is_key_person"`
	Mobile      string `json:"mobile"`
	Phone       string `json:"phone"`
	Email       string `json:"email"`
	Preferences string `json:"preferences" text:"multiline"`
	Birthday    string `json:"birthday"`
	Notes       string `json:"notes" text:"multiline"`
}

// ContactPatch changes a contact; nil fields stay as they are.
type ContactPatch struct {
	Name        *string `json:"name"`
	Title       *string `json:"title"`
	IsKeyPerson *bool   `json:"is_key_person"`
	Mobile      *string `json:"mobile"`
	Phone       *string `json:"phone"`
	Email       *string `json:"email"`
	Preferences *string `json:"preferences" text:"multiline"`
	Birthday    *string `json:"birthday"`
	Notes       *string `json:"notes" text:"multiline"`
	// Version is the contact's version the change was made against (required on PATCH;
	// a stale one is refused with 409).
	Version *int64 `json:"version"`
}

func (in ContactInput) patch() ContactPatch {
	return ContactPatch{Name: &in.Name, Title: &in.Title, IsKeyPerson: &in.IsKeyPerson, Mobile: &in.Mobile,
		Phone: &in.Phone, Email: &in.Email, Preferences: &in.Preferences, Birthday: &in.Birthday, Notes: &in.Notes}
}

// Filter narrows a customer list. Q searches the full-text index (name, contacts'
// names, email, credit code, district-level address, industry, tags, notes) and the
// blind indexes (a whole phone number, its last 4 digits, an ID number).
type Filter struct {
	Q           string
	Kind        string
	Status      string // "" = active; "all" = every status
	Tier        string
	ValueClass  string
	CreditGrade string
	Province    string
	City        string
	District    string
	Industry    string
	Tag         string
	OwnerID     int64
	DeptID      int64
	TeamID      int64
	TerritoryID int64
	// VerifiedBefore keeps files last verified before this instant (0 = never verified
	// counts as before anything); zero time = no filter.
	VerifiedBefore time.Time
}

// StatusAll lists customers of every status.
const StatusAll = "all"

// Page is one page of a list with the cursor of the next (empty at the end).
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// Revealed is the answer of Reveal: the requested fields in clear.
type Revealed struct {
	ID       int64             `json:"id"`
	Fields   map[string]string `json:"fields"`
	Contacts []ContactPhones   `json:"contacts,omitempty"`
}

// ContactPhones are one contact's numbers in clear.
type ContactPhones struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Mobile string `json:"mobile"`
	Phone  string `json:"phone"`
}

// View is the response form of a customer. Masked (the default) hides personal data:
// mobile 138****1234, ID number 110***********1234, address down to the district.
type View struct {
	ID                  int64         `json:"id"`
	Kind                string        `json:"kind"`
	Status              string        `json:"status"`
	Name                string        `json:"name"`
	Mobile              string        `json:"mobile"`
	Phone               string        `json:"phone"`
	Email               string        `json:"email"`
	IDNumber            string        `json:"id_number"`
	CreditCode          string        `json:"credit_code"`
	Province            string        `json:"province"`
	City                string        `json:"city"`
	District            string        `json:"district"`
	Address             string        `json:"address"`
	AddressDisplay      string        `json:"address_display"`
	Region              string        `json:"region"`
	Industry            string        `json:"industry"`
	Source              string        `json:"source"`
	Tier                string        `json:"tier"`
	TierReasons         []string      `json:"tier_reasons"` // translated by ViewIn; empty from View
	ValueClass          string        `json:"value_class"`
	ValueReasons        []string      `json:"value_reasons"`
	CreditGrade         string        `json:"credit_grade"`
	CreditReasons       []string      `json:"credit_reasons"`
	CreditPolicy        string        `json:"credit_policy"`
	Pinned              []string      `json:"pinned"`
	ClassifiedAt        *time.Time    `json:"classified_at"`
	CreditFacts         CreditFacts   `json:"credit_facts"`
	SizeEmployees       int64         `json:"size_employees"`
	AnnualSalesFen      int64         `json:"annual_sales_fen"`
	FoundedOn           string        `json:"founded_on"`
	RelationshipSince   string        `json:"relationship_since"`
	Qualifications      []string      `json:"qualifications"`
	ServiceRegion       string        `json:"service_region"`
	CreditStatus        string        `json:"credit_status"`
	TradingTerms        string        `json:"trading_terms"`
	CooperationAttitude string        `json:"cooperation_attitude"`
	BankName            string        `json:"bank_name"`
	BankAccount         string        `json:"bank_account"`
	OwnerID             int64         `json:"owner_id"`
	DeptID              int64         `json:"dept_id"`
	TeamID              int64         `json:"team_id"`
	TerritoryID         int64         `json:"territory_id"`
	Territory           *TerritoryRef `json:"territory"`
	Tags                []string      `json:"tags"`
	Notes               string        `json:"notes" text:"multiline"`
	VerifiedAt          *time.Time    `json:"verified_at"`
	VerifiedBy          int64         `json:"verified_by"`
	MergedInto          int64         `json:"merged_into"`
	CreatedAt           time.Time     `json:"created_at"`
	UpdatedAt           time.Time     `json:"updated_at"`
	Version             int64         `json:"version"`
	Masked              bool          `json:"masked"`
	Contacts            []ContactView `json:"contacts,omitempty"`
}

// ContactView is the response form of a contact (masked by default).
type ContactView struct {
	ID          int64     `json:"id"`
	CustomerID  int64     `json:"customer_id"`
	Name        string    `json:"name"`
	Title       string    `json:"title"`
	IsKeyPerson bool      `json:"is_key_person"`
	Mobile      string    `json:"mobile"`
	Phone       string    `json:"phone"`
	Email       string    `json:"email"`
	Preferences string    `json:"preferences" text:"multiline"`
	Birthday    string    `json:"birthday"`
	Notes       string    `json:"notes" text:"multiline"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int64     `json:"version"`
	Masked      bool      `json:"masked"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// View maps the customer to its response form, masking personal data when masked. The
// classification reasons and the credit policy need a language: responses use ViewIn.
func (c Customer) View(masked bool) View {
	v := View{ID: c.ID, Kind: c.Kind, Status: c.Status, Name: c.Name, Mobile: c.Mobile, Phone: c.Phone,
		Email: c.Email, IDNumber: c.IDNumber, CreditCode: c.CreditCode, Province: c.Province, City: c.City,
		District: c.District, Address: c.Address, Region: c.Region, Industry: c.Industry, Source: c.Source,
		Tier: c.Tier, TierReasons: []string{}, ValueClass: c.ValueClass, ValueReasons: []string{},
		CreditGrade: c.CreditGrade, CreditReasons: []string{}, Pinned: nonNil(c.Pinned),
		ClassifiedAt: timePtr(c.ClassifiedAt), CreditFacts: c.CreditFacts, SizeEmployees: c.SizeEmployees,
		AnnualSalesFen: c.AnnualSalesFen, FoundedOn: c.FoundedOn, RelationshipSince: c.RelationshipSince,
		Qualifications: nonNil(c.Qualifications), ServiceRegion: c.ServiceRegion, CreditStatus: c.CreditStatus,
		TradingTerms: c.TradingTerms, CooperationAttitude: c.CooperationAttitude, BankName: c.BankName,
		BankAccount: c.BankAccount, OwnerID: c.OwnerID, DeptID: c.DeptID, TeamID: c.TeamID, TerritoryID: c.TerritoryID,
		Tags: nonNil(c.Tags), Notes: c.Notes, VerifiedAt: timePtr(c.VerifiedAt), VerifiedBy: c.VerifiedBy,
		MergedInto: c.MergedInto, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: c.Version, Masked: masked,
		Territory: c.Territory}
	v.AddressDisplay = c.Province + c.City + c.District + c.Address
	if masked {
		v.Mobile = maskOpt(c.Mobile, secure.MaskMobile)
		v.Phone = maskOpt(c.Phone, secure.MaskPhone)
		v.IDNumber = maskOpt(c.IDNumber, secure.MaskResidentID)
		v.BankAccount = maskOpt(c.BankAccount, secure.MaskBankAccount)
		if c.Address != "" {
			v.Address = secure.AddressMarker
		}
		v.AddressDisplay = secure.MaskAddress(c.Province, c.City, c.District, c.Address)
	}
	if c.Contacts != nil {
		v.Contacts = make([]ContactView, len(c.Contacts))
		for i, ct := range c.Contacts {
			v.Contacts[i] = ct.View(masked)
		}
	}
	return v
}

// View maps the contact to its response form.
func (ct Contact) View(masked bool) ContactView {
	v := ContactView{ID: ct.ID, CustomerID: ct.CustomerID, Name: ct.Name, Title: ct.Title, IsKeyPerson: ct.IsKeyPerson,
		Mobile: ct.Mobile, Phone: ct.Phone, Email: ct.Email, Preferences: ct.Preferences, Birthday: ct.Birthday,
		Notes: ct.Notes, CreatedAt: ct.CreatedAt, UpdatedAt: ct.UpdatedAt, Version: ct.Version, Masked: masked}
	if masked {
		v.Mobile = maskOpt(ct.Mobile, secure.MaskMobile)
		v.Phone = maskOpt(ct.Phone, secure.MaskPhone)
	}
	return v
}

func maskOpt(s string, f func(string) string) string {
	if s == "" {
		return ""
	}
	return f(s)
}
