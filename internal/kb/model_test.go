package kb

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParagraphs(t *testing.T) {
	cases := []struct {
		in   string
		want [][]string
	}{
		{"", nil},
		{"one", [][]string{{"one"}}},
		{"a\nb\n\nc", [][]string{{"a", "b"}, {"c"}}},
		{"a\r\n\r\n\r\n  \nb  \n", [][]string{{"a"}, {"b"}}},
		{"<script>x</script>", [][]string{{"<script>x</script>"}}},
	}
	for _, c := range cases {
		if got := Paragraphs(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Paragraphs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSnippet(t *testing.T) {
	body := strings.Repeat("前言。", 40) + "如果热水器底部漏水，请先关闭进水阀门。" + strings.Repeat("后记。", 40)
	s := Snippet(body, "漏水", 30)
	if !strings.Contains(s, "漏水") || !strings.HasPrefix(s, "...") || !strings.HasSuffix(s, "...") {
		t.Fatalf("snippet %q", s)
	}
	if got := Snippet("short  text\n\nhere", "x", 80); got != "short text here" {
		t.Fatalf("short snippet %q", got)
	}
	if got := Snippet(strings.Repeat("a", 100), "", 10); got != strings.Repeat("a", 10)+"..." {
		t.Fatalf("head snippet %q", got)
	}
	if got := Snippet(strings.Repeat("a", 100)+"END", "end", 10); !strings.HasSuffix(got, "END") {
		t.Fatalf("tail snippet %q", got)
	}
}

func TestTags(t *testing.T) {
	if got := SplitTags("退款, 售后\uff0c退货\u3001Refund;refund ; "); !slices.Equal(got, []string{"退款", "售后", "退货", "Refund"}) {
		t.Fatalf("SplitTags %q", got)
	}
	if got := NormalizeTags([]string{"  a   b ", "A B", ""}); !slices.Equal(got, []string{"a b"}) {
		t.Fatalf("NormalizeTags %q", got)
	}
}

func TestTree(t *testing.T) {
	cats := []Category{
		{ID: 1, Name: "B"}, {ID: 2, Name: "A"}, {ID: 3, ParentID: 1, Name: "B2", SortOrder: 2},
		{ID: 4, ParentID: 1, Name: "B1", SortOrder: 1}, {ID: 5, ParentID: 4, Name: "deep"}, {ID: 6, ParentID: 99, Name: "orphan"},
	}
	var got []string
	for _, c := range Tree(cats) {
		got = append(got, strings.Repeat("-", c.Depth)+c.Path)
	}
	want := []string{"A", "B", "-B / B1", "--B / B1 / deep", "-B / B2", "orphan"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tree = %q, want %q", got, want)
	}
	d := Descendants(cats, 1)
	slices.Sort(d)
	if !slices.Equal(d, []int64{1, 3, 4, 5}) {
		t.Fatalf("Descendants %v", d)
	}
	// A cycle in stored data never loops forever.
	cyc := []Category{{ID: 1, ParentID: 2, Name: "x"}, {ID: 2, ParentID: 1, Name: "y"}}
	if d := Descendants(cyc, 1); len(d) != 2 {
		t.Fatalf("cycle descendants %v", d)
	}
	_ = Tree(cyc)
}

func TestBadText(t *testing.T) {
	for s, want := range map[string]bool{"ok": false, "a\tb": true, "\u2028": true, "\xff": true, "\x7f": true} {
		if got := badText(s, false); got != want {
			t.Errorf("badText(%q) = %v", s, got)
		}
	}
	if badText("a\nb\tc", true) {
		t.Error("multiline text refused")
	}
}

// FuzzFormText feeds one input to the functions that take apart text typed into the
// forms: tags from a comma list never hold separators or surrounding space; a snippet
// is valid UTF-8 of bounded length whatever the body and query; paragraphs hold no
// blank lines.
func FuzzFormText(f *testing.F) {
	f.Add("退款, 售后\uff0c退货", "漏水", 10)
	f.Add(" ,;,", "", 1)
	f.Add("\x8c", "0", 28)
	f.Add("\xff\xfe a\u0130\n\n\nb", "\u0130", 3)
	f.Fuzz(func(t *testing.T, s, q string, n int) {
		for _, tag := range SplitTags(s) {
			if tag == "" || strings.TrimSpace(tag) != tag || strings.ContainsAny(tag, ",;\uff0c\u3001\uff1b") {
				t.Fatalf("tag %q from %q", tag, s)
			}
		}
		for _, p := range Paragraphs(s) {
			for _, line := range p {
				if strings.TrimSpace(line) == "" {
					t.Fatalf("blank line in a paragraph of %q", s)
				}
			}
		}
		if n <= 0 || n > 1000 {
			return
		}
		sn := Snippet(s, q, n)
		if !utf8.ValidString(sn) {
			t.Fatalf("invalid UTF-8 snippet %q", sn)
		}
		if utf8.RuneCountInString(sn) > n+6 {
			t.Fatalf("snippet of %d runes for n=%d", utf8.RuneCountInString(sn), n)
		}
	})
}
