package tabular

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestWorkbook(t *testing.T) {
	body, err := Workbook([]Sheet{
		{Name: "Summary", Header: []string{"figure", "value"}, Rows: [][]any{{"=1+1", 3}, {"rate", 12.5}}, Percent: []int{1}},
		{Name: "Summary", Header: []string{"a"}, Rows: [][]any{{"x"}}},
		{Name: "a/b:c", Header: []string{"h"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := f.GetSheetList()
	if len(names) != 3 || names[0] != "Summary" || names[1] != "Summary 2" || names[2] == "a/b:c" {
		t.Fatalf("sheets %q: want unique valid names", names)
	}
	cases := []struct{ sheet, cell, want string }{
		{"Summary", "A1", "figure"},
		{"Summary", "A2", "'=1+1"}, // a would-be formula stays text
		{"Summary", "B2", "3"},
		{"Summary 2", "A2", "x"},
	}
	for _, c := range cases {
		got, err := f.GetCellValue(c.sheet, c.cell)
		if err != nil || got != c.want {
			t.Errorf("%s!%s = %q (%v), want %q", c.sheet, c.cell, got, err, c.want)
		}
	}
	if typ, _ := f.GetCellType("Summary", "B3"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("a number is written as text")
	}
}
