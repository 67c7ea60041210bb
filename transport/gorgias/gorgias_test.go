package gorgias_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/gorgias"
	"github.com/parley-chat/parley/transport/httpcall"
)

const (
	username = "support@acme.example"
	apiKey   = "a3f7c1e9b2d84f6a9e0c5b7d1f3a8e2c4b6d9f0a1c3e5b7d"
)

var start = time.Date(2026, 5, 4, 9, 12, 3, 0, time.UTC)

func handoff() engine.HandoffRequest {
	return engine.HandoffRequest{
		Conversation: "01JEXAMPLECONV",
		ProfileID:    "cust-42",
		Name:         "Ana Svensson",
		Email:        "ana@example.com",
		StartedAt:    start.Add(-time.Minute),
		Subject:      "Where is my order #1042?",
		Transcript: []engine.TranscriptLine{
			{From: engine.PartyShopper, Author: "Ana Svensson", Text: "Where is my order #1042?", At: start},
			{From: engine.PartyAI, Text: "I could not find it; let me hand you over.", At: start.Add(3 * time.Second)},
			{From: engine.PartyShopper, Author: "Ana Svensson", Text: "Here is the receipt", At: start.Add(9 * time.Second),
				Attachments: []engine.Attachment{{URL: "https://chat.acme.example/u/3f9c.png", ContentType: "image/png"}}},
		},
	}
}

func settings(base string) engine.AISettings {
	return engine.AISettings{
		Enabled: true,
		Handoff: engine.HandoffGorgias,
		Gorgias: &engine.GorgiasSettings{BaseURL: base, Username: username, APIKey: apiKey},
	}
}

// seen is a request as the stand-in for Gorgias received it.
type seen struct {
	Method, Path, ContentType, Accept string
	User, Password                    string
	BasicAuth                         bool
	Body                              wireTicket
	DecodeErr                         error
}

// wireTicket is Create a ticket's body with the fields Gorgias documents
// for an incoming ticket on the API channel; decoding refuses any other.
type wireTicket struct {
	Customer struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"customer"`
	Subject    string `json:"subject"`
	ExternalID string `json:"external_id"`
	Channel    string `json:"channel"`
	Via        string `json:"via"`
	FromAgent  *bool  `json:"from_agent"`
	Messages   []struct {
		Channel   string `json:"channel"`
		Via       string `json:"via"`
		FromAgent *bool  `json:"from_agent"`
		Sender    struct {
			Email string `json:"email"`
		} `json:"sender"`
		Subject         string `json:"subject"`
		BodyText        string `json:"body_text"`
		CreatedDatetime string `json:"created_datetime"`
	} `json:"messages"`
}

// fakeGorgias is a stand-in for Gorgias' REST API: it passes each request
// it receives on to the test and answers with answer.
func fakeGorgias(t *testing.T, answer http.HandlerFunc) (*httptest.Server, <-chan seen) {
	t.Helper()
	requests := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept")}
		s.User, s.Password, s.BasicAuth = r.BasicAuth()
		raw, _ := io.ReadAll(r.Body)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		s.DecodeErr = dec.Decode(&s.Body)
		requests <- s
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, requests
}

// created answers as Gorgias does to a new ticket: with the ticket.
func created(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Gorgias-Account-Api-Call-Limit", "1/40")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"id":4213,"uri":"/api/tickets/4213/","external_id":"01JEXAMPLECONV","status":"open",
		"channel":"api","via":"api","from_agent":false,"spam":false,
		"customer":{"id":3924,"email":"ana@example.com","name":"Ana Svensson"},
		"subject":"Where is my order #1042?","messages":[{"id":9001,"channel":"api","via":"api","from_agent":false}],
		"created_datetime":"2026-05-04T09:12:20.000000+00:00"}`)
}

