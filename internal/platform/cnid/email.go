package cnid

import (
	"net/mail"
	"strings"
)

// ValidateEmail validates a bare e-mail address ("name@example.com") and returns it with
// the domain in lower case. It refuses display-name and angle-bracket forms
// ("Zhang <z@example.com>"), quoted local parts, domain literals, and domains without
// a dot or with malformed labels (each label 1-63 letters, digits, hyphens or
// non-ASCII characters, not starting or ending with a hyphen; the top-level label not
// all digits). At most 254 bytes.
func ValidateEmail(s string) (string, error) {
	f, ok := fold(s)
	if !ok || len(f) > 254 || f == "" {
		return "", fail(KeyEmailInvalid)
	}
	a, err := mail.ParseAddress(f)
	if err != nil || a.Name != "" || a.Address != f {
		return "", fail(KeyEmailInvalid)
	}
	at := strings.LastIndexByte(f, '@')
	if at <= 0 || at > 64 {
		return "", fail(KeyEmailInvalid)
	}
	local, domain := f[:at], strings.ToLower(f[at+1:])
	if !validDomain(domain) {
		return "", fail(KeyEmailInvalid)
	}
	return local + "@" + domain, nil
}

func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			ok := r == '-' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r > 0x7F
			if !ok || r == 0xFFFD {
				return false
			}
		}
	}
	return !allDigits(labels[len(labels)-1])
}
