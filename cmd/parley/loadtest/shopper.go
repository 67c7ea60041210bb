package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

// This file is one shopper: its socket, the goroutine that reads it, and the
// state that goroutine shares with whoever drives the shopper.

// benchFrame is the part of a server frame the tool reads. Everything else
// is skipped by the decoder: at 10,000 sockets on the server's own machine,
// the client must stay cheap.
type benchFrame struct {
	Type         string          `json:"type"`
	Seq          uint64          `json:"seq"`
	ClientID     string          `json:"client_id"`
	Code         string          `json:"code"`
	Conversation json.RawMessage `json:"conversation"` // a string in event and ack; an object or null in welcome
	Event        struct {
		Kind     string `json:"kind"`
		From     string `json:"from"`
		ClientID string `json:"client_id"`
	} `json:"event"`
}

// benchShopper is one logged-in shopper with one socket at a time.
type benchShopper struct {
	r       *benchRun
	idx     int
	profile string
	token   string
	msgN    int // messages sent; owned by the goroutine that sends

	opts   *wsclient.Options // the shopper's sockets', whose reader calls onFrame and onClose
	notify chan struct{}     // cap 1: something below changed
	broken chan struct{}     // cap 1: the closed loop's chain broke

	mu          sync.Mutex
	conn        *wsclient.Conn  // the current socket
	dead        <-chan struct{} // closed when the current socket's reader ends
	conv        string
	convQuoted  []byte // `"<conv>"`, to compare the raw field without decoding it
	welcomed    bool
	welcomeConv string
	welcomeLast uint64
	lastSeq     uint64           // every event up to this seq arrived, in order, on this socket
	pending     map[string]int64 // client_id → send time (unix ns), sent and not acknowledged
	inflight    string           // closed loop: the message waited for
	inflightRes int              // 0 waiting, 1 acknowledged, 2 refused for the rate limit
	chain       context.Context  // closed loop: the reader sends the next message until this ends
	chainErr    error            // closed loop: the reader's send failed
	ticketed    bool
	closing     bool              // the tool is closing the socket: its end is expected
	epoch       uint64            // with --kills: the server's life in which this socket was dialed
	writeStart  atomic.Int64      // unix ns when the write in progress began; 0 when none is
	acks        map[string]uint64 // with --kills: client_id → the seq its ack named; nil otherwise
	lastAck     string            // with --kills: the client_id acknowledged last
	probes      map[string]uint64 // with --kills: acknowledged client_ids sent again → their seq
	askCID      string            // with --ai: the question waiting for the AI's answer ("" none)
	askAt       int64             // with --ai: when it was sent (unix ns)
	askSeq      uint64            // with --ai: its seq, once its echo or ack has named it
	handedOff   bool              // with --ai: the conversation is with people now
}

func newBenchShopper(r *benchRun, idx int) (*benchShopper, error) {
	profile := fmt.Sprintf("bench_%s_%d", r.runID, idx)
	tok, err := identity.Mint([]byte(r.secret), engine.Visitor{ProfileID: profile, Name: "Bench Shopper " + strconv.Itoa(idx)}, 2*time.Hour, time.Now())
	if err != nil {
		return nil, err
	}
	sh := &benchShopper{r: r, idx: idx, profile: profile, token: tok, notify: make(chan struct{}, 1), broken: make(chan struct{}, 1), pending: map[string]int64{}}
	// The direct upgrade and no queue: each frame is read and handled on
	// the socket's one reader goroutine (onFrame), with no hand-off.
	sh.opts = &wsclient.Options{Direct: !r.cfg.PlainDial, OnFrame: sh.onFrame, OnClose: sh.onClose}
	if r.chaos != nil {
		sh.acks, sh.probes = map[string]uint64{}, map[string]uint64{}
	}
	return sh, nil
}

func (sh *benchShopper) poke() {
	select {
	case sh.notify <- struct{}{}:
	default:
	}
}

// dial opens a socket, whose reader hands every frame to onFrame.
func (sh *benchShopper) dial(ctx context.Context) error {
	epoch := sh.r.chaosEpoch() // before the dial: a kill during it ends this socket
	sh.mu.Lock()               // before the dial: the reader may read at once
	sh.closing, sh.welcomed, sh.epoch = false, false, epoch
	sh.mu.Unlock()
	conn, err := wsclient.Dial(ctx, "ws://"+sh.r.addr+"/ws", sh.opts)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	sh.conn, sh.dead = conn, conn.Done()
	sh.mu.Unlock()
	return nil
}

// socket is the current socket, nil before the first dial.
func (sh *benchShopper) socket() *wsclient.Conn {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.conn
}

// drop closes the socket at once, its end expected, without waiting for
// its reader (wait does).
func (sh *benchShopper) drop() {
	sh.mu.Lock()
	sh.closing = true
	conn := sh.conn
	sh.mu.Unlock()
	if conn != nil {
		conn.CloseNow()
	}
}

