// Package tabular reads and writes spreadsheets for imports and exports: CSV and Excel
// (.xlsx) files with Chinese headers, streamed row by row so that files of 100,000 rows
// and more are read and written in bounded memory.
//
// Reading (NewReader) yields the header row and then the data rows as text, the way a
// person sees them in Excel:
//   - CSV in UTF-8 (with or without a byte order mark) or GB18030/GBK, which is what
//     Excel on Chinese Windows writes when saving "CSV (comma delimited)". The encoding
//     is detected: a file that is valid UTF-8 is UTF-8, anything else is GB18030.
//   - XLSX: the first sheet (or a named one) is streamed straight out of the zip
//     archive. Dates (serial numbers in a cell with a date format) come out as
//     "YYYY-MM-DD" ("YYYY-MM-DD hh:mm:ss" with a time of day); numbers come out as
//     their exact value, so an 18-digit ID number stored as a number keeps all its
//     digits, never "1.1010519491231E+17". Number formats other than dates are not
//     applied: 12.5 formatted as currency reads "12.5".
//
// Rows whose cells are all blank are skipped. Row.Number is the row number that Excel
// shows for the row (the header is row 1 when it is the first line), so error reports
// point at the right line.
//
// Writing (NewWriter) produces UTF-8 CSV with a byte order mark and CRLF line ends (so
// Excel on Windows shows Chinese correctly), or XLSX through excelize's StreamWriter
// with a bold, frozen header row. Strings are written as text cells so that leading
// zeros and long digit strings survive; numbers as numbers; time.Time as dates.
//
// Formula injection: a string cell starting with = + - @ tab or carriage return could
// be run as a formula by a spreadsheet program (or become one when a person edits the
// cell, or when the sheet is saved again as CSV). In CSV and XLSX alike such a cell is
// written with a leading apostrophe, as OWASP recommends; this package's reader
// removes it again, so exports read back (and import) unchanged. Numbers written as
// numbers are not text and are left alone; in XLSX every string is moreover an inline
// string cell, never a formula.
//
// Known limits of the output: encoding/csv, writing CRLF line ends, drops a carriage
// return that is not followed by a line feed; excelize cuts a string cell at 32,767
// characters (Excel's limit). Text cells in CSV are plain text, so Excel opening a CSV
// shows an 18-digit number as 1.10105E+17: offer .xlsx to people who use Excel.
//
// Every error meant for the user is an *apperr.Error with a catalog key from
// internal/platform/i18n/locales/<lang>/tabular.json.
package tabular

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Format is a spreadsheet file format.
type Format int

// The supported formats.
const (
	CSV Format = iota + 1
	XLSX
)

