// Package auth authenticates staff: server-side web sessions, API tokens looked up by
// SHA-256 digest, argon2id passwords, throttled sign-in with lockout, an optional TOTP
// second factor, and the sign-in, sign-out and account pages.
package auth

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// PrincipalLoader turns a staff id into an actor (the org capability implements it).
type PrincipalLoader interface {
	// LoadActor returns the staff member with roles and permissions filled; an apperr
	// NotFound when there is none.
	LoadActor(ctx context.Context, staffID int64) (*authz.Actor, error)
	// FindLogin resolves a sign-in name; an apperr NotFound when there is none.
	FindLogin(ctx context.Context, username string) (staffID int64, active bool, err error)
}

// Options are the dependencies of the service.
type Options struct {
	DB                *db.DB
	Keys              *secure.Keyring
	Clock             clock.Clock
	Audit             *audit.Log
	Log               *slog.Logger
	Principals        PrincipalLoader
	Session           config.SessionConfig
	Login             config.LoginConfig
	MinPasswordLength int
}

// Limits and fixed policy.
const (
	// SessionCookie holds the raw session id.
	SessionCookie = "kefu_session"
	// LoginCSRFCookie is the double-submit cookie of the sign-in form.
	LoginCSRFCookie = "kefu_login_csrf"
	// TokenPrefix starts every API token.
	TokenPrefix = "kefu_"

	touchEvery       = time.Minute     // last_seen_at / last_used_at granularity
	mfaPendingMaxAge = 5 * time.Minute // time to type the second factor
	maxPasswordBytes = 1024            // argon2 input cap (the hash cost must not grow with input)
	maxUsernameRunes = 64              // longer names cannot exist
	maxTokenName     = 64              // runes
	maxUserAgent     = 256             // bytes kept per session
	accountPerMinute = 10              // sign-in attempts per account name per minute
	statusActive     = "active"        // staff.status of an account that may sign in
	auditTarget      = "staff"         // TargetType of every auth audit entry
	thingStaff       = "auth.thing.staff"
	thingToken       = "auth.thing.token"
	totpIssuer       = "Kefu"
)

// Service is the authentication service.
type Service struct {
	db         *db.DB
	keys       *secure.Keyring
	clock      clock.Clock
	audit      *audit.Log
	log        *slog.Logger
	principals PrincipalLoader
	web        *web.Engine

	idle, absolute time.Duration
	maxFailures    int
	window, lock   time.Duration
	minPassword    int
	params         hashParams

	perIP      *httpx.Limiter
	perAccount *httpx.Limiter
	// throttleNoted lets one "throttled" audit entry per address and minute through, so
	// that a flood of refused attempts cannot flood the audit log.
	throttleNoted *httpx.Limiter
	// hashSlots bounds concurrent argon2 computations (memory and CPU).
	hashSlots chan struct{}

	dummyOnce sync.Once
	dummyHash string
}

// New builds the service; zero settings fall back to the built-in defaults.
func New(o Options) *Service {
	def := config.Default()
	s := &Service{db: o.DB, keys: o.Keys, clock: o.Clock, audit: o.Audit, log: o.Log, principals: o.Principals,
		idle: o.Session.IdleTimeout.Duration, absolute: o.Session.AbsoluteTimeout.Duration,
		maxFailures: o.Login.MaxFailures, window: o.Login.FailureWindow.Duration, lock: o.Login.LockDuration.Duration,
		minPassword: o.MinPasswordLength, params: defaultParams}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.idle <= 0 {
		s.idle = def.Session.IdleTimeout.Duration
	}
	if s.absolute <= 0 {
		s.absolute = def.Session.AbsoluteTimeout.Duration
	}
	if s.maxFailures <= 0 {
		s.maxFailures = def.Login.MaxFailures
	}
	if s.window <= 0 {
		s.window = def.Login.FailureWindow.Duration
	}
	if s.lock <= 0 {
		s.lock = def.Login.LockDuration.Duration
	}
	if s.minPassword <= 0 {
		s.minPassword = def.Security.MinPasswordLength
	}
	perIP := o.Login.PerIPPerMinute
	if perIP <= 0 {
		perIP = def.Login.PerIPPerMinute
	}
	s.perIP = httpx.NewLimiter(time.Minute/time.Duration(perIP), perIP)
	s.perAccount = httpx.NewLimiter(time.Minute/accountPerMinute, accountPerMinute)
	s.throttleNoted = httpx.NewLimiter(time.Minute, 1)
	s.hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	return s
}

// SetWeb gives the service the template engine for its pages.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

