package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/transport/wsclient"
)

// This file puts a faulty network between the clients and the server (S12):
// an in-process TCP proxy delays every chunk, and cuts, resets or cuts in the
// middle of a frame the connections it carries. Shoppers on WebSockets and
// agents on the API keep working through it, reconnecting, resuming and
// re-sending; afterwards the logs, read directly from the server, must hold
// every acknowledged message exactly once at its acknowledged seq, and each
// shopper's sockets together must have delivered every event exactly once,
// in order.
//
// The seed fixes each connection's fate (its fault, the chunk or moment it
// strikes, every delay) by the order the proxy accepted it in; the order the
// goroutines run in is the scheduler's, so a replay is close, not exact.
//
//	PARLEY_FAULT_SEED=n   replay the fault plans of a logged run

const (
	faultShoppers  = 8
	faultAgents    = 2
	faultRunFor    = 4 * time.Second
	faultEnoughAck = 30              // acks per shopper that end the run early
	faultStall     = 5 * time.Second // a live socket silent this long while a frame is due is a failure
	faultGiveUp    = 8 * time.Second // after the run, a shopper still waiting for an ack gives up
)

// faultKind is what the proxy does to a connection.
type faultKind int

const (
	faultNone    faultKind = iota
	faultCut               // close both sides
	faultReset             // SetLinger(0), then close both sides: the peers see ECONNRESET
	faultPartial           // forward part of a chunk, then cut or reset
)

// faultPlan is the fate of one connection, drawn when it is accepted.
type faultPlan struct {
	kind    faultKind
	atChunk int           // strike when this chunk (counting both directions) arrives, or
	after   time.Duration // strike after this long, when > 0 (cuts and resets only)
	reset   bool          // a partial chunk is followed by a reset rather than a cut
}

// faultPlanFor draws a plan. Every connection meets its fault sooner or
// later: one that never did would carry an agent's keep-alive requests
// through the whole run unharmed.
func faultPlanFor(rng *rand.Rand) faultPlan {
	p := faultPlan{atChunk: 1 + rng.IntN(40)}
	switch r := rng.IntN(100); {
	case r < 35:
		p.kind = faultCut
	case r < 65:
		p.kind = faultReset
	default:
		p.kind = faultPartial
		p.reset = rng.IntN(2) == 0
	}
	if (p.kind == faultCut || p.kind == faultReset) && rng.IntN(3) == 0 {
		p.after = time.Duration(20+rng.IntN(600)) * time.Millisecond
	}
	return p
}

// faultProxy forwards 127.0.0.1:0 to target, faultily. Connection number n
// draws its plan and its delays from PCG sources seeded with (seed, n), so a
// seed fixes the fate of every connection by the order it was accepted in.
// Every goroutine it starts is in wg, and close waits for them all.
type faultProxy struct {
	ln     net.Listener
	target string
	seed   uint64
	calm   atomic.Bool // no more faults (delays go on)

	wg     sync.WaitGroup
	mu     sync.Mutex
	links  map[*faultLink]struct{}
	closed bool
	next   uint64

	conns, cuts, resets, partials, delayed atomic.Int64
}

type faultLink struct {
	p              *faultProxy
	client, server *net.TCPConn
	plan           faultPlan

	mu     sync.Mutex
	chunks int

	once sync.Once
	done chan struct{}
}

func faultListen(t *testing.T, target string, seed uint64) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, seed: seed, links: map[*faultLink]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		n := p.next
		p.next++
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(n, c.(*net.TCPConn))
	}
}

func (p *faultProxy) serve(n uint64, client *net.TCPConn) {
	defer p.wg.Done()
	c, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	l := &faultLink{p: p, client: client, server: c.(*net.TCPConn), done: make(chan struct{}),
		plan: faultPlanFor(rand.New(rand.NewPCG(p.seed, n<<2)))}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.close(faultNone, false)
		return
	}
	p.links[l] = struct{}{}
	p.mu.Unlock()
	p.conns.Add(1)

	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() { defer pipes.Done(); l.pipe(l.client, l.server, rand.New(rand.NewPCG(p.seed, n<<2|1))) }()
	go func() { defer pipes.Done(); l.pipe(l.server, l.client, rand.New(rand.NewPCG(p.seed, n<<2|2))) }()
	if l.plan.after > 0 {
		timer := time.NewTimer(l.plan.after)
		select {
		case <-timer.C:
			if !p.calm.Load() {
				l.close(l.plan.kind, l.plan.kind == faultReset)
			}
		case <-l.done:
		}
		timer.Stop()
	}
	pipes.Wait()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// pipe forwards src to dst chunk by chunk, each after a delay of 0–20 ms,
