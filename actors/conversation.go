package actors

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/parley-chat/parley/actors/node"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// conversationActor owns one conversation's log and the ticket that shares
// its id. It is the only writer of both streams while it runs.
type conversationActor struct {
	id      string
	sys     *System
	conv    *engine.Conversation
	ticket  *engine.Ticket
	snapSeq uint64 // conversation seq of the newest snapshot written or loaded
	broken  error  // storage could not be read: refuse everything, claim nothing
	buf     []Subscriber
	env     *node.Envelope // the request being handled
	idleT   node.IdleTimer
}

func newConversationActor(sys *System, id string) actor.Actor {
	return &conversationActor{id: id, sys: sys}
}

func (a *conversationActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.idleT.Start(ctx, a.sys.cfg.PassivateAfter)
		a.load(ctx)
	case *actor.Restarting:
		// A panic may have come between a commit and its publication: the
		// subscribers resubscribe after the last seq they got, missing nothing.
		a.idleT.Stop()
		a.endSubscriptions()
	case *actor.Stopping:
		a.idleT.Stop()
	case node.IdleCheck:
		if a.idleT.Idle() {
			a.idle(ctx)
		}
	case *node.Envelope:
		a.idleT.Touch()
		a.env = msg
		a.handle(ctx, msg.Msg)
		a.env = nil
	}
}

func (a *conversationActor) handle(ctx actor.Context, msg any) {
	if a.broken != nil {
		a.respond(ctx, &result{Err: a.broken})
		return
	}
	start := time.Now()
	switch m := msg.(type) {
	case *postCmd:
		a.post(ctx, m)
	case *seenCmd:
		a.seen(ctx, m)
	case *assignCmd:
		a.assign(ctx, m)
	case *endCmd:
		a.end(ctx, m)
	case *snoozeCmd:
		a.snooze(ctx, m)
	case *alertCmd:
		a.alert(ctx)
	case *typingCmd:
		a.typing(ctx, m)
	case *subscribeCmd:
		a.subscribe(ctx, m)
	case *readQuery:
		a.read(ctx, m)
	case *aiAnswered:
		a.answered(ctx, m)
	case *handOffCmd:
		a.handOffRequest(ctx, m)
	case *handedOverCmd:
		a.handedOver(ctx, m)
	case *deliveryCmd:
		a.delivery(ctx, m)
	}
	a.sys.metrics.receive.Observe(time.Since(start).Seconds())
}

func (a *conversationActor) load(ctx actor.Context) {
	conv, ticket, err := a.sys.store.Load(a.id)
	switch {
	case errors.Is(err, persist.ErrNotFound):
		conv, ticket = engine.NewConversation(a.id), &engine.Ticket{ID: a.id}
	case err != nil:
		a.sys.log.Error("conversation load failed", slog.String("conversation", a.id), slog.Any("err", err))
		a.broken = engine.Errorf(engine.CodeInternal, "storage unavailable")
		return
	}
	a.conv, a.ticket, a.snapSeq = conv, ticket, conv.LastSeq
	a.broken = nil
}

// idle passivates the actor; it comes back on demand. Its subscribers stay
// in the hub, so sockets keep following the conversation.
func (a *conversationActor) idle(ctx actor.Context) {
	ctx.Request(ctx.Parent(), &node.Passivate{ID: a.id})
}

func (a *conversationActor) endSubscriptions() {
	for _, sub := range a.sys.hub.Take(a.id) {
		sub.Ended(a.id)
	}
}

// authorize refuses a shopper who does not own the conversation and an agent
// asking for a conversation that is not a ticket, both as not_found.
func (a *conversationActor) authorize(owner string, asAgent bool) error {
	switch {
	case a.conv.LastSeq == 0:
		return engine.ErrNotFound
	case owner != "" && owner != a.conv.ProfileID:
		return engine.ErrNotFound
	case asAgent && !a.conv.IsTicket():
		return engine.ErrNotFound
	}
	return nil
}

func (a *conversationActor) post(ctx actor.Context, m *postCmd) {
	if err := a.authorize(m.Owner, m.AsAgent); err != nil {
		a.respond(ctx, &result{Err: err})
		return
	}
	events, err := a.conv.Decide(m.Cmd)
	if err != nil {
		if seq, ok := a.repeatOf(m.Cmd, err); ok {
			a.respond(ctx, a.repeated(seq))
			return
		}
		a.respond(ctx, &result{Err: err})
		return
	}
	if office := a.sys.Settings().OfficeHours; office.Enabled && m.Cmd.From == engine.PartyShopper && !a.conv.AI {
		// S9: a shopper writing while the team is away hears when it is
		// back, once per away period, in the same commit as the message.
		next := a.conv.After(events)
		if notice, ok := next.AwayNotice(office, m.Cmd.At); ok {
			events = append(events, notice)
		}
	}
	if m.Note != "" {
		events = append(events, engine.Event{Seq: events[len(events)-1].Seq + 1, At: m.Cmd.At,
			Kind: engine.KindMessage, From: engine.PartySystem, Text: m.Note})
	}
	owed, err := a.smsEntries(events)
	if err != nil {
		a.respond(ctx, &result{Err: err})
		return
	}
	row, err := a.commitWith(ctx, events, nil, append(owed, a.questionEntry(m.Cmd, events)...))
	if err != nil {
		var stored *persist.DuplicateError
		if errors.As(err, &stored) { // older than the state remembers; storage knows it
			a.respond(ctx, a.repeated(stored.Seq))
			return
		}
		a.respond(ctx, &result{Err: err})
		return
	}
	a.sys.metrics.messages.WithLabelValues(string(a.conv.Channel), string(m.Cmd.From)).Inc()
	if row == nil { // not a ticket: no row was stored
		r := a.row()
		row = &r
	}
	a.respond(ctx, &result{Posted: Posted{Conversation: a.id, Channel: a.conv.Channel, Seq: events[0].Seq}, Row: *row})
	if m.Cmd.From == engine.PartyShopper {
		a.afterShopperMessage(ctx, events[0]) // after the shopper's ack
	}
}

