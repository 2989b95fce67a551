package cnid

import "strings"

// NormalizeMobile validates a mainland China mobile number and returns its 11-digit
// form. It accepts spaces, hyphens, dots and parentheses between digit groups, a
// country code written +86, 0086 or 86, and full-width characters:
// "+86 138 1234 5678", "86-138-1234-5678" and "13812345678" all give "13812345678".
// A mainland mobile number is 1, then 3-9, then 9 digits.
func NormalizeMobile(s string) (string, error) {
	f, ok := fold(s)
	if !ok {
		return "", fail(KeyMobileInvalid)
	}
	d, plus, ok := digitsOf(f)
	if !ok {
		return "", fail(KeyMobileInvalid)
	}
	d, _ = stripCountry(d, plus, 11)
	if !isMobile(d) {
		return "", fail(KeyMobileInvalid)
	}
	return d, nil
}

func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && allDigits(d)
}

// digitsOf keeps the digits of s, which may separate digit groups with spaces, hyphens,
// dots, slashes and parentheses and may start with one '+'.
func digitsOf(s string) (digits string, plus bool, ok bool) {
	if strings.HasPrefix(s, "+") {
		plus, s = true, s[1:]
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			b = append(b, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' || c == '\t':
		default:
			return "", false, false
		}
	}
	return string(b), plus, len(b) > 0
}

// stripCountry removes a leading China country code (86 after '+', or 0086, or a bare
// 86 when the rest would have exactly national digits) and reports whether it did.
func stripCountry(d string, plus bool, national int) (string, bool) {
	switch {
	case plus:
		if strings.HasPrefix(d, "86") {
			return d[2:], true
		}
		return "\x00", false // another country: never valid here
	case strings.HasPrefix(d, "0086"):
		return d[4:], true
	case len(d) == national+2 && strings.HasPrefix(d, "86"):
		return d[2:], true
	}
	return d, false
}

// NormalizePhone validates any Chinese phone number a customer may give and returns it
// in one canonical form:
//
//   - a mobile number: its 11 digits ("13812345678");
//   - a landline with area code: "0AA-NNNNNNNN" or "0AAA-NNNNNNN" (010, 02x and 0xxx area
//     codes; 7 or 8 local digits not starting with 0), e.g. "(010)87654321" gives
//     "010-87654321"; "+86 21 1234 5678" gives "021-12345678";
//   - a landline without area code: its 7 or 8 digits, the first 2-9;
//   - a 400/800 number: "400-800-1234";
//   - a service number: 95xxx/96xxx (5 or 6 digits) and 1xxxx (5 digits), e.g. "95588";
//
// each optionally followed by "-" and an extension of 1 to 6 digits, written after
// "-", "ext", "x", "#" or the Chinese word for "extension": "(010)87654321-123" gives
// "010-87654321-123".
func NormalizePhone(s string) (string, error) {
	f, ok := fold(s)
	if !ok || f == "" {
		return "", fail(KeyPhoneInvalid)
	}
	main, ext, hasExt := splitExtension(f)
	if !hasExt {
		// "021-12345678-123": the last hyphen group is an extension whenever the rest is
		// a number by itself. Trying this first keeps the canonical form stable:
		// "020-1000000-0" is a 7-digit number with extension 0, never 020-10000000.
		if i := strings.LastIndexByte(f, '-'); i > 0 {
			main, ext, hasExt = strings.TrimSpace(f[:i]), strings.TrimSpace(f[i+1:]), true
			if len(ext) == 0 || len(ext) > 6 || !allDigits(ext) {
				hasExt = false
			} else if n, ok := phoneBase(main); !ok || isMobile(n) {
				hasExt = false
			}
		}
	} else if len(ext) == 0 || len(ext) > 6 || !allDigits(ext) {
		return "", fail(KeyPhoneInvalid)
	}
	if hasExt {
		// Mobile numbers take no extension.
		if n, ok := phoneBase(main); ok && !isMobile(n) {
			return n + "-" + ext, nil
		}
		return "", fail(KeyPhoneInvalid)
	}
	if n, ok := phoneBase(f); ok {
		return n, nil
	}
	return "", fail(KeyPhoneInvalid)
}

// extMarkers separate an extension from the number; "\u8f6c" is the Chinese word.
var extMarkers = []string{"ext.", "ext", "x", "#", "\u8f6c"}

func splitExtension(s string) (main, ext string, ok bool) {
	lower := asciiLower(s) // same byte length as s, unlike strings.ToLower
	for _, m := range extMarkers {
		if i := strings.LastIndex(lower, m); i > 0 {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+len(m):]), true
		}
	}
	return s, "", false
}

// phoneBase normalizes a number without extension.
func phoneBase(s string) (string, bool) {
	d, plus, ok := digitsOf(s)
	if !ok {
		return "", false
	}
	d, intl := stripCountry(d, plus, 11)
	if d == "\x00" {
		return "", false
	}
	if isMobile(d) {
		return d, true
	}
	if intl && !strings.HasPrefix(d, "0") {
		d = "0" + d // +86 21 ... drops the trunk prefix
	}
	switch {
	case len(d) == 10 && (strings.HasPrefix(d, "400") || strings.HasPrefix(d, "800")):
		return d[:3] + "-" + d[3:6] + "-" + d[6:], true
	case strings.HasPrefix(d, "0"):
		return landline(d)
	case intl:
		return "", false
	case (len(d) == 5 || len(d) == 6) && (strings.HasPrefix(d, "95") || strings.HasPrefix(d, "96")):
		return d, true
	case len(d) == 5 && d[0] == '1':
		return d, true
	case (len(d) == 7 || len(d) == 8) && d[0] >= '2':
		return d, true
	}
	return "", false
}

// landline splits "0" + area code + local number. Area codes starting 01 or 02 have
// three digits (010, 020-029), all others four.
func landline(d string) (string, bool) {
	if len(d) < 3 || d[1] == '0' {
		return "", false
	}
	area := 4
	if d[1] == '1' || d[1] == '2' {
		area = 3
	}
	if d[1] == '1' && d[2] != '0' {
		return "", false // 010 is the only 01x area code
	}
	local := d[min(area, len(d)):]
	if len(local) < 7 || len(local) > 8 || local[0] == '0' {
		return "", false
	}
	return d[:area] + "-" + local, true
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
