package engine

import "time"

// Command is a request to change a conversation or its ticket. Commands are
// plain data: they cross actor mailboxes and, later, nodes.
type Command interface{ command() }

// StartConversation opens a new conversation (S4): its first event carries the
// welcome message.
type StartConversation struct {
	ProfileID   string
	ProfileName string
	Channel     Channel
	Welcome     string
	// AI says the AI agent answers this conversation first (S10): it
	// becomes a ticket only when handed off to the Helpdesk.
	AI bool
	At time.Time
}

// PostMessage adds a message from a shopper, agent, AI or the system (S6, S7, H5).
type PostMessage struct {
	From        Party
	AuthorID    string
	Author      string
	Text        string
	Attachments []Attachment
	ClientID    string
	At          time.Time
}

// MarkSeen records that one side has seen everything up to UpTo (S11, H7).
type MarkSeen struct {
	By   Party
	UpTo uint64
	At   time.Time
}

// AssignTicket assigns the ticket to an agent, or unassigns it with nil (H6).
type AssignTicket struct {
	Agent *AgentRef
	At    time.Time
}

// EndConversation ends the conversation and closes its ticket (S8, H3).
type EndConversation struct {
	By Party
	At time.Time
}

// HandOff hands the conversation from the AI agent to people (S10): to the
// Helpdesk (it becomes a ticket), to Zendesk or Gorgias (through the
// outbox; no Parley ticket), or answers with the store's message instead.
// Notice, when not empty, is a system message to the shopper, in the same
// commit.
type HandOff struct {
	Target string
	Notice string
	At     time.Time
}

// ReportDelivery records a provider's delivery status of an agent's
// message sent by SMS (I2).
type ReportDelivery struct {
	Of     uint64 // the message's seq
	Status string // engine.SMSQueued … engine.SMSFailed
	Error  string
	At     time.Time
}

// SnoozeTicket hides the ticket until a time or the customer's next message (H3).
type SnoozeTicket struct {
	Until   time.Time
	AgentID string
	At      time.Time
}

func (StartConversation) command() {}
func (PostMessage) command()       {}
func (ReportDelivery) command()    {}
func (MarkSeen) command()          {}
func (AssignTicket) command()      {}
func (EndConversation) command()   {}
func (SnoozeTicket) command()      {}
func (HandOff) command()           {}
