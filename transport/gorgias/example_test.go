package gorgias_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/gorgias"
	"github.com/parley-chat/parley/transport/httpcall"
)

// A Client is the Gorgias HandoffTarget: built once in main, called by the
// outbox with the AI settings of the moment. Here a stand-in answers for
// https://acme.gorgias.com.
func ExampleClient_Create() {
	acme := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":4213,"uri":"/api/tickets/4213/","status":"open"}`)
	}))
	defer acme.Close()

	var target engine.HandoffTarget = &gorgias.Client{Client: httpcall.Client{HTTPClient: acme.Client()}}
	settings := engine.AISettings{
		Enabled: true,
		Handoff: engine.HandoffGorgias,
		Gorgias: &engine.GorgiasSettings{BaseURL: acme.URL, Username: "support@acme.example", APIKey: "…"},
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

	id, err := target.Create(context.Background(), settings, "c/01JEXAMPLE/5/gorgias", handoff)
	switch {
	case err == nil:
		fmt.Println("Gorgias ticket", id)
	case engine.IsPermanent(err):
		// refused for good (credentials, a field, no e-mail): fall back to
		// a Helpdesk ticket
	default:
		// a timeout, a 5xx, a 429 (engine.RetryDelay says how long to
		// wait): try again while the handoff's time allows
	}
	// Output: Gorgias ticket 4213
}
