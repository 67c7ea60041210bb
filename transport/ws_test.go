package transport

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestWelcomeAnonymous(t *testing.T) {
	h := start(t, Config{})
	_, w := h.hello("")
	v := w["visitor"].(frame)
	if v["logged_in"] != false || v["profile_id"] != nil {
		t.Fatalf("visitor %v", v)
	}
	chat := w["chat"].(frame)
	if chat["enabled"] != true || chat["can_start"] != false || chat["reason"] != "login_required" {
		t.Fatalf("chat %v", chat)
	}
	faqs := w["faqs"].([]any)
	if len(faqs) != 3 || faqs[0].(frame)["question"] != "Where is my order?" || faqs[0].(frame)["id"] == "" {
		t.Fatalf("faqs %v", faqs)
	}
	if _, ok := faqs[0].(frame)["answer"]; ok {
		t.Fatal("welcome faqs carry answers")
	}
	if w["conversation"] != nil {
		t.Fatalf("conversation %v", w["conversation"])
	}
	if w["office"].(frame)["open"] != true {
		t.Fatalf("office %v", w["office"])
	}
	links := w["links"].(frame)
	if _, ok := links["terms"]; !ok {
		t.Fatalf("links %v", links)
	}
}

func TestHelloRules(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(nil)
	c.send(frame{"type": "chat.start"})
	c.expectError("hello_required")
	c.send(frame{"type": "message.send", "client_id": "m1", "text": "hi"})
	if f := c.expectError("hello_required"); f["client_id"] != "m1" {
		t.Fatalf("client_id not echoed: %v", f)
	}
	c.send(frame{"type": "hello", "token": token(t, "p1", "Ada")})
	w := c.readType("welcome")
	if w["visitor"].(frame)["profile_id"] != "p1" || w["visitor"].(frame)["name"] != "Ada" {
		t.Fatalf("welcome %v", w)
	}
	c.send(frame{"type": "hello"})
	c.expectError("invalid")
}

func TestMalformedFramesKeepSocket(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(nil)
	for _, raw := range []string{"not json", "[1,2]", `"x"`, `{"type":42}`, `{"type":"nope"}`, "null", `{"type":"hello","token":7}`} {
		c.sendRaw(websocket.MessageText, []byte(raw))
		c.expectError("invalid")
	}
	c.sendRaw(websocket.MessageBinary, []byte(`{"type":"hello"}`))
	c.expectError("invalid")
	c.send(frame{"type": "hello"})
	c.readType("welcome")
	c.sendRaw(websocket.MessageText, []byte(`{"type":"message.send","client_id":"c9","text":`))
	if f := c.expectError("invalid"); f["client_id"] != nil {
		// client_id cannot be dug out of a truncated frame; that is fine
		t.Logf("client_id %v", f["client_id"])
	}
	c.send(frame{"type": "faq.pick", "faq": "nope"})
	c.expectError("not_found")
}

func TestOversizedFrameCloses1009(t *testing.T) {
	h := start(t, Config{MaxFrameBytes: 1024})
	c := h.dial(nil)
	c.sendRaw(websocket.MessageText, []byte(`{"type":"hello","token":"`+strings.Repeat("a", 2000)+`"}`))
	c.expectClose(websocket.StatusMessageTooBig)
}

func TestInvalidUTF8Closes1007(t *testing.T) {
	h := start(t, Config{})
	c, _ := h.hello("")
	c.sendRaw(websocket.MessageText, []byte("{\"type\":\"faq.pick\",\"faq\":\"\xff\xfe\"}"))
	c.expectClose(websocket.StatusInvalidFramePayloadData)
}

func TestOrigins(t *testing.T) {
	h := start(t, Config{AllowedOrigins: []string{"shop.example.com"}})
	ctx := t.Context()
	_, resp, err := websocket.Dial(ctx, h.wsURL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example.org"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("evil origin: err %v resp %v", err, resp)
	}
	c := h.dial(http.Header{"Origin": {"https://shop.example.com"}})
	c.send(frame{"type": "hello"})
	c.readType("welcome")
	c2 := h.dial(nil) // no Origin: not a browser
	c2.send(frame{"type": "hello"})
	c2.readType("welcome")
}

func TestRefusedTokensClose1008(t *testing.T) {
	h := start(t, Config{})
	good := token(t, "p1", "Ada")
	parts := strings.Split(good, ".")
	expired := func() string {
		tok, _ := mintAt(t, time.Now().Add(-2*time.Hour))
		return tok
	}()
	for name, tok := range map[string]string{
		"forged":   parts[0] + "." + parts[1] + ".AAAA" + parts[2][4:],
		"expired":  expired,
		"alg none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".",
		"garbage":  "garbage",
	} {
		t.Run(name, func(t *testing.T) {
			c := h.dial(nil)
			c.send(frame{"type": "hello", "token": tok})
			c.expectError("unauthorized")
			c.expectClose(websocket.StatusPolicyViolation)
		})
	}
}

func TestHelloTimeout(t *testing.T) {
	h := start(t, Config{HelloTimeout: 100 * time.Millisecond})
	c := h.dial(nil)
	c.expectClose(websocket.StatusPolicyViolation)
}

