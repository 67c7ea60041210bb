package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/parley-chat/parley/actors/outbox"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// externalHandoffWithin is how long a handoff to Zendesk or Gorgias may take
// before it has failed for good and the conversation falls back to a
// Helpdesk ticket (PROTOCOL §3: 20 s).
const externalHandoffWithin = 20 * time.Second

// outboxTargets are where the actor system's outbox entries go: e-mail to
// agents, and the external helpdesks the AI agent hands off to.
func (s *System) outboxTargets() map[string]outbox.Target {
	targets := map[string]outbox.Target{
		targetEmail:   {Deliver: s.deliverEmail},
		targetWebhook: s.webhookTarget(),
		targetSMS:     {Deliver: s.deliverSMS, Failed: s.smsFailed},
		targetAI: {Deliver: s.deliverAnswer, GiveUpAfter: s.cfg.AnswerWithin, Concurrency: answersAtOnce,
			Failed: s.unanswered},
	}
	for _, target := range []string{engine.HandoffZendesk, engine.HandoffGorgias} {
		targets[target] = outbox.Target{
			Deliver: func(ctx context.Context, key string, payload []byte) error {
				return s.deliverHandoff(ctx, target, key, payload)
			},
			GiveUpAfter: externalHandoffWithin,
			Failed: func(ctx context.Context, _ string, payload []byte, _ error) error {
				return s.handoffFellThrough(ctx, target, payload)
			},
		}
	}
	return targets
}

// deliverHandoff creates the ticket of a handoff in Zendesk or Gorgias,
// with the whole transcript and the customer as their profile has them
// now, then ends the chat.
func (s *System) deliverHandoff(ctx context.Context, target, key string, payload []byte) error {
	client := s.cfg.Handoffs[target]
	if client == nil {
		return engine.Permanent(fmt.Errorf("no %s client is configured", target))
	}
	var p handoffPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return engine.Permanent(fmt.Errorf("handoff entry: %w", err))
	}
	req, err := s.handoffRequest(p)
	if err != nil {
		return err
	}
	if req.Email == "" {
		// Their team answers by e-mail: with no address, our own team
		// answers here instead (the fallback).
		return engine.Permanent(errors.New("the shopper has no e-mail address to be answered at"))
	}
	if _, err := client.Create(ctx, s.Settings().AI, key, req); err != nil {
		return err
	}
	s.metrics.handoffs.WithLabelValues(target, handoffCreated).Inc()
	done := &handedOverCmd{Target: target, Email: req.Email}
	if _, err := s.conversation(ctx, p.Conversation, done); err != nil && engine.ErrorCode(err) != engine.CodeClosed {
		s.log.Warn("ending a conversation handed off", slog.String("conversation", p.Conversation),
			slog.String("target", target), slog.Any("err", err))
	}
	return nil
}

// handoffRequest is the handoff of payload: the conversation's messages (up
// to now: a shopper may have written on since the handoff), its customer
// and when it started.
func (s *System) handoffRequest(p handoffPayload) (engine.HandoffRequest, error) {
	events, err := s.readEvents(p.Conversation, 0, math.MaxUint64, 0)
	if err != nil {
		return engine.HandoffRequest{}, err
	}
	if len(events) == 0 || events[0].Kind != engine.KindStarted {
		return engine.HandoffRequest{}, engine.Permanent(fmt.Errorf("conversation %s has no start", p.Conversation))
	}
	start := events[0]
	req := engine.HandoffRequest{Conversation: p.Conversation, ProfileID: start.ProfileID, Name: start.ProfileName, StartedAt: start.At}
	if prof, err := s.store.Profile(start.ProfileID); err == nil {
		req.Email = prof.Email
		if prof.Name != "" {
			req.Name = prof.Name
		}
	} else if !errors.Is(err, persist.ErrNotFound) {
		return engine.HandoffRequest{}, err
	}
	for _, e := range events {
		if e.Kind != engine.KindMessage {
			continue
		}
		req.Transcript = append(req.Transcript, transcriptLine(e))
		if req.Subject == "" && e.From == engine.PartyShopper {
			req.Subject = engine.Summary(e.Text, 80)
		}
	}
	return req, nil
}

