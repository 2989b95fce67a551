package ticket

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Readable numbers: "KF" + the date in China (Asia/Shanghai) + "-" + the day's sequence
// zero-padded to at least four digits (KF20261123-0042; KF20261123-12345 after 9999).

// numberZone is the zone of the date in a number (China has no daylight saving time; a
// fixed zone needs no tzdata).
var numberZone = time.FixedZone("CST", 8*3600)

var numberRe = regexp.MustCompile(`^KF[0-9]{8}-[0-9]{4,}$`)

// FormatNumber builds the number of the seq-th request of the China day of at.
func FormatNumber(at time.Time, seq int64) string {
	return fmt.Sprintf("KF%s-%04d", at.In(numberZone).Format("20060102"), seq)
}

// numberDay is the counter key of at: the China date as YYYY-MM-DD.
func numberDay(at time.Time) string { return at.In(numberZone).Format("2006-01-02") }

// IsNumber reports whether s (trimmed, any case) looks like a request number; it
// returns the canonical form.
func IsNumber(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	return s, numberRe.MatchString(s)
}

// nextNumber takes the next number of now's China day inside ctx's transaction.
func (s *Service) nextNumber(ctx context.Context, now time.Time) (string, error) {
	seq, err := s.store.NextSeq(ctx, numberDay(now))
	if err != nil {
		return "", err
	}
	return FormatNumber(now, seq), nil
}
