package survey_test

import (
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/survey"
)

// NPS is the percentage of promoters (9-10) minus the percentage of detractors (0-6).
func TestComputeNPS(t *testing.T) {
	cases := []struct {
		name                 string
		scores               []int
		want                 *float64
		promoters, detractor int
	}{
		{"no answers", nil, nil, 0, 0},
		{"all promoters", []int{9, 10, 10}, f(100), 3, 0},
		{"all detractors", []int{0, 3, 6}, f(-100), 0, 3},
		{"all passives", []int{7, 8, 7, 8}, f(0), 0, 0},
		{"boundaries", []int{6, 7, 8, 9}, f(0), 1, 1},
		{"textbook 10 answers", []int{10, 10, 9, 9, 9, 8, 7, 6, 3, 0}, f(20), 5, 3},
		{"thirds", []int{10, 8, 2}, f(0), 1, 1},
		{"one decimal", []int{10, 10, 5, 8, 8, 8}, f(16.7), 2, 1},
		{"negative one decimal", []int{1, 2, 9, 8, 8, 8}, f(-16.7), 1, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var counts [11]int
			for _, s := range c.scores {
				counts[s]++
			}
			got := survey.ComputeNPS(counts)
			if got.Responses != len(c.scores) || got.Promoters != c.promoters || got.Detractors != c.detractor ||
				got.Passives != len(c.scores)-c.promoters-c.detractor {
				t.Fatalf("counts %+v", got)
			}
			if (got.Score == nil) != (c.want == nil) || got.Score != nil && *got.Score != *c.want {
				t.Fatalf("score %v, want %v", deref(got.Score), deref(c.want))
			}
		})
	}
}

func f(v float64) *float64 { return &v }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Template questions: keys, kinds, texts and options are checked, each error naming
// the question's field.
func TestValidateQuestions(t *testing.T) {
	q := func(key string, kind survey.Kind, opts ...string) survey.Question {
		return survey.Question{Key: key, Kind: kind, Text: "问题", Options: opts}
	}
	many := make([]survey.Question, 31)
	for i := range many {
		many[i] = q("q"+strings.Repeat("x", i), survey.KindText)
	}
	cases := []struct {
		name  string
		qs    []survey.Question
		field string // "" = valid
	}{
		{"default set", []survey.Question{q("csat", survey.KindCSAT), q("nps", survey.KindNPS), q("comment", survey.KindText)}, ""},
		{"every kind", []survey.Question{q("a", survey.KindCSAT), q("b", survey.KindNPS), q("c", survey.KindCES),
			q("d", survey.KindText), q("e", survey.KindSingle, "是", "否"), q("f", survey.KindMulti, "x", "y", "z")}, ""},
		{"none", nil, "questions"},
		{"too many", many, "questions"},
		{"empty key", []survey.Question{q("", survey.KindCSAT)}, "questions[0].key"},
		{"upper-case key", []survey.Question{q("CSAT", survey.KindCSAT)}, "questions[0].key"},
		{"key starts with a digit", []survey.Question{q("1a", survey.KindCSAT)}, "questions[0].key"},
		{"long key", []survey.Question{q(strings.Repeat("k", 33), survey.KindCSAT)}, "questions[0].key"},
		{"duplicate key", []survey.Question{q("a", survey.KindCSAT), q("a", survey.KindNPS)}, "questions[1].key"},
		{"unknown kind", []survey.Question{q("a", "stars")}, "questions[0].kind"},
		{"no text", []survey.Question{{Key: "a", Kind: survey.KindCSAT, Text: "  "}}, "questions[0].text"},
		{"long text", []survey.Question{{Key: "a", Kind: survey.KindCSAT, Text: strings.Repeat("长", 501)}}, "questions[0].text"},
		{"choice with one option", []survey.Question{q("a", survey.KindSingle, "only")}, "questions[0].options"},
		{"options on a score", []survey.Question{q("a", survey.KindNPS, "x", "y")}, "questions[0].options"},
		{"blank option", []survey.Question{q("a", survey.KindMulti, "x", " ")}, "questions[0].options[1]"},
		{"repeated option", []survey.Question{q("a", survey.KindMulti, "x", "x")}, "questions[0].options[1]"},
		{"too many options", []survey.Question{q("a", survey.KindMulti, strings.Split(strings.Repeat("o,", 21)+"z", ",")...)}, "questions[0].options"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fe := apperr.Fields{}
			survey.ValidateQuestions(fe, c.qs)
			if c.field == "" {
				if len(fe) != 0 {
					t.Fatalf("valid questions refused: %v", fe)
				}
				return
			}
			if _, ok := fe[c.field]; !ok {
				t.Fatalf("no error on %s: %v", c.field, fe)
			}
		})
	}
}

// The answer decoders check every value against the template.
func TestDecodeAnswers(t *testing.T) {
	tpl := &survey.Template{Questions: []survey.Question{
		{Key: "csat", Kind: survey.KindCSAT, Text: "a", Required: true},
		{Key: "nps", Kind: survey.KindNPS, Text: "b"},
		{Key: "ces", Kind: survey.KindCES, Text: "c"},
		{Key: "why", Kind: survey.KindSingle, Text: "d", Options: []string{"价格", "服务"}},
		{Key: "tags", Kind: survey.KindMulti, Text: "e", Options: []string{"x", "y", "z"}},
		{Key: "note", Kind: survey.KindText, Text: "f"},
	}}
	cases := []struct {
		name  string
		json  string
		field string // "" = accepted
	}{
		{"minimal", `{"csat": 5}`, ""},
		{"full", `{"csat": 1, "nps": 0, "ces": 7, "why": "服务", "tags": ["x", "z"], "note": "好"}`, ""},
		{"nps zero is an answer", `{"csat": 3, "nps": 0}`, ""},
		{"required missing", `{"nps": 9}`, "answers.csat"},
		{"csat zero", `{"csat": 0}`, "answers.csat"},
		{"csat six", `{"csat": 6}`, "answers.csat"},
		{"nps eleven", `{"csat": 5, "nps": 11}`, "answers.nps"},
		{"ces zero", `{"csat": 5, "ces": 0}`, "answers.ces"},
		{"fraction", `{"csat": 4.5}`, "answers.csat"},
		{"score as text", `{"csat": "five"}`, "answers.csat"},
		{"unknown option", `{"csat": 5, "why": "颜色"}`, "answers.why"},
		{"two single choices", `{"csat": 5, "why": ["价格", "服务"]}`, "answers.why"},
		{"repeated choice", `{"csat": 5, "tags": ["x", "x"]}`, "answers.tags"},
		{"unknown question", `{"csat": 5, "colour": "red"}`, "answers.colour"},
		{"not an object", `[1, 2]`, "answers"},
		{"object value", `{"csat": {"v": 5}}`, "answers.csat"},
		{"long text", `{"csat": 5, "note": "` + strings.Repeat("字", 2001) + `"}`, "answers.note"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := survey.DecodeJSON(tpl, []byte(c.json))
			if c.field == "" {
				if err != nil || len(got) == 0 {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			ae, ok := apperr.As(err)
			if !ok || ae.Fields[c.field].Key == "" {
				t.Fatalf("want an error on %s, got %v (%v)", c.field, err, got)
			}
		})
	}
}
