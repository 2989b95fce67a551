package customer

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// pages holds the HTML handlers.
type pages struct{ s *Service }

// option is one choice of a select.
type option struct {
	Value    string
	Label    string
	Selected bool
}

func tr(r *http.Request, key string, kv ...any) string {
	return httpx.CatalogFrom(r.Context()).Msg(i18n.Lang(r.Context()), i18n.M(key, kv...))
}

func (p pages) fail(w http.ResponseWriter, r *http.Request, err error) { p.s.web.PageError(w, r, err) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// options builds a select from values labelled "<prefix><value>" (with an "any"/"none"
// first entry when blank is a key).
func options(r *http.Request, prefix string, values []string, selected, blank string) []option {
	var out []option
	if blank != "" {
		out = append(out, option{Value: "", Label: tr(r, blank), Selected: selected == ""})
	}
	for _, v := range values {
		out = append(out, option{Value: v, Label: tr(r, prefix+v), Selected: v == selected})
	}
	return out
}

func label(r *http.Request, prefix, v string) string {
	if v == "" {
		return ""
	}
	return tr(r, prefix+v)
}

// ownerName returns a staff member's display name (cached per request).
func (p pages) ownerName(ctx context.Context, cache map[int64]string, id int64) string {
	if id == 0 || p.s.staff == nil {
		return ""
	}
	if n, ok := cache[id]; ok {
		return n
	}
	n := "#" + itoa(id)
	if a, err := p.s.staff.LoadActor(ctx, id); err == nil {
		n = a.DisplayName
	}
	cache[id] = n
	return n
}

// ======================= list =======================

// ListPage is the model of /customers.
type ListPage struct {
	Q           string
	Kinds       []option
	Tiers       []option
	Values      []option
	Grades      []option
	Province    string
	City        string
	District    string
	Tag         string
	Rows        []ListRow
	NextURL     string
	CanWrite    bool
	FilterError string
	IO          ListIO // import and export links (importexport.go)
}

// ListRow is one line of the customer list (masked).
type ListRow struct {
	ID       int64
	Name     string
	Kind     string
	Mobile   string
	Phone    string
	Place    string
	Tier     string
	Value    string
	Grade    string
	Owner    string
	Tags     []string
	Verified string
	Policy   string // the credit policy of Grade (classification.go)
}

func (p pages) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, err := filterFrom(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := ListPage{Q: f.Q, Kinds: options(r, "customer.kind.", Kinds, f.Kind, "customer.filter.any"),
		Tiers:    options(r, "customer.tier.", Tiers, f.Tier, "customer.filter.any"),
		Values:   options(r, "customer.value.", ValueClasses, f.ValueClass, "customer.filter.any"),
		Grades:   options(r, "customer.grade.", CreditGrades, strings.ToUpper(f.CreditGrade), "customer.filter.any"),
		Province: f.Province, City: f.City, District: f.District, Tag: f.Tag,
		CanWrite: authz.From(ctx).Can(PermWrite), IO: listIO(r)}
	list, err := p.s.ListCustomers(ctx, f, httpx.DefaultLimit, r.URL.Query().Get("cursor"))
	if err != nil {
		if _, msg, ok := p.s.web.FieldErrors(ctx, err); ok && apperr.KindOf(err) != apperr.Malformed {
			pg.FilterError = msg
			web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "customer/list", "page.customers.title", pg)
			return
		}
		p.fail(w, r, err)
		return
	}
	owners := map[int64]string{}
	for _, c := range list.Items {
		v := c.View(true)
		row := ListRow{ID: c.ID, Name: c.Name, Kind: label(r, "customer.kind.", c.Kind), Mobile: v.Mobile, Phone: v.Phone,
			Place: v.AddressDisplay, Tier: label(r, "customer.tier.", c.Tier), Value: label(r, "customer.value.", c.ValueClass),
			Grade: c.CreditGrade, Owner: p.ownerName(ctx, owners, c.OwnerID), Tags: c.Tags, Policy: policyText(r, c.CreditGrade)}
		pg.Rows = append(pg.Rows, row)
	}
	if list.NextCursor != "" {
		nq := url.Values{}
		for k, v := range r.URL.Query() {
			if k != "cursor" {
				nq[k] = v
			}
		}
		nq.Set("cursor", list.NextCursor)
		pg.NextURL = "/customers?" + nq.Encode()
	}
	web.Render(p.s.web, w, r, http.StatusOK, "customer/list", "page.customers.title", pg)
}

