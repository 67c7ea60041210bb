package zendesk_test

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
	"github.com/parley-chat/parley/transport/httpcall"
	"github.com/parley-chat/parley/transport/zendesk"
)

const (
	agentEmail = "support@acme.example"
	apiToken   = "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"
)

var start = time.Date(2026, 5, 4, 9, 12, 3, 0, time.UTC)

func handoff() engine.HandoffRequest {
	return engine.HandoffRequest{
		Conversation: "01JEXAMPLECONV",
		ProfileID:    "cust-42",
		Name:         "Ana Svensson",
		Email:        "ana@example.com",
		StartedAt:    start,
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
		Handoff: engine.HandoffZendesk,
		Zendesk: &engine.ZendeskSettings{BaseURL: base, Email: agentEmail, APIToken: apiToken},
	}
}

// seen is a request as the stand-in for Zendesk received it.
type seen struct {
	Method, Path, ContentType, Accept, Key string
	User, Password                         string
	BasicAuth                              bool
	Body                                   wireTicket
	DecodeErr                              error
}

// wireTicket is Create Ticket's body as Zendesk documents it; decoding
// refuses any other field.
type wireTicket struct {
	Ticket struct {
		Subject string `json:"subject"`
		Comment struct {
			Body   string `json:"body"`
			Public *bool  `json:"public"`
		} `json:"comment"`
		Requester struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"requester"`
		ExternalID string   `json:"external_id"`
		Tags       []string `json:"tags"`
	} `json:"ticket"`
}

// fakeZendesk is a stand-in for Zendesk's Ticketing API: it passes each
// request it receives on to the test and answers with answer.
func fakeZendesk(t *testing.T, answer http.HandlerFunc) (*httptest.Server, <-chan seen) {
	t.Helper()
	requests := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			Accept: r.Header.Get("Accept"), Key: r.Header.Get("Idempotency-Key")}
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

// created answers as Zendesk does to a new ticket.
func created(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Location", "https://acme.zendesk.com/api/v2/tickets/35436.json")
	w.Header().Set("X-Idempotency-Lookup", "miss")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"ticket":{"url":"https://acme.zendesk.com/api/v2/tickets/35436.json","id":35436,
		"external_id":"01JEXAMPLECONV","subject":"Where is my order #1042?","status":"new",
		"requester_id":20978392,"submitter_id":76872,"tags":["parley"],"created_at":"2026-05-04T09:12:20Z"},
		"audit":{"id":1,"ticket_id":35436,"events":[]}}`)
}

