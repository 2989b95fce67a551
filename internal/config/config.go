// Package config is Kefu's configuration: defaults, then kefu.toml, then KEFU_*
// environment variables, then command-line flags (the CLI applies those last).
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Duration is a time.Duration written as "30m" in TOML and the environment.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes a Go duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Config is every setting. Field names match kefu.sample.toml.
type Config struct {
	DB      string `toml:"db"`
	Addr    string `toml:"addr"`
	BaseURL string `toml:"base_url"`
	// KeyFile holds the encryption, blind-index and audit keys; it must live outside the
	// database. Empty: "kefu.keys" beside a SQLite database, else ./kefu-data/kefu.keys.
	KeyFile string `toml:"key_file"`

	Log      LogConfig      `toml:"log"`
	Session  SessionConfig  `toml:"session"`
	Login    LoginConfig    `toml:"login"`
	HTTP     HTTPConfig     `toml:"http"`
	Audit    AuditConfig    `toml:"audit"`
	Security SecurityConfig `toml:"security"`
	// Idempotency sets how Idempotency-Key reservations and answers are kept.
	Idempotency IdempotencyConfig `toml:"idempotency"`
}

// IdempotencyConfig sets the Idempotency-Key lease and retention.
type IdempotencyConfig struct {
	// Lease is how long a request holds its key while it runs; a retry with the same
	// key and request takes the key over once it has passed (the holder died).
	Lease Duration `toml:"lease"`
	// Retention is how long answers are kept for replay.
	Retention Duration `toml:"retention"`
}

// LogConfig sets the log output.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// SessionConfig sets web session lifetimes.
type SessionConfig struct {
	IdleTimeout     Duration `toml:"idle_timeout"`
	AbsoluteTimeout Duration `toml:"absolute_timeout"`
}

// LoginConfig sets throttling and lockout.
type LoginConfig struct {
	MaxFailures   int      `toml:"max_failures"`
	FailureWindow Duration `toml:"failure_window"`
	LockDuration  Duration `toml:"lock_duration"`
	// PerIPPerMinute caps sign-in attempts from one address.
	PerIPPerMinute int `toml:"per_ip_per_minute"`
}

// HTTPConfig sets server limits.
type HTTPConfig struct {
	MaxBodyBytes   int64    `toml:"max_body_bytes"`
	TrustedProxies []string `toml:"trusted_proxies"`
	ShutdownGrace  Duration `toml:"shutdown_grace"`
	// PublicURL is the address users reach the site at. An https:// URL means a TLS
	// proxy sits in front: every cookie is Secure and HSTS is sent, whatever
	// X-Forwarded-Proto says.
	PublicURL string `toml:"public_url"`
}

// PublicHTTPS reports whether users reach the site over HTTPS: http.public_url, or
// base_url when public_url is not set, starts with https://.
func (c *Config) PublicHTTPS() bool {
	u := strings.TrimSpace(c.HTTP.PublicURL)
	if u == "" {
		u = strings.TrimSpace(c.BaseURL)
	}
	return strings.HasPrefix(strings.ToLower(u), "https://")
}

// AuditConfig sets the audit checkpoint cadence.
type AuditConfig struct {
	CheckpointInterval Duration `toml:"checkpoint_interval"`
}

// SecurityConfig holds password policy.
type SecurityConfig struct {
	MinPasswordLength int `toml:"min_password_length"`
}

// DefaultDB is the embedded SQLite default.
const DefaultDB = "sqlite:./kefu-data/kefu.db"

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		DB:   DefaultDB,
		Addr: ":8080",
		Log:  LogConfig{Level: "info", Format: "text"},
		Session: SessionConfig{
			IdleTimeout:     Duration{30 * time.Minute},
			AbsoluteTimeout: Duration{12 * time.Hour},
		},
		Login: LoginConfig{
			MaxFailures:    5,
			FailureWindow:  Duration{15 * time.Minute},
			LockDuration:   Duration{15 * time.Minute},
			PerIPPerMinute: 20,
		},
		HTTP: HTTPConfig{
			MaxBodyBytes:  1 << 20,
			ShutdownGrace: Duration{10 * time.Second},
		},
		Audit:       AuditConfig{CheckpointInterval: Duration{time.Minute}},
		Security:    SecurityConfig{MinPasswordLength: 8},
		Idempotency: IdempotencyConfig{Lease: Duration{time.Minute}, Retention: Duration{24 * time.Hour}},
	}
}