// String returns the format's usual file extension without the dot.
func (f Format) String() string {
	switch f {
	case CSV:
		return "csv"
	case XLSX:
		return "xlsx"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ContentType returns the MIME type to serve a file of the format with.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Catalog keys of the errors and labels of this package.
const (
	KeyXLSUnsupported    = "tabular.xls_unsupported"
	KeyFormatUnsupported = "tabular.format_unsupported"
	KeyXLSXInvalid       = "tabular.xlsx_invalid"
	KeyCSVInvalid        = "tabular.csv_invalid"
	KeySheetNotFound     = "tabular.sheet_not_found"
	KeyEmpty             = "tabular.empty"
	KeyTooManyRows       = "tabular.too_many_rows"
	KeyTooManyColumns    = "tabular.too_many_columns"
	KeyCellTooLong       = "tabular.cell_too_long"
	KeyRowTooLong        = "tabular.row_too_long"
	KeyFileTooLarge      = "tabular.file_too_large"

	KeyHeaderMissing    = "tabular.header.missing"
	KeyHeaderMissingOne = "tabular.header.missing_column"
	KeyHeaderUnknown    = "tabular.header.unknown"
	KeyHeaderDuplicate  = "tabular.header.duplicate"
	KeyListJoin         = "tabular.list_join"

	KeyReportSheet   = "tabular.report.sheet"
	KeyReportRow     = "tabular.report.row"
	KeyReportColumn  = "tabular.report.column"
	KeyReportProblem = "tabular.report.problem"
	KeyTemplateSheet = "tabular.template.sheet"
)

// Keys lists every catalog key this package uses.
func Keys() []string {
	return []string{
		KeyXLSUnsupported, KeyFormatUnsupported, KeyXLSXInvalid, KeyCSVInvalid, KeySheetNotFound,
		KeyEmpty, KeyTooManyRows, KeyTooManyColumns, KeyCellTooLong, KeyRowTooLong, KeyFileTooLarge,
		KeyHeaderMissing, KeyHeaderMissingOne, KeyHeaderUnknown, KeyHeaderDuplicate, KeyListJoin,
		KeyReportSheet, KeyReportRow, KeyReportColumn, KeyReportProblem, KeyTemplateSheet,
	}
}

// FormatOf returns the format of a file by its name's extension: .csv or .xlsx (any
// case). An old Excel 97-2003 .xls file is refused with a message asking the user to
// save it as .xlsx.
func FormatOf(filename string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(strings.TrimSpace(filename)))
	switch ext {
	case ".csv":
		return CSV, nil
	case ".xlsx":
		return XLSX, nil
	case ".xls", ".xlsb", ".xlsm", ".et":
		return 0, apperr.New(apperr.Malformed, KeyXLSUnsupported).WithCode("unsupported_format")
	}
	return 0, apperr.New(apperr.Malformed, KeyFormatUnsupported, "ext", ext).WithCode("unsupported_format")
}

// Options limit what a Reader accepts. Zero values take the defaults.
type Options struct {
	// Sheet names the XLSX sheet to read; empty means the first sheet.
	Sheet string
	// MaxRows is the most data rows (after the header, blank rows not counted).
	MaxRows int
	// MaxColumns is the most columns a row may have.
	MaxColumns int
	// MaxCellBytes is the longest cell value in bytes of UTF-8.
	MaxCellBytes int
	// MaxRowBytes bounds one CSV record (all its fields and separators) in bytes.
	MaxRowBytes int
	// MaxUnzipBytes bounds the total uncompressed size of an XLSX archive: the
	// protection against zip bombs. Parts other than worksheets and the shared string
	// table are also bounded by MaxPartBytes.
	MaxUnzipBytes int64
	// MaxPartBytes bounds the uncompressed size of an XLSX part that is read whole
	// (workbook, relationships, styles).
	MaxPartBytes int64
	// MaxSharedStringsBytes bounds the uncompressed size of an XLSX shared string
	// table, which is held in memory while the sheet is read.
	MaxSharedStringsBytes int64
}

// Defaults.
const (
	DefaultMaxRows       = 200_000
	DefaultMaxColumns    = 256
	DefaultMaxCellBytes  = 32 * 1024
	DefaultMaxRowBytes   = 4 << 20
	DefaultMaxUnzipBytes = 1 << 30
	DefaultMaxPartBytes  = 32 << 20

	DefaultMaxSharedStringsBytes = 256 << 20
)

func (o Options) withDefaults() Options {
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxColumns <= 0 {
		o.MaxColumns = DefaultMaxColumns
	}
	if o.MaxCellBytes <= 0 {
		o.MaxCellBytes = DefaultMaxCellBytes
	}
	if o.MaxRowBytes <= 0 {
		o.MaxRowBytes = DefaultMaxRowBytes
	}
	if o.MaxUnzipBytes <= 0 {
		o.MaxUnzipBytes = DefaultMaxUnzipBytes
	}
	if o.MaxPartBytes <= 0 {
		o.MaxPartBytes = DefaultMaxPartBytes
	}
	if o.MaxSharedStringsBytes <= 0 {
		o.MaxSharedStringsBytes = DefaultMaxSharedStringsBytes
	}
	return o
}

// Row is one data row.
type Row struct {
	// Number is the 1-based row number as a spreadsheet program shows it (the header
	// is row 1 when it is on the first line).
	Number int
	// Cells are the cell texts, left to right; trailing empty cells may be missing.
	Cells []string
}

// Cell returns the i-th cell, or "" past the end of the row.
func (r Row) Cell(i int) string {
	if i < 0 || i >= len(r.Cells) {
		return ""
	}
	return r.Cells[i]
}

// rowSource is a format's row producer: it returns non-blank rows, io.EOF at the end.
type rowSource interface {
	next() (Row, error)
	close() error
}

// Reader reads a spreadsheet's header and then its data rows.
type Reader struct {
	src    rowSource
	opts   Options
	header []string
	rows   int
	err    error
}

// NewReader opens a spreadsheet of the given format held in r (size bytes long) and
// reads its header row: the first row that is not blank. A file without one is
// refused (tabular.empty). Close the Reader when done.
func NewReader(r io.ReaderAt, size int64, format Format, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	var (
		src rowSource
		err error
	)
	switch format {
	case CSV:
		src, err = newCSVSource(r, size, opts)
	case XLSX:
		src, err = newXLSXSource(r, size, opts)
	default:
		return nil, fmt.Errorf("tabular: unknown format %d", int(format))
	}
	if err != nil {
		return nil, err
	}
	rd := &Reader{src: src, opts: opts}
	row, err := src.next()
	if errors.Is(err, io.EOF) {
		_ = src.close()
		return nil, apperr.New(apperr.Invalid, KeyEmpty).WithCode("empty_file")
	}
	if err != nil {
		_ = src.close()
		return nil, err
	}
	rd.header = trimTrailingEmpty(row.Cells)
	for i, h := range rd.header {
		rd.header[i] = normalizeSpace(h)
	}
	return rd, nil
}

// Header returns the header row's cells with surrounding spaces trimmed and trailing
// empty cells removed.
func (r *Reader) Header() []string { return r.header }

// Next returns the next non-blank data row, or io.EOF after the last one. After any
// error other than io.EOF the Reader is unusable and returns that error again.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	row, err := r.src.next()
	if err != nil {
		r.err = err
		return Row{}, err
	}
	r.rows++
	if r.rows > r.opts.MaxRows {
		r.err = apperr.New(apperr.TooLarge, KeyTooManyRows, "max", r.opts.MaxRows).WithCode("too_many_rows")
		return Row{}, r.err
	}
	row.Cells = trimTrailingEmpty(row.Cells)
	return row, nil
}

