package transport

import (
	"fmt"
	"testing"
	"time"
)

// startChat starts a chat on c and returns the conversation id after the
// started event (seq 1).
func startChat(t *testing.T, c *client) string {
	t.Helper()
	c.send(frame{"type": "chat.start"})
	e := c.readType("event")
	ev := e["event"].(frame)
	if num(e["seq"]) != 1 || ev["kind"] != "started" || ev["welcome"] != "Hi! How can we help?" {
		t.Fatalf("started %v", e)
	}
	if _, err := time.Parse(time.RFC3339, e["at"].(string)); err != nil {
		t.Fatalf("at %v", e["at"])
	}
	return e["conversation"].(string)
}

// sendMessage sends a message and returns its ack and echo, in either order.
func sendMessage(t *testing.T, c *client, clientID, text string) (ack, echo frame) {
	t.Helper()
	c.send(frame{"type": "message.send", "client_id": clientID, "text": text})
	for ack == nil || echo == nil {
		f := c.read()
		switch f["type"] {
		case "ack":
			ack = f
		case "event":
			if f["event"].(frame)["client_id"] == clientID {
				echo = f
			}
		case "error":
			t.Fatalf("error %v", f)
		}
	}
	if ack["client_id"] != clientID || ack["seq"] != echo["seq"] || ack["conversation"] != echo["conversation"] {
		t.Fatalf("ack %v echo %v", ack, echo)
	}
	return ack, echo
}

func TestChatFlow(t *testing.T) {
	h := start(t, Config{})
	tok := token(t, "p1", "Ada")
	a, _ := h.hello(tok)
	b, _ := h.hello(tok) // a second tab of the same visitor
	conv := startChat(t, a)
	if e := b.readType("event"); e["conversation"] != conv || num(e["seq"]) != 1 {
		t.Fatalf("other tab got %v", e)
	}

	ack, echo := sendMessage(t, a, "m1", "Where is my parcel?")
	if num(ack["seq"]) != 2 {
		t.Fatalf("ack %v", ack)
	}
	m := echo["event"].(frame)
	if m["kind"] != "message" || m["from"] != "shopper" || m["author"] != "Ada" || m["text"] != "Where is my parcel?" {
		t.Fatalf("message %v", m)
	}
	if att, ok := m["attachments"].([]any); !ok || len(att) != 0 {
		t.Fatalf("attachments %v", m["attachments"])
	}
	if e := b.readType("event"); num(e["seq"]) != 2 {
		t.Fatalf("echo on the other tab: %v", e)
	}

	// A repeated client_id is acknowledged again and stored once.
	a.send(frame{"type": "message.send", "client_id": "m1", "text": "Where is my parcel?"})
	if again := a.readType("ack"); num(again["seq"]) != 2 {
		t.Fatalf("repeat ack %v", again)
	}
	b.quiet(200 * time.Millisecond)

	a.send(frame{"type": "read", "conversation": conv, "seq": 2})
	if e := a.readType("event"); e["event"].(frame)["kind"] != "seen" || num(e["event"].(frame)["up_to"]) != 2 || num(e["seq"]) != 3 {
		t.Fatalf("seen %v", e)
	}
	a.send(frame{"type": "read", "conversation": conv, "seq": 2}) // does not move the mark
	a.quiet(200 * time.Millisecond)

	a.send(frame{"type": "chat.end", "conversation": conv})
	if e := a.readType("event"); e["event"].(frame)["kind"] != "ended" || e["event"].(frame)["by"] != "shopper" {
		t.Fatalf("ended %v", e)
	}
	a.send(frame{"type": "message.send", "client_id": "m2", "text": "hello?", "conversation": conv})
	if f := a.expectError("closed"); f["client_id"] != "m2" {
		t.Fatalf("client_id not echoed: %v", f)
	}
	a.send(frame{"type": "message.send", "client_id": "m3", "text": "hello?"})
	a.expectError("no_open_conversation")
	a.send(frame{"type": "chat.end", "conversation": conv})
	a.expectError("closed")

	next := startChat(t, a)
	if next == conv {
		t.Fatal("a new chat reused the ended conversation")
	}
}

func TestChatStartWhileOpenResendsStarted(t *testing.T) {
	h := start(t, Config{})
	tok := token(t, "p2", "Bo")
	a, _ := h.hello(tok)
	conv := startChat(t, a)
	sendMessage(t, a, "x1", "hi")
	if again := startChat(t, a); again != conv {
		t.Fatalf("second chat.start made %s, want %s", again, conv)
	}
	// A new socket sees the open conversation in welcome.
	_, w := h.hello(tok)
	c := w["conversation"].(frame)
	if c["id"] != conv || c["status"] != "open" || num(c["last_seq"]) != 2 {
		t.Fatalf("welcome conversation %v", c)
	}
}

func TestResume(t *testing.T) {
	h := start(t, Config{})
	tok := token(t, "p3", "Cy")
	a, _ := h.hello(tok)
	conv := startChat(t, a)
	sendMessage(t, a, "r1", "one")
	sendMessage(t, a, "r2", "two")

	b := h.dial(nil)
	b.send(frame{"type": "hello", "token": tok, "resume": frame{"conversation": conv, "after": 1}})
	if w := b.read(); w["type"] != "welcome" {
		t.Fatalf("first frame %v", w)
	}
	for want := uint64(2); want <= 3; want++ {
		if e := b.read(); e["type"] != "event" || num(e["seq"]) != want {
			t.Fatalf("replay: got %v, want seq %d", e, want)
		}
	}
	// Live events follow the replay.
	sendMessage(t, a, "r3", "three")
	if e := b.read(); num(e["seq"]) != 4 {
		t.Fatalf("live %v", e)
	}
}

