package actors

import (
	"context"
	"sync"
	"sync/atomic"
)

// workers is the dispatcher of Parley's actors: it runs a mailbox on a
// goroutine that outlives the run.
//
// protoactor's default dispatcher starts a goroutine each time an idle
// mailbox gets a message. A conversation's handling (decision, durable
// append, fan-out) needs a deeper stack than a new goroutine starts with, so
// under load nearly every message paid for growing and copying a stack. A
// worker that has finished a run instead waits for the next with its stack
// already grown. At most maxIdle wait; the others end, so a burst leaves no
// crowd behind.
type workers struct {
	work    chan func() // unbuffered: a send succeeds only into a waiting worker
	idle    atomic.Int32
	maxIdle int32
	quit    chan struct{}

	mu      sync.Mutex // orders Add against stop's Wait
	stopped bool
	wg      sync.WaitGroup
}

// workersThroughput is how many messages a mailbox handles before it lets
// other goroutines run: protoactor's default.
const workersThroughput = 300

func newWorkers(maxIdle int) *workers {
	return &workers{work: make(chan func()), maxIdle: int32(maxIdle), quit: make(chan struct{})}
}

// Schedule implements actor.Dispatcher.
func (w *workers) Schedule(fn func()) {
	select {
	case w.work <- fn:
		return
	default:
	}
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		go fn() // a straggler after shutdown: run it, own nothing
		return
	}
	w.wg.Add(1)
	w.mu.Unlock()
	go w.run(fn)
}

// Throughput implements actor.Dispatcher.
func (w *workers) Throughput() int { return workersThroughput }

func (w *workers) run(fn func()) {
	defer w.wg.Done()
	for {
		fn()
		if w.idle.Add(1) > w.maxIdle {
			w.idle.Add(-1)
			return
		}
		select {
		case fn = <-w.work:
			w.idle.Add(-1)
		case <-w.quit:
			w.idle.Add(-1)
			return
		}
	}
}

// stop ends the idle workers and waits for the busy ones to finish their
// runs, or until ctx ends.
func (w *workers) stop(ctx context.Context) error {
	w.mu.Lock()
	if !w.stopped {
		w.stopped = true
		close(w.quit)
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxIdleWorkers bounds the workers kept waiting: each holds a grown stack
// of a few KB.
const maxIdleWorkers = 512
