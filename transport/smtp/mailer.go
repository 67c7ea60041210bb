package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/parley-chat/parley/engine"
)

// Defaults of Mailer.
const (
	// DefaultTimeout bounds one whole send: the dial, the exchange with the
	// server and the message. A server that has not accepted the message by
	// then gets the attempt abandoned, to be retried.
	DefaultTimeout = 30 * time.Second
	// DefaultHostname is the name in EHLO and Message-ID when neither
	// Hostname nor PublicURL gives one.
	DefaultHostname = "localhost"
)

// ErrClearText is the error, wrapped by engine.Permanent, of a send that
// would have had to put the password on a connection without TLS: the
// server did not offer STARTTLS and is not on this machine.
var ErrClearText = errors.New("smtp: the server offers no STARTTLS; refusing to send the password in the clear")

// A Mailer sends new-ticket e-mails through the SMTP server that the
// settings name (see engine.EmailSettings). The zero value is usable, with
// the defaults EnsureDefaults fills in. A Mailer is safe for concurrent use
// as long as its fields do not change after the first send; it holds no
// connection between sends.
type Mailer struct {
	// PublicURL is the address people reach Parley at, as
	// "https://chat.example.com". The e-mail links to the ticket at
	// PublicURL + "/inbox?ticket=<id>". Default: none, and the e-mail has
	// no link but says how to find the ticket in the inbox.
	PublicURL string

	// Hostname is this machine's name as it introduces itself to the
	// server (EHLO) and the right side of each Message-ID. Default:
	// PublicURL's host, else DefaultHostname. Servers may refuse a name
	// that is not a host name.
	Hostname string

	// Timeout bounds one whole send, from the dial to the server's
	// acceptance of the message; the context given to NewTicket may end it
	// sooner. Default: DefaultTimeout.
	Timeout time.Duration

	// TLSConfig is the TLS configuration of STARTTLS, for a server whose
	// certificate a private CA signed (RootCAs) and for tests. Default:
	// nil, the system's roots. Its ServerName, when empty, is the host of
	// the server's address. The certificate is always verified:
	// InsecureSkipVerify is ignored.
	TLSConfig *tls.Config

	// Now is the clock of the Date header. Default: time.Now.
	Now func() time.Time

	// dial opens the connection; nil is a net.Dialer's. Tests use it to
	// reach a local server under another name.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ engine.Notifier = (*Mailer)(nil)

// EnsureDefaults fills in every zero field with its default and returns m.
func (m *Mailer) EnsureDefaults() *Mailer {
	if m.Hostname == "" {
		m.Hostname = DefaultHostname
		if u, err := url.Parse(m.PublicURL); err == nil && u.Hostname() != "" {
			m.Hostname = u.Hostname()
		}
	}
	if m.Timeout <= 0 {
		m.Timeout = DefaultTimeout
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	return m
}

// NewTicket e-mails the notice of a new ticket to every address in s.To,
// from s.From, through the server at s.SMTP.Addr (engine.Notifier). It
// sends whether or not s.Enabled is set: whether to notify is the caller's
// decision. key is the notice's idempotency key: the same key gives the
// same Message-ID, so a repeated delivery reads as one e-mail.
//
// The transaction is all or nothing: a recipient that the server refuses
// fails the send for every recipient, as a mail client's send fails.
// Once the server has accepted the message, NewTicket reports success even
// if the connection fails before QUIT is answered, since a retry would
// deliver it twice.
//
// An error wrapped by engine.Permanent (a 5xx reply, an invalid address,
// a password that would go in the clear) is not worth retrying; any other
// is. No error contains s.SMTP.Password.
func (m *Mailer) NewTicket(ctx context.Context, s engine.EmailSettings, key string, n engine.NewTicketNotice) error {
	var c Mailer
	if m != nil {
		c = *m // a copy, so that EnsureDefaults writes nothing shared
	}
	c.EnsureDefaults()
	return redact(c.send(ctx, s, key, n), s.SMTP.Password)
}

// server is where a send goes: the settings' address, parsed.
type server struct {
	addr, host string
	from       *mail.Address
	to         []*mail.Address
}

func parseSettings(s engine.EmailSettings) (server, error) {
	var sv server
	host, port, err := net.SplitHostPort(s.SMTP.Addr)
	if err != nil || host == "" || port == "" {
		return sv, fmt.Errorf("smtp: server address %q is not host:port", s.SMTP.Addr)
	}
	sv.addr, sv.host = s.SMTP.Addr, host
	if sv.from, err = parseAddress(s.From); err != nil {
		return sv, fmt.Errorf("smtp: sender %w", err)
	}
	if len(s.To) == 0 {
		return sv, errors.New("smtp: no recipients")
	}
	for _, to := range s.To {
		a, err := parseAddress(to)
		if err != nil {
			return sv, fmt.Errorf("smtp: recipient %w", err)
		}
		sv.to = append(sv.to, a)
	}
	return sv, nil
}

// parseAddress parses an address of RFC 5322 ("a@example.com" or
// "Name <a@example.com>") whose mailbox can go on an SMTP command line.
func parseAddress(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || strings.ContainsFunc(a.Address, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '<' || r == '>' }) {
		return nil, fmt.Errorf("%q is not an e-mail address", s)
	}
	return a, nil
}

func (m *Mailer) send(ctx context.Context, s engine.EmailSettings, key string, n engine.NewTicketNotice) error {
	sv, err := parseSettings(s)
	if err != nil {
		return engine.Permanent(err)
	}
	if key == "" {
		return engine.Permanent(errors.New("smtp: no idempotency key for the Message-ID"))
	}
	if strings.ContainsFunc(m.Hostname, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return engine.Permanent(fmt.Errorf("smtp: Mailer.Hostname %q is not a host name", m.Hostname))
	}
	msg := compose(notice{NewTicketNotice: n, from: sv.from, to: sv.to, key: key,
		hostname: m.Hostname, publicURL: m.PublicURL, now: m.Now()})

	timedOut := fmt.Errorf("%w: the send to %s took longer than %v", context.DeadlineExceeded, sv.addr, m.Timeout)
	ctx, cancel := context.WithTimeoutCause(ctx, m.Timeout, timedOut)
	defer cancel()
	conn, err := m.dialer()(ctx, "tcp", sv.addr)
	if err != nil {
		return failed(ctx, "connect to "+sv.addr, err, timedOut)
	}
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	// A context that ends mid-exchange ends the exchange: every read and
	// write blocked on the connection returns at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, sv.host)
	if err != nil {
		conn.Close()
		return failed(ctx, "greeting from "+sv.addr, err, timedOut)
	}
	defer c.Close()
	if err := m.transact(c, sv, s.SMTP, msg); err != nil {
		var reply *textproto.Error
		if errors.As(err, &reply) || engine.IsPermanent(err) {
			c.Quit() // the session is still in step: leave politely
		}
		return failed(ctx, "", err, timedOut)
	}
	return nil
}

// transact runs the session on c, from EHLO to QUIT. Its errors name
// their step; those it marks Permanent are about the settings.
func (m *Mailer) transact(c *smtp.Client, sv server, cred engine.SMTPSettings, msg []byte) error {
	if err := c.Hello(ehloName(m.Hostname)); err != nil {
		return &stepError{"EHLO " + m.Hostname, err}
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(m.tlsConfig(sv.host)); err != nil {
			return &stepError{"STARTTLS", err}
		}
	}
	if cred.Username != "" {
		if err := auth(c, sv, cred); err != nil {
			return err
		}
	}
	if err := c.Mail(sv.from.Address); err != nil {
		return &stepError{"MAIL FROM " + sv.from.Address, err}
	}
	for _, to := range sv.to {
		if err := c.Rcpt(to.Address); err != nil {
			return &stepError{"RCPT TO " + to.Address, err}
		}
	}
	w, err := c.Data()
	if err != nil {
		return &stepError{"DATA", err}
	}
	if _, err := w.Write(msg); err != nil {
		return &stepError{"DATA", err}
	}
	if err := w.Close(); err != nil { // the server's answer to the message
		return &stepError{"DATA", err}
	}
	c.Quit() // the message is accepted: a failed QUIT changes nothing
	return nil
}

// auth authenticates with AUTH PLAIN, which only a TLS connection or a
// server on this machine may carry (net/smtp's PlainAuth refuses the rest;
// refusing first says why).
func auth(c *smtp.Client, sv server, cred engine.SMTPSettings) error {
	if _, isTLS := c.TLSConnectionState(); !isTLS && !isLocalhost(sv.host) {
		return engine.Permanent(ErrClearText)
	}
	// A server that cannot take the credentials will not learn to by
	// the next attempt: the settings must change.
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return engine.Permanent(fmt.Errorf("smtp: %s offers no AUTH, and a username is set", sv.addr))
	}
	if !hasWord(mechs, "PLAIN") {
		return engine.Permanent(fmt.Errorf("smtp: %s offers AUTH %s, not PLAIN", sv.addr, mechs))
	}
	if err := c.Auth(smtp.PlainAuth("", cred.Username, cred.Password, sv.host)); err != nil {
		return &stepError{"AUTH PLAIN as " + cred.Username, err}
	}
	return nil
}

