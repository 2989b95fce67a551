package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// dialTimeout bounds connecting to the SMTP server; sendTimeout the whole exchange when
// ctx has no earlier deadline.
const (
	dialTimeout = 15 * time.Second
	sendTimeout = 60 * time.Second
)

// deliver sends one composed message through the server st describes.
func deliver(ctx context.Context, st Settings, tlsConf *tls.Config, rcpt []string, body []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	addr := net.JoinHostPort(st.Host, strconv.Itoa(st.Port))
	conf := &tls.Config{ServerName: st.Host, MinVersion: tls.VersionTLS12}
	if tlsConf != nil {
		conf = tlsConf.Clone()
	}
	d := &net.Dialer{Timeout: dialTimeout}
	var conn net.Conn
	if st.Security == SecurityTLS {
		conn, err = (&tls.Dialer{NetDialer: d, Config: conf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("mail: connect %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var c *smtp.Client
	if st.Security == SecurityStartTLS {
		if c, err = smtp.NewClientStartTLS(conn, conf); err != nil {
			conn.Close()
			return fmt.Errorf("mail: starttls with %s: %w", addr, err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if st.Username != "" {
		var a sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			a = sasl.NewPlainClient("", st.Username, st.Password)
		case c.SupportsAuth(sasl.Login):
			a = sasl.NewLoginClient(st.Username, st.Password)
		default:
			a = sasl.NewPlainClient("", st.Username, st.Password) // let the server answer
		}
		if err := c.Auth(a); err != nil {
			return fmt.Errorf("mail: authenticate as %s: %w", st.Username, err)
		}
	}
	if err := c.SendMail(st.From, rcpt, bytes.NewReader(body)); err != nil {
		return fmt.Errorf("mail: send: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("mail: quit: %w", err)
	}
	return nil
}
