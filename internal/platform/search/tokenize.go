package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the tokenizer. They bound the work and the index size of one document and
// one query, and keep every term inside what both engines accept (PostgreSQL keeps
// positions up to 16383 and lexemes up to 2046 bytes).
const (
	// MaxTerms is the number of terms indexed per document; later text is not indexed.
	MaxTerms = 10000
	// MaxWordBytes is the length a Latin/digit word is cut to (on both sides, so a
	// longer word still matches itself).
	MaxWordBytes = 64
	// MaxClauses is the number of ANDed parts a query keeps.
	MaxClauses = 16
	// MaxPhraseTerms is the number of terms a phrase keeps (a 33-character Chinese run).
	MaxPhraseTerms = 32
	// MinPrefixRunes is the shortest Latin/digit query word that matches as a prefix;
	// shorter words match exactly (a one-letter prefix would read half the index).
	MinPrefixRunes = 2
)

// unigramMark starts the single-character term of a CJK character ("_" + char). Words
// never contain it, so a unigram never collides with a bigram or a word, and no prefix
// query of ours (always a letter or digit first) reaches it.
const unigramMark = "_"

type runKind uint8

const (
	runWord runKind = iota + 1 // letters, digits, marks (non-CJK), lower-cased
	runCJK                     // Han, Hiragana, Katakana, Hangul, Bopomofo
)

// run is one maximal run of word or CJK characters. seg numbers the runs so that words
// joined only by connectors ("zhangsan@example.com", "v1.2", "a-b") share a segment.
type run struct {
	kind runKind
	text []rune
	seg  int
}

