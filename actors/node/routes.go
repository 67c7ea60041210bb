package node

import (
	"hash/maphash"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// routes is a directory's table of its running children, which senders read
// to enqueue a request straight into the child's mailbox: one mailbox hop,
// not two, and no single mailbox that every request of a kind must pass.
//
// It is safe against passivation because a child leaves the table, under
// its shard's write lock, before the directory poisons it, and a sender
// enqueues under the read lock. So whatever a sender put straight into a
// child's mailbox is there before the poison and is handled; a sender that
// comes later finds no route and goes through the directory, which holds
// the request for the next incarnation.
type routes struct {
	seed   maphash.Seed
	shards [64]routeShard
}

type routeShard struct {
	mu sync.RWMutex
	m  map[string]*actor.PID
}

func newRoutes() *routes {
	r := &routes{seed: maphash.MakeSeed()}
	for i := range r.shards {
		r.shards[i].m = map[string]*actor.PID{}
	}
	return r
}

func (r *routes) shard(id string) *routeShard {
	return &r.shards[maphash.String(r.seed, id)%uint64(len(r.shards))]
}

// send enqueues env in its running child's mailbox with root and reports
// whether there was one.
func (r *routes) send(root *actor.RootContext, env *Envelope) bool {
	sh := r.shard(env.ID)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	pid, ok := sh.m[env.ID]
	if ok {
		root.Send(pid, env)
	}
	return ok
}

func (r *routes) set(id string, pid *actor.PID) {
	sh := r.shard(id)
	sh.mu.Lock()
	sh.m[id] = pid
	sh.mu.Unlock()
}

// remove drops id's route if it still leads to pid.
func (r *routes) remove(id string, pid *actor.PID) {
	sh := r.shard(id)
	sh.mu.Lock()
	if cur, ok := sh.m[id]; ok && cur.Equal(pid) {
		delete(sh.m, id)
	}
	sh.mu.Unlock()
}

func (r *routes) clear() {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.mu.Unlock()
	}
}
