package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// benchSample is the server's state at one moment of a long load run: a soak
// holds when these stay flat.
type benchSample struct {
	Seconds     float64 `json:"seconds"`
	Acked       int64   `json:"acked"`
	RSSKB       uint64  `json:"rss_kb,omitempty"`
	HeapStackKB float64 `json:"heap_stack_kb"`
	Goroutines  float64 `json:"goroutines"`
}

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
			m := r.sampleMem(ctx)
			g, err := r.benchGoroutines(ctx)
			if err != nil || !m.ok {
				continue
			}
			s := benchSample{Seconds: benchRound(time.Since(start).Seconds()), Acked: r.acked.Load(),
				RSSKB: m.rssKB, HeapStackKB: benchRound((m.heap + m.stack) / 1024), Goroutines: g}
			r.samplesMu.Lock()
			r.rep.Samples = append(r.rep.Samples, s)
			r.samplesMu.Unlock()
			r.logf("sample at %.0fs: %d acknowledged, RSS %d KB, heap+stack %.0f KB, %.0f goroutines",
				s.Seconds, s.Acked, s.RSSKB, s.HeapStackKB, s.Goroutines)
		}
	})
}

// benchGoroutines reads go_goroutines from the server's /metrics.
func (r *benchRun) benchGoroutines(ctx context.Context) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+r.addr+"/metrics", nil)
	resp, err := r.api.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("/metrics lacks go_goroutines")
}

// writeSoak prints the first, last and largest sample of each figure.
func (rep *benchReport) writeSoak(w io.Writer) {
	s := rep.Samples
	if len(s) == 0 {
		return
	}
	first, last := s[0], s[len(s)-1]
	var maxRSS uint64
	var maxHeap, maxG float64
	for _, x := range s {
		maxRSS, maxHeap, maxG = max(maxRSS, x.RSSKB), max(maxHeap, x.HeapStackKB), max(maxG, x.Goroutines)
	}
	fmt.Fprintf(w, "soak: %d samples over %.0fs; RSS %d → %d KB (max %d); heap+stack %.0f → %.0f KB (max %.0f); goroutines %.0f → %.0f (max %.0f)\n",
		len(s), last.Seconds, first.RSSKB, last.RSSKB, maxRSS, first.HeapStackKB, last.HeapStackKB, maxHeap,
		first.Goroutines, last.Goroutines, maxG)
}
