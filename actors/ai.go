package actors

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// The AI service agent (S10). While a conversation is the AI's, every
// shopper message is stored with an outbox entry for the answerer (one
// batch): the outbox worker asks the answerer outside every mailbox,
// retries a failing model with back-off, asks again after a restart, and
// brings the answer back to the conversation as a message. When the AI
// cannot resolve the question (it says so, its confidence is below
// min_confidence, it has not answered within Config.AnswerWithin, or the shopper
// asks for a person) the conversation is handed off as configured.

const (
	// aiAuthor is the name AI messages carry.
	aiAuthor = "AI assistant"
	// targetAI is the outbox target of the questions the AI answers.
	targetAI = "ai"
	// answersAtOnce is how many questions are with the answerer at once.
	answersAtOnce = 32
	// historyLines is how much of the conversation an answerer reads.
	historyLines = 20
)

// What the shopper is told when the conversation goes to people.
const (
	noticeHelpdesk = "I'm passing you to our team: a person will answer you here."
	noticeExternal = "I'm passing your conversation to our team."
	noticeMessage  = "I can't answer that myself. Please contact our customer service."
	noticeFallback = "Our other helpdesk could not be reached, so your conversation is now with our team here: a person will answer you."
)

// answering are the questions with the answerer now, by conversation, so
// that the conversation can withdraw one that no longer needs an answer (a
// newer message, a handoff, the end): the model stops working on it.
type answering struct {
	mu sync.Mutex
	m  map[string]asking
}

type asking struct {
	seq    uint64
	cancel context.CancelCauseFunc
}

// errSuperseded withdraws a question.
var errSuperseded = errors.New("the question no longer needs an answer")

// start notes that the question at seq of conv is with the answerer, and
// returns its context and what to call when the answer is in.
func (w *answering) start(ctx context.Context, conv string, seq uint64) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]asking{}
	}
	if prev, ok := w.m[conv]; ok {
		if prev.seq > seq { // a newer question is being answered already
			cancel(errSuperseded)
			return ctx, func() {}
		}
		prev.cancel(errSuperseded)
	}
	w.m[conv] = asking{seq: seq, cancel: cancel}
	return ctx, func() {
		w.mu.Lock()
		if a, ok := w.m[conv]; ok && a.seq == seq {
			delete(w.m, conv)
		}
		w.mu.Unlock()
		cancel(nil)
	}
}

// withdraw withdraws the question of conv with the answerer, if it is
// older than seq.
func (w *answering) withdraw(conv string, seq uint64) {
	w.mu.Lock()
	a, ok := w.m[conv]
	if ok && a.seq < seq {
		delete(w.m, conv)
	}
	w.mu.Unlock()
	if ok && a.seq < seq {
		a.cancel(errSuperseded)
	}
}

// aiAnswered is an answer coming back to the conversation's actor.
type aiAnswered struct {
	Question uint64 // the seq of the shopper message it answers
	Answer   engine.Answer
	Took     time.Duration // since the question was stored
}

// handedOverCmd ends a chat handed to Zendesk or Gorgias once their ticket
// is made, telling the shopper where the answer will come.
type handedOverCmd struct {
	Target, Email string
}

// handedOver tells the shopper their conversation is with the store's team
// and ends the chat, in one commit: that team answers by e-mail, and a
// shopper writing on here would write to nobody.
func (a *conversationActor) handedOver(ctx actor.Context, m *handedOverCmd) {
	if a.conv.Ended || a.conv.HandedOff != m.Target {
		a.respond(ctx, &result{}) // ended already, or fell back to our own team
		return
	}
	now := a.sys.cfg.Now().UTC()
	events, err := a.conv.Decide(engine.PostMessage{From: engine.PartySystem, ClientID: "handed-over-" + m.Target, At: now,
		Text: "Our team has your conversation and will answer you by e-mail at " + m.Email + "."})
	if err == nil {
		next := a.conv.After(events)
		var end []engine.Event
		end, err = next.Decide(engine.EndConversation{By: engine.PartySystem, At: now})
		events = append(events, end...)
	}
	if err == nil {
		_, err = a.commit(ctx, events, nil)
	}
	a.respond(ctx, &result{Err: err})
}

