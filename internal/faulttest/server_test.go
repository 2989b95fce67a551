package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// kefuBinary builds cmd/kefu once per test binary run.
func kefuBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "kefu-faulttest-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kefu")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/kefu")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build kefu: %v\n%s", buildErr, binPath)
	}
	return binPath
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// adminToken creates an administrator in the database at dsn and returns an API token.
func adminToken(t *testing.T, dsn, keyFile string) string {
	t.Helper()
	cfg := config.Default()
	cfg.DB, cfg.KeyFile = dsn, keyFile
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, app.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	sys := authz.WithActor(ctx, authz.System("faulttest"))
	st, err := a.Org.CreateStaff(sys, org.StaffInput{Username: "fault_admin", DisplayName: "Fault Admin", Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Auth.CreateToken(sys, st.ID, "faulttest")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// server is a `kefu serve` child process on loopback.
type server struct {
	cmd    *exec.Cmd
	URL    string
	stderr *bytes.Buffer
	done   chan struct{}
}

// startServer runs `kefu serve` with env (KEFU_* settings) and waits until it listens.
func startServer(t *testing.T, bin, dir string, env ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "KEFU_LOG_LEVEL=warn"}, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: s.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.kill() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "listening on http://"); i >= 0 {
				rest := strings.Fields(line[i+len("listening on "):])
				urls <- rest[0]
			}
		}
	}()
	select {
	case u := <-urls:
		s.URL = u
	case <-s.done:
		t.Fatalf("kefu serve exited: %s", s.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("kefu serve did not start: %s", s.stderr.String())
	}
	return s
}

// kill sends SIGKILL (no shutdown of any kind) and waits for the process to end.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
