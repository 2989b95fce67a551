package fieldvisit

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// FuzzValidateInput: any JSON body either fails to decode or validates without
// panicking into a visit whose texts are trimmed valid UTF-8 within their limits, whose
// intent class is one of A-D or empty and whose phone is normalized; a refusal names
// fields only with catalog keys.
func FuzzValidateInput(f *testing.F) {
	for _, s := range []string{`{}`, `{"customer_id":1,"business_type":"x","contact_name":"y","phone":"13812345678","purpose":"p"}`,
		`{"customer_id":-1,"phone":"010-87654321-12","intent_class":"b"}`, `{"phone":"+86 138 1234 5678","visited_at":"2026-12-08T10:00:00+08:00"}`,
		`{"contact_name":"\u0000","purpose":"a\nb","intent_class":"Z"}`, `{"visited_at":"1900-01-01T00:00:00Z"}`, `[]`} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		var in Input
		if json.Unmarshal([]byte(raw), &in) != nil {
			return
		}
		v, fe := validate(in, now, len(raw)%2 == 0)
		if err := fe.Err(); err != nil {
			if apperr.KindOf(err) != apperr.Invalid {
				t.Fatalf("validate(%q): %v, want Invalid", raw, err)
			}
			for field, m := range fe {
				if field == "" || m.Key == "" {
					t.Fatalf("validate(%q): field %q message %+v", raw, field, m)
				}
			}
			return
		}
		for _, s := range []string{v.BusinessType, v.ContactName, v.ContactTitle, v.Purpose, v.Result, v.NextStep, v.Location} {
			if !utf8.ValidString(s) || s != strings.TrimSpace(s) || utf8.RuneCountInString(s) > maxText {
				t.Fatalf("validate(%q): text %q", raw, s)
			}
		}
		if v.IntentClass != "" && !slices.Contains(IntentClasses, v.IntentClass) {
			t.Fatalf("validate(%q): intent %q", raw, v.IntentClass)
		}
		if v.Phone == "" || v.CustomerID <= 0 || v.VisitedAt.After(now.Add(maxAhead)) {
			t.Fatalf("validate(%q): accepted %+v", raw, v)
		}
		if n, ok := normalizePhone(v.Phone); !ok || n != v.Phone {
			t.Fatalf("validate(%q): phone %q not normalized", raw, v.Phone)
		}
	})
}

// FuzzPlans: any plan list validates without panicking; an accepted one has known
// kinds and values and exactly one interval within its limits.
func FuzzPlans(f *testing.F) {
	for _, s := range []string{`[]`, `[{"kind":"tier","value":"vip","months":1}]`, `[{"kind":"intent_class","value":"a","days":7}]`,
		`[{"kind":"x","value":"y","months":-1,"days":5}]`, `[{"kind":"credit_grade","value":"A","months":1},{"kind":"credit_grade","value":"a","months":2}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var ps []Plan
		if json.Unmarshal([]byte(raw), &ps) != nil || ps == nil {
			return
		}
		out, fe := validatePlans(ps)
		if fe.Err() != nil {
			return
		}
		for _, p := range out {
			ok := false
			for _, v := range classValues(p.Kind) {
				ok = ok || v == p.Value
			}
			if !ok || (p.Months > 0) == (p.Days > 0) || p.Months > maxMonths || p.Days > maxDays || p.Months < 0 || p.Days < 0 {
				t.Fatalf("validatePlans(%q) accepted %+v", raw, p)
			}
		}
	})
}

// FuzzParseTime: a filter bound either parses or is a 422 naming its field.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"", "2026-12-07", "2026-12-07T10:00:00+08:00", "yesterday", "2026-02-30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseTime("from", s); err != nil {
			if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Invalid || ae.Fields["from"].Key == "" {
				t.Fatalf("ParseTime(%q): %v", s, err)
			}
		}
	})
}