// wait waits for the reader of the socket drop closed.
func (sh *benchShopper) wait() {
	if conn := sh.socket(); conn != nil {
		<-conn.Done()
	}
}

// closeNow drops the socket at once and waits for its reader.
func (sh *benchShopper) closeNow() {
	sh.drop()
	sh.wait()
}

// write sends one frame. It passes no context that can end (coder/websocket
// closes the socket when a write's context ends mid-write, and the end of a
// phase must not do that; a cancellable context also costs a timer per
// write): a write stuck for benchWriteTimeout is cut by the run's watchdog.
func (sh *benchShopper) write(b []byte) error {
	conn := sh.socket()
	sh.writeStart.Store(time.Now().UnixNano())
	err := conn.Write(context.Background(), b)
	sh.writeStart.Store(0)
	return err
}

// watchWrites closes, once a second, every shopper socket whose write has
// taken longer than benchWriteTimeout, until stop is closed.
func (r *benchRun) watchWrites(stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		limit := time.Now().Add(-benchWriteTimeout).UnixNano()
		for _, sh := range r.shoppers {
			if t := sh.writeStart.Load(); t != 0 && t < limit && sh.writeStart.CompareAndSwap(t, 0) {
				r.errs.add("write_timeout", fmt.Sprintf("shopper %d: a frame write took over %v", sh.idx, benchWriteTimeout))
				sh.socket().CloseNow()
			}
		}
	}
}

// onFrame runs on the socket's reader for every frame: it decodes the
// frame's few fields and updates the shopper.
func (sh *benchShopper) onFrame(raw []byte) bool {
	var f benchFrame
	if err := benchDecodeFrame(raw, &f); err != nil {
		sh.r.errs.add("malformed_frame", fmt.Sprintf("shopper %d: %q: %v", sh.idx, benchTrim(string(raw), 200), err))
		return true
	}
	sh.handle(&f, time.Now())
	return true
}

// onClose runs on the socket's reader when the socket ends.
func (sh *benchShopper) onClose(err error) {
	sh.mu.Lock()
	expected := sh.closing || sh.r.chaosKilledSince(sh.epoch)
	sh.mu.Unlock()
	if !expected {
		sh.r.errs.add("unexpected_close", fmt.Sprintf("shopper %d: %v", sh.idx, err))
	}
	sh.poke()
}

func (sh *benchShopper) handle(f *benchFrame, now time.Time) {
	r := sh.r
	switch f.Type {
	case "welcome":
		id, last, err := benchOpenConversation(f.Conversation)
		if err != nil {
			r.errs.add("malformed_frame", fmt.Sprintf("shopper %d: welcome.conversation %s: %v", sh.idx, f.Conversation, err))
		}
		sh.mu.Lock()
		sh.welcomed = true
		sh.welcomeConv, sh.welcomeLast = id, last
		sh.mu.Unlock()
		sh.poke()
	case "event":
		sh.onEvent(f, now)
	case "ack":
		sh.onAck(f, now)
	case "error":
		sh.onError(f)
	default:
		r.errs.add("unexpected_frame", fmt.Sprintf("shopper %d: type %q", sh.idx, f.Type))
	}
}

// onEvent checks that the socket delivers its conversation's log in order
// with no gap or repeat, and times agent replies.
func (sh *benchShopper) onEvent(f *benchFrame, now time.Time) {
	r := sh.r
	sh.mu.Lock()
	if sh.conv == "" && f.Seq == 1 && f.Event.Kind == "started" {
		if conv, err := benchString(f.Conversation); err == nil && conv != "" {
			sh.conv, sh.convQuoted = conv, append([]byte(nil), f.Conversation...)
		}
	}
	if !bytes.Equal(f.Conversation, sh.convQuoted) {
		sh.mu.Unlock()
		r.errs.add("wrong_conversation", fmt.Sprintf("shopper %d: event of %s, expected %q", sh.idx, f.Conversation, sh.conv))
		return
	}
	want := sh.lastSeq + 1
	if f.Seq == want {
		sh.lastSeq = f.Seq
	}
	sh.mu.Unlock()
	if f.Seq != want {
		kind := "seq_gap"
		if f.Seq < want {
			kind = "seq_repeat"
		}
		r.errs.add(kind, fmt.Sprintf("shopper %d: seq %d (%s), expected %d", sh.idx, f.Seq, f.Event.Kind, want))
	}
	if f.Event.Kind == "message" && f.Event.From == "agent" {
		r.agents.delivered(f.Event.ClientID, now)
	}
	if r.cfg.AI && sh.onAIEvent(f, now) {
		sh.next() // the answer is in: the closed loop asks the next question
		return
	}
	sh.poke()
}

