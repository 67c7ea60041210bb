package main

// `parley bench` is Parley's load tool: it opens thousands of shopper
// sockets and a few agents against a local server (one it spawns, or one
// given by --addr on loopback) and measures what a user would feel — connect
// latency, send→ack latency, agent reply → shopper latency, a resume storm —
// and what the server pays for it: memory per connection and CPU per 1,000
// acknowledged messages. Every phase is bounded in count and time. With
// --kills it also SIGKILLs and restarts the server it spawned during the
// load, and then checks every acknowledged message in the stored logs
// (bench_chaos.go).
//
// It is a local load generator, not a tool to point at someone else's
// server: it only ever targets loopback addresses.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchConfig is the command line of `parley bench`.
type benchConfig struct {
	Addr            string // host:port of a running server; empty: spawn one
	ServerBin       string // executable to spawn; empty: os.Executable()
	Secret          string
	AdminToken      string
	ServerPID       int
	Shoppers        int
	Agents          int
	Duration        time.Duration
	Rate            float64 // total shopper messages/s; 0: closed loop
	AgentRate       float64 // total agent replies/s; 0: closed loop
	DialConcurrency int
	JSON            bool
	Quiet           bool
	Seed            uint64
	PassivateAfter  time.Duration // passed to a spawned server when set
	SampleEvery     time.Duration // sample the server's memory and goroutines this often during the load
	Kills           int           // SIGKILL and restart the spawned server this many times during the load
	CPUProfile      string        // write the tool's own CPU profile here
}

// Bounds that keep one run finite whatever the flags say.
const (
	benchMaxShoppers   = 100_000
	benchMaxDuration   = 2 * time.Hour
	benchDialTimeout   = 20 * time.Second // one socket: dial → started / resumed
	benchWriteTimeout  = 5 * time.Second  // one frame write
	benchDrainTimeout  = 10 * time.Second // outstanding acks and replies after the load
	benchIdleSettle    = 2 * time.Second  // idle wait before the memory reading
	benchFDHeadroom    = 100              // descriptors besides the shopper sockets
	benchMaxAgents     = 1000
	benchMissedReplies = 500 // agent replies posted while the sockets are closed
)

func parseBench(args []string, env func(string) string, stderr io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "", "address of a running server on loopback (empty: spawn one)")
	fs.StringVar(&c.ServerBin, "server-bin", "", "parley executable to spawn (default: this one)")
	fs.StringVar(&c.Secret, "secret", "", "identity secret of the server given by --addr")
	fs.StringVar(&c.AdminToken, "admin-token", "", "admin token of the server given by --addr")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "pid of the server given by --addr, to read its memory and CPU from /proc")
	fs.IntVar(&c.Shoppers, "shoppers", 1000, "shopper sockets")
	fs.IntVar(&c.Agents, "agents", 4, "agents replying through the API")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "length of the load phase")
	fs.Float64Var(&c.Rate, "rate", 0, "shopper messages per second in all (0: each shopper keeps one message in flight)")
	fs.Float64Var(&c.AgentRate, "agent-rate", 0, "agent replies per second in all (0: each agent keeps one reply in flight)")
	fs.IntVar(&c.DialConcurrency, "dial-concurrency", 200, "sockets being opened at once")
	fs.BoolVar(&c.JSON, "json", false, "print the report as one JSON object on stdout")
	fs.BoolVar(&c.Quiet, "quiet", false, "no progress lines on stderr")
	fs.Uint64Var(&c.Seed, "seed", 0, "random seed (0: random)")
	fs.DurationVar(&c.SampleEvery, "sample-every", 0, "during the load, sample the server's memory and goroutines this often (a soak)")
	fs.DurationVar(&c.PassivateAfter, "passivate-after", 0, "--passivate-after for the spawned server (0: its default)")
	fs.IntVar(&c.Kills, "kills", 0, "SIGKILL the spawned server this many times during the load, restart it, and verify every acknowledged message (0: none)")
	fs.StringVar(&c.CPUProfile, "cpu-profile", "", "write the tool's own CPU profile (pprof) to this file")
	if err := parseWithEnv(fs, args, env); err != nil {
		return c, err
	}
	switch {
	case c.Shoppers < 1 || c.Shoppers > benchMaxShoppers:
		return c, fmt.Errorf("--shoppers must be 1..%d", benchMaxShoppers)
	case c.Agents < 0 || c.Agents > benchMaxAgents:
		return c, fmt.Errorf("--agents must be 0..%d", benchMaxAgents)
	case c.Duration <= 0 || c.Duration > benchMaxDuration:
		return c, fmt.Errorf("--duration must be positive and at most %v", benchMaxDuration)
	case c.Rate < 0 || c.AgentRate < 0:
		return c, errors.New("--rate and --agent-rate must not be negative")
	case c.DialConcurrency < 1:
		return c, errors.New("--dial-concurrency must be at least 1")
	case c.Addr != "" && (c.Secret == "" || c.AdminToken == ""):
		return c, errors.New("--addr needs --secret and --admin-token")
	case c.Addr == "" && (c.Secret != "" || c.AdminToken != "" || c.ServerPID != 0):
		return c, errors.New("--secret, --admin-token and --server-pid go with --addr")
	}
	if err := benchChaosCheck(c); err != nil {
		return c, err
	}
	if c.Seed == 0 {
		c.Seed = benchRandomSeed()
	}
	return c, nil
}

