package loadtest

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The probe counts a wakeup as a stall from 10 ms late on, sums and ranks
// the lateness, and its goroutine ends on stop. Its clock moves by what each
// sleep asked for, plus a lateness the test chooses, so the figures are
// exact whatever the scheduler does; the sleep is real, to pace the loop.
func TestBenchStallProbe(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	late := map[int64]time.Duration{
		5:  9 * time.Millisecond,  // just short of a stall
		10: 30 * time.Millisecond, // the worst
		15: 10 * time.Millisecond, // a stall, at the threshold
	}
	clock := time.Unix(0, 0) // the probe's goroutine's only
	var calls atomic.Int64
	lateDone := make(chan struct{})
	sleep := func(d time.Duration) {
		time.Sleep(d)
		n := calls.Add(1)
		clock = clock.Add(d + late[n])
		if n == 15 {
			close(lateDone)
		}
	}
	start := time.Now()
	p := startBenchStallProbeWith(func() time.Time { return clock }, sleep)
	select {
	case <-lateDone:
	case <-time.After(10 * time.Second):
		p.stop()
		t.Fatalf("the probe slept %d times in 10 s", calls.Load())
	}
	time.Sleep(200*time.Millisecond - time.Since(start))
	s := p.report()
	slept := calls.Load()
	time.Sleep(20 * time.Millisecond)
	if n := calls.Load(); n != slept {
		t.Errorf("the probe slept %d more times after stop", n-slept)
	}
	p.stop() // again: a no-op

	if s.Wakeups != uint64(slept) || s.Wakeups < 15 {
		t.Errorf("wakeups %d, sleeps %d", s.Wakeups, slept)
	}
	if s.Count != 2 || s.StalledMs != 40 || s.WorstMs != 30 {
		t.Errorf("count %d stalled %v ms worst %v ms, want 2, 40 ms, 30 ms", s.Count, s.StalledMs, s.WorstMs)
	}
	if l := p.over.latency(); l.P50 != 0 || s.P99Ms > s.WorstMs {
		t.Errorf("lateness %+v, report %+v", l, s)
	}
}

// A real probe on this machine: its wakeups are at least 1 ms apart, and
// however late they are, the figures agree with each other.
func TestBenchStallProbeReal(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	start := time.Now()
	p := startBenchStallProbe()
	time.Sleep(100 * time.Millisecond)
	s := p.report()
	elapsed := time.Since(start)
	if s.Wakeups == 0 || s.Wakeups > uint64(elapsed/benchStallSleep)+1 {
		t.Errorf("%d wakeups of a 1 ms sleep in %v", s.Wakeups, elapsed)
	}
	if uint64(s.Count) > s.Wakeups || (s.Count > 0) != (s.StalledMs >= 10) || s.P99Ms > s.WorstMs {
		t.Errorf("%+v", s)
	}
}

func TestBenchStallLine(t *testing.T) {
	for _, c := range []struct {
		s    Stalls
		want string
	}{
		{Stalls{Wakeups: 19800, Count: 37, StalledMs: 912, WorstMs: 41.2, P99Ms: 18},
			"machine stalls: 37 of 19,800 1 ms sleeps woke ≥10 ms late (worst 41.2 ms, 0.9 s in all): latency percentiles include them\n"},
		{Stalls{Wakeups: 1234567, Count: 1, StalledMs: 12.7, WorstMs: 12.7, P99Ms: 0.08},
			"machine stalls: 1 of 1,234,567 1 ms sleeps woke ≥10 ms late (worst 12.7 ms, 13 ms in all): latency percentiles include them\n"},
		{Stalls{Wakeups: 999, WorstMs: 3.1, P99Ms: 0.2}, "machine stalls: none ≥10 ms\n"},
		{Stalls{}, "machine stalls: not measured (no 1 ms sleep ended during the load)\n"},
	} {
		var rep Report
		rep.Load.Stalls = c.s
		var b bytes.Buffer
		rep.writeStalls(&b)
		if b.String() != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.s, b.String(), c.want)
		}
	}
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567"} {
		if got := benchThousands(n); got != want {
			t.Errorf("benchThousands(%d) = %q", n, got)
		}
	}
}
