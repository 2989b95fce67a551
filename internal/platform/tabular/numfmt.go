package tabular

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// numKind says how a number in a cell with a given number format reads as text.
type numKind uint8

const (
	kindNone     numKind = iota // a plain number
	kindDate                    // YYYY-MM-DD
	kindDateTime                // YYYY-MM-DD hh:mm:ss
	kindTime                    // hh:mm:ss
)

// Text layouts of dates and times read from XLSX cells.
const (
	DateLayout     = "2006-01-02"
	DateTimeLayout = "2006-01-02 15:04:05"
	TimeLayout     = "15:04:05"
)

// builtinKind classifies Excel's built-in number formats (ECMA-376 18.8.30, plus the
// ones Excel defines for Chinese, Japanese and Korean locales).
func builtinKind(id int) numKind {
	switch id {
	case 14, 15, 16, 17, 27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 57, 58:
		return kindDate
	case 22:
		return kindDateTime
	case 18, 19, 20, 21, 32, 33, 34, 35, 45, 46, 47, 55, 56:
		return kindTime
	}
	return kindNone
}

// classifyFormat classifies a custom number format code by the date and time tokens of
// its first section, ignoring quoted text, escaped characters and bracketed colours,
// conditions and locales.
func classifyFormat(code string) numKind {
	var date, clock, month bool
	for i := 0; i < len(code); i++ {
		ch := code[i]
		switch ch {
		case ';':
			i = len(code)
		case '"':
			for i++; i < len(code) && code[i] != '"'; i++ {
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				i = len(code)
				break
			}
			switch strings.ToLower(code[i+1 : i+j]) {
			case "h", "hh", "m", "mm", "s", "ss":
				clock = true
			}
			i += j
		case 'e', 'E':
			// E+ and E- are scientific notation; a lone e is the era year.
			if i+1 < len(code) && (code[i+1] == '+' || code[i+1] == '-') {
				i++
			} else if ch == 'e' {
				date = true
			}
		case 'y', 'Y', 'd', 'D':
			date = true
		case 'h', 'H', 's', 'S':
			clock = true
		case 'm', 'M':
			month = true
		case 'A', 'a':
			// AM/PM and A/P: the M and P are not month or anything else.
			if strings.HasPrefix(strings.ToUpper(code[i:]), "AM/PM") {
				clock = true
				i += 4
			} else if strings.HasPrefix(strings.ToUpper(code[i:]), "A/P") {
				clock = true
				i += 2
			}
		case 'G', 'g':
			// "General" is not a date format.
			if strings.HasPrefix(strings.ToLower(code[i:]), "general") {
				i += 6
			}
		}
	}
	switch {
	case date && clock:
		return kindDateTime
	case date || (month && !clock):
		return kindDate
	case clock:
		return kindTime
	}
	return kindNone
}

// Serial numbers of the earliest and latest dates Excel shows (1900 date system).
const maxSerial = 2958465 // 9999-12-31

// serialToTime converts an Excel serial date to a time, rounded to the second.
func serialToTime(f float64, date1904 bool) (time.Time, bool) {
	if math.IsNaN(f) || f < 0 || f > maxSerial+1 {
		return time.Time{}, false
	}
	days := math.Floor(f)
	secs := math.Round((f - days) * 86400)
	if secs >= 86400 {
		days++
		secs -= 86400
	}
	var base time.Time
	switch {
	case date1904:
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case days < 61:
		// Excel counts the non-existent 1900-02-29 as day 60.
		base = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)
	default:
		base = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	}
	return base.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second), true
}

func formatTime(t time.Time, kind numKind) string {
	switch kind {
	case kindDateTime:
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format(DateLayout)
		}
		return t.Format(DateTimeLayout)
	case kindTime:
		return t.Format(TimeLayout)
	}
	return t.Format(DateLayout)
}

// isoDateText formats the value of a t="d" cell (ISO 8601).
func isoDateText(v string) string {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return formatTime(t, kindDateTime)
		}
	}
	return v
}

// numberText renders a number cell's stored value as a person reads it: integers of
// any length exactly as stored (an 18-digit ID number keeps every digit), exponent
// notation expanded, and binary noise beyond Excel's 15 significant digits removed
// (0.30000000000000004 reads 0.3).
func numberText(v string) string {
	digits := 0
	plain := true
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch {
		case ch >= '0' && ch <= '9':
			if digits > 0 || ch != '0' {
				digits++
			}
		case ch == '-' && i == 0:
		case ch == '.':
		default:
			plain = false
		}
	}
	if plain && !strings.Contains(v, ".") {
		return v
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return v
	}
	if plain && digits <= 15 {
		return v
	}
	if digits > 15 {
		f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-9 || a >= 1e21) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
