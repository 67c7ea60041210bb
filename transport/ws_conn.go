package transport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/engine"
)

// socketBufferBytes is the size of a socket's read and write buffers. Frames
// of any size still pass (bufio only batches system calls); small buffers
// keep an idle socket small.
const socketBufferBytes = 1024

// hijacker hands coder/websocket the connection under a socket with small
// buffers, instead of net/http's two of 4 KiB that an idle socket would hold
// for its whole life, and keeps that connection for the socket's writer.
//
// A handshake coder/websocket refuses (not an upgrade, another protocol
// version, a malformed key) it answers with http.Error: a status and a line
// of text. The hijacker turns that into the JSON error body every HTTP error
// of Parley has.
type hijacker struct {
	http.ResponseWriter
	conn    *socketConn
	refused int // the status of a refused handshake
}

func (h *hijacker) WriteHeader(code int) {
	if code >= http.StatusBadRequest {
		h.refused = code
		h.Header().Set("Content-Type", "application/json; charset=utf-8")
		h.Header().Del("Content-Length")
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *hijacker) Write(b []byte) (int, error) {
	if h.refused == 0 {
		return h.ResponseWriter.Write(b)
	}
	code := engine.CodeInvalid
	if h.refused == http.StatusForbidden {
		code = engine.CodeForbidden
	}
	body, err := json.Marshal(errorBody{errorDetail{Code: code, Message: strings.TrimSpace(string(b))}})
	if err == nil {
		_, err = h.ResponseWriter.Write(append(body, '\n'))
	}
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &socketConn{Conn: conn}
	if n := brw.Reader.Buffered(); n > 0 { // bytes the client sent right after its request
		b, _ := brw.Reader.Peek(n)
		h.conn.prefix = bytes.Clone(b)
	}
	rw := bufio.NewReadWriter(bufio.NewReaderSize(h.conn, socketBufferBytes), bufio.NewWriterSize(h.conn, socketBufferBytes))
	return h.conn, rw, nil
}

// socketConn is the network connection under a shopper socket.
//
// Reading, it first returns prefix: bytes net/http had already buffered. The
// prefix lives in the conn, not in a reader wrapped around it, because
// coder/websocket re-targets its buffered reader at the conn it is given.
//
// Writing, it can be corked: the writer corks, writes every queued frame
// (coder/websocket flushes each one), and uncorks, which sends them all in one
// system call under the write timeout. Control frames that coder/websocket
// writes meanwhile (a pong) join the batch; a net.Conn Write is never split,
// so frames never interleave.
type socketConn struct {
	net.Conn
	prefix []byte

	mu     sync.Mutex
	corked bool
	out    []byte
}

func (c *socketConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *socketConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.corked {
		c.out = append(c.out, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *socketConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.out = (*batchPool.Get().(*[]byte))[:0]
	c.mu.Unlock()
}

// batchPool holds the buffers of corked writes: a socket holds one only
// while its writer runs.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 2*socketBufferBytes); return &b }}

// pending is the number of bytes waiting in the cork.
func (c *socketConn) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.out)
}

// flush sends what was written while corked, within timeout, and stays
// corked.
func (c *socketConn) flush(timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.out) == 0 {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.Conn.Write(c.out)
	_ = c.Conn.SetWriteDeadline(time.Time{})
	c.out = c.out[:0]
	return err
}

// uncork sends what was written while corked, within timeout.
func (c *socketConn) uncork(timeout time.Duration) error {
	c.mu.Lock()
	out := c.out
	c.corked, c.out = false, nil // an idle socket keeps no batch buffer
	c.mu.Unlock()
	defer batchPool.Put(&out)
	if len(out) == 0 {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.Conn.Write(out)
	_ = c.Conn.SetWriteDeadline(time.Time{})
	return err
}
