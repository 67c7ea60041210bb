package engine

import "time"

// Party is who did something in a conversation.
type Party string

// The parties of a conversation.
const (
	PartyShopper Party = "shopper"
	PartyAgent   Party = "agent"
	PartyAI      Party = "ai"
	PartySystem  Party = "system"
)

// Channel is where a ticket came from.
type Channel string

// Channels.
const (
	ChannelWebchat Channel = "webchat"
	ChannelSMS     Channel = "sms"
)

// EventKind names the kind of a conversation event.
type EventKind string

// The kinds of conversation events, as on the wire.
const (
	KindStarted  EventKind = "started"
	KindMessage  EventKind = "message"
	KindSeen     EventKind = "seen"
	KindAssigned EventKind = "assigned"
	KindHandoff  EventKind = "handoff"
	KindEnded    EventKind = "ended"
)

// AgentRef names an agent in events and ticket rows.
type AgentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Attachment is a file attached to a message, already uploaded.
type Attachment struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
}

// Event is one entry of a conversation's ordered log. Seq starts at 1 and grows
// by one, without gaps, per conversation. Which fields are set depends on Kind;
// the struct is flat so that it maps one to one onto a protobuf message.
type Event struct {
	Seq  uint64
	At   time.Time
	Kind EventKind

	// started
	Welcome     string
	ProfileID   string
	ProfileName string
	Channel     Channel

	// message
	From        Party
	AuthorID    string // profile id or agent id
	Author      string // display name
	Text        string
	Attachments []Attachment
	ClientID    string

	// seen and ended
	By   Party
	UpTo uint64 // seen

	// assigned; nil means unassigned
	Agent *AgentRef

	// handoff
	Target string

	// a system message saying the team is away: when it is back (S9)
	AwayUntil time.Time

	// started: the AI agent answers first (S10)
	AI bool
}

// TicketEventKind names the kind of a ticket (Helpdesk-only) event.
type TicketEventKind string

// Ticket event kinds. Everything a shopper can see lives in the conversation
// log; the ticket log holds what only the Helpdesk knows.
const (
	TicketSnoozed TicketEventKind = "snoozed"
	TicketAlerted TicketEventKind = "alerted" // a waiting alert was raised at At (H10)
	// TicketDelivery reports what became of an agent's message sent out by
	// SMS (I2): the provider's status of the message at AtSeq. Agents alone
	// see it, so it lives in the ticket, not in the conversation log.
	TicketDelivery TicketEventKind = "delivery"
)

// TicketEvent is one entry of a ticket's own log.
type TicketEvent struct {
	Seq  uint64
	At   time.Time
	Kind TicketEventKind

	// snoozed
	Until   time.Time
	AtSeq   uint64 // the conversation's last seq when snoozed: later shopper messages wake it; delivery: the message
	AgentID string

	// delivery: the provider's status (SMSQueued … SMSFailed) and, for a
	// failure, why
	Status string
	Error  string
}
