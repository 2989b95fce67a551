package i18n_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// embeddedFiles reads the real catalog files from the package directory: lang -> file
// base name -> key -> text.
func embeddedFiles(t *testing.T) map[string]map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]map[string]string{}
	for _, lang := range i18n.Languages {
		files, err := fs.Glob(osDir("locales"), lang+"/*.json")
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no catalog files for %s", lang)
		}
		out[lang] = map[string]map[string]string{}
		for _, f := range files {
			b, err := fs.ReadFile(osDir("locales"), f)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out[lang][path.Base(f)] = m
		}
	}
	return out
}

func TestCatalogsLoad(t *testing.T) {
	c, err := i18n.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, lang := range i18n.Languages {
		if n := len(c.Keys(lang)); n == 0 {
			t.Errorf("%s: empty catalog", lang)
		}
	}
	if i18n.Languages[0] != i18n.ZhCN {
		t.Errorf("default language = %q, want zh-CN", i18n.Languages[0])
	}
}

func TestSameKeysInEveryLanguage(t *testing.T) {
	c := i18n.MustLoad()
	src := c.Keys(i18n.ZhCN)
	for _, lang := range i18n.Languages[1:] {
		keys := c.Keys(lang)
		if missing := minus(src, keys); len(missing) > 0 {
			t.Errorf("%s lacks %d key(s) of zh-CN: %v", lang, len(missing), missing)
		}
		if extra := minus(keys, src); len(extra) > 0 {
			t.Errorf("%s has %d key(s) that zh-CN lacks: %v", lang, len(extra), extra)
		}
	}
}

// TestSameFilesInEveryLanguage checks that each capability's file exists in every
// language and holds the same keys, so a key lives in the same file everywhere.
func TestSameFilesInEveryLanguage(t *testing.T) {
	files := embeddedFiles(t)
	for name, src := range files[i18n.ZhCN] {
		for _, lang := range i18n.Languages[1:] {
			other, ok := files[lang][name]
			if !ok {
				t.Errorf("%s/%s missing (zh-CN has it)", lang, name)
				continue
			}
			if d := minus(keysOf(src), keysOf(other)); len(d) > 0 {
				t.Errorf("%s/%s lacks %v", lang, name, d)
			}
		}
	}
	for _, lang := range i18n.Languages[1:] {
		for name := range files[lang] {
			if _, ok := files[i18n.ZhCN][name]; !ok {
				t.Errorf("%s/%s has no zh-CN source file", lang, name)
			}
		}
	}
}

func TestSamePlaceholders(t *testing.T) {
	c := i18n.MustLoad()
	for _, key := range c.Keys(i18n.ZhCN) {
		want := c.Placeholders(i18n.ZhCN, key)
		for _, lang := range i18n.Languages[1:] {
			if got := c.Placeholders(lang, key); !slices.Equal(uniq(got), uniq(want)) {
				t.Errorf("%s: %s placeholders %v, zh-CN has %v", key, lang, got, want)
			}
		}
	}
}

func TestNoEmptyOrUntrimmedTexts(t *testing.T) {
	for lang, files := range embeddedFiles(t) {
		for name, m := range files {
			for k, v := range m {
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s/%s: %s is empty", lang, name, k)
				}
				if strings.TrimSpace(v) != v {
					t.Errorf("%s/%s: %s has leading or trailing space", lang, name, k)
				}
				if strings.Count(v, "{") != strings.Count(v, "}") {
					t.Errorf("%s/%s: %s has unbalanced braces: %q", lang, name, k, v)
				}
			}
		}
	}
}

// TestEnglishHasNoHan catches untranslated copies of the Chinese source.
func TestEnglishHasNoHan(t *testing.T) {
	c := i18n.MustLoad()
	for _, k := range c.Keys(i18n.En) {
		if s := c.T(i18n.En, k, nil); hasHan(s) {
			t.Errorf("en %s = %q contains Chinese characters", k, s)
		}
	}
}

