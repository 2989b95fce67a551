package openapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/app/openapi"
	"github.com/kefu-cn/kefu/internal/platform/mail/mailtest"
)

// newValidator loads the document into libopenapi and returns its validator.
func newValidator(t *testing.T, doc []byte) validator.Validator {
	t.Helper()
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatalf("libopenapi: %v", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	return v
}

// TestDocumentIsValidOpenAPI31 checks the served document against the OpenAPI 3.1
// schema (libopenapi-validator embeds it).
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	s := apptest.New(t)
	r := s.As(t, "agent").Do(t, "GET", "/api/v1/openapi.json", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %d\n%s", r.Status, r.Body)
	}
	if got := s.Anonymous().Do(t, "GET", "/api/v1/openapi.json", nil).Status; got != http.StatusUnauthorized {
		t.Errorf("anonymous GET /api/v1/openapi.json: %d, want 401", got)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	v := newValidator(t, r.Body)
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("document: %s", e.Error())
		}
	}
}

// TestDocumentCoversEveryRoute walks the router: every route under /api/v1 is in the
// document with its permission, and every path and method of the document is routed.
func TestDocumentCoversEveryRoute(t *testing.T) {
	s := apptest.New(t)
	spec := s.App.APIDocs.Spec()
	if len(spec.Undocumented) > 0 {
		t.Errorf("routes without an entry in openapi.Operations: %v", spec.Undocumented)
	}
	if len(spec.Unrouted) > 0 {
		t.Errorf("entries of openapi.Operations that no route serves: %v", spec.Unrouted)
	}
	paths := spec.Doc["paths"].(map[string]any)
	routed := map[string]string{}
	n := 0
	for _, rt := range s.App.Router.Routes() {
		if !strings.HasPrefix(rt.Path, openapi.Prefix) {
			continue
		}
		n++
		routed[rt.Method+" "+rt.Path] = rt.Perm
		item, _ := paths[rt.Path].(map[string]any)
		op, _ := item[strings.ToLower(rt.Method)].(map[string]any)
		if op == nil {
			t.Errorf("%s %s is routed but not in the document", rt.Method, rt.Path)
			continue
		}
		if got := op[openapi.ExtPermission]; got != rt.Perm {
			t.Errorf("%s %s: %s = %v, the route needs %q", rt.Method, rt.Path, openapi.ExtPermission, got, rt.Perm)
		}
	}
	docOps := 0
	for path, item := range paths {
		for method := range item.(map[string]any) {
			docOps++
			if _, ok := routed[strings.ToUpper(method)+" "+path]; !ok {
				t.Errorf("%s %s is in the document but not routed", strings.ToUpper(method), path)
			}
		}
	}
	if docOps != n {
		t.Errorf("document has %d operations, router %d", docOps, n)
	}
	t.Logf("%d routes under %s, %d operations documented", n, openapi.Prefix, docOps)
}

var placeholder = regexp.MustCompile(`\{([a-z0-9_]+)\}`)

// fixture holds the values of the examples' placeholders, as JSON text.
type fixture map[string]string

func (f fixture) path(t *testing.T, p string) string {
	t.Helper()
	return placeholder.ReplaceAllStringFunc(p, func(m string) string {
		v, ok := f[m[1:len(m)-1]]
		if !ok {
			t.Fatalf("no value for placeholder %s in %s", m, p)
		}
		return strings.Trim(v, `"`)
	})
}

func (f fixture) body(t *testing.T, b string) string {
	t.Helper()
	return regexp.MustCompile(`"\{([a-z0-9_]+)\}"`).ReplaceAllStringFunc(b, func(m string) string {
		name := m[2 : len(m)-2]
		v, ok := f[name]
		if !ok && strings.HasSuffix(name, "_version") {
			v, ok = "1", true
		}
		if !ok {
			t.Fatalf("no value for placeholder %s in %s", m, b)
		}
		return v
	})
}

// learn records what later examples need from an answer: the id an example yields and
// the current version of the records the request named.
func (f fixture) learn(e openapi.Example, body []byte) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return
	}
	if y := e.Yields; y != "" {
		var id any
		switch {
		case m["id"] != nil:
			id = m["id"]
		case m[y] != nil:
			id = m[y]
		default: // "merge_id": the id of the answer's "merge"
			if o, ok := m[strings.TrimSuffix(y, "_id")].(map[string]any); ok {
				id = o["id"]
			}
		}
		if id != nil {
			b, _ := json.Marshal(id)
			f[y] = string(b)
		}
	}
	names := placeholder.FindAllStringSubmatch(e.Path, -1)
	var cands []string
	if e.Yields != "" {
		cands = append(cands, e.Yields)
	}
	if len(names) > 0 {
		cands = append(cands, names[len(names)-1][1])
	}
	objs := []map[string]any{m}
	for _, k := range []string{"ticket", "survivor"} {
		if o, ok := m[k].(map[string]any); ok {
			objs = append(objs, o)
		}
	}
	for _, name := range cands {
		for _, o := range objs {
			id, _ := json.Marshal(o["id"])
			if o["version"] != nil && string(id) == f[name] {
				v, _ := json.Marshal(o["version"])
				f[name+"_version"] = string(v)
			}
		}
	}
}

