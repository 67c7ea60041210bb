package transport

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/engine"
)

// Close codes of PROTOCOL §2, and the ones a client answers by resuming.
const (
	closeGoingAway   = websocket.StatusGoingAway               // 1001: server shutting down
	closeBadUTF8     = websocket.StatusInvalidFramePayloadData // 1007
	closePolicy      = websocket.StatusPolicyViolation         // 1008: refused identity, abuse
	closeInternal    = websocket.StatusInternalError           // 1011
	closeRestart     = websocket.StatusServiceRestart          // 1012: subscription lost, resume
	closeTryLater    = websocket.StatusTryAgainLater           // 1013: too slow to keep up
	maxReplayBacklog = 16 << 20                                // bytes queued while a log replays
)

// wsConn is one shopper socket. Its reader runs on the HTTP handler's
// goroutine and handles frames one at a time; its writer is a second
// goroutine that drains a bounded queue with a write timeout. It is the
// actors.Subscriber of every conversation the socket follows.
type wsConn struct {
	s    *Server
	ws   *websocket.Conn
	conn *socketConn // under ws: lets the writer send several frames in one write

	// Written by the reader only (visitor before any subscription exists).
	visitor    engine.Visitor
	helloed    atomic.Bool
	helloTimer *time.Timer   // closes the socket unless a hello comes first
	frameAt    time.Time     // when the frame being handled was read
	posting    chan struct{} // closed when the message.send in flight is answered (postAsync)
	frames     bucket        // every frame (admit)
	messages   bucket        // message.send frames (admitMessage)

	qmu       sync.Mutex
	queue     [][]byte
	queued    int  // bytes in queue
	replaying int  // >0 while a Subscribe call replays a log: no frame limit
	writing   bool // a writer goroutine is draining the queue
	stopped   bool // the socket is closing: no new writer starts
	writer    sync.WaitGroup
	active    sync.WaitGroup // writers and the closer: run waits for them

	mu      sync.Mutex
	subs    map[string]uint64 // conversation → last seq delivered
	current string            // the visitor's open conversation, as this socket last learned it

	peerGone  atomic.Bool // the reader ended on a broken connection, not a close frame
	closeOnce sync.Once
	done      chan struct{} // closed by close
	code      websocket.StatusCode
	reason    string
	flush     bool
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		s.m.wsRefused.WithLabelValues(refusedOrigin).Inc()
		s.log.Info("websocket origin refused", slog.String("origin", r.Header.Get("Origin")))
		s.writeError(w, r, &engine.Error{Code: engine.CodeForbidden, Message: "origin not allowed"})
		return
	}
	if ok, wait := s.upgrades.allow(clientAddr(r), s.cfg.Now()); !ok {
		s.m.wsRefused.WithLabelValues(refusedConnRate).Inc()
		retryAfter(w, wait)
		s.writeError(w, r, errConnRate)
		return
	}
	if s.atCapacity() {
		s.m.wsRefused.WithLabelValues(refusedCapacity).Inc()
		s.writeError(w, r, errCapacity)
		return
	}
	hj := &hijacker{ResponseWriter: w}
	ws, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		OriginPatterns:  s.cfg.AllowedOrigins,
		CompressionMode: websocket.CompressionDisabled, // a deflate context costs tens of KB per socket
	})
	if err != nil {
		s.log.Debug("websocket accept failed", slog.Any("err", err))
		return
	}
	ws.SetReadLimit(s.cfg.MaxFrameBytes)
	c := &wsConn{
		s: s, ws: ws, conn: hj.conn, subs: map[string]uint64{}, done: make(chan struct{}),
	}
	now := s.cfg.Now()
	c.frames = bucket{tokens: float64(s.cfg.RateBurst * frameAllowance), last: now}
	c.messages = bucket{tokens: float64(s.cfg.RateBurst), last: now}
	if !s.addConn(c) {
		s.m.wsRefused.WithLabelValues(refusedUnavailable).Inc()
		_ = ws.Close(closeGoingAway, "server shutting down")
		return
	}
	s.m.wsConnections.Inc()
	// The handler returns at once: net/http's connection state, its
	// buffers and the handler's deep stack are freed, and the socket lives
	// on one small reader goroutine of its own (a writer runs only while
	// there is something to write). The request still holds the wait group
	// above zero here, so adding to it is safe.
	s.wg.Add(1)
	go c.run()
}

// run is the socket's reader goroutine: it reads frames until the socket
// closes, then waits for the writer and lets go of every subscription.
func (c *wsConn) run() {
	defer c.s.wg.Done()
	c.helloTimer = time.AfterFunc(c.s.cfg.HelloTimeout, c.helloTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	c.readLoop(ctx)
	cancel()
	c.helloTimer.Stop()
	c.close(websocket.StatusNormalClosure, "", false)
	c.active.Wait()
	c.unsubscribeAll()
	c.s.removeConn(c)
	c.s.m.wsConnections.Dec()
}

// originAllowed applies coder/websocket's origin rule before the upgrade,
// so that a refusal is counted and answered as a JSON 403.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(r.Host, u.Host) {
		return true
	}
	for _, p := range s.cfg.AllowedOrigins {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}

