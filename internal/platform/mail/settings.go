package mail

import (
	"net"
	"strings"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Security is how the connection to the SMTP server is protected.
type Security string

// Connection security modes.
const (
	SecurityNone     Security = "none"     // plain SMTP (port 25 or a local relay)
	SecurityStartTLS Security = "starttls" // upgrade with STARTTLS (port 587)
	SecurityTLS      Security = "tls"      // implicit TLS (port 465)
)

// Securities lists the modes in display order.
var Securities = []Security{SecurityStartTLS, SecurityTLS, SecurityNone}

// SettingKey is the settings-table key of the SMTP settings.
const SettingKey = "mail.smtp"

// Field limits.
const (
	maxHost     = 253
	maxUsername = 254
	maxPassword = 512
	maxFromName = 100
)

// Settings are the SMTP settings (Password in clear: never returned by the API).
type Settings struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	FromName string
	Security Security
	Enabled  bool
}

// View is the API form of the settings: the password is never returned, only whether
// one is set.
type View struct {
	Host        string   `json:"host"`
	Port        int      `json:"port"`
	Username    string   `json:"username"`
	PasswordSet bool     `json:"password_set"`
	From        string   `json:"from"`
	FromName    string   `json:"from_name"`
	Security    Security `json:"security"`
	Enabled     bool     `json:"enabled"`
}

// Input replaces the settings. Password nil keeps the stored one, "" removes it.
type Input struct {
	Host     string   `json:"host"`
	Port     int      `json:"port"`
	Username string   `json:"username"`
	Password *string  `json:"password"`
	From     string   `json:"from"`
	FromName string   `json:"from_name"`
	Security Security `json:"security"`
	Enabled  bool     `json:"enabled"`
}

// stored is the JSON kept in the settings table (the password encrypted).
type stored struct {
	Host        string   `json:"host"`
	Port        int      `json:"port"`
	Username    string   `json:"username,omitempty"`
	PasswordEnc string   `json:"password_enc,omitempty"`
	From        string   `json:"from"`
	FromName    string   `json:"from_name,omitempty"`
	Security    Security `json:"security"`
	Enabled     bool     `json:"enabled"`
}

func (s Settings) view() View {
	return View{Host: s.Host, Port: s.Port, Username: s.Username, PasswordSet: s.Password != "", From: s.From,
		FromName: s.FromName, Security: s.Security, Enabled: s.Enabled}
}

// defaults are the settings before an administrator saves any.
func defaults() Settings { return Settings{Port: 587, Security: SecurityStartTLS} }

// validate normalises in and checks it; a disabled configuration may be incomplete,
// but what is given must be well formed.
func (in *Input) validate() error {
	f := apperr.Fields{}
	in.Host = strings.TrimSpace(in.Host)
	in.Username = strings.TrimSpace(in.Username)
	in.From = strings.TrimSpace(in.From)
	in.FromName = strings.TrimSpace(in.FromName)
	if in.Security == "" {
		in.Security = SecurityStartTLS
	}
	switch {
	case in.Host == "" && in.Enabled:
		f.Add("host", "mail.invalid.required")
	case in.Host != "" && !validHost(in.Host):
		f.Add("host", "mail.invalid.host")
	}
	if in.Port < 1 || in.Port > 65535 {
		f.Add("port", "mail.invalid.port")
	}
	if len(in.Username) > maxUsername || strings.ContainsAny(in.Username, "\r\n\x00") {
		f.Add("username", "mail.invalid.too_long", "max", maxUsername)
	}
	if in.Password != nil && (len(*in.Password) > maxPassword || strings.ContainsAny(*in.Password, "\r\n\x00")) {
		f.Add("password", "mail.invalid.too_long", "max", maxPassword)
	}
	switch {
	case in.From == "" && in.Enabled:
		f.Add("from", "mail.invalid.required")
	case in.From != "":
		if _, err := ParseAddress(in.From); err != nil {
			f.Add("from", "mail.invalid.address")
		}
	}
	if utf8.RuneCountInString(in.FromName) > maxFromName || strings.ContainsAny(in.FromName, "\r\n\x00") || !utf8.ValidString(in.FromName) {
		f.Add("from_name", "mail.invalid.too_long", "max", maxFromName)
	}
	switch in.Security {
	case SecurityNone, SecurityStartTLS, SecurityTLS:
	default:
		f.Add("security", "mail.invalid.security")
	}
	return f.Err()
}

// validHost accepts an IP address or a DNS name (letters, digits, hyphens, dots).
func validHost(h string) bool {
	if len(h) > maxHost {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
