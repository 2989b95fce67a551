package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Input hygiene of JSON request bodies, applied by Decode to every request type.
//
// Text is one-line by default: a string may hold no control character at all (tab and
// line breaks included) and no bidirectional override or isolate (U+202A-U+202E,
// U+2066-U+2069). A request type declares a multi-line field with the struct tag
// `text:"multiline"`; such a string may hold tabs, line feeds and CRLF pairs (no other
// control character) and bidirectional controls, which real right-to-left text needs:
//
//	Body string `json:"body" text:"multiline"`
//
// The tag applies to the strings of the field, through pointers, slices and map values.
// The problem is reported in error.fields under the JSON path of the string ("name",
// "addr.city", "items[2].title").

// TextTag is the struct tag that declares a multi-line text field.
const TextTag = "text"

// fieldPlan is one JSON member of a struct type, worked out once per type.
type fieldPlan struct {
	index     int
	name      string // JSON name; "" for an embedded struct whose members are promoted
	multiline bool
}

var (
	plans   sync.Map // reflect.Type (struct) -> []fieldPlan
	hasText sync.Map // reflect.Type -> bool: can a value of the type hold a string?
)

// planOf returns the JSON members of struct type t that can hold text.
func planOf(t reflect.Type) []fieldPlan {
	if p, ok := plans.Load(t); ok {
		return p.([]fieldPlan)
	}
	var out []fieldPlan
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		embedded := sf.Anonymous && name == "" && ft.Kind() == reflect.Struct
		if !sf.IsExported() && !embedded {
			continue
		}
		if !typeHasText(sf.Type) {
			continue
		}
		if !embedded && name == "" {
			name = sf.Name
		}
		if embedded {
			name = ""
		}
		out = append(out, fieldPlan{index: i, name: name, multiline: sf.Tag.Get(TextTag) == "multiline"})
	}
	plans.Store(t, out)
	return out
}

// typeHasText reports whether a value of t can hold a string (interfaces can).
func typeHasText(t reflect.Type) bool {
	if v, ok := hasText.Load(t); ok {
		return v.(bool)
	}
	// Provisionally false while t is walked, so that recursive types end.
	hasText.Store(t, false)
	var ok bool
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		ok = true
	case reflect.Pointer:
		ok = typeHasText(t.Elem())
	case reflect.Slice, reflect.Array:
		ok = t.Elem().Kind() != reflect.Uint8 && typeHasText(t.Elem())
	case reflect.Map:
		ok = t.Key().Kind() == reflect.String || typeHasText(t.Key()) || typeHasText(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField() && !ok; i++ {
			sf := t.Field(i)
			if (sf.IsExported() || sf.Anonymous) && sf.Tag.Get("json") != "-" && typeHasText(sf.Type) {
				ok = true
			}
		}
	}
	hasText.Store(t, ok)
	return ok
}

// CheckText applies the text rules to every string of v (a decoded request) and
// returns an Invalid error naming each offending field, or nil.
func CheckText(v any) error {
	f := apperr.Fields{}
	checkValue(reflect.ValueOf(v), "", false, f, 0)
	return f.Err()
}

// maxDepth bounds the walk (the JSON decoder bounds nesting too).
const maxDepth = 10000

func checkValue(v reflect.Value, path string, multiline bool, f apperr.Fields, depth int) {
	if !v.IsValid() || depth > maxDepth {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkValue(v.Elem(), path, multiline, f, depth+1)
		}
	case reflect.String:
		if key := TextProblem(v.String(), multiline); key != "" {
			f.Add(fieldPath(path), key)
		}
	case reflect.Struct:
		for _, fp := range planOf(v.Type()) {
			fv := v.Field(fp.index)
			if fp.name == "" {
				checkValue(fv, path, false, f, depth+1)
				continue
			}
			checkValue(fv, joinPath(path, fp.name), fp.multiline, f, depth+1)
		}
	case reflect.Slice, reflect.Array:
		if !typeHasText(v.Type()) {
			return
		}
		for i := 0; i < v.Len(); i++ {
			checkValue(v.Index(i), path+"["+strconv.Itoa(i)+"]", multiline, f, depth+1)
		}
	case reflect.Map:
		if !typeHasText(v.Type()) {
			return
		}
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			name := joinPath(path, keyString(k))
			if k.Kind() == reflect.String {
				if key := TextProblem(k.String(), false); key != "" {
					f.Add(fieldPath(path), key)
					continue
				}
			}
			checkValue(it.Value(), name, multiline, f, depth+1)
		}
	}
}

