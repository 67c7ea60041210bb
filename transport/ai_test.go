package transport

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/gorgias"
	"github.com/parley-chat/parley/transport/llm"
	"github.com/parley-chat/parley/transport/zendesk"
)

// The AI agent (S10, C4, C6) seen as a shopper and an agent see it, with
// the model, Zendesk and Gorgias played by HTTP servers that check what
// they are sent.

// api is an HTTP server standing in for another system's API: it keeps
// every request and answers each with reply.
type api struct {
	srv   *httptest.Server
	mu    sync.Mutex
	got   []apiRequest
	reply func(n int, r apiRequest) (status int, body string)
}

type apiRequest struct {
	Method, Path string
	Header       http.Header
	Body         map[string]any
}

func newAPI(t *testing.T, reply func(n int, r apiRequest) (int, string)) *api {
	a := &api{reply: reply}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		req := apiRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if err := json.Unmarshal(data, &req.Body); err != nil {
			t.Errorf("%s %s: the body is not JSON: %q", r.Method, r.URL.Path, data)
		}
		a.mu.Lock()
		a.got = append(a.got, req)
		n := len(a.got)
		a.mu.Unlock()
		status, body := a.reply(n, req)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *api) requests() []apiRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]apiRequest(nil), a.got...)
}

// completion is a Chat Completions answer saying text.
func completion(text string) string {
	b, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}}})
	return string(b)
}

// startAI starts a server whose AI agent uses clients of the real model,
// Zendesk and Gorgias adapters, with the AI settings ai.
func startAI(t *testing.T, ai map[string]any) *harness {
	t.Helper()
	h := startWith(t, Config{}, actors.Config{AnswerWithin: 3 * time.Second, Model: &llm.Client{},
		Handoffs: map[string]engine.HandoffTarget{engine.HandoffZendesk: &zendesk.Client{}, engine.HandoffGorgias: &gorgias.Client{}}})
	if code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"ai": ai}); code != http.StatusOK {
		t.Fatalf("PUT ai: %d %v", code, body)
	}
	return h
}

var shopperAda = engine.Visitor{ProfileID: "p-ada", Name: "Ada Lovelace", Email: "ada@example.com"}

// nextMessage reads the shopper's events up to the next message from
// from, and returns it with the kinds of the events before it.
func nextMessage(t *testing.T, c *client, from string) (msg frame, before []string) {
	t.Helper()
	for {
		f := c.readType("event")
		ev := f["event"].(frame)
		if ev["kind"] == "message" && ev["from"] == from {
			return f, before
		}
		before = append(before, ev["kind"].(string)+"/"+str(ev["from"])+str(ev["target"]))
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// handoffTo reads the shopper's events up to a handoff, and the system's
// notice that follows it.
func handoffTo(t *testing.T, c *client) (target, notice string) {
	t.Helper()
	for {
		ev := c.readType("event")["event"].(frame)
		switch {
		case ev["kind"] == "handoff":
			target = ev["target"].(string)
		case ev["kind"] == "message" && ev["from"] == "ai":
			t.Fatalf("the AI answered %q where it should hand off", ev["text"])
		case target != "" && ev["kind"] == "message" && ev["from"] == "system":
			return target, ev["text"].(string)
		}
	}
}

// S10, C4: with the AI agent on and no model, the built-in retrieval
// answers from the store's FAQs, as "ai"; the conversation is no ticket
// while it does, and the away message is not sent; asking for a person
// hands it to the Helpdesk at once, with the whole transcript, and an
// agent's reply reaches the shopper.
func TestAIAnswersFromTheFAQsThenHandsOffToAPerson(t *testing.T) {
	h := startAI(t, map[string]any{"enabled": true, "handoff": "helpdesk", "min_confidence": 0.5})
	if code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"office_hours": awayAllWeek(time.Now())}); code != 200 {
		t.Fatalf("PUT office hours: %d %v", code, body)
	}
	c, _ := h.hello(tokenWith(t, shopperAda))
	conv := startChat(t, c)
	sendMessage(t, c, "m1", "How do I return an item?")
	got, before := nextMessage(t, c, "ai")
	ev := got["event"].(frame)
	if ev["author"] != "AI assistant" || !strings.HasPrefix(ev["text"].(string), "Returns are free within 30 days.") {
		t.Fatalf("the AI answered %v", ev)
	}
	if len(before) != 0 {
		t.Fatalf("events before the answer: %v (no away message while the AI answers)", before)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets/"+conv, adminToken, nil); code != http.StatusNotFound {
		t.Fatalf("GET the ticket of a conversation the AI answers: %d, want 404", code)
	}
	if n := h.metric(t, "parley_ai_answers_total"); n != 1 {
		t.Fatalf("parley_ai_answers_total %v", n)
	}

	sendMessage(t, c, "m2", "Kan jag prata med en människa?")
	if target, notice := handoffTo(t, c); target != "helpdesk" || !strings.Contains(notice, "a person will answer") {
		t.Fatalf("handoff %q %q", target, notice)
	}
	code, ticket, _ := h.do("GET", "/api/v1/tickets/"+conv, adminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("GET the handed-off ticket: %d %v", code, ticket)
	}
	var texts []string
	for _, e := range ticket["events"].([]any) {
		if ev := e.(map[string]any)["event"].(map[string]any); ev["kind"] == "message" {
			texts = append(texts, ev["from"].(string)+": "+ev["text"].(string))
		}
	}
	if len(texts) != 4 || texts[0] != "shopper: How do I return an item?" || !strings.HasPrefix(texts[1], "ai: Returns are free") ||
		texts[2] != "shopper: Kan jag prata med en människa?" || !strings.HasPrefix(texts[3], "system: ") {
		t.Fatalf("the ticket's transcript: %q", texts)
	}
	if code, body, _ := h.do("POST", "/api/v1/tickets/"+conv+"/messages", adminToken, map[string]any{"text": "Hi Ada, Sam here.", "client_id": "r1"}); code != http.StatusCreated {
		t.Fatalf("reply: %d %v", code, body)
	}
	if reply, _ := nextMessage(t, c, "agent"); reply["event"].(frame)["text"] != "Hi Ada, Sam here." {
		t.Fatalf("reply %v", reply)
	}
	if n := h.metricWith(t, "parley_handoffs_total", map[string]string{"target": "helpdesk", "outcome": "requested"}); n != 1 {
		t.Fatalf("helpdesk handoffs %v", n)
	}
}