func TestShoppersAreIsolated(t *testing.T) {
	h := start(t, Config{})
	a, _ := h.hello(token(t, "alice", "Alice"))
	conv := startChat(t, a)
	sendMessage(t, a, "s1", "my secret order 1234")

	m := h.dial(nil)
	m.send(frame{"type": "hello", "token": token(t, "mallory", "Mallory"), "resume": frame{"conversation": conv, "after": 0}})
	m.readType("welcome")
	m.expectError("not_found")
	m.send(frame{"type": "chat.end", "conversation": conv})
	m.expectError("not_found")
	m.send(frame{"type": "read", "conversation": conv, "seq": 2})
	m.expectError("not_found")
	m.send(frame{"type": "message.send", "client_id": "evil", "text": "hi", "conversation": conv})
	if f := m.expectError("no_open_conversation"); f["client_id"] != "evil" {
		t.Fatalf("%v", f)
	}
	m.quiet(200 * time.Millisecond)

	anon, _ := h.hello("")
	anon.send(frame{"type": "chat.start"})
	anon.expectError("unauthorized")
	anon.send(frame{"type": "message.send", "client_id": "a1", "text": "hi", "conversation": conv})
	anon.expectError("no_open_conversation")
	a.quiet(200 * time.Millisecond) // alice's conversation saw none of it
}

func TestFAQPick(t *testing.T) {
	h := start(t, Config{})
	c, w := h.hello("")
	id := w["faqs"].([]any)[1].(frame)["id"].(string)
	c.send(frame{"type": "faq.pick", "faq": id})
	a := c.readType("faq.answer")
	if a["faq"] != id || a["question"] != "How do I return an item?" || a["answer"] == "" {
		t.Fatalf("answer %v", a)
	}
	c.send(frame{"type": "faq.pick", "faq": "missing"})
	c.expectError("not_found")
}

// When an agent closes the ticket, a socket that follows the conversation
// learns it from the `ended` event; its next message that names no
// conversation is refused as no_open_conversation, one that names it as closed.
func TestAgentCloseEndsTheSocketsConversation(t *testing.T) { // S8, H3
	h := start(t, Config{})
	a, _ := h.hello(token(t, "p-close", "Ada"))
	conv := startChat(t, a)
	sendMessage(t, a, "m1", "hello")
	if code, body, _ := h.do("POST", "/api/v1/tickets/"+conv+"/close", adminToken, nil); code != 200 {
		t.Fatalf("close: %d %v", code, body)
	}
	if e := a.readType("event"); e["event"].(frame)["kind"] != "ended" || e["event"].(frame)["by"] != "agent" {
		t.Fatalf("ended %v", e)
	}
	a.send(frame{"type": "message.send", "client_id": "m2", "text": "still there?"})
	if f := a.expectError("no_open_conversation"); f["client_id"] != "m2" {
		t.Fatalf("client_id not echoed: %v", f)
	}
	a.send(frame{"type": "message.send", "client_id": "m3", "text": "still there?", "conversation": conv})
	a.expectError("closed")
	a.send(frame{"type": "chat.end"})
	a.expectError("no_open_conversation")
}

// A socket that resumes a conversation which has ended meanwhile is welcomed
// with the visitor's open one (a new chat started from another tab), then
// gets what it missed of the ended one (S9).
func TestResumeAnEndedConversation(t *testing.T) {
	h := start(t, Config{})
	tok := token(t, "p-ended", "Di")
	a, _ := h.hello(tok)
	old := startChat(t, a)
	sendMessage(t, a, "e1", "one")
	a.send(frame{"type": "chat.end", "conversation": old})
	a.readType("event") // ended
	next := startChat(t, a)

	b := h.dial(nil)
	b.send(frame{"type": "hello", "token": tok, "resume": frame{"conversation": old, "after": 2}})
	w := b.readType("welcome")
	if open, _ := w["conversation"].(frame); open == nil || open["id"] != next || num(open["last_seq"]) != 1 {
		t.Fatalf("welcome %v, want the open conversation %s at seq 1", w, next)
	}
	if e := b.read(); e["type"] != "event" || e["conversation"] != old || num(e["seq"]) != 3 || e["event"].(frame)["kind"] != "ended" {
		t.Fatalf("replay %v, want the ended event of %s", e, old)
	}
}

// Frames sent back to back take effect one at a time, in order: every ack
// comes before the answer to the next frame, here the refusal of an empty
// message (which needs no storage, so it would overtake) and then a read
// receipt.
func TestFramesTakeEffectInOrder(t *testing.T) {
	h := start(t, Config{})
	c, _ := h.hello(token(t, "p-order", "Ada"))
	conv := startChat(t, c)
	const n = 8
	for i := range n {
		c.send(frame{"type": "message.send", "client_id": fmt.Sprintf("m%d", i), "text": fmt.Sprintf("line %d", i)})
	}
	c.send(frame{"type": "message.send", "client_id": "empty", "text": " "})
	c.send(frame{"type": "read", "conversation": conv, "seq": n + 1})
	acks := 0
	for acks < n {
		f := c.read()
		switch f["type"] {
		case "ack":
			if f["client_id"] != fmt.Sprintf("m%d", acks) || num(f["seq"]) != uint64(acks+2) {
				t.Fatalf("ack %d: %v", acks, f)
			}
			acks++
		case "error":
			t.Fatalf("after %d acks: %v", acks, f)
		}
	}
	if f := c.expectError("invalid"); f["client_id"] != "empty" {
		t.Fatalf("refusal %v", f)
	}
	if e := c.readType("event"); e["event"].(frame)["kind"] != "seen" || num(e["seq"]) != n+2 {
		t.Fatalf("seen %v", e)
	}
}
