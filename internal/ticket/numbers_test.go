package ticket

import (
	"testing"
	"time"
)

func TestFormatNumber(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		at   time.Time
		seq  int64
		want string
		day  string
	}{
		{utc("2026-11-23T02:00:00Z"), 42, "KF20261123-0042", "2026-11-23"},
		// 16:30 UTC is 00:30 the next day in China.
		{utc("2026-11-23T16:30:00Z"), 1, "KF20261124-0001", "2026-11-24"},
		{utc("2026-11-23T15:59:59Z"), 9999, "KF20261123-9999", "2026-11-23"},
		{utc("2026-11-23T10:00:00Z"), 12345, "KF20261123-12345", "2026-11-23"},
	}
	for _, tc := range cases {
		if got := FormatNumber(tc.at, tc.seq); got != tc.want {
			t.Errorf("FormatNumber(%v, %d) = %s, want %s", tc.at, tc.seq, got, tc.want)
		}
		if got := numberDay(tc.at); got != tc.day {
			t.Errorf("numberDay(%v) = %s, want %s", tc.at, got, tc.day)
		}
		if n, ok := IsNumber(" " + tc.want + " "); !ok || n != tc.want {
			t.Errorf("IsNumber(%s) = %s %v", tc.want, n, ok)
		}
	}
	for _, bad := range []string{"", "KF2026112-0001", "KF20261123-001", "XX20261123-0001", "KF20261123_0001", "退款"} {
		if _, ok := IsNumber(bad); ok {
			t.Errorf("IsNumber(%q) accepted", bad)
		}
	}
	if n, ok := IsNumber("kf20261123-0042"); !ok || n != "KF20261123-0042" {
		t.Errorf("lower case number: %s %v", n, ok)
	}
}

func FuzzIsNumber(f *testing.F) {
	for _, s := range []string{"KF20261123-0042", "kf20261123-12345", "", "KF-", "退款"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := IsNumber(s)
		if ok {
			if n2, ok2 := IsNumber(n); !ok2 || n2 != n {
				t.Fatalf("canonical form %q not stable", n)
			}
		}
	})
}

func TestAuditQuery(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678 leak": "*******5678 leak",
		"退款":               "退款",
		"kf20261123-0042":  "KF20261123-0042",
		"1234":             "1234",
	} {
		if got := auditQuery(in); got != want {
			t.Errorf("auditQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
