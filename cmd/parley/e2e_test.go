package main

// The end-to-end story: the real `parley serve` in-process, driven only
// through its public contract (/work/shared/PROTOCOL.md) by WebSocket and
// HTTP clients, asserting what a shopper, an agent and an admin would notice.
// The subtests are one story on one server and run in order. A step that
// stops half-way (t.Fatal) ends the story; one that only reports errors
// (t.Errorf) lets it go on.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

// e2eWait bounds every wait for something the server should do.
const e2eWait = 5 * time.Second

func TestE2EStory(t *testing.T) {
	s := e2eStart(t)
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"admin_publishes_faqs_and_creates_an_agent", s.adminSetup},
		{"S1_S3_anonymous_visitor_browses_faqs", s.anonymousVisitor},
		{"S1_C1_logged_in_mode_hides_the_tab", s.loginModeHidesTab},
		{"H2_agent_opens_the_inbox_stream", s.agentOpensStream},
		{"S4_S5_S6_shopper_starts_a_chat", s.shopperStartsChat},
		{"H1_H2_ticket_lands_in_the_inbox", s.ticketInInbox},
		{"S7_H6_agent_replies_twice_and_is_assigned", s.agentReplies},
		{"S11_H7_read_receipts_both_ways", s.readReceipts},
		{"S12_repeated_client_ids", s.idempotency},
		{"S12_second_tab_resumes", s.resume},
		{"H3_snooze_wakes_on_shopper_message", s.snooze},
		{"S8_H8_shopper_ends_and_starts_anew", s.shopperEnds},
		{"H3_close_is_final", s.agentCloses},
		{"O1_O2_operations", s.operations},
		{"O5_graceful_shutdown", s.shutdown},
	}
	for _, st := range steps {
		finished := false
		t.Run(st.name, func(t *testing.T) { st.run(t); finished = true })
		if !finished {
			return // the step stopped half-way: later steps build on it
		}
	}
}

// e2eStory is the shared state of the story.
type e2eStory struct {
	root   *testing.T
	addr   string
	base   string
	admin  string
	secret string
	http   *http.Client
	stop   func() int // idempotent; the exit code of run

	faqs        map[string]e2eFAQ // by question
	agent       e2eRef
	agentToken  string
	stream      *e2eSSE
	shopperTok  string
	shopper     *e2eShopper // the shopper's first tab
	tab         *e2eShopper // a second tab that resumes
	conv        string      // the first conversation (and ticket)
	conv2       string      // the one started after ending the first
	agentSeqs   []uint64    // seqs of the agent's two replies
	lastSeq     uint64      // last seq of conv as the story knows it
	firstMsgSeq uint64
}

const (
	e2eShopperID   = "cust_ada"
	e2eShopperName = "Ada Lovelace"
	e2eWelcomeText = "Hi! How can we help?"
	e2eTermsURL    = "https://shop.example.com/terms"
	e2ePrivacyURL  = "https://shop.example.com/privacy"
)

func e2eStart(t *testing.T) *e2eStory {
	s := &e2eStory{
		root:   t,
		admin:  "e2e-admin-token",
		secret: "e2e-identity-secret",
		http:   &http.Client{Transport: &http.Transport{}},
		faqs:   map[string]e2eFAQ{},
	}
	addr, logs, stop := startServe(t, "--data", t.TempDir(), "--identity-secret", s.secret, "--admin-token", s.admin)
	var once sync.Once
	code := -1
	s.stop = func() int { once.Do(func() { code = stop() }); return code }
	t.Cleanup(func() {
		if c := s.stop(); c != 0 {
			t.Errorf("serve exited %d: %s", c, logs.String())
		}
		s.http.CloseIdleConnections()
	})
	s.addr, s.base = addr, "http://"+addr
	return s
}

// --- the story -------------------------------------------------------------

func (s *e2eStory) adminSetup(t *testing.T) {
	for _, f := range []map[string]any{
		{"question": "Do you ship abroad?", "answer": "Yes, to all of the EU within 3–5 days.", "published": true, "position": 10, "kind": "faq"},
		{"question": "Can I change my order?", "answer": "Within one hour of ordering, from My orders.", "published": true, "position": 11},
		{"question": "Secret draft question?", "answer": "Not ready yet.", "published": false, "position": 12, "kind": "faq"},
		{"question": "Warehouse handbook", "answer": "Internal knowledge for the AI agent.", "published": true, "position": 13, "kind": "article"},
	} {
		var got e2eFAQ
		s.do(t, "POST", "/api/v1/faqs", s.admin, f, 201, &got)
		if got.ID == "" || got.Question != f["question"] || got.Answer != f["answer"] {
			t.Fatalf("created FAQ %+v from %v", got, f)
		}
		s.faqs[got.Question] = got
	}
	var list struct {
		FAQs []e2eFAQ `json:"faqs"`
	}
	s.do(t, "GET", "/api/v1/faqs", s.admin, nil, 200, &list)
	for q, f := range s.faqs {
		if !e2eContainsFAQ(list.FAQs, f.ID) {
			t.Errorf("GET /faqs lacks %q", q)
		}
	}

	var created struct {
		Agent e2eAgent `json:"agent"`
		Token string   `json:"token"`
	}
	s.do(t, "POST", "/api/v1/agents", s.admin, map[string]any{"name": "Ana", "email": "ana@example.com", "role": "agent"}, 201, &created)
	if created.Agent.ID == "" || created.Agent.Name != "Ana" || created.Agent.Email != "ana@example.com" ||
		created.Agent.Role != "agent" || created.Token == "" {
		t.Fatalf("created agent %+v", created)
	}
	s.agent, s.agentToken = e2eRef{ID: created.Agent.ID, Name: created.Agent.Name}, created.Token
	// The agent's token works, and only for what agents may do.
	s.do(t, "GET", "/api/v1/inbox/badge", s.agentToken, nil, 200, nil)
	if code := s.apiError(t, "PUT", "/api/v1/settings", s.agentToken, map[string]any{}, 403); code != "forbidden" {
		t.Errorf("agent PUT settings: code %q, want forbidden", code)
	}
}

