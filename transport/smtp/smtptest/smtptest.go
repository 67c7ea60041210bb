// Package smtptest runs a real SMTP server in a test, as net/http/httptest
// runs an HTTP one: it receives mail on 127.0.0.1, records what each
// connection said and sent, and can be told to refuse or stall at any step.
// It is for tests only.
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Config is what a Server offers and how it misbehaves.
type Config struct {
	// TLS, when set, offers STARTTLS with this configuration.
	TLS *tls.Config
	// Users, when set, offers AUTH (AuthMechs, default "PLAIN LOGIN") and
	// accepts these usernames with these passwords.
	Users     map[string]string
	AuthMechs string
	// Fail answers a command with this reply instead of its own: keys are
	// verbs ("MAIL", "RCPT", "DATA", "AUTH", "STARTTLS"), "RCPT <address>"
	// for one recipient, "CONNECT" for the greeting and "." for the answer
	// to the message.
	Fail map[string]string
	// Stall, at this verb (or "CONNECT", or "."), stops answering.
	Stall string
	// DropAfterData closes the connection once the message is accepted,
	// without answering QUIT.
	DropAfterData bool
}

// Session is what a Server saw on one connection.
type Session struct {
	Helo     string   // the last EHLO or HELO argument
	Verbs    []string // every command's verb, in order
	TLS      bool     // whether STARTTLS succeeded
	AuthTLS  bool     // whether TLS was on when AUTH came
	User     string   // AUTH PLAIN's username and password
	Password string
	Authed   bool
	From     string   // MAIL FROM's address
	Params   string   // MAIL FROM's parameters
	To       []string // RCPT TO's addresses, in order
	Data     []byte   // the message, dot-unstuffed, lines ending in CRLF
	BareLF   bool     // a line of the message ended in a bare LF
}

// Server is an SMTP server on 127.0.0.1 that speaks enough of RFC 5321
// for a client that sends mail: a greeting, EHLO and HELO, STARTTLS, AUTH
// PLAIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT. Every connection it serves
// ends as a Session that Next returns. It stops when the test ends.
type Server struct {
	cfg      Config
	ln       net.Listener
	Addr     string
	sessions chan Session
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool
}

// NewServer starts a Server; it stops when the test ends.
func NewServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: cfg, ln: ln, Addr: ln.Addr().String(), sessions: make(chan Session, 16), conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[conn] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ss := s.serve(conn)
			conn.Close()
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
			s.sessions <- ss
		}()
	}
}

// Next is the next Session to end; the test fails if none ends in time.
func (s *Server) Next(t testing.TB) Session {
	t.Helper()
	select {
	case ss := <-s.sessions:
		return ss
	case <-time.After(5 * time.Second):
		t.Fatal("the server saw no Session end")
		return Session{}
	}
}

// None checks that no connection came.
func (s *Server) None(t testing.TB) {
	t.Helper()
	select {
	case ss := <-s.sessions:
		t.Fatalf("the server saw a Session: %+v", ss)
	case <-time.After(50 * time.Millisecond):
	}
}

type serverConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func (c *serverConn) reply(lines ...string) bool {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	_, err := c.conn.Write([]byte(b.String()))
	return err == nil
}

func (c *serverConn) line() (string, bool) {
	l, err := c.r.ReadString('\n')
	if err != nil {
		return "", false
	}
	return strings.TrimRight(l, "\r\n"), true
}

// wait reads until the client goes away: a stall.
func (c *serverConn) wait() {
	for {
		if _, ok := c.line(); !ok {
			return
		}
	}
}

func (s *Server) serve(conn net.Conn) (ss Session) {
	c := &serverConn{conn: conn, r: bufio.NewReader(conn)}
	if s.cfg.Stall == "CONNECT" {
		c.wait()
		return
	}
	if f := s.cfg.Fail["CONNECT"]; f != "" {
		c.reply(f)
		return
	}
	c.reply("220 test.local ESMTP ready")
	for {
		l, ok := c.line()
		if !ok {
			return
		}
		verb, arg, _ := strings.Cut(l, " ")
		verb = strings.ToUpper(verb)
		ss.Verbs = append(ss.Verbs, verb)
		if s.cfg.Stall == verb {
			c.wait()
			return
		}
		if f := s.cfg.Fail[verb]; f != "" && verb != "RCPT" {
			if !c.reply(f) || strings.HasPrefix(f, "421") {
				return
			}
			continue
		}
		if !s.command(c, &ss, verb, arg) {
			return
		}
	}
}

