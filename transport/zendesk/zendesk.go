package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/httpcall"
	"github.com/parley-chat/parley/transport/transcript"
)

// DefaultTimeout bounds one attempt: see httpcall.DefaultTimeout.
const DefaultTimeout = httpcall.DefaultTimeout

// ErrNoEmail is the error, wrapped by engine.Permanent, of a handoff whose
// shopper has no e-mail address: a Zendesk agent could not answer them.
var ErrNoEmail = errors.New("zendesk: the shopper has no e-mail address, so a Zendesk agent could not answer them")

// A Client creates tickets in the Zendesk that the settings name (see
// engine.ZendeskSettings). The zero value is usable. A Client is safe for
// concurrent use as long as its fields do not change after the first call;
// it holds no state between calls but its HTTPClient's idle connections.
type Client struct {
	// Client sends the requests: its HTTPClient, Timeout (one attempt,
	// from the dial to the end of Zendesk's answer; the context given to
	// Create may end it sooner) and Now (for Retry-After dates), each
	// defaulted as httpcall.Client says. Redirects are never followed.
	httpcall.Client
}

var _ engine.HandoffTarget = (*Client)(nil)

// Create opens a Zendesk ticket for the handed-off conversation r, with
// the credentials of s.Zendesk, and returns the ticket's id
// (engine.HandoffTarget). key is the handoff's idempotency key, sent as
// Idempotency-Key; an empty key sends none.
//
// An error wrapped by engine.Permanent (missing or refused settings, a
// shopper without e-mail, a 4xx other than 408 and 429) is not worth
// retrying; one wrapped by engine.RetryAfter (a 429) asks for a wait; any
// other (a timeout, a 5xx) is worth retrying. No error contains the API
// token.
func (c *Client) Create(ctx context.Context, s engine.AISettings, key string, r engine.HandoffRequest) (string, error) {
	z := s.Zendesk
	switch {
	case z == nil:
		return "", engine.Permanent(errors.New("zendesk: the AI settings have no zendesk section (ai.zendesk)"))
	case z.Email == "":
		return "", engine.Permanent(errors.New("zendesk: ai.zendesk.email is empty"))
	case z.APIToken == "":
		return "", engine.Permanent(errors.New("zendesk: ai.zendesk.api_token is empty"))
	case r.Email == "":
		return "", engine.Permanent(ErrNoEmail)
	}
	u, err := httpcall.Endpoint(z.BaseURL, "/api/v2", "/tickets.json")
	if err != nil {
		return "", engine.Permanent(fmt.Errorf("zendesk: ai.zendesk.base_url %w", err))
	}
	h := http.Header{}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	body, err := c.Client.Post(ctx, httpcall.Request{
		Service:  "zendesk",
		URL:      u,
		Username: z.Email + "/token",
		Password: z.APIToken,
		Header:   h,
		Body:     newTicket(r),
	})
	if err != nil {
		return "", err
	}
	return ticketID(body)
}

// ticketRequest is the body of Create Ticket.
type ticketRequest struct {
	Ticket ticket `json:"ticket"`
}

type ticket struct {
	Subject    string    `json:"subject"`
	Comment    comment   `json:"comment"`
	Requester  requester `json:"requester"`
	ExternalID string    `json:"external_id"`
	Tags       []string  `json:"tags"`
}

type comment struct {
	Body   string `json:"body"`
	Public bool   `json:"public"`
}

type requester struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

func newTicket(r engine.HandoffRequest) ticketRequest {
	name := r.Name
	if name == "" {
		name = r.Email
	}
	return ticketRequest{ticket{
		Subject:    transcript.Subject(r),
		Comment:    comment{Body: transcript.Text(r), Public: false},
		Requester:  requester{Name: name, Email: r.Email},
		ExternalID: r.Conversation,
		Tags:       []string{"parley"},
	}}
}

// ticketID reads the new ticket's id from Create Ticket's answer,
// {"ticket": {"id": 35436, …}}.
func ticketID(body []byte) (string, error) {
	var answer struct {
		Ticket struct {
			ID json.Number `json:"id"`
		} `json:"ticket"`
	}
	err := json.Unmarshal(body, &answer)
	if err == nil {
		if id, perr := strconv.ParseUint(answer.Ticket.ID.String(), 10, 64); perr == nil && id > 0 {
			return strconv.FormatUint(id, 10), nil
		}
	}
	// A ticket was probably made: a retry would only make another.
	msg := httpcall.Message(body)
	if msg == "" {
		msg = "(an empty body)"
	}
	return "", engine.Permanent(fmt.Errorf("zendesk: the answer has no ticket.id: %s", msg))
}
