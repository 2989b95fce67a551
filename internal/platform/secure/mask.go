package secure

import (
	_ "embed"
	"strings"
	"unicode"
)

// Masking for display: what a viewer without the reveal grant sees in place of a
// personal value. Every function works on runes, accepts any input (empty, short,
// invalid UTF-8) without panicking, and never returns a short input in full: when a
// value is too short for its usual pattern only its last quarter (rounded down) stays
// visible. Unified social credit codes are public registration data and are not masked.

// mask replaces the maskable runes of rs with '*', except the first head and the last
// tail of them; other runes (separators) stay as they are.
func mask(rs []rune, head, tail int, maskable func(rune) bool) string {
	n := 0
	for _, r := range rs {
		if maskable(r) {
			n++
		}
	}
	if n <= head+tail {
		head, tail = 0, n/4
	}
	i := 0
	for k, r := range rs {
		if !maskable(r) {
			continue
		}
		if i >= head && i < n-tail {
			rs[k] = '*'
		}
		i++
	}
	return string(rs)
}

func anyRune(rune) bool { return true }

// phoneChar reports whether r is part of a number rather than a separator.
func phoneChar(r rune) bool {
	return r != ' ' && r != '-' && r != '(' && r != ')' && r != '+' && r != '.'
}

// MaskMobile shows the first 3 and the last 4 digits: "13812341234" -> "138****1234".
func MaskMobile(s string) string {
	return mask([]rune(strings.TrimSpace(s)), 3, 4, phoneChar)
}

// MaskPhone masks a phone number as cnid.NormalizePhone writes it. A mobile number is
// masked as by MaskMobile. Otherwise the area code (a leading "0..." or "400"/"800"
// group, or a parenthesized group) and the last 4 digits of the number stay visible,
// as does an extension: "021-12345678" -> "021-****5678", "010-87654321-123" ->
// "010-****4321-123", "400-800-1234" -> "400-***-1234", "87654321" -> "****4321",
// "87654321-123" -> "****4321-123".
func MaskPhone(s string) string {
	rs := []rune(strings.TrimSpace(s))
	if isMobileRunes(rs) {
		return mask(rs, 3, 4, phoneChar)
	}
	head := 0
	if len(rs) > 0 && rs[0] == '(' {
		for i, r := range rs {
			if r == ')' {
				head = i + 1
				break
			}
		}
	} else if i := indexSep(rs); i > 0 && allDigitRunes(rs[:i]) && (rs[0] == '0' || string(rs[:i]) == "400" || string(rs[:i]) == "800") {
		head = i + 1
	}
	rest := rs[head:]
	end := len(rest)
	// An extension: the last hyphen group after a local number of 7 or more digits.
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == '-' {
			if countDigits(rest[:i]) >= 7 {
				end = i
			}
			break
		}
	}
	mask(rest[:end], 0, 4, phoneChar)
	return string(rs)
}

func isMobileRunes(rs []rune) bool {
	return len(rs) == 11 && rs[0] == '1' && allDigitRunes(rs)
}

func indexSep(rs []rune) int {
	for i, r := range rs {
		if r == '-' || r == ' ' {
			return i
		}
	}
	return -1
}

func allDigitRunes(rs []rune) bool {
	for _, r := range rs {
		if r < '0' || r > '9' {
			return false
		}
	}
	return len(rs) > 0
}

func countDigits(rs []rune) int {
	n := 0
	for _, r := range rs {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// MaskResidentID shows the first 3 and the last 4 characters of a resident identity
// number: "110105194912310021" -> "110***********0021".
func MaskResidentID(s string) string {
	return mask([]rune(strings.TrimSpace(s)), 3, 4, anyRune)
}

// MaskBankAccount shows only the last 4 letters or digits of an account or card number,
// in a fixed form that also hides the length: "6222 0212 3456 7890 123" ->
// "**** **** **** 0123". Values with fewer than 8 letters or digits give "****".
func MaskBankAccount(s string) string {
	var alnum []rune
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			alnum = append(alnum, r)
		}
	}
	if len(alnum) < 8 {
		return "****"
	}
	return "**** **** **** " + string(alnum[len(alnum)-4:])
}

// AddressMarker stands for the hidden detail of a masked address.
const AddressMarker = "****"

// MaskAddress shows an address only down to the district: province, city (left out when
// it repeats the province, as for the municipalities) and district, followed by
// AddressMarker when a street-level detail exists and is hidden.
func MaskAddress(province, city, district, detail string) string {
	province, city, district = strings.TrimSpace(province), strings.TrimSpace(city), strings.TrimSpace(district)
	var b strings.Builder
	b.WriteString(province)
	if city != province {
		b.WriteString(city)
	}
	if district != city && district != province {
		b.WriteString(district)
	}
	if strings.TrimSpace(detail) != "" {
		b.WriteString(AddressMarker)
	}
	return strings.ToValidUTF8(b.String(), string(unicode.ReplacementChar))
}

//go:embed mask_surnames.txt
var surnameData string

// compoundSurnames is the read-only set of two-character surnames from mask_surnames.txt.
var compoundSurnames = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(surnameData, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// nameSeparator reports the runes kept in masked names: spaces and the middle dots
// that separate the parts of transliterated names.
func nameSeparator(r rune) bool {
	return r == ' ' || r == 0x00B7 || r == 0x30FB || r == 0x2022 || r == '.'
}

// MaskName shows a person's surname only: the first character, or the first two for a
// common compound surname (listed in mask_surnames.txt) followed by a given name. Every
// other character becomes '*', separators stay: a two-character name gives its surname
// and one star, a compound surname with a two-character given name gives the surname
// and two stars, "John Smith" gives "J*** *****". A single character gives "*".
func MaskName(s string) string {
	rs := []rune(strings.TrimSpace(s))
	if len(rs) <= 1 {
		return strings.Repeat("*", len(rs))
	}
	keep := 1
	if len(rs) > 2 && compoundSurnames[string(rs[:2])] {
		keep = 2
	}
	for i := keep; i < len(rs); i++ {
		if !nameSeparator(rs[i]) {
			rs[i] = '*'
		}
	}
	return string(rs)
}

// MaskEmail shows the first character of the local part and the whole domain, with a
// fixed "***" that hides the length: "zhang@example.com" -> "z***@example.com". A
// one-character local part is hidden entirely; a value without '@' is masked like a
// name.
func MaskEmail(s string) string {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return MaskName(s)
	}
	local := []rune(s[:at])
	domain := strings.ToValidUTF8(s[at+1:], string(unicode.ReplacementChar))
	if len(local) <= 1 {
		return "***@" + domain
	}
	return string(local[0]) + "***@" + domain
}
