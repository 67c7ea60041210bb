package node

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A worker that has finished a run takes the next one instead of a new
// goroutine starting; at most maxIdle wait; stop ends them all.
func TestWorkers(t *testing.T) {
	w := startWorkers(2, 0, time.Hour, time.Hour)
	ran := make(chan int32, 1)
	w.Schedule(func() { ran <- w.idle.Load() })
	<-ran
	waitFor(t, func() bool { return w.idle.Load() == 1 }, "the first worker to wait for work")
	w.Schedule(func() { ran <- w.idle.Load() })
	if idle := <-ran; idle != 0 {
		t.Fatalf("%d workers idle while the second run ran; want 0: the waiting worker took it", idle)
	}
	waitFor(t, func() bool { return w.idle.Load() == 1 }, "the worker to wait again")

	// Five runs at once need five workers; afterwards two stay.
	burst(w, 5)()
	waitFor(t, func() bool { return w.idle.Load() == 2 }, "two workers idle")
	time.Sleep(20 * time.Millisecond)
	if n := w.idle.Load(); n != 2 {
		t.Fatalf("%d workers idle after a burst of 5; want maxIdle = 2", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if n := w.idle.Load(); n != 0 {
		t.Fatalf("%d workers idle after stop", n)
	}
	done := make(chan struct{})
	w.Schedule(func() { close(done) }) // after stop: still runs
	<-done
}

// Workers left idle after a burst are retired, half of them each period,
// down to the floor; a worker in use is never retired.
func TestWorkersTrim(t *testing.T) {
	w := startWorkers(1000, 4, 100*time.Millisecond, 10*time.Millisecond)
	release := burst(w, 40)
	busy := make(chan struct{})
	w.Schedule(func() { <-busy }) // stays busy through the trimming
	release()
	waitFor(t, func() bool { return w.idle.Load() == 40 }, "40 workers idle")
	waitFor(t, func() bool { return w.idle.Load() == 4 }, "the idle workers trimmed to the floor of 4")
	ran := make(chan struct{})
	w.Schedule(func() { close(ran) })
	<-ran
	close(busy)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// burst schedules n runs at once, each holding its worker, and returns once
// all have started; calling release lets them finish.
func burst(w *Workers, n int) (release func()) {
	hold := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		w.Schedule(func() { started.Done(); <-hold })
	}
	started.Wait()
	return func() { close(hold) }
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
