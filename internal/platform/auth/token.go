package auth

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Token is an API token as listed (never its secret).
type Token struct {
	ID         int64     `json:"id"`
	StaffID    int64     `json:"staff_id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// Revoked reports whether the token was revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// prefixLen is how many characters of the random part are kept for display.
const prefixLen = 8

// CreateToken makes an API token for a staff member and returns the plain token (shown
// once, never stored) and its record. Staff members make tokens for themselves only:
// a token is a way to sign in, and handing one out for someone else would let the
// holder of token:manage act as anyone. Only the system actor (the CLI's
// `kefu token create`) makes tokens for others.
func (s *Service) CreateToken(ctx context.Context, staffID int64, name string) (string, Token, error) {
	a := authz.From(ctx)
	switch {
	case a == nil:
		return "", Token{}, apperr.Unauth()
	case a.Kind == authz.KindSystem:
	case a.Kind == authz.KindStaff && a.ID == staffID:
	default:
		// The same answer whoever staffID is, so that it reveals nothing about them.
		return "", Token{}, apperr.New(apperr.Forbidden, "auth.token.only_own")
	}
	name = strings.TrimSpace(name)
	f := apperr.Fields{}
	switch {
	case name == "":
		f.Add("name", "field.required")
	case utf8.RuneCountInString(name) > maxTokenName:
		f.Add("name", "field.too_long", "max", maxTokenName)
	}
	if err := f.Err(); err != nil {
		return "", Token{}, err
	}
	_, status, found, err := s.staffBasics(ctx, staffID)
	if err != nil {
		return "", Token{}, err
	}
	if !found {
		return "", Token{}, apperr.NotFoundf(thingStaff)
	}
	if status != statusActive {
		return "", Token{}, apperr.New(apperr.Conflict, "auth.token.staff_disabled")
	}
	secret := newSecret()
	plain := TokenPrefix + secret
	now := s.now()
	t := Token{StaffID: staffID, Name: name, Prefix: TokenPrefix + secret[:prefixLen], CreatedAt: fromMillis(clock.Millis(now))}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.db.QueryRow(ctx, sqlInsertToken, staffID, name, digest(plain), t.Prefix, clock.Millis(now)).Scan(&t.ID); err != nil {
			return fmt.Errorf("auth: create token: %w", err)
		}
		return s.record(ctx, "auth.token.create", staffID, map[string]any{"token_id": t.ID, "name": name, "prefix": t.Prefix})
	})
	if err != nil {
		return "", Token{}, err
	}
	return plain, t, nil
}

// token reads one token the actor may see: their own, or with token:manage one of a
// staff member the actor's scope reaches. Others read as not found.
func (s *Service) token(ctx context.Context, tokenID int64) (Token, error) {
	a := authz.From(ctx)
	if a == nil {
		return Token{}, apperr.Unauth()
	}
	t, err := scanToken(s.db.QueryRow(ctx, sqlToken, tokenID))
	if db.IsNoRows(err) {
		return Token{}, apperr.NotFoundf(thingToken)
	}
	if err != nil {
		return Token{}, fmt.Errorf("auth: read token: %w", err)
	}
	if _, err := s.requireSelfOrReach(ctx, t.StaffID, "token:manage"); err != nil {
		if k := apperr.KindOf(err); k == apperr.Forbidden || k == apperr.NotFound {
			return Token{}, apperr.NotFoundf(thingToken)
		}
		return Token{}, err
	}
	return t, nil
}

// GetToken returns one token (own, or any with token:manage).
func (s *Service) GetToken(ctx context.Context, tokenID int64) (Token, error) {
	return s.token(ctx, tokenID)
}

// RevokeToken revokes a token; requests carrying it fail from the very next one on.
// The actor must own the token or hold token:manage and cover its owner (a 403 for an
// owner in scope who holds more). Revoking twice is not an error.
func (s *Service) RevokeToken(ctx context.Context, tokenID int64) error {
	t, err := s.token(ctx, tokenID)
	if err != nil {
		return err
	}
	if _, err := s.requireSelfOr(ctx, t.StaffID, "token:manage"); err != nil {
		return err
	}
	if t.Revoked() {
		return nil
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, sqlRevokeToken, clock.Millis(s.now()), tokenID)
		if err != nil {
			return fmt.Errorf("auth: revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // revoked concurrently
		}
		return s.record(ctx, "auth.token.revoke", t.StaffID, map[string]any{"token_id": t.ID, "name": t.Name, "prefix": t.Prefix})
	})
}

// ListTokens lists a staff member's tokens, newest first, limit per page; after is the
// id of the last token of the previous page (0 for the first). The actor must be the
// staff member or hold token:manage at a scope that reaches them (otherwise NotFound,
// like a staff member who does not exist).
func (s *Service) ListTokens(ctx context.Context, staffID int64, limit int, after int64) ([]Token, int64, error) {
	if _, err := s.requireSelfOrReach(ctx, staffID, "token:manage"); err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > httpx.MaxLimit {
		limit = httpx.DefaultLimit
	}
	if after <= 0 {
		after = math.MaxInt64
	}
	rows, err := s.db.Query(ctx, sqlTokensOf, staffID, after, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("auth: list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("auth: scan token: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("auth: list tokens: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// tokenActor authenticates a bearer token: one indexed lookup (joined with the staff
// member's status), then the actor load. Any failure is Unauthenticated.
func (s *Service) tokenActor(ctx context.Context, plain string) (*authz.Actor, error) {
	secret, ok := strings.CutPrefix(plain, TokenPrefix)
	if !ok || !wellFormed(secret) {
		return nil, apperr.Unauth()
	}
	var id, staffID, lastUsed, revoked int64
	var status string
	err := s.db.QueryRow(ctx, sqlTokenByDigest, digest(plain)).Scan(&id, &staffID, &lastUsed, &revoked, &status)
	if db.IsNoRows(err) {
		return nil, apperr.Unauth()
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read token: %w", err)
	}
	if revoked != 0 || status != statusActive {
		return nil, apperr.Unauth()
	}
	actor, err := s.loadActor(ctx, staffID)
	if err != nil {
		return nil, err
	}
	now := clock.Millis(s.now())
	if now-lastUsed >= touchEvery.Milliseconds() {
		// Conditional, so that concurrent requests (or nodes) write it once.
		if _, err := s.db.Exec(ctx, sqlTouchToken, now, id, now-touchEvery.Milliseconds()+1); err != nil {
			return nil, fmt.Errorf("auth: touch token: %w", err)
		}
	}
	actor.TokenID = id
	return actor, nil
}

// loadActor loads a staff actor; a missing one is Unauthenticated.
func (s *Service) loadActor(ctx context.Context, staffID int64) (*authz.Actor, error) {
	a, err := s.principals.LoadActor(ctx, staffID)
	if err != nil {
		switch apperr.KindOf(err) {
		case apperr.NotFound, apperr.Unauthenticated, apperr.Forbidden:
			return nil, apperr.Unauth()
		}
		return nil, fmt.Errorf("auth: load actor %d: %w", staffID, err)
	}
	if a == nil || a.Kind != authz.KindStaff {
		return nil, apperr.Unauth()
	}
	return a, nil
}
