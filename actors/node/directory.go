package node

import (
	"github.com/asynkron/protoactor-go/actor"
)

// Envelope addresses a message to the actor with the given id. The directory
// forwards it as it is; the actor answers it once with Answer: on Reply, a
// channel with room for the one answer, or, for a request nobody waits for,
// by calling Done.
type Envelope struct {
	ID    string
	Msg   any
	Reply chan any
	Done  func(any)
}

// Answer hands the envelope its answer. It never blocks: Reply has room for
// the one answer, and Done must not block.
func (e *Envelope) Answer(v any) {
	if e.Done != nil {
		e.Done(v)
		return
	}
	e.Reply <- v
}

// Passivate is what an idle actor sends its directory (with ctx.Request, so
// that the directory knows which incarnation asks) to be stopped.
type Passivate struct{ ID string }

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
	stopping map[string][]*Envelope // held while the id's actor stops, for its next incarnation
	onCount  func(n int)
}

// Dir is a running directory: where requests for its kind of actor go.
type Dir struct {
	pid    *actor.PID
	routes *routes
}

// SpawnDirectory starts a directory named name whose children are made by
// produce and run on dispatch. onCount, if not nil, is called with the
// number of running children whenever it changes.
func SpawnDirectory(root *actor.RootContext, name string, produce func(id string) actor.Actor,
	dispatch actor.Dispatcher, onCount func(n int)) (Dir, error) {
	rt := newRoutes()
	producer := func() actor.Actor {
		return &directory{
			produce:  produce,
			dispatch: dispatch,
			routes:   rt,
			children: map[string]*actor.PID{},
			ids:      map[string]string{},
			stopping: map[string][]*Envelope{},
			onCount:  onCount,
		}
	}
	pid, err := root.SpawnNamed(actor.PropsFromProducer(producer, actor.WithDispatcher(dispatch)), name)
	return Dir{pid: pid, routes: rt}, err
}

// PID is the directory's own PID, to stop it.
func (d Dir) PID() *actor.PID { return d.pid }

// Deliver enqueues env straight into its running actor's mailbox, or hands
// it to the directory, which spawns or holds as needed. It never blocks.
func (d Dir) Deliver(root *actor.RootContext, env *Envelope) {
	if !d.routes.send(root, env) {
		root.Send(d.pid, env)
	}
}

func (d *directory) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *Envelope:
		d.route(ctx, msg)
	case *Passivate:
		d.passivate(ctx, msg.ID)
	case *actor.Terminated:
		d.terminated(ctx, msg.Who)
	case *actor.Stopping:
		d.routes.clear() // the children stop with the directory: requests go to it, and fail there
	}
}

func (d *directory) route(ctx actor.Context, env *Envelope) {
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
