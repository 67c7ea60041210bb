package transport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/actors/outbox"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/gorgias"
	"github.com/parley-chat/parley/transport/llm"
	"github.com/parley-chat/parley/transport/twilio"
	"github.com/parley-chat/parley/transport/webhook"
	"github.com/parley-chat/parley/transport/zendesk"
)

// A day at a store, told through the API and checked, answer by answer,
// against the OpenAPI document: an admin sets the store up and signs in
// from a browser, the store's backend writes a profile, a shopper chats
// and an agent answers with a macro and an image, assigns, snoozes and
// closes; a text comes in by SMS and its answer's delivery is reported;
// the AI agent hands a chat off; webhooks hear it all; and each kind of
// refusal the document lists is met at least once. At the end every
// documented operation must have been called.

// story is what the chapters share.
type story struct {
	t    *testing.T
	spec *specChecker
	h    *harness

	ana, store    string // agent and store tokens
	anaID         string
	events        <-chan sseEvent
	ticket        string // the web chat's ticket
	shopper       *client
	picture       string // an uploaded image's URL
	macro         string
	sink, failing *hookSink
}

func TestOpenAPIStoryMatchesTheDocument(t *testing.T) {
	s := &story{t: t, spec: newSpecChecker(t)}
	s.sink, s.failing = newHookSink(t, s.spec, http.StatusNoContent), newHookSink(t, s.spec, http.StatusInternalServerError)
	fake := newFakeTwilio(t)
	cb := NewSMSCallbacks("")
	s.h = startWith(t, Config{WebhookAllowPrivate: true, MaxUploadBytes: 64 << 10, AllowedOrigins: []string{"shop.example.com"}, SMSCallbacks: cb},
		actors.Config{
			SMS:          &twilio.Client{},
			SMSCallback:  cb.URL,
			Webhooks:     WebhookNotifier(&webhook.Sender{AllowPrivate: true}),
			Outbox:       outbox.Config{MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, GiveUpAfter: time.Second, AttemptTimeout: time.Second},
			AnswerWithin: 3 * time.Second, Model: &llm.Client{},
			Handoffs: map[string]engine.HandoffTarget{engine.HandoffZendesk: &zendesk.Client{}, engine.HandoffGorgias: &gorgias.Client{}},
		})

	s.setUp(fake.srv.URL)
	s.browserSession()
	s.faqsAndMacros()
	s.profiles()
	s.webhooks()
	s.chat()
	s.uploads()
	s.answer()
	s.sms()
	s.aiHandoff()
	s.webhookStatus()
	s.refusals()
	s.backupAndShutdown()

	rateLimited(t, s.spec)
	if missing := s.spec.unexercised(); len(missing) > 0 {
		t.Errorf("the story never called %v: add it to the story", missing)
	}
	seen := s.spec.statusesSeen()
	for _, code := range []int{200, 201, 204, 304, 400, 401, 403, 404, 409, 413, 415, 429, 503} {
		if !containsInt(seen, code) {
			t.Errorf("no answer had status %d; seen %v", code, seen)
		}
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// setUp: the admin configures every section of the settings and adds the
// team.
func (s *story) setUp(twilioURL string) {
	sp, h := s.spec, s.h
	sp.json(h, "GET", "/api/v1/settings", adminToken, nil, 200)
	all := map[string]any{
		"webchat": map[string]any{"enabled": true, "login_mode": "all", "welcome_message": "Hi! How can we help?"},
		"links":   map[string]any{"terms_url": "https://shop.example/terms", "privacy_url": ""},
		"office_hours": map[string]any{"enabled": false, "time_zone": "Europe/Stockholm",
			"weekly": map[string]any{"mon": [][]string{{"09:00", "17:00"}}, "sat": [][]string{}}, "away_message": "We're away."},
		"ai": map[string]any{"enabled": false, "handoff": "helpdesk", "min_confidence": 0.6, "handoff_message": "Passing you on.",
			"llm":     map[string]any{"base_url": "https://llm.example/v1", "model": "m", "api_key": "sk-1"},
			"zendesk": map[string]any{"base_url": "https://acme.zendesk.com", "email": "ops@example.com", "api_token": "zd-2"},
			"gorgias": map[string]any{"base_url": "https://acme.gorgias.com", "username": "ops", "api_key": "gg-3"}},
		"notifications": map[string]any{"email": map[string]any{"enabled": false, "to": []string{"team@example.com"},
			"from": "parley@example.com", "smtp": map[string]any{"addr": "smtp.example.com:587", "username": "u", "password": "p"}}},
		"waiting_alert_after": "1s",
		"sms": map[string]any{"enabled": true, "provider": "twilio", "account_sid": smsAccount, "auth_token": smsToken,
			"from": smsFrom, "base_url": twilioURL},
	}
	got := sp.json(h, "PUT", "/api/v1/settings", adminToken, all, 200)
	if got["sms"].(map[string]any)["auth_token"] != mask {
		s.t.Fatalf("the SMS auth token reads %v", got["sms"])
	}
	// Without its model, the AI section takes no LLM: the answer keeps none.
	sp.json(h, "PUT", "/api/v1/settings", adminToken, map[string]any{"ai": map[string]any{"enabled": false, "handoff": "helpdesk", "min_confidence": 0.6, "handoff_message": ""}}, 200)
	sp.do(h, specCall{method: "PUT", path: "/api/v1/settings", bearer: adminToken, offSpec: true,
		json: map[string]any{"webchat": map[string]any{"enabled": true, "login_mode": "everyone", "welcome_message": ""}}}, 400)
	sp.do(h, specCall{method: "PUT", path: "/api/v1/settings", bearer: adminToken, offSpec: true,
		json: map[string]any{"office_hours": map[string]any{"enabled": false, "time_zone": "UTC", "away_message": ""}}}, 200)
	sp.json(h, "GET", "/api/v1/settings", adminToken, nil, 200)

	body := sp.json(h, "POST", "/api/v1/agents", adminToken, map[string]any{"name": "Ana", "email": "ana@example.com", "role": "agent"}, 201)
	s.ana, s.anaID = body["token"].(string), body["agent"].(map[string]any)["id"].(string)
	s.store = sp.json(h, "POST", "/api/v1/agents", adminToken, map[string]any{"name": "Shop", "role": "store"}, 201)["token"].(string)
	temp := sp.json(h, "POST", "/api/v1/agents", adminToken, map[string]any{"name": "Temp"}, 201)["agent"].(map[string]any)["id"].(string)
	sp.json(h, "DELETE", "/api/v1/agents/"+temp, adminToken, nil, 204)
	sp.json(h, "DELETE", "/api/v1/agents/nobody", adminToken, nil, 404)
	sp.do(h, specCall{method: "POST", path: "/api/v1/agents", bearer: adminToken, json: map[string]any{"name": "Eve", "role": "owner"}, offSpec: true}, 400)
	sp.json(h, "GET", "/api/v1/agents", adminToken, nil, 200)
	sp.json(h, "GET", "/api/v1/agents", s.ana, nil, 403)
	sp.json(h, "GET", "/api/v1/settings", s.ana, nil, 200)
	sp.json(h, "PUT", "/api/v1/settings", s.ana, map[string]any{}, 403)
}

// browserSession: the admin signs a browser in; with the cookie, a change
// needs the CSRF header.
func (s *story) browserSession() {
	sp, h := s.spec, s.h
	a := sp.do(h, specCall{method: "POST", path: "/api/v1/session", json: map[string]any{"token": adminToken}}, 200)
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: a.hdr}).Cookies() {
		if c.Name == "parley_session" {
			cookie = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	if cookie == nil {
		s.t.Fatalf("no session cookie: %v", a.hdr)
	}
	sp.do(h, specCall{method: "GET", path: "/api/v1/session", cookie: cookie}, 200)
	sp.do(h, specCall{method: "GET", path: "/api/v1/session", bearer: s.ana}, 200)
	sp.do(h, specCall{method: "GET", path: "/api/v1/inbox/badge", cookie: cookie}, 200)
	links := map[string]any{"links": map[string]any{"terms_url": "https://shop.example/terms", "privacy_url": "https://shop.example/privacy"}}
	a = sp.do(h, specCall{method: "PUT", path: "/api/v1/settings", cookie: cookie, json: links, offSpec: true}, 403)
	if !strings.Contains(string(a.raw), `"field":"X-Parley-CSRF"`) {
		s.t.Errorf("a change with the cookie alone: %s", a.raw)
	}
	sp.do(h, specCall{method: "PUT", path: "/api/v1/settings", cookie: cookie, json: links, header: http.Header{"X-Parley-CSRF": {"1"}}}, 200)
	sp.do(h, specCall{method: "DELETE", path: "/api/v1/session", cookie: cookie}, 204)
	sp.do(h, specCall{method: "POST", path: "/api/v1/session", json: map[string]any{"token": "not-a-token"}}, 401)
	sp.do(h, specCall{method: "POST", path: "/api/v1/session", json: map[string]any{"token": ""}, offSpec: true}, 400)
	sp.do(h, specCall{method: "GET", path: "/api/v1/session", offSpec: true}, 401)
}

// faqsAndMacros: the admin writes the FAQs and a macro; agents read them.
func (s *story) faqsAndMacros() {
	sp, h := s.spec, s.h
	sp.json(h, "GET", "/api/v1/faqs", s.ana, nil, 200)
	f := sp.json(h, "POST", "/api/v1/faqs", adminToken, map[string]any{"question": "Do you gift-wrap?", "answer": "Yes, for free.", "published": true, "position": 4}, 201)
	id := f["id"].(string)
	f = sp.json(h, "GET", "/api/v1/faqs/"+id, s.ana, nil, 200)
	f["answer"], f["kind"] = "Yes, for free, with a card.", "article"
	sp.json(h, "PUT", "/api/v1/faqs/"+id, adminToken, f, 200)
	sp.json(h, "PUT", "/api/v1/faqs/nope", adminToken, map[string]any{"question": "Q?", "answer": "A"}, 404)
	sp.do(h, specCall{method: "POST", path: "/api/v1/faqs", bearer: adminToken, json: map[string]any{"question": "Q?", "answer": "A", "kind": "blog"}, offSpec: true}, 400)
	sp.json(h, "POST", "/api/v1/faqs", s.ana, map[string]any{"question": "Q?", "answer": "A"}, 403)
	sp.json(h, "DELETE", "/api/v1/faqs/"+id, adminToken, nil, 204)
	sp.json(h, "GET", "/api/v1/faqs/"+id, adminToken, nil, 404)
	sp.json(h, "DELETE", "/api/v1/faqs/"+id, adminToken, nil, 404)

	m := sp.json(h, "POST", "/api/v1/macros", adminToken, map[string]any{"name": "Shipping", "body": "Hi {{first_name}}, your order ships today."}, 201)
	s.macro = m["id"].(string)
	m = sp.json(h, "GET", "/api/v1/macros/"+s.macro, s.ana, nil, 200)
	m["body"] = "Hi {{ first_name }}, your order ships today. — {{agent_name}}"
	sp.json(h, "PUT", "/api/v1/macros/"+s.macro, adminToken, m, 200)
	sp.json(h, "GET", "/api/v1/macros", s.ana, nil, 200)
	sp.json(h, "GET", "/api/v1/macros", s.store, nil, 403)
	sp.json(h, "POST", "/api/v1/macros", adminToken, map[string]any{"name": "Bad", "body": "Order {{order_id}}"}, 400)
	gone := sp.json(h, "POST", "/api/v1/macros", adminToken, map[string]any{"name": "Old", "body": "Bye"}, 201)["id"].(string)
	sp.json(h, "DELETE", "/api/v1/macros/"+gone, adminToken, nil, 204)
	sp.json(h, "GET", "/api/v1/macros/"+gone, s.ana, nil, 404)
}

// profiles: the store's backend writes the customer and an order.
func (s *story) profiles() {
	sp, h := s.spec, s.h
	sp.json(h, "PUT", "/api/v1/profiles/cust_ada", s.store, map[string]any{"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+46 (70) 123-45-67"}, 200)
	ev := map[string]any{"id": "order-1", "name": "Placed Order", "at": "2026-03-01T12:00:00+01:00", "properties": map[string]any{"total": 19.90, "items": []any{map[string]any{"sku": "A"}}}}
	sp.json(h, "POST", "/api/v1/profiles/cust_ada/events", s.store, ev, 201)
	sp.json(h, "POST", "/api/v1/profiles/cust_ada/events", s.store, ev, 200)
	sp.json(h, "POST", "/api/v1/profiles/cust_ada/events", adminToken, map[string]any{"name": "Viewed Product"}, 201)
	p := sp.json(h, "GET", "/api/v1/profiles/cust_ada?events_limit=1", s.ana, nil, 200)
	cursor, _ := p["events_next_cursor"].(string)
	if cursor == "" {
		s.t.Fatalf("a first page of one of two events: %v", p)
	}
	sp.json(h, "GET", "/api/v1/profiles/cust_ada?events_limit=1&events_cursor="+url.QueryEscape(cursor), s.store, nil, 200)
	sp.do(h, specCall{method: "GET", path: "/api/v1/profiles/cust_ada?events_limit=0", bearer: s.ana, offSpec: true}, 400)
	sp.json(h, "PUT", "/api/v1/profiles/"+url.PathEscape("gid://shopify/Customer/7"), s.store, map[string]any{"name": "Grace"}, 200)
	sp.json(h, "GET", "/api/v1/profiles/nobody", s.ana, nil, 404)
	sp.json(h, "PUT", "/api/v1/profiles/cust_ada", s.ana, map[string]any{"name": "Eve"}, 403)
	sp.do(h, specCall{method: "PUT", path: "/api/v1/profiles/cust_ada", bearer: s.store, json: map[string]any{"id": "x"}, offSpec: true}, 400)
}

// webhooks: the admin registers an endpoint that answers and one that
// keeps failing.
func (s *story) webhooks() {
	sp, h := s.spec, s.h
	all := []string{"ticket.created", "message.created", "ticket.assigned", "ticket.closed", "handoff"}
	w := sp.json(h, "POST", "/api/v1/webhooks", adminToken, map[string]any{"url": s.sink.srv.URL + "/hook", "events": all}, 201)
	s.sink.setSecret(w["secret"].(string))
	w = sp.json(h, "POST", "/api/v1/webhooks", adminToken, map[string]any{"url": s.failing.srv.URL + "/hook", "events": []string{"message.created"}}, 201)
	s.failing.id = w["id"].(string)
	sp.json(h, "POST", "/api/v1/webhooks", adminToken, map[string]any{"url": "ftp://example.com/hook", "events": all}, 400)
	sp.json(h, "GET", "/api/v1/webhooks", adminToken, nil, 200)
	sp.json(h, "GET", "/api/v1/webhooks", s.ana, nil, 403)
}

// chat: a shopper writes; the inbox hears it live, and an alert comes
// when the customer has waited.
func (s *story) chat() {
	sp, h := s.spec, s.h
	s.events = sp.stream(h, adminToken)
	nextSSE(s.t, s.events, "badge")
	s.shopper, _ = h.hello(token(s.t, "cust_ada", "Ada Lovelace"))
	s.ticket = startChat(s.t, s.shopper)
	sendMessage(s.t, s.shopper, "first", "Where is my order?")
	nextSSE(s.t, s.events, "ticket")
	s.shopper.send(frame{"type": "typing", "conversation": s.ticket})
	nextSSE(s.t, s.events, "typing")
	nextSSE(s.t, s.events, "alert")

	sp.json(h, "GET", "/api/v1/tickets?status=open&channel=webchat&assignee=none&limit=10", s.ana, nil, 200)
	sp.json(h, "GET", "/api/v1/tickets/"+s.ticket, s.ana, nil, 200)
	sp.json(h, "GET", "/api/v1/tickets/"+s.ticket+"?after=1", s.ana, nil, 200)
	sp.do(h, specCall{method: "GET", path: "/api/v1/tickets/" + s.ticket + "?after=first", bearer: s.ana, offSpec: true}, 400)
	sp.do(h, specCall{method: "GET", path: "/api/v1/tickets?status=lost", bearer: s.ana, offSpec: true}, 400)
	sp.json(h, "GET", "/api/v1/tickets/no-such-ticket", s.ana, nil, 404)
	sp.json(h, "GET", "/api/v1/inbox/badge", s.ana, nil, 200)
	sp.json(h, "POST", "/api/v1/tickets/"+s.ticket+"/read", s.ana, map[string]any{"seq": 2}, 204)
	sp.json(h, "POST", "/api/v1/tickets/"+s.ticket+"/typing", s.ana, nil, 204)
	sp.json(h, "POST", "/api/v1/tickets/no-such-ticket/typing", s.ana, nil, 404)
}

// uploads: the agent and the shopper upload images; what is not one, or
// too large, is refused.
func (s *story) uploads() {
	sp, h := s.spec, s.h
	upload := func(bearer string, p part, want int, offSpec bool) specAnswer {
		body, ct := form(s.t, p)
		return sp.do(h, specCall{method: "POST", path: "/api/v1/uploads", bearer: bearer, body: body, contentType: ct, offSpec: offSpec}, want)
	}
	s.picture = upload(s.ana, filePart("parcel.png", "image/png", tinyPNG(s.t)), 201, false).obj(s.t)["url"].(string)
	upload(token(s.t, "cust_ada", "Ada Lovelace"), filePart("photo.gif", "image/gif", tinyGIF(s.t)), 201, false)
	upload(s.ana, filePart("page.html", "text/html", []byte("<!doctype html><script>alert(1)</script>")), 415, false)
	upload(s.ana, filePart("big.png", "image/png", append(tinyPNG(s.t), make([]byte, 65<<10)...)), 413, false)
	upload(s.ana, filePart("bomb.png", "image/png", pngBomb()), 413, false)
	upload(s.ana, part{"picture", "x.png", "image/png", tinyPNG(s.t)}, 400, true)
	upload(s.store, filePart("x.png", "image/png", tinyPNG(s.t)), 403, false)
	upload("", filePart("x.png", "image/png", tinyPNG(s.t)), 401, true)
	sp.do(h, specCall{method: "POST", path: "/api/v1/uploads", bearer: s.ana, json: map[string]any{"file": "x"}, offSpec: true}, 400)

	preflight := func(origin string, want int) {
		sp.do(h, specCall{method: "OPTIONS", path: "/api/v1/uploads", header: http.Header{"Origin": {origin},
			"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization"}}}, want)
	}
	preflight("https://shop.example.com", 204)
	preflight("https://evil.example", 403)
}

// answer: the agent replies with the macro and the image, assigns,
// snoozes and closes; a closed ticket takes no more changes.
func (s *story) answer() {
	sp, h := s.spec, s.h
	path := "/api/v1/tickets/" + s.ticket
	reply := map[string]any{"client_id": "r1", "macro": s.macro, "attachments": []any{map[string]any{"url": s.picture, "content_type": "image/png"}}}
	seq := sp.json(h, "POST", path+"/messages", s.ana, reply, 201)["seq"]
	if again := sp.json(h, "POST", path+"/messages", s.ana, reply, 200)["seq"]; again != seq {
		s.t.Errorf("a repeated client_id answers seq %v, want %v", again, seq)
	}
	sp.json(h, "POST", path+"/messages", s.ana, map[string]any{"client_id": "r2", "macro": "no-such-macro"}, 400)
	sp.json(h, "POST", "/api/v1/tickets/no-such-ticket/messages", s.ana, map[string]any{"client_id": "r3", "text": "Hi"}, 404)
	sp.json(h, "POST", path+"/assign", s.ana, map[string]any{"agent": s.anaID}, 200)
	sp.json(h, "POST", path+"/assign", adminToken, map[string]any{"agent": nil}, 200)
	sp.json(h, "POST", path+"/assign", adminToken, map[string]any{"agent": "admin"}, 200)
	sp.json(h, "POST", path+"/assign", s.ana, map[string]any{"agent": "nobody"}, 400)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	sp.json(h, "POST", path+"/snooze", s.ana, map[string]any{"until": until}, 200)
	sp.json(h, "GET", "/api/v1/tickets?status=snoozed&assignee=me", adminToken, nil, 200)
	sp.json(h, "POST", path+"/snooze", s.ana, map[string]any{"until": "2001-01-01T00:00:00Z"}, 400)
	sp.json(h, "POST", path+"/read", s.ana, map[string]any{"seq": 999}, 400)
	sp.json(h, "POST", path+"/close", s.ana, nil, 200)
	sp.json(h, "POST", path+"/close", s.ana, nil, 409)
	sp.json(h, "POST", path+"/messages", s.ana, map[string]any{"client_id": "r4", "text": "One more thing"}, 409)
	sp.json(h, "POST", path+"/typing", s.ana, nil, 409)
	sp.json(h, "POST", path+"/assign", s.ana, map[string]any{"agent": s.anaID}, 409)
	sp.json(h, "POST", path+"/snooze", s.ana, map[string]any{"until": until}, 409)
	sp.json(h, "POST", path+"/read", s.ana, map[string]any{"seq": 3}, 409)
	sp.json(h, "POST", "/api/v1/tickets/no-such-ticket/close", s.ana, nil, 404)
	sp.json(h, "GET", "/api/v1/tickets?status=closed", s.ana, nil, 200)
	sp.json(h, "GET", path, s.ana, nil, 200) // started, messages, seen, assigned, ended
}

// sms: a text comes in, signed; the agent's answer goes out and its
// delivery is reported; a number that texted STOP gets no more.
func (s *story) sms() {
	sp, h := s.spec, s.h
	signed := func(path string, form url.Values, want int) {
		sp.do(h, specCall{method: "POST", path: path, body: []byte(form.Encode()), contentType: "application/x-www-form-urlencoded",
			header: http.Header{"X-Twilio-Signature": {twilio.Signature(smsToken, h.ts.URL+path, form)}}}, want)
	}
	inbound := "/api/v1/channels/sms/inbound"
	signed(inbound, inboundText("SM1", "Is my parcel lost?"), 200)
	signed(inbound, inboundText("SM1", "Is my parcel lost?"), 200) // the provider's retry
	form := inboundText("SM2", "Hello?")
	sp.do(h, specCall{method: "POST", path: inbound, body: []byte(form.Encode()), contentType: "application/x-www-form-urlencoded", offSpec: true}, 403)
	sp.do(h, specCall{method: "POST", path: inbound, body: []byte(`{"From":"+46701234567"}`), contentType: "application/json", offSpec: true,
		header: http.Header{"X-Twilio-Signature": {"x"}}}, 415)

	id := h.smsTicket()
	seq := sp.json(h, "POST", "/api/v1/tickets/"+id+"/messages", s.ana, map[string]any{"client_id": "s1", "text": "It is on its way."}, 201)["seq"]
	status := "/api/v1/channels/sms/status?conversation=" + id + "&seq=" + toJSON(seq)
	s.waitFor("the text to be queued", func() bool {
		return strings.Contains(string(sp.do(h, specCall{method: "GET", path: "/api/v1/tickets/" + id, bearer: s.ana}, 200).raw), `"status":"queued"`)
	})
	signed(status, url.Values{"MessageSid": {"SM9"}, "MessageStatus": {"delivered"}}, 204)
	signed("/api/v1/channels/sms/status?conversation=nope&seq=1", url.Values{"MessageSid": {"SM9"}, "MessageStatus": {"delivered"}}, 404)
	sp.do(h, specCall{method: "POST", path: "/api/v1/channels/sms/status", body: []byte("MessageStatus=sent"), contentType: "application/x-www-form-urlencoded", offSpec: true,
		header: http.Header{"X-Twilio-Signature": {twilio.Signature(smsToken, h.ts.URL+"/api/v1/channels/sms/status", url.Values{"MessageStatus": {"sent"}})}}}, 400)
	sp.json(h, "GET", "/api/v1/tickets/"+id, s.ana, nil, 200) // its deliveries

	signed(inbound, inboundText("SM3", "STOP"), 200)
	sp.json(h, "POST", "/api/v1/tickets/"+id+"/messages", s.ana, map[string]any{"client_id": "s2", "text": "Still there?"}, 409)
	sp.json(h, "GET", "/api/v1/tickets?channel=sms", s.ana, nil, 200)
}

// aiHandoff: with the AI agent on, a shopper who asks for a person is
// handed to the Helpdesk.
func (s *story) aiHandoff() {
	sp, h := s.spec, s.h
	sp.json(h, "PUT", "/api/v1/settings", adminToken, map[string]any{"ai": map[string]any{"enabled": true, "handoff": "helpdesk", "min_confidence": 0.5, "handoff_message": ""}}, 200)
	c, _ := h.hello(token(s.t, "cust_bo", "Bo"))
	conv := startChat(s.t, c)
	sendMessage(s.t, c, "m1", "Can I talk to a person?")
	handoffTo(s.t, c)
	sp.json(h, "GET", "/api/v1/tickets/"+conv, s.ana, nil, 200) // a handoff event
	sp.json(h, "PUT", "/api/v1/settings", adminToken, map[string]any{"ai": map[string]any{"enabled": false, "handoff": "helpdesk", "min_confidence": 0.5, "handoff_message": ""}}, 200)
}

// webhookStatus: the failing endpoint's deliveries show as failed; the
// answering one got the story.
func (s *story) webhookStatus() {
	sp, h := s.spec, s.h
	s.waitFor("the failing endpoint's deliveries to fail", func() bool {
		w := sp.json(h, "GET", "/api/v1/webhooks/"+s.failing.id, adminToken, nil, 200)
		return num(w["failed"]) > 0 && len(w["deliveries"].([]any)) > 0
	})
	s.waitFor("deliveries of every type", func() bool { return s.sink.types() >= 5 })
	sp.json(h, "DELETE", "/api/v1/webhooks/"+s.failing.id, adminToken, nil, 204)
	sp.json(h, "GET", "/api/v1/webhooks/"+s.failing.id, adminToken, nil, 404)
	sp.json(h, "DELETE", "/api/v1/webhooks/"+s.failing.id, adminToken, nil, 404)
}

// refusals: what every endpoint refuses alike.
func (s *story) refusals() {
	sp, h := s.spec, s.h
	for _, bearer := range []string{"", "not-a-token", token(s.t, "cust_ada", "Ada")} {
		a := sp.do(h, specCall{method: "GET", path: "/api/v1/tickets", bearer: bearer, offSpec: bearer == ""}, 401)
		if a.hdr.Get("WWW-Authenticate") == "" {
			s.t.Errorf("a 401 without WWW-Authenticate")
		}
	}
	sp.json(h, "GET", "/api/v1/tickets", s.store, nil, 403)
	sp.do(h, specCall{method: "POST", path: "/api/v1/faqs", bearer: adminToken, body: []byte(`{"question":"Q?","answer":"A"}`), contentType: "text/plain", offSpec: true}, 415)
	big := `{"question":"` + strings.Repeat("x", 2<<20) + `","answer":"A"}`
	sp.do(h, specCall{method: "POST", path: "/api/v1/faqs", bearer: adminToken, body: []byte(big), contentType: "application/json", offSpec: true}, 413)
	sp.do(h, specCall{method: "POST", path: "/api/v1/session", body: []byte(`{"token":"` + strings.Repeat("x", 9000) + `"}`), contentType: "application/json", offSpec: true}, 413)
}

// backupAndShutdown: a backup, then the server shuts down and answers 503.
func (s *story) backupAndShutdown() {
	sp, h := s.spec, s.h
	dir := filepath.Join(s.t.TempDir(), "backup")
	sp.json(h, "POST", "/api/v1/backup", adminToken, map[string]any{"dir": dir}, 200)
	doc := sp.do(h, specCall{method: "GET", path: "/api/v1/openapi.json", bearer: "any-token", offSpec: true}, 200)
	sp.do(h, specCall{method: "GET", path: "/api/v1/openapi.json", header: http.Header{"If-None-Match": {doc.hdr.Get("ETag")}}}, 304)
	sp.json(h, "POST", "/api/v1/backup", adminToken, map[string]any{"dir": dir}, 400)
	sp.json(h, "POST", "/api/v1/backup", s.ana, map[string]any{"dir": dir + "2"}, 403)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		s.t.Fatal(err)
	}
	sp.json(h, "GET", "/api/v1/inbox/badge", adminToken, nil, 503)
	sp.json(h, "POST", "/api/v1/faqs", adminToken, map[string]any{"question": "Late?", "answer": "Yes."}, 503)
	sp.do(h, specCall{method: "GET", path: "/api/v1/openapi.json"}, 503)
}

