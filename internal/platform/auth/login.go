package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Reasons recorded in the Detail of "auth.login.failure".
const (
	reasonBadPassword = "bad_password"
	reasonUnknownUser = "unknown_user"
	reasonNoPassword  = "no_password"
	reasonLocked      = "locked"
	reasonDisabled    = "disabled"
	reasonThrottled   = "throttled"
	reasonBadTOTP     = "bad_totp"
)

func errBadCredentials() error {
	return apperr.New(apperr.Unauthenticated, "auth.error.bad_credentials").WithCode("bad_credentials")
}

func errThrottled() error { return apperr.New(apperr.RateLimited, "auth.error.throttled") }

func errDisabled() error {
	return apperr.New(apperr.Forbidden, "auth.error.disabled").WithCode("account_disabled")
}

func errLocked(until time.Time) error {
	return apperr.New(apperr.Forbidden, "auth.error.locked", "until", until.In(shanghai).Format("15:04")).
		WithCode("account_locked").With("locked_until", until.UTC().Format(time.RFC3339))
}

// shanghai is the time zone lock times are shown in (China Standard Time has no DST).
var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// signInResult is a passed first factor.
type signInResult struct {
	StaffID    int64
	Session    string // raw session id for the cookie
	MFAPending bool
}

func millis(t time.Time) int64 { return clock.Millis(t) }

// signIn checks a user name and password and opens a session (mfa_pending when the
// account has TOTP enabled). Every outcome but a malformed form is audited.
func (s *Service) signIn(ctx context.Context, username, password, userAgent string) (signInResult, error) {
	ip := httpx.ClientIP(ctx)
	username = strings.TrimSpace(username)
	if !s.perIP.Allow("ip:"+ip) || !s.perAccount.Allow("user:"+strings.ToLower(username)) {
		return signInResult{}, s.throttled(ctx, ip, username)
	}
	f := apperr.Fields{}
	if username == "" {
		f.Add("username", "field.required")
	}
	if password == "" {
		f.Add("password", "field.required")
	}
	if err := f.Err(); err != nil {
		return signInResult{}, err
	}
	unknown := func(reason string, staffID int64) error {
		s.burnDummy(ctx, password)
		if err := s.record(ctx, "auth.login.failure", staffID, failureDetail(username, reason)); err != nil {
			return err
		}
		return errBadCredentials()
	}
	if utf8.RuneCountInString(username) > maxUsernameRunes || len(password) > maxPasswordBytes {
		return signInResult{}, unknown(reasonUnknownUser, 0)
	}
	staffID, active, err := s.principals.FindLogin(ctx, username)
	if apperr.KindOf(err) == apperr.NotFound {
		return signInResult{}, unknown(reasonUnknownUser, 0)
	}
	if err != nil {
		return signInResult{}, fmt.Errorf("auth: find login: %w", err)
	}
	c, found, err := s.credential(ctx, staffID)
	if err != nil {
		return signInResult{}, err
	}
	if !found {
		return signInResult{}, unknown(reasonNoPassword, staffID)
	}
	now := s.now()
	if c.LockedUntil > millis(now) {
		if err := s.record(ctx, "auth.login.failure", staffID, failureDetail(username, reasonLocked)); err != nil {
			return signInResult{}, err
		}
		return signInResult{}, errLocked(fromMillis(c.LockedUntil))
	}
	ok, rehash, err := s.check(ctx, c.PasswordHash, password)
	if err != nil {
		return signInResult{}, err
	}
	if !ok {
		return signInResult{}, s.failed(ctx, staffID, username, reasonBadPassword)
	}
	if !active {
		if err := s.record(ctx, "auth.login.failure", staffID, failureDetail(username, reasonDisabled)); err != nil {
			return signInResult{}, err
		}
		return signInResult{}, errDisabled()
	}
	newHash := ""
	if rehash {
		if newHash, err = s.hash(ctx, password); err != nil {
			s.log.Warn("auth: rehash password", slog.Int64("staff_id", staffID), slog.String("err", err.Error()))
			newHash = ""
		}
	}
	res := signInResult{StaffID: staffID, MFAPending: c.TOTPEnabled}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, sqlResetFailure, staffID); err != nil {
			return fmt.Errorf("auth: reset failures: %w", err)
		}
		if newHash != "" {
			if _, err := s.db.Exec(ctx, sqlRehash, newHash, staffID, c.PasswordHash); err != nil {
				return fmt.Errorf("auth: store rehashed password: %w", err)
			}
		}
		raw, err := s.insertSession(ctx, staffID, c.TOTPEnabled, ip, userAgent)
		if err != nil {
			return err
		}
		res.Session = raw
		if c.TOTPEnabled {
			return nil // audited when the second factor is given
		}
		return s.record(ctx, "auth.login.success", staffID, map[string]any{"username": username, "method": "password"})
	})
	if err != nil {
		return signInResult{}, err
	}
	return res, nil
}

