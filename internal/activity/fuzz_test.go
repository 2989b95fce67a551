package activity

import (
	"strings"
	"testing"
)

// FuzzParseImportRow: the row parser never panics, gives a key or a problem (never
// both empty), and a key it gives is well formed.
func FuzzParseImportRow(f *testing.F) {
	for _, s := range [][2]string{{"42", ""}, {"", "13800138000"}, {"42.0", "+86 138 0013 8000"}, {"abc", ""}, {"", ""},
		{"-1", ""}, {"9223372036854775808", ""}, {"7", "12345"}, {"\u00a0", "\x00"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, id, mobile string) {
		k, p := parseImportRow(id, mobile)
		if p != nil {
			if p.Msg.Key == "" || !strings.HasPrefix(p.Msg.Key, "activity.import.") {
				t.Fatalf("problem without a key: %+v", p)
			}
			return
		}
		if k.ID == 0 && k.Mobile == "" {
			t.Fatalf("no key and no problem for %q %q", id, mobile)
		}
		if k.ID < 0 {
			t.Fatalf("negative id %d", k.ID)
		}
		if k.Mobile != "" && len(k.Mobile) != 11 {
			t.Fatalf("mobile %q is not normalized", k.Mobile)
		}
	})
}

func TestParseImportRow(t *testing.T) {
	for _, c := range []struct {
		id, mobile string
		want       rowKey
		problem    string
	}{
		{"42", "", rowKey{ID: 42}, ""},
		{" 42.0 ", "", rowKey{ID: 42}, ""},
		{"", "13800138000", rowKey{Mobile: "13800138000"}, ""},
		{"7", "13800138000", rowKey{ID: 7, Mobile: "13800138000"}, ""},
		{"", "", rowKey{}, "activity.import.empty_row"},
		{"0", "", rowKey{}, "activity.import.bad_id"},
		{"x1", "", rowKey{}, "activity.import.bad_id"},
		{"", "12345", rowKey{}, "activity.import.bad_mobile"},
	} {
		k, p := parseImportRow(c.id, c.mobile)
		got := ""
		if p != nil {
			got = p.Msg.Key
		}
		if got != c.problem || (p == nil && k != c.want) {
			t.Errorf("parseImportRow(%q, %q) = %+v, %q; want %+v, %q", c.id, c.mobile, k, got, c.want, c.problem)
		}
	}
}
