package cnid

import "time"

// ResidentID is a validated resident identity number.
type ResidentID struct {
	Number string    // 18 characters, a final check character x upper-cased to X
	Region string    // the 6-digit administrative region code of first registration
	Birth  time.Time // the birth date at midnight UTC
	Male   bool      // the sequence number (digits 15-17) is odd for men, even for women
}

// idWeights are 2^(17-i) mod 11 for positions i = 0..16 (GB 11643-1999).
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheck maps the weighted sum mod 11 to the check character.
const idCheck = "10X98765432"

// ResidentIDCheck returns the GB 11643 check character of the first 17 digits of s
// (which must be digits); ok is false when they are not.
func ResidentIDCheck(first17 string) (byte, bool) {
	if len(first17) < 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if !isDigit(c) {
			return 0, false
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheck[sum%11], true
}

// ValidateResidentID validates an 18-character resident identity number per
// GB 11643-1999:
//
//   - digits 1-6: administrative region code; only the province-level part (digits 1-2)
//     is checked against GB/T 2260 (the county list changes every year);
//   - digits 7-14: birth date YYYYMMDD, a real calendar date, not before 1900 and not
//     after today's date (today in its own location; a zero today skips that check);
//   - digits 15-17: sequence number, odd for men and even for women;
//   - character 18: check character, a digit or X (a lower-case x is accepted and
//     returned as X).
//
// 15-digit numbers of the first generation (no longer valid since 2013) are refused
// with KeyIDLength.
func ValidateResidentID(s string, today time.Time) (ResidentID, error) {
	f, ok := fold(s)
	if !ok || len(f) != 18 {
		return ResidentID{}, fail(KeyIDLength)
	}
	b := []byte(f)
	if b[17] == 'x' {
		b[17] = 'X'
	}
	for i := 0; i < 17; i++ {
		if !isDigit(b[i]) {
			return ResidentID{}, fail(KeyIDCharset)
		}
	}
	if !isDigit(b[17]) && b[17] != 'X' {
		return ResidentID{}, fail(KeyIDCharset)
	}
	n := string(b)
	if !validProvince(n) {
		return ResidentID{}, fail(KeyIDRegion)
	}
	birth, ok := parseYMD(n[6:14])
	if !ok {
		return ResidentID{}, fail(KeyIDBirthDate)
	}
	if birth.Year() < 1900 {
		return ResidentID{}, fail(KeyIDBirthSpan)
	}
	if !today.IsZero() {
		y, m, d := today.Date()
		if birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
			return ResidentID{}, fail(KeyIDBirthSpan)
		}
	}
	if c, _ := ResidentIDCheck(n); c != n[17] {
		return ResidentID{}, fail(KeyIDChecksum)
	}
	return ResidentID{
		Number: n,
		Region: n[:6],
		Birth:  birth,
		Male:   (n[16]-'0')%2 == 1,
	}, nil
}

// parseYMD parses 8 digits YYYYMMDD as a date that exists in the calendar.
func parseYMD(s string) (time.Time, bool) {
	if len(s) != 8 || !allDigits(s) {
		return time.Time{}, false
	}
	num := func(a, b int) int {
		v := 0
		for i := a; i < b; i++ {
			v = v*10 + int(s[i]-'0')
		}
		return v
	}
	y, m, d := num(0, 4), num(4, 6), num(6, 8)
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false // 19990230 would roll over into March
	}
	return t, true
}
