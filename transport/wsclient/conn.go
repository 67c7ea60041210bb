package wsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// Defaults of Options.
const (
	// DefaultReadLimit is the largest frame a socket reads: the server's
	// frames are bounded by what it accepts (64 KiB by default) plus their
	// envelope, far below it.
	DefaultReadLimit = 1 << 20
	// DefaultQueueLimit is the number of frames the queue holds for Read.
	DefaultQueueLimit = 1024
)

// Options configures Dial. The zero value of each field means its default,
// as EnsureDefaults fills it in; a nil *Options is all defaults.
type Options struct {
	// HTTPClient sends the upgrade request. Default: http.DefaultClient, as
	// coder/websocket's. It must have no Timeout: the socket outlives the
	// request (a Timeout becomes the dial's deadline). Ignored with Direct.
	HTTPClient *http.Client

	// Header is sent with the upgrade request. Dial does not change it.
	Header http.Header

	// Origin, when set, is sent as the Origin header, as a browser sends
	// it; the server refuses an origin it does not allow with 403. A
	// client that is not a browser sends none, and is allowed.
	Origin string

	// Direct dials the server's TCP connection and exchanges the upgrade on
	// the caller's goroutine, without net/http's Transport, which costs
	// every socket a dial goroutine and a persistConn with a reader and a
	// writer goroutine and their buffers: in a storm of thousands of
	// connects, a fifth of a load generator's CPU. It speaks ws:// only (no
	// TLS, no proxy) and keeps no idle connection.
	Direct bool

	// NetDial, with Direct, dials the TCP connection. Default (nil): a
	// net.Dialer without TCP keep-alive, whose setsockopt calls were a
	// third of a loopback dial's system calls.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)

	// ReadLimit is the largest frame the socket reads; a larger one ends
	// the socket (close 1009). Default: DefaultReadLimit; -1: no limit.
	ReadLimit int64

	// QueueLimit is the number of frames queued for Read. When it is
	// reached, the reader stops reading until Read takes one, and the
	// server, in time, drops a client that reads too slowly: the memory a
	// Conn holds is bounded, never the server's patience. (The frames a
	// wait reads past are held apart, beyond it: see Drain.) Default:
	// DefaultQueueLimit.
	QueueLimit int

	// OnFrame, when set, is called on the reader goroutine with every
	// frame, in order, as it arrives. It returns whether it has dealt with
	// the frame; a frame it has not is queued for Read. raw is valid only
	// during the call (its buffer is reused for the next frame). OnFrame
	// blocks the reader while it runs; it may write to the socket, and it
	// must not Read or Close.
	OnFrame func(raw []byte) (handled bool)

	// OnClose, when set, is called on the reader goroutine once, when the
	// socket ends, with the same error as Err, before Done is closed. It
	// must not Close.
	OnClose func(err error)
}

// EnsureDefaults fills in the default of every zero field and returns o; a
// nil o is a new Options of defaults.
func (o *Options) EnsureDefaults() *Options {
	if o == nil {
		o = &Options{}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.QueueLimit <= 0 {
		o.QueueLimit = DefaultQueueLimit
	}
	return o
}

// HandshakeError is a refused upgrade: the server answered the request
// with StatusCode instead of 101.
type HandshakeError struct {
	StatusCode int
	Header     http.Header
	Body       []byte // the start of the answer's body (at most 1 KiB)
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("wsclient: upgrade refused: %d %s", e.StatusCode, strings.TrimSpace(string(e.Body)))
}

// Conn is one shopper socket and its reader. Writes may come from any
// goroutine; Read, ReadMessage, Drain and the methods that wait for an
// answer (Hello, StartChat, SendMessage) are for one goroutine at a time.
type Conn struct {
	ws      *websocket.Conn
	onFrame func([]byte) bool
	onClose func(error)

	done      chan struct{} // closed when the reader has ended
	err       error         // why; set before done is closed
	closing   chan struct{} // closed by CloseNow: a reader waiting for room gives up
	closeOnce sync.Once

	mu    sync.Mutex
	queue []message     // frames for Read, oldest first
	limit int           // most frames in queue
	ready chan struct{} // cap 1: the reader queued a frame
	room  chan struct{} // cap 1: Read took a frame

	held []message // frames a wait read past, before queue; the reading goroutine's
}

// message is one frame as it was read.
type message struct {
	typ websocket.MessageType
	b   []byte
}

// directClient sends the upgrade requests of Options.Direct with the
// default NetDial.
var directClient = &http.Client{Transport: &directTransport{dial: (&net.Dialer{KeepAlive: -1}).DialContext}}

// Dial opens a shopper socket at url (ws://host:port/ws) and starts its
// reader. ctx bounds the dial and the upgrade, not the socket. A refused
// upgrade is a *HandshakeError.
func Dial(ctx context.Context, url string, opts *Options) (*Conn, error) {
	var o Options
	if opts != nil {
		o = *opts // opts may be shared by concurrent dials: never written
	}
	o.EnsureDefaults()
	header := o.Header
	if o.Origin != "" {
		header = header.Clone()
		if header == nil {
			header = http.Header{}
		}
		header.Set("Origin", o.Origin)
	}
	client := o.HTTPClient
	switch {
	case o.Direct && o.NetDial != nil:
		client = &http.Client{Transport: &directTransport{dial: o.NetDial}}
	case o.Direct:
		client = directClient
	}
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:      client,
		HTTPHeader:      header,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			// coder/websocket has read (at most 1 KiB of) the body already.
			body, _ := io.ReadAll(resp.Body)
			return nil, &HandshakeError{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
		}
		return nil, fmt.Errorf("wsclient: dial %s: %w", url, err)
	}
	ws.SetReadLimit(o.ReadLimit)
	c := &Conn{
		ws: ws, onFrame: o.OnFrame, onClose: o.OnClose,
		done: make(chan struct{}), closing: make(chan struct{}),
		limit: o.QueueLimit, ready: make(chan struct{}, 1), room: make(chan struct{}, 1),
	}
	go c.read()
	return c, nil
}

