package loadtest

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/transport/wsclient"
)

// TestBenchSmallRun runs the load tool end to end against a spawned server,
// small, so that the tool never rots: a run must acknowledge messages,
// deliver agent replies, resume every shopper and measure the server.
func TestBenchSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and spawns the real binary")
	}
	rep, out := benchRunJSON(t, time.Minute, Config{Shoppers: 50, Agents: 2, Duration: 2 * time.Second, SampleEvery: 500 * time.Millisecond})
	// The field names are the tool's contract with scripts: check them raw too.
	for _, key := range []string{`"shoppers"`, `"acked_per_second"`, `"send_ack"`, `"p999_ms"`, `"agent_reply_to_shopper"`,
		`"rss_per_conn_kb"`, `"heap_stack_per_conn_kb"`, `"cpu_seconds_per_1000_msgs"`, `"machine"`, `"errors"`,
		`"stalls"`, `"wakeups"`, `"stalled_ms"`, `"worst_ms"`, `"server_ack"`, `"server_commit"`, `"wal_fsync"`} {
		if !strings.Contains(out, key) {
			t.Errorf("report lacks %s", key)
		}
	}
	if rep.Shoppers != 50 || rep.Agents != 2 || rep.Connect.Connected != 50 {
		t.Errorf("shoppers %d agents %d connected %d", rep.Shoppers, rep.Agents, rep.Connect.Connected)
	}
	if rep.Load.Acked <= 0 || rep.Load.SendAck.Count == 0 || rep.Load.SendAck.P50 <= 0 {
		t.Errorf("load: %+v", rep.Load)
	}
	// The server timed every ack the tool received, and no other.
	if sa := rep.Load.ServerAck; sa == nil || sa.Count != float64(rep.Load.Acked+rep.Load.AckedInDrain) ||
		sa.P50 <= 0 || sa.P50 > sa.P99 || sa.P99 > sa.P999 {
		t.Errorf("server's part of send→ack: %+v for %d acks", sa, rep.Load.Acked+rep.Load.AckedInDrain)
	}
	// Every acknowledged message and accepted agent reply was a durable
	// commit, and waited for a write-ahead log fsync.
	stored := float64(rep.Load.Acked + rep.Load.AckedInDrain + rep.Load.AgentReplies)
	if c, f := rep.Load.ServerCommit, rep.Load.WALFsync; c == nil || f == nil || c.Count < stored ||
		f.Count <= 0 || c.P50 <= 0 || c.P50 > c.P99 || f.P50 > f.P99 {
		t.Errorf("server's commits %+v and fsyncs %+v for %.0f stored messages", c, f, stored)
	}
	if rep.Load.AgentReplies <= 0 || rep.Load.AgentRepliesReceived <= 0 || rep.Load.AgentReplyToShopper.Max <= 0 {
		t.Errorf("agent replies: %d sent, %d received, %+v", rep.Load.AgentReplies, rep.Load.AgentRepliesReceived, rep.Load.AgentReplyToShopper)
	}
	// The stall probe sleeps 1 ms at a time through the 2 s load. Stalls
	// themselves depend on the machine: only their bookkeeping is checked.
	if st := rep.Load.Stalls; st.Wakeups <= 100 || uint64(st.Count) > st.Wakeups || st.P99Ms > st.WorstMs ||
		(st.Count > 0) != (st.StalledMs > 0) || (st.Count > 0 && st.WorstMs < 10) {
		t.Errorf("stalls: %+v", st)
	}
	if rep.Resume.Resumed != 50 || rep.Resume.Shoppers != 50 || rep.Resume.ReplayedEvents <= 0 {
		t.Errorf("resume: %+v", rep.Resume)
	}
	if rep.Violations != 0 || !rep.OK {
		t.Errorf("violations %d: %v %v", rep.Violations, rep.Errors, rep.Examples)
	}
	s := rep.Server
	if s.RSSPerConnKB <= 0 || s.HeapStackPerConnKB <= 0 || s.CPUSeconds <= 0 || s.CPUSecondsPer1000Msgs <= 0 {
		t.Errorf("server figures: %+v", s)
	}
	if tool := rep.Tool; tool.CPUSeconds <= 0 || tool.CPUSecondsPer1000Msgs <= 0 {
		t.Errorf("the tool's own CPU: %+v", tool)
	}
	// A soak's samples: the server's memory, split, and its goroutines.
	if len(rep.Samples) == 0 {
		t.Errorf("no samples with --sample-every")
	}
	for _, x := range rep.Samples {
		if x.RSSKB == 0 || x.HeapStackKB <= 0 || x.HeapLiveKB <= 0 || x.StorageKB <= 0 || x.Goroutines < 50 {
			t.Errorf("sample %+v", x)
		}
	}
	if rep.Machine.CPUs <= 0 || rep.Machine.Go == "" || rep.Limits.NoFile < 150 {
		t.Errorf("machine %+v limits %+v", rep.Machine, rep.Limits)
	}
}

