package transport

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// ticketFromShopper starts a chat and sends one message, returning the
// shopper's socket and the ticket id.
func ticketFromShopper(t *testing.T, h *harness, profile string) (*client, string) {
	t.Helper()
	c, _ := h.hello(token(t, profile, "Shopper "+profile))
	conv := startChat(t, c)
	sendMessage(t, c, "first", "I need help")
	return c, conv
}

func TestAPIAuth(t *testing.T) {
	h := start(t, Config{})
	for _, bearer := range []string{"", "wrong", token(t, "p1", "Ada")} {
		code, body, hdr := h.do("GET", "/api/v1/tickets", bearer, nil)
		if c, _ := errCode(body); code != 401 || c != "unauthorized" || hdr.Get("WWW-Authenticate") == "" {
			t.Fatalf("bearer %q: %d %v", bearer, code, body)
		}
	}
	_, ag, _ := h.do("POST", "/api/v1/agents", adminToken, map[string]any{"name": "Ana", "email": "ana@example.com", "role": "agent"})
	agentTok := ag["token"].(string)
	agent := ag["agent"].(map[string]any)
	if agent["role"] != "agent" || agent["name"] != "Ana" || agent["id"] == "" {
		t.Fatalf("agent %v", ag)
	}
	_, st, _ := h.do("POST", "/api/v1/agents", adminToken, map[string]any{"name": "Shop", "role": "store"})
	storeTok := st["token"].(string)

	if code, _, _ := h.do("GET", "/api/v1/tickets", agentTok, nil); code != 200 {
		t.Fatalf("agent list: %d", code)
	}
	if code, body, _ := h.do("PUT", "/api/v1/settings", agentTok, map[string]any{}); code != 403 {
		t.Fatalf("agent PUT settings: %d %v", code, body)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets", storeTok, nil); code != 403 {
		t.Fatalf("store list: %d", code)
	}
	if code, _, _ := h.do("GET", "/api/v1/agents", agentTok, nil); code != 403 {
		t.Fatalf("agent lists agents: %d", code)
	}
	// Disabling an agent stops its token at once.
	if code, _, _ := h.do("DELETE", "/api/v1/agents/"+agent["id"].(string), adminToken, nil); code != 204 {
		t.Fatalf("disable: %d", code)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets", agentTok, nil); code != 401 {
		t.Fatalf("disabled agent: %d", code)
	}
}

