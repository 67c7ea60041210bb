package loadtest

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
	"time"
)

// The shoppers and agents of a --kills run (chaos.go): they keep the load
// going through every kill, redialing, resuming and sending again under the
// same client_id what no answer confirmed.

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
