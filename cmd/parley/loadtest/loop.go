package loadtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// This file is how a shopper sends during the load: a closed loop of one
// message in flight, or an open loop at a rate.

// send sends one new message and records it as in flight.
func (sh *benchShopper) send(closedLoop bool) (string, error) {
	cid := sh.nextID()
	return cid, sh.sendID(cid, closedLoop)
}

// nextID is the client_id of the shopper's next new message.
func (sh *benchShopper) nextID() string {
	sh.msgN++
	return "m" + strconv.Itoa(sh.msgN)
}

// track records message cid as sent now and not yet answered; in the closed
// loop it is also the one message waited for.
func (sh *benchShopper) track(cid string, closedLoop bool) {
	sh.mu.Lock()
	now := time.Now().UnixNano()
	sh.pending[cid] = now
	if sh.r.cfg.AI {
		sh.askedLocked(cid, now)
	}
	if closedLoop {
		sh.inflight, sh.inflightRes = cid, 0
	}
	sh.mu.Unlock()
}

// benchSendFrame is the message.send frame of client_id cid; its text is
// derived from cid, so that a re-sent message is the same message.
func benchSendFrame(cid string) []byte {
	b := make([]byte, 0, 96)
	b = append(b, `{"type":"message.send","client_id":"`...)
	b = append(b, cid...)
	b = append(b, `","text":"load message `...)
	b = append(b, cid...)
	b = append(b, `"}`...)
	return b
}

func (sh *benchShopper) sendID(cid string, closedLoop bool) error {
	var b []byte
	if sh.r.cfg.AI {
		b = benchQuestionFrame(sh.idx, cid)
	} else {
		b = benchSendFrame(cid)
	}
	sh.track(cid, closedLoop)
	sh.r.sent.Add(1)
	if err := sh.write(b); err != nil {
		sh.mu.Lock()
		delete(sh.pending, cid)
		sh.forgetAskLocked(cid)
		sh.mu.Unlock()
		sh.r.sent.Add(-1)
		return err
	}
	return nil
}

// closedLoop keeps one message in flight until ctx ends: the next goes as
// soon as the last is acknowledged (with --ai, as soon as the AI has
// answered it; none once the conversation is handed off); one refused for
// the rate limit goes again, same client_id, a little later.
//
// The socket's reader sends the next message itself when it reads the ack:
// handing each one to this goroutine cost the tool a wake-up per message,
// CPU taken from the server it measures on the same cores. This goroutine
// starts the chain and takes over only when it breaks.
func (sh *benchShopper) closedLoop(ctx context.Context) {
	sh.mu.Lock()
	sh.chain, sh.chainErr = ctx, nil
	dead := sh.dead
	sh.mu.Unlock()
	defer func() {
		sh.mu.Lock()
		sh.chain = nil
		sh.mu.Unlock()
	}()
	_, err := sh.send(true)
	for err == nil && ctx.Err() == nil {
		select { // the chain broke: a refusal, a failed send, the socket's end or ctx
		case <-sh.broken:
		case <-dead:
			err = errors.New("socket closed")
			continue
		case <-ctx.Done():
			return
		}
		sh.mu.Lock()
		res, cid := sh.inflightRes, sh.inflight
		err = sh.chainErr
		sh.mu.Unlock()
		if err != nil || res != 2 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		err = sh.sendID(cid, true)
	}
	if err != nil && ctx.Err() == nil {
		sh.r.errs.add("send_failed", fmt.Sprintf("shopper %d: %v", sh.idx, err))
	}
}

// next runs on the reader after an ack (with --ai, after the AI's answer):
// in the closed loop it sends the next message, or wakes the loop when the
// chain cannot go on.
func (sh *benchShopper) next() {
	sh.mu.Lock()
	ctx, off := sh.chain, sh.handedOff
	sh.mu.Unlock()
	if ctx == nil || off { // no chain, or a conversation with people: nothing more to ask
		sh.poke()
		return
	}
	if ctx.Err() == nil {
		_, err := sh.send(true)
		if err == nil {
			return
		}
		sh.mu.Lock()
		sh.chainErr = err
		sh.mu.Unlock()
	}
	sh.breakChain()
}

func (sh *benchShopper) breakChain() {
	select {
	case sh.broken <- struct{}{}:
	default:
	}
}

// openLoop sends one message every interval, starting after phase, until
// ctx ends, whether or not earlier ones were acknowledged (with --ai, a tick
// whose shopper still waits for the AI's answer sends nothing).
func (sh *benchShopper) openLoop(ctx context.Context, interval, phase time.Duration) {
	timer := time.NewTimer(phase)
	defer timer.Stop()
	next := time.Now().Add(phase)
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		// With --ai, one question at a time: a second would withdraw the
		// first from the AI, which answers only the latest.
		if !sh.r.cfg.AI || sh.mayAsk() {
			if _, err := sh.send(false); err != nil {
				if ctx.Err() == nil {
					sh.r.errs.add("send_failed", fmt.Sprintf("shopper %d: %v", sh.idx, err))
				}
				return
			}
		}
		// Ticks that fall behind are skipped, not bunched: the rate is an upper bound.
		next = next.Add(interval)
		for now := time.Now(); next.Before(now); {
			next = next.Add(interval)
		}
		timer.Reset(time.Until(next))
	}
}

// outstanding reports messages sent and not yet answered.
func (sh *benchShopper) outstanding() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return len(sh.pending)
}
