package customer

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// Encryption contexts (AES-GCM additional data) of the encrypted columns: a value
// copied into another column does not decrypt.
const (
	aadMobile         = "customer.mobile"
	aadPhone          = "customer.phone"
	aadIDNumber       = "customer.id_number"
	aadAddress        = "customer.address"
	aadBankAccount    = "customer.bank_account"
	aadContactMobile  = "customer_contact.mobile"
	aadContactPhone   = "customer_contact.phone"
	blindPhone        = "customer.phone"       // any phone number (mobile or landline), whole
	blindPhoneLast4   = "customer.phone.last4" // its last 4 digits
	blindIDNumber     = "customer.id_number"
	blindAddress      = "customer.address"
	minPhoneDigitsL4  = 4
	phoneLast4Digits  = 4
	customerBlindNone = ""
)

// protector encrypts the personal data of customer files and computes their blind
// indexes. Every phone number (a customer's mobile and phone, a contact's mobile and
// phone) shares one blind-index purpose, so a number typed into the search box is
// hashed once and matches wherever it is stored.
type protector struct{ keys *secure.Keyring }

func (p protector) enc(v, aad string) (string, error) {
	if v == "" {
		return "", nil
	}
	s, err := p.keys.Encrypt(v, aad)
	if err != nil {
		return "", fmt.Errorf("customer: encrypt: %w", err)
	}
	return s, nil
}

func (p protector) dec(v, aad string) (string, error) {
	if v == "" {
		return "", nil
	}
	s, err := p.keys.Decrypt(v, aad)
	if err != nil {
		return "", fmt.Errorf("customer: decrypt %s: %w", aad, err)
	}
	return s, nil
}

// phoneKey is the part of a normalized phone number that identifies it: the number
// without an extension ("010-87654321-123" -> "010-87654321").
func phoneKey(normalized string) string {
	groups := 1
	switch {
	case strings.HasPrefix(normalized, "400-"), strings.HasPrefix(normalized, "800-"):
		groups = 3
	case strings.HasPrefix(normalized, "0"):
		groups = 2
	}
	parts := strings.SplitN(normalized, "-", groups+1)
	if len(parts) > groups {
		parts = parts[:groups]
	}
	return strings.Join(parts, "-")
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// phoneBlind returns the whole-number and last-4 blind indexes of a normalized phone
// number ("" for an empty one).
func (p protector) phoneBlind(normalized string) (full, last4 string) {
	if normalized == "" {
		return "", ""
	}
	key := phoneKey(normalized)
	full = p.keys.Blind(blindPhone, key)
	if d := digitsOnly(key); len(d) >= minPhoneDigitsL4 {
		last4 = p.keys.Blind(blindPhoneLast4, d[len(d)-phoneLast4Digits:])
	}
	return full, last4
}

func (p protector) blind(purpose, v string) string {
	if v == "" {
		return customerBlindNone
	}
	return p.keys.Blind(purpose, v)
}

// addressKey normalizes a whole address for exact-match duplicate lookups.
func addressKey(province, city, district, detail string) string {
	if detail == "" {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToLower(province + city + district + detail) {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if !unicode.IsSpace(r) && !unicode.IsPunct(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// lookup is what a search-box string means for the blind indexes.
type lookup struct {
	phone    string // blind index of a whole phone number
	last4    string // blind index of 4 digits
	idNumber string // blind index of a resident ID number
}

func (l lookup) empty() bool { return l.phone == "" && l.last4 == "" && l.idNumber == "" }

// parseLookup recognizes a whole phone number, exactly 4 digits, or an ID number.
func (p protector) parseLookup(q string) lookup {
	var l lookup
	q = strings.TrimSpace(q)
	if q == "" {
		return l
	}
	if d := digitsOnly(q); len(d) == phoneLast4Digits && len(strings.TrimSpace(q)) == phoneLast4Digits {
		l.last4 = p.keys.Blind(blindPhoneLast4, d)
		return l
	}
	if n, err := cnid.NormalizePhone(q); err == nil {
		l.phone = p.keys.Blind(blindPhone, phoneKey(n))
		return l
	}
	if len(q) == 18 {
		if n := strings.ToUpper(q); n[:17] == digitsOnly(n[:17]) {
			l.idNumber = p.keys.Blind(blindIDNumber, n)
		}
	}
	return l
}
