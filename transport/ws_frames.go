package transport

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
)

// inFrame is every client frame of PROTOCOL §2; which fields count depends on Type.
type inFrame struct {
	Type         string              `json:"type"`
	Token        *string             `json:"token"`
	Resume       *resumeRef          `json:"resume"`
	FAQ          string              `json:"faq"`
	ClientID     string              `json:"client_id"`
	Text         string              `json:"text"`
	Attachments  []engine.Attachment `json:"attachments"`
	Conversation string              `json:"conversation"`
	Seq          *uint64             `json:"seq"`
}

type resumeRef struct {
	Conversation string `json:"conversation"`
	After        uint64 `json:"after"`
}

// receive dispatches one frame to its handler.
func (c *wsConn) receive(ctx context.Context, data []byte) {
	var f inFrame
	if err := decodeFrame(data, &f); err != nil {
		c.sendErr(frameError(err), clientIDOf(data))
		return
	}
	if f.Type != "hello" && knownType(f.Type) && !c.helloed.Load() {
		c.sendErr(&engine.Error{Code: engine.CodeHelloRequired, Message: "send hello first"}, f.ClientID)
		return
	}
	switch f.Type {
	case "hello":
		c.hello(ctx, f)
	case "faq.pick":
		c.faqPick(f)
	case "chat.start":
		c.chatStart(ctx)
	case "message.send":
		c.messageSend(ctx, f)
	case "read":
		c.read(ctx, f)
	case "typing":
		c.typing(ctx, f)
	case "chat.end":
		c.chatEnd(ctx, f)
	default:
		if h := testFrames[f.Type]; h != nil {
			h(c)
			return
		}
		c.sendErr(engine.Errorf(engine.CodeInvalid, "unknown frame type"), f.ClientID)
	}
}

// testFrames handles frame types that exist in tests alone (one that
// panics, say, to show that a bug closes its one socket and nothing else).
// Only _test.go files add to it: in the server it is empty.
var testFrames map[string]func(*wsConn)

func knownType(t string) bool {
	switch t {
	case "hello", "faq.pick", "chat.start", "message.send", "read", "typing", "chat.end":
		return true
	}
	return false
}

// frameError says what is wrong with a frame that did not decode, naming
// the field when one is at fault.
func frameError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return engine.Invalid(te.Field, "has the wrong type (got a JSON %s)", te.Value)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return engine.Invalid(strings.Trim(f, `"`), "is not a field of any frame")
	}
	return engine.Errorf(engine.CodeInvalid, "malformed frame: expected a JSON object with a type")
}

// clientIDOf digs the client_id out of a frame that did not decode, so that
// a refused message.send still echoes it.
func clientIDOf(data []byte) string {
	var f struct {
		ClientID string `json:"client_id"`
	}
	if json.Unmarshal(data, &f) != nil || len(f.ClientID) > engine.MaxClientIDLen {
		return ""
	}
	return f.ClientID
}

func (c *wsConn) sendErr(err error, clientID string) {
	c.send(c.s.errorFrameBytes(err, clientID))
}

func (c *wsConn) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.s.log.Error("marshal frame", slog.Any("err", err))
		return
	}
	c.send(b)
}

