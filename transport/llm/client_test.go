package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/llm"
)

const testKey = "sk-test-0123456789abcdef"

// model is an httptest server standing in for a Chat Completions API: it
// checks each request as an OpenAI-compatible API would receive it and
// answers with reply.
type model struct {
	t     *testing.T
	srv   *httptest.Server
	reply http.HandlerFunc
	got   chan chatRequest // every request it was sent, decoded
}

type chatRequest struct {
	Model       string  `json:"model"`
	Temperature float64 `json:"temperature"`
	MaxTokens   int     `json:"max_tokens"`
	Messages    []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	raw map[string]json.RawMessage
}

func newModel(t *testing.T, reply http.HandlerFunc) *model {
	m := &model{t: t, reply: reply, got: make(chan chatRequest, 10)}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *model) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method != http.MethodPost:
		m.t.Errorf("method %s, want POST", r.Method)
	case r.URL.Path != "/v1/chat/completions":
		m.t.Errorf("path %s, want /v1/chat/completions", r.URL.Path)
	case r.Header.Get("Authorization") != "Bearer "+testKey:
		m.t.Errorf("Authorization %q, want the key as a bearer token", r.Header.Get("Authorization"))
	case r.Header.Get("Content-Type") != "application/json":
		m.t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		m.t.Errorf("reading the request: %v", err)
	}
	var req chatRequest
	if err := json.Unmarshal(data, &req); err != nil {
		m.t.Errorf("the request is not JSON: %v\n%s", err, data)
	}
	if err := json.Unmarshal(data, &req.raw); err != nil {
		m.t.Errorf("the request is not a JSON object: %v", err)
	}
	m.got <- req
	m.reply(w, r)
}

// settings point the AI agent at m.
func (m *model) settings() engine.AISettings {
	s := engine.DefaultSettings().AI
	s.Enabled = true
	s.LLM = &engine.LLMSettings{BaseURL: m.srv.URL + "/v1", Model: "gpt-test", APIKey: testKey}
	return s
}

// client is a Client of m, with a short timeout for the slow tests.
func (m *model) client() *llm.Client {
	return &llm.Client{HTTPClient: m.srv.Client(), Timeout: 2 * time.Second}
}

func completion(content string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
			"choices": []any{map[string]any{
				"index":         0,
				"message":       map[string]any{"role": "assistant", "content": content},
				"finish_reason": "stop",
			}},
			"usage": map[string]int{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
		})
		w.Write(body)
	}
}

