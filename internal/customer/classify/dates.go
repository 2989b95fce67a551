package classify

// Calendar days as ordinals (day 1 = 0001-01-01, proleptic Gregorian), so that the engine
// compares and subtracts integers instead of parsing times per transaction.

var daysBefore = [13]int{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func daysIn(y, m int) int {
	if m == 2 && isLeap(y) {
		return 29
	}
	return monthDays[m]
}

// ordinal returns the ordinal of the valid date y-m-d.
func ordinal(y, m, d int) int {
	p := y - 1
	n := p*365 + p/4 - p/100 + p/400 + daysBefore[m] + d
	if m > 2 && isLeap(y) {
		n++
	}
	return n
}

// parseDay parses a 'YYYY-MM-DD' day (years 1..9999) without allocating; ok is false
// for anything else, including dates that do not exist.
func parseDay(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	num := func(part string) (int, bool) {
		n := 0
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	var ok1, ok2, ok3 bool
	y, ok1 = num(s[:4])
	m, ok2 = num(s[5:7])
	d, ok3 = num(s[8:])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// dayOrdinal is parseDay then ordinal; 0 when s is not a valid day.
func dayOrdinal(s string) int {
	y, m, d, ok := parseDay(s)
	if !ok {
		return 0
	}
	return ordinal(y, m, d)
}

// addYears returns the ordinal of y-m-d plus n years; a day that does not exist in the
// target month (29 February in a common year) becomes the last day of that month.
func addYears(y, m, d, n int) int {
	y += n
	if dm := daysIn(y, m); d > dm {
		d = dm
	}
	return ordinal(y, m, d)
}
