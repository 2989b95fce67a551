package db

import (
	"testing"
	"time"
)

func TestValues(t *testing.T) {
	if got := SetList("a, b,c"); got != "a = ?, b = ?, c = ?" {
		t.Errorf("SetList: %q", got)
	}
	if NullID(0) != nil || NullID(7) != int64(7) {
		t.Errorf("NullID: %v %v", NullID(0), NullID(7))
	}
	now := time.UnixMilli(1_765_000_000_123)
	for _, tc := range []struct {
		t  time.Time
		ms int64
	}{{time.Time{}, 0}, {now, 1_765_000_000_123}} {
		if got := Millis(tc.t); got != tc.ms {
			t.Errorf("Millis(%v) = %d, want %d", tc.t, got, tc.ms)
		}
		if got := Time(tc.ms); !got.Equal(tc.t) {
			t.Errorf("Time(%d) = %v, want %v", tc.ms, got, tc.t)
		}
	}
	if Bool(true) != 1 || Bool(false) != 0 {
		t.Error("Bool")
	}
}
