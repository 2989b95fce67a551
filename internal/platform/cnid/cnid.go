// Package cnid validates and normalizes Chinese identity data: mainland mobile numbers,
// landline and service numbers, 18-digit resident identity numbers (GB 11643-1999),
// unified social credit codes (GB 32100-2015) and e-mail addresses. It also generates
// valid values for tests and demo data.
//
// Every validator returns the normalized value or an *Error carrying an i18n catalog
// key (catalog file internal/platform/i18n/locales/<lang>/cnid.json), so a service can
// report the problem against its own field:
//
//	if _, err := cnid.NormalizeMobile(in.Mobile); err != nil {
//		fields.Add("mobile", cnid.KeyOf(err))
//	}
//
// Input is folded first: full-width digits, letters and punctuation (as typed with a
// Chinese input method) become their ASCII forms and surrounding space is trimmed.
package cnid

import (
	"errors"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Catalog keys of the validation errors.
const (
	KeyMobileInvalid = "cnid.mobile.invalid"
	KeyPhoneInvalid  = "cnid.phone.invalid"
	KeyEmailInvalid  = "cnid.email.invalid"

	KeyIDLength    = "cnid.id.length"     // not 18 characters (15-digit legacy numbers included)
	KeyIDCharset   = "cnid.id.charset"    // a non-digit in the first 17 positions, or a bad last character
	KeyIDRegion    = "cnid.id.region"     // unknown province-level region code
	KeyIDBirthDate = "cnid.id.birth_date" // the birth date does not exist in the calendar
	KeyIDBirthSpan = "cnid.id.birth_range"
	KeyIDChecksum  = "cnid.id.checksum"

	KeyUSCCLength    = "cnid.uscc.length"
	KeyUSCCCharset   = "cnid.uscc.charset"   // a character outside 0-9 and A-Y without I, O, S, V, Z
	KeyUSCCAuthority = "cnid.uscc.authority" // unknown registration authority or entity type
	KeyUSCCRegion    = "cnid.uscc.region"
	KeyUSCCOrgCode   = "cnid.uscc.org_code" // the embedded GB 11714 organization code fails its check
	KeyUSCCChecksum  = "cnid.uscc.checksum"
)

// Keys lists every catalog key this package can return.
func Keys() []string {
	return []string{
		KeyMobileInvalid, KeyPhoneInvalid, KeyEmailInvalid,
		KeyIDLength, KeyIDCharset, KeyIDRegion, KeyIDBirthDate, KeyIDBirthSpan, KeyIDChecksum,
		KeyUSCCLength, KeyUSCCCharset, KeyUSCCAuthority, KeyUSCCRegion, KeyUSCCOrgCode, KeyUSCCChecksum,
	}
}

// Error is a validation failure. Key is an i18n catalog key without placeholders; it
// says what is wrong with the value, not which field held it.
type Error struct {
	Key string
}

func (e *Error) Error() string { return "cnid: invalid value (" + e.Key + ")" }

// Msg returns the untranslated message for the failure.
func (e *Error) Msg() i18n.Msg { return i18n.Msg{Key: e.Key} }

// KeyOf returns the catalog key of a cnid error anywhere in err's chain, or "" when err
// is nil or not a cnid error.
func KeyOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Key
	}
	return ""
}

func fail(key string) error { return &Error{Key: key} }

// maxInput bounds the work done on a hostile input; no value handled here is longer.
const maxInput = 256

// fold maps full-width ASCII variants (U+FF01..U+FF5E) and the ideographic space to
// ASCII and trims surrounding white space. It returns ok=false for oversized input.
func fold(s string) (string, bool) {
	if len(s) > maxInput {
		return "", false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.TrimSpace(s), true
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000 || r == 0x00A0:
			r = ' '
		case r == 0x2010 || r == 0x2011 || r == 0x2012 || r == 0x2013 || r == 0x2014 || r == 0x2212:
			r = '-' // hyphens and dashes people paste between digit groups
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String()), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// provinces holds the province-level codes of GB/T 2260 (digits 1-2 of a region code),
// plus 83 for residence permits of Taiwan residents (which, like those of Hong Kong and
// Macao residents, 81 and 82, use the resident identity number format).
var provinces = [100]bool{
	11: true, 12: true, 13: true, 14: true, 15: true,
	21: true, 22: true, 23: true,
	31: true, 32: true, 33: true, 34: true, 35: true, 36: true, 37: true,
	41: true, 42: true, 43: true, 44: true, 45: true, 46: true,
	50: true, 51: true, 52: true, 53: true, 54: true,
	61: true, 62: true, 63: true, 64: true, 65: true,
	71: true, 81: true, 82: true, 83: true,
}

// validProvince reports whether the first two bytes of s (digits) are a province code.
func validProvince(s string) bool {
	if len(s) < 2 || !isDigit(s[0]) || !isDigit(s[1]) {
		return false
	}
	return provinces[int(s[0]-'0')*10+int(s[1]-'0')]
}
