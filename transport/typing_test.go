package transport

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// PROTOCOL §2, Typing: a shopper's typing reaches the agents on the inbox
// stream; an agent's reaches the shopper's socket as {"type":"typing",
// "from":"agent"}; neither is stored in the conversation's log.
func TestTypingBothWays(t *testing.T) {
	h := start(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream := openStream(t, h, ctx)
	c, _ := h.hello(token(t, "p-typing", "Ada"))
	conv := startChat(t, c)
	ack, _ := sendMessage(t, c, "m1", "hello")

	c.send(frame{"type": "typing", "conversation": conv})
	for {
		event, data := stream.next(t)
		if event != "typing" {
			continue
		}
		var got typingJSON
		if err := json.Unmarshal([]byte(data), &got); err != nil || got.Ticket != conv || got.From != "shopper" {
			t.Fatalf("typing event %q: %+v %v", data, got, err)
		}
		break
	}

	code, body, _ := h.do("POST", "/api/v1/tickets/"+conv+"/typing", adminToken, nil)
	if code != 204 {
		t.Fatalf("agent typing: %d %v", code, body)
	}
	f := c.readType("typing")
	if f["from"] != "agent" || f["conversation"] != conv {
		t.Fatalf("typing frame %v", f)
	}
	if code, _, _ := h.do("POST", "/api/v1/tickets/nope/typing", adminToken, nil); code != 404 {
		t.Fatalf("typing on an unknown ticket: %d", code)
	}

	// Nothing of it is in the log.
	_, view, _ := h.do("GET", "/api/v1/tickets/"+conv, adminToken, nil)
	if events := view["events"].([]any); num(events[len(events)-1].(map[string]any)["seq"]) != num(ack["seq"]) {
		t.Fatalf("typing stored something after the message: %v", events)
	}
}

// GET /api/v1/tickets/{id}?after=<seq> answers only the events a page has not
// seen yet; assignee=none lists the open tickets nobody is assigned to.
func TestTicketViewAfterAndUnassigned(t *testing.T) {
	h := start(t, Config{})
	c, conv := ticketFromShopper(t, h, "p-after")
	sendMessage(t, c, "m2", "second")
	sendMessage(t, c, "m3", "third")
	_, view, _ := h.do("GET", "/api/v1/tickets/"+conv+"?after=3", adminToken, nil)
	events := view["events"].([]any)
	if len(events) != 1 || num(events[0].(map[string]any)["seq"]) != 4 {
		t.Fatalf("events after 3: %v", events)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets/"+conv+"?after=x", adminToken, nil); code != 400 {
		t.Fatalf("after=x: %d", code)
	}
	_, other := ticketFromShopper(t, h, "p-after-2")
	if code, body, _ := h.do("POST", "/api/v1/tickets/"+other+"/assign", adminToken, map[string]any{"agent": nil}); code != 200 {
		t.Fatalf("unassign: %d %v", code, body)
	}
	if code, body, _ := h.do("POST", "/api/v1/tickets/"+conv+"/messages", adminToken, map[string]any{"client_id": "r1", "text": "mine"}); code != 201 {
		t.Fatalf("reply: %d %v", code, body) // assigns conv to the admin
	}
	_, list, _ := h.do("GET", "/api/v1/tickets?assignee=none", adminToken, nil)
	rows := list["tickets"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["id"] != other {
		t.Fatalf("unassigned: %v", rows)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets?assignee=none&status=closed", adminToken, nil); code != 400 {
		t.Fatalf("unassigned closed: %d, want 400", code)
	}
}
