// Package secure holds Kefu's keys outside the database: AES-256-GCM field encryption
// with a rotatable key ring, HMAC blind indexes for exact lookups of encrypted values,
// the audit checkpoint key, and masking of personal data for display.
package secure

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrKeyFile reports a missing, unreadable or malformed key file.
var ErrKeyFile = errors.New("key file")

// ErrDecrypt reports a ciphertext that no key in the ring opens.
var ErrDecrypt = errors.New("secure: cannot decrypt value")

type fileFormat struct {
	Version   int               `json:"version"`
	Active    string            `json:"active"`
	Enc       map[string]string `json:"enc"`
	Blind     string            `json:"blind"`
	Audit     string            `json:"audit"`
	CreatedAt string            `json:"created_at"`
}

// Keyring holds the keys read from the key file.
type Keyring struct {
	path   string
	mu     sync.RWMutex
	active string
	aeads  map[string]cipher.AEAD
	raw    fileFormat
	blind  []byte
	audit  []byte
}

func newKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}

// LoadOrCreate reads the key file at path, creating it (mode 0600) with fresh keys when
// it does not exist and create is true.
func LoadOrCreate(path string, create bool) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		f := fileFormat{Version: 1, Active: "k1", Enc: map[string]string{"k1": newKey()},
			Blind: newKey(), Audit: newKey(), CreatedAt: time.Now().UTC().Format(time.RFC3339)}
		if err := writeFile(path, f); err != nil {
			return nil, err
		}
		return parse(path, f)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w %s does not exist (it is created when the server first starts; restore it from your backup)", ErrKeyFile, path)
		}
		return nil, fmt.Errorf("%w %s cannot be read: %v", ErrKeyFile, path, err)
	}
	var f fileFormat
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w %s is not valid: %v", ErrKeyFile, path, err)
	}
	return parse(path, f)
}

func writeFile(path string, f fileFormat) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%w: create directory: %v", ErrKeyFile, err)
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("%w %s cannot be written: %v", ErrKeyFile, path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("%w %s cannot be written: %v", ErrKeyFile, path, err)
	}
	return nil
}

func decodeKey(name, s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("%w: key %q must be 32 bytes in base64", ErrKeyFile, name)
	}
	return k, nil
}

func parse(path string, f fileFormat) (*Keyring, error) {
	k := &Keyring{path: path, raw: f, active: f.Active, aeads: map[string]cipher.AEAD{}}
	if f.Version != 1 {
		return nil, fmt.Errorf("%w %s: unsupported version %d", ErrKeyFile, path, f.Version)
	}
	for id, s := range f.Enc {
		key, err := decodeKey("enc."+id, s)
		if err != nil {
			return nil, err
		}
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		k.aeads[id] = aead
	}
	if _, ok := k.aeads[f.Active]; !ok {
		return nil, fmt.Errorf("%w %s: active key %q is not in the ring", ErrKeyFile, path, f.Active)
	}
	var err error
	if k.blind, err = decodeKey("blind", f.Blind); err != nil {
		return nil, err
	}
	if k.audit, err = decodeKey("audit", f.Audit); err != nil {
		return nil, err
	}
	return k, nil
}

// Path is the key file's location.
func (k *Keyring) Path() string { return k.path }

// ActiveKeyID names the key new values are encrypted with.
func (k *Keyring) ActiveKeyID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.active
}

// Encrypt seals plain with the active key; the result is "<keyid>:<base64(nonce|ct)>".
// aad binds the value to its place (e.g. "customer.mobile"), so values cannot be swapped
// between columns unnoticed.
func (k *Keyring) Encrypt(plain, aad string) (string, error) {
	k.mu.RLock()
	id, aead := k.active, k.aeads[k.active]
	k.mu.RUnlock()
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secure: nonce: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, []byte(plain), []byte(aad))
	return id + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Decrypt opens a value made by Encrypt with the same aad.
func (k *Keyring) Decrypt(value, aad string) (string, error) {
	id, b64, ok := strings.Cut(value, ":")
	if !ok {
		return "", ErrDecrypt
	}
	k.mu.RLock()
	aead := k.aeads[id]
	k.mu.RUnlock()
	if aead == nil {
		return "", fmt.Errorf("%w: unknown key %q", ErrDecrypt, id)
	}
	sealed, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(sealed) < aead.NonceSize() {
		return "", ErrDecrypt
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(aad))
	if err != nil {
		return "", ErrDecrypt
	}
	return string(plain), nil
}

// KeyID returns the key id a stored value was encrypted with.
func KeyID(value string) string {
	id, _, _ := strings.Cut(value, ":")
	return id
}

// Blind returns the blind index of value for purpose: a keyed HMAC-SHA256, hex, that
// supports exact-match lookups without storing the value.
func (k *Keyring) Blind(purpose, value string) string {
	m := hmac.New(sha256.New, k.blind)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// AuditMAC is the HMAC-SHA256 (hex) of msg under the audit checkpoint key.
func (k *Keyring) AuditMAC(msg []byte) string {
	m := hmac.New(sha256.New, k.audit)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// Rotate adds a fresh encryption key, makes it active and saves the key file. Old keys
// stay in the ring so existing values still open until they are re-encrypted.
func (k *Keyring) Rotate() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ids := make([]string, 0, len(k.raw.Enc))
	for id := range k.raw.Enc {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	next := fmt.Sprintf("k%d", len(ids)+1)
	for k.raw.Enc[next] != "" {
		next += "x"
	}
	f := k.raw
	f.Enc = map[string]string{}
	for id, v := range k.raw.Enc {
		f.Enc[id] = v
	}
	f.Enc[next] = newKey()
	f.Active = next
	if err := writeFile(k.path, f); err != nil {
		return "", err
	}
	nk, err := parse(k.path, f)
	if err != nil {
		return "", err
	}
	k.raw, k.active, k.aeads = nk.raw, nk.active, nk.aeads
	return next, nil
}
