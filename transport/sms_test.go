package transport

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/transport/twilio"
)

const (
	smsAccount = "AC0123456789abcdef0123456789abcdef"
	smsToken   = "sms-auth-token-0123456789"
	smsFrom    = "+46101234567"
	customer   = "+46701234567"
)

// fakeTwilio stands in for Twilio's Messages API: it checks each request
// and answers with the status the test gives it.
type fakeTwilio struct {
	t      *testing.T
	mu     sync.Mutex
	sent   []url.Values
	answer func(n int) (int, string) // status and body of the nth send
	srv    *httptest.Server
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{t: t, answer: func(n int) (int, string) {
		return 201, `{"sid":"SM` + strings.Repeat("0", 31) + string(rune('a'+n)) + `","status":"queued"}`
	}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+smsAccount+"/Messages.json":
			t.Errorf("Twilio got %s %s", r.Method, r.URL.Path)
		case !ok || user != smsAccount || pass != smsToken:
			t.Errorf("Twilio got basic auth %q %q %v", user, pass, ok)
		case r.Header.Get("Content-Type") != "application/x-www-form-urlencoded":
			t.Errorf("Twilio got content type %q", r.Header.Get("Content-Type"))
		}
		_ = r.ParseForm()
		f.mu.Lock()
		f.sent = append(f.sent, r.PostForm)
		n := len(f.sent) - 1
		f.mu.Unlock()
		code, body := f.answer(n)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) sends() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.sent...)
}

// startSMS is a server with the SMS channel on, texting through fake.
func startSMS(t *testing.T, fake *fakeTwilio) *harness {
	t.Helper()
	return startSMSWith(t, fake, Config{})
}

// startSMSWith is startSMS with the transport configured by cfg.
func startSMSWith(t *testing.T, fake *fakeTwilio, cfg Config) *harness {
	t.Helper()
	// No public URL: the reports' address is learnt from the inbound texts.
	cb := NewSMSCallbacks(cfg.PublicURL)
	cfg.SMSCallbacks = cb
	h := startWith(t, cfg, actors.Config{SMS: &twilio.Client{}, SMSCallback: cb.URL})
	code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"sms": map[string]any{
		"enabled": true, "provider": "twilio", "account_sid": smsAccount, "auth_token": smsToken,
		"from": "+46 10-123 45 67", "base_url": fake.srv.URL,
	}})
	if code != 200 {
		t.Fatalf("PUT sms settings: %d %v", code, body)
	}
	if from := body["sms"].(map[string]any)["from"]; from != smsFrom {
		t.Fatalf("the store's number is kept as %v, want %s", from, smsFrom)
	}
	if tok := body["sms"].(map[string]any)["auth_token"]; tok != mask {
		t.Fatalf("GET shows the auth token as %v", tok)
	}
	return h
}

