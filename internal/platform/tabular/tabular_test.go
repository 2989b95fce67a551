package tabular

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// wantKey fails unless err is an *apperr.Error with the given message key.
func wantKey(t *testing.T, err error, key string) *apperr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", key)
	}
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("got %v (%T), want an apperr with key %s", err, err, key)
	}
	if e.Msg.Key != key {
		t.Fatalf("got key %s (%v), want %s", e.Msg.Key, err, key)
	}
	return e
}

// readAll reads a whole file: header and data rows.
func readAll(t *testing.T, data []byte, format Format, opts Options) ([]string, []Row, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), format, opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r.Header(), rows, nil
		}
		if err != nil {
			return r.Header(), rows, err
		}
		rows = append(rows, row)
	}
}

func mustReadAll(t *testing.T, data []byte, format Format, opts Options) ([]string, []Row) {
	t.Helper()
	h, rows, err := readAll(t, data, format, opts)
	if err != nil {
		t.Fatalf("read %s: %v", format, err)
	}
	return h, rows
}

// write builds a file from a header and rows.
func write(t testing.TB, format Format, header []string, rows ...[]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, format, "客户")
	if err != nil {
		t.Fatal(err)
	}
	if header != nil {
		if err := w.WriteHeader(header); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		name string
		want Format
		key  string
	}{
		{"客户.csv", CSV, ""},
		{"客户.CSV", CSV, ""},
		{"客户 2024.xlsx", XLSX, ""},
		{"  report.XLSX ", XLSX, ""},
		{"old.xls", 0, KeyXLSUnsupported},
		{"macro.xlsm", 0, KeyXLSUnsupported},
		{"notes.txt", 0, KeyFormatUnsupported},
		{"noext", 0, KeyFormatUnsupported},
	}
	for _, tt := range tests {
		got, err := FormatOf(tt.name)
		if tt.key != "" {
			e := wantKey(t, err, tt.key)
			if e.Kind != apperr.Malformed {
				t.Errorf("%s: kind %v", tt.name, e.Kind)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FormatOf(%q) = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	header := []string{"客户名称", "编号", "身份证号", "手机号", "金额", "数量", "生日", "登记时间", "备注", "启用"}
	day := time.Date(1990, 7, 15, 0, 0, 0, 0, time.UTC)
	stamp := time.Date(2024, 1, 5, 13, 45, 30, 0, time.FixedZone("CST", 8*3600))
	rows := [][]any{
		{"北京某某科技有限公司", "000123", "11010519491231002X", "13800138000", 12.5, 42, day, stamp, "第一行\n第二行", true},
		{"张三", "0042", "110105194912310021", "+86 138 0013 8000", -3.25, int64(110105194912310021), nil, nil, `他说"你好", 再见`, false},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}, // blank: skipped
		{"=1+2", "@SUM(A1)", "-5", "\tx", "", "", time.Time{}, nil, "  前后空格  ", nil},
	}
	want := []Row{
		{Number: 2, Cells: []string{"北京某某科技有限公司", "000123", "11010519491231002X", "13800138000", "12.5", "42", "1990-07-15", "2024-01-05 13:45:30", "第一行\n第二行", "TRUE"}},
		{Number: 3, Cells: []string{"张三", "0042", "110105194912310021", "+86 138 0013 8000", "-3.25", "110105194912310021", "", "", `他说"你好", 再见`, "FALSE"}},
		{Number: 5, Cells: []string{"=1+2", "@SUM(A1)", "-5", "\tx", "", "", "", "", "  前后空格  "}},
	}
	for _, format := range []Format{CSV, XLSX} {
		t.Run(format.String(), func(t *testing.T) {
			data := write(t, format, header, rows...)
			gotHeader, got := mustReadAll(t, data, format, Options{})
			if !reflect.DeepEqual(gotHeader, header) {
				t.Errorf("header = %q, want %q", gotHeader, header)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("rows:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestCSVOutputBytes(t *testing.T) {
	data := write(t, CSV, []string{"姓名", "备注"}, []any{"张三", "=HYPERLINK(\"x\")"}, []any{"李四", "a\r\nb"})
	if !bytes.HasPrefix(data, utf8BOM) {
		t.Fatalf("no UTF-8 BOM: % x", data[:8])
	}
	want := "\ufeff姓名,备注\r\n张三,\"'=HYPERLINK(\"\"x\"\")\"\r\n李四,\"a\r\nb\"\r\n"
	if string(data) != want {
		t.Errorf("csv =\n%q\nwant\n%q", data, want)
	}
}

// TestFormulaInjection: a would-be formula is neutralized in CSV (apostrophe) and is
// a plain inline string, never a formula, in XLSX; both read back unchanged.
func TestFormulaInjection(t *testing.T) {
	evil := []string{"=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1,2)", "\t=1", "\r=1"}
	row := make([]any, len(evil))
	for i, s := range evil {
		row[i] = s
	}
	header := []string{"a", "b", "c", "d", "e", "f"}

	csvData := write(t, CSV, header, row)
	for _, s := range evil {
		if !bytes.Contains(csvData, []byte("'"+strings.TrimPrefix(s, "\r")[:2])) {
			t.Errorf("csv: %q not neutralized in %q", s, csvData)
		}
	}
	xlsxData := write(t, XLSX, header, row)
	sheet := zipPart(t, xlsxData, "xl/worksheets/sheet1.xml")
	if strings.Contains(sheet, "<f>") || strings.Contains(sheet, "<f ") {
		t.Errorf("xlsx sheet has a formula: %s", sheet)
	}
	if n := strings.Count(sheet, `t="inlineStr"`); n < len(evil)+len(header) {
		t.Errorf("xlsx: %d inline string cells, want %d", n, len(evil)+len(header))
	}
	for _, f := range []Format{CSV, XLSX} {
		data := csvData
		if f == XLSX {
			data = xlsxData
		}
		want := append([]string(nil), evil...)
		if f == CSV {
			// encoding/csv with CRLF line ends drops a carriage return that is not
			// followed by a line feed.
			want[5] = "=1"
		}
		_, rows := mustReadAll(t, data, f, Options{})
		if len(rows) != 1 || !reflect.DeepEqual(rows[0].Cells, want) {
			t.Errorf("%s read back %+v, want %q", f, rows, want)
		}
	}
}

func zipPart(t *testing.T, data []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("no part %s", name)
	return ""
}

func TestXLSXHeaderFrozenAndBold(t *testing.T) {
	data := write(t, XLSX, []string{"客户名称", "身份证号"}, []any{"张三", "110105194912310021"})
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetName(0); got != "客户" {
		t.Errorf("sheet name %q", got)
	}
	panes, err := f.GetPanes("客户")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, %v; want the header row frozen", panes, err)
	}
	sid, err := f.GetCellStyle("客户", "A1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(sid)
	if err != nil || st.Font == nil || !st.Font.Bold {
		t.Errorf("header style %+v, %v; want bold", st, err)
	}
	w, err := f.GetColWidth("客户", "B")
	if err != nil || w < minColumnWidth {
		t.Errorf("column width %v, %v", w, err)
	}
	// The ID number is a text cell, so Excel shows it whole.
	typ, err := f.GetCellType("客户", "B2")
	if err != nil || typ != excelize.CellTypeInlineString {
		t.Errorf("B2 type = %v, %v; want an inline string", typ, err)
	}
}

// buildXLSX makes a workbook with excelize's ordinary (non-stream) API, the way other
// programs write cells: numbers as numbers, shared strings, date styles.
func buildXLSX(t *testing.T, fill func(f *excelize.File, sheet string)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	fill(f, "Sheet1")
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXCellValues(t *testing.T) {
	data := buildXLSX(t, func(f *excelize.File, s string) {
		style := func(st *excelize.Style) int {
			id, err := f.NewStyle(st)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		custom := func(code string) int { return style(&excelize.Style{CustomNumFmt: &code}) }
		set := func(cell string, v any, styleID int) {
			if err := f.SetCellValue(s, cell, v); err != nil {
				t.Fatal(err)
			}
			if styleID != 0 {
				if err := f.SetCellStyle(s, cell, cell, styleID); err != nil {
					t.Fatal(err)
				}
			}
		}
		setRaw := func(cell, v string, styleID int) {
			if err := f.SetCellDefault(s, cell, v); err != nil {
				t.Fatal(err)
			}
			if styleID != 0 {
				if err := f.SetCellStyle(s, cell, cell, styleID); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, h := range []string{"名称", "身份证号(数字)", "身份证号(文本)", "手机号", "日期14", "日期自定义", "日期时间", "时间", "金额", "小数"} {
			cell, _ := excelize.CoordinatesToCellName(i+1, 1)
			set(cell, h, 0)
		}
		set("A2", "甲", 0)
		if err := f.SetCellInt(s, "B2", 110105194912310021); err != nil { // a number, all 18 digits
			t.Fatal(err)
		}
		if err := f.SetCellStr(s, "C2", "110105194912310021"); err != nil {
			t.Fatal(err)
		}
		set("D2", 13800138000, 0)
		setRaw("E2", "45296", style(&excelize.Style{NumFmt: 14})) // 2024-01-05
		setRaw("F2", "45296.75", custom(`yyyy"年"m"月"d"日"`))
		setRaw("G2", "45296.573611111111", style(&excelize.Style{NumFmt: 22}))
		setRaw("H2", "0.5", style(&excelize.Style{NumFmt: 20}))
		setRaw("I2", "12.5", custom(`"¥"#,##0.00;[Red]-"¥"#,##0.00`))
		setRaw("J2", "0.30000000000000004", 0)

		// Row 3: what Excel itself writes for an ID typed as a number, a gap, a
		// percentage and a boolean.
		set("A3", "乙", 0)
		setRaw("B3", "1.10105194912312E+17", 0)
		set("D3", true, 0)
		setRaw("E3", "0.15", style(&excelize.Style{NumFmt: 10}))
		setRaw("F3", "45296", custom("yyyy/m/d;@"))
		setRaw("G3", "45296", custom("[$-804]yyyy\\-mm\\-dd"))
		setRaw("I3", "1234.5", custom("0.00E+00"))
		// Row 5 after an empty row 4; trailing empties do not count.
		set("A5", "丙", 0)
		set("C5", "  ", 0)
	})
	_, rows := mustReadAll(t, data, XLSX, Options{})
	want := []Row{
		{Number: 2, Cells: []string{"甲", "110105194912310021", "110105194912310021", "13800138000", "2024-01-05", "2024-01-05", "2024-01-05 13:46:00", "12:00:00", "12.5", "0.3"}},
		{Number: 3, Cells: []string{"乙", "110105194912312000", "", "TRUE", "0.15", "2024-01-05", "2024-01-05", "", "1234.5"}},
		{Number: 5, Cells: []string{"丙", "", "  "}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}
}

func TestXLSXDate1904AndNamedSheet(t *testing.T) {
	data := buildXLSX(t, func(f *excelize.File, s string) {
		yes := true
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.NewSheet("第二页"); err != nil {
			t.Fatal(err)
		}
		id, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
		_ = f.SetCellValue(s, "A1", "第一页")
		_ = f.SetCellValue("第二页", "A1", "日期")
		_ = f.SetCellDefault("第二页", "A2", "0")
		_ = f.SetCellStyle("第二页", "A2", "A2", id)
		_ = f.SetCellDefault("第二页", "A3", "366")
		_ = f.SetCellStyle("第二页", "A3", "A3", id)
	})
	h, _ := mustReadAll(t, data, XLSX, Options{})
	if !reflect.DeepEqual(h, []string{"第一页"}) {
		t.Errorf("first sheet header %q", h)
	}
	h, rows := mustReadAll(t, data, XLSX, Options{Sheet: "第二页"})
	if !reflect.DeepEqual(h, []string{"日期"}) || len(rows) != 2 || rows[0].Cells[0] != "1904-01-01" || rows[1].Cells[0] != "1905-01-01" {
		t.Errorf("second sheet %q %+v", h, rows)
	}
	_, _, err := readAll(t, data, XLSX, Options{Sheet: "无此页"})
	wantKey(t, err, KeySheetNotFound)
}

func TestNumberHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"42": "42", "-7": "-7", "0012": "0012", "110105194912310021": "110105194912310021",
		"12.5": "12.5", "0.1": "0.1", "0.30000000000000004": "0.3", "1.1000000000000001": "1.1",
		"1.10105194912312E+17": "110105194912312000", "1E-3": "0.001", "abc": "abc", "1e400": "1e400",
	} {
		if got := numberText(in); got != want {
			t.Errorf("numberText(%q) = %q, want %q", in, got, want)
		}
	}
	for code, want := range map[string]numKind{
		"General": kindNone, "0.00": kindNone, "0.00E+00": kindNone, "@": kindNone, `#,##0 "元"`: kindNone,
		"yyyy/m/d": kindDate, `yyyy"年"m"月"d"日"`: kindDate, "mmm-yy": kindDate, "[$-F800]dddd, mmmm dd, yyyy": kindDate,
		"yyyy-mm-dd hh:mm:ss": kindDateTime, "m/d/yy h:mm AM/PM": kindDateTime,
		"h:mm": kindTime, "[h]:mm:ss": kindTime, "mm:ss": kindTime, `[Red]"d"0`: kindNone,
	} {
		if got := classifyFormat(code); got != want {
			t.Errorf("classifyFormat(%q) = %v, want %v", code, got, want)
		}
	}
	for serial, want := range map[float64]string{1: "1900-01-01", 59: "1900-02-28", 61: "1900-03-01", 45296: "2024-01-05", 2958465: "9999-12-31"} {
		tm, ok := serialToTime(serial, false)
		if !ok || tm.Format(DateLayout) != want {
			t.Errorf("serialToTime(%v) = %v, %v; want %s", serial, tm, ok, want)
		}
	}
	if got := ColumnName(0) + ColumnName(25) + ColumnName(26) + ColumnName(701) + ColumnName(702); got != "AZAAZZAAA" {
		t.Errorf("ColumnName = %q", got)
	}
}

func TestCSVEncodings(t *testing.T) {
	text := "姓名,手机号,地址\r\n张三,13800138000,\"上海市\r\n浦东新区\"\r\n\r\n李四,13900139000,\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Number: 2, Cells: []string{"张三", "13800138000", "上海市\n浦东新区"}},
		{Number: 4, Cells: []string{"李四", "13900139000"}},
	}
	for name, data := range map[string][]byte{
		"utf-8":     []byte(text),
		"utf-8 bom": append(append([]byte{}, utf8BOM...), text...),
		"gbk":       []byte(gbk),
		"lf only":   []byte(strings.ReplaceAll(text, "\r\n", "\n")),
	} {
		t.Run(name, func(t *testing.T) {
			h, rows := mustReadAll(t, data, CSV, Options{})
			if !reflect.DeepEqual(h, []string{"姓名", "手机号", "地址"}) {
				t.Errorf("header %q", h)
			}
			if !reflect.DeepEqual(rows, want) {
				t.Errorf("rows %+v, want %+v", rows, want)
			}
		})
	}
	enc, bom, err := DetectCSVEncoding(strings.NewReader(gbk), int64(len(gbk)))
	if err != nil || enc != EncodingGB18030 || bom != 0 {
		t.Errorf("detect gbk = %s %d %v", enc, bom, err)
	}
	// Non-ASCII UTF-8 spanning the detector's chunk boundary stays UTF-8.
	long := strings.Repeat("a", 64*1024-1) + "中文\n"
	if enc, _, _ := DetectCSVEncoding(strings.NewReader(long), int64(len(long))); enc != EncodingUTF8 {
		t.Errorf("utf-8 across a chunk boundary detected as %s", enc)
	}
}

// testCatalog is the real catalog of this package plus test column headers.
func testCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cols := map[string]string{
		i18n.ZhCN: `{"test.col.name":"客户名称","test.col.mobile":"手机号","test.col.id":"身份证号","test.col.note":"备注","test.example.name":"张三"}`,
		i18n.En:   `{"test.col.name":"Customer name","test.col.mobile":"Mobile","test.col.id":"ID number","test.col.note":"Notes","test.example.name":"Zhang San"}`,
		i18n.ZhTW: `{"test.col.name":"客戶名稱","test.col.mobile":"手機號碼","test.col.id":"身分證號","test.col.note":"備註","test.example.name":"張三"}`,
	}
	fsys := fstest.MapFS{}
	for _, lang := range i18n.Languages {
		b, err := os.ReadFile(filepath.Join("..", "i18n", "locales", lang, "tabular.json"))
		if err != nil {
			t.Fatal(err)
		}
		fsys["locales/"+lang+"/tabular.json"] = &fstest.MapFile{Data: b}
		fsys["locales/"+lang+"/test.json"] = &fstest.MapFile{Data: []byte(cols[lang])}
	}
	cat, err := i18n.LoadFS(fsys, "locales")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

var testColumns = []Column{
	{Key: "name", Header: "test.col.name", Required: true, Aliases: []string{"名称", "姓名"}, Example: "test.example.name"},
	{Key: "mobile", Header: "test.col.mobile", Required: true, Aliases: []string{"手机", "电话", "Phone"}},
	{Key: "id_number", Header: "test.col.id", Width: 22},
	{Key: "note", Header: "test.col.note"},
}

func TestMapHeader(t *testing.T) {
	cat := testCatalog(t)
	tests := []struct {
		name    string
		header  []string
		byKey   map[string]int
		unknown []string
		key     string // error key
	}{
		{"zh-CN", []string{"客户名称", "手机号", "身份证号", "备注"}, map[string]int{"name": 0, "mobile": 1, "id_number": 2, "note": 3}, nil, ""},
		{"en, any case and spacing", []string{" customer  NAME ", "MOBILE", "Id Number"}, map[string]int{"name": 0, "mobile": 1, "id_number": 2}, nil, ""},
		{"zh-TW", []string{"手機號碼", "客戶名稱", "備註"}, map[string]int{"mobile": 0, "name": 1, "note": 2}, nil, ""},
		{"aliases, full-width space, stars, full-width letters", []string{"\u3000姓名\u3000", "*ｐｈｏｎｅ", "", "mobile_x"}, map[string]int{"name": 0, "mobile": 1}, []string{"mobile_x"}, ""},
		{"keys", []string{"name", "mobile", "id_number"}, map[string]int{"name": 0, "mobile": 1, "id_number": 2}, nil, ""},
		{"unknown columns", []string{"客户名称", "手机号", "微信", "QQ"}, map[string]int{"name": 0, "mobile": 1}, []string{"微信", "QQ"}, ""},
		{"missing required", []string{"身份证号", "备注"}, nil, nil, KeyHeaderMissing},
		{"duplicate", []string{"客户名称", "手机号", "姓名"}, nil, nil, KeyHeaderDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := MapHeader(tt.header, testColumns, cat, i18n.ZhCN)
			if tt.key != "" {
				wantKey(t, err, tt.key)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.ByKey, tt.byKey) {
				t.Errorf("ByKey = %v, want %v", m.ByKey, tt.byKey)
			}
			for i, k := range m.ByIndex {
				if m.ByKey[k] != i {
					t.Errorf("ByIndex[%d] = %s disagrees with ByKey", i, k)
				}
			}
			if !reflect.DeepEqual(m.Unknown, tt.unknown) {
				t.Errorf("Unknown = %q, want %q", m.Unknown, tt.unknown)
			}
			if (m.UnknownErr() != nil) != (len(tt.unknown) > 0) {
				t.Errorf("UnknownErr = %v", m.UnknownErr())
			}
		})
	}
}

func TestMapHeaderMessages(t *testing.T) {
	cat := testCatalog(t)
	_, err := MapHeader([]string{"备注", "微信"}, testColumns, cat, i18n.ZhCN)
	e := wantKey(t, err, KeyHeaderMissing)
	if e.Kind != apperr.Invalid {
		t.Errorf("kind %v", e.Kind)
	}
	if got := cat.Msg(i18n.ZhCN, e.Msg); got != "缺少必需的列：客户名称、手机号" {
		t.Errorf("zh-CN message %q", got)
	}
	if len(e.Fields) != 2 {
		t.Fatalf("fields %v", e.Fields)
	}
	if got := cat.Msg(i18n.En, e.Fields["mobile"]); got != `The required column "Mobile" is missing` {
		t.Errorf("en field message %q", got)
	}
	if got := cat.Msg(i18n.ZhTW, e.Fields["name"]); got != "缺少必要的欄位「客戶名稱」" {
		t.Errorf("zh-TW field message %q", got)
	}
	m, err := MapHeader([]string{"Customer name", "Mobile", "WeChat", "QQ"}, testColumns, cat, i18n.En)
	if err != nil {
		t.Fatal(err)
	}
	ue := wantKey(t, m.UnknownErr(), KeyHeaderUnknown)
	if got := cat.Msg(i18n.En, ue.Msg); got != "Unrecognized columns: WeChat, QQ" {
		t.Errorf("en unknown message %q", got)
	}
	// Values and Get trim, and tolerate short rows.
	row := Row{Number: 2, Cells: []string{" 张三\u3000", "13800138000 "}}
	if v := m.Values(row); v["name"] != "张三" || v["mobile"] != "13800138000" {
		t.Errorf("Values = %q", v)
	}
	if m.Get(row, "note") != "" || m.Get(row, "nope") != "" {
		t.Error("Get of an absent column is not empty")
	}
	// Two columns claiming the same header text are a programming error.
	bad := []Column{{Key: "a", Header: "test.col.name"}, {Key: "b", Header: "test.col.note", Aliases: []string{"Customer Name"}}}
	if _, err := MapHeader([]string{"x"}, bad, cat, i18n.ZhCN); err == nil || apperr.KindOf(err) != apperr.Internal {
		t.Errorf("ambiguous columns: %v", err)
	}
}

func TestLimits(t *testing.T) {
	header := []string{"名称", "备注"}
	var many [][]any
	for i := 0; i < 5; i++ {
		many = append(many, []any{"客户", i})
	}
	for _, f := range []Format{CSV, XLSX} {
		t.Run(f.String(), func(t *testing.T) {
			data := write(t, f, header, many...)
			_, rows, err := readAll(t, data, f, Options{MaxRows: 3})
			e := wantKey(t, err, KeyTooManyRows)
			if e.Kind != apperr.TooLarge || len(rows) != 3 {
				t.Errorf("kind %v after %d rows", e.Kind, len(rows))
			}
			if _, _, err := readAll(t, data, f, Options{MaxRows: 5}); err != nil {
				t.Errorf("exactly MaxRows rows: %v", err)
			}

			long := write(t, f, header, []any{"短", "ok"}, []any{"长", strings.Repeat("长", 20)})
			_, rows, err = readAll(t, long, f, Options{MaxCellBytes: 30})
			e = wantKey(t, err, KeyCellTooLong)
			if e.Msg.Args["row"] != 3 || e.Msg.Args["column"] != "B" || len(rows) != 1 {
				t.Errorf("cell too long args %v after %d rows", e.Msg.Args, len(rows))
			}

			wide := write(t, f, header, []any{"a", "b", "c", "d"})
			_, _, err = readAll(t, wide, f, Options{MaxColumns: 3})
			wantKey(t, err, KeyTooManyColumns)

			_, _, err = readAll(t, write(t, f, nil), f, Options{})
			wantKey(t, err, KeyEmpty)
		})
	}
	t.Run("csv record", func(t *testing.T) {
		data := []byte("a,b\n1,\"" + strings.Repeat("x", 300_000))
		_, _, err := readAll(t, data, CSV, Options{MaxRowBytes: 1000, MaxCellBytes: 1 << 20})
		wantKey(t, err, KeyRowTooLong)
	})
	t.Run("csv quote", func(t *testing.T) {
		_, _, err := readAll(t, []byte("a,b\n\"x\"y,2\n"), CSV, Options{})
		if err != nil {
			t.Errorf("lazy quotes refused: %v", err)
		}
	})
	t.Run("zip bomb", func(t *testing.T) {
		var rows [][]any
		for i := 0; i < 2000; i++ {
			rows = append(rows, []any{strings.Repeat("同", 100), i})
		}
		data := write(t, XLSX, header, rows...)
		_, _, err := readAll(t, data, XLSX, Options{MaxUnzipBytes: 256 << 10})
		wantKey(t, err, KeyFileTooLarge)
	})
	t.Run("xls", func(t *testing.T) {
		data := append(append([]byte{}, oleSignature...), make([]byte, 512)...)
		_, _, err := readAll(t, data, XLSX, Options{})
		wantKey(t, err, KeyXLSUnsupported)
	})
	t.Run("not a zip", func(t *testing.T) {
		_, _, err := readAll(t, []byte("姓名,手机号\n张三,1\n"), XLSX, Options{})
		wantKey(t, err, KeyXLSXInvalid)
	})
}

func TestWriteErrorReport(t *testing.T) {
	cat := testCatalog(t)
	errs := []RowError{
		{Row: 3, Column: "手机号", Message: "手机号格式不正确"},
		{Row: 7, Column: "客户名称", Msg: i18n.M("tabular.header.missing_column", "column", i18n.M("test.col.name"))},
		{Message: "文件级问题"},
	}
	for lang, header := range map[string][]string{
		i18n.ZhCN: {"行号", "列", "问题"},
		i18n.En:   {"Row", "Column", "Problem"},
		i18n.ZhTW: {"列號", "欄", "問題"},
	} {
		var buf bytes.Buffer
		if err := WriteErrorReport(&buf, lang, errs, cat); err != nil {
			t.Fatal(err)
		}
		h, rows := mustReadAll(t, buf.Bytes(), XLSX, Options{})
		if !reflect.DeepEqual(h, header) {
			t.Errorf("%s header %q, want %q", lang, h, header)
		}
		if len(rows) != 3 || rows[0].Cell(0) != "3" || rows[0].Cell(2) != "手机号格式不正确" || rows[2].Cell(0) != "" {
			t.Errorf("%s rows %+v", lang, rows)
		}
		if lang == i18n.ZhCN && rows[1].Cell(2) != "缺少必需的列“客户名称”" {
			t.Errorf("translated message %q", rows[1].Cell(2))
		}
		if lang == i18n.En && rows[1].Cell(2) != `The required column "Customer name" is missing` {
			t.Errorf("translated message %q", rows[1].Cell(2))
		}
	}
}

func TestWriteTemplate(t *testing.T) {
	cat := testCatalog(t)
	for _, f := range []Format{CSV, XLSX} {
		var buf bytes.Buffer
		if err := WriteTemplate(&buf, f, testColumns, cat, i18n.ZhTW); err != nil {
			t.Fatal(err)
		}
		h, rows := mustReadAll(t, buf.Bytes(), f, Options{})
		if !reflect.DeepEqual(h, []string{"客戶名稱", "手機號碼", "身分證號", "備註"}) {
			t.Errorf("%s template header %q", f, h)
		}
		if len(rows) != 1 || rows[0].Cell(0) != "張三" {
			t.Errorf("%s example row %+v", f, rows)
		}
		// The template maps straight back onto the columns.
		if _, err := MapHeader(h, testColumns, cat, i18n.ZhCN); err != nil {
			t.Errorf("%s template header does not map: %v", f, err)
		}
	}
}

func TestWriterMisuse(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, XLSX, "a[b]:c*d?e/f\\g-this-name-is-far-too-long-for-excel")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRow([]any{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader([]string{"late"}); err == nil {
		t.Error("WriteHeader after a row succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed write succeeded")
	}
	if err := w.WriteRow([]any{"y"}); err == nil {
		t.Error("WriteRow after Close succeeded")
	}
	if got := SheetName("a[b]:c*d?e/f\\g-this-name-is-far-too-long-for-excel"); got != "a_b__c_d_e_f_g-this-name-is-far" {
		t.Errorf("SheetName = %q", got)
	}
	if _, err := NewWriter(&buf, Format(9), ""); err == nil {
		t.Error("unknown format accepted")
	}
}
