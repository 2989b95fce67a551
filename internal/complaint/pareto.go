package complaint

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The Pareto chart of causes is drawn by templates/analysis.html as SVG from the
// geometry computed here: bars sorted by count, highest first, on the left axis and the
// cumulative share as a line on the right axis (0-100%). No JavaScript.

// Chart size in SVG user units (the SVG scales to the page width).
const (
	paretoWidth      = 720
	paretoHeight     = 320
	paretoLeft       = 56 // room for the count axis
	paretoRight      = 56 // room for the percent axis
	paretoTop        = 16
	paretoBottom     = 56 // room for the cause labels
	paretoTicks      = 5  // intervals on each axis
	paretoLabelRunes = 8  // longer cause names are cut under the bar (the full name is the bar's title)
)

// ParetoChart is the SVG geometry of the Pareto chart. Coordinates are formatted
// numbers ready for attributes.
type ParetoChart struct {
	Width, Height int
	Empty         bool
	// The plot area.
	Left, Right, Top, Bottom string
	Bars                     []ParetoBar
	Line                     string // the cumulative line as polyline points
	Points                   []ParetoPoint
	CountTicks               []ChartTick // left axis
	PercentTicks             []ChartTick // right axis
}

// ParetoBar is one cause's bar.
type ParetoBar struct {
	X, Y, W, H string
	CX         string // the bar's centre (its label)
	LabelY     string
	Label      string // cut to fit
	Title      string // full name, count and shares (the tooltip)
	Count      int64
}

// ParetoPoint is one point of the cumulative line.
type ParetoPoint struct {
	X, Y  string
	Title string
}

// ChartTick is an axis tick: its position and text.
type ChartTick struct {
	Y    string
	Text string
}

func paretoNum(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// paretoCeil rounds n up to a step of 1, 2 or 5 times a power of ten so that the axis
// ticks are round numbers.
func paretoCeil(n int64, ticks int64) int64 {
	if n <= 0 {
		return ticks
	}
	step := (n + ticks - 1) / ticks
	pow := int64(1)
	for pow*10 <= step {
		pow *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*pow >= step {
			return m * pow * ticks
		}
	}
	return 10 * pow * ticks
}

func paretoCut(s string) string {
	if utf8.RuneCountInString(s) <= paretoLabelRunes {
		return s
	}
	return string([]rune(s)[:paretoLabelRunes-1]) + "…"
}

// buildPareto lays out items (already sorted, highest count first). titleOf formats a
// bar's tooltip.
func buildPareto(items []ParetoItem, titleOf func(ParetoItem) string) ParetoChart {
	ch := ParetoChart{Width: paretoWidth, Height: paretoHeight, Empty: len(items) == 0}
	left, right := float64(paretoLeft), float64(paretoWidth-paretoRight)
	top, bottom := float64(paretoTop), float64(paretoHeight-paretoBottom)
	ch.Left, ch.Right, ch.Top, ch.Bottom = paretoNum(left), paretoNum(right), paretoNum(top), paretoNum(bottom)
	var most int64
	for _, it := range items {
		most = max(most, it.Count)
	}
	scale := paretoCeil(most, paretoTicks)
	height := bottom - top
	for i := 0; i <= paretoTicks; i++ {
		y := bottom - height*float64(i)/paretoTicks
		ch.CountTicks = append(ch.CountTicks, ChartTick{Y: paretoNum(y), Text: strconv.FormatInt(scale*int64(i)/paretoTicks, 10)})
		ch.PercentTicks = append(ch.PercentTicks, ChartTick{Y: paretoNum(y), Text: strconv.Itoa(100*i/paretoTicks) + "%"})
	}
	if len(items) == 0 {
		return ch
	}
	slot := (right - left) / float64(len(items))
	barW := slot * 0.7
	var pts []string
	for i, it := range items {
		x := left + slot*float64(i) + (slot-barW)/2
		h := height * float64(it.Count) / float64(scale)
		cx := left + slot*float64(i) + slot/2
		title := titleOf(it)
		ch.Bars = append(ch.Bars, ParetoBar{X: paretoNum(x), Y: paretoNum(bottom - h), W: paretoNum(barW), H: paretoNum(h), CX: paretoNum(cx),
			LabelY: paretoNum(bottom + 18), Label: paretoCut(it.Label), Title: title, Count: it.Count})
		py := bottom - height*it.Cumulative/100
		ch.Points = append(ch.Points, ParetoPoint{X: paretoNum(cx), Y: paretoNum(py), Title: title})
		pts = append(pts, paretoNum(cx)+","+paretoNum(py))
	}
	ch.Line = strings.Join(pts, " ")
	return ch
}
