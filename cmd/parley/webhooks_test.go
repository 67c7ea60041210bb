package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/webhook"
	"github.com/parley-chat/parley/transport/wsclient"
)

// I3: webhook deliveries are owed from the moment their change is stored:
// while the endpoint fails they are retried, a kill -9 of the server in
// the middle of the retries loses none, and once the endpoint answers it
// accepts every notice exactly once, signed, in the ticket's order.
func TestWebhooksSurviveAKill(t *testing.T) {
	var (
		mu       sync.Mutex
		up       bool
		secret   string
		attempts int
		accepted []string // "type text" in the order accepted
		ids      = map[string]int{}
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if err := webhook.Verify(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("delivery does not verify: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if !up {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var n struct {
			Type string `json:"type"`
			Data struct {
				Event struct {
					Event struct {
						Text string `json:"text"`
					} `json:"event"`
				} `json:"event"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &n)
		ids[r.Header.Get("webhook-id")]++
		accepted = append(accepted, n.Type+" "+n.Data.Event.Event.Text)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	bin := crashBuild(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data", data, "--identity-secret", "s3cret", "--admin-token", "adm1n", "--webhook-allow-private"}
	child := startChild(t, bin, args...)
	created := postAdmin(t, child.addr, "/api/v1/webhooks", map[string]any{
		"url": rcv.URL + "/parley", "events": []string{"ticket.created", "message.created"}})
	mu.Lock()
	secret, _ = created["secret"].(string)
	mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, _, _ := child.chatAs(ctx, t, "s3cret", engine.Visitor{ProfileID: "cust-9", Name: "Ada"})
	want := []string{"ticket.created "}
	for i := range 4 {
		text := fmt.Sprintf("message %d", i)
		if _, err := conn.SendMessage(ctx, wsclient.Message{ClientID: fmt.Sprint("m", i), Text: text}); err != nil {
			t.Fatal(err)
		}
		want = append(want, "message.created "+text)
	}
	conn.CloseNow()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := attempts
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the endpoint was tried %d times:\n%s", n, child.logs.String())
		}
	}
	child.kill()

	mu.Lock()
	up = true
	mu.Unlock()
	child = startChild(t, bin, args...)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d notices accepted after the restart:\n%s", n, len(want), child.logs.String())
		}
	}
	time.Sleep(500 * time.Millisecond) // no late repeats
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(accepted, want) {
		t.Fatalf("accepted %q, want %q", accepted, want)
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("webhook-id %s accepted %d times", id, n)
		}
	}
	child.stop(t)
}

// postAdmin POSTs body to path as the admin, wants 201 and returns the
// answer.
func postAdmin(t *testing.T, addr, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer adm1n")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
