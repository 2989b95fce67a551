package tabular

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// The XLSX reader streams the worksheet XML straight out of the zip archive with
// encoding/xml. excelize's Rows iterator was the first choice, but it drops each
// cell's style (so a date serial cannot be told from a number) and in formatted mode
// rounds numbers over 15 digits to "1.10105194912312E+17"; reading the sheet here
// keeps both right, never extracts parts to temporary files and bounds every part by
// its declared uncompressed size (archive/zip fails a part that inflates past it).

// oleSignature starts Compound File Binary files: Excel 97-2003 .xls files and
// password-protected .xlsx files.
var oleSignature = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}

const (
	maxZipEntries  = 10_000
	maxSheetRow    = 1_048_576 // Excel's limit
	maxCellXfs     = 1 << 16
	relTypeSuffix  = "/officeDocument"
	relStyles      = "/styles"
	relSharedStrs  = "/sharedStrings"
	defaultWBPath  = "xl/workbook.xml"
	excelMaxColumn = 16_384
)

type xlsxSource struct {
	opts     Options
	sst      []string
	kinds    []numKind // by cell style (xf) index
	date1904 bool
	sheet    io.ReadCloser
	dec      *xml.Decoder
	lastRow  int
	done     bool
	err      error

	// Scratch state of the cell being parsed.
	text bytes.Buffer
}

func invalidXLSX(cause error) error {
	return apperr.New(apperr.Malformed, KeyXLSXInvalid).WithCode("invalid_file").WithCause(cause)
}

func newXLSXSource(r io.ReaderAt, size int64, opts Options) (_ *xlsxSource, err error) {
	head := make([]byte, len(oleSignature))
	if n, _ := r.ReadAt(head, 0); n == len(head) && bytes.Equal(head, oleSignature) {
		return nil, apperr.New(apperr.Malformed, KeyXLSUnsupported).WithCode("unsupported_format")
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, invalidXLSX(err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, invalidXLSX(fmt.Errorf("%d zip entries", len(zr.File)))
	}
	files := make(map[string]*zip.File, len(zr.File))
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(opts.MaxUnzipBytes) {
			return nil, apperr.New(apperr.TooLarge, KeyFileTooLarge, "max_mb", opts.MaxUnzipBytes>>20).WithCode("file_too_large")
		}
		files[strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/"))] = f
	}
	s := &xlsxSource{opts: opts}
	part := func(name string) *zip.File { return files[strings.ToLower(name)] }

	// Package relationships name the workbook part.
	wbPath := defaultWBPath
	if f := part("_rels/.rels"); f != nil {
		rels, err := s.readRels(f, "")
		if err != nil {
			return nil, err
		}
		for _, rel := range rels {
			if strings.HasSuffix(rel.typ, relTypeSuffix) {
				wbPath = rel.target
				break
			}
		}
	}
	wbFile := part(wbPath)
	if wbFile == nil {
		return nil, invalidXLSX(errors.New("no workbook part"))
	}
	sheets, err := s.readWorkbook(wbFile)
	if err != nil {
		return nil, err
	}
	wbDir := path.Dir(wbPath)
	var rels []relationship
	if f := part(path.Join(wbDir, "_rels", path.Base(wbPath)+".rels")); f != nil {
		if rels, err = s.readRels(f, wbDir); err != nil {
			return nil, err
		}
	}
	relByID := map[string]relationship{}
	stylesPath, sstPath := path.Join(wbDir, "styles.xml"), path.Join(wbDir, "sharedStrings.xml")
	for _, rel := range rels {
		relByID[rel.id] = rel
		switch {
		case strings.HasSuffix(rel.typ, relStyles):
			stylesPath = rel.target
		case strings.HasSuffix(rel.typ, relSharedStrs):
			sstPath = rel.target
		}
	}
	if len(sheets) == 0 {
		return nil, invalidXLSX(errors.New("no sheets"))
	}
	chosen := sheets[0]
	if opts.Sheet != "" {
		found := false
		for _, sh := range sheets {
			if sh.name == opts.Sheet {
				chosen, found = sh, true
				break
			}
		}
		if !found {
			return nil, apperr.New(apperr.Invalid, KeySheetNotFound, "sheet", opts.Sheet).WithCode("sheet_not_found")
		}
	}
	sheetPath := path.Join(wbDir, "worksheets", "sheet1.xml")
	if rel, ok := relByID[chosen.rid]; ok {
		sheetPath = rel.target
	} else if chosen.rid != "" || len(rels) > 0 {
		return nil, invalidXLSX(fmt.Errorf("sheet %q has no relationship", chosen.name))
	}
	sheetFile := part(sheetPath)
	if sheetFile == nil {
		return nil, invalidXLSX(fmt.Errorf("no part %s", sheetPath))
	}
	if f := part(stylesPath); f != nil {
		if err := s.readStyles(f); err != nil {
			return nil, err
		}
	}
	if f := part(sstPath); f != nil {
		if err := s.readSharedStrings(f); err != nil {
			return nil, err
		}
	}
	rc, err := sheetFile.Open()
	if err != nil {
		return nil, invalidXLSX(err)
	}
	s.sheet = rc
	s.dec = newXMLDecoder(rc)
	return s, nil
}

func newXMLDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") {
			return input, nil
		}
		return nil, fmt.Errorf("unsupported XML encoding %q", label)
	}
	return d
}

