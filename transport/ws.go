package transport

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	maxReplayBacklog = 4 << 20                                 // bytes a socket may hold while a log replays: a page and then some
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
	pingTimer  *time.Timer   // pings the peer now and then (ping); guarded by mu
	frameAt    time.Time     // when the frame being handled was read
	posting    chan struct{} // closed when the message.send in flight is answered (postAsync)
	frames     bucket        // every frame (admit)
	typedAt    time.Time     // when a typing indicator was last passed on
	messages   bucket        // message.send frames (admitMessage)

	qmu       sync.Mutex
	queue     [][]byte
	queued    int           // bytes queued or being written
	drained   chan struct{} // closed when queued drops to 0 (awaitDrained)
	replaying int           // >0 while a Subscribe call replays a log: no frame limit
	writing   bool          // a writer goroutine is draining the queue
	stopped   bool          // the socket is closing: no new writer starts
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
	who := s.proxies.client(r)
	if !s.originAllowed(r, who.host) {
		s.m.wsRefused.WithLabelValues(refusedOrigin).Inc()
		s.log.Info("websocket origin refused", slog.String("origin", r.Header.Get("Origin")), slog.Any("client", who))
		s.writeError(w, r, errOrigin)
		return
	}
	if ok, wait := s.upgrades.allow(who.key(r), s.cfg.Now()); !ok {
		s.m.wsRefused.WithLabelValues(refusedConnRate).Inc()
		retryAfter(w, wait)
		s.writeError(w, r, errConnRate)
		return
	}
	if err := s.reserveConn(); err != nil {
		reason := refusedCapacity
		if err == errUnavailable {
			reason = refusedUnavailable
		}
		s.m.wsRefused.WithLabelValues(reason).Inc()
		s.writeError(w, r, err)
		return
	}
	hj := &hijacker{ResponseWriter: w}
	ws, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		// originAllowed above applied Accept's own rule, with the host the
		// client asked for where Accept would see only r.Host, which a
		// proxy may have rewritten: checking again would refuse what it let
		// through.
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled, // a deflate context costs tens of KB per socket
	})
	if err != nil {
		s.releaseConn()
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
	defer c.recoverSocket("close")
	c.helloTimer = time.AfterFunc(c.s.cfg.HelloTimeout, c.helloTimeout)
	c.mu.Lock()
	c.pingTimer = time.AfterFunc(c.s.cfg.PingInterval, c.ping)
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	func() {
		defer c.recoverSocket("read")
		c.readLoop(ctx)
	}()
	cancel()
	c.helloTimer.Stop()
	c.mu.Lock()
	c.pingTimer.Stop()
	c.mu.Unlock()
	c.close(websocket.StatusNormalClosure, "", false)
	c.active.Wait()
	c.unsubscribeAll()
	c.s.removeConn(c)
	c.s.m.wsConnections.Dec()
}

// originAllowed applies coder/websocket's origin rule before the upgrade,
// so that a refusal is counted and answered as a JSON 403: no Origin (not
// a browser), the request's own host, or one of the allowed origins. host
// is the Host the client asked for (clientInfo), which is r.Host unless a
// trusted proxy says otherwise; like coder/websocket, it is compared with
// the origin's host alone, whatever the scheme.
func (s *Server) originAllowed(r *http.Request, host string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(host, u.Host) {
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
	defer func() {
		if r := recover(); r != nil {
			c.s.panicked("close", r)
			_ = c.ws.CloseNow()
		}
	}()
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
	if c.code == closeTryLater || (c.code == closeInternal && !c.flush) || c.peerGone.Load() {
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

// ping checks that the peer is still there, every PingInterval, on a timer
// goroutine that exists only while a ping is out: an idle socket costs no
// goroutine for it. A peer that does not answer within PingTimeout is gone,
// and its socket is dropped without a close handshake. While a replay keeps
// the reader from reading pongs, the writer's timeout watches the peer
// instead, and no ping is sent.
func (c *wsConn) ping() {
	if c.isDone() || !c.s.enter() {
		return
	}
	defer c.s.wg.Done()
	defer c.recoverSocket("ping")
	if !c.inReplay() {
		ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.PingTimeout)
		err := c.ws.Ping(ctx)
		cancel()
		if err != nil {
			if !c.isDone() {
				c.s.m.wsRefused.WithLabelValues(refusedPing).Inc()
				c.peerGone.Store(true)
				c.close(closeGoingAway, "no pong", false)
			}
			return
		}
	}
	c.mu.Lock()
	if !c.isDone() {
		c.pingTimer.Reset(c.s.cfg.PingInterval)
	}
	c.mu.Unlock()
}

// recoverSocket is deferred by every goroutine that works for a socket. A
// panic there is a bug; it costs that one socket, not the process and every
// other chat: it is logged with its stack and counted, and the socket is
// closed with 1011, after which the client reconnects and resumes.
func (c *wsConn) recoverSocket(where string) {
	if r := recover(); r != nil {
		c.s.panicked(where, r)
		c.close(closeInternal, "internal error", true)
	}
}

// panicked logs and counts a recovered panic.
func (s *Server) panicked(where string, r any) {
	s.m.panics.WithLabelValues(where).Inc()
	s.log.Error("recovered a panic", slog.String("where", where), slog.Any("panic", r),
		slog.String("stack", string(debug.Stack())))
}