func answerWith(status int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

var question = engine.Question{
	Text: "Can I return a swimsuit I tried on?",
	History: []engine.TranscriptLine{
		{From: engine.PartyAI, Text: "Hi! How can I help?"},
		{From: engine.PartyShopper, Text: "Hello, I have a question about returns"},
		{From: engine.PartySystem, Text: "We're away right now."},
		{From: engine.PartyAI, Text: "Of course, what would you like to know?"},
	},
	Articles: []engine.Article{
		{ID: "a1", Title: "Which items cannot be returned?", Body: "Swimwear whose hygiene sticker has been removed cannot be returned."},
		{ID: "a2", Title: "How do I return an item?", Body: "Returns are free within 30 days."},
	},
}

// A question goes out as one OpenAI Chat Completions request, grounded in
// the articles, and the model's text comes back as the answer.
func TestAnswerAsksTheModel(t *testing.T) {
	m := newModel(t, completion("  Swimwear can be returned only with its hygiene sticker on.\n"))
	a, err := m.client().Answer(t.Context(), m.settings(), question)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Answer{Text: "Swimwear can be returned only with its hygiene sticker on.", Confidence: 1, Sources: []string{"a1", "a2"}}
	if a.Text != want.Text || a.Confidence != 1 || a.Handoff || strings.Join(a.Sources, ",") != "a1,a2" {
		t.Errorf("answer %+v, want %+v", a, want)
	}

	req := <-m.got
	if req.Model != "gpt-test" {
		t.Errorf("model %q", req.Model)
	}
	if string(req.raw["temperature"]) != "0" {
		t.Errorf("temperature %s, want 0, sent", req.raw["temperature"])
	}
	if req.MaxTokens != llm.DefaultMaxTokens {
		t.Errorf("max_tokens %d", req.MaxTokens)
	}
	var roles []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	// the AI's welcome before the shopper's first word and the system
	// message are left out; the turns alternate
	if got := strings.Join(roles, ","); got != "system,user,assistant,user" {
		t.Fatalf("roles %s, want system,user,assistant,user", got)
	}
	sys := req.Messages[0].Content
	for _, s := range []string{
		"Which items cannot be returned?", "Swimwear whose hygiene sticker has been removed cannot be returned.",
		"How do I return an item?", "Returns are free within 30 days.",
		"only from the store's articles", "shopper's language", "[HANDOFF]", "asks for a person",
	} {
		if !strings.Contains(sys, s) {
			t.Errorf("the system prompt lacks %q:\n%s", s, sys)
		}
	}
	if got := req.Messages[1].Content; got != "Hello, I have a question about returns" {
		t.Errorf("first user turn %q", got)
	}
	if got := req.Messages[2].Content; got != "Of course, what would you like to know?" {
		t.Errorf("assistant turn %q", got)
	}
	if got := req.Messages[3].Content; got != question.Text {
		t.Errorf("last turn %q, want the question", got)
	}
}

// What the model replies decides between an answer and a handoff; a reply
// that is not a chat completion is an error that names it.
func TestAnswerReadsTheReply(t *testing.T) {
	long := strings.Repeat("ä", 5000)
	tests := []struct {
		name    string
		reply   http.HandlerFunc
		want    engine.Answer
		wantErr string // a substring of the error; "" for none
	}{
		{"text", completion("Yes, within 30 days."), engine.Answer{Text: "Yes, within 30 days.", Confidence: 1}, ""},
		{"handoff", completion("[HANDOFF]"), engine.Answer{Handoff: true}, ""},
		{"handoff among words", completion("I'm not sure. [HANDOFF]"), engine.Answer{Handoff: true}, ""},
		{"empty content", completion(""), engine.Answer{Handoff: true}, ""},
		{"blank content", completion(" \n\t"), engine.Answer{Handoff: true}, ""},
		{"null content", answerWith(200, nil, `{"choices":[{"message":{"role":"assistant","content":null}}]}`), engine.Answer{Handoff: true}, ""},
		{"content parts", answerWith(200, nil, `{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"Yes, "},{"type":"text","text":"free."}]}}]}`),
			engine.Answer{Text: "Yes, free.", Confidence: 1}, ""},
		{"too long", completion(long), engine.Answer{Text: strings.Repeat("ä", engine.MaxTextRunes-1) + "…", Confidence: 1}, ""},
		{"no choices", answerWith(200, nil, `{"id":"x","choices":[]}`), engine.Answer{}, "it has no choices"},
		{"an error with 200", answerWith(200, nil, `{"error":{"message":"model overloaded"}}`), engine.Answer{}, "model overloaded"},
		{"not JSON", answerWith(200, map[string]string{"Content-Type": "text/html"}, `<html>Welcome to nginx</html>`), engine.Answer{}, "not a chat completion"},
		{"content a number", answerWith(200, nil, `{"choices":[{"message":{"content":42}}]}`), engine.Answer{}, "content is neither text"},
		{"no message", answerWith(200, nil, `{"choices":[{"text":"legacy completion"}]}`), engine.Answer{}, "no message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModel(t, tt.reply)
			a, err := m.client().Answer(t.Context(), m.settings(), question)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, llm.ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed naming %q", err, tt.wantErr)
				}
				if engine.IsPermanent(err) {
					t.Errorf("%v is Permanent", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want.Handoff {
				tt.want.Sources = []string{"a1", "a2"}
			}
			if a.Text != tt.want.Text || a.Handoff != tt.want.Handoff || a.Confidence != tt.want.Confidence ||
				strings.Join(a.Sources, ",") != strings.Join(tt.want.Sources, ",") {
				t.Errorf("answer %+v, want %+v", a, tt.want)
			}
		})
	}
}

// An API's error status is classified for the caller: what asking again
// cannot mend is Permanent, a wait the API asks for is RetryAfter, the
// rest may pass; the key never shows in an error, even when the API
// quotes it.
func TestAnswerClassifiesErrors(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	echo := `{"error":{"message":"Incorrect API key provided: ` + testKey + `","type":"invalid_request_error","code":"invalid_api_key"}}`
	tests := []struct {
		name      string
		reply     http.HandlerFunc
		permanent bool
		retry     time.Duration // -1 for no RetryAfter
		wantErr   string
	}{
		{"401", answerWith(401, nil, echo), true, -1, "401 Unauthorized: Incorrect API key provided: [api key]"},
		{"403", answerWith(403, nil, `{"error":{"message":"Project does not have access to model"}}`), true, -1, "403 Forbidden: Project does not have access"},
		{"404", answerWith(404, nil, `{"error":{"message":"The model gpt-test does not exist"}}`), true, -1, "404 Not Found"},
		{"400", answerWith(400, nil, `{"error":"context length exceeded"}`), true, -1, "400 Bad Request: context length exceeded"},
		{"408", answerWith(408, nil, ``), false, -1, "408 Request Timeout"},
		{"429 seconds", answerWith(429, map[string]string{"Retry-After": "7"}, `{"error":{"message":"Rate limit reached"}}`), false, 7 * time.Second, "429 Too Many Requests: Rate limit reached"},
		{"429 date", answerWith(429, map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, ``), false, 90 * time.Second, "429"},
		{"429 without Retry-After", answerWith(429, nil, ``), false, -1, "429"},
		{"429 with a bad Retry-After", answerWith(429, map[string]string{"Retry-After": "soon"}, ``), false, -1, "429"},
		{"500", answerWith(500, nil, `{"error":{"message":"The server had an error"}}`), false, -1, "500 Internal Server Error: The server had an error"},
		{"502 HTML", answerWith(502, map[string]string{"Content-Type": "text/html"}, `<html>Bad gateway</html>`), false, -1, "502 Bad Gateway"},
		{"503 Retry-After", answerWith(503, map[string]string{"Retry-After": "30"}, ``), false, 30 * time.Second, "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModel(t, tt.reply)
			c := m.client()
			c.Now = func() time.Time { return now }
			_, err := c.Answer(t.Context(), m.settings(), question)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "llm: ") {
				t.Errorf("err = %q, want it to name %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("err = %q holds the API key", err)
			}
			if engine.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
			}
			d, ok := engine.RetryDelay(err)
			if (tt.retry >= 0) != ok || (ok && d != tt.retry) {
				t.Errorf("RetryDelay = %v, %v; want %v", d, ok, tt.retry)
			}
			var se *llm.StatusError
			if !errors.As(err, &se) {
				t.Errorf("err = %v, want a *StatusError", err)
			}
		})
	}
}

