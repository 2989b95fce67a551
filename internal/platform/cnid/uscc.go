package cnid

// usccAlphabet is the GB 32100-2015 character set in value order (0-30): digits, then
// upper-case letters without I, O, S, V and Z.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccValue maps a byte to its value in usccAlphabet, or -1.
var usccValue = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := 0; i < len(usccAlphabet); i++ {
		v[usccAlphabet[i]] = int8(i)
	}
	return v
}()

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgWeights are the GB 11714-1997 organization code weights.
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// usccAuthorities are the registration authority codes (character 1) of GB 32100-2015
// and the codes assigned since: 1 establishment offices, 2 foreign affairs, 3 justice,
// 4 culture, 5 civil affairs, 6 tourism, 7 religious affairs, 8 trade unions, 9 market
// regulation (industry and commerce), A military establishment offices, N agriculture,
// Y other authorities. The entity type (character 2) is a digit 1-9 whose meaning
// depends on the authority (91 company, 92 individual business, 93 farmers'
// cooperative, 12 public institution, 51 social organization ...). Only its range is
// checked: authorities add types over time and the check characters already catch
// typing errors, while refusing a genuine code would block the customer's record.
const usccAuthorities = "123456789ANY"

// USCCCheck returns the GB 32100 check character for the first 17 characters of s, or
// ok=false when one of them is outside the alphabet.
func USCCCheck(first17 string) (byte, bool) {
	if len(first17) < 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := usccValue[first17[i]]
		if v < 0 {
			return 0, false
		}
		sum += int(v) * usccWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return usccAlphabet[c], true
}

// OrgCodeCheck returns the GB 11714 check character for an 8-character organization
// code body (digits and upper-case letters, A=10 ... Z=35): 11 - sum%11, where 10 is X
// and 11 is 0.
func OrgCodeCheck(body string) (byte, bool) {
	if len(body) < 8 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		var v int
		switch {
		case isDigit(c):
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return 0, false
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X', true
	case 11:
		return '0', true
	default:
		return byte('0' + c), true
	}
}

// ValidateUSCC validates an 18-character unified social credit code (GB 32100-2015)
// and returns it upper-cased:
//
//   - every character from 0-9 and A-Y without I, O, S, V, Z;
//   - character 1, the registration authority, one of 1-9, A, N, Y; character 2, the
//     entity type, a digit 1-9 (e.g. 91 company, 92 individual business);
//   - characters 3-8, the region code: digits with a province-level prefix, or 10 for
//     national bodies;
//   - characters 9-17, the organization code (GB 11714), whose own check character (the
//     17th) must be right: codes issued by the registration system satisfy it, and a
//     typing error there is caught even when the final check happens to collide;
//   - character 18, the check character over the first 17.
//
// Credit codes are public registration data; they are neither encrypted nor masked.
func ValidateUSCC(s string) (string, error) {
	f, ok := fold(s)
	if !ok || len(f) != 18 {
		return "", fail(KeyUSCCLength)
	}
	b := []byte(asciiUpper(f))
	for _, c := range b {
		if usccValue[c] < 0 {
			return "", fail(KeyUSCCCharset)
		}
	}
	if !containsByte(usccAuthorities, b[0]) || b[1] < '1' || b[1] > '9' {
		return "", fail(KeyUSCCAuthority)
	}
	region := string(b[2:8])
	if !allDigits(region) || !(validProvince(region) || region[:2] == "10") {
		return "", fail(KeyUSCCRegion)
	}
	if c, ok := OrgCodeCheck(string(b[8:16])); !ok || c != b[16] {
		return "", fail(KeyUSCCOrgCode)
	}
	code := string(b)
	if c, _ := USCCCheck(code); c != code[17] {
		return "", fail(KeyUSCCChecksum)
	}
	return code, nil
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}
