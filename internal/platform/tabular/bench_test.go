package tabular

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	benchRows = 100_000
	benchCols = 20
)

var benchHeader = []string{"客户编号", "客户名称", "客户类型", "手机号", "身份证号", "统一社会信用代码", "电子邮箱", "省份", "城市",
	"详细地址", "行业", "员工人数", "年销售额", "成立日期", "建立关系日期", "信用等级", "客户等级", "负责人", "最近联系时间", "备注"}

// benchRow is a realistic customer row of 20 columns.
func benchRow(i int) []any {
	day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%9000)
	return []any{
		fmt.Sprintf("C%08d", i), fmt.Sprintf("上海某某贸易有限公司第%d分公司", i), "组织",
		fmt.Sprintf("138%08d", i), fmt.Sprintf("11010519491231%04d", i%10000), fmt.Sprintf("91310000MA1K%06d", i%1000000),
		fmt.Sprintf("user%d@example.com", i), "上海市", "浦东新区", fmt.Sprintf("世纪大道%d号%d室", i%2000, i%50),
		"批发和零售业", 10 + i%500, float64(i%100000) * 1.25, day, day.AddDate(5, 0, 0),
		"A", "VIP", "王经理", day.Add(10*time.Hour + 30*time.Minute), "长期合作，按月结算",
	}
}

