package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// SMS sends a text message to a mainland mobile number (a provider's gateway).
type SMS interface {
	Send(ctx context.Context, mobile, text string) error
}

// Customers is what the portal needs of the customer capability (customer.Service).
type Customers interface {
	CustomerIDsByEmail(ctx context.Context, email string) ([]int64, error)
	CustomerIDsByMobile(ctx context.Context, mobile string) ([]int64, error)
	PortalIdentity(ctx context.Context, id int64) (customer.PortalIdentity, error)
}

// Deps are the portal's collaborators.
type Deps struct {
	DB        *db.DB
	Audit     *audit.Log
	Keys      *secure.Keyring
	Clock     clock.Clock
	Log       *slog.Logger
	Catalog   *i18n.Catalog
	Customers Customers
	// Tickets is the request service as the portal uses it (tickets.go adapts
	// *ticket.Service); nil leaves the request pages answering 404.
	Tickets Tickets
	// KB is the published FAQ; nil hides the FAQ pages (404).
	KB KnowledgeBase
	// Mail sends sign-in codes by e-mail; nil logs them as undeliverable.
	Mail mail.Sender
	// SMS sends sign-in codes to mobiles; nil (the default) disables sign-in by mobile.
	SMS SMS
}

// Service is the portal: sign-in, sessions and the pages.
type Service struct {
	db        *db.DB
	store     *Store
	audit     *audit.Log
	keys      *secure.Keyring
	clock     clock.Clock
	log       *slog.Logger
	cat       *i18n.Catalog
	customers Customers
	tickets   Tickets
	kb        KnowledgeBase
	letters   Letters // published public letters (letters.go); nil hides them
	mail      mail.Sender
	sms       SMS
	web       *web.Engine
	// complaints gives the stage of a complaint request (complaints.go); nil hides it.
	complaints Complaints
	// surveys lists the customer's open portal surveys (complaints.go); nil hides them.
	surveys Surveys

	// Throttles (per node, in memory): code requests per address and per client
	// address, code checks per address and per client address.
	sendPerID, sendPerIP     *httpx.Limiter
	verifyPerID, verifyPerIP *httpx.Limiter
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Keys == nil || d.Customers == nil {
		return nil, errors.New("portal: DB, Keys and Customers are required")
	}
	s := &Service{db: d.DB, store: NewStore(d.DB), audit: d.Audit, keys: d.Keys, clock: d.Clock, log: d.Log,
		cat: d.Catalog, customers: d.Customers, tickets: d.Tickets, kb: d.KB, mail: d.Mail, sms: d.SMS,
		sendPerID:   httpx.NewLimiter(10*time.Minute, 3),
		sendPerIP:   httpx.NewLimiter(6*time.Second, 20),
		verifyPerID: httpx.NewLimiter(time.Minute, 10),
		verifyPerIP: httpx.NewLimiter(3*time.Second, 30),
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.cat == nil {
		s.cat = i18n.MustLoad()
	}
	return s, nil
}

// SetWeb gives the service the page engine.
func (s *Service) SetWeb(e *web.Engine) { s.web = e }

// SetMail replaces the sender of sign-in codes (wiring, tests).
func (s *Service) SetMail(m mail.Sender) { s.mail = m }

// SetSMS replaces the SMS provider (nil disables sign-in by mobile).
func (s *Service) SetSMS(p SMS) { s.sms = p }

// SetTickets sets the request service the pages use.
func (s *Service) SetTickets(t Tickets) { s.tickets = t }

// SetKB sets the published FAQ the pages show.
func (s *Service) SetKB(k KnowledgeBase) { s.kb = k }

func (s *Service) now() int64 { return clock.Millis(s.clock.Now()) }

// JobPurge deletes expired codes and sessions (hourly, once across nodes).
const JobPurge = "portal.purge"

// RegisterJobs registers the hourly purge with the runner.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	r.Register(JobPurge, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.store.purge(ctx, s.now())
		return err
	})
	r.Every(JobPurge, jobs.Hourly(17))
}

// Purge deletes expired codes and sessions now; it returns how many rows went.
func (s *Service) Purge(ctx context.Context) (int64, error) { return s.store.purge(ctx, s.now()) }

func (s *Service) loginHash(id Identifier) string {
	return s.keys.Blind(blindLogin, id.Channel+":"+id.Value)
}

func (s *Service) codeHash(loginHash, code string) string {
	return s.keys.Blind(blindCode, loginHash+":"+code)
}

