package actors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

func TestMain(m *testing.M) {
	// protoactor counts dead letters (such as an idle timer's check that
	// reaches an actor just stopped) on a goroutine that lives one throttle
	// period, then ends: a test ending within it is no leak.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}

// recorder is a Subscriber and an InboxSink that keeps what it receives.
type recorder struct {
	mu     sync.Mutex
	events []engine.Event
	rows   []engine.TicketRow
	alerts []engine.TicketRow
	typing []string
	badges []int
	ended  int
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1024)} }

func (r *recorder) Deliver(_ string, e engine.Event) bool {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
	return true
}

func (r *recorder) Ended(string) {
	r.mu.Lock()
	r.ended++
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) Badge(n int) bool {
	r.mu.Lock()
	r.badges = append(r.badges, n)
	r.mu.Unlock()
	r.poke()
	return true
}

func (r *recorder) Row(row engine.TicketRow) bool {
	r.mu.Lock()
	r.rows = append(r.rows, row)
	r.mu.Unlock()
	r.poke()
	return true
}

func (r *recorder) Alert(row engine.TicketRow) bool {
	r.mu.Lock()
	r.alerts = append(r.alerts, row)
	r.mu.Unlock()
	r.poke()
	return true
}

func (r *recorder) Typing(ticket string, from engine.Party) bool {
	r.mu.Lock()
	r.typing = append(r.typing, ticket+"/"+string(from))
	r.mu.Unlock()
	r.poke()
	return true
}

func (r *recorder) poke() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// waitFor polls cond under the recorder's lock until it holds or 5 s pass.
func (r *recorder) waitFor(t *testing.T, what string, cond func(r *recorder) bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(r)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (r *recorder) seqs() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]uint64, len(r.events))
	for i, e := range r.events {
		out[i] = e.Seq
	}
	return out
}

type harness struct {
	t     testing.TB
	dir   string
	store *persist.Store
	sys   *System
	cfg   Config
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func start(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), cfg: cfg}
	h.open()
	t.Cleanup(h.close)
	return h
}

func (h *harness) open() {
	h.t.Helper()
	store, err := persist.Open(persist.Options{Dir: h.dir, Logger: quietLog()})
	if err != nil {
		h.t.Fatal(err)
	}
	sys, err := Start(store, h.cfg, nil, quietLog())
	if err != nil {
		h.t.Fatal(err)
	}
	h.store, h.sys = store, sys
}

func (h *harness) close() {
	if h.sys == nil {
		return
	}
	if err := h.sys.Shutdown(context.Background()); err != nil {
		h.t.Error(err)
	}
	if err := h.store.Close(); err != nil {
		h.t.Error(err)
	}
	h.sys, h.store = nil, nil
}

func (h *harness) restart() {
	h.close()
	h.open()
}

var ada = engine.Visitor{ProfileID: "ada", Name: "Ada Lovelace", Email: "ada@example.com"}
var grace = engine.Visitor{ProfileID: "grace", Name: "Grace Hopper"}
var ana = engine.Agent{ID: "agent-ana", Name: "Ana", Role: engine.RoleAgent}
var bo = engine.Agent{ID: "agent-bo", Name: "Bo", Role: engine.RoleAgent}

func (h *harness) startChat(v engine.Visitor) string {
	h.t.Helper()
	info, _, err := h.sys.StartChat(context.Background(), v)
	if err != nil {
		h.t.Fatal(err)
	}
	return info.ID
}

func (h *harness) post(v engine.Visitor, conv, clientID, text string) Posted {
	h.t.Helper()
	p, err := h.sys.ShopperPost(context.Background(), v, conv, text, nil, clientID)
	if err != nil {
		h.t.Fatalf("post %s: %v", clientID, err)
	}
	return p
}

func code(err error) engine.Code { return engine.ErrorCode(err) }