func (sh *benchShopper) onAck(f *benchFrame, now time.Time) {
	r := sh.r
	sh.mu.Lock()
	sent, ok := sh.pending[f.ClientID]
	delete(sh.pending, f.ClientID)
	first := ok && !sh.ticketed
	if ok {
		sh.ticketed = true
	}
	if ok && f.ClientID == sh.askCID && sh.askSeq == 0 {
		sh.askSeq = f.Seq
	}
	if ok && f.ClientID == sh.inflight {
		sh.inflightRes = 1
	}
	if ok && sh.acks != nil {
		sh.acks[f.ClientID], sh.lastAck = f.Seq, f.ClientID
	}
	convOK := bytes.Equal(f.Conversation, sh.convQuoted)
	sh.mu.Unlock()
	switch {
	case !ok:
		if r.chaos != nil && r.chaos.probeAcked(sh, f) {
			return
		}
		r.errs.add("unexpected_ack", fmt.Sprintf("shopper %d: ack of %q, not in flight", sh.idx, f.ClientID))
		return
	case !convOK:
		r.errs.add("wrong_conversation", fmt.Sprintf("shopper %d: ack of %s names %s", sh.idx, f.ClientID, f.Conversation))
	case f.Seq == 0:
		r.errs.add("malformed_frame", fmt.Sprintf("shopper %d: ack of %s without a seq", sh.idx, f.ClientID))
	}
	r.sendAck.record(time.Duration(now.UnixNano() - sent))
	r.acked.Add(1)
	if r.cfg.AI {
		// The chat is the AI's, no ticket: the closed loop waits for the
		// answer, and agents reply only once it is handed off.
		sh.poke()
		return
	}
	if first {
		r.agents.ticketed(sh)
	}
	sh.next()
}

func (sh *benchShopper) onError(f *benchFrame) {
	r := sh.r
	code := f.Code
	if code == "" {
		code = "unknown"
	}
	sh.mu.Lock()
	_, ok := sh.pending[f.ClientID]
	delete(sh.pending, f.ClientID)
	if ok {
		sh.forgetAskLocked(f.ClientID) // not stored, so not answered
	}
	refused := ok && f.ClientID == sh.inflight
	if refused {
		sh.inflightRes = 2
	}
	sh.mu.Unlock()
	if refused {
		sh.breakChain()
	}
	if code == "rate_limited" {
		r.errs.add("rate_limited", "")
	} else {
		r.errs.add("error_frame_"+code, fmt.Sprintf("shopper %d: client_id %q", sh.idx, f.ClientID))
	}
	sh.poke()
}

// await waits until cond, the socket's end, ctx or the timeout.
func (sh *benchShopper) await(ctx context.Context, d time.Duration, cond func() bool) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	sh.mu.Lock()
	dead := sh.dead
	sh.mu.Unlock()
	for {
		sh.mu.Lock()
		ok := cond()
		sh.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-sh.notify:
		case <-dead:
			sh.mu.Lock()
			ok := cond()
			sh.mu.Unlock()
			if ok {
				return nil
			}
			return errors.New("socket closed")
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return fmt.Errorf("timed out after %v", d)
		}
	}
}

// connect dials, says hello (with resume after when conv is set) and waits
// until the shopper is in its conversation: its started event for a new
// chat, or every event up to welcome.conversation.last_seq for a resume.
func (sh *benchShopper) connect(ctx context.Context, resume bool) error {
	ctx, cancel := context.WithTimeout(ctx, benchDialTimeout)
	defer cancel()
	if err := sh.dial(ctx); err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	var hello []byte
	if resume {
		sh.mu.Lock()
		after := sh.lastSeq
		conv := sh.conv
		sh.mu.Unlock()
		hello, _ = json.Marshal(map[string]any{"type": "hello", "token": sh.token, "resume": map[string]any{"conversation": conv, "after": after}})
	} else {
		hello, _ = json.Marshal(map[string]any{"type": "hello", "token": sh.token})
	}
	if err := sh.write(hello); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if err := sh.await(ctx, benchDialTimeout, func() bool { return sh.welcomed }); err != nil {
		return fmt.Errorf("welcome: %w", err)
	}
	if resume {
		sh.mu.Lock()
		conv, wconv, last := sh.conv, sh.welcomeConv, sh.welcomeLast
		sh.mu.Unlock()
		if wconv != conv {
			return fmt.Errorf("%w: welcome.conversation is %q, expected %q open", errBenchViolation, wconv, conv)
		}
		if err := sh.await(ctx, benchDialTimeout, func() bool { return sh.lastSeq >= last }); err != nil {
			sh.mu.Lock()
			got := sh.lastSeq
			sh.mu.Unlock()
			return fmt.Errorf("%w: resumed events up to %d of %d: %v", errBenchViolation, got, last, err)
		}
		return nil
	}
	if err := sh.write([]byte(`{"type":"chat.start"}`)); err != nil {
		return fmt.Errorf("chat.start: %w", err)
	}
	if err := sh.await(ctx, benchDialTimeout, func() bool { return sh.lastSeq >= 1 }); err != nil {
		return fmt.Errorf("started: %w", err)
	}
	return nil
}

var errBenchViolation = errors.New("protocol violation")