// benchLoopback resolves addr and returns it with its host replaced by a
// loopback IP, refusing anything else. The tool is a local load generator
// that opens thousands of sockets as fast as it can: aimed at another
// machine it would be a denial-of-service tool, so it never is. Dialing the
// resolved IP (not the name) keeps a name from resolving elsewhere later.
func benchLoopback(ctx context.Context, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "" {
		return "", fmt.Errorf("--addr %q: name a loopback host, such as 127.0.0.1", addr)
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return "", fmt.Errorf("--addr %q resolves to %s, which is not loopback: parley bench only loads a server on this machine", addr, ip.IP)
		}
	}
	if len(ips) == 0 {
		return "", fmt.Errorf("--addr %q resolves to nothing", addr)
	}
	return net.JoinHostPort(ips[0].IP.String(), port), nil
}

// benchCmd is `parley bench`.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseBench(args, osEnv, stderr)
	if err != nil {
		return err
	}
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	r := &benchRun{cfg: c, stdout: stdout, stderr: stderr, errs: newBenchErrors(), stopWatch: func() {}}
	return r.run(ctx)
}

// benchRun is one run of the tool: its target, its clients and its figures.
type benchRun struct {
	cfg            benchConfig
	samplesMu      sync.Mutex // guards rep.Samples while the load runs
	stdout, stderr io.Writer
	addr           string // host:port, loopback
	secret, admin  string
	pid            atomic.Int64 // the server's, 0 when unknown; a restart (--kills) changes it
	child          *benchChild
	api            *http.Client // agents and /metrics
	apiTr          *http.Transport
	wsHTTP         *http.Client // WebSocket dials
	runID          string
	shoppers       []*benchShopper
	errs           *benchErrors
	rep            benchReport
	prog           *benchProgress
	agents         *benchAgents
	chaos          *benchChaos // with --kills; nil otherwise

	stopWatch func() // ends watchWrites; a no-op until it starts

	phase     atomic.Value // string, for the progress line
	connected atomic.Int64 // sockets in their conversation now
	sent      atomic.Int64 // messages written
	acked     atomic.Int64 // acks received
	connect   *benchHist   // dial → started
	sendAck   *benchHist   // message.send → ack
	resume    *benchHist   // dial → every missed event
}