func TestStartChatIsOncePerProfile(t *testing.T) { // H8
	h := start(t, Config{})
	ctx := context.Background()
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			info, _, err := h.sys.StartChat(ctx, ada)
			if err != nil {
				t.Error(err)
			}
			ids[i] = info.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("two tabs got two conversations: %v", ids)
		}
	}
	open, err := h.sys.OpenConversation(ctx, ada.ProfileID)
	if err != nil || open == nil || open.ID != ids[0] || open.LastSeq != 1 {
		t.Fatalf("open conversation = %+v, %v", open, err)
	}
	if other, _ := h.sys.OpenConversation(ctx, grace.ProfileID); other != nil {
		t.Fatalf("grace has %+v", other)
	}
}

func TestAnonymousAndDisabledCannotStart(t *testing.T) { // S1
	h := start(t, Config{})
	ctx := context.Background()
	if _, _, err := h.sys.StartChat(ctx, engine.Visitor{}); code(err) != engine.CodeForbidden {
		t.Fatalf("anonymous start: %v", err)
	}
	s := h.sys.Settings()
	s.Webchat.Enabled = false
	if err := h.sys.PutSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.sys.StartChat(ctx, ada); code(err) != engine.CodeForbidden {
		t.Fatalf("start with chat disabled: %v", err)
	}
}

func TestMessagesAreStoredOnceAndFannedOut(t *testing.T) { // S6, S12, PROTOCOL idempotency
	h := start(t, Config{})
	ctx := context.Background()
	conv := h.startChat(ada)
	tab1, tab2 := newRecorder(), newRecorder()
	for _, tab := range []*recorder{tab1, tab2} {
		if err := h.sys.Subscribe(ctx, ada, conv, 0, tab); err != nil {
			t.Fatal(err)
		}
	}
	first := h.post(ada, conv, "c1", "Where is my order?")
	again := h.post(ada, conv, "c1", "Where is my order?")
	if first.Seq != 2 || first.Duplicate || again.Seq != 2 || !again.Duplicate {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	for _, tab := range []*recorder{tab1, tab2} {
		tab.waitFor(t, "started and message", func(r *recorder) bool { return len(r.events) >= 2 })
	}
	time.Sleep(50 * time.Millisecond)
	if got := tab1.seqs(); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("tab1 saw seqs %v, want [1 2]", got)
	}
}

func TestAnotherShopperCannotTouchTheConversation(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	conv := h.startChat(ada)
	h.post(ada, conv, "c1", "private question")
	if _, err := h.sys.ShopperPost(ctx, grace, conv, "hi", nil, "g1"); code(err) != engine.CodeNotFound {
		t.Fatalf("grace posting into ada's conversation: %v", err)
	}
	if err := h.sys.Subscribe(ctx, grace, conv, 0, newRecorder()); code(err) != engine.CodeNotFound {
		t.Fatalf("grace resuming ada's conversation: %v", err)
	}
	if err := h.sys.ShopperEnd(ctx, grace, conv); code(err) != engine.CodeNotFound {
		t.Fatalf("grace ending ada's conversation: %v", err)
	}
	if err := h.sys.ShopperSeen(ctx, grace, conv, 2); code(err) != engine.CodeNotFound {
		t.Fatalf("grace reading ada's conversation: %v", err)
	}
}

