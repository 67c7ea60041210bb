package loadtest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// With --ai a shopper asks, one question at a time, and the AI answers each
// one: closed loop and at a rate, every acknowledged question is answered
// (the phrasings are ones the built-in retrieval answers, so none is handed
// off), each answer is timed from the question's send and counted once, the
// server's own count of answers agrees, and the agents, with no
// conversation handed off to them, post nothing.
func TestBenchAIRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and spawns the real binary")
	}
	for _, tc := range []struct {
		name string
		rate float64
	}{
		{"closed loop", 0},
		{"at a rate", 40}, // 20 shoppers: one question each every 0.5 s
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, out := benchRunJSON(t, time.Minute, Config{Shoppers: 20, Agents: 2, Duration: 2 * time.Second, Rate: tc.rate, AI: true})
			for _, key := range []string{`"ai"`, `"answers"`, `"answers_per_second"`, `"handoffs"`, `"send_answer"`, `"p95_ms"`, `"server_answer"`} {
				if !strings.Contains(out, key) {
					t.Errorf("report lacks %s", key)
				}
			}
			a := rep.AI
			if a == nil {
				t.Fatalf("no AI section: %s", out)
			}
			questions := rep.Load.Acked + rep.Load.AckedInDrain
			if questions == 0 || a.Answers != questions || a.SendAnswer.Count != uint64(a.Answers) || a.Handoffs != 0 || a.Notices != 0 {
				t.Errorf("%d questions acknowledged; AI %+v", questions, a)
			}
			if tc.rate == 0 && questions < 20*5 {
				t.Errorf("closed loop: only %d questions answered by 20 shoppers in 2 s", questions)
			}
			if tc.rate > 0 && (questions < 40 || questions > 20*(2*2+1)) {
				t.Errorf("40 questions/s for 2 s: %d", questions)
			}
			// Each answer comes after its ack, so every quantile of send →
			// answer is at least send → ack's.
			if l, ack := a.SendAnswer, rep.Load.SendAck; l.P50 <= 0 || l.P50 < ack.P50 || l.Max < ack.Max || l.P50 > l.P95 || l.P95 > l.P99 || l.P99 > l.Max {
				t.Errorf("send→answer %+v, send→ack %+v", l, ack)
			}
			if s := a.ServerAnswer; s == nil || s.Count != float64(a.Answers) {
				t.Errorf("the server's answers %+v, the tool's %d", s, a.Answers)
			}
			if rep.Load.AgentReplies != 0 || rep.Resume.Resumed != 20 {
				t.Errorf("agent replies %d to chats nobody handed off; resumed %d", rep.Load.AgentReplies, rep.Resume.Resumed)
			}
			if s := rep.Server; s.CPUSecondsPer1000Msgs <= 0 || s.CPUSecondsPer1000All >= s.CPUSecondsPer1000Msgs {
				t.Errorf("CPU per 1,000 messages %v, per 1,000 stored (AI answers included) %v", s.CPUSecondsPer1000Msgs, s.CPUSecondsPer1000All)
			}
			if rep.Violations != 0 || !rep.OK {
				t.Errorf("violations %d: %v %v", rep.Violations, rep.Errors, rep.Examples)
			}
		})
	}
}