func (s *e2eStory) anonymousVisitor(t *testing.T) {
	c := s.dial(t, "anonymous")
	w := c.hello(t, "", nil)
	if w.Visitor.LoggedIn || w.Visitor.ProfileID != nil || w.Visitor.Name != nil {
		t.Errorf("visitor %+v, want anonymous", w.Visitor)
	}
	if !w.Chat.Enabled || w.Chat.CanStart || w.Chat.Reason == "" {
		t.Errorf("chat %+v, want the tab shown but no live chat, with a reason", w.Chat)
	}
	if w.Conversation != nil {
		t.Errorf("conversation %+v, want null", w.Conversation)
	}
	pub1, pub2 := s.faqs["Do you ship abroad?"], s.faqs["Can I change my order?"]
	for _, f := range []e2eFAQ{pub1, pub2} {
		if !e2eListsFAQ(w, f.ID, f.Question) {
			t.Errorf("welcome.faqs %+v lacks published %q", w.FAQs, f.Question)
		}
	}
	for _, q := range []string{"Secret draft question?", "Warehouse handbook"} {
		f := s.faqs[q]
		for _, r := range w.FAQs {
			if r.ID == f.ID || r.Question == q {
				t.Errorf("welcome.faqs shows %q, which is not a published FAQ", q)
			}
		}
	}

	c.send(t, map[string]any{"type": "faq.pick", "faq": pub1.ID})
	a := c.next(t, "faq.answer")
	if a.FAQ != pub1.ID || a.Question != pub1.Question || a.Answer != pub1.Answer {
		t.Errorf("faq.answer %s, want %+v", a.Raw, pub1)
	}
	c.send(t, map[string]any{"type": "faq.pick", "faq": s.faqs["Secret draft question?"].ID})
	if e := c.next(t, "error"); e.Code == "" {
		t.Errorf("picking an unpublished FAQ: %s", e.Raw)
	}

	c.send(t, map[string]any{"type": "chat.start"})
	if e := c.next(t, "error"); e.Code == "" || e.Message == "" {
		t.Errorf("chat.start by an anonymous visitor: %s", e.Raw)
	}
	if len(c.events) != 0 {
		t.Errorf("an anonymous visitor got events: %+v", c.events)
	}
	for _, st := range []string{"open", "snoozed", "closed"} {
		if rows := s.tickets(t, "status="+st); len(rows) != 0 {
			t.Errorf("browsing created tickets (%s): %+v", st, rows)
		}
	}
	c.close()
}

func (s *e2eStory) loginModeHidesTab(t *testing.T) {
	var set struct {
		Webchat struct {
			Enabled        bool   `json:"enabled"`
			LoginMode      string `json:"login_mode"`
			WelcomeMessage string `json:"welcome_message"`
		} `json:"webchat"`
		Links struct {
			TermsURL   string `json:"terms_url"`
			PrivacyURL string `json:"privacy_url"`
		} `json:"links"`
	}
	s.do(t, "PUT", "/api/v1/settings", s.admin, map[string]any{
		"webchat": map[string]any{"enabled": true, "login_mode": "logged_in", "welcome_message": e2eWelcomeText},
		"links":   map[string]any{"terms_url": e2eTermsURL, "privacy_url": e2ePrivacyURL},
	}, 200, &set)
	if !set.Webchat.Enabled || set.Webchat.LoginMode != "logged_in" || set.Webchat.WelcomeMessage != e2eWelcomeText ||
		set.Links.TermsURL != e2eTermsURL || set.Links.PrivacyURL != e2ePrivacyURL {
		t.Errorf("PUT settings answered %+v", set)
	}

	c := s.dial(t, "anonymous-2")
	w := c.hello(t, "", nil)
	if w.Visitor.LoggedIn || w.Chat.Enabled || w.Chat.CanStart || w.Chat.Reason == "" {
		t.Errorf("with login_mode logged_in an anonymous visitor got visitor %+v chat %+v, want the tab hidden with a reason", w.Visitor, w.Chat)
	}
	c.send(t, map[string]any{"type": "chat.start"})
	c.next(t, "error")
	c.close()
}

func (s *e2eStory) agentOpensStream(t *testing.T) {
	s.stream = s.openStream(t)
	ev := s.stream.next(t)
	if ev.name != "badge" || e2eBadge(t, ev.data) != 0 {
		t.Fatalf("first inbox event %q %s, want badge {\"unread\":0}", ev.name, ev.data)
	}
}

