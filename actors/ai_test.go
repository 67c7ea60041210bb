package actors

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// model answers for the AI agent as a test says: the port a model sits
// behind (transport/llm tests the real client against an HTTP server).
type model struct {
	mu     sync.Mutex
	asked  []string
	answer func(ctx context.Context, q engine.Question) (engine.Answer, error)
}

func (m *model) Answer(ctx context.Context, _ engine.AISettings, q engine.Question) (engine.Answer, error) {
	m.mu.Lock()
	m.asked = append(m.asked, q.Text)
	answer := m.answer
	m.mu.Unlock()
	return answer(ctx, q)
}

func (m *model) set(answer func(ctx context.Context, q engine.Question) (engine.Answer, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.answer = answer
}

func (m *model) questions() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.asked...)
}

// hangs never answers: the model is down or too slow.
func hangs(ctx context.Context, _ engine.Question) (engine.Answer, error) {
	<-ctx.Done()
	return engine.Answer{}, ctx.Err()
}

func answers(text string) func(context.Context, engine.Question) (engine.Answer, error) {
	return func(context.Context, engine.Question) (engine.Answer, error) {
		return engine.Answer{Text: text, Confidence: 1}, nil
	}
}

// withAI turns the AI agent on with a model, handing off as handoff says.
func (h *harness) withAI(handoff string) {
	h.t.Helper()
	s := h.sys.Settings()
	s.AI = engine.AISettings{Enabled: true, Handoff: handoff, MinConfidence: 0.5,
		LLM: &engine.LLMSettings{BaseURL: "http://127.0.0.1:1/v1", Model: "m", APIKey: "k"}}
	if err := h.sys.PutSettings(context.Background(), s); err != nil {
		h.t.Fatal(err)
	}
}

// events reads conversation conv's log as stored.
func (h *harness) events(conv string) []engine.Event {
	h.t.Helper()
	var out []engine.Event
	if err := h.store.Events(conv, 0, 1000, func(e engine.Event) error { out = append(out, e); return nil }); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// waitEvent waits until conv's log has an event that match says is there,
// and returns it.
func (h *harness) waitEvent(conv, what string, match func(engine.Event) bool) engine.Event {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range h.events(conv) {
			if match(e) {
				return e
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("no %s in %+v", what, h.events(conv))
	return engine.Event{}
}

func fromAI(e engine.Event) bool {
	return e.Kind == engine.KindMessage && e.From == engine.PartyAI
}

// S10: a question the AI had not answered when the server stopped is
// answered once it is back, and a conversation it answers is no ticket.
func TestAIQuestionIsAnsweredAfterARestart(t *testing.T) {
	m := &model{answer: hangs}
	h := start(t, Config{Model: m})
	h.withAI(engine.HandoffHelpdesk)
	conv := h.startChat(ada)
	q := h.post(ada, conv, "q1", "Can I pay with invoice?")
	for len(m.questions()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	h.restart() // the answer was under way
	m.set(answers("Yes: card, invoice and instalments."))
	got := h.waitEvent(conv, "answer", fromAI)
	if got.Text != "Yes: card, invoice and instalments." || got.Author != aiAuthor || got.Seq != q.Seq+1 {
		t.Fatalf("answer %+v after question %d", got, q.Seq)
	}
	if _, err := h.sys.Ticket(context.Background(), conv); code(err) != engine.CodeNotFound {
		t.Fatalf("a conversation the AI answers is a ticket: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // room for a second answer, were there one
	n := 0
	for _, e := range h.events(conv) {
		if fromAI(e) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d answers to one question", n)
	}
}

// S10: a model that does not answer within AnswerWithin hands the
// conversation to the Helpdesk, with the whole transcript: nobody is left
// waiting on it.
func TestAIThatDoesNotAnswerInTimeHandsOff(t *testing.T) {
	h := start(t, Config{Model: &model{answer: hangs}, AnswerWithin: 1500 * time.Millisecond})
	h.withAI(engine.HandoffHelpdesk)
	conv := h.startChat(ada)
	asked := time.Now()
	h.post(ada, conv, "q1", "My parcel arrived broken.")
	h.waitEvent(conv, "handoff", func(e engine.Event) bool { return e.Kind == engine.KindHandoff && e.Target == engine.HandoffHelpdesk })
	if took := time.Since(asked); took > 6*time.Second {
		t.Fatalf("handed off after %v", took)
	}
	v, err := h.sys.Ticket(context.Background(), conv)
	if err != nil {
		t.Fatalf("no ticket after the handoff: %v", err)
	}
	if len(v.Events) < 3 || v.Events[1].Text != "My parcel arrived broken." {
		t.Fatalf("the ticket lacks the transcript: %+v", v.Events)
	}
}

// S10: while the AI is still on a question and the shopper writes again,
// only the latest is answered: the model stops working on the earlier one.
func TestAIAnswersTheLatestQuestion(t *testing.T) {
	withdrawn := make(chan error, 1)
	m := &model{}
	m.set(func(ctx context.Context, q engine.Question) (engine.Answer, error) {
		if q.Text == "Hello?" { // the model takes its time over the first question
			<-ctx.Done()
			withdrawn <- context.Cause(ctx)
			return engine.Answer{}, ctx.Err()
		}
		return engine.Answer{Text: "Returns are free within 30 days.", Confidence: 1}, nil
	})
	h := start(t, Config{Model: m})
	h.withAI(engine.HandoffHelpdesk)
	conv := h.startChat(ada)
	h.post(ada, conv, "q1", "Hello?")
	for len(m.questions()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	h.post(ada, conv, "q2", "How do returns work?")
	h.waitEvent(conv, "answer", fromAI)
	select {
	case cause := <-withdrawn:
		if !errors.Is(cause, errSuperseded) {
			t.Fatalf("the first question ended with %v, want it withdrawn", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the model kept working on a question the shopper had moved on from")
	}
	time.Sleep(100 * time.Millisecond)
	var got []string
	for _, e := range h.events(conv) {
		if fromAI(e) {
			got = append(got, e.Text)
		}
	}
	if len(got) != 1 || got[0] != "Returns are free within 30 days." {
		t.Fatalf("answers %q", got)
	}
}