var errCapacity = engine.Errorf(engine.CodeUnavailable, "too many connections; try again later")

// atCapacity reports whether another socket would pass MaxConnections. The
// check is before the upgrade, so a refusal is a plain 503 the client can
// read; sockets already open are never touched.
func (s *Server) atCapacity() bool {
	if s.cfg.MaxConnections <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns) >= s.cfg.MaxConnections
}

func (s *Server) addConn(c *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) removeConn(c *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if set := s.byProfile[c.visitor.ProfileID]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(s.byProfile, c.visitor.ProfileID)
		}
	}
}

// addVisitor records a logged-in socket, so that a chat started from one tab
// reaches the visitor's other tabs too.
func (s *Server) addVisitor(c *wsConn) {
	if !c.visitor.LoggedIn() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.byProfile[c.visitor.ProfileID]
	if set == nil {
		set = map[*wsConn]struct{}{}
		s.byProfile[c.visitor.ProfileID] = set
	}
	set[c] = struct{}{}
}

func (s *Server) visitorConns(profileID string) []*wsConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*wsConn, 0, len(s.byProfile[profileID]))
	for c := range s.byProfile[profileID] {
		out = append(out, c)
	}
	return out
}

// readLoop reads frames until the socket closes.
func (c *wsConn) readLoop(ctx context.Context) {
	for {
		buf := framePool.Get().(*bytes.Buffer)
		typ, data, err := c.readFrame(buf)
		c.frameAt = time.Now()
		text := err == nil && typ == websocket.MessageText
		valid := text && utf8.Valid(data)
		c.awaitPost() // the frame before this one has taken effect
		if valid && c.admit(data) && !c.postAsync(data) {
			c.handle(ctx, data) // frames decode into fresh values: nothing keeps data
		}
		buf.Reset()
		framePool.Put(buf) // data is not to be touched from here on
		switch {
		case err != nil:
			if errors.Is(err, websocket.ErrMessageTooBig) {
				c.s.m.wsRefused.WithLabelValues(refusedTooBig).Inc()
			} else if websocket.CloseStatus(err) == -1 {
				c.peerGone.Store(true) // no close frame: the connection broke
			}
			return
		case !text:
			c.sendErr(engine.Errorf(engine.CodeInvalid, "frames must be JSON text frames"), "")
		case !valid:
			c.s.m.wsRefused.WithLabelValues(refusedUTF8).Inc()
			c.close(closeBadUTF8, "invalid UTF-8", true)
		}
		if c.isDone() {
			return
		}
	}
}

// framePool holds read buffers: a frame is read into one, handled to the end,
// and the buffer goes back, so neither reading allocates per frame nor does an
// idle socket keep a buffer.
var framePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readFrame reads one message into buf; the frame size limit is coder/websocket's.
func (c *wsConn) readFrame(buf *bytes.Buffer) (websocket.MessageType, []byte, error) {
	typ, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return 0, nil, err
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return 0, nil, err
	}
	return typ, buf.Bytes(), nil
}

// handle runs one frame to completion on a short-lived goroutine. Frames
// still run one at a time, in order; but the deep stack a frame needs
// (decoding, actor requests) goes away with it instead of staying with the
// reader, which then waits for the next frame on a small stack.
func (c *wsConn) handle(ctx context.Context, data []byte) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.receive(ctx, data)
	}()
	<-done
}

// frameAllowance is how many times the message allowance (RateLimit,
// RateBurst) a socket may send in frames of every kind together.
const frameAllowance = 5

// admit applies the frame allowance to every frame; a message.send also
// takes from the message allowance where it is handled (admitMessage), so
// that the frames around a chat (hello, chat.start, typing, read) never use
// up the messages a person typing fast may send. A refused message.send
// echoes its client_id, as every refusal of one does.
func (c *wsConn) admit(data []byte) bool {
	cfg := &c.s.cfg
	ok, closed := c.limit(&c.frames, cfg.RateLimit*frameAllowance, cfg.RateBurst*frameAllowance)
	if !ok && !closed {
		c.sendErr(errRateLimited, clientIDOf(data))
	}
	return ok
}

// admitMessage applies the message allowance to a message.send.
func (c *wsConn) admitMessage(clientID string) bool {
	cfg := &c.s.cfg
	ok, closed := c.limit(&c.messages, cfg.RateLimit, cfg.RateBurst)
	if !ok && !closed {
		c.sendErr(errRateLimited, clientID)
	}
	return ok
}

// limit takes a token from b; a socket refused more than a burst in a row
// is closed with 1008.
func (c *wsConn) limit(b *bucket, rate float64, burst int) (ok, closed bool) {
	if b.take(c.s.cfg.Now(), rate, float64(burst)) {
		return true, false
	}
	if b.refused > burst {
		c.s.m.wsRefused.WithLabelValues(refusedAbuse).Inc()
		c.close(closePolicy, "rate limit exceeded", true)
		return false, true
	}
	return false, false
}