func TestCreateOpensATicketWithTheTranscript(t *testing.T) {
	srv, requests := fakeGorgias(t, created)
	c := &gorgias.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}

	id, err := c.Create(context.Background(), settings(srv.URL), "c/01JEXAMPLECONV/7/gorgias", handoff())
	if err != nil {
		t.Fatal(err)
	}
	if id != "4213" {
		t.Errorf("id = %q; want 4213", id)
	}
	s := <-requests
	if s.Method != "POST" || s.Path != "/api/tickets" {
		t.Errorf("request: %s %s; want POST /api/tickets", s.Method, s.Path)
	}
	if !s.BasicAuth || s.User != username || s.Password != apiKey {
		t.Errorf("basic credentials %q : %q (%v); want %q : the API key", s.User, s.Password, s.BasicAuth, username)
	}
	if s.ContentType != "application/json" || s.Accept != "application/json" {
		t.Errorf("Content-Type %q, Accept %q; want application/json for both", s.ContentType, s.Accept)
	}
	if s.DecodeErr != nil {
		t.Fatalf("body: %v", s.DecodeErr)
	}
	b := s.Body
	if b.Customer.Email != "ana@example.com" || b.Customer.Name != "Ana Svensson" {
		t.Errorf("customer %+v", b.Customer)
	}
	if b.Subject != "Where is my order #1042?" || b.ExternalID != "01JEXAMPLECONV" {
		t.Errorf("subject %q, external_id %q", b.Subject, b.ExternalID)
	}
	if b.Channel != "api" || b.Via != "api" || b.FromAgent == nil || *b.FromAgent {
		t.Errorf("ticket channel %q, via %q, from_agent %v; want api, api, false", b.Channel, b.Via, b.FromAgent)
	}
	if len(b.Messages) != 1 {
		t.Fatalf("%d messages; want the transcript as one", len(b.Messages))
	}
	m := b.Messages[0]
	if m.Channel != "api" || m.Via != "api" || m.FromAgent == nil || *m.FromAgent {
		t.Errorf("message channel %q, via %q, from_agent %v; want api, api, false", m.Channel, m.Via, m.FromAgent)
	}
	if m.Sender.Email != "ana@example.com" || m.Subject != b.Subject {
		t.Errorf("message sender %q, subject %q", m.Sender.Email, m.Subject)
	}
	if m.CreatedDatetime != "2026-05-04T09:12:03Z" {
		t.Errorf("created_datetime %q; want the first message's time", m.CreatedDatetime)
	}
	for _, line := range []string{
		"Shopper: Ana Svensson <ana@example.com>\n",
		"Conversation: 01JEXAMPLECONV\n",
		"[2026-05-04 09:12:03 UTC] Ana Svensson (shopper): Where is my order #1042?\n",
		"[2026-05-04 09:12:06 UTC] AI agent (ai): I could not find it; let me hand you over.\n",
		"[2026-05-04 09:12:12 UTC] Ana Svensson (shopper): Here is the receipt\n  attachment: https://chat.acme.example/u/3f9c.png (image/png)\n",
	} {
		if !strings.Contains(m.BodyText, line) {
			t.Errorf("body_text lacks %q:\n%s", line, m.BodyText)
		}
	}
}

func TestCreateFindsTheAPIUnderAnyFormOfTheBaseURL(t *testing.T) {
	srv, requests := fakeGorgias(t, created)
	c := &gorgias.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/api", srv.URL + "/api/"} {
		if _, err := c.Create(context.Background(), settings(base), "k", handoff()); err != nil {
			t.Errorf("base %q: %v", base, err)
			continue
		}
		if s := <-requests; s.Path != "/api/tickets" {
			t.Errorf("base %q: posted to %s", base, s.Path)
		}
	}
}

func TestCreateWithoutNameSubjectOrTimes(t *testing.T) {
	srv, requests := fakeGorgias(t, created)
	c := &gorgias.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	r := engine.HandoffRequest{Conversation: "c1", Email: "x@example.com",
		Transcript: []engine.TranscriptLine{{From: engine.PartyShopper, Text: "hello?"}}}
	if _, err := c.Create(context.Background(), settings(srv.URL), "", r); err != nil {
		t.Fatal(err)
	}
	s := <-requests
	if s.Body.Subject != "Chat with a shopper" || s.Body.Customer.Name != "" {
		t.Errorf("subject %q, customer name %q", s.Body.Subject, s.Body.Customer.Name)
	}
	if got := s.Body.Messages[0].CreatedDatetime; got != "" {
		t.Errorf("created_datetime %q for a conversation without times", got)
	}
}

// outcome is how the outbox would treat err.
func outcome(err error) string {
	switch d, ok := engine.RetryDelay(err); {
	case err == nil:
		return "ok"
	case engine.IsPermanent(err):
		return "permanent"
	case ok:
		return "retry after " + d.String()
	}
	return "retry"
}

