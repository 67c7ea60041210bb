package actors

import (
	"github.com/parley-chat/parley/engine"
)

// Messages to a conversation actor. Owner, when set, is the profile id of the
// shopper acting: the actor refuses a conversation that is not theirs as
// not_found, so nobody learns that another customer's conversation exists.
// AsAgent marks a Helpdesk request: it needs the conversation to be a ticket.
type (
	postCmd struct {
		Owner   string
		AsAgent bool
		Cmd     engine.PostMessage
		// Note, when set, is a system message stored after the message,
		// in its commit: an SMS opt-out, for the agents.
		Note string
	}
	deliveryCmd struct {
		Cmd engine.ReportDelivery
	}
	seenCmd struct {
		Owner   string
		AsAgent bool
		Cmd     engine.MarkSeen
	}
	assignCmd struct {
		Cmd engine.AssignTicket
	}
	endCmd struct {
		Owner   string
		AsAgent bool
		Cmd     engine.EndConversation
	}
	snoozeCmd struct {
		Cmd engine.SnoozeTicket
	}
	alertCmd  struct{}
	typingCmd struct {
		Owner   string
		AsAgent bool
		From    engine.Party
	}
	subscribeCmd struct {
		Owner string
		After uint64
		Sub   Subscriber
	}
	readQuery struct {
		Owner   string
		AsAgent bool
	}
)

// result is every conversation actor's answer.
type result struct {
	Posted Posted
	Row    engine.TicketRow
	View   TicketView
	Err    error
}

// Messages to a profile actor.
type (
	startChatCmd struct {
		Visitor engine.Visitor
		Welcome string
		AI      bool // the AI agent answers the new conversation first (S10)
	}
	openQuery   struct{}
	profileInfo struct {
		Info    *ConversationInfo
		Created bool
		Name    string // the customer's name, or their number (smsOpenCmd)
		Err     error
	}
	smsOpenCmd struct {
		Phone   string // E.164
		Keyword string // "stop", "start" or ""
	}
	upsertProfileCmd struct {
		Update engine.ProfileUpdate // normalized
	}
	addProfileEventCmd struct {
		Event engine.ProfileEvent // normalized, with its id and time
	}
	profileWritten struct {
		Profile engine.Profile      // as stored, without events
		Event   engine.ProfileEvent // the event added, or the one stored under its id
		Added   bool                // false: a repeat of a stored event id
		Err     error
	}
)

// Messages to the inbox actor.
type (
	rowChanged struct{ Row engine.TicketRow }
	listQuery  struct {
		Q     TicketQuery // with its defaults filled in and "me" resolved
		After *cursor     // the decoded Q.Cursor
		Reply chan any
	}
	listResult struct {
		Rows []engine.TicketRow
		Next string
		Err  error
	}
	badgeQuery   struct{ Reply chan any }
	watchInbox   struct{ Sink InboxSink }
	unwatchInbox struct{ Sink InboxSink }
	snoozeCheck  struct{}
	typingNotice struct {
		Ticket string
		From   engine.Party
	}
	alertCheck struct{}
	// settingsChanged tells the inbox that the settings were saved: waiting
	// alerts follow waiting_alert_after and office hours.
	settingsChanged struct{}
)
