package smtp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/engine"
)

// Bounds on what a customer wrote, as the e-mail shows it. The whole
// message is in the ticket; the e-mail is a heads-up with a link to it.
const (
	maxNameRunes = 200
	maxTextRunes = 2000
	// maxLine is where a header is folded (RFC 5322 §2.1.1 recommends 78).
	maxLine = 78
)

// notice is one e-mail to compose: the notice and what the Mailer and the
// settings add to it.
type notice struct {
	engine.NewTicketNotice
	from      *mail.Address
	to        []*mail.Address
	key       string
	hostname  string
	publicURL string
	now       time.Time
}

// compose writes the message: headers, a blank line and a quoted-printable
// body, every line ending in CRLF. Each header value is built here from
// one-line text, so that nothing a customer wrote can start a header.
func compose(n notice) []byte {
	var b bytes.Buffer
	header(&b, "From", []string{n.from.String()})
	to := make([]string, len(n.to))
	for i, a := range n.to {
		to[i] = a.String()
		if i < len(n.to)-1 {
			to[i] += ","
		}
	}
	header(&b, "To", to)
	header(&b, "Subject", subjectWords(n.who()))
	header(&b, "Date", []string{n.now.Format(time.RFC1123Z)})
	header(&b, "Message-ID", []string{messageID(n.key, n.hostname)})
	header(&b, "MIME-Version", []string{"1.0"})
	header(&b, "Content-Type", []string{"text/plain;", "charset=utf-8"})
	header(&b, "Content-Transfer-Encoding", []string{"quoted-printable"})
	header(&b, "Auto-Submitted", []string{"auto-generated"})
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b) // writes every line break as CRLF
	qp.Write([]byte(n.body()))          // a bytes.Buffer does not fail
	qp.Close()
	return b.Bytes()
}

// header writes one header field, folded between words so that no line
// passes maxLine where the words allow it. The words are one-line text.
func header(b *bytes.Buffer, name string, words []string) {
	b.WriteString(name)
	b.WriteByte(':')
	line := len(name) + 1
	for i, w := range words {
		w = strings.Map(noBreak, w) // a last guard: compose builds one-line words
		if i > 0 && line+1+len(w) > maxLine {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteByte(' ')
		b.WriteString(w)
		line += 1 + len(w)
	}
	b.WriteString("\r\n")
}

func noBreak(r rune) rune {
	if r == '\r' || r == '\n' {
		return ' '
	}
	return r
}

// subjectWords is the Subject as words to fold: "New ticket from " and
// whom, RFC 2047 encoded-words when that is not plain ASCII. mime's
// encoded-words hold no space (Q encoding writes one as "_") and are at
// most 75 characters long, so that each fits on a folded line of its own.
func subjectWords(who string) []string {
	return append([]string{"New", "ticket", "from"}, strings.Split(mime.QEncoding.Encode("utf-8", who), " ")...)
}

// who is whom the ticket is from, as one line.
func (n notice) who() string {
	who := oneLine(n.Name, maxNameRunes)
	if who == "" {
		who = oneLine(n.Email, maxNameRunes)
	}
	if who == "" {
		who = "a customer"
	}
	return who
}

// messageID is the Message-ID of the notice with this key: the same on
// every attempt, so that a retry that repeats a delivered e-mail is one
// that mail clients can fold into the first.
func messageID(key, hostname string) string {
	sum := sha256.Sum256([]byte(key))
	return "<parley.ticket." + hex.EncodeToString(sum[:16]) + "@" + idDomain(hostname) + ">"
}

// idDomain is hostname if it can be the right side of a Message-ID as it
// stands (a dot-atom of letters, digits, '-' and '.'), "localhost" if not
// (an IPv6 address, a name with a space).
func idDomain(hostname string) string {
	if hostname == "" || strings.HasPrefix(hostname, ".") || strings.HasSuffix(hostname, ".") || strings.Contains(hostname, "..") {
		return "localhost"
	}
	for _, r := range hostname {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return "localhost"
		}
	}
	return hostname
}

// body is the text of the e-mail, lines ending in "\n" (the quoted-printable
// writer makes them CRLF).
func (n notice) body() string {
	var b strings.Builder
	name, email := oneLine(n.Name, maxNameRunes), oneLine(n.Email, maxNameRunes)
	fmt.Fprintf(&b, "New ticket from %s.\n\n", n.who())
	fmt.Fprintf(&b, "Name:     %s\n", orNotGiven(name))
	fmt.Fprintf(&b, "E-mail:   %s\n", orNotGiven(email))
	fmt.Fprintf(&b, "Channel:  %s\n", channelName(n.Channel))
	fmt.Fprintf(&b, "Received: %s\n", n.at().Format("Mon 2 Jan 2006 15:04:05 MST"))
	b.WriteString("\nTheir first message:\n\n")
	b.WriteString(quote(n.Text))
	b.WriteString("\n")
	if link := n.link(); link != "" {
		fmt.Fprintf(&b, "Open the ticket: %s\n", link)
	} else {
		fmt.Fprintf(&b, "Open Parley's inbox and look for ticket %s.\n", oneLine(n.Ticket, maxNameRunes))
	}
	b.WriteString("\n-- \nParley sends this e-mail to the addresses in its settings\n(notifications.email) when a new ticket arrives.\n")
	return b.String()
}

func (n notice) at() time.Time {
	if n.At.IsZero() {
		return n.now
	}
	return n.At
}

// link is the ticket in the inbox, or "" with no public URL to start from.
func (n notice) link() string {
	base := strings.TrimRight(strings.TrimSpace(n.publicURL), "/")
	if base == "" {
		return ""
	}
	return base + "/inbox?ticket=" + url.QueryEscape(n.Ticket)
}

func orNotGiven(s string) string {
	if s == "" {
		return "not given"
	}
	return s
}

func channelName(c engine.Channel) string {
	switch c {
	case engine.ChannelWebchat:
		return "web chat"
	case engine.ChannelSMS:
		return "SMS"
	case "":
		return "not given"
	}
	return oneLine(string(c), maxNameRunes)
}

// quote is the customer's text, its first maxTextRunes characters, each
// line behind "> ". Line breaks of any kind become "\n"; any other control
// character is left to the quoted-printable encoding.
func quote(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n", "\u0085", "\n").Replace(text)
	text = strings.TrimSpace(text)
	if text == "" {
		return "> (no text)\n"
	}
	cut := false
	if utf8.RuneCountInString(text) > maxTextRunes {
		text, cut = string([]rune(text)[:maxTextRunes]), true
	}
	var b strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		b.WriteString(strings.TrimRightFunc("> "+line, unicode.IsSpace))
		b.WriteString("\n")
	}
	if cut {
		fmt.Fprintf(&b, "> […]\n\n(The first %d characters; the whole message is in the ticket.)\n", maxTextRunes)
	}
	return b.String()
}

// oneLine is s as one line of at most max characters: every control or
// line-separating character and every run of spaces becomes one space.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}), " ")
	if utf8.RuneCountInString(s) > max {
		s = strings.TrimRight(string([]rune(s)[:max-1]), " ") + "…"
	}
	return s
}