func TestCreateOpensATicketWithTheTranscript(t *testing.T) {
	srv, requests := fakeZendesk(t, created)
	c := &zendesk.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}

	id, err := c.Create(context.Background(), settings(srv.URL), "c/01JEXAMPLECONV/7/zendesk", handoff())
	if err != nil {
		t.Fatal(err)
	}
	if id != "35436" {
		t.Errorf("id = %q; want 35436", id)
	}
	s := <-requests
	if s.Method != "POST" || s.Path != "/api/v2/tickets.json" {
		t.Errorf("request: %s %s; want POST /api/v2/tickets.json", s.Method, s.Path)
	}
	if !s.BasicAuth || s.User != agentEmail+"/token" || s.Password != apiToken {
		t.Errorf("basic credentials %q : %q (%v); want %q : the token", s.User, s.Password, s.BasicAuth, agentEmail+"/token")
	}
	if s.ContentType != "application/json" || s.Accept != "application/json" {
		t.Errorf("Content-Type %q, Accept %q; want application/json for both", s.ContentType, s.Accept)
	}
	if s.Key != "c/01JEXAMPLECONV/7/zendesk" {
		t.Errorf("Idempotency-Key %q", s.Key)
	}
	if s.DecodeErr != nil {
		t.Fatalf("body: %v", s.DecodeErr)
	}
	tk := s.Body.Ticket
	if tk.Subject != "Where is my order #1042?" {
		t.Errorf("subject %q", tk.Subject)
	}
	if tk.Requester.Name != "Ana Svensson" || tk.Requester.Email != "ana@example.com" {
		t.Errorf("requester %+v", tk.Requester)
	}
	if tk.ExternalID != "01JEXAMPLECONV" {
		t.Errorf("external_id %q", tk.ExternalID)
	}
	if len(tk.Tags) != 1 || tk.Tags[0] != "parley" {
		t.Errorf("tags %q", tk.Tags)
	}
	if tk.Comment.Public == nil || *tk.Comment.Public {
		t.Errorf("comment.public = %v; want false", tk.Comment.Public)
	}
	for _, line := range []string{
		"Shopper: Ana Svensson <ana@example.com>\n",
		"Conversation: 01JEXAMPLECONV\n",
		"[2026-05-04 09:12:03 UTC] Ana Svensson (shopper): Where is my order #1042?\n",
		"[2026-05-04 09:12:06 UTC] AI agent (ai): I could not find it; let me hand you over.\n",
		"[2026-05-04 09:12:12 UTC] Ana Svensson (shopper): Here is the receipt\n  attachment: https://chat.acme.example/u/3f9c.png (image/png)\n",
	} {
		if !strings.Contains(tk.Comment.Body, line) {
			t.Errorf("the comment lacks %q:\n%s", line, tk.Comment.Body)
		}
	}
}

func TestCreateFindsTheAPIUnderAnyFormOfTheBaseURL(t *testing.T) {
	srv, requests := fakeZendesk(t, created)
	c := &zendesk.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/api/v2", srv.URL + "/api/v2/"} {
		if _, err := c.Create(context.Background(), settings(base), "k", handoff()); err != nil {
			t.Errorf("base %q: %v", base, err)
			continue
		}
		if s := <-requests; s.Path != "/api/v2/tickets.json" {
			t.Errorf("base %q: posted to %s", base, s.Path)
		}
	}
}

func TestCreateWithoutKeyOrSubject(t *testing.T) {
	srv, requests := fakeZendesk(t, created)
	c := &zendesk.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	r := handoff()
	r.Subject, r.Name = "", ""
	if _, err := c.Create(context.Background(), settings(srv.URL), "", r); err != nil {
		t.Fatal(err)
	}
	s := <-requests
	if s.Key != "" {
		t.Errorf("Idempotency-Key %q sent for an empty key", s.Key)
	}
	if s.Body.Ticket.Subject != "Chat with a shopper" {
		t.Errorf("subject %q", s.Body.Ticket.Subject)
	}
	if s.Body.Ticket.Requester.Name != "ana@example.com" {
		t.Errorf("requester name %q; want the e-mail in its place", s.Body.Ticket.Requester.Name)
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

func TestCreateSortsZendesksAnswers(t *testing.T) {
	now := time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		body       string
		want       string
		says       string
	}{
		{"wrong token", 401, "", `{"error":"Couldn't authenticate you"}`, "permanent", `Couldn't authenticate you`},
		{"no access", 403, "", `{"error":"Forbidden","description":"You do not have access to this page. Please contact the account owner of this help desk for further help."}`,
			"permanent", "You do not have access to this page"},
		{"no help desk", 404, "", `{"error":{"title":"No help desk at acme.zendesk.com","message":"There is no help desk configured at this address."}}`,
			"permanent", "No help desk at acme.zendesk.com"},
		{"invalid field", 422, "", `{"error":"RecordInvalid","description":"Record validation errors","details":{"requester":[{"description":"Requester: Email is invalid","error":"InvalidValue"}]}}`,
			"permanent", "Requester: Email is invalid"},
		{"rate limit in seconds", 429, "93", "Rate limit for ticket updates exceeded, please wait before updating this ticket again",
			"retry after 1m33s", "Rate limit for ticket updates exceeded"},
		{"rate limit as a date", 429, now.Add(2 * time.Minute).Format(http.TimeFormat), `{"error":"TooManyRequests"}`,
			"retry after 2m0s", "TooManyRequests"},
		{"rate limit without a wait", 429, "", "", "retry after 1m0s", "429 Too Many Requests"},
		{"request timeout", 408, "", "", "retry", "408 Request Timeout"},
		{"server error", 500, "", `{"error":"InternalServerError"}`, "retry", "InternalServerError"},
		{"bad gateway", 502, "", "<html><body>Bad Gateway</body></html>", "retry", "Bad Gateway"},
		{"unavailable", 503, "", `{"error":"Maintenance"}`, "retry", "Maintenance"},
		{"maintenance with a wait", 503, "30", "", "retry after 30s", "503 Service Unavailable"},
		{"created without an id", 201, "", `{"ticket":{"subject":"x"}}`, "permanent", "ticket.id"},
		{"created with nothing", 201, "", ``, "permanent", "ticket.id"},
		{"created with an id of 0", 201, "", `{"ticket":{"id":0}}`, "permanent", "ticket.id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeZendesk(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			c := &zendesk.Client{Client: httpcall.Client{HTTPClient: srv.Client(), Now: func() time.Time { return now }}}
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
			if !strings.HasPrefix(err.Error(), "zendesk: ") || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q; want it to start with \"zendesk: \" and say %q", err, tc.says)
			}
			if strings.Contains(err.Error(), apiToken) {
				t.Errorf("error %q shows the API token", err)
			}
		})
	}
}

