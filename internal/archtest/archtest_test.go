package archtest

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// capabilityOrder lists the capabilities (SPEC §2) from the bottom up: a capability may
// import only capabilities that come before it. A new capability must be added here, at
// the place that states what it may depend on. demo fills every capability with sample
// data and so comes last.
var capabilityOrder = []string{
	"org",        // departments, teams, staff, roles
	"customer",   // customer files, contacts, classification
	"kb",         // knowledge base / FAQ
	"ticket",     // service requests (uses customer, kb)
	"complaint",  // complaint workflow on top of tickets
	"activity",   // activities with customers (their end triggers return visits)
	"revisit",    // return visits triggered by tickets and complaints
	"survey",     // satisfaction surveys after tickets and visits
	"fieldvisit", // sales field visits (triggers revisits)
	"callcenter", // CTI, ACD, wallboard, quality inspection
	"wfm",        // forecasting and scheduling from call-center history
	"privacy",    // consent, access requests, data-subject requests, retention
	"report",     // reads the capabilities above through exported queries
	"portal",     // customer self-service
	"chat",       // live chat widget
	"demo",       // demo data for every capability
}

// layer classifies a module-relative package path.
type layer int

const (
	layerOther layer = iota
	layerCmd
	layerCLI
	layerApp
	layerConfig
	layerPlatform
	layerCapability
)

func classify(rel string) (layer, string) {
	switch {
	case rel == "cmd" || strings.HasPrefix(rel, "cmd/"):
		return layerCmd, ""
	case rel == "internal/cli" || strings.HasPrefix(rel, "internal/cli/"):
		return layerCLI, ""
	case rel == "internal/app" || strings.HasPrefix(rel, "internal/app/"):
		return layerApp, ""
	case rel == "internal/config" || strings.HasPrefix(rel, "internal/config/"):
		return layerConfig, ""
	case rel == "internal/platform" || strings.HasPrefix(rel, "internal/platform/"):
		return layerPlatform, ""
	case rel == "internal/archtest" || rel == "internal/e2e" || rel == "internal/faulttest":
		// Whole-system tests: they may import anything.
		return layerOther, ""
	case strings.HasPrefix(rel, "internal/"):
		// internal/<capability>[/sub...]: the capability is the first element.
		name := strings.SplitN(strings.TrimPrefix(rel, "internal/"), "/", 2)[0]
		return layerCapability, name
	}
	return layerOther, ""
}

// violation checks one import of package pkg (both module-relative). It returns "" when
// the import is allowed.
func violation(pkg, imp string) string {
	from, fromCap := classify(pkg)
	to, toCap := classify(imp)
	if to == layerCmd {
		return "nothing may import a command package"
	}
	switch from {
	case layerCmd:
		if to != layerCLI {
			return "cmd may import only internal/cli"
		}
	case layerPlatform:
		if to != layerPlatform && to != layerConfig {
			return "platform packages may import only platform packages and internal/config"
		}
	case layerConfig:
		if to != layerPlatform && to != layerConfig {
			return "internal/config may import only platform packages"
		}
	case layerApp:
		if to == layerCLI {
			return "internal/app must not import internal/cli"
		}
	case layerCapability:
		switch to {
		case layerApp, layerCLI:
			return "a capability must not import internal/app or internal/cli"
		case layerCapability:
			if fromCap == toCap {
				return ""
			}
			fi, ti := slices.Index(capabilityOrder, fromCap), slices.Index(capabilityOrder, toCap)
			if fi < 0 {
				return fmt.Sprintf("capability %q is not in capabilityOrder (internal/archtest)", fromCap)
			}
			if ti < 0 {
				return fmt.Sprintf("capability %q is not in capabilityOrder (internal/archtest)", toCap)
			}
			if ti > fi {
				return fmt.Sprintf("capability %s may not import %s, which comes later in capabilityOrder (use an event)", fromCap, toCap)
			}
		}
	}
	return ""
}

func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(m), `"`)
				}
			}
			t.Fatal("go.mod has no module line")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

// moduleImports maps each package (module-relative directory) to the module packages
// its non-test files import, with the file that imports each.
func moduleImports(t *testing.T) map[string]map[string]string {
	t.Helper()
	root, module := moduleRoot(t)
	out := map[string]map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if p != root && (strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		relDir, _ := filepath.Rel(root, filepath.Dir(p))
		relDir = filepath.ToSlash(relDir)
		relFile, _ := filepath.Rel(root, p)
		if out[relDir] == nil {
			out[relDir] = map[string]string{}
		}
		for _, is := range f.Imports {
			path, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				return err
			}
			if rel, ok := strings.CutPrefix(path, module+"/"); ok {
				out[relDir][rel] = relFile
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImportDirection(t *testing.T) {
	pkgs := moduleImports(t)
	if _, ok := pkgs["internal/platform/db"]; !ok {
		t.Fatalf("walk found %d packages but not internal/platform/db: the walk is broken", len(pkgs))
	}
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, pkg := range names {
		for imp, file := range pkgs[pkg] {
			if why := violation(pkg, imp); why != "" {
				t.Errorf("%s imports %s: %s", file, imp, why)
			}
		}
	}
}

// TestEveryCapabilityIsOrdered makes a new capability state its place in the order.
func TestEveryCapabilityIsOrdered(t *testing.T) {
	for pkg := range moduleImports(t) {
		if l, name := classify(pkg); l == layerCapability && !slices.Contains(capabilityOrder, name) {
			t.Errorf("%s: capability %q is missing from capabilityOrder in internal/archtest", pkg, name)
		}
	}
}

func TestViolationRules(t *testing.T) {
	tests := []struct {
		pkg, imp string
		bad      bool
	}{
		{"cmd/kefu", "internal/cli", false},
		{"cmd/kefu", "internal/app", true},
		{"cmd/kefu", "internal/platform/db", true},
		{"internal/cli", "internal/app", false},
		{"internal/cli", "internal/demo", false},
		{"internal/cli", "cmd/kefu", true},
		{"internal/app", "internal/org", false},
		{"internal/app", "internal/cli", true},
		{"internal/app/apptest", "internal/org", false},
		{"internal/platform/auth", "internal/platform/audit", false},
		{"internal/platform/auth", "internal/config", false},
		{"internal/platform/auth", "internal/org", true},
		{"internal/platform/web", "internal/app", true},
		{"internal/platform/db/dbtest", "internal/platform/db", false},
		{"internal/config", "internal/platform/db", false},
		{"internal/config", "internal/org", true},
		{"internal/org", "internal/platform/auth", false},
		{"internal/org", "internal/config", false},
		{"internal/org", "internal/app", true},
		{"internal/org", "internal/cli", true},
		{"internal/org", "internal/app/apptest", true},
		{"internal/org/orgtest", "internal/org", false},
		{"internal/ticket", "internal/customer", false},
		{"internal/customer", "internal/ticket", true},
		{"internal/complaint", "internal/ticket", false},
		{"internal/org", "internal/customer", true},
		{"internal/demo", "internal/org", false},
		{"internal/newthing", "internal/org", true},
		{"internal/org", "internal/newthing", true},
	}
	for _, tc := range tests {
		got := violation(tc.pkg, tc.imp)
		if (got != "") != tc.bad {
			t.Errorf("violation(%s -> %s) = %q, want bad=%v", tc.pkg, tc.imp, got, tc.bad)
		}
	}
}
