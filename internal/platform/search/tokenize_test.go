package search

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // terms joined by spaces
	}{
		{"empty", "", ""},
		{"punctuation only", "，。！？ ... --- @@@", ""},
		{"one char", "漏", "_漏"},
		{"two chars", "退款", "退款 _退 _款"},
		{"sentence with comma", "客户要求退款，快递损坏",
			"客户 户要 要求 求退 退款 _客 _户 _要 _求 _退 _款 快递 递损 损坏 _快 _递 _损 _坏"},
		{"mixed chinese english digits", "张三 zhangsan@example.com 13812345678",
			"张三 _张 _三 zhangsan example com 13812345678"},
		{"full width", "ＡＢＣ１２３", "abc123 abc 123"},
		{"ideographic space", "漏水\u3000报修", "漏水 _漏 _水 报修 _报 _修"},
		{"upper case", "Hello WORLD", "hello world"},
		{"emoji splits", "退😀款", "_退 _款"},
		{"ticket number", "KF20261123-0042", "kf20261123 0042 kf 20261123"},
		{"latin next to chinese", "iPhone手机坏了", "iphone 手机 机坏 坏了 _手 _机 _坏 _了"},
		{"japanese and korean", "カタカナ 한국어", "カタ タカ カナ _カ _タ _カ _ナ 한국 국어 _한 _국 _어"},
		{"accents kept", "Café", "café"},
		{"invalid utf8", "ab\xffcd", "ab cd"},
		{"nul byte", "ab\x00cd", "ab cd"},
		{"url", "https://www.example.com/a?b=1", "https www example com a b 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Terms(tt.in); got != tt.want {
				t.Fatalf("Terms(%q)\n got: %q\nwant: %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTokenizeLimits(t *testing.T) {
	long := strings.Repeat("a", 500)
	if got := Tokenize(long); len(got) != 1 || len(got[0]) != MaxWordBytes {
		t.Fatalf("long word: %d terms, first %d bytes", len(got), len(got[0]))
	}
	// A long word of multi-byte letters is cut at a rune boundary.
	got := Tokenize(strings.Repeat("é", 100))
	if len(got) != 1 || !utf8.ValidString(got[0]) || len(got[0]) > MaxWordBytes {
		t.Fatalf("long accented word: %q", got)
	}
	huge := strings.Repeat("物业管理费账单", 5000)
	if n := len(Tokenize(huge)); n != MaxTerms {
		t.Fatalf("huge text: %d terms, want %d", n, MaxTerms)
	}
	// The query side cuts words the same way, so a long word still finds itself.
	q := ParseQuery(long)
	if len(q.Clauses) != 1 || q.Clauses[0].Terms[0] != Tokenize(long)[0] {
		t.Fatalf("long query word: %v", q)
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		in, want string // want: Query.String()
	}{
		{"", ""},
		{"   ", ""},
		{"！？…😀", ""},
		{"漏", "_漏"},
		{"退款", "退款"},
		{"管理费", "管理 理费"},
		{"物业管理费", "物业 业管 管理 理费"},
		{"物业费", "物业 业费"},
		{"退款 漏水", "退款 & 漏水"},
		{"退款，漏水", "退款 & 漏水"},
		{"退款 退款", "退款"},
		{"zhang", "zhang*"},
		{"Zhang San", "zhang* & san*"},
		{"ＺＨＡＮＧ", "zhang*"},
		{"a", "a"},
		{"zhangsan@example.com", "zhangsan example com*"},
		{"example.com", "example com*"},
		{"example. com", "example* & com*"},
		{"12345678", "12345678*"},
		{"KF20261123-0042", "kf20261123 0042*"},
		{"张三 13812345678", "张三 & 13812345678*"},
		{"zhang张三", "zhang* & 张三"},
		{`"退款" OR 1=1; DROP TABLE x; --`, "退款 & or* & 1 & drop* & table* & x"},
		{`NEAR(a b) AND c NOT d`, "near* & a & b & and* & c & not* & d"},
		{`a* ^b :c 'd' \e`, "a & b & c & d & e"},
		{`-退款 +漏水`, "退款 & 漏水"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q := ParseQuery(tt.in)
			if got := q.String(); got != tt.want {
				t.Fatalf("ParseQuery(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if q.Empty() != (tt.want == "") {
				t.Fatalf("Empty() = %v", q.Empty())
			}
		})
	}
}

func TestParseQueryLimits(t *testing.T) {
	many := strings.Repeat("退款 ", 5) + strings.Repeat("x", 1)
	for i := 0; i < 40; i++ {
		many += " w" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	if n := len(ParseQuery(many).Clauses); n != MaxClauses {
		t.Fatalf("clauses = %d, want %d", n, MaxClauses)
	}
	long := ParseQuery(strings.Repeat("物业管理", 20))
	if len(long.Clauses) != 1 || len(long.Clauses[0].Terms) != MaxPhraseTerms {
		t.Fatalf("long phrase: %v", long)
	}
}

func TestRenderings(t *testing.T) {
	q := ParseQuery("物业管理费 zhangsan@example.com 漏")
	if got, want := q.fts5(), `"物业 业管 管理 理费" AND "zhangsan example com"* AND "_漏"`; got != want {
		t.Errorf("fts5 = %s, want %s", got, want)
	}
	if got, want := q.tsquery(), `('物业' <-> '业管' <-> '管理' <-> '理费') & ('zhangsan' <-> 'example' <-> 'com':*) & ('_漏')`; got != want {
		t.Errorf("tsquery = %s, want %s", got, want)
	}
	// Hand-made clauses with syntax characters are still quoted safely.
	odd := Query{Clauses: []Clause{{Terms: []string{`a"b`, `c'd\e`}, Prefix: true}}}
	if got, want := odd.fts5(), `"a""b c'd\e"*`; got != want {
		t.Errorf("fts5 = %s, want %s", got, want)
	}
	if got, want := odd.tsquery(), `('a"b' <-> 'c''d\\e':*)`; got != want {
		t.Errorf("tsquery = %s, want %s", got, want)
	}
	if got, want := tsvector([]string{"物业", "_物", "物业", "it's"}), `'物业':1,3 '_物':2 'it''s':4`; got != want {
		t.Errorf("tsvector = %s, want %s", got, want)
	}
}

// FuzzParseQuery: any input gives terms without spaces or quotes, renderings that
// keep quotes balanced, and bounded sizes.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"退款", "物业管理费", "zhang", `"a" OR b*`, "a:*&|!()<->", "NEAR(x y, 2)", "\\'\"", "ＡＢＣ", "\xff\xfe", "漏 zhangsan@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := ParseQuery(s)
		if len(q.Clauses) > MaxClauses {
			t.Fatalf("%d clauses", len(q.Clauses))
		}
		for _, c := range q.Clauses {
			if len(c.Terms) == 0 || len(c.Terms) > MaxPhraseTerms {
				t.Fatalf("clause with %d terms", len(c.Terms))
			}
			for _, term := range c.Terms {
				if term == "" || !utf8.ValidString(term) || strings.ContainsAny(term, " \t\r\n\"'\\*:&|!()<>") {
					t.Fatalf("bad term %q from %q", term, s)
				}
			}
		}
		if strings.Count(q.fts5(), `"`)%2 != 0 {
			t.Fatalf("unbalanced fts5 %s", q.fts5())
		}
		if strings.Count(q.tsquery(), `'`)%2 != 0 {
			t.Fatalf("unbalanced tsquery %s", q.tsquery())
		}
		// Index terms of the same text are always well-formed too.
		for _, term := range Tokenize(s) {
			if term == "" || strings.ContainsAny(term, " \t\r\n\"'\\") {
				t.Fatalf("bad index term %q from %q", term, s)
			}
		}
	})
}

func BenchmarkTokenize(b *testing.B) {
	text := strings.Repeat("客户张三来电反映卫生间漏水需要报修，联系电话13812345678，邮箱zhangsan@example.com。", 10)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		Tokenize(text)
	}
}
