package transport

import (
	"context"

	"github.com/coder/websocket"
)

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
// frame queued later starts a new one. The frames taken still count in
// queued until they are sent (written).
func (c *wsConn) take() [][]byte {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.isDone() || len(c.queue) == 0 {
		c.writing = false
		return nil
	}
	batch := c.queue
	c.queue = nil
	return batch
}

// written uncounts n bytes of frames that have been sent, and wakes a
// replay waiting for the socket to drain.
func (c *wsConn) written(n int) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	c.queued -= n
	if c.queued == 0 && c.drained != nil {
		close(c.drained)
		c.drained = nil
	}
}

// awaitDrained returns once every frame queued so far has been sent, or the
// socket closes, or ctx ends.
func (c *wsConn) awaitDrained(ctx context.Context) {
	for {
		c.qmu.Lock()
		if c.queued <= 0 || c.stopped {
			c.qmu.Unlock()
			return
		}
		if c.drained == nil {
			c.drained = make(chan struct{})
		}
		wake := c.drained
		c.qmu.Unlock()
		select {
		case <-wake:
		case <-c.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// writeLoop drains the queue and exits: an idle socket holds no writer
// goroutine. Frames queued together (an echo and its ack, a burst of agent
// messages) leave in one system call. The closer, not the writer, writes the
// last frames of a close.
func (c *wsConn) writeLoop() {
	defer c.active.Done()
	defer c.writer.Done()
	defer c.recoverSocket("write")
	for batch := c.take(); batch != nil; batch = c.take() {
		if err := c.writeBatch(batch); err != nil {
			c.s.m.wsRefused.WithLabelValues(refusedWrite).Inc()
			c.close(closeInternal, "", false)
		}
	}
}

// corkFlushBytes is how much a batch gathers in the corked connection
// before it is sent: a long replay goes out in pieces of this size instead
// of being copied whole into one buffer beside the frames it copies.
const corkFlushBytes = 64 << 10

// writeBatch writes frames through the corked connection, each system call
// under the write timeout.
func (c *wsConn) writeBatch(batch [][]byte) error {
	c.conn.cork()
	held := 0 // bytes of frames written into the cork, not yet sent
	var err error
	for i, b := range batch {
		if err = c.writeCorked(b); err != nil {
			break
		}
		held += len(b)
		batch[i] = nil // sent with the next flush: the queue no longer holds it
		if c.conn.pending() >= corkFlushBytes {
			if err = c.conn.flush(c.s.cfg.WriteTimeout); err != nil {
				break
			}
			c.written(held)
			held = 0
		}
	}
	if e := c.conn.uncork(c.s.cfg.WriteTimeout); err == nil {
		err = e
	}
	c.written(held)
	return err
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
