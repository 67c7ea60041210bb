package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/wsclient"
)

// S10, C6: a handoff to Zendesk is owed from the moment it is stored: while
// Zendesk is unavailable it is retried, a kill -9 of the server loses it
// not, and once Zendesk answers the ticket is made, once, every attempt
// carrying the same idempotency key; then the shopper's chat ends.
func TestZendeskHandoffSurvivesAKill(t *testing.T) {
	var (
		mu       sync.Mutex
		up       bool
		keys     []string
		accepted int
	)
	zd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		accepted++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"ticket":{"id":35436}}`)
	}))
	defer zd.Close()
	attempts := func() int { mu.Lock(); defer mu.Unlock(); return len(keys) }

	bin := crashBuild(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data", data, "--identity-secret", "s3cret", "--admin-token", "adm1n"}
	child := startChild(t, bin, args...)
	putJSON(t, child.addr, "/api/v1/settings", map[string]any{"ai": map[string]any{
		"enabled": true, "handoff": "zendesk", "min_confidence": 0.6,
		"zendesk": map[string]any{"base_url": zd.URL, "email": "admin@acme.com", "api_token": "zd-token"}}})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, started, tok := child.chatAs(ctx, t, "s3cret", engine.Visitor{ProfileID: "cust-7", Name: "Ada Lovelace", Email: "ada@example.com"})
	if _, err := conn.SendMessage(ctx, wsclient.Message{ClientID: "m1", Text: "Can I talk to a human, please?"}); err != nil {
		t.Fatal(err)
	}
	conn.CloseNow()
	for deadline := time.Now().Add(10 * time.Second); attempts() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Zendesk was never asked:\n%s", child.logs.String())
		}
	}
	child.kill()

	mu.Lock()
	up = true
	mu.Unlock()
	child = startChild(t, bin, args...)
	conn, err := wsclient.Dial(ctx, "ws://"+child.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if _, err := conn.Hello(ctx, tok, &wsclient.Resume{Conversation: started.Conversation}); err != nil {
		t.Fatal(err)
	}
	var story []string
	for {
		f, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("no end of the chat; the shopper saw %q: %v", story, err)
		}
		if f.Type != "event" {
			continue
		}
		story = append(story, f.Event.Kind+"/"+f.Event.From+f.Event.Target+f.Event.By)
		if f.Event.Kind == "ended" {
			break
		}
	}
	want := []string{"started/", "message/shopper", "handoff/zendesk", "message/system", "message/system", "ended/system"}
	if !slices.Equal(story, want) {
		t.Fatalf("the shopper saw %q, want %q", story, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if accepted != 1 || len(keys) < 2 {
		t.Fatalf("Zendesk made %d tickets in %d attempts", accepted, len(keys))
	}
	for _, k := range keys {
		if k != keys[0] || k == "" {
			t.Fatalf("idempotency keys %q: one handoff, one key", keys)
		}
	}
	child.stop(t)
}

// putJSON PUTs body to path as the admin, and wants 200.
func putJSON(t *testing.T, addr, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer adm1n")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, out)
	}
}
