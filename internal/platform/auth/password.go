package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// hashParams are argon2id cost parameters.
type hashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// defaultParams follow OWASP's first argon2id recommendation (m=19 MiB, t=2, p=1)
// instead of RFC 9106's m=64 MiB, t=1, p=4 profile. Kefu targets a 2-core server:
// p=1 keeps one sign-in on one core so that two concurrent sign-ins do not starve each
// other or the request path, and 19 MiB per hash keeps memory bounded during a burst of
// sign-ins (the service also runs at most GOMAXPROCS hashes at once), which matters for
// the SPEC's 300 MB RSS budget. The cost is ~20-40 ms per hash on one core, slow enough
// for an offline attacker and cheap enough for interactive sign-in.
var defaultParams = hashParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// errBadHash reports a stored hash this package cannot read.
var errBadHash = errors.New("auth: malformed password hash")

// hashPassword returns a PHC-style string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt base64>$<hash base64>.
func hashPassword(p hashParams, password string) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// decodeHash parses a PHC argon2id string.
func decodeHash(encoded string) (hashParams, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return hashParams{}, nil, nil, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return hashParams{}, nil, nil, errBadHash
	}
	var p hashParams
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return hashParams{}, nil, nil, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return hashParams{}, nil, nil, errBadHash
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return hashParams{}, nil, nil, errBadHash
			}
			p.Threads = uint8(n)
		default:
			return hashParams{}, nil, nil, errBadHash
		}
	}
	// Refuse absurd costs rather than letting a corrupted row exhaust the server.
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 64 || p.Threads < 1 {
		return hashParams{}, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return hashParams{}, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return hashParams{}, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// checkPassword verifies password against encoded in constant time. needsRehash is true
// when the hash was made with parameters other than want.
func checkPassword(encoded, password string, want hashParams) (ok, needsRehash bool, err error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, p != want, nil
}
