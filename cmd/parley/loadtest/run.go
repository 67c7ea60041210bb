package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds that keep each step of a run finite.
const (
	benchDialTimeout   = 20 * time.Second // one socket: dial → started / resumed
	benchWriteTimeout  = 5 * time.Second  // one frame write
	benchDrainTimeout  = 10 * time.Second // outstanding acks and replies after the load
	benchIdleSettle    = 2 * time.Second  // idle wait before the memory reading
	benchFDHeadroom    = 100              // descriptors besides the shopper sockets
	benchMissedReplies = 500              // agent replies posted while the sockets are closed
)

// Run runs the load tool with cfg and returns what it measured. Progress
// lines go to out once a second, with a line at the end of each phase; a
// nil out is quiet.
//
// A run that finds protocol violations or lost acks still returns its
// Report, with OK false and the errors counted: Run's error says the run
// itself could not be done, or that stopping its server (or, with --ai and
// --addr, putting its AI settings back) failed after the run (the Report is
// then Finished too).
func Run(ctx context.Context, cfg Config, out io.Writer) (Report, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	r := &benchRun{cfg: cfg, out: out, errs: newBenchErrors(), stopWatch: func() {}}
	err := r.run(ctx)
	return r.rep, err
}

// benchRun is one run of the tool: its target, its clients and its figures.
type benchRun struct {
	cfg           Config
	samplesMu     sync.Mutex // guards rep.Samples while the load runs
	out           io.Writer  // progress; nil: none
	addr          string     // host:port, loopback
	secret, admin string
	pid           atomic.Int64 // the server's, 0 when unknown; a restart (--kills) changes it
	child         *benchChild
	api           *http.Client // agents and /metrics
	apiTr         *http.Transport
	runID         string
	shoppers      []*benchShopper
	errs          *benchErrors
	rep           Report
	prog          *benchProgress
	agents        *benchAgents
	chaos         *benchChaos // with --kills; nil otherwise
	ai            benchAI     // with --ai

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
	r.connect, r.sendAck, r.resume, r.ai.lat = newBenchHist(), newBenchHist(), newBenchHist(), newBenchHist()
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

	r.apiTr = &http.Transport{Proxy: nil, MaxIdleConns: c.agents() + 16, MaxIdleConnsPerHost: c.agents() + 16, IdleConnTimeout: time.Minute}
	r.api = &http.Client{Transport: r.apiTr, Timeout: 30 * time.Second}
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
	if c.AI {
		if err := r.enableAI(ctx); err != nil {
			return err
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if e := r.restoreAI(ctx); e != nil && err == nil {
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
	if r.out != nil {
		fmt.Fprintf(r.out, "bench: "+format+"\n", args...)
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

func benchRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func benchTrim(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
