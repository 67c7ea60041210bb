package node

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// IdleCheck is what an actor's idle timer sends it.
type IdleCheck struct{}

// IdleTimer tells an actor that it has handled no message for a while, so
// that it can passivate. It stands in for protoactor's receive timeout,
// whose timer goroutine writes the actor's context while the actor may be
// running. Here the timer goroutine only sends IdleCheck to the actor; every
// field is the actor's own.
type IdleTimer struct {
	after time.Duration
	last  time.Time // the last message handled
	timer *time.Timer
}

// Start arms the timer; the actor calls it on Started.
func (t *IdleTimer) Start(ctx actor.Context, after time.Duration) {
	t.Stop()
	t.after, t.last = after, time.Now()
	self, root := ctx.Self(), ctx.ActorSystem().Root
	t.timer = time.AfterFunc(after, func() { root.Send(self, IdleCheck{}) })
}

// Touch records activity; the actor calls it for every message but IdleCheck.
func (t *IdleTimer) Touch() { t.last = time.Now() }

// Idle is called on IdleCheck: true when no message came for the whole
// period. The timer is armed again either way: for the rest of the period,
// or for a next request to passivate should this one come to nothing.
func (t *IdleTimer) Idle() bool {
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

// Stop disarms the timer; the actor calls it on Stopping and Restarting.
func (t *IdleTimer) Stop() {
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
}
