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
