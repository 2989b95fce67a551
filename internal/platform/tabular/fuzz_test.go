package tabular

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// fuzzOptions keep fuzzing iterations small and exercise the limits.
var fuzzOptions = Options{MaxRows: 1000, MaxColumns: 64, MaxCellBytes: 4096, MaxRowBytes: 64 << 10, MaxUnzipBytes: 8 << 20, MaxPartBytes: 1 << 20}

// checkRead reads data to the end and fails on anything but clean results: every
// error is a client error of this package with a catalog key that translates fully,
// every cell is valid UTF-8 and rows count up.
func checkRead(t *testing.T, cat *i18n.Catalog, data []byte, format Format) {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), format, fuzzOptions)
	if err == nil {
		defer r.Close()
		for _, h := range r.Header() {
			if !utf8.ValidString(h) {
				t.Fatalf("header cell %q is not UTF-8", h)
			}
		}
		last := 0
		for {
			var row Row
			row, err = r.Next()
			if err != nil {
				break
			}
			if row.Number <= 0 || (format == CSV && row.Number <= last) {
				t.Fatalf("row number %d after %d", row.Number, last)
			}
			last = row.Number
			if len(row.Cells) > fuzzOptions.MaxColumns {
				t.Fatalf("%d cells", len(row.Cells))
			}
			for _, c := range row.Cells {
				if !utf8.ValidString(c) || len(c) > fuzzOptions.MaxCellBytes {
					t.Fatalf("bad cell %q", c)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return
		}
	}
	checkClientError(t, cat, err)
}

func checkClientError(t *testing.T, cat *i18n.Catalog, err error) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("unclassified error %v", err)
	}
	switch e.Kind {
	case apperr.Malformed, apperr.TooLarge, apperr.Invalid:
	default:
		t.Fatalf("error kind %v: %v", e.Kind, err)
	}
	known := false
	for _, k := range Keys() {
		known = known || k == e.Msg.Key
	}
	if !known {
		t.Fatalf("error key %q is not one of the package's", e.Msg.Key)
	}
	for _, lang := range i18n.Languages {
		if msg := cat.Msg(lang, e.Msg); msg == e.Msg.Key || strings.Contains(msg, "{") {
			t.Fatalf("%s message %q of %v", lang, msg, err)
		}
	}
}

func FuzzCSVReader(f *testing.F) {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("姓名,手机号\r\n张三,13800138000\r\n")
	for _, s := range []string{
		"", "\ufeff", "a,b\n1,2\n", "\ufeff姓名,手机号\r\n张三,\"1\r\n2\"\r\n", gbk,
		"a\n\"unterminated", "a,b\n\"x\"\"y\",z\n\n\n3", "'=1,'@x\n'-2,'+3", "\xff\xfe\x00a",
	} {
		f.Add([]byte(s))
	}
	cat := i18n.MustLoad()
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, cat, data, CSV)
	})
}

// FuzzXLSXReader feeds arbitrary bytes and mutations of valid workbooks (written by
// this package's writer, by excelize's ordinary API and by hand in Excel's layout).
func FuzzXLSXReader(f *testing.F) {
	f.Add([]byte{})
	f.Add(oleSignature)
	f.Add([]byte("PK\x03\x04 not really a zip"))
	f.Add(write(f, XLSX, []string{"姓名", "手机号", "生日"}, []any{"张三", "13800138000", 45296.5}, []any{"李四", 12, true}))
	f.Add(xlsxPackage{
		sheetXML: `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="2"><v>45296</v></c></row><row><c t="s"><v>1</v></c></row>`,
		sst:      []string{"姓名", "第一行_x000D_\n"},
	}.bytes(f))
	cat := i18n.MustLoad()
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, cat, data, XLSX)
	})
}

// FuzzXLSXParts puts fuzzed XML into an otherwise valid package, past the zip
// checksums that stop most byte mutations early: the worksheet, a shared string and
// the styles part.
func FuzzXLSXParts(f *testing.F) {
	f.Add(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"><v>45296.25</v></c></row>`, "姓名", defaultStylesXML)
	f.Add(`<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t><rPh><t>y</t></rPh></is></c></row><row r="1048577"/>`, `<r><t>a</t></r>`, `<styleSheet><cellXfs><xf numFmtId="x"/></cellXfs></styleSheet>`)
	f.Add(`<row><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c><c t="d"><v>2024-01-05T10:00:00Z</v></c><c s="-1"><v>1e999</v></c></row>`, "", "")
	cat := i18n.MustLoad()
	f.Fuzz(func(t *testing.T, sheet, sst, styles string) {
		var buf bytes.Buffer
		p := xlsxPackage{sheetXML: sheet, sst: []string{sst, "b"}, stylesXML: styles}
		if err := p.write(&buf); err != nil {
			t.Skip()
		}
		checkRead(t, cat, buf.Bytes(), XLSX)
	})
}