// Load builds a Config from the defaults, the config file (path; "" means ./kefu.toml
// when it exists, or KEFU_CONFIG) and the environment.
func Load(path string, env func(string) string) (Config, error) {
	cfg := Default()
	if path == "" {
		path = env("KEFU_CONFIG")
	}
	explicit := path != ""
	if path == "" {
		path = "kefu.toml"
	}
	if b, err := os.ReadFile(path); err == nil {
		md, err := toml.Decode(string(b), &cfg)
		if err != nil {
			return cfg, fmt.Errorf("config: %s: %w", path, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return cfg, fmt.Errorf("config: %s: unknown setting %q", path, und[0].String())
		}
	} else if explicit || !errors.Is(err, os.ErrNotExist) {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if err := applyEnv(&cfg, env); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func applyEnv(cfg *Config, env func(string) string) error {
	str := map[string]*string{
		"KEFU_DB": &cfg.DB, "KEFU_ADDR": &cfg.Addr, "KEFU_BASE_URL": &cfg.BaseURL,
		"KEFU_KEY_FILE": &cfg.KeyFile, "KEFU_LOG_LEVEL": &cfg.Log.Level, "KEFU_LOG_FORMAT": &cfg.Log.Format,
		"KEFU_PUBLIC_URL": &cfg.HTTP.PublicURL,
	}
	for k, p := range str {
		if v := env(k); v != "" {
			*p = v
		}
	}
	durs := map[string]*Duration{
		"KEFU_SESSION_IDLE_TIMEOUT":      &cfg.Session.IdleTimeout,
		"KEFU_SESSION_ABSOLUTE_TIMEOUT":  &cfg.Session.AbsoluteTimeout,
		"KEFU_LOGIN_FAILURE_WINDOW":      &cfg.Login.FailureWindow,
		"KEFU_LOGIN_LOCK_DURATION":       &cfg.Login.LockDuration,
		"KEFU_AUDIT_CHECKPOINT_INTERVAL": &cfg.Audit.CheckpointInterval,
		"KEFU_IDEMPOTENCY_LEASE":         &cfg.Idempotency.Lease,
		"KEFU_IDEMPOTENCY_RETENTION":     &cfg.Idempotency.Retention,
	}
	for k, p := range durs {
		if v := env(k); v != "" {
			if err := p.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("config: %s: %w", k, err)
			}
		}
	}
	ints := map[string]*int{
		"KEFU_LOGIN_MAX_FAILURES":      &cfg.Login.MaxFailures,
		"KEFU_LOGIN_PER_IP_PER_MINUTE": &cfg.Login.PerIPPerMinute,
	}
	for k, p := range ints {
		if v := env(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("config: %s: not a whole number: %q", k, v)
			}
			*p = n
		}
	}
	if v := env("KEFU_TRUSTED_PROXIES"); v != "" {
		cfg.HTTP.TrustedProxies = strings.Split(v, ",")
	}
	return nil
}

// Validate checks the settings and fills derived ones.
func (c *Config) Validate() error {
	var errs []error
	dialect, src, err := db.ParseDSN(c.DB)
	if err != nil {
		errs = append(errs, fmt.Errorf("db: %w", err))
	}
	if c.KeyFile == "" {
		if dialect == db.SQLite {
			c.KeyFile = filepath.Join(filepath.Dir(src), "kefu.keys")
		} else {
			c.KeyFile = filepath.Join("kefu-data", "kefu.keys")
		}
	}
	if c.Addr == "" {
		errs = append(errs, errors.New("addr: empty"))
	}
	if _, err := c.Proxies(); err != nil {
		errs = append(errs, err)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format: %q is not text or json", c.Log.Format))
	}
	if c.Session.IdleTimeout.Duration <= 0 || c.Session.AbsoluteTimeout.Duration < c.Session.IdleTimeout.Duration {
		errs = append(errs, errors.New("session: idle_timeout must be positive and at most absolute_timeout"))
	}
	if c.Login.MaxFailures < 1 || c.Login.FailureWindow.Duration <= 0 || c.Login.LockDuration.Duration <= 0 || c.Login.PerIPPerMinute < 1 {
		errs = append(errs, errors.New("login: max_failures, per_ip_per_minute, failure_window and lock_duration must be positive"))
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("http.max_body_bytes: at least 1024"))
	}
	if c.Audit.CheckpointInterval.Duration < time.Second {
		errs = append(errs, errors.New("audit.checkpoint_interval: at least 1s"))
	}
	if c.Idempotency.Lease.Duration < 100*time.Millisecond || c.Idempotency.Retention.Duration < c.Idempotency.Lease.Duration {
		errs = append(errs, errors.New("idempotency: lease must be at least 100ms and at most retention"))
	}
	if u := strings.TrimSpace(c.HTTP.PublicURL); u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			errs = append(errs, fmt.Errorf("http.public_url: %q is not an http:// or https:// URL", u))
		}
	}
	if c.Security.MinPasswordLength < 8 {
		errs = append(errs, errors.New("security.min_password_length: at least 8"))
	}
	return errors.Join(errs...)
}

// Proxies parses the trusted proxy list (addresses or CIDR prefixes).
func (c *Config) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.HTTP.TrustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("http.trusted_proxies: %q is not an address or prefix", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