func (s *e2eStory) shopperStartsChat(t *testing.T) {
	tok, err := identity.Mint([]byte(s.secret), engine.Visitor{ProfileID: e2eShopperID, Name: e2eShopperName, Email: "ada@example.com"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s.shopperTok = tok
	s.shopper = s.dial(t, "shopper")
	w := s.shopper.hello(t, tok, nil)
	if !w.Visitor.LoggedIn || e2eStr(w.Visitor.ProfileID) != e2eShopperID || e2eStr(w.Visitor.Name) != e2eShopperName {
		t.Errorf("visitor %+v", w.Visitor)
	}
	if !w.Chat.Enabled || !w.Chat.CanStart {
		t.Errorf("chat %+v, want a logged-in shopper to start chats", w.Chat)
	}
	if w.Conversation != nil {
		t.Errorf("conversation %+v, want null", w.Conversation)
	}
	if e2eStr(w.Links.Terms) != e2eTermsURL || e2eStr(w.Links.Privacy) != e2ePrivacyURL { // S5
		t.Errorf("links %+v", w.Links)
	}

	s.shopper.send(t, map[string]any{"type": "chat.start"})
	started := s.shopper.next(t, "event")
	if started.Seq != 1 || started.Event.Kind != "started" || started.Event.Welcome != e2eWelcomeText || started.Conversation == "" {
		t.Fatalf("chat.start answered %s, want event seq 1 started with the welcome", started.Raw)
	}
	s.conv = started.Conversation

	ack, echo := s.shopper.say(t, "m1", "Where is my parcel? 📦")
	if ack.Conversation != s.conv || ack.Seq != 2 {
		t.Fatalf("ack %s, want conversation %s seq 2", ack.Raw, s.conv)
	}
	if e := echo.Event; e.From != "shopper" || e.Author != e2eShopperName || e.Attachments == nil || len(e.Attachments) != 0 {
		t.Errorf("echo %s", echo.Raw)
	}
	s.lastSeq, s.firstMsgSeq = 2, 2
}

func (s *e2eStory) ticketInInbox(t *testing.T) {
	row := s.stream.waitTicket(t, s.conv, "a row with the shopper's message", func(r e2eRow) bool { return r.Preview != "" })
	s.checkFirstRow(t, "SSE ticket", row)
	s.stream.waitBadge(t, 1)

	rows := s.tickets(t, "")
	if len(rows) != 1 {
		t.Fatalf("GET /tickets: %+v, want the one ticket", rows)
	}
	s.checkFirstRow(t, "GET /tickets", rows[0])
	if got := s.badge(t); got != 1 {
		t.Errorf("badge %d, want 1", got)
	}

	v := s.ticket(t, s.conv)
	s.checkFirstRow(t, "GET /tickets/{id}", v.Ticket)
	if len(v.Events) != 2 || v.Events[0].Seq != 1 || v.Events[0].Event.Kind != "started" ||
		v.Events[1].Seq != 2 || v.Events[1].Event.Text != "Where is my parcel? 📦" || v.Events[1].Event.ClientID != "m1" {
		t.Errorf("ticket events %+v", v.Events)
	}
	// The API's log is the socket's log.
	for _, e := range v.Events {
		if got := s.shopper.find(s.conv, e.Seq); got == nil || !e2eSameEvent(got.Event, e.Event) || got.At != e.At {
			t.Errorf("API event %+v differs from the socket's %+v", e, got)
		}
	}
	if v.Profile.ID != e2eShopperID {
		t.Errorf("ticket profile %+v", v.Profile)
	}
}

func (s *e2eStory) checkFirstRow(t *testing.T, where string, r e2eRow) {
	t.Helper()
	if r.ID != s.conv || r.Channel != "webchat" || r.Status != "open" || !r.Unread || r.Preview != "Where is my parcel? 📦" ||
		r.Profile.ID != e2eShopperID || r.Profile.Name != e2eShopperName || r.Assignee != nil {
		t.Errorf("%s row %+v", where, r)
	}
	if _, err := time.Parse(time.RFC3339, r.UpdatedAt); err != nil {
		t.Errorf("%s updated_at %q: %v", where, r.UpdatedAt, err)
	}
	if r.WaitingSince == nil {
		t.Errorf("%s: a shopper waiting for an answer has no waiting_since", where)
	} else if _, err := time.Parse(time.RFC3339, *r.WaitingSince); err != nil {
		t.Errorf("%s waiting_since %q: %v", where, *r.WaitingSince, err)
	}
}

func (s *e2eStory) agentReplies(t *testing.T) {
	texts := []string{"Hi Ada! Let me check. 👋", "It left our warehouse this morning."}
	for i, cid := range []string{"a1", "a2"} {
		s.agentSeqs = append(s.agentSeqs, s.reply(t, s.conv, cid, texts[i], 201))
	}
	if s.agentSeqs[0] <= s.lastSeq || s.agentSeqs[1] <= s.agentSeqs[0] {
		t.Fatalf("reply seqs %v after seq %d", s.agentSeqs, s.lastSeq)
	}
	// The shopper sees both replies and the assignment, in seq order, with no
	// gap (the socket checks every seq).
	for i, seq := range s.agentSeqs {
		e := s.shopper.event(t, s.conv, seq)
		if e.Event.Kind != "message" || e.Event.From != "agent" || e.Event.Text != texts[i] || e.Event.Author != "Ana" {
			t.Errorf("shopper got %s for the agent's reply %d", e.Raw, i+1)
		}
	}
	assigned := s.shopper.kind(t, s.conv, "assigned", s.firstMsgSeq)
	if assigned.Event.Agent == nil || *assigned.Event.Agent != s.agent {
		t.Errorf("assigned event %s, want agent %+v", assigned.Raw, s.agent)
	}
	s.lastSeq = s.agentSeqs[1]
	if assigned.Seq > s.lastSeq {
		s.lastSeq = assigned.Seq
	}

	row := s.stream.waitTicket(t, s.conv, "with the second reply", func(r e2eRow) bool { return r.Preview == texts[1] })
	if row.Assignee == nil || *row.Assignee != s.agent {
		t.Errorf("SSE row %+v, want assignee %+v", row, s.agent)
	}
	rows := s.tickets(t, "assignee=me")
	if len(rows) != 1 || rows[0].ID != s.conv || rows[0].Assignee == nil || *rows[0].Assignee != s.agent {
		t.Errorf("GET /tickets?assignee=me: %+v", rows)
	}
	v := s.ticket(t, s.conv)
	if e := v.find(assigned.Seq); e == nil || e.Event.Kind != "assigned" || e.Event.Agent == nil || *e.Event.Agent != s.agent {
		t.Errorf("ticket log at seq %d: %+v, want the assignment", assigned.Seq, e)
	}
}

func (s *e2eStory) readReceipts(t *testing.T) {
	upTo := s.agentSeqs[1]
	s.shopper.send(t, map[string]any{"type": "read", "conversation": s.conv, "seq": upTo})
	seen := s.shopper.kind(t, s.conv, "seen", s.lastSeq)
	if seen.Seq != s.lastSeq+1 || seen.Event.By != "shopper" || seen.Event.UpTo != upTo {
		t.Fatalf("shopper's read became %s, want seen by shopper up to %d at seq %d", seen.Raw, upTo, s.lastSeq+1)
	}
	s.lastSeq = seen.Seq
	if e := s.ticket(t, s.conv).find(seen.Seq); e == nil || e.Event.Kind != "seen" || e.Event.By != "shopper" || e.Event.UpTo != upTo {
		t.Errorf("agent's view at seq %d: %+v, want the shopper's seen (H7)", seen.Seq, e)
	}

	s.do(t, "POST", "/api/v1/tickets/"+s.conv+"/read", s.agentToken, map[string]any{"seq": s.lastSeq}, 204, nil)
	agentSeen := s.shopper.event(t, s.conv, s.lastSeq+1)
	if agentSeen.Event.Kind != "seen" || agentSeen.Event.By != "agent" || agentSeen.Event.UpTo != s.lastSeq {
		t.Errorf("after the agent's read the shopper got %s", agentSeen.Raw)
	}
	s.lastSeq = agentSeen.Seq

	s.stream.waitBadge(t, 0)
	if got := s.badge(t); got != 0 {
		t.Errorf("badge %d after the agent read everything, want 0", got)
	}
	if rows := s.tickets(t, ""); len(rows) != 1 || rows[0].Unread || rows[0].Preview != "It left our warehouse this morning." {
		t.Errorf("after the receipts: %+v, want one read row whose preview is still the last reply", rows)
	}
}

func (s *e2eStory) idempotency(t *testing.T) {
	before := s.ticket(t, s.conv)
	s.shopper.send(t, map[string]any{"type": "message.send", "client_id": "m1", "text": "Where is my parcel? 📦"})
	ack := s.shopper.next(t, "ack")
	if ack.ClientID != "m1" || ack.Conversation != s.conv || ack.Seq != s.firstMsgSeq {
		t.Errorf("repeated client_id acked %s, want seq %d", ack.Raw, s.firstMsgSeq)
	}
	if seq := s.reply(t, s.conv, "a1", "Hi Ada! Let me check. 👋", 200); seq != s.agentSeqs[0] {
		t.Errorf("repeated agent client_id answered seq %d, want %d", seq, s.agentSeqs[0])
	}
	after := s.ticket(t, s.conv)
	if len(after.Events) != len(before.Events) || after.Events[len(after.Events)-1].Seq != s.lastSeq {
		t.Errorf("repeats were stored: %d events before, %d after (last seq %d)", len(before.Events), len(after.Events), s.lastSeq)
	}
	for _, cid := range []string{"m1", "a1"} {
		n := 0
		for _, e := range after.Events {
			if e.Event.ClientID == cid {
				n++
			}
		}
		if n != 1 {
			t.Errorf("client_id %s is %d times in the log", cid, n)
		}
	}
}

func (s *e2eStory) resume(t *testing.T) {
	const after = 2
	s.tab = s.dial(t, "second tab")
	w := s.tab.hello(t, s.shopperTok, &e2eResume{Conversation: s.conv, After: after})
	if w.Conversation == nil || w.Conversation.ID != s.conv || w.Conversation.Status != "open" || w.Conversation.LastSeq != s.lastSeq {
		t.Fatalf("welcome.conversation %+v, want {%s open %d}", w.Conversation, s.conv, s.lastSeq)
	}
	// Exactly the events after `after`, in order, before anything live.
	for seq := uint64(after + 1); seq <= s.lastSeq; seq++ {
		e := s.tab.read(t)
		if e.Type != "event" || e.Conversation != s.conv || e.Seq != seq {
			t.Fatalf("replay: got %s, want event %d", e.Raw, seq)
		}
		if want := s.shopper.find(s.conv, seq); want == nil || !e2eSameEvent(want.Event, e.Event) || want.At != e.At {
			t.Errorf("replayed %s differs from the live %+v", e.Raw, want)
		}
	}
	// Live: the first tab writes, both tabs get it (the echo rule).
	ack, _ := s.shopper.say(t, "m2", "Thanks! Can it go to a pickup point?")
	if ack.Seq != s.lastSeq+1 {
		t.Errorf("ack %s, want seq %d", ack.Raw, s.lastSeq+1)
	}
	s.lastSeq = ack.Seq
	if e := s.tab.read(t); e.Type != "event" || e.Seq != ack.Seq || e.Event.ClientID != "m2" || e.Event.From != "shopper" {
		t.Errorf("second tab got %s, want the live message seq %d", e.Raw, ack.Seq)
	}
}

func (s *e2eStory) snooze(t *testing.T) {
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var row e2eRow
	s.do(t, "POST", "/api/v1/tickets/"+s.conv+"/snooze", s.agentToken, map[string]any{"until": until}, 200, &row)
	if row.ID != s.conv || row.Status != "snoozed" {
		t.Errorf("snooze answered %+v", row)
	}
	s.stream.waitTicket(t, s.conv, "snoozed", func(r e2eRow) bool { return r.Status == "snoozed" })
	if e2eHasRow(s.tickets(t, "status=open"), s.conv) {
		t.Errorf("a snoozed ticket is listed as open")
	}
	if rows := s.tickets(t, "status=snoozed"); !e2eHasRow(rows, s.conv) {
		t.Errorf("status=snoozed lacks the ticket: %+v", rows)
	}

	ack, _ := s.shopper.say(t, "m3", "Hello? Anyone there?")
	s.lastSeq = ack.Seq
	s.tab.event(t, s.conv, ack.Seq)
	s.stream.waitTicket(t, s.conv, "woken by the shopper", func(r e2eRow) bool { return r.Status == "open" })
	s.stream.waitBadge(t, 1) // an unread customer message again
	rows := s.tickets(t, "status=open")
	if !e2eHasRow(rows, s.conv) {
		t.Fatalf("the shopper's message did not wake the ticket: %+v", rows)
	}
	if r := rows[0]; r.ID != s.conv || !r.Unread || r.Preview != "Hello? Anyone there?" {
		t.Errorf("woken row %+v", r)
	}
	if e2eHasRow(s.tickets(t, "status=snoozed"), s.conv) {
		t.Errorf("the woken ticket is still listed as snoozed")
	}
}

func (s *e2eStory) shopperEnds(t *testing.T) {
	s.shopper.send(t, map[string]any{"type": "chat.end", "conversation": s.conv})
	for _, c := range []*e2eShopper{s.shopper, s.tab} {
		if e := c.event(t, s.conv, s.lastSeq+1); e.Event.Kind != "ended" || e.Event.By != "shopper" {
			t.Errorf("%s got %s, want ended by shopper", c.name, e.Raw)
		}
	}
	s.lastSeq++

	s.shopper.send(t, map[string]any{"type": "message.send", "client_id": "m4", "text": "One more thing", "conversation": s.conv})
	if e := s.shopper.next(t, "error"); e.Code != "closed" || e.ClientID != "m4" {
		t.Errorf("message to the ended conversation: %s, want error closed with client_id m4", e.Raw)
	}
	s.shopper.send(t, map[string]any{"type": "message.send", "client_id": "m5", "text": "One more thing"})
	if e := s.shopper.next(t, "error"); e.Code != "no_open_conversation" || e.ClientID != "m5" {
		t.Errorf("message with no open conversation: %s, want error no_open_conversation with client_id m5", e.Raw)
	}
	s.apiError(t, "POST", "/api/v1/tickets/"+s.conv+"/messages", s.agentToken, map[string]any{"client_id": "a3", "text": "Still there?"}, 409)
	s.apiError(t, "POST", "/api/v1/tickets/"+s.conv+"/close", s.agentToken, nil, 409)
	s.stream.waitTicket(t, s.conv, "closed", func(r e2eRow) bool { return r.Status == "closed" })
	s.stream.waitBadge(t, 0) // a closed ticket waits for nobody
	if got := s.badge(t); got != 0 {
		t.Errorf("badge %d with the only ticket closed, want 0", got)
	}
	if v := s.ticket(t, s.conv); v.Ticket.Status != "closed" || len(v.Events) != int(s.lastSeq) {
		t.Errorf("ended ticket %+v with %d events, want closed with %d", v.Ticket, len(v.Events), s.lastSeq)
	}
	if e2eHasRow(s.tickets(t, "status=open"), s.conv) {
		t.Errorf("the ended ticket is still open")
	}

	// A new session is a new conversation and, with its first message, a new ticket.
	s.shopper.send(t, map[string]any{"type": "chat.start"})
	started := s.shopper.next(t, "event")
	if started.Conversation == s.conv || started.Conversation == "" || started.Seq != 1 ||
		started.Event.Kind != "started" || started.Event.Welcome != e2eWelcomeText {
		t.Fatalf("chat.start after the end: %s, want a new conversation at seq 1", started.Raw)
	}
	s.conv2 = started.Conversation
	ack, _ := s.shopper.say(t, "m1", "New question: do you sell gift cards?") // client_id is per conversation
	if ack.Conversation != s.conv2 || ack.Seq != 2 {
		t.Errorf("first message of the new conversation acked %s", ack.Raw)
	}
	s.tab.event(t, s.conv2, 2) // the other tab follows the new chat too

	row := s.stream.waitTicket(t, s.conv2, "the new ticket", func(r e2eRow) bool { return r.Preview != "" })
	if row.Status != "open" || !row.Unread || row.Assignee != nil || row.Preview != "New question: do you sell gift cards?" {
		t.Errorf("new ticket row %+v", row)
	}
	s.stream.waitBadge(t, 1)
	open, closed := s.tickets(t, "status=open"), s.tickets(t, "status=closed")
	if len(open) != 1 || open[0].ID != s.conv2 || len(closed) != 1 || closed[0].ID != s.conv || closed[0].Status != "closed" {
		t.Errorf("open %+v closed %+v, want the new ticket open and the old one closed", open, closed)
	}
}

func (s *e2eStory) agentCloses(t *testing.T) {
	var row e2eRow
	s.do(t, "POST", "/api/v1/tickets/"+s.conv2+"/close", s.agentToken, nil, 200, &row)
	if row.ID != s.conv2 || row.Status != "closed" {
		t.Errorf("close answered %+v", row)
	}
	for _, c := range []*e2eShopper{s.shopper, s.tab} {
		if e := c.event(t, s.conv2, 3); e.Event.Kind != "ended" || e.Event.By != "agent" {
			t.Errorf("%s got %s, want ended by agent", c.name, e.Raw)
		}
	}
	s.apiError(t, "POST", "/api/v1/tickets/"+s.conv2+"/messages", s.agentToken, map[string]any{"client_id": "a9", "text": "Reopen?"}, 409)
	s.apiError(t, "POST", "/api/v1/tickets/"+s.conv2+"/assign", s.agentToken, map[string]any{"agent": s.agent.ID}, 409)
	s.shopper.send(t, map[string]any{"type": "message.send", "client_id": "m2", "text": "wait", "conversation": s.conv2})
	if e := s.shopper.next(t, "error"); e.Code != "closed" || e.ClientID != "m2" {
		t.Errorf("message to the agent-closed conversation: %s", e.Raw)
	}
	s.stream.waitTicket(t, s.conv2, "closed", func(r e2eRow) bool { return r.Status == "closed" })
	s.stream.waitBadge(t, 0)
	if got := s.badge(t); got != 0 {
		t.Errorf("badge %d with every ticket closed, want 0", got)
	}
	if rows := s.tickets(t, "status=closed"); len(rows) != 2 {
		t.Errorf("closed tickets %+v, want both", rows)
	}
	if v := s.ticket(t, s.conv2); v.Ticket.Status != "closed" || len(v.Events) != 3 {
		t.Errorf("closed ticket %+v events %+v", v.Ticket, v.Events)
	}
}

func (s *e2eStory) operations(t *testing.T) {
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _ := s.get(t, p); code != 200 {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	code, body := s.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	families := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]
		if !strings.HasPrefix(name, "parley_") { // PROTOCOL §4, the runtime's own metrics too
			t.Errorf("/metrics serves %s: every name starts with parley_", name)
		}
		families[name] = true
	}
	for _, name := range []string{"parley_ws_connections", "parley_go_goroutines", "parley_process_resident_memory_bytes", "parley_go_gc_heap_live_bytes"} {
		if !families[name] {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func (s *e2eStory) shutdown(t *testing.T) {
	codes := make(chan int, 1)
	go func() { codes <- s.stop() }()
	for _, c := range []*e2eShopper{s.shopper, s.tab} {
		if err := c.closed(t); websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Errorf("%s on shutdown: %v, want close 1001", c.name, err)
		}
	}
	s.stream.ended(t)
	select {
	case code := <-codes:
		if code != 0 {
			t.Errorf("run returned %d, want 0", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after the context ended")
	}
}

// --- HTTP ------------------------------------------------------------------

// do calls the API and fails unless the status is want; a 2xx body is
// decoded into out (when not nil), an error body is checked for its shape.
func (s *e2eStory) do(t testing.TB, method, path, bearer string, body any, want int, out any) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == nil || e.Error.Code == "" {
			t.Errorf("%s %s: error body %s, want {\"error\":{\"code\",\"message\"}}", method, path, raw)
		}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return raw
}

// apiError expects a refusal with status want and returns its error code.
func (s *e2eStory) apiError(t testing.TB, method, path, bearer string, body any, want int) string {
	t.Helper()
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	s.do(t, method, path, bearer, body, want, &e)
	return e.Error.Code
}

func (s *e2eStory) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := s.http.Get(s.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// reply posts an agent message and returns its seq.
func (s *e2eStory) reply(t testing.TB, id, clientID, text string, want int) uint64 {
	t.Helper()
	var out struct {
		Seq *uint64 `json:"seq"`
	}
	s.do(t, "POST", "/api/v1/tickets/"+id+"/messages", s.agentToken, map[string]any{"client_id": clientID, "text": text}, want, &out)
	if out.Seq == nil {
		t.Fatalf("reply %s answered without a seq", clientID)
	}
	return *out.Seq
}

func (s *e2eStory) tickets(t testing.TB, query string) []e2eRow {
	t.Helper()
	var out struct {
		Tickets    []e2eRow `json:"tickets"`
		NextCursor *string  `json:"next_cursor"`
	}
	raw := s.do(t, "GET", "/api/v1/tickets?"+query, s.agentToken, nil, 200, &out)
	if out.Tickets == nil {
		t.Fatalf("GET /tickets?%s: no tickets array: %s", query, raw)
	}
	return out.Tickets
}

func (s *e2eStory) ticket(t testing.TB, id string) e2eTicketView {
	t.Helper()
	var v e2eTicketView
	s.do(t, "GET", "/api/v1/tickets/"+id, s.agentToken, nil, 200, &v)
	for i, e := range v.Events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("ticket %s: event %d has seq %d", id, i, e.Seq)
		}
	}
	return v
}

func (s *e2eStory) badge(t testing.TB) int {
	t.Helper()
	var b struct {
		Unread *int `json:"unread"`
	}
	raw := s.do(t, "GET", "/api/v1/inbox/badge", s.agentToken, nil, 200, &b)
	if b.Unread == nil {
		t.Fatalf("badge %s", raw)
	}
	return *b.Unread
}

type e2eFAQ struct {
	ID        string `json:"id"`
	Question  string `json:"question"`
	Answer    string `json:"answer"`
	Published bool   `json:"published"`
	Kind      string `json:"kind"`
}

type e2eAgent struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

type e2eRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type e2eRow struct {
	ID           string  `json:"id"`
	Channel      string  `json:"channel"`
	Status       string  `json:"status"`
	Profile      e2eRef  `json:"profile"`
	Preview      string  `json:"preview"`
	Unread       bool    `json:"unread"`
	Assignee     *e2eRef `json:"assignee"`
	UpdatedAt    string  `json:"updated_at"`
	WaitingSince *string `json:"waiting_since"`
}

type e2eLogEntry struct {
	Seq   uint64   `json:"seq"`
	At    string   `json:"at"`
	Event e2eEvent `json:"event"`
}

type e2eTicketView struct {
	Ticket  e2eRow        `json:"ticket"`
	Events  []e2eLogEntry `json:"events"`
	Profile struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"profile"`
}

func (v e2eTicketView) find(seq uint64) *e2eLogEntry {
	for i := range v.Events {
		if v.Events[i].Seq == seq {
			return &v.Events[i]
		}
	}
	return nil
}

func e2eHasRow(rows []e2eRow, id string) bool {
	for _, r := range rows {
		if r.ID == id {
			return true
		}
	}
	return false
}

func e2eContainsFAQ(fs []e2eFAQ, id string) bool {
	for _, f := range fs {
		if f.ID == id {
			return true
		}
	}
	return false
}

func e2eListsFAQ(w e2eWelcome, id, question string) bool {
	for _, r := range w.FAQs {
		if r.ID == id && r.Question == question {
			return true
		}
	}
	return false
}

func e2eStr(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// --- the inbox stream (SSE) ------------------------------------------------

type e2eSSE struct {
	events chan e2eSSEEvent // closed when the stream ends
	cancel context.CancelFunc
	badge  int      // the last badge seen
	log    []string // every event read, for failure messages
}

type e2eSSEEvent struct{ name, data string }

func (s *e2eStory) openStream(t *testing.T) *e2eSSE {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", s.base+"/api/v1/inbox/stream", nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.agentToken)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := s.http.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		cancel()
		t.Fatalf("inbox stream: %d %v", resp.StatusCode, resp.Header)
	}
	st := &e2eSSE{events: make(chan e2eSSEEvent, 1024), cancel: cancel, badge: -1}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(st.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev e2eSSEEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				ev.name = strings.TrimSpace(line[len("event:"):])
			case strings.HasPrefix(line, "data:"):
				ev.data += strings.TrimPrefix(line[len("data:"):], " ")
			case line == "":
				if ev.name != "" || ev.data != "" {
					st.events <- ev
				}
				ev = e2eSSEEvent{}
			}
		}
	}()
	s.root.Cleanup(func() { cancel(); <-done })
	return st
}

func (st *e2eSSE) next(t testing.TB) e2eSSEEvent {
	t.Helper()
	select {
	case ev, ok := <-st.events:
		if !ok {
			t.Fatal("the inbox stream ended")
		}
		st.record(t, ev)
		return ev
	case <-time.After(e2eWait):
		t.Fatalf("no inbox event within %v", e2eWait)
	}
	panic("unreachable")
}

func (st *e2eSSE) record(t testing.TB, ev e2eSSEEvent) {
	t.Helper()
	if ev.name == "badge" {
		st.badge = e2eBadge(t, ev.data)
	}
	st.log = append(st.log, ev.name+" "+ev.data)
}

// waitTicket reads the stream until a `ticket` event for id satisfies ok.
func (st *e2eSSE) waitTicket(t testing.TB, id, what string, ok func(e2eRow) bool) e2eRow {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for time.Now().Before(deadline) {
		ev := st.next(t)
		if ev.name != "ticket" {
			continue
		}
		var r e2eRow
		if err := json.Unmarshal([]byte(ev.data), &r); err != nil {
			t.Fatalf("ticket event %s: %v", ev.data, err)
		}
		if r.ID == id && ok(r) {
			return r
		}
	}
	t.Fatalf("the inbox stream never showed ticket %s %s", id, what)
	return e2eRow{}
}

// waitBadge reads the stream until the badge is n. It fails without
// stopping the story: the rest does not depend on the live badge.
func (st *e2eSSE) waitBadge(t testing.TB, n int) {
	t.Helper()
	timeout := time.After(e2eWait)
	for st.badge != n {
		select {
		case ev, ok := <-st.events:
			if !ok {
				t.Fatal("the inbox stream ended")
			}
			st.record(t, ev)
		case <-timeout:
			t.Errorf("the inbox stream's badge stayed %d for %v, want %d; the stream so far:\n%s",
				st.badge, e2eWait, n, strings.Join(st.log, "\n"))
			return
		}
	}
}

// ended waits for the server to end the stream.
func (st *e2eSSE) ended(t testing.TB) {
	t.Helper()
	timeout := time.After(e2eWait)
	for {
		select {
		case _, ok := <-st.events:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the inbox stream stayed open on shutdown")
		}
	}
}

func e2eBadge(t testing.TB, data string) int {
	t.Helper()
	var b struct {
		Unread *int `json:"unread"`
	}
	if err := json.Unmarshal([]byte(data), &b); err != nil || b.Unread == nil {
		t.Fatalf("badge %q: %v", data, err)
	}
	return *b.Unread
}

// --- the shopper's socket --------------------------------------------------

// e2eShopper is one browser tab of the widget. It checks on every event it
// reads that each conversation's seqs arrive in order with no gap and no
// repeat, and keeps every event it got.
type e2eShopper struct {
	name   string
	conn   *wsclient.Conn
	last   map[string]uint64 // per conversation, the last seq read
	events []e2eFrame        // every event read, in order
}

type e2eResume struct {
	Conversation string `json:"conversation"`
	After        uint64 `json:"after"`
}

// e2eFrame is any server frame; which fields count depends on Type. A
// welcome is decoded into Welcome instead.
type e2eFrame struct {
	Type         string   `json:"type"`
	Conversation string   `json:"conversation"`
	Seq          uint64   `json:"seq"`
	At           string   `json:"at"`
	Event        e2eEvent `json:"event"`
	ClientID     string   `json:"client_id"`
	Code         string   `json:"code"`
	Message      string   `json:"message"`
	FAQ          string   `json:"faq"`
	Question     string   `json:"question"`
	Answer       string   `json:"answer"`

	Welcome *e2eWelcome `json:"-"`
	Raw     string      `json:"-"`
}

// e2eEvent is `event.event`.
type e2eEvent struct {
	Kind        string          `json:"kind"`
	Welcome     string          `json:"welcome"`
	From        string          `json:"from"`
	Author      string          `json:"author"`
	Text        string          `json:"text"`
	Attachments []e2eAttachment `json:"attachments"` // nil when absent or null
	ClientID    string          `json:"client_id"`
	By          string          `json:"by"`
	UpTo        uint64          `json:"up_to"`
	Agent       *e2eRef         `json:"agent"`
	Target      string          `json:"target"`
}

type e2eAttachment struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
}

func e2eSameEvent(a, b e2eEvent) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

type e2eWelcome struct {
	Visitor struct {
		LoggedIn  bool    `json:"logged_in"`
		ProfileID *string `json:"profile_id"`
		Name      *string `json:"name"`
	} `json:"visitor"`
	Chat struct {
		Enabled  bool   `json:"enabled"`
		CanStart bool   `json:"can_start"`
		Reason   string `json:"reason"`
	} `json:"chat"`
	FAQs []struct {
		ID       string `json:"id"`
		Question string `json:"question"`
	} `json:"faqs"`
	Links struct {
		Terms   *string `json:"terms"`
		Privacy *string `json:"privacy"`
	} `json:"links"`
	Office struct {
		Open    bool    `json:"open"`
		Message *string `json:"message"`
	} `json:"office"`
	Conversation *struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		LastSeq uint64 `json:"last_seq"`
	} `json:"conversation"`
}

func (s *e2eStory) dial(t *testing.T, name string) *e2eShopper {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	conn, err := wsclient.Dial(ctx, "ws://"+s.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	c := &e2eShopper{name: name, conn: conn, last: map[string]uint64{}}
	s.root.Cleanup(c.close)
	return c
}

// close drops the socket and waits for its reader.
func (c *e2eShopper) close() { c.conn.Close() }

func (c *e2eShopper) send(t testing.TB, f map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := c.conn.Send(ctx, f); err != nil {
		t.Fatalf("%s: write: %v", c.name, err)
	}
}

// hello says hello and returns the welcome, which must be the first frame.
func (c *e2eShopper) hello(t testing.TB, token string, resume *e2eResume) e2eWelcome {
	t.Helper()
	f := map[string]any{"type": "hello"}
	if token != "" {
		f["token"] = token
	}
	if resume != nil {
		f["resume"] = resume
	}
	c.send(t, f)
	w := c.read(t)
	if w.Type != "welcome" {
		t.Fatalf("%s: first frame %s, want welcome", c.name, w.Raw)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal([]byte(w.Raw), &keys)
	for _, k := range []string{"visitor", "chat", "faqs", "links", "office", "conversation"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("%s: welcome lacks %q: %s", c.name, k, w.Raw)
		}
	}
	if resume != nil {
		c.last[resume.Conversation] = resume.After
	} else if w.Welcome.Conversation != nil {
		c.last[w.Welcome.Conversation.ID] = w.Welcome.Conversation.LastSeq
	}
	return *w.Welcome
}

// read returns the next frame of a type the contract names, checking events.
func (c *e2eShopper) read(t testing.TB) e2eFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	for {
		_, b, err := c.conn.ReadMessage(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			t.Fatalf("%s: no frame within %v", c.name, e2eWait)
		case err != nil:
			t.Fatalf("%s: socket ended: %v", c.name, err)
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			t.Fatalf("%s: frame %s: %v", c.name, b, err)
		}
		f := e2eFrame{Raw: string(b)}
		switch head.Type {
		case "welcome": // its conversation is an object, not an id
			f.Type, f.Welcome = head.Type, new(e2eWelcome)
			err = json.Unmarshal(b, f.Welcome)
		case "event", "ack", "error", "faq.answer":
			err = json.Unmarshal(b, &f)
		default:
			continue // a frame type added after this contract
		}
		if err != nil {
			t.Fatalf("%s: frame %s: %v", c.name, b, err)
		}
		if f.Type == "event" {
			if _, err := time.Parse(time.RFC3339, f.At); err != nil {
				t.Errorf("%s: event at %q: %v", c.name, f.At, err)
			}
			if last := c.last[f.Conversation]; f.Seq != last+1 {
				t.Fatalf("%s: event seq %d of %s after seq %d (a gap or a repeat): %s", c.name, f.Seq, f.Conversation, last, b)
			}
			c.last[f.Conversation] = f.Seq
			c.events = append(c.events, f)
		}
		return f
	}
}

// next reads frames until one of type typ; events on the way are kept, an
// error frame fails unless typ is "error".
func (c *e2eShopper) next(t testing.TB, typ string) e2eFrame {
	t.Helper()
	for {
		f := c.read(t)
		if f.Type == typ {
			return f
		}
		if f.Type == "error" {
			t.Fatalf("%s: waiting for %s, got %s", c.name, typ, f.Raw)
		}
	}
}

// find returns the event (conversation, seq) if this tab got it already.
func (c *e2eShopper) find(conv string, seq uint64) *e2eFrame {
	for i := range c.events {
		if c.events[i].Conversation == conv && c.events[i].Seq == seq {
			return &c.events[i]
		}
	}
	return nil
}

// event returns event seq of conv, reading until it arrives.
func (c *e2eShopper) event(t testing.TB, conv string, seq uint64) e2eFrame {
	t.Helper()
	for {
		if e := c.find(conv, seq); e != nil {
			return *e
		}
		c.next(t, "event")
	}
}

// kind returns the first event of that kind in conv after seq, reading until
// it arrives.
func (c *e2eShopper) kind(t testing.TB, conv, kind string, after uint64) e2eFrame {
	t.Helper()
	for {
		for _, e := range c.events {
			if e.Conversation == conv && e.Seq > after && e.Event.Kind == kind {
				return e
			}
		}
		c.next(t, "event")
	}
}

// say sends a message and returns its ack and its echo (in either order).
func (c *e2eShopper) say(t testing.TB, clientID, text string) (ack, echo e2eFrame) {
	t.Helper()
	c.send(t, map[string]any{"type": "message.send", "client_id": clientID, "text": text})
	ack = c.next(t, "ack")
	if ack.ClientID != clientID || ack.Conversation == "" || ack.Seq == 0 {
		t.Fatalf("%s: ack %s for client_id %s", c.name, ack.Raw, clientID)
	}
	echo = c.event(t, ack.Conversation, ack.Seq)
	if e := echo.Event; e.Kind != "message" || e.From != "shopper" || e.ClientID != clientID || e.Text != text {
		t.Fatalf("%s: echo %s of %s", c.name, echo.Raw, clientID)
	}
	return ack, echo
}

// closed waits for the server to close the socket and returns why.
func (c *e2eShopper) closed(t testing.TB) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	for {
		if _, _, err := c.conn.ReadMessage(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("%s: still open", c.name)
			}
			return err
		}
	}
}
