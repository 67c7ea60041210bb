package transport

import (
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// reply posts an agent's reply and checks its status and seq.
func reply(t *testing.T, h *harness, conv, bearer string, body map[string]any, status int, seq uint64) {
	t.Helper()
	code, got, _ := h.do("POST", "/api/v1/tickets/"+conv+"/messages", bearer, body)
	if code != status || num(got["seq"]) != seq {
		t.Fatalf("reply %v: %d %v, want %d with seq %d", body, code, got, status, seq)
	}
}

// agentMessage reads the shopper's next agent message and checks its seq
// and text.
func agentMessage(t *testing.T, c *client, seq uint64, text string) {
	t.Helper()
	for {
		e := c.readType("event")
		ev := e["event"].(frame)
		if ev["kind"] != "message" {
			continue
		}
		if num(e["seq"]) != seq || ev["from"] != "agent" || ev["text"] != text {
			t.Fatalf("shopper got %v, want agent message %d %q", e, seq, text)
		}
		return
	}
}

// A reply with a macro reaches the shopper's socket filled in for them, the
// agent and the ticket (H5, S7); with text, the text is the agent's edit of
// the macro and is filled in the same way; a repeated client_id answers 200
// with the original seq even after the macro changed or was deleted, and
// the shopper gets the reply once.
func TestReplyWithMacroReachesTheShopper(t *testing.T) {
	h := start(t, Config{})
	shopper, _ := h.hello(token(t, "cust_ada", "Ada Lovelace"))
	conv := startChat(t, shopper)
	sendMessage(t, shopper, "c1", "Where is my order?")
	_, anaTok := capiAgent(t, h, "Ana", "agent")
	hi := createMacro(t, h, "Hi", "Hi {{first_name}}, {{agent_name}} here about ticket {{ ticket_id }}.")

	reply(t, h, conv, anaTok, map[string]any{"client_id": "r1", "macro": hi}, http.StatusCreated, 3)
	agentMessage(t, shopper, 3, "Hi Ada, Ana here about ticket "+conv+".")
	if e := shopper.readType("event"); e["event"].(frame)["kind"] != "assigned" {
		t.Fatalf("after the first reply %v, want the assignment (H6)", e)
	}

	edit := map[string]any{"client_id": "r2", "macro": hi, "text": "Sorry {{ first_name }}, one more thing."}
	reply(t, h, conv, anaTok, edit, http.StatusCreated, 5)
	agentMessage(t, shopper, 5, "Sorry Ada, one more thing.")

	code, _, _ := h.do("PUT", "/api/v1/macros/"+hi, adminToken, map[string]any{"name": "Hi", "body": "Hello {{name}}!"})
	if code != http.StatusOK {
		t.Fatalf("put macro: %d", code)
	}
	reply(t, h, conv, anaTok, map[string]any{"client_id": "r1", "macro": hi}, http.StatusOK, 3)
	if code, _, _ := h.do("DELETE", "/api/v1/macros/"+hi, adminToken, nil); code != http.StatusNoContent {
		t.Fatalf("delete macro: %d", code)
	}
	reply(t, h, conv, anaTok, map[string]any{"client_id": "r2", "macro": hi, "text": "Sorry {{first_name}}"}, http.StatusOK, 5)
	shopper.quiet(200 * time.Millisecond)
	if n := len(capiEvents(t, h, conv)); n != 5 {
		t.Fatalf("%d events after repeats, want 5", n)
	}
}

// A reply with a macro that cannot be filled in is a 400 naming the field,
// and nothing is sent: an unknown macro (macro, though the ticket exists), a
// placeholder the customer has no value for (macro, or text for an edit),
// an unknown placeholder in the edit (text). Once the store has the
// customer's profile, its values are used.
func TestReplyWithMacroRefusals(t *testing.T) {
	h := start(t, Config{})
	shopper, _ := h.hello(token(t, "cust_bo", "Bo"))
	conv := startChat(t, shopper)
	sendMessage(t, shopper, "c1", "Hello?")
	_, anaTok := capiAgent(t, h, "Ana", "agent")
	mail := createMacro(t, h, "Mail", "We wrote to {{email}}, {{name}}.")
	full := createMacro(t, h, "Full", "Dear {{first_name}} {{last_name}}")
	path := "/api/v1/tickets/" + conv + "/messages"
	for _, c := range []struct {
		body        map[string]any
		field, want string
	}{
		{map[string]any{"client_id": "r1", "macro": "no-such-macro"}, "macro", "no macro"},
		{map[string]any{"client_id": "r1", "macro": "../x"}, "macro", "no macro"},
		{map[string]any{"client_id": "r1", "macro": mail}, "macro", "{{email}} has no value"},
		{map[string]any{"client_id": "r1", "macro": full}, "macro", "{{last_name}} has no value"},
		{map[string]any{"client_id": "r1", "macro": mail, "text": "Hi {{ last_name }}"}, "text", "{{last_name}} has no value"},
		{map[string]any{"client_id": "r1", "macro": mail, "text": "Order {{order_id}}"}, "text", "{{order_id}} is not a known placeholder"},
		{map[string]any{"macro": mail}, "client_id", "required"},
		{map[string]any{"client_id": "r1", "macro": 7}, "macro", "wrong type"},
	} {
		code, got, _ := h.do("POST", path, anaTok, c.body)
		wantRefused(t, "reply "+toJSON(c.body), code, got, http.StatusBadRequest, c.field, c.want)
	}
	code, got, _ := h.do("POST", "/api/v1/tickets/no-such-ticket/messages", anaTok, map[string]any{"client_id": "r1", "macro": mail})
	wantRefused(t, "an unknown ticket", code, got, http.StatusNotFound, "", "")
	shopper.quiet(200 * time.Millisecond)
	if n := len(capiEvents(t, h, conv)); n != 2 {
		t.Fatalf("refused replies changed the log: %d events, want 2", n)
	}

	if err := h.store.PutProfile(engine.Profile{ID: "cust_bo", Name: "Bo Ek", Email: "bo@example.com"}); err != nil {
		t.Fatal(err)
	}
	reply(t, h, conv, anaTok, map[string]any{"client_id": "r1", "macro": mail}, http.StatusCreated, 3)
	agentMessage(t, shopper, 3, "We wrote to bo@example.com, Bo Ek.")
	reply(t, h, conv, anaTok, map[string]any{"client_id": "r2", "macro": full}, http.StatusCreated, 5)
	agentMessage(t, shopper, 5, "Dear Bo Ek")
}
