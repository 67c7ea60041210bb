package loadtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/bits"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/parley-chat/parley/transport/wsclient"
)

// benchHist is a log-linear latency histogram in nanoseconds: 16 linear
// sub-buckets per power of two, so a percentile is within ~6%. Recording is
// a few atomic adds, safe from every socket's reader at once.
type benchHist struct {
	counts [benchHistBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

const (
	benchHistSub     = 16
	benchHistBuckets = 64 * benchHistSub
)

func newBenchHist() *benchHist { return &benchHist{} }

func benchBucket(v uint64) int {
	if v < benchHistSub {
		return int(v)
	}
	e := bits.Len64(v) - 5 // v>>e is in [16, 32)
	return (e+1)*benchHistSub + int(v>>e) - benchHistSub
}

// benchBucketValue is the middle of bucket i.
func benchBucketValue(i int) uint64 {
	if i < benchHistSub {
		return uint64(i)
	}
	e := i/benchHistSub - 1
	lo := uint64(benchHistSub+i%benchHistSub) << e
	return lo + (uint64(1)<<e)/2
}

func (h *benchHist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[benchBucket(uint64(d))].Add(1)
	h.n.Add(1)
	for m := h.max.Load(); int64(d) > m && !h.max.CompareAndSwap(m, int64(d)); m = h.max.Load() {
	}
}

// snapshot copies the counts (each one atomically; the set as of about now).
func (h *benchHist) snapshot() []uint64 {
	s := make([]uint64, benchHistBuckets)
	for i := range s {
		s[i] = h.counts[i].Load()
	}
	return s
}

// benchQuantile returns quantile q of the counts in s (0 when empty).
func benchQuantile(s []uint64, q float64) time.Duration {
	var total uint64
	for _, c := range s {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total-1)) + 1
	var seen uint64
	for i, c := range s {
		if seen += c; seen >= rank {
			return time.Duration(benchBucketValue(i))
		}
	}
	return 0
}

// Latency is a latency distribution on the report.
type Latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func (h *benchHist) latency() Latency {
	s := h.snapshot()
	ms := func(d time.Duration) float64 { return benchRound(float64(d) / 1e6) }
	l := Latency{Count: h.n.Load(), P50: ms(benchQuantile(s, 0.5)), P95: ms(benchQuantile(s, 0.95)), P99: ms(benchQuantile(s, 0.99)),
		P999: ms(benchQuantile(s, 0.999)), Max: ms(time.Duration(h.max.Load()))}
	// The quantiles are bucket middles; the maximum is exact and bounds them.
	l.P50, l.P95, l.P99, l.P999 = min(l.P50, l.Max), min(l.P95, l.Max), min(l.P99, l.Max), min(l.P999, l.Max)
	return l
}

func benchRound(v float64) float64 {
	switch {
	case v >= 100:
		return float64(int64(v*10+0.5)) / 10
	case v >= 1:
		return float64(int64(v*100+0.5)) / 100
	}
	return float64(int64(v*1000+0.5)) / 1000
}

// benchErrors counts errors by kind and keeps a few examples of each.
type benchErrors struct {
	mu       sync.Mutex
	counts   map[string]int64
	examples map[string][]string
}

const benchExamples = 3

func newBenchErrors() *benchErrors {
	return &benchErrors{counts: map[string]int64{}, examples: map[string][]string{}}
}

func (e *benchErrors) add(kind, detail string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[kind]++
	if detail != "" && len(e.examples[kind]) < benchExamples {
		e.examples[kind] = append(e.examples[kind], detail)
	}
}

// benchNotViolation are the error kinds that do not fail a run: the server
// refusing load it was configured to refuse.
func benchNotViolation(kind string) bool {
	switch kind {
	case "rate_limited", "connect_rate_limited", "connect_capacity":
		return true
	}
	return false
}

// limitRefusal sorts a failed dial: the server's abuse limits refusing the
// upgrade (429: --ws-conn-rate and --ws-conn-burst, per client address;
// 503: --max-connections, or a server shutting down), or "" for anything
// else.
func limitRefusal(err error) string {
	var he *wsclient.HandshakeError
	if !errors.As(err, &he) {
		return ""
	}
	switch he.StatusCode {
	case http.StatusTooManyRequests:
		return "connect_rate_limited"
	case http.StatusServiceUnavailable:
		return "connect_capacity"
	}
	return ""
}

// writeLimits says, when the server's limits refused some of the load,
// that they did and which flags set them: a run against --addr measures a
// server started for people, whose limits stop one address sending fast.
func (rep *Report) writeLimits(w io.Writer) {
	e := rep.Errors
	conn, capacity, msgs := e["connect_rate_limited"], e["connect_capacity"], e["rate_limited"]
	if conn+capacity+msgs == 0 {
		return
	}
	fmt.Fprintf(w, "\nthe server's limits, not its speed, refused part of this load:\n")
	if conn > 0 {
		fmt.Fprintf(w, "  %d socket upgrades refused with 429: --ws-conn-rate/--ws-conn-burst limit upgrades per client address, and every socket of this tool comes from one\n", conn)
	}
	if capacity > 0 {
		fmt.Fprintf(w, "  %d socket upgrades refused with 503: --max-connections (default: the open-file limit less 512) was reached, or the server was shutting down\n", capacity)
	}
	if msgs > 0 {
		fmt.Fprintf(w, "  %d messages or replies refused as rate_limited: --ws-rate/--ws-burst per socket, --api-rate/--api-burst per agent token\n", msgs)
	}
	fmt.Fprintln(w, "  a server for a load test: parley serve --ws-conn-rate 0 --ws-rate 1000 --ws-burst 2000 --api-rate 0 (what the tool gives the server it spawns)")
}

// Report is what a run measured: what `parley bench --json` prints. Its
// JSON names are stable; scripts and docs/performance.md read them.
type Report struct {
	Shoppers    int     `json:"shoppers"`
	Agents      int     `json:"agents"`
	Rate        float64 `json:"rate"`
	AgentRate   float64 `json:"agent_rate"`
	Seed        uint64  `json:"seed"`
	WallSeconds float64 `json:"wall_seconds"`
	Limits      struct {
		NoFile  uint64  `json:"nofile"`
		Seconds float64 `json:"seconds"`
	} `json:"limits"`
	Connect struct {
		Connected   int     `json:"connected"`
		WallSeconds float64 `json:"wall_seconds"`
		PerSecond   float64 `json:"per_second"`
		Latency
	} `json:"connect"`
	Load struct {
		DurationSeconds      float64 `json:"duration_seconds"`
		Sent                 int64   `json:"sent"`
		Acked                int64   `json:"acked"`
		AckedPerSecond       float64 `json:"acked_per_second"`
		AckedInDrain         int64   `json:"acked_in_drain"`
		DrainSeconds         float64 `json:"drain_seconds"`
		SendAck              Latency `json:"send_ack"`
		AgentReplies         int64   `json:"agent_replies"`
		AgentRepliesPerSec   float64 `json:"agent_replies_per_second"`
		AgentRepliesReceived int64   `json:"agent_replies_received"`
		AgentReplyToShopper  Latency `json:"agent_reply_to_shopper"`
		Stalls               Stalls  `json:"stalls"` // the machine's, not the server's
		// The server's own figure for send_ack, from its /metrics; absent
		// with --kills (each restart starts the histogram again).
		ServerAck *ServerHistogram `json:"server_ack,omitempty"`
		// Of which storage: every durable commit (agent replies and receipts
		// too), and the write-ahead log's fsyncs, one shared by the commits
		// that arrive together.
		ServerCommit *ServerHistogram `json:"server_commit,omitempty"`
		WALFsync     *ServerHistogram `json:"wal_fsync,omitempty"`
		// How long the server's goroutines waited for a CPU once runnable
		// (the Go runtime's sampled histogram): on a busy machine, part of
		// every step above.
		ServerSched *ServerHistogram `json:"server_sched,omitempty"`
	} `json:"load"`
	Resume struct {
		Shoppers       int     `json:"shoppers"`
		Resumed        int     `json:"resumed"`
		ReplayedEvents int64   `json:"replayed_events"`
		MissedReplies  int64   `json:"missed_replies"`
		WallSeconds    float64 `json:"wall_seconds"`
		PerSecond      float64 `json:"per_second"`
		Latency
	} `json:"resume"`
	Errors     map[string]int64    `json:"errors"`
	Examples   map[string][]string `json:"error_examples,omitempty"`
	Violations int64               `json:"violations"`
	Samples    []Sample            `json:"samples,omitempty"` // with --sample-every
	Chaos      *ChaosReport        `json:"chaos,omitempty"`   // with --kills
	AI         *AIReport           `json:"ai,omitempty"`      // with --ai
	Server     struct {
		Addr                  string  `json:"addr"`
		PID                   int     `json:"pid,omitempty"`
		Spawned               bool    `json:"spawned"`
		MaxOpenFiles          uint64  `json:"max_open_files,omitempty"`
		RSSBeforeKB           uint64  `json:"rss_before_kb,omitempty"`
		RSSAfterKB            uint64  `json:"rss_after_kb,omitempty"`
		HeapStackBeforeKB     float64 `json:"heap_stack_before_kb,omitempty"`
		HeapStackAfterKB      float64 `json:"heap_stack_after_kb,omitempty"`
		RSSPerConnKB          float64 `json:"rss_per_conn_kb"`
		HeapStackPerConnKB    float64 `json:"heap_stack_per_conn_kb"`
		CPUSeconds            float64 `json:"cpu_seconds"`
		CPUSecondsPer1000Msgs float64 `json:"cpu_seconds_per_1000_msgs"`   // per shopper message acknowledged (with --ai, each also answered)
		CPUSecondsPer1000All  float64 `json:"cpu_seconds_per_1000_stored"` // per message stored: shopper, agent and AI
		RSSEndKB              uint64  `json:"rss_end_kb,omitempty"`
	} `json:"server"`
	Tool struct { // the load tool itself, which shares the machine with the server
		CPUSeconds            float64 `json:"cpu_seconds"`
		CPUSecondsPer1000Msgs float64 `json:"cpu_seconds_per_1000_msgs,omitempty"` // over the load phase, per shopper message acknowledged
	} `json:"tool"`
	Machine struct {
		CPUs int    `json:"cpus"`
		Go   string `json:"go"`
		OS   string `json:"os"`
		Arch string `json:"arch"`
	} `json:"machine"`
	OK bool `json:"ok"` // no violation

	finished bool
}

// Finished reports whether the run got to its end and the report is
// complete.
func (rep *Report) Finished() bool { return rep.finished }

func (rep *Report) init(c Config) {
	rep.Shoppers, rep.Agents, rep.Rate, rep.AgentRate, rep.Seed = c.Shoppers, c.agents(), c.Rate, c.AgentRate, c.Seed
	rep.Machine.CPUs, rep.Machine.Go, rep.Machine.OS, rep.Machine.Arch = runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH
	if c.Kills > 0 {
		rep.Chaos = &ChaosReport{}
	}
}

func (rep *Report) finish(e *benchErrors) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rep.Errors = map[string]int64{}
	rep.Examples = map[string][]string{}
	rep.Violations = 0
	for k, n := range e.counts {
		rep.Errors[k] = n
		if !benchNotViolation(k) {
			rep.Violations += n
			if ex := e.examples[k]; len(ex) > 0 {
				rep.Examples[k] = slices.Clone(ex)
			}
		}
	}
	rep.OK = rep.Violations == 0
	rep.finished = true
}

