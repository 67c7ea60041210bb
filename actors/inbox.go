package actors

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/parley-chat/parley/engine"
)

// inboxActor is the live Helpdesk list (H1) and badge (H2): a projection of
// ticket rows, rebuilt from the row index at start-up and kept current by the
// conversation actors. A row that arrives twice or out of order is harmless:
// the higher version wins.
type inboxActor struct {
	sys    *System
	rows   map[string]engine.TicketRow // as they stand at the last change or wake
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
		msg.Reply <- a.list(msg.Q, msg.Me)
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
	if old, ok := a.rows[row.ID]; ok && old.Version > row.Version {
		return
	}
	a.replace(row.At(a.now()))
	if row.SnoozedUntil != nil {
		a.armSnooze(ctx)
	}
}

// replace stores a row and pushes it, and the badge when it moved, to every sink.
func (a *inboxActor) replace(row engine.TicketRow) {
	badge := a.badge
	if old, had := a.rows[row.ID]; had {
		a.count(old, -1)
	}
	a.rows[row.ID] = row
	a.count(row, 1)
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
	for _, s := range []engine.TicketStatus{engine.StatusOpen, engine.StatusSnoozed, engine.StatusClosed} {
		a.sys.metrics.tickets.WithLabelValues(string(s)).Set(float64(a.counts[s]))
	}
	a.sys.metrics.badge.Set(float64(a.badge))
}

// list answers a page of rows, newest activity first. The cursor is the
// position of the last row of the previous page (activity time and id), so
// paging stays stable while rows change.
func (a *inboxActor) list(q TicketQuery, me string) *listResult {
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return &listResult{Err: err}
	}
	status := q.Status
	if status == "" {
		status = engine.StatusOpen
	}
	assignee := q.Assignee
	if assignee == "me" {
		assignee = me
	}
	now := a.now()
	var out []engine.TicketRow
	for _, r := range a.rows {
		r = r.At(now)
		if r.Status != status || (q.Channel != "" && r.Channel != q.Channel) ||
			(assignee != "" && (r.Assignee == nil || r.Assignee.ID != assignee)) ||
			(after != nil && !older(r, after.at, after.id)) {
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return older(out[j], out[i].UpdatedAt.UnixNano(), out[i].ID) })
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	res := &listResult{Rows: out}
	if len(out) > limit {
		res.Rows = out[:limit]
		res.Next = encodeCursor(out[limit-1])
	}
	return res
}

type cursor struct {
	at int64
	id string
}

// older reports whether row r comes after position (at, id) in a
// newest-first list.
func older(r engine.TicketRow, at int64, id string) bool {
	ra := r.UpdatedAt.UnixNano()
	return ra < at || (ra == at && r.ID < id)
}

func encodeCursor(r engine.TicketRow) string {
	raw := strconv.FormatInt(r.UpdatedAt.UnixNano(), 10) + "." + r.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	bad := engine.Invalid("cursor", "is not a cursor from a previous page")
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(raw), ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || !engine.ValidID(id) {
		return nil, bad
	}
	return &cursor{at: n, id: id}, nil
}
