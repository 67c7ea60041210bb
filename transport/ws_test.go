package transport

import (
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
	h := start(t, Config{RateLimit: 1, RateBurst: 3})
	c, _ := h.hello("") // the hello takes one token
	limited := false
	for i := 0; i < 10; i++ {
		c.send(frame{"type": "typing", "conversation": "x"})
	}
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
}
