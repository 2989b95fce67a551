// Package portal is the customer self-service portal (SPEC §2.2, issue 4 item 7): a
// customer signs in with a one-time code sent to their e-mail address (or by SMS to
// their mobile when an SMS provider is configured), submits service requests, follows
// their status and public timeline, replies, confirms a resolution or reopens, and
// reads the published FAQ. Portal sessions are their own kind (cookie kefu_portal,
// path /portal): a staff session grants nothing here and a portal session grants
// nothing outside it. Every request is served as an authz.KindCustomer actor, and the
// ticket service is called with that actor so that a customer reaches only their own
// requests (the portal checks ownership again, and an id that is not theirs reads as
// not found).
package portal

import (
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Fixed policy.
const (
	// SessionCookie holds the raw portal session id (path /portal).
	SessionCookie = "kefu_portal"
	// loginCookie remembers, between the two sign-in steps, where the code went.
	loginCookie = "kefu_portal_login"
	cookiePath  = "/portal"

	CodeDigits     = 6
	CodeTTL        = 10 * time.Minute
	MaxAttempts    = 5
	IdleTimeout    = 30 * time.Minute
	AbsoluteMaxAge = 12 * time.Hour
	touchEvery     = time.Minute
	maxUserAgent   = 256
	maxIdentifier  = 254

	// Channels a code is sent through.
	ChannelEmail = "email"
	ChannelSMS   = "sms"

	// blind-index purposes (secure.Keyring.Blind).
	blindLogin = "portal.login"
	blindCode  = "portal.code"

	// Audit actions.
	ActionCodeIssue = "portal.code.issue"
	ActionCodeFail  = "portal.code.fail"
	ActionSignIn    = "portal.signin"
	ActionSignOut   = "portal.signout"
	auditTarget     = "customer"
)

// Identifier is what a customer signs in with: an e-mail address (lower-cased) or,
// when SMS is configured, a mainland mobile number (11 digits).
type Identifier struct {
	Channel string // ChannelEmail or ChannelSMS
	Value   string
}

// ParseIdentifier reads what a customer typed into the sign-in form. An address is
// validated and lower-cased; eleven digits (with the usual separators or +86) are a
// mobile number. ok is false for anything else.
func ParseIdentifier(s string) (Identifier, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxIdentifier {
		return Identifier{}, false
	}
	if strings.Contains(s, "@") {
		e, err := cnid.ValidateEmail(s)
		if err != nil {
			return Identifier{}, false
		}
		return Identifier{Channel: ChannelEmail, Value: strings.ToLower(e)}, true
	}
	m, err := cnid.NormalizeMobile(s)
	if err != nil {
		return Identifier{}, false
	}
	return Identifier{Channel: ChannelSMS, Value: m}, true
}

// Masked shows where a code went without spelling it out: "z***@example.com",
// "138****5678".
func (id Identifier) Masked() string {
	switch id.Channel {
	case ChannelEmail:
		local, domain, _ := strings.Cut(id.Value, "@")
		r := []rune(local)
		if len(r) == 0 {
			return id.Value
		}
		return string(r[0]) + "***@" + domain
	case ChannelSMS:
		if len(id.Value) == 11 {
			return id.Value[:3] + "****" + id.Value[7:]
		}
	}
	return ""
}

// NormalizeCode keeps the digits of a typed code (spaces and dashes allowed between
// them); ok is false unless exactly CodeDigits digits remain.
func NormalizeCode(s string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９': // full-width digits from Chinese input methods
			b.WriteRune('0' + (r - '０'))
		case r == ' ' || r == '-' || r == '\t':
		default:
			return "", false
		}
	}
	c := b.String()
	return c, len(c) == CodeDigits
}

// publicKinds are the timeline entries a customer sees: the request itself, replies
// both ways, status changes and the confirmation. Internal notes, assignment, transfers,
// dispatch, SLA entries, notifications and field edits never show, whatever their
// Public flag says.
var publicKinds = map[ticket.EventKind]bool{
	ticket.EventCreated:       true,
	ticket.EventReply:         true,
	ticket.EventCustomerReply: true,
	ticket.EventStatus:        true,
	ticket.EventConfirm:       true,
	ticket.EventComplaint:     true, // complaint workflow entries the center made public
}

// PublicTimeline filters a request's timeline to what its customer may read.
func PublicTimeline(evs []ticket.Event) []ticket.Event {
	out := make([]ticket.Event, 0, len(evs))
	for _, e := range evs {
		if !publicKinds[e.Kind] {
			continue
		}
		out = append(out, e)
	}
	return out
}