// until the link closes or its plan strikes.
func (l *faultLink) pipe(src, dst *net.TCPConn, rng *rand.Rand) {
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Duration(rng.IntN(21)) * time.Millisecond; d > 0 {
				l.p.delayed.Add(1)
				timer := time.NewTimer(d)
				select {
				case <-timer.C:
				case <-l.done:
					timer.Stop()
					return
				}
			}
			switch kind := l.due(); {
			case kind == faultPartial && n >= 2:
				_, _ = dst.Write(buf[:1+rng.IntN(n-1)])
				l.close(faultPartial, l.plan.reset)
				return
			case kind == faultPartial: // one byte cannot be split: a plain cut
				l.close(faultCut, false)
				return
			case kind != faultNone:
				l.close(kind, kind == faultReset)
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				l.close(faultNone, false)
				return
			}
		}
		if err != nil {
			l.close(faultNone, false)
			return
		}
	}
}

// due counts a chunk and says whether the plan strikes at it.
func (l *faultLink) due() faultKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chunks++
	if l.plan.after > 0 || l.chunks != l.plan.atChunk || l.p.calm.Load() {
		return faultNone
	}
	return l.plan.kind
}

// close closes both sides, with reset abortively; only the first close of a
// link counts, as kind.
func (l *faultLink) close(kind faultKind, reset bool) {
	l.once.Do(func() {
		if reset {
			_ = l.client.SetLinger(0)
			_ = l.server.SetLinger(0)
		}
		_ = l.client.Close()
		_ = l.server.Close()
		close(l.done)
		switch kind {
		case faultCut:
			l.p.cuts.Add(1)
		case faultReset:
			l.p.resets.Add(1)
		case faultPartial:
			l.p.partials.Add(1)
		}
	})
}

func (p *faultProxy) close() {
	p.mu.Lock()
	p.closed = true
	links := make([]*faultLink, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, l := range links {
		l.close(faultNone, false)
	}
	p.wg.Wait()
}

// faultSeed is PARLEY_FAULT_SEED, or a fresh seed.
func faultSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PARLEY_FAULT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("PARLEY_FAULT_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (PARLEY_FAULT_SEED=%d replays the fault plans)", seed, seed)
	return seed
}

// faultRun is what the shoppers and agents of one run share.
type faultRun struct {
	t      *testing.T
	proxy  *faultProxy
	seed   uint64
	stop   chan struct{}
	giveUp time.Time      // shoppers stop trying then, done or not
	idle   sync.WaitGroup // shoppers with nothing left to send
	wsHTTP *http.Client   // shoppers dial through the proxy with it

	mu      sync.Mutex
	tickets []string // conversations that are tickets (a shopper message was acked)
}

func (r *faultRun) stopping() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

func (r *faultRun) addTicket(conv string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tickets = append(r.tickets, conv)
}

func (r *faultRun) ticketList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tickets...)
}

// faultEvent is the part of an event the test compares.
type faultEvent struct {
	seq                        uint64
	kind, from, clientID, text string
}

func faultEventOf(seq uint64, ev frame) faultEvent {
	s := func(k string) string { v, _ := ev[k].(string); return v }
	return faultEvent{seq: seq, kind: s("kind"), from: s("from"), clientID: s("client_id"), text: s("text")}
}

// faultShopper is one shopper's client. It runs on one goroutine, one socket
// at a time, and keeps what every socket delivered, without deduplicating.
type faultShopper struct {
	r   *faultRun
	i   int
	tok string

	conv      string
	last      uint64
	got       []faultEvent      // every event delivered, across sockets, in order
	texts     map[string]string // client_id → text of every message made
	sends     map[string]int    // client_id → times sent
	acks      map[string]uint64 // client_id → seq of its ack
	echoes    map[string]uint64 // client_id → seq of its echo as delivered
	pending   string            // the message waiting for its ack
	sentHere  bool              // pending was sent on the current socket
	startHere bool              // chat.start was sent on the current socket

	helloLast uint64 // the log's last seq when the current socket said hello

	nacks     atomic.Int64 // read by the test while the shopper runs
	target    chan uint64  // the log's end, once the run settles
	sockets   int
	resent    int // message.send repeated with the same client_id
	resentDup int // ... of which the first had been stored: acked again, not stored
	restarted int
	failures  int
}