// handOffCmd asks the conversation to hand off: to Target with Notice, or,
// with no Target, as the AI settings say. With a Question, only while that
// is the latest question and nobody has answered it.
type handOffCmd struct {
	Target, Notice string
	Question       uint64
}

// questionEntry is what a shopper's message owes the AI agent: the outbox
// entry that has it answered, or, when the AI is not to answer it, none.
func (a *conversationActor) questionEntry(cmd engine.PostMessage, events []engine.Event) []persist.OutboxEntry {
	if cmd.From != engine.PartyShopper || !a.conv.AI || !a.sys.Settings().AI.Enabled || engine.WantsPerson(cmd.Text) {
		return nil
	}
	payload, _ := json.Marshal(questionPayload{Conversation: a.id, Seq: events[0].Seq})
	now := a.sys.cfg.Now()
	return []persist.OutboxEntry{{Key: persist.OutboxKey(a.id, events[0].Seq, targetAI), Target: targetAI,
		Payload: payload, Created: now, NextAt: now}}
}

// questionPayload names the shopper message an AI outbox entry answers.
type questionPayload struct {
	Conversation string `json:"conversation"`
	Seq          uint64 `json:"seq"`
}

// afterShopperMessage hands the conversation to people, once a shopper's
// message is stored and acknowledged, when the AI is not to answer it: the
// shopper asks for a person, or the AI was turned off since the chat began.
func (a *conversationActor) afterShopperMessage(ctx actor.Context, msg engine.Event) {
	if !a.conv.AI || a.conv.Ended {
		return
	}
	a.sys.answering.withdraw(a.id, msg.Seq) // an earlier question, still with the answerer
	switch s := a.sys.Settings().AI; {
	case !s.Enabled:
		a.handOff(ctx, engine.HandoffHelpdesk, noticeHelpdesk)
	case engine.WantsPerson(msg.Text):
		a.handOffToPeople(ctx, s)
	}
}

// current reports whether the shopper message at seq is the question the
// AI is to answer: the latest, in a conversation still the AI's, that
// nobody has answered.
func (a *conversationActor) current(seq uint64) bool {
	return a.conv.AI && !a.conv.Ended && seq == a.conv.LastShopperMsg && a.conv.LastAgentMsg < seq
}

// answered posts the AI's answer, or hands off when it is not good enough.
// An answer to a question no longer current is dropped.
func (a *conversationActor) answered(ctx actor.Context, m *aiAnswered) {
	if !a.current(m.Question) {
		a.respond(ctx, &result{})
		return
	}
	a.sys.metrics.aiLatency.Observe(m.Took.Seconds())
	s := a.sys.Settings().AI
	if m.Answer.Handoff || m.Answer.Confidence < s.MinConfidence || strings.TrimSpace(m.Answer.Text) == "" {
		a.respond(ctx, &result{Err: a.handOffToPeople(ctx, s)})
		return
	}
	events, err := a.conv.Decide(engine.PostMessage{From: engine.PartyAI, Author: aiAuthor,
		Text: m.Answer.Text, ClientID: fmt.Sprintf("ai-%d", m.Question), At: a.sys.cfg.Now().UTC()})
	if err == nil {
		_, err = a.commit(ctx, events, nil)
	}
	if err == nil {
		a.sys.metrics.aiAnswers.Inc()
	}
	a.respond(ctx, &result{Err: err})
}

