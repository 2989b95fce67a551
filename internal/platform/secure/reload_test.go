package secure

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReloadFollowsRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kefu.keys")
	server, err := LoadOrCreate(path, true)
	if err != nil {
		t.Fatal(err)
	}
	old, err := server.Encrypt("13800138000", "customer.mobile")
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := server.Reload(); err != nil || changed {
		t.Fatalf("unchanged file: %v %v", changed, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reloaded := make(chan string, 1)
	go server.Watch(ctx, 10*time.Millisecond, func(active string, err error) {
		if err == nil {
			reloaded <- active
		}
	})
	time.Sleep(50 * time.Millisecond)       // the watcher has noted the file as it is
	stale, err := LoadOrCreate(path, false) // a ring that does not watch
	if err != nil {
		t.Fatal(err)
	}
	// Another process (kefu keys rotate) rotates the same file.
	cli, err := LoadOrCreate(path, false)
	if err != nil {
		t.Fatal(err)
	}
	next, err := cli.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := cli.Encrypt("13800138000", "customer.mobile")
	if _, err := stale.Decrypt(fresh, "customer.mobile"); err == nil {
		t.Fatal("server opened a value under a key it has not loaded")
	}
	select {
	case got := <-reloaded:
		if got != next {
			t.Fatalf("active %s, want %s", got, next)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watcher did not reload")
	}
	for _, v := range []string{old, fresh} {
		if p, err := server.Decrypt(v, "customer.mobile"); err != nil || p != "13800138000" {
			t.Fatalf("decrypt %s after reload: %v", KeyID(v), err)
		}
	}
	if v, _ := server.Encrypt("x", "a"); KeyID(v) != next {
		t.Fatalf("server encrypts with %s", KeyID(v))
	}

	// A file that would make data unreadable or unsearchable is refused.
	b, _ := os.ReadFile(path)
	var f fileFormat
	_ = json.Unmarshal(b, &f)
	for name, mutate := range map[string]func(f *fileFormat){
		"blind key changed": func(f *fileFormat) { f.Blind = newKey() },
		"key dropped":       func(f *fileFormat) { delete(f.Enc, "k1") },
	} {
		g := f
		g.Enc = map[string]string{}
		for k, v := range f.Enc {
			g.Enc[k] = v
		}
		mutate(&g)
		if err := writeFile(path, g); err != nil {
			t.Fatal(err)
		}
		if changed, err := server.Reload(); err == nil || changed || !strings.Contains(err.Error(), "not reloaded") {
			t.Errorf("%s: reloaded (%v, %v)", name, changed, err)
		}
		if p, err := server.Decrypt(old, "customer.mobile"); err != nil || p != "13800138000" {
			t.Errorf("%s: ring damaged: %v", name, err)
		}
	}
}