func (s *faultShopper) fail(format string, args ...any) {
	s.failures++
	if s.failures <= 10 {
		s.r.t.Errorf("shopper %d: %s", s.i, fmt.Sprintf(format, args...))
	}
}

func (s *faultShopper) run() {
	for !s.finished() && time.Now().Before(s.r.giveUp) {
		if !s.session(0) {
			time.Sleep(time.Millisecond)
		}
	}
	if s.pending != "" {
		s.fail("gave up on %s after %d sockets", s.pending, s.sockets)
	}
	s.r.idle.Done()
	// Settle: the network is calm and nothing is written any more; the
	// shopper resumes once more and must get every event up to the end.
	until := <-s.target
	for tries := 0; s.last < until; tries++ {
		if tries == 2 {
			s.fail("on a calm network, events %d..%d never came", s.last+1, until)
			return
		}
		s.session(until)
	}
}

// finished says the shopper may stop: the run stops, no message waits for
// its ack, and one was acked at least (its conversation is a ticket).
func (s *faultShopper) finished() bool {
	return s.r.stopping() && s.pending == "" && len(s.acks) > 0
}

// session runs one socket through the proxy until it dies or there is nothing
// more to do on it: with until > 0, once every event up to until came;
// otherwise once the run stops and no message waits for its ack.
func (s *faultShopper) session(until uint64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	ws, err := wsclient.Dial(ctx, "ws://"+s.r.proxy.addr()+"/ws", &wsclient.Options{HTTPClient: s.r.wsHTTP})
	cancel()
	if err != nil {
		return false
	}
	defer ws.Close()
	s.sockets++
	s.sentHere, s.startHere = false, false
	hello := frame{"type": "hello", "token": s.tok}
	if s.conv != "" {
		hello["resume"] = frame{"conversation": s.conv, "after": s.last}
	}
	if !s.write(ws, hello) {
		return false
	}
	w, ok := s.read(ws, until)
	if !ok {
		return false
	}
	if w["type"] != "welcome" {
		s.fail("first frame %v, want welcome", w)
		return false
	}
	s.helloLast = 0
	if open, _ := w["conversation"].(frame); open != nil {
		s.helloLast = num(open["last_seq"])
	}
	if s.conv == "" {
		if open, _ := w["conversation"].(frame); open != nil {
			// Started from a socket that died before it said so: this
			// socket follows it only from its last seq, so resume from 0.
			s.conv, _ = open["id"].(string)
			return false
		}
		if !s.write(ws, frame{"type": "chat.start"}) {
			return false
		}
		s.startHere = true
	}
	for {
		if until > 0 && s.last >= until {
			return true
		}
		if until == 0 && s.conv != "" && s.last > 0 {
			if s.pending == "" {
				if s.finished() {
					return true
				}
				n := len(s.texts)
				s.pending = fmt.Sprintf("s%d-m%03d", s.i, n)
				s.texts[s.pending] = fmt.Sprintf("shopper %d, message %d", s.i, n)
				s.sentHere = false
			}
			if !s.sentHere {
				if !s.write(ws, frame{"type": "message.send", "client_id": s.pending, "text": s.texts[s.pending]}) {
					return false
				}
				s.sentHere = true
				if s.sends[s.pending]++; s.sends[s.pending] > 1 {
					s.resent++
				}
			}
		}
		f, ok := s.read(ws, until)
		if !ok {
			return false
		}
		s.handle(f)
	}
}

func (s *faultShopper) write(ws *wsclient.Conn, f frame) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return ws.Send(ctx, f) == nil
}

// read reads one frame; false when the socket died. A live socket that says
// nothing for faultStall while a frame is due has lost it.
func (s *faultShopper) read(ws *wsclient.Conn, until uint64) (frame, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), faultStall)
	typ, b, err := ws.ReadMessage(ctx)
	expired := ctx.Err() == context.DeadlineExceeded
	cancel()
	if err != nil {
		if expired {
			s.fail("socket %d silent for %v (pending %q, last seq %d, until %d)", s.sockets, faultStall, s.pending, s.last, until)
		}
		return nil, false
	}
	var f frame
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		// coder/websocket (v1.8.15) hands out a frame cut short by the
		// connection's end, when the cut falls before a read of its payload,
		// as a whole message (msgReader.Read takes any io.EOF for the
		// message's end). Such a socket is dead: its next read fails. A frame
		// that is not JSON on a socket that lives on is the server's fault.
		ctx, cancel := context.WithTimeout(context.Background(), faultStall)
		_, _, next := ws.ReadMessage(ctx)
		cancel()
		if next == nil {
			s.fail("non-JSON frame %q (%v) on a live socket: %v", b, typ, err)
		}
		return nil, false
	}
	return f, true
}

