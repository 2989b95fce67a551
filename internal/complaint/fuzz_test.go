package complaint

import (
	"net/http"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// FuzzDecodeDetails: the "complaint" member of a request never panics the decoder; it
// is either refused as a 4xx naming a field or decoded into details whose text is valid.
func FuzzDecodeDetails(f *testing.F) {
	for _, s := range []string{``, `null`, `{}`, `{"level":"major","level_reason":"媒体关注"}`,
		`{"anonymous":true,"reply_only":true,"location":"3号楼"}`, `{"object_kind":"staff","object_staff_id":-1}`,
		`{"first_answer_due_at":"2026-12-08T10:00:00+08:00"}`, `{"unknown":1}`, `[1,2]`, `{"location":"\u0000"}`,
		`{"level_reason":"a\nb"}`, `{"location":"a\nb"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := decodeDetails([]byte(raw))
		if err != nil {
			k := apperr.KindOf(err)
			if k != apperr.Invalid && k != apperr.Malformed {
				t.Fatalf("decodeDetails(%q): %v (kind %v), want a 4xx", raw, err, k)
			}
			return
		}
		for _, s := range []string{d.Location, d.ObjectText, d.LevelReason} {
			if !utf8.ValidString(s) {
				t.Fatalf("decodeDetails(%q) kept invalid text %q", raw, s)
			}
		}
	})
}

// FuzzFilterFrom: any query string gives a filter or a 4xx error naming the parameter,
// and an accepted filter passes checkFilter or is refused as invalid.
func FuzzFilterFrom(f *testing.F) {
	for _, s := range []string{"", "stage=received", "level=major&dept_id=3", "from=2026-01-01&to=2026-02-01",
		"from=2026-02-01T00:00:00Z&to=2026-01-01", "anonymous=maybe", "q=%E7%94%B5%E6%A2%AF", "cause_id=-5",
		"open=true&masters=1&cases=0", "customer_id=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := url.ParseQuery(q); err != nil {
			return
		}
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/api/v1/complaints", RawQuery: q}}
		flt, err := FilterFrom(r)
		if err != nil {
			if k := apperr.KindOf(err); k != apperr.Malformed && k != apperr.Invalid {
				t.Fatalf("FilterFrom(%q): %v", q, err)
			}
			return
		}
		if err := checkFilter(&flt); err != nil && apperr.KindOf(err) != apperr.Invalid {
			t.Fatalf("checkFilter(%q): %v", q, err)
		}
	})
}
