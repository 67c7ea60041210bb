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
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
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

// shopper drives sh through the load and every kill: in an open loop at
// one message per interval (interval > 0) or a closed loop of one message
// in flight, redialing and resuming whenever the socket dies. After the
// load it makes sure sh is connected, so that the drain can see its acks.
func (ch *benchChaos) shopper(ctx context.Context, sh *benchShopper, interval, phase time.Duration) {
	var tick *time.Timer
	var next time.Time
	if interval > 0 {
		tick = time.NewTimer(phase)
		defer tick.Stop()
		next = time.Now().Add(phase)
	}
	for ctx.Err() == nil {
		dead := sh.deadChan()
		if benchClosed(dead) {
			if !ch.reconnect(sh) {
				return
			}
			continue
		}
		if tick == nil {
			ch.closedStep(ctx, sh)
			continue
		}
		select {
		case <-ctx.Done():
		case <-dead:
		case <-tick.C:
			if !benchClosed(dead) { // no message is started while the server is down
				ch.send(sh, "", false)
			}
			// Ticks that fall behind are skipped, not bunched, as in openLoop.
			next = next.Add(interval)
			for now := time.Now(); next.Before(now); {
				next = next.Add(interval)
			}
			tick.Reset(time.Until(next))
		}
	}
	if benchClosed(sh.deadChan()) {
		ch.reconnect(sh)
	}
}

// closedStep sends a new message when none is in flight, sends again one
// refused for the rate limit, or waits for the answer or the socket's end.
func (ch *benchChaos) closedStep(ctx context.Context, sh *benchShopper) {
	sh.mu.Lock()
	cid, res := sh.inflight, sh.inflightRes
	sh.mu.Unlock()
	switch {
	case cid == "" || res == 1:
		ch.send(sh, "", true)
	case res == 2:
		if benchSleepUntil(ctx, time.Now().Add(100*time.Millisecond)) {
			ch.send(sh, cid, true)
		}
	default:
		_ = sh.await(ctx, MaxDuration, func() bool { return sh.inflightRes != 0 })
	}
}

// send sends message cid (a new one when empty) and records it as in
// flight. A failed write leaves it in flight: the socket is dying, and the
// resume sends it again under the same client_id.
func (ch *benchChaos) send(sh *benchShopper, cid string, closedLoop bool) {
	if cid == "" {
		cid = sh.nextID()
		ch.r.sent.Add(1)
	}
	sh.track(cid, closedLoop)
	_ = sh.write(benchSendFrame(cid))
}

func (sh *benchShopper) deadChan() <-chan struct{} {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.dead
}

func benchClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// reconnect redials sh with a growing, jittered delay until it has resumed
// or the drain ends. It reports whether sh is connected again.
func (ch *benchChaos) reconnect(sh *benchShopper) bool {
	r := ch.r
	ctx := ch.drainCtx
	sh.closeNow() // the socket is dead: this waits for its reader
	r.connected.Add(-1)
	backoff := benchChaosBackoffMin
	for attempt := 1; ; attempt++ {
		err := ch.resume(ctx, sh)
		if err == nil {
			ch.reconnects.Add(1)
			r.connected.Add(1)
			return true
		}
		sh.closeNow()
		if errors.Is(err, errBenchViolation) {
			r.errs.add("resume_violation", fmt.Sprintf("shopper %d after a kill: %v", sh.idx, err))
			return false
		}
		if ctx.Err() != nil {
			if ch.parent.Err() == nil {
				r.errs.add("reconnect_failed", fmt.Sprintf("shopper %d: %d attempts until the end of the drain, the last: %v", sh.idx, attempt, err))
			}
			return false
		}
		// Jitter keeps a thousand shoppers from redialing in step.
		if !benchSleepUntil(ctx, time.Now().Add(backoff/2+rand.N(backoff/2+1))) {
			continue // the next attempt fails at once and reports
		}
		backoff = min(2*backoff, benchChaosBackoffMax)
	}
}

// resume is one attempt to get sh back into its conversation: dial, hello
// with resume after the last seq seen, every replayed event, then every
// message still in flight sent again under its client_id. Only an answer
// that no crash explains is a violation; a socket that dies, a refused dial
// or a timeout is tried again.
func (ch *benchChaos) resume(ctx context.Context, sh *benchShopper) error {
	ctx, cancel := context.WithTimeout(ctx, benchDialTimeout)
	defer cancel()
	sh.mu.Lock()
	clear(sh.probes) // sent on a socket that died: never answered
	sh.mu.Unlock()
	if err := sh.dial(ctx); err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	sh.mu.Lock()
	conv, after := sh.conv, sh.lastSeq
	sh.mu.Unlock()
	hello, _ := json.Marshal(map[string]any{"type": "hello", "token": sh.token, "resume": map[string]any{"conversation": conv, "after": after}})
	if err := sh.write(hello); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if err := sh.await(ctx, benchDialTimeout, func() bool { return sh.welcomed }); err != nil {
		return fmt.Errorf("welcome: %w", err)
	}
	sh.mu.Lock()
	wconv, last := sh.welcomeConv, sh.welcomeLast
	sh.mu.Unlock()
	if wconv != conv {
		return fmt.Errorf("%w: welcome.conversation is %q, expected %q open", errBenchViolation, wconv, conv)
	}
	if last < after {
		return fmt.Errorf("%w: welcome.conversation.last_seq is %d, but the sockets before the kill delivered events up to %d", errBenchViolation, last, after)
	}
	if err := sh.await(ctx, benchDialTimeout, func() bool { return sh.lastSeq >= last }); err != nil {
		if !benchClosed(sh.deadChan()) && ch.drainCtx.Err() == nil {
			sh.mu.Lock()
			got := sh.lastSeq
			sh.mu.Unlock()
			return fmt.Errorf("%w: resumed after %d, events up to %d of %d: %v", errBenchViolation, after, got, last, err)
		}
		return fmt.Errorf("replay: %w", err)
	}
	sh.mu.Lock()
	ids := slices.Collect(maps.Keys(sh.pending))
	slices.SortFunc(ids, func(a, b string) int { return cmp.Compare(sh.pending[a], sh.pending[b]) })
	sh.mu.Unlock()
	for _, cid := range ids {
		if err := sh.write(benchSendFrame(cid)); err != nil {
			return fmt.Errorf("re-sending %s: %w", cid, err)
		}
		ch.resent.Add(1)
	}
	sh.mu.Lock()
	probe := sh.lastAck
	if probe != "" {
		sh.probes[probe] = sh.acks[probe]
	}
	sh.mu.Unlock()
	if probe != "" {
		if err := sh.write(benchSendFrame(probe)); err != nil {
			return fmt.Errorf("sending %s again: %w", probe, err)
		}
	}
	return nil
}

