package actors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// pacedRecorder is a subscriber that takes a replay slowly: each page waits
// for the test to let it through.
type pacedRecorder struct {
	*recorder
	pages chan struct{} // one token per page let through
	paced chan int      // the bytes of each page asked for
}

func (p *pacedRecorder) Pace(ctx context.Context, bytes int) (func(), error) {
	p.paced <- bytes
	select {
	case <-p.pages:
		return func() {}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// A long log is replayed outside the conversation's mailbox, a page at a
// time at the subscriber's pace: while a slow subscriber is halfway through,
// the conversation goes on serving, and the subscriber ends up with the whole
// log, live messages included, once each and in order (S12).
func TestSlowReplayHoldsUpNothing(t *testing.T) {
	h := start(t, Config{})
	conv := h.startChat(ada)
	const stored = 3*replayPage + 10
	for i := range stored - 1 {
		h.post(ada, conv, fmt.Sprintf("old-%d", i), "an old message")
	}
	sub := &pacedRecorder{recorder: newRecorder(), pages: make(chan struct{}), paced: make(chan int, 16)}
	subscribed := make(chan error, 1)
	go func() { subscribed <- h.sys.Subscribe(context.Background(), ada, conv, 0, sub) }()

	<-sub.paced
	sub.pages <- struct{}{} // the first page goes through
	<-sub.paced             // the second waits
	// Meanwhile the conversation is not held up: shoppers and agents post.
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.post(ada, conv, "live-1", "a message during the replay")
		if _, err := h.sys.Reply(context.Background(), conv, ana, "an answer during the replay", nil, "r1"); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a post waited for a slow subscriber's replay")
	}
	if got := len(sub.seqs()); got != replayPage {
		t.Fatalf("%d events delivered with one page let through; want %d", got, replayPage)
	}
	// The rest of the pages go through, the live posts among them.
	for replaying := true; replaying; {
		select {
		case sub.pages <- struct{}{}:
		case err := <-subscribed:
			if err != nil {
				t.Fatal(err)
			}
			replaying = false
		}
	}
	h.post(ada, conv, "live-2", "after the replay")
	want := uint64(stored + 3 + 1) // the log, two posts and an assignment during the replay, one after
	sub.waitFor(t, "the whole log", func(r *recorder) bool { return len(r.events) == int(want) })
	for i, seq := range sub.seqs() {
		if seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: %v", i, seq, sub.seqs())
		}
	}
}

// A subscription whose request gave up (the actor was busy past the
// timeout) and that the actor registers afterwards holds nothing of the
// subscriber: a closed socket is not pinned in memory by a conversation it
// never followed.
func TestAbandonedSubscriptionPinsNothing(t *testing.T) {
	h := start(t, Config{RequestTimeout: 200 * time.Millisecond})
	conv := h.startChat(ada)
	h.post(ada, conv, "m1", "hello")

	// A subscriber that holds the actor inside Receive until released.
	blocker := &blockingSub{hold: make(chan struct{}), in: make(chan struct{}, 1)}
	if err := h.sys.Subscribe(context.Background(), ada, conv, 2, blocker); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = h.sys.ShopperPost(context.Background(), ada, conv, "held", nil, "m2") }()
	<-blocker.in // the actor is stuck delivering m2

	late := newRecorder()
	if err := h.sys.Subscribe(context.Background(), ada, conv, 0, late); code(err) != engine.CodeUnavailable {
		t.Fatalf("subscribe to a stuck actor: %v, want a timeout", err)
	}
	close(blocker.hold)
	h.post(ada, conv, "m3", "after") // the actor has now handled the late subscription too
	for _, s := range h.sys.hub.Snapshot(conv, nil) {
		if f, ok := s.(*follower); ok && f.subscriber() == Subscriber(late) {
			t.Fatal("the hub still holds the subscriber whose request gave up")
		}
	}
	if n := len(late.seqs()); n != 0 {
		t.Fatalf("the abandoned subscriber got %d events", n)
	}
}

type blockingSub struct {
	hold chan struct{}
	in   chan struct{}
}

func (b *blockingSub) Deliver(string, engine.Event) bool {
	select {
	case b.in <- struct{}{}:
	default:
	}
	<-b.hold
	return true
}

func (b *blockingSub) Ended(string) {}
