package loadtest

// Crash chaos (`parley bench --kills N`): during the load the tool kills the
// server it spawned with SIGKILL N times, restarts it on the same data
// directory and address, and keeps the load going through every restart.
// Shoppers redial and resume after the last event they saw, then send again
// every message still unacknowledged under its client_id; agents retry a
// reply under its client_id until it is accepted. After the drain, every
// conversation's log is read back through the API and held against every
// acknowledgement the tool received: an acknowledged message survives a
// crash exactly once, at the seq its ack named.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	benchChaosMinUp      = time.Second            // the server serves at least this long after a restart before the next kill
	benchChaosBackoffMin = 50 * time.Millisecond  // first redial or retry delay after a failure
	benchChaosBackoffMax = 500 * time.Millisecond // the delay doubles up to this
	benchChaosBindTries  = 50                     // restarts refused with "address already in use", 100 ms apart
	benchChaosVerifyConc = 32                     // ticket reads at once during the verification
	benchChaosCatchUp    = 10 * time.Second       // a socket's wait for its log's last event during the verification
)

// benchChaosCheck validates --kills against the rest of the command line.
func benchChaosCheck(c Config) error {
	switch {
	case c.Kills == 0:
		return nil
	case c.Kills < 0 || c.Kills > MaxKills:
		return fmt.Errorf("--kills must be 0..%d", MaxKills)
	case c.Addr != "":
		return errors.New("--kills restarts the server, so it needs one the tool spawns: it cannot be used with --addr")
	case c.Duration < time.Duration(c.Kills+1)*benchChaosMinUp:
		return fmt.Errorf("--kills %d needs a --duration of at least %v: the server serves at least %v between kills",
			c.Kills, time.Duration(c.Kills+1)*benchChaosMinUp, benchChaosMinUp)
	}
	return nil
}

// benchChaos is the kill/restart controller and the bookkeeping that the
// verification checks.
//
// It also probes idempotency across restarts: each resumed socket sends its
// last acknowledged message again, and after each restart the last accepted
// agent reply is posted again; both must be answered with their first seq
// and stored nowhere a second time.
type benchChaos struct {
	r     *benchRun
	rng   *rand.Rand    // kill times; the controller's only
	epoch atomic.Uint64 // bumped just before each kill: a socket dialed in an older epoch may die

	parent   context.Context // the run's: when it ends, nothing is the server's fault
	drainCtx context.Context // redials and retries give up when it ends, benchDrainTimeout after the load

	reconnects   atomic.Int64 // shopper sockets resumed after a kill
	resent       atomic.Int64 // messages sent again under their client_id after a resume
	agentRetries atomic.Int64 // agent POSTs sent again after a transport error or a 5xx
	agent5xx     atomic.Int64 // of which answered 5xx: a server that was up and failed
	probes       atomic.Int64 // acknowledged messages and accepted replies sent again and answered with their first seq

	mu      sync.Mutex
	replies map[string]benchChaosReply // agent client_id → where its 201 put it
	last    string                     // the agent client_id accepted last
	tried   map[string]string          // agent client_id → conversation, every reply posted
	err     error                      // a restart that failed: the run stops

	// The controller's until the load ends.
	killAt, down, ready []time.Duration
}

// benchChaosReply is an agent reply the server accepted.
type benchChaosReply struct {
	conv, tok string
	seq       uint64
}

func newBenchChaos(r *benchRun) *benchChaos {
	return &benchChaos{r: r, rng: rand.New(rand.NewPCG(r.cfg.Seed, 0xc4a05)),
		replies: map[string]benchChaosReply{}, tried: map[string]string{}}
}

// chaosEpoch is the server's current life (0 without --kills).
func (r *benchRun) chaosEpoch() uint64 {
	if r.chaos == nil {
		return 0
	}
	return r.chaos.epoch.Load()
}

// chaosKilledSince tells whether the server was killed after epoch: a
// socket dialed then may have died with it.
func (r *benchRun) chaosKilledSince(epoch uint64) bool {
	return r.chaos != nil && r.chaos.epoch.Load() != epoch
}

func (ch *benchChaos) failed() error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.err
}