func TestTicketLifecycle(t *testing.T) {
	h := start(t, Config{})
	shopper, id := ticketFromShopper(t, h, "p1")

	code, list, _ := h.do("GET", "/api/v1/tickets", adminToken, nil)
	tickets := list["tickets"].([]any)
	if code != 200 || len(tickets) != 1 || list["next_cursor"] != nil {
		t.Fatalf("list %d %v", code, list)
	}
	r := tickets[0].(map[string]any)
	if r["id"] != id || r["channel"] != "webchat" || r["status"] != "open" || r["preview"] != "I need help" ||
		r["unread"] != true || r["assignee"] != nil || r["profile"].(map[string]any)["id"] != "p1" || r["waiting_since"] == nil {
		t.Fatalf("row %v", r)
	}

	code, view, _ := h.do("GET", "/api/v1/tickets/"+id, adminToken, nil)
	events := view["events"].([]any)
	if code != 200 || len(events) != 2 || num(events[1].(map[string]any)["seq"]) != 2 ||
		events[1].(map[string]any)["event"].(map[string]any)["text"] != "I need help" {
		t.Fatalf("view %d %v", code, view)
	}
	if p := view["profile"].(map[string]any); p["id"] != "p1" {
		t.Fatalf("profile %v", p)
	}

	code, posted, _ := h.do("POST", "/api/v1/tickets/"+id+"/messages", adminToken, map[string]any{"client_id": "a1", "text": "On its way!"})
	if code != 201 || num(posted["seq"]) != 3 {
		t.Fatalf("reply %d %v", code, posted)
	}
	code, again, _ := h.do("POST", "/api/v1/tickets/"+id+"/messages", adminToken, map[string]any{"client_id": "a1", "text": "On its way!"})
	if code != 200 || num(again["seq"]) != 3 {
		t.Fatalf("repeat %d %v", code, again)
	}
	e := shopper.readType("event")
	if ev := e["event"].(frame); num(e["seq"]) != 3 || ev["from"] != "agent" || ev["text"] != "On its way!" {
		t.Fatalf("shopper got %v", e)
	}

	if code, _, _ := h.do("POST", "/api/v1/tickets/"+id+"/read", adminToken, map[string]any{"seq": 3}); code != 204 {
		t.Fatalf("read %d", code)
	}
	code, body, _ := h.do("POST", "/api/v1/tickets/"+id+"/assign", adminToken, map[string]any{"agent": "nobody"})
	if c, f := errCode(body); code != 400 || c != "invalid" || f != "agent" {
		t.Fatalf("assign unknown %d %v", code, body)
	}
	code, row, _ := h.do("POST", "/api/v1/tickets/"+id+"/assign", adminToken, map[string]any{"agent": nil})
	if code != 200 || row["id"] != id || row["assignee"] != nil {
		t.Fatalf("unassign %d %v", code, row)
	}
	code, body, _ = h.do("POST", "/api/v1/tickets/"+id+"/snooze", adminToken, map[string]any{"until": "yesterday"})
	if c, f := errCode(body); code != 400 || c != "invalid" || f != "until" {
		t.Fatalf("snooze bad %d %v", code, body)
	}
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	code, row, _ = h.do("POST", "/api/v1/tickets/"+id+"/snooze", adminToken, map[string]any{"until": until})
	if code != 200 || row["status"] != "snoozed" {
		t.Fatalf("snooze %d %v", code, row)
	}

	code, row, _ = h.do("POST", "/api/v1/tickets/"+id+"/close", adminToken, nil)
	if code != 200 || row["status"] != "closed" {
		t.Fatalf("close %d %v", code, row)
	}
	for {
		e := shopper.readType("event")
		if ev := e["event"].(frame); ev["kind"] == "ended" {
			if ev["by"] != "agent" {
				t.Fatalf("ended %v", ev)
			}
			break
		}
	}
	if code, body, _ := h.do("POST", "/api/v1/tickets/"+id+"/close", adminToken, nil); code != 409 {
		t.Fatalf("close again %d %v", code, body)
	}
	if code, _, _ := h.do("POST", "/api/v1/tickets/"+id+"/messages", adminToken, map[string]any{"client_id": "a2", "text": "hi"}); code != 409 {
		t.Fatalf("reply to closed %d", code)
	}
	if code, _, _ := h.do("GET", "/api/v1/tickets/nope", adminToken, nil); code != 404 {
		t.Fatalf("missing ticket %d", code)
	}
}

func TestTicketListValidation(t *testing.T) {
	h := start(t, Config{})
	for q, field := range map[string]string{
		"status=weird": "status", "channel=fax": "channel", "limit=0": "limit",
		"limit=abc": "limit", "limit=201": "limit", "assignee=a%20b": "assignee",
	} {
		code, body, _ := h.do("GET", "/api/v1/tickets?"+q, adminToken, nil)
		if c, f := errCode(body); code != 400 || c != "invalid" || f != field {
			t.Errorf("%s: %d %v", q, code, body)
		}
	}
}

func TestBodyLimits(t *testing.T) {
	h := start(t, Config{MaxBodyBytes: 1024})
	big := `{"client_id":"x","text":"` + strings.Repeat("a", 4096) + `"}`
	code, body, _ := h.do("POST", "/api/v1/tickets/t1/messages", adminToken, big)
	if c, _ := errCode(body); code != 413 || c != "too_large" {
		t.Fatalf("big body %d %v", code, body)
	}
	code, body, _ = h.do("POST", "/api/v1/faqs", adminToken, `{"question": 12}`)
	if c, f := errCode(body); code != 400 || c != "invalid" || f != "question" {
		t.Fatalf("type error %d %v", code, body)
	}
	code, body, _ = h.do("POST", "/api/v1/faqs", adminToken, `{"question":`)
	if c, _ := errCode(body); code != 400 || c != "invalid" {
		t.Fatalf("syntax error %d %v", code, body)
	}
}

