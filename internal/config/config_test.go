package config_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/kefu-cn/kefu/internal/config"
)

func noEnv(string) string { return "" }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t testing.TB, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kefu.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// normalize makes nil and empty slices compare equal.
func normalize(c config.Config) config.Config {
	if len(c.HTTP.TrustedProxies) == 0 {
		c.HTTP.TrustedProxies = nil
	}
	return c
}

func TestDefaultsValidate(t *testing.T) {
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.DB != config.DefaultDB || c.Addr != ":8080" {
		t.Errorf("defaults: db %q addr %q", c.DB, c.Addr)
	}
	if want := filepath.Join("kefu-data", "kefu.keys"); filepath.Clean(c.KeyFile) != want {
		t.Errorf("derived key file = %q, want %q (beside the SQLite database)", c.KeyFile, want)
	}
}

func TestKeyFileDerivation(t *testing.T) {
	tests := []struct{ db, keyFile, want string }{
		{"sqlite:/var/lib/kefu/kefu.db", "", "/var/lib/kefu/kefu.keys"},
		{"sqlite:data.db", "", "kefu.keys"},
		{"postgres://u@db:5432/kefu", "", filepath.Join("kefu-data", "kefu.keys")},
		{"sqlite:/var/lib/kefu/kefu.db", "/etc/kefu/keys", "/etc/kefu/keys"},
	}
	for _, tc := range tests {
		c := config.Default()
		c.DB, c.KeyFile = tc.db, tc.keyFile
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.db, err)
		}
		if c.KeyFile != tc.want {
			t.Errorf("%s: key file %q, want %q", tc.db, c.KeyFile, tc.want)
		}
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, `
db = "sqlite:/srv/kefu/kefu.db"
addr = ":9000"
[log]
level = "debug"
[session]
idle_timeout = "45m"
[login]
max_failures = 7
[http]
trusted_proxies = ["10.0.0.0/8"]
`)
	// File over defaults.
	c, err := config.Load(file, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "sqlite:/srv/kefu/kefu.db" || c.Addr != ":9000" || c.Log.Level != "debug" ||
		c.Session.IdleTimeout.Duration != 45*time.Minute || c.Login.MaxFailures != 7 {
		t.Errorf("file settings not applied: %+v", c)
	}
	if c.Log.Format != "text" || c.Session.AbsoluteTimeout.Duration != 12*time.Hour || c.Login.PerIPPerMinute != 20 {
		t.Errorf("defaults lost for settings the file does not set: %+v", c)
	}
	// Environment over file.
	env := map[string]string{
		"KEFU_DB": "postgres://u@h/kefu", "KEFU_ADDR": ":7000", "KEFU_BASE_URL": "https://kefu.example.cn",
		"KEFU_KEY_FILE": "/k/keys", "KEFU_LOG_LEVEL": "warn", "KEFU_LOG_FORMAT": "json",
		"KEFU_SESSION_IDLE_TIMEOUT": "5m", "KEFU_SESSION_ABSOLUTE_TIMEOUT": "2h",
		"KEFU_LOGIN_FAILURE_WINDOW": "1m", "KEFU_LOGIN_LOCK_DURATION": "1h", "KEFU_AUDIT_CHECKPOINT_INTERVAL": "30s",
		"KEFU_LOGIN_MAX_FAILURES": "3", "KEFU_LOGIN_PER_IP_PER_MINUTE": "9", "KEFU_TRUSTED_PROXIES": "192.168.1.1,10.0.0.0/8",
	}
	c, err = config.Load(file, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.DB, want.Addr, want.BaseURL, want.KeyFile = "postgres://u@h/kefu", ":7000", "https://kefu.example.cn", "/k/keys"
	want.Log = config.LogConfig{Level: "warn", Format: "json"}
	want.Session.IdleTimeout.Duration, want.Session.AbsoluteTimeout.Duration = 5*time.Minute, 2*time.Hour
	want.Login.FailureWindow.Duration, want.Login.LockDuration.Duration = time.Minute, time.Hour
	want.Login.MaxFailures, want.Login.PerIPPerMinute = 3, 9
	want.Audit.CheckpointInterval.Duration = 30 * time.Second
	want.HTTP.TrustedProxies = []string{"192.168.1.1", "10.0.0.0/8"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("env over file:\n got %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadFileSources(t *testing.T) {
	file := writeFile(t, `addr = ":1234"`)
	// KEFU_CONFIG names the file when no path is given.
	c, err := config.Load("", envOf(map[string]string{"KEFU_CONFIG": file}))
	if err != nil || c.Addr != ":1234" {
		t.Errorf("KEFU_CONFIG: %v %q", err, c.Addr)
	}
	// No path and no ./kefu.toml: the defaults (the test runs in the package directory).
	if _, err := os.Stat("kefu.toml"); err == nil {
		t.Skip("a kefu.toml exists in the package directory")
	}
	c, err = config.Load("", noEnv)
	if err != nil || !reflect.DeepEqual(normalize(c), normalize(config.Default())) {
		t.Errorf("no file: %v %+v", err, c)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // "" = a missing explicit file
		env  map[string]string
		want string
	}{
		{"missing explicit file", "", nil, "config"},
		{"bad toml", `addr = `, nil, "kefu.toml"},
		{"unknown setting", "[log]\ncolour = \"red\"", nil, "log.colour"},
		{"unknown top-level setting", `port = 8080`, nil, "port"},
		{"wrong type", `addr = 8080`, nil, "kefu.toml"},
		{"bad duration in file", "[session]\nidle_timeout = \"soon\"", nil, "kefu.toml"},
		{"bad duration in env", `addr = ":1"`, map[string]string{"KEFU_SESSION_IDLE_TIMEOUT": "soon"}, "KEFU_SESSION_IDLE_TIMEOUT"},
		{"bad int in env", `addr = ":1"`, map[string]string{"KEFU_LOGIN_MAX_FAILURES": "five"}, "KEFU_LOGIN_MAX_FAILURES"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "absent.toml")
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			_, err := config.Load(path, envOf(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config.Config)
		want   string // "" = valid
	}{
		{"defaults", func(*config.Config) {}, ""},
		{"postgres", func(c *config.Config) { c.DB = "postgres://u@h/db" }, ""},
		{"bad dsn", func(c *config.Config) { c.DB = "mysql://x" }, "db:"},
		{"empty dsn", func(c *config.Config) { c.DB = "" }, "db:"},
		{"empty addr", func(c *config.Config) { c.Addr = "" }, "addr"},
		{"bad proxy", func(c *config.Config) { c.HTTP.TrustedProxies = []string{"proxy.local"} }, "trusted_proxies"},
		{"log level", func(c *config.Config) { c.Log.Level = "verbose" }, "log.level"},
		{"log format", func(c *config.Config) { c.Log.Format = "xml" }, "log.format"},
		{"idle zero", func(c *config.Config) { c.Session.IdleTimeout.Duration = 0 }, "session"},
		{"idle over absolute", func(c *config.Config) { c.Session.IdleTimeout.Duration = 24 * time.Hour }, "session"},
		{"max failures", func(c *config.Config) { c.Login.MaxFailures = 0 }, "login"},
		{"per ip", func(c *config.Config) { c.Login.PerIPPerMinute = 0 }, "login"},
		{"lock", func(c *config.Config) { c.Login.LockDuration.Duration = 0 }, "login"},
		{"body limit", func(c *config.Config) { c.HTTP.MaxBodyBytes = 100 }, "max_body_bytes"},
		{"checkpoint", func(c *config.Config) { c.Audit.CheckpointInterval.Duration = time.Millisecond }, "checkpoint_interval"},
		{"password", func(c *config.Config) { c.Security.MinPasswordLength = 6 }, "min_password_length"},
		{"two problems", func(c *config.Config) { c.Addr = ""; c.Log.Format = "xml" }, "log.format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.change(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestProxies(t *testing.T) {
	c := config.Default()
	c.HTTP.TrustedProxies = []string{" 10.0.0.0/8 ", "192.168.1.5", "::1", ""}
	ps, err := c.Proxies()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.5/32"), netip.MustParsePrefix("::1/128")}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("Proxies = %v, want %v", ps, want)
	}
}

func TestDurationText(t *testing.T) {
	for _, s := range []string{"30m0s", "12h0m0s", "1.5s", "0s"} {
		var d config.Duration
		if err := d.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		b, _ := d.MarshalText()
		if string(b) != s {
			t.Errorf("%s round trips to %s", s, b)
		}
	}
	var d config.Duration
	if err := d.UnmarshalText([]byte("5 minutes")); err == nil {
		t.Error("a bad duration was accepted")
	}
}

func repoFile(t *testing.T, name string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, name)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

var sampleSetting = regexp.MustCompile(`^# ([a-z_]+ = .*)$`)

// TestSampleFile keeps kefu.sample.toml true: as shipped (all commented) it loads as the
// defaults, and with every setting uncommented it still loads as the defaults, so each
// documented default is right and no documented setting is unknown.
func TestSampleFile(t *testing.T) {
	path := repoFile(t, "kefu.sample.toml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatalf("sample as shipped: %v", err)
	}
	if !reflect.DeepEqual(normalize(c), normalize(config.Default())) {
		t.Errorf("sample as shipped is not the defaults: %+v", c)
	}
	var out []string
	settings := map[string]bool{}
	section := ""
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[] ") + "."
		}
		if m := sampleSetting.FindStringSubmatch(line); m != nil {
			line = m[1]
			settings[section+strings.Fields(m[1])[0]] = true
		}
		out = append(out, line)
	}
	c, err = config.Load(writeFile(t, strings.Join(out, "\n")), noEnv)
	if err != nil {
		t.Fatalf("sample uncommented: %v", err)
	}
	if !reflect.DeepEqual(normalize(c), normalize(config.Default())) {
		t.Errorf("sample's defaults differ from config.Default():\n got %+v\nwant %+v", c, config.Default())
	}
	// Every setting of the Config struct is in the sample.
	for _, key := range tomlKeys(reflect.TypeOf(config.Config{}), "") {
		if !settings[key] {
			t.Errorf("kefu.sample.toml does not document %s", key)
		}
	}
}

// tomlKeys lists the dotted TOML keys of every leaf setting of a config struct.
func tomlKeys(typ reflect.Type, prefix string) []string {
	var keys []string
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(config.Duration{}) {
			keys = append(keys, tomlKeys(f.Type, prefix+tag+".")...)
			continue
		}
		keys = append(keys, prefix+tag)
	}
	return keys
}

// TestDocsNameEveryEnvVar keeps docs/configuration.md in step with config.go.
func TestDocsNameEveryEnvVar(t *testing.T) {
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile(repoFile(t, "docs/configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`"(KEFU_[A-Z_]+)"`).FindAllSubmatch(src, -1)
	if len(names) < 10 {
		t.Fatalf("found only %d KEFU_ variables in config.go", len(names))
	}
	for _, n := range names {
		if !bytes.Contains(docs, n[1]) {
			t.Errorf("docs/configuration.md does not mention %s", n[1])
		}
	}
	for _, key := range tomlKeys(reflect.TypeOf(config.Config{}), "") {
		parts := strings.Split(key, ".")
		if !bytes.Contains(docs, []byte("`"+parts[len(parts)-1]+"`")) {
			t.Errorf("docs/configuration.md does not mention setting %s", key)
		}
	}
}

// FuzzConfigLoad: any file content gives a config or an error, never a panic; a config
// that loads survives Validate and writing it back out as TOML and loading it again.
func FuzzConfigLoad(f *testing.F) {
	f.Add("")
	f.Add(`db = "sqlite:x.db"` + "\n[log]\nlevel = \"debug\"\n")
	f.Add("[session]\nidle_timeout = \"1h\"\nabsolute_timeout = \"2h\"\n")
	f.Add("[http]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nmax_body_bytes = 9223372036854775807\n")
	f.Add("[login]\nmax_failures = -1\n")
	f.Add("addr = \"\u5ba2\u670d\"\n")
	f.Add("[[log]]\n")
	f.Add("db = 1979-05-27T07:32:00Z\n")
	f.Add("[audit]\ncheckpoint_interval = \"-5s\"\n")
	f.Add("x = { a = [ { b = 1 } ] }\n")
	f.Fuzz(func(t *testing.T, text string) {
		path := writeFile(t, text)
		c, err := config.Load(path, noEnv)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(c); err != nil {
			t.Fatalf("encode %+v: %v", c, err)
		}
		again, err := config.Load(writeFile(t, buf.String()), noEnv)
		if err != nil {
			t.Fatalf("loaded config does not load again: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(normalize(again), normalize(c)) {
			t.Fatalf("round trip changed the config:\n got %+v\nwant %+v", again, c)
		}
		_ = c.Validate() // must not panic, whatever the values
	})
}

func TestHTTPSAndIdempotencySettings(t *testing.T) {
	cases := []struct {
		name      string
		env       map[string]string
		https     bool
		lease     time.Duration
		wantError string
	}{
		{name: "defaults", lease: time.Minute},
		{name: "public url https", env: map[string]string{"KEFU_PUBLIC_URL": "https://kefu.example.cn"}, https: true, lease: time.Minute},
		{name: "public url http wins over base url", env: map[string]string{"KEFU_PUBLIC_URL": "http://10.0.0.5:8080", "KEFU_BASE_URL": "https://kefu.example.cn"}, lease: time.Minute},
		{name: "base url https", env: map[string]string{"KEFU_BASE_URL": "HTTPS://kefu.example.cn"}, https: true, lease: time.Minute},
		{name: "short lease", env: map[string]string{"KEFU_IDEMPOTENCY_LEASE": "2s"}, lease: 2 * time.Second},
		{name: "bad public url", env: map[string]string{"KEFU_PUBLIC_URL": "kefu.example.cn"}, lease: time.Minute, wantError: "http.public_url"},
		{name: "lease too short", env: map[string]string{"KEFU_IDEMPOTENCY_LEASE": "1ms"}, lease: time.Millisecond, wantError: "idempotency"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(writeFile(t, ""), func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("Validate: %v, want an error about %s", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.PublicHTTPS() != tc.https || c.Idempotency.Lease.Duration != tc.lease {
				t.Fatalf("https %v lease %v, want %v %v", c.PublicHTTPS(), c.Idempotency.Lease.Duration, tc.https, tc.lease)
			}
		})
	}
}