func TestRateLimit(t *testing.T) {
	for _, flood := range []struct {
		name, frame string
		frames      int
	}{
		// Frames of every kind together: five times the message allowance.
		{"typing", `{"type":"typing","conversation":"x"}`, 60},
		// message.send on its own allowance (refused: nothing is open).
		{"messages", `{"type":"message.send","client_id":"m","text":"hi"}`, 20},
	} {
		t.Run(flood.name, func(t *testing.T) {
			h := start(t, Config{RateLimit: 1, RateBurst: 3})
			c, _ := h.hello("")
			for i := 0; i < flood.frames; i++ {
				// The server may close the socket before the last of these: a
				// write after that fails, which is what the test is after.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := c.ws.Write(ctx, websocket.MessageText, []byte(flood.frame))
				cancel()
				if err != nil {
					break
				}
			}
			limited := false
			for {
				f, err := c.next(5 * time.Second)
				if err != nil {
					if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
						t.Fatalf("close %v", err)
					}
					break
				}
				if f["code"] == "rate_limited" {
					limited = true
				}
			}
			if !limited {
				t.Fatal("no rate_limited error before the close")
			}
		})
	}
}

// A message.send refused by the socket's rate limit still echoes its
// client_id (PROTOCOL §2: a refused message.send always does), so that the
// client knows which message to send again; and the refused message is not
// stored. The frames around the chat (hello, chat.start, typing) do not use
// up the messages' allowance.
func TestRateLimitedMessageEchoesClientID(t *testing.T) {
	h := start(t, Config{RateLimit: 0.5, RateBurst: 3})
	c, _ := h.hello(token(t, "p-limited", "Rita"))
	c.send(frame{"type": "chat.start"})
	conv, _ := c.readType("event")["conversation"].(string)
	c.send(frame{"type": "typing", "conversation": conv})
	for _, id := range []string{"m1", "m2", "m3", "m4"} {
		c.send(frame{"type": "message.send", "client_id": id, "text": "text of " + id})
	}
	got := map[string]string{} // client_id → ack or error code
	for len(got) < 4 {
		f, err := c.next(5 * time.Second)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		switch f["type"] {
		case "ack":
			got[f["client_id"].(string)] = "ack"
		case "error":
			id, _ := f["client_id"].(string)
			got[id] = f["code"].(string)
		}
	}
	if got["m1"] != "ack" || got["m2"] != "ack" || got["m3"] != "ack" || got["m4"] != "rate_limited" {
		t.Fatalf("answers %v; want a burst of three acknowledged and m4 refused with rate_limited naming its client_id", got)
	}
	code, view, _ := h.do("GET", "/api/v1/tickets/"+conv, adminToken, nil)
	if events, _ := view["events"].([]any); code != 200 || len(events) != 4 {
		t.Fatalf("stored after three accepted and one refused message: %d %v; want started and m1..m3", code, view)
	}
}

// A client may send its first frame in the same packet as the upgrade
// request; those bytes arrive buffered by net/http and must not be lost when
// the socket moves to its own small buffers.
func TestFrameRightAfterUpgradeRequest(t *testing.T) {
	h := start(t, Config{})
	addr := strings.TrimPrefix(h.ts.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	payload := []byte(`{"type":"hello"}`)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	buf.Write([]byte{0x81, 0x80 | byte(len(payload)), 1, 2, 3, 4}) // FIN text, masked
	for i, b := range payload {
		buf.WriteByte(b ^ byte(i%4+1))
	}
	if _, err := conn.Write(buf.Bytes()); err != nil { // one write: request and frame together
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", err, resp)
	}
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(br, hdr[:2]); err != nil {
		t.Fatal(err)
	}
	n := int(hdr[1] & 0x7f)
	if n == 126 {
		if _, err := io.ReadFull(br, hdr[2:4]); err != nil {
			t.Fatal(err)
		}
		n = int(hdr[2])<<8 | int(hdr[3])
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"type":"welcome"`) {
		t.Fatalf("first frame %q, want the welcome", body)
	}
}

// A frame queued by another goroutine (an actor delivering an event) starts
// the socket's writer; the reader, blocked in a read since before, may then
// see the peer go and wait for that writer without ever having heard from
// the goroutine that started it. The writer's start must still be ordered
// before that wait (sync.WaitGroup's rule): under -race this test fails when
// it is not. The writer is kept busy on a peer that stops sending but does
// not read.
func TestReaderEndsWhileAnotherGoroutinesWriterRuns(t *testing.T) {
	h := start(t, Config{WriteTimeout: 2 * time.Second})
	conn := rawDial(t, h.ts.Listener.Addr().String(), `{"type":"hello"}`)
	defer conn.Close()
	h.srv.mu.Lock()
	var c *wsConn
	for c = range h.srv.conns {
	}
	h.srv.mu.Unlock()
	writerIdle := func() bool {
		c.qmu.Lock()
		defer c.qmu.Unlock()
		return !c.writing
	}
	for !writerIdle() { // the welcome's writer is going
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)            // and gone; the reader waits for a frame
	go c.send(bytes.Repeat([]byte("x"), 32<<20)) // more than the socket buffers hold
	for writerIdle() {
		time.Sleep(time.Millisecond)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done: // the reader saw the peer go, with the writer still on its frame
	case <-time.After(5 * time.Second):
		t.Fatal("the reader did not end")
	}
	conn.Close()
	open := func() int {
		h.srv.mu.Lock()
		defer h.srv.mu.Unlock()
		return len(h.srv.conns)
	}
	deadline := time.Now().Add(5 * time.Second)
	for open() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the socket was not let go")
		}
		time.Sleep(time.Millisecond)
	}
}
