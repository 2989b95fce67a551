package secure

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMaskMobile(t *testing.T) {
	for in, want := range map[string]string{
		"13812341234":   "138****1234",
		" 13812341234 ": "138****1234",
		"":              "",
		"1":             "*",
		"1234":          "***4",
		"1381234":       "******4",
		"13812":         "****2",
		"138 1234 1234": "138 **** 1234",
	} {
		if got := MaskMobile(in); got != want {
			t.Errorf("MaskMobile(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"021-12345678":     "021-****5678",
		"0571-8765432":     "0571-***5432",
		"010-87654321-123": "010-****4321-123",
		"(010)87654321":    "(010)****4321",
		"400-800-1234":     "400-***-1234",
		"87654321":         "****4321",
		"87654321-123":     "****4321-123",
		"95588":            "*5588",
		"13812341234":      "138****1234",
		"":                 "",
		"0":                "*",
		"021-":             "021-",
		"021-12":           "021-**",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskResidentID(t *testing.T) {
	for in, want := range map[string]string{
		"110105194912310021": "110***********0021",
		"11010519491231002X": "110***********002X",
		"110105491231002":    "110********1002",
		"":                   "",
		"1101":               "***1",
		"1101051":            "******1",
	} {
		if got := MaskResidentID(in); got != want {
			t.Errorf("MaskResidentID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskBankAccount(t *testing.T) {
	for in, want := range map[string]string{
		"6222021234561234":        "**** **** **** 1234",
		"6222 0212 3456 7890 123": "**** **** **** 0123",
		"1234567":                 "****",
		"":                        "****",
		"GB82WEST12345698765432":  "**** **** **** 5432",
	} {
		if got := MaskBankAccount(in); got != want {
			t.Errorf("MaskBankAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskAddress(t *testing.T) {
	tests := []struct{ p, c, d, detail, want string }{
		{"上海市", "上海市", "浦东新区", "世纪大道 100 号 8 楼", "上海市浦东新区****"},
		{"广东省", "深圳市", "南山区", "科技园南区 1 栋", "广东省深圳市南山区****"},
		{"广东省", "深圳市", "南山区", "", "广东省深圳市南山区"},
		{"", "", "", "某路 1 号", "****"},
		{"", "", "", "", ""},
		{"浙江省", "杭州市", "", "文三路 1 号", "浙江省杭州市****"},
	}
	for _, tt := range tests {
		if got := MaskAddress(tt.p, tt.c, tt.d, tt.detail); got != tt.want {
			t.Errorf("MaskAddress(%q, %q, %q, %q) = %q, want %q", tt.p, tt.c, tt.d, tt.detail, got, tt.want)
		}
	}
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{
		"张三":         "张*",
		"张三丰":        "张**",
		"欧阳娜娜":       "欧阳**",
		"欧阳修":        "欧阳*",
		"诸葛亮":        "诸葛*",
		"歐陽修":        "歐陽*",
		"欧阳":         "欧*", // the surname alone: only its first character stays
		"张":          "*",
		"":           "",
		"  李四  ":     "李*",
		"阿依古丽·买买提":   "阿***·***",
		"John Smith": "J*** *****",
	} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
	if len(compoundSurnames) < 20 {
		t.Errorf("compound surname list not loaded: %d entries", len(compoundSurnames))
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"zhang@example.com":    "z***@example.com",
		"zhangsan@example.com": "z***@example.com",
		"z@example.com":        "***@example.com",
		"@example.com":         "***@example.com",
		"张三@例子.中国":             "张***@例子.中国",
		"":                     "",
		"zhang":                "z****",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzMask: no masking function panics, every result is valid UTF-8, and values long
// enough for their pattern never come back whole.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"13812341234", "110105194912310021", "021-12345678", "欧阳娜娜", "z@x.cn", "", "\xff\xfe", "(", "-", "@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		outs := map[string]string{
			"MaskMobile":      MaskMobile(s),
			"MaskPhone":       MaskPhone(s),
			"MaskResidentID":  MaskResidentID(s),
			"MaskBankAccount": MaskBankAccount(s),
			"MaskAddress":     MaskAddress(s, s, s, s),
			"MaskName":        MaskName(s),
			"MaskEmail":       MaskEmail(s),
		}
		for name, out := range outs {
			if !utf8.ValidString(out) {
				t.Errorf("%s(%q) = %q: invalid UTF-8", name, s, out)
			}
		}
		trimmed := strings.TrimSpace(s)
		n := utf8.RuneCountInString(trimmed)
		count := func(keep func(rune) bool) int {
			c := 0
			for _, r := range trimmed {
				if keep(r) {
					c++
				}
			}
			return c
		}
		if utf8.ValidString(trimmed) && !strings.ContainsRune(trimmed, '*') {
			checks := []struct {
				name     string
				maskable func(rune) bool
			}{
				{"MaskMobile", phoneChar},
				{"MaskResidentID", anyRune},
				{"MaskName", func(r rune) bool { return !nameSeparator(r) }},
			}
			for _, c := range checks {
				if count(c.maskable) >= 2 && outs[c.name] == trimmed {
					t.Errorf("%s(%q) returned the value unmasked", c.name, s)
				}
			}
		}
		if n == 18 {
			if got := utf8.RuneCountInString(outs["MaskResidentID"]); got != 18 {
				t.Errorf("MaskResidentID(%q) changed the length to %d", s, got)
			}
		}
	})
}
