package tabular

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// rawCells reads a written file without this package's reader: what a spreadsheet
// program or another tool sees, the neutralizing apostrophes included.
func rawCells(t testing.TB, data []byte, format Format) [][]string {
	t.Helper()
	if format == CSV {
		cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("csv output does not parse: %v", err)
		}
		return recs
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("xlsx output does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("xlsx output does not read: %v", err)
	}
	return rows
}

// TestNeutralizeXLSXAndCSV: every text cell that starts with = + - @ tab or CR gets an
// apostrophe in both formats (headers too); numbers written as numbers, and numbers
// too long for Excel written as digits, stay as they are; this package's reader gives
// every text back unchanged, apostrophes a person typed included.
func TestNeutralizeXLSXAndCSV(t *testing.T) {
	texts := []string{"=1+1", "+8613800138000", "-2", "@SUM(A1)", "\t=1", "'=already", "''+x", "'plain", "ok", "a=b"}
	header := []string{"=HEADER", "b", "c", "d", "e", "f", "g", "h", "i", "j", "n1", "n2", "n3"}
	row := make([]any, 0, len(header))
	for _, s := range texts {
		row = append(row, s)
	}
	row = append(row, -5, -2.5, int64(-1234567890123456789))
	wantRaw := []string{"'=1+1", "'+8613800138000", "'-2", "'@SUM(A1)", "'\t=1", "''=already", "'''+x", "'plain", "ok", "a=b",
		"-5", "-2.5", "-1234567890123456789"}
	for _, f := range []Format{CSV, XLSX} {
		t.Run(f.String(), func(t *testing.T) {
			data := write(t, f, header, row)
			raw := rawCells(t, data, f)
			if len(raw) != 2 {
				t.Fatalf("%d raw rows", len(raw))
			}
			if raw[0][0] != "'=HEADER" {
				t.Errorf("header cell %q not neutralized", raw[0][0])
			}
			if !reflect.DeepEqual(raw[1], wantRaw) {
				t.Errorf("raw cells\n%q\nwant\n%q", raw[1], wantRaw)
			}
			h, rows := mustReadAll(t, data, f, Options{})
			if h[0] != "=HEADER" {
				t.Errorf("header read back %q", h[0])
			}
			want := append(append([]string(nil), texts...), "-5", "-2.5", "-1234567890123456789")
			if len(rows) != 1 || !reflect.DeepEqual(rows[0].Cells, want) {
				t.Errorf("read back %+v, want %q", rows, want)
			}
		})
	}
}

func TestNeutralizeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "'", "''", "=", "'=", "''=", "a", "'a", "-", "'-1", "@", "\r", "'\t"} {
		if got := unneutralize(neutralize(s)); got != s {
			t.Errorf("unneutralize(neutralize(%q)) = %q", s, got)
		}
		if n := neutralize(s); needsNeutralizing(n) {
			t.Errorf("neutralize(%q) = %q still starts with a formula character", s, n)
		}
	}
}

// FuzzWriter writes random cells (text, integers, floats) in both formats: the output
// always parses back, no text cell starts with a formula character, numbers are left
// alone, and this package's reader gives the text back.
func FuzzWriter(f *testing.F) {
	f.Add("=cmd|' /C calc'!A0", "+86 138", int64(-5), -1.5)
	f.Add("'=x", "@", int64(-1234567890123456789), 3.0)
	f.Add("\t\r\n", "长文本", int64(0), 0.0)
	f.Fuzz(func(t *testing.T, a, b string, n int64, fl float64) {
		if len(a) > 2000 || len(b) > 2000 {
			t.Skip()
		}
		row := []any{"x", a, b, n, fl}
		for _, format := range []Format{CSV, XLSX} {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, format, "s")
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteHeader([]string{"m", a, "b", "n", "f"}); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteRow(row); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			for _, r := range rawCells(t, buf.Bytes(), format) {
				for i, c := range r {
					if !needsNeutralizing(c) {
						continue
					}
					if _, err := strconv.ParseFloat(c, 64); err == nil && (i == 3 || i == 4) {
						continue // a number written as a number
					}
					t.Fatalf("%s: cell %d %q starts with a formula character", format, i, c)
				}
			}
			_, rows, err := readAll(t, buf.Bytes(), format, Options{})
			if err != nil {
				t.Fatalf("%s output does not read back: %v", format, err)
			}
			if len(rows) != 1 || len(rows[0].Cells) < 1 || rows[0].Cells[0] != "x" {
				t.Fatalf("%s: rows %+v", format, rows)
			}
			// Text without the characters the formats themselves cannot carry reads back
			// unchanged.
			if clean(a) && clean(b) && len(rows[0].Cells) >= 3 {
				if got := rows[0].Cells[1:3]; got[0] != a || got[1] != b {
					t.Fatalf("%s: read back %q, want %q", format, got, []string{a, b})
				}
			}
		}
	})
}

// clean: text that both formats carry exactly (valid UTF-8, no control character but
// tab and newline, no "_x" escape excelize would decode, no white space at the ends,
// which the reader trims).
func clean(s string) bool {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != '\t' && r != '\n' && (r < 0x20 || r == 0x7f || r == 0xfffd) }) &&
		!strings.Contains(s, "_x") && strings.TrimSpace(s) == s && s != "" {
		return strings.ToValidUTF8(s, "") == s
	}
	return false
}
