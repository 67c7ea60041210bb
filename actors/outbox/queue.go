package outbox

import (
	"container/heap"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Key is an entry's key, "<stream>/<seq>[.<sub>]/<target>[:<destination>]",
// in its parts.
type Key struct {
	Stream   string
	Seq, Sub uint64
	Target   string // with its destination: "webhook:wh_1"
}

// Kind is the target without its destination: "webhook".
func (k Key) Kind() string {
	kind, _, _ := strings.Cut(k.Target, ":")
	return kind
}

// ParseKey splits an entry's key; the parts it cannot read are zero.
func ParseKey(key string) Key {
	var k Key
	rest, target, ok := cutLast(key)
	if !ok {
		k.Target = key
		return k
	}
	k.Target = target
	stream, seq, _ := cutLast(rest)
	k.Stream = stream
	n, sub, _ := strings.Cut(seq, ".")
	k.Seq, _ = strconv.ParseUint(n, 10, 64)
	k.Sub, _ = strconv.ParseUint(sub, 10, 64)
	return k
}

func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// queue is one target's entries waiting, earliest first, and how many of
// its deliveries are under way. The worker's mu guards it.
//
// The entries of an ordered target wait in groups, one per stream: only a
// group's first entry is in due, and only while none of the group is under
// way. due may hold stale entries of a group (a first entry that an
// earlier one displaced); they are skipped when they come up.
type queue struct {
	due     dueHeap
	limit   int // 0: a target the worker does not know
	running int
	ordered bool
	groups  map[string]*group // by stream, for an ordered target
}

// group is the entries of one stream for an ordered target, in key order.
type group struct {
	keys    []orderedKey
	ats     map[string]time.Time // when each is due
	running bool
}

type orderedKey struct {
	seq, sub uint64
	key      string
}

func (a orderedKey) less(b orderedKey) bool {
	if a.seq != b.seq {
		return a.seq < b.seq
	}
	return a.sub < b.sub
}

type dueEntry struct {
	at  time.Time
	key string
}

type dueHeap []dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueEntry)) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// file queues key (parsed as k) to be tried at at: at once in due, or, for
// an ordered target, in its stream's group, in due only once it is the
// group's first and none of the group is under way.
func (q *queue) file(at time.Time, key string, k Key) {
	if !q.ordered {
		heap.Push(&q.due, dueEntry{at: at, key: key})
		return
	}
	g := q.groups[k.Stream]
	if g == nil {
		g = &group{ats: map[string]time.Time{}}
		q.groups[k.Stream] = g
	}
	if _, ok := g.ats[key]; !ok {
		ok := orderedKey{seq: k.Seq, sub: k.Sub, key: key}
		i := len(g.keys)
		for i > 0 && ok.less(g.keys[i-1]) {
			i--
		}
		g.keys = slices.Insert(g.keys, i, ok)
	}
	g.ats[key] = at
	if !g.running && g.keys[0].key == key {
		heap.Push(&q.due, dueEntry{at: at, key: key})
	}
}

// claim takes d off its queue for a delivery, and reports false for a
// stale entry of an ordered target.
func (q *queue) claim(d dueEntry) bool {
	if !q.ordered {
		return true
	}
	g := q.groups[ParseKey(d.key).Stream]
	if g == nil || g.running || g.keys[0].key != d.key || !g.ats[d.key].Equal(d.at) {
		return false
	}
	g.running = true
	return true
}

// finish ends a delivery of key: done with it (an ordered group's next
// entry becomes due), or filed again to be tried at next.
func (q *queue) finish(key string, next time.Time, done bool) {
	k := ParseKey(key)
	g := q.groups[k.Stream] // nil unless ordered
	if g != nil {
		g.running = false
	}
	if !done {
		q.file(next, key, k)
		return
	}
	if g == nil {
		return
	}
	if i := slices.IndexFunc(g.keys, func(o orderedKey) bool { return o.key == key }); i >= 0 {
		g.keys = slices.Delete(g.keys, i, i+1)
	}
	delete(g.ats, key)
	if len(g.keys) == 0 {
		delete(q.groups, k.Stream)
		return
	}
	first := g.keys[0].key
	heap.Push(&q.due, dueEntry{at: g.ats[first], key: first})
}
