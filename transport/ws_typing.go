package transport

import (
	"context"
	"time"

	"github.com/parley-chat/parley/engine"
)

// typingEvery is how often a socket's typing indicators are passed on: a
// widget sends one per keystroke or so; agents need to hear it about once
// a few seconds, and the rest is dropped (it is a hint, never stored).
const typingEvery = 2 * time.Second

// typing passes the shopper's typing indicator on to the agents (PROTOCOL
// §2, Typing), at most once every typingEvery per socket. It names the
// conversation it is for, or means the visitor's open one.
func (c *wsConn) typing(ctx context.Context, f inFrame) {
	if f.Conversation != "" && !engine.ValidID(f.Conversation) {
		c.sendErr(engine.Invalid("conversation", "is not a conversation id"), "")
		return
	}
	now := c.s.cfg.Now()
	if now.Sub(c.typedAt) < typingEvery {
		return
	}
	conv, err := c.target(ctx, f.Conversation)
	if err == nil {
		err = c.s.chat.ShopperTyping(ctx, c.visitor, conv)
	}
	switch engine.ErrorCode(err) {
	case "":
		c.typedAt = now
	case engine.CodeNoOpenConversation:
		// Typing before a chat is started (or after it ended): nobody to tell.
	case engine.CodeNotFound, engine.CodeForbidden:
		c.sendErr(engine.ErrNoOpenConversation, "")
	default:
		c.sendErr(err, "")
	}
}

// typingFrame is what a shopper's socket gets while an agent types a reply.
type typingFrame struct {
	Type         string       `json:"type"`
	From         engine.Party `json:"from"`
	Conversation string       `json:"conversation"`
}

// Typing implements actors.Typer: an agent is typing in a conversation the
// socket follows. It only queues.
func (c *wsConn) Typing(conversation string, from engine.Party) {
	c.sendJSON(typingFrame{Type: "typing", From: from, Conversation: conversation})
}