// ======================= detail =======================

// DetailPage is the model of /customers/{id}.
type DetailPage struct {
	C            View
	KindLabel    string
	TierLabel    string
	ValueLabel   string
	GradePolicy  string
	Attitude     string
	Owner        string
	CreditFacts  []string
	Revealed     bool
	RevealFields []option
	CanWrite     bool
	CanReveal    bool
	Errors       web.FormErrors
	Message      string
	Contact      ContactInput
	RevealReason string
	Class        ClassPanel // classification and transactions (classification.go)
	// History lists the customer's requests, complaints, ... newest first (history.go);
	// HistoryFailed tells that a source could not be read.
	History       []HistoryRow
	HistoryFailed bool
	// Cooperations are the customer's cooperation agreements, always masked on the page
	// (top secret: the clear text is for the audited API of cooperation:reveal holders);
	// CoopShown tells the viewer may see them at all.
	Cooperations []CoopRow
	CoopShown    bool
}

// CoopRow is a cooperation agreement on the customer page.
type CoopRow struct {
	Title, Number, StartOn, EndOn, Status string
}

var creditFactKeys = []string{"bad_debt_2y", "broken_promises", "debt_disputes", "weak_capital", "losses_or_decline",
	"illegal_operations", "ordered_to_suspend", "accounts_at_risk", "good_operations_2y", "strong_capital",
	"payments_on_standard"}

func factsList(cf CreditFacts) []bool {
	return []bool{cf.BadDebt2Y, cf.BrokenPromises, cf.DebtDisputes, cf.WeakCapital, cf.LossesOrDecline,
		cf.IllegalOperations, cf.OrderedToSuspend, cf.AccountsAtRisk, cf.GoodOperations2Y, cf.StrongCapital,
		cf.PaymentsOnStandard}
}

func factsFrom(r *http.Request) CreditFacts {
	on := func(k string) bool { return r.PostFormValue("cf_"+k) != "" }
	return CreditFacts{BadDebt2Y: on("bad_debt_2y"), BrokenPromises: on("broken_promises"), DebtDisputes: on("debt_disputes"),
		WeakCapital: on("weak_capital"), LossesOrDecline: on("losses_or_decline"), IllegalOperations: on("illegal_operations"),
		OrderedToSuspend: on("ordered_to_suspend"), AccountsAtRisk: on("accounts_at_risk"),
		GoodOperations2Y: on("good_operations_2y"), StrongCapital: on("strong_capital"),
		PaymentsOnStandard: on("payments_on_standard")}
}

func (p pages) detail(r *http.Request, c Customer, v View) DetailPage {
	actor := authz.From(r.Context())
	pg := DetailPage{C: v, KindLabel: label(r, "customer.kind.", c.Kind), TierLabel: label(r, "customer.tier.", c.Tier),
		ValueLabel: label(r, "customer.value.", c.ValueClass), Attitude: label(r, "customer.attitude.", c.CooperationAttitude),
		Owner: p.ownerName(r.Context(), map[int64]string{}, c.OwnerID), Revealed: !v.Masked,
		CanWrite: actor.Reaches(PermWrite, c.Record()), CanReveal: actor.Reaches(PermReveal, c.Record())}
	pg.GradePolicy = policyText(r, c.CreditGrade)
	pg.Class = p.classPanel(r, c)
	pg.History, pg.HistoryFailed = p.historyRows(r, c)
	if actor.Reaches(PermCoopRead, c.Record()) {
		if cs, err := p.s.Cooperations(r.Context(), c.ID, true); err == nil {
			pg.CoopShown = true
			for _, co := range cs {
				pg.Cooperations = append(pg.Cooperations, CoopRow{Title: co.Title, Number: co.Number, StartOn: co.StartOn,
					EndOn: co.EndOn, Status: tr(r, "customer.coop.status."+string(co.Status))})
			}
		}
	}
	for i, on := range factsList(c.CreditFacts) {
		if on {
			pg.CreditFacts = append(pg.CreditFacts, tr(r, "customer.fact."+creditFactKeys[i]))
		}
	}
	for _, f := range RevealableFields {
		pg.RevealFields = append(pg.RevealFields, option{Value: f, Label: tr(r, "customer.field."+f)})
	}
	return pg
}