func TestSettings(t *testing.T) {
	h := start(t, Config{})
	_, before, _ := h.do("GET", "/api/v1/settings", adminToken, nil)
	bad := []struct {
		body  any
		field string
	}{
		{map[string]any{"webchat": map[string]any{"enabled": true, "login_mode": "everyone"}}, "webchat.login_mode"},
		{map[string]any{"links": map[string]any{"terms_url": "ftp://x"}}, "links.terms_url"},
		{map[string]any{"colour": "red"}, "colour"},
		{map[string]any{"webchat": map[string]any{"enabled": true, "login_mode": "all", "theme": 1}}, "webchat.theme"},
		{map[string]any{"ai": map[string]any{"handoff": "helpdesk", "llm": map[string]any{"base_url": "https://x", "temperature": 1}}}, "ai.llm.temperature"},
		{map[string]any{"waiting_alert_after": "soon"}, "waiting_alert_after"},
		{map[string]any{"webchat": map[string]any{"enabled": "yes"}}, "webchat.enabled"},
	}
	for _, b := range bad {
		code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, b.body)
		if c, f := errCode(body); code != 400 || c != "invalid" || f != b.field {
			t.Errorf("%v: %d %v", b.body, code, body)
		}
	}
	_, after, _ := h.do("GET", "/api/v1/settings", adminToken, nil)
	if !equalJSON(before, after) {
		t.Fatalf("a refused PUT changed settings:\n%v\n%v", before, after)
	}

	code, got, _ := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{
		"webchat": map[string]any{"enabled": true, "login_mode": "logged_in", "welcome_message": "Hej!"},
		"ai":      map[string]any{"handoff": "helpdesk", "min_confidence": 0.5, "llm": map[string]any{"base_url": "https://llm.example/v1", "model": "m", "api_key": "sk-secret"}},
	})
	if code != 200 {
		t.Fatalf("put %d %v", code, got)
	}
	if got["webchat"].(map[string]any)["welcome_message"] != "Hej!" || got["office_hours"].(map[string]any)["time_zone"] != "UTC" {
		t.Fatalf("sections %v", got)
	}
	if key := got["ai"].(map[string]any)["llm"].(map[string]any)["api_key"]; key == "sk-secret" || key == "" {
		t.Fatalf("secret not masked: %v", key)
	}
	// Sending the mask back keeps the secret.
	code, _, _ = h.do("PUT", "/api/v1/settings", adminToken, map[string]any{
		"ai": map[string]any{"handoff": "helpdesk", "llm": map[string]any{"base_url": "https://llm.example/v1", "api_key": "********"}},
	})
	if code != 200 || h.sys.Settings().AI.LLM.APIKey != "sk-secret" {
		t.Fatalf("mask round trip %d %v", code, h.sys.Settings().AI.LLM)
	}
	// Anonymous visitors no longer see the chat tab.
	_, w := h.hello("")
	if ch := w["chat"].(frame); ch["enabled"] != false || len(w["faqs"].([]any)) != 0 {
		t.Fatalf("welcome %v", w)
	}
}

func equalJSON(a, b map[string]any) bool {
	return strings.EqualFold(toJSON(a), toJSON(b))
}

