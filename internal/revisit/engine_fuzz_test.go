package revisit_test

import (
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/revisit"
)

// FuzzParseDND: any quiet-hours text either is refused by the settings or gives
// windows that NextSlot never schedules inside.
func FuzzParseDND(f *testing.F) {
	for _, s := range []string{"12:00-14:00", "21:00-09:00", "00:00-24:00", "9:30-10:00", "23:59-00:00", "12-14", "", "24:00-01:00"} {
		f.Add(s, int64(1790000000000))
	}
	f.Fuzz(func(t *testing.T, w string, at int64) {
		start, end, ok := revisit.ParseDND(w)
		if ok && (start < 0 || start >= 24*60 || end < 0 || end > 24*60 || start == end) {
			t.Fatalf("ParseDND(%q) = %d, %d", w, start, end)
		}
		st := revisit.Settings{DND: []string{w}, TimeZone: "Asia/Shanghai"}
		after := time.UnixMilli(at % (1 << 45))
		slot, err := revisit.NextSlotWith(st, nil, after, time.Time{}, false)
		if err != nil {
			return
		}
		if in, _ := revisit.InDNDWith(st, slot); in {
			t.Fatalf("window %q: slot %s inside quiet hours", w, slot)
		}
		if slot.Before(after) {
			t.Fatalf("window %q: slot %s before %s", w, slot, after)
		}
	})
}