func TestCreateSortsGorgiasAnswers(t *testing.T) {
	now := time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		body       string
		want       string
		says       string
	}{
		{"invalid field", 400, "", `{"error":{"msg":"Validation error","data":{"messages":{"0":{"sender":["Missing data for required field."]}}}}}`,
			"permanent", "Missing data for required field."},
		{"wrong key", 401, "", `{"error":{"msg":"Unauthorized"}}`, "permanent", "(as support@acme.example)"},
		{"role may not", 403, "", `{"error":{"msg":"You do not have the permission to perform this action"}}`, "permanent", "permission"},
		{"no such account", 404, "", `{"message":"Not found"}`, "permanent", "Not found"},
		{"too large", 413, "", `{"error":{"msg":"Payload Too Large"}}`, "permanent", "Payload Too Large"},
		{"rate limit in seconds", 429, "5", `{"error":{"msg":"Too many requests"}}`, "retry after 5s", "Too many requests"},
		{"rate limit as a date", 429, now.Add(90 * time.Second).Format(http.TimeFormat), "", "retry after 1m30s", "429 Too Many Requests"},
		{"rate limit without a wait", 429, "", "", "retry after 1m0s", "429 Too Many Requests"},
		{"request timeout", 408, "", "", "retry", "408 Request Timeout"},
		{"server error", 500, "", `{"error":{"msg":"Internal error"}}`, "retry", "Internal error"},
		{"unavailable", 503, "", "<html><body><h1>503 Service Unavailable</h1></body></html>", "retry", "503 Service Unavailable"},
		{"created without an id", 201, "", `{"uri":"/api/tickets/"}`, "permanent", "no ticket id"},
		{"created with a text id", 201, "", `{"id":"abc"}`, "permanent", "no ticket id"},
		{"created with nothing", 201, "", ``, "permanent", "no ticket id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeGorgias(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-after", tc.retryAfter) // as Gorgias spells it
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			c := &gorgias.Client{Client: httpcall.Client{HTTPClient: srv.Client(), Now: func() time.Time { return now }}}
			id, err := c.Create(context.Background(), settings(srv.URL), "k", handoff())
			if got := outcome(err); got != tc.want {
				t.Errorf("%s (%v); want %s", got, err, tc.want)
			}
			if id != "" {
				t.Errorf("id %q with an error", id)
			}
			if err == nil {
				return
			}
			if !strings.HasPrefix(err.Error(), "gorgias: ") || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q; want it to start with \"gorgias: \" and say %q", err, tc.says)
			}
			if strings.Contains(err.Error(), apiKey) {
				t.Errorf("error %q shows the API key", err)
			}
		})
	}
}

func TestCreateGivesUpOnASlowGorgias(t *testing.T) {
	release := make(chan struct{})
	srv, _ := fakeGorgias(t, func(w http.ResponseWriter, r *http.Request) {
		select { // answers long after the client's timeout
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := &gorgias.Client{Client: httpcall.Client{HTTPClient: srv.Client(), Timeout: 200 * time.Millisecond}}
	began := time.Now()
	_, err := c.Create(context.Background(), settings(srv.URL), "k", handoff())
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("gave up after %v; want about 200ms", took)
	}
	if outcome(err) != "retry" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v; want a deadline error worth retrying", err)
	}
}

func TestCreateStopsWhenTheContextEnds(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv, _ := fakeGorgias(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := &gorgias.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	began := time.Now()
	_, err := c.Create(ctx, settings(srv.URL), "k", handoff())
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("returned after %v", took)
	}
	if !errors.Is(err, context.Canceled) || engine.IsPermanent(err) {
		t.Errorf("got %v; want context.Canceled, not permanent", err)
	}

	_, err = c.Create(ctx, settings(srv.URL), "k", handoff()) // already cancelled
	if !errors.Is(err, context.Canceled) {
		t.Errorf("with a cancelled context: %v", err)
	}
}

func TestCreateRefusesIncompleteSettings(t *testing.T) {
	var hits atomic.Int32
	srv, _ := fakeGorgias(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1); created(w, r) })
	c := &gorgias.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	noEmail := handoff()
	noEmail.Email = ""
	for _, tc := range []struct {
		name string
		s    engine.AISettings
		r    engine.HandoffRequest
		says string
	}{
		{"no section", engine.AISettings{Handoff: engine.HandoffGorgias}, handoff(), "ai.gorgias"},
		{"no username", engine.AISettings{Gorgias: &engine.GorgiasSettings{BaseURL: srv.URL, APIKey: apiKey}}, handoff(), "ai.gorgias.username"},
		{"no key", engine.AISettings{Gorgias: &engine.GorgiasSettings{BaseURL: srv.URL, Username: username}}, handoff(), "ai.gorgias.api_key"},
		{"no base URL", settings(""), handoff(), "ai.gorgias.base_url"},
		{"not http", settings("acme.gorgias.com"), handoff(), "ai.gorgias.base_url"},
		{"credentials in the URL", settings("https://x:" + apiKey + "@acme.gorgias.com"), handoff(), "ai.gorgias.base_url"},
		{"shopper without e-mail", settings(srv.URL), noEmail, "no e-mail address"},
	} {
		_, err := c.Create(context.Background(), tc.s, "k", tc.r)
		if !engine.IsPermanent(err) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: got %v; want a permanent error naming %q", tc.name, err, tc.says)
		}
		if err != nil && strings.Contains(err.Error(), apiKey) {
			t.Errorf("%s: error %q shows the API key", tc.name, err)
		}
	}
	_, err := c.Create(context.Background(), settings(srv.URL), "k", noEmail)
	if !errors.Is(err, gorgias.ErrNoEmail) {
		t.Errorf("a shopper without e-mail: %v; want ErrNoEmail", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached Gorgias", n)
	}
}