func TestBenchRefusesRemoteTargets(t *testing.T) {
	ctx := context.Background()
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080"} {
		got, err := benchLoopback(ctx, addr)
		if err != nil {
			t.Errorf("%s refused: %v", addr, err)
			continue
		}
		if !strings.HasPrefix(got, "127.") && !strings.HasPrefix(got, "[::1]") {
			t.Errorf("%s resolved to %s", addr, got)
		}
	}
	for _, addr := range []string{"192.0.2.1:8080", "[2001:db8::1]:80", "0.0.0.0:8080", ":8080", "nohost"} {
		if _, err := benchLoopback(ctx, addr); err == nil {
			t.Errorf("%s accepted", addr)
		}
	}
	if _, err := Run(ctx, Config{Addr: "192.0.2.1:80", Secret: "s", AdminToken: "t"}, nil); err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("remote Addr: %v", err)
	}
}

func TestBenchHistogram(t *testing.T) {
	h := newBenchHist()
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	l := h.latency()
	near := func(got, want float64) bool { return got >= want*0.93 && got <= want*1.07 }
	if l.Count != 1000 || !near(l.P50, 500) || !near(l.P99, 990) || !near(l.P999, 999) || l.Max != 1000 {
		t.Errorf("%+v", l)
	}
	for _, v := range []uint64{0, 1, 15, 16, 17, 31, 32, 1000, 1 << 40, 1<<63 - 1} {
		i := benchBucket(v)
		if i < 0 || i >= benchHistBuckets {
			t.Fatalf("bucket(%d) = %d", v, i)
		}
		if mid := benchBucketValue(i); v >= 16 && (float64(mid) < float64(v)*0.94 || float64(mid) > float64(v)*1.07) {
			t.Errorf("bucket(%d) = %d, middle %d", v, i, mid)
		}
	}
	if empty := newBenchHist().latency(); empty.Count != 0 || empty.P99 != 0 {
		t.Errorf("empty %+v", empty)
	}
}

// benchRunJSON runs the tool with cfg, quiet, against a server it spawns
// from the real binary, requires the run to succeed and returns the report
// and its JSON.
func benchRunJSON(t *testing.T, timeout time.Duration, cfg Config) (Report, string) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.ServerBin = parleyBin(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, cfg, nil)
	t.Logf("Run %+v in %v", cfg, time.Since(start).Round(time.Millisecond))
	if err != nil || !rep.Finished() {
		t.Fatalf("Run: %v", err)
	}
	var out bytes.Buffer
	if err := rep.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	return rep, out.String()
}

// A shopper whose frame write has hung past benchWriteTimeout (a server that
// stopped reading) has its socket cut by the run's watchdog, and the run
// counts a write_timeout: the tool reports it instead of hanging.
func TestBenchWatchdogCutsAStuckWrite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := websocket.Accept(w, req, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, _ = c.Read(req.Context()) // until the client goes
	}))
	defer srv.Close()
	conn, err := wsclient.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := &benchRun{errs: newBenchErrors()}
	sh := &benchShopper{r: r, idx: 7, conn: conn}
	r.shoppers = []*benchShopper{sh}
	sh.writeStart.Store(time.Now().Add(-benchWriteTimeout - time.Second).UnixNano()) // a write begun long ago
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); r.watchWrites(stop) }()
	defer func() { close(stop); <-done }()
	select {
	case <-conn.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("socket still open after the watchdog's tick")
	}
	r.errs.mu.Lock()
	n := r.errs.counts["write_timeout"]
	r.errs.mu.Unlock()
	if n != 1 {
		t.Fatalf("write_timeout counted %d times, want 1", n)
	}
}

