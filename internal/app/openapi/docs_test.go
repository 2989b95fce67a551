package openapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/openapi"
)

// docsDir is the repository's docs/ folder.
const docsDir = "../../../docs"

// httpBlock is one fenced ```http block of a docs page: a request.
type httpBlock struct {
	file, method, path, body string
	line                     int
}

var requestLine = regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) /`)

// httpBlocks extracts the ```http blocks of text: the request line, headers up to a
// blank line, then the body. A fenced block of another kind that starts with a request
// line is returned with method "" (a request example the test cannot check).
func httpBlocks(file, text string) []httpBlock {
	var out []httpBlock
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		fence := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(fence, "```") {
			continue
		}
		if fence != "```http" {
			start := i + 1
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				if i == start && requestLine.MatchString(strings.TrimSpace(lines[i])) {
					out = append(out, httpBlock{file: file, line: start, path: strings.TrimSpace(lines[i])})
				}
			}
			continue
		}
		start := i + 1
		var block []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			block = append(block, lines[i])
		}
		b := httpBlock{file: file, line: start}
		if len(block) > 0 {
			b.method, b.path, _ = strings.Cut(strings.TrimSpace(block[0]), " ")
			j := 1
			for j < len(block) && strings.TrimSpace(block[j]) != "" {
				j++
			}
			if j < len(block) {
				b.body = strings.TrimSpace(strings.Join(block[j+1:], "\n"))
			}
		}
		out = append(out, b)
	}
	return out
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// TestDocsExamplesAreInTheDocument: every request example in docs/*.md (a fenced
// ```http block) is the example of an operation in the document, so the docs cannot
// teach a request the API refuses (the contract test sends every document example).
func TestDocsExamplesAreInTheDocument(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs found in %s: %v", docsDir, err)
	}
	ops := openapi.Operations()
	n := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range httpBlocks(filepath.Base(file), string(src)) {
			if b.method == "" {
				t.Errorf("%s:%d: the request example %q must be a ```http block (an example of the document)", b.file, b.line, b.path)
				continue
			}
			n++
			found := false
			for _, o := range ops {
				for _, e := range append([]openapi.Example{o.Example}, o.More...) {
					if o.Method != b.method || e.Path != b.path {
						continue
					}
					switch {
					case e.Body == "" && b.body == "",
						e.Body != "" && sameJSON(e.Body, b.body):
						found = true
					}
				}
			}
			if !found {
				t.Errorf("%s:%d: %s %s (body %q) is not the example of any operation in internal/app/openapi/operations.go",
					b.file, b.line, b.method, b.path, b.body)
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d request examples found in docs/*.md", n)
	}
	t.Logf("%d request examples in docs/*.md, all from the document", n)
}

var routeMention = regexp.MustCompile(`\b(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^\s` + "`" + `?,;)]*)`)

// TestDocsNameOnlyRoutedOperations: every "METHOD /api/v1/..." the docs mention is an
// operation of the document ({...} segments match any value).
func TestDocsNameOnlyRoutedOperations(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(docsDir, "*.md"))
	ops := openapi.Operations()
	match := func(method, path string) bool {
		got := strings.Split(strings.TrimSuffix(path, "/"), "/")
		for _, o := range ops {
			if o.Method != method {
				continue
			}
			want := strings.Split(o.Path, "/")
			if len(want) != len(got) {
				continue
			}
			ok := true
			for i := range want {
				if want[i] != got[i] && !strings.HasPrefix(want[i], "{") && !strings.HasPrefix(got[i], "{") {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
	for _, file := range files {
		src, _ := os.ReadFile(file)
		for _, m := range routeMention.FindAllStringSubmatch(string(src), -1) {
			if !match(m[1], m[2]) {
				t.Errorf("%s mentions %s %s, which is no operation of the API", filepath.Base(file), m[1], m[2])
			}
		}
	}
}

func TestHTTPBlocksParse(t *testing.T) {
	got := httpBlocks("x.md", "text\n```http\nPOST /api/v1/x\nContent-Type: application/json\n\n{\"a\": 1}\n```\n```http\nGET /api/v1/y?q=1\n```\n"+
		"```sh\nkefu serve\n```\n```\nPATCH /api/v1/z\n{}\n```\n")
	want := []httpBlock{{file: "x.md", line: 2, method: "POST", path: "/api/v1/x", body: `{"a": 1}`},
		{file: "x.md", line: 8, method: "GET", path: "/api/v1/y?q=1"},
		{file: "x.md", line: 14, path: "PATCH /api/v1/z"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

var memberShorthand = regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`]*)` `\\{([^`}]*)\\}`")

// shorthandProblems checks the request shapes the docs write as `METHOD /path`
// `{"a","b"}`: every member named must be a member of the operation's request body.
func shorthandProblems(text string, ops []openapi.Op) []string {
	var out []string
	for _, m := range memberShorthand.FindAllStringSubmatch(text, -1) {
		var op *openapi.Op
		for i := range ops {
			if ops[i].Method == m[1] && ops[i].Path == strings.ReplaceAll(m[2], "{ticket_id}", "{id}") {
				op = &ops[i]
			}
		}
		if op == nil {
			out = append(out, m[1]+" "+m[2]+": no such operation")
			continue
		}
		members := map[string]bool{}
		if op.Body != nil {
			b, _ := json.Marshal(op.Body)
			var obj map[string]any
			_ = json.Unmarshal(b, &obj)
			for k := range obj {
				members[k] = true
			}
		}
		for _, name := range strings.Split(m[3], ",") {
			name = strings.Trim(strings.TrimSpace(name), `"`)
			if !members[name] {
				out = append(out, m[1]+" "+m[2]+": the request has no member "+strconv.Quote(name))
			}
		}
	}
	return out
}

// TestDocsRequestShapes: the member lists the docs give for a request exist (the old
// `{"to","reason"}` of /transition did not: the API wants "status").
func TestDocsRequestShapes(t *testing.T) {
	ops := openapi.Operations()
	old := "| `POST /api/v1/tickets/{id}/transition` `{\"to\",\"reason\"}` | `ticket:write` |"
	if got := shorthandProblems(old, ops); len(got) != 1 || !strings.Contains(got[0], `"to"`) {
		t.Errorf("the old transition shape is not caught: %v", got)
	}
	files, _ := filepath.Glob(filepath.Join(docsDir, "*.md"))
	n := 0
	for _, file := range files {
		src, _ := os.ReadFile(file)
		n += len(memberShorthand.FindAllString(string(src), -1))
		for _, p := range shorthandProblems(string(src), ops) {
			t.Errorf("%s: %s", filepath.Base(file), p)
		}
	}
	if n == 0 {
		t.Error("no request shapes found in docs/*.md")
	}
}
