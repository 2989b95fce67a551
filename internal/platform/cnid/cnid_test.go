package cnid

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

var today = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)

func TestKeysInCatalog(t *testing.T) {
	c := i18n.MustLoad()
	for _, k := range Keys() {
		if !c.Has(k) {
			t.Errorf("key %s missing from the zh-CN catalog", k)
		}
		for _, lang := range i18n.Languages {
			if got := c.T(lang, k, nil); got == k || got == "" {
				t.Errorf("%s: key %s not translated", lang, k)
			}
		}
	}
	if got := c.T(i18n.ZhCN, KeyIDChecksum, nil); got != "身份证号码校验位错误" {
		t.Errorf("zh-CN %s = %q", KeyIDChecksum, got)
	}
}

func TestErrorCarriesKey(t *testing.T) {
	_, err := NormalizeMobile("12345")
	if KeyOf(err) != KeyMobileInvalid {
		t.Fatalf("KeyOf = %q", KeyOf(err))
	}
	e := err.(*Error)
	if e.Msg().Key != KeyMobileInvalid || !strings.Contains(e.Error(), KeyMobileInvalid) {
		t.Errorf("Msg/Error = %v / %q", e.Msg(), e.Error())
	}
	if KeyOf(nil) != "" {
		t.Error("KeyOf(nil) not empty")
	}
}

func TestNormalizeMobile(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"13812345678", "13812345678", true},
		{"+86 138 1234 5678", "13812345678", true},
		{"86-138-1234-5678", "13812345678", true},
		{"8613812345678", "13812345678", true},
		{"0086 13812345678", "13812345678", true},
		{"+86(138)1234-5678", "13812345678", true},
		{"１３８１２３４５６７８", "13812345678", true},       // full-width digits
		{"＋８６　１３８－１２３４－５６７８", "13812345678", true}, // full-width plus, space, hyphen
		{" 19912345678 ", "19912345678", true},
		{"16612345678", "16612345678", true},
		{"12812345678", "", false},  // 12x is not a mobile block
		{"1381234567", "", false},   // 10 digits
		{"138123456789", "", false}, // 12 digits
		{"23812345678", "", false},  // not starting with 1
		{"+1 138 1234 5678", "", false},
		{"138a2345678", "", false},
		{"", "", false},
		{"+", "", false},
		{"021-12345678", "", false},
		{strings.Repeat("1", 300), "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeMobile(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if !tt.ok && (err == nil || KeyOf(err) != KeyMobileInvalid) {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %s", tt.in, got, err, KeyMobileInvalid)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"021-12345678", "021-12345678"},
		{"02112345678", "021-12345678"},
		{"(010)87654321-123", "010-87654321-123"},
		{"（010）87654321", "010-87654321"},
		{"010 8765 4321", "010-87654321"},
		{"0755-86013388", "0755-86013388"},
		{"0571-8765432", "0571-8765432"},
		{"+86 21 1234 5678", "021-12345678"},
		{"0086-10-87654321", "010-87654321"},
		{"021-12345678 ext 8001", "021-12345678-8001"},
		{"021-12345678转8001", "021-12345678-8001"},
		{"021-12345678#12", "021-12345678-12"},
		{"400-800-1234", "400-800-1234"},
		{"4008001234", "400-800-1234"},
		{"800 820 8820", "800-820-8820"},
		{"95588", "95588"},
		{"10086", "10086"},
		{"12345", "12345"},
		{"87654321", "87654321"},
		{"13812345678", "13812345678"},
		{"+86 138 1234 5678", "13812345678"},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", "12", "0000-12345678", "011-12345678", "021-0234567", "021-123456", "021-123456789",
		"021-12345678-1234567", "021-12345678 ext", "abc", "+44 20 7946 0958", "138123456789",
		"400-800-123", "12345678901234567890", "95588 ext 1a", "#123", "1234",
	}
	for _, in := range bad {
		if got, err := NormalizePhone(in); KeyOf(err) != KeyPhoneInvalid {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %s", in, got, err, KeyPhoneInvalid)
		}
	}
}

// handCheck spells out the GB 11643 computation for one published example, so that the
// table below does not only test the implementation against itself.
func TestResidentIDCheckByHand(t *testing.T) {
	// 11010519491231002X, the example of GB 11643-1999:
	// digits  1 1  0 1 0 5 1 9 4 9 1 2  3 1 0 0 2
	// weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
	// sum = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 -> "10X98765432"[2] = X
	if c, ok := ResidentIDCheck("11010519491231002"); !ok || c != 'X' {
		t.Errorf("check of the standard's example = %q, want X", c)
	}
	// 44030519900307123?: sum = 28+36+0+15+0+20+2+9+54+0+0+27+0+35+8+8+6 = 248;
	// 248 mod 11 = 6 -> '6'
	if c, ok := ResidentIDCheck("44030519900307123"); !ok || c != '6' {
		t.Errorf("check = %q, want 6", c)
	}
}

