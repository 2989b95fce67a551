package openapi

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the docs page's templates.
func Templates() fs.FS { return web.MustSub(templates, "templates") }

var errNotBuilt = apperr.UnavailableErr(errors.New("openapi: document not built yet"))

// Docs serves the document and the docs page.
type Docs struct {
	web  *web.Engine
	spec atomic.Pointer[Spec]
}

// New returns the docs handlers; call Build once every route is mounted.
func New(eng *web.Engine) *Docs { return &Docs{web: eng} }

// Routes are the document and its page. Both are for signed-in staff: API clients hold
// a token anyway, and the document maps every administrative route and permission, which
// anonymous visitors have no need to see.
func (d *Docs) Routes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/openapi.json", Handler: d.document},
		{Method: "GET", Path: "/api-docs", Page: true, Handler: d.page},
	}
}

// Build describes routes (the router's whole table) with Operations.
func (d *Docs) Build(routes []httpx.Route, version string) (*Spec, error) {
	s, err := Build(routes, Operations(), version)
	if err != nil {
		return nil, err
	}
	d.spec.Store(s)
	return s, nil
}

// Spec is the built document (nil before Build).
func (d *Docs) Spec() *Spec { return d.spec.Load() }

func (d *Docs) document(w http.ResponseWriter, r *http.Request) {
	s := d.spec.Load()
	if s == nil {
		httpx.Error(w, r, errNotBuilt)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(s.JSON)
}

// Page is the model of /api-docs.
type Page struct {
	Version string
	Groups  []Group
	Count   int
}

// Group is the operations of one tag.
type Group struct {
	Tag string
	// Key names the tag's heading in the catalogs (api_docs.tag.<Key>).
	Key string
	ID  string
	Ops []PageOp
}

// PageOp is one operation on the page.
type PageOp struct {
	ID      string
	Method  string
	Path    string
	Summary string
	Perm    string
	Public  bool
	Params  []Param
	// Examples are the example requests as text (request line, headers, body).
	Examples []string
}

func (d *Docs) page(w http.ResponseWriter, r *http.Request) {
	s := d.spec.Load()
	if s == nil {
		d.web.PageError(w, r, errNotBuilt)
		return
	}
	web.Render(d.web, w, r, http.StatusOK, "openapi/apidocs", "page.api_docs.title", pageModel(s))
}

func pageModel(s *Spec) Page {
	p := Page{Count: len(s.Ops)}
	if info, ok := s.Doc["info"].(map[string]any); ok {
		p.Version, _ = info["version"].(string)
	}
	index := map[string]int{}
	for _, o := range s.Ops {
		i, ok := index[o.Tag]
		if !ok {
			i = len(p.Groups)
			index[o.Tag] = i
			key := nonWord.ReplaceAllString(o.Tag, "_")
			p.Groups = append(p.Groups, Group{Tag: o.Tag, Key: key, ID: "tag-" + key})
		}
		p.Groups[i].Ops = append(p.Groups[i].Ops, PageOp{ID: o.OperationID, Method: o.Method, Path: o.Path,
			Summary: o.Summary, Perm: o.Perm, Public: o.Public, Params: o.Query, Examples: examplesText(o)})
	}
	return p
}

func examplesText(o Documented) []string {
	var out []string
	for _, e := range append([]Example{o.Example}, o.More...) {
		if s := HTTPText(o.Method, e); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// HTTPText writes an example as the text of an HTTP request, the form docs/*.md use in
// their ```http blocks: the request line, a Content-Type header when there is a body, a
// blank line and the body (JSON indented).
func HTTPText(method string, e Example) string {
	if e.Path == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(method + " " + e.Path + "\n")
	switch {
	case e.Body != "":
		b.WriteString("Content-Type: application/json\n\n")
		var v any
		if err := json.Unmarshal([]byte(e.Body), &v); err == nil {
			out, _ := json.MarshalIndent(v, "", "  ")
			b.Write(out)
		} else {
			b.WriteString(e.Body)
		}
		b.WriteString("\n")
	case e.Raw != "":
		b.WriteString("Content-Type: " + e.ContentType + "\n\n" + e.Raw)
	case e.File != nil:
		b.WriteString("Content-Type: multipart/form-data; boundary=x\n\n--x\n")
		b.WriteString(`Content-Disposition: form-data; name="` + e.File.Field + `"; filename="` + e.File.Name + `"` + "\n\n")
		b.WriteString(e.File.Content + "\n--x--\n")
	}
	return b.String()
}
