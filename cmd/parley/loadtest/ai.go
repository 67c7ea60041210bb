package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// This file is the load with the AI agent on (Config.AI): turning it on,
// the questions the shoppers ask, and the bookkeeping that times each
// question until the AI's answer arrives on the shopper's socket.

// benchAISettings is the AI section the tool puts before the chats start:
// the built-in retrieval over the published FAQs, handing off to the
// Helpdesk below a confidence of 0.6.
const benchAISettings = `{"ai":{"enabled":true,"handoff":"helpdesk","min_confidence":0.6}}`

// benchAIDrainTimeout bounds the wait for the answers still owed after the
// load: the server answers or hands off within 20 s of a question (its
// AnswerWithin), and a little more for the answer to arrive.
const benchAIDrainTimeout = 25 * time.Second

// benchQuestions are the shoppers' questions: four phrasings of each of the
// three sample FAQs (engine.SampleFAQs). A shopper keeps to one topic, as a
// shopper does, and varies the phrasing: the built-in retrieval reads the
// shopper's previous question along with a short one, and every phrasing
// here scores at least 0.64 after any other of its topic (and as the
// first), so none is handed off at min_confidence 0.6.
var benchQuestions = [3][4]string{
	{"Where is my order?", "How can I follow my parcel?", "How do I track my order?", "When will my order ship?"},
	{"How do I return an item?", "Are returns free?", "How do I start a return?", "Can I return an item?"},
	{"Which payment methods do you accept?", "Can I pay by invoice?", "Do you accept card payments?", "Can I pay in instalments?"},
}

// benchQuestionFrame is the message.send frame of client_id cid for the
// shopper idx: a question of the shopper's topic, chosen by cid, so that a
// message sent again is the same message.
func benchQuestionFrame(idx int, cid string) []byte {
	h := fnv.New32a()
	h.Write([]byte(cid))
	topic := benchQuestions[idx%len(benchQuestions)]
	text := topic[h.Sum32()%uint32(len(topic))]
	b := make([]byte, 0, 96)
	b = append(b, `{"type":"message.send","client_id":"`...)
	b = append(b, cid...)
	b = append(b, `","text":"`...)
	b = append(b, text...)
	b = append(b, `"}`...)
	return b
}

// benchAI counts what the AI agent did for the shoppers.
type benchAI struct {
	answers  atomic.Int64 // answers to the question asked, received
	handoffs atomic.Int64 // handoff events received
	notices  atomic.Int64 // system messages received (a handoff's notice)
	skipped  atomic.Int64 // open loop: ticks that found the question unanswered
	lat      *benchHist   // message.send written → the AI's answer read

	prevSettings json.RawMessage // with Addr: the server's AI section before the run
}

// enableAI turns the AI agent on; with Addr it first keeps the AI section
// the server had, for restoreAI.
func (r *benchRun) enableAI(ctx context.Context) error {
	if r.cfg.Addr != "" {
		status, raw, err := r.apiDo(ctx, "GET", "/api/v1/settings", r.admin, nil)
		if err != nil {
			return fmt.Errorf("reading the AI settings: %w", err)
		}
		var cur struct {
			AI json.RawMessage `json:"ai"`
		}
		if status != http.StatusOK || json.Unmarshal(raw, &cur) != nil || len(cur.AI) == 0 {
			return fmt.Errorf("reading the AI settings: %d %s", status, benchTrim(string(raw), 300))
		}
		r.ai.prevSettings = cur.AI
	}
	status, raw, err := r.apiDo(ctx, "PUT", "/api/v1/settings", r.admin, json.RawMessage(benchAISettings))
	if err != nil {
		return fmt.Errorf("turning the AI agent on: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("turning the AI agent on: %d %s", status, benchTrim(string(raw), 300))
	}
	r.logf("AI agent on: %s", benchAISettings)
	return nil
}

// restoreAI puts back the AI section enableAI found on a server the tool
// did not spawn (its secrets come back masked, and the server keeps a
// masked secret as it is).
func (r *benchRun) restoreAI(ctx context.Context) error {
	if r.ai.prevSettings == nil {
		return nil
	}
	body := map[string]json.RawMessage{"ai": r.ai.prevSettings}
	status, raw, err := r.apiDo(ctx, "PUT", "/api/v1/settings", r.admin, body)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("%d %s", status, benchTrim(string(raw), 300))
	}
	if err != nil {
		return fmt.Errorf("putting the server's AI settings back: %w", err)
	}
	return nil
}

// askedLocked records cid, sent now, as the shopper's question waiting for
// its answer. sh.mu is held.
func (sh *benchShopper) askedLocked(cid string, now int64) {
	sh.askCID, sh.askAt, sh.askSeq = cid, now, 0
}

// forgetAskLocked drops the question cid: it was never stored (the write
// failed, or the server refused it). sh.mu is held.
func (sh *benchShopper) forgetAskLocked(cid string) {
	if sh.askCID == cid {
		sh.askCID, sh.askAt, sh.askSeq = "", 0, 0
	}
}

