package customer

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
)

// Validation: every check adds a field error (catalog key) and keeps going, so one
// answer names every bad field. Nothing is stored when any check fails.

const dayLayout = "2006-01-02"

// badText reports control characters (newlines and tabs allowed when multiline) and
// invalid UTF-8.
func badText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, func(r rune) bool {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return unicode.IsControl(r)
	}) >= 0
}

// text trims and checks a free-text value.
func text(f apperr.Fields, field, v string, max int, required, multiline bool) string {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		f.Add(field, "field.required")
	case utf8.RuneCountInString(v) > max:
		f.Add(field, "field.too_long", "max", max)
	case badText(v, multiline):
		f.Add(field, "field.invalid")
	}
	return v
}

func choice(f apperr.Fields, field, v string, allowed []string, required bool) string {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			f.Add(field, "field.required")
		}
		return v
	}
	if !slices.Contains(allowed, v) {
		f.Add(field, "field.invalid_choice")
	}
	return v
}

func mobile(f apperr.Fields, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	n, err := cnid.NormalizeMobile(v)
	if err != nil {
		f.Add(field, cnid.KeyOf(err))
		return v
	}
	return n
}

func phone(f apperr.Fields, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	n, err := cnid.NormalizePhone(v)
	if err != nil {
		f.Add(field, cnid.KeyOf(err))
		return v
	}
	return n
}

func email(f apperr.Fields, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	n, err := cnid.ValidateEmail(v)
	if err != nil {
		f.Add(field, cnid.KeyOf(err))
		return v
	}
	return n
}

func residentID(f apperr.Fields, field, v string, today time.Time) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	id, err := cnid.ValidateResidentID(v, today)
	if err != nil {
		f.Add(field, cnid.KeyOf(err))
		return v
	}
	return id.Number
}

func creditCode(f apperr.Fields, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	n, err := cnid.ValidateUSCC(v)
	if err != nil {
		f.Add(field, cnid.KeyOf(err))
		return v
	}
	return n
}

// day checks an optional YYYY-MM-DD date that must not lie after today.
func day(f apperr.Fields, field, v string, today time.Time) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	t, err := time.Parse(dayLayout, v)
	if err != nil {
		f.Add(field, "customer.invalid.date")
		return v
	}
	if t.After(today) {
		f.Add(field, "customer.invalid.future_date")
	}
	return v
}

// birthday accepts YYYY-MM-DD or MM-DD (year unknown).
func birthday(f apperr.Fields, field, v string, today time.Time) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if len(v) == 5 {
		if _, err := time.Parse("2006-01-02", "2000-"+v); err != nil { // 2000 is a leap year
			f.Add(field, "customer.invalid.date")
		}
		return v
	}
	return day(f, field, v, today)
}

func bankAccount(f apperr.Fields, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	n := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r == ' ' || r == '-':
		default:
			f.Add(field, "customer.invalid.bank_account")
			return v
		}
	}
	if n < 8 || len(v) > maxBankAcct {
		f.Add(field, "customer.invalid.bank_account")
	}
	return v
}

func nonNegative(f apperr.Fields, field string, v, max int64) int64 {
	if v < 0 || v > max {
		f.Add(field, "customer.invalid.range", "max", max)
	}
	return v
}

// list trims, de-duplicates and checks a list of short labels (tags, qualifications).
func list(f apperr.Fields, field string, in []string, maxLen, maxItems int) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if utf8.RuneCountInString(s) > maxLen || badText(s, false) || strings.ContainsAny(s, ",;") {
			f.Add(field, "customer.invalid.label", "max", maxLen)
			continue
		}
		out = append(out, s)
	}
	if len(out) > maxItems {
		f.Add(field, "customer.invalid.too_many", "max", maxItems)
	}
	return out
}

// SplitList turns a comma-separated form value (ASCII or full-width commas, semicolons
// or new lines) into a list.
func SplitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '\uff0c' || r == ';' || r == '\uff1b' || r == '\n' || r == '\u3001'
	})
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// setClass applies a manual classification value and pins (or unpins) the dimension;
// the re-evaluation that follows (classification.go) writes the reasons.
func setClass(c *Customer, dim string, v string) {
	c.Pinned = slices.DeleteFunc(c.Pinned, func(p string) bool { return p == dim })
	switch dim {
	case "tier":
		c.Tier = v
	case "value_class":
		c.ValueClass = v
	case "credit_grade":
		c.CreditGrade = v
	}
	if v != "" {
		c.Pinned = append(c.Pinned, dim)
		slices.Sort(c.Pinned)
	}
}

