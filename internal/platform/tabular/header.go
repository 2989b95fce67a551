package tabular

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Column describes one column of an import or export.
type Column struct {
	// Key is the caller's name of the field ("mobile").
	Key string
	// Header is the catalog key of the header text ("customer.col.mobile"). A file's
	// header matches it in any supported language.
	Header string
	// Aliases are further accepted header texts ("Phone", "Cell"), matched like the
	// header: case, width and white space do not matter.
	Aliases []string
	// Required columns must be present in an imported file.
	Required bool
	// Example is an optional catalog key of an example value for templates.
	Example string
	// Width is an optional XLSX column width in characters.
	Width float64
}

// Mapping says which column of a file holds which field.
type Mapping struct {
	// ByIndex maps a file's column index to the Column.Key it holds.
	ByIndex map[int]string
	// ByKey maps a Column.Key to the file's column index.
	ByKey map[string]int
	// Unknown lists the header texts that match no column, in file order.
	Unknown []string

	unknownText string
}

// Get returns the trimmed value of the field key in row, "" when the file lacks it.
func (m Mapping) Get(r Row, key string) string {
	i, ok := m.ByKey[key]
	if !ok {
		return ""
	}
	return normalizeSpace(r.Cell(i))
}

// Values returns the row's trimmed values by field key, one entry per mapped column.
func (m Mapping) Values(r Row) map[string]string {
	out := make(map[string]string, len(m.ByKey))
	for key, i := range m.ByKey {
		out[key] = normalizeSpace(r.Cell(i))
	}
	return out
}

// UnknownErr returns an Invalid error naming the unknown columns, or nil when there
// are none: for imports that refuse columns they do not understand.
func (m Mapping) UnknownErr() error {
	if len(m.Unknown) == 0 {
		return nil
	}
	return apperr.New(apperr.Invalid, KeyHeaderUnknown, "columns", m.unknownText).
		WithCode("unknown_columns").With("unknown_columns", m.Unknown)
}

// NormalizeHeader folds a header text for matching: surrounding and inner white space
// (including the ideographic space) and required-field stars are removed, full-width
// letters and digits become ASCII, and letters lower case.
func NormalizeHeader(s string) string {
	s = width.Fold.String(s)
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '*' || r == 0xfeff || r == 0x200b {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// MapHeader matches a file's header against the columns. A header cell matches a
// column by the column's header text in any supported language (zh-CN, en, zh-TW), its
// aliases or its Key. Errors (Invalid): a required column is missing (the message,
// in lang, names all of them; Fields holds one entry per missing column), or two
// header cells name the same column. Unknown columns are not an error here: they are
// listed in Mapping.Unknown (see Mapping.UnknownErr). Blank header cells are ignored.
func MapHeader(header []string, cols []Column, cat *i18n.Catalog, lang string) (Mapping, error) {
	lookup := map[string]int{}
	for ci, c := range cols {
		names := []string{c.Key}
		for _, l := range i18n.Languages {
			names = append(names, cat.T(l, c.Header, nil))
		}
		names = append(names, c.Aliases...)
		for _, n := range names {
			k := NormalizeHeader(n)
			if k == "" {
				continue
			}
			if prev, ok := lookup[k]; ok && prev != ci {
				return Mapping{}, fmt.Errorf("tabular: header %q names both %s and %s", n, cols[prev].Key, c.Key)
			}
			lookup[k] = ci
		}
	}
	m := Mapping{ByIndex: map[int]string{}, ByKey: map[string]int{}}
	for i, h := range header {
		k := NormalizeHeader(h)
		if k == "" {
			continue
		}
		ci, ok := lookup[k]
		if !ok {
			m.Unknown = append(m.Unknown, normalizeSpace(h))
			continue
		}
		key := cols[ci].Key
		if _, dup := m.ByKey[key]; dup {
			return m, apperr.New(apperr.Invalid, KeyHeaderDuplicate, "column", normalizeSpace(h)).
				WithCode("duplicate_column").With("column", normalizeSpace(h))
		}
		m.ByIndex[i] = key
		m.ByKey[key] = i
	}
	m.unknownText = joinList(cat, lang, m.Unknown)
	var missing []string
	fields := apperr.Fields{}
	for _, c := range cols {
		if _, ok := m.ByKey[c.Key]; c.Required && !ok {
			missing = append(missing, cat.T(lang, c.Header, nil))
			fields.Add(c.Key, KeyHeaderMissingOne, "column", i18n.M(c.Header))
		}
	}
	if len(missing) > 0 {
		e, _ := apperr.As(fields.Err())
		e.Msg = i18n.M(KeyHeaderMissing, "columns", joinList(cat, lang, missing))
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return m, e.WithCode("missing_columns").With("missing_columns", keys)
	}
	return m, nil
}

// joinList joins items the way lang lists things ("a, b" or "a\u3001b").
func joinList(cat *i18n.Catalog, lang string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	out := items[0]
	for _, it := range items[1:] {
		out = cat.T(lang, KeyListJoin, map[string]any{"list": out, "item": it})
	}
	return out
}
