package classify

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Reasons hold nested messages (a condition's name inside "classify.credit.c_condition",
// a list inside "classify.credit.a_conditions"). EncodeMsgs and DecodeMsgs store them as
// JSON TEXT and bring them back as i18n.Msg values, so that a stored reason translates
// exactly like a fresh one:
//
//	[{"key":"classify.credit.c_condition","args":{"condition":{"key":"classify.cond.weak_capital"}}}]
//
// Numbers come back as json.Number, which prints as the number it was.

type wireMsg struct {
	Key  string         `json:"key"`
	Args map[string]any `json:"args,omitempty"`
}

func toWire(m i18n.Msg) wireMsg {
	w := wireMsg{Key: m.Key}
	if len(m.Args) > 0 {
		w.Args = make(map[string]any, len(m.Args))
		for k, v := range m.Args {
			if inner, ok := v.(i18n.Msg); ok {
				w.Args[k] = toWire(inner)
			} else {
				w.Args[k] = v
			}
		}
	}
	return w
}

// EncodeMsgs encodes messages (nested ones included) as JSON; nil encodes as [].
func EncodeMsgs(ms []i18n.Msg) ([]byte, error) {
	ws := make([]wireMsg, len(ms))
	for i, m := range ms {
		ws[i] = toWire(m)
	}
	b, err := json.Marshal(ws)
	if err != nil {
		return nil, fmt.Errorf("classify: encode reasons: %w", err)
	}
	return b, nil
}

// DecodeMsgs decodes what EncodeMsgs produced; empty input gives no messages.
func DecodeMsgs(data []byte) ([]i18n.Msg, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw []map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("classify: decode reasons: %w", err)
	}
	out := make([]i18n.Msg, 0, len(raw))
	for _, r := range raw {
		m, ok := fromWire(r)
		if !ok {
			return nil, fmt.Errorf("classify: decode reasons: a message without a key")
		}
		out = append(out, m)
	}
	return out, nil
}

// fromWire turns a decoded {"key":..., "args":{...}} object back into a Msg.
func fromWire(obj map[string]any) (i18n.Msg, bool) {
	key, ok := obj["key"].(string)
	if !ok || key == "" {
		return i18n.Msg{}, false
	}
	for k := range obj {
		if k != "key" && k != "args" {
			return i18n.Msg{}, false
		}
	}
	m := i18n.Msg{Key: key}
	args, _ := obj["args"].(map[string]any)
	if len(args) > 0 {
		m.Args = make(map[string]any, len(args))
		for k, v := range args {
			if o, isObj := v.(map[string]any); isObj {
				if inner, ok := fromWire(o); ok {
					m.Args[k] = inner
					continue
				}
			}
			m.Args[k] = v
		}
	}
	return m, true
}
