package customer_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
)

// BenchmarkCreateService measures CreateCustomer (validation, encryption, blind indexes,
// duplicate check, insert, search index, audit) without HTTP.
func BenchmarkCreateService(b *testing.B) {
	s := apptest.New(b)
	ctx := actorCtx(b, s, s.As(b, "agent"))
	var n atomic.Int64
	b.SetParallelism(8) // concurrent clients, as a service center's staff are
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			in := customer.Input{Kind: "person", Name: fmt.Sprintf("\u5f20\u4e09 %d", i), Mobile: fmt.Sprintf("139%08d", i),
				Province: "\u5317\u4eac\u5e02", District: "\u671d\u9633\u533a", Address: "Jianguo Road 1", Email: fmt.Sprintf("u%d@example.com", i)}
			if _, err := s.App.Customer.CreateCustomer(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

// BenchmarkCreateAPI measures POST /api/v1/customers over loopback HTTP.
func BenchmarkCreateAPI(b *testing.B) {
	s := apptest.New(b)
	c := s.As(b, "agent")
	var n atomic.Int64
	b.SetParallelism(8) // concurrent clients, as a service center's staff are
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			r := c.Do(b, "POST", "/api/v1/customers", map[string]any{"kind": "person", "name": fmt.Sprintf("\u5f20\u4e09 %d", i),
				"mobile": fmt.Sprintf("139%08d", i), "province": "\u5317\u4eac\u5e02", "district": "\u671d\u9633\u533a", "address": "Jianguo Road 1"})
			if r.Status != 201 {
				b.Fatalf("%d %s", r.Status, r.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}