func (r *benchRun) run(ctx context.Context) (err error) {
	c := r.cfg
	r.runID = benchRunID(c.Seed)
	r.rep.init(c)
	r.connect, r.sendAck, r.resume = newBenchHist(), newBenchHist(), newBenchHist()
	r.agents = newBenchAgents(r)
	if c.Kills > 0 {
		r.chaos = newBenchChaos(r)
	}
	r.phase.Store("start")
	start := time.Now()

	step := time.Now()
	limit, err := benchRaiseNoFile()
	if err != nil {
		return err
	}
	r.rep.Limits.NoFile = limit
	if need := uint64(c.Shoppers) + benchFDHeadroom; need > limit {
		return fmt.Errorf("%d shoppers need %d open files and the limit is %d (hard limit; raise it with ulimit -Hn or use fewer shoppers)", c.Shoppers, need, limit)
	}
	r.rep.Limits.Seconds = time.Since(step).Seconds()

	r.apiTr = &http.Transport{Proxy: nil, MaxIdleConns: c.Agents + 16, MaxIdleConnsPerHost: c.Agents + 16, IdleConnTimeout: time.Minute}
	r.api = &http.Client{Transport: r.apiTr, Timeout: 30 * time.Second}
	// coder/websocket wants a client without a Timeout: the socket outlives the dial.
	r.wsHTTP = &http.Client{Transport: newUpgradeTransport()}
	defer r.apiTr.CloseIdleConnections()

	if err := r.target(ctx); err != nil {
		return err
	}
	if r.child != nil {
		defer func() {
			if e := r.child.stop(); e != nil && err == nil {
				err = e
			}
		}()
	}
	r.prog = startBenchProgress(r)
	defer r.prog.stop()
	defer r.closeShoppers()
	defer func() { r.stopWatch() }() // the watch starts during connect

	if err := r.connectPhase(ctx); err != nil {
		return err
	}
	if err := r.loadPhase(ctx); err != nil {
		return err
	}
	if r.chaos != nil {
		if err := r.chaos.verify(ctx); err != nil {
			return err
		}
	}
	if err := r.resumePhase(ctx); err != nil {
		return err
	}
	r.prog.stop()
	r.closeShoppers()
	r.rep.WallSeconds = time.Since(start).Seconds()
	r.rep.finish(r.errs)
	if c.JSON {
		if err := r.rep.writeJSON(r.stdout); err != nil {
			return err
		}
	} else {
		r.rep.writeTable(r.stdout)
	}
	if n := r.rep.Violations; n > 0 {
		return fmt.Errorf("%d errors other than rate limits: %s", n, r.rep.errorSummary())
	}
	return nil
}

// target spawns a server or checks the one given by --addr.
func (r *benchRun) target(ctx context.Context) error {
	c := r.cfg
	if c.Addr == "" {
		child, err := benchSpawn(ctx, c)
		if err != nil {
			return err
		}
		r.child, r.addr, r.secret, r.admin = child, child.addr, child.secret, child.admin
		r.pid.Store(int64(child.proc.cmd.Process.Pid))
		r.rep.Server.Spawned = true
	} else {
		addr, err := benchLoopback(ctx, c.Addr)
		if err != nil {
			return err
		}
		r.addr, r.secret, r.admin = addr, c.Secret, c.AdminToken
		r.pid.Store(int64(c.ServerPID))
	}
	r.rep.Server.Addr, r.rep.Server.PID = r.addr, r.serverPID()
	if pid := r.serverPID(); pid > 0 {
		r.rep.Server.MaxOpenFiles = benchProcMaxOpenFiles(pid)
	}
	return r.waitReady(ctx)
}

// serverPID is the server's process id now, 0 when unknown.
func (r *benchRun) serverPID() int { return int(r.pid.Load()) }

// waitReady polls /readyz until the server answers 200.
func (r *benchRun) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+r.addr+"/readyz", nil)
		resp, err := r.api.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("server at %s not ready: %v", r.addr, errors.Join(err, ctx.Err()))
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (r *benchRun) logf(format string, args ...any) {
	if !r.cfg.Quiet {
		fmt.Fprintf(r.stderr, "bench: "+format+"\n", args...)
	}
}

func benchRandomSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	var s uint64
	for _, x := range b {
		s = s<<8 | uint64(x)
	}
	return s | 1
}

// benchRunID names this run's profiles and client ids, so that runs against
// one long-lived server never collide with each other's conversations.
func benchRunID(seed uint64) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x%s", seed&0xffff, hex.EncodeToString(b[:]))
}

func benchTrim(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
