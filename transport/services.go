package transport

import (
	"context"
	"io"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
)

// The server reaches the rest of Parley through these interfaces, one per
// kind of client it serves. *actors.System implements all of them; tests may
// stand a fake behind any one.

// Chat is what shopper sockets need (PROTOCOL §2): the visitor's side of
// conversations, and the settings and FAQs a widget shows.
type Chat interface {
	Settings() engine.Settings
	FAQs() []engine.FAQ
	FAQ(id string) (engine.FAQ, bool)
	OpenConversation(ctx context.Context, profileID string) (*actors.ConversationInfo, error)
	StartChat(ctx context.Context, v engine.Visitor) (actors.ConversationInfo, bool, error)
	ShopperPost(ctx context.Context, v engine.Visitor, conversation, text string, attachments []engine.Attachment, clientID string) (actors.Posted, error)
	ShopperPostAsync(v engine.Visitor, conversation, text string, attachments []engine.Attachment, clientID string, done func(actors.Posted, error))
	ShopperSeen(ctx context.Context, v engine.Visitor, conversation string, upTo uint64) error
	ShopperEnd(ctx context.Context, v engine.Visitor, conversation string) error
	Subscribe(ctx context.Context, v engine.Visitor, conversation string, after uint64, sub actors.Subscriber) error
	ShopperEvents(ctx context.Context, v engine.Visitor, conversation string, after uint64, limit int) ([]engine.Event, error)
	Unsubscribe(conversation string, sub actors.Subscriber)
	ShopperTyping(ctx context.Context, v engine.Visitor, conversation string) error
}

// Helpdesk is what agents need (PROTOCOL §3): tickets, the live inbox,
// customers' profiles and the macros they reply with.
type Helpdesk interface {
	Tickets(ctx context.Context, q actors.TicketQuery, me string) ([]engine.TicketRow, string, error)
	TicketAfter(ctx context.Context, id string, after uint64) (actors.TicketView, error)
	Reply(ctx context.Context, id string, agent engine.Agent, text string, attachments []engine.Attachment, clientID string) (actors.Posted, error)
	ReplyWithMacro(ctx context.Context, id string, agent engine.Agent, r actors.MacroReply) (actors.Posted, error)
	AgentRead(ctx context.Context, id string, seq uint64) error
	Assign(ctx context.Context, id string, agent *engine.AgentRef) (engine.TicketRow, error)
	Snooze(ctx context.Context, id string, until time.Time, agentID string) (engine.TicketRow, error)
	Close(ctx context.Context, id string) (engine.TicketRow, error)
	Badge(ctx context.Context) (int, error)
	WatchInbox(sink actors.InboxSink) (cancel func())
	AgentTyping(ctx context.Context, ticket string) error
	Profile(ctx context.Context, id string) (engine.Profile, error)
	Agents() []engine.Agent
	Macros() []engine.Macro
	Macro(id string) (engine.Macro, bool)
}

// Admin is what admins and operators need: settings, FAQs, macros, agents,
// backups and readiness.
type Admin interface {
	Settings() engine.Settings
	PutSettings(ctx context.Context, v engine.Settings) error
	FAQs() []engine.FAQ
	FAQ(id string) (engine.FAQ, bool)
	PutFAQ(ctx context.Context, f engine.FAQ) (engine.FAQ, error)
	DeleteFAQ(ctx context.Context, id string) error
	PutMacro(ctx context.Context, m engine.Macro) (engine.Macro, error)
	DeleteMacro(ctx context.Context, id string) error
	Agents() []engine.Agent
	CreateAgent(ctx context.Context, a engine.Agent) (engine.Agent, string, error)
	DisableAgent(ctx context.Context, id string) error
	Backup(ctx context.Context, dir string) error
	Ready() bool
}

// Profiles is customers' profiles (PROTOCOL §3): what the store's backend
// writes (I1) and agents read with a ticket (H4).
type Profiles interface {
	ProfilePage(ctx context.Context, id string, limit int, cursor string) (engine.Profile, string, error)
	UpsertProfile(ctx context.Context, id string, u engine.ProfileUpdate) (engine.Profile, string, error)
	AddProfileEvent(ctx context.Context, id string, e engine.ProfileEvent) (engine.ProfileEvent, bool, error)
}

// Auth finds the enabled agent holding an API token.
type Auth interface {
	Authenticate(token string) (engine.Agent, bool)
}

// Uploads keeps the images shoppers and agents attach to messages (S7, H5).
type Uploads interface {
	PutUpload(ctx context.Context, u engine.Upload, data []byte) error
	Upload(ctx context.Context, name string) (engine.Upload, io.ReaderAt, error)
}

// Backend is all of them at once, as *actors.System provides them.
type Backend interface {
	Chat
	Helpdesk
	Admin
	Profiles
	Auth
	Uploads
	Webhooks
	SMS
}

var _ Backend = (*actors.System)(nil)
