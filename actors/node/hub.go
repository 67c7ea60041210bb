package node

import (
	"hash/maphash"
	"sync"
)

// Hub holds the subscribers of every entity (a conversation, say) outside
// the entity's actor, so that an idle actor can passivate while subscribers
// still follow it: a subscription costs a few bytes here, not a live actor.
// Subscribing should go through the actor, so that a replay and the
// registration happen in one Receive and no event falls between them;
// unsubscribing need not. The zero value is ready to use.
type Hub[S comparable] struct {
	once   sync.Once
	seed   maphash.Seed
	shards [64]hubShard[S]
}

type hubShard[S comparable] struct {
	mu   sync.Mutex
	subs map[string][]S
}

func (h *Hub[S]) shard(id string) *hubShard[S] {
	h.once.Do(func() { h.seed = maphash.MakeSeed() })
	return &h.shards[maphash.String(h.seed, id)%uint64(len(h.shards))]
}

// Add subscribes s to id; adding it twice keeps one.
func (h *Hub[S]) Add(id string, s S) {
	sh := h.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.subs == nil {
		sh.subs = map[string][]S{}
	}
	for _, have := range sh.subs[id] {
		if have == s {
			return
		}
	}
	sh.subs[id] = append(sh.subs[id], s)
}

// Remove unsubscribes s from id, if it was subscribed.
func (h *Hub[S]) Remove(id string, s S) {
	sh := h.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.subs[id]
	var zero S
	for i, have := range list {
		if have == s {
			list[i] = list[len(list)-1]
			list[len(list)-1] = zero
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(sh.subs, id)
	} else {
		sh.subs[id] = list
	}
}

// Has reports whether s is subscribed to id.
func (h *Hub[S]) Has(id string, s S) bool {
	sh := h.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, have := range sh.subs[id] {
		if have == s {
			return true
		}
	}
	return false
}

// Snapshot appends id's subscribers to buf: delivery happens outside the
// lock, so a subscriber may unsubscribe itself while being delivered to.
func (h *Hub[S]) Snapshot(id string, buf []S) []S {
	sh := h.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return append(buf, sh.subs[id]...)
}

// Take removes and returns every subscriber of id.
func (h *Hub[S]) Take(id string) []S {
	sh := h.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.subs[id]
	delete(sh.subs, id)
	return list
}

// RemoveIf unsubscribes from id every subscriber for which match is true.
func (h *Hub[S]) RemoveIf(id string, match func(S) bool) {
	sh := h.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.subs[id][:0]
	for _, have := range sh.subs[id] {
		if !match(have) {
			list = append(list, have)
		}
	}
	var zero S
	for i := len(list); i < len(sh.subs[id]); i++ {
		sh.subs[id][i] = zero
	}
	if len(list) == 0 {
		delete(sh.subs, id)
	} else {
		sh.subs[id] = list
	}
}