// handOffToPeople hands the conversation off as the settings say (S10).
func (a *conversationActor) handOffToPeople(ctx actor.Context, s engine.AISettings) error {
	switch s.Handoff {
	case engine.HandoffZendesk, engine.HandoffGorgias:
		return a.handOff(ctx, s.Handoff, noticeExternal)
	case engine.HandoffMessage:
		return a.handOff(ctx, engine.HandoffMessage, cmp.Or(s.HandoffMessage, noticeMessage))
	default:
		return a.handOff(ctx, engine.HandoffHelpdesk, noticeHelpdesk)
	}
}

// handOff commits the handoff with its notice to the shopper and, for
// Zendesk or Gorgias, the outbox entry that creates their ticket.
func (a *conversationActor) handOff(ctx actor.Context, target, notice string) error {
	events, err := a.conv.Decide(engine.HandOff{Target: target, Notice: notice, At: a.sys.cfg.Now().UTC()})
	if err != nil {
		return err
	}
	var entries []persist.OutboxEntry
	if target == engine.HandoffZendesk || target == engine.HandoffGorgias {
		entries = a.sys.handoffEntry(a.id, events[0].Seq, target)
	}
	if _, err := a.commitWith(ctx, events, nil, entries); err != nil {
		a.sys.log.Error("storing a handoff", slog.String("conversation", a.id), slog.Any("err", err))
		return err
	}
	if target != engine.HandoffMessage {
		a.sys.answering.withdraw(a.id, math.MaxUint64) // people answer now
	}
	a.sys.metrics.handoffs.WithLabelValues(target, handoffRequested).Inc()
	return nil
}

// handOffRequest hands off as asked by the outbox: when the AI could not
// answer in time, or as the fallback of a failed external handoff (a
// Helpdesk ticket, once).
func (a *conversationActor) handOffRequest(ctx actor.Context, m *handOffCmd) {
	switch {
	case a.conv.Ended, m.Question != 0 && !a.current(m.Question):
		a.respond(ctx, &result{}) // nothing left to answer
	case m.Target == "":
		a.respond(ctx, &result{Err: a.handOffToPeople(ctx, a.sys.Settings().AI)})
	case a.conv.HandedOff == m.Target:
		a.respond(ctx, &result{}) // done already
	default:
		err := a.handOff(ctx, m.Target, m.Notice)
		if code := engine.ErrorCode(err); code == engine.CodeConflict || code == engine.CodeClosed {
			err = nil // with people already, or ended: nothing to do, and no point asking again
		}
		a.respond(ctx, &result{Err: err})
	}
}

func transcriptLine(e engine.Event) engine.TranscriptLine {
	return engine.TranscriptLine{From: e.From, Author: e.Author, Text: e.Text, At: e.At, Attachments: e.Attachments}
}

// handoffEntry is the outbox entry that hands conversation conv to an
// external helpdesk, owed by its handoff event at seq.
func (s *System) handoffEntry(conv string, seq uint64, target string) []persist.OutboxEntry {
	payload, _ := json.Marshal(handoffPayload{Conversation: conv, Seq: seq})
	now := s.cfg.Now()
	return []persist.OutboxEntry{{Key: persist.OutboxKey(conv, seq, target), Target: target,
		Payload: payload, Created: now, NextAt: now}}
}

// handoffPayload names the handoff an outbox entry delivers: the transcript
// and the customer are read at delivery.
type handoffPayload struct {
	Conversation string `json:"conversation"`
	Seq          uint64 `json:"seq"`
}

// firstQuestion is the shopper message a new ticket is told of: the one in
// events, or, for a ticket made by a handoff, the latest one stored.
func (a *conversationActor) firstQuestion(events []engine.Event) engine.Event {
	for _, e := range events {
		if e.Kind == engine.KindMessage && e.From == engine.PartyShopper {
			return e
		}
	}
	if last := a.conv.LastShopperMsg; last > 0 {
		if stored, err := a.sys.readEvents(a.id, last-1, last, 1); err == nil && len(stored) == 1 {
			return stored[0]
		}
	}
	return engine.Event{Seq: events[0].Seq, At: events[0].At}
}
