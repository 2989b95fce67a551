package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/emersion/go-message/mail"
)

// Limits of addresses and headers.
const (
	maxAddressLen = 254
	maxHeaderLen  = 998
	maxRecipients = 50
)

// ErrBadAddress reports an address Kefu will not send to or from.
var ErrBadAddress = errors.New("mail: invalid address")

// ErrBadHeader reports an extra header that cannot be sent.
var ErrBadHeader = errors.New("mail: invalid header")

// ParseAddress checks one bare email address ("user@example.com", no display name, no
// line breaks, at most 254 bytes) and returns it trimmed.
func ParseAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxAddressLen || strings.ContainsAny(s, "\r\n\x00<>,;\" ") {
		return "", ErrBadAddress
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", ErrBadAddress
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || !strings.Contains(s[at+1:], ".") && s[at+1:] != "localhost" {
		return "", ErrBadAddress
	}
	return s, nil
}

// reserved headers are set by Compose; extra headers may not replace them.
var reserved = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "subject": true, "date": true, "message-id": true,
	"mime-version": true, "content-type": true, "content-transfer-encoding": true, "content-disposition": true,
	"sender": true, "return-path": true,
}

// CheckHeader validates an extra header: a field name of printable ASCII without a
// colon (not one Compose sets), and a value of at most 998 bytes without line breaks.
func CheckHeader(name, value string) error {
	if name == "" || len(name) > 76 || reserved[strings.ToLower(name)] {
		return ErrBadHeader
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return ErrBadHeader
		}
	}
	if len(value) > maxHeaderLen || !utf8.ValidString(value) || strings.ContainsAny(value, "\r\n\x00") {
		return ErrBadHeader
	}
	return nil
}

// from is the sender of composed messages.
type from struct {
	Name  string
	Email string
}

// compose renders m as an RFC 5322 message in UTF-8: encoded-word headers where they are
// not ASCII, a quoted-printable (mostly Latin) or base64 (mostly CJK) text body, and a
// multipart/alternative with the HTML when given. It returns the envelope recipients.
func compose(f from, m Message, now time.Time) ([]byte, []string, error) {
	if len(m.To) == 0 || len(m.To) > maxRecipients {
		return nil, nil, fmt.Errorf("%w: %d recipients", ErrBadAddress, len(m.To))
	}
	rcpt := make([]string, 0, len(m.To))
	to := make([]*gomail.Address, 0, len(m.To))
	for _, a := range m.To {
		addr, err := ParseAddress(a)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %q", err, a)
		}
		rcpt = append(rcpt, addr)
		to = append(to, &gomail.Address{Address: addr})
	}
	if _, err := ParseAddress(f.Email); err != nil {
		return nil, nil, fmt.Errorf("%w: sender %q", err, f.Email)
	}
	if strings.ContainsAny(m.Subject, "\r\n") || strings.ContainsAny(f.Name, "\r\n") {
		return nil, nil, fmt.Errorf("%w: line break in subject or sender name", ErrBadHeader)
	}
	var h gomail.Header
	h.SetAddressList("From", []*gomail.Address{{Name: f.Name, Address: f.Email}})
	h.SetAddressList("To", to)
	h.SetSubject(m.Subject)
	h.SetDate(now)
	domain := f.Email[strings.LastIndexByte(f.Email, '@')+1:]
	if err := h.GenerateMessageIDWithHostname(domain); err != nil {
		return nil, nil, fmt.Errorf("mail: message id: %w", err)
	}
	h.Set("MIME-Version", "1.0")
	for k, v := range m.Headers {
		if err := CheckHeader(k, v); err != nil {
			return nil, nil, fmt.Errorf("%w: %q", err, k)
		}
		h.SetText(k, v)
	}
	var buf bytes.Buffer
	if m.HTML == "" {
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		h.Set("Content-Transfer-Encoding", transferEncoding(m.Text))
		w, err := gomail.CreateSingleInlineWriter(&buf, h)
		if err != nil {
			return nil, nil, fmt.Errorf("mail: compose: %w", err)
		}
		if err := writeClose(w, m.Text); err != nil {
			return nil, nil, err
		}
		return buf.Bytes(), rcpt, nil
	}
	iw, err := gomail.CreateInlineWriter(&buf, h)
	if err != nil {
		return nil, nil, fmt.Errorf("mail: compose: %w", err)
	}
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		var ph gomail.InlineHeader
		ph.SetContentType(part.typ, map[string]string{"charset": "utf-8"})
		ph.Set("Content-Transfer-Encoding", transferEncoding(part.body))
		w, err := iw.CreatePart(ph)
		if err != nil {
			return nil, nil, fmt.Errorf("mail: compose: %w", err)
		}
		if err := writeClose(w, part.body); err != nil {
			return nil, nil, err
		}
	}
	if err := iw.Close(); err != nil {
		return nil, nil, fmt.Errorf("mail: compose: %w", err)
	}
	return buf.Bytes(), rcpt, nil
}

func writeClose(w io.WriteCloser, body string) error {
	if _, err := io.WriteString(w, body); err != nil {
		return fmt.Errorf("mail: compose: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: compose: %w", err)
	}
	return nil
}

// transferEncoding picks base64 for text that is mostly non-ASCII (Chinese), where
// quoted-printable would triple its size, and quoted-printable otherwise.
func transferEncoding(s string) string {
	non := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			non++
		}
	}
	if non*3 > len(s) {
		return "base64"
	}
	return "quoted-printable"
}