// In the closed loop the socket's reader sends each next message; a message
// the server refuses for its rate limit breaks that chain, and the shopper's
// loop sends it again, same client_id, and the chain goes on: the run ends
// with every message acknowledged once and no violation.
func TestBenchClosedLoopRetriesRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and spawns the real binary")
	}
	addr := startServer(t, "--identity-secret", "closed-loop-secret",
		"--admin-token", "closed-loop-admin", "--ws-rate", "20", "--ws-burst", "3", "--ws-conn-rate", "0", "--api-rate", "0")
	rep, _ := benchRunJSON(t, time.Minute, Config{Addr: addr, Secret: "closed-loop-secret",
		AdminToken: "closed-loop-admin", Shoppers: 4, Agents: 1, Duration: 2 * time.Second})
	if rep.Errors["rate_limited"] == 0 {
		t.Errorf("no refusal at 20 frames/s in a closed loop: %v", rep.Errors)
	}
	// 20 frames a second per socket, for 2 s, less the pauses after refusals.
	if rep.Load.Acked < 4*15 || rep.Load.Acked > 4*(20*2+3+2) {
		t.Errorf("acknowledged %d messages from 4 sockets limited to 20/s for 2 s", rep.Load.Acked)
	}
	// Every send was answered: acknowledged (during the load, or in the
	// drain when it was in flight as the load ended), or refused and sent again.
	if rep.Violations != 0 || rep.Load.Sent != rep.Load.Acked+rep.Load.AckedInDrain+rep.Errors["rate_limited"] {
		t.Errorf("sent %d, acknowledged %d (+%d in the drain), errors %v %v", rep.Load.Sent, rep.Load.Acked,
			rep.Load.AckedInDrain, rep.Errors, rep.Examples)
	}
}

// The server's ack histogram is read like Prometheus' histogram_quantile:
// linearly within the bucket holding the quantile.
func TestBenchServerAckQuantiles(t *testing.T) {
	inf := math.Inf(1)
	before := []benchPromBucket{{0.001, 10}, {0.002, 10}, {0.004, 10}, {inf, 10}}
	after := []benchPromBucket{{0.001, 60}, {0.002, 100}, {0.004, 109}, {inf, 110}}
	got := benchHistogramBetween(before, after)
	// 100 new: 50 ≤ 1 ms, 40 in (1, 2], 9 in (2, 4], 1 above 4 ms.
	want := &ServerHistogram{Count: 100, P50: 1, P99: 4, P999: 4}
	if got == nil || *got != *want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if q := benchBucketQuantile(after[:3], 0.75); math.Abs(q-0.00154375) > 1e-12 { // rank 81.75 of 109: 21.75 of the 40 in (1, 2] ms
		t.Errorf("p75 %v", q)
	}
	if benchHistogramBetween(before[:3], after) != nil || benchHistogramBetween(after, before) != nil {
		t.Error("readings of different histograms, or a counter that went back, were compared")
	}
	if benchHistogramBetween(nil, nil) != nil {
		t.Error("a histogram the server does not have was read as empty")
	}
	if q := benchBucketQuantile([]benchPromBucket{{0.001, 0}, {inf, 0}}, 0.99); q != 0 {
		t.Errorf("empty histogram: %v", q)
	}
}

// Against a server started for people, the tool says that the server's
// abuse limits, not its speed, refused part of the load, and which flags
// set them; refusals by a limit are not violations.
func TestBenchSaysWhenTheServersLimitsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and spawns the real binary")
	}
	addr := startServer(t, "--identity-secret", "limits-secret", "--admin-token", "limits-admin",
		"--ws-conn-rate", "2", "--ws-conn-burst", "5", "--ws-rate", "5", "--ws-burst", "2", "--api-rate", "0")
	rep, _ := benchRunJSON(t, time.Minute, Config{Addr: addr, Secret: "limits-secret",
		AdminToken: "limits-admin", Shoppers: 12, Agents: 0, Duration: 2 * time.Second})
	if rep.Errors["connect_rate_limited"] == 0 || rep.Errors["rate_limited"] == 0 {
		t.Fatalf("errors %v: want upgrades refused for their rate and messages rate_limited", rep.Errors)
	}
	if rep.Violations != 0 {
		t.Errorf("%d violations %v %v: a limit's refusal is none", rep.Violations, rep.Errors, rep.Examples)
	}
	var out bytes.Buffer
	rep.WriteTable(&out)
	for _, want := range []string{"the server's limits, not its speed, refused part of this load",
		"socket upgrades refused with 429: --ws-conn-rate/--ws-conn-burst", "refused as rate_limited: --ws-rate/--ws-burst",
		"parley serve --ws-conn-rate 0 --ws-rate 1000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, out.String())
		}
	}
}

// With PlainDial the shoppers connect and resume as a plain client does,
// through net/http's default client: every socket opens and resumes.
func TestBenchPlainDial(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and spawns the real binary")
	}
	rep, _ := benchRunJSON(t, time.Minute, Config{Shoppers: 40, Agents: 1, Duration: time.Second, PlainDial: true, DialConcurrency: 40})
	if rep.Connect.Connected != 40 || rep.Resume.Resumed != 40 || !rep.OK {
		t.Fatalf("connected %d, resumed %d, errors %v %v", rep.Connect.Connected, rep.Resume.Resumed, rep.Errors, rep.Examples)
	}
}
