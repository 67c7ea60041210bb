package transport

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/smtp"
	"github.com/parley-chat/parley/transport/smtp/smtptest"
)

// awayAllWeek is a schedule in which the team is never in today: it works
// only on the day after tomorrow, all day.
func awayAllWeek(now time.Time) map[string]any {
	day := strings.ToLower(now.UTC().Add(48 * time.Hour).Weekday().String()[:3])
	return map[string]any{"enabled": true, "time_zone": "UTC", "away_message": "We're away.",
		"weekly": map[string]any{day: [][]string{{"00:00", "24:00"}}}}
}

// S9, C3: outside office hours a shopper's message gets the away message,
// as a system message saying when the team is back, once per away period;
// welcome says the team is away, and when it is back.
func TestAwayMessageOncePerAwayPeriod(t *testing.T) {
	h := start(t, Config{})
	if code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"office_hours": awayAllWeek(time.Now())}); code != 200 {
		t.Fatalf("PUT office_hours: %d %v", code, body)
	}
	c, w := h.hello(token(t, "p-away", "Ada"))
	office := w["office"].(frame)
	if office["open"] != false || !strings.HasPrefix(office["message"].(string), "We're away. We're back ") {
		t.Fatalf("welcome.office %v", office)
	}
	startChat(t, c)
	c.send(frame{"type": "message.send", "client_id": "m1", "text": "Is anyone there?"})
	var ack, notice frame
	for ack == nil || notice == nil {
		switch f := c.read(); f["type"] {
		case "ack":
			ack = f
		case "event":
			if f["event"].(frame)["from"] == "system" {
				notice = f
			}
		case "error":
			t.Fatalf("error %v", f)
		}
	}
	ev := notice["event"].(frame)
	if num(notice["seq"]) != num(ack["seq"])+1 || ev["kind"] != "message" || !strings.HasPrefix(ev["text"].(string), "We're away. We're back ") {
		t.Fatalf("away notice %v after ack %v", notice, ack)
	}
	sendMessage(t, c, "m2", "Hello?")
	c.quiet(200 * time.Millisecond) // no second away message in the same period

	// The agents see it in the ticket's log, and the ticket's preview is the
	// customer's own last message.
	code, body, _ := h.do("GET", "/api/v1/tickets/"+ack["conversation"].(string), adminToken, nil)
	if code != 200 {
		t.Fatalf("GET ticket: %d", code)
	}
	if p := body["ticket"].(map[string]any)["preview"]; p != "Hello?" {
		t.Fatalf("preview %v", p)
	}
	var system int
	for _, e := range body["events"].([]any) {
		if e.(map[string]any)["event"].(map[string]any)["from"] == "system" {
			system++
		}
	}
	if system != 1 {
		t.Fatalf("%d system messages in the log, want 1", system)
	}
}

// H10: a customer who waits past waiting_alert_after raises an alert on the
// inbox stream, again at each interval while the wait goes on, and none once
// an agent has answered; each is counted.
func TestWaitingAlertsOnTheInboxStream(t *testing.T) {
	h := start(t, Config{})
	if code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"waiting_alert_after": "1s"}); code != 200 {
		t.Fatalf("PUT waiting_alert_after: %d %v", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream := openStream(t, h, ctx)
	c, _ := h.hello(token(t, "p-wait", "Ada"))
	conv := startChat(t, c)
	sent := time.Now()
	sendMessage(t, c, "m1", "Hello? Anyone?")

	alerts := func(n int) []alertJSON {
		t.Helper()
		var got []alertJSON
		for len(got) < n {
			event, data := stream.next(t)
			if event != "alert" {
				continue
			}
			var a alertJSON
			if err := json.Unmarshal([]byte(data), &a); err != nil {
				t.Fatalf("alert %q: %v", data, err)
			}
			got = append(got, a)
		}
		return got
	}
	got := alerts(2)
	if elapsed := time.Since(sent); elapsed < 2*time.Second {
		t.Fatalf("two alerts %v after the message; want one per second of waiting", elapsed)
	}
	for _, a := range got {
		if a.Ticket != conv || a.WaitingSince == nil {
			t.Fatalf("alert %+v", a)
		}
	}
	// (The actor counts an alert just after it publishes it.)
	for deadline := time.Now().Add(2 * time.Second); h.metric(t, "parley_waiting_alerts_total") < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("parley_waiting_alerts_total = %v after two alerts", h.metric(t, "parley_waiting_alerts_total"))
		}
	}

	// An answer ends the wait: no more alerts.
	if code, body, _ := h.do("POST", "/api/v1/tickets/"+conv+"/messages", adminToken, map[string]any{"client_id": "r1", "text": "Here!"}); code != 201 {
		t.Fatalf("reply: %d %v", code, body)
	}
	quiet, stop := context.WithTimeout(ctx, 2500*time.Millisecond)
	defer stop()
	go func() { <-quiet.Done(); cancel() }()
	for {
		event, _, ok := stream.nextOK()
		if !ok {
			break
		}
		if event == "alert" && quiet.Err() == nil {
			t.Fatal("an alert after the customer was answered")
		}
	}
}

// H9, C7: a new ticket sends one e-mail to the configured recipients through
// SMTP, with the customer and their first message; the next messages of the
// ticket send none.
func TestNewTicketEmail(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{})
	h := startWith(t, Config{}, actors.Config{Notifier: &smtp.Mailer{PublicURL: "https://chat.example.com"}})
	email := map[string]any{"email": map[string]any{"enabled": true, "to": []string{"team@example.com"},
		"from": "parley@example.com", "smtp": map[string]any{"addr": srv.Addr}}}
	if code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"notifications": email}); code != 200 {
		t.Fatalf("PUT notifications: %d %v", code, body)
	}
	c, _ := h.hello(tokenWith(t, engine.Visitor{ProfileID: "p-mail", Name: "Ada Lovelace", Email: "ada@example.com"}))
	conv := startChat(t, c)
	sendMessage(t, c, "m1", "My parcel never came.")
	sendMessage(t, c, "m2", "Order 1234.")

	ss := srv.Next(t)
	if ss.From != "parley@example.com" || len(ss.To) != 1 || ss.To[0] != "team@example.com" {
		t.Fatalf("envelope from %q to %v", ss.From, ss.To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(ss.Data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "New ticket from Ada Lovelace" {
		t.Fatalf("Subject %q", subject)
	}
	body := decodedBody(t, msg)
	for _, want := range []string{"Ada Lovelace", "ada@example.com", "My parcel never came.", "https://chat.example.com/inbox?ticket=" + conv} {
		if !strings.Contains(body, want) {
			t.Fatalf("the mail lacks %q:\n%s", want, body)
		}
	}
	srv.None(t) // one ticket, one mail
}

// metric reads the value of an unlabelled counter or gauge of the server.
func (h *harness) metric(t *testing.T, name string) float64 {
	t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			m := f.GetMetric()[0]
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// tokenWith mints an identity token for v.
func tokenWith(t *testing.T, v engine.Visitor) string {
	t.Helper()
	tok, err := identity.Mint(testSecret, v, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// nextOK is next for a stream that may end: false once it has.
func (s *sseStream) nextOK() (event, data string, ok bool) {
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		case line == "" && event != "":
			return event, data, true
		}
	}
	return "", "", false
}

// decodedBody is a mail's text body, its transfer encoding undone.
func decodedBody(t *testing.T, msg *mail.Message) string {
	t.Helper()
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
