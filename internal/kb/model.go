// Package kb is the knowledge base (FAQ, SPEC §2.2): articles in a category tree,
// written as drafts and published by supervisors, searched in Chinese by agents while
// they reply, and read by customers in the portal (published articles only).
package kb

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Permissions of the capability (listed in authz.Catalog).
const (
	// PermRead lets staff read and search published articles.
	PermRead = "kb:read"
	// PermWrite lets staff write, publish, unpublish and archive articles, see drafts
	// and manage the categories.
	PermWrite = "kb:write"
)

// Status of an article.
type Status string

// The statuses. Draft -> published (publish) -> draft (unpublish); any -> archived
// (DELETE). An archived article is kept for the record but leaves the index.
const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
	StatusArchived  Status = "archived"
)

// Statuses lists every status.
var Statuses = []Status{StatusDraft, StatusPublished, StatusArchived}

// ValidStatus reports whether s is a known status.
func ValidStatus(s Status) bool { return slices.Contains(Statuses, s) }

// Limits of the input.
const (
	MaxTitle    = 200
	MaxBody     = 50000
	MaxTags     = 20
	MaxTag      = 32
	MaxCatName  = 64
	MaxCatDepth = 5
	MaxQuery    = 100
	// SnippetRunes is the length of a suggestion's snippet.
	SnippetRunes = 80
)

// Article is one FAQ entry. Body is plain text; paragraphs are separated by blank
// lines and every page renders it escaped.
type Article struct {
	ID           int64     `json:"id"`
	Title        string    `json:"title"`
	Body         string    `json:"body" text:"multiline"`
	CategoryID   int64     `json:"category_id,omitempty"`
	CategoryName string    `json:"category,omitempty"`
	Tags         []string  `json:"tags"`
	Status       Status    `json:"status"`
	PublishedAt  time.Time `json:"-"`
	AuthorID     int64     `json:"author_id"`
	UpdatedBy    int64     `json:"updated_by"`
	Views        int64     `json:"views"`
	Version      int64     `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// MarshalJSON writes published_at as RFC 3339, or null when never published.
func (a Article) MarshalJSON() ([]byte, error) {
	type plain Article
	var pub *time.Time
	if !a.PublishedAt.IsZero() {
		t := a.PublishedAt.UTC()
		pub = &t
	}
	if a.Tags == nil {
		a.Tags = []string{}
	}
	return json.Marshal(struct {
		plain
		PublishedAt *time.Time `json:"published_at"`
	}{plain(a), pub})
}

// Published reports whether customers may read the article.
func (a Article) Published() bool { return a.Status == StatusPublished }

// Paragraphs splits the body into paragraphs at blank lines; each paragraph keeps its
// single line breaks as separate lines.
func (a Article) Paragraphs() [][]string { return Paragraphs(a.Body) }

// Paragraphs splits plain text into paragraphs (at blank lines) of lines.
func Paragraphs(body string) [][]string {
	var out [][]string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return out
}

// Snippet returns about n runes of body around the first occurrence of q (case
// insensitive), or its beginning; whitespace runs become single spaces.
func Snippet(body, q string, n int) string {
	text := strings.Join(strings.Fields(strings.ToValidUTF8(body, "\uFFFD")), " ")
	rs := []rune(text)
	if len(rs) <= n {
		return text
	}
	start := 0
	if q = strings.TrimSpace(q); q != "" {
		lower := lowerRunes([]rune(text))
		needle := lowerRunes([]rune(strings.Fields(q)[0]))
		if i := runeIndex(lower, needle); i > 0 {
			start = max(0, i-n/4)
		}
	}
	end := min(len(rs), start+n)
	if end-start < n {
		start = max(0, end-n)
	}
	s := string(rs[start:end])
	if start > 0 {
		s = "..." + s
	}
	if end < len(rs) {
		s += "..."
	}
	return s
}

// lowerRunes lower-cases rune by rune (so that indexes stay those of the original).
func lowerRunes(rs []rune) []rune {
	out := make([]rune, len(rs))
	for i, r := range rs {
		out[i] = unicode.ToLower(r)
	}
	return out
}

func runeIndex(hay, needle []rune) int {
	if len(needle) == 0 || len(needle) > len(hay) {
		return -1
	}
outer:
	for i := 0; i+len(needle) <= len(hay); i++ {
		for j, r := range needle {
			if hay[i+j] != r {
				continue outer
			}
		}
		return i
	}
	return -1
}

// Category is a node of the category tree.
type Category struct {
	ID        int64     `json:"id"`
	ParentID  int64     `json:"parent_id,omitempty"`
	Name      string    `json:"name"`
	SortOrder int       `json:"sort_order"`
	Depth     int       `json:"depth"`
	Path      string    `json:"path"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// Tree orders categories depth first (siblings by sort order, then name, then id) and
// fills Depth and Path ("parent / child"). Categories whose parent is missing are
// treated as roots.
func Tree(cats []Category) []Category {
	byID := make(map[int64]bool, len(cats))
	for _, c := range cats {
		byID[c.ID] = true
	}
	children := map[int64][]Category{}
	for _, c := range cats {
		p := c.ParentID
		if !byID[p] {
			p = 0
		}
		children[p] = append(children[p], c)
	}
	for _, l := range children {
		slices.SortFunc(l, func(a, b Category) int {
			if a.SortOrder != b.SortOrder {
				return a.SortOrder - b.SortOrder
			}
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return int(a.ID - b.ID)
		})
	}
	out := make([]Category, 0, len(cats))
	seen := map[int64]bool{}
	var walk func(parent int64, depth int, prefix string)
	walk = func(parent int64, depth int, prefix string) {
		for _, c := range children[parent] {
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			c.Depth = depth
			c.Path = c.Name
			if prefix != "" {
				c.Path = prefix + " / " + c.Name
			}
			out = append(out, c)
			walk(c.ID, depth+1, c.Path)
		}
	}
	walk(0, 0, "")
	return out
}

// Descendants returns id and the ids of every category below it.
func Descendants(cats []Category, id int64) []int64 {
	out := []int64{id}
	for i := 0; i < len(out); i++ {
		for _, c := range cats {
			if c.ParentID == out[i] && !slices.Contains(out, c.ID) {
				out = append(out, c.ID)
			}
		}
	}
	return out
}

// NormalizeTags trims, de-duplicates (case-insensitively) and drops empty tags; a tag
// may not hold commas or control characters.
func NormalizeTags(in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.Join(strings.Fields(t), " ")
		if t == "" {
			continue
		}
		k := strings.ToLower(t)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

// SplitTags splits a comma separated list (ASCII or full-width commas, or the Chinese
// enumeration comma) into tags.
func SplitTags(s string) []string {
	return NormalizeTags(strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '\uff0c' || r == '\u3001' || r == ';' || r == '\uff1b'
	}))
}

// badText reports control characters (other than line breaks and tabs when multiline).
func badText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			if multiline {
				continue
			}
			return true
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}