func (s *Service) now() time.Time { return s.clock.Now() }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// hash runs argon2id in one of the bounded slots.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return hashPassword(s.params, password)
}

// check verifies password against encoded in one of the bounded slots.
func (s *Service) check(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	if err := s.acquire(ctx); err != nil {
		return false, false, err
	}
	defer s.release()
	return checkPassword(encoded, password, s.params)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting to hash: %w", ctx.Err())
	}
}

func (s *Service) release() { <-s.hashSlots }

// burnDummy spends the time of a real verification, so that an unknown user name takes
// as long to refuse as a wrong password.
func (s *Service) burnDummy(ctx context.Context, password string) {
	s.dummyOnce.Do(func() {
		h, err := hashPassword(s.params, "dummy password that matches nothing")
		if err == nil {
			s.dummyHash = h
		}
	})
	if s.dummyHash != "" {
		_, _, _ = s.check(ctx, s.dummyHash, password)
	}
}

func (s *Service) record(ctx context.Context, action string, staffID int64, detail any) error {
	target := ""
	if staffID != 0 {
		target = strconv.FormatInt(staffID, 10)
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: auditTarget, TargetID: target, Detail: detail}); err != nil {
		return fmt.Errorf("auth: audit %s: %w", action, err)
	}
	return nil
}

// validatePassword applies the password policy; the field is named field.
func (s *Service) validatePassword(field, username, password string) error {
	f := apperr.Fields{}
	n := utf8.RuneCountInString(password)
	switch {
	case strings.TrimSpace(password) == "":
		f.Add(field, "field.required")
	case n < s.minPassword:
		f.Add(field, "auth.password.too_short", "min", s.minPassword)
	case len(password) > maxPasswordBytes:
		f.Add(field, "field.too_long", "max", maxPasswordBytes)
	case weakPassword(username, password):
		f.Add(field, "auth.password.weak")
	}
	return f.Err()
}

// commonPasswords are refused outright (lower case).
var commonPasswords = map[string]bool{
	"password": true, "password1": true, "password123": true, "passw0rd": true, "12345678": true,
	"123456789": true, "1234567890": true, "11111111": true, "88888888": true, "66666666": true,
	"00000000": true, "qwertyuiop": true, "qwerty123": true, "iloveyou": true, "abc12345": true,
	"a1234567": true, "admin123": true, "admin888": true, "woaini1314": true, "1qaz2wsx": true,
	"qwer1234": true, "kefu1234": true, "changeme": true,
}

func weakPassword(username, password string) bool {
	lower := strings.ToLower(password)
	if commonPasswords[lower] {
		return true
	}
	if len(username) >= 3 && strings.Contains(lower, strings.ToLower(username)) {
		return true
	}
	// One repeated character.
	first, _ := utf8.DecodeRuneInString(password)
	return strings.Trim(password, string(first)) == ""
}

// SetPassword sets (or resets) a staff member's password and signs them out everywhere.
// The actor must be the staff member or hold staff:manage. A password that is too short
// or too weak is a 422 on field "password".
func (s *Service) SetPassword(ctx context.Context, staffID int64, password string) error {
	if _, err := s.requireSelfOr(ctx, staffID, "staff:manage"); err != nil {
		return err
	}
	username, _, found, err := s.staffBasics(ctx, staffID)
	if err != nil {
		return err
	}
	if !found {
		return apperr.NotFoundf(thingStaff)
	}
	if err := s.validatePassword("password", username, password); err != nil {
		return err
	}
	h, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	now := clock.Millis(s.now())
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, sqlUpsertPassword, staffID, h, now); err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		if _, err := s.db.Exec(ctx, sqlDeleteSessions, staffID); err != nil {
			return fmt.Errorf("auth: revoke sessions: %w", err)
		}
		return s.record(ctx, "auth.password.change", staffID, map[string]any{"reset": true})
	})
}

// VerifyPassword checks a staff member's password: nil when it matches, an apperr
// Unauthenticated otherwise. The actor must be the staff member or hold staff:manage.
// It neither counts failures nor signs in; use the sign-in form for that.
func (s *Service) VerifyPassword(ctx context.Context, staffID int64, password string) error {
	if _, err := s.requireSelfOr(ctx, staffID, "staff:manage"); err != nil {
		return err
	}
	c, found, err := s.credential(ctx, staffID)
	if err != nil {
		return err
	}
	if !found || len(password) > maxPasswordBytes {
		s.burnDummy(ctx, password)
		return errBadCredentials()
	}
	ok, _, err := s.check(ctx, c.PasswordHash, password)
	if err != nil {
		return err
	}
	if !ok {
		return errBadCredentials()
	}
	return nil
}

