package tabular

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

// Writer writes a spreadsheet row by row. For XLSX nothing reaches the underlying
// io.Writer before Close, which assembles the archive (rows beyond a few megabytes are
// kept in a temporary file by excelize meanwhile); for CSV rows are written through a
// buffer as they come.
type Writer struct {
	format Format
	out    io.Writer

	bw *bufio.Writer
	cw *csv.Writer

	f        *excelize.File
	sw       *excelize.StreamWriter
	sheet    string
	styles   xlsxStyles
	widths   []float64
	prepared bool
	row      int

	closed bool
	err    error
}

type xlsxStyles struct {
	header, required, text, date, dateTime int
}

// Column widths of XLSX output, in Excel's character units.
const (
	minColumnWidth = 12
	maxColumnWidth = 60
)

// NewWriter starts a spreadsheet of the given format on w. sheetName names the XLSX
// sheet (characters Excel forbids in sheet names are replaced, the name is cut to 31
// characters; empty means "Sheet1"); CSV ignores it.
func NewWriter(w io.Writer, format Format, sheetName string) (*Writer, error) {
	wr := &Writer{format: format, out: w}
	switch format {
	case CSV:
		wr.bw = bufio.NewWriterSize(w, 64*1024)
		if _, err := wr.bw.Write(utf8BOM); err != nil {
			return nil, fmt.Errorf("tabular: write csv: %w", err)
		}
		wr.cw = csv.NewWriter(wr.bw)
		wr.cw.UseCRLF = true
	case XLSX:
		if err := wr.openXLSX(sheetName); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("tabular: unknown format %d", int(format))
	}
	return wr, nil
}

func (w *Writer) openXLSX(sheetName string) error {
	f := excelize.NewFile()
	name := SheetName(sheetName)
	if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
		_ = f.Close()
		return fmt.Errorf("tabular: sheet name: %w", err)
	}
	var err error
	st := &w.styles
	boldFill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}}
	border := []excelize.Border{{Type: "bottom", Color: "A6A6A6", Style: 1}}
	textFmt := 49 // "@": the cell stays text when edited
	if st.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: boldFill, Border: border, NumFmt: textFmt}); err != nil {
		return w.failOpen(f, err)
	}
	if st.required, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000"}, Fill: boldFill, Border: border, NumFmt: textFmt}); err != nil {
		return w.failOpen(f, err)
	}
	if st.text, err = f.NewStyle(&excelize.Style{NumFmt: textFmt}); err != nil {
		return w.failOpen(f, err)
	}
	dateFmt, dateTimeFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
	if st.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return w.failOpen(f, err)
	}
	if st.dateTime, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateTimeFmt}); err != nil {
		return w.failOpen(f, err)
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return w.failOpen(f, err)
	}
	w.f, w.sw, w.sheet = f, sw, name
	return nil
}

func (w *Writer) failOpen(f *excelize.File, err error) error {
	_ = f.Close()
	return fmt.Errorf("tabular: new xlsx: %w", err)
}

// SheetName makes s a valid Excel sheet name.
func SheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '[', ']', ':', '*', '?', '/', '\\':
			return '_'
		}
		if r < 0x20 {
			return -1
		}
		return r
	}, normalizeSpace(s))
	s = strings.Trim(s, "'")
	if utf8.RuneCountInString(s) > 31 {
		s = string([]rune(s)[:31])
	}
	if s == "" {
		return "Sheet1"
	}
	return s
}

// SetColumnWidths sets XLSX column widths in characters, left to right; a zero keeps
// the automatic width (from the header text). Call it before the first row. CSV
// ignores it.
func (w *Writer) SetColumnWidths(widths []float64) error {
	if w.format != XLSX {
		return nil
	}
	if w.prepared {
		return errors.New("tabular: SetColumnWidths after the first row")
	}
	w.widths = append([]float64(nil), widths...)
	return nil
}

// WriteHeader writes the header row: bold and frozen in XLSX.
func (w *Writer) WriteHeader(header []string) error {
	return w.writeHeader(header, nil)
}

// writeHeader writes the header; columns with required[i] set are highlighted.
func (w *Writer) writeHeader(header []string, required []bool) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.format == CSV {
		return w.writeCSV(stringsToAny(header))
	}
	if w.prepared {
		return w.fail(errors.New("tabular: WriteHeader after the first row"))
	}
	if err := w.prepareXLSX(header, true); err != nil {
		return w.fail(err)
	}
	cells := make([]any, len(header))
	for i, h := range header {
		style := w.styles.header
		if i < len(required) && required[i] {
			style = w.styles.required
		}
		cells[i] = excelize.Cell{StyleID: style, Value: neutralize(h)}
	}
	w.row++
	return w.setRow(cells)
}

