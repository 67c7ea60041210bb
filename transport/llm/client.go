package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/engine"
)

// Defaults of Client.
const (
	// DefaultTimeout bounds one request, from the dial to the last byte of
	// the reply. PROTOCOL §3 gives an answerer 20 s before the
	// conversation is handed off.
	DefaultTimeout = 20 * time.Second
	// DefaultMaxTokens caps an answer at about 300 English words: a chat
	// answer is a few sentences.
	DefaultMaxTokens = 400
	// DefaultMaxHistory is how many of the conversation's latest messages
	// go with the question: enough for "and for shoes?" to make sense.
	DefaultMaxHistory = 10
)

// Limits that are not settings.
const (
	// maxReplyBytes bounds the reply read: a chat completion of
	// DefaultMaxTokens is a few kilobytes.
	maxReplyBytes = 1 << 20
	// maxErrorRunes bounds the API's own message quoted in an error.
	maxErrorRunes = 200
)

// ErrNotConfigured is the error, wrapped by engine.Permanent, of a question
// asked with no `ai.llm` in the settings.
var ErrNotConfigured = errors.New("llm: no model is configured (ai.llm)")

// ErrMalformed is wrapped by the error of a reply that is not a chat
// completion: not JSON, no choices, a content that is not text.
var ErrMalformed = errors.New("llm: the reply is not a chat completion")

