package survey_test

import (
	"net/url"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/survey"
)

var fuzzTemplate = &survey.Template{Questions: []survey.Question{
	{Key: "csat", Kind: survey.KindCSAT, Text: "a", Required: true},
	{Key: "nps", Kind: survey.KindNPS, Text: "b"},
	{Key: "ces", Kind: survey.KindCES, Text: "c"},
	{Key: "why", Kind: survey.KindSingle, Text: "d", Options: []string{"价格", "服务"}},
	{Key: "tags", Kind: survey.KindMulti, Text: "e", Options: []string{"x", "y"}},
	{Key: "note", Kind: survey.KindText, Text: "f"},
}}

// checkSheet: an accepted sheet only holds known questions with values in range; a
// refusal is a classified error, never a panic.
func checkSheet(t *testing.T, answers []survey.Answer, err error) {
	if err != nil {
		if _, ok := apperr.As(err); !ok {
			t.Fatalf("unclassified error %v", err)
		}
		return
	}
	seen := map[string]bool{}
	for _, a := range answers {
		q, ok := fuzzTemplate.Question(a.Key)
		if !ok || seen[a.Key] || a.Kind != q.Kind {
			t.Fatalf("bad answer %+v", a)
		}
		seen[a.Key] = true
		if lo, hi, scored := q.Kind.Scale(); scored && (a.Score == nil || *a.Score < lo || *a.Score > hi) {
			t.Fatalf("score out of range %+v", a)
		}
	}
	if !seen["csat"] {
		t.Fatal("required question missing from an accepted sheet")
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"csat": 5}`, `{"csat": 1, "nps": 0, "ces": 7, "why": "服务", "tags": ["x"], "note": "好"}`,
		`{"csat": "5"}`, `{"csat": 5e0}`, `{"csat": -0}`, `[]`, `null`, `{"csat": [5]}`, `{"tags": [1]}`, `{"csat":5,"csat":4}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		answers, err := survey.DecodeJSON(fuzzTemplate, data)
		checkSheet(t, answers, err)
	})
}

func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{"q_csat=5", "q_csat=5&q_nps=10&q_why=%E6%9C%8D%E5%8A%A1&q_tags=x&q_tags=y&q_note=ok",
		"q_csat=5&q_csat=4", "q_csat=+5", "q_csat=0x5", "q_csat=5&q_unknown=1&csrf_token=abc", "q_csat=%ff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		answers, err := survey.DecodeForm(fuzzTemplate, form)
		checkSheet(t, answers, err)
	})
}
