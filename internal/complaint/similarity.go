package complaint

// OWNED BY the merge engineer: the text similarity and location matching behind likely
// duplicates. Pure functions, no I/O.

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSimilarityRunes bounds the text one similarity looks at (a request's title and body
// are far shorter; the cap keeps a hostile input cheap).
const maxSimilarityRunes = 20000

// foldWidth turns full-width ASCII variants (U+FF01-U+FF5E) and the ideographic space
// into their half-width forms, so a full-width "３" and "3" compare equal.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

// isCJKRune reports whether r is written without spaces between words (Han, kana, Hangul),
// so its text is compared by overlapping pairs of characters.
func isCJKRune(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		unicode.Is(unicode.Hangul, r)
}

// similarityTerms turns text into the terms its similarity counts: each run of CJK
// characters gives its overlapping bigrams (a one-character run gives that character),
// each run of letters and digits gives one lower-cased word; anything else separates.
// Full-width forms are folded to half-width first.
func similarityTerms(text string) map[string]int {
	terms := map[string]int{}
	var cjk, word []rune
	flushCJK := func() {
		switch len(cjk) {
		case 0:
		case 1:
			terms[string(cjk)]++
		default:
			for i := 0; i+1 < len(cjk); i++ {
				terms[string(cjk[i:i+2])]++
			}
		}
		cjk = cjk[:0]
	}
	flushWord := func() {
		if len(word) > 0 {
			terms[string(word)]++
		}
		word = word[:0]
	}
	n := 0
	for _, r := range text {
		if n++; n > maxSimilarityRunes {
			break
		}
		r = foldWidth(r)
		switch {
		case r == utf8.RuneError:
			flushCJK()
			flushWord()
		case isCJKRune(r):
			flushWord()
			cjk = append(cjk, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushCJK()
			word = append(word, unicode.ToLower(r))
		default:
			flushCJK()
			flushWord()
		}
	}
	flushCJK()
	flushWord()
	return terms
}

// Similarity is the Dice coefficient of the term multisets of a and b (see
// similarityTerms): 2·|A∩B| / (|A|+|B|), from 0 (nothing shared, or either text has no
// terms) to 1 (the same terms the same number of times). It is symmetric.
func Similarity(a, b string) float64 {
	return dice(similarityTerms(a), similarityTerms(b))
}

func dice(ta, tb map[string]int) float64 {
	na, nb := 0, 0
	for _, n := range ta {
		na += n
	}
	for _, n := range tb {
		nb += n
	}
	if na == 0 || nb == 0 {
		return 0
	}
	common := 0
	for t, n := range ta {
		common += min(n, tb[t])
	}
	return 2 * float64(common) / float64(na+nb)
}

// NormalizeLocation is the form of an address or building name that duplicate matching
// compares: trimmed, full-width folded to half-width, lower-cased, with every space removed.
func NormalizeLocation(s string) string {
	var b strings.Builder
	for _, r := range s {
		r = foldWidth(r)
		if unicode.IsSpace(r) || r == utf8.RuneError {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// minLocationContains is the least length (characters) of the shorter normalised
// location for "one contains the other" to count as the same place.
const minLocationContains = 4

// SameLocation reports whether two locations name the same place: after NormalizeLocation
// they are equal and not empty, or the shorter one has at least four characters and the
// longer one contains it (a building and one of its entrances).
func SameLocation(a, b string) bool {
	na, nb := NormalizeLocation(a), NormalizeLocation(b)
	if na == "" || nb == "" {
		return false
	}
	if na == nb {
		return true
	}
	if utf8.RuneCountInString(na) > utf8.RuneCountInString(nb) {
		na, nb = nb, na
	}
	return utf8.RuneCountInString(na) >= minLocationContains && strings.Contains(nb, na)
}
