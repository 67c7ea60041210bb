package actors

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/parley-chat/parley/engine"
)

// inboxActor is the live Helpdesk list (H1) and badge (H2): a projection of
// the rows of the open and snoozed tickets, rebuilt from the row index at
// start-up and kept current by the conversation actors, in ordered views
// (inbox_index.go). A closed ticket's row leaves it (closed tickets are
// listed from storage). A row that arrives twice or out of order is harmless:
// the higher version wins.
type inboxActor struct {
	sys     *System
	active  *activeIndex // as the rows stand at the last change or wake
	sinks   map[InboxSink]struct{}
	badge   int
	waiting int                         // open tickets whose customer awaits an answer
	counts  map[engine.TicketStatus]int // open and snoozed; storage counts the closed
	timer   *time.Timer
	wakeAt  time.Time
	alarm   alarm // the next waiting alert (alerts.go)
}

func newInboxActor(sys *System, rows []engine.TicketRow) actor.Actor {
	a := &inboxActor{sys: sys, active: newActiveIndex(), sinks: map[InboxSink]struct{}{},
		counts: map[engine.TicketStatus]int{}}
	now := sys.cfg.Now()
	for _, r := range rows {
		r = r.At(now)
		a.active.put(r)
		a.fileAlert(r)
		a.count(r, 1)
	}
	return a
}

func (a *inboxActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.report()
		a.armSnooze(ctx)
		a.armAlert(ctx)
	case *actor.Stopping:
		if a.timer != nil {
			a.timer.Stop()
		}
		a.alarm.stop()
	case *rowChanged:
		a.change(ctx, msg.Row)
	case *listQuery:
		msg.Reply <- a.list(msg.Q, msg.After)
	case *badgeQuery:
		msg.Reply <- a.badge
	case *watchInbox:
		if msg.Sink.Badge(a.badge) {
			a.sinks[msg.Sink] = struct{}{}
		}
	case *unwatchInbox:
		delete(a.sinks, msg.Sink)
	case *snoozeCheck:
		a.wake(ctx)
	case *alertCheck:
		a.raiseDue(ctx)
	case *settingsChanged:
		a.refileAlerts(ctx)
	case *typingNotice:
		for sink := range a.sinks {
			if !sink.Typing(msg.Ticket, msg.From) {
				delete(a.sinks, sink)
			}
		}
	}
}

func (a *inboxActor) now() time.Time { return a.sys.cfg.Now() }

// count adds (sign 1) or removes (sign -1) a row's part in the badge and
// the per-status counts, so that no change costs a pass over every row.
func (a *inboxActor) count(r engine.TicketRow, sign int) {
	a.counts[r.Status] += sign
	if r.CountsForBadge() {
		a.badge += sign
	}
	if r.Status == engine.StatusOpen && r.WaitingSince != nil {
		a.waiting += sign
	}
}

func (a *inboxActor) change(ctx actor.Context, row engine.TicketRow) {
	if old, ok := a.active.get(row.ID); ok && old.Version > row.Version || !ok && a.closedSince(row) {
		return
	}
	a.replace(row.At(a.now()))
	if row.SnoozedUntil != nil {
		a.armSnooze(ctx)
	}
	a.armAlert(ctx)
}

// closedSince reports whether the open or snoozed row of a ticket the inbox
// does not hold is older than the ticket's stored closed row: a row that
// arrives after the close (closed is final) must not bring the ticket back.
// It costs one read per ticket that becomes active, none per message.
func (a *inboxActor) closedSince(row engine.TicketRow) bool {
	if row.Status == engine.StatusClosed {
		return false
	}
	stored, found, err := a.sys.store.Row(row.ID)
	if err != nil {
		a.sys.log.Warn("inbox: stored row unreadable; taking the one received", slog.String("ticket", row.ID), slog.Any("err", err))
		return false
	}
	return found && stored.Status == engine.StatusClosed && stored.Version > row.Version
}

// replace stores a row (or drops a closed one) and pushes it, and the badge
// when it moved, to every sink.
func (a *inboxActor) replace(row engine.TicketRow) {
	badge := a.badge
	old, had := a.active.remove(row.ID)
	if had {
		a.count(old, -1)
	}
	if row.Status != engine.StatusClosed {
		a.active.put(row)
		a.count(row, 1)
	}
	a.fileAlert(row) // a closed row has none: it leaves the alerts too
	moved := badge != a.badge
	alerted := row.AlertedAt != nil && (!had || old.AlertedAt == nil || row.AlertedAt.After(*old.AlertedAt))
	a.report()
	for sink := range a.sinks {
		if !sink.Row(row) || (moved && !sink.Badge(a.badge)) || (alerted && !sink.Alert(row)) {
			delete(a.sinks, sink)
		}
	}
}

// armSnooze sets one timer for the earliest snooze that runs out, so that
// agents see the ticket come back the moment it wakes.
func (a *inboxActor) armSnooze(ctx actor.Context) {
	next, ok := a.active.nextWake()
	if !ok || (!a.wakeAt.IsZero() && !next.Before(a.wakeAt) && a.timer != nil) {
		return
	}
	if a.timer != nil {
		a.timer.Stop()
	}
	a.wakeAt = next
	self, root := ctx.Self(), a.sys.actors.Root
	a.timer = time.AfterFunc(time.Until(next), func() { root.Send(self, &snoozeCheck{}) })
}

func (a *inboxActor) wake(ctx actor.Context) {
	a.timer, a.wakeAt = nil, time.Time{}
	a.wakeDue()
	a.armSnooze(ctx)
	a.armAlert(ctx) // a woken ticket's customer may have waited long enough already
}

// wakeDue opens again every snoozed ticket whose snooze has run out.
func (a *inboxActor) wakeDue() {
	now := a.now()
	for _, id := range a.active.due(now) {
		if r, ok := a.active.get(id); ok {
			a.replace(r.At(now))
		}
	}
}

func (a *inboxActor) report() {
	for _, s := range []engine.TicketStatus{engine.StatusOpen, engine.StatusSnoozed} {
		a.sys.metrics.tickets.WithLabelValues(string(s)).Set(float64(a.counts[s]))
	}
	a.sys.metrics.tickets.WithLabelValues(string(engine.StatusClosed)).Set(float64(a.sys.store.ClosedCount()))
	a.sys.metrics.badge.Set(float64(a.badge))
	a.sys.metrics.waiting.Set(float64(a.waiting))
}

// list answers a page of open or snoozed rows, newest activity first. A
// snooze that has run out counts as open even before its timer fires.
func (a *inboxActor) list(q TicketQuery, after *cursor) *listResult {
	a.wakeDue()
	rows, next := a.active.page(view{q.Status, q.Channel, q.Assignee}, after, q.Limit)
	return &listResult{Rows: rows, Next: next}
}
