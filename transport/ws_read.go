package transport

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/engine"
)

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
		defer c.recoverSocket("frame")
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
