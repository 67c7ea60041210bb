package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// idleCheck is what an actor's idle timer sends it.
type idleCheck struct{}

// idleTimer tells an actor that it has handled no message for a while, so
// that it can passivate. It stands in for protoactor's receive timeout,
// whose timer goroutine writes the actor's context while the actor may be
// running. Here the timer goroutine only sends idleCheck to the actor; every
// field is the actor's own.
type idleTimer struct {
	after time.Duration
	last  time.Time // the last message handled
	timer *time.Timer
}

// start arms the timer; the actor calls it on Started.
func (t *idleTimer) start(ctx actor.Context, after time.Duration) {
	t.stop()
	t.after, t.last = after, time.Now()
	self, root := ctx.Self(), ctx.ActorSystem().Root
	t.timer = time.AfterFunc(after, func() { root.Send(self, idleCheck{}) })
}

// touch records activity; the actor calls it for every message but idleCheck.
func (t *idleTimer) touch() { t.last = time.Now() }

// idle is called on idleCheck: true when no message came for the whole
// period. The timer is armed again either way: for the rest of the period,
// or for a next request to passivate should this one come to nothing.
func (t *idleTimer) idle() bool {
	if t.timer == nil {
		return false
	}
	quiet := time.Since(t.last)
	if quiet >= t.after {
		t.timer.Reset(t.after) // asks again if the actor is still here then
		return true
	}
	t.timer.Reset(t.after - quiet)
	return false
}

// stop disarms the timer; the actor calls it on Stopping and Restarting.
func (t *idleTimer) stop() {
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
}
