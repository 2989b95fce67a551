package ticket

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

var (
	pngData = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	pdfData = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	zipData = []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00rest of a zip")
	oleData = append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 64)...)
)

func TestCheckFile(t *testing.T) {
	cases := []struct {
		name   string
		data   []byte
		wantCT string // "" = refused
	}{
		{"photo.png", pngData, "image/png"},
		{"PHOTO.PNG", pngData, "image/png"},
		{"scan.pdf", pdfData, "application/pdf"},
		{"notes.txt", []byte("The tap in the kitchen leaks.\n"), "text/plain; charset=utf-8"},
		{"report.docx", zipData, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"logs.zip", zipData, "application/zip"},
		{"old.doc", oleData, "application/msword"},
		{"old.xls", oleData, "application/vnd.ms-excel"},
		// refused
		{"page.html", []byte("<html><body>hi</body></html>"), ""},
		{"page.htm", []byte("hello"), ""},
		{"fake.png", []byte("<html><script>alert(1)</script></html>"), ""},
		{"fake.txt", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), ""},
		{"inner.txt", []byte("hello\n<script>alert(1)</script>"), ""},
		{"image.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ""},
		{"vector.txt", []byte(`<?xml version="1.0"?><svg/>`), ""},
		{"app.exe", []byte("MZ\x90\x00\x03\x00\x00\x00"), ""},
		{"app.zip.exe", zipData, ""},
		{"setup.png", []byte("MZ\x90\x00\x03\x00\x00\x00"), ""},
		{"elf.txt", []byte("\x7fELF\x02\x01\x01\x00"), ""},
		{"run.js", []byte("alert(1)"), ""},
		{"run.sh", []byte("#!/bin/sh\nrm -rf /\n"), ""},
		{"noext", []byte("hello"), ""},
		{"empty.txt", nil, ""},
		{"../../etc/passwd", []byte("root:x:0:0"), ""},
		{"doc.pdf", pngData, ""},
		{"binary.txt", []byte{0xff, 0xfe, 0x00, 0x01, 0x02}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, ct, err := CheckFile(tc.name, tc.data)
			if tc.wantCT == "" {
				ae, ok := apperr.As(err)
				if !ok || ae.Kind != apperr.Invalid || ae.Fields["file"].Key == "" {
					t.Fatalf("err = %v, want 422 naming file", err)
				}
				return
			}
			if err != nil || ct != tc.wantCT {
				t.Fatalf("CheckFile = %q, %v; want %q", ct, err, tc.wantCT)
			}
		})
	}
}

func TestCleanFilenameAndDisposition(t *testing.T) {
	cases := map[string]string{
		"C:\\Users\\me\\scan.pdf": "scan.pdf",
		"/tmp/x/报修照片.png":         "报修照片.png",
		"a\x00b\n.txt":            "ab.txt",
		"..":                      "",
		`quote".txt`:              "quote.txt",
	}
	for in, want := range cases {
		if got := cleanFilename(in); got != want {
			t.Errorf("cleanFilename(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("长", 300) + ".pdf"
	if got := cleanFilename(long); len([]rune(got)) != maxFilename || !strings.HasSuffix(got, ".pdf") {
		t.Errorf("long name: %d runes %q", len([]rune(got)), got[len(got)-8:])
	}
	// A name whose "extension" is longer than the limit is cut as a whole.
	longExt := "a." + strings.Repeat("x", 1400)
	if got := cleanFilename(longExt); len([]rune(got)) != maxFilename || !strings.HasPrefix(got, "a.x") {
		t.Errorf("long extension: %d runes", len([]rune(got)))
	}
	cd := contentDisposition("报修 照片.png")
	if !strings.HasPrefix(cd, `attachment; filename="`) || !strings.Contains(cd, "filename*=UTF-8''%E6%8A%A5%E4%BF%AE%20%E7%85%A7%E7%89%87.png") {
		t.Errorf("Content-Disposition = %s", cd)
	}
	for _, ct := range []string{"text/plain; charset=utf-8", "application/zip", "image/svg+xml", "text/html"} {
		if servedType(ct) != "application/octet-stream" {
			t.Errorf("servedType(%s) = %s", ct, servedType(ct))
		}
	}
	if servedType("image/png") != "image/png" || servedType("application/pdf") != "application/pdf" {
		t.Error("images and PDF keep their type")
	}
}

func FuzzCheckFile(f *testing.F) {
	f.Add("a.png", pngData)
	f.Add("a.txt", []byte("<html>"))
	f.Add("a.zip", zipData)
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		clean, ct, err := CheckFile(name, data)
		if err != nil {
			return
		}
		if ct == "" || clean == "" || strings.ContainsAny(clean, "/\\\x00") {
			t.Fatalf("accepted %q as %q (%q)", name, clean, ct)
		}
		if strings.Contains(ct, "html") || strings.Contains(ct, "svg") || strings.Contains(ct, "javascript") {
			t.Fatalf("accepted active content %q", ct)
		}
		if strings.HasPrefix(ct, "text/") && looksLikeMarkup(data) {
			t.Fatalf("accepted markup as text")
		}
		_ = bytes.MinRead
	})
}

func FuzzReadUpload(f *testing.F) {
	f.Add("multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--X\r\nContent-Disposition: form-data; name=\"public\"\r\n\r\ntrue\r\n--X--\r\n"))
	f.Add("multipart/form-data", []byte("garbage"))
	f.Add("application/json", []byte("{}"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r := httptest.NewRequest("POST", "/api/v1/tickets/1/attachments", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		_, data, _, err := readUpload(r)
		if err != nil {
			if apperr.KindOf(err) == apperr.Internal {
				t.Fatalf("internal error for bad input: %v", err)
			}
			return
		}
		if len(data) > MaxAttachmentSize {
			t.Fatalf("read %d bytes", len(data))
		}
	})
}
