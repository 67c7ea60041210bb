package actors

import (
	"github.com/asynkron/protoactor-go/actor"
)

// envelope addresses a message to the actor with the given id. The directory
// forwards it as it is; the actor answers on Reply, a channel with room for
// the one answer, so a request costs no future and no registry entry.
type envelope struct {
	ID    string
	Msg   any
	Reply chan any
}

// answer replies to a request: on its channel, else (a request from another
// actor) to its sender.
func answer(ctx actor.Context, reply chan any, v any) {
	if reply != nil {
		reply <- v // never blocks: one answer, room for one
		return
	}
	ctx.Respond(v)
}

// passivate is sent by an idle child to ask the directory to stop it.
type passivate struct{ ID string }

// pending is a message that arrived while its actor was stopping; it is
// delivered, with its original sender, to the actor's next incarnation.
type pending struct {
	env    *envelope
	sender *actor.PID
}

// directory spawns one child per id on demand and routes envelopes to it. An
// idle child asks to passivate; the directory then poisons it (the child first
// handles everything already queued) and holds new messages for that id until
// the child has terminated, so two incarnations of one id never run at once.
type directory struct {
	produce  func(id string) actor.Actor
	children map[string]*actor.PID
	ids      map[string]string // pid.Id → id
	stopping map[string][]pending
	onCount  func(n int)
}

func newDirectory(produce func(id string) actor.Actor, onCount func(int)) actor.Producer {
	return func() actor.Actor {
		return &directory{
			produce:  produce,
			children: map[string]*actor.PID{},
			ids:      map[string]string{},
			stopping: map[string][]pending{},
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
	}
}

func (d *directory) route(ctx actor.Context, env *envelope) {
	if held, ok := d.stopping[env.ID]; ok {
		d.stopping[env.ID] = append(held, pending{env: env, sender: ctx.Sender()})
		return
	}
	pid, ok := d.children[env.ID]
	if !ok {
		pid = d.spawn(ctx, env.ID)
	}
	ctx.Forward(pid)
}

func (d *directory) spawn(ctx actor.Context, id string) *actor.PID {
	pid := ctx.SpawnPrefix(actor.PropsFromProducer(func() actor.Actor { return d.produce(id) }), id)
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
	ctx.Poison(pid)
}

func (d *directory) terminated(ctx actor.Context, who *actor.PID) {
	id, ok := d.ids[who.Id]
	if !ok {
		return
	}
	delete(d.ids, who.Id)
	delete(d.children, id)
	held, wasStopping := d.stopping[id]
	delete(d.stopping, id)
	d.report()
	if !wasStopping || len(held) == 0 {
		return
	}
	pid := d.spawn(ctx, id)
	for _, p := range held {
		ctx.RequestWithCustomSender(pid, p.env, p.sender)
	}
}

func (d *directory) report() {
	if d.onCount != nil {
		d.onCount(len(d.children))
	}
}
