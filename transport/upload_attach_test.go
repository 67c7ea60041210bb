package transport

import (
	"bytes"
	"strings"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// A shopper's attachment may be an upload of this server; the agent's ticket
// view shows it, and the agent's browser loads it without a token. Any
// http(s) image may be attached (PROTOCOL §2), by shoppers and agents alike.
func TestUploadAsAttachment(t *testing.T) {
	h := start(t, Config{})
	tok := token(t, "cust_att", "Ada")
	c, _ := h.hello(tok)
	conv := startChat(t, c)
	url, ct := h.upload(tok, filePart("receipt.png", "image/png", tinyPNG(t)))
	other, _ := h.upload(adminToken, filePart("other.jpg", "image/jpeg", tinyJPEG(t)))
	att := []any{frame{"url": url, "content_type": ct}, frame{"url": other, "content_type": "image/jpeg"}}
	c.send(frame{"type": "message.send", "client_id": "m-att", "text": "", "attachments": att})
	ack := c.readType("ack")
	agent := h.agentToken(engine.RoleAgent)
	status, view, _ := h.do("GET", "/api/v1/tickets/"+conv, agent, nil)
	if status != 200 {
		t.Fatalf("ticket view: %d %v", status, view)
	}
	var found bool
	for _, e := range view["events"].([]any) {
		e := e.(map[string]any)
		if ev := e["event"].(map[string]any); ev["client_id"] == "m-att" && num(e["seq"]) == num(ack["seq"]) {
			found = toJSON(ev["attachments"]) == toJSON(att)
		}
	}
	if !found {
		t.Fatalf("the ticket view does not show the attachments %v: %v", att, view["events"])
	}
	if resp, body := get(t, "GET", url, nil); resp.StatusCode != 200 || !bytes.Equal(body, tinyPNG(t)) {
		t.Fatalf("the agent's browser fetching %s: %d", url, resp.StatusCode)
	}
	ext := []any{frame{"url": "https://cdn.example.com/label.png", "content_type": "image/png"}}
	if status, out, _ := h.do("POST", "/api/v1/tickets/"+conv+"/messages", agent,
		map[string]any{"client_id": "r1", "text": "Your label", "attachments": ext}); status != 201 {
		t.Fatalf("an agent's reply with an external image: %d %v", status, out)
	}
}

// With --public-url, upload URLs are built on it.
func TestUploadPublicURL(t *testing.T) {
	h := start(t, Config{PublicURL: "https://chat.example.com/parley/"})
	tok := token(t, "cust_pub", "Ada")
	url, ct := h.upload(tok, filePart("a.webp", "image/webp", tinyWebP))
	name, ok := strings.CutPrefix(url, "https://chat.example.com/parley/uploads/")
	if !ok || !engine.ValidUploadName(name) || ct != "image/webp" {
		t.Fatalf("url %q %q", url, ct)
	}
	if resp, _ := get(t, "GET", h.ts.URL+"/uploads/"+name, nil); resp.StatusCode != 200 {
		t.Fatalf("served at /uploads/: %d", resp.StatusCode)
	}
}
