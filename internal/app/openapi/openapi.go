// Package openapi builds the OpenAPI 3.1 document of /api/v1 from the router's route
// table (method, path, permission) and one table of operations (operations.go) that
// names the Go types each handler decodes and writes; schemas are reflected from those
// types, so they follow the code. It serves the document at /api/v1/openapi.json and
// renders it on the staff docs page /api-docs.
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Prefix is the part of the URL space the document describes.
const Prefix = "/api/v1/"

// Extension members of an operation.
const (
	// ExtPermission is the permission an operation needs ("" = any signed-in staff
	// member).
	ExtPermission = "x-kefu-permission"
	// ExtExample is the operation's complete example request (Example as JSON, plus
	// "method").
	ExtExample = "x-kefu-example"
	// ExtMoreExamples are further example requests of the operation.
	ExtMoreExamples = "x-kefu-more-examples"
)

// Documented is one operation as the document describes it.
type Documented struct {
	Op
	Perm   string
	Public bool
	// OperationID is the document's operationId.
	OperationID string
}

// Spec is the built document.
type Spec struct {
	// Doc is the document as a JSON object.
	Doc map[string]any
	// JSON is Doc encoded (what /api/v1/openapi.json serves).
	JSON []byte
	// Ops are the documented operations in table order.
	Ops []Documented
	// Undocumented lists routes under /api/v1 that have no entry in Operations, and
	// Unrouted the entries that match no route ("METHOD /path"). Both must be empty:
	// a test enforces it.
	Undocumented, Unrouted []string
}

// Build describes every route of routes under /api/v1 with the entries of ops.
func Build(routes []httpx.Route, ops []Op, version string) (*Spec, error) {
	byKey := map[string]Op{}
	for _, o := range ops {
		if _, dup := byKey[o.key()]; dup {
			return nil, fmt.Errorf("openapi: operation %s listed twice", o.key())
		}
		byKey[o.key()] = o
	}
	routed := map[string]httpx.Route{}
	spec := &Spec{}
	for _, rt := range routes {
		if !strings.HasPrefix(rt.Path, Prefix) {
			continue
		}
		k := rt.Method + " " + rt.Path
		routed[k] = rt
		if _, ok := byKey[k]; !ok {
			spec.Undocumented = append(spec.Undocumented, k)
		}
	}
	for _, o := range ops {
		rt, ok := routed[o.key()]
		if !ok {
			spec.Unrouted = append(spec.Unrouted, o.key())
			continue
		}
		spec.Ops = append(spec.Ops, Documented{Op: o, Perm: rt.Perm, Public: rt.Access == httpx.Public,
			OperationID: operationID(o.Method, o.Path)})
	}
	// Routes without an entry are still listed (bare), so that the document names every
	// route even while its entry is missing.
	for _, k := range spec.Undocumented {
		rt := routed[k]
		spec.Ops = append(spec.Ops, Documented{Op: Op{Method: rt.Method, Path: rt.Path, Tag: "undocumented"},
			Perm: rt.Perm, Public: rt.Access == httpx.Public, OperationID: operationID(rt.Method, rt.Path)})
	}
	sort.Strings(spec.Undocumented)
	sort.Strings(spec.Unrouted)

	b := newBuilder()
	paths := map[string]any{}
	var tags []string
	seenTag := map[string]bool{}
	for _, d := range spec.Ops {
		item, _ := paths[d.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[d.Path] = item
		}
		op, err := b.operation(d)
		if err != nil {
			return nil, err
		}
		item[strings.ToLower(d.Method)] = op
		if !seenTag[d.Tag] {
			seenTag[d.Tag] = true
			tags = append(tags, d.Tag)
		}
	}
	tagList := make([]any, len(tags))
	for i, t := range tags {
		tagList[i] = map[string]any{"name": t}
	}
	errSchema := b.out.schema(reflect.TypeFor[httpx.ErrorBody]())
	schemas := map[string]any{}
	for k, v := range b.out.components {
		schemas[k] = v
	}
	for k, v := range b.in.components {
		schemas[k] = v
	}
	spec.Doc = map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Kefu API",
			"version":     version,
			"description": "The JSON API of Kefu. Every request and answer is UTF-8 JSON unless stated. Errors answer with the error envelope {\"error\": {\"code\", \"message\", \"fields\", \"request_id\"}}; x-kefu-permission names the permission an operation needs (none: any signed-in staff member); x-kefu-example is a complete example request, whose {placeholders} stand for ids of your own records.",
		},
		"servers": []any{map[string]any{"url": "/"}},
		"tags":    tagList,
		"paths":   paths,
		"security": []any{
			map[string]any{"bearer": []any{}},
			map[string]any{"session": []any{}},
		},
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer",
					"description": "An API token (kefu token create, or POST /api/v1/tokens) in Authorization: Bearer <token>."},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "kefu_session",
					"description": "The web UI's session cookie; requests that change anything also send the session's CSRF token in X-CSRF-Token."},
			},
			"responses": map[string]any{
				"Error": map[string]any{
					"description": "The error envelope (every 4xx and 5xx).",
					"content":     map[string]any{"application/json": map[string]any{"schema": errSchema}},
				},
			},
		},
	}
	var err error
	if spec.JSON, err = json.Marshal(spec.Doc); err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	return spec, nil
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// operationID is a stable id from method and path: "get_customers_id_contacts".
func operationID(method, path string) string {
	p := strings.Trim(nonWord.ReplaceAllString(strings.TrimPrefix(path, Prefix), "_"), "_")
	return strings.ToLower(method) + "_" + p
}