func failureDetail(username, reason string) map[string]any {
	return map[string]any{"username": username, "reason": reason}
}

// throttled audits a refused attempt (at most once a minute per address) and returns
// the rate-limit error.
func (s *Service) throttled(ctx context.Context, ip, username string) error {
	if s.throttleNoted.Allow(ip) {
		if err := s.record(ctx, "auth.login.failure", 0, failureDetail(username, reasonThrottled)); err != nil {
			s.log.Warn("auth: audit throttled sign-in", slog.String("err", err.Error()))
		}
	}
	return errThrottled()
}

// failed counts a failed attempt against staffID and locks the account when the
// failures within the window reach the maximum.
func (s *Service) failed(ctx context.Context, staffID int64, username, reason string) error {
	now := s.now()
	var lockedUntil time.Time
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		start := millis(now.Add(-s.window))
		var n int
		if err := s.db.QueryRow(ctx, sqlRecordFailure, start, start, millis(now), staffID).Scan(&n); err != nil {
			return fmt.Errorf("auth: count failure: %w", err)
		}
		d := failureDetail(username, reason)
		d["failures"] = n
		if err := s.record(ctx, "auth.login.failure", staffID, d); err != nil {
			return err
		}
		if n < s.maxFailures {
			return nil
		}
		lockedUntil = now.Add(s.lock)
		if _, err := s.db.Exec(ctx, sqlLock, millis(lockedUntil), staffID); err != nil {
			return fmt.Errorf("auth: lock: %w", err)
		}
		return s.record(ctx, "auth.lockout", staffID, map[string]any{"username": username, "failures": n,
			"until": lockedUntil.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return err
	}
	if !lockedUntil.IsZero() {
		return errLocked(lockedUntil)
	}
	return errBadCredentials()
}

// errReplay marks a TOTP step that was used already.
var errReplay = errors.New("auth: TOTP code used already")

// secondFactor completes a sign-in that waits for a TOTP code: on success the pending
// session is replaced by a full one whose raw id is returned.
func (s *Service) secondFactor(ctx context.Context, pending *session, code, userAgent string) (string, error) {
	ip := httpx.ClientIP(ctx)
	id := pending.staffID
	if !s.perIP.Allow("ip:"+ip) || !s.perAccount.Allow("totp:"+strconv.FormatInt(id, 10)) {
		return "", s.throttled(ctx, ip, "")
	}
	username, _, _, err := s.staffBasics(ctx, id)
	if err != nil {
		return "", err
	}
	c, found, err := s.credential(ctx, id)
	if err != nil {
		return "", err
	}
	if !found || !c.TOTPEnabled {
		// The factor was removed meanwhile: start again.
		return "", errors.Join(s.deleteSession(ctx, pending.hash), errBadCredentials())
	}
	now := s.now()
	if c.LockedUntil > millis(now) {
		if err := s.deleteSession(ctx, pending.hash); err != nil {
			return "", err
		}
		if err := s.record(ctx, "auth.login.failure", id, failureDetail(username, reasonLocked)); err != nil {
			return "", err
		}
		return "", errLocked(fromMillis(c.LockedUntil))
	}
	step, ok, err := s.matchTOTP(c, code, now)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", s.totpFailed(ctx, pending, username)
	}
	var raw string
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, sqlUseTOTPStep, step, id, step)
		if err != nil {
			return fmt.Errorf("auth: use TOTP step: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errReplay
		}
		if _, err := s.db.Exec(ctx, sqlResetFailure, id); err != nil {
			return fmt.Errorf("auth: reset failures: %w", err)
		}
		if err := s.deleteSession(ctx, pending.hash); err != nil {
			return err
		}
		if raw, err = s.insertSession(ctx, id, false, ip, userAgent); err != nil {
			return err
		}
		return s.record(ctx, "auth.login.success", id, map[string]any{"username": username, "method": "password+totp"})
	})
	if errors.Is(err, errReplay) {
		return "", s.totpFailed(ctx, pending, username)
	}
	return raw, err
}

// totpFailed counts a wrong second factor like a wrong password; on lockout the pending
// session goes too.
func (s *Service) totpFailed(ctx context.Context, pending *session, username string) error {
	err := s.failed(ctx, pending.staffID, username, reasonBadTOTP)
	if apperr.CodeOf(err) == "account_locked" {
		if derr := s.deleteSession(ctx, pending.hash); derr != nil {
			return derr
		}
		return err
	}
	if apperr.KindOf(err) == apperr.Unauthenticated {
		return apperr.New(apperr.Unauthenticated, "auth.totp.bad_code").WithCode("bad_totp")
	}
	return err
}
