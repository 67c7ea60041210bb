package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/smtp/smtptest"
)

func testSettings(addr string) engine.EmailSettings {
	return engine.EmailSettings{
		Enabled: true,
		To:      []string{"team@example.com", "lead@example.com"},
		From:    "parley@example.com",
		SMTP:    engine.SMTPSettings{Addr: addr},
	}
}

func testMailer() *Mailer {
	return &Mailer{PublicURL: "https://chat.example.com", Now: func() time.Time { return at.Add(2 * time.Second) }}
}

// A notice reaches every recipient, from the sender, as the message
// compose writes.
func TestNewTicketDelivers(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{})
	if err := testMailer().NewTicket(t.Context(), testSettings(srv.Addr), "k1", testNotice()); err != nil {
		t.Fatal(err)
	}
	ss := srv.Next(t)
	if want := []string{"EHLO", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"}; !slices.Equal(ss.Verbs, want) {
		t.Errorf("commands %v, want %v", ss.Verbs, want)
	}
	if ss.Helo != "chat.example.com" {
		t.Errorf("EHLO %q, want PublicURL's host", ss.Helo)
	}
	if ss.From != "parley@example.com" || !slices.Equal(ss.To, []string{"team@example.com", "lead@example.com"}) {
		t.Errorf("envelope %q → %q", ss.From, ss.To)
	}
	if ss.BareLF {
		t.Error("a line of the message ends in a bare LF")
	}

	m := parseMessage(t, ss.Data)
	if !slices.Equal(m.Names, headerNames) || m.Header.Get("Subject") != "New ticket from Ana Svensson" {
		t.Errorf("headers %q, Subject %q", m.Names, m.Header.Get("Subject"))
	}
	if got := m.Header.Get("Date"); got != "Sun, 06 Dec 2026 14:30:07 +0000" {
		t.Errorf("Date %q, want the Mailer's Now", got)
	}
	if !strings.Contains(m.Body, "> Hi! Where is my order #1234?\r\n") || !strings.Contains(m.Body, "https://chat.example.com/inbox?ticket=01JEXAMPLE\r\n") {
		t.Errorf("the body:\n%s", m.Body)
	}
}

// STARTTLS comes first when the server offers it, with a verified
// certificate, then AUTH PLAIN with the settings' credentials.
func TestNewTicketStartTLSThenAuth(t *testing.T) {
	cfg, roots := smtptest.SelfSigned(t, "127.0.0.1")
	srv := smtptest.NewServer(t, smtptest.Config{TLS: cfg, Users: map[string]string{"parley": "s3cret"}})
	m := testMailer()
	m.TLSConfig = &tls.Config{RootCAs: roots}
	s := testSettings(srv.Addr)
	s.SMTP.Username, s.SMTP.Password = "parley", "s3cret"
	if err := m.NewTicket(t.Context(), s, "k1", testNotice()); err != nil {
		t.Fatal(err)
	}
	ss := srv.Next(t)
	if want := []string{"EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"}; !slices.Equal(ss.Verbs, want) {
		t.Errorf("commands %v, want %v", ss.Verbs, want)
	}
	if !ss.TLS || !ss.AuthTLS || !ss.Authed || ss.User != "parley" || ss.Password != "s3cret" {
		t.Errorf("TLS %v, TLS at AUTH %v, authenticated %v as %q/%q", ss.TLS, ss.AuthTLS, ss.Authed, ss.User, ss.Password)
	}
	if len(ss.Data) == 0 {
		t.Error("no message")
	}
}