func keyString(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	return strings.Trim(strings.TrimSpace(k.String()), "<>")
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func fieldPath(path string) string {
	if path == "" {
		return "(body)"
	}
	return path
}

// TextProblem returns the catalog key of what is wrong with s as text ("" when nothing
// is): one-line text takes no control characters and no bidirectional controls;
// multi-line text takes tab, line feed and CRLF but no other control character.
func TextProblem(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "field.invalid_utf8"
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\t' || r == '\n':
			if !multiline {
				return "field.line_breaks"
			}
		case r == '\r':
			if !multiline {
				return "field.line_breaks"
			}
			if i+1 >= len(s) || s[i+1] != '\n' {
				return "field.control_chars"
			}
		case unicode.IsControl(r):
			if !multiline {
				return "field.line_breaks"
			}
			return "field.control_chars"
		case r == '\u2028' || r == '\u2029':
			if !multiline {
				return "field.line_breaks"
			}
		case isBidiControl(r):
			if !multiline {
				return "field.bidi"
			}
		}
		i += size
	}
	return ""
}

// isBidiControl: the embeddings and overrides U+202A-U+202E and the isolates
// U+2066-U+2069, which reorder how the text around them is shown.
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// scanJSON checks what encoding/json lets through silently in one well-formed JSON
// value: a key repeated in the same object, also in another case (at any depth: the
// last one would win), and
// \u escapes of lone UTF-16 surrogates (which would become U+FFFD).
func scanJSON(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		object    bool
		keys      map[string]struct{}
		path      string // path of the container
		key       string // current member (objects)
		index     int    // current element (arrays)
		expectKey bool
	}
	var stack []*frame
	// valuePath is the path of the value about to be read.
	valuePath := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if top.object {
			return joinPath(top.path, top.key)
		}
		return top.path + "[" + strconv.Itoa(top.index) + "]"
	}
	// done marks the end of one value in the enclosing container.
	done := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.object {
			top.expectKey = true
		} else {
			top.index++
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return apperr.New(apperr.Malformed, "error.malformed.json", "offset", start).WithCause(err)
		}
		end := dec.InputOffset()
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{object: t == '{', path: valuePath(), expectKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			top := (*frame)(nil)
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			}
			if top != nil && top.object && top.expectKey {
				path := joinPath(top.path, t)
				if loneSurrogate(raw[start:end]) {
					return surrogateError(top.path)
				}
				if top.keys == nil {
					top.keys = map[string]struct{}{}
				}
				// encoding/json matches member names without regard to case, so "name"
				// and "Name" fill the same field: the last would win unseen.
				folded := strings.ToLower(t)
				if _, dup := top.keys[folded]; dup {
					name := safeFieldName(path)
					return apperr.New(apperr.Malformed, "error.malformed.duplicate_key", "field", name).
						WithField(name, "field.duplicate")
				}
				top.keys[folded] = struct{}{}
				top.key, top.expectKey = t, false
				continue
			}
			if loneSurrogate(raw[start:end]) {
				return surrogateError(valuePath())
			}
			done()
		default:
			done()
		}
		if len(stack) == 0 {
			return nil // one value only; trailing data is Decode's business
		}
	}
}

func surrogateError(path string) error {
	name := safeFieldName(fieldPath(path))
	return apperr.New(apperr.Malformed, "error.malformed.surrogate", "field", name).WithField(name, "field.invalid_utf8")
}

// loneSurrogate reports whether the JSON text seg (separators, then one string literal)
// has a \u escape of a UTF-16 surrogate that is not part of a valid pair.
func loneSurrogate(seg []byte) bool {
	q := bytes.IndexByte(seg, '"')
	if q < 0 {
		return false
	}
	s := seg[q:]
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+1 < len(s) && s[i+1] != 'u' {
			i++ // a one-character escape
			continue
		}
		r, ok := hex4(s, i+2)
		if !ok {
			return true // cannot happen in well-formed JSON
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			lo, ok := hex4(s, i+8)
			if !ok || i+7 >= len(s) || s[i+6] != '\\' || s[i+7] != 'u' || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

func hex4(s []byte, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// safeFieldName returns name when it looks like a field path of ours (ASCII letters,
// digits, "_", "-", ".", "[", "]"; at most 64 characters) and "(body)" otherwise, so
// that a name the client made up is never echoed beyond what identifies the field.
func safeFieldName(name string) string {
	if name == "" || len(name) > 64 {
		return "(body)"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-.[]", c) >= 0) {
			return "(body)"
		}
	}
	return name
}

// CheckForm applies the text rules that hold for every field to a URL-encoded form
// post (pages): valid UTF-8, and no control character but tab, line feed and CRLF. A
// page's form does not declare which fields are one-line, so the stricter one-line
// rules stay with the service's validation. Other bodies (JSON, uploads) are left to
// their readers.
func CheckForm(r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return nil // the handler reports a form it cannot read
	}
	f := apperr.Fields{}
	for name, values := range r.PostForm {
		if key := TextProblem(name, false); key != "" {
			f.Add("(form)", key)
			continue
		}
		for _, v := range values {
			if key := TextProblem(v, true); key != "" {
				f.Add(name, key)
			}
		}
	}
	return f.Err()
}
