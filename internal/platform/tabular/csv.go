package tabular

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// Encoding names reported by CSV detection.
const (
	EncodingUTF8    = "UTF-8"
	EncodingGB18030 = "GB18030"
)

// DetectCSVEncoding reports the text encoding of a CSV file and the length of its
// byte order mark: UTF-8 when the file has a UTF-8 byte order mark or is valid UTF-8
// throughout, GB18030 (a superset of GBK and GB2312) otherwise.
func DetectCSVEncoding(r io.ReaderAt, size int64) (encoding string, bomLen int, err error) {
	head := make([]byte, 3)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", 0, fmt.Errorf("tabular: read csv: %w", err)
	}
	if n == 3 && bytes.Equal(head, utf8BOM) {
		return EncodingUTF8, 3, nil
	}
	ok, err := validUTF8(io.NewSectionReader(r, 0, size))
	if err != nil {
		return "", 0, err
	}
	if ok {
		return EncodingUTF8, 0, nil
	}
	return EncodingGB18030, 0, nil
}

// validUTF8 reports whether everything r yields is valid UTF-8, reading in chunks.
func validUTF8(r io.Reader) (bool, error) {
	buf := make([]byte, 64*1024)
	carry := 0
	for {
		n, err := r.Read(buf[carry:])
		n += carry
		end := n
		if err == nil {
			// Keep an incomplete rune at the end of the chunk for the next round.
			for i := n - 1; i >= 0 && i >= n-utf8.UTFMax; i-- {
				if utf8.RuneStart(buf[i]) {
					if !utf8.FullRune(buf[i:n]) {
						end = i
					}
					break
				}
			}
		}
		if !utf8.Valid(buf[:end]) {
			return false, nil
		}
		carry = copy(buf, buf[end:n])
		if errors.Is(err, io.EOF) {
			return carry == 0, nil
		}
		if err != nil {
			return false, fmt.Errorf("tabular: read csv: %w", err)
		}
	}
}

const csvBufSize = 64 * 1024

var errRecordTooLong = errors.New("tabular: csv record too long")

// recordLimiter fails reads once more than limit bytes were consumed since the start
// of the record being parsed, so that one endless quoted field cannot fill memory.
type recordLimiter struct {
	r     io.Reader
	read  int64
	start int64
	limit int64
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.read-l.start > l.limit {
		return 0, errRecordTooLong
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}

type csvSource struct {
	cr      *csv.Reader
	lim     *recordLimiter
	opts    Options
	number  int // sheet row number of the last record
	endLine int // input line on which the last record ended
	err     error
}

func newCSVSource(r io.ReaderAt, size int64, opts Options) (*csvSource, error) {
	enc, bom, err := DetectCSVEncoding(r, size)
	if err != nil {
		return nil, err
	}
	var text io.Reader = io.NewSectionReader(r, int64(bom), size-int64(bom))
	if enc == EncodingGB18030 {
		text = transform.NewReader(text, simplifiedchinese.GB18030.NewDecoder())
	}
	// The buffered reader above the limiter reads ahead: allow for its buffer.
	lim := &recordLimiter{r: text, limit: int64(opts.MaxRowBytes) + csvBufSize}
	cr := csv.NewReader(bufio.NewReaderSize(lim, csvBufSize))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	return &csvSource{cr: cr, lim: lim, opts: opts}, nil
}

func (s *csvSource) next() (Row, error) {
	for {
		if s.err != nil {
			return Row{}, s.err
		}
		rec, err := s.cr.Read()
		if err != nil {
			s.err = s.mapErr(err)
			return Row{}, s.err
		}
		s.lim.start = s.cr.InputOffset()
		startLine, _ := s.cr.FieldPos(0)
		lastLine, _ := s.cr.FieldPos(len(rec) - 1)
		end := lastLine + strings.Count(rec[len(rec)-1], "\n")
		s.number += startLine - s.endLine
		s.endLine = end
		if isBlank(rec) {
			continue
		}
		cells := make([]string, len(rec))
		for i, c := range rec {
			if len(c) > s.opts.MaxCellBytes {
				s.err = cellTooLong(s.number, i, s.opts.MaxCellBytes)
				return Row{}, s.err
			}
			if !utf8.ValidString(c) {
				c = strings.ToValidUTF8(c, "\ufffd")
			}
			cells[i] = unneutralize(c)
		}
		cells = trimTrailingEmpty(cells)
		if len(cells) > s.opts.MaxColumns {
			s.err = tooManyColumns(s.number, s.opts.MaxColumns)
			return Row{}, s.err
		}
		return Row{Number: s.number, Cells: cells}, nil
	}
}

func (s *csvSource) mapErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	if errors.Is(err, errRecordTooLong) {
		return apperr.New(apperr.TooLarge, KeyRowTooLong, "row", s.number+1, "max", s.opts.MaxRowBytes).
			WithCode("row_too_long").WithCause(err)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return apperr.New(apperr.Malformed, KeyCSVInvalid, "line", pe.StartLine).WithCode("invalid_file").WithCause(err)
	}
	return fmt.Errorf("tabular: read csv: %w", err)
}

func (s *csvSource) close() error { return nil }

// needsNeutralizing reports whether a spreadsheet program could take s for a formula.
func needsNeutralizing(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// neutralize prefixes a would-be formula with an apostrophe, in CSV and XLSX alike
// (OWASP's advice against formula injection). A text that already starts with
// apostrophes before a formula character gets one more, so that unneutralize, which
// removes exactly one, gives every text back unchanged.
func neutralize(s string) string {
	if needsNeutralizing(strings.TrimLeft(s, "'")) {
		return "'" + s
	}
	return s
}

// unneutralize removes the apostrophe that neutralize added.
func unneutralize(s string) string {
	if len(s) > 1 && s[0] == '\'' && needsNeutralizing(strings.TrimLeft(s, "'")) {
		return s[1:]
	}
	return s
}