// Without a username there is no AUTH, even where the server offers it;
// STARTTLS is still used.
func TestNewTicketNoUsernameNoAuth(t *testing.T) {
	cfg, roots := smtptest.SelfSigned(t, "127.0.0.1")
	srv := smtptest.NewServer(t, smtptest.Config{TLS: cfg, Users: map[string]string{"parley": "s3cret"}})
	m := testMailer()
	m.TLSConfig = &tls.Config{RootCAs: roots}
	if err := m.NewTicket(t.Context(), testSettings(srv.Addr), "k1", testNotice()); err != nil {
		t.Fatal(err)
	}
	ss := srv.Next(t)
	if slices.Contains(ss.Verbs, "AUTH") || !ss.TLS || len(ss.Data) == 0 {
		t.Errorf("commands %v, TLS %v", ss.Verbs, ss.TLS)
	}
}

// The server's certificate is checked against the host of the settings'
// address: a name, here, under which the test server is reached.
func TestNewTicketServerNameFromAddress(t *testing.T) {
	cfg, roots := smtptest.SelfSigned(t, "mail.example.com")
	srv := smtptest.NewServer(t, smtptest.Config{TLS: cfg})
	m := testMailer()
	m.TLSConfig = &tls.Config{RootCAs: roots}
	m.dial = dialAs(srv.Addr)
	if err := m.NewTicket(t.Context(), testSettings("mail.example.com:587"), "k1", testNotice()); err != nil {
		t.Fatal(err)
	}
	if ss := srv.Next(t); !ss.TLS || len(ss.Data) == 0 {
		t.Errorf("TLS %v, %d bytes", ss.TLS, len(ss.Data))
	}
}

// A certificate that no trusted root signed ends the send before any
// mail command, InsecureSkipVerify or not, and is worth retrying (the
// server's certificate may be renewed, the settings changed).
func TestNewTicketVerifiesCertificate(t *testing.T) {
	cfg, _ := smtptest.SelfSigned(t, "127.0.0.1")
	srv := smtptest.NewServer(t, smtptest.Config{TLS: cfg, Users: map[string]string{"parley": "s3cret"}})
	for _, tc := range []*tls.Config{nil, {InsecureSkipVerify: true}} {
		m := testMailer()
		m.TLSConfig = tc
		s := testSettings(srv.Addr)
		s.SMTP.Username, s.SMTP.Password = "parley", "s3cret"
		err := m.NewTicket(t.Context(), s, "k1", testNotice())
		if err == nil || engine.IsPermanent(err) || !strings.HasPrefix(err.Error(), "smtp: STARTTLS: ") {
			t.Errorf("TLSConfig %+v: error %v", tc, err)
		}
		if ss := srv.Next(t); ss.TLS || slices.Contains(ss.Verbs, "AUTH") || slices.Contains(ss.Verbs, "MAIL") {
			t.Errorf("TLSConfig %+v: commands %v after a certificate nobody trusts", tc, ss.Verbs)
		}
	}
}

// A server that is not on this machine and offers no STARTTLS never sees
// the password: the send fails for good, saying why.
func TestNewTicketRefusesClearTextPassword(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{Users: map[string]string{"parley": "s3cret"}})
	m := testMailer()
	m.dial = dialAs(srv.Addr)
	s := testSettings("mail.example.com:587")
	s.SMTP.Username, s.SMTP.Password = "parley", "s3cret"
	err := m.NewTicket(t.Context(), s, "k1", testNotice())
	if !errors.Is(err, ErrClearText) || !engine.IsPermanent(err) {
		t.Fatalf("error %v, want a permanent ErrClearText", err)
	}
	if err.Error() != "smtp: the server offers no STARTTLS; refusing to send the password in the clear" {
		t.Errorf("error %q", err)
	}
	ss := srv.Next(t)
	if slices.Contains(ss.Verbs, "AUTH") || slices.Contains(ss.Verbs, "MAIL") || ss.Password != "" {
		t.Errorf("commands %v", ss.Verbs)
	}
}