// A shopper's reader follows the AI's side of a conversation as the server
// writes it: the answer to the question waiting is timed and lets the next
// question go; a handoff ends the asking and makes the conversation one the
// agents reply to; an answer to another question is a violation.
func TestBenchShopperFollowsTheAI(t *testing.T) {
	r := &benchRun{cfg: Config{AI: true}, errs: newBenchErrors(), sendAck: newBenchHist()}
	r.ai.lat = newBenchHist()
	r.agents = newBenchAgents(r)
	sh, err := newBenchShopper(&benchRun{secret: "s"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	sh.r = r
	frame := func(s string) {
		t.Helper()
		var f benchFrame
		if err := benchDecodeFrame([]byte(s), &f); err != nil {
			t.Fatal(err)
		}
		sh.handle(&f, time.Now())
	}
	const conv = "01m9643cj27a2acaxyct01pxd8"
	event := func(seq int, body string) string {
		return `{"type":"event","conversation":"` + conv + `","seq":` + strconv.Itoa(seq) + `,"at":"2026-12-06T16:48:23.9Z","event":` + body + `}`
	}
	frame(event(1, `{"kind":"started","welcome":"Hi! How can we help?"}`))
	ask := func(cid string) {
		sh.mu.Lock()
		sh.pending[cid] = time.Now().Add(-5 * time.Millisecond).UnixNano()
		sh.askedLocked(cid, time.Now().Add(-5*time.Millisecond).UnixNano())
		sh.mu.Unlock()
	}

	ask("m1")
	frame(event(2, `{"kind":"message","from":"shopper","author":"Bench Shopper 4","text":"Are returns free?","attachments":[],"client_id":"m1"}`))
	frame(`{"type":"ack","client_id":"m1","conversation":"` + conv + `","seq":2}`)
	if !sh.unanswered() {
		t.Fatal("the question is answered before its answer came")
	}
	frame(event(3, `{"kind":"message","from":"ai","author":"AI assistant","text":"Returns are free within 30 days. Start one from My orders → Return.","attachments":[],"client_id":"ai-2"}`))
	if sh.unanswered() || r.ai.answers.Load() != 1 || r.ai.lat.latency().P50 < 5 {
		t.Fatalf("after the answer: waiting %v, answers %d, latency %+v", sh.unanswered(), r.ai.answers.Load(), r.ai.lat.latency())
	}

	ask("m2")
	frame(event(4, `{"kind":"message","from":"shopper","author":"Bench Shopper 4","text":"Are returns free?","attachments":[],"client_id":"m2"}`))
	frame(event(5, `{"kind":"handoff","target":"helpdesk"}`))
	frame(event(6, `{"kind":"message","from":"system","author":"","text":"I'm passing you to our team: a person will answer you here.","attachments":[],"client_id":""}`))
	frame(`{"type":"ack","client_id":"m2","conversation":"` + conv + `","seq":4}`)
	r.agents.mu.Lock()
	tickets := len(r.agents.tickets)
	r.agents.mu.Unlock()
	if sh.unanswered() || !sh.handedOff || r.ai.handoffs.Load() != 1 || r.ai.notices.Load() != 1 || tickets != 1 || sh.mayAsk() {
		t.Fatalf("after the handoff: waiting %v, handed off %v, handoffs %d, notices %d, tickets %d",
			sh.unanswered(), sh.handedOff, r.ai.handoffs.Load(), r.ai.notices.Load(), tickets)
	}
	if n := r.errs.total(); n != 0 {
		t.Fatalf("errors %v", r.errs.counts)
	}

	frame(event(7, `{"kind":"message","from":"ai","author":"AI assistant","text":"Card.","attachments":[],"client_id":"ai-4"}`))
	if r.errs.counts["ai_unexpected_answer"] != 1 || r.ai.answers.Load() != 1 {
		t.Fatalf("an answer with no question waiting: errors %v, answers %d", r.errs.counts, r.ai.answers.Load())
	}
}

// Against a server the tool did not spawn, --ai turns the AI agent on for
// the run and puts the server's own AI settings back at the end.
func TestBenchAIPutsAServersSettingsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and spawns the real binary")
	}
	const admin = "ai-admin"
	addr := startServer(t, "--identity-secret", "ai-secret", "--admin-token", admin, "--ws-conn-rate", "0", "--api-rate", "0")
	settings := func(method, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+"/api/v1/settings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s /api/v1/settings: %d %s", method, resp.StatusCode, b)
		}
		return string(b)
	}
	before := settings("PUT", `{"ai":{"enabled":false,"handoff":"message","min_confidence":0.8,"handoff_message":"Write to us at help@example.com"}}`)
	rep, _ := benchRunJSON(t, time.Minute, Config{Addr: addr, Secret: "ai-secret", AdminToken: admin, Shoppers: 5, Agents: 1,
		Duration: time.Second, AI: true})
	if rep.AI == nil || rep.AI.Answers == 0 || !rep.OK {
		t.Errorf("no AI answers from the server at --addr: %+v %v", rep.AI, rep.Errors)
	}
	if after := settings("GET", ""); after != before {
		t.Errorf("settings after the run\n%s\nwere before it\n%s", after, before)
	}
	if !bytes.Contains([]byte(before), []byte(`"handoff_message":"Write to us at help@example.com"`)) {
		t.Errorf("the settings put were not taken: %s", before)
	}
}