// request builds the example's body and headers.
func (f fixture) request(t *testing.T, e openapi.Example) (body []byte, headers map[string]string) {
	t.Helper()
	headers = map[string]string{}
	switch {
	case e.Body != "":
		body = []byte(f.body(t, e.Body))
		headers["Content-Type"] = "application/json"
	case e.Raw != "":
		body = []byte(e.Raw)
		headers["Content-Type"] = e.ContentType
	case e.File != nil:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile(e.File.Field, e.File.Name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte(e.File.Content))
		_ = mw.Close()
		body = buf.Bytes()
		headers["Content-Type"] = mw.FormDataContentType()
	}
	return body, headers
}

// hookSet returns a capability's after hooks of its examples, by "METHOD /path".
type hookSet func(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte)

// TestEveryOperationExample sends the documented example of every operation through
// the real router as an administrator (who holds every permission), in the table's
// order: the answers of the examples that create records fill the placeholders of the
// later ones. Each must be accepted (2xx), and the request and the answer must validate
// against the document.
func TestEveryOperationExample(t *testing.T) {
	s := apptest.New(t)
	spec := s.App.APIDocs.Spec()
	v := newValidator(t, spec.JSON)
	admin := s.As(t, "admin")
	smtpd := mailtest.New(t, "", "")
	f := fixture{"smtp_host": strconv.Quote(smtpd.Host), "smtp_port": strconv.Itoa(smtpd.Port)}

	// Records the examples use but do not create themselves.
	create := func(path, body, name string) {
		t.Helper()
		r := admin.Do(t, "POST", path, body)
		if r.Status != http.StatusCreated {
			t.Fatalf("fixture %s: %d %s", path, r.Status, r.Body)
		}
		var m map[string]any
		_ = json.Unmarshal(r.Body, &m)
		id, _ := json.Marshal(m["id"])
		f[name] = string(id)
	}
	create("/api/v1/departments", `{"code": "spare", "name": "Spare department"}`, "spare_dept_id")
	create("/api/v1/teams", `{"dept_id": `+f["spare_dept_id"]+`, "name": "Spare team"}`, "spare_team_id")
	create("/api/v1/territories", `{"kind": "region", "code": "island", "name": "Hainan", "province": "Hainan", "responsible_id": `+
		strconv.FormatInt(admin.Staff.ID, 10)+`, "match_rules": [{"province": "Hainan"}]}`, "spare_territory_id")

	rulesVersion := func(body []byte) {
		var m struct {
			Version int64 `json:"version"`
		}
		if json.Unmarshal(body, &m) == nil {
			f["customer_rules_version"] = strconv.FormatInt(m.Version, 10)
		}
	}
	after := map[string]func(body []byte){
		// A second file with the same mobile number (allowed to the administrator with
		// "force"): a duplicate pair to review, merge and dismiss.
		"POST /api/v1/customers": func([]byte) {
			create("/api/v1/customers", `{"kind": "org", "name": "Example Trading Company", "mobile": "13800138000", "force": true}`,
				"duplicate_customer_id")
		},
		"GET /api/v1/customer-rules":   rulesVersion,
		"PATCH /api/v1/customer-rules": rulesVersion,
		"PUT /api/v1/customer-rules":   rulesVersion,
		"GET /api/v1/customers/duplicates": func(body []byte) {
			var p struct {
				Items []struct {
					ID int64 `json:"id"`
				} `json:"items"`
			}
			if json.Unmarshal(body, &p) == nil && len(p.Items) > 0 {
				f["duplicate_pair_id"] = strconv.FormatInt(p.Items[0].ID, 10)
			}
		},
	}
	for _, hooks := range []hookSet{complaintHooks, activityHooks, fieldVisitHooks, revisitHooks, revisitWorkHooks, surveyHooks} {
		for k, fn := range hooks(t, s, admin, f, create) { // <capability>_contract_test.go
			after[k] = fn
		}
	}

	covered := 0
	for _, d := range spec.Ops {
		t.Run(d.Method+" "+d.Path, func(t *testing.T) {
			if d.Example.Path == "" {
				t.Fatal("no example request")
			}
			var first []byte
			for i, e := range append([]openapi.Example{d.Example}, d.More...) {
				body, ok := sendExample(t, admin, v, f, d, e)
				if !ok {
					return
				}
				if i == 0 {
					first = body
				}
			}
			if fn := after[d.Method+" "+d.Path]; fn != nil {
				fn(first)
			}
			covered++
		})
	}
	t.Logf("contract: %d of %d operations accepted their example and matched the document", covered, len(spec.Ops))
	if covered != len(spec.Ops) {
		t.Errorf("only %d of %d operations covered", covered, len(spec.Ops))
	}
}