// start begins the load phase's kills. The load context it returns ends
// after --duration and after the last restarted server has served for
// benchChaosMinUp, whichever is later; redials and retries go on until
// benchDrainTimeout after that. The controller is one of wg's goroutines.
func (ch *benchChaos) start(ctx context.Context, wg *sync.WaitGroup) (context.Context, context.CancelFunc) {
	ch.parent = ctx
	loadCtx, cancelLoad := context.WithCancel(ctx)
	drainCtx, cancelDrain := context.WithCancel(ctx)
	ch.drainCtx = drainCtx
	context.AfterFunc(loadCtx, func() { time.AfterFunc(benchDrainTimeout, cancelDrain) })
	ch.r.rep.Chaos.ServerPIDs = append(ch.r.rep.Chaos.ServerPIDs, ch.r.serverPID())
	wg.Go(func() {
		defer cancelLoad()
		if err := ch.control(ctx); err != nil {
			ch.mu.Lock()
			ch.err = err
			ch.mu.Unlock()
			cancelDrain()
		}
	})
	return loadCtx, func() { cancelLoad(); cancelDrain() }
}

// control kills the server at a random moment of each of --kills equal
// slots of the load, never before it has served benchChaosMinUp since it
// came up, then lets the load run on until the end.
func (ch *benchChaos) control(ctx context.Context) error {
	c := ch.r.cfg
	start := time.Now()
	slot := (c.Duration - benchChaosMinUp) / time.Duration(c.Kills)
	up := start
	for i := range c.Kills {
		at := start.Add(time.Duration(i)*slot + time.Duration(ch.rng.Int64N(int64(slot))))
		if earliest := up.Add(benchChaosMinUp); at.Before(earliest) {
			at = earliest
		}
		if !benchSleepUntil(ctx, at) {
			return nil
		}
		if err := ch.killAndRestart(ctx, start); err != nil {
			return err
		}
		up = time.Now()
	}
	end := start.Add(c.Duration)
	if earliest := up.Add(benchChaosMinUp); end.Before(earliest) {
		end = earliest
	}
	benchSleepUntil(ctx, end)
	return nil
}

func benchSleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// killAndRestart kills the server with SIGKILL, starts it again on the same
// data directory and address, and waits until it is ready.
func (ch *benchChaos) killAndRestart(ctx context.Context, loadStart time.Time) error {
	r := ch.r
	child := r.child
	n := len(ch.killAt) + 1
	ch.epoch.Add(1) // before the kill, so that no socket's end can be seen first
	killed := time.Now()
	child.proc.kill()
	ch.killAt = append(ch.killAt, killed.Sub(loadStart))
	r.phase.Store("down")
	restarted := time.Now()
	p, err := ch.restart(ctx)
	if err != nil {
		return fmt.Errorf("restart %d after SIGKILL: %w", n, err)
	}
	child.proc = p
	r.pid.Store(int64(p.cmd.Process.Pid))
	if err := r.waitReady(ctx); err != nil {
		return fmt.Errorf("restart %d after SIGKILL: %w\n%s", n, err, p.logs.String())
	}
	ready := time.Now()
	r.phase.Store("load")
	ch.probeAgent(ctx)
	ch.down = append(ch.down, ready.Sub(killed))
	ch.ready = append(ch.ready, ready.Sub(restarted))
	r.rep.Chaos.ServerPIDs = append(r.rep.Chaos.ServerPIDs, p.cmd.Process.Pid)
	r.logf("kill %d of %d at %.1fs into the load: down %v, ready %v after the restart (pid %d)", n, r.cfg.Kills,
		killed.Sub(loadStart).Seconds(), ready.Sub(killed).Round(time.Millisecond), ready.Sub(restarted).Round(time.Millisecond), p.cmd.Process.Pid)
	return nil
}

// restart starts the child's next process on the first one's address. The
// port is free once the killed process is gone; a retry covers a client
// socket that holds it for a moment.
func (ch *benchChaos) restart(ctx context.Context) (*benchProc, error) {
	child := ch.r.child
	for attempt := 1; ; attempt++ {
		p, addr, err := child.start(ctx, child.addr)
		if err == nil {
			if addr != child.addr {
				p.kill()
				return nil, fmt.Errorf("the restarted server listens on %s, not %s", addr, child.addr)
			}
			return p, nil
		}
		if !strings.Contains(err.Error(), "address already in use") || attempt == benchChaosBindTries {
			return nil, err
		}
		if !benchSleepUntil(ctx, time.Now().Add(100*time.Millisecond)) {
			return nil, ctx.Err()
		}
	}
}
