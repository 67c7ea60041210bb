package llm_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/llm"
)

// A Client is the model Answerer: built once in main, asked by the
// conversation with the settings of the moment and the articles its
// retrieval chose. Here an httptest server stands in for the model's API.
func ExampleClient_Answer() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"Yes! Returns are free within 30 days."}}]}`)
	}))
	defer api.Close()

	var answerer engine.Answerer = &llm.Client{Timeout: 20 * time.Second}
	settings := engine.AISettings{
		Enabled:       true,
		Handoff:       engine.HandoffHelpdesk,
		MinConfidence: 0.6,
		LLM:           &engine.LLMSettings{BaseURL: api.URL + "/v1", Model: "gpt-4o-mini", APIKey: "sk-…"},
	}
	knowledge := engine.NewKnowledge(engine.ArticlesOf(engine.SampleFAQs()))
	q := engine.Question{Text: "Can I send back a sweater?"}
	q.Articles = knowledge.Relevant(q, 3)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := answerer.Answer(ctx, settings, q)
	switch {
	case err != nil:
		// Permanent (a refused key, a model that does not exist), RetryAfter
		// (rate limited) or not (a timeout, a 5xx): the conversation hands
		// off either way, and an operator reads the error
		fmt.Println("error:", err)
	case a.Handoff || a.Confidence < settings.MinConfidence:
		fmt.Println("handed off")
	default:
		fmt.Println(a.Text)
	}
	// Output: Yes! Returns are free within 30 days.
}
