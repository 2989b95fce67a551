// Package mail sends email through an SMTP server an administrator configures (emersion
// go-smtp client, messages composed with go-message) and keeps those settings, with the
// password encrypted under the key ring.
package mail

import "context"

// Message is one outgoing email.
type Message struct {
	To      []string
	Subject string
	Text    string            // plain-text body (UTF-8)
	HTML    string            // optional HTML alternative
	Headers map[string]string // extra headers (e.g. "X-Kefu-Ticket")
}

// Sender sends messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}
