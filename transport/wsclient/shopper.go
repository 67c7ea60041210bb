package wsclient

import (
	"context"
	"fmt"
)

// This file is the conversation as a shopper has it: each method sends one
// client frame of §2 and, where the contract answers it, waits for that
// answer.

// Resume asks hello to re-send every event of Conversation after seq After.
type Resume struct {
	Conversation string `json:"conversation"`
	After        uint64 `json:"after"`
}

// Message is a shopper message (message.send).
type Message struct {
	// ClientID is unique per message, chosen by the client: a message sent
	// again with the same ClientID is acknowledged again, not stored twice.
	ClientID    string       `json:"client_id"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Conversation, when set, says which conversation the message is for;
	// the server refuses it (no_open_conversation) if that is not the
	// visitor's open one. Empty: the open one, whichever it is.
	Conversation string `json:"conversation,omitempty"`
}

// ServerError is an error frame that refused a frame the client sent.
type ServerError struct {
	Code     string // invalid, unauthorized, closed, no_open_conversation, rate_limited, …
	Message  string
	ClientID string // the refused message.send's, echoed
}

func (e *ServerError) Error() string {
	if e.ClientID != "" {
		return fmt.Sprintf("wsclient: refused %s: %s: %s", e.ClientID, e.Code, e.Message)
	}
	return fmt.Sprintf("wsclient: refused: %s: %s", e.Code, e.Message)
}

func refusal(f *Frame) *ServerError {
	return &ServerError{Code: f.Code, Message: f.Message, ClientID: f.ClientID}
}

// Hello says hello, which must be the socket's first frame: with token (an
// identity token; empty: an anonymous visitor) and, with resume, asks for
// the events missed. It returns the welcome; the replayed events follow it,
// in seq order, for Read. A refused token is a *ServerError (unauthorized),
// and the server then closes the socket with 1008.
func (c *Conn) Hello(ctx context.Context, token string, resume *Resume) (*Welcome, error) {
	hello := struct {
		Type   string  `json:"type"`
		Token  string  `json:"token,omitempty"`
		Resume *Resume `json:"resume,omitempty"`
	}{"hello", token, resume}
	if err := c.Send(ctx, hello); err != nil {
		return nil, err
	}
	f, err := c.await(ctx, "welcome", "", func(f *Frame) bool { return f.Type == "welcome" })
	if err != nil {
		return nil, err
	}
	return f.Welcome, nil
}

// StartChat starts a live chat (chat.start) and returns its `started`
// event, seq 1. With a chat open already, the server re-sends that chat's
// started event instead of starting another: resume it for the rest.
func (c *Conn) StartChat(ctx context.Context) (*Frame, error) {
	if err := c.Send(ctx, struct {
		Type string `json:"type"`
	}{"chat.start"}); err != nil {
		return nil, err
	}
	return c.await(ctx, "the started event", "", func(f *Frame) bool {
		return f.Type == "event" && f.Event.Kind == "started"
	})
}

// SendMessage sends m and returns its ack: the message is then durably
// stored as event ack.Seq of ack.Conversation. Its echo, an event like any
// other, stays for Read. A refusal is a *ServerError with m.ClientID.
func (c *Conn) SendMessage(ctx context.Context, m Message) (*Frame, error) {
	send := struct {
		Type string `json:"type"`
		Message
	}{"message.send", m}
	if err := c.Send(ctx, send); err != nil {
		return nil, err
	}
	return c.await(ctx, "the ack of "+m.ClientID, m.ClientID, func(f *Frame) bool {
		return f.Type == "ack" && f.ClientID == m.ClientID
	})
}

// MarkRead tells the server the shopper has seen conversation conv up to
// seq (read). The server records it as a `seen` event, unless the mark
// does not move forward; it answers nothing else.
func (c *Conn) MarkRead(ctx context.Context, conv string, seq uint64) error {
	return c.Send(ctx, struct {
		Type         string `json:"type"`
		Conversation string `json:"conversation"`
		Seq          uint64 `json:"seq"`
	}{"read", conv, seq})
}

// EndChat ends conversation conv (chat.end): the server answers with its
// `ended` event, or refuses.
func (c *Conn) EndChat(ctx context.Context, conv string) error {
	return c.Send(ctx, struct {
		Type         string `json:"type"`
		Conversation string `json:"conversation"`
	}{"chat.end", conv})
}

// await reads frames until answer accepts one, and returns it. An error
// frame with clientID (a refused message.send echoes its client_id; the
// other refusals name none) ends the wait as a *ServerError. Every other
// frame read meanwhile stays for Read, in order.
func (c *Conn) await(ctx context.Context, what, clientID string, answer func(*Frame) bool) (*Frame, error) {
	var skipped []message
	defer func() { c.held = append(skipped, c.held...) }()
	for {
		typ, b, err := c.ReadMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("wsclient: waiting for %s: %w", what, err)
		}
		f, err := Decode(b)
		if err != nil {
			return nil, err
		}
		if answer(f) {
			return f, nil
		}
		if f.Type == "error" && f.ClientID == clientID {
			return nil, refusal(f)
		}
		skipped = append(skipped, message{typ: typ, b: b})
	}
}
