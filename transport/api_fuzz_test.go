package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/engine"
)

// FuzzAPIBodies sends the same arbitrary bytes as the body of every endpoint
// that reads JSON, through the real handler on a real store, with a real
// ticket, FAQ, macro and agent to act on. Whatever the body: no answer is a
// 5xx; a refusal is {"error":{"code","message"}} JSON; a success is empty or
// JSON; a refused settings or macro body leaves what GET shows of it as it
// was, and an accepted one is what GET then shows.
func FuzzAPIBodies(f *testing.F) {
	h := start(f, Config{})
	ticket := fuzzTicket(f, h)
	faq := h.sys.FAQs()[0].ID
	code, ag, _ := h.do("POST", "/api/v1/agents", adminToken, map[string]any{"name": "Ana", "role": "agent"})
	if code != http.StatusCreated {
		f.Fatalf("create agent: %d %v", code, ag)
	}
	agent := ag["agent"].(map[string]any)["id"].(string)
	m, err := h.sys.PutMacro(context.Background(), engine.Macro{Name: "Hi", Body: "Hi {{first_name}}, {{agent_name}} here."})
	if err != nil {
		f.Fatal(err)
	}

	for _, s := range []string{
		`{"client_id":"c1","text":"Hello from the fuzzer"}`,
		`{"client_id":"c2","text":"","attachments":[{"url":"https://x.test/a.png","content_type":"image/png"}]}`,
		`{"client_id":"c3","text":"hi","macro":"m1"}`,
		`{"client_id":"c4","macro":"` + m.ID + `"}`, `{"client_id":"c5","text":"Hey {{ name }}","macro":"` + m.ID + `"}`,
		`{"name":"Shipping","body":"Hi {{first_name}}, it ships today."}`, `{"name":"x","body":"{{order_id}}"}`,
		`{"name":"x","body":"{{first_name}"}`, `{"name":"x","body":"y","id":"` + m.ID + `","updated_at":"2025-01-01T00:00:00Z"}`,
		`{"seq":1}`, `{"seq":-1}`, `{"seq":18446744073709551616}`,
		`{"agent":"` + agent + `"}`, `{"agent":null}`, `{"agent":"nobody"}`, `{"agent":7}`,
		`{"until":"2999-01-01T00:00:00Z"}`, `{"until":"2000-01-01T00:00:00Z"}`, `{"until":"tomorrow"}`,
		`{"webchat":{"enabled":true,"login_mode":"logged_in","welcome_message":"Hej!"}}`,
		`{"webchat":{"enabled":true,"login_mode":"everyone"}}`, `{"colour":"red"}`,
		`{"ai":{"handoff":"helpdesk","llm":{"base_url":"https://llm.example/v1","api_key":"********"}}}`,
		`{"waiting_alert_after":"soon"}`,
		`{"question":"Shipping?","answer":"Two days.","published":true,"position":1,"kind":"faq"}`,
		`{"question":" ","answer":"x","kind":"poem"}`,
		`{"name":"Bo","email":"bo@example.com","role":"store"}`, `{"name":"Bo","role":"root"}`,
		`{"name":"Ada","email":"ada@example.com","phone":"+46 70-123 45 67"}`, `{"phone":"(+1) 415"}`,
		`{"id":"o-1","name":"Placed Order","at":"2025-03-01T12:00:00+01:00","properties":{"total":19.90,"items":[{"sku":"A"}]}}`,
		`{"name":"Viewed","properties":{"a":[[[[[1]]]]]}}`, `{"name":"Viewed","at":"9999-12-31T23:59:59Z"}`,
		``, `null`, `[]`, `{}`, `{"a":1} {"b":2}`, `{"seq":1`, "\xff", `"` + strings.Repeat("x", 100) + `"`,
	} {
		f.Add([]byte(s))
	}

	// view, when set, is where GET shows what the endpoint changes: a
	// refusal leaves it as it was, and a 200 answers what it then shows.
	endpoints := []struct{ method, path, view string }{
		{"POST", "/api/v1/tickets/" + ticket + "/messages", ""},
		{"POST", "/api/v1/tickets/" + ticket + "/read", ""},
		{"POST", "/api/v1/tickets/" + ticket + "/assign", ""},
		{"POST", "/api/v1/tickets/" + ticket + "/snooze", ""},
		{"PUT", "/api/v1/settings", "/api/v1/settings"},
		{"POST", "/api/v1/faqs", ""},
		{"PUT", "/api/v1/faqs/" + faq, ""},
		{"POST", "/api/v1/agents", ""},
		{"POST", "/api/v1/macros", ""},
		{"PUT", "/api/v1/macros/" + m.ID, "/api/v1/macros/" + m.ID},
		{"PUT", "/api/v1/profiles/fuzz-profile", ""},
		{"POST", "/api/v1/profiles/fuzz-profile/events", ""},
	}
	handler := h.srv.Handler()
	call := func(method, path string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ep := range endpoints {
			var before []byte
			if ep.view != "" {
				before = call("GET", ep.view, nil).Body.Bytes()
			}
			rec := call(ep.method, ep.path, body)
			checkAnswer(t, ep.method+" "+ep.path, body, rec)
			if before == nil {
				continue
			}
			after := call("GET", ep.view, nil).Body.Bytes()
			switch {
			case rec.Code != http.StatusOK && !bytes.Equal(after, before):
				t.Fatalf("refused %s %q (%d) changed it:\n%s\n%s", ep.path, body, rec.Code, before, after)
			case rec.Code == http.StatusOK && !bytes.Equal(after, rec.Body.Bytes()):
				t.Fatalf("accepted %s %q answer\n%s\nbut GET shows\n%s", ep.path, body, rec.Body.Bytes(), after)
			case rec.Code == http.StatusOK && h.sys.Settings().Validate() != nil:
				t.Fatalf("accepted settings %q do not validate: %v", body, h.sys.Settings().Validate())
			}
		}
	})
}