// S10: a question the store's knowledge does not answer is handed off as
// configured; with "message" the shopper gets the store's message, no
// ticket is made, and the AI answers the next question.
func TestAIHandsOffWhatItCannotAnswer(t *testing.T) {
	h := startAI(t, map[string]any{"enabled": true, "handoff": "message", "min_confidence": 0.5,
		"handoff_message": "I can't help with that. Please e-mail help@example.com."})
	c, _ := h.hello(tokenWith(t, shopperAda))
	conv := startChat(t, c)
	sendMessage(t, c, "m1", "My sofa came with a broken leg. What now?")
	if target, notice := handoffTo(t, c); target != "message" || notice != "I can't help with that. Please e-mail help@example.com." {
		t.Fatalf("handoff %q %q", target, notice)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets/"+conv, adminToken, nil); code != http.StatusNotFound {
		t.Fatalf("GET a ticket after a message handoff: %d, want 404", code)
	}
	sendMessage(t, c, "m2", "Which payment methods do you accept?")
	if got, _ := nextMessage(t, c, "ai"); !strings.HasPrefix(got["event"].(frame)["text"].(string), "Card, invoice and instalments") {
		t.Fatalf("the AI answered %v", got)
	}
}

// S10, C6: with a model configured, its answer (grounded in the articles
// retrieval finds) is what the shopper reads; a model that is briefly
// unavailable is asked again; "[HANDOFF]" hands the conversation off.
func TestAIAnswersWithTheModel(t *testing.T) {
	model := newAPI(t, func(n int, r apiRequest) (int, string) {
		msgs, _ := r.Body["messages"].([]any)
		last, _ := msgs[len(msgs)-1].(map[string]any)
		switch q, _ := last["content"].(string); {
		case n == 1:
			return http.StatusServiceUnavailable, `{"error":{"message":"overloaded"}}`
		case strings.Contains(q, "return"):
			return http.StatusOK, completion("You can send it back for free within 30 days.")
		default:
			return http.StatusOK, completion("[HANDOFF]")
		}
	})
	h := startAI(t, map[string]any{"enabled": true, "handoff": "helpdesk", "min_confidence": 0.6,
		"llm": map[string]any{"base_url": model.srv.URL + "/v1", "model": "gpt-test", "api_key": "sk-test"}})
	c, _ := h.hello(tokenWith(t, shopperAda))
	conv := startChat(t, c)
	sendMessage(t, c, "m1", "Can I return a lamp I bought?")
	if got, _ := nextMessage(t, c, "ai"); got["event"].(frame)["text"] != "You can send it back for free within 30 days." {
		t.Fatalf("the AI answered %v", got)
	}
	reqs := model.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests to the model, want 2 (one refused with 503, then asked again)", len(reqs))
	}
	r := reqs[1]
	if r.Method != "POST" || r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" || r.Body["model"] != "gpt-test" {
		t.Fatalf("request %s %s auth %q model %v", r.Method, r.Path, r.Header.Get("Authorization"), r.Body["model"])
	}
	if body := toJSON(r.Body); !strings.Contains(body, "Returns are free within 30 days") || !strings.Contains(body, "Can I return a lamp I bought?") {
		t.Fatalf("the model was not given the question and the store's article: %s", body)
	}

	sendMessage(t, c, "m2", "Do you sell gift cards?")
	if target, _ := handoffTo(t, c); target != "helpdesk" {
		t.Fatalf("handoff to %q", target)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets/"+conv, adminToken, nil); code != http.StatusOK {
		t.Fatalf("GET the handed-off ticket: %d", code)
	}
}

