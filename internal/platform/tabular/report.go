package tabular

import (
	"fmt"
	"io"

	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// RowError is one problem found in an imported file.
type RowError struct {
	// Row is the sheet row number (Row.Number); 0 for a problem with the whole file.
	Row int
	// Column is the header text of the column at fault, as the file has it; "" for a
	// problem with the whole row.
	Column string
	// Message is the problem in the reader's language. When empty, Msg is translated.
	Message string
	// Msg is the problem as a catalog message, used when Message is empty.
	Msg i18n.Msg
}

// WriteErrorReport writes an import's problems as an .xlsx file with the columns
// row number, column and problem, headed in lang.
func WriteErrorReport(w io.Writer, lang string, errs []RowError, cat *i18n.Catalog) error {
	wr, err := NewWriter(w, XLSX, cat.T(lang, KeyReportSheet, nil))
	if err != nil {
		return err
	}
	fail := func(err error) error {
		_ = wr.Close()
		return err
	}
	if err := wr.SetColumnWidths([]float64{10, 24, 80}); err != nil {
		return fail(err)
	}
	header := []string{cat.T(lang, KeyReportRow, nil), cat.T(lang, KeyReportColumn, nil), cat.T(lang, KeyReportProblem, nil)}
	if err := wr.WriteHeader(header); err != nil {
		return fail(err)
	}
	for _, e := range errs {
		msg := e.Message
		if msg == "" {
			msg = cat.Msg(lang, e.Msg)
		}
		var row any
		if e.Row > 0 {
			row = e.Row
		}
		if err := wr.WriteRow([]any{row, e.Column, msg}); err != nil {
			return fail(err)
		}
	}
	return wr.Close()
}

// WriteTemplate writes an import template: the columns' headers in lang (required
// columns in red in XLSX) and, when any column has an Example, one example row.
func WriteTemplate(w io.Writer, format Format, cols []Column, cat *i18n.Catalog, lang string) error {
	wr, err := NewWriter(w, format, cat.T(lang, KeyTemplateSheet, nil))
	if err != nil {
		return err
	}
	fail := func(err error) error {
		_ = wr.Close()
		return fmt.Errorf("tabular: template: %w", err)
	}
	header := make([]string, len(cols))
	required := make([]bool, len(cols))
	widths := make([]float64, len(cols))
	example := make([]any, len(cols))
	hasExample := false
	for i, c := range cols {
		header[i] = cat.T(lang, c.Header, nil)
		required[i] = c.Required
		widths[i] = c.Width
		if c.Example != "" {
			example[i] = cat.T(lang, c.Example, nil)
			hasExample = true
		}
	}
	if err := wr.SetColumnWidths(widths); err != nil {
		return fail(err)
	}
	if err := wr.writeHeader(header, required); err != nil {
		return fail(err)
	}
	if hasExample {
		if err := wr.WriteRow(example); err != nil {
			return fail(err)
		}
	}
	return wr.Close()
}