// A server on this machine may take the password without TLS, as
// net/smtp allows: a local relay.
func TestNewTicketLocalhostAuthWithoutTLS(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{Users: map[string]string{"parley": "s3cret"}})
	s := testSettings(srv.Addr)
	s.SMTP.Username, s.SMTP.Password = "parley", "s3cret"
	if err := testMailer().NewTicket(t.Context(), s, "k1", testNotice()); err != nil {
		t.Fatal(err)
	}
	if ss := srv.Next(t); !ss.Authed || ss.TLS {
		t.Errorf("authenticated %v, TLS %v", ss.Authed, ss.TLS)
	}
}

// Credentials the server refuses fail for good, and no error carries the
// password, even when the server's reply echoes it.
func TestNewTicketAuthRefused(t *testing.T) {
	for name, cfg := range map[string]smtptest.Config{
		"wrong password": {Users: map[string]string{"parley": "other"}},
		"echoed":         {Users: map[string]string{"parley": "s3cret"}, Fail: map[string]string{"AUTH": "535 5.7.8 password s3cret refused"}},
		"no AUTH":        {},
		"no PLAIN":       {Users: map[string]string{"parley": "s3cret"}, AuthMechs: "CRAM-MD5"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := smtptest.NewServer(t, cfg)
			s := testSettings(srv.Addr)
			s.SMTP.Username, s.SMTP.Password = "parley", "s3cret"
			err := testMailer().NewTicket(t.Context(), s, "k1", testNotice())
			if err == nil || !engine.IsPermanent(err) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %v, want a permanent error without the password", err)
			}
			if ss := srv.Next(t); slices.Contains(ss.Verbs, "MAIL") {
				t.Errorf("commands %v", ss.Verbs)
			}
		})
	}
}

// The same key gives the same Message-ID, on any attempt; another key,
// another one.
func TestNewTicketMessageIDFollowsKey(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{})
	ids := map[string]string{}
	for _, key := range []string{"t/01JEXAMPLE/3/email", "t/01JEXAMPLE/3/email", "t/01JOTHER/1/email"} {
		m := testMailer()
		m.Hostname = "parley.example.com"
		m.Now = time.Now // another Date, the same Message-ID
		if err := m.NewTicket(t.Context(), testSettings(srv.Addr), key, testNotice()); err != nil {
			t.Fatal(err)
		}
		id := parseMessage(t, srv.Next(t).Data).Header.Get("Message-ID")
		if prev, ok := ids[key]; ok && prev != id {
			t.Errorf("key %q: Message-ID %q, then %q", key, prev, id)
		}
		ids[key] = id
		if !strings.HasSuffix(id, "@parley.example.com>") {
			t.Errorf("Message-ID %q, want Hostname on its right", id)
		}
	}
	if ids["t/01JEXAMPLE/3/email"] == ids["t/01JOTHER/1/email"] {
		t.Errorf("two keys, one Message-ID %q", ids["t/01JOTHER/1/email"])
	}
}

// A 5xx reply fails for good, a 4xx reply is worth retrying, and the
// error names the step.
func TestNewTicketReplies(t *testing.T) {
	for _, tc := range []struct {
		fail      map[string]string
		permanent bool
		err       string
	}{
		{map[string]string{"RCPT lead@example.com": "550 5.1.1 no such user"}, true, "smtp: RCPT TO lead@example.com: 550 5.1.1 no such user"},
		{map[string]string{"RCPT": "451 4.7.1 greylisted, try again later"}, false, "smtp: RCPT TO team@example.com: 451 4.7.1 greylisted, try again later"},
		{map[string]string{"MAIL": "553 5.7.1 sender not allowed"}, true, "smtp: MAIL FROM parley@example.com: 553 5.7.1 sender not allowed"},
		{map[string]string{"DATA": "452 4.3.1 out of memory"}, false, "smtp: DATA: 452 4.3.1 out of memory"},
		{map[string]string{".": "554 5.7.1 spam"}, true, "smtp: DATA: 554 5.7.1 spam"},
		{map[string]string{".": "451 4.3.0 try later"}, false, "smtp: DATA: 451 4.3.0 try later"},
		{map[string]string{"CONNECT": "421 4.3.2 too busy"}, false, "smtp: greeting from "},
		{map[string]string{"CONNECT": "554 5.7.1 no service"}, true, "smtp: greeting from "},
		{map[string]string{"EHLO": "550 no", "HELO": "550 5.7.1 bad name"}, true, "smtp: EHLO chat.example.com: 550 5.7.1 bad name"},
	} {
		srv := smtptest.NewServer(t, smtptest.Config{Fail: tc.fail})
		err := testMailer().NewTicket(t.Context(), testSettings(srv.Addr), "k1", testNotice())
		if err == nil || engine.IsPermanent(err) != tc.permanent || !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("%v: error %v (permanent %v), want %q (permanent %v)", tc.fail, err, engine.IsPermanent(err), tc.err, tc.permanent)
		}
		var reply *textproto.Error
		if !errors.As(err, &reply) {
			t.Errorf("%v: error %v does not carry the reply", tc.fail, err)
		}
		if ss := srv.Next(t); ss.Data != nil {
			t.Errorf("%v: a message was accepted", tc.fail)
		}
	}
}