// repeated answers a repeat of the message stored at seq with that seq.
func (a *conversationActor) repeated(seq uint64) *result {
	return &result{Posted: Posted{Conversation: a.id, Channel: a.conv.Channel, Seq: seq, Duplicate: true}}
}

// repeatOf tells whether a message the engine refused with err is a repeat,
// and of which seq: the engine knows the latest client ids; for any other
// refusal (the conversation has ended, say) the client id index in storage
// is asked, for a repeat is acknowledged with its first seq however old (the
// client only lost the first acknowledgement).
func (a *conversationActor) repeatOf(cmd engine.PostMessage, err error) (uint64, bool) {
	var dup *engine.Duplicate
	if errors.As(err, &dup) {
		return dup.Seq, true
	}
	if cmd.ClientID == "" || a.conv.LastSeq == 0 {
		return 0, false
	}
	seq, found, err := a.sys.store.ClientIDSeq(a.id, cmd.From, cmd.ClientID)
	if err != nil {
		a.sys.log.Warn("client id lookup failed", "conversation", a.id, "err", err)
		return 0, false
	}
	return seq, found
}

func (a *conversationActor) seen(ctx actor.Context, m *seenCmd) {
	a.decideAndCommit(ctx, a.authorize(m.Owner, m.AsAgent), m.Cmd)
}

func (a *conversationActor) assign(ctx actor.Context, m *assignCmd) {
	a.decideAndCommit(ctx, a.authorize("", true), m.Cmd)
}

func (a *conversationActor) end(ctx actor.Context, m *endCmd) {
	resolved := a.conv.AI && a.conv.LastAgentMsg > 0 // the AI answered and nobody was needed
	a.decideAndCommit(ctx, a.authorize(m.Owner, m.AsAgent), m.Cmd)
	if a.conv.Ended {
		a.sys.answering.withdraw(a.id, math.MaxUint64)
		if resolved {
			a.sys.metrics.aiResolutions.Inc()
		}
	}
}

// decideAndCommit runs a command that answers with the ticket row.
func (a *conversationActor) decideAndCommit(ctx actor.Context, denied error, cmd engine.Command) {
	if denied != nil {
		a.respond(ctx, &result{Err: denied})
		return
	}
	events, err := a.conv.Decide(cmd)
	if err == nil && len(events) > 0 {
		_, err = a.commit(ctx, events, nil)
	}
	a.respond(ctx, &result{Row: a.row(), Err: err})
}

func (a *conversationActor) snooze(ctx actor.Context, m *snoozeCmd) {
	if err := a.authorize("", true); err != nil {
		a.respond(ctx, &result{Err: err})
		return
	}
	tevents, err := a.ticket.DecideSnooze(a.conv, m.Cmd)
	if err == nil {
		_, err = a.commit(ctx, nil, tevents)
	}
	a.respond(ctx, &result{Row: a.row(), Err: err})
}

// commit persists events durably in one batch with the inbox row, the
// profile's open pointer and, now and then, a snapshot; only then applies
// them to the state, publishes them and returns the row it stored (nil for a
// conversation that is not a ticket): decide → persist → apply → publish.
//
// The row and the pointer describe the state after the events, so they are
// computed on engine's After, a copy of the state without its memory of
// client ids: a struct copy, no allocation, where applying first and undoing
// on a refusal would need a reload from storage. The snapshot is of the state
// before the events — what is already durable — so it needs no copy at all;
// Load replays the commit's events after it.
//
// A refused commit leaves the state as it was. A *persist.DuplicateError is
// no failure (an old repeat that the state had forgotten; storage's index
// knows it): it is returned for the caller to acknowledge with the stored
// seq. Any other failure is logged, and the state is reloaded from storage,
// for a failure after the batch reached Pebble leaves unknown whether it was
// written, and answered internal.
func (a *conversationActor) commit(ctx actor.Context, events []engine.Event, tevents []engine.TicketEvent) (*engine.TicketRow, error) {
	return a.commitWith(ctx, events, tevents, nil)
}

