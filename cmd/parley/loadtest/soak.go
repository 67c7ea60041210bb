package loadtest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Sample is the server's state at one moment of a long load run: a soak
// holds when these stay flat.
type Sample struct {
	Seconds     float64 `json:"seconds"`
	Acked       int64   `json:"acked"`
	RSSKB       uint64  `json:"rss_kb,omitempty"`
	HeapStackKB float64 `json:"heap_stack_kb"`
	HeapLiveKB  float64 `json:"heap_live_kb"` // marked live by the server's last GC: garbage left out
	StorageKB   float64 `json:"storage_kb"`   // block cache and memtables, outside the Go heap
	Goroutines  float64 `json:"goroutines"`
}

// The soak's figures from the server's /metrics, read in one request.
var benchSoakMetrics = []string{"parley_go_memstats_heap_inuse_bytes", "parley_go_memstats_stack_inuse_bytes",
	"parley_go_goroutines", "parley_go_gc_heap_live_bytes", "parley_storage_block_cache_bytes", "parley_storage_memtable_bytes"}

// sampleDuring records a sample every c.SampleEvery until ctx ends.
func (r *benchRun) sampleDuring(ctx context.Context, wg *sync.WaitGroup) {
	if r.cfg.SampleEvery <= 0 {
		return
	}
	start := time.Now()
	wg.Go(func() {
		tick := time.NewTicker(r.cfg.SampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			x, err := r.benchReadMetrics(ctx, benchSoakMetrics...)
			if err != nil {
				continue
			}
			var rss uint64
			if pid := r.serverPID(); pid > 0 {
				rss, _ = benchProcRSS(pid)
			}
			s := Sample{Seconds: benchRound(time.Since(start).Seconds()), Acked: r.acked.Load(), RSSKB: rss,
				HeapStackKB: benchRound((x["parley_go_memstats_heap_inuse_bytes"] + x["parley_go_memstats_stack_inuse_bytes"]) / 1024),
				HeapLiveKB:  benchRound(x["parley_go_gc_heap_live_bytes"] / 1024),
				StorageKB:   benchRound((x["parley_storage_block_cache_bytes"] + x["parley_storage_memtable_bytes"]) / 1024),
				Goroutines:  x["parley_go_goroutines"]}
			r.samplesMu.Lock()
			r.rep.Samples = append(r.rep.Samples, s)
			r.samplesMu.Unlock()
			r.logf("sample at %.0fs: %d acknowledged, RSS %d KB, heap+stack %.0f KB, live heap %.0f KB, storage %.0f KB, %.0f goroutines",
				s.Seconds, s.Acked, s.RSSKB, s.HeapStackKB, s.HeapLiveKB, s.StorageKB, s.Goroutines)
		}
	})
}

// writeSoak prints the first, last and largest sample of each figure.
func (rep *Report) writeSoak(w io.Writer) {
	s := rep.Samples
	if len(s) == 0 {
		return
	}
	first, last := s[0], s[len(s)-1]
	var maxRSS uint64
	var maxHeap, maxLive, maxG float64
	for _, x := range s {
		maxRSS, maxHeap, maxG = max(maxRSS, x.RSSKB), max(maxHeap, x.HeapStackKB), max(maxG, x.Goroutines)
		maxLive = max(maxLive, x.HeapLiveKB)
	}
	fmt.Fprintf(w, "soak: %d samples over %.0fs; RSS %d → %d KB (max %d); heap+stack %.0f → %.0f KB (max %.0f); live heap %.0f → %.0f KB (max %.0f); storage %.0f → %.0f KB; goroutines %.0f → %.0f (max %.0f)\n",
		len(s), last.Seconds, first.RSSKB, last.RSSKB, maxRSS, first.HeapStackKB, last.HeapStackKB, maxHeap,
		first.HeapLiveKB, last.HeapLiveKB, maxLive, first.StorageKB, last.StorageKB,
		first.Goroutines, last.Goroutines, maxG)
}