func (p pages) view(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	c, err := p.s.GetCustomer(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if c.Status == StatusMerged && c.MergedInto != 0 { // merge.go: old links lead to the survivor
		web.Redirect(w, r, "/customers/"+itoa(c.MergedInto), "customer_merge.flash.redirected")
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "customer/detail", "page.customer.title", p.detail(r, c, c.View(true)))
}

// reveal shows the detail page with the chosen fields in clear (rendered directly,
// never through a redirect, so the values appear in no URL or cache).
func (p pages) reveal(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	fields, reason := r.PostForm["fields"], r.PostFormValue("reason")
	rev, revErr := p.s.Reveal(ctx, id, fields, reason)
	if revErr != nil && apperr.KindOf(revErr) != apperr.Invalid {
		p.fail(w, r, revErr)
		return
	}
	c, err := p.s.GetCustomer(ctx, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := c.View(true)
	status := http.StatusOK
	if revErr == nil {
		clear := c.View(false)
		v.Masked = false
		for f := range rev.Fields {
			switch f {
			case FieldMobile:
				v.Mobile = clear.Mobile
			case FieldPhone:
				v.Phone = clear.Phone
			case FieldIDNumber:
				v.IDNumber = clear.IDNumber
			case FieldAddress:
				v.Address, v.AddressDisplay = clear.Address, clear.AddressDisplay
			case FieldBankAccount:
				v.BankAccount = clear.BankAccount
			}
		}
		if rev.Contacts != nil {
			v.Contacts = clear.Contacts
		}
	}
	pg := p.detail(r, c, v)
	if revErr != nil {
		pg.Errors, pg.Message, _ = p.s.web.FieldErrors(ctx, revErr)
		pg.RevealReason = reason
		status = http.StatusUnprocessableEntity
	}
	w.Header().Set("Cache-Control", "no-store")
	web.Render(p.s.web, w, r, status, "customer/detail", "page.customer.title", pg)
}

func (p pages) addContact(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	in := ContactInput{Name: r.PostFormValue("name"), Title: r.PostFormValue("title"),
		IsKeyPerson: r.PostFormValue("is_key_person") != "", Mobile: r.PostFormValue("mobile"),
		Phone: r.PostFormValue("phone"), Email: r.PostFormValue("email"), Preferences: r.PostFormValue("preferences"),
		Birthday: r.PostFormValue("birthday"), Notes: r.PostFormValue("notes")}
	_, err = p.s.AddContact(ctx, id, in)
	if err == nil {
		web.Redirect(w, r, "/customers/"+itoa(id)+"#contacts", "customer.flash.contact_added")
		return
	}
	fe, msg, ok := p.s.web.FieldErrors(ctx, err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	c, gerr := p.s.GetCustomer(ctx, id)
	if gerr != nil {
		p.fail(w, r, gerr)
		return
	}
	pg := p.detail(r, c, c.View(true))
	pg.Errors, pg.Message, pg.Contact = fe, msg, in
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "customer/detail", "page.customer.title", pg)
}

func (p pages) deleteContact(w http.ResponseWriter, r *http.Request) {
	p.deleteChild(w, r, "cid", p.s.DeleteContact, "#contacts", "customer.flash.contact_deleted")
}

// deleteChild handles a form post that deletes one record belonging to a customer
// (a contact, a transaction): both ids from the path, the service call, then back to
// the customer's page at anchor with a flash message.
func (p pages) deleteChild(w http.ResponseWriter, r *http.Request, param string,
	del func(ctx context.Context, id, childID int64) error, anchor, flashKey string) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	childID, err := httpx.PathID(r, param)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := del(r.Context(), id, childID); err != nil {
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/customers/"+itoa(id)+anchor, flashKey)
}

// ======================= create and edit =======================

// FormPage is the model of /customers/new and /customers/{id}/edit. Encrypted fields
// are never filled in on edit: their masked value is shown as a hint and an empty
// input keeps the stored value.
type FormPage struct {
	New         bool
	ID          int64
	Version     int64
	V           map[string]string
	Masked      map[string]string
	Kinds       []option
	Tiers       []option
	Values      []option
	Grades      []option
	Attitudes   []option
	Facts       []option
	CanForce    bool
	Main        []FormField
	Org         []FormField
	Errors      web.FormErrors
	Message     string
	DuplicateID int64
}

// FormField is one text input of the customer form.
type FormField struct {
	Name        string
	Label       string
	Type        string
	Max         int
	Value       string
	Placeholder string // the masked stored value of an encrypted field (edit only)
	Error       string
}

type fieldSpec struct {
	name, typ string
	max       int
}

var (
	mainFields = []fieldSpec{{"name", "text", 100}, {"mobile", "tel", 20}, {"phone", "tel", 30}, {"email", "email", 254},
		{"id_number", "text", 18}, {"credit_code", "text", 18}, {"province", "text", 64}, {"city", "text", 64},
		{"district", "text", 64}, {"address", "text", 200}, {"region", "text", 64}, {"industry", "text", 64},
		{"source", "text", 64}, {"owner_id", "text", 20}, {"tags", "text", 400}, {"relationship_since", "date", 10}}
	orgFields = []fieldSpec{{"size_employees", "text", 12}, {"annual_sales_fen", "text", 20}, {"founded_on", "date", 10},
		{"qualifications", "text", 400}, {"service_region", "text", 64}, {"credit_status", "text", 2000},
		{"trading_terms", "text", 2000}, {"bank_name", "text", 64}, {"bank_account", "text", 40}}
)

func (pg FormPage) fields(specs []fieldSpec) []FormField {
	out := make([]FormField, len(specs))
	for i, sp := range specs {
		out[i] = FormField{Name: sp.name, Label: "customer.field." + sp.name, Type: sp.typ, Max: sp.max,
			Value: pg.V[sp.name], Placeholder: pg.Masked[sp.name], Error: pg.Errors[sp.name]}
	}
	return out
}

// formFields are the text inputs of the form, by JSON field name.
var formFields = []string{"name", "mobile", "phone", "email", "id_number", "credit_code", "province", "city", "district",
	"address", "region", "industry", "source", "size_employees", "annual_sales_fen", "founded_on", "relationship_since",
	"qualifications", "service_region", "credit_status", "trading_terms", "bank_name", "bank_account", "owner_id",
	"tags", "notes"}

// sensitiveFields are encrypted at rest: the edit form never shows them in clear.
var sensitiveFields = []string{"mobile", "phone", "id_number", "address", "bank_account"}

func (p pages) form(r *http.Request, pg FormPage, kind, tier, value, grade, attitude string, facts CreditFacts) FormPage {
	pg.Kinds = options(r, "customer.kind.", Kinds, kind, "")
	pg.Tiers = options(r, "customer.tier.", Tiers, tier, "customer.class.auto")
	pg.Values = options(r, "customer.value.", ValueClasses, value, "customer.class.auto")
	pg.Grades = options(r, "customer.grade.", CreditGrades, grade, "customer.class.auto")
	pg.Attitudes = options(r, "customer.attitude.", Attitudes, attitude, "customer.filter.none")
	for i, on := range factsList(facts) {
		pg.Facts = append(pg.Facts, option{Value: creditFactKeys[i], Label: tr(r, "customer.fact."+creditFactKeys[i]), Selected: on})
	}
	pg.CanForce = authz.From(r.Context()).Can(PermForceDuplicate)
	pg.Main, pg.Org = pg.fields(mainFields), pg.fields(orgFields)
	return pg
}

func (p pages) render(w http.ResponseWriter, r *http.Request, status int, pg FormPage) {
	title := "page.customer_edit.title"
	if pg.New {
		title = "page.customer_new.title"
	}
	web.Render(p.s.web, w, r, status, "customer/form", title, pg)
}

func (p pages) newForm(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	if kind != KindOrg {
		kind = KindPerson
	}
	pg := FormPage{New: true, V: map[string]string{}, Masked: map[string]string{}}
	p.render(w, r, http.StatusOK, p.form(r, pg, kind, "", "", "", "", CreditFacts{}))
}

func viewValues(v View) map[string]string {
	m := map[string]string{"name": v.Name, "email": v.Email, "credit_code": v.CreditCode, "province": v.Province,
		"city": v.City, "district": v.District, "region": v.Region, "industry": v.Industry, "source": v.Source,
		"founded_on": v.FoundedOn, "relationship_since": v.RelationshipSince,
		"qualifications": strings.Join(v.Qualifications, ", "), "service_region": v.ServiceRegion,
		"credit_status": v.CreditStatus, "trading_terms": v.TradingTerms, "bank_name": v.BankName,
		"tags": strings.Join(v.Tags, ", "), "notes": v.Notes}
	if v.SizeEmployees != 0 {
		m["size_employees"] = itoa(v.SizeEmployees)
	}
	if v.AnnualSalesFen != 0 {
		m["annual_sales_fen"] = itoa(v.AnnualSalesFen)
	}
	if v.OwnerID != 0 {
		m["owner_id"] = itoa(v.OwnerID)
	}
	return m
}

func (p pages) editForm(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	c, err := p.s.GetCustomer(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !authz.From(r.Context()).Reaches(PermWrite, c.Record()) {
		p.fail(w, r, apperr.NotFoundf("thing.customer"))
		return
	}
	v := c.View(true)
	pg := FormPage{ID: id, Version: c.Version, V: viewValues(v), Masked: map[string]string{"mobile": v.Mobile,
		"phone": v.Phone, "id_number": v.IDNumber, "address": v.Address, "bank_account": v.BankAccount}}
	p.render(w, r, http.StatusOK, p.form(r, pg, c.Kind, c.pinnedValue(DimTier), c.pinnedValue(DimValueClass),
		c.pinnedValue(DimCreditGrade), c.CooperationAttitude, c.CreditFacts))
}

// formInt parses an optional whole number; a bad one becomes -1 (refused by the service).
// formVersion reads the hidden "version" field of an edit form (nil when absent: the
// service then answers 428).
func formVersion(r *http.Request) *int64 {
	s := strings.TrimSpace(r.PostFormValue("version"))
	if s == "" {
		return nil
	}
	n := formInt(s)
	return &n
}

func formInt(s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// formPatch reads the posted form as a patch. On edit, an empty encrypted field keeps
// its stored value.
func formPatch(r *http.Request, isNew bool) Patch {
	str := func(k string) *string {
		if _, ok := r.PostForm[k]; !ok && !isNew {
			return nil
		}
		v := r.PostFormValue(k)
		return &v
	}
	p := Patch{Kind: str("kind"), Name: str("name"), Email: str("email"), CreditCode: str("credit_code"),
		Province: str("province"), City: str("city"), District: str("district"), Region: str("region"),
		Industry: str("industry"), Source: str("source"), Tier: str("tier"), ValueClass: str("value_class"),
		CreditGrade: str("credit_grade"), FoundedOn: str("founded_on"), RelationshipSince: str("relationship_since"),
		ServiceRegion: str("service_region"), CreditStatus: str("credit_status"), TradingTerms: str("trading_terms"),
		CooperationAttitude: str("cooperation_attitude"), BankName: str("bank_name"), Notes: str("notes"),
		Force: r.PostFormValue("force") != ""}
	for _, k := range sensitiveFields {
		v := strings.TrimSpace(r.PostFormValue(k))
		if v == "" && !isNew {
			continue
		}
		switch k {
		case "mobile":
			p.Mobile = &v
		case "phone":
			p.Phone = &v
		case "id_number":
			p.IDNumber = &v
		case "address":
			p.Address = &v
		case "bank_account":
			p.BankAccount = &v
		}
	}
	nums := map[string]**int64{"size_employees": &p.SizeEmployees, "annual_sales_fen": &p.AnnualSalesFen}
	for k, dst := range nums {
		if s := str(k); s != nil {
			n := formInt(*s)
			*dst = &n
		}
	}
	if s := str("owner_id"); s != nil && strings.TrimSpace(*s) != "" {
		n := formInt(*s)
		p.OwnerID = &n
	}
	if s := str("tags"); s != nil {
		l := SplitList(*s)
		p.Tags = &l
	}
	if s := str("qualifications"); s != nil {
		l := SplitList(*s)
		p.Qualifications = &l
	}
	if _, ok := r.PostForm["facts_present"]; ok || isNew {
		cf := factsFrom(r)
		p.CreditFacts = &cf
	}
	if s := str("version"); s != nil && *s != "" {
		n := formInt(*s)
		p.Version = &n
	}
	return p
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (p pages) formError(w http.ResponseWriter, r *http.Request, pg FormPage, patch Patch, err error) {
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg.Errors, pg.Message = fe, msg
	if ae, ok := apperr.As(err); ok {
		if id, ok := ae.Extra["existing_id"].(int64); ok {
			pg.DuplicateID = id
		}
	}
	pg.V = map[string]string{}
	for _, k := range formFields {
		pg.V[k] = r.PostFormValue(k)
	}
	if !pg.New {
		for _, k := range sensitiveFields {
			pg.V[k] = "" // never echo personal data into an edit form
		}
	}
	cf := CreditFacts{}
	if patch.CreditFacts != nil {
		cf = *patch.CreditFacts
	}
	pg = p.form(r, pg, deref(patch.Kind), deref(patch.Tier), deref(patch.ValueClass), deref(patch.CreditGrade),
		deref(patch.CooperationAttitude), cf)
	p.render(w, r, httpx.Status(apperr.KindOf(err)), pg)
}

func (p pages) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	patch := formPatch(r, true)
	in := Input{Kind: deref(patch.Kind), Name: deref(patch.Name), Mobile: deref(patch.Mobile), Phone: deref(patch.Phone),
		Email: deref(patch.Email), IDNumber: deref(patch.IDNumber), CreditCode: deref(patch.CreditCode),
		Province: deref(patch.Province), City: deref(patch.City), District: deref(patch.District),
		Address: deref(patch.Address), Region: deref(patch.Region), Industry: deref(patch.Industry),
		Source: deref(patch.Source), Tier: deref(patch.Tier), ValueClass: deref(patch.ValueClass),
		CreditGrade: deref(patch.CreditGrade), CreditFacts: patch.CreditFacts, FoundedOn: deref(patch.FoundedOn),
		RelationshipSince: deref(patch.RelationshipSince), ServiceRegion: deref(patch.ServiceRegion),
		CreditStatus: deref(patch.CreditStatus), TradingTerms: deref(patch.TradingTerms),
		CooperationAttitude: deref(patch.CooperationAttitude), BankName: deref(patch.BankName),
		BankAccount: deref(patch.BankAccount), Notes: deref(patch.Notes), Force: patch.Force}
	if patch.SizeEmployees != nil {
		in.SizeEmployees = *patch.SizeEmployees
	}
	if patch.AnnualSalesFen != nil {
		in.AnnualSalesFen = *patch.AnnualSalesFen
	}
	if patch.OwnerID != nil {
		in.OwnerID = *patch.OwnerID
	}
	if patch.Tags != nil {
		in.Tags = *patch.Tags
	}
	if patch.Qualifications != nil {
		in.Qualifications = *patch.Qualifications
	}
	c, err := p.s.CreateCustomer(r.Context(), in)
	if err == nil {
		web.Redirect(w, r, "/customers/"+itoa(c.ID), "customer.flash.created")
		return
	}
	p.formError(w, r, FormPage{New: true, Masked: map[string]string{}}, patch, err)
}

func (p pages) update(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	patch := formPatch(r, false)
	_, err = p.s.UpdateCustomer(r.Context(), id, patch)
	if err == nil {
		web.Redirect(w, r, "/customers/"+itoa(id), "customer.flash.saved")
		return
	}
	pg := FormPage{ID: id, Masked: map[string]string{}}
	if patch.Version != nil {
		pg.Version = *patch.Version
	}
	p.formError(w, r, pg, patch, err)
}
