package secure_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/secure"
)

func newRing(t testing.TB) (*secure.Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "kefu.keys")
	k, err := secure.LoadOrCreate(path, true)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	return k, path
}

func TestCreateAndReload(t *testing.T) {
	k, path := newRing(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode %o, want 600", mode)
	}
	if k.Path() != path || k.ActiveKeyID() != "k1" {
		t.Errorf("path %q active %q", k.Path(), k.ActiveKeyID())
	}
	sealed, err := k.Encrypt("13812345678", "customer.mobile")
	if err != nil {
		t.Fatal(err)
	}
	// Loading again (without create) reads the same keys.
	k2, err := secure.LoadOrCreate(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := k2.Decrypt(sealed, "customer.mobile"); err != nil || plain != "13812345678" {
		t.Errorf("reloaded ring: %q %v", plain, err)
	}
	if k.Blind("mobile", "138") != k2.Blind("mobile", "138") || k.AuditMAC([]byte("x")) != k2.AuditMAC([]byte("x")) {
		t.Error("reloaded ring has different blind or audit keys")
	}
	// A second ring has different keys.
	other, _ := newRing(t)
	if _, err := other.Decrypt(sealed, "customer.mobile"); !errors.Is(err, secure.ErrDecrypt) {
		t.Errorf("another ring opened the value: %v", err)
	}
	if other.Blind("mobile", "138") == k.Blind("mobile", "138") {
		t.Error("blind index does not depend on the key")
	}
}

func keyFile(t *testing.T, mutate func(m map[string]any)) string {
	t.Helper()
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	m := map[string]any{"version": 1, "active": "k1", "enc": map[string]string{"k1": key}, "blind": key, "audit": key}
	mutate(m)
	b, _ := json.Marshal(m)
	p := filepath.Join(t.TempDir(), "kefu.keys")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadErrors(t *testing.T) {
	short := base64.StdEncoding.EncodeToString([]byte("short"))
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string
	}{
		{"missing without create", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none.keys") }, "does not exist"},
		{"not json", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "k")
			_ = os.WriteFile(p, []byte("not json"), 0o600)
			return p
		}, "not valid"},
		{"version", func(t *testing.T) string { return keyFile(t, func(m map[string]any) { m["version"] = 2 }) }, "version"},
		{"active missing", func(t *testing.T) string { return keyFile(t, func(m map[string]any) { m["active"] = "k9" }) }, "active key"},
		{"short enc key", func(t *testing.T) string {
			return keyFile(t, func(m map[string]any) { m["enc"] = map[string]string{"k1": short} })
		}, "32 bytes"},
		{"bad blind key", func(t *testing.T) string { return keyFile(t, func(m map[string]any) { m["blind"] = "!!" }) }, "blind"},
		{"missing audit key", func(t *testing.T) string { return keyFile(t, func(m map[string]any) { delete(m, "audit") }) }, "audit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secure.LoadOrCreate(tc.path(t), false)
			if !errors.Is(err, secure.ErrKeyFile) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want ErrKeyFile mentioning %q", err, tc.want)
			}
		})
	}
	// A valid hand-written file loads.
	if _, err := secure.LoadOrCreate(keyFile(t, func(map[string]any) {}), false); err != nil {
		t.Errorf("valid file: %v", err)
	}
}

func TestEncryptDecrypt(t *testing.T) {
	k, _ := newRing(t)
	for _, plain := range []string{"", "110101199003077777", "北京市朝阳区建国路 88 号", strings.Repeat("x", 10000)} {
		a, err := k.Encrypt(plain, "customer.id_number")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := k.Encrypt(plain, "customer.id_number")
		if a == b {
			t.Error("two encryptions of the same value are equal (nonce reuse)")
		}
		if plain != "" && strings.Contains(a, plain) {
			t.Error("ciphertext contains the plaintext")
		}
		if secure.KeyID(a) != "k1" {
			t.Errorf("KeyID = %q", secure.KeyID(a))
		}
		if got, err := k.Decrypt(a, "customer.id_number"); err != nil || got != plain {
			t.Errorf("Decrypt = %q, %v", got, err)
		}
		if _, err := k.Decrypt(a, "customer.mobile"); !errors.Is(err, secure.ErrDecrypt) {
			t.Errorf("value opened under another aad: %v", err)
		}
	}
	good, _ := k.Encrypt("secret", "f")
	id, body, _ := strings.Cut(good, ":")
	raw, _ := base64.RawStdEncoding.DecodeString(body)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1
	for name, v := range map[string]string{
		"no separator": "garbage",
		"unknown key":  "k7:" + body,
		"bad base64":   id + ":***",
		"too short":    id + ":AAAA",
		"tampered":     id + ":" + base64.RawStdEncoding.EncodeToString(flipped),
		"truncated":    id + ":" + base64.RawStdEncoding.EncodeToString(raw[:len(raw)-1]),
		"empty":        "",
	} {
		if got, err := k.Decrypt(v, "f"); !errors.Is(err, secure.ErrDecrypt) || got != "" {
			t.Errorf("%s: Decrypt = %q, %v; want ErrDecrypt", name, got, err)
		}
	}
}

