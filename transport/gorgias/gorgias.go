package gorgias

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/httpcall"
	"github.com/parley-chat/parley/transport/transcript"
)

// DefaultTimeout bounds one attempt: see httpcall.DefaultTimeout.
const DefaultTimeout = httpcall.DefaultTimeout

// ErrNoEmail is the error, wrapped by engine.Permanent, of a handoff whose
// shopper has no e-mail address: Gorgias could not tell who the customer
// is, nor could an agent answer them.
var ErrNoEmail = errors.New("gorgias: the shopper has no e-mail address, so a Gorgias agent could not answer them")

// A Client creates tickets in the Gorgias that the settings name (see
// engine.GorgiasSettings). The zero value is usable. A Client is safe for
// concurrent use as long as its fields do not change after the first call;
// it holds no state between calls but its HTTPClient's idle connections.
type Client struct {
	// Client sends the requests: its HTTPClient, Timeout (one attempt,
	// from the dial to the end of Gorgias's answer; the context given to
	// Create may end it sooner) and Now (for Retry-After dates), each
	// defaulted as httpcall.Client says. Redirects are never followed.
	httpcall.Client
}

var _ engine.HandoffTarget = (*Client)(nil)

// Create opens a Gorgias ticket for the handed-off conversation r, with
// the credentials of s.Gorgias, and returns the ticket's id
// (engine.HandoffTarget). key is not sent: Gorgias takes none (see the
// package doc).
//
// An error wrapped by engine.Permanent (missing or refused settings, a
// shopper without e-mail, a 4xx other than 408 and 429) is not worth
// retrying; one wrapped by engine.RetryAfter (a 429) asks for a wait; any
// other (a timeout, a 5xx) is worth retrying. No error contains the API
// key.
func (c *Client) Create(ctx context.Context, s engine.AISettings, key string, r engine.HandoffRequest) (string, error) {
	g := s.Gorgias
	switch {
	case g == nil:
		return "", engine.Permanent(errors.New("gorgias: the AI settings have no gorgias section (ai.gorgias)"))
	case g.Username == "":
		return "", engine.Permanent(errors.New("gorgias: ai.gorgias.username is empty"))
	case g.APIKey == "":
		return "", engine.Permanent(errors.New("gorgias: ai.gorgias.api_key is empty"))
	case r.Email == "":
		return "", engine.Permanent(ErrNoEmail)
	}
	u, err := httpcall.Endpoint(g.BaseURL, "/api", "/tickets")
	if err != nil {
		return "", engine.Permanent(fmt.Errorf("gorgias: ai.gorgias.base_url %w", err))
	}
	body, err := c.Client.Post(ctx, httpcall.Request{
		Service:  "gorgias",
		URL:      u,
		Username: g.Username,
		Password: g.APIKey,
		Body:     newTicket(r),
	})
	if err != nil {
		return "", err
	}
	return ticketID(body)
}

// ticket is the body of Create a ticket.
type ticket struct {
	Customer   customer  `json:"customer"`
	Subject    string    `json:"subject"`
	ExternalID string    `json:"external_id"`
	Channel    string    `json:"channel"`
	Via        string    `json:"via"`
	FromAgent  bool      `json:"from_agent"`
	Messages   []message `json:"messages"`
}

type customer struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

type message struct {
	Channel         string `json:"channel"`
	Via             string `json:"via"`
	FromAgent       bool   `json:"from_agent"`
	Sender          sender `json:"sender"`
	Subject         string `json:"subject"`
	BodyText        string `json:"body_text"`
	CreatedDatetime string `json:"created_datetime,omitempty"`
}

type sender struct {
	Email string `json:"email"`
}

// The channel and via of an incoming ticket made through the API.
const (
	channelAPI = "api"
	viaAPI     = "api"
)

func newTicket(r engine.HandoffRequest) ticket {
	subject := transcript.Subject(r)
	return ticket{
		Customer:   customer{Email: r.Email, Name: r.Name},
		Subject:    subject,
		ExternalID: r.Conversation,
		Channel:    channelAPI,
		Via:        viaAPI,
		FromAgent:  false,
		Messages: []message{{
			Channel:         channelAPI,
			Via:             viaAPI,
			FromAgent:       false,
			Sender:          sender{Email: r.Email},
			Subject:         subject,
			BodyText:        transcript.Text(r),
			CreatedDatetime: began(r),
		}},
	}
}

// began is when the conversation began, as Gorgias writes times, or ""
// when nobody knows.
func began(r engine.HandoffRequest) string {
	t := r.StartedAt
	if len(r.Transcript) > 0 && !r.Transcript[0].At.IsZero() {
		t = r.Transcript[0].At
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ticketID reads the new ticket's id from Create a ticket's answer, the
// ticket: {"id": 123, …}.
func ticketID(body []byte) (string, error) {
	var answer struct {
		ID json.Number `json:"id"`
	}
	if json.Unmarshal(body, &answer) == nil {
		if id, err := strconv.ParseUint(answer.ID.String(), 10, 64); err == nil && id > 0 {
			return strconv.FormatUint(id, 10), nil
		}
	}
	// A ticket was probably made: a retry would only make another.
	msg := httpcall.Message(body)
	if msg == "" {
		msg = "(an empty body)"
	}
	return "", engine.Permanent(fmt.Errorf("gorgias: the answer has no ticket id: %s", msg))
}