// apply validates p and applies it to c. today is the current date (resident ID birth
// dates and "not in the future" checks).
func apply(c *Customer, p Patch, today time.Time, f apperr.Fields) {
	if p.Kind != nil {
		c.Kind = choice(f, "kind", *p.Kind, Kinds, true)
	}
	if p.Name != nil {
		c.Name = text(f, "name", *p.Name, maxName, true, false)
	}
	if p.Mobile != nil {
		c.Mobile = mobile(f, "mobile", *p.Mobile)
	}
	if p.Phone != nil {
		c.Phone = phone(f, "phone", *p.Phone)
	}
	if p.Email != nil {
		c.Email = email(f, "email", *p.Email)
	}
	if p.IDNumber != nil {
		c.IDNumber = residentID(f, "id_number", *p.IDNumber, today)
	}
	if p.CreditCode != nil {
		c.CreditCode = creditCode(f, "credit_code", *p.CreditCode)
	}
	if p.Province != nil {
		c.Province = text(f, "province", *p.Province, maxShort, false, false)
	}
	if p.City != nil {
		c.City = text(f, "city", *p.City, maxShort, false, false)
	}
	if p.District != nil {
		c.District = text(f, "district", *p.District, maxShort, false, false)
	}
	if p.Address != nil {
		c.Address = text(f, "address", *p.Address, maxAddress, false, false)
	}
	if p.Region != nil {
		c.Region = text(f, "region", *p.Region, maxShort, false, false)
	}
	if p.Industry != nil {
		c.Industry = text(f, "industry", *p.Industry, maxShort, false, false)
	}
	if p.Source != nil {
		c.Source = text(f, "source", *p.Source, maxShort, false, false)
	}
	if p.Tier != nil {
		setClass(c, "tier", choice(f, "tier", *p.Tier, Tiers, false))
	}
	if p.ValueClass != nil {
		setClass(c, "value_class", choice(f, "value_class", *p.ValueClass, ValueClasses, false))
	}
	if p.CreditGrade != nil {
		setClass(c, "credit_grade", choice(f, "credit_grade", strings.ToUpper(strings.TrimSpace(*p.CreditGrade)), CreditGrades, false))
	}
	if p.CreditFacts != nil {
		c.CreditFacts = *p.CreditFacts
	}
	if p.SizeEmployees != nil {
		c.SizeEmployees = nonNegative(f, "size_employees", *p.SizeEmployees, maxEmployees)
	}
	if p.AnnualSalesFen != nil {
		c.AnnualSalesFen = nonNegative(f, "annual_sales_fen", *p.AnnualSalesFen, 1<<62)
	}
	if p.FoundedOn != nil {
		c.FoundedOn = day(f, "founded_on", *p.FoundedOn, today)
	}
	if p.RelationshipSince != nil {
		c.RelationshipSince = day(f, "relationship_since", *p.RelationshipSince, today)
	}
	if p.Qualifications != nil {
		c.Qualifications = list(f, "qualifications", *p.Qualifications, maxShort, maxQuals)
	}
	if p.ServiceRegion != nil {
		c.ServiceRegion = text(f, "service_region", *p.ServiceRegion, maxShort, false, false)
	}
	if p.CreditStatus != nil {
		c.CreditStatus = text(f, "credit_status", *p.CreditStatus, maxText, false, true)
	}
	if p.TradingTerms != nil {
		c.TradingTerms = text(f, "trading_terms", *p.TradingTerms, maxText, false, true)
	}
	if p.CooperationAttitude != nil {
		c.CooperationAttitude = choice(f, "cooperation_attitude", *p.CooperationAttitude, Attitudes, false)
	}
	if p.BankName != nil {
		c.BankName = text(f, "bank_name", *p.BankName, maxShort, false, false)
	}
	if p.BankAccount != nil {
		c.BankAccount = bankAccount(f, "bank_account", *p.BankAccount)
	}
	if p.Tags != nil {
		c.Tags = list(f, "tags", *p.Tags, maxTag, maxTags)
	}
	if p.Notes != nil {
		c.Notes = text(f, "notes", *p.Notes, maxText, false, true)
	}
}

// applyContact validates p and applies it to ct; prefix names the fields
// ("contacts[0]." inside a create request, "" for the contacts API).
func applyContact(ct *Contact, p ContactPatch, today time.Time, f apperr.Fields, prefix string) {
	if p.Name != nil {
		ct.Name = text(f, prefix+"name", *p.Name, maxShort, true, false)
	}
	if p.Title != nil {
		ct.Title = text(f, prefix+"title", *p.Title, maxShort, false, false)
	}
	if p.IsKeyPerson != nil {
		ct.IsKeyPerson = *p.IsKeyPerson
	}
	if p.Mobile != nil {
		ct.Mobile = mobile(f, prefix+"mobile", *p.Mobile)
	}
	if p.Phone != nil {
		ct.Phone = phone(f, prefix+"phone", *p.Phone)
	}
	if p.Email != nil {
		ct.Email = email(f, prefix+"email", *p.Email)
	}
	if p.Preferences != nil {
		ct.Preferences = text(f, prefix+"preferences", *p.Preferences, maxText, false, true)
	}
	if p.Birthday != nil {
		ct.Birthday = birthday(f, prefix+"birthday", *p.Birthday, today)
	}
	if p.Notes != nil {
		ct.Notes = text(f, prefix+"notes", *p.Notes, maxText, false, true)
	}
}

// nameKey is the normalized name used to find similar names (duplicate review): lower
// case, letters and digits only, common company-form suffixes kept (they are data).
func nameKey(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