func TestFAQsAPI(t *testing.T) {
	h := start(t, Config{})
	code, f, _ := h.do("POST", "/api/v1/faqs", adminToken, map[string]any{"question": "Do you ship abroad?", "answer": "Yes.", "published": false, "position": 9})
	if code != 201 || f["kind"] != "faq" || f["id"] == "" {
		t.Fatalf("create %d %v", code, f)
	}
	id := f["id"].(string)
	code, body, _ := h.do("POST", "/api/v1/faqs", adminToken, map[string]any{"question": "", "answer": "x"})
	if c, fl := errCode(body); code != 400 || c != "invalid" || fl != "question" {
		t.Fatalf("invalid %d %v", code, body)
	}
	_, list, _ := h.do("GET", "/api/v1/faqs", adminToken, nil)
	if len(list["faqs"].([]any)) != 4 {
		t.Fatalf("list %v", list)
	}
	// Unpublished: not offered to shoppers.
	c, w := h.hello("")
	if len(w["faqs"].([]any)) != 3 {
		t.Fatalf("welcome faqs %v", w["faqs"])
	}
	c.send(frame{"type": "faq.pick", "faq": id})
	c.expectError("not_found")
	code, f, _ = h.do("PUT", "/api/v1/faqs/"+id, adminToken, map[string]any{"question": "Do you ship abroad?", "answer": "Yes, EU-wide.", "published": true})
	if code != 200 || f["answer"] != "Yes, EU-wide." || f["id"] != id {
		t.Fatalf("put %d %v", code, f)
	}
	if code, _, _ := h.do("DELETE", "/api/v1/faqs/"+id, adminToken, nil); code != 204 {
		t.Fatalf("delete %d", code)
	}
	if code, _, _ := h.do("DELETE", "/api/v1/faqs/"+id, adminToken, nil); code != 404 {
		t.Fatalf("delete again %d", code)
	}
	if code, _, _ := h.do("PUT", "/api/v1/faqs/"+id, adminToken, map[string]any{"question": "q", "answer": "a"}); code != 404 {
		t.Fatalf("put missing %d", code)
	}
}