// ErrorSummary lists the count of every kind of violation, by kind.
func (rep *Report) ErrorSummary() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(rep.Errors)) {
		if !benchNotViolation(k) {
			parts = append(parts, fmt.Sprintf("%s=%d", k, rep.Errors[k]))
		}
	}
	return strings.Join(parts, " ")
}

// WriteJSON writes the report as one indented JSON object.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable writes the report for people: a table of the phases, then a
// line for each of the rest.
func (rep *Report) WriteTable(w io.Writer) {
	ai := ""
	if rep.AI != nil {
		ai = ", AI agent on"
	}
	fmt.Fprintf(w, "parley bench: %d shoppers, %d agents, rate %s, agent rate %s%s, seed %d, on %d CPUs (%s %s/%s)\n\n",
		rep.Shoppers, rep.Agents, benchRateText(rep.Rate), benchRateText(rep.AgentRate), ai, rep.Seed,
		rep.Machine.CPUs, rep.Machine.Go, rep.Machine.OS, rep.Machine.Arch)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tcount\trate/s\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\t")
	row := func(name string, n uint64, rate float64, l Latency, errs int64) {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t\n", name, n, rate, l.P50, l.P99, l.P999, l.Max, errs)
	}
	e := rep.Errors
	row("connect", uint64(rep.Connect.Connected), rep.Connect.PerSecond, rep.Connect.Latency, e["connect_failed"]+e["connect_rate_limited"]+e["connect_capacity"])
	row("send→ack", uint64(rep.Load.Acked), rep.Load.AckedPerSecond, rep.Load.SendAck, e["lost_ack"]+e["send_failed"]+e["rate_limited"])
	if a := rep.AI; a != nil {
		row("send→answer", uint64(a.Answers), a.AnswersPerSecond, a.SendAnswer, e["ai_unanswered"]+e["ai_unexpected_answer"])
	}
	row("agent→shopper", uint64(rep.Load.AgentRepliesReceived), rep.Load.AgentRepliesPerSec, rep.Load.AgentReplyToShopper, e["agent_reply_lost"]+e["agent_post_failed"])
	row("resume", uint64(rep.Resume.Resumed), rep.Resume.PerSecond, rep.Resume.Latency, e["resume_failed"])
	tw.Flush()
	rep.writeLimits(w)
	rep.writeServerAck(w)
	rep.writeAI(w)
	rep.writeStalls(w)
	s := rep.Server
	fmt.Fprintf(w, "\nconnect: %d sockets in %.2fs; load: %.1fs, %d sent, %d acknowledged (%d of them after the load, in a %.2fs drain), %d agent replies\n",
		rep.Connect.Connected, rep.Connect.WallSeconds, rep.Load.DurationSeconds, rep.Load.Sent, rep.Load.Acked+rep.Load.AckedInDrain,
		rep.Load.AckedInDrain, rep.Load.DrainSeconds, rep.Load.AgentReplies)
	fmt.Fprintf(w, "resume storm: %d of %d sockets resumed in %.2fs, %d events replayed (%d agent replies posted while they were away)\n",
		rep.Resume.Resumed, rep.Resume.Shoppers, rep.Resume.WallSeconds, rep.Resume.ReplayedEvents, rep.Resume.MissedReplies)
	rep.writeSoak(w)
	rep.writeChaos(w)
	fmt.Fprintf(w, "server memory: RSS %d → %d KB = %.1f KB per connection; Go heap+stack %.0f → %.0f KB = %.1f KB per connection\n",
		s.RSSBeforeKB, s.RSSAfterKB, s.RSSPerConnKB, s.HeapStackBeforeKB, s.HeapStackAfterKB, s.HeapStackPerConnKB)
	switch {
	case rep.Chaos != nil:
		fmt.Fprintf(w, "server CPU: %s; the tool used %.2f s\n", rep.Chaos.ServerCPU, rep.Tool.CPUSeconds)
	case rep.AI != nil:
		fmt.Fprintf(w, "server CPU: %.2f s during the load = %.3f CPU-seconds per 1,000 acknowledged shopper messages, each answered by the AI (%.3f per 1,000 stored, AI answers and agent replies included); the tool used %.2f s (%.3f per 1,000)\n",
			s.CPUSeconds, s.CPUSecondsPer1000Msgs, s.CPUSecondsPer1000All, rep.Tool.CPUSeconds, rep.Tool.CPUSecondsPer1000Msgs)
	default:
		fmt.Fprintf(w, "server CPU: %.2f s during the load = %.3f CPU-seconds per 1,000 acknowledged shopper messages (%.3f per 1,000 stored, agent replies included); the tool used %.2f s (%.3f per 1,000)\n",
			s.CPUSeconds, s.CPUSecondsPer1000Msgs, s.CPUSecondsPer1000All, rep.Tool.CPUSeconds, rep.Tool.CPUSecondsPer1000Msgs)
	}
	fmt.Fprintf(w, "limits: RLIMIT_NOFILE %d (tool)", rep.Limits.NoFile)
	if s.MaxOpenFiles > 0 {
		fmt.Fprintf(w, ", %d (server)", s.MaxOpenFiles)
	}
	fmt.Fprintln(w)
	if len(rep.Errors) == 0 {
		fmt.Fprintln(w, "errors: none")
	} else {
		fmt.Fprintf(w, "errors:")
		for _, k := range slices.Sorted(maps.Keys(rep.Errors)) {
			fmt.Fprintf(w, " %s=%d", k, rep.Errors[k])
		}
		fmt.Fprintln(w)
		for _, k := range slices.Sorted(maps.Keys(rep.Errors)) {
			for _, ex := range rep.Examples[k] {
				fmt.Fprintf(w, "  %s: %s\n", k, ex)
			}
		}
	}
	if rep.OK {
		fmt.Fprintln(w, "result: OK (no protocol violation, no lost ack)")
	} else {
		fmt.Fprintf(w, "result: FAILED, %d errors other than rate limits\n", rep.Violations)
	}
}