func (s *faultShopper) handle(f frame) {
	switch f["type"] {
	case "event":
		seq := num(f["seq"])
		conv, _ := f["conversation"].(string)
		ev, _ := f["event"].(frame)
		e := faultEventOf(seq, ev)
		if s.conv == "" {
			s.conv = conv
		} else if conv != s.conv {
			s.fail("event of conversation %s, want %s", conv, s.conv)
			return
		}
		if seq == 1 && e.kind == "started" && s.startHere && len(s.got) == 1 && s.got[0] == e {
			// §2: chat.start while the conversation is open re-sends its
			// started event. That happens when the socket was made to
			// follow the chat by the dying socket's chat.start first.
			s.restarted++
			return
		}
		s.got = append(s.got, e)
		if seq != s.last+1 {
			s.fail("socket %d delivered seq %d after %d", s.sockets, seq, s.last)
		}
		s.last = max(s.last, seq)
		if e.kind == "message" && e.from == "shopper" {
			if _, ok := s.echoes[e.clientID]; !ok {
				s.echoes[e.clientID] = seq
			}
			if a, ok := s.acks[e.clientID]; ok && a != seq {
				s.fail("%s was acked at seq %d, its echo came at %d", e.clientID, a, seq)
			}
		}
	case "ack":
		cid, _ := f["client_id"].(string)
		seq := num(f["seq"])
		switch {
		case cid != s.pending:
			s.fail("ack %v while waiting for %q", f, s.pending)
			return
		case f["conversation"] != s.conv:
			s.fail("ack %v, want conversation %s", f, s.conv)
		}
		if e, ok := s.echoes[cid]; ok && e != seq {
			s.fail("ack of %s says seq %d, its echo came at %d (sent %d times)", cid, seq, e, s.sends[cid])
		}
		if s.sends[cid] > 1 && seq <= s.helloLast {
			s.resentDup++ // stored before this socket: the ack of a duplicate
		}
		s.acks[cid] = seq
		s.pending = ""
		if s.nacks.Add(1) == 1 {
			s.r.addTicket(s.conv)
		}
	case "error":
		s.fail("error frame %v", f)
	default:
		s.fail("unexpected frame %v", f)
	}
}

// faultPost is an agent reply as its answer acknowledged it.
type faultPost struct {
	conv, text string
	seq        uint64
}

// faultAgent posts replies through the proxy and re-posts the same client_id
// after a connection error.
type faultAgent struct {
	r      *faultRun
	j      int
	client *http.Client
	posts  map[string]faultPost

	tries, retries, repeats int
}

func (a *faultAgent) fail(format string, args ...any) {
	a.r.t.Errorf("agent %d: %s", a.j, fmt.Sprintf(format, args...))
}

func (a *faultAgent) run() {
	rng := rand.New(rand.NewPCG(a.r.seed, 1<<40|uint64(a.j)))
	for n := 0; !a.r.stopping(); {
		tickets := a.r.ticketList()
		if len(tickets) == 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		conv := tickets[rng.IntN(len(tickets))]
		cid := fmt.Sprintf("a%d-r%03d", a.j, n)
		text := fmt.Sprintf("agent %d, reply %d", a.j, n)
		n++
		seq, ok := a.post(conv, cid, text)
		if !ok {
			return
		}
		a.posts[cid] = faultPost{conv: conv, text: text, seq: seq}
		time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond)
	}
}