// A model that does not answer within the Client's timeout gets the
// question abandoned, with an error worth retrying.
func TestAnswerTimesOut(t *testing.T) {
	m := newModel(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	c := m.client()
	c.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := c.Answer(t.Context(), m.settings(), question)
	if !errors.Is(err, context.DeadlineExceeded) || engine.IsPermanent(err) {
		t.Fatalf("err = %v, want a deadline that is not Permanent", err)
	}
	if !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("err = %q", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

// A question the conversation withdraws (a newer message came) ends its
// request at once.
func TestAnswerHonoursCancel(t *testing.T) {
	arrived := make(chan struct{})
	m := newModel(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := m.client().Answer(ctx, m.settings(), question)
	if !errors.Is(err, context.Canceled) || engine.IsPermanent(err) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("err = %q holds the API key", err)
	}
}

// A model that cannot be reached is an error worth retrying that names the
// endpoint but not the key, even a key in the base URL.
func TestAnswerNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	s := engine.AISettings{LLM: &engine.LLMSettings{BaseURL: base + "/v1/?key=" + testKey, Model: "m", APIKey: testKey}}
	_, err := (&llm.Client{Timeout: 2 * time.Second}).Answer(t.Context(), s, question)
	if err == nil || engine.IsPermanent(err) {
		t.Fatalf("err = %v, want an error that is not Permanent", err)
	}
	if strings.Contains(err.Error(), testKey) || !strings.Contains(err.Error(), base+"/v1/chat/completions?key=[api key]") {
		t.Errorf("err = %q: want the endpoint named, the key not", err)
	}
}

// Without a model in the settings, or without articles to answer from, the
// model is not asked.
func TestAnswerWithoutModelOrArticles(t *testing.T) {
	m := newModel(t, completion("should not be asked"))
	_, err := m.client().Answer(t.Context(), engine.AISettings{}, question)
	if !errors.Is(err, llm.ErrNotConfigured) || !engine.IsPermanent(err) {
		t.Errorf("err = %v, want Permanent ErrNotConfigured", err)
	}
	q := question
	q.Articles = nil
	a, err := m.client().Answer(t.Context(), m.settings(), q)
	if err != nil || !a.Handoff {
		t.Errorf("answer %+v, %v; want a handoff", a, err)
	}
	select {
	case <-m.got:
		t.Error("the model was asked")
	default:
	}
}

// The history sent is the latest MaxHistory messages; the articles are
// bounded, best first; the zero Client works with its defaults.
func TestAnswerBoundsThePrompt(t *testing.T) {
	m := newModel(t, completion("ok"))
	q := engine.Question{Text: "and the last one?"}
	for i := range 30 {
		from := engine.PartyShopper
		if i%2 == 1 {
			from = engine.PartyAgent
		}
		q.History = append(q.History, engine.TranscriptLine{From: from, Text: "message " + string(rune('A'+i%26)) + string(rune('a'+i/26))})
	}
	q.History = append(q.History, engine.TranscriptLine{From: engine.PartyShopper, Text: q.Text}) // the question itself, at the end
	big := strings.Repeat("word ", 4000)                                                          // 20,000 runes
	q.Articles = []engine.Article{{ID: "1", Title: "First", Body: big}, {ID: "2", Title: "Second", Body: "short"}, {ID: "3", Title: "Third", Body: big}}
	c := m.client()
	c.MaxHistory = 4
	if _, err := c.Answer(t.Context(), m.settings(), q); err != nil {
		t.Fatal(err)
	}
	req := <-m.got
	var turns []string
	for _, msg := range req.Messages[1:] {
		turns = append(turns, msg.Role+":"+msg.Content)
	}
	got := strings.Join(turns, "|")
	if got != "user:message Ab|assistant:message Bb|user:message Cb|assistant:message Db|user:and the last one?" {
		t.Errorf("turns %q", got)
	}
	sys := req.Messages[0].Content
	if !strings.Contains(sys, "Article 1: First") || !strings.Contains(sys, "Article 2: Second") || strings.Contains(sys, "Third") {
		t.Errorf("articles in the prompt: want the first two within the bound, not the third")
	}
	if n := len([]rune(sys)); n > 25000 {
		t.Errorf("system prompt of %d runes", n)
	}
}

// A base URL's query (Azure's api-version) stays on the endpoint; a base
// URL that is not http(s) is a Permanent error.
func TestAnswerBaseURL(t *testing.T) {
	m := newModel(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("api-version"); got != "2024-10-21" {
			t.Errorf("api-version %q", got)
		}
		completion("ok")(w, r)
	})
	s := m.settings()
	s.LLM.BaseURL = m.srv.URL + "/v1/?api-version=2024-10-21"
	if _, err := m.client().Answer(t.Context(), s, question); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"ftp://example.com/v1", "example.com/v1", "http://%zz"} {
		s.LLM.BaseURL = base
		if _, err := m.client().Answer(t.Context(), s, question); !engine.IsPermanent(err) {
			t.Errorf("base %q: err = %v, want Permanent", base, err)
		}
	}
}
