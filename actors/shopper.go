package actors

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/actors/node"
	"github.com/parley-chat/parley/engine"
)

// OpenConversation returns the profile's open web-chat conversation, or nil.
func (s *System) OpenConversation(ctx context.Context, profileID string) (*ConversationInfo, error) {
	r, err := s.profile(ctx, profileID, &openQuery{})
	if err != nil {
		return nil, err
	}
	return r.Info, nil
}

// StartChat starts a live chat for a logged-in visitor with the configured
// welcome message (S4), or returns the one already open with created false
// (H8). It refuses anonymous visitors and a disabled chat (S1).
func (s *System) StartChat(ctx context.Context, v engine.Visitor) (ConversationInfo, bool, error) {
	settings := s.Settings()
	if chat := settings.Chat(v.LoggedIn()); !chat.CanStart {
		if chat.Reason == engine.ReasonLoginRequired {
			return ConversationInfo{}, false, engine.Errorf(engine.CodeForbidden, "log in to start a chat")
		}
		return ConversationInfo{}, false, engine.Errorf(engine.CodeForbidden, "web chat is disabled")
	}
	r, err := s.profile(ctx, v.ProfileID, &startChatCmd{Visitor: v, Welcome: settings.Webchat.WelcomeMessage, AI: settings.AI.Enabled})
	if err != nil {
		return ConversationInfo{}, false, err
	}
	return *r.Info, r.Created, nil
}

// ShopperPost posts a shopper's message to their conversation (S6). The first
// one makes the conversation a ticket.
func (s *System) ShopperPost(ctx context.Context, v engine.Visitor, conversation, text string, attachments []engine.Attachment, clientID string) (Posted, error) {
	if !v.LoggedIn() {
		return Posted{}, engine.ErrNoOpenConversation
	}
	r, err := s.conversation(ctx, conversation, s.shopperPostCmd(v, text, attachments, clientID))
	if err != nil {
		return Posted{}, err
	}
	return r.Posted, nil
}

func (s *System) shopperPostCmd(v engine.Visitor, text string, attachments []engine.Attachment, clientID string) *postCmd {
	return &postCmd{Owner: v.ProfileID, Cmd: engine.PostMessage{
		From: engine.PartyShopper, AuthorID: v.ProfileID, Author: v.Name, Text: text,
		Attachments: attachments, ClientID: clientID, At: s.cfg.Now().UTC(),
	}}
}

// ShopperPostAsync is ShopperPost for a caller that does not wait: it hands
// the message to the conversation and returns at once, and done is called
// exactly once, on the conversation's actor, after the message is durable
// (or refused), or with a timeout error after the request timeout if no
// answer came (an actor that failed mid-message). done must not block.
// Posts in flight at once may be handled in any order (while the actor
// passivates, the directory may hold one as a later one reaches the next
// incarnation): a caller that needs order posts after the last answer.
func (s *System) ShopperPostAsync(v engine.Visitor, conversation, text string, attachments []engine.Attachment, clientID string, done func(Posted, error)) {
	switch {
	case !v.LoggedIn():
		done(Posted{}, engine.ErrNoOpenConversation)
		return
	case !engine.ValidID(conversation):
		done(Posted{}, engine.ErrNotFound)
		return
	case s.closed.Load():
		done(Posted{}, errUnavailable)
		return
	}
	a := &asyncAnswer{done: done}
	a.timer = time.AfterFunc(s.cfg.RequestTimeout, a.expire)
	s.conversations.Deliver(s.actors.Root, &node.Envelope{ID: conversation, Done: a.answer, Msg: s.shopperPostCmd(v, text, attachments, clientID)})
}

// asyncAnswer delivers the one answer of an asynchronous post: the actor's,
// or the timeout's, whichever comes first.
type asyncAnswer struct {
	once  atomic.Bool
	timer *time.Timer
	done  func(Posted, error)
}

func (a *asyncAnswer) answer(v any) {
	if r := v.(*result); a.once.CompareAndSwap(false, true) {
		a.timer.Stop()
		a.done(r.Posted, r.Err)
	}
}

func (a *asyncAnswer) expire() {
	if a.once.CompareAndSwap(false, true) {
		a.done(Posted{}, errTimeout)
	}
}

// ShopperSeen records the shopper's read receipt (S11).
func (s *System) ShopperSeen(ctx context.Context, v engine.Visitor, conversation string, upTo uint64) error {
	if !v.LoggedIn() {
		return engine.ErrNotFound
	}
	_, err := s.conversation(ctx, conversation, &seenCmd{Owner: v.ProfileID,
		Cmd: engine.MarkSeen{By: engine.PartyShopper, UpTo: upTo, At: s.cfg.Now().UTC()}})
	return err
}

// ShopperEnd ends the shopper's conversation and closes its ticket (S8).
func (s *System) ShopperEnd(ctx context.Context, v engine.Visitor, conversation string) error {
	if !v.LoggedIn() {
		return engine.ErrNotFound
	}
	_, err := s.conversation(ctx, conversation, &endCmd{Owner: v.ProfileID,
		Cmd: engine.EndConversation{By: engine.PartyShopper, At: s.cfg.Now().UTC()}})
	return err
}

// ShopperEvents returns up to limit events of the visitor's conversation
// with seq > after (limit <= 0: all). A conversation that is not the
// visitor's is not_found.
func (s *System) ShopperEvents(ctx context.Context, v engine.Visitor, conversation string, after uint64, limit int) ([]engine.Event, error) {
	if !v.LoggedIn() {
		return nil, engine.ErrNotFound
	}
	r, err := s.conversation(ctx, conversation, &readQuery{Owner: v.ProfileID})
	if err != nil {
		return nil, err
	}
	return s.readEvents(conversation, after, r.Posted.Seq, limit)
}
