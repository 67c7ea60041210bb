package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

// The crash test (S12) runs the real binary on one data directory, puts it
// under concurrent load from shopper sockets and agents, kills it with
// SIGKILL at a random moment, restarts it and checks the promise: every
// acknowledged message survives exactly once at its acknowledged seq, every
// conversation's log is seq 1..N, a resumed socket gets exactly what it
// missed, and a re-sent client_id is acknowledged again and not stored twice.
//
//	PARLEY_CRASH_ROUNDS=20  more kill/restart rounds (default 5)
//	PARLEY_CRASH_SEED=n     replay the kill times of a logged run

const (
	crashShopperCount = 16
	crashAgentCount   = 2
	crashSecret       = "crash-test-identity-secret"
	crashAdminToken   = "crash-test-admin-token"
	crashMaxErrors    = 60 // errors reported before the rest are only counted
)

func TestCrashKillUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills the real binary")
	}
	started := time.Now()
	rounds := 5
	if s := os.Getenv("PARLEY_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("PARLEY_CRASH_ROUNDS=%q: want a positive number", s)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PARLEY_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PARLEY_CRASH_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (PARLEY_CRASH_SEED=%d replays the kill times), %d rounds", seed, seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	bin := crashBuild(t)
	ct := newCrashTest(t, bin, t.TempDir())
	ct.startChild()
	ct.createAgents()
	ct.setupShoppers()
	if t.Failed() {
		return
	}
	for r := 1; r <= rounds; r++ {
		ct.round.Store(int32(r))
		delay := time.Duration(200+rng.IntN(1001)) * time.Millisecond
		ct.load(r, delay, rng.Uint64())
		ct.startChild()
		ct.verify(r)
		if t.Failed() {
			t.Logf("stopping after round %d: it failed", r)
			return
		}
	}
	ct.closeConns()
	ct.stopChild()
	total := 0
	for _, sh := range ct.shoppers {
		total += len(sh.known)
	}
	t.Logf("%d rounds in %v: %d shopper messages and %d agent replies stored and verified",
		rounds, time.Since(started).Round(time.Millisecond), total, len(ct.agentKnown))
}

// The real binary, built once for every test of the package that runs it
// and removed by TestMain.
var testBinary struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// crashBuild builds the real binary from this package's directory, once.
func crashBuild(t *testing.T) string {
	t.Helper()
	b := &testBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "parley-test-bin-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "parley")
		start := time.Now()
		if out, err := exec.Command("go", "build", "-o", b.bin, ".").CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		t.Logf("built %s in %v", b.bin, time.Since(start).Round(time.Millisecond))
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// crashStored is a message whose outcome the test knows (seq > 0) or not yet.
type crashStored struct {
	conv, text string
	seq        uint64
	agent      int // which agent sent it
}

type crashTest struct {
	t      *testing.T
	bin    string
	dir    string
	tr     *http.Transport
	client *http.Client // API calls, bounded
	wsHTTP *http.Client // WebSocket dials (coder/websocket wants no Timeout)
	child  *serveChild
	round  atomic.Int32
	errs   atomic.Int32

	agentTokens []string
	shoppers    []*crashShopper

	amu          sync.Mutex
	agentKnown   map[string]crashStored // acknowledged (201), or found in the log after a restart
	agentOrder   []string               // agentKnown in order
	agentUnknown map[string]crashStored // sent, no answer before the kill
	agentFound   int                    // agentUnknown found stored after a restart
}

type crashShopper struct {
	idx      int
	profile  string
	token    string
	ticketed atomic.Bool // an acknowledged message made the conversation a ticket

	// Owned by whichever goroutine drives the shopper (setup, load, verify).
	known    map[string]uint64 // client_id → seq: acknowledged, or found in the log after a restart
	order    []string          // known client_ids, in order
	texts    map[string]string
	pending  string // sent, not acknowledged before the kill: stored or not
	inFlight bool   // pending is sent and not answered (not refused for the rate limit)
	counter  int
	acks     int // this round
	limited  int // rate_limited answers this round
	c        *crashConn

	mu   sync.Mutex // the socket pump's view of the event stream
	conv string
	next uint64            // the seq the current socket must deliver next
	seen map[uint64]string // seq → signature of every event any socket delivered
}

func (sh *crashShopper) conversation() string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.conv
}

