package actors

import (
	"hash/maphash"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// envelope addresses a message to the actor with the given id. The directory
// forwards it as it is; the actor answers on Reply (see System.request), or,
// for a request nobody waits for, hands its answer to Done (see
// System.ShopperPostAsync).
type envelope struct {
	ID    string
	Msg   any
	Reply chan any
	Done  func(*result)
}

// passivate is sent by an idle child to ask the directory to stop it.
type passivate struct{ ID string }

// directory spawns one child per id on demand and routes envelopes to it. An
// idle child asks to passivate; the directory then poisons it (the child first
// handles everything already queued) and holds new messages for that id until
// the child has terminated, so two incarnations of one id never run at once.
//
// A request for a running child does not pass through the directory: the
// directory publishes its running children in routes, and senders enqueue
// straight into the child's mailbox (see routes). Only a request for an id
// with no running child, or one that is stopping, takes the directory's own
// mailbox.
type directory struct {
	produce  func(id string) actor.Actor
	dispatch actor.Dispatcher // runs the children's mailboxes
	routes   *routes
	children map[string]*actor.PID
	ids      map[string]string      // pid.Id → id
	stopping map[string][]*envelope // held while the id's actor stops, for its next incarnation
	onCount  func(n int)
}

func newDirectory(produce func(id string) actor.Actor, dispatch actor.Dispatcher, rt *routes, onCount func(int)) actor.Producer {
	return func() actor.Actor {
		return &directory{
			produce:  produce,
			dispatch: dispatch,
			routes:   rt,
			children: map[string]*actor.PID{},
			ids:      map[string]string{},
			stopping: map[string][]*envelope{},
			onCount:  onCount,
		}
	}
}

func (d *directory) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *envelope:
		d.route(ctx, msg)
	case *passivate:
		d.passivate(ctx, msg.ID)
	case *actor.Terminated:
		d.terminated(ctx, msg.Who)
	case *actor.Stopping:
		d.routes.clear() // the children stop with the directory: requests go to it, and fail there
	}
}

func (d *directory) route(ctx actor.Context, env *envelope) {
	if held, ok := d.stopping[env.ID]; ok {
		d.stopping[env.ID] = append(held, env)
		return
	}
	pid, ok := d.children[env.ID]
	if ok {
		ctx.Send(pid, env)
		return
	}
	pid = d.spawn(ctx, env.ID)
	ctx.Send(pid, env)
	d.routes.set(env.ID, pid) // after the first message: nothing overtakes it
}

func (d *directory) spawn(ctx actor.Context, id string) *actor.PID {
	props := actor.PropsFromProducer(func() actor.Actor { return d.produce(id) }, actor.WithDispatcher(d.dispatch))
	pid := ctx.SpawnPrefix(props, id)
	d.children[id] = pid
	d.ids[pid.Id] = id
	d.report()
	return pid
}

func (d *directory) passivate(ctx actor.Context, id string) {
	pid, ok := d.children[id]
	if !ok || ctx.Sender() == nil || !ctx.Sender().Equal(pid) {
		return // a stale request from an incarnation already gone
	}
	if _, already := d.stopping[id]; already {
		return
	}
	d.stopping[id] = nil
	d.routes.remove(id, pid) // before the poison: see routes
	ctx.Poison(pid)
}

func (d *directory) terminated(ctx actor.Context, who *actor.PID) {
	id, ok := d.ids[who.Id]
	if !ok {
		return
	}
	delete(d.ids, who.Id)
	delete(d.children, id)
	d.routes.remove(id, who)
	held, wasStopping := d.stopping[id]
	delete(d.stopping, id)
	d.report()
	if !wasStopping || len(held) == 0 {
		return
	}
	pid := d.spawn(ctx, id)
	for _, env := range held {
		ctx.Send(pid, env)
	}
	d.routes.set(id, pid) // after the held messages: nothing overtakes them
}

func (d *directory) report() {
	if d.onCount != nil {
		d.onCount(len(d.children))
	}
}

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
func (r *routes) send(root *actor.RootContext, env *envelope) bool {
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
