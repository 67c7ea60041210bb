package actors

import (
	"context"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/parley-chat/parley/actors/node"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// profileActor serializes what must happen once per customer: starting a
// web chat, and every write of the profile. Two tabs pressing "start" at once
// get the same conversation (H8); the store's upserts and events, and the
// identity claims a chat start records, read and write the profile one at a
// time, so none undoes another. The open pointer and the profile live in
// storage (the pointer is cleared in the same batch as the conversation's
// end), so the actor keeps no state of its own.
type profileActor struct {
	id    string
	sys   *System
	idleT node.IdleTimer
}

func newProfileActor(sys *System, id string) actor.Actor {
	return &profileActor{id: id, sys: sys}
}

func (a *profileActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.idleT.Start(ctx, a.sys.cfg.ProfileIdleAfter)
	case *actor.Stopping, *actor.Restarting:
		a.idleT.Stop()
	case node.IdleCheck:
		if a.idleT.Idle() {
			ctx.Request(ctx.Parent(), &node.Passivate{ID: a.id})
		}
	case *node.Envelope:
		a.idleT.Touch()
		switch m := msg.Msg.(type) {
		case *startChatCmd:
			msg.Answer(a.start(m))
		case *openQuery:
			info, err := a.open()
			msg.Answer(&profileInfo{Info: info, Err: err})
		case *upsertProfileCmd:
			msg.Answer(a.upsert(m))
		case *addProfileEventCmd:
			msg.Answer(a.addEvent(m))
		case *smsOpenCmd:
			msg.Answer(a.smsOpen(m))
		}
	}
}

func (a *profileActor) open() (*ConversationInfo, error) {
	id, err := a.sys.store.OpenConversation(a.id, engine.ChannelWebchat)
	if err != nil {
		return nil, storageError(a.sys.log, "open conversation lookup", err)
	}
	if id == "" {
		return nil, nil
	}
	last, err := a.sys.store.LastSeq(id)
	if err != nil {
		return nil, storageError(a.sys.log, "last seq lookup", err)
	}
	return &ConversationInfo{ID: id, Status: "open", LastSeq: last}, nil
}

// start records the identity token's claims in the profile, then returns the
// open conversation, or writes the first event of a new one together with the
// profile's open pointer.
func (a *profileActor) start(m *startChatCmd) *profileInfo {
	if err := a.claim(m.Visitor); err != nil {
		return &profileInfo{Err: err}
	}
	info, err := a.open()
	if err != nil || info != nil {
		return &profileInfo{Info: info, Err: err}
	}
	now := a.sys.cfg.Now().UTC()
	id := engine.NewID(now)
	conv := engine.NewConversation(id)
	events, err := conv.Decide(engine.StartConversation{
		ProfileID: a.id, ProfileName: m.Visitor.Name, Channel: engine.ChannelWebchat,
		Welcome: m.Welcome, AI: m.AI, At: now,
	})
	if err != nil {
		return &profileInfo{Err: err}
	}
	err = a.sys.store.Append(context.Background(), persist.Commit{
		Conversation: id,
		Events:       events,
		Open:         &persist.OpenPointer{ProfileID: a.id, Channel: engine.ChannelWebchat, Conversation: id},
	})
	if err != nil {
		return &profileInfo{Err: storageError(a.sys.log, "start conversation", err)}
	}
	a.sys.metrics.sessions.Inc()
	return &profileInfo{Info: &ConversationInfo{ID: id, Status: "open", LastSeq: 1}, Created: true}
}

// storageError logs a storage failure and returns what a client may see.
func storageError(log *slog.Logger, what string, err error) error {
	log.Error("storage failure", slog.String("op", what), slog.Any("err", err))
	return engine.Errorf(engine.CodeInternal, "storage failure")
}