func TestLanguageSelfNames(t *testing.T) {
	c := i18n.MustLoad()
	want := map[string]string{i18n.ZhCN: "简体中文", i18n.En: "English", i18n.ZhTW: "繁體中文"}
	for lang, name := range want {
		if got := c.T(lang, "lang.self", nil); got != name {
			t.Errorf("lang.self in %s = %q, want %q", lang, got, name)
		}
	}
}

func TestLoadFSErrors(t *testing.T) {
	good := `{"a.b": "x"}`
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"missing language", fstest.MapFS{
			"l/zh-CN/a.json": {Data: []byte(good)},
			"l/en/a.json":    {Data: []byte(good)},
		}, "zh-TW"},
		{"bad json", fstest.MapFS{
			"l/zh-CN/a.json": {Data: []byte(`{"a.b": `)},
			"l/en/a.json":    {Data: []byte(good)},
			"l/zh-TW/a.json": {Data: []byte(good)},
		}, "parse"},
		{"non-string value", fstest.MapFS{
			"l/zh-CN/a.json": {Data: []byte(`{"a.b": 1}`)},
			"l/en/a.json":    {Data: []byte(good)},
			"l/zh-TW/a.json": {Data: []byte(good)},
		}, "parse"},
		{"key in two files", fstest.MapFS{
			"l/zh-CN/a.json": {Data: []byte(good)},
			"l/zh-CN/b.json": {Data: []byte(good)},
			"l/en/a.json":    {Data: []byte(good)},
			"l/zh-TW/a.json": {Data: []byte(good)},
		}, "repeated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := i18n.LoadFS(tc.fs, "l")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadFS error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func testCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.LoadFS(fstest.MapFS{
		"l/zh-CN/a.json": {Data: []byte(`{"greet": "你好，{name}", "only.zh": "仅中文", "wrap": "缺少{thing}", "thing.x": "东西", "two": "{a}和{a}{b}"}`)},
		"l/en/a.json":    {Data: []byte(`{"greet": "Hello, {name}", "wrap": "Missing {thing}", "thing.x": "item", "two": "{a} and {a}{b}"}`)},
		"l/zh-TW/a.json": {Data: []byte(`{"greet": "您好，{name}"}`)},
	}, "l")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestT(t *testing.T) {
	c := testCatalog(t)
	tests := []struct {
		lang, key string
		args      map[string]any
		want      string
	}{
		{i18n.ZhCN, "greet", map[string]any{"name": "张三"}, "你好，张三"},
		{i18n.En, "greet", map[string]any{"name": "Li"}, "Hello, Li"},
		{i18n.ZhTW, "greet", map[string]any{"name": "王"}, "您好，王"},
		{i18n.En, "greet", nil, "Hello, {name}"},                                // missing argument stays visible
		{i18n.En, "greet", map[string]any{"other": 1}, "Hello, {name}"},         // unrelated argument ignored
		{i18n.En, "only.zh", nil, "仅中文"},                                        // falls back to zh-CN
		{i18n.ZhTW, "wrap", map[string]any{"thing": i18n.M("thing.x")}, "缺少东西"}, // fallback, nested message
		{i18n.En, "wrap", map[string]any{"thing": i18n.M("thing.x")}, "Missing item"},
		{i18n.En, "no.such.key", nil, "no.such.key"}, // unknown key: the key itself
		{"fr", "greet", map[string]any{"name": "Jean"}, "你好，Jean"},
		{i18n.En, "two", map[string]any{"a": 1, "b": true}, "1 and 1true"},
	}
	for _, tc := range tests {
		if got := c.T(tc.lang, tc.key, tc.args); got != tc.want {
			t.Errorf("T(%s, %s, %v) = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
	if got := c.Msg(i18n.En, i18n.M("greet", "name", "Ann")); got != "Hello, Ann" {
		t.Errorf("Msg = %q", got)
	}
	if !c.Has("only.zh") || c.Has("nope") {
		t.Error("Has is wrong")
	}
	if got := c.Placeholders(i18n.En, "two"); !slices.Equal(got, []string{"a", "a", "b"}) {
		t.Errorf("Placeholders = %v", got)
	}
}

func TestM(t *testing.T) {
	m := i18n.M("k", "a", 1, "b", "x", "dangling")
	if m.Key != "k" || len(m.Args) != 2 || m.Args["a"] != 1 || m.Args["b"] != "x" {
		t.Errorf("M = %+v", m)
	}
	if m := i18n.M("k"); m.Args != nil {
		t.Errorf("M without args has Args %v", m.Args)
	}
}

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"":           "",
		"zh":         i18n.ZhCN,
		"zh-CN":      i18n.ZhCN,
		"zh-cn":      i18n.ZhCN,
		" zh-CN ":    i18n.ZhCN,
		"zh-Hans":    i18n.ZhCN,
		"zh-Hans-CN": i18n.ZhCN,
		"zh-SG":      i18n.ZhCN,
		"zh-TW":      i18n.ZhTW,
		"zh-HK":      i18n.ZhTW,
		"zh-MO":      i18n.ZhTW,
		"zh-Hant":    i18n.ZhTW,
		"zh-Hant-TW": i18n.ZhTW,
		"en":         i18n.En,
		"EN-us":      i18n.En,
		"en-GB":      i18n.En,
		"fr":         "",
		"english":    "",
		"*":          "",
		"zhx":        "",
		"de-DE":      "",
	}
	for in, want := range tests {
		if got := i18n.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", i18n.ZhCN},
		{"*", i18n.ZhCN},
		{"fr-FR, de;q=0.8", i18n.ZhCN},
		{"en", i18n.En},
		{"en-US,en;q=0.9", i18n.En},
		{"zh-TW", i18n.ZhTW},
		{"zh-HK,zh;q=0.9,en;q=0.8", i18n.ZhTW},
		{"en;q=0.5, zh-CN;q=0.9", i18n.ZhCN},
		{"zh-CN;q=0.2, en;q=0.8", i18n.En},
		{"fr, en;q=0.1", i18n.En},
		{"en;q=abc, zh-TW;q=0.1", i18n.ZhTW},   // a broken q counts as 0
		{"zh-Hant;q=0.7, en;q=0.7", i18n.ZhTW}, // ties keep the first
		{" en-GB ; q=0.3 ", i18n.En},
		{",,,", i18n.ZhCN},
	}
	for _, tc := range tests {
		if got := i18n.Negotiate(tc.header); got != tc.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestLangContext(t *testing.T) {
	ctx := context.Background()
	if got := i18n.Lang(ctx); got != i18n.ZhCN {
		t.Errorf("default Lang = %q", got)
	}
	if got := i18n.Lang(i18n.WithLang(ctx, i18n.En)); got != i18n.En {
		t.Errorf("Lang = %q, want en", got)
	}
	if got := i18n.Lang(i18n.WithLang(ctx, "")); got != i18n.ZhCN {
		t.Errorf("empty Lang = %q, want zh-CN", got)
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "en", "zh-TW;q=0.8, en;q=0.9", "zh-Hant", "en;q=NaN", "en;q=1e309",
		"zh;q=-1", ";;;", "en-US,en;q=0.9,zh-CN;q=0.8", "\x00", "zh-\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := i18n.Negotiate(header)
		if !slices.Contains(i18n.Languages, got) {
			t.Fatalf("Negotiate(%q) = %q, not a supported language", header, got)
		}
		for _, part := range strings.Split(header, ",") {
			if n := i18n.Normalize(part); n != "" && !slices.Contains(i18n.Languages, n) {
				t.Fatalf("Normalize(%q) = %q, not a supported language", part, n)
			}
		}
		// Negotiation only ever picks a language named in the header, else the default.
		if got != i18n.ZhCN {
			found := false
			for _, part := range strings.Split(header, ",") {
				tag, _, _ := strings.Cut(part, ";")
				if i18n.Normalize(tag) == got {
					found = true
				}
			}
			if !found {
				t.Fatalf("Negotiate(%q) = %q, which the header does not name", header, got)
			}
		}
	})
}

func osDir(p string) fs.FS { return os.DirFS(p) }

func minus(a, b []string) []string {
	set := map[string]bool{}
	for _, s := range b {
		set[s] = true
	}
	var out []string
	for _, s := range a {
		if !set[s] {
			out = append(out, s)
		}
	}
	return out
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return slices.Compact(s)
}