// provider posts a form to one of the provider's webhooks, signed with
// token (empty: unsigned), and returns the status.
func (h *harness) provider(path string, form url.Values, token string) int {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("X-Twilio-Signature", twilio.Signature(token, h.ts.URL+path, form))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

func inboundText(sid, text string) url.Values {
	return url.Values{"From": {customer}, "To": {smsFrom}, "Body": {text}, "MessageSid": {sid},
		"AccountSid": {smsAccount}, "NumMedia": {"0"}}
}

// smsTicket is the one open SMS ticket's id, or "" when there is none.
func (h *harness) smsTicket() string {
	h.t.Helper()
	code, body, _ := h.do("GET", "/api/v1/tickets?channel=sms", adminToken, nil)
	if code != 200 {
		h.t.Fatalf("list: %d %v", code, body)
	}
	list := body["tickets"].([]any)
	switch len(list) {
	case 0:
		return ""
	case 1:
		return list[0].(map[string]any)["id"].(string)
	}
	h.t.Fatalf("%d SMS tickets, want one: %v", len(list), list)
	return ""
}

// events is a ticket's log, as the inbox reads it.
func (h *harness) events(id string) []map[string]any {
	h.t.Helper()
	code, body, _ := h.do("GET", "/api/v1/tickets/"+id, adminToken, nil)
	if code != 200 {
		h.t.Fatalf("GET ticket: %d %v", code, body)
	}
	var out []map[string]any
	for _, e := range body["events"].([]any) {
		ev := e.(map[string]any)["event"].(map[string]any)
		ev["seq"] = e.(map[string]any)["seq"]
		out = append(out, ev)
	}
	return out
}

// waitDelivery waits for a delivery report of message seq with status.
func (h *harness) waitDelivery(id string, seq uint64, status string) map[string]any {
	h.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body, _ := h.do("GET", "/api/v1/tickets/"+id, adminToken, nil)
		if code != 200 {
			h.t.Fatalf("GET ticket: %d %v", code, body)
		}
		for _, x := range body["deliveries"].([]any) {
			if d := x.(map[string]any); num(d["message"]) == seq && d["status"] == status {
				return d
			}
		}
		for _, e := range h.events(id) { // agents alone see reports: never in the conversation's log
			if e["kind"] == "delivery" {
				h.t.Fatalf("a delivery report in the conversation log: %v", e)
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no %q delivery report of message %d: %v", status, seq, body["deliveries"])
		}
	}
}

// I2, H1, H8: a text to the store's number opens an SMS ticket for the
// number's profile; a repeat of the same text is stored once, the next text
// joins the ticket; an agent's answer goes out through the provider to the
// customer's number and shows the provider's delivery reports.
func TestSMSInAndOut(t *testing.T) {
	fake := newFakeTwilio(t)
	h := startSMS(t, fake)

	// Unsigned, wrongly signed: 403, nothing stored.
	if code := h.provider(smsInboundPath, inboundText("SM1", "Hi"), ""); code != 403 {
		t.Fatalf("unsigned inbound: %d, want 403", code)
	}
	if code := h.provider(smsInboundPath, inboundText("SM1", "Hi"), "not-the-token"); code != 403 {
		t.Fatalf("wrongly signed inbound: %d, want 403", code)
	}
	if id := h.smsTicket(); id != "" {
		t.Fatalf("a refused webhook made ticket %s", id)
	}
	if n := h.metric(t, "parley_sms_webhooks_refused_total"); n != 2 {
		t.Fatalf("refused webhooks counted %v, want 2", n)
	}

	for _, in := range []url.Values{inboundText("SM1", "Where is my order?"), inboundText("SM1", "Where is my order?"),
		inboundText("SM2", "It's order 1042.")} {
		if code := h.provider(smsInboundPath, in, smsToken); code != 200 {
			t.Fatalf("inbound %v: %d", in, code)
		}
	}
	id := h.smsTicket()
	if id == "" {
		t.Fatal("no SMS ticket")
	}
	if n := h.metricWith(t, "parley_messages_total", map[string]string{"channel": "sms", "direction": "in"}); n != 2 {
		t.Fatalf("SMS messages in counted %v, want 2 (a repeat is not a message)", n)
	}
	code, body, _ := h.do("GET", "/api/v1/tickets/"+id, adminToken, nil)
	row := body["ticket"].(map[string]any)
	if code != 200 || row["channel"] != "sms" || row["profile"].(map[string]any)["name"] != customer || row["preview"] != "It's order 1042." {
		t.Fatalf("ticket %d %v", code, row)
	}
	var texts []string
	for _, e := range h.events(id) {
		if e["kind"] == "message" {
			texts = append(texts, e["text"].(string))
		}
	}
	if strings.Join(texts, "|") != "Where is my order?|It's order 1042." {
		t.Fatalf("messages %q: the repeated text must be stored once", texts)
	}

	code, body, _ = h.do("POST", "/api/v1/tickets/"+id+"/messages", adminToken, map[string]any{"client_id": "r1", "text": "It ships today."})
	if code != 201 {
		t.Fatalf("reply: %d %v", code, body)
	}
	seq := num(body["seq"])
	h.waitDelivery(id, seq, "queued")
	sent := fake.sends()
	if len(sent) != 1 {
		t.Fatalf("Twilio got %d sends, want 1", len(sent))
	}
	s := sent[0]
	if s.Get("To") != customer || s.Get("From") != smsFrom || s.Get("Body") != "It ships today." {
		t.Fatalf("sent %v", s)
	}
	callback := s.Get("StatusCallback")
	cu, err := url.Parse(callback)
	if err != nil || !strings.HasPrefix(callback, h.ts.URL+smsStatusPath+"?") {
		t.Fatalf("StatusCallback %q", callback)
	}

	// The provider reports; the report is signed over the callback URL.
	status := url.Values{"MessageSid": {"SM" + strings.Repeat("0", 31) + "a"}, "MessageStatus": {"delivered"}, "AccountSid": {smsAccount}}
	if code := h.provider(cu.RequestURI(), status, "wrong"); code != 403 {
		t.Fatalf("wrongly signed status: %d", code)
	}
	if code := h.provider(cu.RequestURI(), status, smsToken); code != 204 {
		t.Fatalf("status callback: %d", code)
	}
	h.waitDelivery(id, seq, "delivered")
}

// I2: STOP stops texts to the number — an agent's answer is refused, naming
// why — and START allows them again; the agents see both in the ticket.
func TestSMSStopAndStart(t *testing.T) {
	fake := newFakeTwilio(t)
	h := startSMS(t, fake)
	if code := h.provider(smsInboundPath, inboundText("SM1", "Stop"), smsToken); code != 200 {
		t.Fatalf("inbound: %d", code)
	}
	id := h.smsTicket()
	code, body, _ := h.do("POST", "/api/v1/tickets/"+id+"/messages", adminToken, map[string]any{"client_id": "r1", "text": "Sorry to see you go"})
	if c, _ := errCode(body); code != 409 || c != "conflict" || !strings.Contains(toJSON(body), "STOP") {
		t.Fatalf("reply to an opted-out number: %d %v", code, body)
	}
	if code := h.provider(smsInboundPath, inboundText("SM2", "START"), smsToken); code != 200 {
		t.Fatalf("inbound: %d", code)
	}
	var notes []string
	for _, e := range h.events(id) {
		if e["kind"] == "message" && e["from"] == "system" {
			notes = append(notes, e["text"].(string))
		}
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "STOP") || !strings.Contains(notes[1], "START") {
		t.Fatalf("notes %q", notes)
	}
	code, body, _ = h.do("POST", "/api/v1/tickets/"+id+"/messages", adminToken, map[string]any{"client_id": "r2", "text": "Welcome back"})
	if code != 201 {
		t.Fatalf("reply after START: %d %v", code, body)
	}
	h.waitDelivery(id, num(body["seq"]), "queued")
	if n := len(fake.sends()); n != 1 {
		t.Fatalf("Twilio got %d sends, want 1 (none while opted out)", n)
	}
}

// I2: an answer the provider refuses for good is marked failed on the
// message with the provider's own reason, and not retried; one that
// failed for a while is retried until it goes.
func TestSMSFailureShowsOnTheMessage(t *testing.T) {
	fake := newFakeTwilio(t)
	fake.answer = func(n int) (int, string) {
		switch n {
		case 0:
			return 400, `{"code":21211,"message":"The 'To' number +46701234567 is not a valid phone number.","status":400}`
		case 1:
			return 503, `{"code":20503,"message":"Service unavailable","status":503}`
		}
		return 201, `{"sid":"SM00000000000000000000000000000002","status":"queued"}`
	}
	h := startSMS(t, fake)
	if code := h.provider(smsInboundPath, inboundText("SM1", "Hello"), smsToken); code != 200 {
		t.Fatalf("inbound: %d", code)
	}
	id := h.smsTicket()
	_, body, _ := h.do("POST", "/api/v1/tickets/"+id+"/messages", adminToken, map[string]any{"client_id": "r1", "text": "Hi!"})
	failed := h.waitDelivery(id, num(body["seq"]), "failed")
	if e, _ := failed["error"].(string); !strings.Contains(e, "21211") {
		t.Fatalf("failure %v: want Twilio's code", failed)
	}
	_, body, _ = h.do("POST", "/api/v1/tickets/"+id+"/messages", adminToken, map[string]any{"client_id": "r2", "text": "Again"})
	h.waitDelivery(id, num(body["seq"]), "queued")
	if n := len(fake.sends()); n != 3 {
		t.Fatalf("Twilio got %d sends, want 3 (one refused, one retried)", n)
	}
	// The SMS limit is the provider's: 1,600 characters.
	code, body, _ := h.do("POST", "/api/v1/tickets/"+id+"/messages", adminToken, map[string]any{"client_id": "r3", "text": strings.Repeat("a", 1601)})
	if c, field := errCode(body); code != 400 || c != "invalid" || field != "text" {
		t.Fatalf("a 1,601-character SMS: %d %v", code, body)
	}
}

// S9, I2: outside office hours a text gets the away notice as a text, once
// per away period, from the outbox; a number that texted STOP gets none.
func TestSMSAwayNoticeIsTexted(t *testing.T) {
	fake := newFakeTwilio(t)
	h := startSMS(t, fake)
	if code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"office_hours": awayAllWeek(time.Now())}); code != 200 {
		t.Fatalf("PUT office_hours: %d %v", code, body)
	}
	for _, sid := range []string{"SM1", "SM2"} {
		if code := h.provider(smsInboundPath, inboundText(sid, "Anyone there?"), smsToken); code != 200 {
			t.Fatalf("inbound: %d", code)
		}
	}
	id := h.smsTicket()
	var notice uint64
	for _, e := range h.events(id) {
		if e["kind"] == "message" && e["from"] == "system" {
			notice = num(e["seq"])
		}
	}
	if notice == 0 {
		t.Fatalf("no away notice: %v", h.events(id))
	}
	h.waitDelivery(id, notice, "queued")
	sent := fake.sends()
	if len(sent) != 1 || sent[0].Get("To") != customer || !strings.HasPrefix(sent[0].Get("Body"), "We're away. We're back ") {
		t.Fatalf("texted %v, want the away notice once", sent)
	}

	// Another number that opted out first gets no notice, in a new period.
	other := func(sid, text string) url.Values {
		v := inboundText(sid, text)
		v.Set("From", "+46709999999")
		return v
	}
	for _, in := range []url.Values{other("SM3", "STOP"), other("SM4", "Hello?")} {
		if code := h.provider(smsInboundPath, in, smsToken); code != 200 {
			t.Fatalf("inbound: %d", code)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(fake.sends()); n != 1 {
		t.Fatalf("Twilio got %d sends; an opted-out number must get no away notice", n)
	}
}

// The delivery reports' URL is on the public URL when the server has one;
// without, on the address the provider reached the server at, learnt from
// the latest inbound text that verified; before any, there is none.
func TestSMSCallbacks(t *testing.T) {
	public := NewSMSCallbacks("https://chat.example.com/")
	public.learn("http://10.0.0.5:8080")
	if got := public.URL("c1", 7); got != "https://chat.example.com"+smsStatusPath+"?conversation=c1&seq=7" {
		t.Errorf("with a public URL: %q", got)
	}
	learnt := NewSMSCallbacks("")
	if got := learnt.URL("c1", 7); got != "" {
		t.Errorf("before any inbound text: %q", got)
	}
	learnt.learn("https://sms.example.com")
	if got := learnt.URL("c1", 7); got != "https://sms.example.com"+smsStatusPath+"?conversation=c1&seq=7" {
		t.Errorf("learnt: %q", got)
	}
}
