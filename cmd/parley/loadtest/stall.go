package loadtest

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// A latency the tool measures is the server's only while the machine runs
// both of them. When the kernel takes a CPU for tens of milliseconds (a
// reclaim thread, a VM's host), the server and the tool stall together and
// the stall lands in every percentile. A goroutine that sleeps 1 ms over and
// over sees each such moment as a late wakeup, so the report can say how
// much of the tail was the machine. A tool too busy to schedule its own
// goroutines shows up here too: that delay is in its latencies as well.

const (
	benchStallSleep = time.Millisecond
	// benchStallMin is the lateness that counts as a stall: far above a
	// timer's usual lateness, and the size of the tails it would explain.
	benchStallMin = 10 * time.Millisecond
)

// Stalls is the probe's part of the report.
type Stalls struct {
	Wakeups   uint64  `json:"wakeups"`
	Count     int64   `json:"count"` // wakeups at least benchStallMin late
	StalledMs float64 `json:"stalled_ms"`
	WorstMs   float64 `json:"worst_ms"`
	P99Ms     float64 `json:"p99_ms"` // of every wakeup's lateness
}

// benchStallProbe sleeps benchStallSleep in a loop and records how late each
// wakeup is. It runs during the load only: the phase whose latencies it
// qualifies.
type benchStallProbe struct {
	now   func() time.Time
	sleep func(time.Duration)
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once

	// Written by the probe's goroutine only, read after stop.
	over    *benchHist // every wakeup's lateness
	stalls  int64
	stalled time.Duration
}

func startBenchStallProbe() *benchStallProbe {
	return startBenchStallProbeWith(time.Now, time.Sleep)
}

// startBenchStallProbeWith takes the clock and the sleep, so that a test can
// make a wakeup late without depending on the scheduler.
func startBenchStallProbeWith(now func() time.Time, sleep func(time.Duration)) *benchStallProbe {
	p := &benchStallProbe{now: now, sleep: sleep, quit: make(chan struct{}), done: make(chan struct{}), over: newBenchHist()}
	go p.loop()
	return p
}

func (p *benchStallProbe) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.quit:
			return
		default:
		}
		t := p.now()
		p.sleep(benchStallSleep)
		late := p.now().Sub(t) - benchStallSleep
		p.over.record(late)
		if late >= benchStallMin {
			p.stalls++
			p.stalled += late
		}
	}
}

// stop ends the probe and waits for its goroutine. It is idempotent.
func (p *benchStallProbe) stop() {
	p.once.Do(func() { close(p.quit) })
	<-p.done
}

// report is what the probe saw; it stops the probe first.
func (p *benchStallProbe) report() Stalls {
	p.stop()
	l := p.over.latency()
	return Stalls{Wakeups: l.Count, Count: p.stalls, StalledMs: benchRound(float64(p.stalled) / 1e6),
		WorstMs: l.Max, P99Ms: l.P99}
}

// writeStalls prints the probe's line. Stalls are no error: they say what
// the latency percentiles above include.
func (rep *Report) writeStalls(w io.Writer) {
	s := rep.Load.Stalls
	switch {
	case s.Wakeups == 0:
		fmt.Fprintln(w, "machine stalls: not measured (no 1 ms sleep ended during the load)")
	case s.Count == 0:
		fmt.Fprintf(w, "machine stalls: none ≥%d ms\n", benchStallMin.Milliseconds())
	default:
		in := fmt.Sprintf("%.0f ms", s.StalledMs)
		if s.StalledMs >= 100 {
			in = fmt.Sprintf("%.1f s", s.StalledMs/1000)
		}
		fmt.Fprintf(w, "machine stalls: %s of %s 1 ms sleeps woke ≥%d ms late (worst %.1f ms, %s in all): latency percentiles include them\n",
			benchThousands(uint64(s.Count)), benchThousands(s.Wakeups), benchStallMin.Milliseconds(), s.WorstMs, in)
	}
}

// benchThousands writes n with a comma every three digits.
func benchThousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	b := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}