func writeBenchFile(tb testing.TB, w io.Writer, format Format, rows int) {
	wr, err := NewWriter(w, format, "客户")
	if err != nil {
		tb.Fatal(err)
	}
	if err := wr.WriteHeader(benchHeader); err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < rows; i++ {
		if err := wr.WriteRow(benchRow(i)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := wr.Close(); err != nil {
		tb.Fatal(err)
	}
}

// writeExcelLayoutFile writes rows the way Excel saves them: every text in the shared
// string table, cells referring to it by index. It streams, so that generating it
// does not distort the reader's memory measurement.
func writeExcelLayoutFile(tb testing.TB, path string, rows int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// Reuse the hand-built package for everything but the two big parts.
	zw := zip.NewWriter(f)
	small := xlsxPackage{}
	tmp := filepath.Join(filepath.Dir(path), "small.xlsx")
	sf, err := os.Create(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	if err := small.write(sf); err != nil {
		tb.Fatal(err)
	}
	sf.Close()
	zr, err := zip.OpenReader(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name == "xl/sharedStrings.xml" || zf.Name == "xl/worksheets/data.xml" {
			continue
		}
		if err := zw.Copy(zf); err != nil {
			tb.Fatal(err)
		}
	}
	sheet, err := zw.Create("xl/worksheets/data.xml")
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriter(sheet)
	var strs []string
	index := map[string]int{}
	intern := func(s string) int {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = len(strs)
		strs = append(strs, s)
		return len(strs) - 1
	}
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for r := 0; r <= rows; r++ {
		fmt.Fprintf(bw, `<row r="%d">`, r+1)
		vals := stringsToAny(benchHeader)
		if r > 0 {
			vals = benchRow(r - 1)
		}
		for c, v := range vals {
			ref := ColumnName(c) + strconv.Itoa(r+1)
			switch x := v.(type) {
			case string:
				fmt.Fprintf(bw, `<c r="%s" t="s"><v>%d</v></c>`, ref, intern(x))
			case time.Time:
				serial := float64(x.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC))) / float64(24*time.Hour)
				fmt.Fprintf(bw, `<c r="%s" s="1"><v>%s</v></c>`, ref, strconv.FormatFloat(serial, 'f', -1, 64))
			default:
				fmt.Fprintf(bw, `<c r="%s"><v>%v</v></c>`, ref, x)
			}
		}
		bw.WriteString(`</row>`)
	}
	bw.WriteString(`</sheetData></worksheet>`)
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	sst, err := zw.Create("xl/sharedStrings.xml")
	if err != nil {
		tb.Fatal(err)
	}
	bw = bufio.NewWriter(sst)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="%d">`, len(strs))
	for _, s := range strs {
		bw.WriteString("<si><t>")
		escapeXML(bw, s)
		bw.WriteString("</t></si>")
	}
	bw.WriteString("</sst>")
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
}

// readFile reads a whole file, checking the shape of every row; it returns the rows.
func readFile(tb testing.TB, path string, format Format) int {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	r, err := NewReader(f, st.Size(), format, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	if len(r.Header()) != benchCols {
		tb.Fatalf("header %q", r.Header())
	}
	n := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if len(row.Cells) != benchCols || row.Number != n+2 {
			tb.Fatalf("row %d: %d cells %q", row.Number, len(row.Cells), row.Cells)
		}
		n++
	}
	return n
}

func BenchmarkWriteXLSX100k(b *testing.B) {
	for b.Loop() {
		writeBenchFile(b, io.Discard, XLSX, benchRows)
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkWriteCSV100k(b *testing.B) {
	for b.Loop() {
		writeBenchFile(b, io.Discard, CSV, benchRows)
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func benchRead(b *testing.B, name string, format Format, gen func(path string)) {
	path := filepath.Join(b.TempDir(), name)
	gen(path)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		if n := readFile(b, path, format); n != benchRows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func createWith(tb testing.TB, path string, format Format) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	writeBenchFile(tb, bw, format, benchRows)
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkReadXLSX100k(b *testing.B) {
	benchRead(b, "bench.xlsx", XLSX, func(p string) { createWith(b, p, XLSX) })
}

func BenchmarkReadXLSXExcelLayout100k(b *testing.B) {
	benchRead(b, "excel.xlsx", XLSX, func(p string) { writeExcelLayoutFile(b, p, benchRows) })
}

func BenchmarkReadCSV100k(b *testing.B) {
	benchRead(b, "bench.csv", CSV, func(p string) { createWith(b, p, CSV) })
}

// vmHWM returns the process's peak resident set size in MB (Linux).
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return -1
}

// resetHWM resets the peak RSS counter (Linux: "5" to clear_refs), after a GC that
// returns freed memory, so that each phase is measured on its own.
func resetHWM() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// TestBench100k measures writing and reading 100,000 rows x 20 columns in every
// format: time and peak RSS per phase. Run with
//
//	KEFU_BENCH_TABULAR=1 go test -run TestBench100k -v ./internal/platform/tabular/
func TestBench100k(t *testing.T) {
	if os.Getenv("KEFU_BENCH_TABULAR") != "1" {
		t.Skip("set KEFU_BENCH_TABULAR=1 to run")
	}
	dir := t.TempDir()
	size := func(p string) float64 {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return float64(st.Size()) / (1 << 20)
	}
	phase := func(name string, fn func()) {
		resetHWM()
		start := time.Now()
		fn()
		t.Logf("%-34s %8.2f s   peak RSS %6.1f MB", name, time.Since(start).Seconds(), vmHWM())
	}
	xlsxPath, csvPath, excelPath := filepath.Join(dir, "a.xlsx"), filepath.Join(dir, "a.csv"), filepath.Join(dir, "excel.xlsx")
	t.Logf("%d rows x %d columns, GOMAXPROCS=%d", benchRows, benchCols, runtime.GOMAXPROCS(0))
	phase("write xlsx (StreamWriter)", func() { createWith(t, xlsxPath, XLSX) })
	phase("write csv", func() { createWith(t, csvPath, CSV) })
	writeExcelLayoutFile(t, excelPath, benchRows)
	t.Logf("file sizes: xlsx %.1f MB, csv %.1f MB, excel-layout xlsx %.1f MB", size(xlsxPath), size(csvPath), size(excelPath))
	phase("read xlsx (inline strings)", func() { readFile(t, xlsxPath, XLSX) })
	phase("read xlsx (shared strings, Excel)", func() { readFile(t, excelPath, XLSX) })
	phase("read csv", func() { readFile(t, csvPath, CSV) })
}