// newCode returns a uniformly random CodeDigits-digit code.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("portal: crypto/rand: %v", err)) // never fails on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// newSecret returns 32 random bytes as unpadded base64url (session ids, CSRF tokens).
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("portal: crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether s looks like a value made by newSecret.
func wellFormed(s string) bool {
	if len(s) != 43 {
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

func errRateLimited() error {
	return apperr.New(apperr.RateLimited, "portal.error.rate_limited")
}

// RequestCode sends a one-time sign-in code to the customer who signs in with input (an
// e-mail address, or a mobile number when SMS is configured). Whether or not anyone
// has that address, the outcome is the same (nil), so the form cannot tell who is a
// customer; only a malformed input (422) or too many requests (429) differ. When
// several customers share the address, the code signs in the most recently updated
// active one. A new code replaces any earlier unused code for the same address.
func (s *Service) RequestCode(ctx context.Context, input, ip string) (Identifier, error) {
	id, ok := ParseIdentifier(input)
	if !ok || (id.Channel == ChannelSMS && s.sms == nil) {
		key := "portal.invalid.email"
		if s.sms != nil {
			key = "portal.invalid.email_or_mobile"
		}
		return Identifier{}, apperr.InvalidField("email", key)
	}
	lh := s.loginHash(id)
	if !s.sendPerIP.Allow(ip) || !s.sendPerID.Allow(lh) {
		return id, errRateLimited()
	}
	var ids []int64
	var err error
	if id.Channel == ChannelEmail {
		ids, err = s.customers.CustomerIDsByEmail(ctx, id.Value)
	} else {
		ids, err = s.customers.CustomerIDsByMobile(ctx, id.Value)
	}
	if err != nil {
		return id, err
	}
	if len(ids) == 0 {
		s.log.Debug("portal: code requested for an unknown address", slog.String("channel", id.Channel))
		return id, nil
	}
	custID := ids[0]
	code := newCode()
	now := s.now()
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.issueCode(ctx, lh, s.codeHash(lh, code), custID, id.Channel, now+CodeTTL.Milliseconds(), now, ip); err != nil {
			return err
		}
		return s.record(ctx, ActionCodeIssue, custID, map[string]any{"channel": id.Channel, "to": id.Masked()})
	})
	if err != nil {
		return id, err
	}
	if err := s.deliver(ctx, id, code); err != nil {
		// The page says the same as for an unknown address; the operator sees the log.
		s.log.Error("portal: sign-in code not delivered", slog.String("channel", id.Channel),
			slog.Int64("customer_id", custID), slog.String("err", err.Error()))
	}
	return id, nil
}

func (s *Service) deliver(ctx context.Context, id Identifier, code string) error {
	lang := i18n.Lang(ctx)
	args := map[string]any{"code": code, "minutes": int(CodeTTL / time.Minute)}
	switch id.Channel {
	case ChannelSMS:
		if s.sms == nil {
			return errors.New("no SMS provider")
		}
		return s.sms.Send(ctx, id.Value, s.cat.T(lang, "portal.sms.code", args))
	default:
		if s.mail == nil {
			return errors.New("no mail sender configured")
		}
		return s.mail.Send(ctx, mail.Message{To: []string{id.Value},
			Subject: s.cat.T(lang, "portal.mail.subject", args),
			Text:    s.cat.T(lang, "portal.mail.body", args),
			Headers: map[string]string{"Auto-Submitted": "auto-generated"}})
	}
}

// record writes an audit entry about customer custID.
func (s *Service) record(ctx context.Context, action string, custID int64, detail map[string]any) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, audit.Entry{Action: action, TargetType: auditTarget,
		TargetID: strconv.FormatInt(custID, 10), Detail: detail})
}

// Session is a signed-in portal session as the web layer needs it.
type Session struct {
	Raw        string // cookie value
	CustomerID int64
}