// prepareXLSX sets column widths and, with a header, freezes the first row. excelize
// requires both before the first row is written.
func (w *Writer) prepareXLSX(header []string, freeze bool) error {
	w.prepared = true
	n := max(len(header), len(w.widths))
	for i := 0; i < n; i++ {
		wd := 0.0
		if i < len(w.widths) {
			wd = w.widths[i]
		}
		if wd <= 0 {
			wd = minColumnWidth
			if i < len(header) {
				wd = max(wd, float64(displayWidth(header[i])+4))
			}
		}
		wd = min(wd, maxColumnWidth)
		if err := w.sw.SetColWidth(i+1, i+1, wd); err != nil {
			return fmt.Errorf("tabular: column width: %w", err)
		}
	}
	if freeze {
		err := w.sw.SetPanes(&excelize.Panes{
			Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
			Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
		})
		if err != nil {
			return fmt.Errorf("tabular: freeze header: %w", err)
		}
	}
	return nil
}

// displayWidth counts East Asian wide characters as two columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// WriteRow writes one data row. Values: string (a text cell), integer and float types
// (numbers; an integer of more than 15 digits is written as text, which is all
// Excel can hold exactly), bool, time.Time (a date, or a date and time when the time
// of day is not midnight; the wall clock of the value's location is written), nil (an
// empty cell). Anything else is written as its fmt.Sprint text.
func (w *Writer) WriteRow(values []any) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.format == CSV {
		return w.writeCSV(values)
	}
	if !w.prepared {
		if err := w.prepareXLSX(nil, false); err != nil {
			return w.fail(err)
		}
	}
	cells := make([]any, len(values))
	for i, v := range values {
		cells[i] = w.xlsxCell(v)
	}
	w.row++
	return w.setRow(cells)
}

func (w *Writer) setRow(cells []any) error {
	ref, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return w.fail(err)
	}
	if err := w.sw.SetRow(ref, cells); err != nil {
		return w.fail(fmt.Errorf("tabular: write row %d: %w", w.row, err))
	}
	return nil
}

func (w *Writer) xlsxCell(v any) any {
	// digits is a number that is written as text (too long for Excel to hold): it is
	// made of digits and a sign, never a formula, and stays as it is.
	digits := func(s string) any {
		if s == "" {
			return nil
		}
		return excelize.Cell{StyleID: w.styles.text, Value: s}
	}
	text := func(s string) any { return digits(neutralize(s)) }
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return text(x)
	case []byte:
		return text(string(x))
	case int:
		return bigIntAsText(int64(x), digits)
	case int64:
		return bigIntAsText(x, digits)
	case int32, int16, int8, uint8, uint16, uint32:
		return x
	case uint:
		return bigUintAsText(uint64(x), digits)
	case uint64:
		return bigUintAsText(x, digits)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
		return x
	case bool:
		return x
	case time.Time:
		if x.IsZero() {
			return nil
		}
		if x.Year() < 1900 {
			return text(timeText(x))
		}
		style := w.styles.date
		if hasClock(x) {
			style = w.styles.dateTime
		}
		return excelize.Cell{StyleID: style, Value: x}
	case *time.Time:
		if x == nil {
			return nil
		}
		return w.xlsxCell(*x)
	case fmt.Stringer:
		return text(x.String())
	}
	return text(fmt.Sprint(v))
}

// maxExactInt is the largest integer Excel keeps exactly (15 significant digits).
const maxExactInt = 999_999_999_999_999

func bigIntAsText(v int64, text func(string) any) any {
	if v > maxExactInt || v < -maxExactInt {
		return text(strconv.FormatInt(v, 10))
	}
	return v
}

func bigUintAsText(v uint64, text func(string) any) any {
	if v > maxExactInt {
		return text(strconv.FormatUint(v, 10))
	}
	return v
}

func hasClock(t time.Time) bool {
	return t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0
}

func timeText(t time.Time) string {
	if hasClock(t) {
		return t.Format(DateTimeLayout)
	}
	return t.Format(DateLayout)
}

// csvText renders a value as CSV text.
func csvText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return neutralize(x)
	case []byte:
		return neutralize(string(x))
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32, int16, int8, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return ""
		}
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return timeText(x)
	case *time.Time:
		if x == nil {
			return ""
		}
		return csvText(*x)
	case fmt.Stringer:
		return neutralize(x.String())
	}
	return neutralize(fmt.Sprint(v))
}

func (w *Writer) writeCSV(values []any) error {
	rec := make([]string, len(values))
	for i, v := range values {
		rec[i] = csvText(v)
	}
	if err := w.cw.Write(rec); err != nil {
		return w.fail(fmt.Errorf("tabular: write csv: %w", err))
	}
	return nil
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (w *Writer) usable() error {
	if w.closed {
		return errors.New("tabular: writer closed")
	}
	return w.err
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return err
}

// Close finishes the file: for XLSX it writes the whole archive to the underlying
// writer. Close must be called; after a write error it only releases resources.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.format == CSV {
		w.cw.Flush()
		if err := w.cw.Error(); err != nil {
			return fmt.Errorf("tabular: write csv: %w", err)
		}
		if err := w.bw.Flush(); err != nil {
			return fmt.Errorf("tabular: write csv: %w", err)
		}
		return w.err
	}
	defer w.f.Close()
	if w.err != nil {
		return w.err
	}
	if err := w.sw.Flush(); err != nil {
		return fmt.Errorf("tabular: finish xlsx: %w", err)
	}
	if _, err := w.f.WriteTo(w.out); err != nil {
		return fmt.Errorf("tabular: write xlsx: %w", err)
	}
	return nil
}
