package zendesk_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/httpcall"
	"github.com/parley-chat/parley/transport/zendesk"
)

// A Client is the Zendesk HandoffTarget: built once in main, called by the
// outbox with the AI settings of the moment and the handoff's key, which
// stays the same on every attempt at one handoff. Here a stand-in answers
// for https://acme.zendesk.com.
func ExampleClient_Create() {
	acme := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"ticket":{"id":35436,"status":"new"}}`)
	}))
	defer acme.Close()

	var target engine.HandoffTarget = &zendesk.Client{Client: httpcall.Client{HTTPClient: acme.Client()}}
	settings := engine.AISettings{
		Enabled: true,
		Handoff: engine.HandoffZendesk,
		Zendesk: &engine.ZendeskSettings{BaseURL: acme.URL, Email: "support@acme.example", APIToken: "…"},
	}
	handoff := engine.HandoffRequest{
		Conversation: "01JEXAMPLE",
		Name:         "Ana Svensson",
		Email:        "ana@example.com",
		Subject:      "Where is my order?",
		Transcript: []engine.TranscriptLine{
			{From: engine.PartyShopper, Text: "Where is my order?", At: time.Now()},
		},
	}

	id, err := target.Create(context.Background(), settings, "c/01JEXAMPLE/5/zendesk", handoff)
	switch {
	case err == nil:
		fmt.Println("Zendesk ticket", id)
	case engine.IsPermanent(err):
		// refused for good (credentials, a field, no e-mail): fall back to
		// a Helpdesk ticket
	default:
		// a timeout, a 5xx, a 429 (engine.RetryDelay says how long to
		// wait): try again while the handoff's time allows
	}
	// Output: Zendesk ticket 35436
}