type faqAnswerFrame struct {
	Type     string `json:"type"`
	FAQ      string `json:"faq"`
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// hello identifies the visitor, answers welcome, then replays and follows.
func (c *wsConn) hello(ctx context.Context, f inFrame) {
	if c.helloed.Load() {
		c.sendErr(engine.Errorf(engine.CodeInvalid, "hello was already sent"), "")
		return
	}
	if f.Resume != nil && !engine.ValidID(f.Resume.Conversation) {
		c.sendErr(engine.Invalid("resume.conversation", "is not a conversation id"), "")
		return
	}
	var v engine.Visitor
	if f.Token != nil { // present, even empty: verified, never taken for anonymous
		var err error
		v, err = c.s.verifyIdentity(*f.Token)
		if err != nil {
			c.s.m.wsRefused.WithLabelValues(refusedToken).Inc()
			c.s.log.Info("identity token refused", slog.Any("reason", err))
			c.sendErr(&engine.Error{Code: engine.CodeUnauthorized, Message: "invalid identity token"}, "")
			c.close(closePolicy, "invalid identity token", true)
			return
		}
	}
	c.visitor = v
	var open *actors.ConversationInfo
	if v.LoggedIn() {
		var err error
		if open, err = c.s.chat.OpenConversation(ctx, v.ProfileID); err != nil {
			c.sendErr(err, "")
			c.close(closeInternal, "try again", true)
			return
		}
	}
	c.helloed.Store(true)
	c.helloTimer.Stop() // no timer left to fire (and start a goroutine) per socket
	c.sendJSON(c.s.welcome(v, open))
	c.s.addVisitor(c)
	if f.Resume != nil {
		if !v.LoggedIn() {
			c.sendErr(engine.ErrNotFound, "")
		} else if err := c.subscribe(ctx, f.Resume.Conversation, f.Resume.After); err != nil {
			c.sendErr(err, "")
		}
	}
	if open != nil {
		// Follow the open conversation live, so that every socket of the
		// visitor sees its messages (the echo rule).
		if err := c.follow(ctx, open.ID, open.LastSeq); err != nil {
			c.sendErr(err, "")
		}
	}
}

func (c *wsConn) faqPick(f inFrame) {
	faq, ok := c.s.chat.FAQ(f.FAQ)
	visible := c.s.chat.Settings().Chat(c.visitor.LoggedIn()).Enabled
	if !ok || !faq.Published || faq.Kind != engine.KindFAQ || !visible {
		c.sendErr(engine.Errorf(engine.CodeNotFound, "no such FAQ"), "")
		return
	}
	c.sendJSON(faqAnswerFrame{Type: "faq.answer", FAQ: faq.ID, Question: faq.Question, Answer: faq.Answer})
}

// chatStart starts a live chat, or re-sends the open one's `started` event.
func (c *wsConn) chatStart(ctx context.Context) {
	switch st := c.s.chat.Settings().Chat(c.visitor.LoggedIn()); {
	case st.Reason == engine.ReasonDisabled:
		c.sendErr(engine.Errorf(engine.CodeForbidden, "web chat is disabled"), "")
		return
	case !st.CanStart:
		c.sendErr(engine.Errorf(engine.CodeUnauthorized, "log in to start a chat"), "")
		return
	}
	info, _, err := c.s.chat.StartChat(ctx, c.visitor)
	if err != nil {
		c.sendErr(err, "")
		return
	}
	if c.subscribed(info.ID) {
		e, err := c.startedEvent(ctx, info.ID)
		if err != nil {
			c.sendErr(err, "")
			return
		}
		b, err := eventFrameBytes(info.ID, e)
		if err != nil {
			c.sendErr(err, "")
			return
		}
		c.send(b)
	} else if err := c.follow(ctx, info.ID, 0); err != nil {
		c.sendErr(err, "")
		return
	}
	// The visitor's other tabs follow the new chat too.
	for _, o := range c.s.visitorConns(c.visitor.ProfileID) {
		if o != c && !o.isDone() {
			if err := o.follow(ctx, info.ID, 0); err != nil {
				c.s.log.Warn("subscribe other tab", slog.Any("err", err))
			}
		}
	}
}

func (c *wsConn) messageSend(ctx context.Context, f inFrame) {
	if !c.admitMessage(f.ClientID) {
		return
	}
	if err := engine.ValidateMessage(f.ClientID, f.Text, f.Attachments); err != nil {
		c.sendErr(err, f.ClientID)
		return
	}
	conv, err := c.target(ctx, f.Conversation)
	if err != nil {
		c.sendErr(err, f.ClientID)
		return
	}
	p, err := c.s.chat.ShopperPost(ctx, c.visitor, conv, f.Text, f.Attachments, f.ClientID)
	if err == nil {
		if err := c.subscribe(ctx, cmp.Or(p.Conversation, conv), 0); err != nil { // no-op when following it already
			c.s.log.Warn("subscribe after post", slog.Any("err", err))
		}
	}
	c.answerPost(p, err, f, conv, c.frameAt)
}

// answerPost queues the ack of a message.send now stored, or its refusal.
// conv is the conversation it was posted to, read when the frame was.
func (c *wsConn) answerPost(p actors.Posted, err error, f inFrame, conv string, read time.Time) {
	if err != nil {
		switch engine.ErrorCode(err) {
		case engine.CodeNotFound, engine.CodeForbidden:
			err = engine.ErrNoOpenConversation // a conversation that is not theirs
		case engine.CodeClosed:
			if f.Conversation == "" { // it ended just now; the frame named none
				err = engine.ErrNoOpenConversation
			}
		}
		c.sendErr(err, f.ClientID)
		return
	}
	if !p.Duplicate {
		c.s.m.messages.WithLabelValues(string(p.Channel), "in").Inc()
	}
	if p.Conversation == "" {
		p.Conversation = conv
	}
	c.send(ackFrameBytes(f.ClientID, p.Conversation, p.Seq))
	c.s.m.wsAck.Observe(time.Since(read).Seconds())
}

// target is the conversation a frame means: the one it names, else the
// visitor's open one.
func (c *wsConn) target(ctx context.Context, named string) (string, error) {
	if !c.visitor.LoggedIn() {
		return "", engine.ErrNoOpenConversation
	}
	if named != "" {
		if !engine.ValidID(named) {
			return "", engine.ErrNoOpenConversation
		}
		return named, nil
	}
	if current := c.open(); current != "" {
		return current, nil // no lookup per message: the socket follows it
	}
	open, err := c.s.chat.OpenConversation(ctx, c.visitor.ProfileID)
	if err != nil {
		return "", err
	}
	if open == nil {
		return "", engine.ErrNoOpenConversation
	}
	return open.ID, nil
}

func (c *wsConn) read(ctx context.Context, f inFrame) {
	switch {
	case !engine.ValidID(f.Conversation):
		c.sendErr(engine.Invalid("conversation", "is required"), "")
	case f.Seq == nil:
		c.sendErr(engine.Invalid("seq", "is required"), "")
	case !c.visitor.LoggedIn():
		c.sendErr(engine.ErrNotFound, "")
	default:
		if err := c.s.chat.ShopperSeen(ctx, c.visitor, f.Conversation, *f.Seq); err != nil {
			c.sendErr(err, "")
		}
	}
}

func (c *wsConn) chatEnd(ctx context.Context, f inFrame) {
	conv, err := c.target(ctx, f.Conversation)
	if err == nil {
		err = c.s.chat.ShopperEnd(ctx, c.visitor, conv)
	}
	if engine.ErrorCode(err) == engine.CodeClosed && f.Conversation == "" {
		err = engine.ErrNoOpenConversation // it ended just now; the frame named none
	}
	if err != nil {
		c.sendErr(err, "")
	}
}
