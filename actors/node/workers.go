package node

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Workers is the dispatcher of Parley's actors: it runs a mailbox on a
// goroutine that outlives the run.
//
// protoactor's default dispatcher starts a goroutine each time an idle
// mailbox gets a message. A conversation's handling (decision, durable
// append, fan-out) needs a deeper stack than a new goroutine starts with, so
// under load nearly every message paid for growing and copying a stack. A
// worker that has finished a run instead waits for the next with its stack
// already grown.
//
// A run holds its worker while the conversation waits for its fsync, so a
// closed-loop load with thousands of conversations committing at once has
// thousands of workers. At most maxIdle of them wait afterwards: keeping
// them all (16,384) made the closed loop 5-15% slower and the resume storm
// after it 0.3-0.7 s slower than 512 did (three alternating pairs; the
// runtime scans every parked goroutine's stack). Those left idle after a
// burst are retired bit by bit: every trimEvery, half of those that stayed
// idle through the whole period end, down to minIdle.
type Workers struct {
	work    chan func()   // unbuffered: a send succeeds only into a waiting worker
	retire  chan struct{} // unbuffered: a send ends one waiting worker
	idle    atomic.Int32
	maxIdle int32
	quit    chan struct{}

	mu      sync.Mutex // orders Add against stop's Wait
	stopped bool
	wg      sync.WaitGroup
}

const (
	// workersThroughput is how many messages a mailbox handles before it
	// lets other goroutines run: protoactor's default.
	workersThroughput = 300
	maxIdleWorkers    = 512
	minIdleWorkers    = 64
	trimEvery         = 5 * time.Second
	trimSample        = 100 * time.Millisecond
)

// NewWorkers returns the dispatcher with Parley's tuning; Stop ends it.
func NewWorkers() *Workers {
	return startWorkers(maxIdleWorkers, minIdleWorkers, trimEvery, trimSample)
}

func startWorkers(maxIdle, minIdle int, period, sample time.Duration) *Workers {
	w := &Workers{work: make(chan func()), retire: make(chan struct{}), maxIdle: int32(maxIdle), quit: make(chan struct{})}
	w.wg.Add(1)
	go w.trim(int32(minIdle), period, sample)
	return w
}

// Schedule implements actor.Dispatcher.
func (w *Workers) Schedule(fn func()) {
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
func (w *Workers) Throughput() int { return workersThroughput }

func (w *Workers) run(fn func()) {
	defer w.wg.Done()
	for {
		fn()
		if w.idle.Add(1) > w.maxIdle {
			w.idle.Add(-1)
			return
		}
		select {
		case fn = <-w.work:
		case <-w.retire:
			fn = nil
		case <-w.quit:
			fn = nil
		}
		w.idle.Add(-1)
		if fn == nil {
			return
		}
	}
}

// trim retires, every period, half of the workers that stayed idle through
// it (the fewest idle seen at any sample), keeping at least floor.
func (w *Workers) trim(floor int32, period, sample time.Duration) {
	defer w.wg.Done()
	tick := time.NewTicker(sample)
	defer tick.Stop()
	low, next := w.idle.Load(), time.Now().Add(period)
	for {
		select {
		case <-w.quit:
			return
		case now := <-tick.C:
			low = min(low, w.idle.Load())
			if now.Before(next) {
				continue
			}
			for n := (low - floor + 1) / 2; n > 0; n-- { // half, rounded up
				select {
				case w.retire <- struct{}{}:
				default:
					n = 0 // none waiting any more
				}
			}
			low, next = w.idle.Load(), now.Add(period)
		}
	}
}

// Stop ends the idle workers and waits for the busy ones to finish their
// runs, or until ctx ends.
func (w *Workers) Stop(ctx context.Context) error {
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
