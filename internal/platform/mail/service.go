package mail

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// PermManage is the permission to see and change the mail settings.
const PermManage = "settings:manage"

// ErrDisabled is returned by Send when outgoing mail is switched off or not configured.
// Callers treat it as "nothing to do" (and log it).
var ErrDisabled = errors.New("mail: outgoing mail is disabled")

// cacheTTL bounds how long a node uses settings another node may have changed.
const cacheTTL = 30 * time.Second

// passwordAAD binds the encrypted password to its place.
const passwordAAD = "settings:" + SettingKey + ":password"

// Options are the collaborators of a Service.
type Options struct {
	DB    *db.DB
	Keys  *secure.Keyring
	Audit *audit.Log
	Clock clock.Clock
	Log   *slog.Logger
	// Catalog translates the test message (default: none, keys are sent as is).
	Catalog *i18n.Catalog
	// TLS overrides the TLS configuration of SMTP connections (tests).
	TLS *tls.Config
	// BaseURL is the public address of the site (config base_url) for links in mails.
	BaseURL string
}

// Service keeps the SMTP settings and sends mail with them. It implements Sender.
type Service struct {
	db    *db.DB
	keys  *secure.Keyring
	audit *audit.Log
	clock clock.Clock
	log   *slog.Logger
	cat   *i18n.Catalog
	tls   *tls.Config
	web   *web.Engine
	base  string

	mu       sync.Mutex
	cached   *Settings
	cachedAt time.Time
}

var _ Sender = (*Service)(nil)

// New returns a Service.
func New(o Options) *Service {
	s := &Service{db: o.DB, keys: o.Keys, audit: o.Audit, clock: o.Clock, log: o.Log, cat: o.Catalog, tls: o.TLS,
		base: strings.TrimRight(o.BaseURL, "/")}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// load reads the settings from the database (defaults when none are stored).
func (s *Service) load(ctx context.Context) (Settings, error) {
	v, _, ok, err := readSetting(ctx, s.db, SettingKey)
	if err != nil || !ok {
		return defaults(), err
	}
	var st stored
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return defaults(), fmt.Errorf("mail: settings unreadable: %w", err)
	}
	out := Settings{Host: st.Host, Port: st.Port, Username: st.Username, From: st.From, FromName: st.FromName,
		Security: st.Security, Enabled: st.Enabled}
	if st.PasswordEnc != "" {
		if s.keys == nil {
			return out, errors.New("mail: no key ring to decrypt the SMTP password")
		}
		if out.Password, err = s.keys.Decrypt(st.PasswordEnc, passwordAAD); err != nil {
			return out, fmt.Errorf("mail: decrypt SMTP password: %w", err)
		}
	}
	return out, nil
}

// current returns the settings, cached for cacheTTL and dropped on every local change.
func (s *Service) current(ctx context.Context) (Settings, error) {
	s.mu.Lock()
	if s.cached != nil && time.Since(s.cachedAt) < cacheTTL {
		st := *s.cached
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	st, err := s.load(ctx)
	if err != nil {
		return st, err
	}
	s.mu.Lock()
	s.cached, s.cachedAt = &st, time.Now()
	s.mu.Unlock()
	return st, nil
}

func (s *Service) invalidate() {
	s.mu.Lock()
	s.cached = nil
	s.mu.Unlock()
}

// Get returns the settings without the password (settings:manage).
func (s *Service) Get(ctx context.Context) (View, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return View{}, err
	}
	st, err := s.load(ctx)
	if err != nil {
		return View{}, err
	}
	return st.view(), nil
}

// Update replaces the settings (settings:manage; audited "settings.mail.update" with
// the changed fields, never the password).
func (s *Service) Update(ctx context.Context, in Input) (View, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return View{}, err
	}
	if err := in.validate(); err != nil {
		return View{}, err
	}
	var out Settings
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.load(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			s.log.Warn("mail: replacing unreadable settings", slog.String("err", err.Error()))
		}
		out = Settings{Host: in.Host, Port: in.Port, Username: in.Username, Password: old.Password, From: in.From,
			FromName: in.FromName, Security: in.Security, Enabled: in.Enabled}
		if in.Password != nil {
			out.Password = *in.Password
		}
		if out.Enabled && out.Username != "" && out.Password == "" {
			return apperr.InvalidField("password", "mail.invalid.required")
		}
		st := stored{Host: out.Host, Port: out.Port, Username: out.Username, From: out.From, FromName: out.FromName,
			Security: out.Security, Enabled: out.Enabled}
		if out.Password != "" {
			if s.keys == nil {
				return errors.New("mail: no key ring to encrypt the SMTP password")
			}
			if st.PasswordEnc, err = s.keys.Encrypt(out.Password, passwordAAD); err != nil {
				return fmt.Errorf("mail: encrypt SMTP password: %w", err)
			}
		}
		body, err := json.Marshal(st)
		if err != nil {
			return fmt.Errorf("mail: encode settings: %w", err)
		}
		if err := writeSetting(ctx, s.db, SettingKey, string(body), clock.Millis(s.clock.Now())); err != nil {
			return err
		}
		s.db.AfterCommit(ctx, s.invalidate)
		if s.audit == nil {
			return nil
		}
		return s.audit.Record(ctx, audit.Entry{Action: "settings.mail.update", TargetType: "setting", TargetID: SettingKey,
			Detail: changes(old, out)})
	})
	if err != nil {
		return View{}, err
	}
	return out.view(), nil
}