// command answers one command; false ends the Session.
func (s *Server) command(c *serverConn, ss *Session, verb, arg string) bool {
	switch verb {
	case "EHLO":
		ss.Helo = arg
		ext := []string{"250-test.local greets " + arg, "250-8BITMIME"}
		if s.cfg.TLS != nil && !ss.TLS {
			ext = append(ext, "250-STARTTLS")
		}
		if s.cfg.Users != nil {
			mechs := s.cfg.AuthMechs
			if mechs == "" {
				mechs = "PLAIN LOGIN"
			}
			ext = append(ext, "250-AUTH "+mechs)
		}
		return c.reply(append(ext, "250 HELP")...)
	case "HELO":
		ss.Helo = arg
		return c.reply("250 test.local")
	case "STARTTLS":
		if s.cfg.TLS == nil || ss.TLS {
			return c.reply("502 5.5.1 no STARTTLS here")
		}
		c.reply("220 2.0.0 go ahead")
		tc := tls.Server(c.conn, s.cfg.TLS)
		if err := tc.Handshake(); err != nil {
			return false
		}
		c.conn, c.r = tc, bufio.NewReader(tc)
		ss.TLS, ss.Helo = true, ""
		return true
	case "AUTH":
		return s.auth(c, ss, arg)
	case "MAIL":
		addr, params, ok := path(arg, "FROM:")
		if !ok {
			return c.reply("501 5.5.4 syntax: MAIL FROM:<address>")
		}
		ss.From, ss.Params, ss.To = addr, params, nil
		return c.reply("250 2.1.0 ok")
	case "RCPT":
		addr, _, ok := path(arg, "TO:")
		if !ok {
			return c.reply("501 5.5.4 syntax: RCPT TO:<address>")
		}
		for _, key := range []string{"RCPT " + addr, "RCPT"} {
			if f := s.cfg.Fail[key]; f != "" {
				return c.reply(f)
			}
		}
		ss.To = append(ss.To, addr)
		return c.reply("250 2.1.5 ok")
	case "DATA":
		if len(ss.To) == 0 {
			return c.reply("503 5.5.1 RCPT first")
		}
		c.reply("354 end with <CRLF>.<CRLF>")
		return s.data(c, ss)
	case "RSET":
		ss.From, ss.To = "", nil
		return c.reply("250 2.0.0 ok")
	case "NOOP":
		return c.reply("250 2.0.0 ok")
	case "QUIT":
		c.reply("221 2.0.0 bye")
		return false
	}
	return c.reply("502 5.5.2 unknown command")
}

// auth answers AUTH PLAIN, with its initial response or after a 334.
func (s *Server) auth(c *serverConn, ss *Session, arg string) bool {
	mech, resp, _ := strings.Cut(arg, " ")
	if s.cfg.Users == nil || !strings.EqualFold(mech, "PLAIN") {
		return c.reply("504 5.5.4 unrecognized authentication type")
	}
	ss.AuthTLS = ss.TLS
	if resp == "" {
		c.reply("334 ")
		var ok bool
		if resp, ok = c.line(); !ok {
			return false
		}
	}
	if resp == "*" {
		return c.reply("501 5.0.0 AUTH aborted")
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	parts := strings.Split(string(raw), "\x00")
	if err != nil || len(parts) != 3 {
		return c.reply("501 5.5.2 cannot decode the response")
	}
	ss.User, ss.Password = parts[1], parts[2]
	if want, ok := s.cfg.Users[parts[1]]; !ok || want != parts[2] {
		return c.reply("535 5.7.8 authentication credentials invalid")
	}
	ss.Authed = true
	return c.reply("235 2.7.0 authenticated")
}

// data reads the message up to its lone dot, undoing the dot-stuffing.
func (s *Server) data(c *serverConn, ss *Session) bool {
	var b bytes.Buffer
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return false
		}
		if !strings.HasSuffix(l, "\r\n") {
			ss.BareLF = true
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "." {
			break
		}
		b.WriteString(strings.TrimPrefix(l, ".") + "\r\n")
	}
	switch {
	case s.cfg.Stall == ".":
		c.wait()
		return false
	case s.cfg.Fail["."] != "":
		return c.reply(s.cfg.Fail["."])
	}
	ss.Data = b.Bytes()
	if !c.reply("250 2.0.0 queued") || s.cfg.DropAfterData {
		return false
	}
	return true
}

// path parses "FROM:<address> params" after its keyword.
func path(arg, keyword string) (addr, params string, ok bool) {
	if len(arg) < len(keyword) || !strings.EqualFold(arg[:len(keyword)], keyword) {
		return "", "", false
	}
	rest := strings.TrimSpace(arg[len(keyword):])
	if !strings.HasPrefix(rest, "<") {
		return "", "", false
	}
	addr, params, ok = strings.Cut(rest[1:], ">")
	return addr, strings.TrimSpace(params), ok
}

// SelfSigned is a certificate for names (host names or IP addresses),
// signed by itself, and a pool that trusts it.
func SelfSigned(t testing.TB, names ...string) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: names[0]},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool
}