func (c *wsConn) helloTimeout() {
	if !c.helloed.Load() {
		c.s.m.wsRefused.WithLabelValues(refusedHello).Inc()
		c.close(closePolicy, "no hello", true)
	}
}

// close ends the socket with code. With flush, frames already queued (an
// error frame explaining the close) are written first. Only the first call
// counts; it never blocks.
func (c *wsConn) close(code websocket.StatusCode, reason string, flush bool) {
	c.closeOnce.Do(func() {
		c.code, c.reason, c.flush = code, reason, flush
		close(c.done)
		// The first close happens while run is alive and before it waits
		// for active, so this Add never races that Wait. Taking qmu for it
		// also orders before that Wait every writer an earlier send started
		// (from an actor, say, that run never hears from): sync.WaitGroup
		// wants an Add from zero to happen before the Wait. Later sends
		// find the counter above zero until finish has stopped them all.
		c.qmu.Lock()
		c.active.Add(1)
		c.qmu.Unlock()
		go c.finish()
	})
}

// finish waits for the writer, writes what is queued when the close asked
// for it, and closes the socket (which also ends the reader's Read).
func (c *wsConn) finish() {
	defer c.active.Done()
	c.qmu.Lock()
	c.stopped = true
	c.qmu.Unlock()
	c.writer.Wait()
	if c.flush {
		for b := c.pop(); b != nil; b = c.pop() {
			if c.write(b) != nil {
				break
			}
		}
	}
	if c.code == closeTryLater || c.code == closeInternal || c.peerGone.Load() {
		// The client is not reading, or its connection is gone: a close
		// handshake would only wait for it (or write into a dead socket,
		// which, when ten thousand drop at once, is CPU the reconnecting
		// ones need). Drop the connection at once.
		_ = c.ws.CloseNow()
		return
	}
	_ = c.ws.Close(c.code, c.reason)
}

func (c *wsConn) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// send queues one frame without blocking, and starts a writer if none is
// running. A socket whose queue is full is too slow for its conversation: it
// is closed, and the client resumes.
func (c *wsConn) send(b []byte) bool {
	c.qmu.Lock()
	if c.stopped || c.isDone() {
		c.qmu.Unlock()
		return false
	}
	full := len(c.queue) >= c.s.cfg.SendQueue && (c.replaying == 0 || c.queued+len(b) > maxReplayBacklog)
	start := false
	if !full {
		c.queue = append(c.queue, b)
		c.queued += len(b)
		if !c.writing {
			c.writing, start = true, true
			c.writer.Add(1)
			c.active.Add(1)
		}
	}
	c.qmu.Unlock()
	if full {
		c.s.m.wsRefused.WithLabelValues(refusedSlow).Inc()
		c.close(closeTryLater, "too slow", false)
		return false
	}
	if start {
		go c.writeLoop()
	}
	return true
}

func (c *wsConn) pop() []byte {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.popLocked()
}

func (c *wsConn) popLocked() []byte {
	if len(c.queue) == 0 {
		c.queue = nil // let an idle socket hold no backlog array
		return nil
	}
	b := c.queue[0]
	c.queue[0] = nil
	c.queue = c.queue[1:]
	c.queued -= len(b)
	return b
}

// take hands the writer every queued frame, or nil when there is none or the
// socket is closing; then the writer is marked gone under the same lock, so a
// frame queued later starts a new one.
func (c *wsConn) take() [][]byte {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.isDone() || len(c.queue) == 0 {
		c.writing = false
		return nil
	}
	batch := c.queue
	c.queue, c.queued = nil, 0
	return batch
}

// writeLoop drains the queue and exits: an idle socket holds no writer
// goroutine. Frames queued together (an echo and its ack, a burst of agent
// messages) leave in one system call. The closer, not the writer, writes the
// last frames of a close.
func (c *wsConn) writeLoop() {
	defer c.active.Done()
	defer c.writer.Done()
	for batch := c.take(); batch != nil; batch = c.take() {
		c.conn.cork()
		var err error
		for _, b := range batch {
			if err = c.writeCorked(b); err != nil {
				break
			}
		}
		if e := c.conn.uncork(c.s.cfg.WriteTimeout); err == nil {
			err = e
		}
		if err != nil {
			c.s.m.wsRefused.WithLabelValues(refusedWrite).Inc()
			c.close(closeInternal, "", false)
		}
	}
}

// write writes one frame within the write timeout.
func (c *wsConn) write(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// writeCorked writes one frame into the corked connection: it reaches only a
// buffer, never the network, so it needs no timeout (uncork has one).
func (c *wsConn) writeCorked(b []byte) error {
	return c.ws.Write(context.Background(), websocket.MessageText, b)
}

// bucket is a token bucket: rate tokens a second, at most burst.
type bucket struct {
	tokens  float64
	last    time.Time
	refused int // frames refused in a row
}

func (b *bucket) take(now time.Time, rate, burst float64) bool {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(burst, b.tokens+d.Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		b.refused = 0
		return true
	}
	b.refused++
	return false
}
