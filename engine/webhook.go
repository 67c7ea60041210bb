package engine

import (
	"context"
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
