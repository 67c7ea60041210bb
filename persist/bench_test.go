package persist

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-chat/parley/engine"
)

// BenchmarkAppend measures durable appends of one message event each, from
// one goroutine per stream, on the real disk. Compare events/s with
// BenchmarkRawPebbleSyncCommit at the same concurrency: the gap is what the
// store's checks, encoding and locking cost.
//
//	go test -run x -bench . -benchtime 3s ./persist/
func BenchmarkAppend(b *testing.B) {
	for _, streams := range []int{1, 64} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir(), Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ids := make([]string, streams)
			for i := range ids {
				ids[i] = engine.NewID(t0) + fmt.Sprint(i)
				mustAppend(b, s, Commit{Conversation: ids[i], Events: []engine.Event{started("p")}})
			}
			parallel(b, streams, func(w int, seq uint64) error {
				e := message(seq+1, engine.PartyShopper, fmt.Sprintf("m%d", seq), "Hello, where is my order #12345?")
				return s.Append(context.Background(), Commit{Conversation: ids[w], Events: []engine.Event{e}})
			})
		})
	}
}

// BenchmarkRawPebbleSyncCommit is the baseline: goroutines each doing
// db.Set with pebble.Sync, nothing else.
func BenchmarkRawPebbleSyncCommit(b *testing.B) {
	b.Run("writers=64", func(b *testing.B) {
		db, err := pebble.Open(b.TempDir(), &pebble.Options{Logger: pebbleLogger{quiet}, FormatMajorVersion: pebble.FormatNewest})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		value := make([]byte, 80)
		parallel(b, 64, func(w int, seq uint64) error {
			k := binary.BigEndian.AppendUint64([]byte{byte(w)}, seq)
			return db.Set(k, value, pebble.Sync)
		})
	})
}

// parallel runs b.N calls of fn spread over n goroutines, each passing its
// own worker index and a per-worker sequence starting at 1, and reports
// events/s.
func parallel(b *testing.B, n int, fn func(w int, seq uint64) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for seq := uint64(1); next.Add(1) <= int64(b.N); seq++ {
				if err := fn(w, seq); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
