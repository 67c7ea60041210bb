package transport

import (
	"context"
	"log/slog"

	"github.com/parley-chat/parley/engine"
)

// Deliver implements actors.Subscriber. It is called from inside an actor's
// Receive, so it only marshals the frame and queues it. Events at or below
// the last seq this socket got are skipped: resubscribing is harmless.
func (c *wsConn) Deliver(conversation string, e engine.Event) bool {
	c.mu.Lock()
	last, ok := c.subs[conversation]
	if !ok {
		c.mu.Unlock()
		return false
	}
	if e.Seq <= last {
		c.mu.Unlock()
		return true
	}
	if e.Seq != last+1 && last != 0 {
		c.s.log.Warn("gap in a conversation's events", slog.String("conversation", conversation),
			slog.Uint64("after", last), slog.Uint64("seq", e.Seq))
	}
	c.subs[conversation] = e.Seq
	if e.Kind == engine.KindEnded && c.current == conversation {
		c.current = ""
	}
	c.mu.Unlock()
	b, err := eventFrameBytes(conversation, e)
	if err != nil {
		c.s.log.Error("event frame", slog.String("conversation", conversation), slog.Any("err", err))
		c.close(closeInternal, "internal error", true) // the client resumes after the last seq it got
		return false
	}
	return c.send(b)
}

// Ended implements actors.Subscriber: the actor went away, so the socket
// subscribes again after the last seq it got, or, failing that, closes with
// 1012 so that the client reconnects and resumes.
func (c *wsConn) Ended(conversation string) {
	c.mu.Lock()
	after, ok := c.subs[conversation]
	c.mu.Unlock()
	if !ok || c.isDone() || !c.s.enter() {
		return
	}
	go func() {
		defer c.s.wg.Done()
		defer c.recoverSocket("subscribe")
		c.resubscribe(conversation, after)
	}()
}

func (c *wsConn) resubscribe(conversation string, after uint64) {
	// The actor's request has its own timeout; the replay after it lasts as
	// long as the socket takes it (Pace gives up when the socket closes).
	c.beginReplay()
	err := c.s.chat.Subscribe(context.Background(), c.visitor, conversation, after, c)
	c.endReplay()
	if err != nil {
		c.s.log.Warn("resubscribe failed", slog.String("conversation", conversation), slog.Any("err", err))
		c.close(closeRestart, "subscription lost; resume", false)
	}
}

// subscribe makes the socket follow conversation from after on, unless it
// already does.
func (c *wsConn) subscribe(ctx context.Context, conversation string, after uint64) error {
	c.mu.Lock()
	if _, ok := c.subs[conversation]; ok {
		c.mu.Unlock()
		return nil
	}
	c.subs[conversation] = after
	c.mu.Unlock()
	c.beginReplay()
	err := c.s.chat.Subscribe(ctx, c.visitor, conversation, after, c)
	c.endReplay()
	if err != nil {
		c.mu.Lock()
		delete(c.subs, conversation)
		c.mu.Unlock()
		c.s.chat.Unsubscribe(conversation, c)
	}
	return err
}

// follow records the visitor's open conversation and subscribes to it.
func (c *wsConn) follow(ctx context.Context, conversation string, after uint64) error {
	c.mu.Lock()
	c.current = conversation
	c.mu.Unlock()
	return c.subscribe(ctx, conversation, after)
}

// open is the visitor's open conversation as this socket knows it, or "".
func (c *wsConn) open() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current
}

func (c *wsConn) subscribed(conversation string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.subs[conversation]
	return ok
}

// Pace implements actors.Pacer: a replay hands the socket a page at a time,
// each page first taking its bytes from the server's replay budget, and
// giving them back once the socket has sent it. So however many sockets
// resume long conversations at once, and however slowly they read, the
// frames waiting in them stay within the budget.
func (c *wsConn) Pace(ctx context.Context, bytes int) (release func(), err error) {
	n, err := c.s.replay.acquire(ctx, c.done, bytes)
	if err != nil {
		return nil, err
	}
	return func() {
		c.awaitDrained(ctx)
		c.s.replay.release(n)
	}, nil
}

// beginReplay lifts the frame limit of the queue while Subscribe replays a
// log: a long conversation must be resumable. The bytes stay bounded.
func (c *wsConn) beginReplay() {
	c.qmu.Lock()
	c.replaying++
	c.qmu.Unlock()
}

func (c *wsConn) endReplay() {
	c.qmu.Lock()
	c.replaying--
	c.qmu.Unlock()
}

func (c *wsConn) inReplay() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.replaying > 0
}

func (c *wsConn) unsubscribeAll() {
	c.mu.Lock()
	convs := make([]string, 0, len(c.subs))
	for id := range c.subs {
		convs = append(convs, id)
	}
	c.subs = map[string]uint64{}
	c.mu.Unlock()
	for _, id := range convs {
		c.s.chat.Unsubscribe(id, c)
	}
}

// startedEvent fetches event seq 1 (`started`) of a conversation.
func (c *wsConn) startedEvent(ctx context.Context, conversation string) (engine.Event, error) {
	events, err := c.s.chat.ShopperEvents(ctx, c.visitor, conversation, 0, 1)
	if err != nil {
		return engine.Event{}, err
	}
	if len(events) == 0 {
		return engine.Event{}, engine.ErrNotFound
	}
	return events[0], nil
}