// checkAnswer asserts the contract every API answer keeps: no 5xx, errors
// as {"error":{"code","message"[,"field"]}}, successes empty or JSON.
func checkAnswer(t *testing.T, what string, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	raw := rec.Body.Bytes()
	if rec.Code >= 500 {
		t.Fatalf("%s with %q: %d %s", what, body, rec.Code, raw)
	}
	if rec.Code < 400 {
		if len(raw) > 0 && !json.Valid(raw) {
			t.Fatalf("%s with %q: %d with a non-JSON body %q", what, body, rec.Code, raw)
		}
		return
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s with %q: %d with Content-Type %q", what, body, rec.Code, ct)
	}
	var e struct {
		Error map[string]any `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%s with %q: %d error body %q: %v", what, body, rec.Code, raw, err)
	}
	code, _ := e.Error["code"].(string)
	msg, _ := e.Error["message"].(string)
	if code == "" || msg == "" {
		t.Fatalf("%s with %q: %d error without code or message: %s", what, body, rec.Code, raw)
	}
	for k, v := range e.Error {
		if _, ok := v.(string); !ok || (k != "code" && k != "message" && k != "field") {
			t.Fatalf("%s with %q: %d error with an unexpected %q: %s", what, body, rec.Code, k, raw)
		}
	}
}

// fuzzTicket makes a ticket (a chat with one shopper message) and closes the
// shopper's socket, so that what the fuzzer posts fans out to no one.
func fuzzTicket(f *testing.F, h *harness) string {
	f.Helper()
	c, _ := h.hello(token(f, "fuzz-shopper", "Fuzz Shopper"))
	c.send(frame{"type": "chat.start"})
	conv, _ := c.readType("event")["conversation"].(string)
	c.send(frame{"type": "message.send", "client_id": "first", "text": "I need help"})
	c.readType("ack")
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
	if code, _, _ := h.do("GET", "/api/v1/tickets/"+conv, adminToken, nil); code != http.StatusOK {
		f.Fatalf("ticket %q: %d", conv, code)
	}
	return conv
}