// S10: a model that refuses the key cannot be asked again: the
// conversation goes to people at once rather than after the time allowed.
func TestAIWithAModelThatRefusesHandsOffAtOnce(t *testing.T) {
	model := newAPI(t, func(int, apiRequest) (int, string) {
		return http.StatusUnauthorized, `{"error":{"message":"Incorrect API key provided"}}`
	})
	h := startAI(t, map[string]any{"enabled": true, "handoff": "helpdesk", "min_confidence": 0.6,
		"llm": map[string]any{"base_url": model.srv.URL + "/v1", "model": "gpt-test", "api_key": "sk-wrong"}})
	c, _ := h.hello(tokenWith(t, shopperAda))
	startChat(t, c)
	sendMessage(t, c, "m1", "Where is my order?")
	asked := time.Now()
	if target, _ := handoffTo(t, c); target != "helpdesk" {
		t.Fatalf("handoff to %q", target)
	}
	if took := time.Since(asked); took > 2*time.Second {
		t.Fatalf("handed off after %v", took)
	}
	if n := len(model.requests()); n != 1 {
		t.Fatalf("%d requests with a refused key", n)
	}
}

// S10, C6: a handoff to Zendesk creates their ticket with the shopper and
// the transcript, makes no Parley ticket, tells the shopper where the answer
// will come, and ends the chat; a Zendesk that refuses the ticket for good makes the conversation a
// Helpdesk ticket instead, and the shopper is told.
func TestAIHandsOffToZendesk(t *testing.T) {
	var refuse bool
	var mu sync.Mutex
	zd := newAPI(t, func(int, apiRequest) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			return http.StatusUnprocessableEntity, `{"error":"RecordInvalid","description":"Record validation errors"}`
		}
		return http.StatusCreated, `{"ticket":{"id":35436,"status":"new"}}`
	})
	h := startAI(t, map[string]any{"enabled": true, "handoff": "zendesk", "min_confidence": 0.6,
		"zendesk": map[string]any{"base_url": zd.srv.URL, "email": "admin@acme.com", "api_token": "zd-token"}})
	c, _ := h.hello(tokenWith(t, shopperAda))
	conv := startChat(t, c)
	sendMessage(t, c, "m1", "I need to talk to a human about my invoice.")
	target, notice := handoffTo(t, c)
	if target != "zendesk" || !strings.Contains(notice, "our team") {
		t.Fatalf("handoff %q %q", target, notice)
	}
	if told := c.readType("event")["event"].(frame); told["from"] != "system" || told["text"] != "Our team has your conversation and will answer you by e-mail at ada@example.com." {
		t.Fatalf("once Zendesk has the ticket the shopper reads %v", told)
	}
	if ended := c.readType("event")["event"].(frame); ended["kind"] != "ended" || ended["by"] != "system" {
		t.Fatalf("after the Zendesk ticket: %v, want the chat ended by the system", ended)
	}
	reqs := zd.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests to Zendesk", len(reqs))
	}
	r := reqs[0]
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@acme.com/token:zd-token"))
	if r.Method != "POST" || r.Path != "/api/v2/tickets.json" || r.Header.Get("Authorization") != wantAuth || r.Header.Get("Idempotency-Key") == "" {
		t.Fatalf("request %s %s auth %q key %q", r.Method, r.Path, r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key"))
	}
	ticket, _ := r.Body["ticket"].(map[string]any)
	requester, _ := ticket["requester"].(map[string]any)
	comment, _ := ticket["comment"].(map[string]any)
	if requester["email"] != "ada@example.com" || requester["name"] != "Ada Lovelace" || ticket["external_id"] != conv ||
		!strings.Contains(str(comment["body"]), "I need to talk to a human about my invoice.") {
		t.Fatalf("the Zendesk ticket: %s", toJSON(r.Body))
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets/"+conv, adminToken, nil); code != http.StatusNotFound {
		t.Fatalf("GET a ticket handed to Zendesk: %d, want 404", code)
	}
	if n := h.metricWith(t, "parley_handoffs_total", map[string]string{"target": "zendesk", "outcome": "created"}); n != 1 {
		t.Fatalf("zendesk handoffs created %v", n)
	}

	// Zendesk refuses: the next shopper's chat falls back to the Helpdesk.
	mu.Lock()
	refuse = true
	mu.Unlock()
	c2, _ := h.hello(tokenWith(t, engine.Visitor{ProfileID: "p-bo", Name: "Bo Ek", Email: "bo@example.com"}))
	conv2 := startChat(t, c2)
	sendMessage(t, c2, "m1", "Can I speak to someone?")
	if target, _ := handoffTo(t, c2); target != "zendesk" {
		t.Fatalf("first handoff to %q", target)
	}
	if target, notice := handoffTo(t, c2); target != "helpdesk" || !strings.Contains(notice, "could not be reached") {
		t.Fatalf("fallback %q %q", target, notice)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets/"+conv2, adminToken, nil); code != http.StatusOK {
		t.Fatalf("GET the fallback ticket: %d", code)
	}
	if n := h.metricWith(t, "parley_handoffs_total", map[string]string{"target": "zendesk", "outcome": "failed"}); n != 1 {
		t.Fatalf("zendesk handoffs failed %v", n)
	}
}

