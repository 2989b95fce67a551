package cli

import (
	"net"
	"testing"

	"github.com/kefu-cn/kefu/internal/config"
)

func TestExposedWithoutHTTPS(t *testing.T) {
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	cases := []struct {
		name string
		addr net.Addr
		set  func(*config.Config)
		warn bool
	}{
		{"loopback v4", tcp("127.0.0.1:8080"), nil, false},
		{"loopback v6", tcp("[::1]:8080"), nil, false},
		{"all interfaces", tcp("0.0.0.0:8080"), nil, true},
		{"all interfaces v6", tcp("[::]:8080"), nil, true},
		{"lan address", tcp("192.168.1.5:8080"), nil, true},
		{"public url https", tcp("0.0.0.0:8080"), func(c *config.Config) { c.HTTP.PublicURL = "https://kefu.example.cn" }, false},
		{"base url https", tcp("0.0.0.0:8080"), func(c *config.Config) { c.BaseURL = "https://kefu.example.cn" }, false},
		{"public url http", tcp("0.0.0.0:8080"), func(c *config.Config) { c.HTTP.PublicURL = "http://kefu.example.cn" }, true},
		{"trusted proxy", tcp("0.0.0.0:8080"), func(c *config.Config) { c.HTTP.TrustedProxies = []string{"10.0.0.1"} }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			if tc.set != nil {
				tc.set(&cfg)
			}
			if got := exposedWithoutHTTPS(tc.addr, cfg); got != tc.warn {
				t.Fatalf("exposedWithoutHTTPS(%v) = %v, want %v", tc.addr, got, tc.warn)
			}
		})
	}
}