// Settings that cannot work fail for good, before any connection.
func TestNewTicketInvalidSettings(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{})
	for name, edit := range map[string]func(*engine.EmailSettings){
		"sender":       func(s *engine.EmailSettings) { s.From = "parley" },
		"sender CRLF":  func(s *engine.EmailSettings) { s.From = "parley@example.com\r\nRCPT TO:<x@example.com>" },
		"recipient":    func(s *engine.EmailSettings) { s.To = []string{"team@example.com", "lead at example.com"} },
		"recipient LF": func(s *engine.EmailSettings) { s.To = []string{"team@example.com\nBcc: x@example.com"} },
		"none":         func(s *engine.EmailSettings) { s.To = nil },
		"no port":      func(s *engine.EmailSettings) { s.SMTP.Addr = "127.0.0.1" },
		"no address":   func(s *engine.EmailSettings) { s.SMTP.Addr = "" },
	} {
		s := testSettings(srv.Addr)
		edit(&s)
		err := testMailer().NewTicket(t.Context(), s, "k1", testNotice())
		if err == nil || !engine.IsPermanent(err) || !strings.HasPrefix(err.Error(), "smtp: ") {
			t.Errorf("%s: error %v, want a permanent one", name, err)
		}
	}
	if err := testMailer().NewTicket(t.Context(), testSettings(srv.Addr), "", testNotice()); err == nil || !engine.IsPermanent(err) {
		t.Errorf("no key: error %v, want a permanent one", err)
	}
	m := testMailer()
	m.Hostname = "parley\r\nMAIL FROM:<x@example.com>"
	if err := m.NewTicket(t.Context(), testSettings(srv.Addr), "k1", testNotice()); err == nil || !engine.IsPermanent(err) {
		t.Errorf("a Hostname on two lines: error %v, want a permanent one", err)
	}
	srv.None(t)
}

// A port nobody listens on is worth retrying.
func TestNewTicketClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = testMailer().NewTicket(t.Context(), testSettings(addr), "k1", testNotice())
	if err == nil || engine.IsPermanent(err) || !strings.HasPrefix(err.Error(), "smtp: connect to "+addr+": ") {
		t.Errorf("error %v, want a temporary one naming the address", err)
	}
}