func benchRateText(r float64) string {
	if r == 0 {
		return "closed loop"
	}
	return fmt.Sprintf("%g/s", r)
}

// benchProgress prints one line a second while the run goes on.
type benchProgress struct {
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

func startBenchProgress(r *benchRun) *benchProgress {
	p := &benchProgress{quit: make(chan struct{}), done: make(chan struct{})}
	if r.out == nil {
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		prevAcked := r.acked.Load()
		prevHist := r.sendAck.snapshot()
		start := time.Now()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
			}
			acked := r.acked.Load()
			h := r.sendAck.snapshot()
			window := make([]uint64, len(h))
			for i := range h {
				window[i] = h[i] - prevHist[i]
			}
			p99 := benchQuantile(window, 0.99)
			ai := ""
			if r.cfg.AI {
				ai = fmt.Sprintf(" ai_answers=%d handoffs=%d", r.ai.answers.Load(), r.ai.handoffs.Load())
			}
			fmt.Fprintf(r.out, "bench: %5.0fs phase=%-7s connected=%d acked=%d acks/s=%d p99=%.1fms agent_replies=%d%s errors=%d\n",
				time.Since(start).Seconds(), r.phase.Load(), r.connected.Load(), acked, acked-prevAcked,
				float64(p99)/1e6, r.agents.replies.Load(), ai, r.errs.total())
			prevAcked, prevHist = acked, h
		}
	}()
	return p
}

func (p *benchProgress) stop() {
	p.once.Do(func() { close(p.quit) })
	<-p.done
}

func (e *benchErrors) total() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, c := range e.counts {
		n += c
	}
	return n
}