// Close releases the Reader's resources.
func (r *Reader) Close() error {
	if r.src == nil {
		return nil
	}
	err := r.src.close()
	r.src = nil
	if r.err == nil {
		r.err = errors.New("tabular: reader closed")
	}
	return err
}

func trimTrailingEmpty(cells []string) []string {
	n := len(cells)
	for n > 0 && cells[n-1] == "" {
		n--
	}
	return cells[:n]
}

// isBlank reports whether every cell is empty or only white space.
func isBlank(cells []string) bool {
	for _, c := range cells {
		if normalizeSpace(c) != "" {
			return false
		}
	}
	return true
}

// normalizeSpace trims ASCII and Unicode white space, including the ideographic
// (full-width) space, no-break space and a stray byte order mark.
func normalizeSpace(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case ' ', '\t', '\n', '\r', '\v', '\f', 0x00a0, 0x3000, 0xfeff, 0x200b:
			return true
		}
		return false
	})
}

// cellTooLong is the error for a cell over the limit; column is 0-based.
func cellTooLong(row, column, limit int) error {
	return apperr.New(apperr.TooLarge, KeyCellTooLong, "row", row, "column", ColumnName(column), "max", limit).
		WithCode("cell_too_long")
}

func tooManyColumns(row, limit int) error {
	return apperr.New(apperr.TooLarge, KeyTooManyColumns, "row", row, "max", limit).WithCode("too_many_columns")
}

// ColumnName returns the spreadsheet letter name of a 0-based column index: 0 -> "A",
// 26 -> "AA".
func ColumnName(i int) string {
	if i < 0 {
		return ""
	}
	var b [8]byte
	n := len(b)
	for i >= 0 && n > 0 {
		n--
		b[n] = byte('A' + i%26)
		i = i/26 - 1
	}
	return string(b[n:])
}
