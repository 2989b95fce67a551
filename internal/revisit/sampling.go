package revisit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// Sampling is deterministic and reproducible: the bucket of an event for a rule is the
// keyed hash HMAC-SHA256(secret, rule code NUL subject key), its first 8 bytes as a
// big-endian number modulo 10,000. The event is chosen when bucket < rate_pct * 100,
// or whatever the bucket when the customer is a key customer. Anyone holding the
// install's secret re-derives every decision; nobody without it can predict one.

// Buckets is the number of buckets (a rate of 1% is 100 of them).
const Buckets = 10000

// sampler computes buckets with one reusable HMAC (not safe for concurrent use).
type sampler struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

func newSampler(secret []byte) *sampler {
	return &sampler{mac: hmac.New(sha256.New, secret), buf: make([]byte, 0, 128), sum: make([]byte, 0, sha256.Size)}
}

// bucket returns the bucket of subject key for rule code.
func (sp *sampler) bucket(rule, key string) int {
	sp.mac.Reset()
	sp.buf = append(append(append(sp.buf[:0], rule...), 0), key...)
	sp.mac.Write(sp.buf)
	sp.sum = sp.mac.Sum(sp.sum[:0])
	return int(binary.BigEndian.Uint64(sp.sum[:8]) % Buckets)
}

// Bucket is the bucket of subject key for rule code under secret (auditors, tests).
func Bucket(secret []byte, rule, key string) int { return newSampler(secret).bucket(rule, key) }

// decide returns whether an event in bucket is chosen at rate (percent) and why.
func decide(bucket, rate int, key bool) (bool, string) {
	switch {
	case key:
		return true, reasonKeyCustomer
	case bucket < rate*100:
		return true, reasonSampled
	}
	return false, reasonNotSampled
}