// fold maps full-width ASCII to ASCII and the ideographic space to a space (the part of
// NFKC that matters for Chinese input methods).
func fold(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

func isCJK(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r >= 0x4E00 && r <= 0x9FFF: // CJK Unified Ideographs, the common case
		return true
	case r >= 0x3000 && r <= 0x303F: // CJK symbols and punctuation
		return r == 0x3005 || r == 0x3007 || (r >= 0x3021 && r <= 0x3029) || (r >= 0x3038 && r <= 0x303B)
	case r >= 0xFF00 && r <= 0xFFEF: // half- and full-width forms
		return unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) ||
		unicode.Is(unicode.Bopomofo, r) || r == 0x30FC /* prolonged sound mark */ || r == 0x3005 /* iteration mark */
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// isConnector reports characters that split words but keep them in one segment, so a
// query "zhangsan@example.com" or "KF2026-0042" becomes a phrase of its words.
func isConnector(r rune) bool {
	switch r {
	case '@', '.', '_', '-', '+', '\'':
		return true
	}
	return false
}

// scan splits text into runs. Word runs are lower-cased and cut to MaxWordBytes.
func scan(text string) []run {
	var runs []run
	seg := 0
	var cur run
	// Every run's text is a piece of buf, which never grows past its capacity (there
	// are at most len(text) runes), so the pieces stay valid.
	buf := make([]rune, 0, len(text))
	begin := 0
	flush := func() {
		if cur.kind != 0 && len(buf) > begin {
			cur.text = buf[begin:len(buf):len(buf)]
			runs = append(runs, cur)
		}
		begin = len(buf)
		cur = run{}
	}
	curBytes := 0
	for _, r := range text { // invalid UTF-8 decodes to U+FFFD, a separator
		r = fold(r)
		switch {
		case isCJK(r):
			if cur.kind != runCJK {
				flush()
				seg++
				cur = run{kind: runCJK, seg: seg}
			}
			buf = append(buf, r)
		case isWordRune(r):
			if cur.kind != runWord {
				flush()
				if len(runs) == 0 || runs[len(runs)-1].kind != runWord || runs[len(runs)-1].seg != seg {
					seg++
				}
				cur = run{kind: runWord, seg: seg}
				curBytes = 0
			}
			r = unicode.ToLower(r)
			if n := utf8.RuneLen(r); n > 0 && curBytes+n <= MaxWordBytes {
				buf = append(buf, r)
				curBytes += n
			}
		case isConnector(r) && cur.kind == runWord:
			// Ends the word; the segment goes on if a word follows directly.
			flush()
		case isConnector(r) && cur.kind == 0 && len(runs) > 0 && runs[len(runs)-1].kind == runWord && runs[len(runs)-1].seg == seg:
			// a second connector ("a..b") keeps the segment
		default:
			flush()
			seg++
		}
	}
	flush()
	return runs
}

// Tokenize turns text into index terms, in order:
//   - a CJK run becomes its overlapping bigrams (ABCD -> AB BC CD, each letter a Han character) followed by one
//     unigram term per character ("_A" "_B" ...), so one-character queries work; the
//     unigrams also separate the bigrams of neighbouring runs, so a phrase never
//     matches across punctuation;
//   - letters and digits become lower-cased words (full-width folded to ASCII); any
//     other character splits; "zhangsan@example.com" gives zhangsan, example, com in
//     order (a query for the address is the phrase of those words);
//   - a word mixing letters and digits ("kf20261123") also yields its letter and digit
//     runs (kf, 20261123), appended after the ordered terms.
//
// At most MaxTerms terms are returned.
func Tokenize(text string) []string {
	_, terms := tokenize(text)
	return terms
}

// tokenize returns the terms joined by single spaces and the terms themselves as
// substrings of the joined string (two allocations instead of one per term).
func tokenize(text string) (string, []string) {
	var b strings.Builder
	b.Grow(len(text) * 3)
	var ends []int // end offset of each term in b
	var extra [][]rune
	full := false
	add := func(rs ...[]rune) {
		if len(ends) >= MaxTerms {
			full = true
			return
		}
		if len(ends) > 0 {
			b.WriteByte(' ')
		}
		for _, r := range rs {
			for _, c := range r {
				b.WriteRune(c)
			}
		}
		ends = append(ends, b.Len())
	}
	mark := []rune(unigramMark)
	for _, r := range scan(text) {
		if full {
			break
		}
		switch r.kind {
		case runCJK:
			for i := 0; i+1 < len(r.text); i++ {
				add(r.text[i : i+2])
			}
			for i := range r.text {
				add(mark, r.text[i:i+1])
			}
		case runWord:
			add(r.text)
			extra = append(extra, splitMixed(r.text)...)
		}
	}
	for _, e := range extra {
		add(e)
	}
	joined := b.String()
	terms := make([]string, len(ends))
	start := 0
	for i, e := range ends {
		terms[i] = joined[start:e]
		start = e + 1
	}
	return joined, terms
}

// splitMixed returns the letter runs and digit runs of a word that has both.
func splitMixed(w []rune) [][]rune {
	var hasL, hasD bool
	for _, r := range w {
		if unicode.IsDigit(r) {
			hasD = true
		} else {
			hasL = true
		}
	}
	if !hasL || !hasD {
		return nil
	}
	var out [][]rune
	start := 0
	for i := 1; i <= len(w); i++ {
		if i == len(w) || unicode.IsDigit(w[i]) != unicode.IsDigit(w[i-1]) {
			out = append(out, w[start:i])
			start = i
		}
	}
	return out
}

// Terms returns Tokenize(text) joined with single spaces, the form the SQLite index
// stores, for callers that keep it.
func Terms(text string) string {
	joined, _ := tokenize(text)
	return joined
}

// Clause is a phrase: its terms must occur at consecutive positions. With Prefix the
// last term matches any term that starts with it.
type Clause struct {
	Terms  []string
	Prefix bool
}

// Query is what a search box string means: every clause must match (AND).
type Query struct {
	Clauses []Clause
}

// Empty reports a query without terms (only punctuation, emoji or spaces): it matches
// nothing.
func (q Query) Empty() bool { return len(q.Clauses) == 0 }

// String renders the query for logs and tests: clauses joined by " & ", phrase terms by
// " ", a prefix marked with "*".
func (q Query) String() string {
	var b strings.Builder
	for i, c := range q.Clauses {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteString(strings.Join(c.Terms, " "))
		if c.Prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// ParseQuery tokenizes a search box string the way Tokenize tokenizes documents:
//   - one CJK character: its unigram term (A -> _A);
//   - two CJK characters: one bigram term (AB);
//   - a longer CJK run: the phrase of its consecutive bigrams (ABC -> AB BC);
//   - a Latin/digit word: a prefix term when it has at least MinPrefixRunes characters
//     (zhang matches zhangsan), else an exact term;
//   - words joined by connectors (@ . _ - + '): one phrase, prefix on its last word
//     (example.com -> "example com*");
//   - everything is ANDed; nothing of the input reaches the engine's query syntax except
//     as a quoted term, so no input can break it.
func ParseQuery(q string) Query {
	var out Query
	seen := map[string]bool{}
	addClause := func(c Clause) {
		if len(c.Terms) == 0 || len(out.Clauses) >= MaxClauses {
			return
		}
		if len(c.Terms) > MaxPhraseTerms {
			c.Terms = c.Terms[:MaxPhraseTerms]
			c.Prefix = false
		}
		key := strings.Join(c.Terms, " ")
		if c.Prefix {
			key += "*"
		}
		if seen[key] {
			return
		}
		seen[key] = true
		out.Clauses = append(out.Clauses, c)
	}
	runs := scan(q)
	for i := 0; i < len(runs); i++ {
		r := runs[i]
		switch r.kind {
		case runCJK:
			if len(r.text) == 1 {
				addClause(Clause{Terms: []string{unigramMark + string(r.text)}})
				continue
			}
			c := Clause{}
			for j := 0; j+1 < len(r.text); j++ {
				c.Terms = append(c.Terms, string(r.text[j:j+2]))
			}
			addClause(c)
		case runWord:
			c := Clause{Terms: []string{string(r.text)}}
			for i+1 < len(runs) && runs[i+1].kind == runWord && runs[i+1].seg == r.seg {
				i++
				c.Terms = append(c.Terms, string(runs[i].text))
			}
			c.Prefix = utf8.RuneCountInString(c.Terms[len(c.Terms)-1]) >= MinPrefixRunes
			addClause(c)
		}
	}
	return out
}

// fts5 renders q as an FTS5 MATCH expression: every clause a double-quoted phrase
// (quotes doubled), "*" after a prefix phrase, clauses joined by AND.
func (q Query) fts5() string {
	var b strings.Builder
	for i, c := range q.Clauses {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('"')
		for j, t := range c.Terms {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strings.ReplaceAll(t, `"`, `""`))
		}
		b.WriteByte('"')
		if c.Prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// tsquery renders q as a PostgreSQL tsquery literal: quoted lexemes (quotes and
// backslashes doubled), <-> between the terms of a phrase, :* on a prefix, & between
// clauses. The literal is cast with ::tsquery, so no text search parser re-splits it.
func (q Query) tsquery() string {
	var b strings.Builder
	for i, c := range q.Clauses {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteByte('(')
		for j, t := range c.Terms {
			if j > 0 {
				b.WriteString(" <-> ")
			}
			writeLexeme(&b, t)
			if c.Prefix && j == len(c.Terms)-1 {
				b.WriteString(":*")
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

func writeLexeme(b *strings.Builder, t string) {
	b.WriteByte('\'')
	for _, r := range t {
		switch r {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
}

// PostgreSQL limits of a tsvector: positions 1..16383, at most 256 per lexeme.
const (
	pgMaxPos        = 16383
	pgMaxPosPerTerm = 256
)

// tsvector renders terms (in document order) as a tsvector literal with positions.
func tsvector(terms []string) string {
	if len(terms) == 0 {
		return ""
	}
	pos := make(map[string][]int, len(terms))
	order := make([]string, 0, len(terms))
	for i, t := range terms {
		p := i + 1
		if p > pgMaxPos {
			p = pgMaxPos
		}
		ps, ok := pos[t]
		if !ok {
			order = append(order, t)
		}
		if len(ps) < pgMaxPosPerTerm && (len(ps) == 0 || ps[len(ps)-1] != p) {
			pos[t] = append(ps, p)
		}
	}
	var b strings.Builder
	b.Grow(len(terms) * 10)
	for i, t := range order {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeLexeme(&b, t)
		b.WriteByte(':')
		for j, p := range pos[t] {
			if j > 0 {
				b.WriteByte(',')
			}
			writeInt(&b, p)
		}
	}
	return b.String()
}

func writeInt(b *strings.Builder, n int) {
	var buf [8]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	b.Write(buf[i:])
}