// probeAcked takes the ack of an acknowledged message sent again, and
// reports whether f was one.
func (ch *benchChaos) probeAcked(sh *benchShopper, f *benchFrame) bool {
	sh.mu.Lock()
	want, ok := sh.probes[f.ClientID]
	delete(sh.probes, f.ClientID)
	sh.mu.Unlock()
	if !ok {
		return false
	}
	if f.Seq != want {
		ch.r.errs.add("resend_wrong_seq", fmt.Sprintf("shopper %d: %s, acknowledged as seq %d, sent again after a restart, is acknowledged as seq %d", sh.idx, f.ClientID, want, f.Seq))
	} else {
		ch.probes.Add(1)
	}
	sh.poke()
	return true
}

// probeAgent posts the last accepted agent reply again: the server, just
// restarted, must answer 200 with the seq of the first.
func (ch *benchChaos) probeAgent(ctx context.Context) {
	ch.mu.Lock()
	cid := ch.last
	rep := ch.replies[cid]
	ch.mu.Unlock()
	if cid == "" {
		return
	}
	status, raw, err := ch.r.apiDo(ctx, "POST", "/api/v1/tickets/"+rep.conv+"/messages", rep.tok, map[string]any{"client_id": cid, "text": "agent reply " + cid})
	var out struct {
		Seq uint64 `json:"seq"`
	}
	switch {
	case err != nil:
		if ctx.Err() == nil {
			ch.r.errs.add("agent_post_failed", fmt.Sprintf("reply %s to %s sent again after a restart: %v", cid, rep.conv, err))
		}
	case status != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.Seq != rep.seq:
		ch.r.errs.add("resend_wrong_seq", fmt.Sprintf("agent reply %s to %s, accepted as seq %d, sent again after a restart: %d %s; want 200 with that seq",
			cid, rep.conv, rep.seq, status, benchTrim(string(raw), 200)))
	default:
		ch.probes.Add(1)
	}
}

// reply posts one agent reply to sh's ticket, and while the server is down
// or answers 5xx, posts it again under the same client_id until it is
// accepted or the drain ends. A repeat the server already stored answers
// 200 with the first seq: that is an acceptance too, after a retry.
func (ch *benchChaos) reply(tok string, sh *benchShopper, cid string) {
	r, a := ch.r, ch.r.agents
	ctx := ch.drainCtx
	sh.mu.Lock()
	conv := sh.conv
	sh.mu.Unlock()
	ch.mu.Lock()
	ch.tried[cid] = conv
	ch.mu.Unlock()
	a.mu.Lock()
	a.posted[cid] = time.Now().UnixNano()
	a.mu.Unlock()
	body := map[string]any{"client_id": cid, "text": "agent reply " + cid}
	backoff := benchChaosBackoffMin
	for attempt := 1; ; attempt++ {
		status, raw, err := r.apiDo(ctx, "POST", "/api/v1/tickets/"+conv+"/messages", tok, body)
		var out struct {
			Seq uint64 `json:"seq"`
		}
		switch {
		case err == nil && (status == http.StatusCreated || status == http.StatusOK && attempt > 1):
			if json.Unmarshal(raw, &out) != nil || out.Seq == 0 {
				r.errs.add("malformed_answer", fmt.Sprintf("reply %s to %s: %d %s", cid, conv, status, benchTrim(string(raw), 200)))
				break
			}
			ch.mu.Lock()
			ch.replies[cid], ch.last = benchChaosReply{conv: conv, tok: tok, seq: out.Seq}, cid
			ch.mu.Unlock()
			a.replies.Add(1)
			return
		case err != nil && ctx.Err() != nil:
			if ch.parent.Err() == nil {
				r.errs.add("agent_reply_unconfirmed", fmt.Sprintf("reply %s to %s: no answer but errors until the end of the drain (%d attempts), the last: %v", cid, conv, attempt, err))
			}
		case err != nil || status >= 500:
			ch.agentRetries.Add(1)
			if err == nil {
				ch.agent5xx.Add(1)
			}
			benchSleepUntil(ctx, time.Now().Add(backoff))
			backoff = min(2*backoff, benchChaosBackoffMax)
			continue
		case status == http.StatusTooManyRequests:
			r.errs.add("rate_limited", "")
			benchSleepUntil(ctx, time.Now().Add(100*time.Millisecond))
			continue
		default:
			r.errs.add("agent_http_"+strconv.Itoa(status), fmt.Sprintf("reply %s to %s (attempt %d): %s", cid, conv, attempt, benchTrim(string(raw), 200)))
		}
		a.mu.Lock()
		delete(a.posted, cid)
		a.mu.Unlock()
		return
	}
}