// read is the socket's reader: it hands every frame to OnFrame or the
// queue until the socket ends.
func (c *Conn) read() {
	defer close(c.done)
	var buf bytes.Buffer
	for {
		typ, r, err := c.ws.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			c.err = fmt.Errorf("wsclient: socket ended: %w", err)
			if c.onClose != nil {
				c.onClose(c.err)
			}
			return
		}
		if c.onFrame != nil && c.onFrame(buf.Bytes()) {
			continue
		}
		c.enqueue(message{typ: typ, b: bytes.Clone(buf.Bytes())})
	}
}

// enqueue queues m for Read, waiting for room; after CloseNow it drops m.
func (c *Conn) enqueue(m message) {
	for {
		c.mu.Lock()
		if len(c.queue) < c.limit {
			c.queue = append(c.queue, m)
			c.mu.Unlock()
			signal(c.ready)
			return
		}
		c.mu.Unlock()
		select {
		case <-c.room:
		case <-c.closing:
			return
		}
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// ReadMessage returns the next frame from the queue as it was read, in
// order, waiting until one arrives, the socket ends (the error of Err,
// once every frame before the end was read) or ctx ends (ctx.Err(); the
// socket stays open). Frames that OnFrame dealt with never come here.
func (c *Conn) ReadMessage(ctx context.Context) (websocket.MessageType, []byte, error) {
	if len(c.held) > 0 {
		m := c.held[0]
		c.held = c.held[1:]
		return m.typ, m.b, nil
	}
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = message{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			signal(c.room)
			return m.typ, m.b, nil
		}
		c.mu.Unlock()
		select {
		case <-c.ready:
		case <-c.done:
			c.mu.Lock()
			empty := len(c.queue) == 0
			c.mu.Unlock()
			if empty {
				return 0, nil, c.err
			}
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

// Drain discards every frame waiting for Read, and returns how many there
// were. The frames a wait (SendMessage…) reads past are held for Read
// beyond QueueLimit: a client that waits for answers and never reads the
// rest drains them now and then.
func (c *Conn) Drain() int {
	n := len(c.held)
	c.held = nil
	c.mu.Lock()
	n += len(c.queue)
	c.queue = nil
	c.mu.Unlock()
	signal(c.room)
	return n
}

// Read returns the next frame from the queue, decoded (see ReadMessage). A
// frame that does not decode is an error, and the socket stays usable.
func (c *Conn) Read(ctx context.Context) (*Frame, error) {
	_, b, err := c.ReadMessage(ctx)
	if err != nil {
		return nil, err
	}
	return Decode(b)
}

// Send writes v, encoded as JSON, as one text frame.
func (c *Conn) Send(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("wsclient: encoding a frame: %w", err)
	}
	return c.Write(ctx, b)
}

// Write writes b as one text frame, as it is. If ctx ends in the middle of
// the write, coder/websocket closes the socket: half a frame cannot be taken
// back. A context that cannot end (context.Background()) costs no timer.
func (c *Conn) Write(ctx context.Context, b []byte) error {
	return c.WriteMessage(ctx, websocket.MessageText, b)
}

// WriteMessage writes b as one frame of type typ: the contract knows text
// frames only, and a test may want to see what the server does with others.
func (c *Conn) WriteMessage(ctx context.Context, typ websocket.MessageType, b []byte) error {
	if err := c.ws.Write(ctx, typ, b); err != nil {
		return fmt.Errorf("wsclient: write: %w", err)
	}
	return nil
}

// CloseNow drops the socket at once, without a close handshake, and does
// not wait for the reader (Done says when it has ended). It is idempotent.
func (c *Conn) CloseNow() {
	c.closeOnce.Do(func() {
		close(c.closing)
		_ = c.ws.CloseNow() // its error only says the socket was closed already
	})
}

// Close drops the socket at once, without a close handshake, and waits for
// the reader to end. It is idempotent. For a close handshake with a status
// of one's choosing, call Socket().Close first.
func (c *Conn) Close() {
	c.CloseNow()
	<-c.done
}

// Done is closed when the socket has ended and its reader with it.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the socket ended (nil while it is open). The server's close
// status is in it: websocket.CloseStatus(c.Err()).
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Socket is the coder/websocket connection underneath, for what this
// package does not wrap: a close handshake, a ping. Reading from it would
// compete with the reader, and must not be done.
func (c *Conn) Socket() *websocket.Conn { return c.ws }