// handoffFellThrough is the fallback of a handoff to Zendesk or Gorgias
// that failed for good: the conversation becomes a Helpdesk ticket and the
// shopper is told, so that nobody is left unanswered (S10). It waits for
// the conversation to store it, so that the outbox puts the entry away only
// once the fallback is durable.
func (s *System) handoffFellThrough(ctx context.Context, target string, payload []byte) error {
	var p handoffPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil // nothing to fall back for
	}
	s.metrics.handoffs.WithLabelValues(target, handoffFailed).Inc()
	_, err := s.conversation(ctx, p.Conversation, &handOffCmd{Target: engine.HandoffHelpdesk, Notice: noticeFallback})
	return err
}

// deliverAnswer has the AI answer the question of an outbox entry and the
// conversation store the answer (or hand off). A question no longer
// current, because the shopper wrote again or somebody answered, is done.
func (s *System) deliverAnswer(ctx context.Context, _ string, payload []byte) error {
	var p questionPayload
	if err := json.Unmarshal(payload, &p); err != nil || p.Seq == 0 {
		return engine.Permanent(fmt.Errorf("question entry: %q", payload))
	}
	settings := s.Settings().AI
	if !settings.Enabled { // turned off since: people take over
		_, err := s.conversation(ctx, p.Conversation, &handOffCmd{Target: engine.HandoffHelpdesk, Notice: noticeHelpdesk, Question: p.Seq})
		return err
	}
	q, asked, ok, err := s.question(p)
	if err != nil || !ok {
		return err
	}
	ctx, done := s.answering.start(ctx, p.Conversation, p.Seq)
	defer done()
	ans, err := s.answerer(settings).Answer(ctx, settings, q)
	if errors.Is(context.Cause(ctx), errSuperseded) {
		return nil // the shopper wrote again, or people took over: nothing to answer
	}
	if err != nil {
		return err
	}
	_, err = s.conversation(ctx, p.Conversation, &aiAnswered{Question: p.Seq, Answer: ans, Took: s.cfg.Now().Sub(asked)})
	return err
}

// question reads the question of p from storage, with the conversation
// before it, and when it was asked; ok is false when it is no longer
// current: another shopper message, an answer, a handoff or the end came
// after it.
func (s *System) question(p questionPayload) (q engine.Question, asked time.Time, ok bool, err error) {
	const lookAhead = 16
	events, err := s.readEvents(p.Conversation, p.Seq-1-min(p.Seq-1, historyLines), p.Seq+lookAhead, 0)
	if err != nil {
		return q, asked, false, err
	}
	for _, e := range events {
		switch {
		case e.Seq < p.Seq && e.Kind == engine.KindMessage:
			q.History = append(q.History, transcriptLine(e))
		case e.Seq == p.Seq:
			q.Text, asked, ok = e.Text, e.At, e.Kind == engine.KindMessage
		case e.Seq > p.Seq && (e.Kind == engine.KindMessage || e.Kind == engine.KindHandoff || e.Kind == engine.KindEnded):
			return q, asked, false, nil
		}
	}
	return q, asked, ok, nil
}

// unanswered hands off a question the AI did not answer within
// Config.AnswerWithin (its model failing or too slow).
func (s *System) unanswered(ctx context.Context, _ string, payload []byte, _ error) error {
	var p questionPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil // nothing to hand off
	}
	_, err := s.conversation(ctx, p.Conversation, &handOffCmd{Question: p.Seq})
	return err
}

// answerer is who answers for the AI agent with settings s: the model when
// the settings name one and the server has a client for it, grounded in
// what the built-in retrieval finds; else the built-in retrieval.
func (s *System) answerer(settings engine.AISettings) engine.Answerer {
	builtin := s.knowledge()
	if settings.LLM != nil && s.cfg.Model != nil {
		return grounded{knowledge: builtin, model: s.cfg.Model}
	}
	return builtin
}
