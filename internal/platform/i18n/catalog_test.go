package i18n_test

// Repository-wide catalog checks (DESIGN.md "i18n"): no Chinese text in Go code, and
// every catalog key that the code or the templates name exists in the source catalog.

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// moduleRoot walks up from the package directory to the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

// walkSource calls fn for every file of the module whose name ends in ext, skipping
// hidden directories, testdata and vendor.
func walkSource(t *testing.T, root, ext string, fn func(path string)) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ext) {
			fn(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestNoHanInGoCode: user-facing text goes through the catalogs, so no non-test Go file
// outside testdata/ may contain a Chinese character, not even in a comment.
func TestNoHanInGoCode(t *testing.T) {
	root := moduleRoot(t)
	files := 0
	walkSource(t, root, ".go", func(p string) {
		if strings.HasSuffix(p, "_test.go") {
			return
		}
		files++
		f, err := os.Open(p)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			if hasHan(sc.Text()) {
				rel, _ := filepath.Rel(root, p)
				t.Errorf("%s:%d has Chinese characters (put user-facing text in a catalog): %s", rel, n, strings.TrimSpace(sc.Text()))
			}
		}
	})
	if files == 0 {
		t.Fatal("no Go files found: the walk is broken")
	}
}

var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// keyUse is a catalog key named by the code.
type keyUse struct {
	key string
	pos string
}

// keyArg says which argument of a call names a catalog key. pkg "" matches a method
// call (x.Name(...)) on any receiver; otherwise the call must be pkg.Name(...).
type keyArg struct {
	pkg, name string
	arg       int
	minArgs   int
}

var keyCalls = []keyArg{
	{"i18n", "M", 0, 1},
	{"apperr", "New", 1, 2},
	{"apperr", "NotFoundf", 0, 1},
	{"apperr", "InvalidField", 1, 2},
	{"web", "Render", 5, 7},
	{"web", "Redirect", 3, 4},
	{"web", "Flash", 1, 2},
	{"", "Add", 1, 2}, // apperr.Fields.Add(field, key, ...)
	{"", "T", 1, 3},   // (*i18n.Catalog).T(lang, key, args)
}

// keyFields are composite-literal types whose Key field names a catalog key.
var keyFields = map[string]bool{"NavItem": true, "Msg": true}

func typeName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.StarExpr:
		return typeName(x.X)
	case *ast.ArrayType:
		return typeName(x.Elt)
	case *ast.MapType:
		return typeName(x.Value)
	}
	return ""
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// goKeyUses finds the catalog keys that the non-test Go files name as string literals.
func goKeyUses(t *testing.T, root string) []keyUse {
	t.Helper()
	var uses []keyUse
	fset := token.NewFileSet()
	walkSource(t, root, ".go", func(p string) {
		if strings.HasSuffix(p, "_test.go") {
			return
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Errorf("parse %s: %v", p, err)
			return
		}
		add := func(e ast.Expr) {
			if s, ok := stringLit(e); ok && keyPattern.MatchString(s) {
				uses = append(uses, keyUse{key: s, pos: fset.Position(e.Pos()).String()})
			}
		}
		// Elements of slice and map literals may omit their type: note it first.
		elided := map[*ast.CompositeLit]string{}
		ast.Inspect(f, func(n ast.Node) bool {
			x, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			var elem string
			switch tt := x.Type.(type) {
			case *ast.ArrayType:
				elem = typeName(tt.Elt)
			case *ast.MapType:
				elem = typeName(tt.Value)
			default:
				return true
			}
			for _, el := range x.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					el = kv.Value
				}
				if inner, ok := el.(*ast.CompositeLit); ok && inner.Type == nil {
					elided[inner] = elem
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg := ""
				if id, ok := sel.X.(*ast.Ident); ok {
					pkg = id.Name
				}
				for _, kc := range keyCalls {
					if sel.Sel.Name == kc.name && len(x.Args) >= kc.minArgs && (kc.pkg == "" || kc.pkg == pkg) {
						add(x.Args[kc.arg])
						break
					}
				}
			case *ast.CompositeLit:
				name := typeName(x.Type)
				if x.Type == nil {
					name = elided[x]
				}
				if !keyFields[name] {
					return true
				}
				for _, el := range x.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Key" {
							add(kv.Value)
						}
					}
				}
			}
			return true
		})
	})
	return uses
}

// tmplKey matches {{t "key" ...}} and (t "key" ...) in templates.
var tmplKey = regexp.MustCompile(`(?:\{\{-?|\()\s*t\s+"([^"]+)"`)

func templateKeyUses(t *testing.T, root string) []keyUse {
	t.Helper()
	var uses []keyUse
	walkSource(t, root, ".html", func(p string) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			return
		}
		lines := strings.Split(string(b), "\n")
		for i, line := range lines {
			for _, m := range tmplKey.FindAllStringSubmatch(line, -1) {
				uses = append(uses, keyUse{key: m[1], pos: p + ":" + strconv.Itoa(i+1)})
			}
		}
	})
	return uses
}

// TestUsedKeysExist: every key the code or a template names exists in zh-CN (and so, by
// TestSameKeysInEveryLanguage, in every language). Keys built at run time ("role."+code)
// are not literals and are checked by the tests below instead.
func TestUsedKeysExist(t *testing.T) {
	root := moduleRoot(t)
	c := i18n.MustLoad()
	goUses := goKeyUses(t, root)
	tmplUses := templateKeyUses(t, root)
	if len(goUses) == 0 || len(tmplUses) == 0 {
		t.Fatalf("found %d key uses in Go and %d in templates: the scan is broken", len(goUses), len(tmplUses))
	}
	for _, u := range append(goUses, tmplUses...) {
		if !c.Has(u.key) {
			rel, err := filepath.Rel(root, u.pos)
			if err != nil {
				rel = u.pos
			}
			t.Errorf("%s: catalog key %q is not in the zh-CN catalog", rel, u.key)
		}
	}
}

// TestScannerFindsKnownUses guards the scanner itself against silently finding nothing.
func TestScannerFindsKnownUses(t *testing.T) {
	root := moduleRoot(t)
	seen := map[string]bool{}
	for _, u := range goKeyUses(t, root) {
		seen[u.key] = true
	}
	for _, u := range templateKeyUses(t, root) {
		seen[u.key] = true
	}
	// Known literal uses in code that is already in the repository: apperr's own keys,
	// httpx's decoder messages and the shell's templates.
	for _, k := range []string{"error.not_found", "error.malformed.unknown_field", "error.too_large", "home.welcome", "lang.choose"} {
		if !seen[k] {
			t.Errorf("scanner did not find the use of %q", k)
		}
	}
}

func TestPermissionLabelsExist(t *testing.T) {
	c := i18n.MustLoad()
	for _, p := range authz.Catalog {
		if !c.Has("perm." + p.Name) {
			t.Errorf("permission %s has no label key perm.%s", p.Name, p.Name)
		}
	}
}

func TestRoleNamesExist(t *testing.T) {
	c := i18n.MustLoad()
	for _, r := range authz.BuiltinRoles {
		if !c.Has("role." + r.Code) {
			t.Errorf("built-in role %s has no name key role.%s", r.Code, r.Code)
		}
	}
	if got := c.T(i18n.ZhCN, "role.admin", nil); got != "系统管理员" {
		t.Errorf("role.admin in zh-CN = %q, want 系统管理员 (SPEC §1)", got)
	}
}
