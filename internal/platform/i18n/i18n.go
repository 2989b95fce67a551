// Package i18n holds the message catalogs (zh-CN is the source, en and zh-TW follow),
// language negotiation and the Msg type that domain errors carry untranslated.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Supported languages, the first is the default.
const (
	ZhCN = "zh-CN"
	En   = "en"
	ZhTW = "zh-TW"
)

// Languages lists the supported languages, default first.
var Languages = []string{ZhCN, En, ZhTW}

//go:embed locales
var localeFS embed.FS

// Msg is a translatable message: a catalog key and named arguments.
type Msg struct {
	Key  string
	Args map[string]any
}

// M builds a Msg from a key and alternating name/value pairs.
func M(key string, kv ...any) Msg {
	m := Msg{Key: key}
	if len(kv) > 1 {
		m.Args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m.Args[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return m
}

// Catalog holds the translations of every supported language.
type Catalog struct {
	msgs map[string]map[string]string
}

// Load reads the embedded catalogs.
func Load() (*Catalog, error) {
	return LoadFS(localeFS, "locales")
}

// LoadFS reads the catalogs under dir in fsys: one folder per language, each holding
// flat JSON files (one per capability) whose keys must not repeat across files.
func LoadFS(fsys fs.FS, dir string) (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, lang := range Languages {
		files, err := fs.Glob(fsys, path.Join(dir, lang, "*.json"))
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("i18n: no catalog files for %s", lang)
		}
		all := map[string]string{}
		for _, f := range files {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, fmt.Errorf("i18n: read %s: %w", f, err)
			}
			m := map[string]string{}
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("i18n: parse %s: %w", f, err)
			}
			for k, v := range m {
				if _, dup := all[k]; dup {
					return nil, fmt.Errorf("i18n: key %q repeated in %s", k, f)
				}
				all[k] = v
			}
		}
		c.msgs[lang] = all
	}
	return c, nil
}

// MustLoad is Load for tests and start-up; a broken embedded catalog is a build defect.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

var placeholder = regexp.MustCompile(`\{([a-zA-Z0-9_]+)\}`)

// T translates key into lang, filling {name} placeholders from args. A key missing in
// lang falls back to zh-CN, then to the key itself.
func (c *Catalog) T(lang, key string, args map[string]any) string {
	s, ok := c.msgs[lang][key]
	if !ok {
		s, ok = c.msgs[ZhCN][key]
		if !ok {
			return key
		}
	}
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		name := p[1 : len(p)-1]
		if v, ok := args[name]; ok {
			if inner, ok := v.(Msg); ok {
				return c.T(lang, inner.Key, inner.Args)
			}
			return fmt.Sprint(v)
		}
		return p
	})
}

// Msg translates m into lang.
func (c *Catalog) Msg(lang string, m Msg) string { return c.T(lang, m.Key, m.Args) }

// Has reports whether key exists in the source catalog.
func (c *Catalog) Has(key string) bool { _, ok := c.msgs[ZhCN][key]; return ok }

// Keys returns the sorted keys of lang.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Placeholders returns the placeholder names used by key in lang, sorted.
func (c *Catalog) Placeholders(lang, key string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(c.msgs[lang][key], -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return names
}

// Normalize maps a language tag to a supported language, or "" if none matches.
func Normalize(tag string) string {
	t := strings.ToLower(strings.TrimSpace(tag))
	switch {
	case t == "":
		return ""
	case t == "zh-tw" || t == "zh-hk" || t == "zh-mo" || strings.HasPrefix(t, "zh-hant"):
		return ZhTW
	case t == "zh" || strings.HasPrefix(t, "zh-"):
		return ZhCN
	case t == "en" || strings.HasPrefix(t, "en-"):
		return En
	}
	return ""
}

// Negotiate picks the best supported language from an Accept-Language header,
// honouring q-values; zh-CN when nothing matches.
func Negotiate(header string) string {
	best, bestQ := "", -1.0
	for _, part := range strings.Split(header, ",") {
		tag, q := part, 1.0
		if i := strings.Index(part, ";"); i >= 0 {
			tag = part[:i]
			params := strings.TrimSpace(part[i+1:])
			if v, ok := strings.CutPrefix(params, "q="); ok {
				if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
					q = 0
				}
			}
		}
		if lang := Normalize(tag); lang != "" && q > bestQ {
			best, bestQ = lang, q
		}
	}
	if best == "" {
		return ZhCN
	}
	return best
}

type ctxKey struct{}

// WithLang stores the request's language in ctx.
func WithLang(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, ctxKey{}, lang)
}

// Lang returns the language in ctx, zh-CN by default.
func Lang(ctx context.Context) string {
	if l, ok := ctx.Value(ctxKey{}).(string); ok && l != "" {
		return l
	}
	return ZhCN
}