func (sh *crashShopper) nextSeq() uint64 {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.next
}

func newCrashTest(t *testing.T, bin, dir string) *crashTest {
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	ct := &crashTest{
		t: t, bin: bin, dir: dir, tr: tr,
		client:     &http.Client{Transport: tr, Timeout: 5 * time.Second},
		wsHTTP:     &http.Client{Transport: tr},
		agentKnown: map[string]crashStored{}, agentUnknown: map[string]crashStored{},
	}
	for i := range crashShopperCount {
		profile := fmt.Sprintf("crash_shopper_%02d", i)
		tok, err := identity.Mint([]byte(crashSecret), engine.Visitor{ProfileID: profile, Name: fmt.Sprintf("Shopper %d", i)}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ct.shoppers = append(ct.shoppers, &crashShopper{
			idx: i, profile: profile, token: tok,
			known: map[string]uint64{}, texts: map[string]string{}, seen: map[uint64]string{}, next: 1,
		})
	}
	t.Cleanup(func() {
		ct.closeConns()
		tr.CloseIdleConnections()
	})
	return ct
}

// errorf reports a failure from any goroutine, up to a limit.
func (ct *crashTest) errorf(format string, args ...any) {
	ct.t.Helper()
	if n := ct.errs.Add(1); n <= crashMaxErrors {
		ct.t.Errorf("round %d: "+format, append([]any{ct.round.Load()}, args...)...)
	} else if n == crashMaxErrors+1 {
		ct.t.Errorf("more errors follow; only counted")
	}
}

// startChild starts `parley serve` on the data directory and waits until it
// is ready.
func (ct *crashTest) startChild() {
	ct.t.Helper()
	start := time.Now()
	ct.child = startChild(ct.t, ct.bin, "--data", ct.dir, "--identity-secret", crashSecret,
		"--admin-token", crashAdminToken, "--log-level", "info",
		"--api-rate", "0") // the agents post as fast as answers come
	ct.t.Logf("round %d: server up on %s in %v", ct.round.Load(), ct.child.addr, time.Since(start).Round(time.Millisecond))
}

// stopChild ends the child with SIGTERM and checks that it exits 0.
func (ct *crashTest) stopChild() {
	ct.child.stop(ct.t)
	ct.tr.CloseIdleConnections()
}

// api makes a request to the child and returns its status and body.
func (ct *crashTest) api(ctx context.Context, method, path, bearer string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+ct.child.addr+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ct.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// createAgents creates the agents whose tokens reply during the load.
func (ct *crashTest) createAgents() {
	for i := range crashAgentCount {
		status, raw, err := ct.api(context.Background(), "POST", "/api/v1/agents", crashAdminToken,
			map[string]any{"name": fmt.Sprintf("Agent %d", i), "email": fmt.Sprintf("agent%d@example.com", i), "role": "agent"})
		var out struct {
			Token string `json:"token"`
		}
		if err != nil || status != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.Token == "" {
			ct.t.Fatalf("create agent: %d %s %v", status, raw, err)
		}
		ct.agentTokens = append(ct.agentTokens, out.Token)
	}
}

// crashFrame is any server frame the test reads.
type crashFrame struct {
	Type         string          `json:"type"`
	ClientID     string          `json:"client_id"`
	Conversation json.RawMessage `json:"conversation"`
	Seq          uint64          `json:"seq"`
	Code         string          `json:"code"`
	Message      string          `json:"message"`
	Event        crashEventBody  `json:"event"`
}

type crashEventBody struct {
	Kind     string `json:"kind"`
	From     string `json:"from"`
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
}

// convID is the frame's conversation when it is an id (event, ack).
func (f crashFrame) convID() string {
	var s string
	_ = json.Unmarshal(f.Conversation, &s)
	return s
}

// crashSig is what identifies an event across the socket and the API.
func crashSig(e crashEventBody) string {
	return e.Kind + "/" + e.From + "/" + e.ClientID
}

// crashConn is a shopper socket. Its reader checks and records every event
// (onFrame) and leaves the other frames (welcome, ack, error) for await and
// next.
type crashConn struct {
	sh   *crashShopper
	conn *wsclient.Conn
}

func (ct *crashTest) dial(sh *crashShopper) (*crashConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := wsclient.Dial(ctx, "ws://"+ct.child.addr+"/ws", &wsclient.Options{
		HTTPClient: ct.wsHTTP,
		QueueLimit: 64,
		OnFrame:    func(b []byte) bool { return ct.onFrame(sh, b) },
	})
	if err != nil {
		return nil, err
	}
	return &crashConn{sh: sh, conn: conn}, nil
}

// onFrame runs on the socket's reader for every frame: it takes the events.
func (ct *crashTest) onFrame(sh *crashShopper, b []byte) (handled bool) {
	var f crashFrame
	if err := json.Unmarshal(b, &f); err != nil {
		ct.errorf("shopper %d: frame %q: %v", sh.idx, b, err)
		return true
	}
	if f.Type != "event" {
		return false
	}
	ct.onEvent(sh, f)
	return true
}

// closeStatus is the close status the server sent, once the socket died.
func (c *crashConn) closeStatus() websocket.StatusCode { return websocket.CloseStatus(c.conn.Err()) }

// onEvent checks that the socket's events are contiguous and records them.
func (ct *crashTest) onEvent(sh *crashShopper, f crashFrame) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	conv := f.convID()
	if sh.conv == "" && f.Seq == 1 && f.Event.Kind == "started" {
		sh.conv = conv
	}
	if conv != sh.conv {
		ct.errorf("shopper %d: event of conversation %q, expected %q", sh.idx, conv, sh.conv)
		return
	}
	if f.Seq != sh.next {
		ct.errorf("shopper %d: socket delivered seq %d (%s), expected %d: a gap or a repeat", sh.idx, f.Seq, crashSig(f.Event), sh.next)
	}
	if f.Seq >= sh.next {
		sh.next = f.Seq + 1
	}
	sig := crashSig(f.Event)
	if old, ok := sh.seen[f.Seq]; ok && old != sig {
		ct.errorf("shopper %d: seq %d was delivered as %s, now as %s", sh.idx, f.Seq, old, sig)
	}
	sh.seen[f.Seq] = sig
}

func (c *crashConn) send(ctx context.Context, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.conn.Send(ctx, v)
}

// next returns the next frame other than an event; false when the socket
// died or ctx ended first.
func (c *crashConn) next(ctx context.Context) (crashFrame, bool) {
	_, b, err := c.conn.ReadMessage(ctx)
	if err != nil {
		return crashFrame{}, false
	}
	var f crashFrame
	_ = json.Unmarshal(b, &f) // onFrame decoded it already
	return f, true
}

// await reads the next frame other than an event, which want must accept,
// failing on any other frame, a dead socket or the timeout.
func (c *crashConn) await(d time.Duration, what string, want func(crashFrame) bool) (crashFrame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	f, ok := c.next(ctx)
	switch {
	case !ok && ctx.Err() != nil:
		return f, fmt.Errorf("no %s in %v", what, d)
	case !ok:
		return f, fmt.Errorf("socket closed waiting for %s", what)
	case want(f):
		return f, nil
	}
	return f, fmt.Errorf("waiting for %s: unexpected frame %+v", what, f)
}

// waitNext waits until the socket has delivered every event up to seq.
func (c *crashConn) waitNext(seq uint64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for c.sh.nextSeq() <= seq {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func (c *crashConn) close() { c.conn.Close() }

func (ct *crashTest) closeConns() {
	for _, sh := range ct.shoppers {
		if sh.c != nil {
			sh.c.close()
			sh.c = nil
		}
	}
}

// forEachShopper runs f for every shopper at once and waits.
func (ct *crashTest) forEachShopper(f func(sh *crashShopper)) {
	var wg sync.WaitGroup
	for _, sh := range ct.shoppers {
		wg.Go(func() { f(sh) })
	}
	wg.Wait()
}

// setupShoppers connects every shopper and starts its chat.
func (ct *crashTest) setupShoppers() {
	ct.forEachShopper(func(sh *crashShopper) {
		c, err := ct.dial(sh)
		if err != nil {
			ct.errorf("shopper %d: dial: %v", sh.idx, err)
			return
		}
		sh.c = c
		if err := c.send(context.Background(), map[string]any{"type": "hello", "token": sh.token}); err != nil {
			ct.errorf("shopper %d: hello: %v", sh.idx, err)
			return
		}
		w, err := c.await(5*time.Second, "welcome", func(f crashFrame) bool { return f.Type == "welcome" })
		if err != nil {
			ct.errorf("shopper %d: %v", sh.idx, err)
			return
		}
		if string(w.Conversation) != "null" {
			ct.errorf("shopper %d: a fresh store has an open conversation %s", sh.idx, w.Conversation)
		}
		if err := c.send(context.Background(), map[string]any{"type": "chat.start"}); err != nil {
			ct.errorf("shopper %d: chat.start: %v", sh.idx, err)
			return
		}
		if !c.waitNext(1, 5*time.Second) {
			ct.errorf("shopper %d: no started event after chat.start", sh.idx)
		}
	})
}

// load runs the shoppers and agents until the child is killed after delay.
func (ct *crashTest) load(round int, delay time.Duration, agentSeed uint64) {
	ct.loadUntil(round, delay, agentSeed, "SIGKILL", ct.child.kill)
}

// loadUntil runs the load and, after delay, ends the server with stop.
func (ct *crashTest) loadUntil(round int, delay time.Duration, agentSeed uint64, how string, stop func()) {
	ctx, cancel := context.WithTimeout(context.Background(), delay+20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, sh := range ct.shoppers {
		sh.acks, sh.limited, sh.inFlight = 0, 0, false
		wg.Go(func() { ct.shopperLoad(ctx, sh, round) })
	}
	var agentAcks [crashAgentCount]int
	for a := range crashAgentCount {
		rng := rand.New(rand.NewPCG(agentSeed, uint64(a)))
		wg.Go(func() { agentAcks[a] = ct.agentLoad(ctx, a, round, rng) })
	}
	start := time.Now()
	time.Sleep(delay)
	killed := time.Now()
	stop()
	killedAt := killed.Sub(start)

	waited := make(chan struct{})
	go func() {
		wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		ct.errorf("load goroutines still running 10s after the kill; cancelling")
		cancel()
		<-waited
	}
	ct.closeConns()
	ct.tr.CloseIdleConnections()

	shopperAcks, inFlight, limited := 0, 0, 0
	for _, sh := range ct.shoppers {
		shopperAcks += sh.acks
		limited += sh.limited
		if sh.inFlight {
			inFlight++
		}
	}
	ct.amu.Lock()
	agentPending := len(ct.agentUnknown)
	ct.amu.Unlock()
	ct.t.Logf("round %d: %s at %s, %v into the load (planned %v); acknowledged: %d shopper messages (%d rate_limited answers re-sent), %d+%d agent replies; in flight at the kill: %d shopper messages, %d agent replies",
		round, how, killed.Format("15:04:05.000"), killedAt.Round(time.Millisecond), delay, shopperAcks, limited, agentAcks[0], agentAcks[1], inFlight, agentPending)
}

// shopperLoad sends messages one at a time, each as soon as the previous
// one is acknowledged, until the socket dies. A message sent but not
// acknowledged stays pending: it is sent again, same client_id, next time.
func (ct *crashTest) shopperLoad(ctx context.Context, sh *crashShopper, round int) {
	c := sh.c
	if c == nil {
		return
	}
	for ctx.Err() == nil {
		if sh.pending == "" {
			sh.counter++
			cid := fmt.Sprintf("s%02d-m%05d", sh.idx, sh.counter)
			sh.texts[cid] = fmt.Sprintf("shopper %d, round %d, message %d", sh.idx, round, sh.counter)
			sh.pending = cid
		}
		select {
		case <-c.conn.Done():
			return // the server died while this shopper waited
		default:
		}
		cid := sh.pending
		sh.inFlight = true
		if err := c.send(ctx, map[string]any{"type": "message.send", "client_id": cid, "text": sh.texts[cid]}); err != nil {
			return
		}
		f, ok := c.next(ctx)
		if !ok {
			return // the server died (cid's fate is unknown), or the load ended
		}
		switch {
		case f.Type == "ack" && f.ClientID == cid:
			if conv := f.convID(); conv != sh.conversation() {
				ct.errorf("shopper %d: ack of %s names conversation %q, expected %q", sh.idx, cid, conv, sh.conversation())
			}
			if seq, ok := sh.known[cid]; ok && seq != f.Seq {
				ct.errorf("shopper %d: %s, found at seq %d after the restart, is acknowledged as seq %d when sent again", sh.idx, cid, seq, f.Seq)
			}
			if _, ok := sh.known[cid]; !ok {
				sh.known[cid] = f.Seq
				sh.order = append(sh.order, cid)
			}
			sh.pending, sh.inFlight = "", false
			sh.acks++
			sh.ticketed.Store(true)
		case f.Type == "error" && f.Code == "rate_limited":
			sh.inFlight = false
			sh.limited++
			select { // the default limit is 10/s: wait for a token, send cid again
			case <-time.After(120 * time.Millisecond):
			case <-ctx.Done():
				return
			}
		default:
			ct.errorf("shopper %d: waiting for the ack of %s, got %+v", sh.idx, cid, f)
			return
		}
	}
}

// agentLoad replies through the API to random tickets, one at a time, until
// the server dies. It returns the number of replies acknowledged.
func (ct *crashTest) agentLoad(ctx context.Context, a, round int, rng *rand.Rand) int {
	acks := 0
	for n := 1; ctx.Err() == nil; {
		sh := ct.shoppers[rng.IntN(len(ct.shoppers))]
		if !sh.ticketed.Load() {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		conv := sh.conversation()
		cid := fmt.Sprintf("a%d-r%02d-m%05d", a, round, n)
		text := fmt.Sprintf("agent %d, round %d, reply %d", a, round, n)
		n++
		ct.amu.Lock()
		ct.agentUnknown[cid] = crashStored{conv: conv, text: text, agent: a}
		ct.amu.Unlock()
		status, raw, err := ct.api(ctx, "POST", "/api/v1/tickets/"+conv+"/messages", ct.agentTokens[a],
			map[string]any{"client_id": cid, "text": text})
		if err != nil || status == http.StatusServiceUnavailable {
			return acks // the server died or is shutting down: cid's fate is unknown
		}
		var out struct {
			Seq uint64 `json:"seq"`
		}
		if status != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.Seq == 0 {
			ct.errorf("agent %d: reply %s to %s: %d %s", a, cid, conv, status, raw)
			return acks
		}
		ct.amu.Lock()
		delete(ct.agentUnknown, cid)
		ct.agentKnown[cid] = crashStored{conv: conv, text: text, seq: out.Seq, agent: a}
		ct.agentOrder = append(ct.agentOrder, cid)
		ct.amu.Unlock()
		acks++
	}
	return acks
}

type crashTicket struct {
	Events []struct {
		Seq   uint64         `json:"seq"`
		Event crashEventBody `json:"event"`
	} `json:"events"`
}

// fetchLog reads one conversation's log through the API, checks it against
// what the test knows, and returns its length (ok false: no log to check).
// A message sent but not acknowledged that it finds stored becomes known:
// it must stay.
func (ct *crashTest) fetchLog(sh *crashShopper, what string) (n uint64, ok bool) {
	conv := sh.conversation()
	status, raw, err := ct.api(context.Background(), "GET", "/api/v1/tickets/"+conv, crashAdminToken, nil)
	if err != nil {
		ct.errorf("shopper %d %s: GET ticket %s: %v", sh.idx, what, conv, err)
		return 0, false
	}
	if status == http.StatusNotFound && len(sh.known) == 0 {
		return 0, false // no acknowledged message: maybe not a ticket yet
	}
	var tk crashTicket
	if status != http.StatusOK || json.Unmarshal(raw, &tk) != nil {
		ct.errorf("shopper %d %s: GET ticket %s: %d %s", sh.idx, what, conv, status, raw)
		return 0, false
	}
	cids := map[string]uint64{}
	for i, e := range tk.Events {
		if e.Seq != uint64(i+1) {
			ct.errorf("shopper %d %s: conversation %s: event %d of %d has seq %d: not 1..N", sh.idx, what, conv, i+1, len(tk.Events), e.Seq)
		}
		if i == 0 && e.Event.Kind != "started" {
			ct.errorf("shopper %d %s: conversation %s: seq 1 is %s, not started", sh.idx, what, conv, crashSig(e.Event))
		}
		cid := e.Event.ClientID
		if e.Event.Kind != "message" || cid == "" {
			continue
		}
		if prev, dup := cids[cid]; dup {
			ct.errorf("shopper %d %s: conversation %s: client_id %s stored twice, at seq %d and %d", sh.idx, what, conv, cid, prev, e.Seq)
			continue
		}
		cids[cid] = e.Seq
		switch e.Event.From {
		case "shopper":
			if seq, ok := sh.known[cid]; ok {
				if seq != e.Seq {
					ct.errorf("shopper %d %s: %s acknowledged as seq %d is at seq %d", sh.idx, what, cid, seq, e.Seq)
				}
			} else if cid == sh.pending {
				sh.known[cid] = e.Seq // sent, not acknowledged, stored: it must stay
				sh.order = append(sh.order, cid)
			} else {
				ct.errorf("shopper %d %s: seq %d holds %s, which this shopper never sent", sh.idx, what, e.Seq, cid)
				continue
			}
			if e.Event.Text != sh.texts[cid] {
				ct.errorf("shopper %d %s: %s has text %q, sent %q", sh.idx, what, cid, e.Event.Text, sh.texts[cid])
			}
		case "agent":
			ct.amu.Lock()
			k, known := ct.agentKnown[cid]
			u, unknown := ct.agentUnknown[cid]
			matched := known || unknown && u.conv == conv
			switch {
			case known:
				if k.conv != conv || k.seq != e.Seq {
					ct.errorf("shopper %d %s: agent reply %s acknowledged as seq %d of %s is at seq %d of %s", sh.idx, what, cid, k.seq, k.conv, e.Seq, conv)
				}
			case unknown && u.conv == conv:
				delete(ct.agentUnknown, cid)
				k = crashStored{conv: conv, text: u.text, seq: e.Seq, agent: u.agent}
				ct.agentKnown[cid] = k
				ct.agentOrder = append(ct.agentOrder, cid)
				ct.agentFound++
			default:
				ct.errorf("shopper %d %s: seq %d holds agent reply %s, never sent to %s", sh.idx, what, e.Seq, cid, conv)
			}
			ct.amu.Unlock()
			if matched && e.Event.Text != k.text {
				ct.errorf("shopper %d %s: agent reply %s has text %q, sent %q", sh.idx, what, cid, e.Event.Text, k.text)
			}
		default:
			ct.errorf("shopper %d %s: seq %d: a message from %q", sh.idx, what, e.Seq, e.Event.From)
		}
	}
	// Every acknowledged message is there.
	for cid, seq := range sh.known {
		if _, ok := cids[cid]; !ok {
			ct.errorf("shopper %d %s: acknowledged message %s (seq %d) is LOST; the log has %d events", sh.idx, what, cid, seq, len(tk.Events))
		}
	}
	ct.amu.Lock()
	for cid, k := range ct.agentKnown {
		if _, ok := cids[cid]; k.conv == conv && !ok {
			ct.errorf("shopper %d %s: acknowledged agent reply %s (seq %d) is LOST; the log has %d events", sh.idx, what, cid, k.seq, len(tk.Events))
		}
	}
	for cid, u := range ct.agentUnknown {
		if _, ok := cids[cid]; u.conv == conv && !ok {
			delete(ct.agentUnknown, cid) // never acknowledged, not stored: gone, and fine
		}
	}
	ct.amu.Unlock()
	// Every event a socket delivered is in the log as it was delivered.
	sh.mu.Lock()
	for seq, sig := range sh.seen {
		switch {
		case seq > uint64(len(tk.Events)):
			ct.errorf("shopper %d %s: a socket got seq %d (%s), but the log has %d events", sh.idx, what, seq, sig, len(tk.Events))
		case crashSig(tk.Events[seq-1].Event) != sig:
			ct.errorf("shopper %d %s: a socket got seq %d as %s, the log has %s", sh.idx, what, seq, sig, crashSig(tk.Events[seq-1].Event))
		}
	}
	sh.mu.Unlock()
	return uint64(len(tk.Events)), true
}

// verify runs after a restart: the logs, resume, and idempotency.
func (ct *crashTest) verify(round int) {
	t := ct.t
	start := time.Now()
	lens := make([]uint64, len(ct.shoppers))
	ok := make([]bool, len(ct.shoppers))
	foundPending := 0
	ct.amu.Lock()
	agentFound := ct.agentFound
	ct.amu.Unlock()
	var events uint64
	for i, sh := range ct.shoppers {
		pending := sh.pending
		_, wasKnown := sh.known[pending]
		lens[i], ok[i] = ct.fetchLog(sh, "after restart")
		if _, found := sh.known[pending]; pending != "" && found && !wasKnown {
			foundPending++
		}
		events += lens[i]
	}
	ct.amu.Lock()
	agentFound = ct.agentFound - agentFound
	ct.amu.Unlock()

	// Each shopper resumes after the last seq it saw and must get exactly
	// the events it missed, then re-sends acknowledged client_ids.
	resumed, resent := 0, 0
	var mu sync.Mutex
	ct.forEachShopper(func(sh *crashShopper) {
		conv := sh.conversation()
		c, err := ct.dial(sh)
		if err != nil {
			ct.errorf("shopper %d: dial after restart: %v", sh.idx, err)
			return
		}
		sh.c = c
		sh.mu.Lock()
		after := sh.next - 1
		sh.mu.Unlock()
		hello := map[string]any{"type": "hello", "token": sh.token, "resume": map[string]any{"conversation": conv, "after": after}}
		if err := c.send(context.Background(), hello); err != nil {
			ct.errorf("shopper %d: hello: %v", sh.idx, err)
			return
		}
		w, err := c.await(5*time.Second, "welcome", func(f crashFrame) bool { return f.Type == "welcome" })
		if err != nil {
			ct.errorf("shopper %d: resume: %v", sh.idx, err)
			return
		}
		var open struct {
			ID      string `json:"id"`
			LastSeq uint64 `json:"last_seq"`
		}
		if err := json.Unmarshal(w.Conversation, &open); err != nil || open.ID != conv {
			ct.errorf("shopper %d: welcome.conversation %s, expected %s open", sh.idx, w.Conversation, conv)
		}
		idx := sh.idx
		if !ok[idx] {
			return
		}
		if open.LastSeq != lens[idx] {
			ct.errorf("shopper %d: welcome says last_seq %d, the log has %d events", sh.idx, open.LastSeq, lens[idx])
		}
		if !c.waitNext(lens[idx], 5*time.Second) {
			ct.errorf("shopper %d: resumed after %d, got up to seq %d in 5s; the log has %d events", sh.idx, after, sh.nextSeq()-1, lens[idx])
			return
		}
		mu.Lock()
		resumed++
		mu.Unlock()

		// Re-send the first and the last acknowledged message: same ack, no new event.
		var again []string
		if len(sh.order) > 0 {
			again = append(again, sh.order[0])
			if last := sh.order[len(sh.order)-1]; last != sh.order[0] {
				again = append(again, last)
			}
		}
		for _, cid := range again {
			if err := c.send(context.Background(), map[string]any{"type": "message.send", "client_id": cid, "text": sh.texts[cid]}); err != nil {
				ct.errorf("shopper %d: re-send %s: %v", sh.idx, cid, err)
				return
			}
			f, err := c.await(5*time.Second, "ack of "+cid, func(f crashFrame) bool { return f.Type == "ack" && f.ClientID == cid })
			if err != nil {
				ct.errorf("shopper %d: re-sent %s: %v", sh.idx, cid, err)
				return
			}
			if f.Seq != sh.known[cid] || f.convID() != conv {
				ct.errorf("shopper %d: re-sent %s acknowledged as seq %d of %s, first as seq %d of %s", sh.idx, cid, f.Seq, f.convID(), sh.known[cid], conv)
			}
			mu.Lock()
			resent++
			mu.Unlock()
		}
	})

	ct.amu.Lock()
	var again []string
	if n := len(ct.agentOrder); n > 0 {
		again = append(again, ct.agentOrder[0])
		if ct.agentOrder[n-1] != ct.agentOrder[0] {
			again = append(again, ct.agentOrder[n-1])
		}
	}
	ct.amu.Unlock()
	for _, cid := range again {
		ct.amu.Lock()
		k := ct.agentKnown[cid]
		ct.amu.Unlock()
		status, raw, err := ct.api(context.Background(), "POST", "/api/v1/tickets/"+k.conv+"/messages", ct.agentTokens[k.agent],
			map[string]any{"client_id": cid, "text": k.text})
		var out struct {
			Seq uint64 `json:"seq"`
		}
		if err != nil || status != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.Seq != k.seq {
			ct.errorf("agent reply %s re-sent: %d %s %v; want 200 with seq %d", cid, status, raw, err, k.seq)
		}
	}

	// Nothing re-sent was stored again.
	for i, sh := range ct.shoppers {
		if !ok[i] {
			continue
		}
		if n, _ := ct.fetchLog(sh, "after re-sending"); n != lens[i] {
			ct.errorf("shopper %d: the log grew from %d to %d events when acknowledged messages were re-sent", sh.idx, lens[i], n)
		}
		if next := sh.nextSeq(); next != lens[i]+1 {
			ct.errorf("shopper %d: the socket got up to seq %d after re-sending; the log has %d", sh.idx, next-1, lens[i])
		}
	}
	t.Logf("round %d: after the restart, %d conversations verified (%d events in all); unacknowledged but stored: %d shopper messages, %d agent replies; %d sockets resumed; %d shopper and %d agent re-sends deduplicated; %v",
		round, len(ct.shoppers), events, foundPending, agentFound, resumed, resent, len(again), time.Since(start).Round(time.Millisecond))
}