// Verify checks a code typed for input. A wrong code counts against the code; after
// MaxAttempts wrong ones the code is locked and only a new code helps. An expired,
// superseded, used or unknown code is refused the same way as a wrong one. The right
// code is used up and opens a session for its customer.
func (s *Service) Verify(ctx context.Context, input, code, ip, userAgent string) (Session, error) {
	id, ok := ParseIdentifier(input)
	if !ok {
		return Session{}, apperr.InvalidField("code", "portal.invalid.code")
	}
	lh := s.loginHash(id)
	if !s.verifyPerIP.Allow(ip) || !s.verifyPerID.Allow(lh) {
		return Session{}, errRateLimited()
	}
	c, ok := NormalizeCode(code)
	if !ok {
		return Session{}, apperr.InvalidField("code", "portal.invalid.code_format")
	}
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	var out Session
	var refused error
	now := s.now()
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		row, found, err := s.store.latestCode(ctx, lh)
		if err != nil {
			return err
		}
		switch {
		case !found || row.ExpiresAt <= now:
			refused = apperr.InvalidField("code", "portal.invalid.code")
			return nil
		case row.Attempts >= MaxAttempts:
			refused = apperr.InvalidField("code", "portal.invalid.locked")
			return nil
		}
		if subtle.ConstantTimeCompare([]byte(s.codeHash(lh, c)), []byte(row.CodeHash)) != 1 {
			if _, err := s.store.countAttempt(ctx, row.ID); err != nil {
				return err
			}
			refused = apperr.InvalidField("code", "portal.invalid.code")
			if row.Attempts+1 >= MaxAttempts {
				refused = apperr.InvalidField("code", "portal.invalid.locked")
			}
			return s.record(ctx, ActionCodeFail, row.CustomerID, map[string]any{"attempt": row.Attempts + 1})
		}
		used, err := s.store.useCode(ctx, row.ID, now)
		if err != nil {
			return err
		}
		if !used {
			refused = apperr.InvalidField("code", "portal.invalid.code")
			return nil
		}
		who, err := s.customers.PortalIdentity(ctx, row.CustomerID)
		if err != nil {
			if apperr.KindOf(err) == apperr.NotFound {
				refused = apperr.InvalidField("code", "portal.invalid.code")
				return nil
			}
			return err
		}
		if who.Status != customer.StatusActive {
			refused = apperr.InvalidField("code", "portal.invalid.code")
			return nil
		}
		raw := newSecret()
		if err := s.store.insertSession(ctx, sessionRow{Hash: digest(raw), CustomerID: who.ID, CSRF: newSecret(),
			CreatedAt: now, LastSeenAt: now}, ip, userAgent); err != nil {
			return err
		}
		out = Session{Raw: raw, CustomerID: who.ID}
		actx := authz.WithActor(ctx, &authz.Actor{Kind: authz.KindCustomer, ID: who.ID, DisplayName: who.Name, IP: ip})
		return s.record(actx, ActionSignIn, who.ID, map[string]any{"channel": id.Channel})
	})
	if err != nil {
		return Session{}, err
	}
	if refused != nil {
		return Session{}, refused
	}
	return out, nil
}

// session is a live portal session with its customer.
type session struct {
	hash string
	csrf string
	who  customer.PortalIdentity
}

// lookup finds the live session with raw id (nil when none). Expired sessions and
// sessions of customers no longer active are deleted on sight.
func (s *Service) lookup(ctx context.Context, raw string) (*session, error) {
	if !wellFormed(raw) {
		return nil, nil
	}
	hash := digest(raw)
	row, ok, err := s.store.session(ctx, hash)
	if err != nil || !ok {
		return nil, err
	}
	now := s.now()
	expired := now >= row.LastSeenAt+IdleTimeout.Milliseconds() || now >= row.CreatedAt+AbsoluteMaxAge.Milliseconds()
	var who customer.PortalIdentity
	if !expired {
		who, err = s.customers.PortalIdentity(ctx, row.CustomerID)
		if err != nil && apperr.KindOf(err) != apperr.NotFound {
			return nil, err
		}
	}
	if expired || err != nil || who.Status != customer.StatusActive {
		return nil, s.store.deleteSession(ctx, hash)
	}
	if now-row.LastSeenAt >= touchEvery.Milliseconds() {
		if err := s.store.touchSession(ctx, hash, now); err != nil {
			return nil, err
		}
	}
	return &session{hash: hash, csrf: row.CSRF, who: who}, nil
}

// SignOut ends the session of the customer in ctx.
func (s *Service) SignOut(ctx context.Context) error {
	a := authz.From(ctx)
	if a == nil || a.Kind != authz.KindCustomer || a.SessionID == "" {
		return apperr.Unauth()
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.deleteSession(ctx, a.SessionID); err != nil {
			return err
		}
		return s.record(ctx, ActionSignOut, a.ID, nil)
	})
}

// customerActor returns the signed-in customer in ctx.
func customerActor(ctx context.Context) (*authz.Actor, error) {
	a := authz.From(ctx)
	if a == nil || a.Kind != authz.KindCustomer || a.ID == 0 {
		return nil, apperr.Unauth()
	}
	return a, nil
}