// ChangePassword is the signed-in staff member changing their own password: the
// current password is required and every other session of theirs is revoked.
func (s *Service) ChangePassword(ctx context.Context, current, next, confirm string) error {
	a := authz.From(ctx)
	if a == nil || a.Kind != authz.KindStaff {
		return apperr.Unauth()
	}
	if !s.perAccount.Allow("pw:" + strconv.FormatInt(a.ID, 10)) {
		return errThrottled()
	}
	f := apperr.Fields{}
	if current == "" {
		f.Add("current_password", "field.required")
	}
	if err := s.validatePassword("new_password", a.Username, next); err != nil {
		ae, _ := apperr.As(err)
		for k, v := range ae.Fields {
			f[k] = v
		}
	}
	if next != confirm {
		f.Add("confirm_password", "auth.password.mismatch")
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := s.VerifyPassword(ctx, a.ID, current); err != nil {
		if apperr.KindOf(err) == apperr.Unauthenticated {
			return apperr.InvalidField("current_password", "auth.password.wrong_current")
		}
		return err
	}
	h, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	now := clock.Millis(s.now())
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, sqlUpsertPassword, a.ID, h, now); err != nil {
			return fmt.Errorf("auth: change password: %w", err)
		}
		if _, err := s.db.Exec(ctx, sqlDeleteOtherSession, a.ID, a.SessionID); err != nil {
			return fmt.Errorf("auth: revoke other sessions: %w", err)
		}
		return s.record(ctx, "auth.password.change", a.ID, map[string]any{"reset": false})
	})
}

// Unlock lifts a lockout and clears the failure count. The actor needs staff:manage and
// must cover the staff member (see requireSelfOr).
func (s *Service) Unlock(ctx context.Context, staffID int64) error {
	if _, err := authz.Require(ctx, "staff:manage"); err != nil {
		return err
	}
	if _, err := s.requireSelfOr(ctx, staffID, "staff:manage"); err != nil {
		return err
	}
	_, _, found, err := s.staffBasics(ctx, staffID)
	if err != nil {
		return err
	}
	if !found {
		return apperr.NotFoundf(thingStaff)
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, sqlResetFailure, staffID)
		if err != nil {
			return fmt.Errorf("auth: unlock: %w", err)
		}
		n, _ := res.RowsAffected()
		return s.record(ctx, "auth.unlock", staffID, map[string]any{"cleared": n > 0})
	})
}

// LockStatus returns when a staff member's lockout ends (zero when not locked) and the
// failures counted in the current window. The actor must be the staff member or hold
// staff:read.
func (s *Service) LockStatus(ctx context.Context, staffID int64) (time.Time, int, error) {
	if _, err := s.requireSelfOrReach(ctx, staffID, "staff:read"); err != nil {
		return time.Time{}, 0, err
	}
	c, found, err := s.credential(ctx, staffID)
	if err != nil || !found {
		return time.Time{}, 0, err
	}
	now := s.now()
	var until time.Time
	if c.LockedUntil > clock.Millis(now) {
		until = fromMillis(c.LockedUntil)
	}
	failures := c.FailedCount
	if until.IsZero() && (c.LockedUntil != 0 || c.FirstFailedAt < clock.Millis(now.Add(-s.window))) {
		failures = 0
	}
	return until, failures, nil
}

// RevokeSessions signs a staff member out everywhere (e.g. when the account is
// disabled). The actor must be the staff member or hold staff:manage.
func (s *Service) RevokeSessions(ctx context.Context, staffID int64) error {
	if _, err := s.requireSelfOr(ctx, staffID, "staff:manage"); err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, sqlDeleteSessions, staffID); err != nil {
		return fmt.Errorf("auth: revoke sessions: %w", err)
	}
	return nil
}

// Cleanup deletes expired sessions and returns how many.
func (s *Service) Cleanup(ctx context.Context) (int64, error) {
	now := s.now()
	res, err := s.db.Exec(ctx, sqlCleanupSessions, clock.Millis(now.Add(-s.idle)),
		clock.Millis(now.Add(-s.absolute)), clock.Millis(now.Add(-mfaPendingMaxAge)))
	if err != nil {
		return 0, fmt.Errorf("auth: cleanup sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RunCleanup deletes expired sessions every interval until ctx ends.
func (s *Service) RunCleanup(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Cleanup(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("auth: session cleanup", slog.String("err", err.Error()))
			}
		} else if n > 0 {
			s.log.Debug("auth: expired sessions removed", slog.Int64("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
