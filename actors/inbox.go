package actors

import (
	"log/slog"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/parley-chat/parley/engine"
)

// inboxActor is the live Helpdesk list (H1) and badge (H2): a projection of
// the rows of the open and snoozed tickets, rebuilt from the row index at
// start-up and kept current by the conversation actors. A closed ticket's row
// leaves it (closed tickets are listed from storage). A row that arrives twice
// or out of order is harmless: the higher version wins.
type inboxActor struct {
	sys    *System
	rows   map[string]engine.TicketRow // open and snoozed, as they stand at the last change or wake
	sinks  map[InboxSink]struct{}
	badge  int
	counts map[engine.TicketStatus]int
	timer  *time.Timer
	wakeAt time.Time
}

func newInboxActor(sys *System, rows map[string]engine.TicketRow) actor.Actor {
	a := &inboxActor{sys: sys, rows: map[string]engine.TicketRow{}, sinks: map[InboxSink]struct{}{},
		counts: map[engine.TicketStatus]int{}}
	now := sys.cfg.Now()
	for id, r := range rows {
		r = r.At(now)
		a.rows[id] = r
		a.count(r, 1)
	}
	return a
}

func (a *inboxActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.report()
		a.armSnooze(ctx)
	case *actor.Stopping:
		if a.timer != nil {
			a.timer.Stop()
		}
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
}

func (a *inboxActor) change(ctx actor.Context, row engine.TicketRow) {
	if old, ok := a.rows[row.ID]; ok && old.Version > row.Version || !ok && a.closedSince(row) {
		return
	}
	a.replace(row.At(a.now()))
	if row.SnoozedUntil != nil {
		a.armSnooze(ctx)
	}
}

// closedSince reports whether the open or snoozed row of a ticket the inbox
// does not hold is older than the ticket's stored closed row: a row that
// arrives after the close (closed is final) must not bring the ticket back.
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
	if old, had := a.rows[row.ID]; had {
		a.count(old, -1)
		delete(a.rows, row.ID)
	}
	if row.Status != engine.StatusClosed {
		a.rows[row.ID] = row
		a.count(row, 1)
	}
	moved := badge != a.badge
	a.report()
	for sink := range a.sinks {
		if !sink.Row(row) || (moved && !sink.Badge(a.badge)) {
			delete(a.sinks, sink)
		}
	}
}

// armSnooze sets one timer for the earliest snooze that runs out, so that
// agents see the ticket come back the moment it wakes.
func (a *inboxActor) armSnooze(ctx actor.Context) {
	var next time.Time
	for _, r := range a.rows {
		if r.Status == engine.StatusSnoozed && r.SnoozedUntil != nil && (next.IsZero() || r.SnoozedUntil.Before(next)) {
			next = *r.SnoozedUntil
		}
	}
	if next.IsZero() || (!a.wakeAt.IsZero() && !next.Before(a.wakeAt) && a.timer != nil) {
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
	now := a.now()
	for _, r := range a.rows {
		if woken := r.At(now); woken.Status != r.Status {
			a.replace(woken)
		}
	}
	a.armSnooze(ctx)
}

func (a *inboxActor) report() {
	for _, s := range []engine.TicketStatus{engine.StatusOpen, engine.StatusSnoozed} {
		a.sys.metrics.tickets.WithLabelValues(string(s)).Set(float64(a.counts[s]))
	}
	a.sys.metrics.tickets.WithLabelValues(string(engine.StatusClosed)).Set(float64(a.sys.store.ClosedCount()))
	a.sys.metrics.badge.Set(float64(a.badge))
}

// list answers a page of open or snoozed rows, newest activity first.
func (a *inboxActor) list(q TicketQuery, after *cursor) *listResult {
	now := a.now()
	var out []engine.TicketRow
	for _, r := range a.rows {
		r = r.At(now)
		if r.Status != q.Status || (q.Channel != "" && r.Channel != q.Channel) ||
			(q.Assignee != "" && (r.Assignee == nil || r.Assignee.ID != q.Assignee)) ||
			(after != nil && !older(r, after.at, after.id)) {
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return older(out[j], out[i].UpdatedAt.UnixNano(), out[i].ID) })
	rows, next := page(out, q.Limit)
	return &listResult{Rows: rows, Next: next}
}
