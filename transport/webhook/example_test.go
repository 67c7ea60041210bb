package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/webhook"
)

// A receiver of Parley's webhooks: it reads the raw body, verifies it with
// the secret it was shown when the webhook was registered, and acts on
// each webhook-id once, since a delivery may come more than once. Parley's
// Sender delivers to it here, twice, as the outbox does when an answer is
// lost; then a stranger posts without the secret.
func ExampleVerify() {
	secret, _ := webhook.NewSecret() // in the answer to POST /api/v1/webhooks, and only there

	var mu sync.Mutex
	handled := map[string]bool{} // ids acted on; a real receiver keeps them for longer than a day of retries
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhook.Verify(secret, r.Header, body, time.Now(), 0); err != nil {
			http.Error(w, "not signed by Parley", http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(webhook.HeaderID)
		mu.Lock()
		seen := handled[id]
		handled[id] = true
		mu.Unlock()
		if seen {
			fmt.Println("already handled", id)
			return // 200: Parley stops sending it
		}
		var event struct {
			Type string `json:"type"`
		}
		json.Unmarshal(body, &event) // only now, from the bytes that were verified
		fmt.Println("handling", event.Type, id)
	}))
	defer receiver.Close()

	sender := &webhook.Sender{AllowPrivate: true} // the receiver is on 127.0.0.1
	defer sender.CloseIdleConnections()
	endpoint := engine.Webhook{ID: "wh_1", URL: receiver.URL + "/parley", Events: []string{engine.WebhookTicketCreated}, Secret: secret}
	msg := engine.WebhookMessage{
		ID:        "msg_01JEXAMPLE",
		Timestamp: time.Now(),
		Body:      []byte(`{"type":"ticket.created","timestamp":"2026-05-04T09:12:03Z","data":{"ticket":{"id":"01JEXAMPLECONV"}}}`),
	}
	ctx := context.Background()
	sender.Send(ctx, endpoint, msg)
	sender.Send(ctx, endpoint, msg)

	stranger, _ := webhook.NewSecret()
	err := sender.Send(ctx, engine.Webhook{URL: endpoint.URL, Secret: stranger}, engine.WebhookMessage{ID: "msg_forged", Body: msg.Body})
	var refused *webhook.StatusError
	if errors.As(err, &refused) {
		fmt.Println("stranger:", refused)
	}
	// Output:
	// handling ticket.created msg_01JEXAMPLE
	// already handled msg_01JEXAMPLE
	// stranger: 401 Unauthorized: not signed by Parley
}
