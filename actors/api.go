package actors

import (
	"time"

	"github.com/parley-chat/parley/actors/outbox"

	"github.com/parley-chat/parley/engine"
)

// ConversationInfo is a conversation as a shopper's socket knows it.
type ConversationInfo struct {
	ID      string `json:"id"`
	Status  string `json:"status"` // "open" or "ended"
	LastSeq uint64 `json:"last_seq"`
}

// Posted is the answer to a message: its seq, and whether it was a repeat of a
// message already stored with the same client_id (then nothing was stored).
type Posted struct {
	Conversation string
	Channel      engine.Channel // the conversation's (webchat today; e-mail and SMS tickets later)
	Seq          uint64
	Duplicate    bool
}

// Subscriber receives a conversation's events in seq order. The conversation
// actor calls its methods from inside Receive, so they must never block:
// Deliver queues the event or reports false, and the actor then drops the
// subscriber (a slow client is disconnected, never allowed to stall an actor).
type Subscriber interface {
	// Deliver queues one event. It returns false if the subscriber is gone or
	// its queue is full; it is then unsubscribed and Ended is not called.
	Deliver(conversation string, e engine.Event) bool
	// Ended tells the subscriber that its subscription is over without its
	// asking (the actor restarted after a failure); it should resubscribe
	// after the last seq it got. Passivation does not end subscriptions.
	Ended(conversation string)
}

// InboxSink receives the live inbox: the badge, every changed row, and the
// waiting alerts (H10), each with the row of the ticket whose customer has
// waited too long. Like a Subscriber, it must not block; false unsubscribes
// it.
type InboxSink interface {
	Badge(unread int) bool
	Row(row engine.TicketRow) bool
	Alert(row engine.TicketRow) bool
	Typing(ticket string, from engine.Party) bool
}

// TicketQuery filters and pages the inbox list.
type TicketQuery struct {
	Status   engine.TicketStatus // "" means open
	Channel  engine.Channel      // "" means every channel
	Assignee string              // agent id; "" means anyone; Unassigned, nobody (open and snoozed lists)
	Limit    int                 // 0 means 50; at most 200
	Cursor   string              // opaque, from a previous page
}

// TicketView is one ticket with its whole conversation log (H4).
type TicketView struct {
	Row    engine.TicketRow
	Events []engine.Event
	// Deliveries is what became of each agent's message sent by SMS, by
	// the message's seq (I2).
	Deliveries map[uint64]engine.Delivery
}

// Config tunes the actor system. The zero value is usable.
type Config struct {
	// PassivateAfter stops a conversation actor that has had no message and no
	// subscriber for this long; it comes back from storage on demand.
	// Default 2 minutes.
	PassivateAfter time.Duration
	// ProfileIdleAfter stops an idle profile actor. Profile actors hold no
	// state (they only serialize starting a chat and writing the profile),
	// so they go quickly.
	// Default 10 seconds.
	ProfileIdleAfter time.Duration
	// RequestTimeout bounds every request to an actor. Default 10 seconds.
	RequestTimeout time.Duration
	// Now is the clock; default time.Now. Tests inject their own.
	Now func() time.Time
	// Notifier sends the agents' new-ticket e-mails (H9), from the outbox.
	// Without one, e-mail notifications cannot be turned on.
	Notifier engine.Notifier
	// Outbox tunes the delivery of calls to other systems; its zero value
	// is its defaults. Its clock and logger are the system's.
	Outbox outbox.Config
	// Model answers for the AI agent when the settings name a model
	// (ai.llm), grounded in the articles the built-in retrieval finds;
	// without one, the built-in retrieval answers alone.
	Model engine.Answerer
	// Handoffs create tickets in other helpdesks, by target ("zendesk",
	// "gorgias"). A target without one cannot be chosen in the settings.
	Handoffs map[string]engine.HandoffTarget
	// SMS sends the agents' answers on SMS tickets (I2). Without one, the
	// SMS channel cannot be turned on.
	SMS engine.SMSSender
	// SMSCallback, when set, is the URL where the SMS provider reports
	// what became of an agent's message (seq) on an SMS ticket.
	SMSCallback func(conversation string, seq uint64) string
	// Webhooks delivers the store's webhooks (I3). Without one, none can
	// be registered.
	Webhooks engine.WebhookNotifier
	// AnswerWithin is how long the AI agent may take over a question,
	// retries included, before the conversation is handed off. Default 20
	// seconds.
	AnswerWithin time.Duration
}

func (c *Config) ensureDefaults() {
	if c.PassivateAfter <= 0 {
		c.PassivateAfter = 2 * time.Minute
	}
	if c.ProfileIdleAfter <= 0 {
		c.ProfileIdleAfter = 10 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AnswerWithin <= 0 {
		c.AnswerWithin = 20 * time.Second
	}
}
