package actors

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/parley-chat/parley/engine"
)

// Typing indicators (PROTOCOL §2, Typing): a shopper's reaches the agents on
// the inbox stream, an agent's reaches the shopper's sockets. They pass
// through the conversation's actor, which knows whose the conversation is,
// and are never stored or replayed.

// Typer is a Subscriber that also shows the other side typing. The actor
// calls it from inside Receive: it must not block.
type Typer interface {
	Typing(conversation string, from engine.Party)
}

// ShopperTyping tells the agents that the visitor is typing in their
// conversation. A conversation that is not the visitor's is not_found; one
// that is not a ticket yet is nobody's to watch, and nothing is sent.
func (s *System) ShopperTyping(ctx context.Context, v engine.Visitor, conversation string) error {
	if !v.LoggedIn() {
		return engine.ErrNotFound
	}
	_, err := s.conversation(ctx, conversation, &typingCmd{Owner: v.ProfileID, From: engine.PartyShopper})
	return err
}

// AgentTyping tells the shopper's sockets that an agent is typing a reply.
func (s *System) AgentTyping(ctx context.Context, ticket string) error {
	_, err := s.conversation(ctx, ticket, &typingCmd{AsAgent: true, From: engine.PartyAgent})
	return err
}

func (a *conversationActor) typing(ctx actor.Context, m *typingCmd) {
	if err := a.authorize(m.Owner, m.AsAgent); err != nil {
		a.respond(ctx, &result{Err: err})
		return
	}
	if a.conv.Ended {
		a.respond(ctx, &result{Err: engine.ErrClosed})
		return
	}
	switch m.From {
	case engine.PartyShopper:
		if a.conv.IsTicket() {
			ctx.Send(a.sys.inbox, &typingNotice{Ticket: a.id, From: m.From})
		}
	default:
		a.buf = a.sys.hub.Snapshot(a.id, a.buf[:0])
		for _, sub := range a.buf {
			if t, ok := sub.(Typer); ok {
				t.Typing(a.id, m.From)
			}
		}
		clear(a.buf)
	}
	a.respond(ctx, &result{})
}

// Typing implements Typer: the indicator passes to the subscriber.
func (f *follower) Typing(conversation string, from engine.Party) {
	if t, ok := f.subscriber().(Typer); ok {
		t.Typing(conversation, from)
	}
}
