package actors

import (
	"cmp"
	"strings"
	"time"

	"github.com/RaduBerinde/btreemap"

	"github.com/parley-chat/parley/engine"
)

// activeIndex holds the rows of the open and snoozed tickets, each filed in
// every ordered view that can list it, so that a page of any list costs
// O(log n + limit), however rare the value of its filters; and the snoozed
// rows by deadline, so that the earliest wake-up is one look. It is the inbox
// actor's and is not safe for concurrent use.
//
// The ordered sets are B-trees from github.com/RaduBerinde/btreemap (a fork of
// github.com/google/btree by one of Pebble's authors): Pebble already links it
// into the binary, so it costs no new module and no code of its own. A sorted
// slice would move every entry of a view on each message, since each message
// takes its ticket to the front.
type activeIndex struct {
	rows    map[string]engine.TicketRow
	views   map[view]*btreemap.BTreeMap[position, struct{}]
	wakes   *btreemap.BTreeMap[position, struct{}] // snoozed rows, earliest deadline first
	alerts  *btreemap.BTreeMap[position, struct{}] // waiting rows, earliest alert first (H10)
	alertAt map[string]int64                       // a row's place in alerts
	free    *btreemap.FreeList[position, struct{}]
}

// view is one list the inbox answers: a status and, when not "", a channel
// and an assignee. A row is filed under its status with each of its channel
// and assignee present or not: up to four views.
type view struct {
	status   engine.TicketStatus
	channel  engine.Channel
	assignee string
}

// position is a row's place in a list: its activity time (Unix nanoseconds,
// as in a cursor) and id; in wakes, its snooze deadline and id.
type position struct {
	at int64
	id string
}

// newestFirst orders positions by activity, newest first, then by id,
// greatest first: the order of every list and of its cursor.
func newestFirst(a, b position) int {
	if c := cmp.Compare(b.at, a.at); c != 0 {
		return c
	}
	return strings.Compare(b.id, a.id)
}

func earliestFirst(a, b position) int { return newestFirst(b, a) }

// treeDegree is the B-trees' degree: nodes of up to 31 entries.
const treeDegree = 16

func newActiveIndex() *activeIndex {
	free := btreemap.NewFreeList[position, struct{}](btreemap.DefaultFreeListSize)
	return &activeIndex{
		rows:    map[string]engine.TicketRow{},
		views:   map[view]*btreemap.BTreeMap[position, struct{}]{},
		wakes:   btreemap.NewWithFreeList[position, struct{}](treeDegree, earliestFirst, free),
		alerts:  btreemap.NewWithFreeList[position, struct{}](treeDegree, earliestFirst, free),
		alertAt: map[string]int64{},
		free:    free,
	}
}

// Unassigned is the assignee of a query for the tickets nobody is assigned
// to: no agent id can be it.
const Unassigned = "\x00unassigned"

// viewsOf returns the views r is filed under: every one of its status, with
// its channel or any, and with its assignee (Unassigned for none) or any.
func viewsOf(r *engine.TicketRow) [4]view {
	assignee := Unassigned
	if r.Assignee != nil && r.Assignee.ID != "" {
		assignee = r.Assignee.ID
	}
	return [4]view{{status: r.Status}, {status: r.Status, channel: r.Channel},
		{r.Status, "", assignee}, {r.Status, r.Channel, assignee}}
}

func rowPosition(r *engine.TicketRow) position { return position{r.UpdatedAt.UnixNano(), r.ID} }

// wakePosition is r's place among the snoozed rows, false if it has none.
func wakePosition(r *engine.TicketRow) (position, bool) {
	if r.Status != engine.StatusSnoozed || r.SnoozedUntil == nil {
		return position{}, false
	}
	return position{r.SnoozedUntil.UnixNano(), r.ID}, true
}

func (x *activeIndex) get(id string) (engine.TicketRow, bool) {
	r, ok := x.rows[id]
	return r, ok
}

// put files an open or snoozed row, replacing the ticket's row if it has one.
func (x *activeIndex) put(r engine.TicketRow) {
	x.remove(r.ID)
	x.rows[r.ID] = r
	p := rowPosition(&r)
	for _, v := range viewsOf(&r) {
		t := x.views[v]
		if t == nil {
			t = btreemap.NewWithFreeList[position, struct{}](treeDegree, newestFirst, x.free)
			x.views[v] = t
		}
		t.ReplaceOrInsert(p, struct{}{})
	}
	if w, ok := wakePosition(&r); ok {
		x.wakes.ReplaceOrInsert(w, struct{}{})
	}
}

// remove takes a ticket's row out of every view; false if it had none.
func (x *activeIndex) remove(id string) (engine.TicketRow, bool) {
	r, ok := x.rows[id]
	if !ok {
		return r, false
	}
	delete(x.rows, id)
	p := rowPosition(&r)
	for _, v := range viewsOf(&r) {
		if t := x.views[v]; t != nil {
			t.Delete(p)
			if t.Len() == 0 { // an agent's views go with their last active ticket
				delete(x.views, v)
			}
		}
	}
	if w, ok := wakePosition(&r); ok {
		x.wakes.Delete(w)
	}
	return r, true // its alert stays filed: the caller files it again, or drops it
}

// setAlert files the ticket id for a waiting alert at at, or takes it out
// with the zero time.
func (x *activeIndex) setAlert(id string, at time.Time) {
	old, ok := x.alertAt[id]
	if ok && !at.IsZero() && old == at.UnixNano() {
		return // a customer writing again while waiting: the same deadline
	}
	if ok {
		x.alerts.Delete(position{old, id})
		delete(x.alertAt, id)
	}
	if !at.IsZero() {
		x.alertAt[id] = at.UnixNano()
		x.alerts.ReplaceOrInsert(position{at.UnixNano(), id}, struct{}{})
	}
}

// nextAlert is the earliest alert deadline; false if nobody is waiting.
func (x *activeIndex) nextAlert() (time.Time, bool) {
	p, _, ok := x.alerts.Min()
	return time.Unix(0, p.at), ok
}

// alertsDue returns the ids of the tickets whose alert is due at now.
func (x *activeIndex) alertsDue(now time.Time) []string {
	var ids []string
	for p := range x.alerts.Ascend(btreemap.Min[position](), btreemap.Max[position]()) {
		if p.at > now.UnixNano() {
			break
		}
		ids = append(ids, p.id)
	}
	return ids
}

// page returns up to limit rows of view v after the cursor position, newest
// first, and the cursor of the next page ("" if none).
func (x *activeIndex) page(v view, after *cursor, limit int) ([]engine.TicketRow, string) {
	t := x.views[v]
	if t == nil {
		return nil, ""
	}
	from := btreemap.Min[position]()
	if after != nil {
		from = btreemap.GT(position{after.at, after.id})
	}
	out := make([]engine.TicketRow, 0, min(limit+1, t.Len()))
	for p := range t.Ascend(from, btreemap.Max[position]()) {
		out = append(out, x.rows[p.id])
		if len(out) > limit {
			break
		}
	}
	return page(out, limit)
}

// nextWake is the earliest snooze deadline; false if nothing is snoozed.
func (x *activeIndex) nextWake() (time.Time, bool) {
	p, _, ok := x.wakes.Min()
	return time.Unix(0, p.at), ok
}

// due returns the ids of the snoozed rows whose deadline is not after now.
func (x *activeIndex) due(now time.Time) []string {
	var ids []string
	for p := range x.wakes.Ascend(btreemap.Min[position](), btreemap.Max[position]()) {
		if p.at > now.UnixNano() {
			break
		}
		ids = append(ids, p.id)
	}
	return ids
}