func TestInboxStream(t *testing.T) {
	h := start(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := openStream(t, h, ctx)
	next := func() (string, string) { return st.next(t) }
	if ev, data := next(); ev != "badge" || data != `{"unread":0}` {
		t.Fatalf("first event %s %s", ev, data)
	}
	_, id := ticketFromShopper(t, h, "p9")
	sawRow, sawBadge := false, false
	for !sawRow || !sawBadge {
		ev, data := next()
		switch ev {
		case "ticket":
			sawRow = sawRow || strings.Contains(data, `"id":"`+id+`"`)
		case "badge":
			sawBadge = sawBadge || data == `{"unread":1}`
		}
	}
	code, badge, _ := h.do("GET", "/api/v1/inbox/badge", adminToken, nil)
	if code != 200 || num(badge["unread"]) != 1 {
		t.Fatalf("badge %d %v", code, badge)
	}
}

func TestOperations(t *testing.T) {
	h := start(t, Config{})
	c, _ := h.hello("")
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/nope": 404} {
		if code, _, _ := h.do("GET", path, "", nil); code != want {
			t.Errorf("%s: %d", path, code)
		}
	}
	if code, _, _ := h.do("DELETE", "/api/v1/settings", adminToken, nil); code != 405 {
		t.Errorf("wrong method: %d", code)
	}
	resp, _ := http.Get(h.ts.URL + "/metrics")
	b := new(strings.Builder)
	_, _ = bufio.NewReader(resp.Body).WriteTo(b)
	resp.Body.Close()
	for _, m := range []string{"parley_ws_connections 1", "parley_http_requests_total{code=\"200\",route=\"GET /healthz\"} 1", "parley_messages_total", "parley_sse_streams 0"} {
		if m == "parley_messages_total" {
			continue // no message yet: the vector has no series
		}
		if !strings.Contains(b.String(), m) {
			t.Errorf("metrics lack %q", m)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.srv.Shutdown(ctx) }()
	c.expectClose(1001)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code, body, _ := h.do("GET", "/readyz", "", nil); code != 503 {
		t.Fatalf("readyz after shutdown %d %v", code, body)
	}
	if code, body, _ := h.do("GET", "/api/v1/tickets", adminToken, nil); code != 503 {
		t.Fatalf("api after shutdown %d %v", code, body)
	} else if c, _ := errCode(body); c != "unavailable" {
		t.Fatalf("%v", body)
	}
	if err := h.srv.Shutdown(ctx); err != nil { // idempotent
		t.Fatal(err)
	}
}

// parley_messages_total counts each stored message once, by its
// conversation's channel and direction; a repeated client_id is not counted
// again (O1).
func TestMessagesCountedOncePerChannel(t *testing.T) {
	h := start(t, Config{})
	c, conv := ticketFromShopper(t, h, "p-count")
	c.send(frame{"type": "message.send", "client_id": "first", "text": "I need help"}) // a repeat: acknowledged again, not stored
	if ack := c.readType("ack"); ack["client_id"] != "first" {
		t.Fatalf("repeat: %v", ack)
	}
	c.send(frame{"type": "message.send", "client_id": "blank", "text": " "}) // refused: no ack to time
	if e := c.readType("error"); e["client_id"] != "blank" {
		t.Fatalf("blank: %v", e)
	}
	for range 2 { // the second is a repeat
		if code, body, _ := h.do("POST", "/api/v1/tickets/"+conv+"/messages", adminToken, map[string]any{"client_id": "a1", "text": "On it"}); code != 201 && code != 200 {
			t.Fatalf("reply: %d %v", code, body)
		}
	}
	resp, err := http.Get(h.ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b := new(strings.Builder)
	_, _ = bufio.NewReader(resp.Body).WriteTo(b)
	resp.Body.Close()
	for _, want := range []string{
		`parley_messages_total{channel="webchat",direction="in"} 1`,
		`parley_messages_total{channel="webchat",direction="out"} 1`,
		"parley_ws_ack_seconds_count 2", // the first send and its repeat were acknowledged
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// sseStream reads an inbox SSE stream.
type sseStream struct {
	sc *bufio.Scanner
}

// openStream opens the inbox stream as the admin.
func openStream(t *testing.T, h *harness, ctx context.Context) *sseStream {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.ts.URL+"/api/v1/inbox/stream", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	return &sseStream{sc: bufio.NewScanner(resp.Body)}
}

func (s *sseStream) next(t *testing.T) (event, data string) {
	t.Helper()
	event, data, ok := s.nextOK()
	if !ok {
		t.Fatalf("the stream ended: %v", s.sc.Err())
	}
	return event, data
}

// Anyone signed in may take a ticket for themselves, the bootstrap admin
// too, who is no stored agent: as a reply would give it them (H6).
func TestAssignToThemselves(t *testing.T) {
	h := start(t, Config{})
	shopper, _ := h.hello(token(t, "p1", "Ada"))
	id := startChat(t, shopper)
	sendMessage(t, shopper, "m1", "Hello?")
	anaTok := h.agentToken(engine.RoleAgent)
	_, session, _ := h.do("GET", "/api/v1/session", anaTok, nil)
	ana := session["agent"].(map[string]any)
	for _, who := range []struct{ tok, id, name string }{
		{adminToken, "admin", "Admin"}, {anaTok, ana["id"].(string), ana["name"].(string)},
	} {
		code, row, _ := h.do("POST", "/api/v1/tickets/"+id+"/assign", who.tok, map[string]any{"agent": who.id})
		a, _ := row["assignee"].(map[string]any)
		if code != 200 || a["id"] != who.id || a["name"] != who.name {
			t.Fatalf("%s takes the ticket: %d %v", who.name, code, row)
		}
	}
	// Not someone else who is no agent.
	code, body, _ := h.do("POST", "/api/v1/tickets/"+id+"/assign", anaTok, map[string]any{"agent": "admin"})
	if c, f := errCode(body); code != 400 || c != "invalid" || f != "agent" {
		t.Fatalf("an agent gives the ticket to the bootstrap admin: %d %v", code, body)
	}
}
