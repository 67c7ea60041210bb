package persist

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/parley-chat/parley/engine"
)

// walFsyncs is how many fsyncs of the write-ahead log the store has made.
func walFsyncs(t *testing.T, s *Store) uint64 {
	t.Helper()
	var pb dto.Metric
	if err := s.db.Metrics().LogWriter.FsyncLatency.Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetHistogram().GetSampleCount()
}

// With WALSyncInterval, commits from many conversations that arrive within
// the interval share one fsync: there are never more fsyncs than intervals,
// and every append still returns only once it is durable.
func TestWALSyncIntervalSharesFsyncs(t *testing.T) {
	const interval = 2 * time.Millisecond
	s, err := Open(Options{Dir: t.TempDir(), Logger: quiet, WALSyncInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before, start := walFsyncs(t, s), time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	appended := 0
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := engine.NewID(t0.Add(time.Duration(w) * time.Hour))
			n := 0
			for seq := uint64(1); time.Since(start) < 300*time.Millisecond; seq++ {
				e := started(fmt.Sprint("p", w))
				if seq > 1 {
					e = message(seq, engine.PartyShopper, fmt.Sprint("c", seq), "hello")
				}
				if err := s.Append(context.Background(), Commit{Conversation: id, Events: []engine.Event{e}}); err != nil {
					t.Error(err)
					return
				}
				n++
			}
			mu.Lock()
			appended += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed, fsyncs := time.Since(start), walFsyncs(t, s)-before
	if most := uint64(elapsed/interval) + 2; fsyncs > most {
		t.Errorf("%d fsyncs in %v with a %v interval; want at most %d", fsyncs, elapsed, interval, most)
	}
	if uint64(appended) < 2*fsyncs {
		t.Errorf("%d appends shared %d fsyncs; want at least two appends an fsync", appended, fsyncs)
	}
	t.Logf("%d appends, %d fsyncs in %v", appended, fsyncs, elapsed.Round(time.Millisecond))
}