// isLocalhost is net/smtp's test of a server that may see a password
// without TLS.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func hasWord(s, word string) bool {
	for _, w := range strings.Fields(s) {
		if strings.EqualFold(w, word) {
			return true
		}
	}
	return false
}

func (m *Mailer) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if m.dial != nil {
		return m.dial
	}
	var d net.Dialer
	return d.DialContext
}

func (m *Mailer) tlsConfig(host string) *tls.Config {
	var cfg *tls.Config
	if m.TLSConfig != nil {
		cfg = m.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.InsecureSkipVerify = false
	return cfg
}

// ehloName is hostname as EHLO takes it: an IP address as an address
// literal (RFC 5321 §4.1.3).
func ehloName(hostname string) string {
	ip := net.ParseIP(hostname)
	switch {
	case ip == nil:
		return hostname
	case ip.To4() != nil:
		return "[" + hostname + "]"
	default:
		return "[IPv6:" + hostname + "]"
	}
}

// stepError is an error of one step of the session.
type stepError struct {
	step string
	err  error
}

// Error names the step and what failed; a reply reads as the server
// wrote it, on one line.
func (e *stepError) Error() string {
	if reply, ok := e.err.(*textproto.Error); ok {
		return fmt.Sprintf("smtp: %s: %03d %s", e.step, reply.Code, oneLine(reply.Msg, 500))
	}
	return "smtp: " + e.step + ": " + e.err.Error()
}
func (e *stepError) Unwrap() error { return e.err }

// failed is err as NewTicket returns it: named by its step, the context's
// cause in place of the i/o error the context's end provoked, and marked
// Permanent when it is a 5xx reply (transact marks its own).
func failed(ctx context.Context, step string, err, timedOut error) error {
	if step != "" {
		err = &stepError{step, err}
	}
	var reply *textproto.Error
	switch {
	case errors.As(err, &reply):
		if reply.Code >= 500 && reply.Code <= 599 {
			return engine.Permanent(err)
		}
		return err
	case engine.IsPermanent(err):
		return err
	case ctx.Err() != nil:
		return replaceCause(err, context.Cause(ctx))
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection's deadline is the context's, which may not have
		// noticed yet.
		return replaceCause(err, timedOut)
	}
	return err
}

// replaceCause is err's step with cause as its error.
func replaceCause(err, cause error) error {
	var s *stepError
	if errors.As(err, &s) {
		return &stepError{s.step, cause}
	}
	return fmt.Errorf("smtp: %w", cause)
}

// redact takes the password out of err's text, in case a server echoed it.
func redact(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	safe := errors.New(strings.ReplaceAll(err.Error(), password, "[password]"))
	if engine.IsPermanent(err) {
		return engine.Permanent(safe)
	}
	return safe
}
