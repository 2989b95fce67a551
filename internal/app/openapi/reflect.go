package openapi

import (
	"encoding"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// Schema is a JSON Schema (2020-12, the dialect of OpenAPI 3.1) as a JSON object.
type Schema = map[string]any

// reflector turns Go types into JSON Schemas that describe what encoding/json reads and
// writes for them. Named struct types become shared components ($ref); everything else
// is inlined.
type reflector struct {
	components map[string]Schema
	names      map[reflect.Type]string
	// overrides adjust the schema of a named struct type whose JSON differs from its
	// fields (a type with its own MarshalJSON).
	overrides map[reflect.Type]func(Schema)
	// request: schemas of request bodies, where the decoder requires no member.
	request bool
	// prefix starts every component name (request and answer schemas of one type
	// differ in what they require).
	prefix string
}

func newReflector() *reflector {
	return &reflector{components: map[string]Schema{}, names: map[reflect.Type]string{},
		overrides: map[reflect.Type]func(Schema){}}
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	unsafeName        = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// componentName is a readable, valid component name: "customer.View",
// "httpx.Page_ticket.View".
func componentName(t reflect.Type) string {
	name := t.String() // "customer.View", "httpx.Page[github.com/.../ticket.View]"
	if i := strings.IndexByte(name, '['); i >= 0 {
		args := strings.Split(strings.TrimSuffix(name[i+1:], "]"), ",")
		for j, a := range args {
			if k := strings.LastIndexByte(a, '/'); k >= 0 {
				args[j] = a[k+1:]
			}
		}
		name = name[:i] + "_" + strings.Join(args, "_")
	}
	return strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_")
}

// schema returns the schema of t.
func (r *reflector) schema(t reflect.Type) Schema {
	switch {
	case t == timeType:
		return Schema{"type": "string", "format": "date-time"}
	case t == rawMessageType:
		return Schema{}
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface &&
		(t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)):
		return Schema{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Schema{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Pointer:
		return nullable(r.schema(t.Elem()))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return Schema{"type": "string", "contentEncoding": "base64"}
		}
		return Schema{"type": []any{"array", "null"}, "items": r.schema(t.Elem())}
	case reflect.Array:
		return Schema{"type": "array", "items": r.schema(t.Elem()), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		return Schema{"type": []any{"object", "null"}, "additionalProperties": r.schema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return r.object(t)
		}
		name, ok := r.names[t]
		if !ok {
			name = r.prefix + componentName(t)
			r.names[t] = name
			r.components[name] = Schema{} // placeholder: recursive types end here
			s := r.object(t)
			if fn := r.overrides[t]; fn != nil {
				fn(s)
			}
			r.components[name] = s
		}
		return Schema{"$ref": "#/components/schemas/" + name}
	}
	return Schema{} // interfaces and anything else: any JSON value
}

// nullable allows null besides what s allows.
func nullable(s Schema) Schema {
	switch typ := s["type"].(type) {
	case string:
		out := clone(s)
		out["type"] = []any{typ, "null"}
		return out
	case []any:
		for _, v := range typ {
			if v == "null" {
				return s
			}
		}
		out := clone(s)
		out["type"] = append(append([]any(nil), typ...), "null")
		return out
	}
	if len(s) == 0 {
		return s
	}
	return Schema{"anyOf": []any{s, Schema{"type": "null"}}}
}

func clone(s Schema) Schema {
	out := make(Schema, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

// field is one JSON member of a struct.
type field struct {
	name     string
	typ      reflect.Type
	required bool
	asString bool
	depth    int
}

// object is the schema of a struct: its JSON members (embedded structs promoted as
// encoding/json does), those without omitempty/omitzero required.
func (r *reflector) object(t reflect.Type) Schema {
	props := Schema{}
	var required []any
	for _, f := range jsonFields(t, 0, !r.request) {
		s := r.schema(f.typ)
		if f.asString {
			s = Schema{"type": "string"}
		}
		props[f.name] = s
		if f.required {
			required = append(required, f.name)
		}
	}
	out := Schema{"type": "object", "properties": props}
	if !r.request {
		// An answer has exactly these members: a member the code adds without the
		// document knowing fails the contract test.
		out["additionalProperties"] = false
	}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// jsonFields lists the members encoding/json writes for struct t, shallower fields
// hiding deeper ones of the same name.
func jsonFields(t reflect.Type, depth int, requiredOK bool) []field {
	var out []field
	seen := map[string]int{}
	add := func(f field) {
		if i, ok := seen[f.name]; ok {
			if out[i].depth <= f.depth {
				return
			}
			out[i] = f
			return
		}
		seen[f.name] = len(out)
		out = append(out, f)
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" {
			et := ft
			ptr := false
			if et.Kind() == reflect.Pointer {
				et, ptr = et.Elem(), true
			}
			if et.Kind() == reflect.Struct {
				for _, inner := range jsonFields(et, depth+1, requiredOK && !ptr) {
					add(inner)
				}
				continue
			}
			if !sf.IsExported() {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		omit := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		asString := strings.Contains(","+opts+",", ",string,")
		add(field{name: name, typ: ft, required: requiredOK && !omit, asString: asString, depth: depth})
	}
	return out
}