// post posts one reply until an answer comes: 201 the first time it is
// stored, 200 with the original seq when an attempt whose answer was lost
// had stored it.
func (a *faultAgent) post(conv, cid, text string) (uint64, bool) {
	body, _ := json.Marshal(map[string]string{"client_id": cid, "text": text})
	for attempt := 0; attempt < 200; attempt++ {
		a.tries++
		status, seq, err := a.try(conv, body)
		if err != nil {
			a.retries++
			time.Sleep(time.Millisecond)
			continue
		}
		switch status {
		case http.StatusCreated:
			return seq, true
		case http.StatusOK:
			if attempt == 0 {
				a.fail("the first post of %s answered 200", cid)
			}
			a.repeats++
			return seq, true
		default:
			a.fail("post %s to %s: status %d", cid, conv, status)
			return 0, false
		}
	}
	a.fail("post %s never got an answer", cid)
	return 0, false
}

func (a *faultAgent) try(conv string, body []byte) (int, uint64, error) {
	req, err := http.NewRequest("POST", "http://"+a.r.proxy.addr()+"/api/v1/tickets/"+conv+"/messages", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	var out struct {
		Seq uint64 `json:"seq"`
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, &out); err != nil || out.Seq == 0 {
			return 0, 0, fmt.Errorf("answer %q: %v", raw, err)
		}
	}
	return resp.StatusCode, out.Seq, nil
}

