package actors

import (
	"sync"

	"github.com/parley-chat/parley/engine"
)

// hub holds every conversation's subscribers outside the conversation
// actors, so that an idle actor can passivate while sockets still follow its
// conversation: an open chat costs a few bytes here, not a live actor.
// Subscribing goes through the actor (its replay and the registration happen
// in one Receive, so no event falls between them); unsubscribing does not.
type hub struct {
	shards [64]hubShard
}

type hubShard struct {
	mu   sync.Mutex
	subs map[string][]Subscriber
}

func (h *hub) shard(conv string) *hubShard {
	return &h.shards[engine.Partition(conv, len(h.shards))]
}

func (h *hub) add(conv string, s Subscriber) {
	sh := h.shard(conv)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.subs == nil {
		sh.subs = map[string][]Subscriber{}
	}
	for _, have := range sh.subs[conv] {
		if have == s {
			return
		}
	}
	sh.subs[conv] = append(sh.subs[conv], s)
}

func (h *hub) remove(conv string, s Subscriber) {
	sh := h.shard(conv)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.subs[conv]
	for i, have := range list {
		if have == s {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(sh.subs, conv)
	} else {
		sh.subs[conv] = list
	}
}

// snapshot appends conv's subscribers to buf: delivery happens outside the
// lock, so a subscriber may unsubscribe itself from inside Deliver.
func (h *hub) snapshot(conv string, buf []Subscriber) []Subscriber {
	sh := h.shard(conv)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return append(buf, sh.subs[conv]...)
}

// take removes and returns every subscriber of conv.
func (h *hub) take(conv string) []Subscriber {
	sh := h.shard(conv)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.subs[conv]
	delete(sh.subs, conv)
	return list
}
