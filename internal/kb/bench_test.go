package kb_test

import (
	"fmt"
	"testing"

	"github.com/kefu-cn/kefu/internal/kb"
)

// BenchmarkPublishedSearch: a two-character Chinese query over 2,000 articles, a fifth
// of them drafts (filtered out after the index lookup).
func BenchmarkPublishedSearch(b *testing.B) {
	e := newEnvB(b)
	words := []string{"退款", "漏水", "安装", "发票", "保修", "物流"}
	for i := range 2000 {
		st := kb.StatusPublished
		if i%5 == 0 {
			st = kb.StatusDraft
		}
		w := words[i%len(words)]
		if _, err := e.s.CreateArticle(writer, kb.Input{Title: fmt.Sprintf("%s问题 %d", w, i),
			Body: fmt.Sprintf("关于%s的常见问题与处理办法，第 %d 条。", w, i), Status: st}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		got, err := e.s.PublishedSearch(anon, words[i%len(words)], 10)
		if err != nil || len(got) != 10 {
			b.Fatalf("%d hits, %v", len(got), err)
		}
	}
}
