package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// TOTP settings: what every authenticator app understands.
const (
	totpPeriod = 30 // seconds
	totpDigits = otp.DigitsSix
	totpSkew   = 1 // steps accepted either side of now
	// totpAAD binds the encrypted secret to its column.
	totpAAD = "credentials.totp_secret"
)

// Enrolment is what the account page shows to set up an authenticator app.
type Enrolment struct {
	Secret string       // base32, for typing in
	URI    string       // otpauth:// URI
	QR     template.URL // data: URL of a PNG QR code of URI ("" if it could not be made)
}

// BeginTOTP returns the enrolment of the signed-in staff member, creating (and storing,
// encrypted) a new secret on first use. Nothing is enabled until EnableTOTP.
func (s *Service) BeginTOTP(ctx context.Context) (Enrolment, error) {
	a := authz.From(ctx)
	if a == nil || a.Kind != authz.KindStaff {
		return Enrolment{}, apperr.Unauth()
	}
	c, found, err := s.credential(ctx, a.ID)
	if err != nil {
		return Enrolment{}, err
	}
	if !found {
		return Enrolment{}, apperr.New(apperr.Conflict, "auth.totp.no_password")
	}
	if c.TOTPEnabled {
		return Enrolment{}, apperr.New(apperr.Conflict, "auth.totp.already_enabled")
	}
	var secret string
	if c.TOTPSecret != "" {
		if secret, err = s.keys.Decrypt(c.TOTPSecret, totpAAD); err != nil {
			return Enrolment{}, fmt.Errorf("auth: decrypt TOTP secret: %w", err)
		}
	} else {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: a.Username,
			Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return Enrolment{}, fmt.Errorf("auth: generate TOTP secret: %w", err)
		}
		secret = key.Secret()
		enc, err := s.keys.Encrypt(secret, totpAAD)
		if err != nil {
			return Enrolment{}, fmt.Errorf("auth: encrypt TOTP secret: %w", err)
		}
		if _, err := s.db.Exec(ctx, sqlSetTOTPSecret, enc, a.ID); err != nil {
			return Enrolment{}, fmt.Errorf("auth: store TOTP secret: %w", err)
		}
	}
	return enrolment(a.Username, secret), nil
}

func enrolment(username, secret string) Enrolment {
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", totpIssuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", "6")
	q.Set("period", fmt.Sprint(totpPeriod))
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + totpIssuer + ":" + username, RawQuery: q.Encode()}
	e := Enrolment{Secret: secret, URI: u.String()}
	if key, err := otp.NewKeyFromURL(e.URI); err == nil {
		if img, err := key.Image(200, 200); err == nil {
			var buf bytes.Buffer
			if png.Encode(&buf, img) == nil {
				// The page's CSP allows data: images; the value is built here, not from input.
				e.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
			}
		}
	}
	return e
}

// EnableTOTP turns the second factor on for the signed-in staff member once code proves
// their app holds the secret from BeginTOTP.
func (s *Service) EnableTOTP(ctx context.Context, code string) error {
	a := authz.From(ctx)
	if a == nil || a.Kind != authz.KindStaff {
		return apperr.Unauth()
	}
	c, found, err := s.credential(ctx, a.ID)
	if err != nil {
		return err
	}
	if !found || c.TOTPSecret == "" {
		return apperr.New(apperr.Conflict, "auth.totp.not_started")
	}
	if c.TOTPEnabled {
		return apperr.New(apperr.Conflict, "auth.totp.already_enabled")
	}
	step, ok, err := s.matchTOTP(c, code, s.now())
	if err != nil {
		return err
	}
	if !ok {
		return apperr.InvalidField("code", "auth.totp.bad_code")
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, sqlEnableTOTP, step, a.ID)
		if err != nil {
			return fmt.Errorf("auth: enable TOTP: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "auth.totp.already_enabled")
		}
		return s.record(ctx, "auth.totp.enable", a.ID, nil)
	})
}

// DisableTOTP turns the second factor off. Staff members disable their own with their
// password; holders of staff:manage may disable anybody's (a lost phone) without one.
func (s *Service) DisableTOTP(ctx context.Context, staffID int64, password string) error {
	a, err := s.requireSelfOr(ctx, staffID, "staff:manage")
	if err != nil {
		return err
	}
	if a.Kind == authz.KindStaff && a.ID == staffID {
		if err := s.VerifyPassword(ctx, staffID, password); err != nil {
			if apperr.KindOf(err) == apperr.Unauthenticated {
				return apperr.InvalidField("password", "auth.password.wrong_current")
			}
			return err
		}
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, sqlDisableTOTP, staffID)
		if err != nil {
			return fmt.Errorf("auth: disable TOTP: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "auth.totp.not_enabled")
		}
		return s.record(ctx, "auth.totp.disable", staffID, nil)
	})
}

// matchTOTP checks code against the stored secret for the steps around now that are
// newer than the last one used, and returns the matching step.
func (s *Service) matchTOTP(c credential, code string, now time.Time) (int64, bool, error) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(code))
	if len(code) != totpDigits.Length() || strings.Trim(code, "0123456789") != "" || c.TOTPSecret == "" {
		return 0, false, nil
	}
	secret, err := s.keys.Decrypt(c.TOTPSecret, totpAAD)
	if err != nil {
		return 0, false, fmt.Errorf("auth: decrypt TOTP secret: %w", err)
	}
	cur := now.Unix() / totpPeriod
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		if step <= c.TOTPLastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err != nil {
			return 0, false, fmt.Errorf("auth: TOTP code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true, nil
		}
	}
	return 0, false, nil
}