// faultLog reads a conversation's log directly from the server.
func faultLog(h *harness, conv string) ([]faultEvent, error) {
	req, _ := http.NewRequest("GET", h.ts.URL+"/api/v1/tickets/"+conv, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET ticket %s: %d %s", conv, resp.StatusCode, raw)
	}
	var body struct {
		Events []struct {
			Seq   uint64 `json:"seq"`
			Event frame  `json:"event"`
		} `json:"events"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, err
	}
	out := make([]faultEvent, 0, len(body.Events))
	for _, e := range body.Events {
		out = append(out, faultEventOf(e.Seq, e.Event))
	}
	return out, nil
}

// Every acknowledged message survives delayed, cut and reset connections
// exactly once at its acknowledged seq, and a shopper who reconnects and
// resumes gets exactly the events it missed (S12).
func TestNetworkFaultsLoseNothing(t *testing.T) {
	began := time.Now()
	seed := faultSeed(t)
	h := start(t, Config{RateLimit: 1000, RateBurst: 2000})
	p := faultListen(t, strings.TrimPrefix(h.ts.URL, "http://"), seed)
	wsTransport := &http.Transport{}
	r := &faultRun{t: t, proxy: p, seed: seed, stop: make(chan struct{}), giveUp: began.Add(faultRunFor + faultGiveUp),
		wsHTTP: &http.Client{Transport: wsTransport}}

	shoppers := make([]*faultShopper, faultShoppers)
	var running sync.WaitGroup
	r.idle.Add(len(shoppers))
	for i := range shoppers {
		s := &faultShopper{
			r: r, i: i, tok: token(t, fmt.Sprintf("p-fault-%d", i), fmt.Sprintf("Shopper %d", i)),
			texts: map[string]string{}, sends: map[string]int{}, acks: map[string]uint64{},
			echoes: map[string]uint64{}, target: make(chan uint64, 1),
		}
		shoppers[i] = s
		running.Add(1)
		go func() { defer running.Done(); s.run() }()
	}
	agents := make([]*faultAgent, faultAgents)
	var posting sync.WaitGroup
	for j := range agents {
		a := &faultAgent{r: r, j: j, posts: map[string]faultPost{},
			client: &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}}
		agents[j] = a
		posting.Add(1)
		go func() { defer posting.Done(); a.run() }()
	}

	// Run until every shopper has enough acks, or for faultRunFor.
	deadline := time.NewTimer(faultRunFor)
	tick := time.NewTicker(20 * time.Millisecond)
wait:
	for {
		select {
		case <-deadline.C:
			break wait
		case <-tick.C:
			enough := true
			for _, s := range shoppers {
				enough = enough && s.nacks.Load() >= faultEnoughAck
			}
			if enough {
				break wait
			}
		}
	}
	deadline.Stop()
	tick.Stop()
	ran := time.Since(began)
	close(r.stop)
	posting.Wait()
	r.idle.Wait()

	// Settle: nothing is written any more; on a calm network, each shopper
	// resumes once more and must get every event up to its log's end.
	p.calm.Store(true)
	for _, s := range shoppers {
		var until uint64
		if s.conv != "" {
			log, err := faultLog(h, s.conv)
			if err != nil {
				t.Errorf("shopper %d: %v", s.i, err)
			}
			until = uint64(len(log))
		}
		s.target <- until
	}
	running.Wait()
	p.close()
	wsTransport.CloseIdleConnections()
	for _, a := range agents {
		a.client.CloseIdleConnections()
	}

	// The logs, read directly from the server.
	var acked int
	for _, s := range shoppers {
		acked += len(s.acks)
		if s.conv == "" {
			t.Errorf("shopper %d never started a chat", s.i)
			continue
		}
		log, err := faultLog(h, s.conv)
		if err != nil {
			t.Fatalf("shopper %d: %v", s.i, err)
		}
		stored := map[string][]uint64{}
		for k, e := range log {
			if e.seq != uint64(k+1) {
				t.Errorf("shopper %d: log entry %d has seq %d: seqs must run 1..%d", s.i, k, e.seq, len(log))
			}
			if e.kind == "message" {
				stored[e.clientID] = append(stored[e.clientID], e.seq)
			}
		}
		at := func(seq uint64) faultEvent {
			if seq == 0 || seq > uint64(len(log)) {
				return faultEvent{}
			}
			return log[seq-1]
		}
		for cid, seqs := range stored {
			if len(seqs) > 1 {
				t.Errorf("shopper %d: client_id %s stored %d times, at seqs %v", s.i, cid, len(seqs), seqs)
			}
		}
		// Every message the shopper made was acked at the seq it is stored at.
		for cid, seq := range s.acks {
			want := faultEvent{seq: seq, kind: "message", from: "shopper", clientID: cid, text: s.texts[cid]}
			if got := at(seq); got != want {
				t.Errorf("shopper %d: %s acked at seq %d, which holds %+v", s.i, cid, seq, got)
			}
		}
		// Every agent reply to this conversation, likewise.
		replies := 0
		for _, a := range agents {
			for cid, post := range a.posts {
				if post.conv != s.conv {
					continue
				}
				replies++
				want := faultEvent{seq: post.seq, kind: "message", from: "agent", clientID: cid, text: post.text}
				if got := at(post.seq); got != want {
					t.Errorf("shopper %d: agent %d's %s answered seq %d, which holds %+v", s.i, a.j, cid, post.seq, got)
				}
			}
		}
		// Nothing is stored that nobody was told about.
		messages := 0
		for _, e := range log {
			if e.kind == "message" {
				messages++
			}
		}
		if messages != len(s.acks)+replies {
			t.Errorf("shopper %d: the log holds %d messages; %d shopper messages and %d agent replies were acknowledged",
				s.i, messages, len(s.acks), replies)
		}
		// Across all its sockets, the shopper got every event exactly once, in order.
		if len(s.got) != len(log) {
			t.Errorf("shopper %d: its sockets delivered %d events, the log holds %d", s.i, len(s.got), len(log))
		}
		for k, g := range s.got {
			if g != at(uint64(k+1)) {
				t.Errorf("shopper %d: delivered event %d is %+v, the log's is %+v", s.i, k+1, g, at(uint64(k+1)))
				break
			}
		}
	}

	var sockets, resent, resentDup, restarted int
	for _, s := range shoppers {
		sockets += s.sockets
		resent += s.resent
		resentDup += s.resentDup
		restarted += s.restarted
	}
	var replies, tries, retries, repeats int
	for _, a := range agents {
		replies += len(a.posts)
		tries += a.tries
		retries += a.retries
		repeats += a.repeats
	}
	t.Logf("ran %v (%v in all): %d proxied connections, %d cuts, %d resets, %d partial frames, %d delayed chunks",
		ran.Round(time.Millisecond), time.Since(began).Round(time.Millisecond),
		p.conns.Load(), p.cuts.Load(), p.resets.Load(), p.partials.Load(), p.delayed.Load())
	t.Logf("shoppers: %d acks over %d sockets; %d re-sends, %d of them already stored (acked again); %d started re-sent on chat.start",
		acked, sockets, resent, resentDup, restarted)
	t.Logf("agents: %d replies in %d posts; %d connection errors, %d answered 200 (already stored)",
		replies, tries, retries, repeats)
	if p.cuts.Load() == 0 || p.resets.Load() == 0 || p.partials.Load() == 0 {
		t.Errorf("not every fault happened: %d cuts, %d resets, %d partial frames", p.cuts.Load(), p.resets.Load(), p.partials.Load())
	}
	if resent == 0 || retries == 0 {
		t.Errorf("no message was re-sent (%d shopper re-sends, %d agent re-posts): the faults never hit a message in flight", resent, retries)
	}
}
