package engine

import (
	"context"
	"strings"
	"time"
)

// Webhook event types (I3).
const (
	WebhookTicketCreated  = "ticket.created"
	WebhookMessageCreated = "message.created"
	WebhookTicketAssigned = "ticket.assigned"
	WebhookTicketClosed   = "ticket.closed"
	WebhookHandoff        = "handoff"
)

// WebhookEvents are the event types an endpoint may subscribe to, in the
// order they are delivered when one change causes several.
var WebhookEvents = []string{WebhookTicketCreated, WebhookMessageCreated, WebhookTicketAssigned, WebhookHandoff, WebhookTicketClosed}

// Webhook is an endpoint of the store's that hears about its tickets.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"` // "whsec_<base64>"; shown once, when created
	CreatedAt time.Time `json:"created_at"`
}

// Wants reports whether w subscribes to event type t.
func (w Webhook) Wants(t string) bool { return contains(w.Events, t) }

// WebhookMessage is one delivery to an endpoint: its id (the same on every
// attempt, for the receiver to drop repeats), when it was first sent, and
// the JSON body that is signed.
type WebhookMessage struct {
	ID        string
	Timestamp time.Time
	Body      []byte
}

// WebhookSender delivers a message to an endpoint, signed with its secret.
// Errors are sorted like every outbox target's.
type WebhookSender interface {
	Send(ctx context.Context, w Webhook, m WebhookMessage) error
}

// WebhookNotice is what an endpoint hears about one change of a ticket:
// the event type, the ticket's row after the change (nil for a handoff of
// a chat that is not a ticket) and the conversation event, if the type has
// one. ID names the notice for the receiver; it is the same for every
// endpoint and on every attempt.
type WebhookNotice struct {
	ID     string     `json:"id"`
	Type   string     `json:"type"`
	At     time.Time  `json:"at"`
	Ticket *TicketRow `json:"ticket,omitempty"`
	Event  *Event     `json:"event,omitempty"`
}

// WebhookNotifier delivers notices to endpoints: it renders a notice as
// the wire shows tickets and events, signs it and sends it.
type WebhookNotifier interface {
	Notify(ctx context.Context, w Webhook, n WebhookNotice) error
}

// MaxWebhooks is how many endpoints a store may register.
const MaxWebhooks = 50

// ValidateWebhook checks an endpoint as an admin registers it, apart from
// where its URL points (the transport checks that).
func ValidateWebhook(w Webhook) error {
	if err := requiredURL("url", w.URL); err != nil {
		return err
	}
	if len(w.URL) > 2048 {
		return Invalid("url", "is longer than 2048 bytes")
	}
	if len(w.Events) == 0 {
		return Invalid("events", "must name at least one of %s", strings.Join(WebhookEvents, ", "))
	}
	seen := map[string]bool{}
	for _, e := range w.Events {
		if !contains(WebhookEvents, e) {
			return Invalid("events", "unknown event %q (use %s)", e, strings.Join(WebhookEvents, ", "))
		}
		if seen[e] {
			return Invalid("events", "%q is named twice", e)
		}
		seen[e] = true
	}
	return nil
}
