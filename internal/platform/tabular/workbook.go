package tabular

import (
	"slices"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// Sheet is one table of a workbook: a header row and rows of values (string, numbers,
// anything excelize writes); Percent lists the columns holding percentages.
type Sheet struct {
	Name    string
	Header  []string
	Rows    [][]any
	Percent []int
}

// Workbook writes sheets as one .xlsx workbook (reports with several tables): a bold,
// frozen header row, numbers as numbers, percentages with one decimal, and text cells
// that a spreadsheet could take for a formula prefixed with an apostrophe, as Writer
// does. Sheet names are made valid and unique.
func Workbook(sheets []Sheet) ([]byte, error) {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}}})
	if err != nil {
		return nil, err
	}
	pctFmt := "0.0"
	pct, err := f.NewStyle(&excelize.Style{CustomNumFmt: &pctFmt})
	if err != nil {
		return nil, err
	}
	first := f.GetSheetName(0)
	used := map[string]bool{}
	for i, sh := range sheets {
		name := SheetName(sh.Name)
		for n := 2; used[name]; n++ {
			name = SheetName(sh.Name + " " + strconv.Itoa(n))
		}
		used[name] = true
		if i == 0 {
			if err := f.SetSheetName(first, name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return nil, err
		}
		if err := writeSheet(f, name, sh, bold, pct); err != nil {
			return nil, err
		}
	}
	f.SetActiveSheet(0)
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeSheet streams one sheet of Workbook.
func writeSheet(f *excelize.File, name string, sh Sheet, bold, pct int) error {
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	for c, hd := range sh.Header {
		if err := sw.SetColWidth(c+1, c+1, float64(max(12, min(40, 2*len([]rune(hd))+4)))); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	cells := make([]any, len(sh.Header))
	for c, hd := range sh.Header {
		cells[c] = excelize.Cell{StyleID: bold, Value: neutralize(hd)}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	for r, row := range sh.Rows {
		cells := make([]any, len(row))
		for c, v := range row {
			switch x := v.(type) {
			case string:
				cells[c] = neutralize(x)
			case float64:
				if slices.Contains(sh.Percent, c) {
					cells[c] = excelize.Cell{StyleID: pct, Value: x}
				} else {
					cells[c] = x
				}
			default:
				cells[c] = x
			}
		}
		ref, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(ref, cells); err != nil {
			return err
		}
	}
	return sw.Flush()
}