func TestAgentReplyAssignsAndInboxFollows(t *testing.T) { // H1, H2, H6, H7
	h := start(t, Config{})
	ctx := context.Background()
	inbox := newRecorder()
	cancel := h.sys.WatchInbox(inbox)
	defer cancel()
	inbox.waitFor(t, "first badge", func(r *recorder) bool { return len(r.badges) == 1 && r.badges[0] == 0 })

	conv := h.startChat(ada)
	if _, err := h.sys.Ticket(ctx, conv); code(err) != engine.CodeNotFound {
		t.Fatalf("a conversation without a shopper message is not a ticket yet: %v", err)
	}
	h.post(ada, conv, "c1", "Where is my order?")
	inbox.waitFor(t, "unread row and badge 1", func(r *recorder) bool {
		return len(r.rows) > 0 && r.rows[len(r.rows)-1].Unread && r.badges[len(r.badges)-1] == 1
	})
	if n, _ := h.sys.Badge(ctx); n != 1 {
		t.Fatalf("badge = %d", n)
	}
	p1, err := h.sys.Reply(ctx, conv, ana, "It ships today", nil, "a1")
	if err != nil {
		t.Fatal(err)
	}
	inbox.waitFor(t, "the live badge to drop to 0 once an agent answered", func(r *recorder) bool {
		return r.badges[len(r.badges)-1] == 0
	})
	p2, err := h.sys.Reply(ctx, conv, bo, "Tracking: 123", nil, "a2")
	if err != nil {
		t.Fatal(err)
	}
	if p1.Seq != 3 || p2.Seq != 5 { // 4 is the assignment to Ana
		t.Fatalf("reply seqs %d and %d, want 3 and 5", p1.Seq, p2.Seq)
	}
	view, err := h.sys.Ticket(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if view.Row.Assignee == nil || view.Row.Assignee.ID != ana.ID {
		t.Fatalf("assignee %+v, want Ana (the first to reply)", view.Row.Assignee)
	}
	if len(view.Events) != 5 || view.Events[3].Kind != engine.KindAssigned {
		t.Fatalf("events %+v", view.Events)
	}
	if err := h.sys.AgentRead(ctx, conv, 5); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.sys.Badge(ctx); n != 0 {
		t.Fatalf("badge after read = %d", n)
	}
	rows, _, err := h.sys.Tickets(ctx, TicketQuery{Assignee: "me"}, ana.ID)
	if err != nil || len(rows) != 1 || rows[0].Unread || rows[0].Preview != "Tracking: 123" {
		t.Fatalf("rows %+v, %v", rows, err)
	}
}

func TestEndIsFinalAndNextChatIsNew(t *testing.T) { // S8, H3
	h := start(t, Config{})
	ctx := context.Background()
	conv := h.startChat(ada)
	h.post(ada, conv, "c1", "hello")
	if err := h.sys.ShopperEnd(ctx, ada, conv); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sys.ShopperPost(ctx, ada, conv, "more", nil, "c2"); code(err) != engine.CodeClosed {
		t.Fatalf("post after end: %v", err)
	}
	if _, err := h.sys.Reply(ctx, conv, ana, "hi", nil, "a1"); code(err) != engine.CodeClosed {
		t.Fatalf("reply after end: %v", err)
	}
	if _, err := h.sys.Close(ctx, conv); code(err) != engine.CodeClosed {
		t.Fatalf("close after end: %v", err)
	}
	if open, _ := h.sys.OpenConversation(ctx, ada.ProfileID); open != nil {
		t.Fatalf("still open: %+v", open)
	}
	next := h.startChat(ada)
	if next == conv {
		t.Fatal("a new chat reused the ended conversation")
	}
	rows, _, _ := h.sys.Tickets(ctx, TicketQuery{Status: engine.StatusClosed}, "")
	if len(rows) != 1 || rows[0].ID != conv {
		t.Fatalf("closed rows %+v", rows)
	}
}

func TestSnoozeWakesOnCustomerMessage(t *testing.T) { // H3
	h := start(t, Config{})
	ctx := context.Background()
	conv := h.startChat(ada)
	h.post(ada, conv, "c1", "hello")
	row, err := h.sys.Snooze(ctx, conv, time.Now().Add(time.Hour), ana.ID)
	if err != nil || row.Status != engine.StatusSnoozed {
		t.Fatalf("snooze: %+v %v", row, err)
	}
	if rows, _, _ := h.sys.Tickets(ctx, TicketQuery{}, ""); len(rows) != 0 {
		t.Fatalf("a snoozed ticket is listed as open: %+v", rows)
	}
	h.post(ada, conv, "c2", "any news?")
	rows, _, _ := h.sys.Tickets(ctx, TicketQuery{}, "")
	if len(rows) != 1 || rows[0].Status != engine.StatusOpen {
		t.Fatalf("rows after the customer wrote: %+v", rows)
	}
}

func TestSnoozeWakesWhenTimeRunsOut(t *testing.T) { // H3
	h := start(t, Config{})
	ctx := context.Background()
	inbox := newRecorder()
	defer h.sys.WatchInbox(inbox)()
	conv := h.startChat(ada)
	h.post(ada, conv, "c1", "hello")
	if _, err := h.sys.Snooze(ctx, conv, time.Now().Add(150*time.Millisecond), ana.ID); err != nil {
		t.Fatal(err)
	}
	inbox.waitFor(t, "the row to wake", func(r *recorder) bool {
		n := len(r.rows)
		return n >= 2 && r.rows[n-2].Status == engine.StatusSnoozed && r.rows[n-1].Status == engine.StatusOpen
	})
}

func TestPassivatedConversationComesBack(t *testing.T) { // S12
	h := start(t, Config{PassivateAfter: 30 * time.Millisecond})
	ctx := context.Background()
	conv := h.startChat(ada)
	for i := 0; i < 5; i++ {
		h.post(ada, conv, string(rune('a'+i)), "message")
		time.Sleep(60 * time.Millisecond) // long enough for the actor to passivate in between
	}
	rec := newRecorder()
	if err := h.sys.Subscribe(ctx, ada, conv, 3, rec); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "events 4..6", func(r *recorder) bool { return len(r.events) == 3 })
	if got := rec.seqs(); got[0] != 4 || got[2] != 6 {
		t.Fatalf("resumed seqs %v", got)
	}
	if again := h.post(ada, conv, "a", "message"); !again.Duplicate || again.Seq != 2 {
		t.Fatalf("repeat after passivation: %+v", again)
	}
}

