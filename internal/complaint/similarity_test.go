package complaint_test

import (
	"math"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/complaint"
)

func TestSimilarity(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want float64
	}{
		{"both empty", "", "", 0},
		{"one empty", "", "楼上漏水", 0},
		{"punctuation only", "，。！", "，。！", 0},
		{"identical chinese", "楼上漏水三天没人处理", "楼上漏水三天没人处理", 1},
		{"disjoint", "楼上漏水", "电梯故障", 0},
		// {漏水} against {漏水, 水了}: 2*1 / (1+2).
		{"one bigram more", "漏水", "漏水了", 2.0 / 3},
		// {楼上, 上漏, 漏水} against {楼下, 下漏, 漏水}: 2*1 / 6.
		{"one bigram shared", "楼上漏水", "楼下漏水", 1.0 / 3},
		{"punctuation splits runs", "漏水，严重", "漏水严重", 2.0 * 2 / (2 + 3)},
		{"single character run", "水", "水", 1},
		{"full width folded", "ＡＢＣ　１２３", "abc 123", 1},
		{"latin words any case and order", "Water LEAK", "leak, water!", 1},
		{"latin and chinese", "iPhone 屏幕坏了", "iphone屏幕坏了", 1},
		{"repeated terms count", "漏水 漏水", "漏水", 2.0 * 1 / (2 + 1)},
		{"half the words", "water leak", "water heater", 0.5},
		{"invalid utf8 separates", "ab\xffcd", "ab cd", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := complaint.Similarity(tt.a, tt.b)
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Similarity(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if back := complaint.Similarity(tt.b, tt.a); back != got {
				t.Errorf("not symmetric: %v and %v", got, back)
			}
		})
	}
}

func TestSameLocation(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"both empty", "", "", false},
		{"one empty", "阳光花园3号楼", "", false},
		{"spaces only", "   ", "\u3000", false},
		{"equal", "阳光花园3号楼", "阳光花园3号楼", true},
		{"spaces removed", " 阳光花园 3号楼 ", "阳光花园3号楼", true},
		{"full width digits", "阳光花园３号楼", "阳光花园3号楼", true},
		{"ideographic space", "阳光花园\u30003号楼", "阳光花园3号楼", true},
		{"building contains unit", "阳光花园3号楼", "阳光花园3号楼2单元1501", true},
		{"unit contains building, either order", "阳光花园3号楼2单元1501", "阳光花园3号楼", true},
		{"short contained is not enough", "3号楼", "阳光花园3号楼", false},
		{"four characters contained", "阳光花园", "阳光花园5号楼", true},
		{"latin case folded", "Block B, Sunshine Garden", "block b,sunshine garden", true},
		{"different buildings", "阳光花园3号楼", "阳光花园4号楼", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := complaint.SameLocation(tt.a, tt.b); got != tt.want {
				t.Errorf("SameLocation(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if back := complaint.SameLocation(tt.b, tt.a); back != tt.want {
				t.Errorf("SameLocation(%q, %q) = %v (reversed), want %v", tt.b, tt.a, back, tt.want)
			}
		})
	}
}

func TestSimilarityLongInputIsBounded(t *testing.T) {
	long := strings.Repeat("楼上漏水", 100_000)
	if got := complaint.Similarity(long, long); got != 1 {
		t.Errorf("long text against itself = %v, want 1", got)
	}
}

// FuzzSimilarity: any two texts give a score in [0, 1], the same both ways, 1 for a
// text with terms against itself; location matching is symmetric and normalising twice
// changes nothing.
func FuzzSimilarity(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"楼上漏水", "楼下漏水"}, {"Water leak", "water LEAK"},
		{"ＡＢＣ１２３", "abc123"}, {"ab\xffcd", "\x00"}, {"阳光花园3号楼", "阳光花园３号楼2单元"}, {"😀退款", "退😀款"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		s := complaint.Similarity(a, b)
		if math.IsNaN(s) || s < 0 || s > 1 {
			t.Fatalf("Similarity(%q, %q) = %v", a, b, s)
		}
		if back := complaint.Similarity(b, a); back != s {
			t.Fatalf("Similarity not symmetric: %v and %v", s, back)
		}
		if self := complaint.Similarity(a, a); self != 0 && self != 1 {
			t.Fatalf("Similarity(%q, itself) = %v", a, self)
		}
		if complaint.SameLocation(a, b) != complaint.SameLocation(b, a) {
			t.Fatalf("SameLocation(%q, %q) not symmetric", a, b)
		}
		n := complaint.NormalizeLocation(a)
		if again := complaint.NormalizeLocation(n); again != n {
			t.Fatalf("NormalizeLocation not idempotent: %q -> %q -> %q", a, n, again)
		}
		if complaint.SameLocation(a, a) != (n != "") {
			t.Fatalf("SameLocation(%q, itself) = %v", a, !(n != ""))
		}
	})
}

// BenchmarkSimilarity is one comparison of a request's title and body with a candidate's
// (a duplicate search makes up to 2,000 of them).
func BenchmarkSimilarity(b *testing.B) {
	a := "热水器漏水\n楼上热水器漏水到我家天花板，三天没人处理，物业说找维修部，维修部说找物业。Block 3, unit 2, room 1501."
	c := "热水器漏水\n楼上热水器漏水到我家天花板，三天没有人来处理。请尽快安排维修人员上门查看。"
	b.ReportAllocs()
	for b.Loop() {
		complaint.Similarity(a, c)
	}
}