// rateLimited: a token over its rate gets 429 with Retry-After.
func rateLimited(t *testing.T, sp *specChecker) {
	h := start(t, Config{APIRate: 0.01, APIBurst: 1})
	sp.json(h, "GET", "/api/v1/inbox/badge", adminToken, nil, 200)
	a := sp.do(h, specCall{method: "GET", path: "/api/v1/inbox/badge", bearer: adminToken}, 429)
	if a.hdr.Get("Retry-After") == "" {
		t.Errorf("a 429 without Retry-After")
	}
}

func (s *story) waitFor(what string, ok func() bool) {
	s.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting for %s", what)
		}
	}
}

// hookSink is a store's webhook endpoint: it checks each delivery against
// the document (and its signature, once it knows the secret) and answers
// with status.
type hookSink struct {
	srv    *httptest.Server
	id     string
	mu     sync.Mutex
	secret string
	seen   map[string]bool // delivered types
}

func newHookSink(t *testing.T, spec *specChecker, status int) *hookSink {
	k := &hookSink{seen: map[string]bool{}}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		spec.checkDelivery(r.Header, body)
		k.mu.Lock()
		if k.secret != "" {
			if err := webhook.Verify(k.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
				t.Errorf("a delivery does not verify: %v", err)
			}
		}
		var typ struct{ Type string }
		_ = json.Unmarshal(body, &typ)
		k.seen[typ.Type] = true
		k.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *hookSink) setSecret(s string) {
	k.mu.Lock()
	k.secret = s
	k.mu.Unlock()
}

func (k *hookSink) types() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.seen)
}