func TestRestartKeepsEverything(t *testing.T) { // S12, start-up from indexes
	h := start(t, Config{})
	ctx := context.Background()
	conv := h.startChat(ada)
	for i := 0; i < 150; i++ { // past a snapshot
		h.post(ada, conv, "c"+string(rune('0'+i%10))+string(rune('0'+i/10)), "message")
	}
	if _, err := h.sys.Reply(ctx, conv, ana, "hello", nil, "a1"); err != nil {
		t.Fatal(err)
	}
	h.restart()
	open, err := h.sys.OpenConversation(ctx, ada.ProfileID)
	if err != nil || open == nil || open.ID != conv || open.LastSeq != 153 {
		t.Fatalf("after restart open = %+v, %v", open, err)
	}
	rows, _, _ := h.sys.Tickets(ctx, TicketQuery{}, "")
	if len(rows) != 1 || rows[0].Assignee == nil || rows[0].Preview != "hello" {
		t.Fatalf("rows after restart %+v", rows)
	}
	if p := h.post(ada, conv, "c00", "message"); !p.Duplicate || p.Seq != 2 {
		t.Fatalf("repeat after restart: %+v", p)
	}
	if p := h.post(ada, conv, "new", "message"); p.Seq != 154 {
		t.Fatalf("next seq after restart = %d", p.Seq)
	}
}

func TestShutdownRefusesRequests(t *testing.T) {
	h := start(t, Config{})
	if err := h.sys.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.sys.Ready() {
		t.Fatal("ready after shutdown")
	}
	_, _, err := h.sys.StartChat(context.Background(), ada)
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.CodeUnavailable {
		t.Fatalf("start after shutdown: %v", err)
	}
}

// An idle conversation passivates even while a socket follows it; the next
// event reactivates it and still reaches the socket, in order (memory is
// bounded by active conversations, not by connected shoppers).
func TestFollowedConversationPassivates(t *testing.T) {
	h := start(t, Config{PassivateAfter: 30 * time.Millisecond, ProfileIdleAfter: 30 * time.Millisecond})
	ctx := context.Background()
	conv := h.startChat(ada)
	rec := newRecorder()
	if err := h.sys.Subscribe(ctx, ada, conv, 0, rec); err != nil {
		t.Fatal(err)
	}
	h.post(ada, conv, "c1", "hello")
	live := h.sys.metrics.actors.WithLabelValues("conversation")
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(live) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%v conversation actors still live", testutil.ToFloat64(live))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := h.sys.Reply(ctx, conv, ana, "Hi Ada", nil, "a1"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "the reply after passivation", func(r *recorder) bool { return len(r.events) == 4 })
	if got := rec.seqs(); got[0] != 1 || got[3] != 4 {
		t.Fatalf("seqs %v", got)
	}
}

