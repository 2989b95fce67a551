package survey

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Answers as they arrive: from the public form (one field "q_<key>" per question, repeated
// for multiple choice) or as JSON from staff keying in a phone survey
// ({"<key>": 5, "<key>": "text", "<key>": ["a", "b"]}). Both decoders check every value
// against the template and return the sheet in the template's order; errors name the
// question key as the field.

// formPrefix starts the form field of a question.
const formPrefix = "q_"

// DecodeForm reads the public form's answers for t.
func DecodeForm(t *Template, form url.Values) ([]Answer, error) {
	raw := map[string][]string{}
	for name, vs := range form {
		key, ok := strings.CutPrefix(name, formPrefix)
		if !ok {
			continue
		}
		if _, known := t.Question(key); !known {
			continue // a field the page never had: ignored
		}
		var keep []string
		for _, v := range vs {
			if strings.TrimSpace(v) != "" {
				keep = append(keep, v)
			}
		}
		if len(keep) > 0 {
			raw[key] = keep
		}
	}
	return buildAnswers(t, func(q Question) ([]string, bool, error) {
		vs, ok := raw[q.Key]
		return vs, ok, nil
	})
}

// DecodeJSON reads staff-keyed answers for t: an object whose members are question keys.
func DecodeJSON(t *Template, data json.RawMessage) ([]Answer, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, apperr.InvalidField("answers", "field.required")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, apperr.InvalidField("answers", "survey.invalid.answers")
	}
	f := apperr.Fields{}
	for k := range members {
		if _, ok := t.Question(k); !ok {
			if validKey(k) {
				f.Add("answers."+k, "survey.invalid.question_unknown")
			} else {
				f.Add("answers", "survey.invalid.question_unknown")
			}
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return buildAnswers(t, func(q Question) ([]string, bool, error) {
		m, ok := members[q.Key]
		if !ok || bytes.Equal(bytes.TrimSpace(m), []byte("null")) {
			return nil, false, nil
		}
		dec := json.NewDecoder(bytes.NewReader(m))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, false, apperr.InvalidField("answers."+q.Key, "survey.invalid.answer")
		}
		switch x := v.(type) {
		case json.Number:
			return []string{x.String()}, true, nil
		case string:
			if strings.TrimSpace(x) == "" {
				return nil, false, nil
			}
			return []string{x}, true, nil
		case []any:
			var out []string
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, false, apperr.InvalidField("answers."+q.Key, "survey.invalid.answer")
				}
				out = append(out, s)
			}
			return out, len(out) > 0, nil
		}
		return nil, false, apperr.InvalidField("answers."+q.Key, "survey.invalid.answer")
	})
}

// buildAnswers checks each question's raw values (get) and builds the sheet.
func buildAnswers(t *Template, get func(q Question) ([]string, bool, error)) ([]Answer, error) {
	f := apperr.Fields{}
	var out []Answer
	for _, q := range t.Questions {
		field := "answers." + q.Key
		vs, ok, err := get(q)
		if err != nil {
			return nil, err
		}
		if !ok {
			if q.Required {
				f.Add(field, "survey.invalid.answer_required")
			}
			continue
		}
		a := Answer{Key: q.Key, Kind: q.Kind}
		switch q.Kind {
		case KindCSAT, KindNPS, KindCES:
			lo, hi, _ := q.Kind.Scale()
			n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
			if len(vs) != 1 || err != nil || n < lo || n > hi {
				f.Add(field, "survey.invalid.score", "min", lo, "max", hi)
				continue
			}
			a.Score = &n
		case KindText:
			if len(vs) != 1 {
				f.Add(field, "survey.invalid.answer")
				continue
			}
			a.Text = checkText(f, field, vs[0], maxAnswer, q.Required)
			if a.Text == "" {
				continue
			}
		case KindSingle, KindMulti:
			if q.Kind == KindSingle && len(vs) != 1 {
				f.Add(field, "survey.invalid.choice")
				continue
			}
			bad := false
			for _, v := range vs {
				if !slices.Contains(q.Options, v) || slices.Contains(a.Choices, v) {
					bad = true
					break
				}
				a.Choices = append(a.Choices, v)
			}
			if bad {
				f.Add(field, "survey.invalid.choice")
				continue
			}
		}
		out = append(out, a)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, apperr.InvalidField("answers", "survey.invalid.answers_empty")
	}
	return out, nil
}