// onAIEvent follows the AI's side of the conversation: the seq of the
// question (its echo), the AI's answer to it, and a handoff to people. It
// reports whether the shopper's closed loop may ask its next question.
func (sh *benchShopper) onAIEvent(f *benchFrame, now time.Time) (next bool) {
	r := sh.r
	switch {
	case f.Event.Kind == "message" && f.Event.From == "shopper":
		sh.mu.Lock()
		if f.Event.ClientID == sh.askCID && sh.askSeq == 0 {
			sh.askSeq = f.Seq
		}
		sh.mu.Unlock()
	case f.Event.Kind == "message" && f.Event.From == "ai":
		q, err := strconv.ParseUint(strings.TrimPrefix(f.Event.ClientID, "ai-"), 10, 64)
		sh.mu.Lock()
		ok := err == nil && sh.askCID != "" && q == sh.askSeq
		asked, cid, want := sh.askAt, sh.askCID, sh.askSeq
		if ok {
			sh.askCID, sh.askAt, sh.askSeq = "", 0, 0
		}
		sh.mu.Unlock()
		if !ok {
			r.errs.add("ai_unexpected_answer", fmt.Sprintf("shopper %d: answer %q at seq %d, the question waiting is %q at seq %d",
				sh.idx, f.Event.ClientID, f.Seq, cid, want))
			return false
		}
		r.ai.answers.Add(1)
		r.ai.lat.record(time.Duration(now.UnixNano() - asked))
		return true
	case f.Event.Kind == "handoff":
		// People answer from now on: the question waiting is the
		// Helpdesk's, and the shopper asks nothing more.
		r.ai.handoffs.Add(1)
		sh.mu.Lock()
		first := !sh.handedOff
		sh.handedOff = true
		sh.askCID, sh.askAt, sh.askSeq = "", 0, 0
		sh.mu.Unlock()
		if first {
			r.agents.ticketed(sh)
		}
	case f.Event.Kind == "message" && f.Event.From == "system":
		r.ai.notices.Add(1)
	}
	return false
}

// unanswered reports whether the shopper's question still waits for the
// AI's answer.
func (sh *benchShopper) unanswered() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.askCID != ""
}

// mayAsk reports whether the shopper asks a question at this tick of the
// open loop: not while the last one is unanswered (counted as a skipped
// tick), nor once its conversation is with people.
func (sh *benchShopper) mayAsk() bool {
	sh.mu.Lock()
	busy, off := sh.askCID != "", sh.handedOff
	sh.mu.Unlock()
	if busy && !off {
		sh.r.ai.skipped.Add(1)
	}
	return !busy && !off
}

// AIReport is what the AI agent did during a run with --ai.
type AIReport struct {
	// Answers are the AI's answers to the question each shopper was
	// waiting on, received during the load and its drain (AnswersInDrain
	// of them after the load); AnswersPerSecond counts those of the load.
	Answers          int64   `json:"answers"`
	AnswersInDrain   int64   `json:"answers_in_drain"`
	AnswersPerSecond float64 `json:"answers_per_second"`
	// Handoffs are handoff events received: conversations the AI passed to
	// people (a low confidence, no answer in time). Notices are the system
	// messages that tell the shopper so.
	Handoffs int64 `json:"handoffs"`
	Notices  int64 `json:"notices"`
	// SkippedTicks are the open loop's ticks that found the shopper's
	// question still unanswered, and sent nothing.
	SkippedTicks int64 `json:"skipped_ticks"`
	// SendAnswer is from writing a question's message.send to reading the
	// AI's answer to it.
	SendAnswer Latency `json:"send_answer"`
	// ServerAnswer is the server's own figure (parley_ai_answer_seconds):
	// from the question stored to the answer back at its conversation,
	// before the answer's own commit.
	ServerAnswer *ServerHistogram `json:"server_answer,omitempty"`
}

// aiReport is the AI section of the report, after the drain.
func (r *benchRun) aiReport(run benchLoad, hist0, hist1 map[string][]benchPromBucket) *AIReport {
	a := &AIReport{Answers: r.ai.answers.Load(), Handoffs: r.ai.handoffs.Load(), Notices: r.ai.notices.Load(),
		SkippedTicks: r.ai.skipped.Load(), SendAnswer: r.ai.lat.latency()}
	a.AnswersInDrain = a.Answers - run.answers
	a.AnswersPerSecond = benchRound(float64(run.answers) / run.wall.Seconds())
	if hist0 != nil && hist1 != nil {
		a.ServerAnswer = benchHistogramBetween(hist0[benchAIAnswerMetric], hist1[benchAIAnswerMetric])
	}
	return a
}

// writeAI prints the AI section under the table.
func (rep *Report) writeAI(w io.Writer) {
	a := rep.AI
	if a == nil {
		return
	}
	l := a.SendAnswer
	fmt.Fprintf(w, "AI agent: %d answers (%d of them in the drain), %d handoffs, %d notices; send→answer p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms",
		a.Answers, a.AnswersInDrain, a.Handoffs, a.Notices, l.P50, l.P95, l.P99, l.Max)
	if a.SkippedTicks > 0 {
		fmt.Fprintf(w, "; %d ticks skipped while their question waited", a.SkippedTicks)
	}
	fmt.Fprintln(w)
	if s := a.ServerAnswer; s != nil {
		fmt.Fprintf(w, "  the server's part (%s, question stored → answer at its conversation, to bucket resolution): p50 %.2f ms, p99 %.2f ms over %.0f answers\n",
			benchAIAnswerMetric, s.P50, s.P99, s.Count)
	}
}
