package transport

import (
	"context"
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// byteBudget bounds the bytes of replayed frames that all sockets hold at
// once (Config.ReplayBudget). A replay takes a page's bytes before it
// queues the page and gives them back once the socket has sent it.
type byteBudget struct {
	size  int
	gauge prometheus.Gauge

	mu    sync.Mutex
	used  int
	freed chan struct{} // closed, and replaced, whenever bytes are given back
}

var errSocketClosed = errors.New("the socket closed")

func newByteBudget(size int, gauge prometheus.Gauge) *byteBudget {
	return &byteBudget{size: size, gauge: gauge, freed: make(chan struct{})}
}

// acquire takes n bytes, at most the whole budget, waiting until they are
// free, done is closed or ctx ends. It returns what it took.
func (b *byteBudget) acquire(ctx context.Context, done <-chan struct{}, n int) (int, error) {
	n = max(0, min(n, b.size))
	for {
		b.mu.Lock()
		if b.used+n <= b.size {
			b.used += n
			b.gauge.Set(float64(b.used))
			b.mu.Unlock()
			return n, nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-done:
			return 0, errSocketClosed
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// release gives back n bytes taken by acquire.
func (b *byteBudget) release(n int) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.gauge.Set(float64(b.used))
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}