func TestCreateGivesUpOnASlowZendesk(t *testing.T) {
	release := make(chan struct{})
	srv, _ := fakeZendesk(t, func(w http.ResponseWriter, r *http.Request) {
		select { // answers long after the client's timeout
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := &zendesk.Client{Client: httpcall.Client{HTTPClient: srv.Client(), Timeout: 200 * time.Millisecond}}
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
	srv, _ := fakeZendesk(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := &zendesk.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
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
	srv, _ := fakeZendesk(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1); created(w, r) })
	c := &zendesk.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	noEmail := handoff()
	noEmail.Email = ""
	for _, tc := range []struct {
		name string
		s    engine.AISettings
		r    engine.HandoffRequest
		says string
	}{
		{"no section", engine.AISettings{Handoff: engine.HandoffZendesk}, handoff(), "ai.zendesk"},
		{"no e-mail", engine.AISettings{Zendesk: &engine.ZendeskSettings{BaseURL: srv.URL, APIToken: apiToken}}, handoff(), "ai.zendesk.email"},
		{"no token", engine.AISettings{Zendesk: &engine.ZendeskSettings{BaseURL: srv.URL, Email: agentEmail}}, handoff(), "ai.zendesk.api_token"},
		{"no base URL", settings(""), handoff(), "ai.zendesk.base_url"},
		{"not http", settings("ftp://acme.zendesk.com"), handoff(), "ai.zendesk.base_url"},
		{"credentials in the URL", settings("https://x:" + apiToken + "@acme.zendesk.com"), handoff(), "ai.zendesk.base_url"},
		{"shopper without e-mail", settings(srv.URL), noEmail, "no e-mail address"},
	} {
		_, err := c.Create(context.Background(), tc.s, "k", tc.r)
		if !engine.IsPermanent(err) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: got %v; want a permanent error naming %q", tc.name, err, tc.says)
		}
		if err != nil && strings.Contains(err.Error(), apiToken) {
			t.Errorf("%s: error %q shows the API token", tc.name, err)
		}
	}
	_, err := c.Create(context.Background(), settings(srv.URL), "k", noEmail)
	if !errors.Is(err, zendesk.ErrNoEmail) {
		t.Errorf("a shopper without e-mail: %v; want ErrNoEmail", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached Zendesk", n)
	}
}
