package transport

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// A field that no frame has is refused with invalid naming it, and the
// frame changes nothing: a hello whose token is misspelt does not make the
// visitor anonymous, and the socket stays usable.
func TestUnknownFrameFieldIsRefused(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(nil)
	c.send(frame{"type": "hello", "jwt": token(t, "p1", "Ada")})
	if e := c.expectError("invalid"); e["field"] != "jwt" {
		t.Fatalf("error %v: want the field jwt named", e)
	}
	c.send(frame{"type": "chat.start"})
	c.expectError("hello_required") // the bad hello did not count

	c.send(frame{"type": "hello", "token": token(t, "p1", "Ada")})
	w := c.readType("welcome")
	if v := w["visitor"].(frame); v["logged_in"] != true {
		t.Fatalf("welcome %v", w)
	}
	startChat(t, c)
	c.send(frame{"type": "message.send", "client_id": "m1", "text": "hi", "priority": "high"})
	if e := c.expectError("invalid"); e["field"] != "priority" || e["client_id"] != "m1" {
		t.Fatalf("error %v: want field priority and client_id m1", e)
	}
	ack, _ := sendMessage(t, c, "m1", "hi") // nothing was stored under m1
	if num(ack["seq"]) != 2 {
		t.Fatalf("ack %v", ack)
	}
}

// A JSON API body declared as another type is refused with 415 and changes
// nothing; JSON, a JSON-based type and a body without a type are read.
func TestAPIBodyMustBeJSON(t *testing.T) {
	h := start(t, Config{})
	put := func(contentType, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, h.ts.URL+"/api/v1/settings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	body := `{"webchat":{"enabled":true,"login_mode":"all","welcome_message":"Hej!"}}`
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"} {
		status, out := put(ct, body)
		if code, field := errCode(out); status != http.StatusUnsupportedMediaType || code != "invalid" || field != "Content-Type" {
			t.Fatalf("%s: %d %v, want 415 invalid naming Content-Type", ct, status, out)
		}
	}
	if w := h.sys.Settings().Webchat.WelcomeMessage; w != "Hi! How can we help?" {
		t.Fatalf("a refused body changed the welcome to %q", w)
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "application/merge-patch+json", ""} {
		if status, out := put(ct, body); status != http.StatusOK {
			t.Fatalf("%q: %d %v", ct, status, out)
		}
	}
}

// A setting that would turn on a feature this server does not have (a
// handoff to a helpdesk or a model it has no client for; e-mail without a
// mailer) is refused with 400 naming it, and changes nothing: an admin
// never believes a switch is doing something it is not.
func TestSettingsOfFeaturesNotServedAreRefused(t *testing.T) {
	h := start(t, Config{})
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"ai": map[string]any{"enabled": true, "handoff": "zendesk", "min_confidence": 0.6,
			"zendesk": map[string]any{"base_url": "https://acme.zendesk.com", "email": "a@acme.com", "api_token": "t"}}}, "ai.handoff"},
		{map[string]any{"ai": map[string]any{"enabled": true, "handoff": "helpdesk", "min_confidence": 0.6,
			"llm": map[string]any{"base_url": "https://llm.example/v1", "model": "m", "api_key": "k"}}}, "ai.llm"},
		{map[string]any{"notifications": map[string]any{"email": map[string]any{"enabled": true, "to": []string{"team@example.com"},
			"from": "parley@example.com", "smtp": map[string]any{"addr": "smtp.example.com:587"}}}}, "notifications.email.enabled"},
		{map[string]any{"waiting_alert_after": "500ms"}, "waiting_alert_after"}, // at least 1s, or 0s
	} {
		code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, tc.body)
		if c, field := errCode(body); code != http.StatusBadRequest || c != "invalid" || field != tc.field {
			t.Errorf("PUT %v: %d %v, want 400 naming %s", tc.body, code, body, tc.field)
		}
	}
	s := h.sys.Settings()
	if s.AI.Enabled || s.Notifications.Email.Enabled || s.WaitingAlertAfter != engine.Duration(4*time.Minute) {
		t.Fatalf("refused settings were stored: %+v", s)
	}
	// The same sections with the feature off are accepted.
	code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{
		"ai": map[string]any{"enabled": false, "handoff": "helpdesk", "min_confidence": 0.7}, "waiting_alert_after": "90s"})
	if code != http.StatusOK {
		t.Fatalf("PUT with the features off: %d %v", code, body)
	}
}

// An FAQ body with a field it has no place for is refused naming it; one
// sent back whole as GET showed it (id, updated_at) is taken.
func TestFAQBodyRefusesUnknownFields(t *testing.T) {
	h := start(t, Config{})
	code, body, _ := h.do("POST", "/api/v1/faqs", adminToken, map[string]any{"question": "Q?", "answr": "A."})
	if c, field := errCode(body); code != http.StatusBadRequest || c != "invalid" || field != "answr" {
		t.Fatalf("POST with a misspelt field: %d %v", code, body)
	}
	code, body, _ = h.do("POST", "/api/v1/faqs", adminToken, map[string]any{"question": "Q?", "answer": "A.", "published": true})
	if code != http.StatusCreated {
		t.Fatalf("POST: %d %v", code, body)
	}
	body["answer"] = "B."
	code, body, _ = h.do("PUT", "/api/v1/faqs/"+body["id"].(string), adminToken, body)
	if code != http.StatusOK || body["answer"] != "B." {
		t.Fatalf("PUT of the FAQ as GET showed it: %d %v", code, body)
	}
}
