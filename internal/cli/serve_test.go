package cli_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/cli"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// syncBuffer is a bytes.Buffer safe for a running command and a polling test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testEnv(t *testing.T, vars map[string]string, stdin string) (*cli.Env, *syncBuffer, *syncBuffer) {
	t.Helper()
	out, errb := &syncBuffer{}, &syncBuffer{}
	env := &cli.Env{
		Stdin: strings.NewReader(stdin), Stdout: out, Stderr: errb,
		Getenv: func(k string) string { return vars[k] },
	}
	return env, out, errb
}

// testDSN returns a DSN for a fresh database on the engine under test, plus a key file path.
func testDSN(t *testing.T) (string, map[string]string) {
	t.Helper()
	var dsn string
	if dbtest.Engine() == "postgres" {
		dsn = dbtest.NewDSN(t)
	} else {
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "kefu.db")
	}
	return dsn, map[string]string{"KEFU_KEY_FILE": filepath.Join(t.TempDir(), "kefu.keys"), "KEFU_LOG_LEVEL": "warn"}
}

func TestVersionAndUsage(t *testing.T) {
	ctx := context.Background()
	env, out, _ := testEnv(t, nil, "")
	if code := cli.RunEnv(ctx, env, []string{"kefu", "version"}); code != 0 {
		t.Fatalf("version exit %d", code)
	}
	if !strings.HasPrefix(out.String(), "kefu ") || !strings.Contains(out.String(), "commit ") || !strings.Contains(out.String(), "built ") {
		t.Fatalf("version output %q", out.String())
	}
	env, _, errb := testEnv(t, nil, "")
	if code := cli.RunEnv(ctx, env, []string{"kefu", "frobnicate"}); code != cli.ExitUsage {
		t.Fatalf("unknown command exit %d, want 2", code)
	}
	if !strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("stderr %q", errb.String())
	}
	env, _, _ = testEnv(t, nil, "")
	if code := cli.RunEnv(ctx, env, []string{"kefu"}); code != cli.ExitUsage {
		t.Fatalf("no command exit %d, want 2", code)
	}
}

func TestBadInputExitsTwoWithOneLine(t *testing.T) {
	ctx := context.Background()
	missingKeyDir := filepath.Join(t.TempDir(), "k")
	if err := os.MkdirAll(missingKeyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	brokenKey := filepath.Join(missingKeyDir, "broken.keys")
	if err := os.WriteFile(brokenKey, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	badConfig := filepath.Join(t.TempDir(), "kefu.toml")
	if err := os.WriteFile(badConfig, []byte("addr = \":8080\"\nno_such_setting = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"bad dsn scheme", []string{"migrate", "--db", "mysql://root@localhost/kefu"}, nil, "must start with sqlite: or postgres://"},
		{"empty sqlite path", []string{"migrate", "--db", "sqlite:"}, nil, "needs a file path"},
		{"unknown flag", []string{"migrate", "--frob"}, nil, "flag provided but not defined"},
		{"bad env duration", []string{"migrate"}, map[string]string{"KEFU_SESSION_IDLE_TIMEOUT": "soon"}, "KEFU_SESSION_IDLE_TIMEOUT"},
		{"unknown config setting", []string{"migrate", "--config", badConfig}, nil, "no_such_setting"},
		{"missing config file", []string{"migrate", "--config", filepath.Join(t.TempDir(), "nope.toml")}, nil, "nope.toml"},
		{"broken key file", []string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(t.TempDir(), "k.db")},
			map[string]string{"KEFU_KEY_FILE": brokenKey}, "is not valid"},
		{"serve extra argument", []string{"serve", "extra"}, nil, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _, errb := testEnv(t, tt.vars, "")
			code := cli.RunEnv(ctx, env, append([]string{"kefu"}, tt.args...))
			if code != cli.ExitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errb.String())
			}
			msg := errb.String()
			if !strings.Contains(msg, tt.want) {
				t.Fatalf("stderr %q lacks %q", msg, tt.want)
			}
			if tt.name != "unknown flag" && strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Fatalf("stderr is not one line: %q", msg)
			}
		})
	}
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	ctx := context.Background()
	dsn, vars := testDSN(t)
	for i, want := range []string{"migrations applied: ", "migrations applied: 0"} {
		env, out, errb := testEnv(t, vars, "")
		if code := cli.RunEnv(ctx, env, []string{"kefu", "migrate", "--db", dsn}); code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errb.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Fatalf("run %d: output %q lacks %q", i, out.String(), want)
		}
	}
}

var listenRe = regexp.MustCompile(`listening on (http://\S+)`)

// TestServeStartsAndShutsDownGracefully runs the real serve command on a loopback port,
// checks health, readiness and the first-run hint, then cancels (as SIGTERM does).
func TestServeStartsAndShutsDownGracefully(t *testing.T) {
	dsn, vars := testDSN(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, out, errb := testEnv(t, vars, "")
	done := make(chan int, 1)
	go func() { done <- cli.RunEnv(ctx, env, []string{"kefu", "serve", "--addr", "127.0.0.1:0", "--db", dsn}) }()
	var base string
	deadline := time.Now().Add(30 * time.Second)
	for base == "" {
		if m := listenRe.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d: %s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s %s", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "kefu user add --username admin --role admin") {
		t.Errorf("first run without staff should explain how to create the first admin: %q", out.String())
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d after shutdown: %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if _, err := os.Stat(vars["KEFU_KEY_FILE"]); err != nil {
		t.Fatalf("key file not created on first run: %v", err)
	}
	if fi, _ := os.Stat(vars["KEFU_KEY_FILE"]); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
}
