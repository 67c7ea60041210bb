package smtp

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/engine"
)

var at = time.Date(2026, 12, 6, 14, 30, 5, 0, time.UTC)

func testNotice() engine.NewTicketNotice {
	return engine.NewTicketNotice{
		Ticket: "01JEXAMPLE", Channel: engine.ChannelWebchat, ProfileID: "p1",
		Name: "Ana Svensson", Email: "ana@example.com",
		Text: "Hi! Where is my order #1234?\nIt was due on Friday.", At: at,
	}
}

// received is a message as a mail client reads it.
type received struct {
	Header mail.Header
	Names  []string // the header fields' names, in order
	Body   string   // decoded
}

func parseMessage(t *testing.T, data []byte) received {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, data)
	}
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	var names []string
	for l := range strings.SplitSeq(string(head), "\r\n") {
		if !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") {
			name, _, _ := strings.Cut(l, ":")
			names = append(names, name)
		}
		if len(l) > 998 {
			t.Errorf("a header line of %d bytes: %q", len(l), l)
		}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatalf("the body is not quoted-printable: %v", err)
	}
	return received{Header: m.Header, Names: names, Body: string(body)}
}

var headerNames = []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted"}

// composed is n as compose writes it from parley@example.com to two
// recipients, with edit's changes, and as a mail client reads it.
func composed(t *testing.T, n engine.NewTicketNotice, edit func(*notice)) (received, string) {
	t.Helper()
	nt := notice{
		NewTicketNotice: n,
		from:            &mail.Address{Address: "parley@example.com"},
		to:              []*mail.Address{{Address: "team@example.com"}, {Address: "lead@example.com"}},
		key:             "k1",
		hostname:        "chat.example.com",
		publicURL:       "https://chat.example.com",
		now:             at.Add(2 * time.Second),
	}
	if edit != nil {
		edit(&nt)
	}
	raw := compose(nt)
	if bare := strings.ReplaceAll(string(raw), "\r\n", ""); strings.ContainsAny(bare, "\r\n") {
		t.Errorf("a line break that is not CRLF:\n%q", raw)
	}
	return parseMessage(t, raw), string(raw)
}

// The message has every header a mail client needs to show it, thread it
// and leave it unanswered, and a body with who wrote, on which channel,
// when, what, and a link to the ticket.
func TestMessage(t *testing.T) {
	m, _ := composed(t, testNotice(), nil)
	if !slices.Equal(m.Names, headerNames) {
		t.Errorf("headers %q, want %q", m.Names, headerNames)
	}
	for name, want := range map[string]string{
		"From":                      "<parley@example.com>",
		"To":                        "<team@example.com>, <lead@example.com>",
		"Subject":                   "New ticket from Ana Svensson",
		"Date":                      "Sun, 06 Dec 2026 14:30:07 +0000",
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
	} {
		if got := m.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if to, err := m.Header.AddressList("To"); err != nil || len(to) != 2 {
		t.Errorf("To does not parse as two addresses: %v %v", to, err)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(at.Add(2*time.Second)) {
		t.Errorf("Date %v %v, want the time of composing", d, err)
	}
	if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@chat.example.com>") {
		t.Errorf("Message-ID %q", id)
	}
	for _, want := range []string{
		"Name:     Ana Svensson\r\n",
		"E-mail:   ana@example.com\r\n",
		"Channel:  web chat\r\n",
		"Received: Sun 6 Dec 2026 14:30:05 UTC\r\n",
		"> Hi! Where is my order #1234?\r\n> It was due on Friday.\r\n",
		"https://chat.example.com/inbox?ticket=01JEXAMPLE\r\n",
	} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("the body lacks %q:\n%s", want, m.Body)
		}
	}
}

// Line breaks in what a customer wrote never start a header: the name
// stays on the Subject line, and the body's lines stay in the body.
func TestMessageHeaderInjection(t *testing.T) {
	n := testNotice()
	n.Name = "Eve\r\nBcc: victim@example.com\r\nX-Evil: 1\n\nbody"
	n.Email = "eve@example.com\r\nCc: other@example.com"
	n.Ticket = "01J\r\nX-Ticket: 2"
	n.Text = "Hello\r\n\r\n.\r\nBcc: victim@example.com"
	m, raw := composed(t, n, nil)
	if !slices.Equal(m.Names, headerNames) {
		t.Errorf("headers %q, want %q", m.Names, headerNames)
	}
	if got, want := m.Header.Get("Subject"), "New ticket from Eve Bcc: victim@example.com X-Evil: 1 body"; got != want {
		t.Errorf("Subject %q, want %q", got, want)
	}
	for _, want := range []string{
		"Name:     Eve Bcc: victim@example.com X-Evil: 1 body\r\n",
		"E-mail:   eve@example.com Cc: other@example.com\r\n",
		"> Hello\r\n>\r\n> .\r\n> Bcc: victim@example.com\r\n",
		"inbox?ticket=01J%0D%0AX-Ticket%3A+2\r\n",
	} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("the body lacks %q:\n%s", want, m.Body)
		}
	}
	if strings.Contains(raw, "\r\nBcc:") || strings.Contains(raw, "\r\nX-Evil:") {
		t.Errorf("an injected line:\n%s", raw)
	}
}