// openPart opens a part that is read whole, bounded by MaxPartBytes (or limit).
func (s *xlsxSource) openPart(f *zip.File, limit int64) (*xml.Decoder, io.Closer, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, nil, apperr.New(apperr.TooLarge, KeyFileTooLarge, "max_mb", limit>>20).WithCode("file_too_large")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, invalidXLSX(err)
	}
	return newXMLDecoder(io.LimitReader(rc, limit)), rc, nil
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

type relationship struct{ id, typ, target string }

// readRels reads a relationships part; targets are resolved against dir.
func (s *xlsxSource) readRels(f *zip.File, dir string) ([]relationship, error) {
	dec, c, err := s.openPart(f, s.opts.MaxPartBytes)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var rels []relationship
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return rels, nil
		}
		if err != nil {
			return nil, invalidXLSX(err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" || strings.EqualFold(attr(se, "TargetMode"), "External") {
			continue
		}
		target := strings.ReplaceAll(attr(se, "Target"), `\`, "/")
		if strings.HasPrefix(target, "/") {
			target = path.Clean(strings.TrimPrefix(target, "/"))
		} else {
			target = path.Join(dir, target)
		}
		rels = append(rels, relationship{id: attr(se, "Id"), typ: attr(se, "Type"), target: target})
	}
}

type sheetRef struct{ name, rid string }

func (s *xlsxSource) readWorkbook(f *zip.File) ([]sheetRef, error) {
	dec, c, err := s.openPart(f, s.opts.MaxPartBytes)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var sheets []sheetRef
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return sheets, nil
		}
		if err != nil {
			return nil, invalidXLSX(err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "workbookPr":
			v := attr(se, "date1904")
			s.date1904 = v == "1" || strings.EqualFold(v, "true")
		case "sheet":
			ref := sheetRef{name: attr(se, "name")}
			for _, a := range se.Attr {
				if a.Name.Local == "id" && a.Name.Space != "" {
					ref.rid = a.Value
				}
			}
			sheets = append(sheets, ref)
		}
	}
}

func (s *xlsxSource) readStyles(f *zip.File) error {
	dec, c, err := s.openPart(f, s.opts.MaxPartBytes)
	if err != nil {
		return err
	}
	defer c.Close()
	custom := map[int]string{}
	var xfFmts []int
	inCellXfs := false
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return invalidXLSX(err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "numFmt":
				if id, err := strconv.Atoi(attr(el, "numFmtId")); err == nil {
					custom[id] = attr(el, "formatCode")
				}
			case "cellXfs":
				inCellXfs = true
			case "xf":
				if inCellXfs {
					if len(xfFmts) >= maxCellXfs {
						return invalidXLSX(errors.New("too many cell styles"))
					}
					id, _ := strconv.Atoi(attr(el, "numFmtId"))
					xfFmts = append(xfFmts, id)
				}
			}
		case xml.EndElement:
			if el.Name.Local == "cellXfs" {
				inCellXfs = false
			}
		}
	}
	s.kinds = make([]numKind, len(xfFmts))
	for i, id := range xfFmts {
		if code, ok := custom[id]; ok {
			s.kinds[i] = classifyFormat(code)
		} else {
			s.kinds[i] = builtinKind(id)
		}
	}
	return nil
}

func (s *xlsxSource) readSharedStrings(f *zip.File) error {
	dec, c, err := s.openPart(f, s.opts.MaxSharedStringsBytes)
	if err != nil {
		return err
	}
	defer c.Close()
	var (
		buf       strings.Builder
		inSI, inT bool
		phonetic  int // depth inside <rPh>, whose text is a reading aid, not content
	)
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return invalidXLSX(err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "sst":
				if n, err := strconv.Atoi(attr(el, "uniqueCount")); err == nil && n > 0 && s.sst == nil {
					s.sst = make([]string, 0, min(n, 1<<20))
				}
			case "si":
				inSI, phonetic = true, 0
				buf.Reset()
			case "rPh":
				phonetic++
			case "t":
				inT = inSI && phonetic == 0
			}
		case xml.CharData:
			if inT {
				buf.Write(el)
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "si":
				if inSI {
					s.sst = append(s.sst, decodeEscapes(buf.String()))
				}
				inSI = false
			case "rPh":
				phonetic--
			case "t":
				inT = false
			}
		}
	}
}

func (s *xlsxSource) close() error {
	if s.sheet == nil {
		return nil
	}
	err := s.sheet.Close()
	s.sheet = nil
	s.done = true
	return err
}

// cellState collects one <c> element.
type cellState struct {
	col   int
	typ   string
	style int
	inV   bool
	inIS  bool
	inT   bool
	rPh   int
	hasV  bool
}

func (s *xlsxSource) next() (Row, error) {
	if s.err != nil {
		return Row{}, s.err
	}
	if s.done {
		return Row{}, io.EOF
	}
	row, err := s.readRow()
	if err != nil {
		s.err = err
		if !errors.Is(err, io.EOF) {
			_ = s.close()
		}
	}
	return row, err
}

// readRow returns the next row with a non-blank cell.
func (s *xlsxSource) readRow() (Row, error) {
	var (
		cells   []string
		inRow   bool
		rowNum  int
		cell    cellState
		inCell  bool
		nextCol int
	)
	for {
		tok, err := s.dec.RawToken()
		if errors.Is(err, io.EOF) {
			s.done = true
			return Row{}, io.EOF
		}
		if err != nil {
			return Row{}, invalidXLSX(err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "row":
				inRow, cells, nextCol = true, cells[:0], 0
				rowNum = s.lastRow + 1
				if v := attr(el, "r"); v != "" {
					n, err := strconv.Atoi(v)
					if err != nil || n < 1 || n > maxSheetRow {
						return Row{}, invalidXLSX(fmt.Errorf("row number %q", v))
					}
					rowNum = n
				}
				s.lastRow = rowNum
			case "c":
				if !inRow {
					continue
				}
				col := nextCol
				if ref := attr(el, "r"); ref != "" {
					c, err := columnOfRef(ref)
					if err != nil {
						return Row{}, invalidXLSX(err)
					}
					col = c
				}
				nextCol = col + 1
				cell = cellState{col: col, typ: attr(el, "t")}
				if v := attr(el, "s"); v != "" {
					cell.style, _ = strconv.Atoi(v)
				}
				inCell = true
				s.text.Reset()
			case "v":
				if inCell {
					cell.inV, cell.hasV = true, true
				}
			case "is":
				if inCell {
					cell.inIS = true
				}
			case "rPh":
				if cell.inIS {
					cell.rPh++
				}
			case "t":
				if cell.inIS && cell.rPh == 0 {
					cell.inT = true
				}
			}
		case xml.CharData:
			if cell.inV || cell.inT {
				if s.text.Len()+len(el) > s.opts.MaxCellBytes*2+64 {
					return Row{}, cellTooLong(rowNum, cell.col, s.opts.MaxCellBytes)
				}
				s.text.Write(el)
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "v":
				cell.inV = false
			case "t":
				cell.inT = false
			case "rPh":
				if cell.rPh > 0 {
					cell.rPh--
				}
			case "is":
				cell.inIS = false
			case "c":
				if !inCell {
					continue
				}
				inCell = false
				val, err := s.cellValue(&cell)
				if err != nil {
					return Row{}, err
				}
				if val == "" {
					continue
				}
				if cell.col >= s.opts.MaxColumns {
					return Row{}, tooManyColumns(rowNum, s.opts.MaxColumns)
				}
				if len(val) > s.opts.MaxCellBytes {
					return Row{}, cellTooLong(rowNum, cell.col, s.opts.MaxCellBytes)
				}
				if cell.col >= len(cells) {
					cells = append(cells, make([]string, cell.col+1-len(cells))...)
				}
				cells[cell.col] = val
			case "row":
				if !inRow {
					continue
				}
				inRow = false
				cell = cellState{}
				if !isBlank(cells) {
					out := make([]string, len(cells))
					copy(out, cells)
					return Row{Number: rowNum, Cells: trimTrailingEmpty(out)}, nil
				}
			case "sheetData":
				s.done = true
				return Row{}, io.EOF
			}
		}
	}
}

// cellValue turns the collected cell into its text.
func (s *xlsxSource) cellValue(c *cellState) (string, error) {
	raw := s.text.String()
	switch c.typ {
	case "s":
		if !c.hasV {
			return "", nil
		}
		i, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || i < 0 || i >= len(s.sst) {
			return "", invalidXLSX(fmt.Errorf("shared string index %q", raw))
		}
		return unneutralize(s.sst[i]), nil
	case "inlineStr", "str":
		return unneutralize(decodeEscapes(raw)), nil
	case "b":
		switch strings.TrimSpace(raw) {
		case "":
			return "", nil
		case "1", "true":
			return "TRUE", nil
		}
		return "FALSE", nil
	case "e":
		return raw, nil
	case "d":
		return isoDateText(raw), nil
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	kind := kindNone
	if c.style >= 0 && c.style < len(s.kinds) {
		kind = s.kinds[c.style]
	}
	if kind != kindNone {
		if f, err := strconv.ParseFloat(raw, 64); err == nil {
			if t, ok := serialToTime(f, s.date1904); ok {
				return formatTime(t, kind), nil
			}
		}
	}
	return numberText(raw), nil
}

// columnOfRef returns the 0-based column of a cell reference such as "AB12".
func columnOfRef(ref string) (int, error) {
	col := 0
	i := 0
	for ; i < len(ref); i++ {
		ch := ref[i]
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		if ch < 'A' || ch > 'Z' {
			break
		}
		col = col*26 + int(ch-'A'+1)
		if col > excelMaxColumn {
			return 0, fmt.Errorf("cell reference %q out of range", ref)
		}
	}
	if i == 0 {
		return 0, fmt.Errorf("cell reference %q", ref)
	}
	return col - 1, nil
}

// decodeEscapes decodes the _xHHHH_ escapes that OOXML uses for characters XML cannot
// carry (such as _x000D_ for a carriage return).
func decodeEscapes(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(v))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
