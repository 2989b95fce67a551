package tabular

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// xlsxPackage writes a minimal SpreadsheetML package the way Excel lays it out
// (shared strings, styles, relationships), with the given sheet data, shared strings
// and number formats. It lets tests and fuzz targets reach corners that excelize's
// writer never produces.
type xlsxPackage struct {
	sheetXML  string // the <sheetData> content
	sst       []string
	stylesXML string // the whole styles part; "" for a default one
	prefix    string // an optional namespace prefix on worksheet elements ("x:")
}

const defaultStylesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>
<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>
<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="176" applyNumberFormat="1"/><xf numFmtId="49"/></cellXfs>
</styleSheet>`

func (p xlsxPackage) bytes(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (p xlsxPackage) write(w io.Writer) error {
	zw := zip.NewWriter(w)
	put := func(name, body string) error {
		fw, err := zw.Create(name)
		if err != nil {
			return err
		}
		_, err = io.WriteString(fw, body)
		return err
	}
	styles := p.stylesXML
	if styles == "" {
		styles = defaultStylesXML
	}
	x := p.prefix
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr/><sheets><sheet name="数据" sheetId="1" r:id="rId7"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/data.xml"/><Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`},
		{"xl/styles.xml", styles},
	}
	for _, part := range parts {
		if err := put(part.name, part.body); err != nil {
			return err
		}
	}
	fw, err := zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	fmt.Fprintf(fw, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(p.sst), len(p.sst))
	for _, s := range p.sst {
		if strings.HasPrefix(s, "<") {
			fmt.Fprintf(fw, "<si>%s</si>", s) // rich text given as XML
			continue
		}
		io.WriteString(fw, "<si><t xml:space=\"preserve\">")
		escapeXML(fw, s)
		io.WriteString(fw, "</t></si>")
	}
	io.WriteString(fw, "</sst>")
	ns := ""
	if x != "" {
		ns = ":" + strings.TrimSuffix(x, ":")
	}
	if err := put("xl/worksheets/data.xml", `<?xml version="1.0" encoding="UTF-8"?><`+x+`worksheet xmlns`+ns+`="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><`+x+`sheetData>`+p.sheetXML+`</`+x+`sheetData></`+x+`worksheet>`); err != nil {
		return err
	}
	return zw.Close()
}

func escapeXML(w io.Writer, s string) {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	io.WriteString(w, r.Replace(s))
}

// TestXLSXHandBuilt reads an Excel-style package: shared strings with rich text and
// phonetic runs, _xHHHH_ escapes, cells without references, a custom date format, an
// absolute relationship target and a namespace prefix.
func TestXLSXHandBuilt(t *testing.T) {
	sst := []string{"姓名", "手机号", "生日", "备注", "张三",
		`<r><t>李</t></r><r><rPr><b/></rPr><t>四</t></r><rPh sb="0" eb="1"><t>リ</t></rPh>`,
		"第一行_x000D_\n第二行", "00123"}
	for _, prefix := range []string{"", "x:"} {
		x := prefix
		sheet := `<` + x + `row r="1"><` + x + `c r="A1" t="s"><` + x + `v>0</` + x + `v></` + x + `c><` + x + `c t="s"><` + x + `v>1</` + x + `v></` + x + `c><` + x + `c t="s"><` + x + `v>2</` + x + `v></` + x + `c><` + x + `c t="s"><` + x + `v>3</` + x + `v></` + x + `c></` + x + `row>` +
			`<` + x + `row r="3" spans="1:4"><` + x + `c r="A3" t="s"><` + x + `v>4</` + x + `v></` + x + `c><` + x + `c r="B3"><` + x + `v>13800138000</` + x + `v></` + x + `c><` + x + `c r="C3" s="2"><` + x + `v>45296</` + x + `v></` + x + `c><` + x + `c r="D3" t="s"><` + x + `v>6</` + x + `v></` + x + `c></` + x + `row>` +
			`<` + x + `row r="4"><` + x + `c r="A4" t="s"><` + x + `v>5</` + x + `v></` + x + `c><` + x + `c r="C4" s="1"><` + x + `v>45296.99999999</` + x + `v></` + x + `c><` + x + `c r="D4" t="inlineStr"><` + x + `is><` + x + `t>内联</` + x + `t></` + x + `is></` + x + `c><` + x + `c r="F4" s="3" t="s"><` + x + `v>7</` + x + `v></` + x + `c></` + x + `row>` +
			`<` + x + `row r="5"><` + x + `c r="A5" s="3"/><` + x + `c r="B5" t="str"><` + x + `f>A1</` + x + `f><` + x + `v></` + x + `v></` + x + `c></` + x + `row>`
		data := xlsxPackage{sheetXML: sheet, sst: sst, prefix: prefix}.bytes(t)
		h, rows := mustReadAll(t, data, XLSX, Options{})
		if !reflect.DeepEqual(h, []string{"姓名", "手机号", "生日", "备注"}) {
			t.Errorf("%q: header %q", prefix, h)
		}
		want := []Row{
			{Number: 3, Cells: []string{"张三", "13800138000", "2024-01-05", "第一行\r\n第二行"}},
			{Number: 4, Cells: []string{"李四", "", "2024-01-06", "内联", "", "00123"}},
		}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("%q: rows\n got %+v\nwant %+v", prefix, rows, want)
		}
	}
	// A shared string index out of range is a damaged file, not a panic.
	bad := xlsxPackage{sheetXML: `<row r="1"><c r="A1" t="s"><v>99</v></c></row>`, sst: sst}.bytes(t)
	_, _, err := readAll(t, bad, XLSX, Options{})
	wantKey(t, err, KeyXLSXInvalid)
}
