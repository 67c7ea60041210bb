package transport

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// lockedBuffer is a log sink the server writes to from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Tokens never reach the logs, at any level, whether they are accepted or
// refused: shopper identity tokens, the admin token and agents' tokens.
func TestTokensAreNeverLogged(t *testing.T) {
	logs := &lockedBuffer{}
	h := start(t, Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	good := token(t, "p-log", "Ada")
	forged, _ := identity.Mint([]byte("not the store secret"), engine.Visitor{ProfileID: "p-log"}, 1e9, h.srv.cfg.Now())
	a, _ := h.hello(good)
	startChat(t, a)
	sendMessage(t, a, "m1", "hello")
	bad := h.dial(nil)
	bad.send(frame{"type": "hello", "token": forged})
	bad.expectError("unauthorized")
	_, agentToken, err := h.sys.CreateAgent(t.Context(), engine.Agent{Name: "Ana", Role: engine.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	h.do("GET", "/api/v1/tickets", adminToken, nil)
	h.do("GET", "/api/v1/tickets", agentToken, nil)
	h.do("GET", "/api/v1/tickets", "wrong-"+agentToken, nil)
	h.do("GET", "/api/v1/tickets", good, nil) // a shopper token is refused on the API
	out := logs.String()
	if out == "" {
		t.Fatal("nothing was logged: the test would prove nothing")
	}
	for name, secret := range map[string]string{"identity token": good, "forged token": forged,
		"admin token": adminToken, "agent token": agentToken} {
		if strings.Contains(out, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}

// Input a client controls cannot start a log line of its own: values are
// quoted by the structured handler, so a forged "level=ERROR" stays inside
// the attribute it came in.
func TestLogLinesCannotBeForged(t *testing.T) {
	logs := &lockedBuffer{}
	h := start(t, Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	forged := `https://evil.example" level=ERROR msg="forged`
	req, _ := http.NewRequest("GET", h.ts.URL+"/ws", nil)
	req.Header.Set("Origin", forged)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d", resp.StatusCode)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(line, "evil.example") {
			continue
		}
		found = true
		if strings.Contains(line, "level=ERROR") && !strings.Contains(line, `\"`) {
			t.Errorf("the origin escaped its attribute: %s", line)
		}
		if !strings.HasPrefix(line, "time=") || strings.Count(line, " level=") != 2 || !strings.Contains(line, " level=INFO ") {
			t.Errorf("a forged record: %s", line)
		}
	}
	if !found {
		t.Fatal("the refused origin was not logged: the test would prove nothing")
	}
}

// No metric label carries a user, ticket, conversation or agent id: label
// values are bounded, so the metrics cannot leak or explode.
func TestMetricLabelsCarryNoIDs(t *testing.T) {
	h := start(t, Config{})
	a, _ := h.hello(token(t, "p-metrics-4711", "Ada"))
	conv := startChat(t, a)
	sendMessage(t, a, "m1", "hello")
	code, _, _ := h.do("POST", "/api/v1/tickets/"+conv+"/messages", adminToken, map[string]any{"client_id": "a1", "text": "hi"})
	if code != http.StatusCreated {
		t.Fatalf("reply: %d", code)
	}
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) == 0 {
		t.Fatal("no metrics: the test would prove nothing")
	}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				if strings.Contains(v, conv) || strings.Contains(v, "p-metrics-4711") || strings.Contains(v, "/tickets/0") {
					t.Errorf("%s{%s=%q} carries an id", mf.GetName(), l.GetName(), v)
				}
			}
		}
	}
}

// The agent API is authorized by a bearer header only, never by a cookie, so
// a cross-site page cannot make a browser call it on an agent's behalf.
func TestAPIIgnoresAmbientCredentials(t *testing.T) {
	h := start(t, Config{})
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/faqs", strings.NewReader(`{"question":"q","answer":"a"}`))
	req.Header.Set("Cookie", "session="+adminToken+"; token="+adminToken)
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a cookie-only request: %d, want 401", resp.StatusCode)
	}
	if n := len(h.sys.FAQs()); n != len(engine.SampleFAQs()) {
		t.Fatalf("%d FAQs after a refused request", n)
	}
}