// commitWith is commit with calls to other systems that the events owe,
// stored in the same batch (the outbox).
func (a *conversationActor) commitWith(ctx actor.Context, events []engine.Event, tevents []engine.TicketEvent, owed []persist.OutboxEntry) (*engine.TicketRow, error) {
	c := persist.Commit{Conversation: a.id, Events: events, TicketEvents: tevents, Outbox: owed}
	next, nextTicket := a.conv.After(events), a.ticket.After(tevents)
	if next.IsTicket() {
		row := engine.Row(&next, &nextTicket, a.sys.cfg.Now())
		c.Row = &row
	}
	if a.conv.Open() && !next.Open() {
		c.Open = &persist.OpenPointer{ProfileID: a.conv.ProfileID, Channel: a.conv.Channel}
	}
	created := next.IsTicket() && !a.conv.IsTicket()
	if created {
		c.Outbox = append(c.Outbox, a.sys.newTicketNotice(&next, a.firstQuestion(events))...)
	}
	c.Outbox = append(c.Outbox, a.webhookEntries(events, c.Row, created)...)
	if a.conv.LastSeq-a.snapSeq >= uint64(a.sys.store.SnapshotEvery()) {
		c.Snapshot = &persist.Snapshot{Conversation: *a.conv, Ticket: *a.ticket}
	}
	start := time.Now()
	err := a.sys.store.Append(context.Background(), c)
	a.sys.metrics.persist.Observe(time.Since(start).Seconds())
	if err != nil {
		if errors.As(err, new(*persist.DuplicateError)) {
			return nil, err
		}
		a.sys.log.Error("conversation commit failed", slog.String("conversation", a.id), slog.Any("err", err))
		a.load(ctx)
		return nil, engine.Errorf(engine.CodeInternal, "could not store the change")
	}
	if len(c.Outbox) > 0 {
		a.sys.outbox.Added(c.Outbox)
	}
	a.observeReplies(events)
	for _, e := range events {
		a.conv.Apply(e)
	}
	for _, e := range tevents {
		a.ticket.Apply(e)
	}
	if c.Snapshot != nil {
		a.snapSeq = c.Snapshot.Conversation.LastSeq
	}
	a.publish(ctx, events, c.Row)
	return c.Row, nil
}

func (a *conversationActor) publish(ctx actor.Context, events []engine.Event, row *engine.TicketRow) {
	if len(events) > 0 {
		a.buf = a.sys.hub.Snapshot(a.id, a.buf[:0])
		for _, sub := range a.buf {
			for _, e := range events {
				if !sub.Deliver(a.id, e) {
					a.sys.hub.Remove(a.id, sub)
					break
				}
			}
		}
		clear(a.buf)
	}
	if row != nil {
		ctx.Send(a.sys.inbox, &rowChanged{Row: *row})
	}
}

func (a *conversationActor) row() engine.TicketRow {
	return engine.Row(a.conv, a.ticket, a.sys.cfg.Now())
}

// subscribe adds the subscriber for live events and answers the last seq,
// which is durable (every commit of this actor has returned from its fsync).
// The events up to it the caller reads from storage itself, page by page
// and outside this mailbox (System.Subscribe): a long log replayed to a
// slow socket never holds up the conversation.
func (a *conversationActor) subscribe(ctx actor.Context, m *subscribeCmd) {
	if err := a.authorize(m.Owner, false); err != nil {
		a.respond(ctx, &result{Err: err})
		return
	}
	a.sys.hub.Add(a.id, m.Sub)
	a.respond(ctx, &result{Posted: Posted{Conversation: a.id, Channel: a.conv.Channel, Seq: a.conv.LastSeq}})
}

// read lets a reader of the log in and answers the last seq (durable) and,
// for an agent, the ticket's row; the caller reads the events from storage.
func (a *conversationActor) read(ctx actor.Context, m *readQuery) {
	if err := a.authorize(m.Owner, m.AsAgent); err != nil {
		a.respond(ctx, &result{Err: err})
		return
	}
	r := &result{Posted: Posted{Conversation: a.id, Channel: a.conv.Channel, Seq: a.conv.LastSeq}}
	if m.AsAgent {
		r.View.Row = a.row()
		r.View.Deliveries = maps.Clone(a.ticket.Deliveries)
	}
	a.respond(ctx, r)
}

// respond answers the request being handled; it never blocks.
func (a *conversationActor) respond(_ actor.Context, r *result) {
	a.env.Answer(r)
}

// observeReplies times each customer wait that an agent's or the AI's
// message in events ends (O1, H10): the time since the first customer
// message not yet answered; the first reply a ticket gets is also its first
// response time.
func (a *conversationActor) observeReplies(events []engine.Event) {
	waiting, first := a.conv.WaitingSince, a.conv.LastAgentMsg == 0
	for _, e := range events {
		if e.Kind != engine.KindMessage {
			continue
		}
		switch e.From {
		case engine.PartyShopper:
			if waiting.IsZero() {
				waiting = e.At
			}
		case engine.PartyAgent, engine.PartyAI:
			if !waiting.IsZero() {
				d := e.At.Sub(waiting).Seconds()
				a.sys.metrics.wait.Observe(d)
				if first {
					a.sys.metrics.firstResponse.Observe(d)
				}
				waiting = time.Time{}
			}
			first = false
		}
	}
}