// S10, C6: a handoff to Gorgias creates their ticket with the shopper as
// the customer and the transcript as its message.
func TestAIHandsOffToGorgias(t *testing.T) {
	gg := newAPI(t, func(int, apiRequest) (int, string) {
		return http.StatusCreated, `{"id":123,"uri":"/api/tickets/123/"}`
	})
	h := startAI(t, map[string]any{"enabled": true, "handoff": "gorgias", "min_confidence": 0.6,
		"gorgias": map[string]any{"base_url": gg.srv.URL, "username": "admin@acme.com", "api_key": "gg-key"}})
	c, _ := h.hello(tokenWith(t, shopperAda))
	conv := startChat(t, c)
	sendMessage(t, c, "m1", "My sofa came with a broken leg.")
	if target, _ := handoffTo(t, c); target != "gorgias" {
		t.Fatalf("handoff to %q", target)
	}
	if told := c.readType("event")["event"].(frame); !strings.Contains(str(told["text"]), "by e-mail at ada@example.com") {
		t.Fatalf("once Gorgias has the ticket the shopper reads %v", told)
	}
	if ended := c.readType("event")["event"].(frame); ended["kind"] != "ended" {
		t.Fatalf("after the Gorgias ticket: %v, want the chat ended", ended)
	}
	reqs := gg.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests to Gorgias", len(reqs))
	}
	r := reqs[0]
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@acme.com:gg-key"))
	if r.Method != "POST" || r.Path != "/api/tickets" || r.Header.Get("Authorization") != wantAuth {
		t.Fatalf("request %s %s auth %q", r.Method, r.Path, r.Header.Get("Authorization"))
	}
	if body := toJSON(r.Body); !strings.Contains(body, "ada@example.com") || !strings.Contains(body, "My sofa came with a broken leg.") || !strings.Contains(body, conv) {
		t.Fatalf("the Gorgias ticket: %s", body)
	}
}

// metricWith reads the value of the series of a labelled counter with
// labels.
func (h *harness) metricWith(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return 0
}

// PROTOCOL §3: an external handoff that has not succeeded within 20 s has
// failed for good: a Gorgias that never answers leaves the shopper with a
// Helpdesk ticket about 20 s after the handoff, not later.
func TestAIHandoffThatHangsFallsBackWithin20s(t *testing.T) {
	t.Parallel()
	gg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		<-r.Context().Done()        // never answers
	}))
	t.Cleanup(gg.Close)
	h := startAI(t, map[string]any{"enabled": true, "handoff": "gorgias", "min_confidence": 0.6,
		"gorgias": map[string]any{"base_url": gg.URL, "username": "u", "api_key": "k"}})
	c, _ := h.hello(tokenWith(t, shopperAda))
	conv := startChat(t, c)
	sendMessage(t, c, "m1", "Can I talk to a person?")
	if target, _ := handoffTo(t, c); target != "gorgias" {
		t.Fatalf("handoff to %q", target)
	}
	handedOff := time.Now()
	var target string
	for target == "" {
		f, err := c.next(30 * time.Second)
		if err != nil {
			t.Fatalf("no fallback: %v", err)
		}
		if ev, _ := f["event"].(frame); ev["kind"] == "handoff" {
			target = ev["target"].(string)
		}
	}
	if took := time.Since(handedOff); target != "helpdesk" || took < 18*time.Second || took > 23*time.Second {
		t.Fatalf("fell back to %q after %v, want helpdesk after about 20s", target, took)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets/"+conv, adminToken, nil); code != http.StatusOK {
		t.Fatalf("GET the fallback ticket: %d", code)
	}
}
