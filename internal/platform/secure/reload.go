package secure

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Reload re-reads the key file and takes over a new active key and any added
// encryption keys, so that a running server follows `kefu keys rotate`: values the
// rotation re-encrypts under the new key stay readable, and new values are encrypted
// with it. Only additions are accepted: a file whose blind-index or audit key differs,
// or that drops or changes an encryption key this ring holds, is refused (the ring
// stays as it was) since it would make stored data unreadable or unsearchable. It
// reports whether anything changed.
func (k *Keyring) Reload() (bool, error) {
	b, err := os.ReadFile(k.path)
	if err != nil {
		return false, fmt.Errorf("%w %s cannot be read: %v", ErrKeyFile, k.path, err)
	}
	var f fileFormat
	if err := json.Unmarshal(b, &f); err != nil {
		return false, fmt.Errorf("%w %s is not valid: %v", ErrKeyFile, k.path, err)
	}
	nk, err := parse(k.path, f)
	if err != nil {
		return false, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if f.Blind != k.raw.Blind || f.Audit != k.raw.Audit {
		return false, fmt.Errorf("%w %s: the blind-index or audit key changed; not reloaded", ErrKeyFile, k.path)
	}
	for id, v := range k.raw.Enc {
		if f.Enc[id] != v {
			return false, fmt.Errorf("%w %s: encryption key %q is missing or changed; not reloaded", ErrKeyFile, k.path, id)
		}
	}
	if f.Active == k.raw.Active && len(f.Enc) == len(k.raw.Enc) {
		return false, nil
	}
	k.raw, k.active, k.aeads = nk.raw, nk.active, nk.aeads
	return true, nil
}

// Watch checks the key file every interval (by modification time and size) and
// reloads it when it changed, until ctx ends. report is told about each reload (err
// nil) and each refused or unreadable file.
func (k *Keyring) Watch(ctx context.Context, every time.Duration, report func(active string, err error)) {
	stamp := func() (time.Time, int64) {
		st, err := os.Stat(k.path)
		if err != nil {
			return time.Time{}, -1
		}
		return st.ModTime(), st.Size()
	}
	mt, size := stamp()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m, s := stamp()
		if s < 0 || (m.Equal(mt) && s == size) {
			continue
		}
		mt, size = m, s
		changed, err := k.Reload()
		if report != nil && (changed || err != nil) {
			report(k.ActiveKeyID(), err)
		}
	}
}
