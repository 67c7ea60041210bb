package transport

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/actors/outbox"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/webhook"
)

// receiver is a store's webhook endpoint: it verifies every delivery's
// signature with the secret it was given, and keeps what it accepted.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	secret string
	got    []delivery
	ids    map[string]int                    // webhook-id → times accepted
	fail   func(d delivery, attempt int) int // status to answer; 0: 204
	tries  map[string]int
	srv    *httptest.Server
}

type delivery struct {
	ID     string
	Type   string
	Ticket string
	Event  map[string]any
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, ids: map[string]int{}, tries: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := webhook.Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("delivery does not verify: %v", err)
			w.WriteHeader(400)
			return
		}
		var b struct {
			Type      string `json:"type"`
			Timestamp string `json:"timestamp"`
			Data      struct {
				Ticket map[string]any `json:"ticket"`
				Event  map[string]any `json:"event"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &b); err != nil || b.Timestamp == "" {
			t.Errorf("body %s: %v", body, err)
		}
		d := delivery{ID: req.Header.Get("webhook-id"), Type: b.Type, Event: b.Data.Event}
		if b.Data.Ticket != nil {
			d.Ticket, _ = b.Data.Ticket["id"].(string)
		}
		r.tries[d.ID]++
		if r.fail != nil {
			if code := r.fail(d, r.tries[d.ID]); code != 0 {
				w.WriteHeader(code)
				return
			}
		}
		r.ids[d.ID]++
		r.got = append(r.got, d)
		w.WriteHeader(204)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *receiver) waitFor(n int) []delivery {
	r.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got := r.deliveries(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d deliveries, want %d: %+v", len(r.deliveries()), n, r.deliveries())
		}
	}
}

func startHooks(t *testing.T, ocfg outbox.Config) *harness {
	return startWith(t, Config{WebhookAllowPrivate: true}, actors.Config{
		Webhooks: WebhookNotifier(&webhook.Sender{AllowPrivate: true}), Outbox: ocfg,
	})
}

// register registers rcv for events and gives it the secret.
func (h *harness) register(rcv *receiver, events ...string) string {
	h.t.Helper()
	code, body, _ := h.do("POST", "/api/v1/webhooks", adminToken, map[string]any{"url": rcv.srv.URL + "/hook", "events": events})
	if code != 201 {
		h.t.Fatalf("POST webhook: %d %v", code, body)
	}
	secret, _ := body["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || body["id"] == "" {
		h.t.Fatalf("created %v", body)
	}
	rcv.mu.Lock()
	rcv.secret = secret
	rcv.mu.Unlock()
	return body["id"].(string)
}

// I3: a ticket's story reaches the endpoint signed, in order, each
// notice once: created, the customer's message, the agent's answer and
// the assignment it made, the close.
func TestWebhooksTellATicketsStoryInOrder(t *testing.T) {
	rcv := newReceiver(t)
	// The first attempt of every delivery fails: order must hold across
	// retries.
	rcv.fail = func(_ delivery, attempt int) int {
		if attempt == 1 {
			return 500
		}
		return 0
	}
	h := startHooks(t, outbox.Config{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	id := h.register(rcv, "ticket.created", "message.created", "ticket.assigned", "ticket.closed", "handoff")

	code, body, _ := h.do("GET", "/api/v1/webhooks", adminToken, nil)
	if code != 200 || strings.Contains(toJSON(body), "whsec_") {
		t.Fatalf("the list shows %d %v; a secret is shown only once", code, body)
	}

	c, _ := h.hello(token(t, "p-hook", "Ada"))
	conv := startChat(t, c)
	sendMessage(t, c, "m1", "Where is my order?")
	if code, body, _ := h.do("POST", "/api/v1/tickets/"+conv+"/messages", adminToken, map[string]any{"client_id": "r1", "text": "On its way!"}); code != 201 {
		t.Fatalf("reply: %d %v", code, body)
	}
	if code, body, _ := h.do("POST", "/api/v1/tickets/"+conv+"/close", adminToken, nil); code != 200 {
		t.Fatalf("close: %d %v", code, body)
	}
	got := rcv.waitFor(5)
	var types []string
	for _, d := range got {
		types = append(types, d.Type)
		if d.Ticket != conv {
			t.Fatalf("delivery %+v is not of ticket %s", d, conv)
		}
	}
	want := []string{"ticket.created", "message.created", "message.created", "ticket.assigned", "ticket.closed"}
	if !slices.Equal(types, want) {
		t.Fatalf("delivered %q, want %q", types, want)
	}
	if got[1].Event["event"].(map[string]any)["text"] != "Where is my order?" || got[2].Event["event"].(map[string]any)["from"] != "agent" {
		t.Fatalf("message events %+v, %+v", got[1].Event, got[2].Event)
	}
	time.Sleep(300 * time.Millisecond) // no late repeats
	rcv.mu.Lock()
	for wid, n := range rcv.ids {
		if n != 1 {
			t.Errorf("webhook-id %s accepted %d times", wid, n)
		}
	}
	rcv.mu.Unlock()

	code, body, _ = h.do("GET", "/api/v1/webhooks/"+id, adminToken, nil)
	if code != 200 || num(body["pending"]) != 0 || num(body["failed"]) != 0 {
		t.Fatalf("GET webhook: %d %v", code, body)
	}
	if code, _, _ := h.do("DELETE", "/api/v1/webhooks/"+id, adminToken, nil); code != 204 {
		t.Fatalf("DELETE: %d", code)
	}
	if code, _, _ := h.do("GET", "/api/v1/webhooks/"+id, adminToken, nil); code != 404 {
		t.Fatalf("GET deleted: %d", code)
	}
}

// I3: an endpoint that never answers holds up no chat, and one that keeps
// failing is marked failed, with its last error, once the retries are
// over.
func TestWebhookThatFailsIsVisibleAndSlowsNothing(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)
	failing := newReceiver(t)
	failing.fail = func(delivery, int) int { return 503 }
	h := startHooks(t, outbox.Config{MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		GiveUpAfter: time.Second, AttemptTimeout: 500 * time.Millisecond})
	code, body, _ := h.do("POST", "/api/v1/webhooks", adminToken, map[string]any{"url": slow.URL, "events": []string{"message.created"}})
	if code != 201 {
		t.Fatalf("POST: %d %v", code, body)
	}
	id := h.register(failing, "message.created")

	c, _ := h.hello(token(t, "p-slow", "Bo"))
	startChat(t, c)
	for i := range 5 {
		sendMessage(t, c, "m"+string(rune('0'+i)), "message") // each acknowledged while the endpoint hangs
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, body, _ = h.do("GET", "/api/v1/webhooks/"+id, adminToken, nil)
		if code == 200 && num(body["failed"]) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET webhook: %d %v", code, body)
		}
	}
	// The first was retried until the give-up age; the ones behind it in
	// the ticket's order had their turn after it, each tried at least once.
	retried := false
	for _, x := range body["deliveries"].([]any) {
		d := x.(map[string]any)
		if d["type"] != "message.created" || !strings.Contains(d["last_error"].(string), "503") || num(d["attempts"]) < 1 {
			t.Fatalf("failed delivery %v", d)
		}
		retried = retried || num(d["attempts"]) >= 2
	}
	if !retried {
		t.Fatalf("no delivery was retried: %v", body["deliveries"])
	}
}

// I3: webhook URLs are checked: http(s), known events, and by default no
// loopback, private or link-local address; nothing is stored when refused.
func TestWebhookURLsAreChecked(t *testing.T) {
	h := startWith(t, Config{}, actors.Config{Webhooks: WebhookNotifier(&webhook.Sender{})})
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"ticket.created"}}, "url"},
		{map[string]any{"url": "http://localhost/hook", "events": []string{"ticket.created"}}, "url"},
		{map[string]any{"url": "http://10.1.2.3/hook", "events": []string{"ticket.created"}}, "url"},
		{map[string]any{"url": "http://169.254.169.254/latest/meta-data", "events": []string{"ticket.created"}}, "url"},
		{map[string]any{"url": "http://[::1]/hook", "events": []string{"ticket.created"}}, "url"},
		{map[string]any{"url": "ftp://example.com/hook", "events": []string{"ticket.created"}}, "url"},
		{map[string]any{"url": "https://93.184.215.14/hook", "events": []string{}}, "events"},
		{map[string]any{"url": "https://93.184.215.14/hook", "events": []string{"ticket.reopened"}}, "events"},
	} {
		code, body, _ := h.do("POST", "/api/v1/webhooks", adminToken, tc.body)
		if c, field := errCode(body); code != 400 || c != "invalid" || field != tc.field {
			t.Errorf("POST %v: %d %v, want 400 naming %s", tc.body, code, body, tc.field)
		}
	}
	code, body, _ := h.do("GET", "/api/v1/webhooks", adminToken, nil)
	if code != 200 || len(body["webhooks"].([]any)) != 0 {
		t.Fatalf("after refusals: %d %v", code, body)
	}
	code, body, _ = h.do("POST", "/api/v1/webhooks", adminToken, map[string]any{"url": "https://93.184.215.14/hook", "events": []string{"handoff"}})
	if code != 201 {
		t.Fatalf("a public address: %d %v", code, body)
	}
	// An agent may not see or change them.
	agent := h.agentToken(engine.RoleAgent)
	if code, _, _ := h.do("GET", "/api/v1/webhooks", agent, nil); code != 403 {
		t.Fatalf("agent GET: %d", code)
	}
}