// sendExample sends example e of operation d and checks the answer; it reports whether
// all went well, with the answer's body.
func sendExample(t *testing.T, c *apptest.Client, v validator.Validator, f fixture, d openapi.Documented, e openapi.Example) ([]byte, bool) {
	t.Helper()
	path := f.path(t, e.Path)
	body, headers := f.request(t, e)
	var send any
	if body != nil {
		send = body
	}
	r := c.DoWithHeaders(t, d.Method, path, send, headers)
	if r.Status < 200 || r.Status > 299 {
		t.Errorf("%s %s: %d\n%s\n%s", d.Method, path, r.Status, body, r.Body)
		return nil, false
	}
	want := d.Status
	if want == 0 {
		want = http.StatusOK
	}
	if r.Status != want && !(d.Method == "PUT" && d.StringID && r.Status == http.StatusCreated) {
		t.Errorf("%s %s: status %d, documented %d", d.Method, path, r.Status, want)
		return nil, false
	}
	f.learn(e, r.Body)
	req := httptest.NewRequest(d.Method, path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", "Bearer example")
	resp := &http.Response{StatusCode: r.Status, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.Body)), Request: req}
	if ok, errs := v.ValidateHttpRequestResponse(req, resp); !ok {
		for _, e := range errs {
			t.Errorf("%s %s: %s %v", d.Method, path, e.Error(), e.SchemaValidationErrors)
		}
		t.Logf("answer: %.2000s", r.Body)
		return nil, false
	}
	return r.Body, true
}

// TestDocumentedRequestMembersAreAccepted sends, for every operation with a JSON body,
// every member the document lists (the zero value of the documented Go type) to a
// record that does not exist: the handler's strict decoder must know each of them (no
// 400 naming a member). This keeps the mirrors of unexported request types honest.
func TestDocumentedRequestMembersAreAccepted(t *testing.T) {
	s := apptest.New(t)
	admin := s.As(t, "admin")
	admin.Lang = "en"
	n := 0
	for _, d := range s.App.APIDocs.Spec().Ops {
		if d.Body == nil {
			continue
		}
		n++
		body, err := json.Marshal(reflect.Zero(reflect.TypeOf(d.Body)).Interface())
		if err != nil {
			t.Fatal(err)
		}
		path := placeholder.ReplaceAllString(d.Path, "999999")
		if d.StringID {
			path = placeholder.ReplaceAllString(d.Path, "nosuch")
		}
		r := admin.Do(t, d.Method, path, body)
		if r.Status != http.StatusBadRequest {
			continue
		}
		var e struct {
			Error struct {
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		_ = json.Unmarshal(r.Body, &e)
		var members map[string]any
		_ = json.Unmarshal(body, &members)
		for f := range e.Error.Fields {
			if _, ok := members[f]; ok {
				t.Errorf("%s %s: the documented member %q is refused: %s", d.Method, d.Path, f, r.Body)
			}
		}
	}
	t.Logf("%d request bodies checked member by member", n)
}

// TestErrorAnswersMatchTheEnvelope: error answers validate against the document's error
// envelope (a missing record, a PATCH without a version, invalid input).
func TestErrorAnswersMatchTheEnvelope(t *testing.T) {
	s := apptest.New(t)
	v := newValidator(t, s.App.APIDocs.Spec().JSON)
	admin := s.As(t, "admin")
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/api/v1/customers/999999", "", http.StatusNotFound},
		{"PATCH", "/api/v1/tickets/999999", `{"title": "x"}`, http.StatusPreconditionRequired},
		{"POST", "/api/v1/customers", `{"kind": "nonsense"}`, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/tickets/999999/transition", `{"to": "resolved"}`, http.StatusBadRequest},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		r := admin.Do(t, c.method, c.path, body)
		if r.Status != c.status {
			t.Errorf("%s %s: %d, want %d\n%s", c.method, c.path, r.Status, c.status, r.Body)
			continue
		}
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		resp := &http.Response{StatusCode: r.Status, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.Body)), Request: req}
		if ok, errs := v.ValidateHttpResponse(req, resp); !ok {
			for _, e := range errs {
				t.Errorf("%s %s: %s %v", c.method, c.path, e.Error(), e.SchemaValidationErrors)
			}
		}
	}
}