// A repeat of a client_id the conversation's state has forgotten (it keeps
// only recent ones) is still acknowledged with its original seq, from
// storage's idempotency index, and stored once.
func TestOldRepeatIsAnsweredFromStorage(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	conv := h.startChat(ada)
	for i := 0; i < engine.RecentClientIDs+10; i++ {
		h.post(ada, conv, fmt.Sprintf("m%d", i), "message")
	}
	last, _ := h.store.LastSeq(conv)
	again := h.post(ada, conv, "m0", "message")
	if !again.Duplicate || again.Seq != 2 {
		t.Fatalf("old repeat: %+v, want the original seq 2", again)
	}
	if now, _ := h.store.LastSeq(conv); now != last {
		t.Fatalf("the repeat was stored: last seq %d → %d", last, now)
	}
	next := h.post(ada, conv, "fresh", "message") // the state is still right
	if next.Duplicate || next.Seq != last+1 {
		t.Fatalf("next message %+v, want seq %d", next, last+1)
	}
	if _, err := h.sys.Ticket(ctx, conv); err != nil {
		t.Fatal(err)
	}
}

// A repeat after the end is acknowledged with its first seq however old the
// message, for the shopper's and the agent's side alike (PROTOCOL
// idempotency); a new message is still refused as closed.
func TestOldRepeatAfterEndIsAcknowledged(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	conv := h.startChat(ada)
	for i := 0; i < engine.RecentClientIDs+6; i++ {
		h.post(ada, conv, fmt.Sprintf("m%d", i), "message")
	}
	first, err := h.sys.Reply(ctx, conv, ana, "hi", nil, "a0")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < engine.RecentClientIDs; i++ {
		h.post(ada, conv, fmt.Sprintf("n%d", i), "message")
	}
	if err := h.sys.ShopperEnd(ctx, ada, conv); err != nil {
		t.Fatal(err)
	}
	last, _ := h.store.LastSeq(conv)
	again, err := h.sys.ShopperPost(ctx, ada, conv, "message", nil, "m0")
	if err != nil || !again.Duplicate || again.Seq != 2 {
		t.Fatalf("old shopper repeat after the end: %+v %v, want the original seq 2", again, err)
	}
	reply, err := h.sys.Reply(ctx, conv, ana, "hi", nil, "a0")
	if err != nil || !reply.Duplicate || reply.Seq != first.Seq {
		t.Fatalf("old agent repeat after the end: %+v %v, want the original seq %d", reply, err, first.Seq)
	}
	if _, err := h.sys.ShopperPost(ctx, ada, conv, "message", nil, "a0"); code(err) != engine.CodeClosed {
		t.Fatalf("the agent's client id from the shopper: %v, want closed", err)
	}
	if _, err := h.sys.ShopperPost(ctx, ada, conv, "new", nil, "fresh"); code(err) != engine.CodeClosed {
		t.Fatalf("new message after the end: %v, want closed", err)
	}
	if now, _ := h.store.LastSeq(conv); now != last {
		t.Fatalf("something was stored after the end: last seq %d → %d", last, now)
	}
}

// Agents' API tokens are stored only as hashes (C8): no file of the data
// directory holds a token, yet it authenticates after a restart, and a
// disabled agent's token stops working at once.
func TestAgentTokensAreStoredHashed(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	a, token, err := h.sys.CreateAgent(ctx, engine.Agent{Name: "Ana", Email: "ana@example.com", Role: engine.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := h.sys.Authenticate(token); !ok || got.ID != a.ID {
		t.Fatalf("a new token does not authenticate: %+v %v", got, ok)
	}
	h.restart()
	if got, ok := h.sys.Authenticate(token); !ok || got.ID != a.ID {
		t.Fatalf("after a restart: %+v %v", got, ok)
	}
	h.close()
	err = filepath.WalkDir(h.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(token)) {
			t.Errorf("%s holds the token in clear", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.open()
	if err := h.sys.DisableAgent(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.sys.Authenticate(token); ok {
		t.Fatal("a disabled agent's token still authenticates")
	}
}