// A name that is not ASCII is RFC 2047 encoded in the Subject, folded
// between encoded-words when long, and decodes to what the customer wrote.
func TestMessageSubjectEncoded(t *testing.T) {
	for _, name := range []string{"Jörg Åström", "山田 太郎", strings.Repeat("Å", 150) + " 😀"} {
		n := testNotice()
		n.Name = name
		m, raw := composed(t, n, nil)
		subject := m.Header["Subject"][0] // as it came, before decoding
		if !strings.HasPrefix(subject, "New ticket from =?utf-8?q?") {
			t.Errorf("Subject %q is not Q-encoded", subject)
		}
		var dec mime.WordDecoder
		got, err := dec.DecodeHeader(subject)
		if want := "New ticket from " + oneLine(name, maxNameRunes); err != nil || got != want {
			t.Errorf("Subject decodes to %q, %v, want %q", got, err, want)
		}
		head, _, _ := strings.Cut(raw, "\r\n\r\n")
		for l := range strings.SplitSeq(head, "\r\n") {
			if len(l) > maxLine {
				t.Errorf("a Subject line of %d bytes: %q", len(l), l)
			}
		}
	}
}

// Without a public URL, the e-mail has no link and says where the ticket
// is instead.
func TestMessageWithoutPublicURL(t *testing.T) {
	m, _ := composed(t, testNotice(), func(n *notice) { n.publicURL = "" })
	if !strings.Contains(m.Body, "Open Parley's inbox and look for ticket 01JEXAMPLE.") || strings.Contains(m.Body, "http") {
		t.Errorf("the body without a public URL:\n%s", m.Body)
	}
	m, _ = composed(t, testNotice(), func(n *notice) { n.publicURL = "https://example.com/parley/" })
	if !strings.Contains(m.Body, "Open the ticket: https://example.com/parley/inbox?ticket=01JEXAMPLE\r\n") {
		t.Errorf("the body with a public URL under a path:\n%s", m.Body)
	}
}

// The Message-ID is the key's, whatever else changes, on the Mailer's
// host name; another key makes another.
func TestMessageID(t *testing.T) {
	id := func(edit func(*notice)) string {
		m, _ := composed(t, testNotice(), edit)
		return m.Header.Get("Message-ID")
	}
	first := id(nil)
	if again := id(func(n *notice) { n.now = n.now.Add(time.Hour); n.Name = "Ana S." }); again != first {
		t.Errorf("one key, Message-IDs %q and %q", first, again)
	}
	if other := id(func(n *notice) { n.key = "k2" }); other == first {
		t.Errorf("two keys, one Message-ID %q", first)
	}
	if !strings.HasPrefix(first, "<parley.ticket.") || !strings.HasSuffix(first, "@chat.example.com>") {
		t.Errorf("Message-ID %q", first)
	}
}

// Without a name, the e-mail says whom the ticket is from; without
// either, it says so.
func TestMessageWithoutName(t *testing.T) {
	n := testNotice()
	n.Name = ""
	m, _ := composed(t, n, nil)
	if got := m.Header.Get("Subject"); got != "New ticket from ana@example.com" {
		t.Errorf("Subject %q", got)
	}
	n.Email, n.Channel = "", engine.ChannelSMS
	m, _ = composed(t, n, nil)
	if got := m.Header.Get("Subject"); got != "New ticket from a customer" {
		t.Errorf("Subject %q", got)
	}
	for _, want := range []string{"Name:     not given\r\n", "E-mail:   not given\r\n", "Channel:  SMS\r\n"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("the body lacks %q:\n%s", want, m.Body)
		}
	}
}

// A long first message is cut at maxTextRunes characters, and says so.
func TestMessageLongText(t *testing.T) {
	n := testNotice()
	n.Text = "Hi\n" + strings.Repeat("ö", 3*maxTextRunes)
	m, _ := composed(t, n, nil)
	if got := strings.Count(m.Body, "ö"); got != maxTextRunes-len("Hi\n") {
		t.Errorf("%d characters of the text, want the first %d", got, maxTextRunes)
	}
	if !strings.Contains(m.Body, "the whole message is in the ticket") {
		t.Errorf("the body does not say the text was cut:\n%s", m.Body)
	}
}

// Many recipients fold the To header into lines a mail server takes.
func TestMessageManyRecipients(t *testing.T) {
	var to []*mail.Address
	for i := range 40 {
		to = append(to, &mail.Address{Address: "agent" + strings.Repeat("x", i) + "@example.com"})
	}
	m, raw := composed(t, testNotice(), func(n *notice) {
		n.to, n.from = to, &mail.Address{Name: "Parley Bot", Address: "parley@example.com"}
	})
	list, err := m.Header.AddressList("To")
	if err != nil || len(list) != len(to) {
		t.Fatalf("To: %d addresses, %v", len(list), err)
	}
	if got := m.Header.Get("From"); got != `"Parley Bot" <parley@example.com>` {
		t.Errorf("From %q", got)
	}
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	for l := range strings.SplitSeq(head, "\r\n") {
		if len(l) > maxLine {
			t.Errorf("a header line of %d bytes: %q", len(l), l)
		}
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Ana", "Ana"},
		{"  Ana \t Svensson  ", "Ana Svensson"},
		{"a\r\nb\rc\nd\u2028e\u0085f\x00g", "a b c d e f g"},
		{"a\xff\xfeb", "a\uFFFDb"},
		{strings.Repeat("x", 300), strings.Repeat("x", maxNameRunes-1) + "…"},
	} {
		if got := oneLine(tc.in, maxNameRunes); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if n := utf8.RuneCountInString(oneLine(tc.in, maxNameRunes)); n > maxNameRunes {
			t.Errorf("oneLine(%q): %d characters", tc.in, n)
		}
	}
}

func TestIDDomain(t *testing.T) {
	for in, want := range map[string]string{
		"chat.example.com": "chat.example.com",
		"10.0.0.7":         "10.0.0.7",
		"fd00::7":          "localhost",
		"my host":          "localhost",
		"a..b":             "localhost",
		"":                 "localhost",
	} {
		if got := idDomain(in); got != want {
			t.Errorf("idDomain(%q) = %q, want %q", in, got, want)
		}
	}
}