// changes lists what an update changed (the password only as "changed").
func changes(a, b Settings) map[string]any {
	d := map[string]any{}
	add := func(k string, x, y any) {
		if x != y {
			d[k] = map[string]any{"from": x, "to": y}
		}
	}
	add("host", a.Host, b.Host)
	add("port", a.Port, b.Port)
	add("username", a.Username, b.Username)
	add("from", a.From, b.From)
	add("from_name", a.FromName, b.FromName)
	add("security", a.Security, b.Security)
	add("enabled", a.Enabled, b.Enabled)
	if a.Password != b.Password {
		d["password_changed"] = true
	}
	return d
}

// Send sends m with the current settings. It returns ErrDisabled when outgoing mail is
// off or not configured; other errors come from composing or from the SMTP server.
func (s *Service) Send(ctx context.Context, m Message) error {
	st, err := s.current(ctx)
	if err != nil {
		return err
	}
	if !st.Enabled || st.Host == "" || st.From == "" {
		return ErrDisabled
	}
	return s.sendWith(ctx, st, m)
}

func (s *Service) sendWith(ctx context.Context, st Settings, m Message) error {
	body, rcpt, err := compose(from{Name: st.FromName, Email: st.From}, m, s.clock.Now())
	if err != nil {
		return err
	}
	return deliver(ctx, st, s.tls, rcpt, body)
}

// SendTest sends a test message to one address with the stored settings, even when
// they are disabled (settings:manage; audited "settings.mail.test"). A failure the
// server reports is a conflict carrying its answer.
func (s *Service) SendTest(ctx context.Context, to string) error {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return err
	}
	addr, err := ParseAddress(to)
	if err != nil {
		return apperr.InvalidField("to", "mail.invalid.address")
	}
	st, err := s.load(ctx)
	if err != nil {
		return err
	}
	if st.Host == "" || st.From == "" {
		return apperr.New(apperr.Conflict, "mail.error.not_configured")
	}
	lang := i18n.Lang(ctx)
	m := Message{To: []string{addr}, Subject: s.text(lang, "mail.test.subject"), Text: s.text(lang, "mail.test.body")}
	sendErr := s.sendWith(ctx, st, m)
	if s.audit != nil {
		detail := map[string]any{"to": addr, "ok": sendErr == nil}
		if sendErr != nil {
			detail["error"] = sendErr.Error()
		}
		if err := s.audit.Record(ctx, audit.Entry{Action: "settings.mail.test", TargetType: "setting", TargetID: SettingKey,
			Detail: detail}); err != nil {
			return err
		}
	}
	if sendErr != nil {
		if errors.Is(sendErr, ErrBadAddress) || errors.Is(sendErr, ErrBadHeader) {
			return apperr.InvalidField("to", "mail.invalid.address")
		}
		return apperr.New(apperr.Conflict, "mail.error.send_failed", "detail", sendErr.Error()).WithCause(sendErr)
	}
	return nil
}

// BaseURL is the public address links in mails start with ("" when not configured).
func (s *Service) BaseURL() string { return s.base }

// Enabled reports whether Send would try to deliver (settings on and complete). It
// reads the cached settings; an unreadable configuration counts as enabled so that the
// error surfaces where mail is sent.
func (s *Service) Enabled(ctx context.Context) bool {
	st, err := s.current(ctx)
	if err != nil {
		return true
	}
	return st.Enabled && st.Host != "" && st.From != ""
}

// Catalog returns the catalog the service translates with (nil when none).
func (s *Service) Catalog() *i18n.Catalog { return s.cat }

// text translates key into lang (the key itself without a catalog).
func (s *Service) text(lang, key string) string {
	if s.cat == nil {
		return key
	}
	return s.cat.T(lang, key, nil)
}