// withCheck completes 17 digits with their check character.
func withCheck(t *testing.T, s17 string) string {
	t.Helper()
	c, ok := ResidentIDCheck(s17)
	if !ok {
		t.Fatalf("bad test input %q", s17)
	}
	return s17 + string(c)
}

func TestValidateResidentID(t *testing.T) {
	valid := []struct {
		in, number, region, birth string
		male                      bool
	}{
		{"11010519491231002X", "11010519491231002X", "110105", "1949-12-31", false},
		{"11010519491231002x", "11010519491231002X", "110105", "1949-12-31", false},
		{"440305199003071236", "440305199003071236", "440305", "1990-03-07", true},
		{"４４０３０５１９９００３０７１２３６", "440305199003071236", "440305", "1990-03-07", true},
		{" 440305199003071236 ", "440305199003071236", "440305", "1990-03-07", true},
		{withCheck(t, "11010520000229002"), withCheck(t, "11010520000229002"), "110105", "2000-02-29", false}, // leap year
		{withCheck(t, "81000019800101001"), withCheck(t, "81000019800101001"), "810000", "1980-01-01", true},  // HK resident permit
		{withCheck(t, "65010219000101001"), withCheck(t, "65010219000101001"), "650102", "1900-01-01", true},
		{withCheck(t, "31011520260315002"), withCheck(t, "31011520260315002"), "310115", "2026-03-15", false}, // born today
	}
	for _, tt := range valid {
		id, err := ValidateResidentID(tt.in, today)
		if err != nil {
			t.Errorf("ValidateResidentID(%q): %v", tt.in, err)
			continue
		}
		if id.Number != tt.number || id.Region != tt.region || id.Birth.Format("2006-01-02") != tt.birth || id.Male != tt.male {
			t.Errorf("ValidateResidentID(%q) = %+v", tt.in, id)
		}
	}
	invalid := []struct{ in, key string }{
		{"110105194912310021", KeyIDChecksum},
		{"11010519491231002Y", KeyIDCharset},
		{"1101051949123100XX", KeyIDCharset},
		{"11010519491231002", KeyIDLength},
		{"11010519491231002X1", KeyIDLength},
		{"110105491231002", KeyIDLength}, // 15-digit first-generation number
		{"", KeyIDLength},
		{withCheck(t, "99010519800101001"), KeyIDRegion},
		{withCheck(t, "00010519800101001"), KeyIDRegion},
		{withCheck(t, "16010519800101001"), KeyIDRegion},
		{withCheck(t, "11010519990230001"), KeyIDBirthDate}, // 30 February
		{withCheck(t, "11010520010229001"), KeyIDBirthDate}, // 2001 is not a leap year
		{withCheck(t, "11010519000229001"), KeyIDBirthDate}, // nor is 1900
		{withCheck(t, "11010519801301001"), KeyIDBirthDate},
		{withCheck(t, "11010519800100001"), KeyIDBirthDate},
		{withCheck(t, "11010519800431001"), KeyIDBirthDate},
		{withCheck(t, "11010518991231001"), KeyIDBirthSpan},
		{withCheck(t, "11010520260316001"), KeyIDBirthSpan}, // tomorrow
		{withCheck(t, "11010520300101001"), KeyIDBirthSpan},
		{"1101051949123100a2", KeyIDCharset},
		{"11010519491231002-", KeyIDCharset},
	}
	// A full-width X folds to X: valid, not a length or charset error.
	if _, err := ValidateResidentID("11010519491231002Ｘ", today); err != nil {
		t.Errorf("full-width X refused: %v", err)
	}
	for _, tt := range invalid {
		id, err := ValidateResidentID(tt.in, today)
		if KeyOf(err) != tt.key {
			t.Errorf("ValidateResidentID(%q) = %+v, %v; want %s", tt.in, id, err, tt.key)
		}
	}
	// A zero today skips the future check, and only that.
	if _, err := ValidateResidentID(withCheck(t, "11010520300101001"), time.Time{}); err != nil {
		t.Errorf("zero today: %v", err)
	}
	// today is taken as a date in its own location: 2026-03-16 01:00 in Shanghai is
	// still 2026-03-15 in UTC, but the date of the clock reading is what counts.
	sh := time.FixedZone("CST", 8*3600)
	if _, err := ValidateResidentID(withCheck(t, "11010520260316001"), time.Date(2026, 3, 16, 1, 0, 0, 0, sh)); err != nil {
		t.Errorf("born today in Shanghai: %v", err)
	}
}

