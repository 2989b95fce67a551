package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// secretLen is the length in characters of a 32-byte random value in unpadded base64url.
const secretLen = 43

// newSecret returns 32 random bytes as unpadded base64url.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: crypto/rand: %v", err)) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// digest is the hex SHA-256 of s: what the database keeps of session ids and tokens.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether s looks like a value made by newSecret, so that junk
// cookies and tokens cost no database round trip.
func wellFormed(s string) bool {
	if len(s) != secretLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// session is a row of sessions joined with its staff member's status.
type session struct {
	hash        string
	staffID     int64
	csrf        string
	mfaPending  bool
	createdAt   int64
	lastSeenAt  int64
	staffStatus string
}

// insertSession stores a new session and returns its raw id (for the cookie).
func (s *Service) insertSession(ctx context.Context, staffID int64, mfaPending bool, ip, userAgent string) (string, error) {
	raw := newSecret()
	now := clock.Millis(s.now())
	pending := 0
	if mfaPending {
		pending = 1
	}
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	if _, err := s.db.Exec(ctx, sqlInsertSession, digest(raw), staffID, newSecret(), pending, now, now, ip, userAgent); err != nil {
		return "", fmt.Errorf("auth: create session: %w", err)
	}
	return raw, nil
}

// lookupSession finds the live session with raw id; nil when there is none. An expired
// session is deleted on sight. A live session has its last_seen_at touched at most once
// a minute.
func (s *Service) lookupSession(ctx context.Context, raw string) (*session, error) {
	if !wellFormed(raw) {
		return nil, nil
	}
	ss := &session{hash: digest(raw)}
	var pending int
	err := s.db.QueryRow(ctx, sqlSession, ss.hash).Scan(&ss.staffID, &ss.csrf, &pending, &ss.createdAt, &ss.lastSeenAt, &ss.staffStatus)
	if err != nil {
		if db.IsNoRows(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("auth: read session: %w", err)
	}
	ss.mfaPending = pending != 0
	now := s.now()
	if s.expired(ss, now) || ss.staffStatus != statusActive {
		if _, err := s.db.Exec(ctx, sqlDeleteSession, ss.hash); err != nil {
			return nil, fmt.Errorf("auth: delete expired session: %w", err)
		}
		return nil, nil
	}
	ms := clock.Millis(now)
	if !ss.mfaPending && ms-ss.lastSeenAt >= touchEvery.Milliseconds() {
		if _, err := s.db.Exec(ctx, sqlTouchSession, ms, ss.hash, ms-touchEvery.Milliseconds()+1); err != nil {
			return nil, fmt.Errorf("auth: touch session: %w", err)
		}
		ss.lastSeenAt = ms
	}
	return ss, nil
}

func (s *Service) expired(ss *session, now time.Time) bool {
	ms := clock.Millis(now)
	if ss.mfaPending {
		return ms >= ss.createdAt+mfaPendingMaxAge.Milliseconds()
	}
	return ms >= ss.lastSeenAt+s.idle.Milliseconds() || ms >= ss.createdAt+s.absolute.Milliseconds()
}

func (s *Service) deleteSession(ctx context.Context, hash string) error {
	if _, err := s.db.Exec(ctx, sqlDeleteSession, hash); err != nil {
		return fmt.Errorf("auth: delete session: %w", err)
	}
	return nil
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, raw string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: raw, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: httpx.IsHTTPS(r)})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: httpx.IsHTTPS(r)})
}