func TestBlindAndAuditMAC(t *testing.T) {
	k, _ := newRing(t)
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	a := k.Blind("customer.mobile", "13812345678")
	if !hex64.MatchString(a) || a != k.Blind("customer.mobile", "13812345678") {
		t.Errorf("Blind is not a stable hex HMAC: %q", a)
	}
	distinct := map[string]bool{
		a:                                        true,
		k.Blind("customer.phone", "13812345678"): true,
		k.Blind("customer.mobile", "13812345679"): true,
		k.Blind("ab", "c"):                        true,
		k.Blind("a", "bc"):                        true, // purpose and value are separated
	}
	if len(distinct) != 5 {
		t.Errorf("blind indexes collide: %v", distinct)
	}
	m := k.AuditMAC([]byte("entry-1"))
	if !hex64.MatchString(m) || m != k.AuditMAC([]byte("entry-1")) || m == k.AuditMAC([]byte("entry-2")) {
		t.Errorf("AuditMAC: %q", m)
	}
}

func TestRotate(t *testing.T) {
	k, path := newRing(t)
	old, _ := k.Encrypt("old value", "f")
	blind, mac := k.Blind("p", "v"), k.AuditMAC([]byte("m"))
	id, err := k.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if id == "k1" || k.ActiveKeyID() != id {
		t.Fatalf("Rotate = %q, active %q", id, k.ActiveKeyID())
	}
	fresh, _ := k.Encrypt("new value", "f")
	if secure.KeyID(fresh) != id {
		t.Errorf("new values use key %q, want %q", secure.KeyID(fresh), id)
	}
	if v, err := k.Decrypt(old, "f"); err != nil || v != "old value" {
		t.Errorf("old value after rotation: %q %v", v, err)
	}
	if k.Blind("p", "v") != blind || k.AuditMAC([]byte("m")) != mac {
		t.Error("rotation changed the blind or audit key (indexes and checkpoints would break)")
	}
	// The rotation is saved.
	k2, err := secure.LoadOrCreate(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if k2.ActiveKeyID() != id {
		t.Errorf("reloaded active key %q, want %q", k2.ActiveKeyID(), id)
	}
	for _, v := range []string{old, fresh} {
		if _, err := k2.Decrypt(v, "f"); err != nil {
			t.Errorf("reloaded ring cannot open %s value: %v", secure.KeyID(v), err)
		}
	}
	if id2, err := k.Rotate(); err != nil || id2 == id || id2 == "k1" {
		t.Errorf("second rotation = %q, %v", id2, err)
	}
}

func TestConcurrentUseDuringRotation(t *testing.T) {
	k, _ := newRing(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				v, err := k.Encrypt("x", "f")
				if err == nil {
					_, err = k.Decrypt(v, "f")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < 3; i++ {
		if _, err := k.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzDecryptGarbage: Decrypt never panics and opens nothing but what the ring sealed.
// The ring has fixed keys so that every fuzzing worker shares it, and the only value ever
// sealed is sealedPlain under sealedAAD: any other success would be a forgery.
func FuzzDecryptGarbage(f *testing.F) {
	const sealedPlain, sealedAAD = "13812345678", "customer.mobile"
	key := base64.StdEncoding.EncodeToString([]byte("fixed-test-key-0123456789abcdef!"))
	b, _ := json.Marshal(map[string]any{"version": 1, "active": "k1",
		"enc": map[string]string{"k1": key, "k2": key}, "blind": key, "audit": key})
	path := filepath.Join(f.TempDir(), "kefu.keys")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		f.Fatal(err)
	}
	k, err := secure.LoadOrCreate(path, false)
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := k.Encrypt(sealedPlain, sealedAAD)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, sealedAAD)
	f.Add(sealed, "customer.phone")
	f.Add("k2"+strings.TrimPrefix(sealed, "k1"), sealedAAD)
	f.Add(sealed[:len(sealed)-2], sealedAAD)
	f.Add("k1:", "")
	f.Add(":", "")
	f.Add("k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "")
	f.Add("\x00:\xff", "\x00")
	f.Fuzz(func(t *testing.T, value, aad string) {
		plain, err := k.Decrypt(value, aad)
		if err != nil {
			if !errors.Is(err, secure.ErrDecrypt) {
				t.Fatalf("Decrypt error %v is not ErrDecrypt", err)
			}
			if plain != "" {
				t.Fatalf("Decrypt failed but returned %q", plain)
			}
			return
		}
		if aad != sealedAAD || plain != sealedPlain {
			t.Fatalf("Decrypt(%q, %q) opened a value that was never sealed: %q", value, aad, plain)
		}
	})
}