// pathParams lists the {names} of a path.
func pathParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return out
}

type builder struct {
	out *reflector // answers: members without omitempty are required
	in  *reflector // request bodies: nothing is required by the decoder
}

func newBuilder() *builder {
	b := &builder{out: newReflector(), in: newReflector()}
	b.in.request = true
	b.in.prefix = "in."
	for _, r := range []*reflector{b.out, b.in} {
		registerOverrides(r)
	}
	return b
}

func (b *builder) operation(d Documented) (map[string]any, error) {
	op := map[string]any{
		"operationId": d.OperationID,
		"tags":        []any{d.Tag},
		ExtPermission: d.Perm,
	}
	if d.Summary != "" {
		op["summary"] = d.Summary
	}
	if d.Public {
		op["security"] = []any{}
	}
	var params []any
	for _, name := range pathParams(d.Path) {
		s := map[string]any{"type": "integer", "minimum": 1}
		if d.StringID {
			s = map[string]any{"type": "string"}
		}
		params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": s})
	}
	for _, q := range d.Query {
		p := map[string]any{"name": q.Name, "in": "query", "schema": map[string]any{"type": q.Type}}
		if q.Description != "" {
			p["description"] = q.Description
		}
		if q.Required {
			p["required"] = true
		}
		params = append(params, p)
	}
	if params != nil {
		op["parameters"] = params
	}
	example, err := exampleJSON(d.Method, d.Path, d.Example)
	if err != nil {
		return nil, err
	}
	var more []any
	for _, e := range d.More {
		m, err := exampleJSON(d.Method, d.Path, e)
		if err != nil {
			return nil, err
		}
		more = append(more, m)
	}
	if more != nil {
		op[ExtMoreExamples] = more
	}
	if example != nil {
		op[ExtExample] = example
	}
	switch {
	case d.Body != nil:
		media := map[string]any{"schema": b.in.schema(reflect.TypeOf(d.Body))}
		if v, ok := example["body"]; ok {
			media["example"] = v
		}
		op["requestBody"] = map[string]any{"required": !d.OptionalBody,
			"content": map[string]any{"application/json": media}}
	case d.BodyMedia == mediaMultipart:
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{mediaMultipart: map[string]any{
			"schema": map[string]any{"type": "object", "required": []any{"file"},
				"properties": map[string]any{"file": map[string]any{"type": "string", "contentMediaType": mediaAny}}}}}}
	case d.BodyMedia != "":
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			d.BodyMedia:    map[string]any{"schema": map[string]any{"type": "string"}},
			mediaMultipart: map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{"file": map[string]any{"type": "string", "contentMediaType": mediaAny}}}},
		}}
	}
	status := d.Status
	if status == 0 {
		status = http.StatusOK
	}
	ok := map[string]any{"description": http.StatusText(status)}
	switch {
	case d.Resp != nil:
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": b.out.schema(reflect.TypeOf(d.Resp))}}
	case d.RespMedia == mediaTable:
		ok["content"] = map[string]any{
			mediaXLSX: map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": mediaXLSX}},
			mediaCSV:  map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": mediaCSV}},
		}
	case d.RespMedia == "application/json": // JSON of no fixed shape (the document itself)
		ok["content"] = map[string]any{d.RespMedia: map[string]any{"schema": map[string]any{"type": "object"}}}
	case d.RespMedia != "":
		ok["content"] = map[string]any{d.RespMedia: map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": d.RespMedia}}}
	}
	responses := map[string]any{strconv.Itoa(status): ok, "default": map[string]any{"$ref": "#/components/responses/Error"}}
	if d.Method == "PATCH" { // the version rule of every change
		responses["409"] = map[string]any{"$ref": "#/components/responses/Error"}
		responses["428"] = map[string]any{"$ref": "#/components/responses/Error"}
	}
	if d.Method == "PUT" && d.StringID && status == http.StatusOK { // create or replace
		responses["201"] = ok
	}
	op["responses"] = responses
	if d.Tag == "undocumented" {
		op["description"] = "This route has no entry in the operations table yet."
	}
	return op, nil
}

// exampleJSON is the x-kefu-example member: method, path and the body as a JSON value.
func exampleJSON(method, path string, e Example) (map[string]any, error) {
	if e.Path == "" {
		return nil, nil
	}
	out := map[string]any{"method": method, "path": e.Path}
	if e.Body != "" {
		var v any
		if err := json.Unmarshal([]byte(e.Body), &v); err != nil {
			return nil, fmt.Errorf("openapi: example of %s %s is not JSON: %w", method, path, err)
		}
		out["body"] = v
	}
	if e.ContentType != "" {
		out["content_type"] = e.ContentType
	}
	if e.Raw != "" {
		out["raw"] = e.Raw
	}
	if e.File != nil {
		out["file"] = map[string]any{"field": e.File.Field, "name": e.File.Name, "content": e.File.Content}
	}
	if e.Yields != "" {
		out["yields"] = e.Yields
	}
	return out, nil
}