// StatusError is an API's answer with a status other than 2xx: the status
// and the API's own message, if it gave one (with the key blanked out).
// Answer wraps it in engine.Permanent or engine.RetryAfter as the status
// says.
type StatusError struct {
	StatusCode int
	Message    string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("llm: the model API answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// A Client asks a model behind an OpenAI-compatible Chat Completions API
// (see the package doc). Its zero value is usable, with the defaults that
// EnsureDefaults fills in. Requests are always made at temperature 0, so
// that one question gets the same answer each time it is asked. A Client
// is safe for concurrent use as long as its fields do not change after the
// first question; it keeps no state between questions.
type Client struct {
	// HTTPClient sends the requests. Default: http.DefaultClient. Its own
	// Timeout, if any, applies besides Client.Timeout.
	HTTPClient *http.Client

	// Timeout bounds one request, from the dial to the last byte of the
	// reply; the context given to Answer may end it sooner. A model that
	// has not answered by then gets the question abandoned with an error
	// that is not Permanent. Default: DefaultTimeout.
	Timeout time.Duration

	// MaxTokens caps the answer (the request's max_tokens). A model cut
	// short by it answers with what it wrote so far. Default:
	// DefaultMaxTokens.
	MaxTokens int

	// MaxHistory is how many of the conversation's latest messages go with
	// the question (system messages are left out). Default:
	// DefaultMaxHistory; negative sends none.
	MaxHistory int

	// Now is the clock that turns a Retry-After date into a wait.
	// Default: time.Now.
	Now func() time.Time
}

var _ engine.Answerer = (*Client)(nil)

// EnsureDefaults fills in every zero field with its default and returns c.
func (c *Client) EnsureDefaults() *Client {
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if c.MaxHistory == 0 {
		c.MaxHistory = DefaultMaxHistory
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Answer asks the model of s.LLM to answer q from q.Articles
// (engine.Answerer). It does not read s.MinConfidence: an answer has
// confidence 1, a handoff is Answer.Handoff. With no articles it hands off
// without asking, since the model is to answer from them only. Sources
// are the ids of the articles it was given. See the package doc for the
// errors; none contains s.LLM.APIKey.
func (c *Client) Answer(ctx context.Context, s engine.AISettings, q engine.Question) (engine.Answer, error) {
	var cl Client
	if c != nil {
		cl = *c // a copy, so that EnsureDefaults writes nothing shared
	}
	cl.EnsureDefaults()
	if s.LLM == nil {
		return engine.Answer{}, engine.Permanent(ErrNotConfigured)
	}
	if len(q.Articles) == 0 {
		return engine.Answer{Handoff: true}, nil
	}
	body, err := json.Marshal(chatRequest{
		Model:       s.LLM.Model,
		Messages:    messages(q, cl.MaxHistory),
		Temperature: 0,
		MaxTokens:   cl.MaxTokens,
	})
	if err != nil {
		return engine.Answer{}, fmt.Errorf("llm: encoding the request: %w", err)
	}
	content, err := cl.complete(ctx, *s.LLM, body)
	if err != nil {
		return engine.Answer{}, err
	}
	return answerOf(content, q.Articles), nil
}

// chatRequest is the body of POST /chat/completions. Temperature is
// always sent, even at 0, since an API's default is not 0.
type chatRequest struct {
	Model       string    `json:"model"`
	Messages    []message `json:"messages"`
	Temperature float64   `json:"temperature"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// complete posts body to the chat completions endpoint of s and returns
// the first choice's content.
func (c *Client) complete(ctx context.Context, s engine.LLMSettings, body []byte) (string, error) {
	u, err := url.Parse(s.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", engine.Permanent(errors.New("llm: ai.llm.base_url is not an http(s) URL"))
	}
	u = u.JoinPath("chat/completions") // keeps a query, as Azure's api-version
	endpoint := u.Redacted()
	rctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", engine.Permanent(fmt.Errorf("llm: POST %s: %s", redact(endpoint, s.APIKey), redact(err.Error(), s.APIKey)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "parley")
	if s.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.APIKey)
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return "", c.transportError(ctx, rctx, endpoint, s.APIKey, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return "", c.transportError(ctx, rctx, endpoint, s.APIKey, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", c.statusError(resp, data, s.APIKey)
	}
	if len(data) > maxReplyBytes {
		return "", fmt.Errorf("%w: it is larger than %d bytes", ErrMalformed, maxReplyBytes)
	}
	return contentOf(data, s.APIKey)
}

// transportError names a request that got no answer: cancelled by the
// caller, timed out, or failed on the network. The URL is the endpoint
// with the key blanked out, never the *url.Error's own text.
func (c *Client) transportError(parent, rctx context.Context, endpoint, key string, err error) error {
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("llm: the question was withdrawn: %w", context.Cause(parent))
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("llm: no answer within %v: %w", c.Timeout, context.DeadlineExceeded)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text without the URL, which may hold the key
	}
	if key != "" && strings.Contains(err.Error(), key) {
		return fmt.Errorf("llm: POST %s: %s", redact(endpoint, key), redact(err.Error(), key))
	}
	return fmt.Errorf("llm: POST %s: %w", redact(endpoint, key), err)
}

// statusError classifies an answer with a status other than 2xx.
func (c *Client) statusError(resp *http.Response, data []byte, key string) error {
	e := &StatusError{StatusCode: resp.StatusCode, Message: apiMessage(data, key)}
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), c.Now()); ok {
			return engine.RetryAfter(e, d)
		}
		return e
	case code == http.StatusRequestTimeout:
		return e
	case code >= 400 && code <= 499:
		return engine.Permanent(e)
	}
	return e
}

// retryAfter parses a Retry-After header: seconds, or an HTTP date (a date
// past is a wait of 0).
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > int64(24*time.Hour/time.Second) {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, t.Sub(now)), true
}

// apiMessage is the message of an OpenAI-style error body
// ({"error":{"message":…}}, or {"error":"…"}), clipped, on one line,
// with the key blanked out; "" if the body has none.
func apiMessage(data []byte, key string) string {
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &body) != nil || len(body.Error) == 0 {
		return ""
	}
	var msg string
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body.Error, &obj) == nil {
		msg = obj.Message
	} else if json.Unmarshal(body.Error, &msg) != nil {
		return ""
	}
	msg = strings.Join(strings.Fields(redact(msg, key)), " ")
	if utf8.RuneCountInString(msg) > maxErrorRunes {
		msg = string([]rune(msg)[:maxErrorRunes-1]) + "…"
	}
	return msg
}

// redact blanks out key wherever it is in s.
func redact(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[api key]")
}
