package transport

import (
	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
)

// postAsync hands a message.send for the conversation this socket follows to
// the conversation's actor without waiting for the answer, and reports
// whether it did. The actor queues the ack (or the refusal) itself when the
// message is durable, and the reader goes back to its socket: a chat's most
// frequent frame needs no goroutine of its own that sleeps through the
// fsync, and no reply channel.
//
// Frames still take effect one at a time, in the order sent: the reader
// waits for the answer (awaitPost) before it handles the next frame of any
// kind. Two posts in flight at once could be handled out of order while the
// conversation's actor passivates, so there is never more than one.
func (c *wsConn) postAsync(data []byte) bool {
	if !c.helloed.Load() || !c.visitor.LoggedIn() {
		return false
	}
	var f inFrame
	if !decodeFlatFrame(data, &f) || f.Type != "message.send" {
		return false
	}
	conv := c.open()
	if conv == "" || (f.Conversation != "" && f.Conversation != conv) || !c.subscribed(conv) {
		return false
	}
	if engine.ValidateMessage(f.ClientID, f.Text, f.Attachments) != nil {
		return false // refused by messageSend
	}
	if !c.admitMessage(f.ClientID) {
		return true
	}
	answered, read := make(chan struct{}), c.frameAt
	c.posting = answered
	c.s.chat.ShopperPostAsync(c.visitor, conv, f.Text, f.Attachments, f.ClientID, func(p actors.Posted, err error) {
		defer close(answered) // whatever happens, the reader goes on
		defer c.recoverSocket("frame")
		c.answerPost(p, err, f, conv, read)
	})
	return true
}

// awaitPost waits for the answer to the message.send in flight, if any. The
// actors answer every post within their request timeout.
func (c *wsConn) awaitPost() {
	if c.posting != nil {
		<-c.posting
		c.posting = nil
	}
}