// A context that ends, or the Mailer's Timeout, ends a send that waits on
// the server at once, wherever it waits, with an error worth retrying.
func TestNewTicketGivesUp(t *testing.T) {
	for _, stall := range []string{"CONNECT", "RCPT", "."} {
		srv := smtptest.NewServer(t, smtptest.Config{Stall: stall})

		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		err := testMailer().NewTicket(ctx, testSettings(srv.Addr), "k1", testNotice())
		if !errors.Is(err, context.Canceled) || engine.IsPermanent(err) || !strings.HasPrefix(err.Error(), "smtp: ") {
			t.Errorf("stalled at %s, cancelled: error %v", stall, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("stalled at %s, cancelled: returned after %v", stall, d)
		}
		srv.Next(t)

		m := testMailer()
		m.Timeout = 100 * time.Millisecond
		err = m.NewTicket(t.Context(), testSettings(srv.Addr), "k1", testNotice())
		if !errors.Is(err, context.DeadlineExceeded) || engine.IsPermanent(err) || !strings.Contains(err.Error(), "took longer than 100ms") {
			t.Errorf("stalled at %s, timed out: error %v", stall, err)
		}
		srv.Next(t)
	}
}

// Once the server has accepted the message, a connection that fails
// before QUIT is answered is a success: a retry would send it twice.
func TestNewTicketAcceptedThenDropped(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{DropAfterData: true})
	if err := testMailer().NewTicket(t.Context(), testSettings(srv.Addr), "k1", testNotice()); err != nil {
		t.Fatal(err)
	}
	if ss := srv.Next(t); len(ss.Data) == 0 {
		t.Error("no message")
	}
}

// Lines that start with a dot arrive whole: net/smtp stuffs them, the
// server unstuffs them.
func TestNewTicketDottedLines(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{})
	n := testNotice()
	n.Text = ".first\n..second\n.\nlast"
	if err := testMailer().NewTicket(t.Context(), testSettings(srv.Addr), "k1", n); err != nil {
		t.Fatal(err)
	}
	if m := parseMessage(t, srv.Next(t).Data); !strings.Contains(m.Body, "> .first\r\n> ..second\r\n> .\r\n> last\r\n") {
		t.Errorf("dotted lines changed:\n%s", m.Body)
	}
}

// A nil or zero Mailer sends, with the defaults.
func TestNewTicketZeroMailer(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{})
	for _, m := range []*Mailer{nil, {}} {
		if err := m.NewTicket(t.Context(), testSettings(srv.Addr), "k1", testNotice()); err != nil {
			t.Fatal(err)
		}
		ss := srv.Next(t)
		msg := parseMessage(t, ss.Data)
		if ss.Helo != "localhost" || !strings.HasSuffix(msg.Header.Get("Message-ID"), "@localhost>") {
			t.Errorf("EHLO %q, Message-ID %q", ss.Helo, msg.Header.Get("Message-ID"))
		}
		if !strings.Contains(msg.Body, "Open Parley's inbox and look for ticket 01JEXAMPLE.") || strings.Contains(msg.Body, "http") {
			t.Errorf("the body without a PublicURL:\n%s", msg.Body)
		}
	}
}

func TestEnsureDefaults(t *testing.T) {
	for _, tc := range []struct {
		in             Mailer
		hostname, ehlo string
		timeout        time.Duration
	}{
		{Mailer{}, "localhost", "localhost", DefaultTimeout},
		{Mailer{PublicURL: "https://chat.example.com:8443/parley/"}, "chat.example.com", "chat.example.com", DefaultTimeout},
		{Mailer{PublicURL: "http://10.0.0.7:8080"}, "10.0.0.7", "[10.0.0.7]", DefaultTimeout},
		{Mailer{PublicURL: "http://[fd00::7]:8080"}, "fd00::7", "[IPv6:fd00::7]", DefaultTimeout},
		{Mailer{PublicURL: "https://chat.example.com", Hostname: "mx1.example.com", Timeout: time.Second}, "mx1.example.com", "mx1.example.com", time.Second},
	} {
		m := tc.in
		m.EnsureDefaults()
		if m.Hostname != tc.hostname || ehloName(m.Hostname) != tc.ehlo || m.Timeout != tc.timeout || m.Now == nil {
			t.Errorf("%+v: Hostname %q, EHLO %q, Timeout %v", tc.in, m.Hostname, ehloName(m.Hostname), m.Timeout)
		}
	}
}