func TestUSCCCheckByHand(t *testing.T) {
	// 91350100M000100Y43: values 9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4, weights
	// 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28:
	// 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112 = 1640; 1640 mod 31 = 28; 31-28 = 3.
	if c, ok := USCCCheck("91350100M000100Y4"); !ok || c != '3' {
		t.Errorf("USCC check = %q, want 3", c)
	}
	// Its organization code M000100Y-4: M=22 Y=34 (GB 11714 letters run A=10..Z=35),
	// 22*3 + 1*5 + 34*2 = 139; 139 mod 11 = 7; 11-7 = 4.
	if c, ok := OrgCodeCheck("M000100Y"); !ok || c != '4' {
		t.Errorf("org code check = %q, want 4", c)
	}
}

func TestValidateUSCC(t *testing.T) {
	valid := []struct{ in, want string }{
		{"91350100M000100Y43", "91350100M000100Y43"}, // sample from the GB 32100 literature
		{"914403001922038216", "914403001922038216"}, // real-format company codes
		{"9144030071526726XG", "9144030071526726XG"}, // organization code check X
		{"91110108551385082Q", "91110108551385082Q"},
		{"91310000MA1FL1MMXL", "91310000MA1FL1MMXL"},
		{"9144030071526726xg", "9144030071526726XG"}, // lower case
		{"９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"}, // full width
		{" 91350100M000100Y43 ", "91350100M000100Y43"},
	}
	for _, tt := range valid {
		got, err := ValidateUSCC(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ValidateUSCC(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	invalid := []struct{ in, key string }{
		{"91350100M000100Y44", KeyUSCCChecksum},
		{"91350100M000100Y4", KeyUSCCLength},
		{"91350100M000100Y433", KeyUSCCLength},
		{"", KeyUSCCLength},
		{"91350100M000100I43", KeyUSCCCharset}, // I, O, S, V, Z are not used
		{"91350100M000100O43", KeyUSCCCharset},
		{"9135010OM000100Y43", KeyUSCCCharset},
		{"91350100M000100Y4-", KeyUSCCCharset},
		{"B1350100M000100Y43", KeyUSCCAuthority},
		{"90350100M000100Y43", KeyUSCCAuthority},
		{"9A350100M000100Y43", KeyUSCCAuthority},
		{"91990100M000100Y43", KeyUSCCRegion},
		{"913501A0M000100Y43", KeyUSCCRegion},
		{"91350100M000100Y53", KeyUSCCOrgCode},
	}
	for _, tt := range invalid {
		got, err := ValidateUSCC(tt.in)
		if KeyOf(err) != tt.key {
			t.Errorf("ValidateUSCC(%q) = %q, %v; want %s", tt.in, got, err, tt.key)
		}
	}
	// An organization code typo that the final check happens to accept is still caught.
	body := []byte("91350100M000100Y4")
	body[12] = '2' // 1 -> 2 in the organization code
	c, _ := USCCCheck(string(body))
	if _, err := ValidateUSCC(string(body) + string(c)); KeyOf(err) != KeyUSCCOrgCode {
		t.Errorf("organization code typo: %v", err)
	}
}

func TestValidateEmail(t *testing.T) {
	valid := []struct{ in, want string }{
		{"zhang@example.com", "zhang@example.com"},
		{"Zhang.San+kefu@Example.COM", "Zhang.San+kefu@example.com"},
		{"li_si@mail.example.com.cn", "li_si@mail.example.com.cn"},
		{"wang@xn--fiqs8s.cn", "wang@xn--fiqs8s.cn"},
		{"ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "zhang@example.com"},
		{"用户@例子.中国", "用户@例子.中国"},
	}
	for _, tt := range valid {
		got, err := ValidateEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ValidateEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{
		"", "zhang", "zhang@", "@example.com", "zhang@localhost", "Zhang <zhang@example.com>",
		"<zhang@example.com>", `"zhang san"@example.com`, "zhang@[127.0.0.1]", "zhang@example..com",
		"zhang@-example.com", "zhang@example-.com", "zhang@example.123", "zhang@exa_mple.com",
		"a@b@example.com", "zhang@example.com.", strings.Repeat("a", 65) + "@example.com",
		"zhang@" + strings.Repeat("a", 64) + ".com", "zhang @example.com",
	} {
		if got, err := ValidateEmail(in); KeyOf(err) != KeyEmailInvalid {
			t.Errorf("ValidateEmail(%q) = %q, %v; want %s", in, got, err, KeyEmailInvalid)
		}
	}
}

func TestGenerators(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		birth := time.Date(1940+r.IntN(80), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		male := i%2 == 0
		s := GenerateResidentID(r, "", birth, male)
		id, err := ValidateResidentID(s, today)
		if err != nil || id.Male != male || !id.Birth.Equal(birth) {
			t.Fatalf("generated ID %q: %+v, %v", s, id, err)
		}
		if u := GenerateUSCC(r); !mustValid(ValidateUSCC(u)) {
			t.Fatalf("generated USCC %q invalid", u)
		}
		if m := GenerateMobile(r); !mustValid(NormalizeMobile(m)) {
			t.Fatalf("generated mobile %q invalid", m)
		}
	}
	if s := GenerateResidentID(r, "310115", time.Date(1985, 6, 1, 0, 0, 0, 0, time.UTC), false); !strings.HasPrefix(s, "31011519850601") {
		t.Errorf("region/birth not used: %s", s)
	}
	// Deterministic for a given source.
	a := GenerateUSCC(rand.New(rand.NewPCG(7, 7)))
	b := GenerateUSCC(rand.New(rand.NewPCG(7, 7)))
	if a != b {
		t.Errorf("not deterministic: %s vs %s", a, b)
	}
	defer func() {
		if recover() == nil {
			t.Error("bad region did not panic")
		}
	}()
	GenerateResidentID(r, "999999", time.Date(1985, 6, 1, 0, 0, 0, 0, time.UTC), false)
}

func mustValid(_ string, err error) bool { return err == nil }

func FuzzResidentID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "440305199003071236", "110105491231002", "", "１１０１０５１９４９１２３１００２Ｘ"} {
		f.Add(s, uint64(1))
	}
	f.Fuzz(func(t *testing.T, s string, seed uint64) {
		id, err := ValidateResidentID(s, today)
		if err == nil {
			again, err := ValidateResidentID(id.Number, today)
			if err != nil || again != id {
				t.Fatalf("not idempotent: %q -> %+v -> %+v, %v", s, id, again, err)
			}
		} else if KeyOf(err) == "" {
			t.Fatalf("error without key: %v", err)
		}
		r := rand.New(rand.NewPCG(seed, uint64(len(s))))
		birth := time.Date(1900+r.IntN(126), time.Month(1+r.IntN(12)), 1+r.IntN(31), 0, 0, 0, 0, time.UTC)
		if birth.After(today) {
			birth = today.AddDate(-1, 0, 0)
		}
		g := GenerateResidentID(r, "", birth, seed%2 == 0)
		if _, err := ValidateResidentID(g, today); err != nil {
			t.Fatalf("generated %q invalid: %v", g, err)
		}
	})
}

func FuzzUSCC(f *testing.F) {
	for _, s := range []string{"91350100M000100Y43", "9144030071526726xg", "91350100M000100I43", ""} {
		f.Add(s, uint64(1))
	}
	f.Fuzz(func(t *testing.T, s string, seed uint64) {
		v, err := ValidateUSCC(s)
		if err == nil {
			if again, err := ValidateUSCC(v); err != nil || again != v || len(v) != 18 {
				t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, v, again, err)
			}
		} else if KeyOf(err) == "" {
			t.Fatalf("error without key: %v", err)
		}
		g := GenerateUSCC(rand.New(rand.NewPCG(seed, 3)))
		if _, err := ValidateUSCC(g); err != nil {
			t.Fatalf("generated %q invalid: %v", g, err)
		}
	})
}

func FuzzMobile(f *testing.F) {
	for _, s := range []string{"13812345678", "+86 138 1234 5678", "(010)87654321-123", "95588", "021-12345678转8001", "a@b.cn", ""} {
		f.Add(s, uint64(1))
	}
	f.Fuzz(func(t *testing.T, s string, seed uint64) {
		if v, err := NormalizeMobile(s); err == nil {
			if again, err := NormalizeMobile(v); err != nil || again != v || len(v) != 11 {
				t.Fatalf("mobile not idempotent: %q -> %q -> %q, %v", s, v, again, err)
			}
		}
		if v, err := NormalizePhone(s); err == nil {
			if again, err := NormalizePhone(v); err != nil || again != v {
				t.Fatalf("phone not idempotent: %q -> %q -> %q, %v", s, v, again, err)
			}
		}
		if v, err := ValidateEmail(s); err == nil {
			if again, err := ValidateEmail(v); err != nil || again != v || !utf8.ValidString(v) {
				t.Fatalf("email not idempotent: %q -> %q -> %q, %v", s, v, again, err)
			}
		}
		g := GenerateMobile(rand.New(rand.NewPCG(seed, 5)))
		if v, err := NormalizeMobile(g); err != nil || v != g {
			t.Fatalf("generated %q invalid: %v", g, err)
		}
	})
}
